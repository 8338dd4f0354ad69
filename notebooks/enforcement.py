# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["audit-only"]
# # Administrative protection / 行政保护
#
# How fast rulings are made and how many cases are handled: the ruling cycle against the plan's 50 days, administrative cases against 1,000 over the zone period, e-commerce patent cases against 2,000 a year and fast pre-examination against 3,000 in 2025.
#
# One report of the evaluation of Hangzhou's IP Protection Demonstration Zone plan (2023-2025) for one geography
# and one quarter. Run it from JupyterLab as it is (defaults: Hangzhou, 2025Q2, the demo data), with
# `papermill notebooks/enforcement.ipynb out.ipynb -p geography 330106`, or through `ipeval run`. All computation lives
# in `src/helpers` (this section's analyses: `helpers.pages.analysis.ANALYSES["enforcement"]`, one cell each); the method is in
# `docs/methodology.md`.

# %% tags=["parameters"]
section = "enforcement"
geography = "330100"  # official code: 330100 Hangzhou, or a district/county code
quarter = "2025Q2"  # the as-of quarter: only data of periods ended by then are used
lang = "zh"  # zh | en
settings_path = ""  # default: params/settings.yaml
data_path = ""  # default: the data file named in the settings (comma-separated for several)
registry_path = ""  # default: the plan registry named in the settings
run_dir = ""  # set by ipeval run: where the run's precomputed assessments and charts are
report_input = ""  # set by ipeval run, and then the only parameter: the page's input file

# %% [markdown] tags=["audit-only"]
# ## Opening / 开篇
# Shared by every page, in one call (`helpers.pages.sections.open_page`): the report input is loaded (in a run the
# one parameter `report_input`, the file the run wrote for this page; on its own the same input is built from the
# other parameters), then the header (plan, geography, quarter, mid-term or final assessment), the targets at a
# glance (latest value, target and due date, gap, the probability of meeting the target from simulated paths, the
# status and the official-style UN SDG Progress Chart category) and what changed since the last published run
# (new periods, revised values, method/registry/settings changes: the run's `changes.csv`).

# %%
from helpers.pages import analysis
from helpers.pages import sections as report

ctx = report.open_page(section=section, geography=geography, quarter=quarter, lang=lang,
                       settings_path=settings_path, data_path=data_path,
                       registry_path=registry_path, run_dir=run_dir, report_input=report_input)

# %% [markdown] tags=["audit-only"]
# ## Cases by district and quarter / 案件的区县与季度分布; ruling cycle distribution / 裁决周期分布
# Administrative cases (`admin_cases`) by district and year with each district's share of the city, the last eight quarters of this geography, and the zone-period total against the target. Then every district-quarter's average ruling cycle (days of rulings closed / rulings closed) in the zone period, binned around the 50-day line, counted by district-quarter and weighted by rulings: the city average can meet 50 days while some districts do not. Last, the pace each total target still needs per quarter against the pace of the last four quarters.

# %% [markdown] tags=["audit-only"]
# ### Administrative cases / 行政案件

# %%
analysis.admin_cases(ctx)

# %% [markdown] tags=["audit-only"]
# ### Ruling cycle / 裁决周期

# %%
analysis.ruling_cycle(ctx)

# %% [markdown] tags=["audit-only"]
# ### Pace still needed / 达标所需进度

# %%
analysis.pace(ctx)

# %% [markdown] tags=["audit-only"]
# ## Indicators / 分指标
# History, forecast median with 80% and 95% bands, target and due date; flow and cumulative targets as running
# totals. In a run the charts were drawn once by the chart step (`<run>/charts/`) and are embedded here.

# %%
report.indicator_charts(ctx)

# %% [markdown] tags=["audit-only"]
# ## Published figures / 公开发布的数据
# Values of this section taken from publications (not generated), with their source; shown only where there are some.

# %%
report.published_figures(ctx)

# %% [markdown] tags=["audit-only"]
# ## Districts compared / 区县比较

# %%
report.district_comparison(ctx)

# %% [markdown] tags=["audit-only"]
# ## Data quality / 数据质量

# %%
report.data_quality(ctx)

# %%
report.methods(ctx)
