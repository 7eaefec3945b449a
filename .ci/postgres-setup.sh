#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests, on 127.0.0.1 only, as the
# unprivileged `postgres` user, installing Debian's server package when it is missing.
# Prints the URL of a database the tests may use freely; `.ci/run` exports it as
# WARDEN_TEST_POSTGRES_URL. The cluster lives in a temporary directory and is stopped
# by `.ci/postgres-setup.sh stop DIR`.
#
#   eval "$(bash .ci/postgres-setup.sh)"     # sets WARDEN_TEST_POSTGRES_URL and PGDIR
set -euo pipefail

# The first free port from 55432 up, unless one is given.
PORT="${WARDEN_TEST_POSTGRES_PORT:-}"
if [ -z "$PORT" ]; then
    for candidate in $(seq 55432 55499); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            PORT=$candidate
            break
        fi
    done
fi

if [ "${1:-}" = stop ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    su postgres -s /bin/sh -c "$bin/pg_ctl -D '$2/data' stop -m fast" >/dev/null 2>&1 || true
    rm -rf "$2"
    exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
    if ! "$@" >"$log" 2>&1; then
        echo "postgres-setup: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
id postgres >/dev/null 2>&1 || run useradd --system --home-dir /var/lib/postgresql postgres

dir=$(mktemp -d /tmp/warden-pg.XXXXXX)
chown postgres "$dir"
chmod 700 "$dir"
# Trust on loopback only: a throwaway cluster for tests, reachable from this machine.
run su postgres -s /bin/sh -c "$bin/initdb -D '$dir/data' -U warden -A trust --no-sync -E UTF8 --locale=C"
run su postgres -s /bin/sh -c "$bin/pg_ctl -D '$dir/data' -l '$dir/log' -w -o \"-p $PORT -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300\" start"
echo "export WARDEN_TEST_POSTGRES_URL=postgres://warden@127.0.0.1:$PORT/postgres"
echo "export PGDIR=$dir"
