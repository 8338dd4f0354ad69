"""The registry of forecast engines (``forecast.engine`` in ``params/settings.yaml``), as papermill
registers its execution engines: each engine is a module that calls :func:`register` with its name
and a function ``run(z, horizon, job) -> PathForecast`` (``z`` the history on the modelling scale,
``job`` an :class:`EngineInput`); :func:`helpers.model.forecast.simulate_paths` checks the input,
transforms it, looks the engine up with :func:`get` and rounds counts afterwards.

Engines: ``drift_t`` (:mod:`helpers.model.engine_drift_t`, the default), ``ensemble``
(:mod:`helpers.model.engine_ensemble`), ``rw_drift`` (:mod:`helpers.model.engine_rw_drift`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_REGISTRY: dict[str, Callable] = {}


@dataclass(frozen=True)
class EngineInput:
    """What an engine needs besides the history: the modelling scale and its bounds, the season
    length and periods per year, the settings, one seed per member, whether the history is a small
    count, and the observations' periods (``positions``, None for consecutive periods)."""

    transform: str
    lo: float | None
    hi: float | None
    season_length: int
    periods: int
    settings: Any
    seeds: dict
    small_count: bool = False
    positions: Any = None


def register(name: str, run: Callable) -> None:
    """Register ``run`` as the engine ``name`` (a later registration replaces an earlier one)."""
    _REGISTRY[name] = run


def get(name: str) -> Callable:
    """The engine ``name``; KeyError naming the registered ones if there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no forecast engine {name!r}; registered: {sorted(_REGISTRY)}") from None


def names() -> list[str]:
    """The registered engines' names."""
    return sorted(_REGISTRY)
