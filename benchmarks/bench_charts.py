"""Benchmark: CPU time of drawing one chart, a base revision (default ``main``) against this checkout.

Prints figures; asserts nothing.

    python benchmarks/bench_charts.py --quarter 2025Q2 -n 120 --repeat 4 --out /tmp/bc

The charts are a quarter's own (:func:`helpers.pages.charts.run_specs` on the run folder
``outputs/<quarter>``, so run ``ipeval run --quarter 2025Q2 --no-documents`` first), built once here and
drawn by :func:`helpers.pages.charts._render_one` in a fresh process per side and repetition: the base
revision's ``src`` (``git archive``) or this checkout's, taken first on ``PYTHONPATH``. The sides
alternate (ABBA...) because the machine is shared; odd repetitions draw the charts in reverse order, so a
chart whose picture depended on the chart drawn before it shows up as a differing file. Each process
draws ``--warm`` charts untimed first, then times the rest with ``resource.getrusage`` (user+sys).

Every ``--jpg-every``-th chart also gets its print JPEG (the run draws one for about a quarter of its
charts). At the end every output folder is compared byte for byte with the base's first one.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _specs(quarter: str, run: Path):
    import pandas as pd

    from helpers.data.reference import published_figures
    from helpers.pages.charts import run_specs
    from helpers.run.inputs import load_run_inputs
    from helpers.settings import load_settings

    s = load_settings()
    inp = load_run_inputs(s, quarter)
    table = pd.read_csv(run / "assessments.csv", dtype={"geography_code": str, "latest_period": str,
                                                         "settled_on": str})
    bands = pd.read_csv(run / "bands.csv", dtype={"geography_code": str})
    pairs = [(sec, g.code) for sec in inp.plan.pages for g in inp.geos.all]
    return run_specs(inp.dataset.frame, inp.plan, inp.geos, inp.quarter, table, bands, inp.lang, pairs,
                     published_figures(s.root))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def worker(args) -> None:
    """Draw the pickled charts with whichever ``helpers`` is first on the path; print CPU seconds."""
    import helpers
    from helpers.pages.charts import _render_one
    from helpers.pages.plots import use_cjk_font

    if not Path(helpers.__file__).resolve().is_relative_to(Path(args.src).resolve()):
        raise SystemExit(f"helpers imported from {helpers.__file__}, not {args.src}")
    specs = pickle.loads(Path(args.specs).read_bytes())
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    jobs = [(s, str(dest / f"{k:03d}.svg"), str(dest / f"{k:03d}.jpg") if args.jpg_every and k % args.jpg_every == 0
             else None) for k, s in enumerate(specs)]
    if args.reverse:
        jobs.reverse()
    use_cjk_font()
    scratch = Path(tempfile.mkdtemp())
    for s, svg, jpg in jobs[:args.warm]:  # imports, font loading, first-use caches: not a chart's cost
        _render_one((s, str(scratch / Path(svg).name), jpg and str(scratch / Path(jpg).name)))
    shutil.rmtree(scratch)
    c = _cpu()
    for job in jobs:
        _render_one(job)
    print(json.dumps({"cpu": _cpu() - c, "charts": len(jobs), "jpg": sum(1 for j in jobs if j[2])}))


def _run_side(side: str, src: Path, args, dest: Path, reverse: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "MPLBACKEND": "Agg"}
    cmd = [sys.executable, __file__, "_worker", "--src", str(src / "src"), "--specs", str(args.out / "specs.pkl"),
           "--dest", str(dest), "--jpg-every", str(args.jpg_every), "--warm", str(args.warm)]
    if reverse:
        cmd.append("--reverse")
    out = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _differing(a: Path, b: Path) -> tuple[int, int, list[str]]:
    names = sorted(p.name for p in a.iterdir())
    diff = [n for n in names if not (b / n).is_file() or (a / n).read_bytes() != (b / n).read_bytes()]
    return len(diff), len(names), diff


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("_worker")
    w.add_argument("--src", required=True)
    w.add_argument("--specs", required=True)
    w.add_argument("--dest", required=True)
    w.add_argument("--jpg-every", type=int, default=4)
    w.add_argument("--warm", type=int, default=3)
    w.add_argument("--reverse", action="store_true")
    p.add_argument("--quarter", default="2025Q2")
    p.add_argument("--run", type=Path, help="the run folder (default outputs/<quarter>)")
    p.add_argument("--base", default="main", help="git revision to compare with")
    p.add_argument("-n", type=int, default=120, help="charts (the first n of the quarter's)")
    p.add_argument("--repeat", type=int, default=4, help="processes per side")
    p.add_argument("--jpg-every", type=int, default=4)
    p.add_argument("--warm", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_charts")
    args = p.parse_args(argv)
    if args.cmd == "_worker":
        return worker(args)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    specs = _specs(args.quarter, args.run or ROOT / "outputs" / args.quarter)[:args.n]
    (args.out / "specs.pkl").write_bytes(pickle.dumps(specs))
    base = args.out / "base"
    base.mkdir()
    archive = subprocess.run(["git", "archive", args.base, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    sides = {"base": base, "branch": ROOT}
    ms: dict[str, list[float]] = {"base": [], "branch": []}
    for r in range(args.repeat):
        order = ["base", "branch"] if r % 4 in (0, 3) else ["branch", "base"]
        for side in order:
            got = _run_side(side, sides[side], args, args.out / f"{side}-{r}", reverse=r % 2 == 1)
            ms[side].append(1000 * got["cpu"] / got["charts"])
            print(f"rep {r} {side:6s} {got['charts']} charts ({got['jpg']} with JPEG): "
                  f"{ms[side][-1]:.1f} CPU-ms/chart", flush=True)
    b, n = statistics.median(ms["base"]), statistics.median(ms["branch"])
    print(f"median CPU-ms/chart: {args.base} {b:.1f}, branch {n:.1f}, branch/{args.base} = {n / b:.3f}")
    ref = args.out / "base-0"
    for r in range(args.repeat):
        for side in ("base", "branch"):
            d = args.out / f"{side}-{r}"
            if d == ref:
                continue
            k, total, diff = _differing(ref, d)
            print(f"{d.name}: {k} of {total} files differ from base-0" + (f" ({', '.join(diff[:8])} ...)" if k else ""))


if __name__ == "__main__":
    main()
