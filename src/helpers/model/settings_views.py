"""The model's views of the one settings object: the forecast and status blocks as the types the model takes.

``params/settings.yaml`` is read and checked once (:func:`helpers.settings.load_settings`, pydantic);
the forecast engine and the status rules take their own types (:class:`ForecastSettings`,
:class:`StatusThresholds`). These two functions are the boundary between them, so every caller
converts the same way instead of rebuilding the types from dicts at each site.
"""

from __future__ import annotations

from helpers.model.assess import StatusThresholds
from helpers.model.forecast import ForecastSettings


def forecast_settings(settings) -> ForecastSettings:
    """The ``forecast`` block of ``settings`` as the forecast engine's settings (unset keys: the engine's defaults)."""
    return ForecastSettings.from_mapping(settings.block("forecast"))


def status_thresholds(settings) -> StatusThresholds:
    """The ``status`` block of ``settings`` as the status rules' thresholds (unset keys: their defaults)."""
    return StatusThresholds(**settings.block("status"))
