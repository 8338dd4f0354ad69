"""工作成效 and 任务完成情况 from task statuses: inserted before 存在问题与建议, chapters renumbered."""

from __future__ import annotations

from pathlib import Path
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


def _doc_en():
    return Document([Heading("1. Overall", 1), Heading("2. Sections", 1), Heading("3. Districts", 1),
                     Heading("4. Problems and recommendations", 1), Para("x"), Heading("Annexes", 1)],
                    header="", lang="en", title="")


def test_english_chapters_translate_titles_statuses_and_the_publication(plan, geos, tmp_path):
    """Titles are our translation with the plan's Chinese quoted beside; statuses and headings English;
    a return's Chinese progress note is quoted; no Chinese stands outside a quotation (tests/doccheck_en.py)."""
    from doccheck_en import block_leaks

    rows = [("m04_administrative", "330100", "2025Q4", "已完成", "【演示】组织开展“雷霆”“剑网”等专项行动",
             "杭州市人民政府新闻办公室新闻发布会（2025年4月23日）", "DEMO_tasks_330100.xlsx"),
            ("m17_overseas_resources", "330100", "2025Q4", "未启动", "", "", "c.xlsx"),
            ("d_qiantang_accelerator", "330114", "2025Q4", "推进中", "加速器建设中", "示例材料（演示）", "q.xlsx")]
    tables = _tables(plan, geos, tmp_path, rows)
    tables.settings = SimpleNamespace(root=Path(__file__).resolve().parents[1])
    doc = add_task_chapters(_doc_en(), tables, "330100", "en")
    heads = [b.text for b in doc.blocks if isinstance(b, Heading)]
    assert heads == ["1. Overall", "2. Sections", "3. Districts", "4. Results of the work", "Key measures",
                     "District tasks", "5. Tasks", "6. Problems and recommendations", "Annexes",
                     "Annex 4 The plan's tasks"]
    text = "\n".join(b.text for b in doc.blocks if isinstance(b, Para))
    assert "of 17 key measures: completed 1, not started 1, not reported 15" in text
    assert ("Improve the system of administrative protection (“完善行政保护体系”): completed. "
            "[demo] “组织开展“雷霆”“剑网”等专项行动” (evidence: Press conference of the Information Office of "
            "the Hangzhou Municipal People's Government, 23 April 2025)") in text
    assert "Qiantang: IP accelerator for the stock-market listing" in text
    tables_ = [b for b in doc.blocks if isinstance(b, Table)]
    main = tables_[0]
    assert main.rows[3][1] == "Improve the system of administrative protection (“完善行政保护体系”), clause 2(2)4"
    assert main.rows[3][2] == "Hangzhou Administration for Market Regulation (Hangzhou IP Office) (lead)"
    assert main.rows[3][3] == "completed" and main.rows[0][3] == "not reported"
    annex = tables_[-1]
    assert ["IP accelerator for the stock-market listing of science and technology enterprises in Qiantang "
            "District (“钱塘区科创企业上市知识产权加速器”)", "3(2)", "Qiantang District",
            "“在钱塘区建设科创企业上市知识产权加速器”"] in annex.rows
    assert block_leaks(doc.blocks) == []


def test_a_task_without_an_english_title_falls_back_to_the_chinese_with_a_note(tmp_path):
    """``title_en`` and ``responsible_en`` are optional: the task loads and shows its Chinese, quoted."""
    from doccheck_en import unit_leaks

    from helpers.pages.document.tasks_en import NO_TITLE_EN, title_en
    from helpers.plan.tasks import load_tasks

    reg = tmp_path / "r.yaml"
    reg.write_text("tasks:\n  - {id: t1, kind: measure, ref: 二(一)1, title_zh: 建立机制, clause: 建立机制。,\n"
                   "     responsible_zh: [市政府], geographies: ['330100']}\n", encoding="utf-8")
    (task,) = load_tasks(reg)
    assert task.title_en == "" and title_en(task) == f"“建立机制” ({NO_TITLE_EN})"
    assert task.responsible_text_en == "“市政府” (lead)" and task.ref_en == "2(1)1"
    assert unit_leaks(f"{title_en(task)}: completed.") == []


def test_responsible_en_must_match_responsible_zh(tmp_path):
    import pytest

    from helpers.exceptions import RegistryError
    from helpers.plan.tasks import load_tasks

    reg = tmp_path / "r.yaml"
    reg.write_text("tasks:\n  - {id: t1, kind: measure, ref: 一, title_zh: 建立机制, clause: 建立机制。,\n"
                   "     responsible_zh: [市政府, 区政府], responsible_en: [City], geographies: ['330100']}\n",
                   encoding="utf-8")
    with pytest.raises(RegistryError, match="responsible_en"):
        load_tasks(reg)


def test_every_shipped_task_has_an_english_title():
    from helpers.plan.tasks import load_tasks

    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "params" / "plans").glob("*.yaml")):
        tasks = load_tasks(path, check_text=False)
        assert all(t.title_en and len(t.responsible_en) == len(t.responsible_zh) for t in tasks), path.name


def test_the_english_check_finds_chinese_outside_quotations():
    from doccheck_en import unit_leaks, unquoted_chinese

    assert unquoted_chinese("Status: 已完成") == ["已完成"]
    assert unquoted_chinese("clause 二(一)1") == ["二"]
    assert unquoted_chinese("≥80 points（2025）") == ["（", "）"]
    assert unquoted_chinese("Xihu Longjing (西湖龙井) tea; note “a “b” 中文”") == []
    assert unquoted_chinese('Reading: "示范区建设期间" = the zone period') == []
    assert unit_leaks("“建立机制”") == ["“建立机制”"]  # quoted, but nothing beside it in English
    assert unit_leaks("“建立机制”", head="Text of the plan (Chinese)") == []
