"""Target kinds: one small class per kind of target the plan sets, used by assess and backtest alike.

Each kind answers three questions about a target, from the indicator's observed series ``s`` (the
frame of :func:`helpers.data.series.indicator_series`, values present, periods ended by the as-of
quarter):

* :meth:`TargetKind.settle`: do the observed data already decide it? An achieved or missed
  :class:`Settlement` with the period that decided it, or ``None`` while it is open;
* :meth:`TargetKind.outcome`: from simulated future paths of the series (columns = the series'
  own future periods), the target quantity on each path and whether the path meets the target;
* :meth:`TargetKind.realised`: the target quantity the full series shows at the due date (what a
  backtest scores an interval against).

:func:`kind_of` picks the class from the registry entry. Time is counted in the series' own
periods: an annual value is the value at the end of its year (2024 -> 2025 is one step), a
quarterly value the value at the end of its quarter. Formulas: ``docs/methodology.md``.

The base class and its helpers are in :mod:`helpers.model.target_kind`, the kinds in
:mod:`helpers.model.target_levels`, :mod:`helpers.model.target_totals` and
:mod:`helpers.model.target_rate`; this module picks one (:func:`kind_of`) and re-exports them all.
"""

from __future__ import annotations

from helpers.model.target_kind import Future, Settlement, TargetKind, end_time, periods_per_year
from helpers.model.target_levels import CoverageShare, Level, MaintainedLevel, Milestone, PerCapitaLevel
from helpers.model.target_rate import YearRate
from helpers.model.target_totals import Cumulative, EachGovernment, FlowEveryYear, FlowInYear
from helpers.plan.registry import Indicator

__all__ = [
    "CoverageShare", "Cumulative", "EachGovernment", "FlowEveryYear", "FlowInYear", "Future", "Level",
    "MaintainedLevel", "Milestone", "PerCapitaLevel", "Settlement", "TargetKind", "YearRate", "end_time",
    "kind_of", "periods_per_year",
]


def kind_of(ind: Indicator) -> TargetKind | None:
    """The kind of ``ind``'s target (``None`` for a trend without a target)."""
    t = ind.target
    if t is None:
        return None
    if t.kind == "level":
        if t.every_year:
            return MaintainedLevel(ind)
        return PerCapitaLevel(ind) if ind.measure == "per_capita" else Level(ind)
    if t.kind == "milestone":
        return CoverageShare(ind) if ind.measure == "ratio" else Milestone(ind)
    if t.kind == "cumulative":
        return Cumulative(ind)
    if t.kind == "rate":
        return YearRate(ind)
    if t.kind == "flow_per_year":
        if not t.every_year:
            return FlowInYear(ind)
        return EachGovernment(ind) if ind.aggregation == "each" else FlowEveryYear(ind)
    raise ValueError(f"unknown target kind {t.kind!r}")
