"""The assessment report (Word, PDF) and the workbook, read back by real clients.

One small run (2025Q4, the final assessment: enforcement for the city and 西湖区) is shared by
the module; the documents are written from its published folder as ``ipeval report`` does.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, ipeval

GEOS = ("330100", "330106")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from conftest import make_project

    proj = make_project(tmp_path_factory.mktemp("docs") / "proj")
    # the demo task returns, so the final report has 工作成效 (the run ingests them into the store)
    shutil.copytree(ROOT / "data" / "demo" / "tasks", proj / "data" / "demo" / "tasks")
    r = ipeval("run", "--quarter", "2025Q4", "--sections", "enforcement", "--geos", ",".join(GEOS), "--quiet",
               "--no-documents", cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    return proj, (proj / "outputs" / "2025Q4").resolve()


@pytest.fixture(scope="module")
def tables(run_dir):
    from helpers.pages.document.source import load_run_tables
    from helpers.settings import load_settings

    proj, out = run_dir
    return load_run_tables(load_settings(proj / "params" / "settings.yaml"), out)


@pytest.fixture(scope="module")
def written(run_dir):
    """``ipeval report`` for both geographies, both formats, Chinese."""
    proj, out = run_dir
    r = ipeval("report", "--quarter", "2025Q4", "--geo", ",".join(GEOS), cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    files = [p for p in r.stdout.split() if p.endswith((".docx", ".pdf"))]
    assert len(files) == 4, r.stdout
    return {p.rsplit(".", 1)[1] + ":" + p.rsplit("/", 1)[1][:6]: p for p in files}


def _city_counts(tables):
    from helpers.pages.document.narrative import count_verdicts

    return count_verdicts(tables.records["330100"])


def test_final_assessment_from_the_quarter(plan, tables):
    from helpers.pages.document.narrative import is_final, last_due
    from helpers.plan.periods import Quarter

    assert last_due(plan) == Quarter(2025, 4)
    assert is_final(plan, Quarter(2025, 4)) and is_final(plan, Quarter(2026, 2))
    assert not is_final(plan, Quarter(2025, 3))
    assert tables.final


def test_docx_reads_back_with_its_structure_and_headline_counts(written, tables):
    import docx

    d = docx.Document(written["docx:330100"])
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    for h in ("一、总体情况", "二、分领域评估", "三、区县比较", "四、工作成效", "五、任务完成情况", "六、存在问题与建议", "附件"):
        assert h in headings
    # 工作成效 from the demo task return (data/demo/tasks), the cover names the team's units
    assert "（一）主要措施" in headings
    assert "（二）行政保护" in headings
    text = "\n".join(p.text for p in d.paragraphs)
    assert "终期评估报告" in text and "杭政办函〔2023〕71号" in text and "演示数据" in text
    assert "完善行政保护体系（已完成）。【演示】组织开展“雷霆”“剑网”等专项行动，2024年办理各类行政案件2859件" in text
    assert "委托单位：杭州市市场监督管理局（杭州市知识产权局）" in text and "本章任务进展为演示填报" in text
    c = _city_counts(tables)
    assert f"已达标{c['achieved']}项、未达标{c['missed']}项" in text
    # the counts table of 一、总体情况 says the same
    first = d.tables[0]
    got = {row.cells[0].text: int(row.cells[1].text) for row in first.rows[1:]}
    assert got["已达标"] == c["achieved"] and got["未达标"] == c["missed"]
    # A4 and the GB/T 9704 margins
    sec = d.sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.page_height.mm) == 297
    assert (round(sec.top_margin.mm), round(sec.bottom_margin.mm), round(sec.left_margin.mm),
            round(sec.right_margin.mm)) == (37, 35, 28, 26)
    # every clause of the annex verbatim from the registry
    from helpers.i18n import dt

    annex = next(t for t in d.tables if t.rows[0].cells[-1].text == dt("zh", "t_clause"))  # 附件1
    clauses = {row.cells[3].text for row in annex.rows[1:]}
    assert tables.plan.indicator("admin_cases").clause_text in clauses


def test_pdf_text_has_the_headline_numbers_and_embedded_cjk_fonts(written, tables):
    from pypdf import PdfReader

    reader = PdfReader(written["pdf:330100"])
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "").replace(" ", "")
    c = _city_counts(tables)
    assert f"已达标{c['achieved']}项、未达标{c['missed']}项" in text
    assert "杭政办函〔2023〕71号" in text and "一、总体情况" in text
    assert reader.outline, "bookmarks for the table of contents"
    fonts = {}
    for page in reader.pages:
        res = page["/Resources"].get_object()
        for f in (res.get("/Font") or {}).values():
            f = f.get_object()
            desc = f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            fonts[str(f["/BaseFont"])] = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    assert any("SerifCJK" in n for n in fonts) and any("SansCJK" in n for n in fonts)
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=1)  # A4


def test_district_report_ranks_the_district_with_an_interval(written, tables):
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(written["pdf:330106"]).pages).replace("\n", "")
    r = tables.ranking.set_index("geography_code").loc["330106"]
    assert f"西湖区在13个区县中排第{int(r['rank'])}位" in text.replace(" ", "")
    assert r["rank_lo"] <= r["rank_hi"] and 1 <= r["rank"] <= 13


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (soffice not on PATH)")
def test_libreoffice_converts_the_docx(written, tmp_path):
    r = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                        written["docx:330106"]], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert list(tmp_path.glob("*.pdf"))


def test_ranking_interval_widens_with_uncertain_targets(geos):
    from helpers.pages.document.narrative import district_ranking

    def recs(p):
        return [dict(status="on_track" if x >= 0.8 else "at_risk", decided_by="ensemble", probability=x) for x in p]

    sure = {g.code: recs([1.0 if k < i else 0.0 for k in range(13)]) for i, g in enumerate(geos.districts)}
    r = district_ranking(sure, geos, draws=500)
    assert (r["rank_lo"] == r["rank_hi"]).all()  # certain outcomes: one rank each
    assert r.iloc[0]["geography_code"] == geos.districts[-1].code
    assert list(r["rank"]) == list(range(1, 14)) and (r["rank"] == r["rank_lo"]).all()
    vague = {g.code: recs([0.5] * 6) for g in geos.districts}
    v = district_ranking(vague, geos, draws=500)
    assert (v["rank_hi"] - v["rank_lo"]).mean() > 3


def test_document_texts_have_the_same_keys_in_both_languages_and_no_duplicate():
    import ast
    import inspect

    from helpers import i18n

    assert set(i18n.DOCUMENT_TEXTS["zh"]) == set(i18n.DOCUMENT_TEXTS["en"])
    for node in ast.walk(ast.parse(inspect.getsource(i18n))):  # a key written twice silently loses one text
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            assert len(keys) == len(set(keys)), sorted(k for k in set(keys) if keys.count(k) > 1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_sentence_comes_from_a_template_in_both_languages(tables, lang):
    from helpers.pages.document.blocks import Para
    from helpers.pages.document.content import build_document

    d = build_document(tables, "330100", lang)
    paras = [b.text for b in d.blocks if isinstance(b, Para)]
    assert paras and not any("{" in p or "}" in p for p in paras)  # every placeholder filled
    han = sum("\u4e00" <= ch <= "\u9fff" for p in paras for ch in p)
    if lang == "en":  # only names quoted from the plan's text and the sources may be Chinese
        assert "Key findings:" in paras
        assert "1. Overall" in [b.text for b in d.blocks if hasattr(b, "level")]
    else:
        assert han > 500


def test_problem_sentence_gives_the_pace_a_target_needed(plan):
    from helpers.pages.document.narrative import pace_sentence

    ind = plan.indicator("mediation_success_rate")  # a level target (>= 37%) due 2025Q4
    series = pd.DataFrame({"period": ["2022Q4", "2023Q4", "2024Q4", "2025Q4"], "value": [31.0, 32.0, 33.0, 34.0]})
    s = pace_sentence(ind, {"required_pace": np.nan, "observed_pace": np.nan}, series, "zh")
    # from 31 (2022Q4) to 37 by 2025Q4: 6 over the same 3 years the observed pace counts = 2.0 points a
    # year (not 6 over 3.125); observed 3 over 3 years = 1.0; a difference of rates is in 个百分点
    assert "需每年提高2.0个百分点" in s and "实际年均提高1.0个百分点" in s
    flow = plan.indicator("ecommerce_patent_cases")
    s = pace_sentence(flow, {"required_pace": 2000.0, "observed_pace": 1912.0}, series, "en")
    assert "2,000" in s and "1,912" in s


def test_published_figures_are_marked_real_in_the_sources_annex(tables):
    from helpers.pages.document.blocks import Table
    from helpers.pages.document.content import build_document

    real = tables.frame.iloc[[0]].copy()
    real["source"] = "杭州市政府新闻办 新闻发布会 2025-04-23"
    tables2 = dataclasses.replace(tables, frame=pd.concat([tables.frame, real], ignore_index=True))
    d = build_document(tables2, "330100", "zh")
    src = [b for b in d.blocks if isinstance(b, Table) and "来源" in b.header][0]
    assert src.rows[0][1] == "杭州市政府新闻办 新闻发布会 2025年4月23日" and src.rows[0][2] == "公开发布"
    assert "1 个数值取自公开发布的资料" in d.blocks[0].warning


def test_workbook_sheets_labels_and_formats(run_dir, tables):
    from openpyxl import load_workbook

    _, out = run_dir
    wb = load_workbook(out / "assessments.xlsx")
    assert wb.sheetnames == ["摘要", "指标评估", "指标完成情况一览表", "区县比较", "数据", "说明", "公开发布数据"]
    ws = wb["指标评估"]
    header_row = next(r for r in range(1, 6) if ws.cell(r, 1).value == "板块")
    header = [c.value for c in ws[header_row]]
    assert {"方案原文", "目标类型", "方向", "判定依据", "状态"} <= set(header)
    rows = list(ws.iter_rows(min_row=header_row + 1, values_only=True))
    assert len(rows) == len(tables.table)
    col = {h: k for k, h in enumerate(header)}
    sections = {s.name_zh for s in tables.plan.sections}
    assert {r[col["板块"]] for r in rows} <= sections  # labels, not codes
    assert {r[col["目标类型"]] for r in rows} <= {"期末水平", "年度比率", "年度合计", "累计", "里程碑", "—"}
    admin = next(r for r in rows if r[col["指标代码"]] == "admin_cases" and r[col["地区代码"]] == "330100")
    assert admin[col["方案原文"]] == tables.plan.indicator("admin_cases").clause_text
    assert ws.freeze_panes == f"A{header_row + 1}" and ws.auto_filter.ref
    p = ws.cell(header_row + 1, col["达标概率"] + 1)
    assert p.number_format == "0%"
    data = wb["数据"]
    assert data.max_row - 1 >= len(tables.frame[tables.frame["qindex"] <= tables.quarter.index]) - 1
    assert "演示（生成）" in {c.value for c in data["J"]}
    # one number format by unit: integers never shown as "80." ("#,##0.##"), counts whole, % one decimal
    formats = {c.number_format for sh in wb.worksheets for row in sh.iter_rows() for c in row
               if isinstance(c.value, (int, float))}
    assert "#,##0.##" not in formats and {"#,##0", "#,##0.0"} <= formats
    std = wb["指标完成情况一览表"]
    head = next(r for r in std.iter_rows(values_only=True) if r and r[0] == "地区代码")
    assert {"基期值（2022年）", "目标值", "2023年", "2024年", "2025年", "完成情况", "责任单位", "数据来源"} <= set(head)
    done = {r[head.index("完成情况")] for r in std.iter_rows(values_only=True) if r and r[0] in GEOS}
    assert done <= {"已完成", "未完成", "提前完成", "数据缺失", "待公布", "仅供参考"} and done
    # the city's 2024 administrative cases: the running total stays a number, shown and noted with ◆2,859 and its source
    name = tables.plan.indicator("admin_cases").name_zh
    i = next(k for k, r in enumerate(std.iter_rows(values_only=True), start=1) if r[0] == "330100" and r[3] == name)
    cell = std.cell(i, head.index("2024年") + 1)
    assert isinstance(cell.value, (int, float)) and cell.number_format.endswith('"，当年◆2,859"')
    assert "2,859" in cell.comment.text and "（2025年4月23日）" in cell.comment.text
    assert [std.cell(i, head.index(h) + 1).value for h in ("公开发布值（◆）", "来源")] == [
        2859, "杭州市人民政府新闻办公室新闻发布会（2025年4月23日）"]
    assert not any(r[head.index("来源")] for r in std.iter_rows(min_row=2, values_only=True) if r[0] != "330100")
    # the machine-read CSV keeps its codes
    csv = pd.read_csv(out / "assessments.csv")
    assert set(csv["section"]) <= {s.id for s in tables.plan.sections}


def test_text_cells_cannot_run_as_formulas():
    from openpyxl import Workbook

    from helpers.files import safe_cell, xlsx_text_cell

    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and safe_cell("-1+2") == "'-1+2"
    assert safe_cell("杭州") == "杭州" and safe_cell(-1.5) == -1.5 and safe_cell("-5") == "-5"
    # the workbook's cells: the formula text kept as typed, shown as text by the quote-prefix style
    ws = Workbook().active
    c = xlsx_text_cell(ws.cell(1, 1), "=HYPERLINK(\"x\")")
    assert c.value == "=HYPERLINK(\"x\")" and c.data_type == "s" and c.quotePrefix


def test_english_workbook_and_documents(run_dir, tmp_path):
    from openpyxl import load_workbook

    from helpers.pages.document import write_documents
    from helpers.pages.workbook import write_workbook_from_input
    from helpers.settings import load_settings

    proj, out = run_dir
    s = load_settings(proj / "params" / "settings.yaml")
    files = write_documents(s, out, geographies=["330106"], formats=("docx",), lang="en", out_dir=tmp_path)
    assert [f.name for f in files] == ["330106_Xihu_final_assessment.en.docx"]
    from helpers.pages.report_input import input_path, read_report_input

    # the workbook from the city's overview input, as the run writes it (its language changed to English)
    city = dataclasses.replace(read_report_input(input_path(out, "overview", "330100")), lang="en")
    path = write_workbook_from_input(tmp_path / "a.xlsx", city, out, root=proj)
    assert load_workbook(path).sheetnames == ["Summary", "Assessments", "Indicator completion", "Districts", "Data",
                                              "Notes", "Published"]
    # the English document: no Chinese outside a quotation beside its English (tests/doccheck_en.py)
    from doccheck_en import docx_leaks

    assert docx_leaks(files[0]) == []
    pub = load_workbook(path)["Published"]  # the press release named in English, our translation beside its words
    assert pub.cell(1, 8).value == "Words (our translation)" and pub.cell(2, 7).value.endswith("23 April 2025")


def test_report_refuses_bad_input_with_a_message(run_dir):
    proj, _ = run_dir
    r = ipeval("report", "--quarter", "2024Q1", cwd=proj)
    assert r.returncode == 2 and "ipeval run" in r.stderr and "Traceback" not in r.stderr
    r = ipeval("report", "--quarter", "2025Q4", "--format", "odt", cwd=proj)
    assert r.returncode == 2 and "docx" in r.stderr
    r = ipeval("report", "--quarter", "2025Q4", "--geo", "999999", cwd=proj)
    assert r.returncode == 2 and "330106" in r.stderr


def test_unchanged_run_reuses_its_documents(run_dir, tmp_path):
    from helpers.pages.document import write_documents
    from helpers.settings import load_settings

    proj, out = run_dir
    s = load_settings(proj / "params" / "settings.yaml")
    first = write_documents(s, out, geographies=["330106"], formats=("docx",), out_dir=tmp_path / "a" / "documents")
    # reuse is verified against the checksums the earlier run's manifest recorded (issue 20)
    from helpers.files import seal_manifest

    (tmp_path / "a" / "manifest.json").write_text('{"run_id": "a", "jobs": []}', encoding="utf-8")
    seal_manifest(tmp_path / "a")
    again = write_documents(s, out, geographies=["330106"], formats=("docx",), out_dir=tmp_path / "b",
                            reuse_from=tmp_path / "a")
    assert [p.name for p in again] == [p.name for p in first]
    assert again[0].read_bytes() == first[0].read_bytes()  # taken over, not rewritten
    assert again[0].stat().st_ino != first[0].stat().st_ino  # a copy: editing one run's file leaves the other


def test_chinese_report_pages_have_no_leaks_final(run_dir):
    """The document check of issue 16 on the final assessment's HTML pages, every geography of the run."""
    from doccheck import html_text, text_leaks

    _, out = run_dir
    pages = sorted(out.glob("reports/*/*.report.html"))
    assert len(pages) >= len(GEOS)  # the section of each geography
    leaks = {p.relative_to(out).as_posix(): dict(c) for p in pages if sum((c := text_leaks(html_text(p))).values())}
    assert not leaks, leaks
    # a final page speaks of completion and writes quarters in Chinese (its footer's file names aside)
    from doccheck import QUARTER_CODE

    for p in pages:
        body = html_text(p).split("来源与可复现信息")[0]
        head = re.search(r'(?s)<table class="ipeval-headline">.*?</thead>', p.read_text(encoding="utf-8")).group(0)
        assert not QUARTER_CODE.findall(body) and "达标概率" not in head and "当前进度" not in head, (p, head)
        assert not re.findall(r"\d{4}-\d{2}-\d{2}", body), (p, re.findall(r".{30}\d{4}-\d{2}-\d{2}", body))
    city = html_text(out / "reports" / "enforcement" / "330100.report.html")
    assert "地区 ：杭州市（330100） · 评估季度 ：2025年第四季度" in " ".join(city.split())  # Chinese punctuation
    assert "2024年：≤50 天（杭州市政府新闻办 新闻发布会 2025年4月23日）" in city  # a ceiling stays a ceiling
