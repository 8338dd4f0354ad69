"""Benchmark: assess every indicator for all 14 geographies for one quarter (default simulation count).

Prints the cold time (no cache) with 1 and 2 processes and the warm time (every result cached).
Goal (issue 3): cold <= 15 s on this 2-core machine. Figures only, no assertions.
"""

from __future__ import annotations

import sys
import tempfile
import time

from helpers.data.contract import load_data
from helpers.model.assess import StatusThresholds, assess_all
from helpers.model.forecast import ForecastSettings
from helpers.plan.geography import load_geographies
from helpers.plan.periods import Quarter
from helpers.plan.registry import load_plan
from helpers.settings import load_settings


def main(quarter: str = "2025Q2") -> None:
    s = load_settings()
    plan, geos = load_plan(s.plan_path), load_geographies(s.geographies_path)
    frame = load_data(s.data_path, plan, geos).frame
    fs = ForecastSettings.from_mapping(s.block("forecast"))
    th = StatusThresholds(**s.block("status"))
    q = Quarter.parse(quarter)
    import statsmodels.api  # noqa: F401

    import helpers.model.forecast  # noqa: F401 - statsmodels import is not part of the figure

    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as cache:
            t = time.perf_counter()
            table, _ = assess_all(frame, plan, geos, q, fs, th, cache_dir=cache, workers=workers)
            cold = time.perf_counter() - t
            t = time.perf_counter()
            assess_all(frame, plan, geos, q, fs, th, cache_dir=cache, workers=workers)
            warm = time.perf_counter() - t
        print(f"workers={workers}: {len(table)} indicator x geography assessments, n_paths={fs.n_paths}: "
              f"cold {cold:5.1f} s ({cold / len(table) * 1000:.0f} ms each), warm (cached) {warm:5.2f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
