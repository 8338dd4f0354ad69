"""The default engine ``drift_t``: a damped drift model with parameter uncertainty (Student-t
predictive), from the latest value unless the series is seasonal (``docs/methodology.md`` section 4)."""

from __future__ import annotations

import math

import numpy as np

from helpers.model import engines
from helpers.model.forecast_core import ForecastSettings, PathForecast, _backward, _is_seasonal, _note

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
    # q is a year's drift wander in units of a year's change variance; on changes over one quarter
    # (sigma^2 a quarter of a year's) the quarterly drift times m must wander as much: q * L / m
    q = q * lag / m
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


def run(z: np.ndarray, horizon: int, job: engines.EngineInput) -> PathForecast:
    settings = job.settings
    scale = 1.0 if job.transform != "none" else float(np.mean(np.abs(z)))
    if job.small_count and settings.prior_sigma > 0:
        # a count moves in whole units: the prior volatility is at least half a unit
        scale = max(scale, 0.5 / settings.prior_sigma)
    # changes over a year need two of them at least; a shorter sub-annual history (only
    # if min_points is set below season_length + 2) falls back to changes per period
    per = job.periods if z.size >= job.periods + 2 else 1
    zpaths = _drift_t_paths(z, horizon, settings, per, np.random.default_rng(job.seeds["drift_t"]), scale,
                            lag=drift_lag(z, per, settings, job.positions), positions=job.positions)
    return PathForecast(paths=_backward(zpaths, job.transform, job.lo, job.hi), members_used=["drift_t"],
                        transform=job.transform, note=_note(["drift_t"], 0, job.transform, False))


engines.register("drift_t", run)
