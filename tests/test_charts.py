"""The chart step (drawn once per reader's form, cached by content: SVG for pages, JPEG at 200 dpi for documents;
the SVG published once in charts.zip, a zip with the JPEGs on demand) and the chart defects."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from helpers.plan.periods import Quarter

Q = Quarter(2025, 2)


@pytest.fixture(scope="module")
def assessed(settings, plan, geos, demo_frame):
    """Assessments for the city and Xihu (330106), 200 paths."""
    from helpers.model.assess import StatusThresholds, assess_all
    from helpers.model.forecast import ForecastSettings

    fs = ForecastSettings.from_mapping({**settings.block("forecast"), "n_paths": 200})
    table, bands = assess_all(demo_frame, plan, geos, Q, fs, StatusThresholds(**settings.block("status")),
                              geographies=["330100", "330106"], workers=2)
    return table, bands


def _specs(plan, geos, frame, assessed, pairs, published=None):
    from helpers.pages.charts import run_specs

    table, bands = assessed
    return run_specs(frame, plan, geos, Q, table, bands, "zh", pairs, published)


def _jpeg_size(path):
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "JPEG"
        return im.size


def test_charts_drawn_once_cached_and_zipped(tmp_path, plan, geos, demo_frame, assessed):
    from helpers.pages.chartfiles import print_pictures, zip_charts
    from helpers.pages.chartpool import render_charts
    from helpers.pages.charts import DISPLAY_WIDTH, FIGSIZE_PX, chart_path

    specs = _specs(plan, geos, demo_frame, assessed, [("judicial", "330100"), ("judicial", "330106")])
    n_city = len(plan.indicators_in("judicial"))
    n_district = len([i for i in plan.indicators_in("judicial") if not i.city_only])
    assert len(specs) == n_city + n_district
    cache = tmp_path / "cache"
    # a run without documents draws the pages' SVG only
    pages_only = render_charts(tmp_path / "run0", specs[:1], cache, workers=1, documents=False)
    assert pages_only["drawn"] == 1
    assert chart_path(tmp_path / "run0", specs[0].indicator_id, specs[0].geography_code).is_file()
    assert not list((tmp_path / "run0" / "charts").rglob("*.jpg")) and not list(cache.glob("*.jpg"))
    first = render_charts(tmp_path / "run1", specs, cache, workers=2)
    assert first["drawn"] == len(specs) and first["reused"] == 0  # the first one lacked its JPEG
    pictures = print_pictures(tmp_path / "run1", cache)
    assert not list((tmp_path / "run1").rglob("*.jpg"))  # the print JPEG stays in the cache: the documents carry it
    for s in specs:
        svg_path = chart_path(tmp_path / "run1", s.indicator_id, s.geography_code)
        assert _jpeg_size(pictures[(s.indicator_id, s.geography_code)]) == FIGSIZE_PX  # 7.2 x 3.8 in at 200 dpi
        assert not svg_path.with_suffix(".png").exists()
        svg = svg_path.read_text(encoding="utf-8")
        assert svg.startswith("<svg") and s.labels["title"] in svg  # text kept as text, ready to inline
        assert f'width="{DISPLAY_WIDTH}"' in svg[:600] and "<metadata>" not in svg and "sans-serif" in svg
    # a second run with the same data reuses every chart from the cache, byte for byte
    second = render_charts(tmp_path / "run2", specs, cache, workers=2)
    assert second["drawn"] == 0 and second["reused"] == len(specs)
    s0 = specs[0]
    assert (chart_path(tmp_path / "run1", s0.indicator_id, s0.geography_code).read_bytes()
            == chart_path(tmp_path / "run2", s0.indicator_id, s0.geography_code).read_bytes())
    # one changed value changes that chart's hash only
    changed = specs[0]
    changed.history.loc[changed.history.index[-1], "value"] += 1
    third = render_charts(tmp_path / "run3", specs, cache, workers=1)
    assert third["drawn"] == 1
    assert not (tmp_path / "run3" / "charts.zip").exists()  # packed by the run, last (pack_charts), not here
    with zipfile.ZipFile(zip_charts(tmp_path / "run3", tmp_path / "slides.zip", cache)) as zf:
        names = set(zf.namelist())
    assert {f"{s.indicator_id}/{s.geography_code}.{e}" for s in specs for e in ("jpg", "svg")} == names


def test_chart_size_is_one_constant():
    from helpers.pages import charts, plots

    assert charts.FIGSIZE == plots.FIGSIZE


def test_compact_svg_is_fit_to_inline():
    from helpers.pages.charts import compact_svg

    raw = ('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
           '  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns:xlink="http://www.w3.org/1999/xlink" '
           'width="518.4pt" height="273.6pt" viewBox="0 0 518.4 273.6" xmlns="http://www.w3.org/2000/svg" version="1.1">'
           '\n <metadata>\n  <rdf:RDF>x</rdf:RDF>\n </metadata>\n <text style="font: 11px \'Noto Sans CJK SC\'">标题</text></svg>')
    out = compact_svg(raw)
    assert out.startswith("<svg") and "<metadata>" not in out and "DOCTYPE" not in out
    assert 'width="720" height="380"' in out and 'viewBox="0 0 518.4 273.6"' in out
    assert "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif" in out


def test_store_notebook_keeps_a_reference_not_the_picture(tmp_path):
    import json

    import nbformat

    from helpers.pages.report import store_notebook

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg/>", "text/plain": "[t](charts/a/1.svg)"},
                                           metadata={"image/svg+xml": {"alt": "t"}, "ipeval": {"chart": "charts/a/1.svg"}}),
                    nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "drawn here"})]
    nb.cells.append(cell)
    store_notebook(nb, tmp_path / "nb.ipynb")
    outs = json.loads((tmp_path / "nb.ipynb").read_text(encoding="utf-8"))["cells"][0]["outputs"]
    assert outs[0]["data"] == {"text/plain": "[t](charts/a/1.svg)"} and outs[0]["metadata"]["ipeval"]["chart"]
    assert outs[1]["data"]["image/png"] == "AAAA"  # a picture the kernel drew itself stays
    nbformat.validate(nbformat.read(str(tmp_path / "nb.ipynb"), as_version=4))


def _target_lines(fig):
    return [ln for ln in fig.axes[0].get_lines() if ln.get_color() == "#d1242f"]


def test_district_chart_has_no_city_target_line(plan, geos, demo_frame, assessed):
    """A district's count toward a target set for the city (admin_cases >= 1000) is not drawn against it."""
    from helpers.pages.charts import draw

    specs = {(s.indicator_id, s.geography_code): s
             for s in _specs(plan, geos, demo_frame, assessed, [("enforcement", "330100"), ("enforcement", "330106")])}
    district = specs[("admin_cases", "330106")]
    assert district.assessment["status"] == "reference" and not district.show_target
    assert not _target_lines(draw(district))
    assert len(_target_lines(draw(specs[("admin_cases", "330100")]))) == 1


def test_years_in_the_zone_period_are_not_before_it(plan, geos, demo_frame, assessed):
    """fast_preexamination's target is dated 2025, but 2023 and 2024 are in the zone period: only
    2021-2022 bars are grey ("before the plan")."""
    from helpers.pages.charts import draw

    spec = next(s for s in _specs(plan, geos, demo_frame, assessed, [("enforcement", "330100")])
                if s.indicator_id == "fast_preexamination")
    fig = draw(spec)
    grey = [round(p.get_x() + p.get_width() / 2) for p in fig.axes[0].patches
            if np.allclose(p.get_facecolor()[:3], (0xb0 / 255, 0xb7 / 255, 0xbf / 255))]
    assert grey and max(grey) < plan.zone_start.year


@pytest.mark.parametrize("ind", ["mediation_success_rate", "ruling_cycle_days"])
def test_target_line_inside_the_axes_and_legend_below(plan, geos, demo_frame, assessed, ind):
    from helpers.pages.charts import draw

    spec = next(s for s in _specs(plan, geos, demo_frame, assessed, [("enforcement", "330100"), ("judicial", "330100")])
                if s.indicator_id == ind)
    fig = draw(spec)
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    target = spec.assessment["target_value"]
    margin = 0.05 * (hi - lo)
    assert lo + margin < target < hi - margin  # never along the frame
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 <= ax.get_window_extent().y0  # under the axes, never over the data or the target


def test_published_figures_marked_only_where_comparable(plan, geos, demo_frame, assessed, root):
    """A quarter-end level (62.6 high-value patents per 10k at 2024Q4) is a point of its series; a
    yearly total next to quarterly flows (453.4亿元) is not drawn, and districts get none."""
    from helpers.data.reference import published_figures

    pub = published_figures(root)
    assert (pub["value"] == 62.6).any() and not pub["source"].str.contains(r"\.(?:md|txt)\b").any()
    specs = {(s.indicator_id, s.geography_code): s for s in _specs(
        plan, geos, demo_frame, assessed, [("innovation", "330100"), ("financing", "330100"), ("innovation", "330106")],
        pub)}
    hv = specs[("high_value_patents_per_10k", "330100")].published
    assert list(hv["period"]) == ["2024Q4"] and list(hv["value"]) == [62.6]
    assert specs[("pledge_financing_amount", "330100")].published.empty
    assert specs[("high_value_patents_per_10k", "330106")].published.empty


def test_reference_reader_keeps_a_note_with_an_unquoted_comma(tmp_path):
    from helpers.data.reference import REFERENCE_FILE, published_figures

    p = tmp_path / REFERENCE_FILE
    p.parent.mkdir(parents=True)
    p.write_text("indicator_id,geography_code,period,value,numerator,denominator,source,note\n"
                 "ruling_cycle_days,330100,2024,50,,,新闻发布会 2025-04-23,缩短至50日内 (an upper bound, not exact)\n",
                 encoding="utf-8")
    df = published_figures(tmp_path)
    assert len(df) == 1
    assert df["says"].iloc[0] == "缩短至50日内" and df["remark"].iloc[0] == "an upper bound, not exact"


def test_unchanged_chart_inputs_reuse_the_published_charts_without_specifications(tmp_path):
    from helpers.pages.chartfiles import charts_stamp, reuse_charts, write_stamp
    from helpers.pages.charts import CHARTS_DIR, INDEX_FILE, chart_path

    prev, run = tmp_path / "prev", tmp_path / "run"
    for d in (prev, run):
        d.mkdir()
        (d / "assessments.csv").write_text("a\n1\n", encoding="utf-8")
        (d / "bands.csv").write_text("b\n", encoding="utf-8")
        (d / "validated_data.csv").write_text("v\n", encoding="utf-8")
    args = dict(plan_sha="p", geos_sha="g", quarter="2025Q2", lang="zh", pairs=[("judicial", "330100")], documents=False)
    stamp = charts_stamp(prev, **args)
    assert charts_stamp(run, **args) == stamp
    chart_path(prev, "x", "330100").parent.mkdir(parents=True)
    chart_path(prev, "x", "330100").write_text("<svg/>", encoding="utf-8")
    (prev / CHARTS_DIR / INDEX_FILE).write_text('{"x": {"330100": {"sha256": "h", "title": "t"}}}', encoding="utf-8")
    assert reuse_charts(run, prev, stamp) is None  # no stamp recorded with the previous charts
    write_stamp(prev, stamp)
    assert reuse_charts(run, prev, charts_stamp(run, **{**args, "lang": "en"})) is None
    assert reuse_charts(run, prev, stamp) is None  # the previous run recorded no checksum for its chart
    import json

    from helpers.files import FILES_KEY, sha256_file

    rel = chart_path(prev, "x", "330100").relative_to(prev).as_posix()
    (prev / "manifest.json").write_text(json.dumps({FILES_KEY: {rel: sha256_file(prev / rel)}}), encoding="utf-8")
    stats = reuse_charts(run, prev, stamp)
    assert stats["reused"] == 1 and chart_path(run, "x", "330100").read_text(encoding="utf-8") == "<svg/>"
    # a copy, not a link: emptying the new run's chart leaves the published one as it was
    chart_path(run, "x", "330100").write_text("", encoding="utf-8")
    assert chart_path(prev, "x", "330100").read_text(encoding="utf-8") == "<svg/>"
    # a published chart edited after its run: not reused (drawn again)
    chart_path(prev, "x", "330100").write_text("<svg>TAMPERED</svg>", encoding="utf-8")
    assert reuse_charts(tmp_path / "run2", prev, stamp) is None
    (run / "assessments.csv").write_text("a\n2\n", encoding="utf-8")  # one assessment moved
    assert charts_stamp(run, **args) != stamp


def test_published_charts_zip_is_the_one_copy_reused_and_carried(tmp_path):
    """charts.zip holds the run's SVG files (then removed), the same bytes for the same charts; the
    next run reuses them from it, verified; a subset run carries the charts it did not draw."""
    import json

    from helpers.files import seal_manifest
    from helpers.pages.chartfiles import ZIP_NAME, pack_charts, published_svgs, reuse_charts, write_stamp, zip_charts
    from helpers.pages.charts import CHARTS_DIR, INDEX_FILE, chart_path

    def run(name, charts):
        d = tmp_path / name
        for (ind, code), text in charts.items():
            chart_path(d, ind, code).parent.mkdir(parents=True, exist_ok=True)
            chart_path(d, ind, code).write_text(text, encoding="utf-8")
        index = {ind: {code: {"sha256": "h", "title": "t"} for (i, code) in charts if i == ind} for ind, _ in charts}
        (d / CHARTS_DIR / INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")
        return d

    one = run("one", {("x", "330100"): "<svg>a</svg>", ("x", "330106"): "<svg>b</svg>"})
    stats = pack_charts(one)
    assert stats == {"charts": 2, "carried": 0, "bytes": (one / ZIP_NAME).stat().st_size}
    assert not list((one / CHARTS_DIR).rglob("*.svg")) and (one / CHARTS_DIR / INDEX_FILE).is_file()
    with zipfile.ZipFile(one / ZIP_NAME) as zf:
        assert zf.namelist() == ["x/330100.svg", "x/330106.svg"] and zf.read("x/330106.svg") == b"<svg>b</svg>"
        assert zf.getinfo("x/330100.svg").compress_type == zipfile.ZIP_DEFLATED
    again = run("again", {("x", "330100"): "<svg>a</svg>", ("x", "330106"): "<svg>b</svg>"})
    pack_charts(again)
    assert (again / ZIP_NAME).read_bytes() == (one / ZIP_NAME).read_bytes()  # same charts, same bytes
    assert published_svgs(one) == {}  # nothing recorded by a manifest: nothing trusted
    (one / "manifest.json").write_text("{}", encoding="utf-8")
    seal_manifest(one)
    assert set(published_svgs(one)) == {"x/330100.svg", "x/330106.svg"}
    # the next run with the same chart inputs: its files from the zip
    write_stamp(one, "s")
    assert reuse_charts(tmp_path / "two", one, "s")["reused"] == 2
    assert chart_path(tmp_path / "two", "x", "330106").read_text(encoding="utf-8") == "<svg>b</svg>"
    # a subset run that drew one chart again: the other carried from the published zip
    three = run("three", {("x", "330106"): "<svg>B</svg>"})
    assert pack_charts(three, one)["carried"] == 1
    with zipfile.ZipFile(three / ZIP_NAME) as zf:
        assert zf.read("x/330100.svg") == b"<svg>a</svg>" and zf.read("x/330106.svg") == b"<svg>B</svg>"
    with zipfile.ZipFile(zip_charts(one, tmp_path / "slides.zip", tmp_path / "no-cache")) as zf:
        assert zf.namelist() == ["x/330100.svg", "x/330106.svg"]  # on demand from a published run too
    # a published zip edited after its run: not reused, not carried
    (one / ZIP_NAME).write_bytes((one / ZIP_NAME).read_bytes() + b"x")
    assert reuse_charts(tmp_path / "four", one, "s") is None and published_svgs(one) == {}


@pytest.mark.parametrize(("lang", "due"), [("zh", "期限 2025年第四季度"), ("en", "Due 2025Q4")])
def test_the_legend_writes_the_due_date_in_the_readers_words(plan, lang, due):
    """A Chinese legend reads 期限 2025年第四季度, never 期限 2025Q4 (issue 16 item 7)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from helpers.pages import plots
    from helpers.pages.charts import chart_labels

    labels = chart_labels(plan.indicator("mediation_success_rate"), lang)
    history = pd.DataFrame({"period": ["2024Q3", "2024Q4", "2025Q1"], "value": [31.0, 33.0, 34.0]})
    fig = plots.indicator_chart(history, pd.DataFrame(), {"status": "at_risk", "due": "2025Q4", "target_value": 37.0,
                                                         "direction_symbol": "≥"}, labels)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    plt.close(fig)
    assert due in texts, texts
    if lang == "zh":
        assert not [t for t in texts if "Q4" in t], texts


def test_only_the_charts_the_documents_show_get_a_print_picture(tmp_path, plan, geos, demo_frame, assessed):
    """The 200 dpi JPEG is about half a chart's drawing time: drawn for the charts the documents show (a
    geography's judged targets), not for the reference rows they show in tables only."""
    from helpers.pages.chartfiles import print_pictures
    from helpers.pages.chartpool import render_charts
    from helpers.run.stages import printed_charts

    table, _ = assessed
    printed = printed_charts(table)
    district = {(r["indicator_id"], r["geography_code"]) for r in table.to_dict("records")
                if r["geography_code"] == "330106"}
    reference = {(r["indicator_id"], r["geography_code"]) for r in table.to_dict("records") if r["status"] == "reference"}
    assert reference and not (printed & reference)  # a reference row is not charted in the documents
    assert printed & district  # a district's own targets are
    specs = _specs(plan, geos, demo_frame, assessed, [("judicial", "330100"), ("judicial", "330106")])
    cache = tmp_path / "cache"
    render_charts(tmp_path / "run", specs, cache, workers=1, printed=printed)
    pictures = print_pictures(tmp_path / "run", cache)
    keys = {(s.indicator_id, s.geography_code) for s in specs}
    assert set(pictures) == keys & printed and keys - printed  # some charts drawn for the pages only
    # a later run whose documents show more charts draws their print pictures (the SVG-only entries are misses)
    again = render_charts(tmp_path / "run2", specs, cache, workers=1, printed=None)
    assert again["drawn"] == len(keys - printed)
    assert set(print_pictures(tmp_path / "run2", cache)) == keys


def test_the_runs_specifications_are_each_charts_own(plan, geos, demo_frame, assessed, root):
    """run_specs splits the data and the bands once (helpers.data.series.SeriesIndex): each chart
    shows exactly what chart_spec makes of the whole frame and the whole bands table."""
    from helpers.data.reference import published_figures
    from helpers.pages.charts import chart_spec

    table, bands = assessed
    # a pair without bands too (chart_spec's selection from the whole table, empty)
    bands = bands[(bands["indicator_id"] != "admin_cases") | (bands["geography_code"] != "330106")]
    published = published_figures(root)
    pairs = [(sec.id, code) for code in ("330100", "330106") for sec in plan.sections]
    specs = _specs(plan, geos, demo_frame, (table, bands), pairs, published)
    rows = table.set_index(["indicator_id", "geography_code"])
    assert len(specs) > 20 and any(len(s.bands) for s in specs) and any(not len(s.bands) for s in specs)
    assert any(len(s.published) for s in specs)
    for s in specs:
        key = (s.indicator_id, s.geography_code)
        own = chart_spec(demo_frame, plan, plan.indicator(s.indicator_id), geos.get(s.geography_code), geos, Q,
                         rows.loc[key].to_dict(), bands, "zh", published)
        for name in ("history", "bands", "published"):
            pd.testing.assert_frame_equal(getattr(s, name), getattr(own, name), check_exact=True)
        assert s.digest() == own.digest()
