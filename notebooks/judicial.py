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
# # Judicial protection and dispute resolution / 司法保护与纠纷化解
#
# Court outcomes (first-instance acceptance, city only), mediation (success rate against 37%, organisations against 80, cases against 2,000 a year) and rights-protection assistance (2,000 cases a year).
#
# One report of the evaluation of Hangzhou's IP Protection Demonstration Zone plan (2023-2025) for one geography
# and one quarter. Run it from JupyterLab as it is (defaults: Hangzhou, 2025Q2, the demo data), with
# `papermill notebooks/judicial.ipynb out.ipynb -p geography 330106`, or through `ipeval run`. All computation lives
# in `src/helpers` (this section's analyses: `helpers.pages.analysis.ANALYSES["judicial"]`, one cell each); the method is in
# `docs/methodology.md`.

# %% tags=["parameters"]
section = "judicial"
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
# ## Mediation funnel / 调解漏斗
# Per year: mediation cases handled, mediations concluded (the success rate's denominator) and settled (its numerator), and the success rate against 37%; then the success rate by district (ratio of sums, never an average of district rates) and the pace the yearly and cumulative targets still need.

# %% [markdown] tags=["audit-only"]
# ### Mediation funnel / 调解漏斗

# %%
analysis.mediation_funnel(ctx)

# %% [markdown] tags=["audit-only"]
# ### Mediation success by district / 各区县调解成功率

# %%
analysis.mediation_by_district(ctx)

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
