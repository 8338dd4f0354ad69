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

import yaml

from helpers.exceptions import RegistryError
from helpers.i18n import ERROR_LANGUAGE, et
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


class _EntryError(RegistryError):
    """A registry error about one entry, before it names its file and line.

    ``at``: the keys (and list positions) from the entry down to the field at fault; each level that
    knows where its entry sits puts its own keys in front (:func:`_within`), and :func:`load_plan`
    turns the whole path into a line of the file (:func:`_line`).
    """

    def __init__(self, message: str, at: tuple = ()):
        super().__init__(message)
        self.at = at


def _within(prefix: tuple, parse, *args, **kw):
    """``parse(*args, **kw)``, an error of it placed under ``prefix`` (the keys of the entry it parses)."""
    try:
        return parse(*args, **kw)
    except _EntryError as exc:
        exc.at = (*prefix, *exc.at)
        raise


def _line(path: Path, at: tuple) -> int:
    """The line of ``path`` that writes ``at`` (keys and list positions from the top), or the deepest part of
    it the file has (a required field that is missing: its entry's line).

    The file is read again only for an error: a good registry is parsed once, by the fast loader, without
    the positions of its nodes.
    """
    node = yaml.compose(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    line = 0
    for key in at:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _req(entry: dict, key: str, where: str):
    if key not in entry or entry[key] in (None, ""):
        raise _EntryError(et("reg_field_required", where=where, key=repr(key)), (key,))
    return entry[key]


def _choice(entry: dict, key: str, options, where: str, default=None):
    value = entry.get(key, default)
    if value not in options:
        raise _EntryError(et("reg_choice", where=where, key=key, value=repr(value),
                             options=", ".join(map(str, options))), (key,))
    return value


def _quarter(text, where: str, at: tuple = ()) -> Quarter:
    try:
        return Quarter.parse(str(text))
    except InvalidPeriodError as exc:
        raise _EntryError(et("reg_period", where=where, reason=exc), at) from None


def default_binds(applies_to: str, aggregation: str, clause_text: str) -> str:
    """Whom a target binds when the registry does not say: a city-only indicator or a clause
    that names 全市 binds the city; a count summed over districts is set for their sum; any other
    standard (a rate, a per-capita value, ``each``) binds each district."""
    if applies_to == "city" or "全市" in clause_text:
        return "sum_of_districts" if aggregation == "sum" else "city"
    if aggregation == "sum":
        return "sum_of_districts"
    return "each_district"


def _parse_target(raw: dict, plan_start: Quarter, plan_end: Quarter, entry: str, binds: str) -> Target:
    where = et("reg_where_sub", where=entry, field="target")
    unknown = set(raw) - _TARGET_FIELDS
    if unknown:
        raise _EntryError(et("reg_unknown_fields", where=where, fields=", ".join(sorted(unknown))), ("target",))
    period = raw.get("period") or {}
    start = _quarter(period.get("start", str(plan_start)), et("reg_where_sub", where=entry, field="target.period.start"),
                     ("target", "period", "start"))
    due = _quarter(raw.get("due", period.get("end", str(plan_end))), et("reg_where_sub", where=entry, field="target.due"),
                   ("target", "due"))
    if due < start:
        raise _EntryError(et("reg_due_before_start", where=where, due=due, start=start), ("target", "due"))
    value = _within(("target",), _req, raw, "value", where)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise _EntryError(et("reg_value_number", where=where, value=repr(value)), ("target", "value"))
    if value < 0:  # every indicator of a plan counts, sums or rates something: none is below zero
        raise _EntryError(et("reg_value_negative", where=where, value=value), ("target", "value"))
    return Target(
        kind=_within(("target",), _choice, raw, "kind", TARGET_KINDS, where),
        direction=_within(("target",), _choice, raw, "direction", DIRECTIONS, where),
        value=float(value),
        start=start,
        due=due,
        every_year=bool(raw.get("every_year", False)),
        binds=_within(("target",), _choice, raw, "binds", BINDS, where, default=binds),
        baseline=plan_start,
    )


def _bounds(raw: dict, where: str):
    """An indicator's ``bounds``: ``[lower, upper]``, numbers or null, the lower below the upper."""
    bounds = raw.get("bounds") or [0, None]
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        raise _EntryError(et("reg_bounds_shape", where=where), ("bounds",))
    lo, hi = bounds
    if any(b is not None and (isinstance(b, bool) or not isinstance(b, (int, float))) for b in (lo, hi)):
        raise _EntryError(et("reg_bounds_numbers", where=where, bounds=list(bounds)), ("bounds",))
    if lo is not None and hi is not None and lo >= hi:
        raise _EntryError(et("reg_bounds_order", where=where, bounds=list(bounds)), ("bounds",))
    return bounds


def _parse_indicator(raw: dict, sections: set, plan_start, plan_end, n: int) -> Indicator:
    where = et("reg_where_indicator", n=n, id=raw.get("id", "?"))  # 指标 admin_cases（indicators[10]）
    unknown = set(raw) - _INDICATOR_FIELDS
    if unknown:
        raise _EntryError(et("reg_unknown_fields", where=where, fields=", ".join(sorted(unknown))))
    section = _req(raw, "section", where)
    if section not in sections:
        raise _EntryError(et("reg_section_undeclared", where=where, section=repr(section)), ("section",))
    measure = _choice(raw, "measure", MEASURES, where)
    applies_to = _choice(raw, "applies_to", APPLIES_TO, where)
    aggregation = _choice(raw, "aggregation", AGGREGATIONS, where)
    if applies_to == "city" and aggregation != "none":
        raise _EntryError(et("reg_city_aggregation", where=where), ("aggregation",))
    if applies_to == "all" and aggregation == "none":
        raise _EntryError(et("reg_all_needs_aggregation", where=where), ("aggregation",))
    if measure == "ratio" and aggregation not in ("ratio_of_sums", "each", "none"):
        raise _EntryError(et("reg_ratio_aggregation", where=where), ("aggregation",))
    if measure == "per_capita" and aggregation not in ("per_capita", "none", "each"):
        raise _EntryError(et("reg_per_capita_aggregation", where=where), ("aggregation",))
    bounds = _bounds(raw, where)
    lo, hi = bounds
    clause = _req(raw, "clause", where)
    interp = {lang: str(raw.get(f"interpretation_{lang}", "") or "").strip() for lang in ("zh", "en")}
    if bool(interp["zh"]) != bool(interp["en"]):
        # a reading the Chinese report would show in English only (or the other way round)
        missing = "interpretation_zh" if not interp["zh"] else "interpretation_en"
        raise _EntryError(et("reg_interpretation_pair", where=where, missing=missing))
    target = raw.get("target")
    binds = default_binds(applies_to, aggregation, str(clause.get("text", "")))
    target = _parse_target(target, plan_start, plan_end, where, binds) if target else None
    if target and applies_to == "city" and target.binds != "city":
        raise _EntryError(et("reg_city_binds", where=where, binds=repr(target.binds)), ("target", "binds"))
    if target and target.kind in ("level", "rate", "milestone") and (
            (lo is not None and target.value < lo) or (hi is not None and target.value > hi)):
        # a level outside what the indicator can take can never be met (or is met by anything)
        raise _EntryError(et("reg_value_outside_bounds", where=where, value=target.value, bounds=list(bounds)),
                          ("target", "value"))
    if target and target.binds == "sum_of_districts" and aggregation != "sum":
        raise _EntryError(et("reg_sum_binds", where=where), ("target", "binds"))
    if target and target.every_year and target.kind not in ("flow_per_year", "level"):
        raise _EntryError(et("reg_every_year", where=where), ("target", "every_year"))
    if target and target.kind == "rate" and measure != "ratio":
        raise _EntryError(et("reg_rate_measure", where=where), ("measure",))
    if target and target.kind in ("flow_per_year", "cumulative") and not raw.get("flow", False):
        raise _EntryError(et("reg_flow_needed", where=where, kind=target.kind), ("target", "kind"))
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
        clause_ref=str(_within(("clause",), _req, clause, "ref", et("reg_where_sub", where=where, field="clause"))),
        clause_text=_within(("clause",), _req, clause, "text", et("reg_where_sub", where=where, field="clause")),
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
        If the file is missing, not YAML, or breaks the schema; the message names the entry and field
        (and, in Chinese, the file and the line that writes it).
    """
    return _load_plan_cached(str(Path(path).resolve()))


@lru_cache(maxsize=8)
def _load_plan_cached(path: str) -> Plan:
    p = Path(path)
    doc, sha = read_yaml_file(p, RegistryError, "plan registry")
    if not isinstance(doc, dict) or "plan" not in doc or "indicators" not in doc:
        raise RegistryError(et("reg_top_level", path=p))
    try:
        return _build_plan(doc, p, sha)
    except _EntryError as exc:  # said with the file and line of the entry (or field) at fault
        raise RegistryError(et("registry_at", path=p, line=_line(p, exc.at), message=exc)) from None


def _build_plan(doc: dict, p: Path, sha: str) -> Plan:
    meta = doc["plan"]
    zone = meta.get("zone_period") or {}
    zone_start = _quarter(zone.get("start"), "plan.zone_period.start", ("plan", "zone_period", "start"))
    zone_end = _quarter(zone.get("end"), "plan.zone_period.end", ("plan", "zone_period", "end"))
    sections = []
    for n, s in enumerate(doc.get("sections") or []):
        where = f"sections[{n}]"
        sections.append(Section(
            id=_within(("sections", n), _req, s, "id", where),
            name_zh=_within(("sections", n), _req, s, "name_zh", where),
            name_en=_within(("sections", n), _req, s, "name_en", where),
            order=int(s.get("order", n)), description_zh=s.get("description_zh", ""),
            description_en=s.get("description_en", ""), notebook=str(s.get("notebook") or ""),
        ))
    seen: set[str] = set()
    for n, section in enumerate(sections):
        if section.id in seen:
            raise RegistryError(et("reg_section_ids", path=p, line=_line(p, ("sections", n)), id=repr(section.id)))
        seen.add(section.id)
    indicators = [
        _within(("indicators", n), _parse_indicator, raw, seen, zone_start, zone_end, n)
        for n, raw in enumerate(doc["indicators"] or [])
    ]
    by_id: dict[str, Indicator] = {}
    for n, ind in enumerate(indicators):
        if ind.id in by_id:
            raise RegistryError(et("reg_indicator_twice", path=p, line=_line(p, ("indicators", n)), id=repr(ind.id)))
        by_id[ind.id] = ind
    return Plan(
        id=_within(("plan",), _req, meta, "id", "plan"),
        title_zh=_within(("plan",), _req, meta, "title_zh", "plan"),
        title_en=_within(("plan",), _req, meta, "title_en", "plan"),
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
        Naming the file and every unconfirmed entry (exit 2).
    """
    pending = [f"indicators[{n}] ({ind.id})" for n, ind in enumerate(plan.indicators) if not ind.confirmed]
    if pending:
        raise RegistryError(et("reg_unconfirmed", path=plan.path, n=len(pending),
                               entries=("、" if ERROR_LANGUAGE["lang"] == "zh" else ", ").join(pending)))
    return plan
