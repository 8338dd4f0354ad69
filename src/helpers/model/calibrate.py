"""Calibration of the forecast engine on real series: a rolling-origin experiment.

The demo-data backtest (:mod:`helpers.model.backtest`) scores the engine on data this project
generated; this module scores it on real, public series that nobody here made (the M3
competition, Makridakis & Hibon 2000), the way a district's short series will be used:

1. every series is cut at several origins ``T``; each method sees only the last ``n`` points
   up to ``T`` (no leakage: nothing after ``T`` is read before scoring);
2. for horizons of 1, 2 and 3 years (``h = years x periods per year`` steps) and, on quarterly
   series, 1, 2 and 3 quarters (the plan's last quarters, where users look), and growth rates
   ``g`` in -5%, 0, 5%, 10%, 20% a year, the target is ``x_T (1 + g)^(h / periods per year)``
   and the outcome is whether the value ``h`` steps later reaches it (``x_{T+h} >= target``);
3. each method gives a probability per target, and (if it simulates) 80% and 95% intervals of
   ``x_{T+h}``; they are scored by the Brier score, the Brier skill against the base rate, the
   calibration slope and coverage (:mod:`helpers.model.scoring`), with 95% intervals for the
   Brier score and the slope that resample whole series (:mod:`helpers.model.calibrate_skill`),
   and one step ahead by the median absolute percentage error of the median forecast against
   repeating the last value (``last_value``).

Methods: ``engine`` (:func:`helpers.model.forecast.simulate_paths` with the project's settings),
``rw_drift`` (random walk with drift, plug-in parameters, same code path with
``engine="rw_drift"``), ``ets_damped`` (statsmodels ETS with additive damped trend on the log
scale, maximum likelihood, no parameter uncertainty), ``base_rate`` (the share of outcomes met per
history length, horizon and growth rate, given to every forecast: the reference of the skill
score), and two rules that give 0 or 1: ``trend_rule`` (the growth rate since the first visible
point extrapolated to the due date; "on track" if the projection covers 95% of the change from
the first visible point to the target: the rule layer the project used for short series) and ``unsd_rule`` (the UN SDG
Progress Chart test: actual compound growth since the baseline against the growth required to
reach the target from the baseline, on track at a ratio of 0.95).

``docs/methodology.md`` (section "Calibration on real series") explains the experiment and shows
its result; ``benchmarks/bench_calibrate.py`` times it. The files are read by :mod:`helpers.model.calibrate_read`.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.exceptions import ConfigError
from helpers.i18n import et
from helpers.model.calibrate_read import _REQUIRED, infer_freq, read_series  # noqa: F401 - re-exported
from helpers.model.forecast import ForecastSettings, simulate_paths
from helpers.model.scoring import calibration_slope, interval_coverage

__all__ = [
    "COLUMNS",
    "DEFAULT_HISTORY",
    "GOALS",
    "GROWTH_RATES",
    "METHODS",
    "YEARS",
    "format_table",
    "calibrate_files",
    "goal_report",
    "in_half",
    "infer_freq",
    "parse_history",
    "read_series",
    "run_calibration",
    "summarise",
]

#: Columns of ``calibration.csv``.
COLUMNS = ["freq", "n", "horizon", "method", "n_forecasts", "brier", "brier_lo", "brier_hi", "skill", "slope",
           "slope_lo", "slope_hi", "cov80", "cov95", "mdape1"]
METHODS: tuple[str, ...] = ("engine", "trend_rule", "unsd_rule", "rw_drift", "ets_damped", "base_rate")
#: Quarters ahead scored on quarterly series besides the 1-3 years (the plan's last quarters).
QUARTERS_AHEAD: tuple[int, ...] = (1, 2, 3)
GROWTH_RATES: tuple[float, ...] = (-0.05, 0.0, 0.05, 0.10, 0.20)
YEARS: tuple[int, ...] = (1, 2, 3)
PERIODS = {"yearly": 1, "quarterly": 4}
#: History lengths scored when ``--history`` is not given: a district's 4-8 annual returns, or
#: two to four years of quarters.
DEFAULT_HISTORY = {"yearly": (4, 6, 8), "quarterly": (8, 12, 16)}
#: The goals of issue 10, printed next to the table (never asserted: they are targets, not facts).
GOALS: dict[str, Any] = dict(slope=(0.9, 1.15), cov80=(0.77, 0.83), cov95=(0.93, 0.97), brier_vs_unsd=0.65, skill=0.15)
#: "on track" when the projection covers this share of the required change (UNSD cut-off).
_ON_TRACK = 0.95


# --------------------------------------------------------------------------- the experiment


def _origins(size: int, n: int, steps: int, k: int) -> list[int]:
    """Up to ``k`` origins (0-based index of the last visible point), spread evenly over the
    series, each with ``n`` points before it (included) and ``steps`` after it."""
    first, last = n - 1, size - 1 - steps
    if last < first:
        return []
    return sorted({int(round(x)) for x in np.linspace(first, last, min(k, last - first + 1))})


def _rule_probabilities(window: np.ndarray, m: int, years: int, targets: np.ndarray) -> dict[str, np.ndarray]:
    """0/1 forecasts of the two rules for targets ``years`` ahead of the last visible point.

    Baseline ``x0`` = the first visible point, ``t`` years before the last one ``xT``.
    ``trend_rule``: ``xT (1 + r)^years`` with ``r`` the compound growth since ``x0`` covers 95% of
    the change ``target - x0``. ``unsd_rule`` (UNSD SDG Progress Chart technical note): the actual
    growth rate ``r`` is at least 0.95 of the rate required to go from ``x0`` to the target by
    the due date. A target already reached counts as met (1) in both.
    """
    x0, xt = float(window[0]), float(window[-1])
    t = (window.size - 1) / m
    r = (xt / x0) ** (1.0 / t) - 1.0
    projected = xt * (1.0 + r) ** years
    met = xt >= targets
    trend = met | (projected >= x0 + _ON_TRACK * (targets - x0))
    required = (targets / x0) ** (1.0 / (t + years)) - 1.0
    unsd = met | ((required > 0) & (r >= _ON_TRACK * required))
    return {"trend_rule": trend.astype(float), "unsd_rule": unsd.astype(float)}


def _seed(base: int, name: str, n: int, origin: int) -> int:
    return (int(base) + zlib.crc32(f"{name}|{n}|{origin}".encode())) % (2**32)


def in_half(name: str, half: str) -> bool:
    """Whether a series belongs to ``half``: ``"a"`` (CRC-32 of its name even), ``"b"`` (odd), ``"all"``.

    The split is fixed by the names, so anything chosen on half ``a`` can be checked on ``b``.
    """
    if half == "all":
        return True
    return (zlib.crc32(name.encode()) % 2 == 0) == (half == "a")


def _check_calibration(freq: str, histories: Sequence[int], settings: ForecastSettings, half: str,
                       methods: Sequence[str]) -> int:
    """The periods per year of ``freq``, once the arguments of :func:`run_calibration` are checked."""
    if freq not in PERIODS:
        raise ConfigError(et("cal_freq", options=list(PERIODS), freq=repr(freq)))
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ConfigError(et("cal_methods_unknown", unknown=unknown, options=list(METHODS)))
    if half not in ("all", "a", "b"):
        raise ConfigError(et("cal_half", half=repr(half)))
    m = PERIODS[freq]
    need = settings.min_points_for(m)
    if min(histories) < need:
        raise ConfigError(et("cal_history_short", n=min(histories), need=need, freq=freq,
                             suffix="_yearly" if m == 1 else ""))
    return m


def _series_names(series: dict[str, np.ndarray], half: str, max_series: int | None, seed: int) -> list[str]:
    """The series scored: those of ``half``, or a sample of ``max_series`` of them drawn with ``seed``."""
    names = sorted(k for k in series if in_half(k, half))
    if max_series is not None and max_series < len(names):
        names = sorted(np.random.default_rng(seed).choice(names, size=max_series, replace=False).tolist())
    return names


def _simulations(window: np.ndarray, steps: int, m: int, freq: str, methods: Sequence[str], engines: dict,
                 n_paths: int, seed_here: int) -> dict:
    """Each simulating method's paths from ``window`` (``None`` where its fit failed)."""
    from helpers.model.calibrate_skill import ets_damped_paths

    sims: dict[str, np.ndarray | None] = {}
    for method in methods:
        if method in engines:
            sims[method] = simulate_paths(
                window, steps, transform="log", season_length=m, freq=freq,
                settings=engines[method], seed=seed_here).paths
        elif method == "ets_damped":
            sims[method] = ets_damped_paths(window, steps, n_paths, seed_here)
    return sims


def _origin_rows(y: np.ndarray, window: np.ndarray, origin: int, sims: dict, g: np.ndarray, horizons: list,
                 *, freq: str, name: str, n: int, m: int, methods: Sequence[str]) -> list[dict]:
    """One row per horizon, method and growth rate of the forecasts made at ``origin``."""
    rows: list[dict] = []
    for h, horizon in horizons:
        years = h / m
        realised = float(y[origin + h])
        targets = window[-1] * (1.0 + g) ** years
        outcome = (realised >= targets).astype(float)
        probs = _rule_probabilities(window, m, years, targets)
        for method in methods:
            if method == "base_rate":
                continue  # from all the outcomes, once the loop is done
            band, med = (np.nan,) * 4, np.nan
            if method in sims:
                if sims[method] is None:
                    continue  # the fit failed: no forecast from this method here
                at = sims[method][:, h - 1]
                probs[method] = (at[:, None] >= targets[None, :]).mean(axis=0)
                band = tuple(np.quantile(at, (0.1, 0.9, 0.025, 0.975)))
                med = float(np.median(at))
            for gi, p in enumerate(probs[method]):
                rows.append(dict(freq=freq, series=name, n=int(n), origin=int(origin) + 1,
                                 years=years, h=h, horizon=horizon, g=float(g[gi]), method=method,
                                 probability=float(p), outcome=outcome[gi], lo80=band[0],
                                 hi80=band[1], lo95=band[2], hi95=band[3], realised=realised,
                                 median=med, last=float(window[-1])))
    return rows


def run_calibration(series: dict[str, np.ndarray], freq: str, histories: Sequence[int],
                    settings: ForecastSettings = ForecastSettings(), *, origins: int = 3,
                    max_series: int | None = None, half: str = "all", seed: int = 20000101,
                    methods: Sequence[str] = METHODS) -> pd.DataFrame:
    """Run the rolling-origin experiment on one frequency's series.

    Parameters
    ----------
    series : dict of str to numpy.ndarray
        Positive values in time order (see :func:`read_series`).
    freq : {"yearly", "quarterly"}
    histories : sequence of int
        History lengths ``n`` (points the methods see).
    settings : ForecastSettings
        The engine's settings (``engine`` method); ``rw_drift`` uses the same with
        ``engine="rw_drift"``.
    origins : int
        Origins per series and history length, spread evenly over the series.
    max_series : int, optional
        Score a sample of this many series (drawn with ``seed``, reproducible).
    half : {"all", "a", "b"}
        Only the series of one half (see :func:`in_half`), to choose on one and check on the other.
    seed : int
        Seed of the series sample.
    methods : sequence of str
        Subset of :data:`METHODS`.

    Returns
    -------
    pandas.DataFrame
        One row per forecast: ``freq, series, n, origin, years, g, method, probability, outcome,
        lo80, hi80, lo95, hi95, realised`` (intervals NaN for the rules).
    """
    m = _check_calibration(freq, histories, settings, half, methods)
    from helpers.model.calibrate_skill import add_base_rate

    steps = max(YEARS) * m
    names = _series_names(series, half, max_series, seed)
    engines = {"engine": settings, "rw_drift": dataclasses.replace(settings, engine="rw_drift")}
    g = np.asarray(GROWTH_RATES)
    # (steps ahead, horizon class): 1-3 quarters on quarterly series, then 1-3 years
    horizons = [(q, "1-3q") for q in QUARTERS_AHEAD if m > 1] + [(y * m, "1-3y") for y in YEARS]
    rows: list[dict] = []
    for name in names:
        y = series[name]
        for n in histories:
            for origin in _origins(y.size, int(n), steps, origins):
                window = y[origin - n + 1: origin + 1]  # the only data a method sees
                sims = _simulations(window, steps, m, freq, methods, engines, settings.n_paths,
                                    _seed(settings.seed, name, n, origin))
                rows += _origin_rows(y, window, origin, sims, g, horizons, freq=freq, name=name, n=n, m=m,
                                     methods=methods)
    per = pd.DataFrame(rows, columns=["freq", "series", "n", "origin", "years", "h", "horizon", "g", "method",
                                      "probability", "outcome", "lo80", "hi80", "lo95", "hi95", "realised",
                                      "median", "last"])
    return add_base_rate(per) if "base_rate" in methods and len(per) else per


def summarise(per_forecast: pd.DataFrame) -> pd.DataFrame:
    """One row per (freq, n, method): ``n_forecasts, brier, slope, cov80, cov95``.

    Coverage is counted once per (series, origin, horizon), not once per growth rate: the five
    targets share one interval. Rules have no intervals (NaN).
    """
    from helpers.model.calibrate_skill import clustered_intervals, median_ape

    out = []
    order = {m: i for i, m in enumerate(METHODS + ("last_value",))}
    per = per_forecast
    if "horizon" not in per.columns:  # a per-forecast table of an older version: years only
        per = per.assign(horizon="1-3y", h=per["years"], median=np.nan, last=np.nan)
    for (freq, n, horizon, method), d in per.groupby(["freq", "n", "horizon", "method"], sort=False):
        p, o = d["probability"].to_numpy(float), d["outcome"].to_numpy(float)
        one = d.drop_duplicates(["series", "origin", "h"])
        _, cov80 = interval_coverage(one["lo80"], one["hi80"], one["realised"])
        _, cov95 = interval_coverage(one["lo95"], one["hi95"], one["realised"])
        ci = clustered_intervals(d, seed=zlib.crc32(f"{freq}|{n}|{horizon}|{method}".encode()))
        out.append(dict(freq=freq, n=int(n), horizon=horizon, method=method, n_forecasts=int(len(d)),
                        brier=float(np.mean((p - o) ** 2)), slope=calibration_slope(p, o)[1],
                        cov80=cov80, cov95=cov95, mdape1=median_ape(d), **ci))
        if method == "engine" and horizon == "1-3q":
            # repeating the last value, one step ahead: the bar the engine's median must clear
            out.append(dict(freq=freq, n=int(n), horizon=horizon, method="last_value",
                            n_forecasts=int(len(one[one["h"] == 1])),
                            mdape1=median_ape(d.assign(median=d["last"]))))
    table = pd.DataFrame(out, columns=COLUMNS)
    base = table[table["method"] == "base_rate"].set_index(["freq", "n", "horizon"])["brier"]
    key = pd.MultiIndex.from_frame(table[["freq", "n", "horizon"]])
    table["skill"] = 1.0 - table["brier"].to_numpy() / base.reindex(key).to_numpy()
    table["_o"] = table["method"].map(order)
    return table.sort_values(["freq", "n", "horizon", "_o"]).drop(columns="_o").reset_index(drop=True)


def goal_report(table: pd.DataFrame) -> list[str]:
    """One line per (freq, n): which of the goals the engine meets (slope, coverage, Brier)."""
    lines = []
    if "horizon" not in table.columns:
        table = table.assign(horizon="1-3y")
    for (freq, n, horizon), d in table.groupby(["freq", "n", "horizon"], sort=False):
        by = d.set_index("method")
        if "engine" not in by.index:
            continue
        e = by.loc["engine"]
        checks = []
        lo, hi = GOALS["slope"]
        checks.append(("slope", lo <= e["slope"] <= hi))
        for key in ("cov80", "cov95"):
            lo, hi = GOALS[key]
            checks.append((key, lo <= e[key] <= hi))
        if "unsd_rule" in by.index:
            checks.append(("brier<=0.65*unsd", e["brier"] <= GOALS["brier_vs_unsd"] * by.loc["unsd_rule", "brier"]))
        if "rw_drift" in by.index:
            checks.append(("brier<rw_drift", e["brier"] < by.loc["rw_drift", "brier"]))
        if "ets_damped" in by.index:
            checks.append(("brier<ets_damped", e["brier"] < by.loc["ets_damped", "brier"]))
        if np.isfinite(e.get("skill", np.nan)):
            checks.append((f"skill>={GOALS['skill']}", e["skill"] >= GOALS["skill"]))
        if "last_value" in by.index and np.isfinite(e.get("mdape1", np.nan)):
            checks.append(("mdape1<=last_value", e["mdape1"] <= by.loc["last_value", "mdape1"]))
        text = ", ".join(f"{k} {'ok' if ok else 'MISSED'}" for k, ok in checks)
        lines.append(f"{freq} n={n} {horizon}: {text}")
    return lines


def format_table(table: pd.DataFrame) -> str:
    """The table as fixed-width text (what the command prints)."""
    t = table.copy()
    for c in ("brier", "brier_lo", "brier_hi", "skill", "slope", "slope_lo", "slope_hi", "cov80", "cov95", "mdape1"):
        if c in t.columns:
            t[c] = t[c].map(lambda v: "" if not np.isfinite(v) else f"{v:.3f}")
    return t.to_string(index=False)


# --------------------------------------------------------------------------- the command


def parse_history(text: str | None) -> list[int] | None:
    """``"4,6,8"`` -> ``[4, 6, 8]``; None stays None (the frequency's default)."""
    if text is None or not str(text).strip():
        return None
    try:
        values = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise ConfigError(et("cal_history_format", text=repr(text))) from None
    if not values or min(values) < 2:
        raise ConfigError(et("cal_history_at_least_2", text=repr(text)))
    return values


def calibrate_files(files: Iterable[str | Path], settings: ForecastSettings, *, history: str | None = None,
                    freq: str | None = None, out: str | Path = ".", max_series: int | None = None,
                    origins: int = 3, half: str = "all") -> tuple[pd.DataFrame, Path]:
    """What ``ipeval calibrate`` does: read, run, summarise, write ``calibration.csv`` (and the
    per-forecast ``calibration_forecasts.csv``) into ``out``.

    The files are written to temporary names and renamed, so an interrupted run leaves the
    previous results whole.

    Returns
    -------
    (table, path) : pandas.DataFrame and Path of ``calibration.csv``
    """
    if freq is not None and freq not in PERIODS:
        raise ConfigError(et("cal_freq_option", freq=repr(freq)))
    wanted = parse_history(history)
    parts = []
    for f in files:
        frame, series = read_series(f)
        fq = freq or infer_freq(frame, f)
        parts.append(run_calibration(series, fq, wanted or DEFAULT_HISTORY[fq], settings, origins=origins,
                                     max_series=max_series, half=half))
    if not parts:
        raise ConfigError(et("cal_no_file"))
    per = pd.concat(parts, ignore_index=True)
    if per.empty:
        raise ConfigError(et("cal_no_forecast"))
    table = summarise(per)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "calibration.csv"
    for frame, dest in ((per, folder / "calibration_forecasts.csv"), (table, target)):
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        frame.to_csv(tmp, index=False, float_format="%.6g")
        os.replace(tmp, dest)
    return table, target
