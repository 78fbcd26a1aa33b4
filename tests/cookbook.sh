#!/usr/bin/env bash
# Runs the README's curl cookbook against a fresh server, command by command, and checks
# that every command prints what the README says it prints.
#
# The convention, in the "## curl cookbook" section of README.md:
# - The ```sh blocks run in order, in one bash session (as a reader pastes them into one
#   terminal: no `set -e`, no `pipefail`), so TOKEN=$(...) and friends carry over.
# - A command ends at the first line where it parses as complete bash: trailing
#   backslashes, for/do/done loops and multi-line quoted arguments continue it.
# - The `# => ` lines right after a command are what it prints on stdout, one line each.
#   They must match exactly, or, when both are JSON, as JSON (so a long document may be
#   wrapped over several `# =>` lines between its tokens).
# - A command with no `# =>` line must print nothing. A command that calls curl must have
#   `# =>` lines, unless it captures a value (NAME=$(curl ...)): that value must then
#   be neither empty nor "null".
# - Every command must exit 0, and the server must answer no request with a 5xx.
# `export ND=...` and `export ADMIN_PASSWORD=...` are pointed at the fresh server.
# The server's database is a new SQLite file, or, when NEWSDESK_TEST_DATABASE_URL names a
# PostgreSQL server whose user may create databases, a new database on that server,
# dropped on exit (also after a failure).
# Usage: tests/cookbook.sh [path/to/newsdesk]   (default: target/debug/newsdesk)
#        VERBOSE=1 prints every command with its output; README=path checks another file.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/newsdesk}
readme=${README:-README.md}
work=$(mktemp -d)
pid=''
# shellcheck source=tests/test-database.sh
. tests/test-database.sh
test_database cookbook "$work"
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
  [ "$status" = 0 ] || echo "README cookbook: FAILED on $backend"
}
trap cleanup EXIT
mkdir "$work/out" "$work/err" "$work/rc" "$work/var"

# 1. The cookbook's shell blocks, split into commands with their expected output.
awk '/^## curl cookbook/ {on=1; next} /^## / {on=0}
     on && /^```sh$/ {code=1; next}
     on && code && /^```$/ {code=0; print "E\t" NR "\t"; next}
     on && code {print "L\t" NR "\t" $0}' "$readme" >"$work/lines"
[ -s "$work/lines" ] || { echo "FAIL: no curl cookbook found in $readme"; exit 1; }

cmds=() expects=() has_expect=() where=()
cmd='' start=0 attach=0 problems=0
problem() { echo "FAIL: $readme:$1: $2"; problems=$((problems + 1)); }
while IFS=$'\t' read -r kind lineno text; do
  if [ "$kind" = E ]; then
    [ -z "$cmd" ] || problem "$start" "the command starting here does not end in its block"
    cmd='' attach=0
    continue
  fi
  if [ -z "$cmd" ]; then
    if [[ $text == '# =>'* ]]; then
      if [ "$attach" = 1 ]; then
        i=$((${#cmds[@]} - 1))
        value=${text#'# =>'}
        value=${value# }
        if [ "${has_expect[i]}" = 1 ]; then expects[i]+=$'\n'$value; else expects[i]=$value; fi
        has_expect[i]=1
      else
        problem "$lineno" "a '# =>' line that does not follow a command"
      fi
      continue
    fi
    attach=0
    [[ $text =~ ^[[:space:]]*(#.*)?$ ]] && continue
    start=$lineno
    cmd=$text
  else
    cmd+=$'\n'$text
  fi
  if [[ $text != *\\ ]] && bash -n <<<"$cmd" 2>/dev/null; then
    cmds+=("$cmd") expects+=('') has_expect+=(0) where+=("$start")
    cmd='' attach=1
  fi
done <"$work/lines"
[ -z "$cmd" ] || problem "$start" "the command starting here does not end"
capture='^([A-Za-z_][A-Za-z0-9_]*)=\$\('
for i in "${!cmds[@]}"; do
  if [[ ${cmds[i]} == *curl* ]] && [ "${has_expect[i]}" = 0 ] && ! [[ ${cmds[i]} =~ $capture ]]; then
    problem "${where[i]}" "this command calls curl but has no '# =>' line for its output"
  fi
done
[ "$problems" = 0 ] || exit 1

# 2. A fresh server with the default settings: no environment and no .env file, since
#    the printed outputs are those of the defaults (links on http://127.0.0.1:8080...).
#    It listens on a free port, so PUBLIC_BASE_URL is given as the default BIND_ADDR
#    would make it.
#    Its database, the file or the new PostgreSQL database, is given with --database-url.
test_database_create
port=$((20000 + RANDOM % 20000))
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
(cd "$work" && exec env -i PATH="$PATH" "$bin" --database-url "$database_url" \
  --bind-addr "127.0.0.1:$port" --public-base-url http://127.0.0.1:8080 \
  --webhook-allow-private true >"$work/stdout.log" 2>"$work/server.log") &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
password=$(awk '/password:/ {print $2}' "$work/stdout.log")
if [ -z "$password" ]; then
  tail -n 20 "$work/server.log"
  echo "FAIL: the first start printed no admin password"
  exit 1
fi

# 3. One script that runs every command in the same shell, keeping each one's stdout,
#    stderr, exit status and (for a capture) the captured value.
script=$work/session.sh
: >"$script"
for i in "${!cmds[@]}"; do
  c=${cmds[i]}
  case $c in
    'export ND='*) c="export ND=http://127.0.0.1:$port" ;;
    'export ADMIN_PASSWORD='*) c="export ADMIN_PASSWORD=$(printf %q "$password")" ;;
  esac
  {
    printf '{\n%s\n} >%q 2>%q </dev/null\n' "$c" "$work/out/$i" "$work/err/$i"
    printf 'echo $? >%q\n' "$work/rc/$i"
    if [[ $c =~ $capture ]]; then
      printf 'printf %%s "${%s-}" >%q\n' "${BASH_REMATCH[1]}" "$work/var/$i"
    fi
  } >>"$script"
done
timeout 600 bash "$script" >"$work/session.log" 2>&1 || true

# 4. Compare.
indent() { sed 's/^/    /'; }
failed=0 printed=0
for i in "${!cmds[@]}"; do
  n=$((i + 1))
  if [ ! -f "$work/rc/$i" ]; then
    echo "FAIL: command $n ($readme:${where[i]}) did not run"
    cat "$work/session.log"
    failed=$((failed + 1))
    break
  fi
  rc=$(cat "$work/rc/$i")
  actual=$(cat "$work/out/$i")
  expected=${expects[i]}
  why=()
  [ "$rc" = 0 ] || why+=("it exited with status $rc")
  if [ "$actual" != "$expected" ]; then
    a=$(jq -c . <<<"$actual" 2>/dev/null) || a=x
    e=$(jq -c . <<<"$expected" 2>/dev/null) || e=y
    if [ -z "$expected" ] || [ "$a" != "$e" ]; then
      why+=("it printed something else than the README says")
    fi
  fi
  if [ -f "$work/var/$i" ]; then
    value=$(cat "$work/var/$i")
    [ -n "$value" ] && [ "$value" != null ] || why+=("it captured '${value}'")
  fi
  if [ "${VERBOSE:-}" ] || [ ${#why[@]} -gt 0 ]; then
    if [ ${#why[@]} -gt 0 ]; then
      msg=$(printf '%s; ' "${why[@]}")
      echo "FAIL: command $n ($readme:${where[i]}): ${msg%; }"
      failed=$((failed + 1))
    else
      echo "ok: command $n ($readme:${where[i]})"
    fi
    echo "  command:"; indent <<<"${cmds[i]}"
    if [ ${#why[@]} -gt 0 ] || [ -n "$expected" ]; then
      echo "  expected:"; [ -z "$expected" ] || indent <<<"$expected"
    fi
    echo "  actual:"; [ -z "$actual" ] || indent <<<"$actual"
    if [ -s "$work/err/$i" ]; then echo "  stderr:"; indent <"$work/err/$i"; fi
  fi
  [ "${has_expect[i]}" = 0 ] || printed=$((printed + 1))
done

requests=$(grep -c ' request ' "$work/server.log" || true)
if grep -E 'status=5[0-9][0-9]' "$work/server.log"; then
  echo "FAIL: the server answered a cookbook request with a 5xx"
  failed=$((failed + 1))
fi
if [ "$failed" -gt 0 ]; then
  echo "FAIL: the README cookbook does not work as printed ($failed problem(s) above)"
  exit 1
fi
echo "README cookbook on $backend: ${#cmds[@]} commands checked ($printed with expected output), $requests requests, no 5xx"
