#!/usr/bin/env bash
# Signed partner bundles at scale: N verified incidents (an ACLED CSV made from the test
# fixture) imported on A, exported as a signed bundle for B, imported on B twice (all new, then
# all unchanged). Prints each step's own records/s. Usage: scripts/bench-partner-bundle.sh [N]
# with TOCSIN_BIN pointing at a built `tocsin` (default target/debug/tocsin).
set -euo pipefail
N="${1:-100000}"
BIN="${TOCSIN_BIN:-target/debug/tocsin}"
FIXTURE="$(dirname "$0")/../crates/tocsin-exchange/tests/fixtures/acled.csv"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/a" "$W/b"
python3 - "$FIXTURE" "$W/big.csv" "$N" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
hdr, row = rows[0], rows[1]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(hdr)
    for i in range(int(sys.argv[3])):
        r = list(row)
        r[0] = f"CEN{100000 + i}"
        r[22] = f"{6.0 + (i % 1000) / 2000:.4f}"
        r[23] = f"{15.5 + (i // 1000) / 200:.4f}"
        r[27] = f"Bench incident {i}: armed men attacked a village."
        w.writerow(r)
PY
export TOCSIN_LOG=warn
printf '[organisation]\nname = "Bench A"\n' > "$W/a/tocsin.toml"
A=("$BIN" --data-dir "$W/a" --config "$W/a/tocsin.toml")
B=("$BIN" --data-dir "$W/b")
"${A[@]}" import acled "$W/big.csv"
KA=$("${A[@]}" share key)
KB=$("${B[@]}" share key)
"${A[@]}" partner add B --url https://b.example --key "$KB" --max-tlp TLP:AMBER
"${B[@]}" partner add A --url https://a.example --key "$KA" --max-tlp TLP:GREEN
# An admin previews what would cross to B and approves the terms (nothing is sent before).
TERMS=$("${A[@]}" partner preview B | sed -n 's/^terms //p')
"${A[@]}" partner approve B --terms "$TERMS"
"${A[@]}" share export --partner B --out "$W/bundle.tocsin"
ls -l "$W/bundle.tocsin"
"${B[@]}" share import "$W/bundle.tocsin" --from A
"${B[@]}" share import "$W/bundle.tocsin" --from A
