"""Make the derived data files of geo/data from the copied reference files (run once, by hand).

    .venv/bin/python geo/data/derive.py

Writes, next to this script:
- kommuner_2019_ba_regioner.csv: each 2019 municipality -> the 2020 municipality it overlaps most (area in
  EPSG:25833 after shapely.make_valid) -> that municipality's BA-region 2020. Manual overrides below.
- offices.yaml: the shipped office registry (NAV units, service points at administrative centres, mobile teams).
- arbeidsfordeling.csv: the ownership rule table, generated from the registry plus designated units.
The product reads only the written files at run time; this script is kept to show how they were made.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import shapely
import yaml
from pyproj import Transformer

HERE = Path(__file__).parent
# Tjeldsund 2019 (1852) went to Troms in 2020 (5412, BA-region 133 Harstad); no 2020 polygon of it is shipped.
CROSSWALK_OVERRIDES = {"1852": ("5412", "133")}
# Known partnerships (SOURCES.md and background documents): unit -> municipalities (2020 codes) it serves.
PARTNERSHIPS = {
    "1841": ["1841", "1840", "1845", "1839", "1875"],  # Nav Indre Salten (host Fauske), since Nov 2020
    "1837": ["1837", "1838", "1836"],  # Nav Sør-Salten: Meløy, Gildeskål, Rødøy
    "1805": ["1806"],  # Nav Narvik serves the merged Narvik municipality
    "5701": ["5001"],  # Trondheim: one of its units (Nav Falkenborg) stands for the city
}
NATIONAL_UNITS = [
    {"id": "2103", "name": "Nav Vikafossen", "kind": "national",
     "role": "designated national unit for strictly confidential addresses (strengt fortrolig)"},
]
# Designated units for NAV employees' own cases (skjermet): illustrative, replace with the NORG2 designation.
# county -> (designated unit, the municipality it serves itself, the unit used for employees living there)
SKJERMET_UNITS = {"18": ("1833", "1833", "1804"), "50": ("1719", "5037", "5701")}
HOURS = {day: ["09:00", "15:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def read_csv(name: str) -> list[dict[str, str]]:
    with open(HERE / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def polygons(name: str) -> dict[str, shapely.Geometry]:
    to_utm = Transformer.from_crs(4326, 25833, always_xy=True)
    features = json.loads((HERE / name).read_text())["features"]
    out = {}
    for f in features:
        geom = shapely.make_valid(shapely.geometry.shape(f["geometry"]))
        out[str(f["properties"]["kommunenummer"])] = shapely.transform(geom, lambda xy: _utm(to_utm, xy))
    return out


def _utm(transformer, xy):
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def crosswalk() -> list[dict[str, str]]:
    old, new = polygons("kommuner_2019_nordland_trondelag_wgs84.geojson"), polygons(
        "kommuner_2020_nordland_trondelag.geojson")
    region = {r["kommunenummer_2020"]: r["ba_nr"] for r in read_csv("ba_regioner_2020_nordland_trondelag.csv")}
    rows = []
    for code, geom in sorted(old.items()):
        shares = {c: shapely.area(shapely.intersection(geom, g)) / geom.area for c, g in new.items()}
        best = max(sorted(shares), key=lambda c: shares[c])
        if code in CROSSWALK_OVERRIDES:
            best, ba = CROSSWALK_OVERRIDES[code]
            share, how = 0.0, "manual: moved to Troms in 2020"
        else:
            share, ba, how = shares[best], region[best], "largest area overlap"
        rows.append({"kommunenummer_2019": code, "kommunenummer_2020": best, "overlap_share": f"{share:.3f}",
                     "ba_nr": ba, "method": how})
    return rows


def unit_for(code: str, name: str, units: dict[str, str]) -> str | None:
    for unit, served in PARTNERSHIPS.items():
        if code in served:
            return unit
    if code in units:
        return code
    hits = sorted((n.startswith("Nav "), u) for u, n in units.items()
                  if name.lower() in n.lower().replace(",", " ").split() or n.lower().endswith(name.lower()))
    return hits[-1][1] if hits else None


def registry() -> dict:
    units = {r["enhetsnummer"]: r["navn_kilde"] for r in read_csv("nav_enheter_nordland_trondelag.csv")
             if r["navn_starter_med_avviklet"] == "no"}
    centres = read_csv("kommune_adminsenter_punkter_2020_nordland_trondelag.csv")
    regions = {r["kommunenummer_2020"]: r for r in read_csv("ba_regioner_2020_nordland_trondelag.csv")}
    out_units: dict[str, dict] = {}
    points, teams = [], {}
    for c in centres:
        code, name = c["kommunenummer"], c["kommunenavn"]
        unit = unit_for(code, name, units) or f"K{code}"
        entry = out_units.setdefault(unit, {
            "id": unit, "name": units.get(unit, f"Nav {name}"), "kind": "local", "serves": [],
            "source": "nav_enheter_nordland_trondelag.csv" if unit in units else
            "no unit in the source list: named after the municipality; replace with real data"})
        entry["serves"].append(code)
        centre = "Senterkommune" in regions[code]["inkluderingsgrunnlag"]
        points.append({
            "id": f"sp-{code}", "unit": unit, "name": f"{entry['name']}, {c['stedsnavn']}", "municipality": code,
            "lon": float(c["lon"]), "lat": float(c["lat"]), "location_source": "administrative_centre",
            "opening_hours": HOURS, "staff": 4 if centre else 2, "daily_capacity": 24 if centre else 10})
        ba = regions[code]["ba_nr"]
        if centre or ba not in teams:
            teams[ba] = {"id": f"team-{ba}", "name": f"Mobile team {regions[code]['ba_navn']}", "base_point": f"sp-{code}",
                         "lon": float(c["lon"]), "lat": float(c["lat"]), "covers_regions": [ba]}
    for u in out_units.values():
        u["serves"] = sorted(u["serves"])
    return {"version": "2020-1", "location_note": LOCATION_NOTE, "units": sorted(out_units.values(), key=lambda u: u["id"])
            + NATIONAL_UNITS, "service_points": points, "mobile_teams": sorted(teams.values(), key=lambda t: t["id"])}


LOCATION_NOTE = ("Real office addresses are not known: every service point is placed at its municipality's "
                 "administrative centre (GeoNames). Opening hours, staff and capacity are assumed defaults. "
                 "Replace this file with real data; the format is the interface.")


def rules(reg: dict) -> list[dict[str, str]]:
    rows = [_rule(1, "ANY", "ANY", "strictly_confidential", "ANY", "2103", "kode 6 -> national unit")]
    n = 2
    for county, (unit, home, fallback) in sorted(SKJERMET_UNITS.items()):
        rows.append(_rule(n, f"county:{county}", "ANY", "ANY", "true", unit, "NAV employees (illustrative)"))
        rows.append(_rule(n + 1, f"municipality:{home}", "ANY", "ANY", "true", fallback,
                          "the designated unit is the employee's own office: use another"))
        n += 2
    rows.append(_rule(n, "municipality:5412", "ANY", "ANY", "ANY", "1852",
                      "Tjeldsund was in Nordland until 2019: Nav Evenes og Tjeldsund", valid_to="2019-12-31"))
    n += 1
    before_indre_salten = {"1840": "1840", "1845": "1845", "1839": "1839", "1875": "1849", "1841": "1841"}
    for unit in reg["units"]:
        for code in unit.get("serves", []):
            if unit["id"] == "1841" and code in before_indre_salten:
                rows.append(_rule(n, f"municipality:{code}", "ANY", "ANY", "ANY", before_indre_salten[code],
                                  "before Nav Indre Salten", valid_to="2020-10-31"))
                n += 1
                rows.append(_rule(n, f"municipality:{code}", "ANY", "ANY", "ANY", "1841", "Nav Indre Salten",
                                  valid_from="2020-11-01"))
            else:
                rows.append(_rule(n, f"municipality:{code}", "ANY", "ANY", "ANY", unit["id"], "serving unit"))
            n += 1
    return rows


def _rule(n, area, theme, grading, skjermet, unit, note, valid_from="2019-01-01", valid_to=""):
    return {"rule_id": f"R{n:04d}", "valid_from": valid_from, "valid_to": valid_to, "area": area, "theme": theme,
            "grading": grading, "skjermet": skjermet, "unit": unit, "note": note}


def write_csv(name: str, rows: list[dict[str, str]]) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    write_csv("kommuner_2019_ba_regioner.csv", crosswalk())
    reg = registry()
    (HERE / "offices.yaml").write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False, width=120))
    write_csv("arbeidsfordeling.csv", rules(reg))


if __name__ == "__main__":
    main()
