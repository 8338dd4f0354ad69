"""Simulate future paths of a short series: the engine behind "the probability that a target is met".

This module only produces paths; :mod:`helpers.model.assess` turns them into target quantities (a
value in a quarter, an annual sum, a cumulative total) and counts the share of paths that meet the
target. Sums of future flows need whole paths, not summed intervals (FPP3 section 13.5), which is
why this module returns an array of paths rather than intervals.

Engines (``ForecastSettings.engine``)
-------------------------------------
``drift_t`` (default)
    A damped drift model of the changes from the latest value (first differences; a quarter against
    the same quarter a year before only for a quarterly series the seasonality test finds seasonal,
    :func:`drift_lag`), with parameter uncertainty: a conjugate
    prior on the volatility, the drift's sampling error and a drift that wanders from year to
    year, so each step's predictive is a Student-t (:func:`_drift_t_paths`). It works from 3
    yearly or 6 quarterly points, costs about 1 ms a series, and was calibrated on real series
    (the M3 competition; ``ipeval calibrate``, ``docs/methodology.md`` sections 4 and 12).
``ensemble``
    The equal-weight statsmodels ensemble (ETS, Theta, unobserved components) used before; kept
    for comparison. Members are fitted once, dropped when they do not converge or explode, and
    simulate an equal share of the paths each. Parameter uncertainty is not included.
``rw_drift``
    A random walk with drift and plug-in parameters: a baseline.

With ``integer=True`` paths are whole numbers, and small counts are modelled in units.

statsmodels is imported lazily, so importing this module (for :func:`point_quantiles` or the
settings) does not cost the ~2 s that ``statsmodels`` takes to import.
"""
from __future__ import annotations

import math

import numpy as np

from helpers.model import engine_drift_t, engine_ensemble, engine_rw_drift, engines  # noqa: F401 - registers the engines
from helpers.model.engine_drift_t import _drift_t_paths, drift_lag  # noqa: F401 - re-exported
from helpers.model.engine_ensemble import (  # noqa: F401 - re-exported for tests and calibrate
    _allocate,
    _explosion,
    _fit_ets,
    _fit_member,
    _simulate_ensemble,
    _simulate_state_space,
)
from helpers.model.engine_rw_drift import _random_walk_drift  # noqa: F401 - re-exported
from helpers.model.forecast_core import (  # noqa: F401 - the public names live here
    _TRANSFORMS,
    ENGINES,
    MEMBER_NAMES,
    SMALL_COUNT,
    ForecastSettings,
    PathForecast,
    TooShortError,
    _backward,
    _forward,
    _is_seasonal,
    _member_seeds,
    _transform_bounds,
)

__all__ = [
    "ForecastSettings",
    "PathForecast",
    "TooShortError",
    "ENGINES",
    "MEMBER_NAMES",
    "point_quantiles",
    "simulate_paths",
]


def simulate_paths(history, horizon: int, *, transform: str = "none", bounds=(None, None), season_length: int = 4,
                   settings: ForecastSettings = ForecastSettings(), seed: int | None = None, integer: bool = False,
                   freq: str | None = None, positions=None) -> PathForecast:
    """Simulate ``settings.n_paths`` future paths of a short series.

    Parameters
    ----------
    history : array_like of float
        One-dimensional, chronological, without gaps or NaN (drop missing periods first).
    horizon : int
        Steps to simulate after the LAST observation (>= 1).
    transform : {"none", "log", "logit"}
        Modelling scale. ``"log"``: non-negative counts or amounts, modelled as ``log1p(y)``
        and taken back with ``expm1``; paths never go below 0. ``"logit"``: ratios between
        ``bounds`` (both required), modelled as ``log((y - lo) / (hi - y))`` after clipping the
        history 0.5% of ``hi - lo`` inside the bounds (FPP3 13.3); paths stay strictly inside.
    bounds : tuple of (float or None, float or None)
        Lower and upper bounds of the quantity; paths are clipped into them after the
        back-transform. ``None`` means unbounded on that side.
    season_length : int
        Observations per year (4 for quarters). Seasonal variants are tried only if it is > 1,
        the history has at least ``settings.seasonal_min_points`` points and two full seasons,
        and the seasonal-lag autocorrelation of the detrended series passes a one-sided 90%
        test (see ``_is_seasonal``).
    settings : ForecastSettings
        Ensemble settings.
    seed : int, optional
        Overrides ``settings.seed``. Every random draw derives from
        ``numpy.random.default_rng(seed)``: same inputs and seed give bit-identical paths.
    integer : bool
        Whole-number counts: paths are rounded (after the bounds, which are rounded inwards),
        and a history of values all at most :data:`SMALL_COUNT` is modelled in units
        (``transform`` becomes ``"none"``) instead of on the log or logit scale.
    freq : {"yearly", "quarterly"}, optional
        The series' frequency; by default yearly when ``season_length == 1``. Decides the
        minimum number of points and, for ``drift_t``, the periods per year.
    positions : array_like of int, optional
        The period index of each observation (e.g. ``Quarter.index``), increasing. With gaps in
        it, ``drift_t`` takes changes between the right periods (a missing quarter does not shift
        the seasonal differences). Default: consecutive periods.

    Returns
    -------
    PathForecast

    Raises
    ------
    TooShortError
        If the history has fewer than ``settings.min_points`` points.
    ValueError
        If the history contains NaN or inf, is not one-dimensional, is negative under
        ``transform="log"``, or the arguments are invalid.

    Notes
    -----
    ``drift_t``: see :func:`_drift_t_paths` and ``docs/methodology.md`` section 4. The ensemble's
    members, the checks that drop one and the mixture of the survivors are described in
    :mod:`helpers.model.engine_ensemble`.
    """
    y, yearly = _checked_history(history, horizon, transform, season_length, freq, settings)
    horizon = int(horizon)
    lo, hi = _transform_bounds(transform, bounds)
    small_count = integer and float(np.max(np.abs(y))) <= SMALL_COUNT
    if small_count:
        # a few whole units (0/1 deals, 12 of 13 stations): log1p and logit scales blow single
        # steps up (0 -> 1 is +0.69 on log1p; 12 -> 13 of 13 is clipped to 0.5% of the bound and
        # jumps by ~3 logits), so small counts are modelled in units and rounded
        transform = "none"
    z = _forward(y, transform, lo, hi)
    seeds = _member_seeds(settings.seed if seed is None else int(seed))
    job = engines.EngineInput(transform=transform, lo=lo, hi=hi, season_length=season_length,
                              periods=1 if yearly else season_length, settings=settings, seeds=seeds,
                              small_count=bool(small_count), positions=positions)
    pf = engines.get(settings.engine)(z, horizon, job)
    if integer:
        pf.paths = _whole_numbers(pf.paths, lo, hi)
    return pf


def _whole_numbers(paths: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """Paths of whole-number counts: a path of 12.6 deals is 13 deals; rounding after the bounds
    keeps the paths whole and lets them reach a bound (13 of 13) without any snapping."""
    paths = np.rint(paths)
    if lo is not None or hi is not None:
        paths = np.clip(paths, -np.inf if lo is None else math.ceil(lo - 1e-9),
                        np.inf if hi is None else math.floor(hi + 1e-9))
    return paths


def _checked_history(history, horizon, transform: str, season_length, freq,
                     settings: ForecastSettings) -> tuple[np.ndarray, bool]:
    """The history as a float array and whether it is yearly, once it and the arguments of
    :func:`simulate_paths` are checked (:class:`TooShortError`: fewer points than the settings' minimum)."""
    y = np.asarray(history, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"history must be one-dimensional, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("history contains NaN or inf; drop missing periods before forecasting")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a whole number >= 1, got {horizon!r}")
    if transform not in _TRANSFORMS:
        raise ValueError(f"transform must be one of {_TRANSFORMS}, got {transform!r}")
    if isinstance(season_length, bool) or not isinstance(season_length, (int, np.integer)) \
            or season_length < 1:
        raise ValueError(f"season_length must be a whole number >= 1, got {season_length!r}")
    if freq not in (None, "yearly", "quarterly"):
        raise ValueError(f"freq must be 'yearly' or 'quarterly', got {freq!r}")
    yearly = freq == "yearly" if freq is not None else season_length == 1
    need = settings.min_points_yearly if yearly else settings.min_points
    if y.size < need:
        raise TooShortError(
            f"{y.size} observations, fewer than the {need} needed to fit a model"
        )
    return y, yearly


def point_quantiles(paths, qs=(0.025, 0.1, 0.5, 0.9, 0.975)) -> np.ndarray:
    """Quantiles of simulated paths at each horizon step.

    Parameters
    ----------
    paths : array_like
        Shape ``(n_paths, horizon)``, e.g. :attr:`PathForecast.paths`.
    qs : sequence of float
        Probabilities in [0, 1].

    Returns
    -------
    numpy.ndarray
        Shape ``(len(qs), horizon)``: row ``i`` is quantile ``qs[i]`` per step.
    """
    p = np.asarray(paths, dtype=float)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"paths must have shape (n_paths, horizon), got {p.shape}")
    q = np.asarray(qs, dtype=float)
    if q.ndim != 1 or np.any((q < 0) | (q > 1)):
        raise ValueError(f"qs must be probabilities in [0, 1], got {qs!r}")
    return np.quantile(p, q, axis=0)
