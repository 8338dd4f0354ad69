"""The base of the target kinds: :class:`TargetKind`, what the observed data decided
(:class:`Settlement`) and which future periods simulated paths cover (:class:`Future`).

The kinds themselves live in :mod:`helpers.model.target_levels` (a level or milestone),
:mod:`helpers.model.target_totals` (a total of flows) and :mod:`helpers.model.target_rate` (a rate
over the due year); :func:`helpers.model.kinds.kind_of` picks one for an indicator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator, Target


@dataclass(frozen=True)
class Settlement:
    """What the observed data decided: ``outcome`` is ``achieved`` or ``missed``, ``period`` the
    period whose data decided it, ``early`` whether that was before the due period."""

    outcome: str
    period: str
    early: bool = False
    note: str = ""


@dataclass(frozen=True)
class Future:
    """The future periods simulated paths cover: ``steps`` periods after ``last`` (the last
    observed period, a year being its Q4)."""

    last: Quarter
    annual: bool
    steps: int

    def column(self, period: Quarter) -> int:
        """The column of ``period`` in a ``(n_paths, steps)`` array of paths (-1: not in the future)."""
        k = (period.year - self.last.year) if self.annual else (period - self.last)
        return k - 1 if 1 <= k <= self.steps else -1

    def columns_of_year(self, year: int) -> list[int]:
        """The columns of the periods of calendar ``year`` still to come."""
        qs = [Quarter(year, 4)] if self.annual else [Quarter(year, q) for q in range(1, 5)]
        return [c for c in (self.column(p) for p in qs) if c >= 0]


def end_time(s: pd.DataFrame) -> np.ndarray:
    """Each period's end as a decimal year: 2024Q3 -> 2024.75, the year 2024 (its Q4) -> 2025.0."""
    return (s["year"] + s["quarter"] / 4).to_numpy(float)


def periods_per_year(ind: Indicator) -> int:
    return 1 if ind.frequency == "annual" else 4


class TargetKind:
    """Base class: a target of one indicator. Subclasses override what differs."""

    name = ""
    label_en = ""

    def __init__(self, ind: Indicator):
        self.ind = ind
        # kind_of builds a kind only for an indicator with a target
        self.t = cast(Target, ind.target)
        self.per_year = periods_per_year(ind)
        # periods of the target period whose returns are missing (qindex -> helpers.data.series.Gap)
        # and periods with no cases (a rate's 0/0): set by the assessment, empty for complete data
        self.gaps: dict = {}
        self.no_cases: set = set()

    # ------------------------------------------------------------------ missing returns
    def gaps_between(self, first: int, last: int) -> list:
        """The gaps of periods ``first`` to ``last`` (qindex, inclusive)."""
        return [g for q, g in sorted(self.gaps.items()) if first <= q <= last]

    def gap_lower(self, first: int, last: int) -> float:
        """The sum of the known lower bounds of the gaps in ``first..last`` (NaN if one has none)."""
        return float(sum(g.lower for g in self.gaps_between(first, last)))

    def gap_extra(self, first: int, last: int, s: pd.DataFrame, n: int) -> np.ndarray:
        """Per path, an imputation of what the gaps in ``first..last`` hold above their lower bound.

        A city gap: the reporting districts' partial sum over their share of the total, each path
        taking the share of one complete period in turn (so the spread of the shares carries into
        the probability). A geography's own gap: its recent values taken in turn. Deterministic.
        """
        extra = np.zeros(n)
        recent = s["value"].tail(8).to_numpy(float)
        for g in self.gaps_between(first, last):
            lower = g.lower if np.isfinite(g.lower) else 0.0
            if g.shares:
                extra += lower / np.resize(np.asarray(g.shares, float), n) - lower
            elif len(recent):
                extra += np.maximum(np.resize(recent, n) - lower, 0.0)
        return extra

    def can_only_grow(self) -> bool:
        """An at-least target on flows that cannot be negative: a partial total is a lower bound."""
        lo = self.ind.bounds[0]
        return self.t.direction == "at_least" and lo is not None and lo >= 0

    # ------------------------------------------------------------------ observed data
    def in_period(self, s: pd.DataFrame) -> pd.DataFrame:
        """Rows inside the target period (start to due)."""
        return s[(s["qindex"] >= self.t.start.index) & (s["qindex"] <= self.t.due.index)]

    def at_due(self, s: pd.DataFrame) -> pd.DataFrame:
        return s[s["qindex"] == self.t.due.index]

    def year_rows(self, s: pd.DataFrame, year: int) -> pd.DataFrame:
        return s[s["year"] == year]

    def year_complete(self, s: pd.DataFrame, year: int) -> bool:
        """Every period of ``year`` observed (a period with no cases counts as observed)."""
        cases_none = sum(1 for q in self.no_cases if q // 4 == year)
        # counted, not selected: ~800 calls in the demo's 322 assessments
        return int((s["year"] == year).sum()) + cases_none >= self.per_year

    def not_applicable(self, s: pd.DataFrame) -> bool:
        """No cases in the due period (a rate's 0/0): nothing to judge this geography on."""
        return self.t.due.index in self.no_cases and not len(self.at_due(s))

    def progress(self, s: pd.DataFrame) -> float:
        """The target quantity observed so far (the latest value unless a kind says otherwise)."""
        return float(s["value"].iloc[-1]) if len(s) else np.nan

    def settle(self, s: pd.DataFrame) -> Settlement | None:
        raise NotImplementedError

    def reached(self, s: pd.DataFrame) -> bool:
        """A level already at the target before its due period is observed (open, not settled)."""
        return False

    def outcome(self, s: pd.DataFrame, paths: np.ndarray, fut: Future) -> tuple[np.ndarray, np.ndarray]:
        """(quantity per path, whether each path meets the target)."""
        raise NotImplementedError

    def exact_probability(self, s: pd.DataFrame, fut: Future) -> float | None:
        """A probability computed in closed form where simulated paths cannot answer (None: use the paths)."""
        return None

    def realised(self, s: pd.DataFrame) -> float:
        """The target quantity at the due date from the full series (NaN while unknown)."""
        raise NotImplementedError

    def official_series(self, s: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(end times, values) of the quantity the official-style layer compares with the target."""
        return end_time(s), s["value"].to_numpy(float)

    def _settled(self, outcome: str, period: Quarter, note: str = "") -> Settlement:
        label = str(period.year) if self.per_year == 1 else str(period)
        return Settlement(outcome, label, period < self.t.due and outcome == "achieved", note)
