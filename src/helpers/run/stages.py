"""The stages of a run that write its tables and copies into the staging folder, in the order
:func:`helpers.run.quarter.run_quarter` calls them: assess, charts, changes, copies of the inputs,
provenance; and the workbook (from the city's overview report input, after the page jobs wrote it),
reused when nothing it shows changed."""

from __future__ import annotations

import logging
import shutil
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

from helpers.cache import Key, read_stamp, write_stamp
from helpers.files import copy_verified, people_csv, recorded_checksums, sha256_file
from helpers.pages.report_input import input_path, read_report_input
from helpers.plan.registry import OVERVIEW
from helpers.run.changes import write_changes
from helpers.run.inputs import RunInputs
from helpers.run.provenance import git_commit, package_versions
from helpers.run.publish import published_dir

log = logging.getLogger("ipeval.run")


def assess(inp: RunInputs, staging: Path, out_root: Path) -> tuple[pd.DataFrame, bool]:
    """Every assessment, once per run (cached by input hash), and the tables made from them."""
    from helpers.model.assess import assess_all

    t0 = time.monotonic()
    frame = inp.dataset.frame
    table, bands = assess_all(frame, inp.plan, inp.geos, inp.quarter, inp.forecast, inp.thresholds,
                              cache_dir=out_root / ".cache" / "assess",
                              workers=min(inp.workers, 2) if inp.workers > 1 else 1)
    from helpers.run.publication import mark_pending

    table = mark_pending(table, inp.plan, inp.pending, inp.quarter)  # 待公布 (run/publication.py)
    # tables people open in Excel: text cells that would run as formulas get a leading quote
    # (OWASP); the notebooks read them back through helpers.files.restore_frame
    (staging / "assessments.csv").write_bytes(people_csv(table, float_format="%.6g"))
    # the validated, typed data for the notebooks, so no kernel re-reads and re-validates the inputs
    (staging / "validated_data.csv").write_bytes(people_csv(frame))
    bands.to_csv(staging / "bands.csv", index=False, float_format="%.6g")
    demo = bool(frame["source"].astype(str).str.startswith("DEMO").any())
    log.info("assessed", extra={"event": "assessed", "seconds": round(time.monotonic() - t0, 2), "rows": len(table)})
    return table, demo


def changes(inp: RunInputs, table: pd.DataFrame, staging: Path, out_root: Path) -> None:
    """``changes.csv``: what moved since the previous published run, and why (:mod:`helpers.run.changes`)."""
    t0 = time.monotonic()
    files = {}
    if inp.store_view is not None:
        v = inp.store_view
        files = dict(zip(zip(v["indicator_id"], v["geography_code"], v["period"]), v["file"]))
    else:
        files = {}  # --data files: the value came from one of them
    out = write_changes(inp, table, staging, out_root, files, workers=min(inp.workers, 2) if inp.workers > 1 else 1)
    if out is not None:
        log.info("changes", extra={"event": "changes", "seconds": round(time.monotonic() - t0, 2)})


def read_changes(staging: Path) -> pd.DataFrame | None:
    f = staging / "changes.csv"
    return pd.read_csv(f, dtype={"geography_code": str}, keep_default_na=False) if f.is_file() else None


def draw_charts(inp: RunInputs, staging: Path, out_root: Path, documents: bool = False, force: bool = False,
                pool=None):
    """Every chart of the run's reports, drawn once (cached by content), so report kernels embed
    files instead of drawing (:mod:`helpers.pages.charts`).

    Returns the started :class:`~helpers.pages.chartpool.ChartDrawing`: with ``pool`` (the run's
    :class:`~helpers.run.pool.WorkerPool`) its charts are drawn there while the run goes on (the reports
    wait for them: :meth:`~helpers.pages.chartpool.ChartDrawing.wait_for_all`); without, they are drawn
    before this returns. None when the published run's charts are reused (its inputs unchanged).
    :func:`finish_charts` records the step once every chart is drawn.
    """
    from helpers.data.reference import published_figures
    from helpers.pages.chartfiles import charts_stamp, reuse_charts
    from helpers.pages.chartpool import ChartDrawing
    from helpers.pages.charts import iter_specs

    stamp = charts_stamp(staging, plan_sha=inp.plan.sha256, geos_sha=inp.geos.sha256, quarter=inp.quarter,
                         lang=inp.lang, pairs=inp.pairs, documents=documents,
                         reference_dir=inp.settings.root / "data" / "reference")
    # the same inputs as the published run's charts: its files, verified, without building a specification
    stats = None if force else reuse_charts(staging, published_dir(out_root, inp.quarter), stamp)
    if stats is not None:
        log.info("charts", extra={"event": "charts", **stats})
        return None
    table = pd.read_csv(staging / "assessments.csv", dtype={"geography_code": str, "latest_period": str, "settled_on": str})
    bands = pd.read_csv(staging / "bands.csv", dtype={"geography_code": str}) if (staging / "bands.csv").stat().st_size > 1 else pd.DataFrame()
    pairs = list(inp.pairs)
    if documents:  # a geography's Word/PDF report shows every section's charts: draw them here, in the pool
        codes = dict.fromkeys(c for _, c in inp.pairs)
        pairs += [(sec.id, c) for c in codes for sec in inp.plan.sections if (sec.id, c) not in inp.pairs]
    # made one at a time as the pool draws the first (the 336 specifications of the demo's 2025Q2 are
    # 0.75 s of CPU, their hashes 0.3 s: the two cores drew nothing meanwhile)
    specs = iter_specs(inp.dataset.frame, inp.plan, inp.geos, inp.quarter, table, bands, inp.lang, pairs,
                       published_figures(inp.settings.root))
    drawing = ChartDrawing(staging, specs, out_root / ".cache" / "charts", documents=documents, force=force,
                           printed=printed_charts(table) if documents else None)
    drawing.stamp = stamp
    return drawing.start(pool.executor if pool is not None else None)


def finish_charts(drawing, staging: Path) -> None:
    """Wait for the last charts of ``drawing`` (:func:`draw_charts`), then write the step's stamp and record."""
    from helpers.pages.chartfiles import write_stamp

    if drawing is None:
        return
    stats = drawing.finish()
    write_stamp(staging, drawing.stamp)
    log.info("charts", extra={"event": "charts", **stats})


def printed_charts(table: pd.DataFrame) -> set:
    """``{(indicator_id, geography_code)}`` the Word/PDF documents chart: the rows a geography is
    judged on (:func:`helpers.pages.document.charted_indicators`; a reference row is shown in tables only)."""
    from helpers.pages.document.narrative import verdict

    return {(r["indicator_id"], r["geography_code"]) for r in table.to_dict("records") if verdict(r) is not None}


def data_copy_names(data_files: list) -> list[str]:
    """Where each data file is copied in the run folder: ``data/<name>``, or ``data/<n>-<name>`` when
    two files share a name (``a/data.csv`` and ``b/data.csv`` must not overwrite each other)."""
    names = [p.name for p in data_files]
    return [f"data/{n}" if names.count(n) == 1 else f"data/{k + 1}-{n}" for k, n in enumerate(names)]


def copy_inputs(inp: RunInputs, staging: Path) -> None:
    """A copy of the inputs, so the run can be reproduced from its own folder."""
    (staging / "data").mkdir()
    for p, name in zip(inp.data_files, data_copy_names(inp.data_files)):
        shutil.copy2(p, staging / name)
    if inp.received_files:
        # the ingested files the store's view was made of, as received (the audit trail)
        (staging / "data" / "received").mkdir()
        for p in inp.received_files:
            shutil.copy2(p, staging / "data" / "received" / p.name)
    (staging / "params").mkdir()
    s = inp.settings
    # the settings as params/settings.yaml whatever their name (settings_<plan>.yaml for --plan):
    # `ipeval reproduce` reads the run's own copy under that name
    for p, name in ((s.path, "settings.yaml"), (s.plan_path, s.plan_path.name), (s.geographies_path, s.geographies_path.name)):
        shutil.copy2(p, staging / "params" / name)
    from helpers.pages.report import write_methodology_page

    # the reports' methods note links this copy, so the link works wherever the run folder goes
    if (s.root / "docs" / "methodology.md").is_file():
        write_methodology_page(s.root / "docs" / "methodology.md", staging / "docs" / "methodology.html", inp.lang)


def provenance(inp: RunInputs, run_id: str, started: datetime) -> dict:
    """What every report and the manifest record of the run's origin."""
    s = inp.settings
    return {"run_id": run_id, "started": started, "git_commit": git_commit(s.root), "packages": package_versions(),
            "inputs": {str(p): sha256_file(p) for p in (s.path, s.plan_path, s.geographies_path, *inp.data_files,
                                                        *inp.received_files)}}


def workbook(inp: RunInputs, staging: Path, out_root: Path) -> None:
    """``assessments.xlsx``, from the city's overview report input (written with the page jobs:
    :mod:`helpers.run.page_jobs`), as the documents are from each geography's."""
    write_xlsx_once(input_path(staging, OVERVIEW, inp.geos.city.code), staging,
                    published_dir(out_root, inp.quarter), inp)


def write_xlsx_once(input_file: Path, staging: Path, prev_dir: Path | None, inp: RunInputs | None = None) -> None:
    """``assessments.xlsx`` from the report input at ``input_file`` (its tables verified on reading),
    reused from the previous run when the tables it names are byte-identical (and the code that formats
    it, the language, plan, geographies and status thresholds unchanged): formatting the workbook is the
    slowest step of a run in which nothing changed. ``inp``: the run's registry and geographies, loaded
    already (checked against the input's)."""
    from helpers.pages.workbook import write_workbook_from_input

    report = read_report_input(input_file)
    key = (Key("workbook").json("asked", [report.tables["assessments"]["sha256"],
                                             report.tables["validated_data"]["sha256"], report.lang,
                                             report.plan["sha256"], report.geographies["sha256"],
                                             report.settings["values"].get("status")]).code())
    if inp is not None:  # the published figures the 一览表 sheet marks (pages/standard_xlsx.py)
        key.tree("reference", inp.settings.root / "data" / "reference")
    stamp = key.hexdigest()
    if prev_dir is not None:
        if (read_stamp(prev_dir / ".assessments.xlsx.sha256", stamp) is not None
                and copy_verified(prev_dir, "assessments.xlsx", staging, recorded_checksums(prev_dir))):
            # a verified copy, never a hard link: editing one run's workbook must not change another run's
            write_stamp(staging / ".assessments.xlsx.sha256", stamp)
            return
    write_workbook_from_input(staging / "assessments.xlsx", report, staging,
                              plan_geos=(inp.plan, inp.geos) if inp is not None else None)
    write_stamp(staging / ".assessments.xlsx.sha256", stamp)
