"""The run's report jobs: one per (section, geography), each with its page's report input written
into the run folder (:mod:`helpers.pages.report_input`); a job whose inputs hash as in the last
published run is taken from it instead (:mod:`helpers.run.incremental`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.exceptions import ConfigError
from helpers.files import sha256_file
from helpers.i18n import et
from helpers.plan.registry import OVERVIEW
from helpers.run.incremental import (
    job_data_hash,
    job_input_hash,
    previous_jobs,
    reuse_job_files,
    row_hashes,
)
from helpers.run.inputs import RunInputs
from helpers.run.jobs import Job
from helpers.pages.notes import quarter_label
from helpers.run.publish import published_dir


def plan_page_jobs(inp: RunInputs, staging: Path, out_root: Path, prov: dict, force: bool,
                   charts: set | None = None) -> tuple[list, list]:
    """The jobs to execute (each with its page's report input written into the run folder), and the
    results of unchanged jobs taken from the last published run.

    ``charts``: the chart files the run will hold (relative to the run folder), when they are still
    being drawn (:class:`helpers.pages.chartpool.ChartDrawing`); None: the files in the run folder."""
    from helpers.model.assess import code_hash
    from helpers.pages.report_input import ASSESSMENT_DTYPES, build_report_input, table_refs, write_report_input

    s, plan, geos, q, ex = inp.settings, inp.plan, inp.geos, inp.quarter, inp.settings.executor
    report_prov = {"run_id": prov["run_id"], "quarter": str(q), "git_commit": prov["git_commit"] or "not a git checkout",
                   "time (UTC)": prov["started"].isoformat(timespec="seconds"),
                   **{f"sha256 {Path(k).name}": v for k, v in prov["inputs"].items()},
                   "packages": ", ".join(f"{k} {v}" for k, v in prov["packages"].items())}
    prev_dir = published_dir(out_root, q)
    prev_jobs = previous_jobs(prev_dir)
    hashes = row_hashes(inp.dataset.frame)
    refs = table_refs(staging)  # once per run: every page's input names the same tables
    table = pd.read_csv(staging / "assessments.csv", dtype=ASSESSMENT_DTYPES)  # as the pages read it
    origin = input_provenance(prov)
    jobs, skipped = [], []
    for section, code in inp.pairs:
        nb = s.root / "notebooks" / f"{inp.plan.notebook_of(section)}.ipynb"
        if not nb.is_file():
            raise ConfigError(et("notebook_missing", path=nb))
        params = dict(section=section, geography=code, quarter=str(q), lang=inp.lang,
                      settings_path=str(s.path), registry_path=str(s.plan_path))
        h = job_input_hash(params, sha256_file(nb), code_hash(), plan.sha256, geos.sha256, s.sha256,
                           job_data_hash(inp.dataset.frame, plan, section, code, geos.city.code, hashes))
        page = build_report_input(s, plan, geos, staging, section, code, str(q), inp.lang, data_paths=inp.data_files,
                                  table=table, tables=refs, provenance=origin, planned_charts=charts)
        job = Job(section=section, geography=code, quarter=str(q), lang=inp.lang, notebook=str(nb),
                  output_dir=str(staging), parameters={"report_input": str(write_report_input(page, staging))},
                  input_hash=h, start_timeout=ex.start_timeout, execution_timeout=ex.execution_timeout,
                  retries=ex.retries, fork_kernels=ex.fork_kernels, engine=ex.engine,
                  title=f"{geos.get(code).name(inp.lang)} · {plan.page_name(section, inp.lang)} · {quarter_label(q, inp.lang)}",
                  provenance=report_prov)
        old = prev_jobs.get((section, code))
        if (not force and old and prev_dir is not None and old.get("status") == "ok" and old.get("input_hash") == h
                and reuse_job_files(prev_dir, staging, old)):
            skipped.append({**old, "skipped": True, "duration": 0.0})
        else:
            jobs.append(job)
    for code in document_geographies(inp):  # the documents' and the workbook's inputs (pages/document/source.py)
        if (OVERVIEW, code) not in inp.pairs:
            write_report_input(build_report_input(s, plan, geos, staging, OVERVIEW, code, str(q), inp.lang,
                                                  data_paths=inp.data_files, table=table, tables=refs,
                                                  provenance=origin, planned_charts=charts), staging)
    return jobs, skipped


def document_geographies(inp: RunInputs) -> list[str]:
    """The geographies whose overview input the run writes even when it runs no overview page: the
    city's (the workbook renders from it) and every geography of the run (its Word/PDF report does)."""
    return list(dict.fromkeys([inp.geos.city.code, *(c for _, c in inp.pairs)]))


def input_provenance(prov: dict) -> dict:
    """The run's origin as a report input carries it (plain JSON values), printed by the documents; the
    inputs as [path, SHA-256] pairs in the run's order (the manifest's), which a JSON object's sorted keys
    would not keep."""
    return {"run_id": prov["run_id"], "git_commit": prov["git_commit"] or "",
            "started": prov["started"].isoformat(timespec="seconds"), "inputs": [[k, v] for k, v in prov["inputs"].items()]}
