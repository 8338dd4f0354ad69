"""What a geography's Word/PDF report and the run's workbook are made from: an overview report input.

The same seam as the pages (:mod:`helpers.pages.report_input`): the run writes one overview input per
geography into its folder (``inputs/overview/<code>.json``, :mod:`helpers.run.page_jobs`), and the
documents of a geography render from that geography's input, the workbook from the city's. The input
names the run's tables by path and SHA-256 (:func:`~helpers.pages.report_input.read_report_input`
refuses a table that changed since), carries the settings as the run validated them (no settings file
is read again), the plan and geographies files with their SHA-256, and the run's provenance.

A run folder without such an input (a run made before inputs carried provenance, or a geography a
subset run left out) gets one built here in memory through the same
:func:`~helpers.pages.report_input.build_report_input`, from the run's tables and its manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import pandas as pd

from helpers.data.series import SeriesIndex
from helpers.exceptions import ConfigError
from helpers.files import restore_frame
from helpers.i18n import ERROR_LANGUAGE, et
from helpers.model.assess import Assessment
from helpers.pages.document import narrative as nv
from helpers.pages.report_input import (
    ASSESSMENT_DTYPES,
    SCHEMA_VERSION,
    ReportInput,
    build_report_input,
    input_path,
    read_report_input,
)
from helpers.plan.geography import Geographies, load_geographies
from helpers.plan.periods import Quarter
from helpers.plan.registry import OVERVIEW, Plan, load_plan
from helpers.settings import Settings, settings_from_mapping

RANK_DRAWS = 2000


@dataclass
class RunTables:
    """What the documents read, loaded through a report input: data, assessments, bands and provenance."""

    plan: Plan
    geos: Geographies
    settings: Settings
    frame: pd.DataFrame
    table: pd.DataFrame
    bands: pd.DataFrame
    quarter: Quarter
    demo: bool
    run_id: str
    git: str
    data_sha: str
    produced: str
    run_dir: Path
    backtest: pd.DataFrame | None = None
    #: the SHA-256 of validated_data.csv, the registry and the geographies (:func:`shared_series`); () none
    data_key: tuple = ()

    @property
    def final(self) -> bool:
        return nv.is_final(self.plan, self.quarter)

    @cached_property
    def records(self) -> dict:
        """``{geography_code: [assessment row as dict, ...]}`` (pandas row access is slow; this is read often)."""
        out: dict = {}
        for r in self.table.to_dict("records"):
            out.setdefault(r["geography_code"], []).append(r)
        return out

    @cached_property
    def ranking(self) -> pd.DataFrame:
        return nv.district_ranking(self.records, self.geos, draws=RANK_DRAWS)

    @cached_property
    def source_counts(self) -> pd.DataFrame:
        """Rows per (geography, indicator, source) up to the quarter."""
        f = self.frame[self.frame["qindex"] <= self.quarter.index] if "qindex" in self.frame.columns else self.frame
        return f.groupby(["geography_code", "indicator_id", "source"], sort=False).size().rename("n").reset_index()

    @cached_property
    def series(self) -> SeriesIndex:
        """:attr:`frame` split once by indicator and geography, for the series every document's 一览表 and
        problems read (:func:`helpers.data.series.indicator_series`; the same series as from the frame),
        shared with the workbook's when it was written in this process (:func:`shared_series`)."""
        return shared_series(self.frame, self.data_key) if self.data_key else SeriesIndex(self.frame)


# --------------------------------------------------------------------------- what an input names

def _rooted(path: str, root: Path | None) -> Path:
    """A path an input names: as written when absolute, else under ``root`` (a published run's inputs
    name project-relative paths: :func:`helpers.run.provenance.scrub_machine_paths`)."""
    p = Path(path)
    return p if p.is_absolute() or root is None else Path(root) / p


def input_settings(inp: ReportInput, root: Path | None = None) -> Settings:
    """The settings the input carries, validated again by the same schema; never re-read from a file."""
    s = inp.settings
    return settings_from_mapping(s["values"], _rooted(s["path"], root), s["sha256"])


def input_plan(inp: ReportInput, run: Path, root: Path | None = None) -> tuple[Plan, Geographies]:
    """The registry and geographies the input names: the run's own copies under ``params/`` when present
    (a report written later still says what the run assessed), each checked against the input's SHA-256."""
    plan_file, geos_file = (run / "params" / Path(inp.plan["path"]).name,
                            run / "params" / Path(inp.geographies["path"]).name)
    plan = load_plan(plan_file if plan_file.is_file() else _rooted(inp.plan["path"], root))
    geos = load_geographies(geos_file if geos_file.is_file() else _rooted(inp.geographies["path"], root))
    for what, obj, ref in (("registry", plan, inp.plan), ("geographies file", geos, inp.geographies)):
        if obj.sha256 != ref["sha256"]:
            raise ConfigError(et("doc_table_changed", path=obj.path, page=f"{inp.section}/{inp.geography}",
                                 what={"registry": "登记表", "geographies file": "地区文件"}[what]
                                 if ERROR_LANGUAGE["lang"] == "zh" else what, sha=ref["sha256"][:16]))
    return plan, geos


def read_assessments(inp: ReportInput, run: Path) -> pd.DataFrame:
    """``assessments.csv`` as the input names it, as the model made it: every text field of an
    :class:`~helpers.model.assess.Assessment` as text, "" where empty (never NaN: a yearly due date
    stays "2025", not the number 2025), formula guards undone."""
    text = _text_fields()
    table = pd.read_csv(run / inp.tables["assessments"]["path"], dtype={**ASSESSMENT_DTYPES, **dict.fromkeys(text, str)})
    for c in text:
        if c in table.columns:
            table[c] = table[c].astype(object).where(table[c].notna(), "")
    return restore_frame(table)


def _text_fields() -> list[str]:
    return [f.name for f in fields(Assessment) if f.type in ("str", str)]


def read_validated(inp: ReportInput, run: Path) -> pd.DataFrame:
    """``validated_data.csv`` as the input names it (empty numbers as NaN, empty notes as "")."""
    return restore_frame(pd.read_csv(run / inp.tables["validated_data"]["path"],
                                     dtype={"geography_code": str, "period": str, "source": str, "note": str},
                                     keep_default_na=False,
                                     na_values={c: [""] for c in ("value", "numerator", "denominator")}))


def read_bands(inp: ReportInput, run: Path) -> pd.DataFrame:
    """``bands.csv`` (empty when the run drew no band: the file then holds one line end)."""
    ref = inp.tables.get("bands")
    f = run / ref["path"] if ref else None
    return pd.read_csv(f, dtype={"geography_code": str}) if f and f.stat().st_size > 1 else pd.DataFrame()


def demo_data(frame: pd.DataFrame) -> bool:
    """Whether any value is generated demonstration data (its source starts with DEMO)."""
    return bool(frame["source"].astype(str).str.startswith("DEMO").any())


def run_tables(inp: ReportInput, run_dir: str | Path, root: Path | None = None, plan_geos=None) -> RunTables:
    """The documents' :class:`RunTables`, every table read through ``inp``.

    Parameters
    ----------
    inp : ReportInput
        Read by :func:`~helpers.pages.report_input.read_report_input` (tables verified) or just built.
    run_dir : path
        The run folder the input's table paths are relative to.
    root : path, optional
        The project folder relative paths in the input are under (default: as written).
    plan_geos : (Plan, Geographies), optional
        Already loaded by the caller (checked against the input here all the same).
    """
    run = Path(run_dir)
    settings = input_settings(inp, root)
    plan, geos = plan_geos or input_plan(inp, run, root)
    if plan_geos and (plan.sha256 != inp.plan["sha256"] or geos.sha256 != inp.geographies["sha256"]):
        raise ConfigError(et("doc_plan_differs", page=f"{inp.section}/{inp.geography}"))
    table = read_assessments(inp, run)
    frame = read_validated(inp, run)
    prov = inp.provenance
    shas = [v for k, v in prov.get("inputs") or () if not k.endswith((".yaml", ".yml"))]  # the data files
    bt = settings.outputs_path / "backtest" / "backtest_summary.csv"
    return RunTables(plan, geos, settings, frame, table, read_bands(inp, run), Quarter.parse(inp.quarter),
                     demo_data(frame), prov.get("run_id") or run.name, (prov.get("git_commit") or "—")[:12],
                     ", ".join(s[:16] for s in shas) or "—",
                     (prov.get("started") or datetime.now(timezone.utc).isoformat(timespec="seconds"))[:10],
                     run, pd.read_csv(bt) if bt.is_file() else None, data_key(inp))


def data_key(inp: ReportInput) -> tuple:
    """What the series of a report input's validated data depend on: the SHA-256 of the data file (checked
    when it was read), of the registry and of the geographies."""
    return (inp.tables["validated_data"]["sha256"], inp.plan["sha256"], inp.geographies["sha256"])


def shared_series(frame: pd.DataFrame, key: tuple) -> SeriesIndex:
    """The series index of the validated data ``key`` names (:func:`data_key`), one in this process,
    keeping the series it builds (:attr:`~helpers.data.series.SeriesIndex.memo`).

    The run's side process writes the workbook, then the documents (``run/side.py``); both build the
    series of every target and geography for their 一览表 from validated_data.csv, each reading the
    file through :func:`read_validated`. A frame read later with the same key has the same content,
    so the index made over the first serves it and each series is built once. The series kept are
    read, never changed (``standard.year_measures``, ``standard.judged_gap``, the problems'
    ``narrative.problem_sentence``). Measured as the side process does it (the workbook, then the 14
    documents' content), 2025Q2 demo, CPU, 3 runs each alternated with the code before: the content
    0.64-0.67 s -> 0.41-0.43 s, the two 1.69-1.79 s -> 1.50-1.55 s; every document and sheet unchanged.
    """
    index = _SERIES.get(key)
    if index is None:
        _SERIES.clear()  # one run's data at a time
        index = _SERIES[key] = SeriesIndex(frame)
        index.memo = {}
    return index


_SERIES: dict[tuple, SeriesIndex] = {}


# --------------------------------------------------------------------------- a geography's overview input

def overview_input(settings: Settings, run_dir: str | Path, code: str, lang: str) -> ReportInput:
    """The overview input of geography ``code`` in a run folder: the one the run wrote (its tables
    verified), else one built here in memory from the run's tables and manifest (see the module)."""
    run = Path(run_dir)
    path = input_path(run, OVERVIEW, code)
    if path.is_file() and json.loads(path.read_text(encoding="utf-8")).get("schema_version") == SCHEMA_VERSION:
        return read_report_input(path)
    missing = [n for n in ("assessments.csv", "validated_data.csv") if not (run / n).is_file()]
    if missing:
        raise ConfigError(et("document_unfinished_run", run=run, missing=", ".join(missing)))
    params = run / "params"
    plan = load_plan(params / settings.plan_path.name if (params / settings.plan_path.name).is_file()
                     else settings.plan_path)
    geo_path = params / settings.geographies_path.name
    geos = load_geographies(geo_path if geo_path.is_file() else settings.geographies_path)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8")) if (run / "manifest.json").is_file() else {}
    table = pd.read_csv(run / "assessments.csv", dtype=ASSESSMENT_DTYPES)
    quarter = manifest.get("quarter") or str(table["as_of"].iloc[0])
    prov = {"run_id": manifest.get("run_id", run.name), "git_commit": manifest.get("git_commit") or "",
            "started": manifest.get("finished") or "",
            "inputs": [[k, v] for k, v in (manifest.get("inputs_sha256") or {}).items()]}
    return build_report_input(settings, plan, geos, run, OVERVIEW, code, quarter, lang, table=table,
                              provenance=prov)


def document_inputs(settings: Settings, run_dir: str | Path, codes=None,
                    lang: str = "zh") -> tuple[RunTables, dict[str, ReportInput]]:
    """The tables and each geography's overview input for the documents of ``codes`` (default: every
    geography with assessments in the run). The tables are loaded once, through the first input; every
    other input must name the same tables (one run, one set of tables).

    Raises
    ------
    ConfigError
        Not a finished run, a table or file changed since its input was written, or inputs naming
        different tables.
    """
    run = Path(run_dir)
    lead_code = list(codes)[0] if codes else _any_geography(settings, run)
    lead = overview_input(settings, run, lead_code, lang)
    tables = run_tables(lead, run, settings.root)
    if not codes:
        present = set(tables.table["geography_code"])
        codes = [g.code for g in tables.geos.all if g.code in present]
    inputs = {c: lead if c == lead_code else overview_input(settings, run, c, lang) for c in codes}
    for c, inp in inputs.items():
        if inp.tables != lead.tables:
            raise ConfigError(et("doc_inputs_other_runs", path=input_path(run, OVERVIEW, c),
                                 lead=input_path(run, OVERVIEW, lead_code)))
    return tables, inputs


def _any_geography(settings: Settings, run: Path) -> str:
    """A geography whose overview input the run has (the first by name), else the city's."""
    written = sorted((run / "inputs" / OVERVIEW).glob("*.json"))
    if written:
        return written[0].stem
    geo_path = run / "params" / settings.geographies_path.name
    return load_geographies(geo_path if geo_path.is_file() else settings.geographies_path).city.code


def load_run_tables(settings: Settings, run_dir: str | Path) -> RunTables:
    """The documents' tables of a run folder, read through one of its overview inputs (:func:`document_inputs`)."""
    return document_inputs(settings, run_dir)[0]
