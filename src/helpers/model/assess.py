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

Formulas and their justification: ``docs/methodology.md``.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.cache import Store
from helpers.data.series import indicator_series, missing_returns
from helpers.model import official
from helpers.model.cache import cache_key, code_hash  # noqa: F401 - code_hash is used by run/
from helpers.model.kinds import Future, Settlement, TargetKind, kind_of
from helpers.plan.geography import Geographies, Geography
from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator, Plan

SETTLED = ("achieved", "missed")
OPEN = ("on_track_reached", "on_track", "at_risk", "off_track", "insufficient_data")
# the final assessment of a target the missing returns leave undecided (数据缺失): neither
# settled nor open; the returns missing are listed in the row's ``missing_returns``
DATA_MISSING = "data_missing"
JUDGED = SETTLED + OPEN + (DATA_MISSING,)  # statuses of a target this geography is held to
# not_applicable (不适用): a rate with no cases (0/0) in its due year; nothing to judge
STATUSES = JUDGED + ("reference", "no_target", "not_applicable")
# publication lag (helpers.run.publication): the judged period's figure is not yet published; forecast kept
PENDING_PUBLICATION = "pending_publication"
OPEN, JUDGED, STATUSES = (OPEN + (PENDING_PUBLICATION,), JUDGED + (PENDING_PUBLICATION,),
                          STATUSES + (PENDING_PUBLICATION,))
SDG_CATEGORIES = official.CATEGORIES + ("not_met", "not_applicable")
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
STAGES = ("midterm", "final")


log = logging.getLogger("ipeval.run")


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


# --------------------------------------------------------------------------- helpers

def _transform_for(ind: Indicator) -> tuple[str, tuple]:
    lo, hi = ind.bounds
    if lo is not None and hi is not None:
        return "logit", (float(lo), float(hi))
    if lo is not None and lo >= 0:
        return "log", (float(lo), None)
    return "none", (lo, hi)


def _seed(base: int, ind_id: str, geo_code: str, as_of: Quarter) -> int:
    return (int(base) + zlib.crc32(f"{ind_id}|{geo_code}|{as_of}".encode())) % (2**32)


def assessment_stage(plan: Plan, as_of: Quarter) -> str:
    """``final`` (终期评估) for a run at or after the last due date of the plan's targets, else ``midterm``."""
    dues = [i.target.due for i in plan.targets]
    return "final" if dues and as_of >= max(dues) else "midterm"


def binds_geography(ind: Indicator, geo: Geography, hold_districts: bool = False) -> bool:
    """Whether ``geo`` is held to ``ind``'s target (else its row is a reference figure).

    The city is held to every target. A district is held to a target that binds each district
    (``binds: each_district``); to a city-wide standard (``binds: city``, a rate or per-capita
    value) only when the setting ``status.hold_districts`` says so; never to a count the plan sets
    for the city as a whole (``binds: sum_of_districts``): nobody set that number for a district.
    """
    t = ind.target
    if t is None or geo.is_city or t.binds == "each_district":
        return True
    return t.binds == "city" and hold_districts and ind.aggregation in ("ratio_of_sums", "per_capita")


def judged_on_city(ind: Indicator, geo: Geography, hold_districts: bool = False) -> bool:
    """Whether a district's row of ``ind`` is a reference figure toward a city target."""
    return ind.target is not None and not binds_geography(ind, geo, hold_districts)


# --------------------------------------------------------------------------- the assessment

def _new_row(ind: Indicator, geo: Geography, as_of: Quarter, s: pd.DataFrame) -> Assessment:
    a = Assessment(ind.id, ind.section, geo.code, str(as_of), ind.name_zh, ind.name_en, ind.unit_zh, ind.unit_en)
    a.n_obs = int(len(s))
    if len(s):
        a.latest_period = str(s["period"].iloc[-1])
        a.latest_value = float(s["value"].iloc[-1])
    t = ind.target
    if t is None:
        a.status, a.decided_by = "no_target", "none"
    else:
        a.target_kind, a.direction, a.target_value, a.due, a.binds = t.kind, t.direction, t.value, str(t.due), t.binds
    return a


def _future(ind: Indicator, s: pd.DataFrame) -> Future:
    """The periods to simulate: up to the due date for a target, one year ahead for a trend."""
    annual = ind.frequency == "annual"
    last = Quarter.from_index(int(s["qindex"].iloc[-1]))
    if ind.target is None:
        steps = 1 if annual else 4
    else:
        due = ind.target.due
        steps = (due.year - last.year) if annual else (due - last)
    return Future(last, annual, max(int(steps), 0))


def _simulate(a: Assessment, ind: Indicator, geo: Geography, as_of: Quarter, s: pd.DataFrame, fut: Future,
              settings, kind: TargetKind | None = None) -> tuple[np.ndarray | None, str]:
    """Simulated paths of the series (``None`` if too short or nothing to simulate), and the engine's note."""
    from helpers.model import forecast  # statsmodels is imported only where a forecast is made

    if fut.steps <= 0:
        return None, ""
    transform, bounds = _transform_for(ind)
    season_length = 1 if fut.annual else 4
    history, integer, to_value = s["value"].to_numpy(float), ind.measure == "count", None
    units = kind.units(s) if hasattr(kind, "units") else None
    if units is not None:
        # a share of units covered: the count of units, whole numbers between 0 and all of them
        history, n_units = units
        transform, bounds, integer = "log", (0.0, n_units), True
        to_value = lambda p: p / n_units * ind.scale  # noqa: E731 - back to the indicator's unit
    try:
        # counts are simulated as whole numbers (small ones in units): P(12 -> 13 of 13) is a count's question
        pf = forecast.simulate_paths(history, fut.steps, transform=transform, bounds=bounds,
                                     season_length=season_length, settings=settings,
                                     seed=_seed(settings.seed, ind.id, geo.code, as_of), integer=integer,
                                     positions=s["year" if fut.annual else "qindex"].to_numpy(int))
    except forecast.TooShortError:
        need = settings.min_points_for(season_length)
        return None, f"{len(s)} observations (< {need}): too short for a probability"
    a.models_used = ",".join(pf.members_used)
    a.decided_by = settings.engine  # what decides the probability, unless a closed form does (_from_paths)
    a.models_dropped = ";".join(f"{k}: {v}" for k, v in pf.members_dropped.items())
    paths = pf.paths if to_value is None else to_value(pf.paths)
    qs = np.quantile(paths, QUANTILES, axis=0)
    step = 4 if fut.annual else 1
    for k in range(fut.steps):
        f = fut.last + (k + 1) * step
        a.bands.append(dict(period=(str(f.year) if fut.annual else str(f)), qindex=f.index,
                            **{f"q{int(q * 1000):03d}": float(v) for q, v in zip(QUANTILES, qs[:, k])}))
    return paths, pf.note


def _official(a: Assessment, kind: TargetKind, s: pd.DataFrame) -> None:
    """The official-style category of an open target (from the zone period's baseline)."""
    t = kind.t
    base = min(t.baseline or t.start, t.start)
    times, values = kind.official_series(s)
    a.sdg_ratio, a.sdg_category = official.progress_ratio(
        times, values, t.value, t.direction, due_time=t.due.year + t.due.q / 4,
        baseline_time=base.year + (base.q - 1) / 4)
    if a.sdg_category == "met" and not kind.reached(s):
        # an open target whose latest observed quantity meets it (last year's total of a yearly
        # flow, a rate so far this year) is not settled: at that pace it is on track
        a.sdg_category = "on_track"


def _settle(a: Assessment, st: Settlement, due: Quarter) -> None:
    a.decided_by, a.settled_on, a.early = "observed", st.period, st.early
    a.status = st.outcome
    a.probability = 1.0 if st.outcome == "achieved" else 0.0
    a.sdg_category = "met" if st.outcome == "achieved" else "not_met"  # the verdict, never a contradiction
    # when and whether early are columns (settled_on, early), shown in the report's language
    a.note = st.note or (f"target not met by {due}" if st.outcome == "missed" else "")


def _from_paths(a: Assessment, kind: TargetKind, s: pd.DataFrame, paths: np.ndarray, fut: Future,
                thresholds: StatusThresholds) -> None:
    quantity, ok = kind.outcome(s, paths, fut)
    exact = kind.exact_probability(s, fut)
    a.probability = float(np.mean(ok)) if exact is None else exact
    lo95, lo80, med, hi80, hi95 = np.quantile(quantity, QUANTILES)
    a.forecast_lo95, a.forecast_lo80, a.forecast_median, a.forecast_hi80, a.forecast_hi95 = (
        float(lo95), float(lo80), float(med), float(hi80), float(hi95))
    # what decided the probability: the closed form, else the engine that simulated the paths
    a.decided_by = "beta_binomial" if exact is not None else (a.decided_by or "ensemble")
    # a level already at the target is marked so while the probability says on track; the level
    # reached never overrides a low probability (a stock at 50 for >= 50, falling, is at risk)
    a.status = thresholds.status(a.probability)
    if a.status == "on_track" and kind.reached(s):
        a.status = "on_track_reached"


def _as_reference(a: Assessment) -> None:
    """A district's row of a target that binds the city: its figure stays, as reference against
    the city's standard; no probability, verdict or category."""
    a.status, a.decided_by = "reference", "reference"
    a.probability = a.sdg_ratio = np.nan
    if a.binds == "sum_of_districts":  # a share of the city's count has no gap of its own
        a.gap = np.nan
    a.settled_on, a.early = "", False
    a.sdg_category = "not_applicable"
    a.note = "; ".join(x for x in ("target set for the city as a whole; shown for reference", a.note) if x)


def _final_without_data(a: Assessment, kind: TargetKind | None, as_of: Quarter) -> None:
    """At or after its due date, a target the data do not settle because returns are missing is
    数据缺失 (``data_missing``), never a forecast of the past: no probability, the missing returns listed."""
    if kind is None or as_of < kind.t.due or not kind.gaps:
        return
    a.status, a.decided_by = DATA_MISSING, "none"
    a.probability = np.nan
    a.forecast_median = a.forecast_lo80 = a.forecast_hi80 = a.forecast_lo95 = a.forecast_hi95 = np.nan
    a.sdg_category = "insufficient_data"
    a.note = "; ".join(x for x in (a.note, f"returns missing: {a.missing_returns}") if x)


def _not_applicable(a: Assessment, ind: Indicator, geo: Geography, thresholds: StatusThresholds) -> Assessment:
    """No cases in the due year (0/0): 不适用, neither judged nor blocking the city's figure."""
    a.status, a.decided_by, a.sdg_category = "not_applicable", "observed", "not_applicable"
    a.note = f"no cases in {ind.target.due.year} (0/0): not applicable"
    if not binds_geography(ind, geo, thresholds.hold_districts):
        _as_reference(a)
    return a


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
        last = min(ind.target.due, as_of)
        kind.gaps = missing_returns(frame, ind, geo, geos, ind.target.start, last)
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
        _settle(a, settled, ind.target.due)
    else:
        _official(a, kind, s)
        if paths is not None and fut.column(ind.target.due) >= 0:
            _from_paths(a, kind, s, paths, fut, thresholds)
        else:
            a.status, a.decided_by = "insufficient_data", "none"
        _final_without_data(a, kind, as_of)
    if np.isfinite(a.progress_value):  # what is still missing, in the target's unit (0 once met)
        t = ind.target
        shortfall = t.value - a.progress_value if t.direction == "at_least" else a.progress_value - t.value
        a.gap = float(max(shortfall, 0.0))
    a.note = "; ".join(x for x in (a.note, fc_note) if x)
    if not binds_geography(ind, geo, thresholds.hold_districts):
        _as_reference(a)
    return a


def applicable(ind: Indicator, geo: Geography) -> bool:
    """Whether an indicator is assessed for a geography (city-only indicators: the city alone)."""
    return geo.is_city or not ind.city_only


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
    keys = [None] * len(jobs)
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
        args = [(frame, jobs[n][0], jobs[n][1], geos, as_of, settings, thresholds) for n in todo]
        if workers > 1 and len(todo) > 8:
            import multiprocessing as mp
            import os
            from concurrent.futures import ProcessPoolExecutor

            # one BLAS thread per worker: on 2 cores, threaded BLAS in two processes is slower than one
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
            os.environ.setdefault("OMP_NUM_THREADS", "1")
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("forkserver")) as pool:
                try:
                    done = list(pool.map(_assess_args, args, chunksize=max(1, len(args) // (workers * 4))))
                except BaseException:
                    # interrupted (RunInterrupted, Ctrl-C): do not wait for the queued fits
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        else:
            done = [_assess_args(x) for x in args]
        for n, res in zip(todo, done):
            results[n] = res
            if cache is not None:
                write_cache_entry(cache / f"{keys[n]}.json", keys[n], res)
    table = pd.DataFrame([r.row() for r in results])
    table["assessment_stage"] = assessment_stage(plan, as_of)  # every row says whether this is the final assessment
    bands = pd.DataFrame([dict(indicator_id=r.indicator_id, geography_code=r.geography_code, **b)
                          for r in results for b in r.bands])
    return table, bands


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
