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

.PHONY: venv deploy-tools lock train run test test-unit lint validate bench multihost clean wipe-local-data

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

run: venv
	$(VENV)/bin/talentbot run

# The compose linter the deployment tests run (tests/deploy/package-lock.json; npm ci only when the lock changed).
DEPLOY_TOOLS := tests/deploy/node_modules/.installed
deploy-tools: $(DEPLOY_TOOLS)
$(DEPLOY_TOOLS): tests/deploy/package-lock.json
	npm ci --prefix tests/deploy --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

test: venv deploy-tools
	bash scripts/test.sh

test-unit: venv deploy-tools
	$(VENV)/bin/pytest -q -m "not server"

# The lint and type gate (the first step of `make test`): ruff and mypy, configured in pyproject.toml.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

validate: venv
	$(VENV)/bin/talentbot validate

bench: venv
	$(PY) -m tools.bench

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
