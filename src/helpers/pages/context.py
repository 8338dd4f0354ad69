"""Loading a page: its report input read (or built, for a notebook run on its own) into a :class:`ReportContext`.

Loading is apart from rendering: this module reads, :mod:`helpers.pages.sections` and
:mod:`helpers.pages.analysis` render. In a run the notebook's one parameter is its report input
(:mod:`helpers.pages.report_input`); :func:`open_context` also takes the old parameters for a notebook run
on its own, and builds the same input through the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.files import restore_frame
from helpers.pages.report_input import ASSESSMENT_DTYPES, ReportInput
from helpers.plan.geography import Geographies, Geography, load_geographies
from helpers.plan.periods import Quarter
from helpers.plan.registry import OVERVIEW, Plan, load_plan
from helpers.settings import Settings, load_settings


@dataclass
class ReportContext:
    """Everything one report needs, loaded once per notebook."""

    plan: Plan
    geos: Geographies
    settings: Settings
    frame: pd.DataFrame
    data_paths: tuple
    section: str
    geography: Geography
    quarter: Quarter
    lang: str
    assessments: pd.DataFrame
    bands: pd.DataFrame
    demo: bool
    run_dir: str = ""
    published: pd.DataFrame = None  # figures from publications (helpers.data.reference)
    input: ReportInput | None = None  # the ReportInput the context was loaded from (helpers.pages.report_input)

    @property
    def indicators(self):
        inds = self.plan.page_indicators(self.section)
        return [i for i in inds if self.geography.is_city or not i.city_only]

    def section_name(self) -> str:
        return self.plan.page_name(self.section, self.lang)


def open_context(section: str = "", geography: str = "", quarter: str = "", lang: str = "zh", settings_path: str = "",
                 data_path: str = "", registry_path: str = "", run_dir: str = "",
                 report_input: str = "") -> ReportContext:
    """The context of one report, from its report input (:mod:`helpers.pages.report_input`).

    In a run the notebook is given ``report_input``, the path of the input the run wrote, and
    nothing else. Run on its own (JupyterLab, plain ``papermill -p geography ... -p quarter ...``)
    the input is built here through the same :func:`~helpers.pages.report_input.build_report_input`
    from the other parameters (``run_dir``: a run folder to read the tables from; without it the
    data are validated and assessed into a folder of this report's own). Every parameter is checked
    (unknown section, geography or quarter raise an error naming the valid choices).
    """
    from helpers.pages import report_input as ri

    if report_input:
        return load_context(report_input)
    settings = load_settings(settings_path or None)  # on its own only: a run passes its settings in the input
    plan = load_plan(registry_path or settings.plan_path)
    geos = load_geographies(settings.geographies_path)
    if section != OVERVIEW:
        plan.section(section)
    geos.get(geography)
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    Quarter.parse(quarter)
    paths = [p for p in data_path.split(",") if p] if data_path else [str(settings.data_path)]
    standalone = not (run_dir and (Path(run_dir) / "assessments.csv").is_file())
    folder = ri.prepare_standalone(settings, plan, geos, quarter, paths) if standalone else Path(run_dir)
    inp = ri.build_report_input(settings, plan, geos, folder, section, geography, quarter, lang, data_paths=paths,
                                standalone=standalone)
    ctx = context_from_input(inp, folder)
    if standalone:  # everything is in memory now; the page links nothing in the folder
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return ctx


def load_context(path: str | Path) -> ReportContext:
    """Load what the report input at ``path`` names: settings from the input itself (no settings file is
    read in a kernel), the registry and geographies it names, and the run folder's tables."""
    from helpers.pages import report_input as ri

    return context_from_input(ri.read_report_input(path), ri.run_folder(path))


def context_from_input(inp, run: Path) -> ReportContext:
    """The context of the :class:`~helpers.pages.report_input.ReportInput` ``inp``, whose tables are in ``run``."""
    from helpers.data.reference import published_figures
    from helpers.settings import settings_from_mapping

    settings = settings_from_mapping(inp.settings["values"], inp.settings["path"], inp.settings["sha256"])
    plan = load_plan(inp.plan["path"])
    geos = load_geographies(inp.geographies["path"])
    frame = _table(run, inp.tables["validated_data"], _read_data)
    table = _table(run, inp.tables["assessments"], _read_assessments)
    bands = _table(run, inp.tables["bands"], _read_bands)
    return ReportContext(plan, geos, settings, frame, inp.data_paths, inp.section, geos.get(inp.geography),
                         Quarter.parse(inp.quarter), inp.lang, table, bands, _is_demo(frame),
                         "" if inp.standalone else str(run), _published(settings.root, published_figures), inp)


def _is_demo(frame: pd.DataFrame) -> bool:
    """Whether the validated data hold demo rows: the fork server's answer for a frame it read, else computed."""
    found = _DEMO.get(id(frame))  # a preloaded frame lives as long as the process: its id is its own
    return found if found is not None else bool(frame["source"].astype(str).str.startswith("DEMO").any())


def _published(root, read) -> pd.DataFrame:
    """The published figures under ``root``: a copy of the fork server's table when the file is as it was
    then (same size and modification time), else read here."""
    found = _PUBLISHED.get(str(root))
    if found is not None and found[0] == _signature(root):
        return found[1].copy()
    return read(root)


def _signature(root) -> tuple:
    from helpers.data.reference import REFERENCE_FILE

    try:
        st = (Path(root) / REFERENCE_FILE).stat()
    except OSError:
        return ()
    return (st.st_size, st.st_mtime_ns)


def _read_data(path: Path) -> pd.DataFrame:
    return restore_frame(pd.read_csv(path, dtype={"geography_code": str, "period": str, "source": str, "note": str},
                                     keep_default_na=False,
                                     na_values={c: [""] for c in ("value", "numerator", "denominator")}))


def _read_assessments(path: Path) -> pd.DataFrame:
    table = restore_frame(pd.read_csv(path, dtype=ASSESSMENT_DTYPES))
    text_cols = [c for c in table.columns if c in ("target_kind", "direction", "due", "latest_period", "status",
                                                    "sdg_category", "decided_by", "models_used", "models_dropped", "note",
                                                    "binds", "settled_on", "assessment_stage")]
    table[text_cols] = table[text_cols].astype(object).where(table[text_cols].notna(), "")
    return table


def _read_bands(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"geography_code": str}) if path.stat().st_size > 1 else pd.DataFrame()


#: the run's tables as the fork server read them before forking the run's kernels (:func:`preload_run`),
#: by (resolved file, SHA-256 of its bytes)
_PRELOADED: dict[tuple[str, str], pd.DataFrame] = {}
#: by ``id`` of a preloaded validated frame, whether it holds demo rows; by project folder, the published
#: figures with their file's (size, mtime). Both were worked out again in every kernel: 7 ms of a page's
#: 27 ms ``open_context`` and 11 ms (cProfile, CPU, 16 fork-server kernels, 2026-12-06)
_DEMO: dict[int, bool] = {}
_PUBLISHED: dict[str, tuple[tuple, pd.DataFrame]] = {}
_READERS = {"validated_data": _read_data, "assessments": _read_assessments, "bands": _read_bands}


def _table(run: Path, ref: dict, read) -> pd.DataFrame:
    """A table of the input's ``tables``: the fork server's copy when it read the same bytes, else read here.

    :func:`~helpers.pages.report_input.read_report_input` has checked that the file still has the
    SHA-256 the input recorded, so a copy read from bytes with that SHA-256 is the file's content.
    """
    path = run / ref["path"]
    found = _PRELOADED.get((str(path.resolve()), ref["sha256"]))
    return found if found is not None else read(path)


def _share_series(frame: pd.DataFrame, plan, geos, quarter: Quarter) -> None:
    """Every indicator's series for every geography at the run's quarter, built once here for all
    the kernels (:meth:`helpers.data.series.SeriesIndex.share`).

    A section page's analyses read each of its indicators for all 14 geographies (the district
    comparison) and its data-quality table again: about 70 series, 35 ms of a kernel's 200 ms of CPU
    (0.5 ms a district's series, 3.4 ms the city's summed one); the 504 of the quarter take 0.27 s
    here, once (2026-12-06).
    """
    from helpers.data.series import SeriesIndex, indicator_series

    index = SeriesIndex.share(frame)
    for ind in plan.indicators:
        for geo in geos.all:
            indicator_series(index, ind, geo, geos, quarter)


def preload_run(run: str | Path) -> None:
    """Read a run's tables, registry and geographies once, in the kernel fork server, before its kernels fork.

    Every report kernel is a fork of the server (:mod:`helpers.run.forkserver`): it finds them in
    memory, shared copy-on-write (a page that changes a frame changes its own copy), instead of
    parsing the same CSV and YAML files again, about 30 ms of CPU a report (measured 2026-12-06).
    A table is used only by an input recording the same SHA-256 (:func:`_table`).
    """
    from helpers.files import sha256_file
    from helpers.pages.report_input import TABLES

    folder = Path(run).resolve()
    data = None
    for name, read in _READERS.items():
        path = folder / TABLES[name][0]
        if path.is_file():
            table = _PRELOADED[(str(path), sha256_file(path))] = read(path)
            if name == "validated_data":
                _DEMO[id(table)] = _is_demo(table)
                data = table
    first = next(folder.glob("inputs/*/*.json"), None)
    if first is not None:  # both are cached by path (load_plan, load_geographies)
        from helpers.data.reference import published_figures
        from helpers.pages.report_input import read_report_input
        from helpers.settings import settings_from_mapping

        inp = read_report_input(first)
        plan = load_plan(inp.plan["path"])
        geos = load_geographies(inp.geographies["path"])
        root = settings_from_mapping(inp.settings["values"], inp.settings["path"], inp.settings["sha256"]).root
        signature = _signature(root)
        _PUBLISHED[str(root)] = (signature, published_figures(root))
        if data is not None:  # last: the rest is preloaded even if this fails (a kernel then builds its own)
            _share_series(data, plan, geos, Quarter.parse(inp.quarter))
