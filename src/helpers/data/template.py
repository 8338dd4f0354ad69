"""The Excel template a district fills in (``ipeval template``): one sheet per section.

Each data sheet has the contract's columns first (so the filled file loads as it is) and, after
them, the indicator's Chinese name and unit for the person typing. A read-me sheet explains the rules.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.contract import REQUIRED_COLUMNS
from helpers.plan.periods import Quarter


def write_template(path: str | Path, plan, geos, geography_code: str, quarter: str) -> Path:
    """Write a template for one geography and quarter.

    Parameters
    ----------
    geography_code : str
        The reporting geography (checked against the geographies list).
    quarter : str
        The quarter to report (``2025Q3``); annual indicators get the quarter's year.
    """
    from openpyxl.styles import Font, PatternFill

    geo = geos.get(geography_code)
    q = Quarter.parse(quarter)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        readme = pd.DataFrame({"说明 / How to fill in": [
            f"地区：{geo.name_zh}（{geo.code}）；报送期：{q}",
            "每个板块一张表。请只填写 value（数值）列；比率类指标请填写 numerator（分子）与 denominator（分母）。",
            "period：季度写作 2025Q3，年度指标写作 2025。不要修改 indicator_id、geography_code 列。",
            "source 填写数据来源（部门/报表），note 填写修订或估算说明（如“修订”）。",
            "Fill the value column (ratio indicators: numerator and denominator). Do not edit ids or codes.",
        ]})
        readme.to_excel(xw, sheet_name="说明", index=False)
        xw.sheets["说明"].column_dimensions["A"].width = 110
        for section in plan.sections:
            inds = [i for i in plan.indicators_in(section.id) if geo.is_city or not i.city_only]
            if not inds:
                continue
            rows = []
            for i in inds:
                period = str(q.year) if i.frequency == "annual" else str(q)
                unit = i.unit_zh
                name = i.name_zh
                if i.measure == "per_capita":
                    name, unit = f"{i.numerator_zh or i.name_zh}（用于计算{i.name_zh}）", "件"
                rows.append({"indicator_id": i.id, "geography_code": geo.code, "period": period, "value": "",
                             "numerator": "" if i.uses_ratio else "—", "denominator": "" if i.uses_ratio else "—",
                             "source": "", "note": "", "指标名称": name, "单位": unit})
            df = pd.DataFrame(rows)
            for c in ("numerator", "denominator"):
                df[c] = df[c].replace("—", "")
            df = df[[*REQUIRED_COLUMNS, "指标名称", "单位"]]
            sheet = section.name_zh[:31]
            df.to_excel(xw, sheet_name=sheet, index=False)
            ws = xw.sheets[sheet]
            for j, width in enumerate([30, 14, 10, 12, 12, 12, 24, 24, 44, 12], start=1):
                ws.column_dimensions[ws.cell(1, j).column_letter].width = width
                ws.cell(1, j).font = Font(bold=True)
            for r in range(2, len(df) + 2):
                ws.cell(r, 4).fill = PatternFill("solid", fgColor="FFF2CC")
    return path
