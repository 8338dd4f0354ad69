"""Parts of the assessment report built from the run's tables: the standard 指标完成情况一览表
(:mod:`helpers.pages.standard`) and 附件3, the method that ran (:mod:`helpers.pages.notes`).

Split from :mod:`.content` so each module keeps one job; :func:`.content.build_document` places them.
"""

from __future__ import annotations

import numpy as np

from helpers.i18n import dt
from helpers.pages.document import narrative as nv
from helpers.pages.document.blocks import Para, Table
from helpers.pages.notes import engines_used, method_text


def source_kind(source: str, demo: bool) -> str:
    """``demo``, ``real`` (a publication, in a demo dataset) or ``reported``."""
    if str(source).startswith("DEMO"):
        return "demo"
    return "real" if demo else "reported"




def standard_table(tables, geo, records: list, lang: str, counter) -> list:
    """指标完成情况一览表 (:mod:`helpers.pages.standard`), with its introduction."""
    from helpers.pages.standard import published_years, standard_cells, standard_header, standard_rows

    kinds: dict = {}
    src = tables.source_counts
    if not geo.is_city:
        src = src[src["geography_code"] == geo.code]
    for ind_id, source in zip(src["indicator_id"], src["source"]):
        kinds.setdefault(ind_id, set()).add(source_kind(source, tables.demo))
    rows = standard_rows(tables.plan, geo, tables.geos, tables.series, records, tables.quarter, tables.final, lang, kinds,
                         published_years(tables.settings.root, geo, tables.plan))
    if not rows:
        return []
    final = tables.final
    body = [standard_cells(r, final, lang) for r in rows]
    # final: 责任单位 takes six characters a line at 7.5 pt (19 mm less the cell's padding), so the plan's lead,
    # 市知识产权局（牵头）, breaks only before its bracket (14 mm broke it as 市知识产/权局（牵/头）); the width
    # comes from 单位 (3 characters at most), 基期值 and 目标值 (7 digits and a sign) and the indicator's name.
    # Mid-term has the 达标概率 column besides: narrower base and target cells split numbers (the document
    # check), so its 责任单位 stays 13 mm
    widths = ([7, 29, 10, 13, 13, 13, 13, 13, 13, 19, 13] if final
              else [7, 27, 11, 13, 13, 12, 12, 12, 13, 10, 13, 13])
    align = ["C", "L", "C", "R", "R", "R", "R", "R", "C"] + ([] if final else ["R"]) + ["L", "L"]
    return [Para(dt(lang, "std_intro"), "note"),
            Table(standard_header(final, lang, tables.quarter), body, widths, font_size=7.5, align=align,
                  caption=dt(lang, "table_caption", n=counter.next_table(), name=dt(lang, "c_standard")))]



def method_annex(tables, lang: str) -> list:
    """附件3, from the method that ran: the engines in the rows' ``models_used``, the calibration
    of the backtest's row for that engine when one was attached."""
    s = tables.settings
    out = [Para(dt(lang, "a_method_ran", n_paths=s.forecast.n_paths, on=int(s.status.on_track * 100),
                   risk=int(s.status.at_risk * 100), min_points=s.forecast.min_points,
                   engine=method_text(tables.table, lang)))]
    bt = tables.backtest
    used = engines_used(tables.table)
    names = [getattr(s.forecast, "engine", ""), "ensemble"] + used
    row = None
    if bt is not None and "method" in bt.columns:
        for n in names:
            if n and (bt["method"] == n).any():
                row = bt[bt["method"] == n]
                break
    if row is not None and len(row):
        r = row.iloc[0]
        out.append(Para(dt(lang, "a_calibration_ran", n=int(r["n"]), brier=f"{r['brier']:.3f}",
                           bss=f"{r['brier_skill']:.2f}", c80=nv.pct(r.get("coverage80", np.nan)),
                           c95=nv.pct(r.get("coverage95", np.nan)))))
    else:
        out.append(Para(dt(lang, "a_calibration_none")))
    out.append(Para(dt(lang, "a_provenance", run_id=tables.run_id, git=tables.git, sha=tables.data_sha), "note"))
    return out
