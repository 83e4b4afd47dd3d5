# Two entry points for people: `make run` and `make test`. Everything else is set-up they share.
SHELL := /bin/bash
export RASA_TELEMETRY_ENABLED ?= false
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test bench setup venv install db model browser services nlu-report clean-model

run: setup ## set up everything, then start the assistant with the local browser demo on
	$(PY) -m bot serve --demo

test: setup browser services ## set up everything, then run every test
	$(PY) -m pytest

bench: setup ## ours vs a stock rasa init bot (never part of make test); writes bench/results/latest.json
	$(PY) -m bench.run

setup: install db model

venv: $(PY)

$(PY):
	@python_bin=$$(scripts/find-python.sh) || exit 1; \
	echo "Using $$python_bin"; \
	"$$python_bin" -m venv $(VENV)

install: $(STAMP)

# One pip call from the pinned files, then pip check: Rasa's pins must hold.
$(STAMP): requirements.txt constraints.txt | $(PY)
	$(PIP) install --quiet --upgrade "pip<25"
	$(PIP) install --quiet -r requirements.txt -c constraints.txt
	$(PIP) check
	touch $(STAMP)

db: install ## create or migrate the database, seed the demo data into an empty one
	$(PY) -m bot migrate
	$(PY) -m bot seed --if-empty

model: install ## train only when config.yml, domain.yml, data/ or our NLU code changed
	$(PY) -m bot train --if-changed

# The browser tests drive Debian's chromium through Playwright (no browser download).
browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "CJK"; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's chromium and a CJK font for the browser tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else \
		echo "error: the browser tests need Debian's chromium: sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; \
	fi

# The several-instance tests start their own PostgreSQL 15 cluster, Redis 7 server and haproxy
# (docs/haproxy.cfg) from Debian's packages, in temporary directories on free ports.
services:
	@if [ -x /usr/lib/postgresql/15/bin/initdb ] && command -v redis-server >/dev/null 2>&1 \
		&& command -v haproxy >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian's PostgreSQL 15, Redis 7 and haproxy for the several-instance tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 redis-server haproxy >/dev/null; \
	else \
		echo "error: the several-instance tests need PostgreSQL 15, Redis and haproxy: sudo apt-get install postgresql-15 redis-server haproxy" >&2; exit 1; \
	fi

nlu-report: model ## Rasa's own NLU report on the held-out split (results/ folder)
	$(PY) -m bot nlu-report

clean-model:
	rm -rf models/*.tar.gz
