"""The documents and the workbook render from the overview report input (helpers.pages.document.source).

Fast: a run folder of hand-made tables and the overview inputs written into it, no assessment, no
kernel, no PDF."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import pandas as pd
import pytest

from helpers.exceptions import ConfigError
from helpers.model.assess import Assessment
from helpers.pages.document import source
from helpers.pages.report_input import build_report_input, input_path, write_report_input

PROVENANCE = {"run_id": "20251231T000000Z-abc123", "git_commit": "0123456789abcdef0123",
              "started": "2026-01-20T08:00:00+00:00",
              "inputs": [["params/settings.yaml", "s" * 64], ["data/z.csv", "d" * 64], ["data/a.csv", "a" * 64]]}


def _row(plan, ind_id: str, code: str, **kw) -> dict:
    ind = plan.indicator(ind_id)
    return Assessment(indicator_id=ind.id, section=ind.section, geography_code=code, as_of="2025Q4",
                      name_zh=ind.name_zh, name_en=ind.name_en, unit_zh=ind.unit("zh"), unit_en=ind.unit("en"),
                      **kw).row()


@pytest.fixture
def run(tmp_path, settings, plan, geos):
    """A run folder: two targets for the city and Xihu (one achieved, one at risk), and each
    geography's overview input with the run's provenance."""
    ids = [i.id for i in plan.targets if not i.city_only][:2]
    rows = [_row(plan, ids[0], code, status="achieved", sdg_category="met", decided_by="observed",
                 due="2025Q4", latest_period="2025Q4", latest_value=120.0, n_obs=8) for code in ("330100", "330106")]
    rows += [_row(plan, ids[1], code, status="at_risk", probability=0.5512345, decided_by="drift_t",
                  due="2025Q4", n_obs=8) for code in ("330100", "330106")]
    pd.DataFrame(rows).to_csv(tmp_path / "assessments.csv", index=False, float_format="%.6g")
    pd.DataFrame([dict(indicator_id=ids[0], geography_code="330106", period="2025Q4", value=120.0, numerator=None,
                       denominator=None, source="区统计局", note="", year=2025, quarter=4,
                       qindex=2025 * 4 + 3)]).to_csv(
        tmp_path / "validated_data.csv", index=False)
    (tmp_path / "bands.csv").write_text("\n")
    for code in ("330100", "330106"):
        write_report_input(build_report_input(settings, plan, geos, tmp_path, "overview", code, "2025Q4", "zh",
                                              provenance=PROVENANCE), tmp_path)
    return tmp_path


def test_documents_take_the_tables_settings_and_provenance_of_the_input(run, settings):
    tables, inputs = source.document_inputs(settings, run, ["330106", "330100"])
    assert list(inputs) == ["330106", "330100"] and {i.geography for i in inputs.values()} == {"330106", "330100"}
    assert str(tables.quarter) == "2025Q4"
    assert (tables.run_id, tables.git, tables.produced) == (PROVENANCE["run_id"], "0123456789ab", "2026-01-20")
    assert tables.data_sha == f"{'d' * 16}, {'a' * 16}"  # the data files', in the run's order; not the settings'
    assert set(tables.table["geography_code"]) == {"330100", "330106"} and not tables.demo
    # text fields as the model made them: "" where empty, never NaN
    assert tables.table["settled_on"].tolist() == [""] * 4 and tables.table["note"].tolist() == [""] * 4


def test_the_input_s_settings_are_used_not_the_settings_file(run, settings, plan, geos):
    """The input carries the settings as the run validated them: changing the file later changes nothing."""
    values = {**settings.raw, "status": {**settings.raw["status"], "on_track": 0.9}}
    moved = dataclasses.replace(settings, raw=values)  # what build_report_input records
    inp = build_report_input(moved, plan, geos, run, "overview", "330100", "2025Q4", "zh")
    tables = source.run_tables(inp, run)
    assert tables.settings.raw["status"]["on_track"] == 0.9 and settings.raw["status"]["on_track"] != 0.9


def test_a_table_changed_after_the_input_is_refused(run, settings):
    (run / "bands.csv").write_text("indicator_id\n")
    with pytest.raises(ConfigError, match="bands.csv 在报告输入"):
        source.document_inputs(settings, run, ["330106"])


def test_inputs_naming_other_tables_are_refused(run, settings):
    path = input_path(run, "overview", "330106")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["tables"].pop("bands")  # an input of another run: other tables
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match="两份报告输入来自不同的运行"):
        source.document_inputs(settings, run, ["330100", "330106"])


def test_a_run_without_inputs_gets_one_built_from_its_manifest(run, settings):
    import shutil

    shutil.rmtree(run / "inputs")
    (run / "manifest.json").write_text(json.dumps({"quarter": "2025Q4", "run_id": "old-run", "git_commit": "feed",
                                                   "finished": "2026-02-01T00:00:00+00:00",
                                                   "inputs_sha256": {"b.csv": "b" * 64, "a.csv": "a" * 64}}),
                                       encoding="utf-8")
    tables, inputs = source.document_inputs(settings, run)
    assert list(inputs) == ["330100", "330106"]  # every geography with assessments, in the geographies' order
    assert (tables.run_id, tables.git, tables.data_sha, tables.produced) == ("old-run", "feed", f"{'b' * 16}, {'a' * 16}",
                                                                                "2026-02-01")


def test_an_input_of_an_older_layout_is_rebuilt_not_misread(run, settings):
    """A run made before inputs carried provenance (schema 1): its input is rebuilt from the manifest."""
    path = input_path(run, "overview", "330106")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.pop("provenance")
    path.write_text(json.dumps({**doc, "schema_version": 1}), encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps({"quarter": "2025Q4", "run_id": "v1-run"}), encoding="utf-8")
    inp = source.overview_input(settings, run, "330106", "zh")
    assert inp.schema_version == source.SCHEMA_VERSION and inp.provenance["run_id"] == "v1-run"


def test_relative_paths_of_a_published_input_are_under_the_project(run, settings, root):
    inp = source.overview_input(settings, run, "330100", "zh")
    rel = dataclasses.replace(inp, settings={**inp.settings, "path": "params/settings.yaml"},
                              plan={**inp.plan, "path": str(settings.plan_path.relative_to(settings.root))})
    assert source.input_settings(rel, root).root == root
    assert source.input_plan(rel, run, root)[0].sha256 == inp.plan["sha256"]
    with pytest.raises(ConfigError, match="登记表在报告输入"):
        source.input_plan(dataclasses.replace(inp, plan={**inp.plan, "sha256": "0" * 64}), run, root)


def test_the_document_prints_the_input_s_provenance(run, settings):
    from helpers.pages.document.blocks import Para
    from helpers.pages.document.content import build_document

    tables, _ = source.document_inputs(settings, run, ["330106"])
    doc = build_document(tables, "330106", "zh")
    text = "\n".join(b.text for b in doc.blocks if isinstance(b, Para))
    assert f"运行编号 {PROVENANCE['run_id']}，代码版本 0123456789ab，数据文件 SHA-256 {'d' * 16}, {'a' * 16}。" in text


def test_workbook_from_the_city_s_input_addresses_columns_by_name(run, settings):
    from openpyxl import load_workbook

    from helpers.i18n import STATUS_COLOURS, dt
    from helpers.pages.document.narrative import verdict_label
    from helpers.pages.report_input import read_report_input
    from helpers.pages.workbook import write_workbook_from_input

    inp = read_report_input(input_path(run, "overview", "330100"))
    ws = load_workbook(write_workbook_from_input(run / "a.xlsx", inp, run))[dt("zh", "wb_assessments")]
    header = [c.value for c in ws[1]]
    col = {k: header.index(dt("zh", k)) for k in ("c_status", "c_probability", "c_due", "c_geo_code")}
    rows = [r for r in ws.iter_rows(min_row=2) if r[col["c_geo_code"]].value == "330106"]
    at_risk = next(r for r in rows if r[col["c_probability"]].value is not None)
    # the probability as assessments.csv holds it (6 significant digits), formatted as a percentage
    assert at_risk[col["c_probability"]].value == 0.551234 and at_risk[col["c_probability"]].number_format == "0%"
    status = at_risk[col["c_status"]]
    assert status.value == verdict_label("at_risk", "zh")
    assert status.fill.fgColor.rgb.lower().endswith(STATUS_COLOURS["at_risk"].lstrip("#").lower())
    assert at_risk[col["c_due"]].value == "2025Q4"


def test_workbook_quotes_the_thresholds_of_the_input_s_settings(run, settings, plan, geos):
    from openpyxl import load_workbook

    from helpers.i18n import dt
    from helpers.pages.workbook import write_workbook_from_input

    values = {**settings.raw, "status": {**settings.raw["status"], "on_track": 0.9}}
    inp = build_report_input(dataclasses.replace(settings, raw=values), plan, geos, run, "overview", "330100",
                             "2025Q4", "zh")
    ws = load_workbook(write_workbook_from_input(run / "b.xlsx", inp, run))[dt("zh", "wb_notes")]
    notes = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert "概率≥90%" in notes and "概率≥80%" not in notes


def test_the_run_writes_an_overview_input_for_every_document_geography():
    from helpers.run.page_jobs import document_geographies, input_provenance

    inp = SimpleNamespace(geos=SimpleNamespace(city=SimpleNamespace(code="330100")),
                          pairs=[("enforcement", "330106"), ("judicial", "330106"), ("enforcement", "330102")])
    assert document_geographies(inp) == ["330100", "330106", "330102"]  # the city's: the workbook's input
    from datetime import datetime, timezone

    prov = input_provenance({"run_id": "r", "git_commit": None, "inputs": {"/p/b.csv": "y", "/p/a.csv": "x"},
                             "started": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)})
    assert prov == {"run_id": "r", "git_commit": "", "started": "2026-01-02T03:04:05+00:00",
                    "inputs": [["/p/b.csv", "y"], ["/p/a.csv", "x"]]}
    json.dumps(prov)  # plain JSON values: the input is a JSON file


def test_the_workbook_and_the_documents_share_the_series_of_the_same_data(run, settings, plan, geos):
    from helpers.data.series import SeriesIndex, indicator_series
    from helpers.pages.report_input import read_report_input
    from helpers.pages.workbook import write_workbook_from_input

    source._SERIES.clear()
    write_workbook_from_input(run / "a.xlsx", read_report_input(input_path(run, "overview", "330100")), run)
    [(key, index)] = source._SERIES.items()
    assert index.memo  # the 一览表's series, kept
    tables, _ = source.document_inputs(settings, run, ["330106"])
    assert tables.data_key == key and tables.series is index  # the documents read the same file: built once
    ind, xihu = plan.indicator(tables.table["indicator_id"].iloc[0]), geos.get("330106")
    kept = indicator_series(tables.series, ind, xihu, geos, tables.quarter)
    pd.testing.assert_frame_equal(kept, indicator_series(SeriesIndex(tables.frame), ind, xihu, geos, tables.quarter))
    assert kept["value"].tolist() == [120.0]

    frame = tables.frame.assign(value=tables.frame["value"] * 2)  # other data: another key, another index
    other = source.shared_series(frame, ("other", *key[1:]))
    assert other is not index and other.frame is frame and list(source._SERIES) == [("other", *key[1:])]
