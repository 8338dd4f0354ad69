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
    from helpers.pages.document.source import overview_input
    from helpers.settings import load_settings

    settings = load_settings(Path(__file__).resolve().parents[1] / "params" / "settings.yaml")
    return lambda: overview_input(settings, tmp_path, "330100", "zh")


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


# --------------------------------------------------------------------------- herr2: forecast, backtest, calibration
# the forecast settings, the backtest's origins and methods, the calibration command and its files, --as-of, the
# data summaries, a symbolic link refused, an interrupted run: each message in both languages.

CALIBRATION_COLUMNS = "series,category,start_year,start_period,t,value\n"


def _call(fn):
    return lambda tmp_path, monkeypatch: fn


def _forecast(**changes):
    from helpers.model.forecast import ForecastSettings

    return _call(lambda: ForecastSettings(**changes))


def _forecast_mapping(mapping):
    from helpers.model.forecast import ForecastSettings

    return _call(lambda: ForecastSettings.from_mapping(mapping))


def _calibration_file(text: str | None, call=None):
    def make(tmp_path, monkeypatch):
        from helpers.model.calibrate_read import read_series

        path = tmp_path / "m3.csv"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        return lambda: (call or read_series)(path)
    return make


def _calibrate(**kw):
    def make(tmp_path, monkeypatch):
        from helpers.model.calibrate import calibrate_files
        from helpers.model.forecast import ForecastSettings

        files = kw.pop("files", None)
        if files is None:  # one yearly series of four years: too short for any history and the 3-year horizon
            path = tmp_path / "yearly.csv"
            path.write_text(CALIBRATION_COLUMNS + "".join(f"Y1,micro,1990,1,{t},{100 + t}\n" for t in range(1, 5)),
                            encoding="utf-8")
            files = [path]
        return lambda: calibrate_files(files, ForecastSettings(n_paths=10), out=tmp_path / "out", **kw)
    return make


def _check_calibration(freq="yearly", histories=(6,), half="all", methods=()):
    from helpers.model.calibrate import _check_calibration
    from helpers.model.forecast import ForecastSettings

    return _call(lambda: _check_calibration(freq, histories, ForecastSettings(), half, methods))


def _infer_freq(periods):
    from helpers.model.calibrate_read import infer_freq

    import pandas as pd

    frame = pd.DataFrame({"start_period": list(periods)})
    return _call(lambda: infer_freq(frame, "m3.csv"))


def _module_call(module: str, fn: str, *args):
    """``module.fn(*args)``, imported when the test runs."""
    import importlib

    return _call(lambda: getattr(importlib.import_module(module), fn)(*args))


def _as_of(fn, *args):
    import pandas as pd

    from helpers.data import asof

    args = tuple(pd.DataFrame({"received_at": a}) if isinstance(a, list) else a for a in args)
    return _call(lambda: getattr(asof, fn)(*args))


def _symbolic_link(tmp_path, monkeypatch):
    from helpers.files import refuse_links

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "inbox").symlink_to(tmp_path / "elsewhere")
    return lambda: refuse_links(tmp_path / "inbox", "the inbox", parent=False)


def _interrupted(after_publish: bool):
    def make(tmp_path, monkeypatch):
        from helpers.exceptions import RunInterrupted
        from helpers.run.publish import InterruptedAfterPublish

        def call():
            raise InterruptedAfterPublish(15, Path("/srv/ipeval/2025Q2")) if after_publish else RunInterrupted(15)
        return call
    return make


FC = r"请在设置文件的 forecast 部分改正$"
CAL_COLUMNS = r"\['series', 'category', 'start_year', 'start_period', 't', 'value'\]"
MESSAGES_HERR2 = [
    # model/forecast_core.py: ForecastSettings
    pytest.param(_forecast(n_paths=True), "ConfigError", r"^设置项 forecast\.n_paths 须为整数，现为 True：" + FC,
                 r"^forecast\.n_paths must be a whole number, got True$", id="fc_whole_number"),
    pytest.param(_forecast(n_paths=5), "ConfigError", r"^设置项 forecast\.n_paths 至少为 10，现为 5：" + FC,
                 r"^forecast\.n_paths must be at least 10, got 5$", id="fc_at_least"),
    pytest.param(_forecast(widen="wide"), "ConfigError", r"^设置项 forecast\.widen 须为数字，现为 'wide'：" + FC,
                 r"^forecast\.widen must be a number, got 'wide'$", id="fc_number"),
    pytest.param(_forecast(widen=20.0), "ConfigError", r"^设置项 forecast\.widen 须在 0\.1 至 10 之间，现为 20\.0：" + FC,
                 r"^forecast\.widen must be between 0\.1 and 10, got 20\.0$", id="fc_between"),
    pytest.param(_forecast(engine="prophet"), "ConfigError",
                 r"^设置项 forecast\.engine 须为 \['drift_t', 'ensemble', 'rw_drift'\] 之一，现为 'prophet'$",
                 r"^forecast\.engine must be one of \['drift_t', 'ensemble', 'rw_drift'\], got 'prophet'$",
                 id="fc_engine"),
    pytest.param(_forecast(members="ets_ann"), "ConfigError",
                 r"^设置项 forecast\.members 须为模型名称的列表（如 \[ets_ann, theta\]），现为 'ets_ann'$",
                 r"^forecast\.members must be a list of names, got 'ets_ann'$", id="fc_members_list"),
    pytest.param(_forecast(members=["ets_ann", "arima"]), "ConfigError",
                 r"^设置项 forecast\.members 中有未知的模型 \['arima'\]：可选 \['ets_ann', .*\]，请检查拼写$",
                 r"^forecast\.members has unknown member\(s\) \['arima'\]; choose from \['ets_ann', .*\]$",
                 id="fc_members_unknown"),
    pytest.param(_forecast(members=["ets_ana"]), "ConfigError", r"^设置项 forecast\.members 须至少列出一个非季节性模型：ets_ana",
                 r"^forecast\.members must name at least one non-seasonal member$", id="fc_members_seasonal_only"),
    pytest.param(_forecast(members=["theta", "theta"]), "ConfigError",
                 r"^设置项 forecast\.members 中有模型重复列出：\['theta', 'theta'\]；每个模型只写一次$",
                 r"^forecast\.members lists a member twice: \['theta', 'theta'\]$", id="fc_members_twice"),
    pytest.param(_forecast(weights="inverse_mse"), "ConfigError",
                 r"^设置项 forecast\.weights 须为 \['equal'\] 之一，现为 'inverse_mse'$",
                 r"^forecast\.weights must be one of \['equal'\], got 'inverse_mse'$", id="fc_weights"),
    pytest.param(_forecast_mapping(["n_paths", 10]), "ConfigError", r"^设置文件的 forecast 部分须为“键: 值”形式的映射，现为 list$",
                 r"^the forecast settings must be a mapping, got list$", id="fc_not_mapping"),
    pytest.param(_forecast_mapping({"n_path": 100}), "ConfigError",
                 r"^forecast 部分有未知的设置项 \['n_path'\]（请检查拼写，否则该项会被忽略）；可用的设置项：\['drift_damping'",
                 r"^unknown forecast setting\(s\) \['n_path'\]; known settings are \['drift_damping'", id="fc_unknown"),
    # model/backtest/rolling.py
    pytest.param(_module_call("helpers.model.backtest.rolling", "parse_origins", "2023Q4:2024Q4:2:1"),
                 "InvalidPeriodError", r"^--origins '2023Q4:2024Q4:2:1' 写法有误：请写 起:止 或 起:止:步长",
                 r"^origins '2023Q4:2024Q4:2:1': write FIRST:LAST or FIRST:LAST:STEP, e\.g\. 2023Q4:2025Q3:2$",
                 id="bt_origins_format"),
    pytest.param(_module_call("helpers.model.backtest.rolling", "parse_origins", "2023Q4:2024Q4:0"),
                 "InvalidPeriodError", r"^--origins '2023Q4:2024Q4:0'：步长须为不小于 1 的整数$",
                 r"^origins '2023Q4:2024Q4:0': the step must be a whole number >= 1$", id="bt_origins_step"),
    pytest.param(_module_call("helpers.model.backtest.rolling", "parse_origins", "2025Q3:2023Q4"),
                 "InvalidPeriodError", r"^--origins '2025Q3:2023Q4'：止点 2023Q4 早于起点 2025Q3，请对调两个季度$",
                 r"^origins '2025Q3:2023Q4': 2023Q4 is before 2025Q3$", id="bt_origins_reversed"),
    pytest.param(_module_call("helpers.model.backtest.rolling", "_methods", "ensemble,arima", None),
                 "ConfigError", r"^--members 中有未知的回测方法 \['arima'\]：可选 \['ensemble', ",
                 r"^unknown backtest method\(s\) \['arima'\]; choose from \['ensemble', ", id="bt_methods_unknown"),
    pytest.param(_module_call("helpers.model.backtest.rolling", "_methods", ["ets_ana"], None),
                 "ConfigError", r"^ets_ana 不能单独回测评分：.*请在 --members 中另列一个模型，或去掉 ets_ana$",
        r"^ets_ana cannot be scored alone: it only joins another member on seasonal series$", id="bt_ets_ana_alone"),
    # model/calibrate.py
    pytest.param(_check_calibration(freq="monthly"), "ConfigError",
                 r"^freq 须为 \['yearly', 'quarterly'\] 之一（年度或季度序列），现为 'monthly'$",
                 r"^freq must be one of \['yearly', 'quarterly'\], got 'monthly'$", id="cal_freq"),
    pytest.param(_check_calibration(methods=["arima"]), "ConfigError", r"^未知的校准方法 \['arima'\]：可选 \['engine'",
                 r"^unknown calibration method\(s\) \['arima'\]; choose from \['engine'", id="cal_methods_unknown"),
    pytest.param(_check_calibration(half="c"), "ConfigError", r"^--half 须为 all（全部序列）、a 或 b.*，现为 'c'$",
                 r"^half must be 'all', 'a' or 'b', got 'c'$", id="cal_half"),
    pytest.param(_check_calibration(freq="quarterly", histories=(4, 8)), "ConfigError",
                 r"^历史长度 4 少于预测引擎对 quarterly 序列要求的最少 6 个数据点（设置项 forecast\.min_points）：请用 --history",
                 r"^history length 4 is fewer than the engine's minimum of 6 quarterly points \(forecast\.min_points\)$",
                 id="cal_history_short"),
    pytest.param(_module_call("helpers.model.calibrate", "parse_history", "4,x"),
                 "ConfigError", r"^--history 须为以逗号分隔的整数（如 4,6,8），现为 '4,x'$",
                 r"^--history must be whole numbers separated by commas, got '4,x'$", id="cal_history_format"),
    pytest.param(_module_call("helpers.model.calibrate", "parse_history", "1,4"),
                 "ConfigError", r"^--history 中每个历史长度至少为 2，现为 '1,4'$",
                 r"^--history lengths must be at least 2, got '1,4'$", id="cal_history_at_least_2"),
    pytest.param(_calibrate(freq="monthly"), "ConfigError", r"^--freq 须为 yearly（年度）或 quarterly（季度），现为 'monthly'$",
                 r"^--freq must be yearly or quarterly, got 'monthly'$", id="cal_freq_option"),
    pytest.param(_calibrate(files=[]), "ConfigError", r"^没有给出校准数据文件：请在命令后列出至少一个 CSV 文件$",
                 r"^no calibration file given$", id="cal_no_file"),
    pytest.param(_calibrate(history="3"), "ConfigError", r"^无法做出任何预测：各序列都短于所给的历史长度加 3 年预测期",
                 r"^no forecast could be made: the series are too short for the history lengths and the 3-year "
                 r"horizon$", id="cal_no_forecast"),
    # model/calibrate_read.py
    pytest.param(_infer_freq([1, 12]), "ConfigError", r"^m3\.csv：start_period 列最大为 12，只支持年度或季度序列.*请用 --freq",
                 r"^m3\.csv: start_period goes up to 12; only yearly or quarterly series are supported \(use --freq "
                 r"to say which\)$", id="cal_start_period_high"),
    pytest.param(_infer_freq([1, 2]), "ConfigError", r"^m3\.csv：根据 start_period 列的取值 \[1, 2\] 无法判断是年度还是季度序列",
                 r"^m3\.csv: cannot tell yearly from quarterly from the start periods \[1, 2\]; pass --freq yearly or "
                 r"--freq quarterly$", id="cal_freq_unknown"),
    pytest.param(_calibration_file(None), "ConfigError", r"^校准数据文件 .*m3\.csv 不存在：请检查路径和文件名$",
                 r"^calibration file not found: .*m3\.csv$", id="cal_file_missing"),
    pytest.param(_calibration_file(""), "DataValidationError",
                 r"m3\.csv 不是校准数据表（EmptyDataError: No columns to parse from file）：应为 CSV 文件，包含列 " + CAL_COLUMNS,
                 r"m3\.csv: not a calibration table \(EmptyDataError: No columns to parse from file\); expected "
                 r"columns " + CAL_COLUMNS + "$", id="cal_not_a_table"),
    pytest.param(_calibration_file(CALIBRATION_COLUMNS), "DataValidationError",
                 r"m3\.csv：没有数据行；应包含列 " + CAL_COLUMNS + "，每个数值一行$",
                 r"m3\.csv: no rows; expected columns " + CAL_COLUMNS + " and one row per value$", id="cal_no_rows"),
    pytest.param(_calibration_file("series,t,value\nY1,1,5\n"), "DataValidationError",
                 r"m3\.csv：缺少列 \['category', 'start_year', 'start_period'\]；应包含列 " + CAL_COLUMNS + "$",
                 r"m3\.csv: missing column\(s\) \['category', 'start_year', 'start_period'\]; expected " + CAL_COLUMNS
                 + "$", id="cal_missing_columns"),
    pytest.param(_calibration_file(CALIBRATION_COLUMNS + "Y1,micro,1990,1,1,5\nY1,micro,1990,1,2,-3\n"),
                 "DataValidationError", r"m3\.csv：校准数据文件中有 1 处问题（见下表的行、列和规则），请改正后重新运行\n[\s\S]*数值须为正数",
                 r"m3\.csv: 1 problem\(s\) in the calibration file\n[\s\S]*values must be positive numbers",
                 id="cal_problems"),
    pytest.param(_calibration_file(CALIBRATION_COLUMNS + "Y1,micro,1990,1,1,5\nY1,micro,1990,1,3,6\n"),
                 "DataValidationError", r"校准数据文件中有 1 处问题[\s\S]*序列 Y1：t 须从 1 起连续编号到 N，不能缺号或重号",
                 r"1 problem\(s\) in the calibration file\n[\s\S]*series Y1: t must run 1\.\.N without gaps",
                 id="cal_row_t"),
    # data/asof.py
    pytest.param(_as_of("parse_as_of", "last week"), "ConfigError",
                 r"^--as-of 'last week' 不是日期（如 2025-07-25）或时间（如 2025-07-25T06:00:00Z）$",
                 r"^--as-of 'last week' is not a date \(2025-07-25\) or time \(2025-07-25T06:00:00Z\)$",
                 id="asof_not_a_date"),
    pytest.param(_as_of("parse_as_of", "1969-12-31"), "InvalidPeriodError", r"^--as-of 1969-12-31 早于 1970 年，那时不可能收到任何数据",
                 r"^--as-of 1969-12-31: before 1970, nothing can have been received then$", id="asof_before_1970"),
    pytest.param(_as_of("check_as_of", "2099-01-01T00:00:00Z", []), "InvalidPeriodError",
                 r"^--as-of 2099-01-01T00:00:00Z 是将来的时间，届时的数据尚不可知（现在是 20\d\d-.*Z）：请给出不晚于现在的时间$",
                 r"^--as-of 2099-01-01T00:00:00Z is in the future: nothing is known yet at that time \(now is 20\d\d-.*Z\)$",
                 id="asof_future"),
    pytest.param(_as_of("check_as_of", "2020-01-01T00:00:00Z", ["2026-01-10T08:00:00Z"]), "InvalidPeriodError",
                 r"^--as-of 2020-01-01T00:00:00Z 早于观测数据库收到第一个文件的时间（2026-01-10T08:00:00Z），那时还没有任何数据："
                 r"请给出 2026-01-10T08:00:00Z 之后的时间$", r"^--as-of 2020-01-01T00:00:00Z is before the first file the "
                 r"store received \(2026-01-10T08:00:00Z\): nothing was known then$", id="asof_before_first"),
    # files.py
    pytest.param(_symbolic_link, "UnsafePathError", r"^收件文件夹：.*inbox 是符号链接（指向 .*elsewhere）；为安全起见，ipeval "
                 r"从不通过链接写入。请把它换成真实的文件夹或文件后重新运行$", r"^the inbox: .*inbox is a symbolic link \(to "
                 r".*elsewhere\); ipeval never writes through a link\. Replace it with a real folder or file and run "
                 r"again$", id="symbolic_link"),
    # exceptions.py, run/publish.py
    pytest.param(_interrupted(False), "RunInterrupted", r"^收到信号 15，运行已中断；未发布任何内容，此前的输出保持不变$",
                 r"^interrupted by signal 15; nothing was published, the previous outputs are unchanged$",
                 id="interrupted_by_signal"),
    pytest.param(_interrupted(True), "RunInterrupted", r"^运行结果发布（/srv/ipeval/2025Q2）之后收到信号 15，运行已中断；新的输出是完整的$",
                 r"^interrupted by signal 15 after the run was published \(/srv/ipeval/2025Q2\); the new outputs are "
                 r"complete$", id="interrupted_after_publish"),
]


@pytest.mark.parametrize("make, error, zh, en", MESSAGES_HERR2)
def test_each_forecast_calibration_and_run_message_in_both_languages(tmp_path, monkeypatch, make, error, zh, en):
    test_each_message_is_chinese_by_default_and_the_english_of_before_with_lang_en(tmp_path, monkeypatch, make,
                                                                                    error, zh, en)


def _bad_return(path: Path, rows: int) -> Path:
    """A return of ``rows`` rows, each breaking four rules (indicator, geography, period, value)."""
    import pandas as pd

    pd.DataFrame({"indicator_id": ["nope"] * rows, "geography_code": ["1"] * rows, "period": ["x"] * rows,
                  "value": ["a"] * rows, "numerator": [""] * rows, "denominator": [""] * rows,
                  "source": [""] * rows, "note": [""] * rows}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("rows, chunk, zh, en", [
    (2, None, r"^1 个数据文件中共有 \d+ 处问题，未运行任何评估：请按下表的文件、行、列和规则逐条改正后重新运行\n",
     r"^\d+ problem\(s\) in 1 file\(s\); nothing was run\n"),
    (300, None, r"^1 个数据文件中共有 \d+ 处问题，未运行任何评估；下表列出前 1000 处；按规则统计：\w+: \d+, ",
     r"^\d+ problem\(s\) in 1 file\(s\); nothing was run; the first 1000 are listed; by rule: \w+: \d+, "),
    (400, 100, r"^1 个数据文件中有超过 \d+ 处问题，未运行任何评估；发现 1000 处问题后停止检查（停在 bad\.csv 第 \d+ 行）；"
     r"下表列出前 1000 处；按规则统计：", r"^more than \d+ problem\(s\) in 1 file\(s\); nothing was run; checking stopped "
     r"after 1000 at bad\.csv row \d+; the first 1000 are listed; by rule: "),
], ids=["data_problems", "data_problems_many", "data_problems_stopped"])
def test_the_data_summaries_in_both_languages(tmp_path, monkeypatch, plan, geos, rows, chunk, zh, en):
    from helpers.data import validation
    from helpers.data.contract import load_data
    from helpers.exceptions import DataValidationError

    if chunk:  # checking stops after the block in which the problems pass MAX_LISTED
        monkeypatch.setattr(validation, "CHUNK_ROWS", chunk)
    path = _bad_return(tmp_path / "bad.csv", rows)
    for lang, pattern in (("zh", zh), ("en", en)):
        use_error_language(lang=lang)
        text = _raises(DataValidationError, lambda: load_data(path, plan, geos))
        assert re.search(pattern, text), (lang, text)
        assert bool(CJK.search(text.split("\n")[0])) == (lang == "zh"), text


def test_a_refused_return_says_so_in_both_languages(tmp_path, plan, geos):
    import pandas as pd

    from helpers.data.contract import FAILURE_COLUMNS
    from helpers.data.ingest import check_return
    from helpers.data.tasks import refuse
    from helpers.exceptions import DataValidationError

    path = _bad_return(tmp_path / "bad.csv", 2)
    one = pd.DataFrame([dict(zip(FAILURE_COLUMNS, ["tasks.xlsx", 3, "status", "task_status", "??", "unknown"]))])
    for lang, pattern in (("zh", r"^bad\.csv 中有 \d+ 处问题，未入库任何内容：请按下表的行、列和规则逐条改正后重新报送\n"),
                          ("en", r"^\d+ problem\(s\) in bad\.csv; nothing was stored\n")):
        use_error_language(lang=lang)
        assert re.search(pattern, _raises(DataValidationError, lambda: check_return(path, plan, geos)))
    use_error_language(lang="zh")
    assert refuse(Path("tasks.xlsx"), one, {}).args[0] == "tasks.xlsx 中有 1 处问题，未入库任何内容：请按下表的行、列和规则逐条改正后重新报送"
    use_error_language(lang="en")
    assert refuse(Path("tasks.xlsx"), one, {}).args[0] == "1 problem(s) in tasks.xlsx; nothing was stored"


# run/notify/channels.py: why a message did not go out (the send log, the console)

def _channel(**kw):
    from types import SimpleNamespace

    base = dict(name="office", kind="smtp", to=["office@example.org"], host="127.0.0.1", port=2525, security="none",
                user_env=None, password_env=None, ca_file=None, sender="ipeval@example.org", url_env=None,
                secret_env=None, preset="dingtalk", mention=())
    return SimpleNamespace(**{**base, **kw})


MESSAGE = __import__("types").SimpleNamespace(to=[], subject="2025Q2", text="评估已发布", attachments=[], event="published",
                                              quarter="2025Q2", geography_code=None)


class _Server:
    """An SMTP server that refuses one address."""

    def __init__(self, *args, **kw):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, em, to_addrs):
        return {"office@example.org": (550, b"no such mailbox")}


class _Robot:
    """A group robot that answers an error code."""

    status = 200

    def __init__(self, *args, **kw):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        return b'{"errcode": 310000, "errmsg": "keywords not in content"}'


@pytest.mark.parametrize("send, zh, en", [
    (lambda ch: ch._env("IPEVAL_TEST_UNSET", "send_what_smtp_password"),
     "环境变量 IPEVAL_TEST_UNSET（SMTP 密码）没有设置：请在运行 ipeval 的环境中设置它；本条消息未发出",
     "the environment variable IPEVAL_TEST_UNSET (SMTP password) is not set"),
    (lambda ch: ch.send_smtp(_channel(user_env="IPEVAL_TEST_UNSET"), MESSAGE, 1),
     "环境变量 IPEVAL_TEST_UNSET（SMTP 用户名）没有设置：请在运行 ipeval 的环境中设置它；本条消息未发出",
     "the environment variable IPEVAL_TEST_UNSET (SMTP user) is not set"),
    (lambda ch: ch.dingtalk_sign("u", ch._required_env("IPEVAL_TEST_UNSET", "send_what_dingtalk_secret")),
     "环境变量 IPEVAL_TEST_UNSET（钉钉加签密钥）没有设置：请在运行 ipeval 的环境中设置它；本条消息未发出",
     "the environment variable IPEVAL_TEST_UNSET (DingTalk signing secret) is not set"),
    (lambda ch: ch.send_webhook(_channel(kind="webhook"), MESSAGE, 1),
     "webhook 地址未指定对应的环境变量：请在该通知渠道的设置中填写相应的 *_env 项（如 url_env）；本条消息未发出",
     "no environment variable is named for the webhook URL"),
    (lambda ch: ch.send_smtp(_channel(to=[]), MESSAGE, 1),
     "通知渠道 office 没有收件人：请在该渠道的 to 中填写地址，或在联系人文件中为区县填写 email", "channel office: no recipients"),
    (lambda ch: ch.send_smtp(_channel(), MESSAGE, 1), "邮件服务器拒收以下地址：office@example.org；请核对这些地址",
     "refused by the server: office@example.org"),
    (lambda ch: ch.send_webhook(_channel(kind="webhook", url_env="IPEVAL_TEST_ROBOT"), MESSAGE, 1),
     '群机器人返回错误：{"errcode": 310000, "errmsg": "keywords not in content"}；请核对机器人地址、加签密钥和关键词设置',
     'the robot answered {"errcode": 310000, "errmsg": "keywords not in content"}'),
], ids=["send_env_unset", "send_env_unset_smtp_user", "send_env_unset_dingtalk", "send_env_unnamed",
        "send_no_recipients", "send_refused", "send_robot"])
def test_why_a_notification_did_not_go_out_in_both_languages(monkeypatch, send, zh, en):
    from helpers.run.notify import channels

    monkeypatch.delenv("IPEVAL_TEST_UNSET", raising=False)
    monkeypatch.setenv("IPEVAL_TEST_ROBOT", "http://127.0.0.1:9/robot/send?access_token=abc")
    monkeypatch.setattr(channels.smtplib, "SMTP", _Server)
    monkeypatch.setattr(channels.urllib.request, "urlopen", _Robot)
    for lang, words in (("zh", zh), ("en", en)):
        use_error_language(lang=lang)
        assert _raises(channels.SendError, lambda: send(channels)) == words
