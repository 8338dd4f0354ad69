"""Assess every target for every geography: progress, probability of meeting it, status.

For each indicator and geography, from data up to the as-of quarter, :func:`assess_one`

1. builds the observed series (:mod:`helpers.data.series`);
2. lists the returns missing in the target's period (:func:`helpers.data.series.missing_returns`)
   and asks the target's kind (:mod:`helpers.model.kinds`) whether the observed data settle it:
   then the status is ``achieved`` (also when a known lower bound already meets it) or ``missed``
   (only on complete data), with the period that settled it; a rate with no cases (0/0) all its
   due year is ``not_applicable``;
3. otherwise simulates future paths of the series (:mod:`helpers.model.forecast`), from 3 yearly or
   6 quarterly points on, and the kind turns each path into the target quantity, so the
   probability is the share of paths that meet the target; the status is ``on_track``, ``at_risk``
   or ``off_track`` from the thresholds in ``params/settings.yaml`` (``on_track_reached`` for a
   level already at the target before its due period is observed, while the probability says on
   track); at or after the due date, a target missing returns leave undecided is ``data_missing``
   (数据缺失) with the returns listed in ``missing_returns``;
4. computes the official-style category beside it (:mod:`helpers.model.official`, the UN SDG
   Progress Chart's actual against required growth), for open targets; a settled target's
   category is its verdict (``met`` / ``not_met``), so the two never contradict;
5. marks a district's row of a target that binds the city only as ``reference``.

The module is split by job: :mod:`helpers.model.status` (statuses, thresholds, the row),
:mod:`helpers.model.binding` (which geography is held to which target) and
:mod:`helpers.model.assess_steps` (the steps of one assessment); their names are re-exported here.
Formulas and their justification: ``docs/methodology.md``.
"""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from helpers.cache import Store
from helpers.data.series import indicator_series, missing_returns
from helpers.model.assess_steps import (  # noqa: F401 - re-exported: the steps' old home
    _as_reference,
    _final_without_data,
    _from_paths,
    _future,
    _new_row,
    _not_applicable,
    _official,
    _seed,
    _settle,
    _simulate,
    _transform_for,
)
from helpers.model.binding import applicable, assessment_stage, binds_geography, judged_on_city
from helpers.model.cache import cache_key, code_hash  # noqa: F401 - code_hash is used by run/
from helpers.model.kinds import Future, Settlement, TargetKind, kind_of  # noqa: F401 - re-exported as before
from helpers.model.status import (  # noqa: F401 - re-exported: the public names of the assessment
    DATA_MISSING,
    JUDGED,
    OPEN,
    PENDING_PUBLICATION,
    QUANTILES,
    SDG_CATEGORIES,
    SETTLED,
    STAGES,
    STATUSES,
    Assessment,
    StatusThresholds,
)
from helpers.plan.geography import Geographies, Geography
from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator, Plan

__all__ = [
    "DATA_MISSING", "JUDGED", "OPEN", "PENDING_PUBLICATION", "QUANTILES", "SDG_CATEGORIES", "SETTLED", "STAGES",
    "STATUSES", "Assessment", "StatusThresholds", "applicable", "assess_all", "assess_one", "assessment_stage",
    "binds_geography", "code_hash", "judged_on_city", "read_cache_entry", "write_cache_entry",
]

log = logging.getLogger("ipeval.run")


def assess_one(frame: pd.DataFrame, ind: Indicator, geo: Geography, geos: Geographies, as_of: Quarter,
               settings, thresholds: StatusThresholds = StatusThresholds(), fit: bool = True) -> Assessment:
    """Assess one indicator for one geography at ``as_of``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Validated data.
    ind, geo, geos
        The indicator, the geography and all geographies (to build the city).
    as_of : Quarter
        Only data of periods ended by this quarter are used.
    settings : helpers.model.forecast.ForecastSettings
        Simulation count, seed and the fewest points a forecast needs (``min_points_for``).
    thresholds : StatusThresholds
    fit : bool
        ``False``: no forecast, only what the data settle (the backtest's cheap probe).

    Returns
    -------
    Assessment
    """
    s = indicator_series(frame, ind, geo, geos, as_of)
    # a rate's 0/0 is a period with no cases: observed, but it has no value to forecast from
    no_cases = set(s.loc[s["value"].isna() & (s["numerator"] == 0) & (s["denominator"] == 0), "qindex"].astype(int))
    s = s[s["value"].notna()].reset_index(drop=True)
    a = _new_row(ind, geo, as_of, s)
    kind = kind_of(ind)
    if kind is not None:
        kind.no_cases = no_cases
        last = min(kind.t.due, as_of)  # kind.t is ind.target
        kind.gaps = missing_returns(frame, ind, geo, geos, kind.t.start, last)
        a.missing_returns = ";".join(f"{c}:{g.period}" for g in kind.gaps.values() for c in g.missing)
    if kind is not None and kind.not_applicable(s):
        return _not_applicable(a, ind, geo, thresholds)
    if len(s) == 0:
        a.note = "no data"
        _final_without_data(a, kind, as_of)
        if not binds_geography(ind, geo, thresholds.hold_districts):
            _as_reference(a)
        return a
    fut = _future(ind, s)
    paths, fc_note = _simulate(a, ind, geo, as_of, s, fut, settings, kind) if fit else (None, "")
    if kind is None:
        a.note, a.decided_by = fc_note, "none"
        return a
    a.progress_value = kind.progress(s)
    settled = kind.settle(s)
    if settled is not None:
        _settle(a, settled, kind.t.due)
    else:
        _official(a, kind, s)
        if paths is not None and fut.column(kind.t.due) >= 0:
            _from_paths(a, kind, s, paths, fut, thresholds)
        else:
            a.status, a.decided_by = "insufficient_data", "none"
        _final_without_data(a, kind, as_of)
    if np.isfinite(a.progress_value):  # what is still missing, in the target's unit (0 once met)
        t = kind.t
        shortfall = t.value - a.progress_value if t.direction == "at_least" else a.progress_value - t.value
        a.gap = float(max(shortfall, 0.0))
    a.note = "; ".join(x for x in (a.note, fc_note) if x)
    if not binds_geography(ind, geo, thresholds.hold_districts):
        _as_reference(a)
    return a



def assess_all(frame: pd.DataFrame, plan: Plan, geos: Geographies, as_of: Quarter, settings,
               thresholds: StatusThresholds = StatusThresholds(), geographies=None, cache_dir=None,
               workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assess every indicator for every (or the given) geography.

    Parameters
    ----------
    cache_dir : path, optional
        Results are cached by the SHA-256 of their inputs (the series, the target, the settings and
        the code of this package), so repeated runs and notebooks never refit the same series.
    workers : int
        Processes for the fits (statsmodels is CPU-bound).

    Returns
    -------
    (assessments, bands) : tuple of pandas.DataFrame
        One row per indicator and geography; and the simulated quantiles per future period.
    """
    geos_list = [geos.get(c) for c in geographies] if geographies else list(geos.all)
    jobs = [(ind, geo) for geo in geos_list for ind in plan.indicators if applicable(ind, geo)]
    cache = Path(cache_dir) if cache_dir else None
    results: list[Assessment | None] = [None] * len(jobs)
    keys: list = [None] * len(jobs)
    todo = []
    if cache is not None:
        # split the frame once: the keys of ~300 series would otherwise each scan every row
        cols = ["geography_code", "period", "value", "numerator", "denominator"]
        known = frame[frame["qindex"] <= as_of.index]
        known = pd.DataFrame({"geography_code": known["geography_code"].to_numpy(),
                              "indicator_id": known["indicator_id"].to_numpy(),
                              "qindex": known["qindex"].to_numpy(),
                              "row_hash": pd.util.hash_pandas_object(known[cols], index=False).to_numpy()})
        by_ind = {i: g for i, g in known.groupby("indicator_id", sort=False)}
        empty = known.iloc[:0]
    for n, (ind, geo) in enumerate(jobs):
        if cache is not None:
            rows = by_ind.get(ind.id, empty)
            keys[n] = cache_key(rows, ind, geo, geos, as_of, settings, thresholds)
            hit = read_cache_entry(cache / f"{keys[n]}.json", keys[n])
            if hit is not None:
                results[n] = hit
                continue
        todo.append(n)
    if todo:
        rows = indicator_rows(frame, as_of)
        args = [(rows.get(jobs[n][0].id, frame.iloc[:0]), jobs[n][0], jobs[n][1], geos, as_of, settings, thresholds)
                for n in todo]
        if workers > 1 and len(todo) > 8:
            from helpers.model.fitpool import map_jobs

            done = map_jobs(_assess_args, args, workers)
        else:
            done = (_assess_args(x) for x in args)
        # each result cached as it arrives: the writes (an fsync each, 0.73 s for the demo's 322) overlap the
        # fits still running in the pool; interrupted here, closing the pool's generator cancels its queued fits
        with closing(done):
            for n, res in zip(todo, done, strict=True):
                results[n] = res
                if cache is not None:
                    write_cache_entry(cache / f"{keys[n]}.json", keys[n], res)
    assessed = cast("list[Assessment]", results)  # every job has its result now
    table = pd.DataFrame([r.row() for r in assessed])
    table["assessment_stage"] = assessment_stage(plan, as_of)  # every row says whether this is the final assessment
    bands = pd.DataFrame([dict(indicator_id=r.indicator_id, geography_code=r.geography_code, **b)
                          for r in assessed for b in r.bands])
    return table, bands


def indicator_rows(frame: pd.DataFrame, as_of: Quarter) -> dict[str, pd.DataFrame]:
    """The rows of each indicator known at ``as_of``, by indicator id, in the frame's order: all that
    :func:`assess_one` reads of the frame (a series and its missing returns are the indicator's rows up to
    ``as_of``; the city's sums read the districts' rows of the same indicator).

    A job that gets its indicator's rows instead of the whole frame pickles a few hundred rows to a worker
    instead of ~5,400 (315 KB per job), and filters them faster: the demo's 322 jobs in one process took
    1.71 s CPU with the whole frame and 1.52 s with these rows at 2025Q2, 1.29 s and 1.14 s at 2025Q4
    (means of 3).
    """
    known = frame[frame["qindex"] <= as_of.index]
    return {str(i): g for i, g in known.groupby("indicator_id", sort=False)}


def write_cache_entry(path: Path, key: str, result: "Assessment") -> None:
    """Cache one assessment: its key and a SHA-256 of its content inside, written all or nothing
    (:meth:`helpers.cache.Store.put_json`)."""
    Store(path.parent).put_json(key, asdict(result))


def read_cache_entry(path: Path, key: str) -> "Assessment | None":
    """A cached assessment, or None when there is none or it cannot be trusted.

    An entry that is truncated, not JSON, filed under another key, or whose content does not
    match its checksum is logged, removed and recomputed (:meth:`helpers.cache.Store.get_json`):
    a bad cache never stops a run or puts another series' result in a report.
    """
    data = Store(path.parent).get_json(key)
    if data is None:
        return None
    try:
        d = dict(data)
        bands = d.pop("bands")
        result = Assessment(**d)
    except (TypeError, KeyError, ValueError) as exc:  # a valid entry of another shape (older code)
        Store.forget(path, f"unreadable ({type(exc).__name__}: {exc})")
        return None
    result.bands = bands
    return result


def _assess_args(args):
    return assess_one(*args)
