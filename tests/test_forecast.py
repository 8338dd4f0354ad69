"""Tests of helpers.model.forecast: simulated paths for the probability that a target is met."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from helpers.exceptions import ConfigError
from helpers.model import engine_ensemble, forecast
from helpers.model.forecast import (
    ForecastSettings,
    PathForecast,
    TooShortError,
    point_quantiles,
    simulate_paths,
)


#: The statsmodels ensemble (``engine="ensemble"``), tested as before the drift_t engine became the default.
ENS = ForecastSettings(engine="ensemble", min_points=8)


@pytest.fixture(scope="module")
def trend() -> np.ndarray:
    """A clean upward trend: 16 quarters rising by about 2 a quarter, little noise."""
    rng = np.random.default_rng(1)
    return 50 + 2.0 * np.arange(16) + rng.normal(0, 0.8, 16)


@pytest.fixture(scope="module")
def trend_forecast(trend) -> PathForecast:
    return simulate_paths(trend, 4, settings=ENS)


@pytest.fixture
def ets_fit(monkeypatch):
    """Patch ETSModel.fit; returns a function that installs a tweak for damped-trend models."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    real_fit = ETSModel.fit

    def install(tweak):
        def fit(self, *args, **kwargs):
            res = real_fit(self, *args, **kwargs)
            return tweak(res) if self.damped_trend else res

        monkeypatch.setattr(ETSModel, "fit", fit)

    return install


# --------------------------------------------------------------------------- shape and basics


def test_paths_shape_members_and_note(trend_forecast):
    pf = trend_forecast
    assert pf.paths.shape == (ENS.n_paths, 4)
    assert pf.members_used == ["ets_ann", "ets_aadn", "theta", "uc_llt"]
    assert pf.members_dropped == {}
    assert pf.transform == "none"
    assert "4 converged models" in pf.note
    assert "parameter uncertainty not included" in pf.note


def test_upward_trend_continues_with_ordered_band(trend, trend_forecast):
    q025, q50, q975 = point_quantiles(trend_forecast.paths, (0.025, 0.5, 0.975))
    assert q50[3] > trend[-1]
    # the median keeps climbing and the band widens with the horizon
    assert np.all(np.diff(q50) > 0)
    assert np.all(np.diff(q975 - q025) > 0)
    assert np.all(q025 < q50) and np.all(q50 < q975)


def test_simulation_starts_after_last_observation():
    # anchor="start" would simulate from the first observations (level 10), not the last
    history = np.r_[np.full(10, 10.0), np.full(8, 100.0)]
    pf = simulate_paths(history, 4, settings=ENS)
    first_step_median = np.median(pf.paths[:, 0])
    assert abs(first_step_median - 100) < 15
    for name in pf.members_used:  # every member on its own, not just the mixture
        block = _member_block(pf, name)
        assert abs(np.median(block[:, 0]) - 100) < 20, name


def _member_block(pf: PathForecast, name: str) -> np.ndarray:
    counts = forecast._allocate(pf.paths.shape[0], len(pf.members_used))
    start = sum(counts[: pf.members_used.index(name)])
    return pf.paths[start : start + counts[pf.members_used.index(name)]]


@pytest.mark.parametrize("data_seed", [1, 2, 3, 4, 5])
def test_flat_noisy_series_has_a_normal_like_tail(data_seed):
    # 20 draws of N(100, 10), rescaled to sample mean 100 and sd 10 exactly: a raw draw can have
    # sd 7.8 (seed 7), and the test would then judge the draw instead of the models
    z = np.random.default_rng(data_seed).normal(size=20)
    history = 100 + 10 * (z - z.mean()) / z.std(ddof=1)
    pf = simulate_paths(history, 1, settings=ENS)
    share_above_110 = float(np.mean(pf.paths[:, 0] > 110))
    assert 0.05 <= share_above_110 <= 0.35  # N(100, 10) puts ~0.16 above 110


# --------------------------------------------------------------------------- transforms


def test_log_transform_never_goes_below_zero():
    history = np.array([0, 3, 0, 1, 9, 0, 0, 6, 1, 0, 14, 0, 2, 0], dtype=float)
    pf = simulate_paths(history, 8, transform="log", bounds=(0, None))
    assert pf.transform == "log"
    assert pf.paths.min() >= 0
    assert np.isfinite(pf.paths).all()
    # big noise near zero: many paths should sit at the floor, not merely above it
    assert np.mean(pf.paths == 0) > 0.05


def test_log_transform_rejects_negative_history():
    with pytest.raises(ValueError, match="non-negative"):
        simulate_paths(np.r_[np.arange(10.0), -1.0], 2, transform="log")


@pytest.mark.parametrize("level", [97.5, 99.0, 99.8])
def test_logit_transform_stays_strictly_inside_bounds(level):
    rng = np.random.default_rng(3)
    history = np.clip(level + 0.15 * np.arange(14) - 1 + rng.normal(0, 0.6, 14), 0, 100)
    pf = simulate_paths(history, 8, transform="logit", bounds=(0, 100))
    assert (pf.paths > 0).all() and (pf.paths < 100).all()
    assert np.median(pf.paths[:, -1]) > 90


def test_logit_needs_both_bounds():
    with pytest.raises(ValueError, match="bounds"):
        simulate_paths(np.linspace(50, 60, 10), 2, transform="logit", bounds=(0, None))


def test_bounds_clip_untransformed_paths():
    rng = np.random.default_rng(4)
    history = 5 - 0.5 * np.arange(12) + rng.normal(0, 1, 12)  # heading below 0
    pf = simulate_paths(history, 6, bounds=(0, 8))
    assert pf.paths.min() >= 0 and pf.paths.max() <= 8
    assert np.mean(pf.paths[:, -1] == 0) > 0.5  # the floor binds: it is a clip, not a shift


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_paths(trend):
    a = simulate_paths(trend, 6, seed=123)
    b = simulate_paths(trend, 6, seed=123)
    assert np.array_equal(a.paths, b.paths)
    assert a.members_used == b.members_used


def test_different_seed_gives_different_paths(trend):
    a = simulate_paths(trend, 6, seed=123)
    b = simulate_paths(trend, 6, seed=124)
    assert not np.array_equal(a.paths, b.paths)
    # ...but the same forecast: medians agree to within Monte Carlo noise
    assert np.allclose(np.median(a.paths, axis=0), np.median(b.paths, axis=0), rtol=0.01)


def test_seed_defaults_to_settings_seed(trend):
    a = simulate_paths(trend, 3, settings=ForecastSettings(seed=99))
    b = simulate_paths(trend, 3, seed=99)
    assert np.array_equal(a.paths, b.paths)


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize("n, season_length, freq, need", [(0, 4, None, 6), (5, 4, None, 6), (2, 1, None, 3),
                                                        (5, 1, "quarterly", 6), (2, 4, "yearly", 3)])
def test_too_short_history_raises(n, season_length, freq, need):
    with pytest.raises(TooShortError, match=f"{need} needed"):
        simulate_paths(np.arange(float(n)) + 1, 4, season_length=season_length, freq=freq)


def test_three_yearly_or_six_quarterly_points_are_enough():
    assert simulate_paths([10.0, 11.0, 12.5], 1, season_length=1).paths.shape == (2000, 1)
    assert simulate_paths(np.arange(6.0) + 10, 2).paths.shape == (2000, 2)


def test_too_short_follows_settings():
    short = ForecastSettings(min_points=10)
    with pytest.raises(TooShortError):
        simulate_paths(np.arange(9.0) + np.sin(np.arange(9.0)), 2, settings=short)
    assert issubclass(TooShortError, ValueError)


@pytest.mark.parametrize(
    "history, horizon, kwargs, match",
    [
        (np.r_[np.arange(10.0), np.nan], 2, {}, "NaN"),
        (np.ones((10, 2)), 2, {}, "one-dimensional"),
        (np.arange(10.0), 0, {}, "horizon"),
        (np.arange(10.0), 2, {"transform": "sqrt"}, "transform"),
        (np.arange(10.0), 2, {"bounds": (5, 1)}, "lower < upper"),
    ],
)
def test_invalid_arguments_raise(history, horizon, kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_paths(history, horizon, **kwargs)


def test_constant_history_gives_constant_paths():
    pf = simulate_paths(np.full(12, 7.0), 3, settings=ENS)
    assert np.all(pf.paths == 7.0)
    assert pf.members_used == ["rw_drift"]
    assert "constant" in pf.note


# --------------------------------------------------------------------------- dropping members


def test_non_converged_member_is_dropped_and_reported(trend, ets_fit, caplog):
    def not_converged(res):
        res.mle_retvals = {"converged": False}
        return res

    ets_fit(not_converged)
    with caplog.at_level(logging.INFO, logger="helpers.model.forecast"):
        pf = simulate_paths(trend, 4, settings=ENS)
    assert "ets_aadn" not in pf.members_used
    assert pf.members_dropped["ets_aadn"].startswith("not converged")
    assert pf.members_used == ["ets_ann", "theta", "uc_llt"]
    assert pf.paths.shape == (ForecastSettings().n_paths, 4)  # the others fill all paths
    assert "3 converged models" in pf.note and "1 dropped" in pf.note
    assert any("ets_aadn" in r.getMessage() for r in caplog.records)


def test_non_converged_member_reported_as_object(trend, ets_fit):
    # some optimisers give an OptimizeResult-like object rather than a dict
    class RetVals:
        converged = False

    def not_converged(res):
        res.mle_retvals = RetVals()
        return res

    ets_fit(not_converged)
    pf = simulate_paths(trend, 4, settings=ENS)
    assert pf.members_dropped["ets_aadn"].startswith("not converged")


def test_member_that_raises_is_dropped(trend, monkeypatch):
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    def boom(self, *args, **kwargs):
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(UnobservedComponents, "fit", boom)
    pf = simulate_paths(trend, 4, settings=ENS)
    assert "uc_llt" not in pf.members_used
    assert pf.members_dropped["uc_llt"] == "failed (LinAlgError: singular matrix)"


@pytest.mark.parametrize(
    "bad_paths, reason",
    [
        (lambda h, r: np.full((r, h), np.nan), "non-finite paths"),
        (lambda h, r: np.full((r, h), 1e3), "exploded"),  # standardised scale: far away
    ],
)
def test_member_with_bad_paths_is_dropped(trend, monkeypatch, bad_paths, reason):
    real = forecast._fit_member

    def fit_member(name, *args):
        if name == "theta":
            return lambda h, r, rng: bad_paths(h, r)
        return real(name, *args)

    monkeypatch.setattr(engine_ensemble, "_fit_member", fit_member)
    pf = simulate_paths(trend, 4, settings=ENS)
    assert pf.members_dropped["theta"].startswith(reason)
    assert pf.members_used == ["ets_ann", "ets_aadn", "uc_llt"]
    assert np.isfinite(pf.paths).all()
    assert np.abs(pf.paths).max() < 200


def test_no_member_left_falls_back_to_random_walk(trend, monkeypatch):
    def fail(name, *args):
        raise RuntimeError("no fit today")

    monkeypatch.setattr(engine_ensemble, "_fit_member", fail)
    pf = simulate_paths(trend, 4, settings=ENS)
    assert pf.members_used == ["rw_drift"]
    assert set(pf.members_dropped) == {"ets_ann", "ets_aadn", "theta", "uc_llt"}
    assert "random walk with drift" in pf.note
    # drift from the history's first differences: the median keeps rising by about 2 a step
    medians = np.median(pf.paths, axis=0)
    assert np.allclose(np.diff(medians), np.diff(trend).mean(), atol=0.4)


# --------------------------------------------------------------------------- members


def test_seasonal_series_adds_seasonal_member():
    rng = np.random.default_rng(5)
    pattern = np.array([8.0, -4.0, 6.0, -10.0])
    history = 100 + 0.5 * np.arange(16) + np.tile(pattern, 4) + rng.normal(0, 1, 16)
    pf = simulate_paths(history, 4, settings=ENS)
    assert "ets_ana" in pf.members_used
    assert "seasonal" in pf.note
    # the forecast repeats the pattern: the quarter with -10 stays the lowest
    medians = np.median(pf.paths, axis=0)
    assert np.argmin(medians) == 3


def test_trend_alone_is_not_taken_for_seasonality(trend_forecast):
    assert "ets_ana" not in trend_forecast.members_used


def test_short_series_gets_no_seasonal_member():
    pattern = np.array([8.0, -4.0, 6.0, -10.0])
    history = 100 + np.r_[np.tile(pattern, 2), pattern[:3]]  # 11 < seasonal_min_points
    pf = simulate_paths(history, 4, settings=ENS)
    assert "ets_ana" not in pf.members_used


def test_mixture_gives_each_member_an_equal_block(trend, monkeypatch):
    settings = ForecastSettings(engine="ensemble", min_points=8, n_paths=103)
    pf = simulate_paths(trend, 2, settings=settings)
    assert forecast._allocate(103, 4) == [28, 25, 25, 25]
    assert pf.paths.shape == (103, 2)
    # each block is the member's own simulation, in members_used order
    seen = []
    real = forecast._fit_member

    def recording(name, *args):
        sim = real(name, *args)

        def wrapped(h, r, rng):
            seen.append((name, r))
            return sim(h, r, rng)

        return wrapped

    monkeypatch.setattr(engine_ensemble, "_fit_member", recording)
    simulate_paths(trend, 2, settings=settings)
    assert seen == [("ets_ann", 28), ("ets_aadn", 25), ("theta", 25), ("uc_llt", 25)]


def test_uc_vectorised_simulation_matches_statsmodels():
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    rng = np.random.default_rng(11)
    y = np.cumsum(rng.normal(0.3, 1, 18))
    res = UnobservedComponents(y, level="local linear trend").fit(disp=False)
    reps, h = 4000, 6
    ours = forecast._simulate_state_space(res, h, reps, np.random.default_rng(1))
    theirs = res.simulate(h, repetitions=reps, anchor="end", rng=np.random.default_rng(2))
    theirs = np.asarray(theirs).reshape(h, reps).T
    sd = theirs.std(axis=0)
    assert np.all(np.abs(ours.mean(axis=0) - theirs.mean(axis=0)) < 4 * sd * np.sqrt(2 / reps))
    assert np.allclose(ours.std(axis=0), sd, rtol=0.08)


def test_theta_paths_follow_ses_error_variance(monkeypatch):
    # the theta member alone: its h-step spread must grow as sigma * sqrt(1 + (h-1) alpha^2)
    rng = np.random.default_rng(12)
    history = 20 + np.cumsum(rng.normal(0.2, 1, 20))
    pf = simulate_paths(history, 6, settings=ForecastSettings(engine="ensemble", min_points=8, members=("theta",), n_paths=8000))
    assert pf.members_used == ["theta"]
    sd = pf.paths.std(axis=0)
    ratio = sd[-1] / sd[0]
    assert 1.0 < ratio <= np.sqrt(6) * 1.05  # alpha in (0, 1]: between flat and random walk


# --------------------------------------------------------------------------- quantiles


def test_point_quantiles_shape_and_values():
    paths = np.column_stack([np.arange(101.0), 2 * np.arange(101.0)])
    q = point_quantiles(paths, (0.1, 0.5, 0.9))
    assert q.shape == (3, 2)
    assert np.allclose(q[:, 0], [10, 50, 90]) and np.allclose(q[:, 1], [20, 100, 180])
    assert point_quantiles(paths).shape == (5, 2)


@pytest.mark.parametrize("paths, qs", [(np.ones(5), (0.5,)), (np.ones((5, 2)), (1.5,))])
def test_point_quantiles_rejects_bad_input(paths, qs):
    with pytest.raises(ValueError):
        point_quantiles(paths, qs)


# --------------------------------------------------------------------------- settings


def test_settings_from_mapping_reads_the_forecast_block():
    s = ForecastSettings.from_mapping(
        {"n_paths": 500, "seed": 1, "members": ["ets_ann", "theta"], "weights": "equal"}
    )
    assert s.n_paths == 500 and s.seed == 1
    assert s.members == ("ets_ann", "theta")  # a YAML list becomes a tuple
    assert s.min_points == ForecastSettings().min_points
    assert ForecastSettings.from_mapping(None) == ForecastSettings()


def test_settings_from_project_file(root):
    import yaml

    block = yaml.safe_load((root / "params" / "settings.yaml").read_text(encoding="utf-8"))
    s = ForecastSettings.from_mapping(block["forecast"])
    assert s.n_paths >= 10


@pytest.mark.parametrize(
    "mapping, match",
    [
        ({"n_path": 100}, "forecast 部分有未知的设置项"),
        ({"n_paths": 100, "horizon": 4}, "horizon"),
        ({"members": ["ets_ann", "arima"]}, "arima"),
        ({"members": "ets_ann"}, "须为模型名称的列表"),
        ({"members": ["ets_ana"]}, "非季节性模型"),
        ({"members": ["theta", "theta"]}, "重复列出"),
        ({"weights": "inverse_mse"}, "weights"),
        ({"n_paths": 0}, "n_paths"),
        ({"n_paths": True}, "forecast.n_paths 须为整数"),
        ({"min_points": 2.5}, "forecast.min_points 须为整数"),
        (["n_paths", 10], "映射"),
    ],
)
def test_settings_reject_bad_mappings(mapping, match):
    with pytest.raises(ConfigError, match=match):
        ForecastSettings.from_mapping(mapping)


# --------------------------------------------------------------------------- the drift_t engine


def _known(**kw) -> ForecastSettings:
    """drift_t with no prior, no damping: the classical random walk with drift and a t predictive."""
    base = dict(prior_df=0.0, drift_damping=1.0, drift_inflation=1.0, drift_wander_yearly=0.0, n_paths=40000)
    return ForecastSettings(**{**base, **kw})


@pytest.mark.parametrize("h", [1, 3])
def test_drift_t_matches_the_student_t_prediction_interval(h):
    from scipy import stats

    history = np.array([10.0, 12.0, 13.0, 15.5, 16.0, 18.5])  # yearly, 5 differences
    d = np.diff(history)
    k, s = d.size, d.std(ddof=1)
    pf = simulate_paths(history, 3, season_length=1, settings=_known(), seed=5)
    assert pf.members_used == ["drift_t"] and "parameter uncertainty" in pf.note
    # random walk with drift, parameters uncertain (FPP3 5.5), t with k - 1 degrees of freedom
    scale = s * np.sqrt(h + h**2 / k)
    for q in (0.1, 0.5, 0.9, 0.975):
        expected = history[-1] + h * d.mean() + stats.t.ppf(q, k - 1) * scale
        assert np.quantile(pf.paths[:, h - 1], q) == pytest.approx(expected, abs=0.04 * scale)


def test_drift_t_damps_the_drift_per_year():
    history = np.array([10.0, 12.0, 13.0, 15.5, 16.0, 18.5])
    pf = simulate_paths(history, 3, season_length=1, settings=_known(drift_damping=0.5, drift_inflation=0.0))
    med = np.median(pf.paths, axis=0)
    drift = np.diff(history).mean()
    assert med == pytest.approx(history[-1] + drift * np.array([0.5, 0.75, 0.875]), abs=0.05)


def test_seasonal_quarters_repeat_last_years_pattern_plus_growth():
    pattern = np.array([8.0, -4.0, 6.0, -10.0])
    history = 100 + 0.5 * np.arange(16) + np.tile(pattern, 4)  # 16 quarters: at 12 the 90% test misses even this
    pf = simulate_paths(history, 4, settings=ForecastSettings(drift_damping=1.0, n_paths=20000))
    med = np.median(pf.paths, axis=0)
    # each quarter: the same quarter a year before plus a year of growth (4 x 0.5)
    assert med == pytest.approx(history[-4:] + 2.0, abs=0.3)


def test_short_history_has_heavier_tails_and_wider_bands_than_plug_in():
    rng = np.random.default_rng(8)
    long = 100 + np.cumsum(rng.normal(1.0, 2.0, 40))
    short = long[-4:]

    def tail_ratio(p):  # 95% over 80% interval width: 1.53 for a normal, more for heavy tails
        q = np.quantile(p, [0.025, 0.1, 0.9, 0.975])
        return (q[3] - q[0]) / (q[2] - q[1])

    s = ForecastSettings(n_paths=20000)
    assert tail_ratio(simulate_paths(short, 1, season_length=1, settings=s).paths[:, 0]) > 1.7
    assert tail_ratio(simulate_paths(long, 1, season_length=1, settings=s).paths[:, 0]) < 1.65
    plug_in = simulate_paths(short, 3, season_length=1, settings=dataclasses_replace(s, engine="rw_drift"))
    assert plug_in.members_used == ["rw_drift"]
    ours = simulate_paths(short, 3, season_length=1, settings=s)
    assert np.std(ours.paths[:, -1]) > 1.5 * np.std(plug_in.paths[:, -1])


def dataclasses_replace(s, **kw):
    import dataclasses

    return dataclasses.replace(s, **kw)


def test_constant_history_still_has_uncertainty():
    pf = simulate_paths(np.full(4, 50.0), 2, transform="log", season_length=1)
    share_up = float(np.mean(pf.paths[:, -1] > 50.0))
    assert 0.2 < share_up < 0.8
    assert np.std(pf.paths[:, -1]) > 0


def test_constant_full_rate_is_not_certain_by_construction():
    pf = simulate_paths(np.full(6, 100.0), 2, transform="logit", bounds=(0, 100))
    assert (pf.paths < 100).all() and (pf.paths > 0).all()
    near_bound = float(np.mean(pf.paths[:, -1] >= 99.5))
    assert 0.05 < near_bound < 0.95


def test_small_counts_are_whole_numbers_and_can_reach_the_bound():
    pf = simulate_paths([12, 12, 13, 12, 12, 12], 2, transform="logit", bounds=(0, 13), integer=True)
    assert np.array_equal(pf.paths, np.rint(pf.paths))
    assert pf.paths.min() >= 0 and pf.paths.max() <= 13
    assert 0.1 < float(np.mean(pf.paths[:, -1] == 13)) < 0.9
    assert pf.transform == "none"  # modelled in units, not on a logit scale that blows 12 -> 13 up


def test_zero_one_deal_counts_stay_small_whole_numbers():
    pf = simulate_paths([0, 1, 0, 0, 1, 0], 2, transform="log", bounds=(0, None), integer=True)
    assert np.array_equal(pf.paths, np.rint(pf.paths)) and pf.paths.min() >= 0
    q90 = np.quantile(pf.paths[:, 0], 0.9)
    assert q90 <= 3


def test_large_counts_keep_their_scale_and_are_rounded():
    history = np.array([5000.0, 5400, 5900, 6300, 6800, 7400])
    pf = simulate_paths(history, 2, transform="log", integer=True)
    assert pf.transform == "log"
    assert np.array_equal(pf.paths, np.rint(pf.paths))


@pytest.mark.parametrize("mapping, match", [({"engine": "prophet"}, "engine"), ({"drift_damping": 1.5}, "drift_damping"),
                                            ({"widen": "wide"}, "须为数字"), ({"min_points_yearly": 2}, "至少为 3")])
def test_drift_t_settings_are_checked(mapping, match):
    with pytest.raises(ConfigError, match=match):
        ForecastSettings.from_mapping(mapping)


def test_freq_must_be_known():
    with pytest.raises(ValueError, match="freq"):
        simulate_paths(np.arange(8.0) + 1, 2, freq="monthly")


def test_a_wandering_drift_widens_later_years_more_than_the_first():
    history = np.array([10.0, 12.0, 13.0, 15.5, 16.0, 18.5])
    still = simulate_paths(history, 3, season_length=1, settings=_known())
    wander = simulate_paths(history, 3, season_length=1, settings=_known(drift_wander_yearly=1.0))
    ratio = np.std(wander.paths, axis=0) / np.std(still.paths, axis=0)
    # variance added by the wandering drift: q s^2 (1, 1 + 4, 1 + 4 + 9) against s^2 (h + h^2/k)
    assert ratio[0] < ratio[1] < ratio[2]
    assert ratio[0] > 1.05


# --------------------------------------------------------------------------- the series' kind (issue 17)

def test_a_stock_is_forecast_from_its_latest_value():
    """technical_investigators (>= 50) went 55 -> 48 -> 45 -> 45 by 2025Q3: one quarter before the
    due date the chance of 50 is low and the 80% band holds today's 45 (a seasonal random walk took
    next quarter from a year before, 58, and ignored the last three quarters)."""
    history = np.array([52, 54, 55, 57, 58, 60, 55, 48, 45, 45], float)
    fs = ForecastSettings(n_paths=4000)
    x = simulate_paths(history, 1, transform="log", bounds=(0, None), settings=fs, integer=True, seed=1).paths[:, 0]
    assert np.mean(x >= 50) < 0.2
    lo, hi = np.quantile(x, [0.1, 0.9])
    assert lo <= 45 <= hi


def test_a_stock_at_its_target_one_quarter_before_is_a_coin_toss_or_better():
    history = np.array([44, 45, 46, 47, 48, 49, 50, 50, 50, 50], float)
    x = simulate_paths(history, 1, transform="log", bounds=(0, None), settings=ForecastSettings(n_paths=4000),
                       integer=True, seed=1).paths[:, 0]
    assert np.mean(x >= 50) > 0.5  # not 0.039


def test_full_coverage_is_not_forecast_at_zero():
    covered = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], float)  # one unit of one, covered for 6 quarters
    pf = simulate_paths(covered, 2, transform="log", bounds=(0, 1), settings=ForecastSettings(n_paths=2000),
                        integer=True, seed=1)
    assert np.median(pf.paths, axis=0).tolist() == [1.0, 1.0]


def test_a_missing_quarter_does_not_shift_seasonal_differences():
    pattern = np.array([8.0, -4.0, 6.0, -10.0])
    full = 100 + 0.5 * np.arange(16) + np.tile(pattern, 4)
    keep = np.r_[np.arange(9), np.arange(10, 16)]  # the 10th quarter is missing
    fs = ForecastSettings(drift_damping=1.0, n_paths=20000)
    pf = simulate_paths(full[keep], 4, settings=fs, positions=keep)
    assert np.median(pf.paths, axis=0) == pytest.approx(full[-4:] + 2.0, abs=0.5)
