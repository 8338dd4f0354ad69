"""Target kinds judged on the series' value: a level at the due date (also per capita, or kept
every year) and a milestone reached once (also a share of units covered)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.model.target_kind import TargetKind
from helpers.plan.periods import Quarter


class Level(TargetKind):
    """The value at the due period meets the target (at least or at most)."""

    name = "level"
    label_en = "level at the due date"

    def settle(self, s):
        at = self.at_due(s)
        if len(at):
            ok = bool(self.t.met(float(at["value"].iloc[-1])))
            return self._settled("achieved" if ok else "missed", self.t.due)
        gap = self.gaps.get(self.t.due.index)
        if gap is not None and self.can_only_grow() and np.isfinite(gap.lower) and self.t.met(gap.lower):
            # the districts that reported already add up to the target: the missing ones can only add
            return self._settled("achieved", self.t.due, f"lower bound {gap.lower:g} from the returns received")
        return None

    def reached(self, s):
        return bool(len(s)) and bool(self.t.met(float(s["value"].iloc[-1])))

    def outcome(self, s, paths, fut):
        col = fut.column(self.t.due)
        q = paths[:, col]
        return q, self.t.met(q)

    def realised(self, s):
        at = self.at_due(s)
        return float(at["value"].iloc[-1]) if len(at) else np.nan


class PerCapitaLevel(Level):
    """A per-capita level (per 10,000 residents): the series is already per capita, judged as a level."""

    name = "per_capita"
    label_en = "per-capita level at the due date"


class MaintainedLevel(Level):
    """达到并保持: the value meets the target in every year of the target period (a year's value is
    its annual value, or its Q4 for a quarterly series); missed as soon as one year misses."""

    name = "maintained_level"
    label_en = "level reached and kept every year"

    def _year_value(self, s, year):
        rows = s[(s["year"] == year) & (s["quarter"] == 4)]
        return float(rows["value"].iloc[-1]) if len(rows) else None

    def settle(self, s):
        years = range(self.t.start.year, self.t.due.year + 1)
        for y in years:
            v = self._year_value(s, y)
            if v is not None and not self.t.met(v):
                return self._settled("missed", Quarter(y, 4), f"target not met in {y}")
        if all(self._year_value(s, y) is not None for y in years):
            return self._settled("achieved", self.t.due)
        return None

    def outcome(self, s, paths, fut):
        ok = np.ones(paths.shape[0], dtype=bool)
        for y in range(self.t.start.year, self.t.due.year + 1):
            col = fut.column(Quarter(y, 4))
            if col >= 0:
                ok &= self.t.met(paths[:, col])
        return paths[:, fut.column(self.t.due)], ok


class Milestone(TargetKind):
    """The value reaches the target at any time in the target period (once reached, it stays)."""

    name = "milestone"
    label_en = "milestone reached once"

    def _first_hit(self, s):
        p = self.in_period(s)
        hit = p[np.asarray(self.t.met(p["value"].to_numpy(float)), dtype=bool)]
        return Quarter.from_index(int(hit["qindex"].iloc[0])) if len(hit) else None

    def settle(self, s):
        first = self._first_hit(s)
        if first is not None:
            return self._settled("achieved", first)
        if len(self.at_due(s)) and not self.gaps_between(self.t.start.index, self.t.due.index):
            return self._settled("missed", self.t.due)
        return None

    def outcome(self, s, paths, fut):
        upto = paths[:, : fut.column(self.t.due) + 1]
        hit = self.t.met(upto).any(axis=1)
        return np.where(hit, self.t.value, upto[:, -1]), hit

    def realised(self, s):
        if self._first_hit(s) is not None:
            return float(self.t.value)  # a path that reaches the target counts as the target value
        at = self.at_due(s)
        return float(at["value"].iloc[-1]) if len(at) else np.nan


class CoverageShare(Milestone):
    """A share of units covered (e.g. every district has a police liaison officer): a ratio of
    sums reaching its target (usually 100%) once in the period."""

    name = "coverage_share"
    label_en = "share of units covered"

    def units(self, s: pd.DataFrame) -> tuple[np.ndarray, float] | None:
        """The covered units as a count series and the number of units (the latest denominator), so
        that 12 of 13 districts -> 13 of 13 is simulated as a count of districts, not a rate that
        continuous paths can never bring to 100%. None without numerators and denominators."""
        if not (s["numerator"].notna().all() and s["denominator"].notna().all()) or not len(s):
            return None
        n = float(s["denominator"].iloc[-1])
        return (s["numerator"].to_numpy(float), n) if n > 0 else None
