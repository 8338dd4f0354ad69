"""The city's published figures in the workbook's 指标完成情况一览表, marked per cell.

The Word, PDF and HTML tables write a published year as text ("5,856，当年◆2,859": the running
total the target is judged on, then the year's own figure the press release gives; "47，◆≤50": a
ceiling stays a ceiling). In Excel a text cell cannot be summed, filtered by value or charted, so
the workbook keeps each year's cell the number it is and marks it in three ways that an evaluator
working in Excel each needs:

* the cell's **number format** shows the documents' text around the number
  (``#,##0"，当年◆2,859"``): the sheet reads as the signed Word table does, while the cell's value
  stays 5856 for formulas (a format, not a value: ``=SUM`` and pivot tables see the number);
* a **cell comment** (a note, shown on hover and printed on request) with the publication's own
  words and its source, for the one cell a reviewer asks "where is this from?";
* three **columns** at the end of the row, 公开发布值（◆） (the published number itself, numeric),
  公开发布口径 (which year and measure it is: the year's own total, year-end, a ceiling) and 来源
  (publication and date): a comment cannot be filtered, sorted or copied into another table, and
  a CSV export or ``pandas.read_excel`` drops both comments and formats, so the columns carry the
  facts on their own. Filtering 来源 non-empty lists every published figure of the sheet.

Published cells are also filled light yellow, the colour the pages use for published values.
"""

from __future__ import annotations

from helpers.pages import numbers as nb

FILL = "FFF2CC"  # light yellow: a published figure (the pages' ◆ rows)
HEAD = {"zh": ("公开发布值（◆）", "公开发布口径", "来源"),
        "en": ("Published figure (◆)", "Published measure", "Source")}


def _scope(row: dict, y: int, fig: dict, lang: str) -> str:
    """Which figure the publication gives: ``2024年当年合计``, ``2024年末``, ``2024年（上限）``."""
    zh = lang == "zh"
    if row.get("cumulative"):
        text = f"{y}年当年合计" if zh else f"{y}, the year's own total"
    elif str(fig.get("period", "")).endswith("Q4"):
        text = f"{y}年末" if zh else f"end of {y}"
    else:
        text = f"{y}年" if zh else str(y)
    if fig.get("comparator") == "le":
        text += "（上限）" if zh else " (a ceiling)"
    return text


def _source(fig: dict, lang: str) -> str:
    from helpers.pages.published import source_text

    if lang == "zh":
        return source_text(fig)
    from helpers.pages.document.english import source_text_en
    from helpers.settings import find_project_root

    return source_text_en(find_project_root(), fig)  # "Press conference of …, 23 April 2025"


def published_columns(row: dict, lang: str) -> list:
    """The three cells appended to a row of :func:`helpers.pages.standard.standard_rows`:
    the published value (a number, when the row has one published year), its measure and source."""
    figs = sorted(row.get("published", {}).items())
    if not figs:
        return [None, None, None]
    value = float(figs[-1][1]["value"]) if len(figs) == 1 else None
    sep = "；" if lang == "zh" else "; "
    scope = sep.join(_scope(row, y, f, lang) + ("" if len(figs) == 1 else f" ◆{nb.fmt_number(f['value'], row['unit'])}")
                     for y, f in figs)
    return [value, scope, sep.join(dict.fromkeys(_source(f, lang) for _, f in figs))]


def _literal(text: str) -> str:
    """``text`` as a literal piece of an Excel number format (quoted; a quote cannot occur in it)."""
    return '"' + text.replace('"', "") + '"'


def year_format(row: dict, y: int, base: str, lang: str = "zh") -> str:
    """The number format of a published year's cell: ``base`` with the documents' marks around it,
    as :func:`helpers.pages.standard._year_cell` writes the cell as text."""
    fig = row["published"][y]
    u = row["unit"]
    shown = ("≤" if fig["comparator"] == "le" else "") + nb.fmt_number(fig["value"], u)
    sep = "，" if lang == "zh" else "; "
    if row.get("cumulative"):
        return base + _literal(f"{sep}{'当年' if lang == 'zh' else 'year '}◆{shown}")
    if fig["comparator"] == "eq" and nb.fmt_number(fig["value"], u) == nb.fmt_number(row["years"].get(y), u):
        return _literal("◆") + base
    return base + _literal(f"{sep}◆{shown}")


def _comment_text(row: dict, y: int, fig: dict, lang: str) -> str:
    u = row["unit"]
    shown = ("≤" if fig["comparator"] == "le" else "") + nb.fmt_number(fig["value"], u)
    value = nb.fmt_number(row["years"].get(y), u)
    if lang == "zh":
        lines = [f"◆ 公开发布：{_scope(row, y, fig, lang)} {shown}{u}", f"原文：{fig['says']}",
                 f"来源：{_source(fig, lang)}"]
        if row.get("cumulative"):
            lines.append(f"本格为按目标口径的累计值 {value}{u}（可直接计算）；发布数为当年数。")
        return "\n".join(lines)
    lines = [f"◆ Published: {_scope(row, y, fig, lang)} {shown} {u}", f"Words: {fig['says']}",
             f"Source: {_source(fig, lang)}"]
    if row.get("cumulative"):
        lines.append(f"The cell is the running total the target is judged on, {value} {u}; the figure is the year's own.")
    return "\n".join(lines)


def mark_published(ws, rows: list, first_row: int, year_cols: dict, value_col: int, lang: str) -> int:
    """Mark every published year's cell of the sheet: number format, fill and comment (see the module).

    Parameters
    ----------
    ws : openpyxl Worksheet
    rows : list of dict
        The rows of :func:`helpers.pages.standard.standard_rows`, in the order written from ``first_row``.
    year_cols : dict
        ``{year: column}`` (1-based) of the year cells.
    value_col : int
        The column of 公开发布值（◆）.
    lang : {'zh', 'en'}

    Returns
    -------
    int
        How many cells were marked.
    """
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    from helpers.pages.standard import _year_cell

    fill, n = PatternFill("solid", fgColor=FILL), 0
    for i, row in enumerate(rows, start=first_row):
        figs = row.get("published", {})
        for y, fig in figs.items():
            if y not in year_cols:
                continue
            c = ws.cell(i, year_cols[y])
            if isinstance(c.value, (int, float)):
                c.number_format = year_format(row, y, nb.excel_format(row["unit"]), lang)
            else:  # no number to keep: the documents' text itself
                c.value = _year_cell(row, y, lang)
            c.fill = fill
            c.comment = Comment(_comment_text(row, y, fig, lang), "ipeval", width=320, height=120)
            n += 1
        if len(figs) == 1:
            fig = next(iter(figs.values()))
            v = ws.cell(i, value_col)
            v.number_format = _literal("◆" + ("≤" if fig["comparator"] == "le" else "")) + nb.excel_format(row["unit"])
            v.fill = fill
    return n
