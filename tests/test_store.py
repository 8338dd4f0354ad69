"""The observation store with vintages, district returns (CSV in any encoding, the template), the
error reports a district gets, the inbox, and 0/0 where the registry says "not applicable"."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.contract import load_data
from helpers.data.store import ObservationStore, parse_as_of
from helpers.exceptions import DataValidationError

DISTRICT = "330106"


def _rows(settings, **where) -> pd.DataFrame:
    df = pd.read_csv(settings.data_path, dtype=str, keep_default_na=False)
    for k, v in where.items():
        df = df[df[k].isin(v if isinstance(v, list) else [v])]
    return df.copy()


def _value(view, ind, geo, period) -> str:
    hit = view[(view["indicator_id"] == ind) & (view["geography_code"] == geo) & (view["period"] == period)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_seed_is_the_first_vintage_and_exports_as_it_was(store, settings, plan, geos, tmp_path):
    v = store.vintages()
    assert list(v["name"]) == [settings.data_path.name] and v["received_at"].iloc[0] == "1970-01-01T00:00:00Z"
    out = store.export(tmp_path / "view.csv")
    a = load_data(out, plan, geos).frame
    b = load_data(settings.data_path, plan, geos).frame
    pd.testing.assert_frame_equal(a.drop(columns=["source", "note"]), b.drop(columns=["source", "note"]))
    # and the seed's bytes are kept under received/, named by sequence, time and hash
    kept = list((tmp_path / "received").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("0001-19700101T000000Z-")
    assert hashlib.sha256(kept[0].read_bytes()).hexdigest() == v["sha256"].iloc[0]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_a_csv_in_any_encoding_revises_and_the_old_value_is_kept(store, settings, plan, geos, tmp_path, encoding):
    rows = _rows(settings, geography_code=DISTRICT, indicator_id="admin_cases", period=["2025Q1", "2025Q2"])
    old = rows.loc[rows["period"] == "2025Q1", "value"].iloc[0]
    rows.loc[rows["period"] == "2025Q1", ["value", "note"]] = [str(int(old) + 9), "修订：补报案件"]
    f = tmp_path / f"区县报送_{encoding}.csv"
    rows.to_csv(f, index=False, encoding=encoding)
    before = parse_as_of("2030-01-01")  # now-ish: everything so far
    res = store.ingest(f, plan, geos, received_at="2031-01-01T00:00:00Z")
    assert (res.new, res.revised, res.unchanged) == (0, 1, 1)  # the unchanged row is not stored again
    now = _value(store.view(), "admin_cases", DISTRICT, "2025Q1")
    assert now["value"] == str(int(old) + 9) and now["file"] == f.name and now["cell"] == "2"
    # the revision points at the value it replaced, which the store still has
    obs = store.observations().set_index("obs_id")
    assert obs.loc[int(now["obs_id"]), "revises"] == _value(store.view(before), "admin_cases", DISTRICT, "2025Q1")["obs_id"]
    assert _value(store.view(before), "admin_cases", DISTRICT, "2025Q1")["value"] == old
    # the same bytes again are not a new vintage
    assert store.ingest(f, plan, geos).duplicate_of == res.vintage_id


def _fill(path: Path, out: Path, cells: dict) -> dict:
    """Fill template cells {(sheet, indicator, period, column code): value}; return their addresses."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    where = {}
    for (sheet, ind, period, code), v in cells.items():
        ws = wb[sheet]
        codes = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
        for r in range(3, ws.max_row + 1):
            if ws.cell(r, codes["indicator_id"]).value == ind and ws.cell(r, codes["period"]).value == period:
                ws.cell(r, codes[code]).value = v
                where[(sheet, ind, period, code)] = f"{sheet}!{ws.cell(r, codes[code]).column_letter}{r}"
    wb.save(out)
    assert len(where) == len(cells), "a cell to fill is not in the template"
    return where


def test_template_layout_checks_and_protection(store, plan, geos, tmp_path):
    from openpyxl import load_workbook

    from helpers.data.template import write_template

    out = write_template(tmp_path / "t.xlsx", plan, geos, DISTRICT, "2025Q3", stored=store.view())
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "说明" and "行政保护" in wb.sheetnames
    assert not any(i.city_only for i in plan.indicators if i.id in
                   {c.value for ws in wb.worksheets[1:] for c in ws["J"][2:]})
    ws = wb["行政保护"]
    head = [c.value for c in ws[1]]
    assert head[:5] == ["指标名称", "单位", "期别", "库中现值（已报送）", "本期数值"] and ws["J2"].value == "indicator_id"
    assert ws.freeze_panes == "D3" and ws.protection.sheet and not ws.protection.password
    rows = {(ws.cell(r, 10).value, ws.cell(r, 3).value): r for r in range(3, ws.max_row + 1)}
    r_prev, r_now = rows[("admin_cases", "2025Q2")], rows[("admin_cases", "2025Q3")]
    # the stored value beside the cell to fill; figures, source and note editable, the rest locked
    assert str(ws.cell(r_prev, 4).value) == _value(store.view(), "admin_cases", DISTRICT, "2025Q2")["value"]
    assert not ws.cell(r_now, 5).protection.locked and ws.cell(r_now, 1).protection.locked
    assert ws.cell(r_now, 10).protection.locked and ws.cell(r_now, 4).protection.locked
    dvs = {str(c): dv for dv in ws.data_validations.dataValidation for c in dv.sqref.ranges}
    assert dvs[f"E{r_now}"].type == "whole" and dvs[f"E{r_now}"].formula1 == "0"  # a count: whole, >= 0
    gi = wb["地理标志"]
    rate = next(r for r in range(3, gi.max_row + 1) if gi.cell(r, 10).value == "gi_mark_usage_rate")
    gdv = {str(c): dv for dv in gi.data_validations.dataValidation for c in dv.sqref.ranges}
    assert (gdv[f"E{rate}"].operator, gdv[f"E{rate}"].formula1, gdv[f"E{rate}"].formula2) == ("between", "0", "100")
    assert gdv[f"G{rate}"].type == "whole" and "0/0" in gdv[f"G{rate}"].prompt
    assert "0/0" in " ".join(str(c.value) for c in wb["说明"]["A"])


def test_filled_template_ingests_and_a_bad_one_changes_nothing(store, plan, geos, tmp_path):
    from helpers.data.ingest import format_report, write_report
    from helpers.data.template import write_template
    from helpers.i18n import RULE_MESSAGES

    t = write_template(tmp_path / "t.xlsx", plan, geos, DISTRICT, "2025Q3", stored=store.view())
    bad = tmp_path / "bad.xlsx"
    where = _fill(t, bad, {("行政保护", "admin_cases", "2025Q3", "value"): -3,
                           ("行政保护", "admin_cases", "2025Q1", "value"): 40})
    vint, view = store.vintages(), store.view()
    received = sorted(p.name for p in store.received_dir.iterdir())
    with pytest.raises(DataValidationError) as err:
        store.ingest(bad, plan, geos)
    pd.testing.assert_frame_equal(store.vintages(), vint)
    pd.testing.assert_frame_equal(store.view(), view)
    assert sorted(p.name for p in store.received_dir.iterdir()) == received
    from helpers.data.ingest import failure_report

    report = failure_report(err.value.failures, err.value.letters, "zh")
    hit = report[report["rule"] == "value_not_negative"].iloc[0]
    assert hit["cell"] == where[("行政保护", "admin_cases", "2025Q3", "value")]
    assert (hit["sheet"], hit["column"], hit["message"]) == ("行政保护", "本期数值", RULE_MESSAGES["zh"]["value_not_negative"])
    text = format_report(report, "zh", width=60)
    assert hit["cell"] in text and "数量和金额不能为负数" in text
    csv, xlsx = write_report(report, tmp_path, "bad.xlsx", "zh")
    shown = pd.read_csv(csv, dtype=str)
    assert list(shown.columns[:3]) == ["文件", "单元格", "工作表"] and hit["cell"] in set(shown["单元格"])
    assert set(pd.read_excel(xlsx, dtype=str)["单元格"]) == set(shown["单元格"])
    # filled right, the same template goes in: the new quarter and the revision
    good = tmp_path / "good.xlsx"
    _fill(t, good, {("行政保护", "admin_cases", "2025Q3", "value"): 150,
                    ("行政保护", "admin_cases", "2025Q1", "value"): 40,
                    ("行政保护", "admin_cases", "2025Q1", "note"): "修订"})
    res = store.ingest(good, plan, geos)
    assert res.revised == 2  # 2025Q3 is in the demo data too
    v = _value(store.view(), "admin_cases", DISTRICT, "2025Q1")
    assert (v["value"], v["note"], v["file"]) == ("40", "修订", "good.xlsx")
    assert v["cell"] == where[("行政保护", "admin_cases", "2025Q1", "value")].replace("E", "")  # sheet!row


def test_merged_with_the_store_a_return_must_still_add_up(store, settings, plan, geos, tmp_path):
    # a city figure below what its districts, already stored, add up to: fine alone, refused merged
    rows = _rows(settings, geography_code=DISTRICT, indicator_id="admin_cases", period="2024Q1")
    rows["geography_code"], rows["value"] = "330100", "10"
    f = tmp_path / "city_too_small.csv"
    rows.to_csv(f, index=False)
    load_data(f, plan, geos)  # valid on its own
    with pytest.raises(DataValidationError) as err:
        store.ingest(f, plan, geos)
    assert "districts_not_above_city" in set(err.value.failures["rule"])
    n = len(err.value.failures)
    assert err.value.args[0] == f"city_too_small.csv：与已入库的数值合并后发现 {n} 处问题；未入库任何内容"
    assert len(store.vintages()) == 1
    from helpers.i18n import use_error_language

    use_error_language(lang="en")  # the English of before
    with pytest.raises(DataValidationError) as err:
        store.ingest(f, plan, geos)
    assert err.value.args[0] == f"city_too_small.csv: with the values already stored, {n} problem(s); nothing was stored"


def test_store_rebuilds_from_the_received_files_alone(store, settings, plan, geos, tmp_path):
    rows = _rows(settings, geography_code=DISTRICT, indicator_id="admin_cases", period="2025Q2")
    rows["value"] = "777"
    f = tmp_path / "rev.csv"
    rows.to_csv(f, index=False, encoding="gbk")
    store.ingest(f, plan, geos, received_at="2026-01-10T08:00:00Z")
    view, vint = store.view(), store.vintages()
    store.path.unlink()
    store.rebuild(plan, geos)
    pd.testing.assert_frame_equal(store.view(), view)
    pd.testing.assert_frame_equal(store.vintages(), vint)
    assert _value(store.view("2026-01-09T00:00:00Z"), "admin_cases", DISTRICT, "2025Q2")["value"] != "777"


def test_as_of_dates_and_times():
    assert parse_as_of("2025-07-25") == "2025-07-25T23:59:59Z"
    assert parse_as_of("2025-07-25T06:00:00+08:00") == "2025-07-24T22:00:00Z"
    assert parse_as_of(None) is None
    from helpers.exceptions import ConfigError

    with pytest.raises(ConfigError, match="不是日期"):
        parse_as_of("last week")


def test_zero_over_zero_only_where_the_registry_says_not_applicable(settings, plan, geos, tmp_path):
    assert plan.by_id["gi_mark_usage_rate"].allows_zero_over_zero
    # a rate of cases may be 0/0 (no cases, issue 17); a ratio of two stocks may not
    assert plan.by_id["mediation_success_rate"].allows_zero_over_zero
    assert not plan.by_id["trademarks_per_100_enterprises"].allows_zero_over_zero
    df = pd.read_csv(settings.data_path, dtype=str, keep_default_na=False)
    gi = (df["indicator_id"] == "gi_mark_usage_rate") & (df["geography_code"] == DISTRICT)
    df.loc[gi, ["numerator", "denominator"]] = ["0", "0"]
    f = tmp_path / "zero.csv"
    df.to_csv(f, index=False)
    frame = load_data(f, plan, geos).frame
    assert frame.loc[(frame["indicator_id"] == "gi_mark_usage_rate") & (frame["geography_code"] == DISTRICT),
                     "value"].isna().all()
    med = (df["indicator_id"] == "trademarks_per_100_enterprises") & (df["geography_code"] == DISTRICT) & (df["period"] == "2024Q4")
    df.loc[med, ["value", "numerator", "denominator"]] = ["", "0", "0"]
    df.to_csv(f, index=False)
    with pytest.raises(DataValidationError) as err:
        load_data(f, plan, geos)
    assert set(err.value.failures["rule"]) == {"denominator_positive"}


def test_the_city_is_assessed_with_districts_that_report_zero_over_zero(settings, plan, geos, tmp_path):
    from helpers.model.assess import StatusThresholds, assess_all
    from helpers.model.forecast import ForecastSettings
    from helpers.plan.periods import Quarter

    df = pd.read_csv(settings.data_path, dtype=str, keep_default_na=False)
    gi = (df["indicator_id"] == "gi_mark_usage_rate") & (df["geography_code"] == "330127")
    df.loc[gi, ["value", "numerator", "denominator"]] = ["", "0", "0"]
    f = tmp_path / "zero.csv"
    df.to_csv(f, index=False)
    frame = load_data(f, plan, geos).frame
    table, _ = assess_all(frame, plan, geos, Quarter(2025, 4), ForecastSettings(n_paths=50), StatusThresholds(),
                          geographies=["330100", "330127"])
    city = table[(table["indicator_id"] == "gi_mark_usage_rate") & (table["geography_code"] == "330100")].iloc[0]
    assert city["latest_value"] == city["latest_value"]  # a number: the district's 0/0 adds nothing


def test_report_lines_wrap_and_nothing_is_cut():
    from helpers.data.ingest import REPORT_COLUMNS, format_report

    long = "该指标本期各区县合计超过全市数值（可能重复计算了某区县，或全市数值偏低）" * 3
    report = pd.DataFrame([{"file": "区县报送.xlsx", "cell": "行政保护!E7", "sheet": "行政保护", "row": "7",
                            "column": "本期数值", "rule": "districts_not_above_city", "value": "12",
                            "message": long}], columns=REPORT_COLUMNS)
    text = format_report(report, "zh", width=60)
    assert all(len(line) <= 60 for line in text.splitlines())
    assert long in text.replace("\n", "").replace("    ", "")


def test_inbox_takes_good_files_and_sets_bad_ones_aside(project, settings, plan, geos):
    from helpers.run.inbox import take_inbox
    from helpers.settings import load_settings

    s = load_settings(project / "params" / "settings.yaml")
    inbox = project / "data" / "inbox"
    inbox.mkdir(parents=True)
    rows = _rows(settings, geography_code=DISTRICT, indicator_id="admin_cases", period="2025Q2")
    rows["value"] = "321"
    rows.to_csv(inbox / "good.csv", index=False, encoding="gbk")
    rows["value"] = "-1"
    rows.to_csv(inbox / "bad.csv", index=False)
    events = take_inbox(s)
    assert {(e["event"], e["file"]) for e in events} == {("inbox_ingested", "good.csv"), ("inbox_rejected", "bad.csv")}
    assert (inbox / "ingested" / "good.csv").is_file() and (inbox / "rejected" / "bad.csv").is_file()
    assert (inbox / "rejected" / "bad.csv.errors.csv").is_file() and not list(inbox.glob("*.csv"))
    view = ObservationStore.of(s).view()
    assert _value(view, "admin_cases", DISTRICT, "2025Q2")["value"] == "321"
    assert take_inbox(s) == []  # nothing left


def test_backfill_reads_each_quarter_as_known_at_its_scheduled_run(settings):
    from helpers.plan.periods import Quarter
    from helpers.run.schedule import scheduled_run_time

    t = scheduled_run_time(settings, Quarter(2025, 2))
    assert (t.year, t.month, t.day, t.hour, str(t.tzinfo)) == (2025, 7, 25, 6, "Asia/Shanghai")
    assert scheduled_run_time(settings, Quarter(2025, 4)).strftime("%Y-%m-%d") == "2026-01-25"
