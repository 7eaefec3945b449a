#!/usr/bin/env bash
# Guarded `GET /users/me` on the quickstart (release build, its default SQLite store)
# against a bare axum handler answering the same JSON (examples/bare_axum.rs), both
# driven by wrk from outside the process, in one run, alternating rounds; prints
# each round, the medians and the ratio.
#
#   bash benches/speed.sh                 # 5 rounds of 5 s each, 32 connections
#   ROUNDS=3 SECONDS_PER_ROUND=10 CONNECTIONS=64 bash benches/speed.sh
#   QUICKSTART_BIN=/path/to/quickstart bash benches/speed.sh   # another build of it
#   DATABASE_URL=postgres://user@127.0.0.1:5432/db bash benches/speed.sh   # PostgreSQL
#
# Then one round of logins (POST /auth/jwt/login, the right password) reports how
# many password verifications per second the server sustains.
#
# Installs wrk from the OS packages when it is missing. Servers bind 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-5}"
SECONDS_PER_ROUND="${SECONDS_PER_ROUND:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
GUARDED_PORT="${GUARDED_PORT:-18000}"
BARE_PORT="${BARE_PORT:-18001}"

if ! command -v wrk >/dev/null; then
    echo "== installing wrk"
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi

echo "== building both servers in release"
# PostgreSQL is an opt-in cargo feature of warden; SQLite is on by default.
features=()
if [[ "${DATABASE_URL:-}" == postgres* ]]; then features=(--features postgres); fi
cargo build --release --quiet "${features[@]}" --example quickstart --example bare_axum
QUICKSTART_BIN="${QUICKSTART_BIN:-$PWD/target/release/examples/quickstart}"

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL="${DATABASE_URL:-sqlite://$work/speed.db}"
if [[ "$DATABASE_URL" == postgres* ]]; then
    # A clean table for the run: the speed user must be registrable.
    psql -q "$DATABASE_URL" -c 'SET client_min_messages = warning; DROP TABLE IF EXISTS "user"' >/dev/null
fi
(cd "$work" && RUST_LOG=warn PORT="$GUARDED_PORT" WARDEN_DATABASE_URL="$DATABASE_URL" \
    WARDEN_SECRET="speed-test-secret-that-is-long-enough-0123456789" \
    exec "$QUICKSTART_BIN") >"$work/guarded.log" 2>&1 &
pids+=($!)
PORT="$BARE_PORT" target/release/examples/bare_axum >"$work/bare.log" 2>&1 &
pids+=($!)

wait_for() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "server on port $1 did not start" >&2
    exit 1
}
wait_for "$GUARDED_PORT"
wait_for "$BARE_PORT"

base="http://127.0.0.1:$GUARDED_PORT"
curl -sf "$base/auth/register" -H 'content-type: application/json' \
    -d '{"email": "speed@example.com", "password": "speed-password"}' >/dev/null
token="$(curl -sf "$base/auth/jwt/login" -d 'username=speed@example.com&password=speed-password' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
status="$(curl -s -o /dev/null -w '%{http_code}' "$base/users/me" -H "Authorization: Bearer $token")"
[ "$status" = 200 ] || { echo "GET /users/me with the token answered $status" >&2; exit 1; }

rate() { # url -> requests per second
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_ROUND}s" \
        -H "Authorization: Bearer $token" "$1" | awk '/^Requests\/sec:/ { print $2 }'
}

guarded=()
bare=()
for round in $(seq "$ROUNDS"); do
    b="$(rate "http://127.0.0.1:$BARE_PORT/users/me")"
    g="$(rate "$base/users/me")"
    bare+=("$b")
    guarded+=("$g")
    printf 'round %d: bare axum %10.0f req/s   guarded /users/me %10.0f req/s\n' "$round" "$b" "$g"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mb="$(median "${bare[@]}")"
mg="$(median "${guarded[@]}")"
printf 'median:  bare axum %10.0f req/s   guarded /users/me %10.0f req/s   ratio %.2f\n' \
    "$mb" "$mg" "$(awk -v g="$mg" -v b="$mb" 'BEGIN { print g / b }')"

cat >"$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "username=speed@example.com&password=speed-password"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
logins="$(wrk -t1 -c4 -d"${SECONDS_PER_ROUND}s" -s "$work/login.lua" "$base/auth/jwt/login" |
    awk '/^Requests\/sec:/ { print $2 }')"
printf 'logins:  %.1f per second (4 connections, POST /auth/jwt/login)\n' "$logins"
