# The two commands a new user runs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1

.PHONY: demo test install install-test services lint format bench bench-asr bench-notes bench-search bench-ingest bench-share bench-webhook eval-notes chaos play

## demo: install, migrate SQLite, create the demo user, serve the dashboard with a simulated meeting
demo: install
	RTMS_ALLOWED_HOSTS=$${RTMS_ALLOWED_HOSTS:-127.0.0.1} RTMS_ALLOW_INSECURE_WS=$${RTMS_ALLOW_INSECURE_WS:-1} \
	$(PY) manage.py run_demo

## test: install the test dependencies, start PostgreSQL and Redis if needed, lint, type-check, check import directions, run every test
test: install-test services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy assistant rtms_ingest benchmarks tests
	$(VENV)/bin/lint-imports
	PYTEST=$(VENV)/bin/pytest ./scripts/run_tests.sh

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

# llama-cpp-python (the tests' local LLM server) builds from source: portable, not for this CPU
# only, so a wheel pip caches here still runs on another machine.
$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	CMAKE_ARGS="$${CMAKE_ARGS:--DGGML_NATIVE=OFF}" $(PY) -m pip install -q -r requirements-test.txt
	touch $@

services:
	./scripts/ensure_test_services.sh

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy assistant rtms_ingest benchmarks tests
	$(VENV)/bin/lint-imports

format: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: caption latency, simulator frame sent -> viewer socket received (prints JSON)
bench: install-test services
	$(PY) -m benchmarks.caption_latency

## bench-asr: our own captions: first-word and final latency, CPU, WER; new and previous draft policy side by side (JSON)
bench-asr: install-test services
	$(PY) -m benchmarks.asr_latency

## bench-ingest: ingest capacity, our client against Zoom's rtms SDK and a minimal client (JSON)
bench-ingest: install-test
	$(PY) -m benchmarks.ingest_load

## bench-share: share ingestion cost, CPU s per share stream-minute and slides kept, JPG and H.264 at 1-5 fps (JSON)
bench-share: install-test
	$(PY) -m benchmarks.share_ingest

## bench-webhook: webhook receiver req/s and p50/p99 at concurrency 1, 8, 32 on daphne (JSON)
bench-webhook: install-test services
	$(PY) -m benchmarks.webhook_load

## bench-notes: LLM input tokens per meeting-hour, ours against the whole transcript every 30 s
## (TEMPLATE=standup, sales_call or one_to_one: with that notes template's sections)
bench-notes: install-test
	$(PY) -m benchmarks.notes_tokens $(if $(TEMPLATE),--template $(TEMPLATE))

## eval-notes: how right the notes are (decisions, action items with owner and due date, echoes,
## summary support) for each engine over the annotated meetings in benchmarks/notes_meetings
## (JSON); the LLM engine against LLM_BASE_URL, or LOCAL_LLM=1 for the small local model
eval-notes: install-test
	$(PY) -m benchmarks.notes_eval $(if $(LOCAL_LLM),--local-llm) $(if $(VERBOSE),--verbose)

## bench-search: full-text search over 1M segments and the 3-hour meeting page, PostgreSQL (JSON)
bench-search: install-test services
	$(PY) -m benchmarks.search

## chaos: play the sample meeting in real time through each fault (rolling deploy, ingest SIGKILL,
## Redis kill, PostgreSQL restart, worker SIGKILL, signaling drop); JSON per fault; about 20 min
## (FAULTS=deploy,kill,... for some of them)
chaos: install-test services
	$(PY) -m benchmarks.chaos $(if $(FAULTS),--faults $(FAULTS))

## play: play the sample meeting again into a running `make demo` (same invented secrets)
play: install
	ZOOM_CLIENT_ID=$${ZOOM_CLIENT_ID:-$$(cat var/demo-zoom_client_id)} \
	ZOOM_CLIENT_SECRET=$${ZOOM_CLIENT_SECRET:-$$(cat var/demo-zoom_client_secret)} \
	ZOOM_WEBHOOK_SECRET_TOKEN=$${ZOOM_WEBHOOK_SECRET_TOKEN:-$$(cat var/demo-zoom_webhook_secret_token)} \
	$(PY) manage.py simulate_meeting rtms_ingest/simulator/sample_meetings/weekly_sync \
	  --webhook-url http://127.0.0.1:8000/webhooks/zoom/
