# talentbot: every set-up step a fresh machine needs. `make run` and `make test` are all a newcomer types.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Installer tools, pinned too: newer wheel/setuptools need packaging>=24, which Rasa 3.6 cannot import.
BOOTSTRAP := pip==24.0 setuptools==70.3.0 wheel==0.45.1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: venv deploy-tools console-assets lock train run test test-unit lint validate bench soak multihost clean wipe-local-data

venv: $(STAMP)

# Reinstalled only when the lock file or the project metadata change (a second `make test` reuses it).
$(STAMP): requirements.lock pyproject.toml scripts/find-python.sh
	@python=$$(scripts/find-python.sh) && \
	  { [ -x $(PY) ] || $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade $(BOOTSTRAP)
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	@touch $@

# Re-resolves pyproject.toml's ranges into requirements.lock (run by a maintainer, not by CI).
lock:
	rm -rf /tmp/talentbot-lock && $$(scripts/find-python.sh) -m venv /tmp/talentbot-lock
	/tmp/talentbot-lock/bin/pip install --quiet --upgrade $(BOOTSTRAP)
	/tmp/talentbot-lock/bin/pip install --quiet ".[test]"
	{ sed -n '1,2p' requirements.lock; /tmp/talentbot-lock/bin/pip freeze --exclude-editable | grep -v '^talentbot'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# Trains only when config, domain, training data or our pipeline code changed (content hash).
train: venv
	$(VENV)/bin/talentbot train

run: venv console-assets
	$(VENV)/bin/talentbot run

# The compose linter the deployment tests run (tests/deploy/package-lock.json; npm ci only when the lock changed).
DEPLOY_TOOLS := tests/deploy/node_modules/.installed
deploy-tools: $(DEPLOY_TOOLS)
$(DEPLOY_TOOLS): tests/deploy/package-lock.json
	npm ci --prefix tests/deploy --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# The staff console's browser libraries (talentbot/console/vendor/package-lock.json: Chart.js for the insights
# page), copied with their licences into talentbot/console/static/assets/vendor/ (not in git); npm ci only when the
# lock changed. Without npm the page still works: its tables, no charts.
CONSOLE_VENDOR := talentbot/console/vendor
CONSOLE_ASSETS := talentbot/console/static/assets/vendor
console-assets: $(CONSOLE_ASSETS)/chart.umd.js
$(CONSOLE_ASSETS)/chart.umd.js: $(CONSOLE_VENDOR)/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  echo "npm not found: the console's insights page will show its tables without charts"; exit 0; fi; \
	npm ci --prefix $(CONSOLE_VENDOR) --no-audit --no-fund --ignore-scripts --loglevel=error && \
	mkdir -p $(CONSOLE_ASSETS) && \
	cp $(CONSOLE_VENDOR)/node_modules/chart.js/LICENSE.md $(CONSOLE_ASSETS)/LICENSE.md && \
	cp $(CONSOLE_VENDOR)/node_modules/@kurkle/color/LICENSE.md $(CONSOLE_ASSETS)/LICENSE.kurkle-color.md && \
	cp $(CONSOLE_VENDOR)/node_modules/chart.js/dist/chart.umd.js $@

test: venv deploy-tools console-assets
	bash scripts/test.sh

test-unit: venv deploy-tools console-assets
	$(VENV)/bin/pytest -q -m "not server"

# The lint and type gate (the first step of `make test`): ruff and mypy, configured in pyproject.toml.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

validate: venv
	$(VENV)/bin/talentbot validate

# The soak on three hosts (tools/bench/soak.py): `make bench` ends with one of SOAK_MINUTES (0 skips it); `make soak`
# runs it alone (bench/reports/soak.json). As root with HAProxy, as `make multihost`; elsewhere both say why not.
SOAK_MINUTES ?= 30
SOAK_RATE ?= 10
SOAK_WARMUP_MINUTES ?= 5

bench: venv
	$(PY) -m tools.bench --soak-minutes $(SOAK_MINUTES)

soak: venv
	$(PY) -m tools.bench.soak --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE) --warmup-minutes $(SOAK_WARMUP_MINUTES)

# Three hosts (network namespaces, as root) behind HAProxy: coherence, pushes, throughput with 1-3 hosts, a host
# killed and back (bench/reports/multihost.json; tools/multihost/). Needs HAProxy: scripts/install-system-deps.sh.
multihost: venv
	$(PY) -m tools.multihost

# Deletes only what can be made again (trained models, test results, caches). Never var/ or trackers.db*: those
# are data (staff accounts, open tickets, channel state, conversations); `wipe-local-data` below is for them.
clean:
	rm -rf models results .pytest_cache .mypy_cache .ruff_cache .hypothesis .rasa
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

# Deletes the local data that `clean` keeps: var/ and the SQLite conversations. It cannot be undone, so it runs
# only as `make wipe-local-data CONFIRM=yes`. PostgreSQL and Redis (`talentbot run --production`) are not touched.
wipe-local-data:
	@if [ "$(CONFIRM)" != "yes" ]; then \
	  echo "wipe-local-data deletes var/ (staff accounts, tickets, channel state) and trackers.db* (conversations)."; \
	  echo "Nothing was deleted. To delete them: make wipe-local-data CONFIRM=yes"; \
	  exit 1; \
	fi
	rm -rf var trackers.db trackers.db-wal trackers.db-shm trackers.db-journal
