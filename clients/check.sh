#!/usr/bin/env bash
# What a client author runs against newsdesk's OpenAPI document, as CI runs it:
#   1. Redocly lint (recommended rules): no errors;
#   2. TypeScript: types by openapi-typescript, the example (typescript/src/example.ts,
#      with openapi-fetch) checked by `tsc --noEmit`, then built;
#   3. Python: the client by openapi-python-client (python/generate.py), the example
#      (python/example.py) checked by `mypy --strict`;
#   4. both examples run against a live server on a fresh database with the demo
#      newsroom: anonymous reads, a cursor walk, and writes with an API token.
# Tools are pinned: typescript/package.json with its lock file (npm ci), and
# python/requirements.txt (in a virtual environment under target/).
# The database is a new SQLite file, or a new PostgreSQL database when
# NEWSDESK_TEST_DATABASE_URL names a server (as in tests/cookbook.sh).
# Usage: clients/check.sh [path/to/newsdesk]   (default: target/debug/newsdesk)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/debug/newsdesk}")
venv=target/clients-venv
work=$(mktemp -d)
pid=''
# shellcheck source=tests/test-database.sh
. tests/test-database.sh
test_database clients "$work"
cleanup() {
  local status=$?
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  test_database_drop
  rm -rf "$work"
  [ "$status" = 0 ] || echo "clients: FAILED on $backend"
}
trap cleanup EXIT

echo "-- Redocly lint"
(cd clients/typescript && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } &&
  npx --no-install redocly lint ../../openapi/openapi.json 2>&1 |
  grep -E '^(error|warning) |valid|Validation failed|You have' )
echo "-- TypeScript: openapi-typescript, tsc --noEmit"
(cd clients/typescript && npx --no-install openapi-typescript ../../openapi/openapi.json \
  -o src/newsdesk.d.ts >/dev/null && npx --no-install tsc --noEmit && npx --no-install tsc)
echo "-- Python: openapi-python-client, mypy --strict"
if [ ! -x "$venv/bin/mypy" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r clients/python/requirements.txt
fi
"$venv/bin/python" clients/python/generate.py openapi/openapi.json 2>"$work/generate.err" ||
  { cat "$work/generate.err"; exit 1; }
(cd clients/python && "../../$venv/bin/mypy" --strict --warn-unreachable example.py)

echo "-- both examples against a live server"
test_database_create
port=$((20000 + RANDOM % 20000))
export NEWSDESK_URL="http://127.0.0.1:$port"
export DATABASE_URL="$database_url" ADMIN_EMAIL=clients@example.com ADMIN_PASSWORD='client checks 1'
"$bin" seed --demo >/dev/null
"$bin" --bind-addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "$NEWSDESK_URL/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
session=$(curl -sf -X POST "$NEWSDESK_URL/api/v1/auth/token" -H 'content-type: application/json' \
  -d "{\"email\": \"$ADMIN_EMAIL\", \"password\": \"$ADMIN_PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
NEWSDESK_TOKEN=$(curl -sf -X POST "$NEWSDESK_URL/api/v1/tokens" -H "Authorization: Bearer $session" \
  -H 'content-type: application/json' \
  -d '{"name": "client examples", "scopes": ["content:read", "content:write"]}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
export NEWSDESK_TOKEN
node clients/typescript/dist/example.js | tee "$work/ts.out"
(cd clients/python && "../../$venv/bin/python" example.py) | tee "$work/py.out"
for out in ts py; do
  grep -q '^created draft ' "$work/$out.out" || { echo "FAIL: the $out example wrote nothing"; exit 1; }
  grep -q '^tag .* stories in [0-9]* pages$' "$work/$out.out" || { echo "FAIL: the $out example paged nothing"; exit 1; }
done
if grep -E 'status=5[0-9][0-9]' "$work/server.log"; then
  echo "FAIL: the server answered a client's request with a 5xx"
  exit 1
fi
echo "clients on $backend: Redocly lint without errors; TypeScript (tsc) and Python (mypy --strict) examples type-check and ran"
