"""The report input (helpers.pages.report_input): one typed, versioned JSON per page, from a run folder.

Fast: a run folder of hand-made tables, no assessment and no kernel."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from helpers.exceptions import ConfigError
from helpers.pages import report_input as ri
from helpers.pages.notes import note_codes


@pytest.fixture
def run_tables(tmp_path, plan, geos):
    """A run folder with the three tables a page reads: two rows of enforcement for Xihu, one of another geography."""
    inds = [i.id for i in plan.page_indicators("enforcement") if not i.city_only]
    rows = [dict(indicator_id=inds[0], geography_code="330106", status="at_risk", probability=0.4123,
                 note="17 observations (< 3): rule-based layer only; target not met by 2025Q4"),
            dict(indicator_id=inds[1], geography_code="330106", status="on_track", probability=float("nan"), note=""),
            dict(indicator_id=inds[0], geography_code="330105", status="off_track", probability=0.1, note="no data")]
    pd.DataFrame(rows).to_csv(tmp_path / "assessments.csv", index=False)
    (tmp_path / "bands.csv").write_text("\n")
    (tmp_path / "validated_data.csv").write_text("indicator_id,geography_code,period,qindex,year,quarter,value,"
                                                 "numerator,denominator,source,note\n")
    return tmp_path


def test_input_round_trips_through_json_and_holds_the_pages_rows(run_tables, settings, plan, geos):
    inp = ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106", "2025Q4", "zh")
    path = ri.write_report_input(inp, run_tables)
    assert path == run_tables / "inputs" / "enforcement" / "330106.json"
    back = ri.read_report_input(path)
    assert back == inp and back.schema_version == ri.SCHEMA_VERSION
    assert dataclasses.is_dataclass(back) and ri.run_folder(path) == run_tables.resolve()
    # only this geography's rows, NaN as null, the note as codes with their numbers
    assert [r["geography_code"] for r in back.rows] == ["330106", "330106"]
    assert back.rows[1]["probability"] is None
    assert back.rows[0]["note_codes"] == ({"code": "rules_only", "n": "17", "min": "3"},
                                          {"code": "not_met_by", "due": "2025Q4"})
    assert back.geography_name["zh"] == "西湖区" and back.settings["values"] == settings.raw
    assert set(back.tables) == {"assessments", "bands", "validated_data"}  # no changes.csv in this folder
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.section = "judicial"  # type: ignore[misc]


def test_same_input_same_bytes(run_tables, settings, plan, geos):
    a = ri.build_report_input(settings, plan, geos, run_tables, "overview", "330106", "2025Q4", "en")
    b = ri.build_report_input(settings, plan, geos, run_tables, "overview", "330106", "2025Q4", "en")
    assert a.to_json() == b.to_json()
    assert json.loads(a.to_json())["section_name"]["en"] == plan.page_name("overview", "en")


def test_reader_refuses_another_schema_version_and_changed_tables(run_tables, settings, plan, geos):
    path = ri.write_report_input(ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106",
                                                       "2025Q4", "zh"), run_tables)
    doc = json.loads(path.read_text(encoding="utf-8"))
    (run_tables / "assessments.csv").write_text((run_tables / "assessments.csv").read_text() + "x,330106\n")
    with pytest.raises(ConfigError, match="assessments.csv 在报告输入 .* 写出之后被改动过"):
        ri.read_report_input(path)
    path.write_text(json.dumps({**doc, "schema_version": 99}), encoding="utf-8")
    with pytest.raises(ConfigError, match="格式版本为 99"):
        ri.read_report_input(path)


def test_builder_checks_its_parameters(run_tables, settings, plan, geos):
    from helpers.exceptions import IpevalError

    with pytest.raises(IpevalError):
        ri.build_report_input(settings, plan, geos, run_tables, "no_such_section", "330106", "2025Q4", "zh")
    with pytest.raises(IpevalError):
        ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "999999", "2025Q4", "zh")
    with pytest.raises(ConfigError, match="lang"):
        ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106", "2025Q4", "fr")
    (run_tables / "bands.csv").unlink()
    with pytest.raises(ConfigError, match="bands.csv 缺失"):
        ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106", "2025Q4", "zh")


def test_page_context_loads_from_the_input_without_reading_the_settings_file(run_tables, settings, plan, geos,
                                                                            monkeypatch):
    import helpers.settings
    from helpers.pages import context, sections

    path = ri.write_report_input(ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106",
                                                       "2025Q4", "en"), run_tables)

    def no_file(*a, **k):
        raise AssertionError("a page read the settings file")

    monkeypatch.setattr(helpers.settings, "load_settings", no_file)
    monkeypatch.setattr(context, "load_settings", no_file)
    ctx = sections.open_context(report_input=str(path))
    assert (ctx.section, ctx.geography.code, str(ctx.quarter), ctx.lang) == ("enforcement", "330106", "2025Q4", "en")
    assert ctx.settings.raw == settings.raw and ctx.run_dir == str(run_tables.resolve())
    assert len(ctx.assessments) == 3 and ctx.input.rows[0]["status"] == "at_risk"


@pytest.mark.parametrize("note, codes", [
    ("", ()),
    (float("nan"), ()),
    ("target missed in 2023, 2024", ({"code": "missed_in", "years": "2023, 2024"},)),
    ("target set for the city as a whole; shown for reference; no data",
     ({"code": "city_whole"}, {"code": "no_data"})),
    ("something new", ({"code": "text", "text": "something new"},)),
])
def test_note_codes(note, codes):
    assert note_codes(note) == codes


def test_page_uses_the_tables_the_fork_server_read_only_while_their_bytes_are_unchanged(run_tables, settings, plan,
                                                                                        geos, monkeypatch):
    from helpers.pages import context

    monkeypatch.setattr(context, "_PRELOADED", {})
    monkeypatch.setattr(context, "_DEMO", {})
    monkeypatch.setattr(context, "_PUBLISHED", {})
    from helpers.data import series as series_module

    monkeypatch.setattr(series_module, "_SHARED", {})
    path = ri.write_report_input(ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106",
                                                       "2025Q4", "en"), run_tables)
    context.preload_run(run_tables)  # as the fork server does before forking the run's kernels
    pre = {k[0].rsplit("/", 1)[-1]: v for k, v in context._PRELOADED.items()}
    assert set(pre) == {"assessments.csv", "bands.csv", "validated_data.csv"}
    ctx = context.load_context(path)
    assert ctx.assessments is pre["assessments.csv"] and ctx.frame is pre["validated_data.csv"]
    # the series of the quarter, built once by the server, for the page's frame
    assert len(series_module.SeriesIndex.of(ctx.frame).memo) == len(plan.indicators) * len(geos.all)
    fresh = context._read_assessments(run_tables / "assessments.csv")
    pd.testing.assert_frame_equal(ctx.assessments, fresh)
    # another run's table of the same name (other bytes, so another SHA-256) is read from its file
    other = ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106", "2025Q4", "en")
    key = next(k for k in context._PRELOADED if k[0].endswith("assessments.csv"))
    context._PRELOADED[(key[0], "0" * 64)] = context._PRELOADED.pop(key)
    ctx2 = context.context_from_input(other, run_tables)
    assert ctx2.assessments is not pre["assessments.csv"]
    pd.testing.assert_frame_equal(ctx2.assessments, fresh)
    # the demo flag and the published figures the server worked out: the same as a kernel's own, the
    # figures a copy (a page changing them changes its own), read again once their file changed
    from helpers.data.reference import published_figures

    frame = pre["validated_data.csv"]
    assert context._DEMO == {id(frame): bool(frame["source"].astype(str).str.startswith("DEMO").any())}
    assert ctx.demo == context._DEMO[id(frame)]
    read = published_figures(settings.root)
    assert len(read) and ctx.published is not context._PUBLISHED[str(settings.root)][1]
    pd.testing.assert_frame_equal(ctx.published, read)
    signature, table = context._PUBLISHED[str(settings.root)]
    context._PUBLISHED[str(settings.root)] = ((0, 0), table.iloc[:1])  # as if the file had changed since
    pd.testing.assert_frame_equal(context.load_context(path).published, read)


def test_an_input_names_the_charts_planned_while_they_are_still_drawn(run_tables, settings, plan, geos):
    """Written while the run's workers draw the charts (pages/chartpool.py), an input names the charts the
    run will hold, not the files there so far; without that list, the files there."""
    first = [i.id for i in plan.page_indicators("enforcement") if not i.city_only][0]
    drawn = run_tables / "charts" / "overview" / "330106.svg"
    drawn.parent.mkdir(parents=True)
    drawn.write_text("<svg/>", encoding="utf-8")
    planned = {f"charts/{first}/330106.svg"}
    inp = ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106", "2025Q4", "zh",
                                planned_charts=planned)
    assert inp.charts == {first: f"charts/{first}/330106.svg"}
    files = ri.build_report_input(settings, plan, geos, run_tables, "enforcement", "330106", "2025Q4", "zh")
    assert files.charts == {"overview": "charts/overview/330106.svg"}
