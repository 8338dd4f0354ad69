"""The workbook ``assessments.xlsx`` (openpyxl): what a reader opens in Excel.

Sheets 摘要 (counts per geography and status), 指标评估 (every row with labels, the clause
verbatim and the verdict), 区县比较 (districts ranked with uncertainty), 数据 (the validated data
with sources) and 说明. Codes are shown by their labels in the workbook's language; the
machine-read ``assessments.csv`` keeps the codes. Frozen headers, filters, number formats and
column widths on every table sheet.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.series import SeriesIndex
from helpers.exceptions import ConfigError
from helpers.files import (
    xlsx_text_cell as _text,  # a text cell Excel shows as typed (quote-prefix style) and never runs
)
from helpers.i18n import DECIDED_BY, SDG_NAMES, STATUS_COLOURS, STATUS_NAMES, dt, et
from helpers.pages.document.english import document_number as en_number
from helpers.pages.notes import models_label, note_label, quarter_label
from helpers.pages.numbers import excel_format
from helpers.pages.standard import judged_gap
from helpers.plan.periods import Quarter
from helpers.plan.tasks import ref_en


def _num(x):
    return None if x is None or (isinstance(x, float) and not np.isfinite(x)) else x


class _Columns:
    """A table sheet's columns by name (the ``c_*`` text keys of :mod:`helpers.i18n`) and width, so a
    column is addressed by what it holds, never by its position."""

    def __init__(self, lang: str, spec):
        self.keys = [k for k, _ in spec]
        self.widths = [w for _, w in spec]
        self.header = [dt(lang, k) for k in self.keys]

    def number(self, key: str) -> int:
        """The column's number as Excel counts (A = 1)."""
        return self.keys.index(key) + 1


#: 指标评估, one row per (indicator, geography): (column, width); the row is built by column name.
ASSESSMENT_COLUMNS = (
    ("c_section", 14), ("c_geo_code", 9), ("c_geo", 9), ("c_ind_code", 22), ("c_indicator", 26), ("c_unit", 9),
    ("c_clause_ref", 8), ("c_clause", 48), ("c_kind", 10), ("c_direction", 8), ("c_target", 10), ("c_due", 8),
    ("c_latest_period", 9), ("c_latest", 11), ("c_progress", 11), ("c_gap", 10), ("c_probability", 9),
    ("c_median", 11), ("c_lo80", 10), ("c_hi80", 10), ("c_status", 12), ("c_sdg", 14), ("c_decided", 16),
    ("c_models", 18), ("c_nobs", 7), ("c_note", 30))
#: The columns of 指标评估 formatted by the row's unit.
UNIT_COLUMNS = ("c_target", "c_latest", "c_progress", "c_gap", "c_median", "c_lo80", "c_hi80")
#: 数据: the validated data with sources.
DATA_COLUMNS = (("c_ind_code", 24), ("c_indicator", 26), ("c_geo_code", 9), ("c_geo", 9), ("c_period", 8),
                ("c_value", 12), ("c_numerator", 11), ("c_denominator", 11), ("c_source", 40),
                ("c_kind_source", 12), ("c_note", 30))


def write_workbook(path: str | Path, *, table: pd.DataFrame, frame: pd.DataFrame, plan, geos, quarter,
                   demo: bool, lang: str = "zh", thresholds=None, series: SeriesIndex | None = None) -> Path:
    """Write ``assessments.xlsx``.

    Parameters
    ----------
    path : path
    table : DataFrame
        ``assessments.csv`` as read (codes).
    frame : DataFrame
        The validated data (``validated_data.csv``).
    plan, geos
        The registry and geographies of the run.
    quarter : Quarter
    demo : bool
        Demo data: the summary says so and which values are real.
    lang : {'zh', 'en'}
    thresholds : StatusThresholds, optional
        The probability thresholds in force, quoted on the 说明 sheet (default 0.80 / 0.40).
    series : SeriesIndex, optional
        ``frame``'s series index (default: one made here), e.g. the one the run's documents share
        (:func:`helpers.pages.document.source.shared_series`).
    """
    from openpyxl import Workbook

    from helpers.pages.document.narrative import is_final
    from helpers.pages.published import add_published_sheet

    by_geo: dict = {}
    for r in table.to_dict("records"):
        by_geo.setdefault(r["geography_code"], []).append(r)
    wb = Workbook()
    sheet = partial(_table_sheet, wb, lang)
    final = is_final(plan, quarter)
    kind = dt(lang, "kind_final" if final else "kind_mid")
    top = [dt(lang, "wb_title", title=plan.title(lang), number=en_number(plan.meta, lang), kind=kind),
           dt(lang, "wb_quarter", quarter=quarter_label(quarter, lang))] + ([dt(lang, "wb_demo")] if demo else [])
    _summary_sheet(sheet, geos, by_geo, lang, top)  # 摘要
    series = series or SeriesIndex(frame)  # the frame split once (helpers.data.series)
    _assessment_sheet(sheet, table, frame, plan, geos, quarter, lang, series)  # 指标评估
    _standard_sheet(sheet, plan, geos, frame, by_geo, quarter, final, lang, demo, series)  # 指标完成情况一览表
    _districts_sheet(sheet, geos, by_geo, final, lang)  # 区县比较
    _data_sheet(sheet, frame, plan, geos, quarter, demo, lang)  # 数据
    _notes_sheet(wb, top, thresholds, lang)  # 说明
    add_published_sheet(wb, lang=lang)  # every figure of the press release with its 来源 (pages/published.py)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_workbook_from_input(path: str | Path, inp, run_dir: str | Path, root=None, plan_geos=None) -> Path:
    """Write ``assessments.xlsx`` from a report input (the city's overview input of a run): the tables it
    names (checked by SHA-256 when the input was read), its settings' status thresholds, its language.

    Parameters
    ----------
    path : path
    inp : ReportInput
    run_dir : path
        The run folder the input's tables are in.
    root : path, optional
        The project folder relative paths in the input are under.
    plan_geos : (Plan, Geographies), optional
        Already loaded by the caller; checked against the input's SHA-256.
    """
    from helpers.model.settings_views import status_thresholds
    from helpers.pages.document.source import (data_key, demo_data, input_plan, input_settings, read_assessments,
                                               read_validated, shared_series)

    run = Path(run_dir)
    settings = input_settings(inp, root)
    plan, geos = plan_geos or input_plan(inp, run, root)
    if (plan.sha256, geos.sha256) != (inp.plan["sha256"], inp.geographies["sha256"]):
        raise ConfigError(et("doc_plan_differs", page=f"{inp.section}/{inp.geography}"))
    frame = read_validated(inp, run)
    return write_workbook(path, table=read_assessments(inp, run), frame=frame, plan=plan, geos=geos,
                          quarter=Quarter.parse(inp.quarter), demo=demo_data(frame), lang=inp.lang,
                          thresholds=status_thresholds(settings), series=shared_series(frame, data_key(inp)))


def _table_sheet(wb, L: str, title: str, header: list, rows: list, widths: list, formats: dict | None = None,
                 status_col: int | None = None, first: bool = False, top: list | None = None):
    """One table sheet: ``top`` lines, a bold header, ``rows``; ``formats`` ``{column number: number format}``,
    the verdict in ``status_col`` coloured; widths, frozen header and a filter. Returns the sheet."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from helpers.pages.document.narrative import VERDICTS, verdict_label

    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    r0 = 1
    top = top or []
    for line in top:
        _text(ws.cell(r0, 1), line).font = Font(bold=True, color="9C5700" if line is not top[0] else "000000")
        r0 += 1
    if top:
        r0 += 1
    for j, h in enumerate(header, start=1):
        c = ws.cell(r0, j, h)
        c.font, c.fill = Font(bold=True), PatternFill("solid", fgColor="E6EAF0")
        c.alignment = Alignment(wrap_text=True, vertical="center")
    inv: dict[str, str] = {verdict_label(v, L): v for v in VERDICTS}
    inv.update({v: k for k, v in STATUS_NAMES[L].items()})
    for i, row in enumerate(rows, start=r0 + 1):
        for j, v in enumerate(row, start=1):
            c = _text(ws.cell(i, j), _num(v))
            if formats and formats.get(j):
                c.number_format = formats[j]
        if status_col:
            c = ws.cell(i, status_col)
            code = inv.get(str(c.value), "")
            colour = STATUS_COLOURS.get(code) or ("#d1242f" if code == "missed" else None)
            if colour:
                c.fill = PatternFill("solid", fgColor=colour.lstrip("#"))
                c.font = Font(color="FFFFFF", bold=True)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = ws.cell(r0 + 1, 1)
    if rows:
        ws.auto_filter.ref = f"A{r0}:{get_column_letter(len(header))}{r0 + len(rows)}"
    return ws


def _summary_sheet(sheet, geos, by_geo: dict, L: str, top: list) -> None:
    """摘要: per geography, the targets judged and how many have each verdict."""
    from helpers.pages.document.narrative import VERDICTS, verdict, verdict_label

    rows = []
    for g in geos.all:
        vs = [verdict(r) for r in by_geo.get(g.code, [])]
        n = sum(v is not None for v in vs)
        good = sum(v in ("achieved", "on_track") for v in vs)
        rows.append([g.code, g.name(L), n, *[vs.count(v) for v in VERDICTS], good / n if n else None])
    header = [dt(L, "c_geo_code"), dt(L, "c_geo"), dt(L, "c_judged"), *[verdict_label(v, L) for v in VERDICTS],
              dt(L, "c_good")]
    sheet(dt(L, "wb_summary"), header, rows, [10, 14, 12] + [11] * len(VERDICTS) + [14],
          formats={header.index(dt(L, "c_good")) + 1: "0%"}, first=True, top=top)


def _assessment_sheet(sheet, table: pd.DataFrame, frame: pd.DataFrame, plan, geos, quarter, L: str,
                      series: SeriesIndex | None = None) -> None:
    """指标评估: every assessment row with labels, the clause verbatim and the verdict."""
    from openpyxl.styles import Alignment

    cols = _Columns(L, ASSESSMENT_COLUMNS)
    rows = [[row[k] for k in cols.keys] for row in _assessment_rows(table, frame, plan, geos, quarter, L, series)]
    ws = sheet(dt(L, "wb_assessments"), cols.header, rows, cols.widths,
               formats={cols.number("c_probability"): "0%"}, status_col=cols.number("c_status"))
    _unit_formats(ws, cols.number("c_unit"), tuple(cols.number(k) for k in UNIT_COLUMNS))
    clause = cols.number("c_clause")
    for line in ws.iter_rows(min_row=2, min_col=clause, max_col=clause):
        for c in line:
            c.alignment = Alignment(wrap_text=True, vertical="top")


def _assessment_rows(table: pd.DataFrame, frame: pd.DataFrame, plan, geos, quarter, L: str,
                     series: SeriesIndex | None = None) -> list[dict]:
    """The rows of 指标评估 as ``{column: value}`` (:data:`ASSESSMENT_COLUMNS`)."""
    from helpers.pages.document.narrative import verdict, verdict_label

    sections = {s.id: s.name(L) for s in plan.sections}
    names = {g.code: g.name(L) for g in geos.all}
    series = series or SeriesIndex(frame)  # the frame split once for the gaps of the missed rows (helpers.data.series)
    out = []
    for r in table.to_dict("records"):
        ind = plan.indicator(r["indicator_id"])
        v = verdict(r)
        t = ind.target
        out.append({
            "c_section": sections.get(r["section"], r["section"]), "c_geo_code": r["geography_code"],
            "c_geo": names.get(r["geography_code"]), "c_ind_code": ind.id, "c_indicator": ind.name(L),
            "c_unit": ind.unit(L), "c_clause_ref": ind.clause_ref if L == "zh" else ref_en(ind.clause_ref),
            "c_clause": ind.clause_text,
            "c_kind": dt(L, f"k_{t.kind}") if t else "—", "c_direction": dt(L, f"d_{t.direction}") if t else "—",
            "c_target": _num(r.get("target_value")), "c_due": r.get("due") or "—",
            "c_latest_period": r.get("latest_period") or "—", "c_latest": r.get("latest_value"),
            "c_progress": r.get("progress_value"),
            "c_gap": judged_gap(ind, r, series, geos.get(r["geography_code"]), geos, quarter) if t else None,
            "c_probability": r.get("probability"), "c_median": r.get("forecast_median"),
            "c_lo80": r.get("forecast_lo80"), "c_hi80": r.get("forecast_hi80"),
            "c_status": verdict_label(v, L) if v else STATUS_NAMES[L].get(r["status"], r["status"]),
            "c_sdg": SDG_NAMES[L].get(r.get("sdg_category"), r.get("sdg_category")) if t else "—",
            "c_decided": DECIDED_BY[L].get(r.get("decided_by") or "", r.get("decided_by")),
            "c_models": models_label(r.get("models_used"), L), "c_nobs": r.get("n_obs"),
            "c_note": note_label(r.get("note") or "", L, reference=r.get("status") == "reference")})
    return out


def _districts_sheet(sheet, geos, by_geo: dict, final: bool, L: str) -> None:
    """区县比较: districts ranked (the final assessment speaks of completion: no rank intervals)."""
    from helpers.pages.document.narrative import district_ranking

    names = {g.code: g.name(L) for g in geos.all}
    rank = district_ranking(by_geo, geos)
    rows = [[int(r.rank), r.geography_code, names[r.geography_code], int(r.n), r.good / r.n if r.n else None,
             float(r.expected)] + ([] if final else [int(r.rank_lo), int(r.rank_hi)]) for r in rank.itertuples()]
    spec = (("c_rank", 7), ("c_geo_code", 10), ("c_geo", 14), ("c_judged", 12), ("c_good", 14), ("c_expected", 12))
    cols = _Columns(L, spec + (() if final else (("c_rank_lo", 14), ("c_rank_hi", 14))))
    sheet(dt(L, "wb_districts"), cols.header, rows, cols.widths,
          formats={cols.number("c_good"): "0%", cols.number("c_expected"): "0.0"})


def _data_sheet(sheet, frame: pd.DataFrame, plan, geos, quarter, demo: bool, L: str) -> None:
    """数据: the validated data up to the quarter, each value with its source and its kind."""
    from helpers.pages.document.parts import source_kind

    cols = _Columns(L, DATA_COLUMNS)
    inds = {i.id: i for i in plan.indicators}
    names = {g.code: g.name(L) for g in geos.all}
    kinds = {"demo": dt(L, "demo_source"), "real": dt(L, "real_source"), "reported": dt(L, "reported_source")}
    f = frame[frame["qindex"] <= quarter.index] if "qindex" in frame.columns else frame
    rows = [[r.indicator_id, inds[r.indicator_id].name(L) if r.indicator_id in inds else "", r.geography_code,
             names.get(r.geography_code, ""), str(r.period), _num(r.value), _num(r.numerator), _num(r.denominator),
             dt(L, "demo_source_label") if source_kind(r.source, demo) == "demo" else r.source,
             kinds[source_kind(r.source, demo)], r.note if isinstance(r.note, str) else ""]
            for r in f.itertuples(index=False)]
    ws = sheet(dt(L, "wb_data"), cols.header, rows, cols.widths)
    units = {i.name(L): i.unit(L) for i in plan.indicators}
    name_at, value_col = cols.number("c_indicator") - 1, cols.number("c_value")
    numbers = [cols.number(k) - 1 for k in ("c_value", "c_numerator", "c_denominator")]
    for row in ws.iter_rows(min_row=2):
        unit = units.get(row[name_at].value)
        for c in (row[j] for j in numbers):
            if isinstance(c.value, (int, float)):
                # counts and sums whole, a value in its unit's decimals: "#,##0.##" showed 80 as "80."
                c.number_format = excel_format(unit) if c.column == value_col and unit else (
                    "#,##0" if float(c.value).is_integer() else "#,##0.00")


def _notes_sheet(wb, top: list, thresholds, L: str) -> None:
    """说明: what each sheet holds and the thresholds in force."""
    from openpyxl.styles import Alignment

    ws = wb.create_sheet(dt(L, "wb_notes"))
    ws.column_dimensions["A"].width = 120
    on, risk = (thresholds.on_track, thresholds.at_risk) if thresholds is not None else (0.80, 0.40)
    notes = dt(L, "wb_notes_lines", on=round(on * 100), risk=round(risk * 100)).split("|")
    for i, line in enumerate(top + [""] + notes, start=1):
        _text(ws.cell(i, 1), line).alignment = Alignment(wrap_text=True)


def _unit_formats(ws, unit_col: int, cols: tuple) -> None:
    """Each numeric cell of ``cols`` formatted by the unit in ``unit_col`` of its row (one formatter
    for text and workbook: :func:`helpers.pages.numbers.excel_format`)."""
    for row in ws.iter_rows(min_row=2):
        if len(row) < max(cols):
            continue
        unit = row[unit_col - 1].value
        if not isinstance(unit, str):
            continue
        for j in cols:
            if isinstance(row[j - 1].value, (int, float)):
                row[j - 1].number_format = excel_format(unit)


def _standard_sheet(sheet, plan, geos, frame, by_geo: dict, quarter, final: bool, L: str, demo: bool,
                    series: SeriesIndex | None = None) -> None:
    """指标完成情况一览表 for every geography, one row per target (:mod:`helpers.pages.standard`);
    the city's published figures marked per cell, numbers kept numbers (:mod:`helpers.pages.standard_xlsx`)."""
    from helpers.pages.document.content import source_kind
    from helpers.pages.standard import YEARS, published_years, standard_header, standard_rows
    from helpers.pages.standard_xlsx import HEAD, mark_published, published_columns
    from helpers.settings import find_project_root

    root = find_project_root()  # as the 公开发布数据 sheet finds the press release (pages/published.py)
    f = frame[frame["qindex"] <= quarter.index] if "qindex" in frame.columns else frame
    series = series or SeriesIndex(frame)  # one split of the frame for the 14 geographies' tables (helpers.data.series)
    rows, marked = [], []
    for g in geos.all:
        sub = f[f["geography_code"] == g.code] if not g.is_city else f
        kinds: dict = {}
        for ind_id, source in zip(sub["indicator_id"], sub["source"]):
            kinds.setdefault(ind_id, set()).add(source_kind(source, demo))
        for r in standard_rows(plan, g, geos, series, by_geo.get(g.code, []), quarter, final, L, kinds,
                               published_years(root, g, plan)):
            done = r["completion"]
            extra = [done or None] if final else [done or r["progress"], r["probability"] if not done else None]
            rows.append([g.code, g.name(L), r["no"], r["name"], r["unit"], r["base"], r["target"],
                         *[r["years"].get(y) for y in YEARS], *extra, r["units"], r["source"],
                         *published_columns(r, L)])
            marked.append(r)
    head = [dt(L, "c_geo_code"), dt(L, "c_geo")] + standard_header(final, L, quarter) + list(HEAD[L])
    n = len(head)
    ws = sheet(dt(L, "wb_standard"), head, rows,
               [9, 9, 5, 28, 8, 11, 10] + [15] * len(YEARS) + [10] * (n - 13) + [12, 16, 36],
               formats=None if final else {n - 5: "0%"})
    _unit_formats(ws, 5, (6, 8, 9, 10) + (() if final else (11,)))
    mark_published(ws, marked, 2, {y: 8 + k for k, y in enumerate(YEARS)}, n - 2, L)
