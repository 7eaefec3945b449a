#!/usr/bin/env bash
# Soak: the quickstart (release build) under a hostile mix for SOAK_SECONDS, sampled every
# second from /proc: resident memory, threads, open file descriptors and database
# connections. Prints each series' start, level after the warm-up, peak and end, and
# whether it stayed flat (end at most 10% above its level after the warm-up: a leak
# grows); exits 1 if one did not, if the server logged an error, or if it died. The mix, all at once:
#   - guarded GET /users/me with a valid token (wrk, 8 connections)
#   - wrong-password logins for a known and an unknown account (wrk, 32 connections)
#   - 1 MiB bodies to /auth/register, garbage bearer tokens, fresh registrations (curl)
# First, on the fresh server: 200 failed logins at 32 connections and the RSS after;
# last, with the mix stopped, the idle RSS.
#
#   bash benches/soak.sh                      # 60 s, warm-up 10 s
#   SOAK_SECONDS=600 WARMUP=60 bash benches/soak.sh   # the 10-minute soak
#   QUICKSTART_BIN=/path/to/quickstart bash benches/soak.sh   # another build
#   DATABASE_URL=postgres://... bash benches/soak.sh          # PostgreSQL connections
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${SOAK_SECONDS:-60}"
WARMUP="${WARMUP:-10}"
PORT="${PORT:-18030}"
if ! command -v wrk >/dev/null; then
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
fi
if [ -z "${QUICKSTART_BIN:-}" ]; then
    # PostgreSQL is an opt-in cargo feature of warden; SQLite is on by default.
    features=()
    if [[ "${DATABASE_URL:-}" == postgres* ]]; then features=(--features postgres); fi
    cargo build --release --quiet "${features[@]}" --example quickstart
    QUICKSTART_BIN="$PWD/target/release/examples/quickstart"
fi
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL="${DATABASE_URL:-sqlite://$work/soak.db}"
(cd "$work" && RUST_LOG=error PORT="$PORT" WARDEN_DATABASE_URL="$DATABASE_URL" \
    WARDEN_SECRET="soak-test-secret-that-is-long-enough-0123456789" \
    exec "$QUICKSTART_BIN") >"$work/server.log" 2>&1 &
server=$!
pids+=("$server")
base="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -s -o /dev/null "$base/docs" && break; sleep 0.1; done

rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status"; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$server/status"; }
fds() { ls "/proc/$server/fd" | wc -l; }
connections() {
    if [[ "$DATABASE_URL" == postgres* ]]; then
        psql -Atq "$DATABASE_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    else
        # Each SQLite connection holds the database file open.
        find "/proc/$server/fd" -lname "*soak.db" 2>/dev/null | wc -l
    fi
}
echo "idle before any request: rss $(rss) MB, threads $(threads), fds $(fds)"

curl -sf "$base/auth/register" -H 'content-type: application/json' \
    -d '{"email": "soak@example.com", "password": "soak-password"}' >/dev/null
token="$(curl -sf "$base/auth/jwt/login" -d 'username=soak@example.com&password=soak-password' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

# 200 failed logins at 32 connections (known and unknown accounts), before anything
# else has run: the issue's first figure.
seq 200 | xargs -P 32 -I{} curl -s -o /dev/null "$base/auth/jwt/login" \
    -d 'username=user{}@example.com&password=wrong-password'
sleep 1
echo "after 200 failed logins at 32 connections: rss $(rss) MB, threads $(threads), fds $(fds)"

cat >"$work/wrong.lua" <<'LUA'
local bodies = {
  "username=soak@example.com&password=wrong-password",
  "username=nobody@example.com&password=wrong-password",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[i % 2 + 1])
end
LUA
head -c 1048576 /dev/zero | tr '\0' 'x' >"$work/big.txt"
printf '{"email": "big@example.com", "password": "%s"}' "$(cat "$work/big.txt")" >"$work/big.json"

hostile() {
    local n=0
    while :; do
        n=$((n + 1))
        curl -s -o /dev/null "$base/auth/register" -H 'content-type: application/json' --data-binary @"$work/big.json"
        curl -s -o /dev/null "$base/users/me" -H "Authorization: Bearer garbage.$n.token"
        curl -s -o /dev/null "$base/users/me" -H 'Authorization: Bearer eyJhbGciOiJub25lIn0.e30.'
        curl -s -o /dev/null "$base/auth/register" -H 'content-type: application/json' \
            -d "{\"email\": \"soak$n-$$@example.com\", \"password\": \"soak-password-$n\"}"
    done
}

echo "time rss_mb threads fds db_connections" >"$work/samples"
sample() { echo "$1 $(rss) $(threads) $(fds) $(connections)" >>"$work/samples"; }
sample 0
# The load outlasts the sampling (which drifts a little past one second a sample),
# so every sample is taken under it; it is stopped once sampling ends.
wrk -t1 -c8 -d"$((DURATION * 6 / 5 + 10))s" --latency -H "Authorization: Bearer $token" "$base/users/me" >"$work/guarded.txt" &
guarded_pid=$!
pids+=("$guarded_pid")
wrk -t1 -c32 -d"$((DURATION * 6 / 5 + 10))s" -s "$work/wrong.lua" "$base/auth/jwt/login" >"$work/wrong.txt" &
wrong_pid=$!
pids+=("$wrong_pid")
hostile &
hostile_pid=$!
pids+=("$hostile_pid")
for t in $(seq "$DURATION"); do
    sleep 1
    sample "$t"
done
kill "$hostile_pid" 2>/dev/null || true
# SIGINT: wrk stops and still prints its statistics.
kill -INT "$guarded_pid" "$wrong_pid" 2>/dev/null || true
wait "$guarded_pid" "$wrong_pid" 2>/dev/null || true
sleep 2

echo "== series over ${DURATION} s (flat: end at most 10% above the level after ${WARMUP} s)"
verdict=0
if ! kill -0 "$server" 2>/dev/null; then
    echo "the server died during the soak (see dmesg for the OOM killer)"
    verdict=1
fi
for column in 2 3 4 5; do
    read -r name start level peak end < <(awk -v c="$column" -v w="$WARMUP" '
        NR == 1 { name = $c; next }
        NR == 2 { start = $c }
        $1 == w { level = $c }
        { if ($c + 0 > peak + 0) peak = $c; end = $c }
        END { print name, start, level, peak, end }' "$work/samples")
    # A leak grows: only growth past 10% (or one unit) fails.
    flat="$(awk -v l="$level" -v e="$end" 'BEGIN { print (e - l <= 0.10 * l || e - l <= 1) ? "flat" : "NOT FLAT" }')"
    [ "$flat" = flat ] || verdict=1
    printf '%-16s start %8s   after warm-up %8s   peak %8s   end %8s   %s\n' "$name" "$start" "$level" "$peak" "$end" "$flat"
done
awk '/Non-2xx/ { print "guarded GET /users/me: non-2xx answers: " $NF }' "$work/guarded.txt"
awk '$1 == "99%" { print "guarded GET /users/me p99 during the mix: " $2 }' "$work/guarded.txt"
if grep -qiE "panic|error" "$work/server.log"; then
    echo "server log has errors:"; grep -iE "panic|error" "$work/server.log" | sort | uniq -c | head
    verdict=1
fi

echo "== after the mix: idle rss $(rss) MB, threads $(threads), fds $(fds)"
exit "$verdict"
