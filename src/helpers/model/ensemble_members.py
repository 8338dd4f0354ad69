"""The members of the statsmodels ensemble (:mod:`helpers.model.engine_ensemble`): how each is
fitted (ETS, Theta, unobserved components), checked for convergence, and simulated."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np

from helpers.model.forecast_core import _ETS_MAXITER, _UC_MAXITER, Simulator, log

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



_ETS_SPECS: dict[str, dict[str, str | bool | int | None]] = {
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
    res, error = cache[key]
    if error is not None:
        raise error
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
