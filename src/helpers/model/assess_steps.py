"""The steps of one assessment (:func:`helpers.model.assess.assess_one`): a new row, the simulated
paths and their bands, the settlement by observed data, the probability from the paths, the
official-style category, and the rows that are reference, not applicable or data missing."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from helpers.model import official
from helpers.model.binding import binds_geography
from helpers.model.kinds import Future, Settlement, TargetKind
from helpers.model.status import DATA_MISSING, QUANTILES, Assessment, StatusThresholds
from helpers.plan.geography import Geography
from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator


def _transform_for(ind: Indicator) -> tuple[str, tuple]:
    lo, hi = ind.bounds
    if lo is not None and hi is not None:
        return "logit", (float(lo), float(hi))
    if lo is not None and lo >= 0:
        return "log", (float(lo), None)
    return "none", (lo, hi)


def _seed(base: int, ind_id: str, geo_code: str, as_of: Quarter) -> int:
    return (int(base) + zlib.crc32(f"{ind_id}|{geo_code}|{as_of}".encode())) % (2**32)


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
    units = kind.units(s) if hasattr(kind, "units") else None  # type: ignore[union-attr]  # a CoverageShare
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
    a.note = f"no cases in {ind.target.due.year} (0/0): not applicable"  # type: ignore[union-attr]  # a kind has one
    if not binds_geography(ind, geo, thresholds.hold_districts):
        _as_reference(a)
    return a
