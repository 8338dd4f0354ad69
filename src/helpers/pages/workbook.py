"""The workbook ``assessments.xlsx`` (openpyxl): what a reader opens in Excel.

Sheets 摘要 (counts per geography and status), 指标评估 (every row with labels, the clause
verbatim and the verdict), 区县比较 (districts ranked with uncertainty), 数据 (the validated data
with sources) and 说明. Codes are shown by their labels in the workbook's language; the
machine-read ``assessments.csv`` keeps the codes. Frozen headers, filters, number formats and
column widths on every table sheet.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.files import (
    safe_cell as _safe,  # a text cell Excel will not run as a formula
)
from helpers.i18n import DECIDED_BY, SDG_NAMES, STATUS_COLOURS, STATUS_NAMES, dt


def note_label(note: str, lang: str) -> str:
    """The assessment's note (written in English by :mod:`helpers.model.assess`) in ``lang``."""
    if lang != "zh" or not note:
        return note or ""
    out = []
    for part in str(note).split("; "):
        m = re.fullmatch(r"target missed in ([0-9, ]+)", part)
        m2 = re.fullmatch(r"target not met by (\S+)", part)
        m3 = re.fullmatch(r"(\d+) observations \(< (\d+)\): rule-based layer only", part)
        if m:
            out.append(dt(lang, "n_missed_in", years=m.group(1)))
        elif m2:
            out.append(dt(lang, "n_not_met_by", q=m2.group(1)))
        elif m3:
            out.append(dt(lang, "n_rules_only", n=m3.group(1), m=m3.group(2)))
        elif part == "no data":
            out.append(dt(lang, "n_no_data"))
        elif part.startswith("target set for the city as a whole"):
            out.append(dt(lang, "n_city_whole"))
        else:
            out.append(part)
    return "；".join(out)


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
            ws.cell(r0, 1, _safe(line)).font = Font(bold=True, color="9C5700" if line is not top[0] else "000000")
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
                c = ws.cell(i, j, _safe(_num(v)))
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
           dt(L, "wb_quarter", quarter=quarter)] + ([dt(L, "wb_demo")] if demo else [])

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
                     r.get("latest_value"), r.get("progress_value"), r.get("gap"), r.get("probability"),
                     r.get("forecast_median"), r.get("forecast_lo80"), r.get("forecast_hi80"), status,
                     SDG_NAMES[L].get(r.get("sdg_category"), r.get("sdg_category")) if ind.target else "—",
                     DECIDED_BY[L].get(r.get("decided_by") or "", r.get("decided_by")),
                     r.get("models_used") or "", r.get("n_obs"), note_label(r.get("note") or "", L)])
    header = [dt(L, k) for k in ("c_section", "c_geo_code", "c_geo", "c_ind_code", "c_indicator", "c_unit",
                                 "c_clause_ref", "c_clause", "c_kind", "c_direction", "c_target", "c_due",
                                 "c_latest_period", "c_latest", "c_progress", "c_gap", "c_probability", "c_median",
                                 "c_lo80", "c_hi80", "c_status", "c_sdg", "c_decided", "c_models", "c_nobs", "c_note")]
    fmt = {j: "#,##0.##" for j in (11, 14, 15, 16, 18, 19, 20)}
    fmt[17] = "0%"
    ws = sheet(dt(L, "wb_assessments"), header, rows,
               [14, 9, 9, 22, 26, 9, 8, 48, 10, 8, 10, 8, 9, 11, 11, 10, 9, 11, 10, 10, 12, 14, 16, 18, 7, 30],
               formats=fmt, status_col=21)
    for row in ws.iter_rows(min_row=2, min_col=8, max_col=8):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")

    # 区县比较
    rank = district_ranking(by_geo, geos)
    rows = [[int(r.rank), r.geography_code, names[r.geography_code], int(r.n), r.good / r.n if r.n else None,
             float(r.expected), int(r.rank_lo), int(r.rank_hi)] for r in rank.itertuples()]
    sheet(dt(L, "wb_districts"), [dt(L, k) for k in ("c_rank", "c_geo_code", "c_geo", "c_judged", "c_good",
                                                    "c_expected", "c_rank_lo", "c_rank_hi")],
          rows, [7, 10, 14, 12, 14, 12, 14, 14], formats={5: "0%", 6: "0.0"})

    # 数据
    inds = {i.id: i for i in plan.indicators}
    kinds = {"demo": dt(L, "demo_source"), "real": dt(L, "real_source"), "reported": dt(L, "reported_source")}
    f = frame[frame["qindex"] <= quarter.index] if "qindex" in frame.columns else frame
    rows = [[r.indicator_id, inds[r.indicator_id].name(L) if r.indicator_id in inds else "", r.geography_code,
             names.get(r.geography_code, ""), str(r.period), _num(r.value), _num(r.numerator), _num(r.denominator),
             r.source, kinds[source_kind(r.source, demo)], r.note if isinstance(r.note, str) else ""]
            for r in f.itertuples(index=False)]
    sheet(dt(L, "wb_data"), [dt(L, k) for k in ("c_ind_code", "c_indicator", "c_geo_code", "c_geo", "c_period",
                                               "c_value", "c_numerator", "c_denominator", "c_source",
                                               "c_kind_source", "c_note")],
          rows, [24, 26, 9, 9, 8, 12, 11, 11, 40, 12, 30], formats={6: "#,##0.##", 7: "#,##0.##", 8: "#,##0.##"})

    # 说明
    ws = wb.create_sheet(dt(L, "wb_notes"))
    ws.column_dimensions["A"].width = 120
    on, risk = (thresholds.on_track, thresholds.at_risk) if thresholds is not None else (0.80, 0.40)
    notes = dt(L, "wb_notes_lines", on=round(on * 100), risk=round(risk * 100)).split("|")
    for i, line in enumerate(top + [""] + notes, start=1):
        ws.cell(i, 1, _safe(line)).alignment = Alignment(wrap_text=True)
    from helpers.pages.published import add_published_sheet

    add_published_sheet(wb, lang=L)  # every figure of the press release with its 来源 (pages/published.py)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
