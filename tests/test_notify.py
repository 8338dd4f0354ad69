"""Returns status, reminders and the result message of a scheduled run, against real local servers:
an SMTP server (aiosmtpd) and an HTTP server receive what is sent, and the tests read it back."""

from __future__ import annotations

import asyncio
import base64
import email
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from datetime import date
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import BytesIO
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, make_project
from typer.testing import CliRunner

DISTRICT = "330106"
SECRET = "SEC-test-secret"


# --------------------------------------------------------------------------- local servers

class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.smtp import SMTP

    sink = _Sink()
    loop = asyncio.new_event_loop()
    srv = loop.run_until_complete(loop.create_server(lambda: SMTP(sink, hostname="localhost"), "127.0.0.1", 0))
    th = threading.Thread(target=loop.run_forever, daemon=True)
    th.start()
    yield srv.sockets[0].getsockname()[1], sink
    loop.call_soon_threadsafe(srv.close)
    loop.call_soon_threadsafe(loop.stop)
    th.join(5)


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((self.path, json.loads(body)))
        out = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    srv = HTTPServer(("127.0.0.1", 0), _Hook)
    srv.got = []
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield srv.server_address[1], srv.got
    srv.shutdown()
    srv.server_close()


def _closed_port() -> int:
    """A port nothing listens on (bound, then released): connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the project

def _trimmed_project(dst: Path) -> Path:
    """The demo project with data up to 2025Q2: the 2025Q3 returns are all still to come."""
    proj = make_project(dst)
    data = proj / "data" / "demo" / "demo_data.csv"
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    df[df["period"].str.match(r"^(20(1\d|2[0-4])(Q[1-4])?|2025Q[12])$")].to_csv(data, index=False)
    return proj


def _configure(proj: Path, channels: list, enabled=True, dry_run=False) -> Path:
    path = proj / "params" / "settings.yaml"
    s = yaml.safe_load(path.read_text(encoding="utf-8"))
    s["notify"] = {**(s.get("notify") or {}), "enabled": enabled, "dry_run": dry_run, "channels": channels,
                   "timeout": 3, "retries": 1}
    path.write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
    return path


def _channels(smtp_port: int, to=("pinggu@example.gov.cn",)) -> list:
    return [{"name": "mail", "kind": "smtp", "host": "127.0.0.1", "port": smtp_port, "security": "none",
             "sender": "ipeval@example.gov.cn", "to": list(to)},
            {"name": "robot", "kind": "webhook", "preset": "dingtalk", "url_env": "TEST_ROBOT_URL",
             "secret_env": "TEST_ROBOT_SECRET", "events": ["result", "reminder"]}]


def _fill_template(proj: Path, settings, plan, geos, code: str, quarter: str) -> Path:
    """The district's template, filled with the demo data's own values for the quarter (valid by construction)."""
    from openpyxl import load_workbook

    from helpers.data.store import ObservationStore
    from helpers.data.template import write_template

    full = pd.read_csv(ROOT / "data" / "demo" / "demo_data.csv", dtype=str, keep_default_na=False)
    full = full[(full["geography_code"] == code) & (full["period"] == quarter)].set_index("indicator_id")
    store = ObservationStore.of(settings)
    store.ensure_seed(settings.data_path, plan, geos)
    path = write_template(proj / f"{code}-{quarter}.xlsx", plan, geos, code, quarter, stored=store.view())
    wb = load_workbook(path)
    filled = 0
    for ws in wb.worksheets[1:]:
        for r in range(3, ws.max_row + 1):
            ind, period = ws.cell(r, 10).value, ws.cell(r, 3).value
            if period == quarter and ind in full.index:
                for col, name in ((5, "value"), (6, "numerator"), (7, "denominator")):
                    v = full.loc[ind, name]
                    ws.cell(r, col).value = float(v) if v else None
                filled += 1
    assert filled > 10
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def q3_project(tmp_path_factory):
    """One district (330106) has sent its 2025Q3 template; the twelve others have not."""
    from helpers.data.store import ObservationStore
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.settings import load_settings

    proj = _trimmed_project(tmp_path_factory.mktemp("notify") / "proj")
    settings = load_settings(proj / "params" / "settings.yaml")
    plan, geos = load_plan(settings.plan_path), load_geographies(settings.geographies_path)
    filled = _fill_template(proj, settings, plan, geos, DISTRICT, "2025Q3")
    ObservationStore.of(settings).ingest(filled, plan, geos)
    return proj, plan, geos


# --------------------------------------------------------------------------- returns status

def test_status_names_the_districts_whose_2025q3_returns_are_missing(q3_project):
    from helpers.cli import app

    proj, _plan, geos = q3_project
    settings = str(proj / "params" / "settings.yaml")
    res = CliRunner().invoke(app, ["status", "--quarter", "2025Q3", "--json", "--settings", settings])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    q3 = {d["geography_code"]: d["status"] for d in st["districts"] if d["quarter"] == "2025Q3"}
    others = [g.code for g in geos.districts if g.code != DISTRICT]
    # received now, after the 15 October deadline: in, but late; the others never sent theirs
    assert q3[DISTRICT] == "late"
    assert {q3[c] for c in others} == {"missing"}
    assert {d["status"] for d in st["districts"] if d["quarter"] == "2025Q2"} == {"in"}  # the seed: on time
    assert st["quarters"] == ["2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3"]
    mine = [c for c in st["returns"] if c["quarter"] == "2025Q3" and c["geography_code"] == DISTRICT]
    assert mine and all(c["files"] == [f"{DISTRICT}-2025Q3.xlsx"] and not c["missing"] for c in mine)
    assert st["store"]["integrity"] == "ok" and st["store"]["vintages"] == 2
    assert st["store"]["last_ingest"]["name"] == f"{DISTRICT}-2025Q3.xlsx"
    assert st["next_run"].endswith("+08:00")

    text = CliRunner().invoke(app, ["status", "--quarter", "2025Q3", "--settings", settings]).output
    line = next(x for x in text.splitlines() if x.startswith("  未报齐："))  # the first quarter shown: 2025Q3
    named = line.removeprefix("  未报齐：").split("、")
    assert named == [geos.get(c).name_zh for c in others]
    assert "截止 2025-10-15" in text
    # the 任务进展 returns too: no unit has sent its task statuses for 2025Q3 (the trimmed demo has none)
    tq3 = {c["geography_code"]: c["status"] for c in st["task_returns"] if c["quarter"] == "2025Q3"}
    assert "330100" in tq3 and DISTRICT in tq3 and set(tq3.values()) == {"missing"}
    head = text.splitlines().index("任务进展（区县与市级牵头单位，截止日同上）")
    assert text.splitlines()[head + 1].startswith("2025Q3（截止 2025-10-15）：未报 14")


def test_deadline_coming_quarter_and_pending(q3_project):
    from helpers.data.store import ObservationStore
    from helpers.run.returns import coming_quarter, deadline, returns_status
    from helpers.plan.periods import Quarter
    from helpers.settings import load_settings

    proj, plan, geos = q3_project
    s = load_settings(proj / "params" / "settings.yaml")
    assert deadline(s, Quarter(2025, 4)) == date(2026, 1, 15)
    assert coming_quarter(s, plan, date(2025, 10, 15)) == Quarter(2025, 3)   # chased until its deadline
    assert coming_quarter(s, plan, date(2025, 10, 16)) == Quarter(2025, 4)
    assert coming_quarter(s, plan, date(2026, 12, 6)) == Quarter(2025, 4)    # never past the plan
    cells = returns_status(s, plan, geos, ObservationStore.of(s), [Quarter(2025, 3)], today=date(2025, 10, 8))
    assert {c.status for c in cells if c.geography_code != DISTRICT} == {"pending"}
    # 2025Q4 owes the annual figures too (the year's value); Q3 does not
    q4 = returns_status(s, plan, geos, ObservationStore.of(s), [Quarter(2025, 4)], today=date(2026, 2, 1))
    annual = [i.id for i in plan.indicators if i.frequency == "annual" and not i.city_only]
    assert annual and any(i in c.missing for c in q4 for i in annual)
    assert not any(i in c.missing for c in cells for i in annual)


# --------------------------------------------------------------------------- reminders

def test_remind_dry_run_writes_each_district_a_message_with_its_template(q3_project, monkeypatch, tmp_path):
    from helpers.run.notify.dispatch import messages_dir
    from helpers.run.notify.jobs import remind
    from helpers.settings import load_settings

    proj, _plan, geos = q3_project
    monkeypatch.setenv("TEST_ROBOT_URL", "http://127.0.0.1:9/never")  # dry run: nothing is contacted
    monkeypatch.setenv("TEST_ROBOT_SECRET", SECRET)
    s = load_settings(_configure(proj, _channels(_closed_port())))
    sent = remind(s, "2025Q3", today=date(2025, 10, 8), dry_run=True)
    mails = [e for e in sent if e["channel"] == "mail" and e["to"] != ["pinggu@example.gov.cn"]]
    assert len(mails) == 12 and all(e["ok"] and e["dry_run"] for e in mails)
    assert ["stats-330106@example.gov.cn"] not in [e["to"] for e in mails]
    folder = messages_dir(s, "2025Q3")
    eml = next(folder.glob("*-reminder-mail-330105.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "stats-330105@example.gov.cn" and "催报" in msg["Subject"] and "2025-10-15" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "7 天后截止" in body and "行政保护" in body
    att = next(msg.iter_attachments())
    assert att.get_filename() == "330105-2025Q3.xlsx"
    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(att.get_content()))
    assert "说明" in wb.sheetnames and "拱墅区" in wb["说明"]["A2"].value
    robot = json.loads(next(folder.glob("*-reminder-robot-office.json")).read_text(encoding="utf-8"))
    assert robot["msgtype"] == "markdown" and "拱墅区" in robot["markdown"]["text"]
    assert geos.get(DISTRICT).name_zh not in robot["markdown"]["text"]


def test_reminder_days(q3_project):
    from helpers.run.notify.jobs import reminder_quarter
    from helpers.settings import load_settings

    proj, plan, _ = q3_project
    s = load_settings(proj / "params" / "settings.yaml")
    assert str(reminder_quarter(s, plan, date(2025, 10, 8))) == "2025Q3"   # 7 days before
    assert str(reminder_quarter(s, plan, date(2025, 10, 15))) == "2025Q3"  # on the day
    assert reminder_quarter(s, plan, date(2025, 10, 9)) is None


# --------------------------------------------------------------------------- the scheduled run

def _fake_run_dir(proj: Path, exit_code: int = 0):
    """A published run as run_quarter leaves it: manifest, changes.csv, the city's PDF."""
    from pypdf import PdfWriter

    from helpers.run.quarter import RunResult

    run = proj / "outputs" / "runs" / "2025Q3" / "20251025T060000Z-abcdef"
    (run / "documents").mkdir(parents=True, exist_ok=True)
    jobs = [{"section": "enforcement", "geography_code": "330100", "status": "ok"}]
    if exit_code:
        jobs.append({"section": "judicial", "geography_code": "330106", "status": "failed",
                     "error": "CellExecutionError: boom\nmore"})
    (run / "manifest.json").write_text(json.dumps(
        {"quarter": "2025Q3", "run_id": run.name, "started": "2025-10-24T22:00:00+00:00", "jobs": jobs,
         "assessment_stage": "midterm", "city_counts": {"achieved": 11, "missed": 2, "open": 19}}), encoding="utf-8")
    pd.DataFrame([{"indicator_id": "fast_preexamination", "geography_code": "330100", "previous_probability": 0.5,
                   "probability": 0.9, "change": 0.4, "cause": "new_periods"}]).to_csv(run / "changes.csv", index=False)
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    with open(run / "documents" / "330100_杭州市_中期评估报告.pdf", "wb") as fh:
        w.write(fh)
    link = proj / "outputs" / "2025Q3"
    if not link.exists():
        link.symlink_to(Path("runs") / "2025Q3" / run.name)
    return RunResult("2025Q3", run.name, run, link, jobs)


def _fire(monkeypatch, settings_path: Path, outcome):
    """The scheduler's job function with a fake runner (the notebooks are tested elsewhere)."""
    from helpers.plan.periods import Quarter
    from helpers.run import schedule

    def fake_run(settings, quarter, **kw):
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr("helpers.run.quarter.run_quarter", fake_run)
    monkeypatch.setattr("helpers.run.inbox.take_inbox", lambda s, lang=None: [])
    monkeypatch.setattr(schedule, "scheduled_quarter", lambda s, when: Quarter(2025, 3))
    return schedule.run_scheduled(str(settings_path))


def test_scheduled_run_sends_the_result_with_the_city_pdf(q3_project, smtp_server, webhook_server, monkeypatch):
    from pypdf import PdfReader

    proj, _plan, geos = q3_project
    (port, sink), (hport, got) = smtp_server, webhook_server
    monkeypatch.setenv("TEST_ROBOT_URL", f"http://127.0.0.1:{hport}/robot/send?access_token=abc")
    monkeypatch.setenv("TEST_ROBOT_SECRET", SECRET)
    path = _configure(proj, _channels(port, to=("pinggu@example.gov.cn", "office@example.gov.cn")))
    assert _fire(monkeypatch, path, _fake_run_dir(proj)) == 0

    (to, msg), = sink.messages
    assert to == ["pinggu@example.gov.cn", "office@example.gov.cn"]
    assert msg["Subject"] == "【ipeval】2025Q3 评估已完成：已达标 11，未达标 2，进行中 19"
    body = msg.get_body(("plain",)).get_content()
    assert "中期评估" in body and "50% → 90%" in body
    assert "拱墅区" in body and geos.get(DISTRICT).name_zh + "：" not in body  # the incomplete returns, named
    att = next(msg.iter_attachments())
    assert att.get_filename().endswith(".pdf")
    assert len(PdfReader(BytesIO(att.get_content())).pages) == 1

    (where, payload), = got
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(where).query)
    assert q["access_token"] == ["abc"]
    expect = base64.b64encode(hmac.new(SECRET.encode(), f"{q['timestamp'][0]}\n{SECRET}".encode(),
                                       hashlib.sha256).digest()).decode()
    assert q["sign"] == [expect]  # parse_qs undid the URL encoding
    assert payload["msgtype"] == "markdown" and payload["markdown"]["title"] == msg["Subject"]


def test_failed_run_sends_the_reason_and_the_log(q3_project, smtp_server, monkeypatch):
    from helpers.exceptions import ConfigError

    proj, _plan, _ = q3_project
    port, sink = smtp_server
    path = _configure(proj, _channels(port)[:1])
    assert _fire(monkeypatch, path, ConfigError("params/settings.yaml: forecast.n_paths: bad")) == 2
    (_to, msg), = sink.messages
    assert msg["Subject"] == "【ipeval】2025Q3 定时评估失败"
    body = msg.get_body(("plain",)).get_content()
    assert "原因：params/settings.yaml: forecast.n_paths: bad" in body
    log = Path(body.split("日志：")[1].splitlines()[0])
    assert log.is_file() and "ConfigError" in log.read_text(encoding="utf-8")


def test_an_unexpected_failure_is_exit_3_with_one_line_and_a_details_file(q3_project, smtp_server, monkeypatch,
                                                                           caplog):
    proj, _plan, _ = q3_project
    port, sink = smtp_server
    path = _configure(proj, _channels(port)[:1])
    with caplog.at_level("ERROR", logger="ipeval.schedule"):
        assert _fire(monkeypatch, path, KeyError("store_state")) == 3  # the scheduler keeps firing
    line, = [r.getMessage() for r in caplog.records if r.name == "ipeval.schedule"]
    assert "KeyError" in line and "Traceback" not in line and "details:" in line
    details = Path(line.split("details: ")[1])
    assert "Traceback" in details.read_text(encoding="utf-8")
    (_to, msg), = sink.messages  # the office still hears of it
    assert msg["Subject"] == "【ipeval】2025Q3 定时评估失败"


def test_unreachable_channels_leave_the_run_as_it_was(q3_project, monkeypatch):
    from helpers.run.status import collect
    from helpers.settings import load_settings

    proj, _plan, _ = q3_project
    monkeypatch.setenv("TEST_ROBOT_URL", f"http://127.0.0.1:{_closed_port()}/robot")
    monkeypatch.setenv("TEST_ROBOT_SECRET", SECRET)
    path = _configure(proj, _channels(_closed_port()))
    result = _fake_run_dir(proj, exit_code=1)
    before = {p: p.read_bytes() for p in result.run_dir.rglob("*") if p.is_file()}
    monkeypatch.setattr("time.sleep", lambda s: None)
    assert _fire(monkeypatch, path, result) == 1  # the run's own exit code
    after = {p: p.read_bytes() for p in result.run_dir.rglob("*") if p.is_file()}
    assert after == before
    bad = collect(load_settings(path), "2025Q3")["failed_sends"]
    assert {e["channel"] for e in bad[-2:]} == {"mail", "robot"}
    assert all(e["attempts"] == 2 and "refused" in e["detail"] for e in bad[-2:]), bad  # 1 try + 1 retry


# --------------------------------------------------------------------------- settings and channels

def test_notify_settings_defaults_and_checks(tmp_path):
    from helpers.exceptions import ConfigError
    from helpers.settings import load_settings

    s = load_settings(ROOT / "params" / "settings.yaml")
    assert s.notify.enabled is False and s.notify.remind_days_before == (7, 0) and s.schedule.returns_due_day == 15
    proj = make_project(tmp_path / "p")
    with pytest.raises(ConfigError, match="smtp 渠道须填写 host 和 sender"):
        load_settings(_configure(proj, [{"name": "m", "kind": "smtp", "to": ["a@example.gov.cn"]}]))
    with pytest.raises(ConfigError, match="password"):  # a secret is never a value in the file
        load_settings(_configure(proj, [{"name": "m", "kind": "smtp", "host": "h", "sender": "a@b", "password": "x"}]))


def test_print_cron_and_systemd_add_notify_when_notify_is_enabled(tmp_path):
    import shlex

    from helpers.run.schedule import print_cron, print_systemd
    from helpers.settings import load_settings

    proj = make_project(tmp_path / "p")

    def commands(settings_path):
        s = load_settings(settings_path)
        cron = next(x for x in print_cron(s).splitlines() if x.startswith("0 6 25"))
        run = shlex.split(cron.split("&&", 1)[1].split(">>")[0])
        unit = next(x for x in print_systemd(s).splitlines() if x.startswith("ExecStart="))
        return run, unit

    run, unit = commands(proj / "params" / "settings.yaml")  # notify off: the line as before
    assert run[1:] == ["run", "--quarter", "latest", "--inbox", "--quiet"] and "--notify" not in unit
    run, unit = commands(_configure(proj, [{"name": "robot", "kind": "webhook", "url_env": "TEST_ROBOT_URL"}]))
    assert run[1:] == ["run", "--quarter", "latest", "--inbox", "--quiet", "--notify"]
    assert unit.endswith(' "--notify"')
    run, _unit = commands(_configure(proj, [], enabled=False))
    assert "--notify" not in run


def test_a_missing_secret_is_a_logged_failure_not_an_exception(tmp_path, monkeypatch):
    from helpers.run.notify.dispatch import deliver
    from helpers.run.notify.messages import Message
    from helpers.settings import load_settings

    monkeypatch.delenv("NOPE_URL", raising=False)
    proj = make_project(tmp_path / "p")
    s = load_settings(_configure(proj, [{"name": "w", "kind": "webhook", "preset": "wecom", "url_env": "NOPE_URL"}]))
    out = deliver(s, [Message("result", "2025Q3", "s", "t")], sleep=lambda x: None)
    assert out[0]["ok"] is False and "NOPE_URL" in out[0]["detail"]


def test_index_returns_table(q3_project):
    from helpers.pages.returns_table import returns_html
    from helpers.run.returns import index_returns
    from helpers.settings import load_settings

    proj, plan, geos = q3_project
    s = load_settings(proj / "params" / "settings.yaml")
    assert index_returns(s, plan, geos, "2025Q3", None) is None  # a run on --data files: no table
    cells = index_returns(s, plan, geos, "2025Q3", {"vintages": []})
    page = returns_html(cells, plan, geos, "zh")
    assert "区县报表报送情况（2025年第三季度，截止2025年10月15日）" in page
    note = page.split("本次评估时尚未报齐的区县：")[1].split("。")[0].split("、")
    assert note == [g.name_zh for g in geos.districts if g.code != DISTRICT]
    assert page.count(">逾期已报<") == len([c for c in cells if c["geography_code"] == DISTRICT])
    # a run --as-of before the district's file came: its return was not in yet
    before = index_returns(s, plan, geos, "2025Q3", {"as_of": "2025-10-25T00:00:00Z"})
    assert {c["status"] for c in before} == {"missing"}


def test_scheduled_reminders_reach_each_district_by_smtp(q3_project, smtp_server, webhook_server, monkeypatch):
    from datetime import datetime

    from helpers.run.notify.jobs import scheduled_reminders
    from helpers.run.schedule import build_scheduler
    from helpers.settings import load_settings

    proj, _plan, geos = q3_project
    (port, sink), (hport, got) = smtp_server, webhook_server
    monkeypatch.setenv("TEST_ROBOT_URL", f"http://127.0.0.1:{hport}/robot/send?access_token=abc")
    monkeypatch.setenv("TEST_ROBOT_SECRET", SECRET)
    path = _configure(proj, _channels(port))
    jobs = {j.id for j in build_scheduler(load_settings(path), blocking=False).get_jobs()}
    assert jobs == {"ipeval-quarterly", "ipeval-reminders"}
    assert scheduled_reminders(str(path), now=datetime(2025, 10, 9, 9)) == []  # not a reminder day
    sent = scheduled_reminders(str(path), now=datetime(2025, 10, 15, 9))      # the deadline itself
    assert sent and all(e["ok"] for e in sent)
    by_to = {tuple(to): msg for to, msg in sink.messages}
    others = [g for g in geos.districts if g.code != DISTRICT]
    assert set(by_to) == {(f"stats-{g.code}@example.gov.cn",) for g in others} | {("pinggu@example.gov.cn",)}
    msg = by_to[("stats-330182@example.gov.cn",)]
    assert "建德市" in msg["Subject"] and "今天截止" in msg.get_body(("plain",)).get_content()
    assert next(msg.iter_attachments()).get_filename() == "330182-2025Q3.xlsx"
    (_where, payload), = got  # the robot: one summary naming the twelve
    assert all(g.name_zh in payload["markdown"]["text"] for g in others)


@pytest.mark.e2e
def test_a_real_run_with_notify_mails_the_city_pdf(q3_project, smtp_server):
    """One real (small) run, as cron runs it with --notify: the message carries the PDF the run wrote."""
    from pypdf import PdfReader

    from conftest import ipeval

    proj, _plan, _ = q3_project
    port, sink = smtp_server
    _configure(proj, _channels(port)[:1])
    r = ipeval("run", "--quarter", "2025Q3", "--sections", "overview", "--geos", "330100", "--quiet", "--documents",
               "--notify", cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    (to, msg), = sink.messages
    assert to == ["pinggu@example.gov.cn"] and msg["Subject"].startswith("【ipeval】2025Q3 评估已完成：已达标 ")
    pdf = next(msg.iter_attachments())
    published = (proj / "outputs" / "2025Q3").resolve()
    assert (published / "documents" / pdf.get_filename()).read_bytes() == pdf.get_content()
    assert len(PdfReader(BytesIO(pdf.get_content())).pages) >= 2
    body = msg.get_body(("plain",)).get_content()
    assert str(published / "index.html") in body and "上城区：" in body  # missing returns named


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (openssl), the CA file a channel is given."""
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: the TLS test needs it to make a certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "key.pem", "-out",
                    d / "cert.pem", "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_channels_verify_the_server(certificate, tmp_path, security, monkeypatch):
    import ssl

    from aiosmtpd.smtp import SMTP

    from helpers.run.notify.dispatch import deliver
    from helpers.run.notify.messages import Message
    from helpers.settings import load_settings

    cert, key = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    sink = _Sink()
    loop = asyncio.new_event_loop()
    if security == "starttls":
        factory, kw = (lambda: SMTP(sink, hostname="localhost", tls_context=ctx, require_starttls=True)), {}
    else:
        factory, kw = (lambda: SMTP(sink, hostname="localhost")), {"ssl": ctx}
    srv = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0, **kw))
    th = threading.Thread(target=loop.run_forever, daemon=True)
    th.start()
    try:
        port = srv.sockets[0].getsockname()[1]
        proj = make_project(tmp_path / "p")
        chan = {"name": "mail", "kind": "smtp", "host": "127.0.0.1", "port": port, "security": security,
                "sender": "ipeval@example.gov.cn", "to": ["pinggu@example.gov.cn"]}
        untrusted = load_settings(_configure(proj, [chan]))
        out = deliver(untrusted, [Message("result", "2025Q3", "主题", "正文")], sleep=lambda x: None)
        assert not out[0]["ok"] and "CERTIFICATE_VERIFY_FAILED" in out[0]["detail"] and not sink.messages
        trusted = load_settings(_configure(proj, [{**chan, "ca_file": str(cert)}]))
        out = deliver(trusted, [Message("result", "2025Q3", "主题", "正文")], sleep=lambda x: None)
        assert out[0]["ok"], out
        (to, msg), = sink.messages
        assert to == ["pinggu@example.gov.cn"] and msg["Subject"] == "主题"
    finally:
        loop.call_soon_threadsafe(srv.close)
        loop.call_soon_threadsafe(loop.stop)
        th.join(5)


@pytest.mark.parametrize("preset", ["wecom", "generic"])
def test_webhook_presets_post_their_format(preset, webhook_server, tmp_path, monkeypatch):
    from helpers.run.notify.dispatch import deliver
    from helpers.run.notify.messages import Message
    from helpers.settings import load_settings

    hport, got = webhook_server
    monkeypatch.setenv("TEST_HOOK_URL", f"http://127.0.0.1:{hport}/cgi-bin/webhook/send?key=k1")
    proj = make_project(tmp_path / "p")
    s = load_settings(_configure(proj, [{"name": "h", "kind": "webhook", "preset": preset, "url_env": "TEST_HOOK_URL",
                                         "mention": ["13800000000"]}]))
    msg = Message("result", "2025Q3", "【ipeval】主题", "第一行\n第二行", [tmp_path / "a.pdf"])
    assert deliver(s, [msg])[0]["ok"]
    (path, body), = got
    assert path == "/cgi-bin/webhook/send?key=k1"  # no signature added outside DingTalk
    if preset == "wecom":
        assert body == {"msgtype": "markdown",
                        "markdown": {"content": "**【ipeval】主题**\n第一行\n第二行\n<@13800000000>"}}
    else:
        assert body["subject"] == "【ipeval】主题" and body["attachments"] == [str(tmp_path / "a.pdf")]
        assert body["event"] == "result" and body["quarter"] == "2025Q3"
