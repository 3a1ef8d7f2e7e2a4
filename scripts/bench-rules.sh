#!/usr/bin/env bash
# Alert-rule engine benchmark (issue 14: 100 enabled rules, 1,000,000 incidents, evaluating a
# new incident at most 1 ms at p99). Baselines are measured in the same run (the machine is
# shared and noisy) and the figures quoted as ratios of them.
#
#   scripts/bench-rules.sh [INCIDENTS]        (default 1,000,000)
#
# Prints: the in-memory load time and RSS, p50/p99/max per evaluation against one hash-map
# upsert and the engine with no rules, then (SQLite) the import of the same incidents as setup
# and the time RuleEngine::load takes to scan them back from the file, and one rule's reload.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tocsin-target}"
BENCH_RULES_INCIDENTS="${1:-1000000}" BENCH_RULES_SQLITE="${BENCH_RULES_SQLITE:-1}" \
  cargo bench -q -p tocsin-rules --bench evaluate
