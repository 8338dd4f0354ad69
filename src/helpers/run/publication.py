"""A run sees only what could be known on its date: no period after its quarter, no figure not yet published.

The run's date is its ``--as-of`` day, else the day the schedule runs its quarter (25 January for
2025Q4), so a re-run or ``ipeval reproduce`` a year later gives the same answer. Rows of periods
after the quarter are dropped (the 2025Q2 package holds no 2025Q3, 2025Q4 or 2025 rows); rows
published after the run's date (:mod:`helpers.plan.publication`) are set aside, and a target
whose judged period is among them is shown 待公布 (``pending_publication``) with its forecast
instead of a verdict (:func:`mark_pending`).
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd

PENDING = "pending_publication"


def run_date(settings, quarter, as_of_day: date | None = None) -> date:
    """The date a run is taken to be made on: ``--as-of`` if given, else the quarter's scheduled run."""
    if as_of_day is not None:
        return as_of_day
    # the same first firing after the quarter as helpers.run.schedule.scheduled_run_time (not imported:
    # the scheduler imports the run, and stages import one way)
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    tz = ZoneInfo(settings.schedule.timezone)
    after = datetime.combine(quarter.end_date + timedelta(days=1), time(0, 0), tzinfo=tz)
    return CronTrigger.from_crontab(settings.schedule.cron, timezone=tz).get_next_fire_time(None, after).date()


def known_at_run(ds, plan, settings, quarter, as_of_day: date | None = None):
    """The dataset cut to what the run may know, and the rows set aside as not yet published.

    Returns
    -------
    (Dataset, DataFrame)
        The dataset without periods after ``quarter`` or figures published after the run's date;
        the unpublished rows (``indicator_id, geography_code, period, available_on``).
    """
    from helpers.plan.publication import load_lags

    frame = ds.frame
    day = run_date(settings, quarter, as_of_day)
    lags = load_lags(plan)
    within = frame["qindex"] <= quarter.index if "qindex" in frame.columns else pd.Series(True, index=frame.index)
    frame = frame[within]
    avail = pd.Series([lags.available_on(plan.indicator(i), p) for i, p in zip(frame["indicator_id"], frame["period"])],
                      index=frame.index, dtype=object) if len(frame) else pd.Series([], dtype=object)
    late = avail > day
    pending = frame.loc[late, ["indicator_id", "geography_code", "period"]].assign(available_on=avail[late].astype(str))
    kept = frame[~late]
    if len(kept) != len(ds.frame):
        ds = dataclasses.replace(ds, frame=kept.reset_index(drop=True))
    return ds, pending.reset_index(drop=True)


def mark_pending(table: pd.DataFrame, plan, pending: pd.DataFrame | None, quarter) -> pd.DataFrame:
    """Targets whose judged period is not yet published: status ``pending_publication``, forecast kept.

    A target already settled by a published period (achieved early, or an earlier year missed) keeps
    its verdict; an open or final verdict that would rest on the missing period becomes pending.
    """
    if pending is None or pending.empty or table.empty:
        return table
    out = table.copy()
    late_periods = pending.groupby("indicator_id")["period"].apply(set).to_dict()
    for k, r in out.iterrows():
        ind_id = r["indicator_id"]
        if ind_id not in late_periods or r.get("status") in ("reference", "no_target", ""):
            continue
        ind = plan.indicator(ind_id)
        if ind.target is None or quarter < ind.target.due:
            continue  # mid-term: the due period is in the future anyway, the forecast is the answer
        due = str(ind.target.due.year) if ind.frequency == "annual" else str(ind.target.due)
        if due not in late_periods[ind_id]:
            continue
        settled = str(r.get("settled_on") or "")
        if r["status"] == "achieved" or (r["status"] == "missed" and settled and settled[:4] < due[:4]):
            continue
        out.at[k, "status"] = PENDING
        if "sdg_category" in out.columns:
            out.at[k, "sdg_category"] = "not_applicable"  # no category on a figure nobody has yet
        out.at[k, "note"] = f"{PENDING}:{due}"  # a code, like the other notes: the pages word it
    return out
