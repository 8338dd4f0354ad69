"""A run sees only what could be known on its date: no period after its quarter, no figure not yet published.

The run's date is its ``--as-of`` day, else the day it runs (the scheduled run of 2025Q4 is on 25
January 2026); ``ipeval reproduce`` takes it from the manifest, so it cuts the data as the run did. Rows of periods
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


def run_date(settings, quarter, as_of_day: date | None = None, now=None) -> date:
    """The date a run is taken to be made on: its ``--as-of`` day, else the day it runs (``now``, default
    the clock), in the schedule's time zone (a 06:00 Shanghai run is on the 25th, not the UTC 24th).
    ``ipeval reproduce`` passes the manifest's ``started`` so it cuts the data as the run did."""
    if as_of_day is not None:
        return as_of_day
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(settings.schedule.timezone)
    return (now or datetime.now(timezone.utc)).astimezone(tz).date()


def known_at_run(ds, plan, settings, quarter, as_of_day: date | None = None, now=None):
    """The dataset cut to what the run may know, and the rows set aside as not yet published.

    Returns
    -------
    (Dataset, DataFrame)
        The dataset without periods after ``quarter`` or figures published after the run's date;
        the unpublished rows (``indicator_id, geography_code, period, available_on``).
    """
    from helpers.plan.publication import load_lags

    frame = ds.frame
    day = run_date(settings, quarter, as_of_day, now)
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
