#!/usr/bin/env bash
# The map in headless Chromium with software WebGL2 (SwiftShader): world map load time and
# p95 settle time over 200 scripted pans and zooms, beside the SVG fallback's load time
# measured in the same run. Targets: load <= 2.5 s, p95 settle <= 400 ms.
#
#   scripts/bench-map.sh [INCIDENTS]     (default 2000, seeded through the API)
#
# BENCH_PROFILE=debug uses the debug build (the server is slower, the browser the same).
# BENCH_MAP_SETUP='js' runs js on the map (`m`) before the moves, e.g. to hide a layer and see
# what it costs without a rebuild. Each move's time is also split: first idle, frames, the
# JavaScript of MapLibre's render calls, the incidents request's round trip.
# Needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_MAP_INCIDENTS="${1:-2000}"
export TOCSIN_REQUIRE_BROWSER=1
profile=(--release)
[ "${BENCH_PROFILE:-release}" = debug ] && profile=()
cargo test "${profile[@]}" -p tocsin --test map_browser -- --ignored --nocapture map_benchmark 2>&1 \
  | grep -E "^(map benchmark|  )|panicked|FAILED|error" || true
