"""The document check: every geography x {2025Q2, 2025Q4} x {.docx text, .pdf text} (and the HTML
reports of the e2e run in test_documents.py) in clean Chinese.

No ``None``/``nan``, no run of three or more English words (codes and units allowed), no path or
command, no PDF line starting with closing punctuation or ending with an opening one, no number
split across lines; and the counts in the text equal the tables'. The documents are built once
per quarter (session fixture) from assessments computed directly on the demo data, without the
notebooks or charts, so the check stays fast.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from doccheck import docx_text, document_leaks, final_leaks, line_leaks, pdf_lines, text_leaks

QUARTERS = ("2025Q2", "2025Q4")


def _run_folder(root, settings, plan, geos, frame, quarter: str):
    """A run folder as ``ipeval run`` writes it, from :func:`assess_all` on the demo data."""
    from helpers.files import people_csv
    from helpers.model.assess import assess_all
    from helpers.model.forecast import ForecastSettings
    from helpers.plan.periods import Quarter

    q = Quarter.parse(quarter)
    run = root / quarter
    run.mkdir(parents=True)
    from helpers.model.assess import StatusThresholds

    fs = ForecastSettings.from_mapping(settings.block("forecast"))
    table, bands = assess_all(frame, plan, geos, q, fs, StatusThresholds(**settings.block("status")))
    (run / "assessments.csv").write_bytes(people_csv(table, float_format="%.6g"))
    (run / "validated_data.csv").write_bytes(people_csv(frame))
    bands.to_csv(run / "bands.csv", index=False, float_format="%.6g")
    (run / "manifest.json").write_text(json.dumps({"quarter": quarter, "run_id": f"test-{quarter.lower()}"}), encoding="utf-8")
    return run


@pytest.fixture(scope="session")
def documents(tmp_path_factory, settings, plan, geos, demo_frame):
    """``{quarter: {geography_code: (document, docx_path, pdf_path)}}``, built once per quarter."""
    from helpers.pages.document import default_font_cache
    from helpers.pages.document.content import build_document
    from helpers.pages.document.source import load_run_tables
    from helpers.pages.document.fonts import base_charset, document_chars, truetype_fonts
    from helpers.pages.document.pdf import cjk_font_files, write_pdf
    from helpers.pages.document.word import write_docx

    root = tmp_path_factory.mktemp("doccheck")
    out = {}
    for quarter in QUARTERS:
        run = _run_folder(root, settings, plan, geos, demo_frame, quarter)
        tables = load_run_tables(settings, run)
        docs = {g.code: build_document(tables, g.code, "zh", {}) for g in geos.all}
        chars = base_charset(tables.plan, tables.geos)
        for d in docs.values():
            chars |= document_chars(d)
        fonts = truetype_fonts(cjk_font_files(), chars, default_font_cache(settings))
        out[quarter] = {code: (d, write_docx(d, run / f"{code}.docx"), write_pdf(d, run / f"{code}.pdf", fonts))
                        for code, d in docs.items()}
        out[quarter]["_tables"] = tables
    return out


@pytest.mark.parametrize("quarter", QUARTERS)
def test_documents_are_clean_chinese(documents, quarter):
    bad: dict = {}
    for code, item in documents[quarter].items():
        if code == "_tables":
            continue
        _, docx_path, pdf_path = item
        lines = pdf_lines(pdf_path)
        text, pdf = docx_text(docx_path), "\n".join(lines)
        c = text_leaks(text) + text_leaks(pdf) + line_leaks(lines) + document_leaks(text) + document_leaks(pdf)
        if quarter == "2025Q4":  # the final report: no 按计划推进, 达标概率, 当前进度 before the annexes
            c += final_leaks(pdf)
        if sum(c.values()):
            bad[code] = dict(c)
    assert not bad, bad


@pytest.mark.parametrize("quarter", QUARTERS)
def test_counts_in_the_text_equal_the_tables(documents, quarter):
    from helpers.pages.document.blocks import Table
    from helpers.pages.document.narrative import count_verdicts

    tables = documents[quarter]["_tables"]
    for code, item in documents[quarter].items():
        if code == "_tables":
            continue
        doc = item[0]
        counts = count_verdicts(tables.records.get(code, []))
        first = next(b for b in doc.blocks if isinstance(b, Table))
        in_table = {row[0]: int(row[1]) for row in first.rows}
        text = "\n".join(getattr(b, "text", "") for b in doc.blocks)
        assert f"已达标{counts['achieved']}项、未达标{counts['missed']}项" in text, code
        assert in_table["已达标"] == counts["achieved"] and in_table["未达标"] == counts["missed"], code


def test_final_report_speaks_of_completion_mid_term_of_probabilities(documents):
    final = docx_text(documents["2025Q4"]["330100"][1])
    mid = docx_text(documents["2025Q2"]["330100"][1])
    assert "指标完成情况一览表" in final and "指标完成情况一览表" in mid
    assert "排名80%区间" not in final and "达标概率" not in final.split("附件")[0].replace("达标概率为", "")
    assert "排名80%区间" in mid
    assert "2025年第四季度" in final and "2025年12月31日" in final
    assert "打开文件时更新目录" not in final  # the contents are written at build time


def test_reference_rows_are_never_judged(documents):
    """A district's row of a target set for the city as a whole: no share of the target, gap or verdict."""
    tables = documents["2025Q4"]["_tables"]
    for code, item in documents["2025Q4"].items():
        if code in ("_tables", tables.geos.city.code):
            continue
        text = docx_text(item[1])
        refs = [r for r in tables.records.get(code, []) if r["status"] == "reference"]
        for r in refs:
            name = tables.plan.indicator(r["indicator_id"]).name("zh")
            sentence = next((s for s in text.splitlines() if s.startswith(name + "：")), "")
            if sentence:
                assert "仅供参考" in sentence and not re.search(r"为方案目标|未实现|未达标|差\d", sentence), sentence


def test_pdf_has_no_line_break_faults_on_a_known_sentence():
    from helpers.pages.document.linebreak import break_lines

    text = "知识产权人才教育培训人次：按目标口径为1,147人次，目标≥1,000人次（2025年），未达标。" * 3
    for width in range(12, 40):  # wider than its longest unbreakable piece
        lines = break_lines(text, width, len)
        assert "".join(lines) == text
        assert not line_leaks(lines), (width, lines)
        assert all("1,147" in ln or "1,14" not in ln for ln in lines)


@pytest.mark.parametrize("width", range(6, 20))
def test_a_sign_stays_with_its_number(width):
    from helpers.pages.document.linebreak import break_lines

    text = "裁决周期47（◆≤50）天，目标≥80分，2024年当年◆2,859件。"
    lines = break_lines(text, width, len)
    assert "".join(lines) == text
    assert not any(ln.endswith(("≤", "≥", "◆", "◆≤")) for ln in lines), lines


def test_leak_counter_finds_what_it_should():
    c = text_leaks("None（规则法判定） target set for the city as a whole 见 docs/methodology.md 运行 ipeval backtest")
    assert c == Counter(none_nan=1, english=1, path=1, command=1)
    assert not sum(text_leaks("专利密集型产业增加值占GDP比重 Brier分数 Theta模型 SHA-256").values())
    assert line_leaks(["当前为1,14", "7人次", "。下一行"]) == Counter(split_number=1, line_start_punct=1)


def test_chart_text_is_at_least_8pt_on_paper_and_a_zero_series_sits_on_zero():
    import pandas as pd

    from helpers.pages import plots
    from helpers.pages.document.content import TEXT_WIDTH_MM

    labels = {k: k for k in ("title", "unit", "history", "median", "band80", "band95", "target", "due", "achieved")}
    history = pd.DataFrame({"period": ["2023Q1", "2023Q2", "2023Q3", "2023Q4"], "value": [0.0] * 4})
    fig = plots.indicator_chart(history, pd.DataFrame(), {"status": "no_target"}, labels, show_target=False)
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0  # not -0.04..0.04
    # with the due date's line too (its y runs 0..1 in axes coordinates, not data)
    due = plots.indicator_chart(history, pd.DataFrame(), {"status": "reference", "due": "2025Q4"}, labels,
                                show_target=False)
    assert due.axes[0].get_ylim()[0] == 0
    scale = TEXT_WIDTH_MM / 25.4 / fig.get_figwidth()  # the picture is printed at the text width
    sizes = [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    if ax.get_legend():
        sizes += [t.get_fontsize() for t in ax.get_legend().get_texts()]
    assert sizes and min(sizes) * scale >= 8


def test_leak_counter_finds_quarter_codes_and_mid_term_words():
    assert document_leaks("期别 2024Q4；2025年第四季度；2025-04-23；2025年4月23日") == Counter(quarter_code=1, iso_date=1)
    body = "最好的领域（3/4项已实现或按计划推进）\n当前进度\n附件\n概率≥80%为按计划推进"
    assert final_leaks(body) == Counter({"mid_term:按计划推进": 1, "mid_term:当前": 1})


def test_pace_is_written_as_an_increase_or_a_decrease(plan):
    import pandas as pd

    from helpers.pages.document.narrative import pace_sentence

    ind = plan.indicator("technical_investigators")  # a level target, >= 50 by 2025Q4
    rising = pd.DataFrame({"period": ["2022Q4", "2025Q4"], "value": [34.0, 45.0]})
    falling = pd.DataFrame({"period": ["2022Q4", "2025Q4"], "value": [34.0, 31.0]})
    assert "需每年增加5名，实际年均增加4名" in pace_sentence(ind, {}, rising, "zh")
    assert "实际年均减少1名" in pace_sentence(ind, {}, falling, "zh")
    assert "变化" not in pace_sentence(ind, {}, falling, "zh")


def test_tied_districts_are_all_named():
    from helpers.pages.document.narrative import tied_names

    assert tied_names(["淳安县"], "zh") == "淳安县"
    assert tied_names(["余杭区", "淳安县"], "zh") == "余杭区、淳安县"
    assert tied_names(["上城区", "拱墅区"] + ["x"] * 9, "zh") == "上城区、拱墅区等11个区县"


def test_plan_reference_writes_dates_in_chinese(plan):
    from helpers.pages.sections import plan_reference

    text = plan_reference(plan, "zh")
    assert "2023年11月23日起施行" in text and not re.search(r"\d{4}-\d{2}-\d{2}", text), text


def test_quarters_in_a_chinese_text_are_written_in_chinese():
    from helpers.pages.notes import quarters_in_text

    assert quarters_in_text("2024Q3, 2025Q1（修订）", "zh") == "2024年第三季度, 2025年第一季度（修订）"
    assert quarters_in_text("2024Q3", "en") == "2024Q3"
    assert quarters_in_text("DEMO_tasks_330100_2024Q4.xlsx", "zh") == "DEMO_tasks_330100_2024Q4.xlsx"  # a file name


def test_the_registrys_chinese_texts_have_no_codes(settings):
    """The registry's *_zh texts are printed on the pages as they are: no YAML keys, no quarter codes."""
    import yaml

    from doccheck import QUARTER_CODE

    def zh_texts(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if str(k).endswith("_zh") and isinstance(v, str):
                    yield k, v
                else:
                    yield from zh_texts(v)
        elif isinstance(node, list):
            for v in node:
                yield from zh_texts(v)

    raw = yaml.safe_load(settings.plan_path.read_text(encoding="utf-8"))
    bad = [(k, v) for k, v in zh_texts(raw) if QUARTER_CODE.search(v) or re.search(r"\b[a-z_]+: [a-z_]+", v)]
    assert not bad, bad


def test_final_district_report_says_whom_it_shares_its_rank_with(documents):
    tables = documents["2025Q4"]["_tables"]
    rank = tables.ranking
    for code in ("330106", "330127"):
        text = docx_text(documents["2025Q4"][code][1])
        r = rank.loc[rank["geography_code"] == code, "rank"].iloc[0]
        others = int((rank["rank"] == r).sum()) - 1
        name = tables.geos.get(code).name("zh")
        said = f"{name}在13个区县中排第{int(r)}位" + (f"（与另外{others}个区县并列）" if others else "（比例相同者并列）")
        assert said in text, (said, [s for s in text.splitlines() if "在13个区县中" in s])


def test_dates_in_a_chinese_text_are_written_in_chinese():
    from helpers.pages.notes import dates_in_text

    src = "杭州市政府新闻办 新闻发布会 2025-04-23 (press_release_2025-04-23.txt)"
    assert dates_in_text(src, "zh") == "杭州市政府新闻办 新闻发布会 2025年4月23日 (press_release_2025-04-23.txt)"
    assert dates_in_text(src, "en") == src


def test_cover_and_running_header_have_no_space_inside_chinese_dates(documents):
    text = docx_text(documents["2025Q4"]["330100"][1])
    assert "（数据截至2025年12月31日）" in text and "方案有效期：2023年11月23日至2025年4月30日" in text
    assert not re.search(r"[\u4e00-\u9fff] \d|\d [\u4e00-\u9fff]至|至 \d", text.split("附件")[0])
