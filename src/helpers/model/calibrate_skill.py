"""Baselines and uncertainty for ``ipeval calibrate`` (issue 17): the constant base rate, a
statsmodels ETS with damped trend, the Brier skill against the base rate, and 95% intervals that
resample whole series (forecasts of one series are not independent).

Used by :mod:`helpers.model.calibrate`; formulas in ``docs/methodology.md`` section 12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.model.scoring import calibration_slope

#: Resamples of the series-clustered bootstrap (95% percentile intervals).
BOOTSTRAP = 100


def ets_damped_paths(window: np.ndarray, steps: int, n_paths: int, seed: int) -> np.ndarray | None:
    """Paths of ``ETSModel(error="add", trend="add", damped_trend=True)`` fitted on ``log(window)``
    (statsmodels, maximum likelihood; no parameter uncertainty), back on the original scale.
    None when the fit fails (the forecast is then left out of that method's scores)."""
    from helpers.model.forecast import _fit_ets

    try:
        sim = _fit_ets(np.log(np.asarray(window, float)), "ets_aadn", 1, {})
        paths = np.exp(sim(steps, n_paths, np.random.default_rng(seed)))
    except Exception:  # noqa: BLE001 - a failed fit is a missing forecast, counted in the table's n
        return None
    return paths if np.all(np.isfinite(paths)) else None


def add_base_rate(per: pd.DataFrame) -> pd.DataFrame:
    """Append the ``base_rate`` method: for each (freq, n, horizon steps, growth rate), the share
    of outcomes met over every series and origin, given to each of them (the climatological
    forecast the Brier skill score is measured against)."""
    one = per.drop_duplicates(["freq", "series", "n", "origin", "h", "g"]).copy()
    one["probability"] = one.groupby(["freq", "n", "h", "g"])["outcome"].transform("mean")
    one["method"] = "base_rate"
    for c in ("lo80", "hi80", "lo95", "hi95", "median"):
        one[c] = np.nan
    return pd.concat([per, one], ignore_index=True)


def clustered_intervals(d: pd.DataFrame, seed: int, n_boot: int = BOOTSTRAP) -> dict:
    """95% percentile intervals of the Brier score and the calibration slope, resampling series
    (with all their origins, horizons and targets) with replacement."""
    names = d["series"].to_numpy()
    codes, uniq = pd.factorize(names)
    if len(uniq) < 2:
        return dict(brier_lo=np.nan, brier_hi=np.nan, slope_lo=np.nan, slope_hi=np.nan)
    p, o = d["probability"].to_numpy(float), d["outcome"].to_numpy(float)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniq)))
    ends = np.r_[starts[1:], len(order)]
    rng = np.random.default_rng(seed)
    briers, slopes = [], []
    for _ in range(n_boot):
        pick = rng.integers(0, len(uniq), len(uniq))
        idx = np.concatenate([order[starts[k]:ends[k]] for k in pick])
        briers.append(float(np.mean((p[idx] - o[idx]) ** 2)))
        slopes.append(calibration_slope(p[idx], o[idx])[1])
    finite = np.asarray(slopes, float)
    finite = finite[np.isfinite(finite)]
    b = np.quantile(briers, [0.025, 0.975])
    s = np.quantile(finite, [0.025, 0.975]) if finite.size else (np.nan, np.nan)
    return dict(brier_lo=float(b[0]), brier_hi=float(b[1]), slope_lo=float(s[0]), slope_hi=float(s[1]))


def median_ape(d: pd.DataFrame) -> float:
    """Median absolute percentage error of the median forecast one step ahead (NaN without one)."""
    one = d[(d["h"] == 1) & d["median"].notna()].drop_duplicates(["series", "origin"])
    if one.empty:
        return np.nan
    return float(np.median(np.abs(one["median"] - one["realised"]) / np.abs(one["realised"])))
