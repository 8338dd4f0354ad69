"""The run's record, written last: the Word/PDF documents step, then ``manifest.json`` and
``index.html``, so the record covers every step (a documents failure appears in both)."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from helpers.files import atomic_write_bytes, sha256_file
from helpers.run.changes import method_fingerprint
from helpers.run.inputs import RunInputs
from helpers.run.publish import published_dir
from helpers.run.stages import data_copy_names, read_changes

log = logging.getLogger("ipeval.run")


def write_manifest_and_index(inp: RunInputs, staging: Path, run_id: str, started: datetime, prov: dict,
                              results: list, table: pd.DataFrame, demo: bool, documents: dict | None = None,
                              input_fingerprint: str | None = None) -> None:
    """``manifest.json`` (everything needed to trace and re-run the run) and ``index.html``, written
    after every other step; ``documents`` is the Word/PDF step's record (:func:`documents_step`)."""
    from helpers.pages.report import render_index
    from helpers.run.returns import index_returns

    s, q = inp.settings, inp.quarter
    finished = datetime.now(timezone.utc)
    fs = inp.forecast
    manifest = {
        "run_id": run_id, "quarter": str(q), "plan": inp.plan.id, "language": inp.lang,
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "git_commit": prov["git_commit"], "packages": prov["packages"], "inputs_sha256": prov["inputs"],
        "data_copy": data_copy_names(inp.data_files),
        # what reproduce checks the copies against before recomputing anything
        "copies_sha256": {p.relative_to(staging).as_posix(): sha256_file(p)
                          for p in sorted([*(staging / "data").rglob("*"), *(staging / "params").iterdir()])
                          if p.is_file()},
        "settings": s.raw,
        "forecast_settings": fs.__dict__ if hasattr(fs, "__dict__") else str(fs),
        "executor": {"kind": inp.executor, "workers": inp.workers, "scheduler": inp.scheduler,
                     "fork_kernels": s.executor.fork_kernels, "engine": s.executor.engine},
        "jobs": [dict(r) for r in results],
        "documents": documents or {"status": "skipped"},
        "demo_data": demo,
        **stage_fields(inp, table),
        "store": inp.store_state,
        "method": method_fingerprint(inp.plan, inp.geos, s),
        "input_fingerprint": input_fingerprint,  # helpers.run.fastpath: the no-change check's hash
    }
    atomic_write_bytes(staging / "manifest.json",
                       json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    downloads = [(n, n) for n in ("assessments.csv", "assessments.xlsx", "bands.csv", "changes.csv", "revisions.csv",
                                  "manifest.json", "run.log.jsonl", "charts.zip")
                 if (staging / n).is_file() or n == "manifest.json"]
    written = documents is not None and documents.get("status") == "ok"
    render_index(staging / "index.html", plan=inp.plan, geos=inp.geos, quarter=str(q), sections=inp.plan.pages,
                 jobs=results, assessments=table, demo=demo, lang=inp.lang, downloads=downloads,
                 changes=read_changes(staging),
                 returns=index_returns(inp.settings, inp.plan, inp.geos, q, inp.store_state),
                 documents={c for _, c in inp.pairs} if written else None,  # the geographies written
                 manifest={"run": run_id, "git": prov["git_commit"] or "—",
                           "data sha256": ", ".join(prov["inputs"][str(p)][:16] for p in inp.data_files)})


def stage_fields(inp: RunInputs, table: pd.DataFrame) -> dict:
    """The manifest's record of the assessment stage: final (终期评估) or mid-term, with the city's counts."""
    from helpers.model.assess import assessment_stage
    from helpers.pages.stage import stage_counts

    return {"assessment_stage": assessment_stage(inp.plan, inp.quarter),
            "city_counts": stage_counts(table, inp.geos.city.code)}


def documents_step(inp: RunInputs, staging: Path, out_root: Path, force: bool = False,
                   workers: int | None = None) -> dict:
    """The Word and PDF reports, and the step's record for the manifest: ``{"status": "ok"|"failed", ...}``.

    A failure here is recorded (and reported as a failed job by the caller), not a lost run.
    ``workers``: processes laying the files out (default: the run's, at most 2).
    """
    from helpers.pages.document import write_documents

    codes = sorted({c for _, c in inp.pairs}, key=inp.geos.codes.index)
    t0 = time.monotonic()
    try:
        files = write_documents(inp.settings, staging, geographies=codes, lang=inp.lang,
                                workers=workers or min(inp.workers, 2),
                                reuse_from=None if force else published_dir(out_root, inp.quarter))
    except Exception as exc:  # noqa: BLE001 - the HTML reports and tables are still worth publishing
        log.exception("documents failed", extra={"event": "documents_failed"})
        return {"status": "failed", "geographies": ",".join(codes), "error": f"{type(exc).__name__}: {exc}",
                "error_type": type(exc).__name__}
    seconds = round(time.monotonic() - t0, 2)
    log.info("documents", extra={"event": "documents", "files": len(files), "seconds": seconds})
    return {"status": "ok", "geographies": ",".join(codes), "files": len(files), "seconds": seconds}
