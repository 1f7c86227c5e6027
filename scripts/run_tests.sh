#!/usr/bin/env bash
# The whole suite as `make test` runs it: two halves at once, one per core of the CI machine.
#
# - the tests that run the product's own processes, a browser or Zoom's SDK and mostly wait on
#   real time (meetings played at speed, leases expiring, restarts), in this shell;
# - everything else, at the same time, on a test database, a Redis database and a var folder
#   of its own (so neither half sees the other's rows, keys or files); its report follows.
#
# `pytest` alone still runs everything, one test after another.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/assistant}
REAL_TIME=(
  tests/integration
  tests/rtms_ingest/simulator/test_sdk_conformance.py
  tests/rtms_ingest/storage/test_db_outage.py
  tests/rtms_ingest/runtime/test_run_demo.py
  tests/rtms_ingest/runtime/test_demo_slides.py
  tests/rtms_ingest/runtime/test_demo_rtms_controls.py
)
others_log=$(mktemp)
trap 'rm -f "$others_log"' EXIT

DATABASE_URL="${DATABASE_URL}_others" REDIS_URL=redis://127.0.0.1:6379/11 \
ASSISTANT_VAR_DIR="$PWD/var/test-others" \
  "$PYTEST" tests "${REAL_TIME[@]/#/--ignore=}" -p no:cacheprovider "$@" >"$others_log" 2>&1 &
others=$!

DATABASE_URL="$DATABASE_URL" "$PYTEST" "${REAL_TIME[@]}" "$@"
real_time=$?
wait "$others"
rest=$?

echo
echo "=================== the other tests, run alongside ==================="
cat "$others_log"
echo "real-time tests: exit $real_time; the other tests: exit $rest"
[ "$real_time" -eq 0 ] && [ "$rest" -eq 0 ]
