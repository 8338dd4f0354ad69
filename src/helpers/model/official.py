"""The official-style progress category, as the UN SDG Progress Chart computes it.

United Nations Statistics Division, *The Sustainable Development Goals Progress Chart: Technical
Note* (2022 and 2023 editions), section II b, "Measuring the trend for indicators with an explicit
numerical target": the actual compound annual growth rate since the baseline year is compared with
the rate required to reach the target by the target year,

    CR_a = (x_t / x_0) ** (1 / (t - t_0)) - 1,      CR_r = (X / x_0) ** (1 / (T - t_0)) - 1,
    ratio = CR_a / CR_r,

and the ratio is binned: >= 0.95 substantial progress / on track; 0.5-0.95 fair progress but
acceleration needed; 0-0.5 limited or no progress; below 0 deterioration (moving away from the
target). A value already at the target is "met". See ``docs/methodology.md`` for the two places
we had to adapt it (values through zero; a baseline that already met the target).
"""

from __future__ import annotations

import numpy as np

CATEGORIES = ("met", "on_track", "acceleration_needed", "limited_progress", "deterioration",
              "insufficient_data")
CUTOFFS = (0.95, 0.5, 0.0)


def category(ratio: float) -> str:
    """The Progress Chart category of a ratio of actual to required growth."""
    if not np.isfinite(ratio):
        return "insufficient_data"
    if ratio >= CUTOFFS[0]:
        return "on_track"
    if ratio >= CUTOFFS[1]:
        return "acceleration_needed"
    if ratio >= CUTOFFS[2]:
        return "limited_progress"
    return "deterioration"


def progress_ratio(times: np.ndarray, values: np.ndarray, target: float, direction: str,
                   due_time: float, baseline_time: float) -> tuple[float, str]:
    """Actual against required growth from the baseline, and its category.

    Parameters
    ----------
    times, values : numpy.ndarray
        The quantity the target is about, at the end of each period (decimal years), in time order.
    target : float
        The target value ``X``.
    direction : {"at_least", "at_most"}
    due_time : float
        End of the due period (2025Q4 -> 2026.0).
    baseline_time : float
        Start of the target period (2023Q1 -> 2023.0): the baseline is the last value at or before
        it (the value at the end of 2022), else the first value after it.

    Returns
    -------
    (ratio, category) : tuple of float and str
    """
    times, values = np.asarray(times, float), np.asarray(values, float)
    if len(values) == 0:
        return np.nan, "insufficient_data"

    def met(x):
        return x >= target if direction == "at_least" else x <= target

    xc, tc = float(values[-1]), float(times[-1])
    if met(xc):
        return np.nan, "met"
    before = np.nonzero(times <= baseline_time + 1e-9)[0]
    k = int(before[-1]) if len(before) else 0
    x0, t0 = float(values[k]), float(times[k])
    if tc <= t0:
        return np.nan, "insufficient_data"
    if met(x0):
        # the baseline already met the target and the value has since left it: moving away
        return np.nan, "deterioration"
    if x0 > 0 and xc > 0 and target > 0:
        actual = (xc / x0) ** (1.0 / (tc - t0)) - 1.0
        required = (target / x0) ** (1.0 / (due_time - t0)) - 1.0
    else:
        # growth rates are undefined through zero (a running total starts at 0): the same ratio
        # of actual to required change per year, linear
        actual = (xc - x0) / (tc - t0)
        required = (target - x0) / (due_time - t0)
    if required == 0:
        return np.nan, "insufficient_data"
    ratio = actual / required
    return float(ratio), category(ratio)
