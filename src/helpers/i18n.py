"""Interface texts in Chinese (default) and English. Indicator names and units come from the registry."""

from __future__ import annotations

TEXTS = {
    "zh": {
        "demo_banner": "演示数据：本报告使用生成的演示数据（非真实统计），仅用于展示方法与版式。",
        "report_title": "{plan} — {section}评估报告",
        "overview": "总览",
        "geography": "地区", "quarter": "评估季度", "section": "板块",
        "indicator": "指标", "latest": "最新值", "latest_period": "最新期", "progress": "当前进度",
        "target": "目标", "due": "期限", "gap": "差距", "probability": "达标概率", "status": "状态",
        "sdg_category": "官方口径类别", "models": "模型", "decided_by": "判定依据", "unit": "单位",
        "forecast": "预测（中位数，80%区间）",
        "history": "历史值", "median": "预测中位数", "band80": "80% 区间", "band95": "95% 区间",
        "achieved_marker": "已达标",
        "headline": "目标一览", "charts": "分指标图表", "comparison": "区县比较", "quality": "数据质量",
        "methods": "方法说明", "no_rows": "本板块在该地区没有适用的指标。",
        "missing": "缺失期数", "late": "未按时报送", "revised": "修订值", "outliers": "异常值",
        "none": "无",
        "methods_note": "模型：{models}；判定依据：{decided}；{note}",
        "methodology_link": "完整方法见 docs/methodology.md（概率由模拟路径计算，阈值：≥{on}% 为按计划推进，{risk}%–{on}% 为存在风险）。预测区间未计入模型参数的不确定性，可能偏窄。",
        "provenance": "来源与可复现信息",
        "running_total": "（累计值对比目标）",
        "annual_total": "（年度合计对比目标）", "observed_total": "已观测", "projected_rest": "预测其余（中位数）",
        "before_period": "方案期前（不计入）",
        "city_summary": "全市概况",
        "downloads": "下载",
        "failed": "失败",
        "report_variant": "报告版", "audit_variant": "审计版（含代码）",
        "share_on_track": "已达标或按计划推进的目标占比",
        "sections_title": "各板块目标状态", "targets": "目标数", "mean_probability": "平均达标概率",
        "open_report": "板块报告", "sections_chart": "各板块目标状态（个）",
        "overview_charts_note": "各指标的历史、预测区间与目标图表见各板块报告。",
        "rank": "本地区排名",
        "comparison_note": "颜色表示状态；数字为达标概率。方案只对全市设定的数量目标（各区县相加），数字为该区县占全市的比重；无目标指标同样显示占全市比重。“—”：观测少于8个，无概率，状态由规则法判定。",
        "rank_note": "排名：在13个区县中按当前进度排序（“以内”类目标数值越小越好；计入全市目标的指标按贡献量排序）。",
        "city_target_prefix": "全市 ",
        "demo_banner_published": "标注“◆ 公开发布数据”的数值为公开发布的真实数据（来源：{sources}），其余数值均为生成的演示数据。",
        "plan_reference": "评估依据：{issuer}《杭州市国家知识产权保护示范区建设方案（2023—2025年）》（{number}），{issued}印发，{since}起施行，有效期至{until}。",
        "published_marker": "公开发布数据", "published_title": "公开发布的数据",
        "published_note": "下列数值来自公开发布的资料（非生成数据），在图中以黑色菱形“◆”标注。",
        "published_value": "公开数值", "source": "来源", "published_says": "原文表述", "period": "期间",
        "interpretation": "口径说明：",
    },
    "en": {
        "demo_banner": "DEMONSTRATION DATA: this report uses generated data (not real statistics), to show the method and layout.",
        "report_title": "{plan} — {section} assessment",
        "overview": "Overview",
        "geography": "Geography", "quarter": "As-of quarter", "section": "Section",
        "indicator": "Indicator", "latest": "Latest value", "latest_period": "Latest period", "progress": "Progress",
        "target": "Target", "due": "Due", "gap": "Gap", "probability": "Probability of meeting", "status": "Status",
        "sdg_category": "Official-style category", "models": "Models", "decided_by": "Decided by", "unit": "Unit",
        "forecast": "Forecast (median, 80% interval)",
        "history": "History", "median": "Forecast median", "band80": "80% interval", "band95": "95% interval",
        "achieved_marker": "Achieved",
        "headline": "Targets at a glance", "charts": "Indicators", "comparison": "Districts compared",
        "quality": "Data quality", "methods": "Methods", "no_rows": "No indicator of this section applies to this geography.",
        "missing": "Missing periods", "late": "Not yet reported", "revised": "Revised values", "outliers": "Outliers",
        "none": "none",
        "methods_note": "Models: {models}; decided by: {decided}; {note}",
        "methodology_link": "Full method in docs/methodology.md (probabilities from simulated paths; thresholds: >= {on}% on track, {risk}%-{on}% at risk). The intervals do not include parameter uncertainty and are likely too narrow.",
        "provenance": "Provenance",
        "running_total": " (running total against the target)",
        "annual_total": " (yearly totals against the target)", "observed_total": "observed",
        "projected_rest": "rest of the year, forecast median",
        "before_period": "before the target period (not counted)",
        "city_summary": "City summary",
        "downloads": "Downloads",
        "failed": "failed",
        "report_variant": "report", "audit_variant": "audit (with code)",
        "share_on_track": "share of targets achieved or on track",
        "sections_title": "Status of the targets by section", "targets": "targets",
        "mean_probability": "mean probability", "open_report": "section report",
        "sections_chart": "Targets by section and status (count)",
        "overview_charts_note": "Each indicator's history, forecast bands and target are charted in its section's report.",
        "rank": "rank here",
        "comparison_note": "Colour: status; number: probability of meeting the target. For counts whose target the plan sets for the city as a whole (districts add up to it), and for trend indicators, the number is the district's share of the city's figure. A dash: fewer than 8 observations, so no probability; the status comes from the rule layer.",
        "rank_note": "Rank among the 13 districts/counties by progress so far (lower is better for at-most targets; contributions to city targets by size).",
        "city_target_prefix": "city ",
        "demo_banner_published": " Values marked “◆ published” are real published figures (source: {sources}); every other number is generated demonstration data.",
        "plan_reference": "Assessed against: {issuer}, Hangzhou National IP Protection Demonstration Zone Plan (2023-2025) ({number}), issued {issued}, in force from {since} until {until}.",
        "published_marker": "published", "published_title": "Published figures",
        "published_note": "These values come from publications (not generated data); the charts mark them with a black diamond “◆”.",
        "published_value": "published value", "source": "source", "published_says": "the publication's wording",
        "period": "period", "interpretation": "Reading: ",
    },
}

STATUS_NAMES = {
    "zh": {"achieved": "已达标", "on_track": "按计划推进", "at_risk": "存在风险", "off_track": "进度滞后",
           "insufficient_data": "数据不足", "city_target": "计入全市目标", "no_target": "无目标（趋势跟踪）"},
    "en": {"achieved": "achieved", "on_track": "on track", "at_risk": "at risk", "off_track": "off track",
           "insufficient_data": "insufficient data", "city_target": "counts toward the city target",
           "no_target": "no target (trend only)"},
}

SDG_NAMES = {
    "zh": {"met": "已实现", "on_track": "按计划", "acceleration_needed": "有进展但需加速",
           "stagnation_or_regression": "停滞或倒退", "insufficient_data": "数据不足", "not_applicable": "不适用"},
    "en": {"met": "met", "on_track": "on track", "acceleration_needed": "acceleration needed",
           "stagnation_or_regression": "stagnation or regression", "insufficient_data": "insufficient data",
           "not_applicable": "not applicable"},
}

DECIDED_BY = {
    "zh": {"observed": "观测值已确定", "ensemble": "模型集成模拟", "rules": "规则法（数据点不足8个）",
           "city": "按全市数值判定", "none": "—", "": "—"},
    "en": {"observed": "settled by observed data", "ensemble": "model ensemble simulation",
           "rules": "rule-based (fewer than 8 points)",
           "city": "judged on the city figure", "none": "—", "": "—"},
}


def t(lang: str, key: str, **kw) -> str:
    """The text ``key`` in ``lang`` (zh or en), formatted with ``kw``."""
    text = TEXTS.get(lang, TEXTS["zh"])[key]
    return text.format(**kw) if kw else text

# Status colours, shared by charts, the Excel table and the index (kept here so the table and the
# index need not import Matplotlib).
STATUS_COLOURS = {
    "achieved": "#1a7f37", "on_track": "#4caf50", "at_risk": "#f0a020", "off_track": "#d1242f",
    "insufficient_data": "#9e9e9e", "city_target": "#90a4ae", "no_target": "#607d8b",
}
