#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the ledger's test suite and prints the URL to use:
#
#   export LEDGER_TEST_POSTGRES_URL=$(crates/ledger/scripts/start-test-postgres.sh)
#   cargo test -p ledger
#   crates/ledger/scripts/start-test-postgres.sh stop "$LEDGER_TEST_POSTGRES_URL"
#
# Runs as root (CI containers) or as any user that can run initdb. Installs PostgreSQL with
# apt-get when it is missing. The server listens on a Unix socket in its own temp dir and
# on no TCP port at all (so it never races another process for a port, and two runs never
# meet), trusts local connections (it holds test data only). `stop URL` stops the server
# that URL names and removes its dir. Everything but the URL goes to stderr, so $(...)
# captures the URL.
set -euo pipefail

# The socket file is named after a port number; in a private dir any number will do.
PORT=5432

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

as_owner() { # as_owner DIR CMD: run CMD as the user that owns DIR (postgres when root)
    if [ "$(id -u)" = "0" ]; then
        su postgres -s /bin/sh -c "$2"
    else
        sh -c "$2"
    fi
}

if [ "${1:-}" = "stop" ]; then
    DIR=${2:-}
    DIR=${DIR##*host=}
    DIR=${DIR%%&*}
    case "$DIR" in
        "${TMPDIR:-/tmp}"/ledger-pg.*) ;;
        *) echo "not a throwaway ledger PostgreSQL: $DIR" >&2; exit 2 ;;
    esac
    [ -d "$DIR/data" ] && as_owner "$DIR" "'$PG_CTL' -D '$DIR/data' -m immediate -w stop" >&2 || true
    rm -rf "$DIR"
    exit 0
fi

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
    -o \"-c listen_addresses='' -p $PORT -k '$DIR' -c fsync=off -c max_connections=200\" start" >&2 \
    || { cat "$DIR/server.log" >&2; exit 1; }

URL="postgres://$USER_NAME@localhost/postgres?host=$DIR"
echo "PostgreSQL is running on the socket in $DIR." >&2
echo "Stop it with: $0 stop '$URL'" >&2
echo "$URL"
