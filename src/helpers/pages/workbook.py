"""The workbook ``assessments.xlsx`` (openpyxl): what a reader opens in Excel.

Sheets 摘要 (counts per geography and status), 指标评估 (every row with labels, the clause
verbatim and the verdict), 区县比较 (districts ranked with uncertainty), 数据 (the validated data
with sources) and 说明. Codes are shown by their labels in the workbook's language; the
machine-read ``assessments.csv`` keeps the codes. Frozen headers, filters, number formats and
column widths on every table sheet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.files import (
    xlsx_text_cell as _text,  # a text cell Excel shows as typed (quote-prefix style) and never runs
)
from helpers.i18n import DECIDED_BY, SDG_NAMES, STATUS_COLOURS, STATUS_NAMES, dt
from helpers.pages.notes import models_label, note_label, quarter_label
from helpers.pages.numbers import excel_format
from helpers.pages.standard import judged_gap


def _num(x):
    return None if x is None or (isinstance(x, float) and not np.isfinite(x)) else x


def write_workbook(path: str | Path, *, table: pd.DataFrame, frame: pd.DataFrame, plan, geos, quarter,
                   demo: bool, lang: str = "zh", thresholds=None) -> Path:
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
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from helpers.pages.document.content import source_kind
    from helpers.pages.document.narrative import (
        VERDICTS,
        district_ranking,
        is_final,
        verdict,
        verdict_label,
    )

    L = lang
    recs = table.to_dict("records")
    by_geo: dict = {}
    for r in recs:
        by_geo.setdefault(r["geography_code"], []).append(r)
    names = {g.code: g.name(L) for g in geos.all}
    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E6EAF0")

    def sheet(title, header, rows, widths, formats=None, status_col=None, first=False, top=None):
        ws = wb.active if first else wb.create_sheet()
        ws.title = title
        r0 = 1
        for line in top or []:
            _text(ws.cell(r0, 1), line).font = Font(bold=True, color="9C5700" if line is not top[0] else "000000")
            r0 += 1
        if top:
            r0 += 1
        for j, h in enumerate(header, start=1):
            c = ws.cell(r0, j, h)
            c.font, c.fill = bold, head_fill
            c.alignment = Alignment(wrap_text=True, vertical="center")
        inv = {verdict_label(v, L): v for v in VERDICTS}
        inv.update({v: k for k, v in STATUS_NAMES[L].items()})
        for i, row in enumerate(rows, start=r0 + 1):
            for j, v in enumerate(row, start=1):
                c = _text(ws.cell(i, j), _num(v))
                if formats and formats.get(j):
                    c.number_format = formats[j]
            if status_col:
                c = ws.cell(i, status_col)
                code = inv.get(c.value)
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

    kind = dt(L, "kind_final" if is_final(plan, quarter) else "kind_mid")
    top = [dt(L, "wb_title", title=plan.title(L), number=plan.meta.get("document_number", ""), kind=kind),
           dt(L, "wb_quarter", quarter=quarter_label(quarter, L))] + ([dt(L, "wb_demo")] if demo else [])

    # 摘要
    rows = []
    for g in geos.all:
        vs = [verdict(r) for r in by_geo.get(g.code, [])]
        n = sum(v is not None for v in vs)
        good = sum(v in ("achieved", "on_track") for v in vs)
        rows.append([g.code, g.name(L), n, *[vs.count(v) for v in VERDICTS], good / n if n else None])
    sheet(dt(L, "wb_summary"), [dt(L, "c_geo_code"), dt(L, "c_geo"), dt(L, "c_judged"),
                                *[verdict_label(v, L) for v in VERDICTS], dt(L, "c_good")],
          rows, [10, 14, 12] + [11] * len(VERDICTS) + [14], formats={4 + len(VERDICTS): "0%"}, first=True, top=top)

    # 指标评估
    sections = {s.id: s.name(L) for s in plan.sections}
    rows = []
    for r in recs:
        ind = plan.indicator(r["indicator_id"])
        v = verdict(r)
        status = verdict_label(v, L) if v else STATUS_NAMES[L].get(r["status"], r["status"])
        rows.append([sections.get(r["section"], r["section"]), r["geography_code"], names.get(r["geography_code"]),
                     ind.id, ind.name(L), ind.unit(L), ind.clause_ref, ind.clause_text,
                     dt(L, f"k_{ind.target.kind}") if ind.target else "—",
                     dt(L, f"d_{ind.target.direction}") if ind.target else "—",
                     _num(r.get("target_value")), r.get("due") or "—", r.get("latest_period") or "—",
                     r.get("latest_value"), r.get("progress_value"),
                     judged_gap(ind, r, frame, geos.get(r["geography_code"]), geos, quarter) if ind.target else None,
                     r.get("probability"),
                     r.get("forecast_median"), r.get("forecast_lo80"), r.get("forecast_hi80"), status,
                     SDG_NAMES[L].get(r.get("sdg_category"), r.get("sdg_category")) if ind.target else "—",
                     DECIDED_BY[L].get(r.get("decided_by") or "", r.get("decided_by")),
                     models_label(r.get("models_used"), L), r.get("n_obs"),
                     note_label(r.get("note") or "", L, reference=r.get("status") == "reference")])
    header = [dt(L, k) for k in ("c_section", "c_geo_code", "c_geo", "c_ind_code", "c_indicator", "c_unit",
                                 "c_clause_ref", "c_clause", "c_kind", "c_direction", "c_target", "c_due",
                                 "c_latest_period", "c_latest", "c_progress", "c_gap", "c_probability", "c_median",
                                 "c_lo80", "c_hi80", "c_status", "c_sdg", "c_decided", "c_models", "c_nobs", "c_note")]
    ws = sheet(dt(L, "wb_assessments"), header, rows,
               [14, 9, 9, 22, 26, 9, 8, 48, 10, 8, 10, 8, 9, 11, 11, 10, 9, 11, 10, 10, 12, 14, 16, 18, 7, 30],
               formats={17: "0%"}, status_col=21)
    _unit_formats(ws, 6, (11, 14, 15, 16, 18, 19, 20))
    for row in ws.iter_rows(min_row=2, min_col=8, max_col=8):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")

    # 指标完成情况一览表: every geography's standard table
    _standard_sheet(sheet, plan, geos, frame, by_geo, quarter, is_final(plan, quarter), L, demo)

    # 区县比较 (the final assessment speaks of completion: no rank intervals)
    final = is_final(plan, quarter)
    rank = district_ranking(by_geo, geos)
    rows = [[int(r.rank), r.geography_code, names[r.geography_code], int(r.n), r.good / r.n if r.n else None,
             float(r.expected)] + ([] if final else [int(r.rank_lo), int(r.rank_hi)]) for r in rank.itertuples()]
    keys = ("c_rank", "c_geo_code", "c_geo", "c_judged", "c_good", "c_expected") + (() if final else
                                                                                  ("c_rank_lo", "c_rank_hi"))
    sheet(dt(L, "wb_districts"), [dt(L, k) for k in keys],
          rows, [7, 10, 14, 12, 14, 12, 14, 14][:len(keys)], formats={5: "0%", 6: "0.0"})

    # 数据
    inds = {i.id: i for i in plan.indicators}
    kinds = {"demo": dt(L, "demo_source"), "real": dt(L, "real_source"), "reported": dt(L, "reported_source")}
    f = frame[frame["qindex"] <= quarter.index] if "qindex" in frame.columns else frame
    rows = [[r.indicator_id, inds[r.indicator_id].name(L) if r.indicator_id in inds else "", r.geography_code,
             names.get(r.geography_code, ""), str(r.period), _num(r.value), _num(r.numerator), _num(r.denominator),
             dt(L, "demo_source_label") if L == "zh" and source_kind(r.source, demo) == "demo" else r.source,
             kinds[source_kind(r.source, demo)], r.note if isinstance(r.note, str) else ""]
            for r in f.itertuples(index=False)]
    ws = sheet(dt(L, "wb_data"), [dt(L, k) for k in ("c_ind_code", "c_indicator", "c_geo_code", "c_geo", "c_period",
                                                    "c_value", "c_numerator", "c_denominator", "c_source",
                                                    "c_kind_source", "c_note")],
               rows, [24, 26, 9, 9, 8, 12, 11, 11, 40, 12, 30])
    units = {i.name(L): i.unit(L) for i in plan.indicators}
    for row in ws.iter_rows(min_row=2):
        unit = units.get(row[1].value)
        for c in row[5:8]:
            if isinstance(c.value, (int, float)):
                # counts and sums whole, a value in its unit's decimals: "#,##0.##" showed 80 as "80."
                c.number_format = excel_format(unit) if c.column == 6 and unit else (
                    "#,##0" if float(c.value).is_integer() else "#,##0.00")

    # 说明
    ws = wb.create_sheet(dt(L, "wb_notes"))
    ws.column_dimensions["A"].width = 120
    on, risk = (thresholds.on_track, thresholds.at_risk) if thresholds is not None else (0.80, 0.40)
    notes = dt(L, "wb_notes_lines", on=round(on * 100), risk=round(risk * 100)).split("|")
    for i, line in enumerate(top + [""] + notes, start=1):
        _text(ws.cell(i, 1), line).alignment = Alignment(wrap_text=True)
    from helpers.pages.published import add_published_sheet

    add_published_sheet(wb, lang=L)  # every figure of the press release with its 来源 (pages/published.py)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


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


def _standard_sheet(sheet, plan, geos, frame, by_geo: dict, quarter, final: bool, L: str, demo: bool) -> None:
    """指标完成情况一览表 for every geography, one row per target (:mod:`helpers.pages.standard`);
    the city's published figures marked per cell, numbers kept numbers (:mod:`helpers.pages.standard_xlsx`)."""
    from helpers.pages.document.content import source_kind
    from helpers.pages.standard import YEARS, published_years, standard_header, standard_rows
    from helpers.pages.standard_xlsx import HEAD, mark_published, published_columns
    from helpers.settings import find_project_root

    root = find_project_root()  # as the 公开发布数据 sheet finds the press release (pages/published.py)
    f = frame[frame["qindex"] <= quarter.index] if "qindex" in frame.columns else frame
    rows, marked = [], []
    for g in geos.all:
        sub = f[f["geography_code"] == g.code] if not g.is_city else f
        kinds: dict = {}
        for ind_id, source in zip(sub["indicator_id"], sub["source"]):
            kinds.setdefault(ind_id, set()).add(source_kind(source, demo))
        for r in standard_rows(plan, g, geos, frame, by_geo.get(g.code, []), quarter, final, L, kinds,
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
