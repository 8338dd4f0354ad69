"""The calibration goals of issue 10 on real series, and the engine's cost per forecast.

Run from the project root with the M3 development files (Makridakis & Hibon 2000; not in the
repository)::

    .venv/bin/python benchmarks/bench_calibrate.py YEARLY.csv QUARTERLY.csv [--half a|b|all]
        [--max-series N] [--engine drift_t|ensemble]

Prints, per file, the calibration table of ``ipeval calibrate`` (Brier score, calibration slope,
80%/95% coverage for the engine and the baselines ``trend_rule``, ``unsd_rule``, ``rw_drift``), one
line per history length saying which goal is met (slope 0.9-1.15, coverage 77-83% and 93-97%,
Brier at least 35% below the UNSD rule's and below rw_drift), the wall time, and the engine's
milliseconds per ``simulate_paths`` call. ``--half a`` / ``--half b``: the fixed halves of the
series the engine's settings were chosen on (a) and checked on (b). No assertions.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from helpers.model.calibrate import (
    DEFAULT_HISTORY,
    format_table,
    goal_report,
    infer_freq,
    read_series,
    run_calibration,
    summarise,
)
from helpers.model.forecast import ForecastSettings, simulate_paths
from helpers.settings import load_settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--half", default="all", choices=("all", "a", "b"))
    ap.add_argument("--max-series", type=int, default=None)
    ap.add_argument("--engine", default=None, choices=("drift_t", "ensemble", "rw_drift"))
    args = ap.parse_args()
    fs = ForecastSettings.from_mapping(load_settings().block("forecast"))
    if args.engine:
        fs = dataclasses.replace(fs, engine=args.engine, min_points=max(fs.min_points, 8) if args.engine == "ensemble"
                                 else fs.min_points)
    for path in args.files:
        frame, series = read_series(path)
        freq = infer_freq(frame, path)
        t0 = time.perf_counter()
        per = run_calibration(series, freq, DEFAULT_HISTORY[freq], fs, max_series=args.max_series, half=args.half)
        wall = time.perf_counter() - t0
        table = summarise(per)
        print(f"\n== {path} ({freq}, half {args.half}, {per['series'].nunique()} series, {wall:.1f} s)")
        print(format_table(table))
        for line in goal_report(table):
            print("  " + line)
        # cost of one engine forecast: the 8 quarters / 3 years a 2025 target needs at most
        m = 1 if freq == "yearly" else 4
        windows = [y[-(DEFAULT_HISTORY[freq][0]):] for y in list(series.values())[:200]]
        t0 = time.perf_counter()
        for i, w in enumerate(windows):
            simulate_paths(w, 3 * m, transform="log", season_length=m, freq=freq, settings=fs, seed=i)
        per_call = (time.perf_counter() - t0) / len(windows) * 1000
        print(f"  engine {fs.engine}: {per_call:.2f} ms per series ({fs.n_paths} paths, {3 * m} steps)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
