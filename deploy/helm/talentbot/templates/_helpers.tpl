{{/* Names, after Rasa's charts: <release>-<chart>, or the release name alone when it already holds the chart's. */}}
{{- define "talentbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "talentbot.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: <fullname>-rasa, -actions, -console, -events, -prepare, -purge. */}}
{{- define "talentbot.componentName" -}}
{{- printf "%s-%s" (include "talentbot.fullname" .ctx | trunc 54 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "talentbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of a component: (dict "ctx" $ "component" "rasa"). */}}
{{- define "talentbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "talentbot.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "talentbot.labels" -}}
helm.sh/chart: {{ include "talentbot.chart" .ctx }}
{{ include "talentbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: talentbot
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end -}}

{{- define "talentbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "talentbot.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* A component's image: (dict "ctx" $ "values" .Values.rasa). */}}
{{- define "talentbot.image" -}}
{{- $repository := .values.image.repository -}}
{{- with .ctx.Values.image.registry }}{{ $repository = printf "%s/%s" (trimSuffix "/" .) $repository }}{{ end -}}
{{- printf "%s:%s" $repository (default .ctx.Chart.AppVersion .ctx.Values.image.tag) -}}
{{- end -}}

{{- define "talentbot.secretName" -}}
{{- required "existingSecret is required: the name of a Secret holding the tokens and passwords (see values.yaml)" .Values.existingSecret -}}
{{- end -}}

{{- define "talentbot.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "talentbot.secretName" .ctx }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* The service URLs the components give each other. */}}
{{- define "talentbot.rasaUrl" -}}
{{- printf "http://%s:%v" (include "talentbot.componentName" (dict "ctx" . "component" "rasa")) .Values.rasa.service.port -}}
{{- end -}}

{{- define "talentbot.actionServerUrl" -}}
{{- printf "http://%s:%v/webhook" (include "talentbot.componentName" (dict "ctx" . "component" "actions")) .Values.actions.service.port -}}
{{- end -}}

{{/* PostgreSQL: bot/endpoints.production.yml's tracker store and the handoff queue (HANDOFF_DB_URL). */}}
{{- define "talentbot.env.database" -}}
- name: DB_HOST
  value: {{ required "postgresql.host is required" .Values.postgresql.host | quote }}
- name: DB_PORT
  value: {{ .Values.postgresql.port | quote }}
- name: DB_NAME
  value: {{ .Values.postgresql.database | quote }}
- name: DB_USER
  value: {{ .Values.postgresql.username | quote }}
- name: DB_LOGIN_DB
  value: {{ .Values.postgresql.loginDatabase | quote }}
{{ include "talentbot.secretEnv" (dict "ctx" . "name" "DB_PASSWORD" "key" .Values.secretKeys.dbPassword) }}
{{- if .Values.secretKeys.handoffDbUrl }}
{{ include "talentbot.secretEnv" (dict "ctx" . "name" "HANDOFF_DB_URL" "key" .Values.secretKeys.handoffDbUrl) }}
{{- else }}
- name: HANDOFF_DB_URL
  value: "postgresql://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)"
{{- end }}
{{- end -}}

{{/* Redis: the lock store (REDIS_*) and the channels' shared state (CONNECTORS_STATE_URL). */}}
{{- define "talentbot.env.redis" -}}
- name: REDIS_HOST
  value: {{ required "redis.host is required" .Values.redis.host | quote }}
- name: REDIS_PORT
  value: {{ .Values.redis.port | quote }}
- name: REDIS_DB
  value: {{ .Values.redis.lockDb | quote }}
- name: CONNECTORS_STATE_URL
  value: {{ printf "redis://%s:%v/%v" .Values.redis.host .Values.redis.port .Values.redis.stateDb | quote }}
{{- end -}}

{{/* RabbitMQ: bot/endpoints.production.yml's event broker, and the events consumers' queue. */}}
{{- define "talentbot.env.rabbitmq" -}}
- name: RABBITMQ_HOST
  value: {{ required "rabbitmq.host is required (the event broker of bot/endpoints.production.yml)" .Values.rabbitmq.host | quote }}
- name: RABBITMQ_PORT
  value: {{ .Values.rabbitmq.port | quote }}
- name: RABBITMQ_USERNAME
  value: {{ .Values.rabbitmq.username | quote }}
{{ include "talentbot.secretEnv" (dict "ctx" . "name" "RABBITMQ_PASSWORD" "key" .Values.secretKeys.rabbitmqPassword) }}
- name: RABBITMQ_EXCHANGE
  value: {{ .Values.rabbitmq.exchange | quote }}
- name: RABBITMQ_QUEUE
  value: {{ .Values.rabbitmq.queue | quote }}
{{- end -}}

{{/* The salts: from the Secret only, never defaulted (a pod whose Secret lacks one does not start). */}}
{{- define "talentbot.env.logSalt" -}}
{{ include "talentbot.secretEnv" (dict "ctx" . "name" "TALENTBOT_LOG_SALT" "key" .Values.secretKeys.logSalt) }}
{{- end -}}

{{- define "talentbot.env.analyticsSalt" -}}
{{ include "talentbot.secretEnv" (dict "ctx" . "name" "TALENTBOT_ANALYTICS_SALT" "key" .Values.secretKeys.analyticsSalt) }}
{{- end -}}

{{/* prometheus-client's multi-process folder (talentbot/core/observability/metrics.py): every Sanic worker's values,
added up by /metrics of whichever answers; the `metrics` emptyDir, emptied by the server when it starts. */}}
{{- define "talentbot.metricsDir" -}}/opt/talentbot/metrics{{- end -}}

{{- define "talentbot.env.metrics" -}}
- name: PROMETHEUS_MULTIPROC_DIR
  value: {{ include "talentbot.metricsDir" . | quote }}
{{- end -}}

{{- define "talentbot.env.rasaToken" -}}
{{ include "talentbot.secretEnv" (dict "ctx" . "name" "RASA_AUTH_TOKEN" "key" .Values.secretKeys.rasaAuthToken) }}
{{- end -}}

{{- define "talentbot.env.actionToken" -}}
{{ include "talentbot.secretEnv" (dict "ctx" . "name" "ACTION_SERVER_TOKEN" "key" .Values.secretKeys.actionServerToken) }}
{{- end -}}

{{/* The platform channels: their credentials.yml entries and the variables they read (connectors/registry.py;
tests/deploy/ checks the two agree). */}}
{{- define "talentbot.channelSpecs" -}}
wechat:
  module: connectors.wechat.WeChatInput
  required: [WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET]
  optional: [WECHAT_AES_KEY]
telegram:
  module: connectors.telegram.TelegramInput
  required: [TELEGRAM_TOKEN, TELEGRAM_SECRET_TOKEN]
  optional: []
whatsapp:
  module: connectors.whatsapp.WhatsAppInput
  required: [WHATSAPP_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_PHONE_NUMBER_ID]
  optional: []
{{- end -}}

{{/* Secrets of the enabled channels, from existingSecret (key: the variable in lower case with dashes). */}}
{{- define "talentbot.env.channels" -}}
{{- $ctx := . -}}
{{- range $name, $spec := fromYaml (include "talentbot.channelSpecs" .) }}
{{- if (index $ctx.Values.channels $name).enabled }}
{{- range $spec.required }}
{{ include "talentbot.secretEnv" (dict "ctx" $ctx "name" . "key" (lower . | replace "_" "-")) }}
{{- end }}
{{- range $spec.optional }}
{{ include "talentbot.secretEnv" (dict "ctx" $ctx "name" . "key" (lower . | replace "_" "-") "optional" true) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The pod spec parts every component shares: (dict "ctx" $ "values" .Values.rasa). */}}
{{- define "talentbot.podCommon" -}}
serviceAccountName: {{ include "talentbot.serviceAccountName" .ctx }}
automountServiceAccountToken: false
{{- with .ctx.Values.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Probes, port and resources of a component's container: (dict "ctx" $ "values" .Values.rasa). */}}
{{- define "talentbot.containerCommon" -}}
image: {{ include "talentbot.image" . | quote }}
imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .ctx.Values.securityContext | nindent 2 }}
ports:
  - name: http
    containerPort: {{ .values.port }}
    protocol: TCP
startupProbe:
  {{- toYaml .values.startupProbe | nindent 2 }}
livenessProbe:
  {{- toYaml .values.livenessProbe | nindent 2 }}
readinessProbe:
  {{- toYaml .values.readinessProbe | nindent 2 }}
resources:
  {{- toYaml .values.resources | nindent 2 }}
{{- end -}}
