"""The assessment report of one geography as blocks (:mod:`.blocks`), from the run's tables as its
overview report input names them (:mod:`.source`).

Structure, as Chinese evaluation reports are written: cover; 一、总体情况; 二、分领域评估 (one
chapter per section: table, sentences, charts); 三、区县比较; 四、存在问题与建议; 附件 (targets with
the plan's text verbatim, data sources, method and calibration).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.series import indicator_series
from helpers.i18n import dt
from helpers.pages.document import english as en
from helpers.pages.document import narrative as nv
from helpers.pages.document.blocks import Cover, Document, Heading, Image, PageBreak, Para, Table, Toc
from helpers.pages.document.parts import method_annex, source_kind, standard_table
from helpers.pages.document.source import RANK_DRAWS, RunTables
from helpers.pages.notes import date_label, dates_in_text, models_label, quarter_label
from helpers.plan.tasks import ref_en

TEXT_WIDTH_MM = 156  # A4 210 mm less the GB/T 9704 margins (left 28, right 26)


# --------------------------------------------------------------------------- helpers

def _status_cell(v, lang):
    return nv.verdict_label(v, lang) if v else "—"


def _target_text(ind, lang, city_prefix=False) -> str:
    if ind.target is None:
        return "—"
    text = f"{ind.target.symbol}{nv.num(ind.target.value, unit=ind.unit(lang))}{ind.unit(lang) if lang == 'zh' else ' ' + ind.unit(lang)}"
    return ("全市 " if lang == "zh" else "city ") + text if city_prefix else text


class _Counter:
    """Numbers tables and figures as the document goes."""

    def __init__(self):
        self.table = 0
        self.figure = 0

    def next_table(self) -> int:
        self.table += 1
        return self.table

    def next_figure(self) -> int:
        self.figure += 1
        return self.figure


# --------------------------------------------------------------------------- the document

def build_document(tables: RunTables, geo_code: str, lang: str = "zh", charts: dict | None = None) -> Document:
    """The report of one geography as a :class:`Document`.

    Parameters
    ----------
    tables : RunTables
        Loaded through the geography's overview report input (:func:`.source.document_inputs`).
    geo_code : str
        The city (330100) or a district.
    lang : {'zh', 'en'}
    charts : dict, optional
        ``{(indicator_id, geography_code): png}``; indicators without one get no picture.
    """
    plan, geo = tables.plan, tables.geos.get(geo_code)
    records = tables.records.get(geo.code, [])
    sources = tables.source_counts
    if not geo.is_city:  # the city's figures are built from every district's rows
        sources = sources[sources["geography_code"] == geo.code]
    n_real = int(sources.loc[[source_kind(s, tables.demo) == "real" for s in sources["source"]], "n"].sum())
    kind = dt(lang, "kind_final" if tables.final else "kind_mid")
    counter = _Counter()  # tables and figures are numbered in the order the steps below place them
    by_id = {r["indicator_id"]: r for r in records}
    blocks: list = [_cover(tables, geo, lang, kind, n_real), Toc(dt(lang, "toc")), PageBreak()]
    blocks += _overall(tables, geo, records, lang, counter, n_real)  # 一、总体情况
    blocks += _by_section(tables, geo, by_id, lang, counter, charts or {})  # 二、分领域评估
    blocks += [Heading(dt(lang, "h_districts"), 1), *_districts(tables, geo, lang, counter)]  # 三、区县比较
    blocks += _problems(tables, geo, records, lang)  # 四、存在问题与建议
    blocks += _annex(tables, by_id, sources, lang, counter)  # 附件
    return Document(blocks, header=_running_header(plan, lang), lang=lang,
                    title=f"{plan.title(lang)} {dt(lang, 'doc_title', geo=geo.name(lang), kind=kind)}")


def _overall(tables: RunTables, geo, records: list, lang: str, counter, n_real: int) -> list:
    """一、总体情况: the verdicts counted, the standard table, the findings."""
    judged = [r for r in records if nv.verdict(r) is not None]
    counts = nv.count_verdicts(judged)
    n = sum(counts.values())
    blocks: list = [Heading(dt(lang, "h_overall"), 1)]
    blocks.append(Table([dt(lang, "status_col"), dt(lang, "count_col"), dt(lang, "share_col")],
                        [[nv.verdict_label(v, lang), str(c), f"{nv.pct(c / n)}%" if n else "—"] for v, c in counts.items()
                         if not tables.final or c or v in ("achieved", "missed")],  # final: no "按计划推进 0"
                        [60, 40, 40], caption=dt(lang, "table_caption", n=counter.next_table(),
                                                 name=dt(lang, "c_counts")),
                        align=["L", "R", "R"]))
    blocks += standard_table(tables, geo, records, lang, counter)
    blocks.append(Para(dt(lang, "findings_intro")))
    blocks += [Para(s, "bullet") for s in nv.findings(tables.plan, geo, records, tables.quarter, lang, n_real,
                                                      tables.demo)]
    return blocks


def _by_section(tables: RunTables, geo, by_id: dict, lang: str, counter, charts: dict) -> list:
    """二、分领域评估: per section of the plan, its summary, table, one sentence per target, charts."""
    plan, q = tables.plan, tables.quarter
    blocks: list = [Heading(dt(lang, "h_sections"), 1)]
    city_progress = {r["indicator_id"]: r["progress_value"] for r in tables.records.get(tables.geos.city.code, [])}
    for n_sec, sec in enumerate(plan.sections, start=1):
        inds = [i for i in plan.indicators_in(sec.id) if i.id in by_id]
        if not inds:
            continue
        blocks.append(Heading(dt(lang, "section_heading", n=_chinese_number(n_sec) if lang == "zh" else n_sec,
                                 name=sec.name(lang)), 2))
        part_judged = [by_id[i.id] for i in inds if nv.verdict(by_id[i.id]) is not None]
        if part_judged:
            blocks.append(Para(nv.counts_sentence("sec_summary", lang, nv.count_verdicts(part_judged), tables.final,
                                                  n=len(part_judged), geo=geo.name(lang))))
        else:
            blocks.append(Para(dt(lang, "sec_none", geo=geo.name(lang))))
        blocks.append(_section_table(inds, by_id, lang, sec.name(lang), counter, tables.final))
        for ind in inds:
            blocks.append(Para(nv.indicator_sentence(ind, by_id[ind.id], lang, city_progress.get(ind.id, np.nan)),
                               "bullet"))
        for ind in inds:
            png = charts.get((ind.id, geo.code))
            if png:
                blocks.append(Image(str(png), dt(lang, "chart_caption", n=counter.next_figure(), name=ind.name(lang),
                                                 geo=geo.name(lang), quarter=quarter_label(q, lang)),
                                    width_mm=TEXT_WIDTH_MM))  # full width: legends >= 8 pt (plots.PRINT_PT)
    return blocks


def _problems(tables: RunTables, geo, records: list, lang: str) -> list:
    """四、存在问题与建议: the targets missed or at risk, least likely first, each with a recommendation."""
    blocks: list = [Heading(dt(lang, "h_problems"), 1)]
    problems = [r for r in records if nv.verdict(r) in nv.PROBLEMS]
    problems.sort(key=lambda r: (r["probability"] if np.isfinite(r["probability"]) else 0.0, r["indicator_id"]))
    if tables.final:  # every probability is 0 once due: the largest shortfall first, as 主要结论 names it
        problems.sort(key=lambda r: (_achieved_share(tables.plan.indicator(r["indicator_id"]), r), r["indicator_id"]))
    if not problems:
        return blocks + [Para(dt(lang, "p_none"))]
    blocks.append(Para(dt(lang, "p_intro_final" if tables.final else "p_intro")))
    for k, r in enumerate(problems, start=1):
        ind = tables.plan.indicator(r["indicator_id"])
        series = indicator_series(tables.series, ind, geo, tables.geos, tables.quarter)
        problem, rec = nv.problem_sentence(ind, r, series, lang, final=tables.final)
        blocks.append(Para(f"{k}. {problem}"))
        blocks.append(Para(rec, "note"))
    return blocks


def _annex(tables: RunTables, by_id: dict, sources: pd.DataFrame, lang: str, counter) -> list:
    """附件: the targets with the plan's clauses verbatim, the data sources, the method."""
    plan = tables.plan
    shown = [i for i in plan.indicators if i.id in by_id]
    blocks: list = [PageBreak(), Heading(dt(lang, "h_annex"), 1), Heading(dt(lang, "h_annex_targets"), 2),
                    Para(dt(lang, "a_targets_intro", title=plan.title(lang),
                            number=en.document_number(plan.meta, lang, beside=True)), "note")]
    zh = lang == "zh"  # English: clause numbers in Arabic numerals, the plan's words quoted beside the English name
    blocks.append(Table([dt(lang, "t_indicator"), dt(lang, "t_ref"), dt(lang, "t_target"), dt(lang, "t_clause")],
                        [[i.name(lang), i.clause_ref if zh else ref_en(i.clause_ref),
                          _target_text(i, lang) + ((f"（{_due_label(i.target.due, lang)}）" if zh
                                                    else f" ({_due_label(i.target.due, lang)})") if i.target else ""),
                          i.clause_text if zh else f"“{i.clause_text}”"] for i in shown],
                        [34, 18, 26, 78], caption=dt(lang, "table_caption", n=counter.next_table(),
                                                     name=dt(lang, "c_targets")),
                        font_size=8))
    blocks.append(Heading(dt(lang, "h_annex_sources"), 2))
    blocks.append(Para(dt(lang, "a_sources_intro"), "note"))
    blocks.append(_sources_table(tables, shown, sources, lang, counter))
    blocks.append(Heading(dt(lang, "h_annex_method"), 2))
    return blocks + method_annex(tables, lang)


def _running_header(plan, lang: str) -> str:
    """The header of every page but the cover; a plan without a validity of its own (the national
    plan) has none in it."""
    title, meta = plan.title(lang), plan.meta
    number = en.document_number(meta, lang)
    if meta.get("in_force_until"):
        return dt(lang, "page_header", title=title, number=number, end=date_label(meta["in_force_until"], lang))
    return f"{title} · {number}"


def _chinese_number(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)


def _cover(tables: RunTables, geo, lang: str, kind: str, n_real: int) -> Cover:
    from helpers import __version__

    meta, q = tables.plan.meta, tables.quarter
    lines = [dt(lang, "cover_doc_number", number=en.document_number(meta, lang, beside=True) or "—"),
             dt(lang, "cover_issuer", issuer=meta.get(f"issuer_{lang}", meta.get("issuer_zh", "—"))),
             *([dt(lang, "cover_validity", start=date_label(meta.get("in_force_from", "—"), lang),
                   end=date_label(meta["in_force_until"], lang))]
               if meta.get("in_force_until") else []),
             dt(lang, "cover_quarter", quarter=quarter_label(q, lang), end=date_label(q.end_date.isoformat(), lang)),
             dt(lang, "cover_method_final") if tables.final else
             dt(lang, "cover_method_ran", names=models_label(",".join(
                 c for c in _engines(tables) if c), lang)),
             dt(lang, "cover_produced", version=__version__, run_id=tables.run_id, date=date_label(tables.produced, lang))]
    warning = ""
    if tables.demo:
        warning = dt(lang, "cover_data_demo", n_real=n_real) if n_real else dt(lang, "cover_data_demo_only")
    else:
        lines.insert(4, dt(lang, "cover_data_real"))
    return Cover(tables.plan.title(lang), dt(lang, "doc_title", geo=geo.name(lang), kind=kind), lines, warning)


def _section_table(inds, by_id, lang, name, counter, final: bool = False) -> Table:
    """One section's targets: the measure each is judged on (never a lone quarter), the target and
    the verdict; the probability only mid-term, and never on a row shown for reference."""
    keys = ["t_indicator", "t_current_final" if final else "t_current", "t_target", "t_due"] + ([] if final else ["t_probability"]) + ["t_status"]
    head = [dt(lang, k) for k in keys]
    body = []
    for ind in inds:
        r = by_id[ind.id]
        p = r.get("probability", np.nan)
        v = nv.verdict(r)
        unit = ind.unit(lang)
        status = _status_cell(v, lang) if v else nv.STATUS_NAMES[lang].get(r["status"], r["status"])
        progress = r.get("progress_value", np.nan)
        shown = progress if isinstance(progress, float) and np.isfinite(progress) else r.get("latest_value")
        cells = [ind.name(lang), f"{nv.num(shown, unit=unit)}{unit if lang == 'zh' else ' ' + unit}",
                 _target_text(ind, lang, r.get("status") in ("city_target", "reference")),
                 _due_label(ind.target.due, lang) if ind.target else "—"]
        if not final:
            cells.append(f"{nv.pct(p)}%" if np.isfinite(p) and v not in (None, "achieved", "missed") else "—")
        body.append(cells + [status])
    widths = [50, 32, 32, 16, 26] if final else [42, 28, 30, 16, 14, 26]
    return Table(head, body, widths, caption=dt(lang, "table_caption", n=counter.next_table(), name=name),
                 font_size=8.5, align=["L", "R", "L", "C"] + ([] if final else ["R"]) + ["C"])


def _achieved_share(ind, r: dict) -> float:
    """The share of a target achieved (1.0 when it cannot be computed): 3 of ≥4 is 0.75, 46 days
    against ≤50 is 1.09."""
    v = r.get("progress_value", np.nan)
    t = ind.target.value if ind.target else np.nan
    if not (isinstance(v, float) and np.isfinite(v) and v > 0 and t > 0):
        return 1.0
    return v / t if ind.target.direction == "at_least" else t / v


def _due_label(due, lang: str) -> str:
    """A due quarter as the plan dates it: 到2025年 is the year's end, written 2025年."""
    return quarter_label(due.year if due.q == 4 else due, lang)


def _engines(tables) -> list:
    from helpers.pages.notes import engines_used

    return engines_used(tables.table)


def _districts(tables: RunTables, geo, lang: str, counter) -> list:
    final = tables.final  # a final report speaks of completion: no rank intervals
    out: list = [Para(dt(lang, "d_intro_final") if final else dt(lang, "d_intro", draws=RANK_DRAWS))]
    rank = tables.ranking
    names = {g.code: g.name(lang) for g in tables.geos.all}
    if len(rank):
        body = [[str(r.rank), names[r.geography_code], str(r.n), f"{nv.pct(r.good / r.n) if r.n else '—'}%",
                 str(int(round(r.expected))) if final else nv.num(r.expected)] + ([] if final else [f"{r.rank_lo}—{r.rank_hi}"]) for r in rank.itertuples()]
        here = [k for k, r in enumerate(rank.itertuples()) if r.geography_code == geo.code]
        keys = (("t_rank", "t_district", "t_targets", "t_share_done", "t_done") if final else
                ("t_rank", "t_district", "t_targets", "t_share_good", "t_expected", "t_rank80"))
        out.append(Table([dt(lang, k) for k in keys], body, [20, 40, 30, 36, 30] if final else [14, 32, 24, 30, 26, 30],
                         caption=dt(lang, "table_caption", n=counter.next_table(),
                                    name=dt(lang, "c_ranking_final" if final else "c_ranking")),
                         align=["C", "L", "R", "R", "R", "C"][:len(keys)], highlight_rows=here))
        first, last = rank.iloc[0], rank.iloc[-1]
        if final:  # equal shares share a rank: name every district at the top and the bottom
            top = [names[c] for c in rank.loc[rank["rank"] == first["rank"], "geography_code"]]
            bottom = [names[c] for c in rank.loc[rank["rank"] == last["rank"], "geography_code"]]
        else:
            top, bottom = [names[first.geography_code]], [names[last.geography_code]]
        out.append(Para(dt(lang, "d_top_final" if final else "d_top", first=nv.tied_names(top, lang),
                           share=nv.pct(first.share), last=nv.tied_names(bottom, lang), lshare=nv.pct(last.share))))
        if here:
            r = rank.iloc[here[0]]
            others = int((rank["rank"] == r["rank"]).sum()) - 1  # 与另外10个区县并列, not a lone 第1位
            out.append(Para(dt(lang, "d_here_final_tied" if others else "d_here_final", geo=geo.name(lang),
                               rank=int(r["rank"]), others=others) if final else
                            dt(lang, "d_here", geo=geo.name(lang), rank=int(r["rank"]), lo=int(r.rank_lo),
                               hi=int(r.rank_hi))))
    # the targets that bind districts: district rows judged on their own
    by_ind: dict = {}
    for g in tables.geos.districts:
        for r in tables.records.get(g.code, []):
            by_ind.setdefault(r["indicator_id"], []).append(nv.verdict(r))
    body = []
    shown = [ind for ind in tables.plan.targets if any(by_ind.get(ind.id, []))]
    verdicts: tuple[str, ...] = nv.VERDICTS
    if final:  # no 按计划推进/存在风险 columns of zeros once every target is due
        seen = {v for ind in shown for v in by_ind[ind.id]}
        verdicts = tuple(v for v in nv.VERDICTS if v in ("achieved", "missed") or v in seen)
    for ind in shown:
        vs = by_ind[ind.id]
        body.append([ind.name(lang)] + [str(vs.count(v)) for v in verdicts])
    if body:
        out.append(Para(dt(lang, "d_bind_intro")))
        out.append(Table([dt(lang, "t_indicator")] + [nv.verdict_label(v, lang) for v in verdicts], body,
                         [46] + [110 / len(verdicts)] * len(verdicts), font_size=8,
                         caption=dt(lang, "table_caption", n=counter.next_table(), name=dt(lang, "c_bind")),
                         align=["L"] + ["R"] * len(verdicts)))
    else:
        out.append(Para(dt(lang, "d_bind_none")))
    return out


def _sources_table(tables, shown, sources: pd.DataFrame, lang, counter) -> Table:
    body = []
    kinds = {"demo": dt(lang, "demo_source"), "real": dt(lang, "real_source"), "reported": dt(lang, "reported_source")}
    per = sources.groupby(["indicator_id", "source"], sort=False)["n"].sum()
    names = {i.id: i.name(lang) for i in shown}
    for (ind_id, source), n in per.items():
        if ind_id in names:
            k = source_kind(source, tables.demo)
            # a source's dates as the annex's language writes them (2025年4月23日 in Chinese)
            body.append([names[ind_id], dt(lang, "demo_source_label") if k == "demo" else dates_in_text(source, lang),
                         kinds[k], str(int(n))])
    order = {i.id: k for k, i in enumerate(shown)}
    inv = {v: k for k, v in names.items()}
    body.sort(key=lambda r: order[inv[r[0]]])
    # real figures first, so a reader finds them
    body.sort(key=lambda r: r[2] != kinds["real"])
    return Table([dt(lang, k) for k in ("t_indicator", "t_source", "t_real", "t_periods")], body, [38, 80, 22, 16],
                 caption=dt(lang, "table_caption", n=counter.next_table(), name=dt(lang, "c_sources")),
                 font_size=8, align=["L", "L", "C", "R"])
