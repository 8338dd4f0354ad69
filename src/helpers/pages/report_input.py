"""The report input: everything one page (a section or the overview, for one geography) is made from.

The one seam between a run and its pages. The run (the parent process) builds a :class:`ReportInput`
per (section, geography) with :func:`build_report_input` and writes it as one JSON file into the run
folder (``inputs/<section>/<code>.json``); the notebook gets that file's path as its one parameter,
``report_input``, and :func:`helpers.pages.sections.open_context` loads it. A notebook run on its own
(JupyterLab, plain ``papermill -p geography 330106 -p quarter 2025Q4``) first writes the run's tables
into a folder of its own (:func:`prepare_standalone`) and then builds the same object through the
same function, so there is one way in.

JSON, not pickle: a reviewer can read what a page was given (settings, the page's assessment rows with
their note codes, the tables with their SHA-256, chart files, labels) without running Python, and a
``schema_version`` says which layout it is. Large tables stay CSV files of the run folder, named by
path relative to it and by checksum, so a page refuses tables that changed after its input was made.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from helpers.exceptions import ConfigError
from helpers.files import atomic_write_bytes, people_csv, sha256_file
from helpers.i18n import et
from helpers.pages.notes import note_codes
from helpers.plan.periods import Quarter
from helpers.plan.registry import OVERVIEW

#: The layout of the file; a reader refuses another one rather than guessing.
SCHEMA_VERSION = 2  # 2: ``provenance`` (the run's id, commit, inputs' SHA-256) and ``task_status.csv``

#: How ``assessments.csv`` is read back: codes and periods stay text (a yearly period is 2025, not 2025.0).
ASSESSMENT_DTYPES = {"geography_code": str, "latest_period": str, "settled_on": str}

#: The run's tables a page reads, by name: file in the run folder, and whether a run always has it.
TABLES = {"assessments": ("assessments.csv", True), "bands": ("bands.csv", True),
          "validated_data": ("validated_data.csv", True), "changes": ("changes.csv", False),
          "task_status": ("task_status.csv", False)}


@dataclass(frozen=True)
class ReportInput:
    """One page's input, frozen; :meth:`to_json` and :func:`read_report_input` round-trip it."""

    section: str
    geography: str  # the geography's official code
    quarter: str
    lang: str
    section_name: dict  # {"zh": ..., "en": ...}
    geography_name: dict
    plan: dict  # id, path, sha256, title {zh, en}
    geographies: dict  # path, sha256
    settings: dict  # path, sha256, values (the settings file as read and validated)
    data_paths: tuple = ()
    indicators: tuple = ()  # the page's indicators for this geography, in the plan's order
    rows: tuple = ()  # the page's assessment rows of this geography, each with "note_codes"
    tables: dict = field(default_factory=dict)  # name -> {"path": relative to the run folder, "sha256"}
    charts: dict = field(default_factory=dict)  # indicator id (or "overview") -> PNG path relative to the run folder
    standalone: bool = False  # made by a notebook run on its own, not by ``ipeval run``
    provenance: dict = field(default_factory=dict)  # run_id, git_commit, started, inputs [[path, sha256], ...]
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        """The input as UTF-8 JSON (sorted keys, so equal inputs are equal bytes)."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True, default=_plain).encode("utf-8")


def input_path(run_dir: str | Path, section: str, geography: str) -> Path:
    """Where a page's input is written in the run folder."""
    return Path(run_dir) / "inputs" / section / f"{geography}.json"


def run_folder(path: str | Path) -> Path:
    """The run folder of an input file written by :func:`write_report_input` (three levels up)."""
    return Path(path).resolve().parents[2]


def table_refs(run_dir: str | Path) -> dict:
    """The run's tables (:data:`TABLES`) present in ``run_dir``, with their SHA-256."""
    run = Path(run_dir)
    refs = {}
    for name, (file, required) in TABLES.items():
        if (run / file).is_file():
            refs[name] = {"path": file, "sha256": sha256_file(run / file)}
        elif required:
            raise ConfigError(et("input_table_missing", path=run / file))
    return refs


def build_report_input(settings, plan, geos, run_dir: str | Path, section: str, geography: str, quarter: str,
                       lang: str, *, data_paths=(), table: pd.DataFrame | None = None, tables: dict | None = None,
                       standalone: bool = False, provenance: dict | None = None,
                       planned_charts: set | None = None) -> ReportInput:
    """The input of one page, from a run folder holding the run's tables.

    Parameters
    ----------
    settings : Settings
        As loaded once by the caller.
    plan, geos : Plan, Geographies
    run_dir : path
        Holds ``assessments.csv``, ``bands.csv``, ``validated_data.csv`` (and ``changes.csv``, ``charts/``).
    section, geography, quarter, lang : str
        Checked here: an unknown section or geography code raises naming the valid ones.
    table : DataFrame, optional
        ``assessments.csv`` already in memory (the run has it); read from ``run_dir`` otherwise.
    tables : dict, optional
        :func:`table_refs` of ``run_dir``, computed once by a caller building many inputs.
    provenance : dict, optional
        The run's origin (``run_id``, ``git_commit``, ``started``, ``inputs``), which the
        documents print; a notebook run on its own has none.
    planned_charts : set of str, optional
        The chart files the run will hold (relative to ``run_dir``, e.g. ``charts/admin_cases/330106.svg``)
        while they are still being drawn (:class:`helpers.pages.chartpool.ChartDrawing`); None: the
        files in ``run_dir``.

    Returns
    -------
    ReportInput
    """
    from helpers.pages import charts

    planned = None if planned_charts is None else set(planned_charts)
    if section != OVERVIEW:
        plan.section(section)  # UnknownSectionError listing the valid ones
    geo = geos.get(geography)
    if lang not in ("zh", "en"):
        raise ConfigError(et("input_lang", lang=repr(lang)))
    q = Quarter.parse(str(quarter))
    run = Path(run_dir)
    if table is None:
        table = pd.read_csv(run / "assessments.csv", dtype=ASSESSMENT_DTYPES)
    inds = [i.id for i in plan.page_indicators(section) if geo.is_city or not i.city_only]
    mine = table[(table["geography_code"] == geo.code) & table["indicator_id"].isin(inds)]
    rows = tuple({**{k: _plain(v) for k, v in r.items()}, "note_codes": note_codes(r.get("note"))}
                 for r in mine.to_dict("records"))
    chart_files = {}
    for key in [*inds, charts.OVERVIEW_CHART]:
        svg = charts.chart_path(run, key, geo.code)
        name = svg.relative_to(run).as_posix()
        if (name in planned) if planned is not None else svg.is_file():
            chart_files[key] = name
    return ReportInput(
        section=section, geography=geo.code, quarter=str(q), lang=lang,
        section_name={x: plan.page_name(section, x) for x in ("zh", "en")},
        geography_name={x: geo.name(x) for x in ("zh", "en")},
        plan={"id": plan.id, "path": str(settings.plan_path), "sha256": plan.sha256,
              "title": {x: plan.title(x) for x in ("zh", "en")}},
        geographies={"path": str(settings.geographies_path), "sha256": geos.sha256},
        settings={"path": str(settings.path), "sha256": settings.sha256, "values": settings.raw},
        data_paths=tuple(map(str, data_paths)), indicators=tuple(inds), rows=rows,
        tables=tables if tables is not None else table_refs(run), charts=chart_files, standalone=standalone,
        provenance=dict(provenance or {}))


def write_report_input(inp: ReportInput, run_dir: str | Path) -> Path:
    """Write ``inp`` to :func:`input_path` in ``run_dir`` (atomically); return the path."""
    # renamed into place, not synced one by one: an input lives in a run's staging folder, which a run
    # that stops discards whole (its pages and notebooks are not synced one by one either); the 112
    # fsyncs of a quarter were 0.21 s of the run's one-core part (cProfile, 2026-12-06)
    return atomic_write_bytes(input_path(run_dir, inp.section, inp.geography), inp.to_json(), sync=False)


def read_report_input(path: str | Path) -> ReportInput:
    """Read an input file; refuses another schema version and a table whose bytes changed since.

    Raises
    ------
    ConfigError
        The file is missing, not an input of this schema version, or names a table that changed.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(et("input_missing", path=p))
    doc = json.loads(p.read_text(encoding="utf-8"))
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(et("input_schema", path=p, found=repr(doc.get("schema_version")), version=SCHEMA_VERSION))
    run = run_folder(p)
    for ref in doc.get("tables", {}).values():
        if sha256_file(run / ref["path"]) != ref["sha256"]:
            raise ConfigError(et("input_table_changed", table=run / ref["path"], path=p))
    for key in ("data_paths", "indicators", "rows"):
        doc[key] = tuple(doc.get(key, ()))
    doc["rows"] = tuple({**r, "note_codes": tuple(r.get("note_codes", ()))} for r in doc["rows"])
    return ReportInput(**doc)


def prepare_standalone(settings, plan, geos, quarter: str, data_paths=(), folder: str | Path | None = None) -> Path:
    """A run folder of one's own for a notebook run outside ``ipeval run``: the data validated and
    assessed (through the forecast cache) into the same tables a run writes. Returns the folder."""
    from helpers.data.contract import load_data
    from helpers.model.assess import assess_all
    from helpers.model.settings_views import forecast_settings, status_thresholds

    paths = [Path(p) for p in data_paths] or [settings.data_path]
    frame = load_data(paths, plan, geos).frame
    table, bands = assess_all(frame, plan, geos, Quarter.parse(str(quarter)), forecast_settings(settings),
                              status_thresholds(settings), cache_dir=settings.outputs_path / ".cache" / "assess")
    out = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="ipeval-report-"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "assessments.csv").write_bytes(people_csv(table, float_format="%.6g"))
    (out / "validated_data.csv").write_bytes(people_csv(frame))
    bands.to_csv(out / "bands.csv", index=False, float_format="%.6g")
    return out


def _plain(v):
    """A cell as JSON has it: NaN and missing as null, numpy scalars as Python ones."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (str, int, float, bool)):
        return v
    return str(v)
