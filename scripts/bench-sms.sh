#!/usr/bin/env bash
# Inbound SMS webhook benchmark on SQLite (WAL, synchronous=FULL): SMSSync deliveries of distinct
# messages (each parsed, placed by the gazetteer, stored with its source and a queued
# acknowledgement), against GET /healthz in the same run.
#
#   scripts/bench-sms.sh [DURATION] [CONNECTIONS]     (defaults 15, 64)
set -euo pipefail
DURATION="${1:-15}"
CONNECTIONS="${2:-64}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tocsin-target}"
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p tocsin --manifest-path "$ROOT/Cargo.toml"
BIN="$CARGO_TARGET_DIR/release/tocsin"
WORK=$(mktemp -d /var/tmp/tocsin-bench-sms.XXXXXX)
trap '[ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/tocsin.toml" <<TOML
[sms]
default_calling_code = "236"
country_hint = "CAF"
[sms.smssync]
secret = "bench-secret"
TOML
TOCSIN_LOG=warn "$BIN" --data-dir "$WORK" --config "$WORK/tocsin.toml" serve --listen "127.0.0.1:$PORT" > "$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
echo "== baseline: GET /healthz"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/healthz" | grep -E "Requests/sec|99%"
echo "== POST /sms/smssync"
OUT=$(SMS_SECRET=bench-secret wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$ROOT/scripts/bench-sms.lua" "http://127.0.0.1:$PORT")
echo "$OUT" | grep RESULT
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
STORED=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from reports').fetchone()[0])" "$WORK/tocsin.db")
echo "stored reports: $STORED"
