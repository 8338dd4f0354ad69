"""A run's inputs: the parameters checked, the settings, registry, geographies and data loaded, before anything is written.

:func:`load_run_inputs` is the first stage of :func:`helpers.run.quarter.run_quarter`: every parameter is
checked (quarter, sections, geographies, language, executor) and the data validated; an invalid one is an
:class:`~helpers.exceptions.IpevalError` and nothing is written under ``outputs/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from helpers.exceptions import ConfigError, InvalidPeriodError
from helpers.i18n import et
from helpers.plan.geography import Geographies
from helpers.plan.periods import Quarter, latest_complete_quarter
from helpers.plan.registry import OVERVIEW, Plan
from helpers.run.execute import check_scheduler, worker_count
from helpers.settings import Settings

if TYPE_CHECKING:  # for the annotations only: pandera and the forecast engine load when a run needs them
    from helpers.data.contract import Dataset
    from helpers.model.assess import StatusThresholds
    from helpers.model.forecast import ForecastSettings


@dataclass
class RunInputs:
    """Everything a run reads, loaded and checked before anything is written."""

    settings: Settings
    plan: Plan
    geos: Geographies
    dataset: Dataset
    quarter: Quarter
    lang: str
    data_files: list
    forecast: ForecastSettings
    thresholds: StatusThresholds
    pairs: list
    workers: int
    executor: str
    scheduler: str | None
    store_state: dict | None = None   # the store's vintages and view hash (None: --data files read directly)
    store_view: pd.DataFrame | None = None
    received_files: list = field(default_factory=list)
    pending: pd.DataFrame | None = None  # rows not yet published at the run's date (run/publication.py)


def resolve_quarter(text: str, frame: pd.DataFrame | None = None, first: Quarter | None = None,
                    today=None) -> Quarter:
    """``2025Q2`` or ``latest``: the last quarter with quarterly data, not after the last quarter
    ended by ``today`` (default: now; a run ``--as-of`` a date: that date).

    A quarter given by name must lie between the first quarter with data (else ``first``, the
    registry's ``plan.data_from``) and the last ended quarter: a run of 2000Q1 or of a quarter
    not yet over would publish reports about nothing.
    """
    last = latest_complete_quarter(today)
    if str(text).strip().lower() == "latest":
        if frame is not None and len(frame):
            quarterly = frame[frame["period"].str.contains("Q")]
            if len(quarterly):
                last = min(last, Quarter.from_index(int(quarterly["qindex"].max())))
        return last
    q = Quarter.parse(text)
    if frame is not None and len(frame):
        first = Quarter.from_index(int(frame["qindex"].min()))
    if q > last:
        raise InvalidPeriodError(et("quarter_not_ended", q=q, last=last))
    if first is not None and q < first:
        raise InvalidPeriodError(et("quarter_before_data", q=q, first=first, last=last))
    return q


def plan_jobs(plan, geos, sections: list[str] | None, geographies: list[str] | None) -> list[tuple[str, str]]:
    """(section, geography code) pairs to run: every section with at least one indicator that
    applies to the geography, plus the overview. Unknown sections or codes are refused here."""
    chosen = sections or plan.pages
    for s in chosen:
        if s != OVERVIEW:
            plan.section(s)  # raises UnknownSectionError listing the valid ones
    chosen = list(dict.fromkeys(s.strip() for s in chosen))  # --sections a,a: one report, not two into the same files
    codes = list(dict.fromkeys(c.strip() for c in geographies)) if geographies else None
    geo_objs = [geos.get(c) for c in codes] if codes else list(geos.all)
    pairs = []
    for s in chosen:
        for g in geo_objs:
            if any(g.is_city or not i.city_only for i in plan.page_indicators(s)):
                pairs.append((s, g.code))
    return pairs


def load_run_inputs(settings: Settings, quarter="latest", *, sections=None, geographies=None, lang=None,
                    workers=None, executor="local", scheduler=None, data_paths=None, as_of=None) -> RunInputs:
    """Load and check every input of a run; raises an :class:`IpevalError` before anything is written.

    Without ``data_paths`` the data are the observation store's view as known at ``as_of``
    (default: the latest vintage); files given directly bypass the store.
    """
    from helpers.data.contract import load_data
    from helpers.model.settings_views import forecast_settings, status_thresholds
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan, require_confirmed
    from helpers.run.publication import known_at_run
    from helpers.run.task_status import ensure_demo_task_returns

    plan = require_confirmed(load_plan(settings.plan_path))  # a draft's unchecked entries never run
    geos = load_geographies(settings.geographies_path)
    lang = lang or settings.language
    if lang not in ("zh", "en"):
        raise ConfigError(et("bad_language", lang=repr(lang)))
    if executor not in ("local", "dask"):
        raise ConfigError(et("bad_executor", executor=repr(executor)))
    if executor == "dask" and not scheduler:
        raise ConfigError(et("dask_needs_scheduler"))
    # the reports in forked shells: one per CPU by default (run/execute.py)
    n_workers = worker_count(workers, settings.executor.workers,
                             shells=settings.executor.forks_shells and executor != "dask")
    out_root = settings.outputs_path
    if out_root.exists() and not out_root.is_dir():
        raise ConfigError(et("outputs_is_a_file", path=out_root, settings=settings.path))
    pairs = plan_jobs(plan, geos, sections, geographies)  # refuses unknown sections/codes
    if n_workers > 1:  # the assessments' fit server imports the model while the data load (model/fitpool.py)
        from helpers.model.fitpool import start_early

        start_early()
    state = view = None
    received: list[Path] = []
    if data_paths:
        if as_of:
            raise ConfigError(et("as_of_with_data"))
        data_files = [Path(p).resolve() for p in data_paths]
    else:
        from helpers.data.store import read_view

        ensure_demo_task_returns(settings, plan, geos)  # before the state is recorded (run/task_status.py)
        data_files, state, view, received = read_view(settings, plan, geos, as_of)
    ds = load_data(data_files, plan, geos)  # DataValidationError: nothing written
    as_of_day = datetime.fromisoformat(state["as_of"].replace("Z", "+00:00")).date() if state and state["as_of"] else None
    q = resolve_quarter(quarter, ds.frame, plan.data_from, as_of_day)
    as_of_time = datetime.fromisoformat(state["as_of"].replace("Z", "+00:00")) if state and state["as_of"] else None
    ds, pending = known_at_run(ds, plan, settings, q, now=as_of_time)  # nothing after q, or unpublished
    if executor == "dask":
        import importlib.util

        from helpers.exceptions import EnvironmentFailure

        if importlib.util.find_spec("distributed") is None:  # an extra since Dask serves only this executor
            raise EnvironmentFailure(et("dask_missing"))
        check_scheduler(scheduler)  # in seconds, before anything is written
    return RunInputs(settings, plan, geos, ds, q, lang, data_files,
                     forecast_settings(settings), status_thresholds(settings), pairs, n_workers, executor, scheduler,
                     state, view, received, pending)
