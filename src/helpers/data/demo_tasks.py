"""Demonstration task returns: filled 任务进展 workbooks, clearly marked, so a demo run shows 工作成效.

Every progress note starts with 【演示】 and every file is named ``DEMO_tasks_<code>_<quarter>.xlsx``:
nothing here is a real return. Where a note repeats a fact of the 2025-04-23 press release it
says so and names the release as its evidence (``docs/sources/press_release_2025-04-23.txt``);
the rest is invented for the demonstration. ``ipeval demo-data`` writes them to
``data/demo/tasks/``; a run whose store lacks them ingests them as received at the seed's time
(:func:`ensure_demo_tasks`), as the demo figures are.
"""

from __future__ import annotations

from pathlib import Path

from helpers.data.tasks import SHEET, write_task_template

PRESS = "杭州市人民政府新闻办公室新闻发布会（2025年4月23日）"
MARK = "【演示】"
_D = "示例材料（演示）"

#: {(geography, quarter): {task_id: (status, progress, evidence)}}
DEMO_RETURNS = {
    ("330100", "2024Q4"): {
        "m01_coordination": ("推进中", "市政府年度研究部署知识产权保护工作2次。", _D),
        "m08_fast_protection": ("推进中", "拱墅区工作站点已设立，余杭区工作站点筹建中。", _D),
        "m14_international_exchange": ("已完成", "2024年国际保护知识产权协会（AIPPI）世界知识产权大会在杭州举办。", _D),
        "l1_digital_economy": ("推进中", "数字经济产业知识产权保护中心建设中。", _D),
    },
    ("330100", "2025Q4"): {
        "m01_coordination": ("已完成", "2023—2025年市政府每年研究部署知识产权保护工作2次以上，领导小组办公室统筹推进。", _D),
        "m02_special_actions": ("推进中", "城西科创大走廊、自贸试验区杭州片区专项行动按年度计划推进。", _D),
        "m03_laws_policies": ("已完成", "出台实施《杭州市知识产权保护和促进条例》（据发布会）。", PRESS),
        "m04_administrative": ("已完成", "组织开展“雷霆”“剑网”等专项行动，2024年办理各类行政案件2859件（据发布会）。", PRESS),
        "m05_judicial": ("推进中", "设立生物经济审判庭（据发布会）；“先行判决+临时禁令”典型案例整理中。", PRESS),
        "m06_coordination_pattern": ("已完成", "杭甬双城示范区合作会商每年召开。", _D),
        "m07_dispute_resolution": ("推进中", "调解组织和纠纷调解案件按年度推进。", _D),
        "m08_fast_protection": ("已完成", "拱墅区、余杭区市知识产权保护中心工作站点均已设立。", _D),
        "m09_talent": ("已完成", "成立专利侵权纠纷行政裁决委员会（据发布会）；人才教育培训基地按年培训。", PRESS),
        "m10_publicity": ("已完成", "召开示范区建设新闻发布会，书面发布2024年知识产权保护状况白皮书和典型案例（据发布会）。", PRESS),
        "m11_ip_institutions": ("推进中", "知识产权公共服务平台市域覆盖推进中。", _D),
        "m12_judicial_institutions": ("推进中", "警务联络官区、县（市）覆盖推进中。", _D),
        "m13_digital_reform": ("推进中", "商业秘密保护智能化平台建设中。", _D),
        "m14_international_exchange": ("已完成", "2024年国际保护知识产权协会（AIPPI）世界知识产权大会在杭州举办。", _D),
        "m15_overseas_filing": ("推进中", "重点出口企业名录已建立，海外布局推广计划实施中。", _D),
        "m16_overseas_disputes": ("已完成", "建设国家知识产权海外纠纷应对指导中心杭州分中心，搭建“企业海外纠纷监测系统”，"
                                            "监测海外诉讼案件383条，涉及企业1358家次（据发布会）。", PRESS),
        "m17_overseas_resources": ("未启动", "", ""),
        "l1_digital_economy": ("已完成", "建设全国首个产业类知识产权保护中心（数字经济产业知识产权保护中心，据发布会）。", PRESS),
        "l2_business_environment": ("已完成", "推进专利侵权纠纷“简案快办”“纠纷快处”改革试点，行政裁决平均周期缩短至50日内（据发布会）。", PRESS),
        "l3_open_economy": ("推进中", "外向型企业集中区域海外纠纷应对联络机制建设中。", _D),
        "l4_common_prosperity": ("推进中", "地理标志数据信息库建设中。", _D),
    },
    ("330106", "2025Q4"): {
        "d_xihu_longjing": ("推进中", "西湖龙井地理标志专用标志申请使用流程优化中。", _D),
        "d_chengxi_corridor": ("推进中", "参与城西科创大走廊专项行动。", _D),
        "d_all_police_liaison": ("已完成", "区公安分局已设知识产权警务联络官。", _D),
        "d_all_twice_yearly": ("已完成", "区政府每年研究部署知识产权保护工作2次。", _D),
    },
    ("330127", "2025Q4"): {
        "d_qiandao_nongpin": ("推进中", "“千岛农品”区域公共品牌培育中。", _D),
        "d_all_police_liaison": ("已完成", "县公安局已设知识产权警务联络官。", _D),
    },
    ("330105", "2025Q4"): {
        "d_gongshu_station": ("已完成", "市知识产权保护中心拱墅区工作站点已设立并运行。", _D),
        "d_all_assistance_stations": ("已完成", "区维权援助和品牌指导服务工作站点已设立。", _D),
    },
    ("330110", "2025Q4"): {
        "d_yuhang_station": ("已完成", "市知识产权保护中心余杭区工作站点已设立并运行。", _D),
        "d_yuhang_online_source": ("推进中", "依托杭州互联网法院开展涉网纠纷诉前化解。", _D),
        "d_chengxi_corridor": ("推进中", "依托杭州未来科技城探索集中统一管理。", _D),
    },
    ("330114", "2025Q4"): {
        "d_qiantang_accelerator": ("推进中", "科创企业上市知识产权加速器建设中。", _D),
        "d_ftz_governance": ("推进中", "参与自贸试验区杭州片区知识产权治理专项行动。", _D),
    },
    ("330108", "2025Q4"): {
        "d_binjiang_one_thing": ("已完成", "知识产权“一件事”集成服务省级地方标准试点完成。", _D),
        "d_ftz_governance": ("推进中", "参与自贸试验区杭州片区知识产权治理专项行动。", _D),
    },
}


def _mark(progress: str) -> str:
    return f"{MARK}{progress}" if progress else ""


def write_demo_task_returns(folder: str | Path, plan, geos) -> list[Path]:
    """Write every demonstration task return as ``DEMO_tasks_<code>_<quarter>.xlsx`` in ``folder``."""
    from openpyxl import load_workbook

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for (code, quarter), statuses in DEMO_RETURNS.items():
        path = folder / f"DEMO_tasks_{code}_{quarter}.xlsx"
        write_task_template(path, plan, geos, code, quarter)
        wb = load_workbook(path)
        ws = wb[SHEET]
        col = {c.value: c.column for c in ws[2]}
        for r in range(3, ws.max_row + 1):
            hit = statuses.get(ws.cell(r, col["task_id"]).value)
            if hit:
                status, progress, evidence = hit
                for name, v in (("status", status), ("progress", _mark(progress)), ("evidence", evidence)):
                    ws.cell(r, col[name], v)
        from datetime import datetime

        wb.properties.created = wb.properties.modified = datetime(2026, 1, 15)  # bytes independent of the clock
        wb.save(path)
        out.append(path)
    return out


def ensure_demo_tasks(store, folder: Path, plan, geos) -> int:
    """Ingest the demo task returns in ``folder`` the store does not hold yet, as known from the start.

    Returns the number of files ingested (0 when there is no such folder: real data have none).
    """
    from helpers.data.store import SEED_RECEIVED_AT

    folder = Path(folder)
    if not folder.is_dir():
        return 0
    from helpers.files import sha256_file

    have = set(store.vintages()["sha256"])  # already stored: not read again (each file takes ~0.1 s to check)
    n = 0
    for p in sorted(folder.glob("DEMO_tasks_*.xlsx")):
        if sha256_file(p) not in have and store.ingest(p, plan, geos, received_at=SEED_RECEIVED_AT).vintage_id:
            n += 1
    return n
