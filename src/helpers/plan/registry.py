"""The plan registry: every numeric target of a plan, as data.

One YAML file per plan under ``params/plans/`` (a successor plan is a new file, not new code).
Everything in the product reads targets from here. The schema is documented in
``docs/registry.md``; :func:`load_plan` checks it and raises :class:`RegistryError` naming the
entry and field at fault. The objects it builds (:class:`Plan`, :class:`Indicator`, ...) are
defined in :mod:`helpers.plan.entries` and importable from here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from helpers.exceptions import RegistryError
from helpers.plan.entries import OVERVIEW, Indicator, Plan, Section, Target  # noqa: F401 - re-exported
from helpers.plan.periods import InvalidPeriodError, Quarter
from helpers.settings import read_yaml_file

MEASURES = ("count", "amount", "score", "ratio", "per_capita")
FREQUENCIES = ("quarterly", "annual")
APPLIES_TO = ("city", "all")
AGGREGATIONS = ("sum", "ratio_of_sums", "per_capita", "each", "none")
TARGET_KINDS = ("level", "rate", "flow_per_year", "cumulative", "milestone")
DIRECTIONS = ("at_least", "at_most")
BINDS = ("city", "each_district", "sum_of_districts")

_INDICATOR_FIELDS = {
    "id", "section", "name_zh", "name_en", "unit_zh", "unit_en", "measure", "flow", "frequency",
    "applies_to", "aggregation", "scale", "bounds", "numerator_zh", "numerator_en",
    "denominator_zh", "denominator_en", "target", "clause", "interpretation_zh", "interpretation_en", "notes",
    "zero_denominator", "confirmed",
}
ZERO_DENOMINATOR = ("invalid", "not_applicable")
_TARGET_FIELDS = {"kind", "direction", "value", "period", "due", "every_year", "binds"}


def _req(entry: dict, key: str, where: str):
    if key not in entry or entry[key] in (None, ""):
        raise RegistryError(f"{where}: field {key!r} is required")
    return entry[key]


def _choice(entry: dict, key: str, options, where: str, default=None):
    value = entry.get(key, default)
    if value not in options:
        raise RegistryError(f"{where}: {key}={value!r} is not one of {', '.join(map(str, options))}")
    return value


def _quarter(text, where: str) -> Quarter:
    try:
        return Quarter.parse(str(text))
    except InvalidPeriodError as exc:
        raise RegistryError(f"{where}: {exc}") from None


def default_binds(applies_to: str, aggregation: str, clause_text: str) -> str:
    """Whom a target binds when the registry does not say: a city-only indicator or a clause
    that names 全市 binds the city; a count summed over districts is set for their sum; any other
    standard (a rate, a per-capita value, ``each``) binds each district."""
    if applies_to == "city" or "全市" in clause_text:
        return "sum_of_districts" if aggregation == "sum" else "city"
    if aggregation == "sum":
        return "sum_of_districts"
    return "each_district"


def _parse_target(raw: dict, plan_start: Quarter, plan_end: Quarter, where: str, binds: str) -> Target:
    where = f"{where}.target"
    unknown = set(raw) - _TARGET_FIELDS
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    period = raw.get("period") or {}
    start = _quarter(period.get("start", str(plan_start)), where + ".period.start")
    due = _quarter(raw.get("due", period.get("end", str(plan_end))), where + ".due")
    if due < start:
        raise RegistryError(f"{where}: due {due} is before the period start {start}")
    value = _req(raw, "value", where)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise RegistryError(f"{where}: value must be a number, got {value!r}")
    if value < 0:  # every indicator of a plan counts, sums or rates something: none is below zero
        raise RegistryError(f"{where}: value {value} is negative; a target is a count, total, rate or level (>= 0)")
    return Target(
        kind=_choice(raw, "kind", TARGET_KINDS, where),
        direction=_choice(raw, "direction", DIRECTIONS, where),
        value=float(value),
        start=start,
        due=due,
        every_year=bool(raw.get("every_year", False)),
        binds=_choice(raw, "binds", BINDS, where, default=binds),
        baseline=plan_start,
    )


def _bounds(raw: dict, where: str):
    """An indicator's ``bounds``: ``[lower, upper]``, numbers or null, the lower below the upper."""
    bounds = raw.get("bounds") or [0, None]
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        raise RegistryError(f"{where}: bounds is [lower, upper] (null for none)")
    lo, hi = bounds
    if any(b is not None and (isinstance(b, bool) or not isinstance(b, (int, float))) for b in (lo, hi)):
        raise RegistryError(f"{where}: bounds {list(bounds)} must be numbers or null")
    if lo is not None and hi is not None and lo >= hi:
        raise RegistryError(f"{where}: bounds {list(bounds)}: the lower bound must be below the upper one")
    return bounds


def _parse_indicator(raw: dict, sections: set, plan_start, plan_end, n: int) -> Indicator:
    where = f"indicators[{n}] ({raw.get('id', '?')})"
    unknown = set(raw) - _INDICATOR_FIELDS
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    section = _req(raw, "section", where)
    if section not in sections:
        raise RegistryError(f"{where}: section {section!r} is not declared under 'sections'")
    measure = _choice(raw, "measure", MEASURES, where)
    applies_to = _choice(raw, "applies_to", APPLIES_TO, where)
    aggregation = _choice(raw, "aggregation", AGGREGATIONS, where)
    if applies_to == "city" and aggregation != "none":
        raise RegistryError(f"{where}: a city-only indicator has aggregation 'none'")
    if applies_to == "all" and aggregation == "none":
        raise RegistryError(f"{where}: an indicator of every district needs an aggregation")
    if measure == "ratio" and aggregation not in ("ratio_of_sums", "each", "none"):
        raise RegistryError(f"{where}: ratios combine across districts as ratio_of_sums, never sums or averages")
    if measure == "per_capita" and aggregation not in ("per_capita", "none", "each"):
        raise RegistryError(f"{where}: per-capita indicators aggregate as per_capita")
    bounds = _bounds(raw, where)
    lo, hi = bounds
    clause = _req(raw, "clause", where)
    interp = {lang: str(raw.get(f"interpretation_{lang}", "") or "").strip() for lang in ("zh", "en")}
    if bool(interp["zh"]) != bool(interp["en"]):
        # a reading the Chinese report would show in English only (or the other way round)
        missing = "interpretation_zh" if not interp["zh"] else "interpretation_en"
        raise RegistryError(f"{where}: {missing} is missing: an interpretation is given in both Chinese and English")
    target = raw.get("target")
    binds = default_binds(applies_to, aggregation, str(clause.get("text", "")))
    target = _parse_target(target, plan_start, plan_end, where, binds) if target else None
    if target and applies_to == "city" and target.binds != "city":
        raise RegistryError(f"{where}.target: binds={target.binds!r}, but only the city reports this indicator "
                            "(applies_to: city); use binds: city")
    if target and target.kind in ("level", "rate", "milestone") and (
            (lo is not None and target.value < lo) or (hi is not None and target.value > hi)):
        # a level outside what the indicator can take can never be met (or is met by anything)
        raise RegistryError(f"{where}.target: value {target.value:g} lies outside bounds {list(bounds)}")
    if target and target.binds == "sum_of_districts" and aggregation != "sum":
        raise RegistryError(f"{where}.target: binds: sum_of_districts needs aggregation: sum")
    if target and target.every_year and target.kind not in ("flow_per_year", "level"):
        raise RegistryError(f"{where}.target: every_year applies to flow_per_year and level targets only")
    if target and target.kind == "rate" and measure != "ratio":
        raise RegistryError(f"{where}: a 'rate' target needs measure 'ratio' (numerator/denominator)")
    if target and target.kind in ("flow_per_year", "cumulative") and not raw.get("flow", False):
        raise RegistryError(f"{where}: a {target.kind} target needs flow: true (values per period)")
    return Indicator(
        id=_req(raw, "id", where),
        section=section,
        name_zh=_req(raw, "name_zh", where),
        name_en=_req(raw, "name_en", where),
        unit_zh=_req(raw, "unit_zh", where),
        unit_en=_req(raw, "unit_en", where),
        measure=measure,
        flow=bool(raw.get("flow", False)),
        frequency=_choice(raw, "frequency", FREQUENCIES, where),
        applies_to=applies_to,
        aggregation=aggregation,
        scale=float(raw.get("scale", 1)),
        bounds=(bounds[0], bounds[1]),
        target=target,
        clause_ref=str(_req(clause, "ref", where + ".clause")),
        clause_text=_req(clause, "text", where + ".clause"),
        interpretation=interp["en"],
        interpretation_zh=interp["zh"],
        numerator_zh=raw.get("numerator_zh", ""),
        numerator_en=raw.get("numerator_en", ""),
        denominator_zh=raw.get("denominator_zh", ""),
        denominator_en=raw.get("denominator_en", ""),
        zero_denominator=_choice(raw, "zero_denominator", ZERO_DENOMINATOR, where, default="invalid"),
        confirmed=_choice(raw, "confirmed", (True, False), where, default=True),
    )


def load_plan(path: str | Path) -> Plan:
    """Read and check one plan registry file.

    Parameters
    ----------
    path : str or Path
        A YAML file such as ``params/plans/hangzhou_ipz_2023_2025.yaml``.

    Returns
    -------
    Plan

    Raises
    ------
    RegistryError
        If the file is missing, not YAML, or breaks the schema; the message names the entry and field.
    """
    return _load_plan_cached(str(Path(path).resolve()))


@lru_cache(maxsize=8)
def _load_plan_cached(path: str) -> Plan:
    p = Path(path)
    doc, sha = read_yaml_file(p, RegistryError, "plan registry")
    if not isinstance(doc, dict) or "plan" not in doc or "indicators" not in doc:
        raise RegistryError(f"{p}: expected top-level keys 'plan', 'sections' and 'indicators'")
    meta = doc["plan"]
    zone = meta.get("zone_period") or {}
    zone_start = _quarter(zone.get("start"), "plan.zone_period.start")
    zone_end = _quarter(zone.get("end"), "plan.zone_period.end")
    sections = []
    for n, s in enumerate(doc.get("sections") or []):
        where = f"sections[{n}]"
        sections.append(Section(
            id=_req(s, "id", where), name_zh=_req(s, "name_zh", where), name_en=_req(s, "name_en", where),
            order=int(s.get("order", n)), description_zh=s.get("description_zh", ""),
            description_en=s.get("description_en", ""), notebook=str(s.get("notebook") or ""),
        ))
    section_ids = {s.id for s in sections}
    if len(section_ids) != len(sections):
        raise RegistryError(f"{p}: section ids are not unique")
    indicators = [
        _parse_indicator(raw, section_ids, zone_start, zone_end, n)
        for n, raw in enumerate(doc["indicators"] or [])
    ]
    by_id: dict[str, Indicator] = {}
    for ind in indicators:
        if ind.id in by_id:
            raise RegistryError(f"{p}: indicator id {ind.id!r} is used twice")
        by_id[ind.id] = ind
    return Plan(
        id=_req(meta, "id", "plan"),
        title_zh=_req(meta, "title_zh", "plan"),
        title_en=_req(meta, "title_en", "plan"),
        meta=meta,
        sections=tuple(sorted(sections, key=lambda s: s.order)),
        indicators=tuple(indicators),
        path=p,
        sha256=sha,
        zone_start=zone_start,
        zone_end=zone_end,
        by_id=by_id,
    )


def require_confirmed(plan: Plan) -> Plan:
    """Refuse a registry with entries nobody has confirmed (``confirmed: false``, as
    ``ipeval plan draft`` writes them): a run must never assess a target a person has not checked.

    Raises
    ------
    RegistryError
        Naming the file and every unconfirmed entry, in Chinese (exit 2).
    """
    pending = [f"indicators[{n}] ({ind.id})" for n, ind in enumerate(plan.indicators) if not ind.confirmed]
    if pending:
        raise RegistryError(
            f"{plan.path}：{len(pending)} 个条目尚未确认（confirmed: false），不能用于评估运行："
            f"{'、'.join(pending)}。请逐条核对条款原文、数值、单位、方向、期限和约束对象，"
            "确认后改为 confirmed: true（或删除该行）")
    return plan
