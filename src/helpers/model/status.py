"""What an assessment says: the statuses a target can have, the thresholds that make an open
target's probability a status, and one row of ``assessments.csv`` (:class:`Assessment`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from helpers.model import official

SETTLED = ("achieved", "missed")
OPEN: tuple[str, ...] = ("on_track_reached", "on_track", "at_risk", "off_track", "insufficient_data")
# the final assessment of a target the missing returns leave undecided (数据缺失): neither
# settled nor open; the returns missing are listed in the row's ``missing_returns``
DATA_MISSING = "data_missing"
JUDGED: tuple[str, ...] = SETTLED + OPEN + (DATA_MISSING,)  # statuses of a target this geography is held to
# not_applicable (不适用): a rate with no cases (0/0) in its due year; nothing to judge
STATUSES: tuple[str, ...] = JUDGED + ("reference", "no_target", "not_applicable")
# publication lag (helpers.run.publication): the judged period's figure is not yet published; forecast kept
PENDING_PUBLICATION = "pending_publication"
OPEN, JUDGED, STATUSES = (OPEN + (PENDING_PUBLICATION,), JUDGED + (PENDING_PUBLICATION,),
                          STATUSES + (PENDING_PUBLICATION,))
SDG_CATEGORIES = official.CATEGORIES + ("not_met", "not_applicable")
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
STAGES = ("midterm", "final")


@dataclass(frozen=True)
class StatusThresholds:
    """Probability thresholds: p >= on_track is on track; at_risk <= p < on_track is at risk.

    ``hold_districts``: judge each district against a city-wide standard (a rate or per-capita
    target the plan sets for 全市) instead of showing its figure as reference.
    """

    on_track: float = 0.80
    at_risk: float = 0.40
    hold_districts: bool = False

    def status(self, p: float) -> str:
        if p >= self.on_track:
            return "on_track"
        if p >= self.at_risk:
            return "at_risk"
        return "off_track"


@dataclass
class Assessment:
    """One row of ``assessments.csv``: an indicator for a geography at an as-of quarter."""

    indicator_id: str
    section: str
    geography_code: str
    as_of: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    target_kind: str = ""
    direction: str = ""
    target_value: float = np.nan
    due: str = ""
    binds: str = ""                     # city | each_district | sum_of_districts
    n_obs: int = 0
    latest_period: str = ""
    latest_value: float = np.nan
    progress_value: float = np.nan      # the target quantity observed so far
    gap: float = np.nan                 # how far progress is from the target (0 when met)
    probability: float = np.nan
    forecast_median: float = np.nan     # of the target quantity at the due date
    forecast_lo80: float = np.nan
    forecast_hi80: float = np.nan
    forecast_lo95: float = np.nan
    forecast_hi95: float = np.nan
    status: str = "insufficient_data"
    settled_on: str = ""                # the period whose data settled the target
    early: bool = False                 # achieved before the due period
    sdg_ratio: float = np.nan
    sdg_category: str = "insufficient_data"
    decided_by: str = ""                # observed | beta_binomial | <engine: drift_t, ensemble, ...> | reference | none
    models_used: str = ""
    models_dropped: str = ""
    note: str = ""
    missing_returns: str = ""           # "geography:period;..." returns missing in the target period
    bands: list = field(default_factory=list, repr=False)  # per future period quantiles of the series

    def row(self) -> dict:
        d = asdict(self)
        d.pop("bands")
        return d
