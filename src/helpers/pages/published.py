"""Published figures where they apply: the HTML pages, the Word/PDF documents and the workbook.

The figures and their rules are in :mod:`helpers.data.press_figures`. Here they become what a
reader sees: ◆ before a figure taken from a publication, ``≤50日`` for a ceiling, the growth rate
the publication gives instead of one computed from generated data, a paragraph of context per
section, the list in 附件2 and a 来源 text per workbook row.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape as _e
from pathlib import Path

from helpers.data.press_figures import MARK, city_values, figure_text, press_figures, published_date_zh
from helpers.pages.notes import quarter_label


@lru_cache(maxsize=4)
def _figures(root: str):
    return press_figures(Path(root))


def figures(root) -> list[dict]:
    """Every published figure under the project folder ``root``, as dicts."""
    return _figures(str(root)).to_dict("records")


def source_text(r: dict) -> str:
    """``杭州市人民政府新闻办公室新闻发布会（2025年4月23日）``."""
    return f"{r['publication']}（{published_date_zh(r['published'])}）"


def city_figure(root, indicator_id: str, period: str) -> dict | None:
    """The published figure that is the city's value of ``indicator_id`` in ``period`` (None if none)."""
    return city_values(_figures(str(root))).get((indicator_id, str(period)))


def value_cell(root, indicator_id: str, period: str, shown: str) -> str:
    """A published value as a page shows it: ``≤50`` for a ceiling (the release says 50日内), else ``shown``."""
    r = city_figure(root, indicator_id, period)
    return f"≤{shown}" if r is not None and r["comparator"] == "le" else shown


def published_growth(root, indicator_id: str, geography_code: str, year: int) -> float | None:
    """The year-on-year growth (a fraction) a publication gives for the city, e.g. 0.553 for 55.3%."""
    if geography_code != "330100":
        return None
    for r in figures(root):
        if (r["indicator_id"] == indicator_id and r["period"] == str(year) and r["use"] == "context"
                and r["unit_zh"] == "%" and "同比" in r["says"]):
            return r["value"] / 100
    return None


def section_figures(root, section: str) -> list[dict]:
    """The published figures of a plan section (city values and context), in the file's order."""
    return [r for r in figures(root) if r["section"] == section]


def context_sentence(root, section: str) -> str:
    """One paragraph of a section's published figures, each with its words and number (zh)."""
    rows = section_figures(root, section)
    if not rows:
        return ""
    seen, parts = set(), []
    for r in rows:
        if r["says"] not in seen:
            seen.add(r["says"])
            parts.append(r["says"].replace(",", "，"))
    return f"{MARK} 公开发布数据：" + "；".join(parts) + f"（{source_text(rows[0])}）。"


def context_html(root, section: str, lang: str = "zh") -> str:
    """The section's published figures as an HTML table (city pages): figure, period, use, words, source."""
    rows = section_figures(root, section)
    if not rows:
        return ""
    use = {"city_value": "全市数值" if lang == "zh" else "city value", "context": "背景数据" if lang == "zh" else "context"}
    head = ["数值", "期别", "用途", "原文", "来源"] if lang == "zh" else ["Figure", "Period", "Use", "Words", "Source"]
    body = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in (
            f'<span class="ipeval-published">{MARK} {_e(_figure(r, lang))}</span>', _e(quarter_label(r["period"], lang)),
            _e(use[r["use"]]), *_words_source(root, r, lang))) + "</tr>" for r in rows)
    title = "公开发布数据（全部）" if lang == "zh" else "Published figures (all)"
    return (f"<h3>{_e(title)}</h3><table class=\"ipeval-analysis ipeval-text\"><thead><tr>"
            + "".join(f"<th>{_e(h)}</th>" for h in head) + f"</tr></thead><tbody>{body}</tbody></table>")


def _figure(r: dict, lang: str) -> str:
    """``≤50日`` (zh); ``≤50`` in English, whose words say what it counts."""
    if lang == "zh":
        return figure_text(r)
    from helpers.pages.document.english import figure_number

    return figure_number(r)


def _words_source(root, r: dict, lang: str) -> tuple[str, str]:
    """The words and the source of a figure, escaped for HTML: the publication's (zh), ours in English (en)."""
    if lang == "zh":
        return _e(r["says"]), _e(source_text(r))
    from helpers.pages.document import english as en

    return _e(en.words_en(root, r)), _e(en.source_text_en(root, r))


def annex_rows(root) -> list[list[str]]:
    """附件2's list of published figures: 序号, 数值, 期别, 用途, 原文, 来源."""
    use = {"city_value": "作为全市数值", "context": "作为背景"}
    return [[str(k), f"{MARK}{figure_text(r)}", quarter_label(r["period"], "zh"), use[r["use"]], r["says"].replace(",", "，"),
             source_text(r)] for k, r in enumerate(figures(root), start=1)]


def add_published_figures(doc, tables, geo_code: str, lang: str = "zh"):
    """Put the published figures into a document: context after each section's table (the city's
    report) and the full list after 附件2's heading (every report). Returns ``doc``."""
    from helpers.i18n import dt
    from helpers.pages.document.blocks import Heading, Para, Table

    root = tables.settings.root
    sections = {s.id for s in tables.plan.sections}
    if not any(r["section"] in sections for r in figures(root)):
        return doc  # a publication of another plan (the Hangzhou press release in the national plan's report)
    from helpers.pages.document import english as en  # the same figures in English

    zh = lang == "zh"
    blocks = doc.blocks
    if geo_code == tables.geos.city.code:
        for sec in tables.plan.sections:
            text = context_sentence(root, sec.id) if zh else en.context_sentence_en(root, sec.id)
            head = next((k for k, b in enumerate(blocks) if isinstance(b, Heading) and b.level == 2
                         and b.text.endswith(sec.name(lang))), None)
            if not text or head is None:
                continue
            after = next((k for k in range(head + 1, len(blocks)) if isinstance(blocks[k], (Table, Heading))), head)
            at = after + 1 if isinstance(blocks[after], Table) else head + 1
            blocks.insert(at, Para(text))
    annex = next((k for k, b in enumerate(blocks) if isinstance(b, Heading) and b.text == dt(lang, "h_annex_sources")), None)
    if annex is not None:
        note = Para("下表列出2025年4月23日新闻发布会公布的全部数值（◆）：作为全市数值的，报告中以◆标注并取代生成数据；"
                    "作为背景的，在相应领域列示，不参与判定。“≤”表示发布的是上限（如“50日内”）。" if zh else en.ANNEX_NOTE,
                    "note")
        from helpers.pages.document.tasks import _shift_caption

        first = next((k for k in range(annex + 1, len(blocks)) if isinstance(blocks[k], Table)), annex)
        n = sum(1 for b in blocks[:first + 1] if isinstance(b, Table) and b.caption) + 1
        for b in blocks[first + 1:]:
            if isinstance(b, Table) and b.caption:
                b.caption = _shift_caption(b.caption, 1)
        table = Table(["序号", "数值", "期别", "用途", "原文", "来源"] if zh else en.ANNEX_HEAD,
                      annex_rows(root) if zh else en.annex_rows_en(root), [8, 22, 26, 16, 50, 34],
                      caption=dt(lang, "table_caption", n=n, name="公开发布数据一览" if zh else en.ANNEX_NAME),
                      font_size=8, align=["C", "R", "C", "C", "L", "L"])
        # after 附件2's own table of sources (the annex's first table), before whatever follows it
        at = next((k + 1 for k in range(annex + 1, len(blocks)) if isinstance(blocks[k], Table)), annex + 1)
        blocks[at:at] = [note, table]
    return doc


def add_published_sheet(wb, root=None, lang: str = "zh") -> None:
    """Append the sheet 公开发布数据 (en: Published) to the workbook: every published figure with its 来源."""
    from openpyxl.styles import Alignment, Font

    from helpers.settings import find_project_root

    rows = figures(root or find_project_root())
    if not rows:
        return
    zh = lang == "zh"
    ws = wb.create_sheet("公开发布数据" if zh else "Published")
    use = {"city_value": "全市数值" if zh else "city value", "context": "背景" if zh else "context"}
    head = (["序号", "指标代码", "数值", "期别", "用途", "原文", "来源"] if zh
            else ["No.", "Indicator code", "Figure", "Period", "Use", "Words (Chinese)", "Source",
                  "Words (our translation)"])
    for j, (h, w) in enumerate(zip(head, [6, 26, 14, 9, 9, 60, 40, 60]), start=1):
        ws.cell(1, j, h).font = Font(bold=True)
        ws.column_dimensions[chr(64 + j)].width = w
    from helpers.pages.document import english as en

    here = root or find_project_root()
    for i, r in enumerate(rows, start=2):
        # English: the press release's name in English, our translation of its words in a last column
        extra = [] if zh else [en.source_text_en(here, r), en.words_en(here, r)]
        for j, v in enumerate([i - 1, r["indicator_id"] or "—", f"{MARK}{_figure(r, lang)}", r["period"],
                               use[r["use"]], r["says"], *([source_text(r)] if zh else extra)], start=1):
            ws.cell(i, j, v).alignment = Alignment(wrap_text=j in (6, 8), vertical="top")
    ws.freeze_panes = "A2"
