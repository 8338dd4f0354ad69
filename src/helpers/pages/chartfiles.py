"""A run's chart files beyond drawing them: the stamp that skips the chart step, the print pictures
the documents read from the cache, and the zip for slides built on demand.

:mod:`helpers.pages.charts` draws the charts; this module finds and reuses what it drew:

* :func:`charts_stamp` / :func:`reuse_charts` / :func:`write_stamp`: one hash of what a run's
  charts are made from; equal to the published run's, its SVG files are linked without building
  a specification;
* :func:`print_pictures`: the 200 dpi JPEG of each chart, kept in ``outputs/.cache/charts`` and
  found through ``charts.json`` (the run folder does not hold a copy the documents already embed);
* :func:`zip_charts`: ``python -m helpers.pages.chartfiles outputs/2025Q2 [charts.zip]``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from pathlib import Path

from helpers.cache import Key, Store, copy_all_verified, read_stamp
from helpers.cache import write_stamp as write_run_stamp
from helpers.files import recorded_checksums
from helpers.pages.charts import (CHART_DPI, CHARTS_DIR, INDEX_FILE, JPEG_QUALITY, PRINT_FORMAT, chart_path)


STAMP_FILE = ".inputs.sha256"


def charts_stamp(run_dir: str | Path, *, plan_sha: str, geos_sha: str, quarter, lang: str, pairs, documents: bool,
                 reference_dir: str | Path | None = None) -> str:
    """One hash of everything the run's charts are made from, computed without building them.

    The tables the run wrote (``assessments.csv``, ``bands.csv``, ``validated_data.csv``), the
    registry and geographies, the quarter, language, job list and documents flag, the published
    figures (``data/reference``), the ``helpers`` code and Matplotlib's version. Equal to the
    previous published run's: its charts are this run's (:func:`reuse_charts`), and the 336
    specifications (about 2 s on 2 cores) need not be built to find that out.
    """
    import matplotlib

    run_dir = Path(run_dir)
    key = Key("charts-stamp").json("asked", [plan_sha, geos_sha, str(quarter), lang, [list(p) for p in pairs],
                                             bool(documents), matplotlib.__version__, CHART_DPI, JPEG_QUALITY])
    for name in ("assessments.csv", "bands.csv", "validated_data.csv"):
        key.file(name, run_dir / name)
    if reference_dir:
        key.tree("reference", reference_dir)
    return key.code().hexdigest()


def reuse_charts(run_dir: str | Path, prev_dir: str | Path | None, stamp: str) -> dict | None:
    """Link the previous published run's charts into ``run_dir`` when their :func:`charts_stamp` is
    ``stamp``; None (nothing done) otherwise or when one of its files is missing."""
    if prev_dir is None:
        return None
    t0 = time.monotonic()
    prev, run_dir = Path(prev_dir) / CHARTS_DIR, Path(run_dir)
    if read_stamp(prev / STAMP_FILE, stamp) is None:
        return None
    try:
        index = json.loads((prev / INDEX_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pairs = [(ind, code) for ind, geos in index.items() for code in geos]
    recorded = recorded_checksums(prev.parent)  # the previous run's manifest: what its files were
    rels = [chart_path(prev.parent, ind, code).relative_to(prev.parent).as_posix() for ind, code in pairs]
    # verified copies, never links (issue 20): a damaged file is drawn again
    if not copy_all_verified(prev.parent, rels, run_dir, recorded):
        shutil.rmtree(run_dir / CHARTS_DIR, ignore_errors=True)
        return None
    for name in (INDEX_FILE, STAMP_FILE):
        shutil.copy2(prev / name, run_dir / CHARTS_DIR / name)
    return {"charts": len(pairs), "drawn": 0, "reused": len(pairs), "seconds": round(time.monotonic() - t0, 2),
            "specifications": "skipped: inputs unchanged"}


def write_stamp(run_dir: str | Path, stamp: str) -> None:
    """Record the charts' :func:`charts_stamp` beside them (``charts/.inputs.sha256``)."""
    write_run_stamp(Path(run_dir) / CHARTS_DIR / STAMP_FILE, stamp)


def print_pictures(run_dir: str | Path, cache_dir: str | Path | None = None) -> dict:
    """``{(indicator_id, geography_code): jpg}`` of the run's charts whose print JPEG is in the cache.

    The run's ``charts/charts.json`` names each chart's hash; the cache is ``outputs/.cache/charts``
    (default: found from the run folder, ``outputs/runs/<quarter>/<run-id>`` or
    ``outputs/.staging/<quarter>/<run-id>``). A chart whose JPEG is not there, or no longer holds
    the bytes recorded when it was drawn (:meth:`helpers.cache.Store.lookup`), is left out (the
    documents then draw it).
    """
    run_dir = Path(run_dir).resolve()
    path = run_dir / CHARTS_DIR / INDEX_FILE
    if not path.is_file():
        return {}
    cache = Path(cache_dir) if cache_dir else run_dir.parents[2] / ".cache" / "charts"
    out = {}
    for ind, geos in json.loads(path.read_text(encoding="utf-8")).items():
        for code, rec in geos.items():
            hit = Store(cache).lookup(str(rec.get("sha256", "")), [PRINT_FORMAT])
            if hit:
                out[(ind, code)] = hit[PRINT_FORMAT]
    return out


def zip_charts(run_dir: str | Path, out: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """A zip of every chart of a run (SVG, and the print JPEG where cached) under ``<indicator_id>/<geography_code>``,
    for slides; built on demand (default ``./charts-<run folder name>.zip``), so a published run
    does not hold each picture twice.

    Stored, not deflated: JPEGs are compressed already.
    """
    run_dir = Path(run_dir).resolve()
    out = Path(out) if out else Path.cwd() / f"charts-{run_dir.name}.zip"
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in sorted((run_dir / CHARTS_DIR).rglob("*")):
            if p.suffix in (".svg", ".jpg", ".png"):
                zf.write(p, p.relative_to(run_dir / CHARTS_DIR).as_posix())
        for (ind, code), jpg in sorted(print_pictures(run_dir, cache_dir).items()):
            zf.write(jpg, f"{ind}/{code}.{PRINT_FORMAT}")
    os.replace(tmp, out)
    return out


if __name__ == "__main__":  # python -m helpers.pages.chartfiles outputs/2025Q2 [charts.zip]
    import sys

    print(zip_charts(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
