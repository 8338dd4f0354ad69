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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator


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
        self.t = ind.target
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
        return len(self.year_rows(s, year)) + cases_none >= self.per_year

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
        total = float(self.year_rows(s, year)["value"].sum())
        if self.can_only_grow():
            lower = self.gap_lower(year * 4, year * 4 + 3)
            total += lower if np.isfinite(lower) else 0.0
        return total

    def progress(self, s):
        open_years = [y for y in self.years() if not self.year_complete(s, y)]
        year = open_years[0] if open_years else self.years()[-1]
        if len(self.year_rows(s, year)):
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


class YearRate(TargetKind):
    """A rate over the calendar year of the due date, as the ratio of the year's sums
    (numerator / denominator x scale), not one quarter's ratio."""

    name = "year_rate"
    label_en = "rate over the due year (ratio of sums)"

    def _ratio(self, rows) -> float:
        den = rows["denominator"].sum()
        if rows["denominator"].notna().all() and den > 0:
            return float(rows["numerator"].sum() / den * self.ind.scale)
        return float(rows["value"].mean())

    def progress(self, s):
        if self.per_year == 1:
            return super().progress(s)
        y = self.t.due.year
        rows = self.year_rows(s, y)
        return self._ratio(rows if len(rows) else s.tail(4))  # year to date, else the last four quarters

    def not_applicable(self, s):
        """No cases in any period of the due year (0/0 throughout): the year has no rate."""
        y = self.t.due.year
        qs = [Quarter(y, 4).index] if self.per_year == 1 else [Quarter(y, q).index for q in range(1, 5)]
        return all(q in self.no_cases for q in qs)

    def _at_bound(self) -> bool:
        """An at-least target equal to the rate's upper bound (100%): one failed case decides it."""
        hi = self.ind.bounds[1]
        return self.per_year > 1 and hi is not None and self.t.direction == "at_least" and self.t.value >= hi

    def settle(self, s):
        y = self.t.due.year
        if self._at_bound():
            rows = self.year_rows(s, y)
            failed = rows[rows["numerator"] < rows["denominator"]]
            if len(failed):  # the year's ratio can no longer reach 100%: missed in that quarter
                q = Quarter.from_index(int(failed["qindex"].iloc[0]))
                return self._settled("missed", q, f"a case of {y} failed in {q}: 100% can no longer be reached")
        if self.year_complete(s, y):
            ok = bool(self.t.met(self.realised(s)))
            return self._settled("achieved" if ok else "missed", self.t.due)
        return None

    def outcome(self, s, paths, fut):
        col = fut.column(self.t.due)
        if self.per_year == 1:
            q = paths[:, col]
            return q, self.t.met(q)
        y = self.t.due.year
        rows = self.year_rows(s, y)
        num, den = float(rows["numerator"].sum()), float(rows["denominator"].sum())
        # each simulated quarter's rate weighted by the same quarter's denominator a year before
        weights = []
        for q in range(1, 5):
            c = fut.column(Quarter(y, q))
            if c < 0:
                continue
            prev = s[s["qindex"] == Quarter(y - 1, q).index]["denominator"]
            w = float(prev.iloc[0]) if len(prev) and np.isfinite(prev.iloc[0]) else float(s["denominator"].tail(4).mean())
            weights.append((c, w))
        sim_num = sum(paths[:, c] / self.ind.scale * w for c, w in weights)
        rate = (num + sim_num) / (den + sum(w for _, w in weights)) * self.ind.scale
        return rate, self.t.met(rate)

    def realised(self, s):
        y = self.t.due.year
        if not self.year_complete(s, y):
            return np.nan
        rows = self.year_rows(s, y)
        return float(rows["value"].iloc[-1]) if self.per_year == 1 else self._ratio(rows)

    def official_series(self, s):
        """The rate of each year so far (ratio of the year's sums; the current year to date), at the
        end of its last observed period: the category compares the year's rate, not one quarter's."""
        if self.per_year == 1 or not len(s):
            return super().official_series(s)
        years = sorted(int(y) for y in s["year"].unique())
        rows = [self.year_rows(s, y) for y in years]
        return (np.array([float(end_time(r)[-1]) for r in rows]), np.array([self._ratio(r) for r in rows]))

    def exact_probability(self, s, fut):
        """A rate whose target is its upper bound (100% of key cases guided): a yes/no question per
        case, which continuous paths on the logit scale can never answer yes (they stay strictly
        inside the bound). Each remaining case of the due year succeeds with probability theta;
        theta ~ Beta(S + 1/2, F + 1/2) (Jeffreys prior) from the S successes and F failures of the
        zone period so far; the year reaches 100% if it has no failure yet and all ``m`` remaining
        cases succeed: P = E[theta^m] = B(a + m, b) / B(a, b). ``m`` is the same quarters'
        denominators a year before."""
        from scipy.special import betaln

        hi = self.ind.bounds[1]
        if (self.per_year == 1 or hi is None or self.t.direction != "at_least" or self.t.value < hi
                or not s["denominator"].notna().all() or not s["numerator"].notna().all()):
            return None
        y = self.t.due.year
        rows = self.year_rows(s, y)
        if (rows["numerator"] < rows["denominator"]).any():
            return 0.0  # a case of the due year already failed: the year's ratio cannot reach 100%
        zone = self.in_period(s)
        succ = float(zone["numerator"].sum())
        fail = float((zone["denominator"] - zone["numerator"]).clip(lower=0).sum())
        m = 0.0
        for q in range(1, 5):
            if fut.column(Quarter(y, q)) < 0:
                continue  # observed already
            prev = s[s["qindex"] == Quarter(y - 1, q).index]["denominator"]
            m += float(prev.iloc[0]) if len(prev) else float(s["denominator"].tail(4).mean())
        a, b = succ + 0.5, fail + 0.5
        return float(np.exp(betaln(a + m, b) - betaln(a, b)))


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
