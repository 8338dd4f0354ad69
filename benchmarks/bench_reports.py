"""Benchmark: the reports stage alone, replayed on a quarter's saved inputs, with its CPU split.

Prints figures; asserts nothing. Two steps:

    python benchmarks/bench_reports.py capture --quarter 2025Q2 --dir /tmp/rb     # one run, saves the jobs
    python benchmarks/bench_reports.py replay --dir /tmp/rb -j 3 --repeat 3        # the reports stage only

``capture`` runs ``ipeval run --force --no-documents`` in this process with ``execute_jobs`` wrapped: the
run's staging folder as the reports stage finds it (inputs, charts) and its jobs are saved under ``--dir``.
``replay`` executes the saved jobs again into a fresh copy of that folder (``--out``, default
``<dir>/out-N``) with the same provenance, so two replays' pages are comparable byte for byte
(``compare``). Per replay it prints the wall time, this process's CPU (the parent: papermill, nbclient,
the HTML exports, the notebook writes), and its children's CPU split into kernels (read from the fork
server's per-kernel accounting, ``$IPEVAL_KERNEL_RUSAGE``), the fork server and the launchers.

    python benchmarks/bench_reports.py compare /tmp/rb/out-1 /tmp/rb/out-2          # pages and notebooks
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import resource
import shutil
import sys
import time
from pathlib import Path


def capture(args) -> None:
    import helpers.run.quarter as quarter
    from helpers.cli import main as cli_main

    dest = Path(args.dir)
    dest.mkdir(parents=True, exist_ok=True)
    real = quarter.execute_jobs

    def wrapped(jobs, *a, **kw):
        if kw.get("ready") is not None:  # the charts are drawn beside the run's other work: the folder with all of them
            kw["ready"]()
        staging = Path(jobs[0].output_dir)
        shutil.rmtree(dest / "staging", ignore_errors=True)
        shutil.copytree(staging, dest / "staging", symlinks=True)
        (dest / "jobs.pkl").write_bytes(pickle.dumps((str(staging), jobs)))
        return real(jobs, *a, **kw)

    quarter.execute_jobs = wrapped
    argv = ["run", "--quarter", args.quarter, "--force", "--no-documents", "--quiet", *args.extra]
    sys.argv = ["ipeval", *argv]
    try:
        cli_main()
    except SystemExit as exc:
        if exc.code:
            raise


def _swap(value, old: str, new: str):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    return value


def _thread_timed(module, name: str, totals: dict) -> None:
    """Wrap ``module.name`` to add its calls' CPU time in the calling thread (``time.thread_time``) and
    wall time to ``totals[name]``."""
    import threading

    real = getattr(module, name)
    lock = threading.Lock()

    def timed(*a, **kw):
        c, w = time.thread_time(), time.perf_counter()
        try:
            return real(*a, **kw)
        finally:
            with lock:
                t = totals.setdefault(name, [0, 0.0, 0.0])
                t[0] += 1
                t[1] += time.thread_time() - c
                t[2] += time.perf_counter() - w

    setattr(module, name, timed)


def replay(args) -> None:
    import helpers.pages.report as report
    import helpers.run.jobs as jobs_module
    from helpers.run.execute import execute_jobs, fork_server

    totals: dict = {}
    if args.breakdown:
        _thread_timed(jobs_module, "_execute", totals)
        _thread_timed(report, "export_html", totals)
        _thread_timed(report, "store_notebook", totals)

    src = Path(args.dir)
    old, jobs = pickle.loads((src / "jobs.pkl").read_bytes())
    if args.sections:
        jobs = [j for j in jobs if j.section in args.sections.split(",")]
    engines = args.engine.split(",")
    for n in range(1, args.repeat + 1):
        engine = engines[(n - 1) % len(engines)]
        out = Path(args.out or src / f"out-{n}").resolve()
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(src / "staging", out, symlinks=True)
        todo = [dataclasses.replace(j, output_dir=str(out), parameters=_swap(j.parameters, old, str(out)),
                                    notebook=_swap(j.notebook, old, str(out)),
                                    engine="kernel" if engine == "ordinary" else engine,
                                    fork_kernels=engine != "ordinary") for j in jobs]
        acct = out / "kernel-rusage.txt"
        os.environ["IPEVAL_KERNEL_RUSAGE"] = str(acct)
        s0, c0, w0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        stat0 = _proc_stat()
        server = fork_server(out, shells=engine == "shell") if engine != "ordinary" else None  # as a run starts it
        results = execute_jobs(todo, args.workers, "local", None, True, server=server)
        wall = time.perf_counter() - w0
        s1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        stat1 = _proc_stat()
        parent = (s1.ru_utime - s0.ru_utime) + (s1.ru_stime - s0.ru_stime)
        children = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        kernels = [tuple(map(float, line.split()[1:3])) for line in acct.read_text().splitlines()] if acct.exists() else []
        kcpu = sum(u + s for u, s in kernels)
        busy = (stat1[0] - stat0[0]) / (stat1[1] - stat0[1]) * (os.cpu_count() or 1) if stat1[1] > stat0[1] else 0
        nrep = len(todo)
        failed = sum(r["status"] != "ok" for r in results)
        print(json.dumps({"replay": n, "engine": engine, "reports": nrep, "failed": failed, "workers": args.workers,
                          "wall_s": round(wall, 2), "parent_cpu_s": round(parent, 2),
                          "parent_cpu_per_report_ms": round(1000 * parent / nrep, 1),
                          "kernels": len(kernels), "kernel_cpu_per_report_ms": round(1000 * kcpu / max(len(kernels), 1), 1),
                          "server_and_launchers_cpu_s": round(children - kcpu, 2),
                          "machine_cores_busy": round(busy, 2)}), flush=True)
        if totals:
            print(json.dumps({k: {"calls": c, "thread_cpu_ms_per_call": round(1000 * cpu / c, 1),
                                  "wall_ms_per_call": round(1000 * w / c, 1)} for k, (c, cpu, w) in totals.items()}),
                  flush=True)
            totals.clear()


def _proc_stat() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


_TIMING_KEYS = {"start_time", "end_time", "duration", "iopub.execute_input", "iopub.status.busy",
                "iopub.status.idle", "shell.execute_reply"}


def _strip_times(value):
    if isinstance(value, dict):
        return {k: _strip_times(v) for k, v in value.items() if k not in _TIMING_KEYS}
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


def _injected_ids(nb: dict) -> list[str]:
    return [c["id"] for c in nb["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", []) and "id" in c]


def _normal(text: str, run: Path, ids: list[str]) -> str:
    """What differs between two replays of the same jobs by construction: the replay's folder, and the
    id papermill gives its injected-parameters cell (a new uuid each run)."""
    text = text.replace(str(run), "<RUN>")
    for i in ids:
        text = text.replace(i, "<INJECTED>")
    return text


def compare(args) -> None:
    a, b = Path(args.a).resolve(), Path(args.b).resolve()
    notebooks = sorted(p.relative_to(a) for p in (a / "notebooks").rglob("*.ipynb"))
    pages = sorted(p.relative_to(a) for p in (a / "reports").rglob("*.html"))
    missing = [p for p in pages + notebooks if not (b / p).exists()]
    ids = {}
    diff_nbs = []
    for p in notebooks:
        na, nb = json.loads((a / p).read_text()), json.loads((b / p).read_text())
        ids[p.parent.name, p.stem] = (_injected_ids(na), _injected_ids(nb))
        ta = _normal(json.dumps(_strip_times(na), sort_keys=True), a, ids[p.parent.name, p.stem][0])
        tb = _normal(json.dumps(_strip_times(nb), sort_keys=True), b, ids[p.parent.name, p.stem][1])
        if ta != tb:
            diff_nbs.append(p)
    diff_pages = []
    for p in pages:
        ia, ib = ids.get((p.parent.name, p.name.split(".")[0]), ([], []))
        if _normal((a / p).read_text(), a, ia) != _normal((b / p).read_text(), b, ib):
            diff_pages.append(p)
    print(json.dumps({"pages": len(pages), "pages_differing": [str(p) for p in diff_pages],
                      "notebooks": len(notebooks), "notebooks_differing": [str(p) for p in diff_nbs],
                      "missing_in_b": [str(p) for p in missing]}, ensure_ascii=False, indent=1))
    sys.exit(1 if diff_pages or diff_nbs or missing else 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--quarter", default="2025Q2")
    c.add_argument("--dir", required=True)
    c.add_argument("extra", nargs="*", help="more `ipeval run` options, after --")
    r = sub.add_parser("replay")
    r.add_argument("--dir", required=True)
    r.add_argument("--out")
    r.add_argument("-j", "--workers", type=int, default=3)
    r.add_argument("--repeat", type=int, default=1)
    r.add_argument("--sections", help="only these sections (comma-separated)")
    r.add_argument("--breakdown", action="store_true", help="the parent's CPU per step, in its threads")
    r.add_argument("--engine", default="shell", help="comma-separated, alternated per repeat: shell, kernel, ordinary "
                                                      "(a kernel each, not forked)")
    m = sub.add_parser("compare")
    m.add_argument("a")
    m.add_argument("b")
    args = ap.parse_args()
    {"capture": capture, "replay": replay, "compare": compare}[args.cmd](args)


if __name__ == "__main__":
    main()
