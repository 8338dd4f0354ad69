"""工作成效 and 任务完成情况 from task statuses: inserted before 存在问题与建议, chapters renumbered."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from helpers.pages.document.blocks import Document, Heading, Para, Table
from helpers.pages.document.tasks import add_task_chapters
from helpers.plan.periods import Quarter


def _doc():
    return Document([Heading("一、总体情况", 1), Table(["a"], [["1"]], [10], caption="表1  总体"),
                     Heading("二、分领域评估", 1), Heading("三、区县比较", 1), Heading("四、存在问题与建议", 1),
                     Para("x"), Heading("附件", 1), Table(["a"], [["1"]], [10], caption="表2  目标清单")],
                    header="", lang="zh", title="")


def _tables(plan, geos, tmp_path, rows, final=True):
    pd.DataFrame(rows, columns=["task_id", "geography_code", "period", "status", "progress", "evidence",
                                "file"]).to_csv(tmp_path / "task_status.csv", index=False)
    return SimpleNamespace(plan=plan, geos=geos, quarter=Quarter(2025, 4), run_dir=tmp_path, final=final)


def test_city_report_gets_results_and_task_table_from_the_returns(plan, geos, tmp_path):
    rows = [("m04_administrative", "330100", "2025Q4", "已完成", "2024年办理各类行政案件2859件", "发布会", "c.xlsx"),
            ("m17_overseas_resources", "330100", "2025Q4", "未启动", "", "", "c.xlsx"),
            ("d_qiantang_accelerator", "330114", "2025Q4", "推进中", "加速器建设中", "", "q.xlsx")]
    doc = add_task_chapters(_doc(), _tables(plan, geos, tmp_path, rows), "330100")
    heads = [b.text for b in doc.blocks if isinstance(b, Heading)]
    assert heads == ["一、总体情况", "二、分领域评估", "三、区县比较", "四、工作成效", "（一）主要措施",
                     "（二）区县（市）任务", "五、任务完成情况", "六、存在问题与建议", "附件", "附件4 方案任务与原文"]
    text = "\n".join(b.text for b in doc.blocks if isinstance(b, Para))
    assert "截至2025年第四季度，主要措施17项中，已完成1项、未启动1项、未报送15项；区域性标志成果4项中，未报送4项；" in text
    assert "完善行政保护体系（已完成）。2024年办理各类行政案件2859件（佐证：发布会）" in text
    assert "钱塘区科创企业上市知识产权加速器（推进中）。加速器建设中\n" in text
    assert "尚未完成的主要措施" in text and "演示" not in text
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    assert [t.caption for t in tables] == ["表1  总体", "表2  主要措施和区域性标志成果完成情况",
                                           "表3  区县（市）任务完成情况", "表4  目标清单", "表5  方案任务"]
    annex = tables[-1]  # 附件4: every task with its clause verbatim
    assert len(annex.rows) == 34 and ["钱塘区科创企业上市知识产权加速器", "三(二)", "钱塘区",
                                      "在钱塘区建设科创企业上市知识产权加速器"] in annex.rows
    main = tables[1]
    assert len(main.rows) == 21 and main.rows[3][1] == "完善行政保护体系（二(二)4）"
    assert main.rows[3][2] == "市市场监管局（市知识产权局）（牵头）" and main.rows[3][3] == "已完成"
    assert main.rows[0][3] == "未报送"
    district = tables[2]
    assert ["钱塘区科创企业上市知识产权加速器（三(二)）", "钱塘区", "推进中", "加速器建设中"] in district.rows


def test_district_report_shows_only_its_own_tasks_and_marks_demo_returns(plan, geos, tmp_path):
    rows = [("d_binjiang_one_thing", "330108", "2025Q4", "已完成", "【演示】试点完成", "x", "DEMO_tasks_330108.xlsx"),
            ("d_qiantang_accelerator", "330114", "2025Q4", "推进中", "建设中", "", "q.xlsx")]
    doc = add_task_chapters(_doc(), _tables(plan, geos, tmp_path, rows), "330108")
    text = "\n".join(b.text for b in doc.blocks if isinstance(b, Para))
    assert "【演示】试点完成" in text and "加速器" not in text and "演示填报" in text
    tables = [b for b in doc.blocks if isinstance(b, Table)]
    district = next(t for t in tables if "区县（市）任务" in t.caption)
    assert {r[1] for r in district.rows} == {"滨江区"}
    assert [r[1] for r in tables[1].rows] == ["建立高效统筹协调机制（二(一)1）"]  # the measure it shares


def test_no_returns_says_so_without_tables(plan, geos, tmp_path):
    doc = add_task_chapters(_doc(), _tables(plan, geos, tmp_path, []), "330100")
    text = [b.text for b in doc.blocks if isinstance(b, Para)]
    assert text.count("截至2025年第四季度，尚无任务进展填报。") == 2
    assert len([b for b in doc.blocks if isinstance(b, Table)]) == 3  # and 附件4
