"""The plan's tasks as data: verbatim clauses, named bodies, who reports what."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers.exceptions import RegistryError
from helpers.plan.tasks import load_tasks, squeeze, tasks_for

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = ROOT / "params" / "plans" / "hangzhou_ipz_2023_2025.yaml"
PLAN_TEXT = squeeze((ROOT / "docs" / "sources" / "hangzhou_ipz_plan_2023_2025.txt").read_text(encoding="utf-8"))
TASKS = load_tasks(PLAN_PATH)


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_every_clause_is_verbatim_in_the_plan_text(task):
    assert squeeze(task.clause) in PLAN_TEXT


def test_tasks_cover_the_measures_landmarks_and_named_district_tasks():
    kinds = [t.kind for t in TASKS]
    assert kinds.count("measure") == 17  # 二、主要措施 1-17
    assert kinds.count("landmark") == 4  # 三、打造区域性标志成果 (一)-(四)
    by_id = {t.id: t for t in TASKS}
    for tid, code in [("d_qiantang_accelerator", "330114"), ("d_binjiang_one_thing", "330108"),
                      ("d_gongshu_station", "330105"), ("d_yuhang_station", "330110"),
                      ("d_yuhang_online_source", "330110"), ("d_xihu_longjing", "330106"),
                      ("d_qiandao_nongpin", "330127")]:
        assert by_id[tid].reported_by(code)
        assert not by_id[tid].reported_by("330102")


def test_bodies_said_to_be_named_by_the_clause_are_in_it():
    for t in TASKS:
        if t.responsible_basis == "clause":
            assert all(squeeze(r) in squeeze(t.clause) for r in t.responsible_zh), t.id
        else:
            assert t.responsible_text.endswith("（牵头）")


def test_city_reports_measures_and_districts_their_own_tasks():
    city = tasks_for(TASKS, "330100")
    assert {t.kind for t in city} == {"measure", "landmark"}
    shangcheng = {t.id for t in tasks_for(TASKS, "330102")}
    assert "d_all_police_liaison" in shangcheng and "d_qiantang_accelerator" not in shangcheng


def _write(tmp_path, mutate):
    doc = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    mutate(doc["tasks"])
    (tmp_path / "params" / "plans").mkdir(parents=True)
    (tmp_path / "params" / "settings.yaml").write_text("{}", encoding="utf-8")
    (tmp_path / "docs" / "sources").mkdir(parents=True)
    (tmp_path / "docs" / "sources" / "hangzhou_ipz_plan_2023_2025.txt").write_text(
        (ROOT / "docs" / "sources" / "hangzhou_ipz_plan_2023_2025.txt").read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "params" / "plans" / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("mutate, message", [
    (lambda ts: ts[0].update(clause="在西湖区建设一座知识产权大楼。"), "条款原文与方案文本不一致"),
    (lambda ts: ts[23].update(responsible_zh=["上城区"]), "条款原文中没有 上城区"),
    (lambda ts: ts.append(dict(ts[0])), "出现了两次"),
    (lambda ts: ts[0].update(kind="wish"), "'kind' 为 'wish'"),
    (lambda ts: ts[0].update(owner="x"), "未知字段 owner"),
    (lambda ts: ts[21].pop("geography_note_zh"), "须在 geography_note_zh 中说明理由"),
])
def test_broken_task_blocks_are_refused_naming_the_entry(tmp_path, monkeypatch, mutate, message):
    monkeypatch.delenv("IPEVAL_HOME", raising=False)
    with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_tasks(_write(tmp_path, mutate))
