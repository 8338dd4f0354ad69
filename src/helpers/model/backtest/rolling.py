"""Rolling-origin backtests: how good were the probabilities and intervals we would have published?

For every indicator with a target, every geography it applies to and every origin quarter, the
assessment is recomputed from the data up to the origin only (:func:`helpers.model.assess.assess_one`
with ``as_of = origin``), as it would have been published then, and compared with what happened
by the due date (the same function at ``as_of = due``, which settles the target from the data).
This is time-series cross-validation with a forecast horizon running to the due date
(Hyndman & Athanasopoulos, FPP3 section 5.10), scored as follows:

* probabilities: the Brier score ``BS = mean((p - o)^2)`` with Murphy's (1973) decomposition
  ``BS = REL - RES + UNC`` over 10 equal bins of forecast probability (:func:`brier_decomposition`);
* intervals: the empirical coverage of the 80% and 95% intervals of the target quantity
  (:func:`interval_coverage`).

Methods scored side by side: ``ensemble`` (the product's equal-weight mixture), each ensemble
member on its own (``ForecastSettings.members`` restricted to that member) and ``rules`` (the UN
SDG Progress Chart style category, scored as a forecast of 1 for ``on_track``/``met`` and 0
otherwise). Cases the data had already settled at the origin (a cumulative target reached, a
year of an "every year" target missed) are listed but not scored: they are not forecasts.

``docs/methodology.md`` states every choice; ``notebooks/methodology.ipynb`` renders the result.
The demo data (2021Q1-2025Q4, every target due 2025Q4) have known outcomes; with real data a
backtest only covers targets whose due date has passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.series import indicator_series
from helpers.exceptions import ConfigError, InvalidPeriodError
from helpers.i18n import et
from helpers.model.assess import (
    StatusThresholds,
    applicable,
    assess_one,
    judged_on_city,
)
from helpers.model.backtest.metrics import N_BINS, summarise
from helpers.model.kinds import kind_of
from helpers.plan.periods import Quarter

#: The city and two districts: enough to exercise city aggregation and district series, fast.
DEFAULT_GEOGRAPHIES: tuple[str, ...] = ("330100", "330106", "330127")
#: Every other quarter from 2023Q4 to 2025Q3 (2023Q4, 2024Q2, 2024Q4, 2025Q2): the default
#: command stays within about a minute on two cores. ``"2022Q4:2025Q3"`` is the full backtest.
DEFAULT_ORIGINS = "2023Q4:2025Q3:2"
#: Origins of the small backtest the methodology notebook runs when given no backtest folder.
SMALL_ORIGINS = "2024Q4"
ENSEMBLE, RULES = "ensemble", "rules"
#: Rule-layer categories scored as a forecast "the target will be met" (probability 1).
RULES_MET = ("on_track", "met")

FORECAST_COLUMNS = [
    "indicator_id", "geography_code", "target_kind", "direction", "target_value", "due", "origin", "horizon",
    "n_obs", "method", "probability", "forecast_median", "forecast_lo80", "forecast_hi80", "forecast_lo95",
    "forecast_hi95", "outcome", "realised", "in80", "in95", "sdg_category", "decided_by", "models_used",
    "models_dropped", "scored", "excluded",
]


# --------------------------------------------------------------------------- origins

def parse_origins(spec) -> list[Quarter] | None:
    """Origins from ``"FIRST:LAST"`` (every quarter), ``"FIRST:LAST:STEP"`` (every STEP-th quarter
    from FIRST) or ``"2024Q2,2024Q4"``; a list of quarters or strings is taken as is.

    ``None``, ``""`` and ``"all"`` return ``None``: every quarter from the first with
    enough observations for a probability to the quarter before the due date, per series.
    """
    if spec is None:
        return None
    if isinstance(spec, Quarter):
        return [spec]
    if not isinstance(spec, str):
        return sorted({q if isinstance(q, Quarter) else Quarter.parse(str(q)) for q in spec})
    text = spec.strip()
    if text in ("", "all"):
        return None
    if ":" in text:
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise InvalidPeriodError(et("bt_origins_format", spec=repr(spec)))
        first, last = Quarter.parse(parts[0]), Quarter.parse(parts[1])
        step = 1
        if len(parts) == 3:
            try:
                step = int(parts[2])
            except ValueError:
                step = 0
            if step < 1:
                raise InvalidPeriodError(et("bt_origins_step", spec=repr(spec)))
        if last < first:
            raise InvalidPeriodError(et("bt_origins_reversed", spec=repr(spec), last=last, first=first))
        return [Quarter.from_index(i) for i in range(first.index, last.index + 1, step)]
    return sorted({Quarter.parse(x) for x in text.split(",") if x.strip()})


def _default_origins(series: pd.DataFrame, due: Quarter, min_points: int) -> list[Quarter]:
    q = series["qindex"].to_numpy(int)
    if len(q) < min_points:
        return []
    first = Quarter.from_index(int(q[min_points - 1]))
    return [Quarter.from_index(i) for i in range(first.index, due.index)]


# --------------------------------------------------------------------------- realised quantities

def _realised(full: pd.DataFrame, ind) -> float:
    """The target quantity at the due date, from the full series: the kind's own formula, the
    same :mod:`helpers.model.kinds` code assess_one simulates."""
    return kind_of(ind).realised(full[full["value"].notna()].reset_index(drop=True))  # type: ignore[union-attr]  # a backtested indicator has a target


# --------------------------------------------------------------------------- the backtest

_STATE: dict = {}


def _init_worker(frame, plan, geos, settings, thresholds, methods):
    _STATE.update(frame=frame, plan=plan, geos=geos, settings=settings, thresholds=thresholds, methods=methods)


def _row_base(ind, geo, origin: Quarter, a) -> dict:
    t = ind.target
    return dict(indicator_id=ind.id, geography_code=geo.code, target_kind=t.kind, direction=t.direction,
                target_value=t.value, due=str(t.due), origin=str(origin), horizon=t.due - origin, n_obs=a.n_obs,
                sdg_category=a.sdg_category)


def _case(job) -> list[dict]:
    """Every method's forecast for one (indicator, geography, origin); a single unscored row if
    the data had settled the target by the origin or the series is too short to forecast."""
    ind_id, geo_code, origin = job
    st = _STATE
    frame, plan, geos, settings, th = st["frame"], st["plan"], st["geos"], st["settings"], st["thresholds"]
    ind, geo = plan.indicator(ind_id), geos.get(geo_code)
    # no forecast: only what the data settle and the official-style category, at no fitting cost
    probe = assess_one(frame, ind, geo, geos, origin, settings, th, fit=False)
    base = _row_base(ind, geo, origin, probe)
    if probe.decided_by == "observed":
        settled = "achieved" if probe.probability == 1.0 else "missed"
        return [dict(base, method="", probability=probe.probability, decided_by="observed", scored=False,
                     excluded=f"settled by the data at the origin ({settled})")]
    low = settings.min_points_for(1 if ind.frequency == "annual" else 4)
    if probe.n_obs < low:
        return [dict(base, method="", decided_by="none", scored=False,
                     excluded=f"{probe.n_obs} observations (< {low}): no probability")]
    rows = []
    for method in st["methods"]:
        if method == RULES:
            rows.append(dict(base, method=RULES, probability=1.0 if probe.sdg_category in RULES_MET else 0.0,
                             decided_by="rules", scored=True, excluded=""))
            continue
        fs = settings if method == ENSEMBLE else dataclasses.replace(settings, members=(method,), engine="ensemble")
        a = assess_one(frame, ind, geo, geos, origin, fs, th)
        rows.append(dict(base, method=method, probability=a.probability, forecast_median=a.forecast_median,
                         forecast_lo80=a.forecast_lo80, forecast_hi80=a.forecast_hi80,
                         forecast_lo95=a.forecast_lo95, forecast_hi95=a.forecast_hi95, decided_by=a.decided_by,
                         models_used=a.models_used, models_dropped=a.models_dropped,
                         scored=bool(np.isfinite(a.probability)),
                         excluded="" if np.isfinite(a.probability) else "no probability"))
    return rows


def _methods(members, settings) -> tuple[str, ...]:
    from helpers.model.forecast import MEMBER_NAMES

    if members is None:
        return (ENSEMBLE, *settings.members, RULES)
    if isinstance(members, str):
        members = [m.strip() for m in members.split(",") if m.strip()]
    members = tuple(dict.fromkeys(members))
    valid = (ENSEMBLE, *MEMBER_NAMES, RULES)
    bad = [m for m in members if m not in valid]
    if bad or not members:
        raise ConfigError(et("bt_methods_unknown", bad=bad, valid=list(valid)))
    if "ets_ana" in members:
        raise ConfigError(et("bt_ets_ana_alone"))
    return members


def _cases(frame: pd.DataFrame, geos, settings, thresholds: StatusThresholds, fixed, geo_list: list,
           inds: list) -> tuple[list, dict]:
    """The (indicator, geography, origin) cases to forecast, and per (indicator, geography) the
    outcome the data settle at the due date (NaN while unknown) and the realised target quantity."""
    jobs, outcomes = [], {}
    for geo in geo_list:
        for ind in inds:
            if not applicable(ind, geo) or judged_on_city(ind, geo, thresholds.hold_districts):
                continue  # a district's share of a city-wide count has no target of its own to score
            due = ind.target.due
            full = indicator_series(frame, ind, geo, geos, due)
            full = full[full["value"].notna()]
            end = assess_one(frame, ind, geo, geos, due, settings, thresholds, fit=False)
            outcome = (1.0 if end.probability == 1.0 else 0.0) if end.decided_by == "observed" else np.nan
            outcomes[(ind.id, geo.code)] = (outcome, _realised(full, ind))
            low = settings.min_points_for(1 if ind.frequency == "annual" else 4)
            if fixed is None:
                qs = _default_origins(full, due, low)
            else:
                qs = []
                for q in fixed:
                    if q >= due:
                        continue
                    if int((full["qindex"] <= q.index).sum()) < low:
                        continue
                    qs.append(q)
            jobs += [(ind.id, geo.code, q) for q in qs]
    return jobs, outcomes


def _forecast_cases(jobs: list, init: tuple, workers: int) -> list:
    """Every method's rows for each case (:func:`_case`), in processes when ``workers > 1``."""
    if workers > 1 and len(jobs) > 4:
        from concurrent.futures import ProcessPoolExecutor

        from helpers.model.fitpool import context

        # the assessments' fork server (the model imported once; one BLAS thread per worker)
        with ProcessPoolExecutor(workers, mp_context=context(), initializer=_init_worker,
                                 initargs=init) as pool:
            done = list(pool.map(_case, jobs, chunksize=1))
    else:
        saved = dict(_STATE)
        _init_worker(*init)
        try:
            done = [_case(j) for j in jobs]
        finally:
            _STATE.clear()
            _STATE.update(saved)
    return done


def _forecast_table(jobs: list, done: list, outcomes: dict) -> pd.DataFrame:
    """The per-forecast table (:data:`FORECAST_COLUMNS`): each row with its case's outcome, and
    whether the realised quantity fell in its intervals."""
    rows = []
    for job, case_rows in zip(jobs, done):
        outcome, realised = outcomes[(job[0], job[1])]
        for r in case_rows:
            r.update(outcome=outcome, realised=realised)
            if r.get("scored") and not np.isfinite(outcome):
                r.update(scored=False, excluded="outcome unknown (the data do not settle the target at the due date)")
            rows.append(r)
    per = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    for c in ("probability", "forecast_median", "forecast_lo80", "forecast_hi80", "forecast_lo95", "forecast_hi95",
              "outcome", "realised", "target_value"):
        per[c] = per[c].astype(float)
    in80 = (per["realised"] >= per["forecast_lo80"]) & (per["realised"] <= per["forecast_hi80"])
    in95 = (per["realised"] >= per["forecast_lo95"]) & (per["realised"] <= per["forecast_hi95"])
    has80 = per[["realised", "forecast_lo80", "forecast_hi80"]].notna().all(axis=1)
    has95 = per[["realised", "forecast_lo95", "forecast_hi95"]].notna().all(axis=1)
    per["in80"] = in80.astype(object).where(has80, None)
    per["in95"] = in95.astype(object).where(has95, None)
    per["scored"] = per["scored"].fillna(False).astype(bool)
    for c in ("sdg_category", "decided_by", "models_used", "models_dropped", "excluded"):
        per[c] = per[c].fillna("")
    return per


def run_backtest(frame: pd.DataFrame, plan, geos, settings, origins=None, members=None, geographies=None,
                 n_paths: int | None = None, indicators: Sequence[str] | None = None,
                 thresholds: StatusThresholds = StatusThresholds(), workers: int = 1,
                 n_bins: int = N_BINS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest of the assessments.

    Parameters
    ----------
    frame : pandas.DataFrame
        Validated data (:attr:`helpers.data.contract.Dataset.frame`), including the periods up to the due dates.
    plan, geos
        The plan registry and the geographies.
    settings : helpers.model.forecast.ForecastSettings
        The ensemble settings; ``n_paths`` overrides its path count.
    origins : str or list of Quarter, optional
        See :func:`parse_origins`. Default: every quarter from the first with enough observations
        for a probability (``ForecastSettings.min_points_for``) to the quarter before the
        due date, per series. Origins on or after a target's due date, or with fewer observations,
        are skipped.
    members : sequence of str, optional
        Methods to score: ``"ensemble"``, member names of :data:`helpers.model.forecast.MEMBER_NAMES`
        (each run as the ensemble restricted to it) and ``"rules"``. Default: the ensemble, each
        member of ``settings.members`` and the rules.
    geographies : sequence of str, optional
        Geography codes (default: all).
    indicators : sequence of str, optional
        Indicator ids (default: every indicator with a target).
    workers : int
        Processes (statsmodels is CPU-bound; results do not depend on it).

    Returns
    -------
    (per_forecast, summary) : tuple of pandas.DataFrame
        One row per case and method (columns :data:`FORECAST_COLUMNS`; an unscored case once, with an
        empty ``method``, the data's 0 or 1 in ``probability`` if they settled it, and the reason in
        ``excluded``), and the per-method summary (:func:`summarise`).
    """
    if n_paths is not None:
        settings = dataclasses.replace(settings, n_paths=int(n_paths))
    methods = _methods(members, settings)
    fixed = parse_origins(origins)
    geo_list = [geos.get(c) for c in geographies] if geographies else list(geos.all)
    inds = [plan.indicator(i) for i in indicators] if indicators else list(plan.targets)
    inds = [i for i in inds if i.target is not None]

    jobs, outcomes = _cases(frame, geos, settings, thresholds, fixed, geo_list, inds)
    done = _forecast_cases(jobs, (frame, plan, geos, settings, thresholds, methods), workers)
    per = _forecast_table(jobs, done, outcomes)
    return per, summarise(per, n_bins)


# --------------------------------------------------------------------------- inputs

def load_inputs(settings_path=None, data_path=None, registry_path=None):
    from helpers.data.contract import load_data
    from helpers.model.forecast import ForecastSettings
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.settings import load_settings

    s = load_settings(settings_path or None)
    plan = load_plan(registry_path or s.plan_path)
    geos = load_geographies(s.geographies_path)
    paths = [Path(p) for p in str(data_path).split(",")] if data_path else [s.data_path]
    frame = load_data(paths, plan, geos).frame
    fs = ForecastSettings.from_mapping(s.block("forecast"))
    th = StatusThresholds(**s.block("status"))
    return s, plan, geos, frame, fs, th, paths


def as_list(x) -> list[str] | None:
    if x is None:
        return None
    if isinstance(x, str):
        return [c.strip() for c in x.split(",") if c.strip()] or None
    return [str(c) for c in x] or None
