#!/usr/bin/env bash
# Installs what tests/browser_docs.rs needs: Debian's Chromium (/usr/bin/chromium) and
# playwright-core (tests/browser/node_modules, from the committed package-lock.json).
# Idempotent and quiet on success; on failure it prints the failing step's output.
# playwright-core never downloads a browser: the test points it at /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
    if ! "$@" >"$log" 2>&1; then
        echo "browser-setup: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

if [ ! -x /usr/bin/chromium ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    run "${sudo[@]}" apt-get update -q
    run "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "browser-setup: node and npm are required (the machine's Node.js)" >&2
    exit 1
fi

# `npm ci` only when node_modules was not installed from this very lock file.
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.warden-lock.sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ ! -d tests/browser/node_modules/playwright-core ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    run env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund
    echo "$want" >"$stamp"
fi
