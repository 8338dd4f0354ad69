"""The chart step (drawn once, cached by content, PNG at 200 dpi and SVG, zipped) and the chart defects."""

from __future__ import annotations

import struct
import zipfile

import numpy as np
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


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(33)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_charts_drawn_once_cached_and_zipped(tmp_path, plan, geos, demo_frame, assessed):
    from helpers.pages.charts import FIGSIZE_PX, chart_path, render_charts

    specs = _specs(plan, geos, demo_frame, assessed, [("judicial", "330100"), ("judicial", "330106")])
    n_city = len(plan.indicators_in("judicial"))
    n_district = len([i for i in plan.indicators_in("judicial") if not i.city_only])
    assert len(specs) == n_city + n_district
    cache = tmp_path / "cache"
    first = render_charts(tmp_path / "run1", specs, cache, workers=2)
    assert first["drawn"] == len(specs) and first["reused"] == 0
    for s in specs:
        png = chart_path(tmp_path / "run1", s.indicator_id, s.geography_code)
        assert _png_size(png) == FIGSIZE_PX  # 7.2 x 3.8 in at 200 dpi
        svg = png.with_suffix(".svg").read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml") and s.labels["title"] in svg  # text kept as text
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
    with zipfile.ZipFile(tmp_path / "run3" / "charts.zip") as zf:
        names = set(zf.namelist())
    assert {f"{s.indicator_id}/{s.geography_code}.{e}" for s in specs for e in ("png", "svg")} == names


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
