"""The statsmodels ensemble (``engine: ensemble``): ETS, Theta and unobserved-components members,
fitted once each on the standardised modelling-scale history, dropped when they do not converge or
explode, each simulating an equal share of the paths. Parameter uncertainty is not included.
Kept for comparison and for the backtest's per-member rows (``docs/methodology.md`` section 4).

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

The members are fitted and simulated in :mod:`helpers.model.ensemble_members`; this module picks
them in order, checks their paths and mixes the survivors.
"""

from __future__ import annotations

import numpy as np

from helpers.model import engines
from helpers.model.engine_rw_drift import _random_walk_drift
from helpers.model.ensemble_members import (  # noqa: F401 - re-exported: the members' old home
    _ETS_SPECS,
    _as_paths,
    _check_converged,
    _converged_flag,
    _ets_results,
    _fit_ets,
    _fit_theta,
    _fit_uc,
    _MemberDropped,
    _psd_sqrt,
    _quiet_fit,
    _simulate_state_space,
    _theta_one_step_errors,
)
from helpers.model.forecast_core import (
    _EXPLODE_QUANTILES,
    _EXPLODE_RANGES,
    _FALLBACK,
    PathForecast,
    Simulator,
    _backward,
    _is_seasonal,
    _note,
    log,
)

# --------------------------------------------------------------------------- the mixture


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


def _members_to_fit(members, seasonal: bool) -> list[str]:
    """The members to fit: those of the settings, ``ets_ana`` only on a seasonal series."""
    candidates = [m for m in members if m != "ets_ana"]
    if seasonal:  # next to its ETS siblings, so the path blocks read in a natural order
        at = max((i + 1 for i, m in enumerate(candidates) if m.startswith("ets_")), default=0)
        candidates.insert(at, "ets_ana")
    return candidates


def _fit_members(candidates: list[str], zs: np.ndarray, seasonal: bool, season_length: int,
                 drop) -> dict[str, Simulator]:
    """Each member's simulator, in order; a member whose fit fails is dropped with the reason."""
    simulators: dict[str, Simulator] = {}
    fits: dict = {}  # shared between members that need the same fit
    for name in candidates:
        try:
            simulators[name] = _fit_member(name, zs, seasonal, season_length, fits)
        except _MemberDropped as exc:
            drop(name, str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure of one member must not sink the run
            drop(name, f"failed ({type(exc).__name__}: {exc})")
    return simulators


def _draw_blocks(simulators: dict[str, Simulator], horizon: int, n_paths: int, seeds, last: float, span: float,
                 drop, dropped: dict[str, str]) -> list[np.ndarray]:
    """Each member's share of the paths, in member order. A member whose simulation fails, is not
    finite or explodes is dropped (and taken out of ``simulators``), and the shares drawn again."""
    # Allocation depends on how many members survive, and survival is only known after
    # simulating; redo the allocation whenever a member is dropped. Each member always draws
    # from its own seed, so redoing cannot change the result, only its cost.
    cache: dict[tuple[str, int], np.ndarray] = {}
    blocks: list[np.ndarray] = []
    while simulators:
        counts = _allocate(n_paths, len(simulators))
        blocks = []
        for (name, sim), reps in zip(list(simulators.items()), counts):
            key = (name, reps)
            if key not in cache:
                try:
                    with np.errstate(all="ignore"):  # overflow is caught below as non-finite
                        cache[key] = sim(horizon, reps, np.random.default_rng(seeds[name]))
                except Exception as exc:  # noqa: BLE001 - one member's failure must not sink the run
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
    return blocks


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
    simulators = _fit_members(_members_to_fit(settings.members, seasonal), zs, seasonal, season_length, drop)

    last = float(zs[-1])
    span = float(zs.max() - zs.min())  # > 0: the history is not constant

    blocks = _draw_blocks(simulators, horizon, settings.n_paths, seeds, last, span, drop, dropped)

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


def run(z: np.ndarray, horizon: int, job: engines.EngineInput) -> PathForecast:
    return _simulate_ensemble(z, horizon, job.transform, job.lo, job.hi, job.season_length, job.settings, job.seeds)


engines.register("ensemble", run)
