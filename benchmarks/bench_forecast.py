"""Time :func:`helpers.model.forecast.simulate_paths` on 300 synthetic short series.

Run from the project root::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_forecast.py [--series 300] [--workers 2]

Prints milliseconds per series in total and per member (fit + simulation), how often each
member was dropped and why, and the wall time with a process pool (the run uses 2 cores).
The series mimic the project's indicators: 12-20 quarters, seeded, a mix of trending amounts,
noisy flat levels, seasonal flows, small counts (log transform) and percentages near a bound
(logit transform). No assertions: this reports, it does not judge.
"""

from __future__ import annotations

import os

# One BLAS thread per process, set before numpy loads: statsmodels works on tiny matrices, and
# OpenBLAS's spinning worker threads made two processes slower than one (measured: 29 s vs 15 s
# for 300 series). A runner that forecasts in worker processes should do the same.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - after the thread settings on purpose
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np  # noqa: E402

from helpers.model import engine_ensemble, forecast  # noqa: E402, F401
from helpers.model.forecast import ForecastSettings, simulate_paths  # noqa: E402

SEED = 20231023
HORIZON = 8  # up to two years of quarters ahead: the longest reach to a 2025 target


def make_series(n_series: int, seed: int = SEED) -> list[dict]:
    """Synthetic histories with the keyword arguments ``simulate_paths`` needs for each."""
    rng = np.random.default_rng(seed)
    kinds = ("trend", "flat", "seasonal", "count", "ratio")
    out = []
    for i in range(n_series):
        n = int(rng.integers(12, 21))
        t = np.arange(n, dtype=float)
        kind = kinds[i % len(kinds)]
        if kind == "trend":
            y = rng.uniform(50, 5000) * (1 + rng.normal(0.02, 0.02) * t
                                         + rng.normal(0, rng.uniform(0.01, 0.1), n))
            kw = {}
        elif kind == "flat":
            y = rng.normal(100, rng.uniform(1, 15), n)
            kw = {}
        elif kind == "seasonal":
            season = np.tile(rng.normal(0, 10, 4), n // 4 + 1)[:n]
            y = 200 + rng.normal(1, 1) * t + season + rng.normal(0, 3, n)
            kw = {}
        elif kind == "count":
            y = rng.poisson(rng.uniform(0.5, 30) * np.exp(0.03 * t)).astype(float)
            kw = {"transform": "log", "bounds": (0, None)}
        else:
            y = np.clip(rng.uniform(80, 99.5) + 0.1 * t + rng.normal(0, 0.5, n), 0, 100)
            kw = {"transform": "logit", "bounds": (0, 100)}
        out.append({"history": y, "horizon": HORIZON, **kw})
    return out


def _run_one(job: dict) -> None:
    simulate_paths(**job, settings=ForecastSettings(), seed=SEED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = make_series(args.series)

    t0 = time.perf_counter()
    import statsmodels.api  # noqa: F401 - report the import separately from the work

    print(f"statsmodels import: {time.perf_counter() - t0:.2f} s (once per process)")
    simulate_paths(**jobs[0])  # warm-up: first calls pay lazy imports and caches

    # Per-member time = its fit + its simulations, measured inside real simulate_paths calls
    member_time: dict[str, float] = defaultdict(float)
    member_calls: Counter = Counter()
    real_fit = engine_ensemble._fit_member

    def timed_fit(name, *a, **k):
        start = time.perf_counter()
        try:
            sim = real_fit(name, *a, **k)
        finally:
            member_time[name] += time.perf_counter() - start
            member_calls[name] += 1

        def timed_sim(*sa):
            s0 = time.perf_counter()
            try:
                return sim(*sa)
            finally:
                member_time[name] += time.perf_counter() - s0

        return timed_sim

    engine_ensemble._fit_member = timed_fit
    dropped: Counter = Counter()
    reasons: dict[str, Counter] = defaultdict(Counter)
    fallback = 0
    n_members_used = []
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        for job in jobs:
            res = simulate_paths(**job, seed=SEED)
            n_members_used.append(len(res.members_used))
            fallback += res.members_used == ["rw_drift"]
            for name, why in res.members_dropped.items():
                dropped[name] += 1
                reasons[name][why.split(" (")[0]] += 1
    finally:
        engine_ensemble._fit_member = real_fit
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start

    n = len(jobs)
    print(f"\n{n} series, horizon {HORIZON}, n_paths {ForecastSettings().n_paths}, 1 process")
    print(f"total: {total:.2f} s wall = {1000 * total / n:.1f} ms per series "
          f"(CPU {1000 * cpu / n:.1f} ms per series; wall > CPU means other load on the machine)")
    other = total - sum(member_time.values())
    print(f"{'member':<10}{'ms/series':>10}{'ms/fit':>9}{'tried':>7}{'dropped':>9}  reasons")
    for name in sorted(member_time, key=member_time.get, reverse=True):
        calls = member_calls[name]
        why = ", ".join(f"{k}: {v}" for k, v in reasons[name].most_common())
        print(f"{name:<10}{1000 * member_time[name] / n:>10.1f}"
              f"{1000 * member_time[name] / calls:>9.1f}{calls:>7}{dropped[name]:>9}  {why}")
    print(f"{'(rest)':<10}{1000 * other / n:>10.1f}   transforms, checks, quantiles, mixing")
    print("(theta reuses the ets_ann fit on non-seasonal series; that fit is counted under ets_ann)")
    print(f"members used per series: mean {np.mean(n_members_used):.2f}; "
          f"random-walk fallback: {fallback}")

    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            list(pool.map(_run_one, jobs[: 2 * args.workers]))  # warm the workers' imports
            start = time.perf_counter()
            list(pool.map(_run_one, jobs, chunksize=max(1, n // (8 * args.workers))))
            wall = time.perf_counter() - start
        print(f"\n{args.workers} processes (warm): {wall:.2f} s wall = "
              f"{1000 * wall / n:.1f} ms per series")


if __name__ == "__main__":
    main()
