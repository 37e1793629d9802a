#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the ledger's test suite and prints the URL to use:
#
#   export LEDGER_TEST_POSTGRES_URL=$(crates/ledger/scripts/start-test-postgres.sh 55432)
#   cargo test -p ledger
#
# Runs as root (CI containers) or as any user that can run initdb. Installs PostgreSQL with
# apt-get when it is missing. The server listens on 127.0.0.1 only, trusts local
# connections (it holds test data only) and lives in a temp dir; stop it with the command
# printed on stderr. Everything but the URL goes to stderr, so $(...) captures the URL.
set -euo pipefail

PORT="${1:-${LEDGER_TEST_POSTGRES_PORT:-55432}}"

find_bin() {
    if command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
        return 0
    fi
    local b
    b=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$b" ] && echo "$b"
}

if [ -z "$(find_bin initdb)" ] || [ -z "$(find_bin pg_ctl)" ]; then
    echo "PostgreSQL not found; installing it with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)

DIR=$(mktemp -d "${TMPDIR:-/tmp}/ledger-pg.XXXXXX")
chmod 700 "$DIR"

run() {
    if [ "$(id -u)" = "0" ]; then
        chown -R postgres:postgres "$DIR"
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

USER_NAME=postgres
[ "$(id -u)" = "0" ] || USER_NAME=$(id -un)

run "'$INITDB' -D '$DIR/data' -A trust -U '$USER_NAME' --no-sync >'$DIR/initdb.log' 2>&1" \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
run "'$PG_CTL' -D '$DIR/data' -l '$DIR/server.log' -w \
    -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR' -c fsync=off -c max_connections=200\" start" >&2 \
    || { cat "$DIR/server.log" >&2; exit 1; }

echo "PostgreSQL is running on 127.0.0.1:$PORT (data in $DIR)." >&2
if [ "$(id -u)" = "0" ]; then
    echo "Stop it with: su postgres -s /bin/sh -c \"'$PG_CTL' -D '$DIR/data' -m fast stop\"" >&2
else
    echo "Stop it with: '$PG_CTL' -D '$DIR/data' -m fast stop" >&2
fi
echo "postgres://$USER_NAME@127.0.0.1:$PORT/postgres"
