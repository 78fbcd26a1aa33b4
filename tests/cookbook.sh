#!/usr/bin/env bash
# Runs the README's curl cookbook, exactly as printed, against a fresh server.
# Fails when a block fails, when the server answers any request with a 5xx, or when a
# value the cookbook captures (TOKEN=$(...)) comes back empty or null.
# Usage: tests/cookbook.sh [path/to/newsdesk]   (default: target/debug/newsdesk)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/newsdesk}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$bin" --database-url "$work/newsdesk.db" --bind-addr "127.0.0.1:$port" \
  >"$work/stdout.log" 2>"$work/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
password=$(awk '/password:/ {print $2}' "$work/stdout.log")
[ -n "$password" ] || { echo "the first start printed no admin password"; exit 1; }

# The shell blocks of the cookbook section, in order.
awk '/^## curl cookbook/ {on=1; next} /^## / {on=0} on && /^```sh$/ {code=1; next}
     on && /^```$/ {code=0; next} on && code {print}' README.md >"$work/cookbook.sh"
[ -s "$work/cookbook.sh" ] || { echo "no cookbook found in README.md"; exit 1; }
sed -i "s|^export ND=.*|export ND=http://127.0.0.1:$port|;
        s|^export ADMIN_PASSWORD=.*|export ADMIN_PASSWORD='$password'|" "$work/cookbook.sh"
captured=$(grep -oE '^[A-Z_]+=\$\(' "$work/cookbook.sh" | cut -d= -f1 | sort -u)
for name in $captured; do
  printf '[ -n "${%s:-}" ] && [ "$%s" != null ] || { echo "cookbook captured no %s"; exit 1; }\n' \
    "$name" "$name" "$name" >>"$work/cookbook.sh"
done

if ! bash -euo pipefail "$work/cookbook.sh" >"$work/cookbook.out" 2>&1; then
  cat "$work/cookbook.out"
  echo "FAIL: the README cookbook did not run"
  exit 1
fi
[ -n "${VERBOSE:-}" ] && cat "$work/cookbook.out"
requests=$(grep -c ' request ' "$work/server.log" || true)
if grep -E 'status=5[0-9][0-9]' "$work/server.log"; then
  echo "FAIL: the server answered a cookbook request with a 5xx"
  exit 1
fi
echo "README cookbook: $(grep -c 'curl ' "$work/cookbook.sh") curl lines ran, $requests requests, no 5xx"
