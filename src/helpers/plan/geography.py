"""Hangzhou and its 13 districts/counties, read from ``params/geographies.yaml``.

Parameters name geographies by their official code (GB/T 2260); anything else is refused with a
message listing the valid codes, before it can reach a path or a notebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


from helpers.exceptions import ConfigError, UnknownGeographyError
from helpers.i18n import et
from helpers.settings import read_yaml_file


@dataclass(frozen=True)
class Geography:
    """One geography: the city or a district/county."""

    code: str
    name_zh: str
    name_en: str
    kind: str  # city | district | county | county_city
    population: tuple  # ((year, persons), ...) sorted by year

    @property
    def is_city(self) -> bool:
        return self.kind == "city"

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def population_in(self, year: int) -> float:
        """Resident population (persons) for ``year``: the latest figure not after it, else the earliest."""
        best = self.population[0][1]
        for y, value in self.population:
            if y <= year:
                best = value
        return float(best)


@dataclass(frozen=True)
class Geographies:
    """The city and its districts, in the registry's order (city first)."""

    city: Geography
    districts: tuple[Geography, ...]
    path: Path
    sha256: str

    @property
    def all(self) -> tuple[Geography, ...]:
        return (self.city, *self.districts)

    @property
    def codes(self) -> list[str]:
        return [g.code for g in self.all]

    def get(self, code) -> Geography:
        """The geography with this code; :class:`UnknownGeographyError` listing valid codes otherwise."""
        code = str(code).strip()
        for g in self.all:
            if g.code == code:
                return g
        valid = ", ".join(f"{g.code} {g.name_zh}" for g in self.all)
        raise UnknownGeographyError(et("unknown_geography", code=repr(code), valid=valid))


def _geo(raw: dict, kind: str, where: str) -> Geography:
    try:
        pop = tuple(sorted((int(y), float(v["value"])) for y, v in raw["population"].items()))
        return Geography(str(raw["code"]), raw["name_zh"], raw["name_en"], raw.get("kind", kind), pop)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(et("geography_entry", where=where, reason=exc)) from None


def load_geographies(path: str | Path) -> Geographies:
    """Read ``params/geographies.yaml`` (safe YAML loading only)."""
    return _load_cached(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load_cached(path: str) -> Geographies:
    p = Path(path)
    doc, sha = read_yaml_file(p, ConfigError, "geographies file")
    try:
        city = _geo(doc["city"], "city", f"{p}: city")
        districts = tuple(_geo(d, "district", f"{p}: districts[{n}]") for n, d in enumerate(doc["districts"]))
    except (KeyError, TypeError) as exc:
        raise ConfigError(et("geographies_invalid", path=p, reason=exc)) from None
    codes = [city.code, *(d.code for d in districts)]
    if len(set(codes)) != len(codes):
        raise ConfigError(et("geography_codes_not_unique", path=p))
    return Geographies(city, districts, p, sha)
