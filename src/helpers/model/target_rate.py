"""The target kind judged on a rate over the due year (a ratio of the year's sums), with the
closed-form probability of a rate whose target is its upper bound (100%)."""

from __future__ import annotations

import numpy as np

from helpers.model.target_kind import TargetKind, end_time
from helpers.plan.periods import Quarter


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
