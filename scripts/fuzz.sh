#!/usr/bin/env bash
# Run every cargo-fuzz target for SECONDS each (default 60), starting from the committed
# seeds in fuzz/seeds/TARGET. New inputs go to fuzz/corpus/TARGET (git-ignored), crashes to
# fuzz/artifacts/TARGET. Exits non-zero if any target crashed (or failed to build).
#
#   scripts/fuzz.sh [SECONDS]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). The machine has stable Rust only;
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the nightly flags it needs (-Zsanitizer, etc.).
# Environment: FUZZ_TARGETS="a b" to run a subset, FUZZ_SANITIZER (default: address; use
# "none" for ~2x more executions on pure safe Rust), FUZZ_JOBS (libFuzzer -fork=N, default 1),
# FUZZ_TARGET_DIR (default /var/tmp/tocsin-fuzz-target, kept apart from the shared one).
set -uo pipefail

SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export RUSTC_BOOTSTRAP=1
TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/tocsin-fuzz-target}"
SANITIZER="${FUZZ_SANITIZER:-address}"
TARGETS="${FUZZ_TARGETS:-report_json incident_json query_string sms_webhook import_ucdp import_acled import_gdelt import_hxl import_decompress import_encoding assessment_json evidence_working_copy evidence_pdf speech_scan}"
LOGDIR="${FUZZ_LOG_DIR:-$TARGET_DIR/logs}"
mkdir -p "$LOGDIR"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi

dict_for() {
    case "$1" in
        query_string) echo "fuzz/dicts/query.dict" ;;
        evidence_working_copy|evidence_pdf) echo "fuzz/dicts/media.dict" ;;
        *) echo "fuzz/dicts/json.dict" ;;
    esac
}

failed=()
for t in $TARGETS; do
    echo "=== fuzz target $t: ${SECONDS_PER_TARGET}s, sanitizer=$SANITIZER ==="
    mkdir -p "fuzz/corpus/$t"
    log="$LOGDIR/$t.log"
    extra=()
    if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then extra+=("-fork=${FUZZ_JOBS}"); fi
    # The first corpus directory receives new inputs; the seeds are only read.
    cargo fuzz run --sanitizer "$SANITIZER" --target-dir "$TARGET_DIR" "$t" \
        "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
        -dict="$(dict_for "$t")" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
    rc=$?
    # The progress lines libFuzzer printed: first (seeds loaded), last, and final stats.
    grep -E '^#[0-9]+\s+INITED' "$log" | tail -n 1
    grep -E '^#[0-9]+\s+(pulse|NEW|REDUCE|DONE)' "$log" | tail -n 1
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)' "$log"
    if [ "$rc" -ne 0 ] && ! grep -qE '^#[0-9]+\s+INITED' "$log"; then
        echo "!!! $t did not build or start (exit $rc); log: $log" >&2
        grep -E -A12 '^error' "$log" | head -n 30 >&2
        failed+=("$t")
    elif [ "$rc" -ne 0 ]; then
        echo "!!! $t FAILED (exit $rc); log: $log" >&2
        grep -E -A40 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY' "$log" | head -n 80 >&2
        ls -1 "fuzz/artifacts/$t" 2>/dev/null | sed 's/^/    artifact: fuzz\/artifacts\/'"$t"'\//' >&2
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzzing: no crash in $TARGETS (${SECONDS_PER_TARGET}s each)"
