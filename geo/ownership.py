"""Who owns a case: a versioned rule table in the style of NAV's NORG2 arbeidsfordeling.

Each rule (geo/data/arbeidsfordeling.csv) maps area x service theme x protection grading x skjermet (the
person is a NAV employee) to the responsible unit, with validity dates. Any field may be the wildcard ANY.
Area is `municipality:CODE` (registry reference code), `region:BA_NR`, `county:NN` (first two digits of the
municipality code) or ANY.

Which match wins (one rule, deterministic): among the rules valid on the day that match, take the one with
  1. a specific protection grading over ANY (rules for protected addresses take the case away from local units),
  2. then a specific skjermet flag over ANY (NAV employees' cases go to designated units),
  3. then the most specific area: municipality > region > county > ANY,
  4. then a specific theme over ANY,
  5. then the latest valid_from,
  6. then the lowest rule_id.
Who owns a case is kept apart from where the person meets NAV (geo.routing decides that).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from geo.datafiles import manifest, parse_date, read_csv
from geo.errors import GeoDataError, GeoInputError

__all__ = ["Protection", "Rule", "RuleTable", "Ownership", "load_rules"]

ANY = "ANY"
AREA_RANK = {"municipality": 3, "region": 2, "county": 1}
COLUMNS = ("rule_id", "valid_from", "valid_to", "area", "theme", "grading", "skjermet", "unit")


class Protection(StrEnum):
    """Address protection grading (adressebeskyttelse)."""

    NONE = "none"
    CONFIDENTIAL = "confidential"  # fortrolig (kode 7)
    STRICTLY_CONFIDENTIAL = "strictly_confidential"  # strengt fortrolig (kode 6)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    valid_from: date
    valid_to: date | None
    area: str
    theme: str
    grading: str
    skjermet: str  # "true" | "false" | ANY
    unit: str

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def matches(self, areas: frozenset[str], theme: str, grading: str, skjermet: bool) -> bool:
        return ((self.area == ANY or self.area in areas) and self.theme in (ANY, theme)
                and self.grading in (ANY, grading) and self.skjermet in (ANY, "true" if skjermet else "false"))

    def precedence(self) -> tuple:
        """Sort key: the smallest wins (see the module docstring)."""
        area_rank = AREA_RANK.get(self.area.split(":", 1)[0], 0) if self.area != ANY else 0
        return (self.grading == ANY, self.skjermet == ANY, -area_rank, self.theme == ANY,
                -self.valid_from.toordinal(), self.rule_id)


@dataclass(frozen=True)
class Ownership:
    unit: str
    rule_id: str
    table_version: str


@dataclass(frozen=True, eq=False)
class RuleTable:
    version: str
    rules: tuple[Rule, ...]

    def owner(self, municipality: str, region: str | None, theme: str, grading: Protection | str,
              skjermet: bool, day: date) -> Ownership:
        """The responsible unit for a case; raises GeoDataError when no rule matches (a gap in the table)."""
        return _owner(self, municipality, region, theme, Protection(grading).value, bool(skjermet), day)

    def _owner(self, municipality: str, region: str | None, theme: str, grading: str, skjermet: bool,
               day: date) -> Ownership:
        areas = frozenset({f"municipality:{municipality}", f"region:{region}", f"county:{municipality[:2]}"})
        matches = [r for r in self.rules if r.valid_on(day) and r.matches(areas, theme, grading, skjermet)]
        if not matches:
            raise GeoDataError(f"no arbeidsfordeling rule matches municipality {municipality}, theme {theme}, "
                               f"grading {grading}, skjermet {skjermet} on {day} (table {self.version}); add a "
                               "rule (or an ANY fallback) to geo/data/arbeidsfordeling.csv")
        best = min(matches, key=Rule.precedence)
        return Ownership(best.unit, best.rule_id, self.version)


@functools.lru_cache(maxsize=65536)
def _owner(table: RuleTable, *key) -> Ownership:
    return table._owner(*key)


def _rule(row: dict[str, str]) -> Rule:
    skjermet = row["skjermet"].strip().lower() if row["skjermet"] != ANY else ANY
    if skjermet not in ("true", "false", ANY):
        raise GeoDataError(f"rule {row['rule_id']}: skjermet {row['skjermet']!r} must be true, false or ANY")
    grading = row["grading"]
    if grading != ANY and grading not in {p.value for p in Protection}:
        raise GeoDataError(f"rule {row['rule_id']}: grading {grading!r} must be ANY or one of "
                           f"{[p.value for p in Protection]}")
    return Rule(row["rule_id"], parse_date(row["valid_from"], row["rule_id"]) or date.min,
                parse_date(row["valid_to"], row["rule_id"]), row["area"], row["theme"], grading, skjermet, row["unit"])


def table_from(rows: list[dict[str, str]], version: str) -> RuleTable:
    rules = tuple(_rule(r) for r in rows)
    ids = [r.rule_id for r in rules]
    if len(set(ids)) != len(ids):
        raise GeoDataError(f"arbeidsfordeling table {version} repeats rule ids; make each rule_id unique")
    return RuleTable(version, rules)


@functools.cache
def load_rules() -> RuleTable:
    spec = manifest()["ownership"]
    return table_from(read_csv(spec["file"], COLUMNS), spec["version"])


def protection(value: Protection | str) -> Protection:
    try:
        return Protection(value)
    except ValueError:
        raise GeoInputError(f"protection {value!r} is not one of {[p.value for p in Protection]}") from None
