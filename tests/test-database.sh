# shellcheck shell=bash disable=SC2034  # database_url and backend are for the sourcing script
# Sourced by the scripts that start newsdesk on a fresh database (tests/cookbook.sh,
# tests/schemathesis.sh). A new SQLite file in the working directory, or, when
# NEWSDESK_TEST_DATABASE_URL names a PostgreSQL server whose user may create databases,
# a new database on that server, created by test_database_create and dropped by
# test_database_drop (call it from the script's exit trap).
#
# test_database NAME WORKDIR sets database_url (for DATABASE_URL or --database-url) and
# backend (for the script's last line).
pg_server=${NEWSDESK_TEST_DATABASE_URL:-} pg_db='' pg_made=''

test_database() {
  local name=$1 work=$2
  if [ -z "$pg_server" ]; then
    database_url=$work/newsdesk.db
    backend=SQLite
    return
  fi
  # scheme://[user[:password]@]host[:port][/database][?parameters], with the database
  # swapped for a new one.
  local url_re='^(postgres(ql)?://)([^/?#]*@)?([^@/?#]*)(/[^?#]*)?(\?[^#]*)?$'
  if ! [[ $pg_server =~ $url_re ]]; then
    echo "FAIL: NEWSDESK_TEST_DATABASE_URL is not a postgres:// URL"
    exit 1
  fi
  pg_db=nd_${name}_$$_$(date +%s)
  database_url=${BASH_REMATCH[1]}${BASH_REMATCH[3]}${BASH_REMATCH[4]}/$pg_db${BASH_REMATCH[6]}
  backend="PostgreSQL (database $pg_db on ${BASH_REMATCH[4]}, dropped afterwards)"
}

test_database_create() {
  [ -n "$pg_server" ] || return 0
  command -v psql >/dev/null || { echo "FAIL: NEWSDESK_TEST_DATABASE_URL is set but psql is missing"; exit 1; }
  pg_made=1
  psql "$pg_server" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
}

test_database_drop() {
  [ -n "$pg_made" ] || return 0
  psql "$pg_server" -qAtX -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null ||
    echo "warning: could not drop the test database $pg_db" >&2
}
