#!/usr/bin/env bash
# Re-derive Tocsin's embedded reference data from public packages.
#
#   crates/tocsin-domain/data/countries.tsv      <- pycountry (ISO 3166-1, Debian iso-codes)
#   crates/tocsin-server/assets/countries-110m.json <- npm world-atlas (Natural Earth 1:110m)
#
# Run from the repository root:  scripts/derive-data.sh
# Needs: bash, npm, python3 (with pip), tar.
# Idempotent: pinned package versions, deterministic output; running it twice
# produces byte-identical files. See data/LICENCES.md for provenance.
set -euo pipefail

WORLD_ATLAS_VERSION="${WORLD_ATLAS_VERSION:-2.0.2}"
PYCOUNTRY_VERSION="${PYCOUNTRY_VERSION:-26.2.16}"

ROOT="$(pwd)"
if [[ ! -f "$ROOT/Cargo.toml" || ! -d "$ROOT/crates" ]]; then
  echo "derive-data.sh: run me from the repository root" >&2
  exit 1
fi

TSV_OUT="$ROOT/crates/tocsin-domain/data/countries.tsv"
TOPO_OUT="$ROOT/crates/tocsin-server/assets/countries-110m.json"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tocsin-derive.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "==> npm pack world-atlas@$WORLD_ATLAS_VERSION"
(cd "$WORK" && npm pack --silent "world-atlas@$WORLD_ATLAS_VERSION" >/dev/null)
mkdir -p "$WORK/world-atlas"
tar -xzf "$WORK/world-atlas-$WORLD_ATLAS_VERSION.tgz" -C "$WORK/world-atlas"
SRC_TOPO="$WORK/world-atlas/package/countries-110m.json"
[[ -f "$SRC_TOPO" ]] || { echo "countries-110m.json missing from world-atlas tarball" >&2; exit 1; }

echo "==> pip download pycountry==$PYCOUNTRY_VERSION"
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  -d "$WORK/wheels" "pycountry==$PYCOUNTRY_VERSION"
mkdir -p "$WORK/pylib"
# A wheel is a zip; pycountry reads its JSON databases relative to __file__,
# so unpack it rather than importing from the zip.
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
  "$(ls "$WORK"/wheels/pycountry-*.whl | head -n1)" "$WORK/pylib"

mkdir -p "$(dirname "$TSV_OUT")" "$(dirname "$TOPO_OUT")"

echo "==> writing $TSV_OUT and $TOPO_OUT"
PYTHONPATH="$WORK/pylib" python3 - "$SRC_TOPO" "$TSV_OUT" "$TOPO_OUT" <<'PY'
import json, sys
import pycountry

src_topo, tsv_out, topo_out = sys.argv[1:4]

# --- countries.tsv -----------------------------------------------------------
rows = []
for c in pycountry.countries:
    fields = [c.alpha_3, c.alpha_2, "%03d" % int(c.numeric), c.name]
    for f in fields:
        if "\t" in f or "\n" in f or "\r" in f:
            raise SystemExit("unexpected whitespace in pycountry field: %r" % f)
    rows.append(fields)
rows.sort(key=lambda r: r[0])
if len(rows) < 240:
    raise SystemExit("pycountry returned only %d countries" % len(rows))
with open(tsv_out, "w", encoding="utf-8", newline="\n") as f:
    f.write("alpha3\talpha2\tnumeric\tname\n")
    for r in rows:
        f.write("\t".join(r) + "\n")

# --- countries-110m.json -----------------------------------------------------
by_numeric = {"%03d" % int(c.numeric): c.alpha_3 for c in pycountry.countries}
with open(src_topo, encoding="utf-8") as f:
    topo = json.load(f)
if "transform" not in topo:
    raise SystemExit("expected a quantized TopoJSON with a transform")

geoms = topo["objects"]["countries"]["geometries"]
unmapped = []
for g in geoms:
    props = g.setdefault("properties", {})
    gid = g.get("id")
    iso3 = by_numeric.get("%03d" % int(gid)) if gid is not None else None
    if iso3:
        props["iso3"] = iso3
    else:
        unmapped.append("%s (id=%s)" % (props.get("name"), gid))

# Keep only what the map needs: the countries object (its arcs already cover
# every coastline, so world-atlas's extra "land" object is dropped).
out = {
    "type": "Topology",
    "bbox": topo["bbox"],
    "transform": topo["transform"],
    "objects": {"countries": topo["objects"]["countries"]},
    "arcs": topo["arcs"],
}
used = set()
def walk(a):
    if isinstance(a, int):
        used.add(a if a >= 0 else ~a)
    else:
        for x in a:
            walk(x)
for g in geoms:
    walk(g.get("arcs", []))
if used != set(range(len(topo["arcs"]))):
    raise SystemExit("some arcs are not referenced by countries; refusing to drop 'land'")

with open(topo_out, "w", encoding="utf-8", newline="\n") as f:
    json.dump(out, f, separators=(",", ":"), ensure_ascii=False)
    f.write("\n")

print("  countries.tsv: %d countries" % len(rows))
print("  countries-110m.json: %d geometries, %d without iso3: %s"
      % (len(geoms), len(unmapped), ", ".join(unmapped) or "-"))
PY

echo "==> done"
ls -l "$TSV_OUT" "$TOPO_OUT"
