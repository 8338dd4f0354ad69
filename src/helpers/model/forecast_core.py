"""The forecast engines' common ground: settings, the result type, modelling-scale transforms,
the seasonality test, seeds and notes (:mod:`helpers.model.forecast` is the public API; each
engine is a module registered in :mod:`helpers.model.engines`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from helpers.exceptions import ConfigError
from helpers.i18n import et

log = logging.getLogger("helpers.model.forecast")

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
        Variance per year of the random walk the drift follows, in units of ``sigma^2`` (of a
        year's change: times ``L / m`` for changes over one quarter), for sub-annual and for
        yearly series: growth rates wander, so a drift estimated from the
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
                raise ConfigError(et("fc_whole_number", name=name, value=repr(value)))
            if value < low:
                raise ConfigError(et("fc_at_least", name=name, low=low, value=value))
        for name, low, high in (("drift_damping", 0.0, 1.0), ("drift_inflation", 0.0, 100.0),
                                ("prior_sigma", 0.0, 10.0), ("prior_df", 0.0, 1000.0),
                                ("drift_wander", 0.0, 100.0), ("drift_wander_yearly", 0.0, 100.0),
                                ("widen", 0.1, 10.0)):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
                raise ConfigError(et("fc_number", name=name, value=repr(value)))
            if not low <= float(value) <= high:
                raise ConfigError(et("fc_between", name=name, low=low, high=high, value=value))
            object.__setattr__(self, name, float(value))
        if self.engine not in ENGINES:
            raise ConfigError(et("fc_engine", engines=list(ENGINES), engine=repr(self.engine)))
        members = self.members
        if isinstance(members, str) or not isinstance(members, (tuple, list)):
            raise ConfigError(et("fc_members_list", members=repr(members)))
        members = tuple(members)
        object.__setattr__(self, "members", members)  # accept a list from YAML, keep hashable
        unknown = [m for m in members if m not in MEMBER_NAMES]
        if unknown:
            raise ConfigError(et("fc_members_unknown", unknown=unknown, names=list(MEMBER_NAMES)))
        if not [m for m in members if m != "ets_ana"]:  # ets_ana alone fits non-seasonal nothing
            raise ConfigError(et("fc_members_seasonal_only"))
        if len(set(members)) != len(members):
            raise ConfigError(et("fc_members_twice", members=list(members)))
        if self.weights not in _WEIGHTS:
            raise ConfigError(et("fc_weights", options=list(_WEIGHTS), weights=repr(self.weights)))

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
            raise ConfigError(et("fc_not_mapping", type=type(d).__name__))
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise ConfigError(et("fc_unknown", unknown=unknown, known=sorted(known)))
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



Simulator = Callable[[int, int, np.random.Generator], np.ndarray]


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
