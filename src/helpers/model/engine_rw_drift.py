"""The baseline engine ``rw_drift``: a random walk with drift and plug-in parameters (no parameter
uncertainty); also the ensemble's fallback when no member converges."""

from __future__ import annotations

import numpy as np

from helpers.model import engines
from helpers.model.forecast_core import _FALLBACK, PathForecast, _backward, _note


def _random_walk_drift(z: np.ndarray, horizon: int, reps: int, rng) -> np.ndarray:
    d = np.diff(z)
    drift = float(d.mean())
    sigma = float(d.std(ddof=1)) if d.size > 1 else 0.0
    steps = drift + sigma * rng.standard_normal((reps, horizon))
    return z[-1] + np.cumsum(steps, axis=1)


def run(z: np.ndarray, horizon: int, job: engines.EngineInput) -> PathForecast:
    zpaths = _random_walk_drift(z, horizon, job.settings.n_paths, np.random.default_rng(job.seeds[_FALLBACK]))
    return PathForecast(paths=_backward(zpaths, job.transform, job.lo, job.hi), members_used=[_FALLBACK],
                        transform=job.transform, note=_note([_FALLBACK], 0, job.transform, False))


engines.register("rw_drift", run)
