#!/usr/bin/env bash
# Page 1 of an English and an Arabic brief, from the demo scenario, as PNG images for the
# README: docs/brief-en.png and docs/brief-ar.png.
#
#   scripts/brief-screenshots.sh          (from the repository root)
#
# Needs: cargo, poppler-utils (pdftoppm). Builds the `tocsin` binary (dev profile, in
# $CARGO_TARGET_DIR or target/), seeds the demo into a temporary data directory, makes the two
# briefs for analysts of the first demo situation and renders their first page at 80 dpi.
# Nothing leaves the machine.
set -euo pipefail

ROOT="$(pwd)"
if [[ ! -f "$ROOT/Cargo.toml" || ! -d "$ROOT/crates" ]]; then
  echo "brief-screenshots.sh: run me from the repository root" >&2
  exit 1
fi
command -v pdftoppm >/dev/null || { echo "brief-screenshots.sh: pdftoppm (poppler-utils) is needed" >&2; exit 1; }

cargo build -q -p tocsin --bin tocsin
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tocsin"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tocsin-briefs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

"$BIN" --data-dir "$WORK" demo >/dev/null
# The demo's first situation (the list is newest first: take the oldest).
SITUATION="$("$BIN" --data-dir "$WORK" situation list | tail -n 1 | cut -f1)"
for lang in en ar; do
  "$BIN" --data-dir "$WORK" brief "$SITUATION" --audience analyst --lang "$lang" \
    --out "$WORK/brief-$lang.pdf" 2>/dev/null
  pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$WORK/brief-$lang.pdf" "$ROOT/docs/brief-$lang"
  echo "docs/brief-$lang.png"
done
