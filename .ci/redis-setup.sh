#!/usr/bin/env bash
# Starts a throwaway Redis server for the tests, on 127.0.0.1 only, installing
# Debian's redis-server package when it is missing. Prints the URL the tests use;
# `.ci/run` exports it as WARDEN_TEST_REDIS_URL. The server lives in a temporary
# directory and is stopped by `.ci/redis-setup.sh stop DIR`.
#
#   eval "$(bash .ci/redis-setup.sh)"     # sets WARDEN_TEST_REDIS_URL and REDISDIR
set -euo pipefail

if [ "${1:-}" = stop ]; then
    if [ -f "$2/redis.pid" ]; then
        kill "$(cat "$2/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$2"
    exit 0
fi

# The first free port from 56379 up, unless one is given.
PORT="${WARDEN_TEST_REDIS_PORT:-}"
if [ -z "$PORT" ]; then
    for candidate in $(seq 56379 56449); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            PORT=$candidate
            break
        fi
    done
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
    if ! "$@" >"$log" 2>&1; then
        echo "redis-setup: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

if ! command -v redis-server >/dev/null; then
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server
fi

dir=$(mktemp -d /tmp/warden-redis.XXXXXX)
# No persistence: a throwaway server for tests.
run redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/log" --save '' --appendonly no
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        break
    fi
    sleep 0.1
done
echo "export WARDEN_TEST_REDIS_URL=redis://127.0.0.1:$PORT/0"
echo "export REDISDIR=$dir"
