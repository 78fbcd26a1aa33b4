#!/usr/bin/env bash
# Property-based API fuzzing against the live server's own OpenAPI document.
# Installs schemathesis (from PyPI, in a virtual environment under target/), starts
# newsdesk on a fresh database with the demo newsroom, and runs every operation with
# every check, authenticated as an admin. Fails on any server error or any response
# that disagrees with the document. The database is a new SQLite file, or, when
# NEWSDESK_TEST_DATABASE_URL names a PostgreSQL server whose user may create databases,
# a new database on that server, dropped on exit (also after a failure).
# Usage: tests/schemathesis.sh [path/to/newsdesk]   (default: target/debug/newsdesk)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/newsdesk}
venv=target/schemathesis-venv
SCHEMATHESIS_VERSION=4.32.5
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
work=$(mktemp -d)
pid=''
# shellcheck source=tests/test-database.sh
. tests/test-database.sh
test_database schemathesis "$work"
# On exit: stops the server, drops the PostgreSQL database if one was made, removes the
# working directory, and after a failure names the backend on the last line.
cleanup() {
  local status=$?
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  test_database_drop
  rm -rf "$work"
  [ "$status" = 0 ] || echo "schemathesis: FAILED on $backend"
}
trap cleanup EXIT
test_database_create
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
export DATABASE_URL="$database_url" ADMIN_EMAIL=fuzz@example.com ADMIN_PASSWORD='fuzzing passphrase 1'
"$bin" seed --demo >/dev/null
"$bin" --bind-addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(curl -s -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
  -d "{\"email\": \"$ADMIN_EMAIL\", \"password\": \"$ADMIN_PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# The stream never ends by design: schemathesis reads its first event (the snapshot,
# `max-stream-events` in tests/schemathesis.toml) and checks it against the event
# schemas of the document. Which checks run is in tests/schemathesis.toml (a check named on the command line
# would override its per-operation settings).
"$venv/bin/st" --config-file tests/schemathesis.toml run "$base/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --max-examples "${ST_MAX_EXAMPLES:-100}" \
  --seed "${ST_SEED:-20261129}" \
  --workers 2 \
  --request-timeout 10 \
  --no-color \
  --report junit --report-dir "$work/report" | tee "$work/st.out"
if grep -E 'status=5[0-9][0-9]' "$work/server.log"; then
  echo "FAIL: the server answered a fuzzed request with a 5xx"
  exit 1
fi
echo "schemathesis on $backend: $(grep -c ' request ' "$work/server.log") requests served, no 5xx"
