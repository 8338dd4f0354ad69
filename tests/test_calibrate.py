"""Tests of helpers.model.calibrate and helpers.model.scoring, and the ``ipeval calibrate`` command.

The data are a handful of real M3 series (tests/data/README.md); the full development files are
not in the repository and the goals are printed by the command, never asserted here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers.cli import app
from helpers.exceptions import ConfigError, DataValidationError
from helpers.model import calibrate
from helpers.model.calibrate import (
    COLUMNS,
    METHODS,
    calibrate_files,
    infer_freq,
    read_series,
    run_calibration,
    summarise,
)
from helpers.model.forecast import ForecastSettings
from helpers.model.scoring import calibration_slope

DATA = Path(__file__).parent / "data"
YEARLY, QUARTERLY = DATA / "m3_sample_yearly.csv", DATA / "m3_sample_quarterly.csv"
FAST = ForecastSettings(n_paths=400)


@pytest.fixture(scope="module")
def yearly():
    return read_series(YEARLY)


# --------------------------------------------------------------------------- reading


def test_reads_the_long_format_in_t_order(yearly):
    frame, series = yearly
    assert sorted(series) == ["N1", "N200", "N289", "N385", "N481", "N572"]
    n1 = frame[frame["series"] == "N1"].sort_values("t")["value"].to_numpy()
    assert np.array_equal(series["N1"], n1)
    assert series["N1"][:2] == pytest.approx([940.66, 1084.86])


@pytest.mark.parametrize("path, freq", [(YEARLY, "yearly"), (QUARTERLY, "quarterly")])
def test_frequency_is_inferred_from_the_periods(path, freq):
    frame, _ = read_series(path)
    assert infer_freq(frame, path) == freq


def test_frequency_from_periods_beats_the_file_name():
    frame = pd.DataFrame({"start_period": [1, 2, 3, 4]})
    assert infer_freq(frame, "annual_data.csv") == "quarterly"
    assert infer_freq(pd.DataFrame({"start_period": [1, 1]}), "x.csv") == "yearly"


def test_ambiguous_periods_need_freq():
    with pytest.raises(ConfigError, match="--freq"):
        infer_freq(pd.DataFrame({"start_period": [1, 3]}), "series.csv")
    with pytest.raises(ConfigError, match="start_period"):
        infer_freq(pd.DataFrame({"start_period": [1, 12]}), "monthly.csv")


def test_bad_values_are_reported_with_file_row_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    text = YEARLY.read_text().splitlines()
    row = text[3].split(",")
    row[-1] = "-5"
    text[3] = ",".join(row)
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(DataValidationError) as err:
        read_series(bad)
    f = err.value.failures
    assert list(f[["row", "column"]].iloc[0]) == [3, "value"]
    assert str(bad) in f["file"].iloc[0]


def test_missing_column_is_named(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.read_csv(YEARLY).drop(columns="t").to_csv(bad, index=False)
    with pytest.raises(DataValidationError, match="'t'"):
        read_series(bad)


@pytest.mark.parametrize(("content", "message"), [(b"", "不是校准数据表"),
                                                  (b"series,category,start_year,start_period,t,value\n", "没有数据行")])
def test_an_empty_file_is_the_users_error_not_a_bug(tmp_path, content, message):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(content)
    with pytest.raises(DataValidationError, match=message):
        read_series(empty)


# --------------------------------------------------------------------------- the experiment


def test_origins_leave_room_before_and_after():
    assert calibrate._origins(20, 4, 3, 3) == [3, 10, 16]  # first, middle, last possible
    assert calibrate._origins(7, 4, 3, 3) == [3]
    assert calibrate._origins(6, 4, 3, 3) == []


def test_rules_known_answers():
    window = np.array([100.0, 110.0, 121.0])  # 10% a year for 2 years
    targets = 121.0 * (1 + np.array([-0.05, 0.0, 0.10, 0.20]))
    r = calibrate._rule_probabilities(window, 1, 1, targets)
    # already met, met, exactly the trend (on track), twice the trend (not)
    assert list(r["trend_rule"]) == [1, 1, 1, 0]
    assert list(r["unsd_rule"]) == [1, 1, 1, 0]


def test_rules_differ_where_the_projection_and_the_growth_rates_disagree():
    # 10% a year achieved; a target of 134.95 a year on needs 10.52% a year from the baseline:
    # the rate ratio 10 / 10.52 = 0.951 is on track (UNSD), but the projection 133.1 covers
    # only 33.1 / 34.95 = 94.7% of the change (trend rule: not on track)
    window = np.array([100.0, 110.0, 121.0])
    r = calibrate._rule_probabilities(window, 1, 1, np.array([134.95]))
    assert r["trend_rule"][0] == 0 and r["unsd_rule"][0] == 1


@pytest.fixture(scope="module")
def per_forecast(yearly):
    return run_calibration(yearly[1], "yearly", [4, 6], FAST)


def test_one_row_per_forecast_and_method(per_forecast):
    p = per_forecast
    assert set(p["method"]) == set(METHODS)
    per_case = p.groupby(["series", "n", "origin", "years", "method"]).size()
    assert (per_case == len(calibrate.GROWTH_RATES)).all()
    assert p["probability"].between(0, 1).all()
    assert set(p.loc[p["method"].isin(["trend_rule", "unsd_rule"]), "probability"]) <= {0.0, 1.0}
    assert p.loc[p["method"] == "engine", "lo80"].notna().all()


def test_outcomes_are_the_values_then_reaching_the_targets(per_forecast, yearly):
    series = yearly[1]
    row = per_forecast[(per_forecast["method"] == "engine")].iloc[7]
    y = series[row["series"]]
    origin = int(row["origin"]) - 1
    target = y[origin] * (1 + row["g"]) ** row["years"]
    assert row["realised"] == y[origin + int(row["years"])]
    assert row["outcome"] == float(y[origin + int(row["years"])] >= target)


def test_no_leakage_the_future_does_not_change_the_forecast(yearly):
    series = {"N1": yearly[1]["N1"].copy()}
    a = run_calibration(series, "yearly", [4], FAST, origins=1)
    origin = int(a["origin"].iloc[0])  # 1-based: the last visible point
    series["N1"][origin:] *= 3.0  # everything after the origin changes
    b = run_calibration(series, "yearly", [4], FAST, origins=1)
    # base_rate is the outcomes' own share (the reference a skill score is measured against): not a forecast
    fa, fb = a[a["method"] != "base_rate"], b[b["method"] != "base_rate"]
    assert np.array_equal(fa["probability"].to_numpy(), fb["probability"].to_numpy())
    assert not np.array_equal(a["realised"].to_numpy(), b["realised"].to_numpy())


def test_deterministic(yearly):
    a = run_calibration(yearly[1], "yearly", [4], FAST, max_series=3)
    b = run_calibration(yearly[1], "yearly", [4], FAST, max_series=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["series"].nunique() == 3


def test_halves_split_the_series(yearly):
    a = run_calibration(yearly[1], "yearly", [4], FAST, half="a", methods=("unsd_rule",))
    b = run_calibration(yearly[1], "yearly", [4], FAST, half="b", methods=("unsd_rule",))
    assert set(a["series"]).isdisjoint(b["series"])
    assert set(a["series"]) | set(b["series"]) == set(yearly[1])


def test_summary_scores_known_answers():
    rows = []
    for i, (p, o) in enumerate([(0.9, 1), (0.8, 0), (0.2, 0), (0.1, 1)]):
        rows.append(dict(freq="yearly", series="S", n=4, origin=i, years=1, g=0.0, method="engine",
                         probability=p, outcome=o, lo80=0.0, hi80=1.0, lo95=0.0, hi95=2.0,
                         realised=[0.5, 1.5, 0.5, 1.5][i]))
    t = summarise(pd.DataFrame(rows))
    assert list(t.columns) == COLUMNS
    r = t.iloc[0]
    assert r["n_forecasts"] == 4
    assert r["brier"] == pytest.approx((0.01 + 0.64 + 0.04 + 0.81) / 4)
    assert r["cov80"] == 0.5 and r["cov95"] == 1.0
    assert np.isnan(r["slope"])  # fewer than 10 forecasts


def test_calibration_slope_detects_over_confidence():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.98, 6000)
    o = (rng.uniform(size=p.size) < p).astype(float)
    assert calibration_slope(p, o)[1] == pytest.approx(1.0, abs=0.1)
    logit = np.log(p / (1 - p))
    too_sure = 1 / (1 + np.exp(-2 * logit))
    assert calibration_slope(too_sure, o)[1] == pytest.approx(0.5, abs=0.07)
    assert np.isnan(calibration_slope(np.full(20, 0.5), o[:20])[1])


# --------------------------------------------------------------------------- the command


def test_command_writes_and_prints_the_table(tmp_path, monkeypatch, root):
    monkeypatch.chdir(root)
    res = CliRunner().invoke(app, ["calibrate", str(YEARLY), str(QUARTERLY), "--history", "6,8",
                                   "--max-series", "2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "calibration.csv")
    assert list(table.columns) == COLUMNS
    # yearly: (6, 8) x methods; quarterly: (6, 8) x (1-3 years: methods; 1-3 quarters: methods + last_value)
    assert len(table) == 2 * len(METHODS) + 2 * (2 * len(METHODS) + 1)
    assert set(table["freq"]) == {"yearly", "quarterly"}
    assert "engine" in res.output and "rw_drift" in res.output and "slope" in res.output
    assert "ets_damped" in res.output and "skill" in res.output and "1-3q" in res.output
    assert (tmp_path / "calibration_forecasts.csv").exists()


def test_command_rejects_a_missing_file_without_traceback(tmp_path, monkeypatch, root):
    monkeypatch.chdir(root)
    res = CliRunner().invoke(app, ["calibrate", str(tmp_path / "nope.csv"), "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "不存在" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "calibration.csv").exists()


def test_bad_history_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="history"):
        calibrate_files([YEARLY], FAST, history="4,x", out=tmp_path)
    with pytest.raises(ConfigError, match="少于预测引擎对 quarterly 序列要求的最少 6 个数据点"):
        calibrate_files([QUARTERLY], FAST, history="4,8", out=tmp_path)
    assert not (tmp_path / "calibration.csv").exists()


def test_quarters_ahead_base_rate_and_skill(quarterly_small=None):
    """Quarterly series are scored 1-3 quarters ahead as well as 1-3 years; base_rate is the share of
    outcomes met per (n, steps, g); skill is 1 - Brier / Brier(base_rate); intervals resample series."""
    rng = np.random.default_rng(3)
    series = {f"Q{k}": 100 * np.exp(np.cumsum(rng.normal(0.01, 0.05, 30))) for k in range(12)}
    per = run_calibration(series, "quarterly", [8], FAST, origins=2,
                          methods=("engine", "rw_drift", "base_rate"))
    assert set(per["horizon"]) == {"1-3q", "1-3y"} and set(per["h"]) == {1, 2, 3, 4, 8, 12}
    base = per[per["method"] == "base_rate"]
    share = per[per["method"] == "engine"].groupby(["h", "g"])["outcome"].mean()
    assert np.allclose(base.groupby(["h", "g"])["probability"].first().loc[share.index], share)
    table = calibrate.summarise(per)
    row = table[(table["method"] == "engine") & (table["horizon"] == "1-3q")].iloc[0]
    b = table[(table["method"] == "base_rate") & (table["horizon"] == "1-3q")].iloc[0]
    assert row["skill"] == pytest.approx(1 - row["brier"] / b["brier"])
    assert row["brier_lo"] <= row["brier"] <= row["brier_hi"] and np.isfinite(row["mdape1"])
    assert "last_value" in set(table["method"])
