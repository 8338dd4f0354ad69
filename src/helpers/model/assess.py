"""Assess every target for every geography: progress, probability of meeting it, status.

For each indicator and geography, from data up to the as-of quarter, :func:`assess_one`

1. builds the observed series (:mod:`helpers.data.series`);
2. settles what the data already settle (a cumulative target reached stays achieved; a due date
   passed is met or missed; an "every year" target missed in a past year is missed);
3. otherwise simulates future paths of the modelled series (:mod:`helpers.model.forecast`) and turns
   each path into the quantity the target is about (the level at the due date, the ratio of sums
   over the due year, every remaining year's total, the running total), so the probability is the
   share of paths that meet the target (never a sum of point forecasts);
4. computes the official-style category beside it (UN SDG Progress Chart 2023 ratio, or required
   against observed pace for flow and cumulative targets);
5. maps the probability to a status with the thresholds in ``params/settings.yaml``.

Formulas and their justification: ``docs/methodology.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.series import indicator_series
from helpers.plan.geography import Geographies, Geography
from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator, Plan

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "city_target", "no_target")
JUDGED = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data")  # statuses of a target this geography is held to
SDG_CATEGORIES = ("met", "on_track", "acceleration_needed", "stagnation_or_regression", "insufficient_data")
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)


log = logging.getLogger("ipeval.run")


@dataclass(frozen=True)
class StatusThresholds:
    """Probability thresholds: p >= on_track is on track; at_risk <= p < on_track is at risk."""

    on_track: float = 0.80
    at_risk: float = 0.40

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
    sdg_ratio: float = np.nan
    sdg_category: str = "insufficient_data"
    required_pace: float = np.nan
    observed_pace: float = np.nan
    decided_by: str = ""                # observed | ensemble | rules | none
    models_used: str = ""
    models_dropped: str = ""
    note: str = ""
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


def _years_of(ind: Indicator) -> list[int]:
    t = ind.target
    if t.kind == "flow_per_year" and not t.every_year:
        return [t.due.year]
    return list(range(t.start.year, t.due.year + 1))


def _sdg(series_vals: np.ndarray, times: np.ndarray, target_value: float, direction: str,
         due_time: float) -> tuple[float, str]:
    """UN SDG Progress Chart 2023: project with the observed compound growth rate to the target year.

    ratio = (x_T - x_0) / (X - x_0), x_T = x_c (1 + r)^(T - t_c), r = (x_c / x_0)^(1 / (t_c - t_0)) - 1.
    """
    if len(series_vals) < 2:
        return np.nan, "insufficient_data"
    x0, xc = float(series_vals[0]), float(series_vals[-1])
    t0, tc = float(times[0]), float(times[-1])
    met = xc >= target_value if direction == "at_least" else xc <= target_value
    if met:
        return np.nan, "met"
    if tc <= t0 or x0 == target_value:
        return np.nan, "insufficient_data"
    if x0 > 0 and xc > 0:
        r = (xc / x0) ** (1.0 / (tc - t0)) - 1.0
        x_t = xc * (1.0 + r) ** (due_time - tc)
    else:  # growth rates are undefined through zero: fall back to the linear trend
        x_t = xc + (xc - x0) / (tc - t0) * (due_time - tc)
    ratio = (x_t - x0) / (target_value - x0)
    return float(ratio), _sdg_category(ratio)


def _sdg_category(ratio: float) -> str:
    if not np.isfinite(ratio):
        return "insufficient_data"
    if ratio >= 0.95:
        return "on_track"
    if ratio >= 0.10:
        return "acceleration_needed"
    return "stagnation_or_regression"


RULE_STATUS = {"met": "achieved", "on_track": "on_track", "acceleration_needed": "at_risk",
               "stagnation_or_regression": "off_track", "insufficient_data": "insufficient_data"}


# --------------------------------------------------------------------------- the assessment

def assess_one(frame: pd.DataFrame, ind: Indicator, geo: Geography, geos: Geographies, as_of: Quarter,
               settings, thresholds: StatusThresholds = StatusThresholds()) -> Assessment:
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
        Simulation count, seed, minimum points.
    thresholds : StatusThresholds

    Returns
    -------
    Assessment
    """
    from helpers.model import forecast  # statsmodels is imported only where a forecast is made

    s = indicator_series(frame, ind, geo, geos, as_of)
    s = s[s["value"].notna()]
    a = Assessment(ind.id, ind.section, geo.code, str(as_of), ind.name_zh, ind.name_en, ind.unit_zh, ind.unit_en)
    a.n_obs = int(len(s))
    if len(s):
        a.latest_period = str(s["period"].iloc[-1])
        a.latest_value = float(s["value"].iloc[-1])
    t = ind.target
    if t is None:
        a.status, a.decided_by = "no_target", "none"
        a.sdg_category = "insufficient_data"
    else:
        a.target_kind, a.direction, a.target_value, a.due = t.kind, t.direction, t.value, str(t.due)
    if len(s) == 0:
        a.note = "no data"
        return a

    annual = ind.frequency == "annual"
    step_per_year = 1 if annual else 4
    last_q = Quarter.from_index(int(s["qindex"].iloc[-1]))
    due_q = t.due if t else None
    # periods ahead to simulate: to the due date for targets, four quarters / one year for trends
    if t is not None:
        horizon = (due_q.year - last_q.year) if annual else (due_q - last_q)
    else:
        horizon = step_per_year
    times = (s["year"] + (s["quarter"] - 0.5) / 4).to_numpy() if not annual else s["year"].to_numpy(float)

    values = s["value"].to_numpy(float)
    transform, bounds = _transform_for(ind)
    modelled = values
    if t is not None and t.kind in ("flow_per_year", "cumulative"):
        modelled = values  # flows per period are modelled; totals come from the paths
    paths = None
    fc_note = ""
    if horizon > 0:
        try:
            fset = settings
            pf = forecast.simulate_paths(modelled, horizon, transform=transform, bounds=bounds,
                                         season_length=1 if annual else 4, settings=fset,
                                         seed=_seed(fset.seed, ind.id, geo.code, as_of))
            paths = pf.paths
            if transform == "logit":
                # the scaled logit cannot reach its bounds; a path within 0.5% of the range of a bound
                # is taken as at the bound, so "100% of cases" stays reachable (docs/methodology.md)
                lo, hi = bounds
                snap = 0.005 * (hi - lo)
                paths = np.where(paths >= hi - snap, hi, np.where(paths <= lo + snap, lo, paths))
            a.models_used = ",".join(pf.members_used)
            a.models_dropped = ";".join(f"{k}: {v}" for k, v in pf.members_dropped.items())
            fc_note = pf.note
        except forecast.TooShortError:
            fc_note = f"{len(s)} observations (< {settings.min_points}): rule-based layer only"
        if paths is not None:
            qs = np.quantile(paths, QUANTILES, axis=0)
            future = [last_q + (k + 1) * (4 if annual else 1) for k in range(horizon)]
            a.bands = [dict(period=(str(f.year) if annual else str(f)), qindex=f.index,
                            **{f"q{int(q * 1000):03d}": float(v) for q, v in zip(QUANTILES, qs[:, k])})
                       for k, f in enumerate(future)]
    if t is None:
        a.note = fc_note
        return a

    kind = t.kind
    in_period = s[(s["qindex"] >= t.start.index) & (s["qindex"] <= due_q.index)]
    quantity_paths = None
    settled = None  # "achieved" | "missed" when the data decide

    if kind in ("level", "milestone"):
        a.progress_value = a.latest_value
        if kind == "milestone" and in_period["value"].apply(t.met).any():
            settled = "achieved"
        elif last_q >= due_q:
            at_due = s[s["qindex"] == due_q.index]["value"]
            if len(at_due):
                settled = "achieved" if t.met(float(at_due.iloc[-1])) else "missed"
        if settled is None and paths is not None:
            quantity_paths = paths[:, -1]
            if kind == "milestone":
                hit = t.met(paths).any(axis=1)
                quantity_paths = np.where(hit, t.value, paths[:, -1])
        a.sdg_ratio, a.sdg_category = _sdg(values, times, t.value, t.direction, due_q.year + (due_q.q - 0.5) / 4)

    elif kind == "rate":
        yr = due_q.year
        this_year = s[s["year"] == yr]
        if annual:
            a.progress_value = a.latest_value
            if len(this_year):
                settled = "achieved" if t.met(float(this_year["value"].iloc[-1])) else "missed"
            elif paths is not None:
                quantity_paths = paths[:, -1]
        else:
            # the year's ratio of sums: observed parts plus simulated quarters weighted by last year's denominators
            last4 = s.tail(4)
            a.progress_value = float(last4["numerator"].sum() / last4["denominator"].sum() * ind.scale) \
                if last4["denominator"].notna().all() else float(last4["value"].mean())
            obs_num = this_year["numerator"].sum()
            obs_den = this_year["denominator"].sum()
            if len(this_year) == 4:
                settled = "achieved" if t.met(obs_num / obs_den * ind.scale) else "missed"
            elif paths is not None:
                remaining = [Quarter(yr, q) for q in range(1, 5) if Quarter(yr, q) > last_q]
                den_w = []
                for rq in remaining:
                    prev = s[s["qindex"] == (rq - 4).index]["denominator"]
                    den_w.append(float(prev.iloc[0]) if len(prev) and np.isfinite(prev.iloc[0])
                                 else float(s["denominator"].tail(4).mean()))
                idx = [rq - last_q - 1 for rq in remaining]
                sim_num = (paths[:, idx] / ind.scale * np.array(den_w)).sum(axis=1)
                quantity_paths = (obs_num + sim_num) / (obs_den + sum(den_w)) * ind.scale
        a.sdg_ratio, a.sdg_category = _sdg(values, times, t.value, t.direction, due_q.year + 0.5)

    elif kind in ("flow_per_year", "cumulative"):
        years = _years_of(ind)
        yearly_obs = s.groupby("year")["value"].agg(["sum", "count"])
        per_year_full = 1 if annual else 4
        if kind == "cumulative":
            observed_total = float(in_period["value"].sum())
            a.progress_value = observed_total
            if t.met(observed_total) and t.direction == "at_least":
                settled = "achieved"
            elif last_q >= due_q:
                settled = "achieved" if t.met(observed_total) else "missed"
            elif paths is not None:
                n_left = horizon
                quantity_paths = observed_total + paths[:, :n_left].sum(axis=1)
            periods_left = horizon
            remaining_need = max(t.value - observed_total, 0.0) if t.direction == "at_least" else np.nan
            a.required_pace = remaining_need / periods_left * per_year_full if periods_left > 0 else np.nan
        else:
            completed = [y for y in years if y in yearly_obs.index and yearly_obs.loc[y, "count"] == per_year_full]
            missed_years = [y for y in completed if not t.met(float(yearly_obs.loc[y, "sum"]))]
            open_years = [y for y in years if y not in completed]
            cur = open_years[0] if open_years else years[-1]
            if cur in yearly_obs.index:  # so far this year
                a.progress_value = float(yearly_obs.loc[cur, "sum"])
            elif len(completed):  # nothing yet this year: the last complete year
                a.progress_value = float(yearly_obs.loc[completed[-1], "sum"])
            elif len(yearly_obs):
                a.progress_value = float(yearly_obs["sum"].iloc[-1])
            if missed_years:
                settled = "missed"
                a.note = "target missed in " + ", ".join(map(str, missed_years))
            elif not open_years:
                settled = "achieved"
            elif paths is not None:
                ok = np.ones(paths.shape[0], dtype=bool)
                due_year_total = None
                for y in open_years:
                    obs = float(yearly_obs.loc[y, "sum"]) if y in yearly_obs.index else 0.0
                    if annual:
                        idx = [y - last_q.year - 1]
                    else:
                        idx = [Quarter(y, q) - last_q - 1 for q in range(1, 5) if Quarter(y, q) > last_q]
                    total = obs + paths[:, idx].sum(axis=1)
                    ok &= t.met(total)
                    due_year_total = total
                quantity_paths = due_year_total
                a.probability = float(ok.mean())
            a.required_pace = t.value
        # observed pace: the last year's worth of flows, annualised
        recent = s.tail(per_year_full)
        a.observed_pace = float(recent["value"].sum()) * per_year_full / max(len(recent), 1)
        if kind == "cumulative" and np.isfinite(a.required_pace) and a.required_pace > 0:
            ratio = a.observed_pace / a.required_pace
        elif kind == "flow_per_year":
            ratio = a.observed_pace / t.value if t.direction == "at_least" else t.value / max(a.observed_pace, 1e-9)
        else:
            ratio = np.nan
        if settled == "achieved":
            a.sdg_category = "met"
        else:
            a.sdg_ratio, a.sdg_category = (float(ratio), _sdg_category(ratio)) if np.isfinite(ratio) else (np.nan, "insufficient_data")

    # ---- the decision
    if settled is not None:
        a.decided_by = "observed"
        a.probability = 1.0 if settled == "achieved" else 0.0
        a.status = "achieved" if settled == "achieved" else "off_track"
        if settled == "missed" and not a.note:
            a.note = f"target not met by {due_q}"
        if settled == "achieved":
            a.sdg_category = "met"
    elif quantity_paths is not None:
        if not np.isfinite(a.probability):
            a.probability = float(np.mean(t.met(quantity_paths)))
        lo95, lo80, med, hi80, hi95 = np.quantile(quantity_paths, QUANTILES)
        a.forecast_lo95, a.forecast_lo80, a.forecast_median, a.forecast_hi80, a.forecast_hi95 = (
            float(lo95), float(lo80), float(med), float(hi80), float(hi95))
        a.status = thresholds.status(a.probability)
        a.decided_by = "ensemble"
    else:
        a.decided_by = "rules"
        a.status = RULE_STATUS[a.sdg_category]
    # gap: what is still missing, in the target's unit (0 once met)
    if np.isfinite(a.progress_value):
        shortfall = t.value - a.progress_value if t.direction == "at_least" else a.progress_value - t.value
        a.gap = float(max(shortfall, 0.0))
    a.note = "; ".join(x for x in (a.note, fc_note) if x)
    if judged_on_city(ind, geo):
        _as_contribution(a)
    return a


def judged_on_city(ind: Indicator, geo: Geography) -> bool:
    """Whether a district's figure only counts toward a target the plan sets for the city as a whole.

    A count summed over districts (``aggregation: sum``, e.g. 1000 administrative cases over the
    zone period) has no district target in the plan: holding one district to the city's number
    would call it 'achieved' or 'off track' against a figure nobody set for it. Rates and per-capita
    values (``ratio_of_sums``, ``per_capita``) are standards each district can be held to, and
    ``each`` binds every geography by the plan's own words.
    """
    return ind.target is not None and not geo.is_city and ind.aggregation == "sum"


def _as_contribution(a: Assessment) -> None:
    """Turn a district's row of a city-wide count target into a contribution: its own progress and
    forecast stay; probability, gap and the official-style category, which need a target, do not."""
    a.status = "city_target"
    a.decided_by = "city"
    a.probability = a.gap = a.sdg_ratio = np.nan
    a.sdg_category = "not_applicable"
    a.note = "; ".join(x for x in ("target set for the city as a whole; this figure counts toward it", a.note) if x)


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
                              "row_hash": pd.util.hash_pandas_object(known[cols], index=False).to_numpy()})
        by_ind = {i: g for i, g in known.groupby("indicator_id", sort=False)}
        empty = known.iloc[:0]
    for n, (ind, geo) in enumerate(jobs):
        if cache is not None:
            rows = by_ind.get(ind.id, empty)
            keys[n] = _cache_key(rows, ind, geo, geos, as_of, settings, thresholds)
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
    bands = pd.DataFrame([dict(indicator_id=r.indicator_id, geography_code=r.geography_code, **b)
                          for r in results for b in r.bands])
    return table, bands


def _cache_checksum(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=_json_default).encode()).hexdigest()


def write_cache_entry(path: Path, key: str, result: "Assessment") -> None:
    """Cache one assessment: its key and a SHA-256 of its content inside, written all or nothing."""
    from helpers.files import atomic_write_bytes

    data = asdict(result)
    entry = {"key": key, "sha256": _cache_checksum(data), "data": data}
    atomic_write_bytes(path, json.dumps(entry, default=_json_default).encode("utf-8"))


def read_cache_entry(path: Path, key: str) -> "Assessment | None":
    """A cached assessment, or None when there is none or it cannot be trusted.

    An entry that is truncated, not JSON, filed under another key, or whose content does not
    match its checksum is logged, removed and recomputed: a bad cache never stops a run or puts
    another series' result in a report.
    """
    if not path.is_file():
        return None
    problem = None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("key") != key:
            problem = "filed under another key"
        elif entry.get("sha256") != _cache_checksum(entry.get("data")):
            problem = "content does not match its checksum"
        else:
            d = dict(entry["data"])
            bands = d.pop("bands")
            result = Assessment(**d)
            result.bands = bands
            return result
    except (OSError, ValueError, TypeError, KeyError) as exc:
        problem = f"unreadable ({type(exc).__name__}: {exc})"
    log.warning("cache entry ignored", extra={"event": "cache_bad", "path": str(path), "problem": problem})
    path.unlink(missing_ok=True)
    return None


def _assess_args(args):
    return assess_one(*args)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(type(o))


_CODE_HASH = None


def code_hash() -> str:
    """SHA-256 over this package's source: a change to any helper invalidates cached results."""
    global _CODE_HASH
    if _CODE_HASH is None:
        h = hashlib.sha256()
        package = Path(__file__).resolve().parents[1]
        for p in sorted(package.rglob("*.py")):
            h.update(p.relative_to(package).as_posix().encode())
            h.update(p.read_bytes())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


def _cache_key(rows, ind, geo, geos, as_of, settings, thresholds) -> str:
    """The key of one assessment: the indicator's rows known at ``as_of`` that it reads, and everything else it depends on."""
    if not (geo.is_city and ind.aggregation in ("sum", "ratio_of_sums", "per_capita")):
        rows = rows[rows["geography_code"] == geo.code]
    h = hashlib.sha256()
    h.update(rows["row_hash"].to_numpy().tobytes())  # one hash per row (code, period, value, numerator, denominator)
    h.update(repr((ind, geo, str(as_of), settings, thresholds, code_hash())).encode())
    return h.hexdigest()
