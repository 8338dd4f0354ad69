# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["audit-only"]
# # Methodology and backtest / 方法与回测
#
# Can the published probabilities be trusted? This notebook replays the assessment at past quarters with only the
# data available then (rolling origins, FPP3 section 5.10) and compares what it said with what happened by the
# due date: the Brier score of the probabilities with Murphy's decomposition (reliability, resolution,
# uncertainty), the empirical coverage of the 80% and 95% intervals, and a reliability plot, for the ensemble,
# each of its members on its own and the UN SDG style rule layer.
#
# Run it as it is (a small backtest of the city is computed here), or point `backtest_dir` at the folder written
# by `ipeval backtest` to show a full run. Every formula, threshold and choice is in `docs/methodology.md`; the
# numbers come from `src/helpers/model/backtest/`, the page from `src/helpers/pages/backtest.py`.

# %% tags=["parameters"]
section = "methodology"  # this notebook's name (every notebook in this folder starts with it)
settings_path = ""  # default: params/settings.yaml
backtest_dir = ""  # a folder written by `ipeval backtest`; empty: run a small backtest here
lang = "zh"  # zh | en
geography = ""  # for the backtest run here: comma-separated codes (default: the city, 330100)
quarter = ""  # for the backtest run here: origins FIRST:LAST[:STEP] or a list (default: 2024Q4)
data_path = ""  # default: the data file named in the settings
registry_path = ""  # default: the plan registry named in the settings

# %%
from helpers.pages import backtest

result = backtest.load_or_run(settings_path=settings_path, backtest_dir=backtest_dir, lang=lang,
                              geography=geography, quarter=quarter, data_path=data_path,
                              registry_path=registry_path)
backtest.show_header(result)

# %% [markdown] tags=["audit-only"]
# ## Summary by method / 各方法汇总
# `n` forecasts per method (cases the data had already settled at the origin are not forecasts and are left out).
# Brier score `BS = mean((p - o)^2)`, lower is better; `BS = REL - RES + UNC` over 10 equal bins of the forecast
# probability (REL includes the within-bin term shown separately); skill `BSS = 1 - BS / UNC` against always
# forecasting the base rate. Coverage: the share of realised target quantities inside the 80% and 95% intervals.
# The rule layer gives categories, not probabilities: it is scored as 1 for "on track"/"met" and 0 otherwise.

# %%
backtest.show_summary(result)

# %% [markdown] tags=["audit-only"]
# ## Reliability plot / 可靠性图
# Per bin of forecast probability, the share of cases in which the target was met against the bin's mean
# forecast. Points on the diagonal are reliable; above it the method was too pessimistic, below it too optimistic.
# Marker size: the bin's share of the method's forecasts.

# %%
backtest.show_reliability(result)

# %% [markdown] tags=["audit-only"]
# ## Case by case / 逐项
# Each scored case (indicator, geography, origin) with every method's probability, whether the target was met and
# the realised target quantity; then the cases not scored and why.

# %%
backtest.show_forecasts(result)
