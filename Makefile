# Interval: `make run` starts the demo clinic, `make test` runs the whole suite.
# Both create or update .venv first; nothing is reinstalled while the requirements are unchanged.

# The interpreter .venv is made from: PYTHON if set, else the system's /usr/bin/python3 when it
# is 3.11+ with venv (a distribution's build, compiled with profile-guided and link-time
# optimization; a plain source build such as pyenv's default spent 15-20% more CPU a booking,
# bench/results.md), else the first python3 on the PATH. An existing .venv keeps the
# interpreter it was made with: remove .venv to change it.
ifndef PYTHON
PYTHON := $(shell /usr/bin/python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
                  2>/dev/null && echo /usr/bin/python3 || echo python3)
endif
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt | cksum | cut -d' ' -f1)

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install run test migrate demo check clean

install: $(STAMP)

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit("Interval needs Python 3.11 or newer; set PYTHON=python3.11") if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py demo_logins

run: demo
	@echo ""
	@echo "Interval is starting (Ctrl-C stops everything):"
	@echo "  patients:     http://127.0.0.1:$(PORT)/book/"
	@echo "  staff admin:  http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs:     http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  calendar feeds (addresses to subscribe to; sign in as manager, or as a physician for their own):"
	@echo "                http://127.0.0.1:$(PORT)/admin/scheduling/calendarfeed/"
	@echo "  messages:     texts in var/sms.jsonl, emails printed below (the log hides the links' tokens; these do not)"
	@echo ""
	@# Ctrl-C stops honcho and everything it started (the worker finishes the message in hand);
	@# any other way honcho ends (a port already in use, a process that crashed) is an error.
	@# Links in messages and calendar files point at this server unless SITE_URL says otherwise;
	@# texts go to var/sms.jsonl unless SMS_TRANSPORT says otherwise, so that their links can be followed.
	@# /metrics adds up what the web server and the worker count (reminders are sent by the worker).
	@rm -rf var/metrics && mkdir -p var/metrics
	@PROMETHEUS_MULTIPROC_DIR=$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/var/metrics} \
	  SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} SMS_TRANSPORT=$${SMS_TRANSPORT:-file} \
	  $(BIN)/honcho start --procfile Procfile --port $(PORT) \
	  || [ $$? -eq 130 ]

# The suite runs on every core (pytest-xdist; each worker has its own test database and Redis
# database); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Seeds a large clinic in its own PostgreSQL database (BENCH_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/interval_bench), starts its own gunicorn and Celery worker
# (Redis db 6, BENCH_REDIS_URL), and prints the figures; bench/results.md is written from them by hand.
.PHONY: bench
bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
