#!/usr/bin/env bash
# STIX 2.1 sharing benchmark (issue 20): ROWS verified incidents (default 100,000) exported to
# one bundle over HTTP (GET /api/v1/share/stix, streamed from SQLite through the application
# layer's projection and grading), the bundle read, and received into a second SQLite store;
# prints records/s for each.
#
#   scripts/bench-stix.sh [ROWS] [--release]
#
# Without --release it runs the debug test build (what CI builds anyway; slower figures).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-100000}"
PROFILE=()
[ "${2:-}" = "--release" ] && PROFILE=(--release)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tocsin-target}"
TOCSIN_BENCH_STIX_ROWS="$ROWS" cargo test "${PROFILE[@]}" --workspace --test share_stix -- \
  --ignored --nocapture stix_benchmark 2>&1 | grep -E "STIX benchmark|test result|panicked"
