"""Benchmark: a full demo quarter, a re-run with nothing changed, and a plain sequential baseline.

Prints figures; asserts nothing (this machine is shared and noisy: compare the ratios of one run).
The first lines put each goal of issue 19 beside its figure (whole quarter, HTML part, documents,
speed-up over the plain loop, no-change re-run, published size, peak memory).

    python benchmarks/bench_quarter.py                     # full quarter + re-run + baseline on a sample
    python benchmarks/bench_quarter.py --baseline-jobs 0   # the baseline over every job (slow: ~15-20 min)
    python benchmarks/bench_quarter.py --no-fork-sample 0  # skip the quarter with ordinary kernels

Also measured: the same jobs with `executor.fork_kernels: false` (ordinary kernels, docs/kernels.md) on a
sample of sections, extrapolated per report, so the fork server's gain is a ratio within one run.

The baseline is what a user would write without this executor: for every (section, geography) job,
`papermill` then `jupyter nbconvert --to html` twice (report without input, audit with), one after
the other, reading the same precomputed assessments (so both sides do the same notebook work).
With --baseline-jobs N it runs N jobs spread over the sections and extrapolates per job.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def scratch_project(tmp: Path) -> Path:
    proj = tmp / "proj"
    for sub in ("params", "notebooks"):
        shutil.copytree(ROOT / sub, proj / sub)
    (proj / "data" / "demo").mkdir(parents=True)
    shutil.copy2(ROOT / "data" / "demo" / "demo_data.csv", proj / "data" / "demo" / "demo_data.csv")
    return proj


def timed(cmd, cwd, env=None) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - t, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quarter", default="2025Q2")
    ap.add_argument("--baseline-jobs", type=int, default=16, help="jobs in the sequential baseline (0 = all)")
    ap.add_argument("--no-fork-sample", type=int, default=2,
                    help="sections run again with ordinary kernels (0 = skip; 8 = the whole quarter)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ipeval-bench-"))
    proj = scratch_project(tmp)
    env = dict(os.environ, IPEVAL_HOME=str(proj))
    ipeval = [str(BIN / "ipeval")]

    cpu0 = _children_cpu()
    wall_full, r = timed([*ipeval, "run", "--quarter", args.quarter, "--quiet", "--force"], proj, env)
    # CPU seconds (user + sys of the run and every process it waited for): on a shared machine a
    # steadier figure than the wall time, which the other users' load stretches
    cpu_full = _children_cpu() - cpu0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run_dir = (proj / "outputs" / args.quarter).resolve()
    m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    jobs = m["jobs"]
    n_ok = sum(j["status"] == "ok" for j in jobs)
    log = [json.loads(x) for x in (run_dir / "run.log.jsonl").read_text(encoding="utf-8").splitlines()]
    assess_s = next((x["seconds"] for x in log if x.get("event") == "assessed"), float("nan"))
    stages = _stages(log)

    size_mb = sum(f.stat().st_size for f in run_dir.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6
    by_part = {p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1e6 if p.is_dir()
               else p.stat().st_size / 1e6 for p in run_dir.iterdir()}
    # the first re-run records the inputs' hash when the first run seeded the store; the second is the
    # scheduled job's case: nothing changed since the last published run
    timed([*ipeval, "run", "--quarter", args.quarter, "--quiet"], proj, env)
    wall_rerun, r2 = timed([*ipeval, "run", "--quarter", args.quarter, "--quiet"], proj, env)

    # the HTML part: the same quarter without documents, in a fresh project of its own (nothing cached, as
    # in the full run). Since the documents are written beside the reports (run/side.py), the full run's
    # wall time less the documents' own seconds would understate it.
    html_proj = scratch_project(tmp / "html")
    wall_html, r3 = timed([*ipeval, "run", "--quarter", args.quarter, "--quiet", "--force", "--no-documents"],
                          html_proj, dict(os.environ, IPEVAL_HOME=str(html_proj)))

    no_fork = None
    if args.no_fork_sample:
        no_fork = _ordinary_kernels(tmp, args.quarter, [j["section"] for j in jobs], args.no_fork_sample)

    sample = jobs if args.baseline_jobs == 0 else jobs[:: max(1, len(jobs) // args.baseline_jobs)][: args.baseline_jobs]
    base_dir = tmp / "baseline"
    base_dir.mkdir()
    t0 = time.perf_counter()
    for j in sample:
        out_nb = base_dir / f"{j['section']}-{j['geography_code']}.ipynb"
        subprocess.run([str(BIN / "papermill"), str(proj / "notebooks" / f"{j['section']}.ipynb"), str(out_nb),
                        "-p", "geography", j["geography_code"], "-p", "quarter", args.quarter,
                        "-p", "settings_path", str(proj / "params" / "settings.yaml"), "-p", "run_dir", str(run_dir),
                        "--no-progress-bar"], cwd=proj, env=env, capture_output=True, check=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", "--output",
                        out_nb.stem + ".report", str(out_nb)], cwd=base_dir, capture_output=True, check=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--output", out_nb.stem + ".audit",
                        str(out_nb)], cwd=base_dir, capture_output=True, check=True)
    per_job = (time.perf_counter() - t0) / len(sample)
    baseline_total = per_job * len(jobs)

    docs_s = next((x["seconds"] for x in log if x.get("event") == "documents"), 0.0)
    docs_added = wall_full - wall_html  # what the documents add to the quarter's wall time
    speedup = baseline_total / wall_full
    print("goal                                     figure        goal       met")
    for name, fig, goal, ok in [
        ("whole quarter with documents (s)", wall_full, "<= 40", wall_full <= 40),
        ("HTML part: --no-documents (s)", wall_html, "<= 25", wall_html <= 25),
        ("documents: added to the quarter (s)", docs_added, "<= 8", docs_added <= 8),
        ("speed-up over the plain loop (x)", speedup, ">= 40", speedup >= 40),
        ("no-change re-run (s)", wall_rerun, "<= 1", wall_rerun <= 1),
        ("published quarter (MB)", size_mb, "<= 50", size_mb <= 50),
        ("peak memory, largest process (MiB)", peak_mb, "<= 400", peak_mb <= 400),
    ]:
        print(f"  {name:38s} {fig:9.1f}    {goal:8s}   {'yes' if ok else 'no'}")
    print("published quarter by part (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                        sorted(by_part.items(), key=lambda kv: -kv[1]) if v >= 0.05))
    print(f"re-run output: {r2.stdout.strip()[:200]}")
    print(f"jobs in the quarter:                 {len(jobs)} ({n_ok} ok), exit code {r.returncode}")
    print(f"full quarter (ipeval run --force):   {wall_full:7.1f} s wall  (assessments {assess_s:.1f} s), "
          f"{cpu_full:.1f} s CPU (user+sys, all processes; load average {os.getloadavg()[0]:.1f})")
    print("  stages (s from the run's start): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    print(f"documents' own time (side process, beside the reports, nice 10): {docs_s:.1f} s; "
          f"the quarter without them: {wall_html:.1f} s (exit code {r3.returncode})")
    print(f"re-run, nothing changed:             {wall_rerun:7.1f} s wall  (exit code {r2.returncode})")
    print(f"peak memory (largest process):       {peak_mb:7.0f} MiB")
    print(f"baseline per job (papermill + 2 nbconvert CLI): {per_job:5.2f} s over {len(sample)} jobs")
    print(f"baseline for the quarter ({'measured' if len(sample) == len(jobs) else 'extrapolated'}): {baseline_total:7.1f} s")
    print(f"speed-up over the baseline:          {baseline_total / wall_full:7.1f} x")
    if no_fork:
        n_nf, wall_nf, wall_f = no_fork
        print(f"same {n_nf} reports, fork server / ordinary kernels: {wall_f:6.1f} s / {wall_nf:6.1f} s "
              f"(ordinary kernels {wall_nf / wall_f:.2f}x slower; quarter extrapolated {wall_nf / n_nf * len(jobs):.0f} s)")
    shutil.rmtree(tmp, ignore_errors=True)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _stages(log: list) -> dict:
    """When each stage of the run ended, in seconds from its start (from ``run.log.jsonl``):
    assessments, charts, what changed, the last report, the workbook and documents (beside the reports), finish."""
    from datetime import datetime

    def t(x):
        return datetime.fromisoformat(x["time"]).timestamp()

    start = t(log[0])
    out = {}
    for x in log:
        ev = x.get("event")
        if ev == "charts" and "drawn_at" in x:  # logged after the reports; drawn before them
            out[ev] = t({"time": x["drawn_at"]}) - start
        elif ev in ("assessed", "charts", "changes", "workbook", "documents", "side", "finish"):
            out[ev] = t(x) - start
        elif ev == "job":
            out["reports done"] = t(x) - start
    return dict(sorted(out.items(), key=lambda kv: kv[1]))


def _ordinary_kernels(tmp: Path, quarter: str, sections: list[str], n_sections: int) -> tuple[int, float, float]:
    """The same reports with ``fork_kernels`` on and off, in two fresh projects (``--force``, no reuse)."""
    import yaml

    chosen = ",".join(list(dict.fromkeys(sections))[:n_sections])
    walls, n = {}, 0
    for fork in (True, False):
        proj = scratch_project(tmp / f"fork-{fork}")
        path = proj / "params" / "settings.yaml"
        s = yaml.safe_load(path.read_text(encoding="utf-8"))
        s.setdefault("executor", {})["fork_kernels"] = fork
        path.write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
        env = dict(os.environ, IPEVAL_HOME=str(proj))
        # assessments first (cached), so both timings are the reports alone
        subprocess.run([str(BIN / "ipeval"), "run", "--quarter", quarter, "--quiet", "--sections", chosen,
                        "--geos", "330100"], cwd=proj, env=env, capture_output=True)
        walls[fork], r = timed([str(BIN / "ipeval"), "run", "--quarter", quarter, "--quiet", "--force",
                                "--sections", chosen], proj, env)
        n = len(json.loads(((proj / "outputs" / quarter).resolve() / "manifest.json").read_text(encoding="utf-8"))["jobs"])
    return n, walls[False], walls[True]


if __name__ == "__main__":
    main()
