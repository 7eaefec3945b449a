#!/usr/bin/env bash
# Starts a throwaway OpenID Connect provider for the tests, on 127.0.0.1 only: panva's
# certified oidc-provider (npm), run by .ci/oidc-provider/server.mjs, installed into
# .ci/oidc-provider/node_modules from the committed package-lock.json when missing.
# Prints the issuer the tests use; `.ci/run` exports it as WARDEN_TEST_OIDC_ISSUER. The
# provider's log lives in a temporary directory; `.ci/oidc-setup.sh stop DIR` stops it.
#
#   eval "$(bash .ci/oidc-setup.sh)"     # sets WARDEN_TEST_OIDC_ISSUER and OIDCDIR
set -euo pipefail
cd "$(dirname "$0")/oidc-provider"

if [ "${1:-}" = stop ]; then
    if [ -f "$2/pid" ]; then
        kill "$(cat "$2/pid")" 2>/dev/null || true
    fi
    rm -rf "$2"
    exit 0
fi

# The first free port from 57000 up, unless one is given.
PORT="${WARDEN_TEST_OIDC_PORT:-}"
if [ -z "$PORT" ]; then
    for candidate in $(seq 57000 57099); do
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
        echo "oidc-setup: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "oidc-setup: node and npm are required (the machine's Node.js)" >&2
    exit 1
fi

# `npm ci` only when node_modules was not installed from this very lock file.
stamp=node_modules/.warden-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules/oidc-provider ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    run npm ci --no-audit --no-fund
    echo "$want" >"$stamp"
fi

dir=$(mktemp -d /tmp/warden-oidc.XXXXXX)
PORT=$PORT nohup node server.mjs >"$dir/log" 2>&1 </dev/null &
echo $! >"$dir/pid"
issuer="http://127.0.0.1:$PORT"
# Ready once this very process has logged that it listens and discovery answers 200
# (plain bash: no curl needed).
discovery() {
    grep -q '^oidc-provider: listening' "$dir/log" || return 1
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /.well-known/openid-configuration HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$PORT" >&3
    head -n 1 <&3 | grep -q '^HTTP/1\.[01] 200'
}
for _ in $(seq 100); do
    if (discovery) 2>/dev/null; then
        echo "export WARDEN_TEST_OIDC_ISSUER=$issuer"
        echo "export OIDCDIR=$dir"
        exit 0
    fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
echo "oidc-setup: the provider did not answer at $issuer/.well-known/openid-configuration" >&2
cat "$dir/log" >&2
kill "$(cat "$dir/pid")" 2>/dev/null || true
rm -rf "$dir"
exit 1
