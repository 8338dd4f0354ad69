"""Every numeric figure of a publication, with its words, its date and how the report uses it.

``data/reference/press_release_2025-04-23_figures.csv`` holds each number the 2025-04-23 press
conference gave (18 figures, plus the statutory 90 days it compares the ruling cycle with), one
row each:

``figure_id, value, unit_zh, comparator, period, indicator_id, use, section, says, publication, published``

* ``comparator``: ``eq`` (the figure), ``le`` (a ceiling: "50日内" is at most 50, never "= 50") or ``ge``;
* ``use``: ``city_value`` (the city's value of ``indicator_id`` for ``period``) or ``context`` (shown
  beside the section ``section``, never used as data);
* ``says``: the publication's words, verbatim (``tests/test_press_figures.py`` checks them against
  ``docs/sources/press_release_2025-04-23.txt``).

:mod:`helpers.data.reference` keeps the figures the demo data are anchored on; this table is the
complete list the report cites (附件2, the sections, the workbook's 来源 column).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.exceptions import DataValidationError

FIGURES_FILE = Path("data") / "reference" / "press_release_2025-04-23_figures.csv"
COLUMNS = ["figure_id", "value", "unit_zh", "comparator", "period", "indicator_id", "use", "section", "says",
           "publication", "published"]
COMPARATORS = {"eq": "", "le": "≤", "ge": "≥"}
USES = ("city_value", "context")
MARK = "◆"


def press_figures(root: str | Path, plan=None) -> pd.DataFrame:
    """The published figures under the project folder ``root`` (empty if the file is absent).

    Parameters
    ----------
    root : path
        The project folder.
    plan : Plan, optional
        When given, ``indicator_id`` and ``section`` are checked against it.

    Raises
    ------
    DataValidationError
        A row breaks the rules above; the message names the file, the row and the field.
    """
    path = Path(root) / FIGURES_FILE
    if not path.is_file():
        return pd.DataFrame(columns=COLUMNS)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataValidationError(f"{path}: 缺少列 {', '.join(missing)} [rule: column_in_dataframe]")
    ids = set(plan.by_id) if plan is not None else None
    sections = {s.id for s in plan.sections} if plan is not None else None
    for n, r in enumerate(df.to_dict("records"), start=2):
        problems = []
        try:
            float(r["value"])
        except ValueError:
            problems.append(("value", "不是数字"))
        if r["comparator"] not in COMPARATORS:
            problems.append(("comparator", "须为 eq、le 或 ge"))
        if r["use"] not in USES:
            problems.append(("use", "须为 city_value 或 context"))
        if r["use"] == "city_value" and not r["indicator_id"]:
            problems.append(("indicator_id", "作为全市数值使用时须填写指标代码"))
        if ids is not None and r["indicator_id"] and r["indicator_id"] not in ids:
            problems.append(("indicator_id", "不是方案登记表中的指标代码"))
        if sections is not None and r["section"] not in sections:
            problems.append(("section", "不是方案登记表中的板块"))
        if problems:
            col, msg = problems[0]
            raise DataValidationError(f"{path.name} 第{n}行 {col}：{msg}（值 {r[col]!r}） [rule: press_figure_{col}]")
    out = df[COLUMNS].copy()
    out["value"] = out["value"].astype(float)
    return out


def figure_text(r: dict) -> str:
    """The figure as the publication means it: ``≤50日`` for a ceiling, ``453.4亿元``, ``100%``."""
    v = float(r["value"])
    num = f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{COMPARATORS[r['comparator']]}{num}{r['unit_zh']}"


def published_date_zh(text: str) -> str:
    """``2025-04-23`` as ``2025年4月23日``."""
    y, m, d = (int(x) for x in str(text).split("-"))
    return f"{y}年{m}月{d}日"


def city_values(figures: pd.DataFrame) -> dict:
    """``{(indicator_id, period): row}`` of the figures that are the city's value of an indicator."""
    rows = figures[figures["use"] == "city_value"].to_dict("records")
    return {(r["indicator_id"], r["period"]): r for r in rows}
