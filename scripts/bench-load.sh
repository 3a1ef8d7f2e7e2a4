#!/usr/bin/env bash
# Load benchmark of report intake: POST /api/v1/reports on each backend (SQLite: WAL,
# synchronous=FULL, group commit; PostgreSQL: a fresh database created for the run and dropped
# after, synchronous_commit on, group commit), against a GET /healthz baseline measured in the
# same run, then for each backend a durability check (every 2xx wrk saw must be a row in the
# database) and an audit-chain check (`tocsin audit verify`).
#
#   scripts/bench-load.sh [DURATION] [CONNECTIONS]
#
# Defaults: DURATION=10 (seconds per measurement), CONNECTIONS=32, THREADS=2 (wrk threads).
# Environment:
#   BACKENDS=LIST       which backends, in order (default: sqlite,postgres)
#   PG_URL=URL          a PostgreSQL server whose role may CREATE DATABASE (default
#                       postgres://postgres@127.0.0.1:5432/postgres); the run creates its own
#                       tocsin_bench_* database there and drops it at the end
#   SKIP_BUILD=1        use the existing release binary
#   TOCSIN_BIN=PATH     benchmark this binary (implies SKIP_BUILD)
#   TOCSIN_LOG=LEVEL    server log filter (default: the server's own default, info)
#   BASELINE_ME=0       skip the extra GET /api/v1/me baseline (auth + JSON, no database)
#   PIN=1               pin the server to CPU 0 and wrk to CPU 1 (diagnosis; not the headline)
#   PG_SERVERS=2        after the PostgreSQL measurement, start a second server on the same
#                       database and load both at once (half the connections each), so the
#                       audit-chain check also covers two processes writing one chain
#   KEEP=1              keep the temporary data directory (and the PostgreSQL database)
#   WAIT_IDLE=SECONDS   before each measurement, wait up to this long (default 300) for the
#                       shared machine to go idle; CPU used by other processes during a
#                       measurement is printed, and flagged (disturbed=…) above 20%
#   TARGET_RPS, TARGET_P99_MS   the goal (default 5000 reports/s, p99 < 50 ms), per backend
#   STRICT=1            exit 3 when the goal is missed (the durability check always fails hard)
# Exit: 0 ok, 1 durability or audit-chain check failed, 2 setup failed, 3 goal missed under
# STRICT=1.
set -euo pipefail

DURATION="${1:-${DURATION:-10}}"
CONNECTIONS="${2:-${CONNECTIONS:-32}}"
BACKENDS="${BACKENDS:-sqlite,postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
THREADS="${THREADS:-2}"
TARGET_RPS="${TARGET_RPS:-5000}"
TARGET_P99_MS="${TARGET_P99_MS:-50}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LUA="$ROOT/scripts/bench-load.lua"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tocsin-target}"

die() { echo "bench-load: $*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (Debian package)…" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } \
        || die "cannot install wrk"
fi
command -v curl >/dev/null 2>&1 || die "curl is needed"
# count_sqlite FILE WHAT, count_pg URL WHAT: SELECT count(*) FROM WHAT
if command -v sqlite3 >/dev/null 2>&1; then
    count_sqlite() { sqlite3 -readonly "$1" "SELECT count(*) FROM $2;"; }
elif command -v python3 >/dev/null 2>&1; then
    count_sqlite() { python3 -c 'import sqlite3,sys; print(sqlite3.connect("file:"+sys.argv[1]+"?mode=ro", uri=True).execute("SELECT count(*) FROM "+sys.argv[2]).fetchone()[0])' "$1" "$2"; }
else
    count_sqlite() { die "need the sqlite3 CLI or python3 to count rows"; }
fi
count_pg() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$1" -c "SELECT count(*) FROM $2;"; }
IFS=, read -r -a BACKEND_LIST <<<"$BACKENDS"
for b in "${BACKEND_LIST[@]}"; do
    case "$b" in
        sqlite) ;;
        postgres) command -v psql >/dev/null 2>&1 || die "psql is needed for the PostgreSQL run" ;;
        *) die "unknown backend '$b' in BACKENDS (sqlite, postgres)" ;;
    esac
done

# `url` with its database name replaced by $2 (query parameters kept).
pg_with_db() {
    local base="${1%%\?*}" query=""
    [ "$base" != "$1" ] && query="?${1#*\?}"
    local rest="${base#*://}" scheme="${base%%://*}"
    echo "${scheme}://${rest%%/*}/$2${query}"
}

# --- build -------------------------------------------------------------------------------
if [ -n "${TOCSIN_BIN:-}" ]; then
    BIN="$TOCSIN_BIN"
else
    BIN="$CARGO_TARGET_DIR/release/tocsin"
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        echo "building tocsin (release)…" >&2
        (cd "$ROOT" && cargo build --release -p tocsin >&2) || die "build failed"
    fi
fi
[ -x "$BIN" ] || die "no binary at $BIN"

# --- data dir, cleanup -----------------------------------------------------------------------
TMP="$(mktemp -d /tmp/tocsin-bench.XXXXXX)"
# A private copy: the shared target directory may be rebuilt by someone else mid-run.
cp "$BIN" "$TMP/tocsin"
BIN="$TMP/tocsin"
SERVER_PID=""
SERVER2_PID=""
PG_DB=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        # SIGTERM: graceful shutdown; the data is then read by other processes, as after a restart.
        kill -TERM "$SERVER_PID"
        for _ in $(seq 1 200); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server still running 10 s after SIGTERM; killing it" >&2
            kill -KILL "$SERVER_PID"
        fi
    fi
    [ -n "$SERVER_PID" ] && { wait "$SERVER_PID" 2>/dev/null || true; }
    SERVER_PID=""
}
drop_pg() {
    if [ -n "$PG_DB" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            echo "kept PostgreSQL database $PG_DB" >&2
        else
            psql -X -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 \
                || echo "could not drop PostgreSQL database $PG_DB" >&2
        fi
        PG_DB=""
    fi
}
cleanup() {
    if [ -n "$SERVER2_PID" ]; then kill -TERM "$SERVER2_PID" 2>/dev/null || true; wait "$SERVER2_PID" 2>/dev/null || true; fi
    stop_server
    drop_pg
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# Nothing from the caller's environment may point the server elsewhere.
unset TOCSIN_DATABASE_URL TOCSIN_CONFIG TOCSIN_LISTEN TOCSIN_DEMO TOCSIN_CONTACT_KEY TOCSIN_DATA_DIR

SERVER_CPU=""; WRK_CPU=""; DISTURBED=""
if [ "${PIN:-0}" = 1 ]; then SERVER_CPU="taskset -c 0"; WRK_CPU="taskset -c 1"; fi

# start_backend NAME: a fresh store on NAME, an analyst's token in TOKEN, a server at URL.
start_backend() {
    local backend="$1"
    DATA="$TMP/$backend"
    mkdir -p "$DATA"
    if [ "$backend" = postgres ]; then
        PG_DB="tocsin_bench_$(date +%s)_$$"
        psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "CREATE DATABASE $PG_DB" >/dev/null \
            || die "cannot create database $PG_DB at PG_URL"
        DBURL="$(pg_with_db "$PG_URL" "$PG_DB")"
        DBARGS=(--data-dir "$DATA" --database-url "$DBURL")
        count_rows() { count_pg "$DBURL" "$1"; }
        local settings
        settings="$(psql -X -A -t "$DBURL" -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'server_version')")"
        echo "PostgreSQL: $settings" >&2
    else
        DBURL="$DATA/tocsin.db"
        DBARGS=(--data-dir "$DATA")
        count_rows() { count_sqlite "$DBURL" "$1"; }
    fi
    TOKEN="$("$BIN" "${DBARGS[@]}" user add bench --role analyst 2>"$DATA/user.err" | tail -n 1)" \
        || { cat "$DATA/user.err" >&2; die "cannot create the analyst user"; }
    [ -n "$TOKEN" ] || die "no token printed"
    # Port 0: the kernel picks a free port and the server prints the address it got.
    $SERVER_CPU "$BIN" "${DBARGS[@]}" serve --listen 127.0.0.1:0 >"$DATA/server.out" 2>"$DATA/server.err" &
    SERVER_PID=$!
    local addr=""
    for _ in $(seq 1 200); do
        addr="$(sed -n 's|^Tocsin is listening on http://\([^/]*\)/.*|\1|p' "$DATA/server.out" | head -n 1)"
        [ -n "$addr" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.err" >&2; die "server exited"; }
        sleep 0.05
    done
    [ -n "$addr" ] || die "server did not say where it listens"
    URL="http://$addr"
    for _ in $(seq 1 200); do
        curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
        sleep 0.05
    done
    curl -fsS "$URL/healthz" >/dev/null || die "$URL/healthz is not healthy"
    # One report by hand, so a broken API fails loudly before any measuring.
    local code
    code="$(curl -s -o "$DATA/first.json" -w '%{http_code}' -X POST "$URL/api/v1/reports" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data '{"text":"bench: first report","latitude":6.1,"longitude":20.9}')"
    [ "$code" = 201 ] || { cat "$DATA/first.json" >&2; die "POST /api/v1/reports answered $code, not 201"; }
    ACKED_EXTRA=1
    echo "$backend server: $URL (pid $SERVER_PID, data $DATA), wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION}s each" >&2
}

# --- measuring -----------------------------------------------------------------------------
HZ="$(getconf CLK_TCK)"
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }           # utime+stime, ticks
total_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }  # all CPUs, ticks
# CPU ticks of the PostgreSQL server's processes (the postmaster and its children; readable when
# the server runs on this machine), to tell its share from the noise.
pg_cpu() {
    local pm
    pm="$(pgrep -o -x postgres 2>/dev/null || pgrep -o -f '^/usr/lib/postgresql/.*/bin/postgres' 2>/dev/null || true)"
    [ -n "$pm" ] || { echo 0; return; }
    { echo "$pm"; pgrep -P "$pm"; } | while read -r p; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done \
        | awk '{s += $1} END {print s + 0}'
}

# The machine is shared (builds, tests): a busy machine makes the figures meaningless. Wait up
# to WAIT_IDLE seconds (default 300) for a second in which under 15% of the CPUs were busy.
busy_pct() { local b0 b1; b0="$(total_busy)"; sleep 1; b1="$(total_busy)"; echo $(( 100 * (b1 - b0) / HZ / $(nproc) )); }
wait_idle() {
    local waited=0 b
    while b="$(busy_pct)"; [ "$b" -ge 15 ]; do
        if [ "$waited" -ge "${WAIT_IDLE:-300}" ]; then
            echo "WARNING: the machine is still ${b}% busy with other work; figures will be low" >&2
            ps -eo pcpu,comm --sort=-pcpu | sed -n 2,4p | sed 's/^/    /' >&2
            return
        fi
        [ "$waited" = 0 ] && echo "waiting for the machine to go idle (${b}% busy)…" >&2
        waited=$((waited + 1))
    done
    echo "machine: $(nproc) CPUs, ${b}% busy before start" >&2
}

# run NAME WRK-ARGS... : runs wrk, stores its RESULT line in R_NAME and CPU use in C_NAME.
run() {
    local name="$1"; shift
    local s0 b0 s1 b1 t0 t1 p0 p1 out
    wait_idle
    local timer=() wt=0
    rm -f "$TMP/wrk.time"
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%U %S" -o "$TMP/wrk.time")
    s0="$(proc_cpu "$SERVER_PID")"; p0="$(pg_cpu)"; b0="$(total_busy)"; t0="$(date +%s.%N)"
    out="$($WRK_CPU "${timer[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s "$LUA" "$@")"
    s1="$(proc_cpu "$SERVER_PID")"; p1="$(pg_cpu)"; b1="$(total_busy)"; t1="$(date +%s.%N)"
    [ -s "$TMP/wrk.time" ] && wt="$(awk -v hz="$HZ" 'END { printf "%d", ($1 + $2) * hz }' "$TMP/wrk.time")"
    echo "--- $name ---------------------------------------------------------------" >&2
    echo "$out" | grep -v '^RESULT' >&2
    local res; res="$(echo "$out" | grep '^RESULT' | tail -n 1)"
    [ -n "$res" ] || die "wrk printed no RESULT line for $name"
    # CPU: the server's, PostgreSQL's, wrk's, and whatever else ran meanwhile (noise).
    local cpu
    cpu="$(awk -v s="$((s1 - s0))" -v p="$((p1 - p0))" -v c="$wt" -v b="$((b1 - b0))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" -v n="$(nproc)" \
        'BEGIN { w = t1 - t0; o = 100*(b-s-p-c)/hz/w; if (o < 0) o = 0;
                 printf "server_cpu=%.0f%% postgres_cpu=%.0f%% wrk_cpu=%.0f%% other_cpu=%.0f%% machine_busy=%.0f%%", 100*s/hz/w, 100*p/hz/w, 100*c/hz/w, o, 100*b/hz/w/n }')"
    echo "$name: $res" >&2
    echo "$name: $cpu (100% = one core)" >&2
    local other; other="$(echo "$cpu" | sed -n 's/.*other_cpu=\([0-9]*\)%.*/\1/p')"
    if [ "${other:-0}" -ge 20 ]; then
        echo "WARNING: other processes used ${other}% CPU during '$name'; its figures are disturbed" >&2
        DISTURBED="${DISTURBED:+$DISTURBED,}$name"
    fi
    printf -v "R_$name" '%s' "$res"
    printf -v "C_$name" '%s' "$cpu"
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s|^$2=||p"; }

# Two servers on the current PostgreSQL database, loaded at once; adds their 2xx to TWO_ACKED.
two_servers() {
    "$BIN" "${DBARGS[@]}" serve --listen 127.0.0.1:0 >"$DATA/server2.out" 2>"$DATA/server2.err" &
    SERVER2_PID=$!
    local addr2=""
    for _ in $(seq 1 200); do
        addr2="$(sed -n 's|^Tocsin is listening on http://\([^/]*\)/.*|\1|p' "$DATA/server2.out" | head -n 1)"
        [ -n "$addr2" ] && break
        kill -0 "$SERVER2_PID" 2>/dev/null || { cat "$DATA/server2.err" >&2; die "second server exited"; }
        sleep 0.05
    done
    [ -n "$addr2" ] || die "the second server did not say where it listens"
    local half=$(( CONNECTIONS / 2 > 0 ? CONNECTIONS / 2 : 1 ))
    wait_idle
    wrk -t1 -c"$half" -d"${DURATION}s" --timeout 10s --latency -s "$LUA" "$URL/api/v1/reports" -- post "$TOKEN" >"$DATA/wrk-a.out" &
    local wa=$!
    wrk -t1 -c"$half" -d"${DURATION}s" --timeout 10s --latency -s "$LUA" "http://$addr2/api/v1/reports" -- post "$TOKEN" >"$DATA/wrk-b.out" &
    local wb=$!
    wait "$wa" "$wb"
    local ra rb
    ra="$(grep '^RESULT' "$DATA/wrk-a.out" | tail -n 1)"; rb="$(grep '^RESULT' "$DATA/wrk-b.out" | tail -n 1)"
    [ -n "$ra" ] && [ -n "$rb" ] || die "wrk printed no RESULT line for the two-server run"
    TWO_ACKED=$(( $(field "$ra" ok2xx) + $(field "$rb" ok2xx) ))
    TWO_LINE="$(awk -v a="$(field "$ra" ok_rps)" -v b="$(field "$rb" ok_rps)" -v pa="$(field "$ra" p99_ms)" -v pb="$(field "$rb" p99_ms)" \
        -v na="$(field "$ra" non2xx)" -v nb="$(field "$rb" non2xx)" \
        'BEGIN { printf "two_servers reports/s=%.0f p99=%.3fms non2xx=%d", a + b, (pa > pb ? pa : pb), na + nb }')"
    echo "--- postgres, two servers on one database ($half connections each) -----------------" >&2
    echo "$TWO_LINE" >&2
    kill -TERM "$SERVER2_PID" 2>/dev/null || true
    wait "$SERVER2_PID" 2>/dev/null || true
    SERVER2_PID=""
}

status=0
SUMMARY=()
for backend in "${BACKEND_LIST[@]}"; do
    start_backend "$backend"
    # One baseline for every backend: the HTTP stack alone, on the first backend's server.
    if [ -z "${R_healthz:-}" ]; then
        run healthz "$URL/healthz" -- get /healthz
        if [ "${BASELINE_ME:-1}" = 1 ]; then
            run me "$URL/api/v1/me" -- get /api/v1/me "$TOKEN"
        fi
    fi
    run "post_$backend" "$URL/api/v1/reports" -- post "$TOKEN"
    TWO_ACKED=0; TWO_LINE=""
    if [ "$backend" = postgres ] && [ "${PG_SERVERS:-1}" = 2 ]; then
        two_servers
    fi
    stop_server

    # --- durability and the audit chain, read by other processes ------------------------------
    r="R_post_$backend"; c="C_post_$backend"; R="${!r}"; C="${!c}"
    STORED="$(count_rows reports)"
    AUDITED="$(count_rows "audit_log WHERE action = 'report.create'")"
    ACKED=$(( $(field "$R" ok2xx) + ACKED_EXTRA + TWO_ACKED ))
    VERIFY="$("$BIN" "${DBARGS[@]}" audit verify 2>&1)" && CHAIN=ok || CHAIN=BROKEN
    echo "--- $backend: durability and audit chain ------------------------------------------" >&2
    echo "2xx acknowledged by the server: $ACKED; report rows: $STORED; report.create audit entries: $AUDITED" >&2
    echo "$VERIFY" >&2
    [ "$backend" = postgres ] && drop_pg

    RPS="$(field "$R" ok_rps)"
    P50="$(field "$R" p50_ms)"; P90="$(field "$R" p90_ms)"; P99="$(field "$R" p99_ms)"
    NON2XX="$(field "$R" non2xx)"
    ERRS="$(( $(field "$R" connect_err) + $(field "$R" read_err) + $(field "$R" write_err) + $(field "$R" timeouts) ))"
    echo >&2
    echo "$backend POST /api/v1/reports: $RPS accepted reports/s, p50=${P50}ms p90=${P90}ms p99=${P99}ms, non-2xx=$NON2XX ($(field "$R" statuses)), socket errors=$ERRS; $C" >&2
    if [ "$STORED" -lt "$ACKED" ]; then
        echo "$backend DURABILITY FAILED: $ACKED reports acknowledged but only $STORED stored" >&2
        status=1
    else
        echo "$backend durability ok: stored ($STORED) >= acknowledged ($ACKED); the $((STORED - ACKED)) extra were in flight when wrk stopped" >&2
    fi
    if [ "$AUDITED" != "$STORED" ]; then
        echo "$backend AUDIT FAILED: $STORED reports but $AUDITED report.create audit entries" >&2
        status=1
    fi
    if [ "$CHAIN" != ok ]; then
        echo "$backend AUDIT CHAIN FAILED: $VERIFY" >&2
        status=1
    fi
    if awk -v r="$RPS" -v p="$P99" -v tr="$TARGET_RPS" -v tp="$TARGET_P99_MS" 'BEGIN { exit !(r >= tr && p < tp) }'; then
        echo "$backend goal met: >= $TARGET_RPS reports/s with p99 < $TARGET_P99_MS ms" >&2
    else
        echo "$backend goal MISSED: wanted >= $TARGET_RPS reports/s with p99 < $TARGET_P99_MS ms" >&2
        if [ "$status" = 0 ] && [ "${STRICT:-0}" = 1 ]; then status=3; fi
    fi
    SUMMARY+=("$(printf 'backend=%s reports/s=%.0f p50=%sms p90=%sms p99=%sms non2xx=%s stored=%s acked=%s chain=%s%s' \
        "$backend" "$RPS" "$P50" "$P90" "$P99" "$NON2XX" "$STORED" "$ACKED" "$CHAIN" "${TWO_LINE:+ then $TWO_LINE}")")
done

# --- summary ---------------------------------------------------------------------------------
HZRPS="$(field "$R_healthz" ok_rps)"
echo >&2
echo "GET /healthz (baseline): $HZRPS req/s, p99=$(field "$R_healthz" p99_ms)ms; $C_healthz" >&2
if [ -n "${R_me:-}" ]; then
    echo "GET /api/v1/me (baseline): $(field "$R_me" ok_rps) req/s, p99=$(field "$R_me" p99_ms)ms; $C_me" >&2
fi
printf 'baseline healthz/s=%.0f connections=%s duration=%ss%s\n' "$HZRPS" "$CONNECTIONS" "$DURATION" "${DISTURBED:+ disturbed=$DISTURBED}"
for line in "${SUMMARY[@]}"; do
    rps="$(field "$line" reports/s | head -n 1)"
    printf '%s ratio=%s\n' "$line" "$(awk -v a="$rps" -v b="$HZRPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
done
exit "$status"
