#!/bin/sh
# Message -> flag latency for the pushed channels (Telegram and WhatsApp webhooks) against a
# real `tocsin serve` with an enabled lexicon; prints p50/p95/max. Target: p95 <= 5 s.
#   BENCH_N=500 BENCH_RATE=50 scripts/bench-channels.sh
set -eu
cd "$(dirname "$0")/.."
exec cargo test --workspace --test bench_channels -- --ignored --nocapture
