#!/usr/bin/env bash
# How browser logins (Argon2id password checks) affect everything else: GET /healthz latency
# alone, then while CONNECTIONS clients log in as fast as they can (the right password, many
# accounts and client addresses, so the throttle does not cut the load short). Before issue 12,
# Argon2 ran on the async workers and 32 logins in flight took /healthz to 120-260 ms; it now
# runs on blocking threads behind a semaphore. Figures are ratios against the baseline measured
# in the same run: the machine is shared.
#
#   scripts/bench-login.sh [DURATION] [CONNECTIONS]
#
# Defaults: DURATION=15 (seconds per measurement), CONNECTIONS=32. SKIP_BUILD=1 uses the
# existing release binary; TOCSIN_BIN=PATH benchmarks that binary.
set -euo pipefail

DURATION="${1:-15}"
CONNECTIONS="${2:-32}"
USERS=64
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tocsin-target}"
die() { echo "bench-login: $*" >&2; exit 2; }

command -v wrk >/dev/null 2>&1 || { apt-get install -y wrk >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } || die "cannot install wrk"; }
BIN="${TOCSIN_BIN:-$CARGO_TARGET_DIR/release/tocsin}"
if [ -z "${TOCSIN_BIN:-}" ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
    (cd "$ROOT" && cargo build --release -p tocsin >&2) || die "build failed"
fi
[ -x "$BIN" ] || die "no binary at $BIN"

DATA="$(mktemp -d /tmp/tocsin-bench-login.XXXXXX)"
cp "$BIN" "$DATA/tocsin"
BIN="$DATA/tocsin"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$DATA"
}
trap cleanup EXIT
unset TOCSIN_DATABASE_URL TOCSIN_CONFIG TOCSIN_LISTEN TOCSIN_DEMO TOCSIN_CONTACT_KEY TOCSIN_DATA_DIR

export BENCH_PASSWORD="bench-login-passphrase-$RANDOM"
echo "creating $USERS users…" >&2
for i in $(seq 0 $((USERS - 1))); do
    echo "$BENCH_PASSWORD" | "$BIN" --data-dir "$DATA" user add "bench$i" --role viewer --password-stdin \
        >/dev/null 2>"$DATA/user.err" || { cat "$DATA/user.err" >&2; die "cannot create users"; }
done
printf '[server]\ntrusted_proxies = ["127.0.0.1/32"]\n' >"$DATA/tocsin.toml"
"$BIN" --data-dir "$DATA" --config "$DATA/tocsin.toml" serve --listen 127.0.0.1:0 \
    >"$DATA/server.out" 2>"$DATA/server.err" &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 200); do
    ADDR="$(sed -n 's|^Tocsin is listening on http://\([^/]*\)/.*|\1|p' "$DATA/server.out" | head -n 1)"
    [ -n "$ADDR" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.err" >&2; die "server exited"; }
    sleep 0.05
done
[ -n "$ADDR" ] || die "server did not say where it listens"
URL="http://$ADDR"
code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/login" -H 'Cookie: tocsin_login_csrf=x' \
    --data "csrf=x&username=bench0&password=$BENCH_PASSWORD&next=%2F")"
[ "$code" = 303 ] || die "a login answered $code, not 303"

healthz() {  # p50 and p99 of GET /healthz over one connection, in ms
    wrk -t1 -c1 -d"${DURATION}s" --latency "$URL/healthz" |
        awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} END {print p50, p99}' |
        awk '{ for (i = 1; i <= 2; i++) { v = $i; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
               if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.2f ", v } print "" }'
}
echo "server $URL; $CONNECTIONS login connections, ${DURATION}s per measurement, $(nproc) CPUs" >&2
read -r base50 base99 < <(healthz)
BENCH_USERS=$USERS wrk -t2 -c"$CONNECTIONS" -d"$((DURATION + 4))s" -s "$ROOT/scripts/bench-login.lua" "$URL" \
    >"$DATA/logins.out" 2>&1 &
LOAD=$!
sleep 2
read -r load50 load99 < <(healthz)
wait "$LOAD"
echo "healthz alone:            p50 ${base50} ms, p99 ${base99} ms"
echo "healthz during logins:    p50 ${load50} ms, p99 ${load99} ms"
awk -v a="$base99" -v b="$load99" -v c="$base50" -v d="$load50" \
    'BEGIN { printf "ratio (during / alone):  p50 %.1fx, p99 %.1fx\n", d / c, b / a }'
grep '^LOGINS' "$DATA/logins.out" || { cat "$DATA/logins.out"; die "the login load did not run"; }
