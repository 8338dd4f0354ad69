"""Error messages a user can cause: Chinese by default, the English of before with ``--lang en``."""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path

import pytest
import yaml
from conftest import ipeval_here

from helpers.exceptions import InvalidPeriodError, UnknownGeographyError
from helpers.i18n import ERROR_TEXTS, et, use_error_language

CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_error_text_has_both_languages_and_the_chinese_says_at_least_as_much():
    assert set(ERROR_TEXTS["zh"]) == set(ERROR_TEXTS["en"])
    for key, zh in ERROR_TEXTS["zh"].items():
        assert _fields(ERROR_TEXTS["en"][key]) <= _fields(zh), key
        assert CJK.search(zh), key  # Chinese in fact, not a copy of the English
        assert not CJK.search(ERROR_TEXTS["en"][key]), key


@pytest.mark.parametrize("argv, lang", [
    (["run", "--lang", "en"], "en"), (["run", "--lang=en"], "en"), (["run"], "zh"), (["run", "--lang", "fr"], "zh"),
    (["run", "--lang"], "zh"),
])
def test_the_error_language_follows_the_commands_lang(argv, lang):
    assert use_error_language(argv) == lang


def test_errors_are_chinese_by_default_and_english_on_request(geos):
    from helpers.plan.periods import Quarter, parse_period
    from helpers.run.backfill import parse_range

    use_error_language(lang="zh")
    with pytest.raises(InvalidPeriodError, match="'2025Q5' 不是季度：请按 2024Q3 的格式写年份和季度"):
        Quarter.parse("2025Q5")
    with pytest.raises(InvalidPeriodError, match="2205Q1 不是有效的季度：年份须在 2000–2100 之间"):
        Quarter(2205, 1)
    with pytest.raises(UnknownGeographyError, match="未知的地区代码 '123456'；有效代码：330100 杭州市"):
        geos.get("123456")
    with pytest.raises(InvalidPeriodError, match="'2025Q4:2025Q1'：范围的结束早于开始"):
        parse_range("2025Q4:2025Q1")
    use_error_language(["--lang", "en"])
    with pytest.raises(InvalidPeriodError) as err:  # the message of before, word for word
        Quarter.parse("2025Q5")
    assert str(err.value) == "'2025Q5' is not a quarter: write the year and quarter as in 2024Q3"
    with pytest.raises(InvalidPeriodError) as err:
        parse_period("24-3")
    assert str(err.value) == "'24-3' is not a period: write a quarter (2024Q3) or a year (2024)"
    assert et("holder_unknown") == "holder unknown"


def test_the_command_line_says_it_in_chinese_unless_told_lang_en(project, monkeypatch, capsys):
    code, _, err = ipeval_here(["run", "--quarter", "2099Q1", "--quiet"], project, monkeypatch, capsys)
    assert code == 2 and "2099Q1 尚未结束：目前可评估的最后一个季度是" in err and "Traceback" not in err
    code, _, err = ipeval_here(["run", "--quarter", "2099Q1", "--quiet", "--lang", "en"], project, monkeypatch, capsys)
    assert code == 2 and "2099Q1 has not ended yet: the last quarter that can be evaluated is" in err


def test_a_document_format_and_a_publication_lag_are_refused_in_chinese(tmp_path):
    from helpers.exceptions import ConfigError, RegistryError
    from helpers.pages.document import FORMATS, parse_formats
    from helpers.plan import publication

    with pytest.raises(ConfigError, match=f"--format 可选 {', '.join(FORMATS)}（逗号分隔），不能是 'odt'"):
        parse_formats("odt")
    path = tmp_path / "plan.yaml"
    path.write_text("publication:\n  indicators:\n    admin_cases: {published_lag_months: 40}\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="published_lag_months 须为 0–36 之间的整月数（现为 40）"):
        publication._load(str(path), ("admin_cases",))


# --------------------------------------------------------------------------- each message, in both languages
# (herr) every message converted in the plan registry, plan entries, settings, store, command line and documents:
# raised by the code that raises it, in Chinese by default and in the English of before with --lang en.

PLAN_FILE = Path(__file__).resolve().parents[1] / "params" / "plans" / "hangzhou_ipz_2023_2025.yaml"


def _entry(doc: dict, indicator_id: str) -> dict:
    return next(i for i in doc["indicators"] if i["id"] == indicator_id)


def _set(indicator_id: str, *keys, value):
    """A change to one field of one indicator (``keys`` below the indicator)."""
    def mutate(doc):
        d = _entry(doc, indicator_id)
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return mutate


def _registry(tmp_path: Path, mutate) -> Path:
    doc = yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _load(mutate):
    from helpers.plan.registry import load_plan

    return lambda tmp_path, monkeypatch: (lambda: load_plan(_registry(tmp_path, mutate)))


def _unconfirmed(tmp_path, monkeypatch):
    from helpers.plan.registry import load_plan, require_confirmed

    path = _registry(tmp_path, _set("admin_cases", "confirmed", value=False))
    return lambda: require_confirmed(load_plan(path))


def _plan_call(call):
    def make(tmp_path, monkeypatch):
        from helpers.plan.registry import load_plan

        plan = load_plan(PLAN_FILE)
        return lambda: call(plan)
    return make


def _settings(raw):
    def make(tmp_path, monkeypatch):
        from helpers.settings import settings_from_mapping

        base = {"plan": "params/plans/x.yaml", "geographies": "params/g.yaml", "data": "data/x.csv"}
        return lambda: settings_from_mapping(raw if not isinstance(raw, dict) else {**base, **raw},
                                             tmp_path / "params" / "settings.yaml", "")
    return make


def _settings_file(text):
    def make(tmp_path, monkeypatch):
        from helpers.settings import load_settings

        path = tmp_path / "settings.yaml"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        return lambda: load_settings(path)
    return make


def _no_project(tmp_path, monkeypatch):
    import helpers.settings as hs

    monkeypatch.delenv("IPEVAL_HOME", raising=False)
    monkeypatch.setattr(hs, "__file__", str(tmp_path / "a" / "b" / "settings.py"))
    return lambda: hs.find_project_root(tmp_path)


def _damaged_store(tmp_path, monkeypatch):
    from helpers.data.store import ObservationStore

    store = ObservationStore(tmp_path / "store.sqlite", tmp_path / "received")
    store.path.write_bytes(b"this is not a database" * 100)
    return store.vintages


def _unfinished_run(tmp_path, monkeypatch):
    from helpers.pages.document.content import load_run_tables

    return lambda: load_run_tables(None, tmp_path)


def _fonts_gone(tmp_path, monkeypatch):
    import mplfonts

    from helpers.pages.document.pdf import cjk_font_files

    monkeypatch.setattr(mplfonts, "__file__", str(tmp_path / "mplfonts" / "__init__.py"))
    return cjk_font_files


def _raises(exc_type, call):
    with pytest.raises(exc_type) as err:
        call()
    return str(err.value)


A_LINE = r"plan\.yaml 第 \d+ 行："
MESSAGES = [
    # plan/registry.py
    pytest.param(_load(lambda d: d.pop("indicators")), "RegistryError", r"plan\.yaml：不是方案登记表：顶层须有 plan、sections",
                 r"plan\.yaml: expected top-level keys 'plan', 'sections' and 'indicators'$", id="reg_top_level"),
    pytest.param(_load(lambda d: d["sections"].append(dict(d["sections"][0]))), "RegistryError",
                 r"plan\.yaml 第 \d+ 行：板块代码 '\w+' 重复出现", r"plan\.yaml: section ids are not unique$",
                 id="reg_section_ids"),
    pytest.param(_load(lambda d: d["plan"]["zone_period"].update(start="2023-01")), "RegistryError",
                 A_LINE + r"plan\.zone_period\.start：季度写法有误——'2023-01' 不是季度",
                 r"^plan\.zone_period\.start: '2023-01' is not a quarter", id="reg_period"),
    pytest.param(_load(lambda d: d["plan"].pop("title_en")), "RegistryError", A_LINE + r"plan：必须填写字段 'title_en'",
                 r"^plan: field 'title_en' is required$", id="reg_field_required"),
    pytest.param(_load(_set("admin_cases", "target", "direction", value="up")), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）的 target：direction 为 'up'，应为 at_least, at_most 之一",
                 r"\(admin_cases\)\.target: direction='up' is not one of at_least, at_most$", id="reg_choice"),
    pytest.param(_load(_set("admin_cases", "target", "due", value="2022Q4")), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）的 target：期限 due（2022Q4）早于考核期起点 period\.start（2023Q1）",
                 r"\(admin_cases\)\.target: due 2022Q4 is before the period start 2023Q1$", id="reg_due_before_start"),
    pytest.param(_load(_set("admin_cases", "target", "value", value="many")), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）的 target：value 必须是数字，现为 'many'",
                 r"\(admin_cases\)\.target: value must be a number, got 'many'$", id="reg_value_number"),
    pytest.param(_load(_set("admin_cases", "bounds", value=[0])), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）：bounds 应写成 \[下限, 上限\]",
                 r"\(admin_cases\): bounds is \[lower, upper\] \(null for none\)$", id="reg_bounds_shape"),
    pytest.param(_load(_set("admin_cases", "bounds", value=["a", None])), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）：bounds \['a', None\] 的两端只能是数字或 null",
                 r"\(admin_cases\): bounds \['a', None\] must be numbers or null$", id="reg_bounds_numbers"),
    pytest.param(_load(_set("admin_cases", "aggregation", value="none")), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）：各区县均报告的指标（applies_to: all）须写明汇总方式",
                 r"\(admin_cases\): an indicator of every district needs an aggregation$",
                 id="reg_all_needs_aggregation"),
    pytest.param(_load(_set("admin_cases", "measure", value="per_capita")), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）：人均类指标的汇总方式须为 aggregation: per_capita",
                 r"\(admin_cases\): per-capita indicators aggregate as per_capita$", id="reg_per_capita_aggregation"),
    pytest.param(_load(_set("admin_cases", "interpretation_en", value="")), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）：缺少 interpretation_en：口径解读须中文、英文同时填写",
                 r"\(admin_cases\): interpretation_en is missing: an interpretation is given in both Chinese and "
                 r"English$", id="reg_interpretation_pair"),
    pytest.param(_load(_set("ip_trainees", "target", "binds", value="each_district")), "RegistryError",
                 A_LINE + r"指标 ip_trainees（indicators\[\d+\]）的 target：binds 为 'each_district'，但该指标只有全市数据",
                 r"\(ip_trainees\)\.target: binds='each_district', but only the city reports this indicator "
                 r"\(applies_to: city\); use binds: city$", id="reg_city_binds"),
    pytest.param(_load(_set("mediation_success_rate", "target", "binds", value="sum_of_districts")), "RegistryError",
                 A_LINE + r"指标 mediation_success_rate（indicators\[\d+\]）的 target：binds: sum_of_districts（约束各区县合计）要求 "
                 r"aggregation: sum", r"\(mediation_success_rate\)\.target: binds: sum_of_districts needs "
                 r"aggregation: sum$", id="reg_sum_binds"),
    pytest.param(_load(_set("admin_cases", "target", "every_year", value=True)), "RegistryError",
                 A_LINE + r"指标 admin_cases（indicators\[\d+\]）的 target：every_year 只适用于 flow_per_year 和 level 两类目标",
                 r"\(admin_cases\)\.target: every_year applies to flow_per_year and level targets only$",
                 id="reg_every_year"),
    pytest.param(_unconfirmed, "RegistryError", r"plan\.yaml：1 个条目尚未确认（confirmed: false）.*indicators\[\d+\] "
                 r"\(admin_cases\)。请逐条核对", r"plan\.yaml: 1 entries are not confirmed \(confirmed: false\) and "
                 r"cannot be used in an evaluation run: indicators\[\d+\] \(admin_cases\)\. Check each",
                 id="reg_unconfirmed"),
    # plan/entries.py
    pytest.param(_plan_call(lambda p: p.indicator("nope")), "RegistryError", r"^方案登记表中没有指标 'nope'$",
                 r"^unknown indicator 'nope'$", id="unknown_indicator"),
    pytest.param(_plan_call(lambda p: p.section("nope")), "UnknownSectionError", r"^未知的板块 'nope'；有效板块：\w+",
                 r"^unknown section 'nope'; valid sections: \w+", id="unknown_section"),
    pytest.param(_plan_call(lambda p: dataclasses.replace(p, meta={**p.meta, "data_from": "2018年"}).data_from),
                 "RegistryError", r"\.yaml：plan\.data_from 须为年份（如 2018），不能是 '2018年'$",
                 r"\.yaml: plan\.data_from must be a year such as 2018, not '2018年'$", id="plan_data_from"),
    # settings.py, settings_schema.py
    pytest.param(_no_project, "ConfigError", r"都没有找到 params/settings\.yaml：请在项目文件夹中运行，或设置环境变量 "
                 r"IPEVAL_HOME", r"^no params/settings\.yaml found in .* or its parents; run from the project folder "
                 r"or set IPEVAL_HOME$", id="no_project"),
    pytest.param(_settings_file(None), "ConfigError", r"^设置文件 .*settings\.yaml 不存在：请检查路径和文件名$",
                 r"^settings file .*settings\.yaml does not exist$", id="yaml_missing"),
    pytest.param(_settings_file("plan: [\n"), "ConfigError", r"settings\.yaml 不是有效的 YAML 文件：while parsing",
                 r"settings\.yaml is not valid YAML: ", id="yaml_invalid"),
    pytest.param(_settings([1, 2]), "ConfigError", r"settings\.yaml：设置文件的内容须为“键: 值”形式的映射$",
                 r"settings\.yaml: the settings must be a mapping of keys to values$", id="settings_not_mapping"),
    pytest.param(_settings({"notify": {"channels": [{"name": "office", "kind": "smtp"}]}}), "ConfigError",
                 r"^设置文件有误（共 1 处）：\n  .*settings\.yaml：设置项 notify\.channels\.0：通知渠道 'office'：smtp 渠道须填写 "
                 r"host 和 sender", r"^invalid settings:\n  .*settings\.yaml: notify\.channels\.0: channel 'office': an "
                 r"smtp channel needs host and sender$", id="settings_smtp"),
    pytest.param(_settings({"notify": {"channels": [{"name": "robot", "kind": "webhook"}]}}), "ConfigError",
                 r"通知渠道 'robot'：webhook 渠道须填写 url_env（保存其 URL 的环境变量名）",
                 r"channel 'robot': a webhook needs url_env \(the environment variable holding its URL\)$",
                 id="settings_webhook"),
    pytest.param(_settings({"report": {"evaluation_date": "2025/6/30"}}), "ConfigError",
                 r"设置项 report\.evaluation_date：'2025/6/30' 不是日期：请按 YYYY-MM-DD 填写（现为 '2025/6/30'）",
                 r"report\.evaluation_date: '2025/6/30' is not a date \(YYYY-MM-DD\) \(got '2025/6/30'\)$",
                 id="settings_date"),
    pytest.param(_settings({"plan": None}), "ConfigError", r"设置项 plan：须为文字（现为 None）",
                 r"plan: Input should be a valid string \(got None\)$", id="settings_rule"),
    pytest.param(_settings({"store": {"paht": "x"}}), "ConfigError", r"store\.paht：没有这个设置项（此处可用：path, received",
                 r"store\.paht: not a setting \(allowed here: path, received", id="settings_not_a_setting"),
    pytest.param(_settings({"notify": {"channels": [{"kind": "smtp"}]}}), "ConfigError",
                 r"notify\.channels\.0\.name：必须填写", r"notify\.channels\.0\.name: required", id="settings_required"),
    # data/observation_store.py
    pytest.param(_damaged_store, "EnvironmentFailure", r"^观测数据库 .*store\.sqlite 已损坏（file is not a database）：请把它"
                 r"移到别处，再用 `ipeval ingest --rebuild` 从 .*received 重建$", r"^the observation store .*store\.sqlite "
                 r"is damaged \(file is not a database\): move it aside and rebuild it from .*received with `ipeval "
                 r"ingest --rebuild`$", id="store_damaged"),
    # pages/document/content.py, pdf.py
    pytest.param(_unfinished_run, "ConfigError", r"不是已完成的运行：缺少 assessments\.csv, validated_data\.csv（请先运行 "
                 r"`ipeval run`）$", r"is not a finished run: assessments\.csv, validated_data\.csv missing \(run "
                 r"`ipeval run` first\)$", id="document_unfinished_run"),
    pytest.param(_fonts_gone, "ConfigError", r"^缺少中文字体文件：.*NotoSerifCJKsc-Regular\.otf.*；请重新安装 mplfonts 包$",
                 r"^CJK font\(s\) missing: .*NotoSerifCJKsc-Regular\.otf.*; reinstall the mplfonts package$",
                 id="document_fonts_missing"),
]


@pytest.mark.parametrize("make, error, zh, en", MESSAGES)
def test_each_message_is_chinese_by_default_and_the_english_of_before_with_lang_en(tmp_path, monkeypatch, make,
                                                                                    error, zh, en):
    from helpers import exceptions

    call = make(tmp_path, monkeypatch)
    for lang, pattern in (("zh", zh), ("en", en)):
        use_error_language(lang=lang)
        text = _raises(getattr(exceptions, error), call)
        assert re.search(pattern, text), (lang, text)
        assert bool(CJK.search(text.replace("2018年", ""))) == (lang == "zh"), text


@pytest.mark.parametrize("args, zh, en", [
    (["report", "--quarter", "2025Q2"], "下没有 2025Q2 已发布的运行结果：请先运行 `ipeval run --quarter 2025Q2`",
     "no published run of 2025Q2 under "),
    (["report", "--quarter", "2025Q2", "--lang", "fr"], "--lang 须为 zh 或 en，不能是 'fr'", None),
    (["run", "--plan", "nope"], "--plan nope：没有找到该方案的设置文件", "--plan nope: no settings file "),
    (["ingest"], "请至少给出一个文件（或使用 --rebuild）", "give at least one FILE (or --rebuild)"),
])
def test_the_command_lines_own_refusals_in_both_languages(project, monkeypatch, capsys, args, zh, en):
    ours = args[0] != "ingest"  # a missing argument is click's own "Error: Invalid value: ..."
    code, _, err = ipeval_here(args, project, monkeypatch, capsys)
    assert code == 2 and zh in err and "Traceback" not in err, err
    assert err.startswith("错误：") or not ours, err
    if en is not None:
        code, _, err = ipeval_here([*args, "--lang", "en"], project, monkeypatch, capsys)
        assert code == 2 and en in err and not CJK.search(err.split(en)[1].splitlines()[0]), err
        assert err.startswith("error: ") or not ours, err


@pytest.mark.parametrize("exc, zh, en", [
    (OSError(28, "No space left on device", "/srv/out/x.csv"), "磁盘已满（/srv/out/x.csv）：请腾出空间后重新运行；未发布任何内容",
     "the disk is full (/srv/out/x.csv): free some space and run again; nothing was published"),
    (PermissionError(13, "Permission denied", "/srv/out"), "Permission denied（/srv/out）：请检查该路径及其权限",
     "Permission denied (/srv/out): check the path and its permissions"),
    (ZeroDivisionError("a bug"), "内部错误（ZeroDivisionError: a bug）；未发布任何内容。这是程序缺陷",
     "internal error (ZeroDivisionError: a bug); nothing was published. This is a bug"),
])
def test_a_failure_of_the_machine_or_a_bug_is_one_line_in_the_error_language(tmp_path, monkeypatch, capsys, exc,
                                                                              zh, en):
    import tempfile

    from helpers import cli

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the details file
    monkeypatch.setitem(cli._state, "debug", False)
    for lang, words, details in (("zh", zh, "；详细信息："), ("en", en, "; details: ")):
        use_error_language(lang=lang)
        assert cli._internal_failure(exc) == 3
        err = capsys.readouterr().err
        assert words in err and details + str(tmp_path) in err and len(err.strip().splitlines()) == 1, err
