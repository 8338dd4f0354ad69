"""Benchmark: cost per report as the geographies grow, and the Dask executor against the local one.

Prints figures; asserts nothing (compare the ratios of one run on the shared machine).

    python benchmarks/bench_scale.py                                   # 14, 28, 56 geographies, every section
    python benchmarks/bench_scale.py --sizes 14,28 --sections judicial # a cheaper sample
    python benchmarks/bench_scale.py --dask-only                       # local vs --executor dask only

Each size runs in its own scratch project (never published anywhere else): the 13 districts are
copied under new codes (330140 onwards, "<name>·副本n") with their data rows, and the city's
summed counts are multiplied so the districts never add up to more than the city. Each size is one
fresh ``ipeval run --no-documents`` with 2 workers: wall seconds per report, and the reports' part
alone (less the assessments and the charts, from the run's log).

The executor comparison runs the 14-geography quarter twice in one project: ``--executor local``
and ``--executor dask`` against a ``distributed.LocalCluster`` of two single-threaded workers
started here.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FIRST_COPY_CODE = 330140


def scaled_project(tmp: Path, n_geos: int) -> Path:
    """A scratch project with the city and ``n_geos - 1`` districts (the 13 real ones, then copies)."""
    proj = tmp / f"geos-{n_geos}"
    for sub in ("params", "notebooks"):
        shutil.copytree(ROOT / sub, proj / sub)
    (proj / "data" / "demo").mkdir(parents=True)
    gpath = proj / "params" / "geographies.yaml"
    g = yaml.safe_load(gpath.read_text(encoding="utf-8"))
    real = list(g["districts"])
    copies = []
    for k in range(max(0, n_geos - 1 - len(real))):
        src = real[k % len(real)]
        copies.append({**src, "code": str(FIRST_COPY_CODE + k), "name_zh": f"{src['name_zh']}·副本{k // len(real) + 1}",
                       "name_en": f"{src['name_en']} copy {k // len(real) + 1}", "_from": src["code"]})
    g["districts"] = real[: n_geos - 1] + [{k: v for k, v in c.items() if k != "_from"} for c in copies]
    gpath.write_text(yaml.safe_dump(g, allow_unicode=True, sort_keys=False), encoding="utf-8")
    factor = math.ceil(len(g["districts"]) / len(real))
    _write_data(proj, {c["code"]: c["_from"] for c in copies}, factor, g["city"]["code"])
    return proj


def _write_data(proj: Path, copies: dict, factor: int, city: str) -> None:
    """The demo data with each copy's rows (its source district's, under the new code) and the city's
    summed counts multiplied by ``factor``."""
    from helpers.plan.registry import load_plan
    from helpers.settings import load_settings

    plan = load_plan(load_settings(proj / "params" / "settings.yaml").plan_path)
    summed = {i.id for i in plan.indicators if i.aggregation == "sum"}
    with open(ROOT / "data" / "demo" / "demo_data.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        if r["geography_code"] == city and r["indicator_id"] in summed and r["value"] not in ("", None):
            r = {**r, "value": f"{float(r['value']) * factor:.6g}"}
        out.append(r)
    by_code = {}
    for r in rows:
        by_code.setdefault(r["geography_code"], []).append(r)
    for code, src in copies.items():
        out += [{**r, "geography_code": code} for r in by_code.get(src, [])]
    with open(proj / "data" / "demo" / "demo_data.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(out)


def ipeval_run(proj: Path, quarter: str, sections: str | None, *extra) -> tuple[float, dict]:
    """Wall seconds of one ``ipeval run`` and the manifest of what it published."""
    env = dict(os.environ, IPEVAL_HOME=str(proj))
    cmd = [str(BIN / "ipeval"), "run", "-q", quarter, "--quiet", "--no-documents", "-j", "2", *extra]
    if sections:
        cmd += ["--sections", sections]
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=proj, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode not in (0, 1):
        raise SystemExit(f"ipeval run failed ({r.returncode}): {r.stderr[-2000:]}")
    return wall, json.loads(((proj / "outputs" / quarter).resolve() / "manifest.json").read_text(encoding="utf-8"))


def _stage_seconds(proj: Path, quarter: str) -> dict:
    """Seconds of the assessments and the charts, from the published run's log."""
    log = [json.loads(x) for x in ((proj / "outputs" / quarter).resolve() / "run.log.jsonl").read_text(
        encoding="utf-8").splitlines()]
    return {x["event"]: x.get("seconds", 0.0) for x in log if x.get("event") in ("assessed", "charts")}


def scale(tmp: Path, sizes: list[int], quarter: str, sections: str | None) -> list[tuple]:
    """One fresh run per size: its wall time per report, and the reports' part alone (the wall time
    less the assessments and charts, which grow with the indicators x geographies, not the reports)."""
    rows = []
    for n in sizes:
        proj = scaled_project(tmp, n)
        wall, m = ipeval_run(proj, quarter, sections)
        jobs = len(m["jobs"])
        st = _stage_seconds(proj, quarter)
        reports = wall - st.get("assessed", 0.0) - st.get("charts", 0.0)
        rows.append((n, jobs, wall, wall / jobs, reports / jobs))
        print(f"{n:3d} geographies: {jobs:4d} reports in {wall:7.1f} s = {wall / jobs:5.2f} s per report "
              f"(assessments {st.get('assessed', 0):.1f} s, charts {st.get('charts', 0):.1f} s; "
              f"reports alone {reports / jobs:5.2f} s per report)", flush=True)
    return rows


def dask_vs_local(tmp: Path, quarter: str, sections: str | None) -> tuple[float, float, int]:
    from distributed import LocalCluster

    proj = scaled_project(tmp / "dask", 14)
    ipeval_run(proj, quarter, sections)  # assessments and charts cached: both timed runs are the reports
    local, m = ipeval_run(proj, quarter, sections, "--force")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask, _ = ipeval_run(proj, quarter, sections, "--force", "--executor", "dask", "--scheduler",
                             cluster.scheduler_address)
    return local, dask, len(m["jobs"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quarter", default="2025Q2")
    ap.add_argument("--sizes", default="14,28,56", help="numbers of geographies (the city included)")
    ap.add_argument("--sections", default=None, help="comma-separated sections (default: all)")
    ap.add_argument("--dask-only", action="store_true")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ipeval-scale-"))
    try:
        if not args.dask_only:
            rows = scale(tmp, [int(x) for x in args.sizes.split(",")], args.quarter, args.sections)
            first, last = rows[0][3], rows[-1][3]
            print(f"cost per report at {rows[-1][0]} against {rows[0][0]} geographies: {last / first:5.2f}x "
                  f"(goal: within 10%, <= 1.10x) {'met' if last / first <= 1.10 else 'not met'}; "
                  f"reports alone {rows[-1][4] / rows[0][4]:5.2f}x")
        if not args.no_dask:
            local, dask, n = dask_vs_local(tmp, args.quarter, args.sections)
            print(f"executor, {n} reports: local {local:6.1f} s, dask (LocalCluster, 2 workers) {dask:6.1f} s "
                  f"({dask / local:4.2f}x the local time)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
