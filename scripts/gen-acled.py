#!/usr/bin/env python3
"""Write N synthetic ACLED-format rows (31 columns) to a file, deterministically.

Usage: scripts/gen-acled.py N OUT.csv
The events are invented: random points in a few countries, ACLED's typology, plausible notes.
"""
import csv
import random
import sys

COLUMNS = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
           "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
           "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,"
           "source_scale,notes,fatalities,tags,timestamp").split(",")
TYPES = [
    ("Battles", ["Armed clash", "Government regains territory"]),
    ("Violence against civilians", ["Attack", "Abduction/forced disappearance", "Sexual violence"]),
    ("Explosions/Remote violence", ["Air/drone strike", "Shelling/artillery/missile attack"]),
    ("Riots", ["Mob violence"]),
    ("Protests", ["Peaceful protest"]),
    ("Strategic developments", ["Looting/property destruction"]),
]
COUNTRIES = [  # iso numeric, name, ISO3 prefix, centre lat, lon, spread
    (140, "Central African Republic", "CEN", 6.6, 20.9, 4.0),
    (728, "South Sudan", "SSD", 7.9, 30.0, 4.0),
    (854, "Burkina Faso", "BFA", 12.2, -1.5, 3.0),
    (104, "Myanmar", "MMR", 19.0, 96.0, 5.0),
    (729, "Sudan", "SDN", 14.0, 30.0, 6.0),
    (180, "Democratic Republic of the Congo", "DRC", -2.0, 24.0, 7.0),
]


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rnd = random.Random(2013)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i in range(n):
            iso, country, prefix, lat, lon, spread = COUNTRIES[i % len(COUNTRIES)]
            et, subs = TYPES[rnd.randrange(len(TYPES))]
            y, m, d = 2015 + rnd.randrange(10), 1 + rnd.randrange(12), 1 + rnd.randrange(28)
            fat = 0 if et in ("Protests", "Strategic developments") else rnd.randrange(12)
            w.writerow([
                f"{prefix}{i}", f"{y:04d}-{m:02d}-{d:02d}", y, 1 + rnd.randrange(3), "Political violence",
                et, subs[rnd.randrange(len(subs))], "Armed group A (synthetic)", "", 2,
                "Civilians (synthetic)", "", 7, 27, "", iso, "Africa", country, f"Province {rnd.randrange(9)}",
                f"District {rnd.randrange(40)}", "", f"Village {rnd.randrange(5000)}",
                round(lat + rnd.uniform(-spread, spread), 4), round(lon + rnd.uniform(-spread, spread), 4),
                1 + rnd.randrange(3), "Synthetic source", "National",
                f"Synthetic event {i}: armed men attacked a village; {fat} reported killed.", fat, "",
                1700000000 + i,
            ])


if __name__ == "__main__":
    main()
