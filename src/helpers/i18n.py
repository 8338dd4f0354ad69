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
        "methodology_link": "完整方法见 docs/methodology.md（概率由模拟路径计算，阈值：≥{on}% 为按计划推进，{risk}%–{on}% 为存在风险；观测数据已确定的目标为已达标或未达标）。预测区间未计入模型参数的不确定性，可能偏窄。",
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
        "comparison_note": "颜色表示状态；数字为达标概率（已确定的目标为100%或0%）。方案只对全市设定的目标（全市数值或各区县相加），区县数值仅供参考：数量显示该区县占全市的比重，比率与人均值显示其本身；无目标指标同样显示占全市比重。“—”：观测太少，无概率。",
        "rank_note": "排名：在13个区县中按当前进度排序（“以内”类目标数值越小越好；计入全市目标的指标按贡献量排序）。",
        "city_target_prefix": "全市 ",
        "stage_banner": "{stage}：评估季度 {quarter}（目标期限 {due}）。{where}：已达标 {achieved} 项，未达标 {missed} 项，尚未确定 {open} 项。",
        "settled_on": "确定于", "early": "提前达标",
        "reference_note": "全市目标：本区县数值仅供参考，不作达标判定。",
        "changes_title": "自上次发布以来的变化", "change_cause": "主要原因（概率变动，百分点）",
        "changes_note": "与上次发布的评估（{quarter}）相比；变动按原因拆分：新增期数据、修订值、方法/登记表/设置变化（三者相加等于总变动）。",
        "changes_none": "与上次发布相比，达标概率和状态均无变化（或尚无上次发布的评估）。",
        "ingest_ok": "已入库：{file}（版本 {vintage}）：新增 {new} 条，修订 {revised} 条，未变 {unchanged} 条",
        "ingest_duplicate": "未重复入库：{file} 与版本 {vintage} 内容相同",
        "ingest_refused": "未入库：{file} 有 {n} 处问题，数据库未作任何改动：",
        "ingest_report": "错误报告：{files}",
        "store_rebuilt": "已由 data/received/ 中的 {n} 个文件重建数据库 {path}",
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
        "methodology_link": "Full method in docs/methodology.md (probabilities from simulated paths; thresholds: >= {on}% on track, {risk}%-{on}% at risk; a target the observed data settle is achieved or missed). The intervals do not include parameter uncertainty and are likely too narrow.",
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
        "comparison_note": "Colour: status; number: probability of meeting the target (100% or 0% once settled). Where the plan sets the target for the city (the city's figure, or the sum of the districts), a district's figure is for reference only: for counts its share of the city's figure, for rates and per-capita values the value itself; trend indicators also show the share. A dash: too few observations for a probability.",
        "rank_note": "Rank among the 13 districts/counties by progress so far (lower is better for at-most targets; contributions to city targets by size).",
        "city_target_prefix": "city ",
        "stage_banner": "{stage}: as of {quarter} (targets due {due}). {where}: achieved {achieved}, missed {missed}, not yet settled {open}.",
        "settled_on": "settled", "early": "achieved early",
        "reference_note": "City target: this district's figure is shown for reference, without a verdict.",
        "changes_title": "What changed since the last published run", "change_cause": "main cause (points of probability)",
        "changes_note": "Against the last published assessment ({quarter}); each move is split into new periods, revised values and method/registry/settings changes (the three add up to the move).",
        "changes_none": "No probability or status moved since the last published run (or there is none yet).",
        "ingest_ok": "stored: {file} (vintage {vintage}): {new} new, {revised} revised, {unchanged} unchanged",
        "ingest_duplicate": "not stored again: {file} has the same bytes as vintage {vintage}",
        "ingest_refused": "refused: {file} has {n} problem(s); the store is unchanged:",
        "ingest_report": "error report: {files}",
        "store_rebuilt": "rebuilt the store {path} from {n} file(s) in data/received/",
    },
}

STATUS_NAMES = {
    "zh": {"achieved": "已达标", "missed": "未达标", "on_track_reached": "按计划推进（已达目标水平）",
           "on_track": "按计划推进", "at_risk": "存在风险", "off_track": "进度滞后",
           "insufficient_data": "数据不足", "reference": "仅供参考（全市目标）", "no_target": "无目标（趋势跟踪）"},
    "en": {"achieved": "achieved", "missed": "missed", "on_track_reached": "on track (target level reached)",
           "on_track": "on track", "at_risk": "at risk", "off_track": "off track",
           "insufficient_data": "insufficient data", "reference": "reference only (city target)",
           "no_target": "no target (trend only)"},
}

# the official-style category (UN SDG Progress Chart wording); a settled target's category is its verdict
SDG_NAMES = {
    "zh": {"met": "已实现", "not_met": "未实现", "on_track": "进展显著/按计划", "acceleration_needed": "有进展但需加速",
           "limited_progress": "进展有限或无进展", "deterioration": "倒退", "insufficient_data": "数据不足",
           "not_applicable": "不适用"},
    "en": {"met": "met", "not_met": "not met", "on_track": "substantial progress / on track",
           "acceleration_needed": "fair progress, acceleration needed", "limited_progress": "limited or no progress",
           "deterioration": "deterioration", "insufficient_data": "insufficient data",
           "not_applicable": "not applicable"},
}

DECIDED_BY = {
    "zh": {"observed": "观测值已确定", "ensemble": "模型集成模拟", "reference": "仅供参考（目标为全市设定）",
           "none": "—", "": "—"},
    "en": {"observed": "settled by observed data", "ensemble": "model ensemble simulation",
           "reference": "reference only (the target is set for the city)", "none": "—", "": "—"},
}

STAGE_NAMES = {
    "zh": {"final": "终期评估", "midterm": "中期评估"},
    "en": {"final": "final assessment", "midterm": "mid-term assessment"},
}


def t(lang: str, key: str, **kw) -> str:
    """The text ``key`` in ``lang`` (zh or en), formatted with ``kw``."""
    text = TEXTS.get(lang, TEXTS["zh"])[key]
    return text.format(**kw) if kw else text

CHANGE_CAUSES = {
    "zh": {"new_periods": "新增期数据", "revisions": "修订值", "method": "方法/登记表/设置变化", "": "—"},
    "en": {"new_periods": "new periods", "revisions": "revised values", "method": "method, registry or settings",
           "": "—"},
}

# Status colours, shared by charts, the Excel table and the index (kept here so the table and the
# index need not import Matplotlib).
STATUS_COLOURS = {
    "achieved": "#1a7f37", "missed": "#8b0000", "on_track_reached": "#2e7d32", "on_track": "#4caf50",
    "at_risk": "#f0a020", "off_track": "#d1242f", "insufficient_data": "#9e9e9e", "reference": "#90a4ae",
    "no_target": "#607d8b",
}

# Column names of the data contract as the template's headers show them.
COLUMN_NAMES = {
    "zh": {"indicator_id": "指标代码", "geography_code": "地区代码", "period": "期别", "value": "本期数值",
           "numerator": "分子", "denominator": "分母", "source": "数据来源", "note": "备注",
           "indicator_name": "指标名称", "unit": "单位", "stored_value": "库中现值（已报送）"},
    "en": {},
}

# Headers of a validation report (terminal, CSV, XLSX).
REPORT_HEADERS = {
    "zh": {"file": "文件", "cell": "单元格", "sheet": "工作表", "row": "行", "column": "列", "rule": "规则",
           "value": "填写内容", "message": "说明"},
    "en": {"file": "file", "cell": "cell", "sheet": "sheet", "row": "row", "column": "column", "rule": "rule",
           "value": "value", "message": "message"},
}

# What each rule of the data contract means, in Chinese (English: helpers.data.contract.RULES).
RULE_MESSAGES = {
    "zh": {
        "column_in_dataframe": "缺少数据规范要求的列（indicator_id、geography_code、period、value、numerator、denominator、source、note）",
        "known_indicator": "不是方案登记表中的指标代码",
        "known_geography": "不是杭州市或其13个区、县（市）的代码",
        "period_format": "期别应写作季度（如 2024Q3）或年份（如 2024）",
        "numeric": "不是数字",
        "value_required": "该指标需要填写数值",
        "numerator_and_denominator_required": "比率类指标需要填写分子和分母（或直接填写数值）",
        "value_not_negative": "数量和金额不能为负数",
        "numerator_not_negative": "分子不能为负数",
        "denominator_positive": "分母必须大于0（仅登记表标为“不适用”的指标可填 0/0）",
        "numerator_not_above_denominator": "分子大于分母：占比不可能超过100%",
        "districts_not_above_city": "该指标本期各区县合计超过全市数值（可能重复计算了某区县，或全市数值偏低）",
        "value_within_unit_range": "超出该单位允许的范围（如百分比大于100）",
        "city_only_indicator": "该指标只由全市（330100）报送",
        "period_matches_frequency": "年度指标填年份（2024），季度指标填季度（2024Q3）",
        "field_uniqueness": "重复行：同一指标、地区和期别出现了不止一次",
        "multiple_fields_uniqueness": "重复行：同一指标、地区和期别出现了不止一次",
        "unknown_column": "数据规范中没有这一列",
        "file_type": "文件无法读取：请提交 CSV（UTF-8 或 GBK 编码）或 Excel（.xlsx）文件",
        "not_empty": "文件为空或没有数据行",
    },
}
