"""Tests of helpers.model.backtest: Brier decomposition, interval coverage, rolling-origin backtests."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers.exceptions import ConfigError, InvalidPeriodError
from helpers.model.backtest import (
    FORECAST_COLUMNS,
    SUMMARY_COLUMNS,
    brier_decomposition,
    interval_coverage,
    parse_origins,
    reliability_table,
    run_backtest,
    summarise,
)
from helpers.model.forecast import ForecastSettings
from helpers.run.backtest import backtest_command
from helpers.plan.periods import Quarter

# --------------------------------------------------------------------------- Brier score


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 42])
def test_decomposition_identity_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    p = rng.uniform(0, 1, n)
    o = (rng.uniform(0, 1, n) < p ** 1.5).astype(float)  # somewhat miscalibrated
    d = brier_decomposition(p, o)
    assert d["n"] == n
    assert d["brier"] == pytest.approx(np.mean((p - o) ** 2), abs=1e-12)
    assert d["brier"] == pytest.approx(d["reliability"] - d["resolution"] + d["uncertainty"], abs=1e-12)
    assert d["uncertainty"] == pytest.approx(o.mean() * (1 - o.mean()))
    assert d["resolution"] >= 0


@pytest.mark.parametrize("seed", [5, 6])
def test_decomposition_is_murphys_when_bins_hold_one_value(seed):
    # forecasts on the bin centres: no within-bin term, REL is the classical binned reliability
    rng = np.random.default_rng(seed)
    p = rng.choice(np.arange(10) / 10 + 0.05, 300)
    o = (rng.uniform(0, 1, 300) < p).astype(float)
    d = brier_decomposition(p, o)
    assert d["rel_within_bin"] == pytest.approx(0, abs=1e-12)
    tab = reliability_table(p, o)
    rel = float(np.sum(tab["n"] * (tab["mean_forecast"] - tab["observed_freq"]) ** 2) / 300)
    assert d["reliability"] == pytest.approx(rel, abs=1e-12)
    assert d["brier"] == pytest.approx(d["reliability"] - d["resolution"] + d["uncertainty"], abs=1e-12)


def test_perfect_forecasts_score_zero():
    o = np.array([1, 0, 0, 1, 1, 0, 1], dtype=float)
    d = brier_decomposition(o.copy(), o)
    assert d["brier"] == 0
    assert d["reliability"] == pytest.approx(0)
    assert d["resolution"] == pytest.approx(d["uncertainty"])
    assert d["brier_skill"] == pytest.approx(1)


def test_climatology_has_no_resolution():
    o = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0], dtype=float)
    p = np.full(o.size, o.mean())
    d = brier_decomposition(p, o)
    assert d["resolution"] == pytest.approx(0)
    assert d["reliability"] == pytest.approx(0)
    assert d["brier"] == pytest.approx(d["uncertainty"]) == pytest.approx(0.3 * 0.7)
    assert d["brier_skill"] == pytest.approx(0)


def test_known_values_by_hand():
    # two bins: 0.2 (outcomes 0, 1) and 0.9 (outcomes 1, 1)
    p = np.array([0.2, 0.2, 0.9, 0.9])
    o = np.array([0, 1, 1, 1], dtype=float)
    d = brier_decomposition(p, o)
    assert d["brier"] == pytest.approx((0.04 + 0.64 + 0.01 + 0.01) / 4)
    assert d["reliability"] == pytest.approx((2 * 0.3 ** 2 + 2 * 0.1 ** 2) / 4)
    assert d["resolution"] == pytest.approx((2 * 0.25 ** 2 + 2 * 0.25 ** 2) / 4)
    assert d["uncertainty"] == pytest.approx(0.75 * 0.25)


def test_probability_one_falls_in_the_last_bin_and_bad_input_is_refused():
    tab = reliability_table([1.0, 0.95, 0.0], [1, 1, 0])
    assert list(tab["bin"]) == [0, 9]
    assert list(tab["n"]) == [1, 2]
    assert brier_decomposition([], [])["n"] == 0
    with pytest.raises(ValueError):
        brier_decomposition([0.5, 1.2], [0, 1])
    with pytest.raises(ValueError):
        brier_decomposition([0.5, 0.2], [0, 2])


# --------------------------------------------------------------------------- coverage


def test_coverage_on_a_handmade_table():
    lo = [0, 10, 5, np.nan, 1]
    hi = [10, 20, 6, 9, 2]
    x = [10, 9, 5.5, 3, np.nan]  # upper bound included; below; inside; missing bound; missing value
    n, cov = interval_coverage(lo, hi, x)
    assert n == 3
    assert cov == pytest.approx(2 / 3)
    n, cov = interval_coverage([np.nan], [1], [0])
    assert n == 0 and np.isnan(cov)


def test_summary_from_a_handmade_forecast_table():
    rows = []
    for m, probs in (("ensemble", [0.9, 0.2, 0.7, 0.1]), ("rules", [1.0, 0.0, 0.0, 0.0])):
        for k, (p, o) in enumerate(zip(probs, [1, 0, 1, 0])):
            rows.append(dict(method=m, probability=p, outcome=float(o), realised=[12, 3, 8, 1][k],
                             forecast_lo80=[10, 0, 9, 0][k] if m == "ensemble" else np.nan,
                             forecast_hi80=[14, 2, 11, 2][k] if m == "ensemble" else np.nan,
                             forecast_lo95=[9, 0, 7, 0][k] if m == "ensemble" else np.nan,
                             forecast_hi95=[15, 4, 12, 3][k] if m == "ensemble" else np.nan, scored=True))
    rows.append(dict(method="ensemble", probability=1.0, outcome=1.0, realised=5, scored=False))  # settled: ignored
    s = summarise(pd.DataFrame(rows)).set_index("method")
    assert list(s.reset_index().columns) == SUMMARY_COLUMNS
    assert s.loc["ensemble", "n"] == 4
    assert s.loc["ensemble", "brier"] == pytest.approx((0.01 + 0.04 + 0.09 + 0.01) / 4)
    assert s.loc["ensemble", "coverage80"] == pytest.approx(0.5)  # 12 in [10,14], 1 in [0,2]
    assert s.loc["ensemble", "coverage95"] == pytest.approx(1.0)
    assert s.loc["rules", "brier"] == pytest.approx(0.25)
    assert s.loc["rules", "n_intervals"] == 0 and np.isnan(s.loc["rules", "coverage80"])


# --------------------------------------------------------------------------- origins


def test_parse_origins():
    assert parse_origins("2023Q4:2024Q3") == [Quarter(2023, 4), Quarter(2024, 1), Quarter(2024, 2), Quarter(2024, 3)]
    assert parse_origins("2023Q4:2025Q3:2") == [Quarter(2023, 4), Quarter(2024, 2), Quarter(2024, 4), Quarter(2025, 2)]
    assert parse_origins("2024Q4, 2024Q2") == [Quarter(2024, 2), Quarter(2024, 4)]
    assert parse_origins(None) is None and parse_origins("all") is None
    for bad in ("2024Q5:2025Q1", "2025Q1:2024Q1", "2024Q1:2024Q4:0", "2024Q1:2024Q2:2:3"):
        with pytest.raises(InvalidPeriodError):
            parse_origins(bad)


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def small(demo_frame, plan, geos):
    return run_backtest(demo_frame, plan, geos, ForecastSettings(), origins="2024Q2,2024Q4", geographies=["330106"],
                        indicators=["ruling_cycle_days", "police_liaison_coverage", "admin_cases"], n_paths=200)


def test_small_backtest_on_the_demo_data(small):
    per, summary = small
    assert list(per.columns) == FORECAST_COLUMNS
    assert list(summary.columns) == SUMMARY_COLUMNS
    scored = per[per["scored"]]
    assert set(scored["indicator_id"]) == {"ruling_cycle_days"}
    assert set(scored["origin"]) == {"2024Q2", "2024Q4"}
    assert list(dict.fromkeys(scored["method"])) == ["ensemble", "ets_ann", "ets_aadn", "theta", "uc_llt", "rules"]
    assert scored["probability"].between(0, 1).all()
    assert set(scored["outcome"]) <= {0.0, 1.0}
    assert set(scored.loc[scored["method"] == "rules", "probability"]) <= {0.0, 1.0}
    ens = scored[scored["method"] == "ensemble"]
    assert (ens["forecast_lo95"] <= ens["forecast_lo80"]).all() and (ens["forecast_lo80"] <= ens["forecast_hi80"]).all()
    assert ens["realised"].notna().all() and ens["in80"].notna().all()
    assert (ens["horizon"] == [6, 4]).all()
    # a single member is a one-member ensemble
    assert set(scored.loc[scored["method"] == "theta", "models_used"]) <= {"theta", "rw_drift"}
    # every district had its police liaison officer before either origin: listed, not scored
    settled = per[per["indicator_id"] == "police_liaison_coverage"]
    assert len(settled) == 2 and not settled["scored"].any()
    assert settled["excluded"].str.startswith("settled by the data").all()
    # a district's share of a city-wide count (admin_cases: 1000 cases for the whole city) has no
    # target of its own: not a case at all, neither scored nor listed
    assert "admin_cases" not in set(per["indicator_id"])
    s = summary.set_index("method")
    assert (s["n"] == 2).all()
    assert s["brier"].between(0, 1).all()
    assert np.allclose(s["brier"], s["reliability"] - s["resolution"] + s["uncertainty"])


def test_backtest_is_deterministic(small, demo_frame, plan, geos):
    per, _ = run_backtest(demo_frame, plan, geos, ForecastSettings(), origins="2024Q2,2024Q4", geographies=["330106"],
                          indicators=["ruling_cycle_days"], members=["ensemble", "rules"], n_paths=200)
    first = small[0]
    first = first[(first["indicator_id"] == "ruling_cycle_days") & first["method"].isin(["ensemble", "rules"])]
    assert np.array_equal(per["probability"].to_numpy(), first["probability"].to_numpy())


def test_unknown_methods_are_refused(demo_frame, plan, geos):
    with pytest.raises(ConfigError, match="未知的回测方法"):
        run_backtest(demo_frame, plan, geos, ForecastSettings(), members=["ensemble", "arima"])
    with pytest.raises(ConfigError, match="ets_ana"):
        run_backtest(demo_frame, plan, geos, ForecastSettings(), members=["ets_ana"])


def test_command_writes_the_three_files(project, tmp_path):
    out = backtest_command(settings_path=project / "params" / "settings.yaml", output_dir=tmp_path / "bt",
                           geographies="330106", origins="2024Q4", members="ensemble,rules", n_paths=100, workers=1)
    assert out == tmp_path / "bt"
    assert {p.name for p in out.iterdir()} == {"backtest_summary.csv", "backtest_forecasts.csv",
                                                "backtest_reliability.png"}
    summary = pd.read_csv(out / "backtest_summary.csv")
    assert list(summary["method"]) == ["ensemble", "rules"]
    per = pd.read_csv(out / "backtest_forecasts.csv")
    assert per.loc[per["scored"], "probability"].between(0, 1).all()
    assert (out / "backtest_reliability.png").read_bytes()[:4] == b"\x89PNG"


def test_default_origins_run_from_min_points_to_the_quarter_before_the_due_date(demo_frame, plan, geos):
    # the rule layer alone fits no model: a cheap way to see every default origin
    per, summary = run_backtest(demo_frame, plan, geos, ForecastSettings(), members=["rules"],
                                geographies=["330106"], indicators=["ruling_cycle_days"])
    # quarterly data from 2021Q1: a probability from 6 quarterly points on, so from 2022Q2; due 2025Q4
    assert list(per["origin"]) == [str(q) for q in parse_origins("2022Q2:2025Q3")]
    assert (per["horizon"] == list(range(14, 0, -1))).all()
    assert summary["method"].tolist() == ["rules"] and summary["n"].iloc[0] == per["scored"].sum()


@pytest.mark.e2e  # runs the methodology notebook
def test_cli_prints_the_scores_and_refuses_an_unknown_geography(project, tmp_path):
    from conftest import ipeval

    r = ipeval("backtest", "--geos", "330127", "--origins", "2024Q4", "--members", "ensemble,rules",
               "--n-paths", "100", "-j", "1", "-o", str(tmp_path / "bt"), cwd=project)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "brier" in r.stdout and "ensemble" in r.stdout and "rules" in r.stdout
    assert (tmp_path / "bt" / "backtest_summary.csv").is_file()
    # the methodology notebook, run on these results, for auditors: offline HTML with the scores table
    page = (tmp_path / "bt" / "methodology.report.html").read_text(encoding="utf-8")
    assert "各方法回测汇总" in page and "Brier" in page
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)  # nothing fetched from another host
    assert "load_or_run" in (tmp_path / "bt" / "methodology.audit.html").read_text(encoding="utf-8")
    r = ipeval("backtest", "--geos", "330199", cwd=project)
    assert r.returncode == 2
    assert "330199" in r.stderr and "330100" in r.stderr  # names the bad code and lists the valid ones
