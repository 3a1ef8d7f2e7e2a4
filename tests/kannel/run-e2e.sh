#!/usr/bin/env bash
# End-to-end test: SMS through Kannel into Tocsin and acknowledgements back out.
#
#   fakesmsc --MO--> bearerbox --> smsbox --get-url/dlr-url--> relay --> tocsin serve
#   fakesmsc <--MT-- bearerbox <-- smsbox <--sendsms---------- relay <-- tocsin outbox
#
# Installs Debian's kannel and kannel-extras if missing, builds `tocsin` (cargo build -p
# tocsin; a no-op when up to date), starts everything on 127.0.0.1 with free ports, sends
# English, French, Swahili and Arabic messages (GSM text, 8-bit, UCS-2 with emoji, a
# two-part concatenated text) from five senders, and has Kannel re-deliver one of them
# (tests/kannel/e2e.py explains how). Then it checks, with Tocsin's API, fakesmsc's output
# and Tocsin's log: one report per message, byte-exact; no second report for the
# re-delivered one; one acknowledgement per report to each sender through Kannel, in the
# message's language; outbox messages delivered; no phone number in Tocsin's debug log.
#
# Ends with "kannel e2e: N passed, N failed"; exits non-zero on any failure.
# Environment: TOCSIN_BIN (use this binary instead of building), KEEP=1 (keep the work
# directory), CARGO_TARGET_DIR (default /var/tmp/tocsin-target), E2E_SENDSMS_DELAY (seconds
# the relay holds Kannel's sendsms answer before passing it to Tocsin; default 0.5, so a
# delivery report can arrive before the answer, as on a slow link).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tocsin-target}"
START=$(date +%s)

fail() { echo "kannel e2e: FAIL: $*" >&2; exit 1; }

# ---------------------------------------------------------------- Kannel and tools
# Debian installs bearerbox and smsbox in /usr/sbin and fakesmsc in kannel-extras.
find_in_pkg() { dpkg -L "$1" 2>/dev/null | grep -E "$2" | head -n1 || true; }
need_install=()
[ -n "$(find_in_pkg kannel '/bearerbox$')" ] || need_install+=(kannel)
[ -n "$(find_in_pkg kannel-extras '/fakesmsc$')" ] || need_install+=(kannel-extras)
command -v python3 >/dev/null || need_install+=(python3)
if [ ${#need_install[@]} -gt 0 ]; then
  echo "== installing ${need_install[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get install -y -q "${need_install[@]}" >/dev/null 2>&1 || {
    timeout 300 apt-get update -q >/dev/null 2>&1 || true
    timeout 300 apt-get install -y -q "${need_install[@]}" >/dev/null || fail "cannot install ${need_install[*]}"
  }
fi
BEARERBOX="$(find_in_pkg kannel '/bearerbox$')"
SMSBOX="$(find_in_pkg kannel '/smsbox$')"
FAKESMSC="$(find_in_pkg kannel-extras '/fakesmsc$')"
[ -x "$BEARERBOX" ] && [ -x "$SMSBOX" ] || fail "bearerbox/smsbox not found in package kannel"
[ -x "$FAKESMSC" ] || fail "fakesmsc not found in package kannel-extras"
# The Debian package starts a system-wide Kannel only when configured to; ours is separate.

# ---------------------------------------------------------------- tocsin binary
if [ -n "${TOCSIN_BIN:-}" ]; then
  TOCSIN="$TOCSIN_BIN"
else
  echo "== cargo build -p tocsin"
  (cd "$ROOT" && cargo build -q -p tocsin) || fail "cargo build -p tocsin failed"
  TOCSIN="$CARGO_TARGET_DIR/debug/tocsin"
fi
[ -x "$TOCSIN" ] || fail "no tocsin binary at $TOCSIN"
echo "== using $TOCSIN"

# ---------------------------------------------------------------- work directory, cleanup
WORK="$(mktemp -d /tmp/tocsin-kannel-e2e.XXXXXX)"
PIDS=()
OK=0
cleanup() {
  local rc=$?
  set +e
  # Stop in reverse order of start; only the processes this script started.
  # tocsin serve restarted by the broadcast phase (its pid in tocsin.pid)
  [ -f "$WORK/tocsin.pid" ] && PIDS+=("$(cat "$WORK/tocsin.pid")")
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -TERM "${PIDS[i]}" 2>/dev/null; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  exec 7>&-
  if [ "$OK" = 1 ] && [ -z "${KEEP:-}" ]; then
    rm -rf "$WORK"
  else
    echo "kannel e2e: logs kept in $WORK (tocsin.log, bearerbox.log, smsbox.log, fakesmsc.log, relay.log)" >&2
    if [ "$OK" != 1 ]; then
      for f in tocsin.log smsbox.log bearerbox.log fakesmsc.log; do
        [ -f "$WORK/$f" ] && { echo "--- last lines of $f" >&2; grep -av "sqlx::query" "$WORK/$f" | tail -n 15 >&2; }
      done
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

E2E="python3 $HERE/e2e.py"
read -r ADMIN_PORT SMSBOX_PORT FAKESMSC_PORT SENDSMS_PORT RELAY_PORT TOCSIN_PORT <<<"$($E2E ports 6)"
ADMIN_PASSWORD="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
SENDSMS_PASSWORD="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
INBOUND_SECRET="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
RELAY_URL="http://127.0.0.1:$RELAY_PORT"

# ---------------------------------------------------------------- Tocsin
unset TOCSIN_DATABASE_URL TOCSIN_CONFIG TOCSIN_DATA_DIR TOCSIN_LISTEN TOCSIN_CONTACT_KEY
cat >"$WORK/tocsin.toml" <<EOF
[sms]
default_calling_code = "236"
country_hint = "CAF"
public_url = "$RELAY_URL"

[sms.kannel]
sendsms_url = "$RELAY_URL/cgi-bin/sendsms"
username = "tocsin"
password = "$SENDSMS_PASSWORD"
# No \`from\`: this smsbox has no global sender either, so replies must go out from the number
# each warner wrote to (Kannel's %P), as on a common set-up (issue 12, finding 10).
inbound_secret = "$INBOUND_SECRET"

# Community broadcasts (the broadcast phase): only these phones receive a test broadcast;
# sent from the short code at 40 messages per second.
[broadcasts]
test_phones = ["+23670990001", "+23670990002"]
sender = "1413"
rates = { kannel = 40 }
EOF
mkdir -p "$WORK/data"
TOCSIN_ARGS=(--data-dir "$WORK/data" --config "$WORK/tocsin.toml")
timeout 60 "$TOCSIN" "${TOCSIN_ARGS[@]}" user add e2e --role analyst >"$WORK/user.out" 2>&1 ||
  { cat "$WORK/user.out" >&2; fail "tocsin user add failed"; }
tail -n1 "$WORK/user.out" >"$WORK/token"
# The broadcast phase's second person (approves) and an admin.
for u in coord:monitor_coordinator admin:admin; do
  timeout 60 "$TOCSIN" "${TOCSIN_ARGS[@]}" user add "e2e-${u%%:*}" --role "${u##*:}" >"$WORK/user.out" 2>&1 ||
    { cat "$WORK/user.out" >&2; fail "tocsin user add failed"; }
  tail -n1 "$WORK/user.out" >"$WORK/token-${u%%:*}"
done

echo "== starting tocsin serve"
NO_COLOR=1 TOCSIN_LOG=debug "$TOCSIN" "${TOCSIN_ARGS[@]}" serve --listen "127.0.0.1:$TOCSIN_PORT" >"$WORK/tocsin.log" 2>&1 &
PIDS+=($!)
TOCSIN_PID=$!
TOCSIN_URL=""
for _ in $(seq 1 300); do
  TOCSIN_URL="$(grep -aoE 'Tocsin is listening on http://[0-9.:]+' "$WORK/tocsin.log" | head -n1 | sed 's/.* on //' || true)"
  [ -n "$TOCSIN_URL" ] && break
  kill -0 "$TOCSIN_PID" 2>/dev/null || fail "tocsin serve exited: $(tail -n 5 "$WORK/tocsin.log")"
  sleep 0.2
done
[ -n "$TOCSIN_URL" ] || fail "tocsin serve did not print its address within 60s"
echo "   $TOCSIN_URL"

echo "== starting the relay (Kannel <-> Tocsin) on $RELAY_URL"
FAIL_SENDER="$($E2E fail-sender)"
$E2E relay --port "$RELAY_PORT" --upstream "$TOCSIN_URL" --fail-sender "$FAIL_SENDER" --fail-times 2 \
  --sendsms-upstream "http://127.0.0.1:$SENDSMS_PORT" --sendsms-delay "${E2E_SENDSMS_DELAY:-0.5}" \
  --log "$WORK/relay.log" >"$WORK/relay.out" 2>&1 &
PIDS+=($!)
$E2E wait-port "$RELAY_PORT" 20 || fail "relay did not start: $(cat "$WORK/relay.out")"

# ---------------------------------------------------------------- Kannel
sed -e "s|@ADMIN_PORT@|$ADMIN_PORT|g" -e "s|@ADMIN_PASSWORD@|$ADMIN_PASSWORD|g" \
  -e "s|@SMSBOX_PORT@|$SMSBOX_PORT|g" -e "s|@FAKESMSC_PORT@|$FAKESMSC_PORT|g" \
  -e "s|@SENDSMS_PORT@|$SENDSMS_PORT|g" -e "s|@SENDSMS_PASSWORD@|$SENDSMS_PASSWORD|g" \
  -e "s|@TOCSIN_URL@|$RELAY_URL|g" -e "s|@INBOUND_SECRET@|$INBOUND_SECRET|g" \
  -e "s|@WORK@|$WORK|g" "$HERE/kannel.conf.in" >"$WORK/kannel.conf"
grep -q '@[A-Z_]*@' "$WORK/kannel.conf" && fail "unreplaced placeholder in kannel.conf"

echo "== starting bearerbox, smsbox, fakesmsc"
(cd "$WORK" && exec "$BEARERBOX" "$WORK/kannel.conf" >"$WORK/bearerbox.out" 2>&1) &
PIDS+=($!)
$E2E wait-port "$ADMIN_PORT" 30 || fail "bearerbox did not open its admin port"
$E2E wait-port "$FAKESMSC_PORT" 30 || fail "bearerbox did not open the fake SMSC port"
(cd "$WORK" && exec "$SMSBOX" "$WORK/kannel.conf" >"$WORK/smsbox.out" 2>&1) &
PIDS+=($!)
$E2E wait-port "$SENDSMS_PORT" 30 || fail "smsbox did not open its sendsms port"
# fakesmsc in interactive mode reads MO lines from a FIFO; this shell holds the FIFO open
# read-write so fakesmsc never sees end-of-file while the test runs.
mkfifo "$WORK/mo.fifo"
exec 7<>"$WORK/mo.fifo"
"$FAKESMSC" -H 127.0.0.1 -r "$FAKESMSC_PORT" -i 0.1 <"$WORK/mo.fifo" >"$WORK/fakesmsc.out" 2>"$WORK/fakesmsc.log" &
PIDS+=($!)
$E2E wait-kannel "http://127.0.0.1:$ADMIN_PORT/status.txt?password=$ADMIN_PASSWORD" 30 ||
  fail "Kannel did not come up (fake SMSC online, smsbox connected)"

echo "== sending messages through fakesmsc (ready after $(($(date +%s) - START))s)"
set +e
timeout 240 $E2E drive --api "$TOCSIN_URL" --token-file "$WORK/token" --fifo "$WORK/mo.fifo" \
  --fakesmsc-log "$WORK/fakesmsc.log" --relay-log "$WORK/relay.log" --tocsin-log "$WORK/tocsin.log" \
  --config "$WORK/tocsin.toml" --public-url "$RELAY_URL" --tocsin-pid "$TOCSIN_PID" \
  --fail-times 2 --start "$START" | tee "$WORK/drive.out"
rc=${PIPESTATUS[0]}
set -e
kill -0 "$TOCSIN_PID" 2>/dev/null || { echo "tocsin serve died during the test" >&2; rc=1; }
if [ "$rc" = 124 ]; then
  echo "kannel e2e: 0 passed, 1 failed"
  fail "the checks did not finish within 240s"
fi
[ "$rc" = 0 ] || fail "see the checks above"

echo "== community broadcasts: 1,000 subscribers, STOP, test and live, kill -9 mid-broadcast"
set +e
timeout 400 $E2E broadcast --api "$TOCSIN_URL" --token-file "$WORK/token" \
  --coord-token-file "$WORK/token-coord" --admin-token-file "$WORK/token-admin" \
  --fifo "$WORK/mo.fifo" --fakesmsc-log "$WORK/fakesmsc.log" --tocsin-log "$WORK/tocsin.log" \
  --tocsin-pid "$TOCSIN_PID" --tocsin-bin "$TOCSIN" --data-dir "$WORK/data" \
  --config "$WORK/tocsin.toml" --pid-file "$WORK/tocsin.pid" | tee "$WORK/broadcast.out"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" = 124 ]; then
  echo "kannel broadcast e2e: 0 passed, 1 failed"
  fail "the broadcast checks did not finish within 400s"
fi
[ "$rc" = 0 ] || fail "see the broadcast checks above"
OK=1
