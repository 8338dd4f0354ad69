"""A run's chart files beyond drawing them: the stamp that skips the chart step, the print pictures
the documents read from the cache, the published ``charts.zip`` and the zip for slides on demand.

:mod:`helpers.pages.charts` draws the charts; this module finds and reuses what it drew:

* :func:`charts_stamp` / :func:`reuse_charts` / :func:`write_stamp`: one hash of what a run's
  charts are made from; equal to the published run's, its SVG files are linked without building
  a specification;
* :func:`print_pictures`: the 200 dpi JPEG of each chart, kept in ``outputs/.cache/charts`` and
  found through ``charts.json`` (the run folder does not hold a copy the documents already embed);
* :func:`pack_charts`: at the end of a run, the pages' SVG files into ``charts.zip`` (deflated),
  which is then the published quarter's only copy of them (the report pages carry them inline);
* :func:`zip_charts`: ``python -m helpers.pages.chartfiles outputs/2025Q2 [charts.zip]``, the SVG
  and the print JPEG of every chart, for slides.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
import zipfile
from functools import lru_cache
from pathlib import Path

from helpers.cache import Key, Store, read_stamp
from helpers.cache import write_stamp as write_run_stamp
from helpers.files import recorded_checksums
from helpers.pages.charts import (CHART_DPI, CHARTS_DIR, INDEX_FILE, JPEG_QUALITY, PAGE_FORMAT, PRINT_FORMAT,
                                  chart_path)


STAMP_FILE = ".inputs.sha256"
ZIP_NAME = "charts.zip"
# every member dated the same: the same charts make the same bytes (the fast path and reproduce compare them)
ZIP_DATE = (2023, 11, 23, 0, 0, 0)


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
    svgs = published_svgs(prev.parent)  # verified against the previous run's manifest (issue 20)
    for ind, code in pairs:  # copies, never links: a damaged charts.zip or file is drawn again
        data = svgs.get(f"{ind}/{code}.{PAGE_FORMAT}")
        if data is None:
            shutil.rmtree(run_dir / CHARTS_DIR, ignore_errors=True)
            return None
        dst = chart_path(run_dir, ind, code)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
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


def published_svgs(run_dir: str | Path) -> dict:
    """``{"<indicator_id>/<geography_code>.svg": bytes}`` of a published run, each verified against
    the checksums its manifest recorded: from its ``charts.zip`` (hashed as read), or the loose
    files of a run published before there was one. {} when nothing verifies."""
    run_dir = Path(run_dir)
    recorded = recorded_checksums(run_dir)
    packed = run_dir / ZIP_NAME
    if ZIP_NAME in recorded:
        try:
            data = b"" if packed.is_symlink() else packed.read_bytes()
        except OSError:
            return {}
        if not data or hashlib.sha256(data).hexdigest() != recorded.get(ZIP_NAME):
            return {}
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return {n: zf.read(n) for n in zf.namelist() if n.endswith(f".{PAGE_FORMAT}")}
        except (zipfile.BadZipFile, OSError):
            return {}
    out = {}
    prefix = f"{CHARTS_DIR}/"
    for rel, want in recorded.items():
        p = run_dir / rel
        if rel.startswith(prefix) and rel.endswith(f".{PAGE_FORMAT}") and p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            if hashlib.sha256(data).hexdigest() == want:
                out[rel[len(prefix):]] = data
    return out


def pack_charts(run_dir: str | Path, prev_dir: str | Path | None = None) -> dict:
    """``charts.zip``: the run's SVG charts, deflated, then the published quarter's only copy of them.

    Called last before the record (after the reports and documents, which read the loose files):
    every ``charts/<indicator_id>/<geography_code>.svg`` goes into the zip as
    ``<indicator_id>/<geography_code>.svg`` and the loose file is removed; ``charts.json`` and the
    stamp stay. A subset run never shrinks the quarter's zip: the charts of the previous published
    run (``prev_dir``, verified) that this run did not draw are carried into it, as its reports are.
    Members are sorted and dated alike, so the same charts make the same bytes.

    Measured on the demo quarter (2025Q4, 336 charts): 4.46 MB of SVG files, 0.73 MB zipped (a
    quarter of 46.5 MB before, about 42.8 MB after); zipping takes about 0.1 s.

    Returns
    -------
    dict
        ``charts`` (members), ``carried`` (from ``prev_dir``), ``bytes`` (the zip's size; 0: no zip).
    """
    run_dir = Path(run_dir)
    root = run_dir / CHARTS_DIR
    own = sorted(root.rglob(f"*.{PAGE_FORMAT}")) if root.is_dir() else []
    members = {p.relative_to(root).as_posix(): p.read_bytes() for p in own}
    carried = 0
    if prev_dir is not None:
        for name, data in published_svgs(prev_dir).items():
            if name not in members:
                members[name], carried = data, carried + 1
    if not members:
        return {"charts": 0, "carried": 0, "bytes": 0}
    tmp = run_dir / f"{ZIP_NAME}.tmp"
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, members[name])
    os.replace(tmp, run_dir / ZIP_NAME)
    for p in own:
        p.unlink()
    for d in sorted((d for d in root.rglob("*") if d.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    return {"charts": len(members), "carried": carried, "bytes": (run_dir / ZIP_NAME).stat().st_size}


def zip_charts(run_dir: str | Path, out: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """A zip of every chart of a run (SVG, and the print JPEG where cached) under ``<indicator_id>/<geography_code>``,
    for slides; built on demand (default ``./charts-<run folder name>.zip``), so a published run
    does not hold the print pictures (the documents embed them). The SVG come from the run's
    ``charts.zip`` once it is published, from its ``charts/`` folder before.

    Stored, not deflated: JPEGs are compressed already.
    """
    run_dir = Path(run_dir).resolve()
    out = Path(out) if out else Path.cwd() / f"charts-{run_dir.name}.zip"
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        written = set()
        for p in sorted((run_dir / CHARTS_DIR).rglob("*")):
            if p.suffix in (".svg", ".jpg", ".png"):
                name = p.relative_to(run_dir / CHARTS_DIR).as_posix()
                zf.write(p, name)
                written.add(name)
        if (run_dir / ZIP_NAME).is_file():
            with zipfile.ZipFile(run_dir / ZIP_NAME) as packed:
                for name in sorted(set(packed.namelist()) - written):
                    zf.writestr(name, packed.read(name))
        for (ind, code), jpg in sorted(print_pictures(run_dir, cache_dir).items()):
            zf.write(jpg, f"{ind}/{code}.{PRINT_FORMAT}")
    os.replace(tmp, out)
    return out


def show_chart(run_dir, indicator_id: str, geography_code: str, alt: str) -> bool:
    """Show the run's chart in a notebook as inline SVG; False when the run has none (draw it then).

    The output also carries a plain-text line naming the file and ``metadata.ipeval.chart`` (its
    path in the run), by which :func:`helpers.pages.report.store_notebook` keeps the executed
    notebook without a second copy of the picture.
    """
    if not run_dir:
        return False
    path = chart_path(run_dir, indicator_id, geography_code, PAGE_FORMAT)
    if not path.is_file():
        return False
    from IPython.display import display

    rel = path.relative_to(Path(run_dir)).as_posix()
    display({"image/svg+xml": path.read_text(encoding="utf-8"), "text/plain": f"[{alt}]({rel})"}, raw=True,
            metadata={"image/svg+xml": {"alt": alt or "chart"}, "ipeval": {"chart": rel}})
    return True


def chart_title(run_dir: str | Path, indicator_id: str, geography_code: str) -> str:
    """The title recorded for a chart of the run (its alternative text), or ''."""
    path = Path(run_dir) / CHARTS_DIR / INDEX_FILE
    if not path.is_file():
        return ""
    stat = path.stat()
    index = _chart_index(str(path), stat.st_mtime_ns, stat.st_size)
    return index.get(indicator_id, {}).get(geography_code, {}).get("title", "")


@lru_cache(maxsize=4)
def _chart_index(path: str, mtime_ns: int, size: int) -> dict:
    """The run's chart index, read once while the file is unchanged: a page asks for each of its charts'
    titles (0.2 ms a read, 2026-12-06). Read only: callers must not change it."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


if __name__ == "__main__":  # python -m helpers.pages.chartfiles outputs/2025Q2 [charts.zip]
    import sys

    print(zip_charts(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
