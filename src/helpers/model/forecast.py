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

import logging
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from helpers.exceptions import ConfigError

log = logging.getLogger(__name__)

__all__ = [
    "ForecastSettings",
    "PathForecast",
    "TooShortError",
    "ENGINES",
    "MEMBER_NAMES",
    "point_quantiles",
    "simulate_paths",
]

#: Every member this module knows, in the order their random seeds are derived. ``ets_ana`` is
#: the seasonal ETS variant; it is only ever tried on a long enough, seasonal series.
MEMBER_NAMES: tuple[str, ...] = ("ets_ann", "ets_aadn", "ets_ana", "theta", "uc_llt")
_FALLBACK = "rw_drift"
#: With ``integer=True``, a history whose values are all at most this is a "small count",
#: modelled in units (``transform="none"``) and rounded, not on the log or logit scale.
SMALL_COUNT = 50
#: Forecasting engines (``ForecastSettings.engine``).
ENGINES: tuple[str, ...] = ("drift_t", "ensemble", "rw_drift")
_TRANSFORMS = ("none", "log", "logit")
_WEIGHTS = ("equal",)

# A member is "exploded" when a central quantile at the horizon lies further than this many
# history ranges from the last observation: no plausible short-series model travels that far,
# while genuine trends over a few years of quarters stay well inside it.
_EXPLODE_RANGES = 10.0
_EXPLODE_QUANTILES = (0.1, 0.5, 0.9)

# Iteration caps: over the 300 benchmark series no fit needed more than 36 (ETS) or 28 (UC)
# iterations. The caps bound the time a pathological fit can take; one that reaches them is
# dropped as not converged, the kind of fit that gives wild forecasts.
_ETS_MAXITER = 200
_UC_MAXITER = 100

# One-sided 90% test for seasonality, as in the Theta method / M4 benchmarks (see _is_seasonal).
_SEASONAL_Z = 1.645


class TooShortError(ValueError):
    """The history has fewer points than ``ForecastSettings.min_points``.

    The caller is expected to fall back to rule-based judgements (official-style progress
    categories) rather than a probability.
    """


@dataclass(frozen=True)
class ForecastSettings:
    """Settings of the forecasting ensemble (the ``forecast`` block of ``params/settings.yaml``).

    Parameters
    ----------
    n_paths : int
        Number of simulated paths returned per series (at least 10).
    seed : int
        Default seed; :func:`simulate_paths` uses it unless a ``seed`` is passed.
    min_points : int
        Fewer observations than this in a sub-annual (quarterly) series and no model is fitted
        (:class:`TooShortError`). At least 3; 6 = a year and a half of quarters.
    min_points_yearly : int
        The same for yearly series (``season_length == 1`` or ``freq="yearly"``); 3 = three
        annual returns.
    seasonal_min_points : int
        Seasonal variants (the ``ets_ana`` member, theta's deseasonalising) are only tried
        with at least this many points (12 = three years of quarters) and at least two full
        seasons. Set it very high to switch seasonality off.
    members : tuple of str
        Members to try, from :data:`MEMBER_NAMES`. ``ets_ana`` (additive error and season, no
        trend) is added automatically whenever the seasonal conditions hold, so listing it is
        optional; it is never tried on a non-seasonal or too short series.
    weights : {"equal"}
        How members are combined: equal weights over the members that survive (converged,
        finite, not exploded). The only scheme offered, because on series this short there is
        too little data to estimate better weights.

    engine : {"drift_t", "ensemble", "rw_drift"}
        ``"drift_t"`` (default): the damped local-drift model with parameter uncertainty and
        a Student-t predictive (:func:`_drift_t_paths`, ``docs/methodology.md``). ``"ensemble"``:
        the equal-weight statsmodels ensemble of ``members``. ``"rw_drift"``: a random walk
        with drift and plug-in parameters (a baseline for calibration).
    drift_damping : float
        Damping of the drift per YEAR (0-1; 1 = undamped): the drift of every step of year ``a``
        ahead is weighted ``drift_damping ** a`` (``a = ceil(j / periods per year)``), so the
        damping does not depend on the frequency.
    drift_inflation : float
        Multiplier of the sampling variance of the drift (1 = the posterior's own).
    drift_wander, drift_wander_yearly : float
        Variance per year of the random walk the drift follows, in units of ``sigma^2``, for
        sub-annual and for yearly series: growth rates wander, so a drift estimated from the
        past is less and less certain further ahead (a local linear trend). Estimated on half
        of the M3 development series (docs/methodology.md).
    prior_sigma : float
        Prior guess of the volatility of a YEAR's change on the modelling scale (a relative
        change under ``log``); for changes over one quarter (``drift_t`` on a non-seasonal
        quarterly series) it is ``prior_sigma / sqrt(4)``.
    prior_df : float
        Weight of that prior, in pseudo-differences (scaled-inverse-chi-squared prior).
    widen : float
        Factor on every simulated deviation from the point forecast (1 = none).

    Raises
    ------
    ConfigError
        If a value has the wrong type or is out of range.
    """

    n_paths: int = 2000
    seed: int = 20231023
    min_points: int = 6
    min_points_yearly: int = 3
    seasonal_min_points: int = 12
    members: tuple[str, ...] = ("ets_ann", "ets_aadn", "theta", "uc_llt")
    weights: str = "equal"
    engine: str = "drift_t"
    drift_damping: float = 0.85
    drift_inflation: float = 1.0
    prior_sigma: float = 0.08
    prior_df: float = 2.0
    drift_wander: float = 1.0
    drift_wander_yearly: float = 0.3
    widen: float = 1.0

    def __post_init__(self):
        for name, low in (("n_paths", 10), ("seed", 0), ("min_points", 3),
                          ("min_points_yearly", 3), ("seasonal_min_points", 4)):
            value = getattr(self, name)
            # bool is an int subclass; "n_paths: true" in YAML is a mistake, not 1 path
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise ConfigError(f"forecast.{name} must be a whole number, got {value!r}")
            if value < low:
                raise ConfigError(f"forecast.{name} must be at least {low}, got {value}")
        for name, low, high in (("drift_damping", 0.0, 1.0), ("drift_inflation", 0.0, 100.0),
                                ("prior_sigma", 0.0, 10.0), ("prior_df", 0.0, 1000.0),
                                ("drift_wander", 0.0, 100.0), ("drift_wander_yearly", 0.0, 100.0),
                                ("widen", 0.1, 10.0)):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
                raise ConfigError(f"forecast.{name} must be a number, got {value!r}")
            if not low <= float(value) <= high:
                raise ConfigError(f"forecast.{name} must be between {low:g} and {high:g}, got {value}")
            object.__setattr__(self, name, float(value))
        if self.engine not in ENGINES:
            raise ConfigError(f"forecast.engine must be one of {list(ENGINES)}, got {self.engine!r}")
        members = self.members
        if isinstance(members, str) or not isinstance(members, (tuple, list)):
            raise ConfigError(f"forecast.members must be a list of names, got {members!r}")
        members = tuple(members)
        object.__setattr__(self, "members", members)  # accept a list from YAML, keep hashable
        unknown = [m for m in members if m not in MEMBER_NAMES]
        if unknown:
            raise ConfigError(
                f"forecast.members has unknown member(s) {unknown}; "
                f"choose from {list(MEMBER_NAMES)}"
            )
        if not [m for m in members if m != "ets_ana"]:  # ets_ana alone fits non-seasonal nothing
            raise ConfigError("forecast.members must name at least one non-seasonal member")
        if len(set(members)) != len(members):
            raise ConfigError(f"forecast.members lists a member twice: {list(members)}")
        if self.weights not in _WEIGHTS:
            raise ConfigError(
                f"forecast.weights must be one of {list(_WEIGHTS)}, got {self.weights!r}"
            )

    def min_points_for(self, season_length: int) -> int:
        """Fewest observations a forecast needs: ``min_points_yearly`` for yearly series
        (``season_length == 1``), else ``min_points``."""
        return self.min_points_yearly if season_length == 1 else self.min_points

    @classmethod
    def from_mapping(cls, d: Mapping | None) -> "ForecastSettings":
        """Build settings from the ``forecast`` block of ``params/settings.yaml``.

        Parameters
        ----------
        d : mapping or None
            Keys are field names of this class; missing keys keep their defaults. ``None``
            (an empty YAML block) gives the defaults.

        Returns
        -------
        ForecastSettings

        Raises
        ------
        ConfigError
            If ``d`` is not a mapping, has a key that is not a setting (a typo would otherwise
            silently keep the default), or a value is invalid.
        """
        if d is None:
            return cls()
        if not isinstance(d, Mapping):
            raise ConfigError(f"the forecast settings must be a mapping, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise ConfigError(
                f"unknown forecast setting(s) {unknown}; known settings are {sorted(known)}"
            )
        return cls(**dict(d))


@dataclass
class PathForecast:
    """Simulated future paths of one series.

    Attributes
    ----------
    paths : numpy.ndarray
        Shape ``(n_paths, horizon)``, on the original scale and within the bounds. Row order
        is deterministic: the members' blocks in :attr:`members_used` order.
    members_used : list of str
        Members whose paths are in :attr:`paths`, or ``["rw_drift"]`` for the fallback.
    members_dropped : dict of str to str
        Member -> why it was dropped ("not converged ...", "failed ...", "non-finite paths",
        "exploded ...").
    transform : str
        The modelling scale: ``"none"``, ``"log"`` or ``"logit"``.
    note : str
        One sentence for the methods note.
    """

    paths: np.ndarray
    members_used: list[str]
    members_dropped: dict[str, str] = field(default_factory=dict)
    transform: str = "none"
    note: str = ""


# --------------------------------------------------------------------------- transforms


def _transform_bounds(transform: str, bounds) -> tuple[float | None, float | None]:
    lo, hi = (None, None) if bounds is None else bounds
    lo = None if lo is None else float(lo)
    hi = None if hi is None else float(hi)
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"bounds must satisfy lower < upper, got {bounds!r}")
    if transform == "log":
        # counts and amounts are never negative, whatever the caller's bounds say
        lo = 0.0 if lo is None else max(lo, 0.0)
        if hi is not None and not lo < hi:
            raise ValueError(f"bounds {bounds!r} leave no room above 0 for a log transform")
    if transform == "logit" and (lo is None or hi is None):
        raise ValueError("transform='logit' needs finite bounds=(lower, upper)")
    return lo, hi


def _forward(y: np.ndarray, transform: str, lo, hi) -> np.ndarray:
    if transform == "none":
        return y.copy()
    if transform == "log":
        if np.any(y < 0):
            raise ValueError("transform='log' needs a non-negative history (counts, amounts)")
        return np.log1p(y)
    # logit: values at (or beyond) a bound would map to +-inf, so pull them 0.5% inside
    eps = 0.005 * (hi - lo)
    yc = np.clip(y, lo + eps, hi - eps)
    return np.log((yc - lo) / (hi - yc))


def _backward(z: np.ndarray, transform: str, lo, hi) -> np.ndarray:
    if transform == "none":
        y = z
    elif transform == "log":
        with np.errstate(over="ignore"):
            y = np.expm1(z)
    else:
        from scipy.special import (
            expit,  # stable for large |z|, unlike 1 / (1 + exp(-z))
        )

        y = lo + (hi - lo) * expit(z)
        # expit saturates to exactly 0 or 1 for |z| > ~37; a logit scale never reaches its
        # bounds, so keep the paths strictly inside them
        lo, hi = np.nextafter(lo, hi), np.nextafter(hi, lo)
    if lo is not None or hi is not None:
        y = np.clip(y, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    return y


# --------------------------------------------------------------------------- members


class _MemberDropped(Exception):
    """Raised inside a member's fit with the reason it is dropped."""


class _quiet_fit:
    """Record (and so silence) warnings raised while fitting, for convergence checks.

    statsmodels warns on nearly every short-series fit (ConvergenceWarning, ValueWarning about
    indexes, EstimationWarning); with ~300 series per run that is noise for the reader. The
    warnings are kept so a ConvergenceWarning still counts as "not converged".
    """

    def __enter__(self):
        self._cm = warnings.catch_warnings(record=True)
        self.caught = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        for w in self.caught:
            log.debug("silenced %s: %s", w.category.__name__, w.message)
        return False

    def convergence_warning(self) -> str | None:
        from statsmodels.tools.sm_exceptions import ConvergenceWarning

        for w in self.caught:
            if issubclass(w.category, ConvergenceWarning):
                return str(w.message).splitlines()[0]
        return None


def _converged_flag(retvals) -> bool | None:
    # ETS results may carry a dict or an OptimizeResult-like object, depending on the optimiser
    if retvals is None:
        return None
    if isinstance(retvals, Mapping):
        flag = retvals.get("converged")
    else:
        flag = getattr(retvals, "converged", getattr(retvals, "success", None))
    return None if flag is None else bool(flag)


def _check_converged(res, quiet: _quiet_fit) -> None:
    if _converged_flag(getattr(res, "mle_retvals", None)) is False:
        raise _MemberDropped("not converged (optimiser reported converged=False)")
    message = quiet.convergence_warning()
    if message:
        raise _MemberDropped(f"not converged ({message})")


def _as_paths(sim, horizon: int, reps: int) -> np.ndarray:
    # statsmodels returns steps first (ETS: (h, R); state space: (h, 1, R)) and squeezes
    # singleton dimensions inconsistently; reshape in C order restores (h, R) in every case
    return np.asarray(sim, dtype=float).reshape(horizon, reps).T


Simulator = Callable[[int, int, np.random.Generator], np.ndarray]


_ETS_SPECS = {
    "ets_ann": {"trend": None, "seasonal": None},
    "ets_aadn": {"trend": "add", "damped_trend": True, "seasonal": None},
    "ets_ana": {"trend": None, "seasonal": "add"},
}


def _ets_results(z: np.ndarray, name: str, season_length: int, cache: dict):
    """Fit (once per call of :func:`simulate_paths`) and check an ETS model.

    ``cache`` lets the theta member reuse the ``ets_ann`` fit: both need simple exponential
    smoothing of the same series, and fitting it twice would cost a fifth of the run. Failures
    are cached too, so a shared fit fails the same way for both members.
    """
    key = (name, z.tobytes())
    if key not in cache:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        spec = dict(_ETS_SPECS[name])
        if spec["seasonal"]:
            spec["seasonal_periods"] = season_length
        try:
            with _quiet_fit() as quiet:
                res = ETSModel(z, error="add", **spec).fit(disp=False, maxiter=_ETS_MAXITER)
            _check_converged(res, quiet)
            cache[key] = (res, None)
        except Exception as exc:  # noqa: BLE001 - re-raised below, to each member that asks
            cache[key] = (None, exc)
    res, exc = cache[key]
    if exc is not None:
        raise exc
    return res


def _fit_ets(z: np.ndarray, name: str, season_length: int, cache: dict) -> Simulator:
    res = _ets_results(z, name, season_length, cache)

    def simulate(horizon: int, reps: int, rng: np.random.Generator) -> np.ndarray:
        # anchor="end" is essential: the default simulates from the start of the sample
        with _quiet_fit():
            sim = res.simulate(horizon, anchor="end", repetitions=reps, rng=rng)
        return _as_paths(sim, horizon, reps)

    return simulate


def _theta_one_step_errors(y, alpha: float, b0: float, level0: float, theta: float = 2.0):
    """In-sample one-step errors of the Theta method: SES plus the drift ``(1 - 1/theta) b0``.

    The forecast of ``y[t]`` from the first ``t`` observations is the SES level plus
    ``w * b0 * (1 - (1 - alpha)**t) / alpha``, which is ``ThetaModelResults.forecast`` at
    ``h = 1`` for a sample of length ``t``.
    """
    level = level0
    w = 1.0 - 1.0 / theta
    errors = np.empty(y.size)
    for t in range(y.size):
        drift = w * b0 * ((1 - (1 - alpha) ** t) / alpha if alpha > 1e-8 else float(t))
        errors[t] = y[t] - (level + drift)
        level = level + alpha * (y[t] - level)
    return errors


def _fit_theta(z: np.ndarray, seasonal: bool, season_length: int, cache: dict) -> Simulator:
    """The Theta method (Hyndman & Billah 2003): SES with drift half the OLS slope.

    ``ThetaModel`` defines the model and ``ThetaModelResults`` computes the point forecast, but
    the SES step comes from the ``ets_ann`` fit (shared through ``cache`` on non-seasonal series)
    instead of ``ThetaModel.fit``, which would fit the same SES a second time by state-space MLE
    (about 10 ms a series, a fifth of a run). The only difference is that the initial level is
    estimated rather than fixed at the first observation, as in R's ``forecast::thetaf``.
    """
    from statsmodels.tsa.forecasting.theta import ThetaModel, ThetaModelResults

    model = ThetaModel(
        z,
        period=season_length if seasonal else 1,
        deseasonalize=seasonal,
        use_test=False,  # seasonality is decided once, by _is_seasonal, for all members
        # additive, so additive simulated errors are consistent with it (and because log1p or
        # logit-scale data may be <= 0, where multiplicative fails)
        method="additive",
    )
    y, season = z, np.empty(0)
    if seasonal:
        from statsmodels.tsa.seasonal import seasonal_decompose

        # the decomposition ThetaModel.fit would apply
        s = seasonal_decompose(z, model="additive", period=season_length).seasonal
        y, season = z - s, s[:season_length]
    ses = _ets_results(y, "ets_ann", season_length, cache)
    alpha = float(ses.smoothing_level)
    level_T = float(np.asarray(ses.forecast(1))[0])
    t = np.arange(y.size, dtype=float)
    b0 = float(np.polyfit(t, y, 1)[0])
    errors = _theta_one_step_errors(y, alpha, b0, float(ses.initial_level))
    # ThetaModelResults.sigma2 would refit an ARIMA(0,1,1) (slow, and another model); the
    # method's own one-step error variance is what its simulation should use
    sigma = math.sqrt(float(errors @ errors) / max(errors.size - 3, 1))  # alpha, l0, b0 fitted
    res = ThetaModelResults(b0, alpha, sigma**2, level_T, season, False, model)

    def simulate(horizon: int, reps: int, rng: np.random.Generator) -> np.ndarray:
        point = np.asarray(res.forecast(horizon), dtype=float)
        e = rng.normal(0.0, sigma, size=(reps, horizon))
        # SES error-correction form: y_{T+h} - forecast = e_{T+h} + alpha * sum_{j<h} e_{T+j}
        return point[None, :] + e + alpha * (np.cumsum(e, axis=1) - e)

    return simulate


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    # a square root that tolerates the singular covariances of degenerate fits (zero variances)
    w, v = np.linalg.eigh((m + m.T) / 2)
    return v * np.sqrt(np.clip(w, 0.0, None))


def _simulate_state_space(res, horizon: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Vectorised equivalent of ``res.simulate(horizon, repetitions=reps, anchor="end")``.

    statsmodels loops over repetitions in Python (~45 ms for 500 paths of a short series, more
    than fitting all members together); the model is a handful of small time-invariant matrices,
    so all repetitions are stepped at once here. Same model, same distribution: the first state
    is drawn from the predicted state distribution after the last observation, then
    ``y_t = Z x_t + eps_t``, ``x_{t+1} = T x_t + R eta_t``. A test checks it against
    ``res.simulate`` by moments.
    """
    fr = res.filter_results
    if fr.filter_concentrated:  # never the case for UnobservedComponents as fitted here
        raise RuntimeError("concentrated scale is not supported by the vectorised simulator")
    design, obs_cov = fr.design[:, :, -1], fr.obs_cov[:, :, -1]
    transition, selection = fr.transition[:, :, -1], fr.selection[:, :, -1]
    state_cov = fr.state_cov[:, :, -1]
    k_states, k_posdef = selection.shape
    x = fr.predicted_state[:, -1] + rng.standard_normal((reps, k_states)) @ _psd_sqrt(
        fr.predicted_state_cov[:, :, -1]
    ).T
    obs_sd = math.sqrt(max(float(obs_cov[0, 0]), 0.0))
    shock_map = (selection @ _psd_sqrt(state_cov)).T  # standard normals -> state shocks
    out = np.empty((reps, horizon))
    for t in range(horizon):
        out[:, t] = x @ design[0] + obs_sd * rng.standard_normal(reps)
        x = x @ transition.T + rng.standard_normal((reps, k_posdef)) @ shock_map
    return out


def _fit_uc(z: np.ndarray) -> Simulator:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    model = UnobservedComponents(z, level="local linear trend")
    # statsmodels starts the slope variance near the variance of the whole series, far from
    # where short-series fits end up (slope variance close to 0), and spends ~100 likelihood
    # evaluations getting there. Starting from a share of the variance of the differences
    # needs about a third fewer, and reached an equal or higher likelihood on nearly all of
    # 150 test series.
    v = max(float(np.var(np.diff(z))), 1e-4)
    start = {"sigma2.irregular": v / 3, "sigma2.level": v / 3, "sigma2.trend": v / 30}
    with _quiet_fit() as quiet:
        res = model.fit(
            start_params=[start[p] for p in model.param_names],
            disp=False,
            maxiter=_UC_MAXITER,
        )
    _check_converged(res, quiet)

    def simulate(horizon: int, reps: int, rng: np.random.Generator) -> np.ndarray:
        return _simulate_state_space(res, horizon, reps, rng)

    return simulate


def _fit_member(
    name: str, z: np.ndarray, seasonal: bool, season_length: int, cache: dict
) -> Simulator:
    if name.startswith("ets_"):
        return _fit_ets(z, name, season_length, cache)
    if name == "theta":
        return _fit_theta(z, seasonal, season_length, cache)
    if name == "uc_llt":
        return _fit_uc(z)
    raise ValueError(f"unknown member {name!r}")  # pragma: no cover - settings validate names


def _random_walk_drift(z: np.ndarray, horizon: int, reps: int, rng) -> np.ndarray:
    d = np.diff(z)
    drift = float(d.mean())
    sigma = float(d.std(ddof=1)) if d.size > 1 else 0.0
    steps = drift + sigma * rng.standard_normal((reps, horizon))
    return z[-1] + np.cumsum(steps, axis=1)


def _on_grid(z: np.ndarray, positions) -> np.ndarray:
    """The history on a regular grid of periods (NaN where a period is missing)."""
    if positions is None:
        return z
    pos = np.asarray(positions, dtype=int)
    grid = np.full(int(pos[-1] - pos[0]) + 1, np.nan)
    grid[pos - pos[0]] = z
    return grid


def _drift_t_paths(z: np.ndarray, horizon: int, settings: ForecastSettings, periods: int,
                   rng: np.random.Generator, scale: float = 1.0, lag: int | None = None,
                   positions=None) -> np.ndarray:
    """Paths of the damped drift model with parameter uncertainty (``engine="drift_t"``).

    The model works on the ``k`` changes over ``L = lag`` periods ``d_t = z_t - z_{t-L}``:
    ``L = 1`` (from the latest value: stocks, rates, non-seasonal flows, every yearly series) or
    ``L = m = periods`` (a quarter against the same quarter a year before, only for a series whose
    seasonal pattern passes the test of :func:`_is_seasonal`; see :func:`simulate_paths`). With
    ``positions`` (the periods of the history), changes are taken between the right periods: a
    missing quarter drops the changes it is part of instead of shifting the others. With their
    mean ``dbar`` and sum of squares ``S``:

    * volatility: ``sigma^2 ~ nu_n s_n^2 / chi^2(nu_n)``, ``nu_n = nu_0 + k - 1``,
      ``s_n^2 = (nu_0 sigma_0^2 + S) / nu_n``: the conjugate posterior under a flat prior on the
      drift and a scaled-inverse-chi-squared prior of ``nu_0 = prior_df`` pseudo-changes at
      ``sigma_0 = scale * prior_sigma`` (``scale`` 1 on the log and logit scales, where changes
      are relative; the series' mean absolute value on the original scale);
      (the prior is for a year's change: ``sigma_0 / sqrt(m)`` for changes over one quarter);
    * drift: ``mu ~ N(dbar, c L sigma^2 / k)``, ``c = drift_inflation`` (``k / L``: the
      overlapping changes hold about ``k / L`` independent ones);
    * the drift wanders: in year ``a`` ahead it is ``mu_a = mu + eta_1 + ... + eta_a``,
      ``eta ~ N(0, q sigma^2)``, ``q = drift_wander`` (``drift_wander_yearly`` for yearly data);
    * path: ``z_{T+j} = z_{T+j-L} + phi^a mu_a + e_j``, ``e_j ~ N(0, sigma^2)``, ``a = ceil(j/m)``
      the year of step ``j`` and ``phi = drift_damping`` (per year);

    every deviation from the point forecast multiplied by ``widen``. Drawing ``sigma`` and
    ``mu`` per path makes the predictive a Student-t with ``nu_n`` degrees of freedom: heavy-
    tailed when the history is short, close to normal when it is long. For yearly data this is
    the random walk with (damped) drift with parameter uncertainty; for seasonal quarters, the
    seasonal random walk with drift (FPP3 section 5.2) with the same uncertainty.
    """
    n_paths, m = settings.n_paths, periods
    lag = m if lag is None else int(lag)
    grid = _on_grid(z, positions)
    d = grid[lag:] - grid[:-lag]
    d = d[np.isfinite(d)]
    if d.size == 0:  # no two periods ``lag`` apart: changes over one period
        lag, d = 1, np.diff(z)
    k = d.size
    dbar = float(d.mean())
    ss = float(((d - dbar) ** 2).sum())
    nu = settings.prior_df + k - 1
    prior = scale * settings.prior_sigma * math.sqrt(lag / m)
    if nu <= 0:  # one change and no prior: nothing to estimate a volatility from
        nu, s2 = 1.0, 0.0
    else:
        s2 = (settings.prior_df * prior ** 2 + ss) / nu
    sigma = np.sqrt(s2 * nu / rng.chisquare(nu, size=n_paths))[:, None]
    # the k changes over a year overlap when m > 1 (consecutive ones share m - 1 periods), so
    # they hold about k / m independent years of growth: the drift's sampling variance is
    # sigma^2 / (k / m), as for a mean of m-dependent terms
    mu_dev = sigma[:, 0] * math.sqrt(settings.drift_inflation * lag / k) * rng.standard_normal(n_paths)
    shocks = sigma * rng.standard_normal((n_paths, horizon))
    steps = np.arange(1, horizon + 1)
    year = -(-steps // m)  # ceil(j / m)
    drift_weight = settings.drift_damping ** year
    # point forecast and deviations are built along the same recursion, so widen scales only
    # the uncertainty
    last = pd_ffill(grid[-lag:], fallback=float(z[-1]))
    point = np.concatenate([last, np.empty(horizon)])
    dev = np.zeros((n_paths, lag + horizon))
    # the drift wanders from year to year (a local linear trend): a random walk with variance
    # drift_wander * sigma^2 per year, on top of the uncertainty of its current value
    n_years = int(year[-1])
    q = settings.drift_wander_yearly if m == 1 else settings.drift_wander
    wander = np.cumsum(sigma * math.sqrt(q) * rng.standard_normal((n_paths, n_years)), axis=1)
    for j in range(horizon):
        point[lag + j] = point[j] + drift_weight[j] * dbar
        a = int(year[j]) - 1
        dev[:, lag + j] = dev[:, j] + drift_weight[j] * (mu_dev + wander[:, a]) + shocks[:, j]
    return point[None, lag:] + settings.widen * dev[:, lag:]


def pd_ffill(x: np.ndarray, fallback: float) -> np.ndarray:
    """``x`` with each NaN replaced by the latest value before it (``fallback`` at the start)."""
    out = np.array(x, dtype=float)
    prev = fallback
    for i, v in enumerate(out):
        if np.isfinite(v):
            prev = v
        else:
            out[i] = prev
    return out


def drift_lag(z: np.ndarray, periods: int, settings: ForecastSettings, positions=None) -> int:
    """The lag of the changes ``drift_t`` models: ``periods`` (same quarter a year before) only
    for a sub-annual series of two seasons or more that passes the seasonality test, else 1 (from the
    latest value: a stock, a rate, or a flow without a seasonal pattern)."""
    if periods <= 1:
        return 1
    grid = _on_grid(z, positions)
    filled = pd_ffill(grid, fallback=float(z[0]))
    # two full seasons suffice: the seasonal random walk estimates no pattern, it repeats the last year's
    if z.size < 2 * periods or not _is_seasonal(filled, periods):
        return 1
    return periods


# --------------------------------------------------------------------------- helpers


def _is_seasonal(z: np.ndarray, m: int) -> bool:
    """One-sided 90% autocorrelation test at the seasonal lag, on the linearly detrended series.

    The test ``ThetaModel`` uses (``r_m > 1.645 * sqrt((1 + sum_{0<k<m} r_k^2) / n)``; the
    classical M4 version doubles the sum, which with 12-20 points rejects even a clear
    quarterly pattern). Detrending first stops a plain trend, whose autocorrelation is high at
    every lag, from passing for a season.
    """
    n = z.size
    t = np.arange(n, dtype=float)
    resid = z - np.polyval(np.polyfit(t, z, 1), t)
    resid = resid - resid.mean()
    denom = float(resid @ resid)
    if denom <= 0 or n <= m:
        return False
    r = np.array([float(resid[k:] @ resid[: n - k]) / denom for k in range(1, m + 1)])
    limit = _SEASONAL_Z * math.sqrt((1 + float(np.sum(r[:-1] ** 2))) / n)
    return bool(r[-1] > limit)


def _allocate(n_paths: int, k: int) -> list[int]:
    base = n_paths // k
    return [base + n_paths - base * k] + [base] * (k - 1)


def _explosion(paths: np.ndarray, last: float, span: float) -> str | None:
    qs = np.quantile(paths[:, -1], _EXPLODE_QUANTILES)
    limit = _EXPLODE_RANGES * span
    worst = float(np.max(np.abs(qs - last)))
    if worst > limit:
        return (
            f"exploded (a 10/50/90% quantile at the horizon lies {worst / span:.3g} history "
            f"ranges from the last value; limit {_EXPLODE_RANGES:g})"
        )
    return None


def _member_seeds(seed: int) -> dict[str, int]:
    # fixed order over every known member, so a member's draws do not depend on which other
    # members are configured or survive
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, 2**32, size=len(MEMBER_NAMES) + 2)
    return dict(zip((*MEMBER_NAMES, _FALLBACK, "drift_t"), (int(x) for x in draws)))


def _note(
    used: list[str], n_dropped: int, transform: str, seasonal: bool, constant: bool = False
) -> str:
    scale = {"none": "original", "log": "log(1+y)", "logit": "scaled-logit"}[transform]
    if constant:
        return "The history is constant, so every simulated path stays at its last value."
    if used == ["drift_t"]:
        return (
            f"Damped drift model of changes over a year on the {scale} scale, with parameter "
            "uncertainty (Student-t predictive; docs/methodology.md)."
        )
    if used == [_FALLBACK] and not n_dropped:
        return f"Random walk with drift on the {scale} scale; parameter uncertainty not included."
    if used == [_FALLBACK]:
        return (
            f"No model converged, so paths come from a random walk with drift on the {scale} "
            "scale; parameter uncertainty not included."
        )
    dropped = f", {n_dropped} dropped" if n_dropped else ""
    season = ", with seasonal variants" if seasonal else ""
    k = len(used)
    return (
        f"Equal-weight ensemble of {k} converged model{'s' if k > 1 else ''} "
        f"({', '.join(used)}{dropped}{season}) simulated on the {scale} scale; "
        "parameter uncertainty not included, so intervals are likely too narrow."
    )


# --------------------------------------------------------------------------- public API


def simulate_paths(
    history,
    horizon: int,
    *,
    transform: str = "none",
    bounds=(None, None),
    season_length: int = 4,
    settings: ForecastSettings = ForecastSettings(),
    seed: int | None = None,
    integer: bool = False,
    freq: str | None = None,
    positions=None,
) -> PathForecast:
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
    ``drift_t``: see :func:`_drift_t_paths` and ``docs/methodology.md`` section 4. The rest of
    these notes is about ``engine="ensemble"``.

    Members (all statsmodels, fitted once each):

    ``ets_ann``
        ``ETSModel(error="add")``: simple exponential smoothing.
    ``ets_aadn``
        ``ETSModel(error="add", trend="add", damped_trend=True)``.
    ``ets_ana``
        ``ETSModel(error="add", seasonal="add")``, only on seasonal series (added
        automatically).
    ``theta``
        ``ThetaModel`` (additive deseasonalising on seasonal series). It has no simulator:
        paths are its point forecast plus SES-type cumulated innovations,
        ``e_{T+h} + alpha * sum_{j<h} e_{T+j}`` with ``e ~ N(0, sigma2)`` and ``sigma2`` the
        variance of the method's in-sample one-step errors.
    ``uc_llt``
        ``UnobservedComponents(level="local linear trend")``.

    Members are fitted on the modelling-scale history standardised to mean 0 and standard
    deviation 1 (all members are affine-equivariant, so this only improves the optimisers'
    conditioning); paths are scaled back before the back-transform.

    ETS paths come from ``ETSResults.simulate(h, repetitions=R, anchor="end")``, so they start
    after the last observation (the default anchor simulates from the start of the sample).
    UC paths come from a vectorised equivalent of ``simulate(..., anchor="end")`` (see
    ``_simulate_state_space``), which is ~50 times faster than statsmodels' per-path loop.

    A member is dropped, with the reason in ``members_dropped`` (and logged at INFO), if its fit
    raises, reports non-convergence (``mle_retvals['converged']`` or a ConvergenceWarning),
    gives any non-finite path, or explodes: the 10%, 50% or 90% quantile of its paths at the
    last horizon step lies more than 10 x (max - min of the history) from the last observation,
    measured on the modelling scale. A constant history fits no model: every path stays at the
    last value (``members_used == ["rw_drift"]``, with zero drift and variance).

    The survivors are combined as an equal-weight mixture: with K members each simulates
    ``n_paths // K`` paths (the first also the remainder), concatenated in member order. If no
    member survives, a random walk with drift on the modelling scale (drift and sigma from the
    first differences) produces all paths and ``members_used == ["rw_drift"]``.

    Parameter uncertainty is not included: simulations condition on the fitted parameters, so
    intervals are too narrow on short series (M4 found submitted intervals overconfident). One
    fit per member keeps a run of ~300 series within seconds.
    """
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
    if settings.engine == "ensemble":
        pf = _simulate_ensemble(z, horizon, transform, lo, hi, season_length, settings, seeds)
    else:
        periods = 1 if yearly else season_length
        if settings.engine == "drift_t":
            scale = 1.0 if transform != "none" else float(np.mean(np.abs(z)))
            if small_count and settings.prior_sigma > 0:
                # a count moves in whole units: the prior volatility is at least half a unit
                scale = max(scale, 0.5 / settings.prior_sigma)
            # changes over a year need two of them at least; a shorter sub-annual history (only
            # if min_points is set below season_length + 2) falls back to changes per period
            per = periods if y.size >= periods + 2 else 1
            zpaths = _drift_t_paths(z, horizon, settings, per, np.random.default_rng(seeds["drift_t"]), scale,
                                    lag=drift_lag(z, per, settings, positions), positions=positions)
        else:
            zpaths = _random_walk_drift(z, horizon, settings.n_paths, np.random.default_rng(seeds[_FALLBACK]))
        pf = PathForecast(paths=_backward(zpaths, transform, lo, hi), members_used=[settings.engine],
                          transform=transform, note=_note([settings.engine], 0, transform, False))
    if integer:
        # whole-number counts: a path of 12.6 deals is 13 deals; rounding after the bounds
        # keeps the paths whole and lets them reach a bound (13 of 13) without any snapping
        paths = np.rint(pf.paths)
        if lo is not None or hi is not None:
            paths = np.clip(paths, -np.inf if lo is None else math.ceil(lo - 1e-9),
                            np.inf if hi is None else math.floor(hi + 1e-9))
        pf.paths = paths
    return pf


def _simulate_ensemble(z, horizon, transform, lo, hi, season_length, settings, seeds) -> PathForecast:
    """The equal-weight statsmodels ensemble (``engine="ensemble"``) on the modelling scale."""
    dropped: dict[str, str] = {}

    def drop(name: str, reason: str) -> None:
        dropped[name] = reason
        log.info("forecast member %s dropped: %s", name, reason)

    centre, spread = float(z.mean()), float(z.std())
    if not spread > 1e-12 * max(1.0, abs(centre)):
        # nothing to estimate a variance from; every member would fail or divide by zero
        for name in settings.members:
            drop(name, "not fitted (constant history)")
        paths = _backward(np.full((settings.n_paths, horizon), z[-1]), transform, lo, hi)
        return PathForecast(
            paths=paths,
            members_used=[_FALLBACK],
            members_dropped=dropped,
            transform=transform,
            note=_note([_FALLBACK], len(dropped), transform, False, constant=True),
        )
    # Fit on a standardised copy: all members are affine-equivariant, and it gives optimisers
    # the same conditioning (and tolerances the same meaning) for rates near 1 and amounts
    # near 1e9.
    zs = (z - centre) / spread

    seasonal = (
        season_length > 1
        and zs.size >= max(settings.seasonal_min_points, 2 * season_length)
        and _is_seasonal(zs, season_length)
    )
    candidates = [m for m in settings.members if m != "ets_ana"]
    if seasonal:  # next to its ETS siblings, so the path blocks read in a natural order
        at = max((i + 1 for i, m in enumerate(candidates) if m.startswith("ets_")), default=0)
        candidates.insert(at, "ets_ana")

    simulators: dict[str, Simulator] = {}
    fits: dict = {}  # shared between members that need the same fit
    for name in candidates:
        try:
            simulators[name] = _fit_member(name, zs, seasonal, season_length, fits)
        except _MemberDropped as exc:
            drop(name, str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure of one member must not sink the run
            drop(name, f"failed ({type(exc).__name__}: {exc})")

    last = float(zs[-1])
    span = float(zs.max() - zs.min())  # > 0: the history is not constant

    # Allocation depends on how many members survive, and survival is only known after
    # simulating; redo the allocation whenever a member is dropped. Each member always draws
    # from its own seed, so redoing cannot change the result, only its cost.
    cache: dict[tuple[str, int], np.ndarray] = {}
    blocks: list[np.ndarray] = []
    while simulators:
        counts = _allocate(settings.n_paths, len(simulators))
        blocks = []
        for (name, sim), reps in zip(list(simulators.items()), counts):
            key = (name, reps)
            if key not in cache:
                try:
                    with np.errstate(all="ignore"):  # overflow is caught below as non-finite
                        cache[key] = sim(horizon, reps, np.random.default_rng(seeds[name]))
                except Exception as exc:  # noqa: BLE001 - as above
                    drop(name, f"failed ({type(exc).__name__}: {exc})")
                    break
            member_paths = cache[key]
            if not np.all(np.isfinite(member_paths)):
                drop(name, "non-finite paths")
                break
            reason = _explosion(member_paths, last, span)
            if reason:
                drop(name, reason)
                break
            blocks.append(member_paths)
        else:
            break  # every member passed: blocks is final
        del simulators[next(n for n in simulators if n in dropped)]

    if simulators:
        used = list(simulators)
        zpaths = np.concatenate(blocks, axis=0)
    else:
        used = [_FALLBACK]
        zpaths = _random_walk_drift(
            zs, horizon, settings.n_paths, np.random.default_rng(seeds[_FALLBACK])
        )
        log.info("forecast: no member survived; random walk with drift used")
    zpaths = centre + spread * zpaths

    paths = _backward(zpaths, transform, lo, hi)
    return PathForecast(
        paths=paths,
        members_used=used,
        members_dropped=dropped,
        transform=transform,
        note=_note(used, len(dropped), transform, seasonal),
    )


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
