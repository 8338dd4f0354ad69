"""The plan registry: the shipped YAML matches the plan text and the loader rejects broken files."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from helpers.exceptions import RegistryError
from helpers.plan.registry import TARGET_KINDS, load_plan

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = ROOT / "params" / "plans" / "hangzhou_ipz_2023_2025.yaml"
DOCS_PATH = ROOT / "docs" / "registry.md"

_WS = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Remove all whitespace (the source breaks lines inside sentences and spaces out numbers)."""
    return _WS.sub("", text)


# Loaded once at collection time so that tests can be parametrized by indicator id.
_PLAN = load_plan(PLAN_PATH)
INDICATOR_IDS = [i.id for i in _PLAN.indicators]


@pytest.fixture(scope="module")
def plan():
    return load_plan(PLAN_PATH)


@pytest.fixture(scope="module")
def plan_text(plan) -> str:
    source = ROOT / plan.meta["source_text"]
    assert source.is_file(), f"plan text {source} is missing"
    return squeeze(source.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw_registry() -> dict:
    return yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def write_registry(tmp_path):
    """Write a (modified) registry document to a fresh temporary file and return its path."""
    counter = {"n": 0}

    def _write(doc: dict) -> Path:
        counter["n"] += 1
        path = tmp_path / f"broken_{counter['n']}.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return _write


# --------------------------------------------------------------------------- the shipped registry


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_clause_text_is_verbatim_from_plan(plan, plan_text, indicator_id):
    ind = plan.indicator(indicator_id)
    quote = squeeze(ind.clause_text)
    assert quote, f"{indicator_id}: empty clause text"
    assert quote in plan_text, f"{indicator_id}: clause text not found in the plan: {ind.clause_text}"


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_clause_ref_names_a_part_of_the_plan(plan, indicator_id):
    ref = plan.indicator(indicator_id).clause_ref
    assert re.fullmatch(r"[一二三四](\([一二三四五六]\)(\d{1,2})?)?", ref), ref


def test_plan_metadata(plan):
    assert plan.id == "hangzhou_ipz_2023_2025"
    assert plan.meta["document_number"] == "杭政办函〔2023〕71号"
    assert (str(plan.zone_start), str(plan.zone_end)) == ("2023Q1", "2025Q4")
    assert plan.meta["in_force_until"] == "2025-04-30"
    assert plan.meta.get("interpretation")


def test_indicator_ids_unique(plan):
    ids = [i.id for i in plan.indicators]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)


def test_every_target_kind_occurs(plan):
    kinds = {i.target.kind for i in plan.targets}
    assert kinds == set(TARGET_KINDS)


@pytest.mark.parametrize("section_id", ["enforcement", "judicial", "financing", "geographical_indications"])
def test_section_has_a_district_indicator(plan, section_id):
    indicators = plan.indicators_in(section_id)
    assert indicators, f"section {section_id} has no indicators"
    assert any(i.applies_to == "all" for i in indicators), f"{section_id}: no indicator for every district"


def test_every_indicator_section_is_declared(plan):
    declared = {s.id for s in plan.sections}
    assert {i.section for i in plan.indicators} <= declared
    assert all(plan.indicators_in(s) for s in declared), "a declared section has no indicators"


def test_target_and_trend_counts(plan):
    assert len(plan.targets) >= 30
    trend_only = {i.id for i in plan.indicators if i.target is None}
    assert "pledge_financing_amount" in trend_only


def test_targets_fall_in_the_zone_period(plan):
    for ind in plan.targets:
        t = ind.target
        assert plan.zone_start <= t.start <= t.due <= plan.zone_end, ind.id


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_indicator_is_consistent(plan, indicator_id):
    ind = plan.indicator(indicator_id)
    if ind.uses_ratio:
        assert ind.numerator_zh and ind.denominator_zh, f"{indicator_id}: ratio without numerator/denominator"
        assert ind.aggregation in ("ratio_of_sums", "none", "each")
    if ind.measure == "per_capita":
        assert ind.denominator_zh == "常住人口（万人）"
    if ind.city_only:
        assert ind.aggregation == "none"
    lo, hi = ind.bounds
    assert lo is not None and (hi is None or hi > lo)
    if ind.target is not None:
        assert lo <= ind.target.value and (hi is None or ind.target.value <= hi), indicator_id
        if ind.target.every_year:  # 每年 (a yearly flow) or 达到并保持 (a level kept every year)
            assert ind.target.kind in ("flow_per_year", "level")
        if ind.city_only:  # only the city reports it, so only the city can be bound by it
            assert ind.target.binds == "city"
        if ind.target.binds == "sum_of_districts":
            assert ind.aggregation == "sum"


@pytest.mark.parametrize("indicator_id", INDICATOR_IDS)
def test_interpretation_recorded_where_needed(plan, indicator_id):
    ind = plan.indicator(indicator_id)
    t = ind.target
    needs_note = (
        t is None
        or ind.aggregation == "each"
        or t.kind in ("cumulative", "milestone", "rate")
        or (t.kind == "flow_per_year" and not t.every_year)
    )
    if needs_note:
        assert ind.interpretation, f"{indicator_id}: the plan leaves a choice here; say which we made"


def test_docs_list_every_interpretation(plan):
    docs = DOCS_PATH.read_text(encoding="utf-8")
    assert "Interpretations we chose" in docs
    missing = [i.id for i in plan.indicators if i.interpretation and f"`{i.id}`" not in docs]
    assert not missing, f"docs/registry.md does not list: {missing}"


# --------------------------------------------------------------------------- broken registries


def _indicator(doc: dict, indicator_id: str) -> dict:
    return next(i for i in doc["indicators"] if i["id"] == indicator_id)


def _duplicate_id(doc):
    doc["indicators"].append(copy.deepcopy(_indicator(doc, "admin_cases")))


def _unknown_field(doc):
    _indicator(doc, "admin_cases")["colour"] = "red"


def _unknown_target_field(doc):
    _indicator(doc, "admin_cases")["target"]["deadline"] = "2025Q4"


def _rate_on_count(doc):
    _indicator(doc, "admin_cases")["target"]["kind"] = "rate"


def _ratio_summed(doc):
    _indicator(doc, "mediation_success_rate")["aggregation"] = "sum"


def _cumulative_on_stock(doc):
    _indicator(doc, "enforcement_funding")["flow"] = False


def _city_only_summed(doc):
    _indicator(doc, "ip_trainees")["aggregation"] = "sum"


def _unknown_section(doc):
    _indicator(doc, "gi_households")["section"] = "agriculture"


def _missing_clause(doc):
    del _indicator(doc, "madrid_registrations")["clause"]


def _bad_due_quarter(doc):
    _indicator(doc, "fast_preexamination")["target"]["due"] = "2025-12"


def _unknown_kind(doc):
    _indicator(doc, "public_satisfaction")["target"]["kind"] = "stretch"


def _bounds_reversed(doc):
    _indicator(doc, "mediation_success_rate")["bounds"] = [100, 0]


def _negative_target(doc):
    _indicator(doc, "admin_cases")["target"]["value"] = -5


def _target_out_of_bounds(doc):
    _indicator(doc, "mediation_success_rate")["target"]["value"] = 137


# (breakage, the Chinese message, the text of the line it names, the English message of before)
BROKEN = [
    pytest.param(_bounds_reversed, r"指标 mediation_success_rate（indicators\[\d+\]）：bounds \[100, 0\] 的下限须小于上限", "bounds:",
                 r"\(mediation_success_rate\): bounds \[100, 0\]: the lower bound", id="bounds-reversed"),
    pytest.param(_negative_target, r"指标 admin_cases（indicators\[\d+\]）的 target：value 为 -5(\.0)?，是负数", "value: -5",
                 r"\(admin_cases\)\.target: value -5(\.0)? is negative", id="negative-target"),
    pytest.param(_target_out_of_bounds, r"指标 mediation_success_rate（indicators\[\d+\]）的 target：目标值 137 超出该指标的取值范围", "value: 137",
                 r"\(mediation_success_rate\)\.target: value 137 lies outside bounds", id="target-outside-bounds"),
    pytest.param(_duplicate_id, r"指标代码 'admin_cases' 第二次出现", "- id: admin_cases",
                 r"'admin_cases' is used twice", id="duplicate-id"),
    pytest.param(_unknown_field, r"指标 admin_cases（indicators\[\d+\]）：未知字段 colour", "- id: admin_cases",
                 r"\(admin_cases\): unknown field\(s\) colour", id="unknown-field"),
    pytest.param(_unknown_target_field, r"指标 admin_cases（indicators\[\d+\]）的 target：未知字段 deadline", "target:",
                 r"\(admin_cases\)\.target: unknown field\(s\) deadline", id="unknown-target-field"),
    pytest.param(_rate_on_count, r"指标 admin_cases（indicators\[\d+\]）：rate（比率）类目标要求 measure: ratio", "measure: count",
                 r"\(admin_cases\): a 'rate' target needs measure 'ratio'", id="rate-on-count"),
    pytest.param(_ratio_summed, r"指标 mediation_success_rate（indicators\[\d+\]）：比率类指标跨区县汇总须用 ratio_of_sums", "aggregation: sum",
                 r"\(mediation_success_rate\): ratios combine .*ratio_of_sums", id="ratio-aggregated-by-sum"),
    pytest.param(_cumulative_on_stock, r"指标 enforcement_funding（indicators\[\d+\]）：cumulative 类目标要求 flow: true", "kind: cumulative",
                 r"\(enforcement_funding\): a cumulative target needs flow: true", id="cumulative-on-stock"),
    pytest.param(_city_only_summed, r"指标 ip_trainees（indicators\[\d+\]）：仅由全市报告的指标（applies_to: city）须写 aggregation: none",
                 "aggregation: sum", r"\(ip_trainees\): a city-only indicator has aggregation 'none'",
                 id="city-only-summed"),
    pytest.param(_unknown_section, r"指标 gi_households（indicators\[\d+\]）：板块 section 'agriculture' 未在 sections 中声明",
                 "section: agriculture", r"\(gi_households\): section 'agriculture'", id="unknown-section"),
    pytest.param(_missing_clause, r"指标 madrid_registrations（indicators\[\d+\]）：必须填写字段 'clause'", "- id: madrid_registrations",
                 r"\(madrid_registrations\): field 'clause' is required", id="missing-clause"),
    pytest.param(_bad_due_quarter, r"指标 fast_preexamination（indicators\[\d+\]）的 target\.due：季度写法有误.*2024Q3", "due: 2025-12",
                 r"\(fast_preexamination\)\.target\.due: .*2024Q3", id="bad-quarter"),
    pytest.param(_unknown_kind, r"指标 public_satisfaction（indicators\[\d+\]）的 target：kind 为 'stretch'，应为 level", "kind: stretch",
                 r"\(public_satisfaction\)\.target: kind='stretch'", id="unknown-kind"),
]


def test_unmodified_copy_loads(raw_registry, write_registry):
    plan = load_plan(write_registry(copy.deepcopy(raw_registry)))
    assert [i.id for i in plan.indicators] == INDICATOR_IDS


@pytest.mark.parametrize(("breakage", "message", "line_text", "english"), BROKEN)
def test_loader_rejects_broken_registry(raw_registry, write_registry, breakage, message, line_text, english):
    """In Chinese: the file, the line that writes the entry or field at fault, the rule; with --lang
    en the English message of before."""
    from helpers.i18n import use_error_language

    doc = copy.deepcopy(raw_registry)
    breakage(doc)
    path = write_registry(doc)
    with pytest.raises(RegistryError, match=message) as err:
        load_plan(path)
    where = re.match(r"(.+) 第 (\d+) 行：", str(err.value))
    assert where and where.group(1) == str(path.resolve())
    assert path.read_text(encoding="utf-8").splitlines()[int(where.group(2)) - 1].strip().startswith(line_text)
    use_error_language(lang="en")
    with pytest.raises(RegistryError, match=english) as err:
        load_plan(path)
    assert not re.search(r"[\u4e00-\u9fff]", str(err.value))


def test_missing_file_is_a_registry_error(tmp_path):
    with pytest.raises(RegistryError, match="方案登记表 .* 不存在"):
        load_plan(tmp_path / "no_such_plan.yaml")


@pytest.mark.parametrize("which", ["settings", "plan", "geographies"])
def test_yaml_that_would_build_python_objects_is_refused(tmp_path, which):
    """Every YAML input is read with a safe loader: a tag that would run code is an error, not a call."""
    from helpers.exceptions import IpevalError
    from helpers.plan.geography import load_geographies
    from helpers.settings import load_settings

    marker = tmp_path / "code-ran"
    path = tmp_path / f"{which}.yaml"
    path.write_text(f'plan: !!python/object/apply:os.system ["touch {marker}"]\nindicators: []\n', encoding="utf-8")
    load = {"settings": load_settings, "plan": load_plan, "geographies": load_geographies}[which]
    with pytest.raises(IpevalError, match="YAML|valid"):
        load(path)
    assert not marker.exists()



def test_a_key_given_twice_is_refused_naming_it(tmp_path):
    """YAML keeps the last of two equal keys without a word: a target typed twice would lose one."""
    dup = PLAN_PATH.read_text(encoding="utf-8").replace("  title_zh:", "  title_zh: 重复的标题\n  title_zh:", 1)
    p = tmp_path / "plan.yaml"
    p.write_text(dup, encoding="utf-8")
    with pytest.raises(RegistryError, match=r"不是有效的 YAML 文件.*第 \d+ 行：键 'title_zh' 在同一层级中出现了两次"):
        load_plan(p)
    from helpers.i18n import use_error_language

    use_error_language(lang="en")
    with pytest.raises(RegistryError, match=r"is not valid YAML: .*'title_zh' appears twice .*line \d+"):
        load_plan(p)
