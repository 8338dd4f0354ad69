"""Target kinds judged on a total of flows: over the target period (cumulative), in the due year,
or in every year of the target period (also each government on its own figure)."""

from __future__ import annotations

import numpy as np

from helpers.model.target_kind import TargetKind, end_time
from helpers.plan.periods import Quarter


class Cumulative(TargetKind):
    """The total of the flows over the target period meets the target by the due date; an
    at-least total once reached stays reached (achieved early)."""

    name = "cumulative"
    label_en = "total over the target period"

    def progress(self, s):
        """The total so far: observed periods plus the known lower bounds of missing returns."""
        lower = self.gap_lower(self.t.start.index, self.t.due.index) if self.can_only_grow() else 0.0
        return float(self.in_period(s)["value"].sum()) + (lower if np.isfinite(lower) else 0.0)

    def _running_lower(self, s) -> tuple[np.ndarray, np.ndarray]:
        """(qindex, running total) over observed periods and the gaps' lower bounds, in time order."""
        p = self.in_period(s)
        part = dict(zip(p["qindex"].astype(int), p["value"].astype(float)))
        if self.can_only_grow():
            for g in self.gaps_between(self.t.start.index, self.t.due.index):
                if np.isfinite(g.lower):
                    part[g.qindex] = g.lower
        qs = np.array(sorted(part), dtype=int)
        return qs, np.cumsum([part[q] for q in qs]).astype(float)

    def settle(self, s):
        qs, running = self._running_lower(s)
        if self.t.direction == "at_least" and len(qs) and bool(self.t.met(running).any()):
            # a known lower bound already meets the target (missing returns can only add to it)
            k = int(np.argmax(self.t.met(running)))
            return self._settled("achieved", Quarter.from_index(int(qs[k])))
        if len(self.at_due(s)) and not self.gaps_between(self.t.start.index, self.t.due.index):
            ok = bool(self.t.met(float(running[-1]))) if len(running) else False
            return self._settled("achieved" if ok else "missed", self.t.due)
        return None  # missed only on complete data

    def outcome(self, s, paths, fut):
        total = self.progress(s) + paths[:, : fut.column(self.t.due) + 1].sum(axis=1)
        total = total + self.gap_extra(self.t.start.index, self.t.due.index, s, paths.shape[0])
        return total, self.t.met(total)

    def realised(self, s):
        return self.progress(s) if len(self.at_due(s)) else np.nan

    def official_series(self, s):
        p = self.in_period(s)
        # the running total from the start of the period (0 at the start), so actual and required
        # pace are compared from the same baseline
        t0 = self.t.start.year + (self.t.start.q - 1) / 4
        return (np.r_[t0, end_time(p)], np.r_[0.0, p["value"].cumsum().to_numpy(float)])


class FlowInYear(TargetKind):
    """The total of the flows in the calendar year of the due date meets the target (到2025年...)."""

    name = "flow_in_year"
    label_en = "yearly total in the due year"

    def years(self) -> list[int]:
        return [self.t.due.year]

    def year_total(self, s, year):
        """The year's total: observed periods plus the known lower bounds of its missing returns."""
        total = float(s.loc[s["year"] == year, "value"].sum())  # the year's values only, not its rows
        if self.can_only_grow():
            lower = self.gap_lower(year * 4, year * 4 + 3)
            total += lower if np.isfinite(lower) else 0.0
        return total

    def progress(self, s):
        open_years = [y for y in self.years() if not self.year_complete(s, y)]
        year = open_years[0] if open_years else self.years()[-1]
        if (s["year"] == year).any():
            return self.year_total(s, year)
        complete = sorted(y for y in s["year"].unique() if self.year_complete(s, int(y)))
        return self.year_total(s, int(complete[-1])) if complete else np.nan

    def settle(self, s):
        missed = [y for y in self.years() if self.year_complete(s, y) and not self.t.met(self.year_total(s, y))]
        if missed:
            return self._settled("missed", Quarter(missed[0], 4), "target missed in " + ", ".join(map(str, missed)))
        decided = []  # per year, the period that decided it met (None: open)
        for y in self.years():
            rows = self.year_rows(s, y)
            if self.year_complete(s, y):
                decided.append(Quarter(y, 4))
            elif self.can_only_grow() and self.t.met(self.year_total(s, y)) and (
                    len(rows) or self.gaps_between(y * 4, y * 4 + 3)):
                # flows cannot be negative: a total (or its lower bound) over the target stays over it
                seen = [int(q) for q in rows["qindex"]] + [g.qindex for g in self.gaps_between(y * 4, y * 4 + 3)]
                decided.append(Quarter.from_index(max(seen)))
            else:
                decided.append(None)
        if all(d is not None for d in decided):
            return self._settled("achieved", self.t.due if self.year_complete(s, self.years()[-1]) else max(decided))
        return None

    def outcome(self, s, paths, fut):
        ok = np.ones(paths.shape[0], dtype=bool)
        total = None
        for y in self.years():
            if self.year_complete(s, y):
                continue
            cols = fut.columns_of_year(y)
            total = self.year_total(s, y) + (paths[:, cols].sum(axis=1) if cols else 0.0)
            # a year with missing returns: their imputed part above the lower bound, per path
            total = total + self.gap_extra(y * 4, y * 4 + 3, s, paths.shape[0])
            ok &= self.t.met(total)
        return total, ok

    def realised(self, s):
        y = self.t.due.year
        return self.year_total(s, y) if self.year_complete(s, y) else np.nan

    def official_series(self, s):
        complete = sorted(int(y) for y in s["year"].unique() if self.year_complete(s, int(y)))
        return (np.array([y + 1.0 for y in complete]), np.array([self.year_total(s, y) for y in complete]))


class FlowEveryYear(FlowInYear):
    """每年...以上: the yearly total meets the target in every year of the target period; missed as
    soon as one complete year misses."""

    name = "flow_every_year"
    label_en = "yearly total, every year"

    def years(self):
        return list(range(self.t.start.year, self.t.due.year + 1))


class EachGovernment(FlowEveryYear):
    """市、区县（市）每年...: every government (the city's and each district's) is held to the yearly
    total on its own figure, every year (``aggregation: each``)."""

    name = "each_government"
    label_en = "each government, every year"
