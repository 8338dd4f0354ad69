"""Scores of probability and interval forecasts: Brier score and its decomposition, calibration
slope, interval coverage.

Used by the demo-data backtest (:mod:`helpers.model.backtest`) and by the calibration on real
series (:mod:`helpers.model.calibrate`), so both report the same quantities computed the same way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["N_BINS", "brier_decomposition", "calibration_slope", "interval_coverage", "reliability_table"]

#: Equal-width bins of forecast probability for the Brier decomposition and reliability plot.
N_BINS = 10
#: Probabilities are clipped to [CLIP, 1 - CLIP] before the logit in :func:`calibration_slope`:
#: a forecast of exactly 0 or 1 (a rule, or a target no simulated path reaches) has an infinite
#: logit. 0.005 is a quarter of a path in 2000 on either side of "never".
CLIP = 0.005


def _bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    # [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]: a probability of exactly 1 falls in the last bin
    return np.clip(np.floor(p * n_bins).astype(int), 0, n_bins - 1)


def brier_decomposition(p, o, n_bins: int = N_BINS) -> dict:
    """Brier score and its Murphy (1973) decomposition over equal-width probability bins.

    With ``K`` bins, ``n_k`` forecasts in bin ``k``, their mean forecast ``f_k`` and observed
    frequency ``o_k``, and the overall base rate ``o``::

        BS  = 1/N sum_i (p_i - o_i)^2
        REL = 1/N sum_k n_k (f_k - o_k)^2  +  WBV - WBC
        RES = 1/N sum_k n_k (o_k - o)^2
        UNC = o (1 - o)

    so that ``BS = REL - RES + UNC`` exactly. ``WBV - WBC`` (``rel_within_bin``) is the part
    that binning hides when forecasts inside a bin differ: the within-bin variance of the
    forecasts minus twice their within-bin covariance with the outcomes (Stephenson, Coelho &
    Jolliffe 2008); it is 0 when every bin holds a single forecast value (e.g. the 0/1 rules).

    Parameters
    ----------
    p : array_like of float
        Forecast probabilities in [0, 1].
    o : array_like of {0, 1}
        Outcomes.
    n_bins : int

    Returns
    -------
    dict
        ``n, brier, reliability, resolution, uncertainty, rel_within_bin, brier_skill`` (``1 -
        BS / UNC``, NaN when every outcome is the same), ``mean_forecast, base_rate``. All NaN
        (``n`` 0) for empty input.
    """
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    if p.shape != o.shape or p.ndim != 1:
        raise ValueError(f"p and o must be one-dimensional and of equal length, got {p.shape} and {o.shape}")
    keys = ("brier", "reliability", "resolution", "uncertainty", "rel_within_bin", "brier_skill",
            "mean_forecast", "base_rate")
    n = p.size
    if n == 0:
        return dict(n=0, **{k: np.nan for k in keys})
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("forecast probabilities must be finite and within [0, 1]")
    if np.any((o != 0) & (o != 1)):
        raise ValueError("outcomes must be 0 or 1")
    k = _bin_index(p, n_bins)
    counts = np.bincount(k, minlength=n_bins).astype(float)
    used = counts > 0
    f_k = np.bincount(k, weights=p, minlength=n_bins)[used] / counts[used]
    o_k = np.bincount(k, weights=o, minlength=n_bins)[used] / counts[used]
    n_k = counts[used]
    base = float(o.mean())
    brier = float(np.mean((p - o) ** 2))
    rel_binned = float(np.sum(n_k * (f_k - o_k) ** 2) / n)
    res = float(np.sum(n_k * (o_k - base) ** 2) / n)
    unc = base * (1.0 - base)
    # within-bin terms, per forecast: its deviation from its bin's means
    fbar = np.zeros(n_bins)
    obar = np.zeros(n_bins)
    fbar[used], obar[used] = f_k, o_k
    wbv = float(np.sum((p - fbar[k]) ** 2) / n)
    wbc = float(2.0 * np.sum((p - fbar[k]) * (o - obar[k])) / n)
    within = wbv - wbc
    return dict(n=int(n), brier=brier, reliability=rel_binned + within, resolution=res, uncertainty=unc,
                rel_within_bin=within, brier_skill=(1.0 - brier / unc) if unc > 0 else np.nan,
                mean_forecast=float(p.mean()), base_rate=base)


def reliability_table(p, o, n_bins: int = N_BINS) -> pd.DataFrame:
    """Per probability bin: its range, the number of forecasts, their mean and the observed frequency.

    Returns
    -------
    pandas.DataFrame
        Columns ``bin, lo, hi, n, mean_forecast, observed_freq``; bins without forecasts are left out.
    """
    p = np.asarray(p, dtype=float)
    o = np.asarray(o, dtype=float)
    if p.size == 0:
        return pd.DataFrame(columns=["bin", "lo", "hi", "n", "mean_forecast", "observed_freq"])
    k = _bin_index(p, n_bins)
    df = pd.DataFrame({"bin": k, "p": p, "o": o}).groupby("bin").agg(
        n=("p", "size"), mean_forecast=("p", "mean"), observed_freq=("o", "mean")).reset_index()
    df.insert(1, "lo", df["bin"] / n_bins)
    df.insert(2, "hi", (df["bin"] + 1) / n_bins)
    return df


def interval_coverage(lo, hi, realised) -> tuple[int, float]:
    """Share of realised values inside their intervals ``[lo, hi]`` (bounds included).

    Rows where a bound or the realised value is missing are left out.

    Returns
    -------
    (n, coverage) : tuple of int and float
        The number of intervals judged and the share covering the realised value (NaN if none).
    """
    lo, hi, x = (np.asarray(v, dtype=float) for v in (lo, hi, realised))
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(x)
    if not ok.any():
        return 0, np.nan
    inside = (x[ok] >= lo[ok]) & (x[ok] <= hi[ok])
    return int(ok.sum()), float(inside.mean())


def calibration_slope(p, o, clip: float = CLIP) -> tuple[float, float]:
    """Calibration intercept and slope: logistic regression of the outcome on ``logit(p)``.

    ``logit P(o = 1) = a + b logit(p)`` fitted by maximum likelihood (statsmodels ``Logit``;
    Cox 1958). ``b = 1`` and ``a = 0`` for calibrated probabilities; ``b < 1`` means
    over-confident (the forecasts are too extreme), ``b > 1`` under-confident.

    Parameters
    ----------
    p : array_like of float
        Forecast probabilities in [0, 1]; clipped to ``[clip, 1 - clip]`` first.
    o : array_like of {0, 1}
    clip : float

    Returns
    -------
    (intercept, slope) : tuple of float
        NaN when the regression is undefined: fewer than 10 forecasts, a single outcome value,
        a single distinct forecast, or perfect separation.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    p = np.clip(np.asarray(p, dtype=float), clip, 1.0 - clip)
    o = np.asarray(o, dtype=float)
    if p.size < 10 or np.unique(o).size < 2 or np.unique(p).size < 2:
        return np.nan, np.nan
    x = sm.add_constant(np.log(p / (1.0 - p)), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation and convergence warnings: judged below
        try:
            res = sm.Logit(o, x).fit(disp=0, maxiter=100)
        except (PerfectSeparationError, np.linalg.LinAlgError, ValueError):
            return np.nan, np.nan
    a, b = (float(v) for v in res.params)
    if not (np.isfinite(a) and np.isfinite(b)) or not res.mle_retvals.get("converged", True):
        return np.nan, np.nan
    return a, b
