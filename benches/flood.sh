#!/usr/bin/env bash
# A login flood against the quickstart (release build): wrk sends correct-password
# logins over many connections (each one a password verification), while a second
# wrk reads the guarded `GET /users/me`. Prints the guarded route's latency alone,
# then both during the flood, with the flood's status counts: the hash queue is
# bounded, so logins beyond it are answered 503 at once and guarded routes stay fast.
#
#   bash benches/flood.sh                      # 10 s, 128 flood connections
#   SECONDS_PER_RUN=20 FLOOD=256 bash benches/flood.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
FLOOD="${FLOOD:-128}"
PORT="${PORT:-18020}"

if ! command -v wrk >/dev/null; then
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --example quickstart
work="$(mktemp -d)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
(cd "$work" && RUST_LOG=error PORT="$PORT" WARDEN_DATABASE_URL="sqlite://$work/flood.db" \
    WARDEN_SECRET="flood-test-secret-that-is-long-enough-0123456789" \
    exec "$OLDPWD/target/release/examples/quickstart") >"$work/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -s -o /dev/null "$base/docs" && break; sleep 0.1; done
curl -sf "$base/auth/register" -H 'content-type: application/json' \
    -d '{"email": "flood@example.com", "password": "flood-password"}' >/dev/null
token="$(curl -sf "$base/auth/jwt/login" -d 'username=flood@example.com&password=flood-password' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

cat >"$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "username=flood@example.com&password=flood-password"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
guarded() {
    wrk -t1 -c8 -d"${SECONDS_PER_RUN}s" --latency -H "Authorization: Bearer $token" "$base/users/me"
}
summary() { # label, wrk output
    awk -v label="$1" '
        /^Requests\/sec:/ { rate = $2 }
        $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
        END { printf "%-34s p50 %8s   p99 %8s   %10.0f req/s\n", label, p50, p99, rate }' <<<"$2"
}

alone="$(guarded)"
wrk -t1 -c"$FLOOD" -d"${SECONDS_PER_RUN}s" --latency -s "$work/login.lua" "$base/auth/jwt/login" >"$work/flood.txt" &
flood_pid=$!
sleep 1
during="$(guarded)"
wait "$flood_pid"
summary "GET /users/me alone" "$alone"
summary "GET /users/me during the flood" "$during"
summary "POST /auth/jwt/login flood ($FLOOD conn)" "$(cat "$work/flood.txt")"
awk '/requests in/ { total = $1 } /Non-2xx/ { refused = $NF }
     END { printf "flood answers: %d, of which 503 (queue full) or other non-2xx: %d\n", total, refused }' "$work/flood.txt"
for _ in $(seq 50); do
    status="$(curl -s -o /dev/null -w '%{http_code}' "$base/auth/jwt/login" -d 'username=flood@example.com&password=flood-password')"
    [ "$status" = 200 ] && break
    sleep 0.1
done
echo "a login right after the flood: $status"
