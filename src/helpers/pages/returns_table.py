"""The index's table of district returns: which are in, late or missing for the run's quarter.

The cells come from :func:`helpers.run.returns.returns_status` as plain dicts (this stage does not
import ``run/``); the table is the same one ``ipeval status`` prints, one row per district and
one column per section.
"""

from __future__ import annotations

import html

_COLOURS = {"in": "#d4edda", "late": "#fff3cd", "partial": "#ffe0b2", "missing": "#f8d7da", "pending": "#f5f5f5"}
_NAMES = {
    "zh": {"in": "已报", "late": "逾期已报", "partial": "部分缺报", "missing": "未报", "pending": "未到期",
           "title": "区县报表报送情况（{q}，截止{due}）", "district": "区县",
           "note": "本次评估时尚未报齐的区县：{names}。其结论基于不完整的数据。", "all": "本季度各区县报表均已报齐。"},
    "en": {"in": "in", "late": "late", "partial": "partial", "missing": "missing", "pending": "not yet due",
           "title": "District returns ({q}, due {due})", "district": "district",
           "note": "Returns not complete at this run: {names}. Their results rest on incomplete data.",
           "all": "Every district's return for this quarter is in."},
}


def returns_html(cells: list[dict], plan, geos, lang: str = "zh") -> str:
    """An HTML block: the returns of one quarter by district and section, coloured by state."""
    if not cells:
        return ""
    n = _NAMES[lang]
    esc = html.escape
    from helpers.pages.notes import date_label, quarter_label

    # a Chinese reader's quarter and date (2025年第四季度，截止2026年1月15日), as on the rest of the index
    q, due = quarter_label(cells[0]["quarter"], lang), date_label(cells[0]["deadline"], lang)
    by = {(c["geography_code"], c["section"]): c for c in cells}
    sections = [s for s in plan.sections if any(k[1] == s.id for k in by)]
    head = "".join(f"<th>{esc(s.name(lang))}</th>" for s in sections)
    rows, late = [], []
    for g in geos.districts:
        tds = []
        for s in sections:
            c = by.get((g.code, s.id))
            if c is None:
                tds.append("<td>—</td>")
                continue
            tip = esc(", ".join(c["missing"]) or ", ".join(c["files"]))
            tds.append(f'<td style="background:{_COLOURS[c["status"]]}" title="{tip}">{esc(n[c["status"]])}</td>')
            if c["status"] in ("missing", "partial", "pending") and g.name(lang) not in late:
                late.append(g.name(lang))
        rows.append(f"<tr><th>{esc(g.name(lang))}</th>{''.join(tds)}</tr>")
    note = n["note"].format(names=("、" if lang == "zh" else ", ").join(late)) if late else n["all"]
    return (f'<section class="ipeval-returns"><h2>{esc(n["title"].format(q=q, due=due))}</h2>'
            f"<p>{esc(note)}</p><table><thead><tr><th>{esc(n['district'])}</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></section>\n")
