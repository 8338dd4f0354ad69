"""The page's published figures (a publication's values with their source and words): a part of every
section page, :func:`published_figures`; apart from :mod:`helpers.pages.sections` for its size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.i18n import t
from helpers.pages.context import ReportContext
from helpers.pages.display import _display_html, _e, _fmt
from helpers.pages.notes import dates_in_text
from helpers.pages.stage import period_label


def _published_here(ctx: ReportContext) -> pd.DataFrame:
    """The published figures of this page's indicators for this geography, known at the quarter."""
    p = ctx.published
    if p is None or not len(p):
        return pd.DataFrame(columns=["indicator_id", "period", "value", "source", "note"])
    from helpers.pages.charts import _period_index

    ids = {i.id for i in ctx.indicators}
    p = p[p["indicator_id"].isin(ids) & (p["geography_code"] == ctx.geography.code)]
    return p.loc[np.array([_period_index(x) <= ctx.quarter.index for x in p["period"]], dtype=bool)]


def published_figures(ctx: ReportContext) -> None:
    """The page's figures that come from a publication, with their source (real, not generated)."""
    from helpers.pages.published import context_html, value_cell

    p = _published_here(ctx)
    if p.empty:
        return
    L = ctx.lang
    out = [f"<h2>{_e(t(L, 'published_title'))}</h2><p>{_e(t(L, 'published_note'))}</p>",
           '<table class="ipeval-analysis ipeval-text"><thead><tr>']
    out += [f"<th>{_e(t(L, k))}</th>" for k in ("indicator", "period", "published_value", "source", "published_says")]
    out.append("</tr></thead><tbody>")
    for _, r in p.iterrows():
        ind = ctx.plan.indicator(r["indicator_id"])
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in [
            _e(ind.name(L)), _e(period_label(r["period"], L)),
            f'<span class="ipeval-published">◆ {_e(value_cell(ctx.settings.root, r["indicator_id"], r["period"], _fmt(r["value"], 1)))} {_e(ind.unit(L))}</span>',
            *_source_words(ctx, r)]) + "</tr>")
    out.append("</tbody></table>")
    if ctx.geography.is_city:  # every figure of the press release for this section (pages/published.py)
        out.append(context_html(ctx.settings.root, ctx.section, L))
    _display_html("".join(out))


def _source_words(ctx: ReportContext, r) -> list[str]:
    """A published value's source and wording, escaped: as filed (zh); in English the press release's
    name and our translation of its words when the figure is one of the release's."""
    from helpers.pages.published import city_figure

    fig = None if ctx.lang == "zh" else city_figure(ctx.settings.root, r["indicator_id"], str(r["period"]))
    if fig is None and ctx.lang == "zh":
        return [_e(dates_in_text(r["source"], "zh")), _e(r["says"])]  # 2025年4月23日, never 2025-04-23
    if fig is None:  # a publication we keep no translation of: its Chinese quoted, our remark after it
        remark = f" ({r['remark']})" if r.get("remark") else ""
        return [_e(_quoted(r["source"])), _e(_quoted(r["says"]) + remark)]
    from helpers.pages.document import english as en

    remark = f" ({r['remark']})" if r.get("remark") else ""  # our remark on the figure, in English
    return [_e(en.source_text_en(ctx.settings.root, fig)), _e(en.words_en(ctx.settings.root, fig) + remark)]


def _quoted(text: str) -> str:
    """Chinese text quoted for an English page (“…”); text without Chinese as it is."""
    return f"“{text}”" if any("\u3400" <= ch <= "\u9fff" for ch in str(text)) else str(text)
