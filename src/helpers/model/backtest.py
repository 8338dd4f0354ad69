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
import html
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.series import indicator_series
from helpers.exceptions import ConfigError, InvalidPeriodError
from helpers.model.scoring import N_BINS, brier_decomposition, interval_coverage, reliability_table
from helpers.model.assess import (
    StatusThresholds,
    applicable,
    assess_one,
    judged_on_city,
)
from helpers.plan.periods import Quarter

__all__ = [
    "DEFAULT_GEOGRAPHIES",
    "DEFAULT_ORIGINS",
    "N_BINS",
    "BacktestResult",
    "backtest_command",
    "brier_decomposition",
    "interval_coverage",
    "load_or_run",
    "parse_origins",
    "reliability_figure",
    "reliability_table",
    "run_backtest",
    "show_forecasts",
    "show_header",
    "show_reliability",
    "show_summary",
    "summarise",
]

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
SUMMARY_COLUMNS = [
    "method", "n", "brier", "reliability", "resolution", "uncertainty", "rel_within_bin", "brier_skill",
    "mean_forecast", "base_rate", "n_intervals", "coverage80", "coverage95",
]


def summarise(per_forecast: pd.DataFrame, n_bins: int = N_BINS) -> pd.DataFrame:
    """The summary table: per method, Brier score and decomposition, interval coverage.

    Only rows with ``scored`` true count. Methods keep their order of first appearance.
    """
    rows = []
    scored = per_forecast[per_forecast["scored"].astype(bool)] if len(per_forecast) else per_forecast
    for method in dict.fromkeys(scored["method"]) if len(scored) else []:
        d = scored[scored["method"] == method]
        d = d[d["probability"].notna() & d["outcome"].notna()]
        b = brier_decomposition(d["probability"].to_numpy(float), d["outcome"].to_numpy(float), n_bins)
        n80, c80 = interval_coverage(d["forecast_lo80"], d["forecast_hi80"], d["realised"])
        _, c95 = interval_coverage(d["forecast_lo95"], d["forecast_hi95"], d["realised"])
        rows.append(dict(method=method, **b, n_intervals=n80, coverage80=c80, coverage95=c95))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


# --------------------------------------------------------------------------- origins

def parse_origins(spec) -> list[Quarter] | None:
    """Origins from ``"FIRST:LAST"`` (every quarter), ``"FIRST:LAST:STEP"`` (every STEP-th quarter
    from FIRST) or ``"2024Q2,2024Q4"``; a list of quarters or strings is taken as is.

    ``None``, ``""`` and ``"all"`` return ``None``: every quarter from the first with
    ``min_points`` observations to the quarter before the due date, per series.
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
            raise InvalidPeriodError(f"origins {spec!r}: write FIRST:LAST or FIRST:LAST:STEP, e.g. 2023Q4:2025Q3:2")
        first, last = Quarter.parse(parts[0]), Quarter.parse(parts[1])
        step = 1
        if len(parts) == 3:
            try:
                step = int(parts[2])
            except ValueError:
                step = 0
            if step < 1:
                raise InvalidPeriodError(f"origins {spec!r}: the step must be a whole number >= 1")
        if last < first:
            raise InvalidPeriodError(f"origins {spec!r}: {last} is before {first}")
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
    """The target quantity at the due date, from the full series, as assess_one simulates it."""
    t = ind.target
    s = full[full["value"].notna()]
    annual = ind.frequency == "annual"
    at_due = s[s["qindex"] == t.due.index]["value"]
    if t.kind == "level":
        return float(at_due.iloc[-1]) if len(at_due) else np.nan
    if t.kind == "milestone":
        in_period = s[(s["qindex"] >= t.start.index) & (s["qindex"] <= t.due.index)]["value"]
        if len(in_period) and bool(t.met(in_period.to_numpy(float)).any()):
            return float(t.value)  # a path that reaches the target counts as the target value
        return float(at_due.iloc[-1]) if len(at_due) else np.nan
    year = s[s["year"] == t.due.year]
    complete = len(year) == (1 if annual else 4)
    if t.kind == "rate":
        if not complete:
            return np.nan
        if annual:
            return float(year["value"].iloc[-1])
        if year["denominator"].notna().all() and year["denominator"].sum() > 0:
            return float(year["numerator"].sum() / year["denominator"].sum() * ind.scale)
        return float(year["value"].mean())
    if t.kind == "flow_per_year":
        return float(year["value"].sum()) if complete else np.nan
    if t.kind == "cumulative":
        if not len(at_due):  # the total is only known once the due period is
            return np.nan
        in_period = s[(s["qindex"] >= t.start.index) & (s["qindex"] <= t.due.index)]
        return float(in_period["value"].sum())
    return np.nan


# --------------------------------------------------------------------------- the backtest

# Settings that never fit a model: assess_one then decides only what the data settle (and the
# rule layer), at no forecasting cost. Used to find settled cases and the outcomes.
_NO_FIT_MIN_POINTS = 10**9

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
    probe = assess_one(frame, ind, geo, geos, origin, dataclasses.replace(settings, min_points=_NO_FIT_MIN_POINTS, min_points_yearly=_NO_FIT_MIN_POINTS), th)
    base = _row_base(ind, geo, origin, probe)
    if probe.decided_by == "observed":
        settled = "achieved" if probe.probability == 1.0 else "missed"
        return [dict(base, method="", probability=probe.probability, decided_by="observed", scored=False,
                     excluded=f"settled by the data at the origin ({settled})")]
    if probe.n_obs < settings.min_points:
        return [dict(base, method="", decided_by="rules", scored=False,
                     excluded=f"{probe.n_obs} observations (< {settings.min_points}): no probability")]
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
        raise ConfigError(f"unknown backtest method(s) {bad}; choose from {list(valid)}")
    if "ets_ana" in members:
        raise ConfigError("ets_ana cannot be scored alone: it only joins another member on seasonal series")
    return members


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
        See :func:`parse_origins`. Default: every quarter from the first with ``settings.min_points``
        observations to the quarter before the due date, per series. Origins on or after a
        target's due date, or with fewer than ``min_points`` observations, are skipped.
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
    no_fit = dataclasses.replace(settings, min_points=_NO_FIT_MIN_POINTS, min_points_yearly=_NO_FIT_MIN_POINTS)

    jobs, outcomes = [], {}
    for geo in geo_list:
        for ind in inds:
            if not applicable(ind, geo) or judged_on_city(ind, geo):
                continue  # a district's share of a city-wide count has no target of its own to score
            due = ind.target.due
            full = indicator_series(frame, ind, geo, geos, due)
            full = full[full["value"].notna()]
            end = assess_one(frame, ind, geo, geos, due, no_fit, thresholds)
            outcome = (1.0 if end.probability == 1.0 else 0.0) if end.decided_by == "observed" else np.nan
            outcomes[(ind.id, geo.code)] = (outcome, _realised(full, ind))
            if fixed is None:
                qs = _default_origins(full, due, settings.min_points)
            else:
                qs = []
                for q in fixed:
                    if q >= due:
                        continue
                    if int((full["qindex"] <= q.index).sum()) < settings.min_points:
                        continue
                    qs.append(q)
            jobs += [(ind.id, geo.code, q) for q in qs]

    init = (frame, plan, geos, settings, thresholds, methods)
    if workers > 1 and len(jobs) > 4:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # one BLAS thread per worker, as in assess_all
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("forkserver"), initializer=_init_worker,
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
    return per, summarise(per, n_bins)


# --------------------------------------------------------------------------- the plot

LABELS = {
    "zh": {
        "title": "可靠性图：预测概率与实际达标频率", "x": "预测达标概率（分箱均值）", "y": "实际达标频率",
        "diagonal": "完全可靠", "ensemble": "集成模型", "rules": "规则法（官方口径）",
        "header": "方法与回测：概率是否可信", "demo_banner": "演示数据：回测使用生成的演示数据（非真实统计），仅用于展示方法。",
        "source_dir": "回测结果读取自", "source_run": "本次运行的小规模回测",
        "method": "方法", "n": "预测数", "brier": "Brier 分数", "reliability": "可靠性 REL", "resolution": "分辨力 RES",
        "uncertainty": "不确定性 UNC", "rel_within_bin": "其中箱内项", "brier_skill": "技巧分数 BSS",
        "mean_forecast": "平均预测概率", "base_rate": "实际达标率", "n_intervals": "区间数",
        "coverage80": "80% 区间覆盖率", "coverage95": "95% 区间覆盖率",
        "summary_title": "各方法回测汇总", "forecasts_title": "逐项预测（参与评分的案例）",
        "indicator": "指标", "geography": "地区", "origin": "预测起点", "outcome": "是否达标", "realised": "实际值",
        "excluded": "未参与评分的案例（起点时数据已确定结果等）", "settings": "设置",
        "summary_note": "Brier 分数 = 可靠性 − 分辨力 + 不确定性（越低越好）；覆盖率应接近 80% 与 95%。",
    },
    "en": {
        "title": "Reliability: forecast probability against observed frequency", "x": "Forecast probability (bin mean)",
        "y": "Observed frequency of meeting the target", "diagonal": "perfectly reliable", "ensemble": "ensemble",
        "rules": "rules (official-style)",
        "header": "Methodology and backtest: can the probabilities be trusted?",
        "demo_banner": "DEMONSTRATION DATA: the backtest uses generated data (not real statistics), "
                       "to show the method.",
        "source_dir": "Backtest results read from", "source_run": "A small backtest run here",
        "method": "Method", "n": "Forecasts", "brier": "Brier score", "reliability": "Reliability REL",
        "resolution": "Resolution RES", "uncertainty": "Uncertainty UNC", "rel_within_bin": "of which within-bin",
        "brier_skill": "Skill BSS", "mean_forecast": "Mean forecast", "base_rate": "Base rate",
        "n_intervals": "Intervals", "coverage80": "80% coverage", "coverage95": "95% coverage",
        "summary_title": "Backtest summary by method", "forecasts_title": "Forecasts scored, case by case",
        "indicator": "Indicator", "geography": "Geography", "origin": "Origin", "outcome": "Met",
        "realised": "Realised", "excluded": "Cases not scored (settled by the data at the origin, etc.)",
        "settings": "Settings",
        "summary_note": "Brier score = reliability - resolution + uncertainty (lower is better); coverage should be "
                        "close to 80% and 95%.",
    },
}


def _label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["zh"]).get(key, key)


def reliability_figure(per_forecast: pd.DataFrame, lang: str = "zh", n_bins: int = N_BINS):
    """Observed frequency against mean forecast per probability bin, one line per method, with
    the diagonal; marker area grows with the number of forecasts in the bin.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from helpers.pages.plots import use_cjk_font

    use_cjk_font()
    import matplotlib.pyplot as plt
    import seaborn as sns

    scored = per_forecast[per_forecast["scored"].astype(bool)] if len(per_forecast) else per_forecast
    methods = list(dict.fromkeys(scored["method"])) if len(scored) else []
    fig, ax = plt.subplots(figsize=(8.4, 5.2), dpi=90)
    ax.plot([0, 1], [0, 1], ls=":", color="#555", lw=1, label=_label(lang, "diagonal"))
    palette = sns.color_palette("tab10", max(len(methods), 1))
    for colour, method in zip(palette, methods):
        d = scored[scored["method"] == method]
        d = d[d["probability"].notna() & d["outcome"].notna()]
        tab = reliability_table(d["probability"], d["outcome"], n_bins)
        if tab.empty:
            continue
        bold = method == ENSEMBLE
        name = _label(lang, method) if method in (ENSEMBLE, RULES) else method
        ax.plot(tab["mean_forecast"], tab["observed_freq"], color="black" if bold else colour,
                lw=2.4 if bold else 1.2, ls="--" if method == RULES else "-", alpha=1 if bold else 0.8,
                label=f"{name} (n={int(tab['n'].sum())})", zorder=3 if bold else 2)
        # marker area: 10 to 160 points^2 with the bin's share of the method's forecasts
        area = 10 + 150 * tab["n"] / tab["n"].sum()
        ax.scatter(tab["mean_forecast"], tab["observed_freq"], s=area, color="black" if bold else colour,
                   alpha=0.6, zorder=3 if bold else 2)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(_label(lang, "x"))
    ax.set_ylabel(_label(lang, "y"))
    ax.set_title(_label(lang, "title"), fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the command

def _load_inputs(settings_path=None, data_path=None, registry_path=None):
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


def _as_list(x) -> list[str] | None:
    if x is None:
        return None
    if isinstance(x, str):
        return [c.strip() for c in x.split(",") if c.strip()] or None
    return [str(c) for c in x] or None


def backtest_command(settings_path: str | Path | None = None, output_dir: str | Path | None = None,
                     geographies: str | Iterable[str] | None = None, origins: str | None = None,
                     members: str | Iterable[str] | None = None,
                     n_paths: int = 500, workers: int | None = None, data_path: str | None = None) -> Path:
    """Run a rolling-origin backtest and write ``backtest_summary.csv``, ``backtest_forecasts.csv``
    and ``backtest_reliability.png``.

    Parameters
    ----------
    settings_path : path, optional
        Default: ``params/settings.yaml`` of the project.
    output_dir : path, optional
        Default: ``<outputs>/backtest``. Created if missing; the three files are overwritten.
    geographies : str or sequence of str, optional
        Comma-separated or a list of codes; ``"all"``: every geography. Default (``None``):
        :data:`DEFAULT_GEOGRAPHIES`, the city, 330106 and 330127 (fast).
    origins : str, optional
        ``FIRST:LAST[:STEP]`` or a comma list (:func:`parse_origins`); ``"all"``: every quarter with
        enough data (the full backtest). Default (``None``): :data:`DEFAULT_ORIGINS`,
        ``2023Q4:2025Q3:2`` (every other quarter).
    members : str or sequence of str, optional
        Methods to score (default: ensemble, each configured member, rules).
    n_paths : int
        Simulated paths per forecast (default 500; the reports use ``forecast.n_paths``).
    workers : int, optional
        Processes (default: ``executor.workers`` of the settings, else the number of CPUs).
    data_path : str, optional
        Data file(s), comma-separated (default: the settings' data file).

    Returns
    -------
    pathlib.Path
        The folder written. Prints nothing.
    """
    s, plan, geos, frame, fs, th, _ = _load_inputs(settings_path, data_path)
    geo_codes = _as_list(geographies) or list(DEFAULT_GEOGRAPHIES)
    if geo_codes == ["all"]:
        geo_codes = None
    origins = DEFAULT_ORIGINS if origins is None else origins
    for c in geo_codes or []:
        geos.get(c)  # refuses unknown codes before anything runs
    workers = int(workers or s.executor.workers or os.cpu_count() or 1)
    per, summary = run_backtest(frame, plan, geos, fs, origins=origins, members=_as_list(members),
                                geographies=geo_codes, n_paths=n_paths, thresholds=th, workers=workers)
    out = Path(output_dir) if output_dir else s.outputs_path / "backtest"
    out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out / "backtest_summary.csv", index=False, float_format="%.6g")
    per.to_csv(out / "backtest_forecasts.csv", index=False, float_format="%.6g")
    import matplotlib.pyplot as plt

    fig = reliability_figure(per, s.language)
    fig.savefig(out / "backtest_reliability.png", dpi=110)
    plt.close(fig)
    return out


def render_methodology(backtest_dir, settings_path=None, lang: str = "zh") -> list:
    """Execute ``notebooks/methodology.ipynb`` on a backtest folder and export its two HTML variants.

    Returns the paths written: ``methodology.ipynb``, ``methodology.report.html`` and
    ``methodology.audit.html`` in ``backtest_dir``.
    """
    import papermill as pm

    from helpers.files import sha256_file
    from helpers.pages.report import export_html
    from helpers.run.forkserver import (
        ForkKernelManager,  # IPC transport: no TCP port, no plain-text warning
    )
    from helpers.settings import load_settings

    s = load_settings(settings_path)
    folder = Path(backtest_dir)
    executed = folder / "methodology.ipynb"
    pm.execute_notebook(str(s.root / "notebooks" / "methodology.ipynb"), str(executed), kernel_name="python3",
                        parameters={"settings_path": str(s.path), "backtest_dir": str(folder), "lang": lang},
                        progress_bar=False, log_output=False, kernel_manager_class=ForkKernelManager)
    prov = {"backtest_dir": str(folder), "settings sha256": sha256_file(s.path), "plan sha256": sha256_file(s.plan_path),
            "lang": lang}
    out = [executed]
    for variant in ("report", "audit"):
        out.append(export_html(executed, folder / f"methodology.{variant}.html", variant, provenance=prov,
                               title="Methodology and backtest", lang=lang))
    return out


# --------------------------------------------------------------------------- the notebook

@dataclass
class BacktestResult:
    """What the methodology notebook shows: the two tables, where they came from, the labels."""

    per_forecast: pd.DataFrame
    summary: pd.DataFrame
    source: str
    lang: str
    demo: bool
    settings: dict
    names: dict


def _read_dir(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = pd.read_csv(folder / "backtest_summary.csv")
    per = pd.read_csv(folder / "backtest_forecasts.csv", dtype={"geography_code": str, "origin": str, "due": str},
                      keep_default_na=True)
    per["scored"] = per["scored"].astype(str).str.lower().isin(["true", "1"])
    for c in ("method", "sdg_category", "decided_by", "models_used", "models_dropped", "excluded"):
        per[c] = per[c].fillna("")
    return per, summary


def load_or_run(settings_path: str = "", backtest_dir: str = "", lang: str = "zh", geography: str = "",
                quarter: str = "", data_path: str = "", registry_path: str = "") -> BacktestResult:
    """The notebook's entry: read a backtest folder, or run a small backtest.

    Parameters
    ----------
    settings_path, data_path, registry_path : str
        Overrides of the settings file, the data file(s) and the plan registry ("" = defaults).
    backtest_dir : str
        A folder written by :func:`backtest_command`; "" runs a small backtest here (the city, origin
        2024Q4, 200 paths, about 15 s on two cores) unless ``geography`` or ``quarter`` widen it.
    lang : {"zh", "en"}
    geography : str
        Comma-separated codes for the backtest run here (default: the city).
    quarter : str
        Origins for the backtest run here (:func:`parse_origins`; default ``2024Q4``).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    s, plan, geos, frame, fs, th, paths = _load_inputs(settings_path, data_path, registry_path)
    if backtest_dir:
        folder = Path(backtest_dir)
        if not (folder / "backtest_summary.csv").is_file():
            raise FileNotFoundError(f"{folder} holds no backtest_summary.csv; run `ipeval backtest` first")
        per, summary = _read_dir(folder)
        source = f"{_label(lang, 'source_dir')} {folder}"
        n_paths = None
    else:
        codes = _as_list(geography) or [geos.city.code]
        for c in codes:
            geos.get(c)
        n_paths, origins = 200, quarter or SMALL_ORIGINS
        workers = min(2, int(s.executor.workers or os.cpu_count() or 1))
        per, summary = run_backtest(frame, plan, geos, fs, origins=origins, geographies=codes, n_paths=n_paths,
                                    thresholds=th, workers=workers)
        source = f"{_label(lang, 'source_run')}: {', '.join(codes)}; origins {origins}; " \
                 f"{n_paths} paths; data {', '.join(p.name for p in paths)}"
    demo = bool(frame["source"].astype(str).str.startswith("DEMO").any())
    settings = dict(seed=fs.seed, min_points=fs.min_points, seasonal_min_points=fs.seasonal_min_points,
                    members=", ".join(fs.members), n_paths=n_paths or "see backtest_forecasts.csv",
                    on_track=th.on_track, at_risk=th.at_risk, bins=N_BINS)
    names = {i.id: i.name(lang) for i in plan.indicators}
    names.update({g.code: g.name(lang) for g in geos.all})
    return BacktestResult(per, summary, source, lang, demo, settings, names)


def _display_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _fmt(x, pct: bool = False) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if not np.isfinite(x):
        return "—"
    return f"{x * 100:.0f}%" if pct else (f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}")


def show_header(result: BacktestResult) -> None:
    """Title, demo banner, where the numbers come from and the settings in force."""
    L = result.lang
    parts = []
    if result.demo:
        parts.append('<div class="ipeval-demo-banner" style="background:#fff3cd;border:2px solid #d39e00;'
                     f'padding:8px 12px;font-weight:bold;color:#7a5200">{_e(_label(L, "demo_banner"))}</div>')
    parts.append(f"<h1>{_e(_label(L, 'header'))}</h1><p>{_e(result.source)}</p>")
    parts.append(f"<p><b>{_e(_label(L, 'settings'))}</b>: "
                 + "; ".join(f"{_e(k)} = {_e(v)}" for k, v in result.settings.items()) + "</p>")
    _display_html("\n".join(parts))


def show_summary(result: BacktestResult) -> None:
    """The per-method summary table (Brier score, decomposition, coverage)."""
    L = result.lang
    cols = SUMMARY_COLUMNS
    out = [f"<h2>{_e(_label(L, 'summary_title'))}</h2>", '<table class="ipeval-backtest"><thead><tr>']
    out += [f"<th>{_e(_label(L, c))}</th>" for c in cols] + ["</tr></thead><tbody>"]
    for _, r in result.summary.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c == "method":
                cells.append(_e(_label(L, v) if v in (ENSEMBLE, RULES) else v))
            elif c in ("n", "n_intervals"):
                cells.append(_e(int(v)) if pd.notna(v) else "—")
            elif c in ("coverage80", "coverage95", "mean_forecast", "base_rate"):
                cells.append(_fmt(v, pct=True))
            else:
                cells.append(_e(f"{float(v):.3f}") if pd.notna(v) else "—")
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append(f"</tbody></table><p><small>{_e(_label(L, 'summary_note'))}</small></p>")
    _display_html("\n".join(out))


def show_reliability(result: BacktestResult) -> None:
    """The reliability plot, embedded as a PNG."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    fig = reliability_figure(result.per_forecast, result.lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))


def show_forecasts(result: BacktestResult) -> None:
    """Every scored case: each method's probability next to the outcome; then the cases not scored."""
    L = result.lang
    per = result.per_forecast
    scored = per[per["scored"]]
    out = [f"<h2>{_e(_label(L, 'forecasts_title'))}</h2>"]
    if len(scored):
        keys = ["indicator_id", "geography_code", "origin"]
        wide = scored.pivot_table(index=keys, columns="method", values="probability", aggfunc="first", sort=False)
        methods = list(dict.fromkeys(scored["method"]))
        wide = wide.reindex(columns=methods)
        facts = scored.groupby(keys, sort=False)[["outcome", "realised"]].first()
        head = [_label(L, "indicator"), _label(L, "geography"), _label(L, "origin")]
        head += [_label(L, m) if m in (ENSEMBLE, RULES) else m for m in methods]
        head += [_label(L, "outcome"), _label(L, "realised")]
        out.append('<table class="ipeval-backtest"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head)
                   + "</tr></thead><tbody>")
        for (ind_id, code, origin), r in wide.iterrows():
            f = facts.loc[(ind_id, code, origin)]
            cells = [_e(result.names.get(ind_id, ind_id)), _e(result.names.get(code, code)), _e(origin)]
            cells += [_fmt(r[m], pct=True) for m in methods]
            cells += [_e("✓" if f["outcome"] == 1 else "✗"), _fmt(f["realised"])]
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append("</tbody></table>")
    rest = per[~per["scored"]].drop_duplicates(["indicator_id", "geography_code", "origin"])
    if len(rest):
        out.append(f"<h3>{_e(_label(L, 'excluded'))}</h3><ul>")
        for _, r in rest.iterrows():
            out.append(f"<li>{_e(result.names.get(r['indicator_id'], r['indicator_id']))} · "
                       f"{_e(result.names.get(r['geography_code'], r['geography_code']))} · {_e(r['origin'])}: "
                       f"{_e(r['excluded'])}</li>")
        out.append("</ul>")
    _display_html("\n".join(out))
