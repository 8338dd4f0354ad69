"""Error messages a user can cause: Chinese by default, the English of before with ``--lang en``."""

from __future__ import annotations

import re
import string

import pytest
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
