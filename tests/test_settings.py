"""The settings file is checked when it is loaded: a mistake in any block is exit 2 naming file, key and rule."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import ipeval, make_project

from helpers.exceptions import ConfigError
from helpers.settings import load_settings


def _write(project, mutate) -> None:
    path = project / "params" / "settings.yaml"
    s = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(s)
    path.write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")


def _set(block, key, value):
    def mutate(s):
        if block is None:
            s[key] = value
        else:
            s.setdefault(block, {})
            s[block][key] = value
    return mutate


# (block, key, value, words the Chinese message must contain, words the English one (--lang en) must contain)
BAD = [
    (None, "langauge", "zh", ["langauge", "没有这个设置项"], ["langauge", "not a setting"]),
    (None, "language", "fr", ["language：须为 'zh' 或 'en' 之一（现为 'fr'）"], ["language", "'zh'"]),
    ("forecast", "n_pahts", 100, ["forecast.n_pahts", "没有这个设置项（此处可用：n_paths"],
     ["forecast.n_pahts", "not a setting"]),
    ("forecast", "n_paths", "2000", ["forecast.n_paths：须为整数（现为 '2000'）"], ["forecast.n_paths", "integer"]),
    ("forecast", "n_paths", 3, ["forecast.n_paths：须大于或等于 10（现为 3）"], ["forecast.n_paths", "10"]),
    ("forecast", "engine", "prophet", ["forecast.engine：须为 'drift_t'"], ["forecast.engine", "drift_t"]),
    ("forecast", "drift_damping", 1.2, ["forecast.drift_damping：须小于或等于 1"],
     ["forecast.drift_damping", "less than or equal to 1"]),
    ("forecast", "min_points_yearly", 2, ["forecast.min_points_yearly：须大于或等于 3"],
     ["forecast.min_points_yearly", "greater than or equal to 3"]),
    ("status", "on_trak", 0.8, ["status.on_trak", "没有这个设置项", "on_track"],
     ["status.on_trak", "not a setting", "on_track"]),
    ("status", "at_risk", 0.9, ["status：at_risk（0.9）须小于 on_track（0.8）"], ["status", "at_risk", "below on_track"]),
    ("status", "on_track", 1.5, ["status.on_track：须小于 1"], ["status.on_track", "less than 1"]),
    ("executor", "retires", 1, ["executor.retires", "没有这个设置项"], ["executor.retires", "not a setting"]),
    ("executor", "workers", 0, ["executor.workers：须大于或等于 1"], ["executor.workers", "greater than or equal to 1"]),
    ("executor", "fork_kernels", "no", ["executor.fork_kernels：须为 true 或 false"],
     ["executor.fork_kernels", "boolean"]),
    ("schedule", "cron", "every quarter", ["schedule", "cron 'every quarter' 不是有效的 cron 表达式"], ["schedule", "cron"]),
    ("schedule", "timezone", "Mars/Olympus", ["schedule.timezone：'Mars/Olympus' 不是时区名称"],
     ["schedule.timezone", "not a time zone"]),
    ("schedule", "misfire_grace_days", -1, ["schedule.misfire_grace_days：须大于或等于 0"],
     ["schedule.misfire_grace_days"]),
]


@pytest.mark.parametrize("block,key,value,words,english", BAD, ids=[f"{b}.{k}={v}" for b, k, v, _, _ in BAD])
def test_a_mistake_in_any_block_is_a_config_error_naming_file_and_key(tmp_path, block, key, value, words, english):
    """In Chinese by default (the key path as the file writes it, the rule, the value found); in English with --lang en."""
    from helpers.i18n import use_error_language

    project = make_project(tmp_path / "p")
    _write(project, _set(block, key, value))
    for lang, expected in (("zh", words), ("en", english)):
        use_error_language(lang=lang)
        with pytest.raises(ConfigError) as exc:
            load_settings(project / "params" / "settings.yaml")
        text = str(exc.value)
        assert "settings.yaml" in text
        assert text.startswith("设置文件有误（共 1 处）：" if lang == "zh" else "invalid settings:"), text
        for w in expected:
            assert w in text, text


def test_a_typo_exits_2_before_anything_runs_and_writes_nothing(tmp_path):
    project = make_project(tmp_path / "p")
    _write(project, _set("status", "on_trak", 0.8))
    r = ipeval("run", "--quarter", "2025Q2", "--sections", "enforcement", "--geos", "330106", "--quiet", cwd=project)
    assert r.returncode == 2, r.stderr
    assert "status.on_trak" in r.stderr and "Traceback" not in r.stderr
    assert not (project / "outputs" / "2025Q2").exists()


def test_empty_blocks_mean_the_defaults(tmp_path):
    project = make_project(tmp_path / "p")
    _write(project, lambda s: s.update(status=None, executor=None))
    s = load_settings(project / "params" / "settings.yaml")
    assert (s.status.on_track, s.status.at_risk) == (0.8, 0.4)
    assert s.executor.fork_kernels is True and s.executor.retries == 1


@pytest.mark.e2e
def test_ordinary_kernels_when_fork_kernels_is_off(tmp_path, plan):
    project = make_project(tmp_path / "p")
    _write(project, _set("executor", "fork_kernels", False))
    r = ipeval("run", "--quarter", "2025Q2", "--sections", "enforcement", "--geos", "330106,330100", "--quiet",
               cwd=project)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((project / "outputs" / "2025Q2" / "manifest.json").read_text(encoding="utf-8"))
    assert m["executor"]["fork_kernels"] is False
    assert {j["status"] for j in m["jobs"]} == {"ok"} and len(m["jobs"]) == 2
    html = (project / "outputs" / "2025Q2" / "reports" / "enforcement" / "330106.report.html").read_text(encoding="utf-8")
    # the whole page from an ordinary kernel: a chart per indicator the district reports, inlined as SVG (the
    # run's files), and the section's analysis
    charts = [i for i in plan.indicators_in("enforcement") if not i.city_only]
    assert html.count("<svg") == len(charts) and 'class="ipeval-finding"' in html
    # ordinary kernels write to the parent's output, not to the fork server's kernels.log (docs/kernels.md)
    assert not (project / "outputs" / "2025Q2" / "kernels.log").exists()


@pytest.mark.e2e
def test_forked_kernels_when_the_engine_is_kernel(tmp_path, plan):
    project = make_project(tmp_path / "p")
    _write(project, _set("executor", "engine", "kernel"))
    r = ipeval("run", "--quarter", "2025Q2", "--sections", "enforcement", "--geos", "330106", "--quiet",
               cwd=project)
    assert r.returncode == 0, r.stderr[-2000:]
    out = project / "outputs" / "2025Q2"
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    import os

    assert m["executor"]["engine"] == "kernel" and m["executor"]["workers"] == (os.cpu_count() or 1) + 1  # CPUs + 1
    assert {j["status"] for j in m["jobs"]} == {"ok"}
    html = (out / "reports" / "enforcement" / "330106.report.html").read_text(encoding="utf-8")
    charts = [i for i in plan.indicators_in("enforcement") if not i.city_only]
    assert html.count("<svg") == len(charts) and 'class="ipeval-finding"' in html
    # nbclient's timings of a kernel's messages: the busy status and the code's echo are two messages, the shell
    # engine records one moment for both (run/engines.py)
    nb = json.loads((out / "notebooks" / "enforcement" / "330106.ipynb").read_text(encoding="utf-8"))
    timings = [c["metadata"]["execution"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert any(t["iopub.status.busy"] != t["iopub.execute_input"] for t in timings)
