#!/usr/bin/env bash
# How long a refused login takes, by what the account holds, measured from outside:
# the quickstart (release build) over a SQLite file holding an unknown e-mail's
# absence, a warden account (Argon2id, OWASP's cost), and two accounts imported from
# FastAPI Users (pwdlib's Argon2 m=65536,t=3,p=4 and bcrypt at 12 rounds, copied from
# tests/fixtures/fastapi_users/fastapi_users.db). Each gets the wrong password ROUNDS
# times, interleaved, with curl; prints the medians and each ratio to the unknown
# e-mail (1.0 means timing says nothing).
#
#   bash benches/login-timing.sh            # 15 rounds
#   ROUNDS=30 bash benches/login-timing.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-15}"
PORT="${PORT:-18010}"

echo "== building the quickstart in release"
cargo build --release --quiet --example quickstart
work="$(mktemp -d)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

WARDEN_DATABASE_URL="sqlite://$work/timing.db" WARDEN_SECRET="$(head -c 48 /dev/urandom | base64)" \
    PORT="$PORT" RUST_LOG=warn ./target/release/examples/quickstart >"$work/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -s -o /dev/null "$base/docs" && break; sleep 0.1; done

curl -s -o /dev/null -H 'content-type: application/json' "$base/auth/register" \
    -d '{"email": "fresh@example.com", "password": "a-fresh-password"}'
python3 - "$work/timing.db" <<'PY'
import sqlite3, sys, uuid
fixture = sqlite3.connect("tests/fixtures/fastapi_users/fastapi_users.db")
target = sqlite3.connect(sys.argv[1])
for email, alias in [("argon@example.com", "pwdlib@example.com"), ("Bcrypt.User@example.com", "bcrypt@example.com")]:
    (hashed,) = fixture.execute('SELECT hashed_password FROM "user" WHERE email = ?', (email,)).fetchone()
    target.execute('INSERT INTO "user" VALUES (?, ?, ?, 1, 0, 0)', (str(uuid.uuid4()), alias, hashed))
target.commit()
PY

cases=(nobody@example.com fresh@example.com pwdlib@example.com bcrypt@example.com)
for email in "${cases[@]}"; do : >"$work/$email"; done
# One warm-up each (the first refused login calibrates the floor).
for email in "${cases[@]}"; do
    curl -s -o /dev/null "$base/auth/jwt/login" -d "username=$email&password=wrong-password"
done
for _ in $(seq "$ROUNDS"); do
    for email in "${cases[@]}"; do
        curl -s -o /dev/null -w '%{time_total}\n' "$base/auth/jwt/login" \
            -d "username=$email&password=wrong-password" >>"$work/$email"
    done
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
unknown=$(median "$work/nobody@example.com")
printf '%-28s %10s %8s\n' "account" "median s" "ratio"
for email in "${cases[@]}"; do
    m=$(median "$work/$email")
    awk -v e="$email" -v m="$m" -v u="$unknown" 'BEGIN {printf "%-28s %10.4f %8.2f\n", e, m, m / u}'
done
