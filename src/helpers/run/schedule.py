"""The built-in quarterly schedule (``ipeval schedule``), with APScheduler.

The trigger is the cron expression in ``params/settings.yaml`` (default ``0 6 25 1,4,7,10 *``:
06:00 Asia/Shanghai on the 25th of the month after each quarter ends; district statistical
returns are due by the 15th, and a week is left for corrections). Each firing runs the latest
complete quarter that has data (the quarter ``ipeval run --quarter latest``, the crontab entry
of ``--print-cron``, would run). Runs never overlap (``max_instances=1``, plus the per-quarter lock
of the runner); firings missed while the process was down are coalesced into one, and at start-up
a run missed entirely (its quarter has no published output) is caught up at once. Every run,
the catch-up included, executes in the main thread, so SIGTERM or Ctrl-C reaches the runner,
which removes its staging folder and publishes nothing.
"""

from __future__ import annotations

import logging
import shlex
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from helpers.i18n import et
from helpers.plan.periods import Quarter
from helpers.settings import Settings

log = logging.getLogger("ipeval.schedule")


def schedule_config(settings: Settings) -> dict:
    """The ``schedule`` block with its defaults (checked when the settings were loaded)."""
    return settings.schedule.model_dump()


def trigger(settings: Settings):
    """The APScheduler CronTrigger of the settings."""
    from apscheduler.triggers.cron import CronTrigger

    cfg = schedule_config(settings)
    return CronTrigger.from_crontab(cfg["cron"], timezone=ZoneInfo(cfg["timezone"]))  # checked at load


def quarter_for(fire_time: datetime) -> Quarter:
    """The quarter a firing at ``fire_time`` evaluates: the last one that had ended by then."""
    return Quarter.containing(fire_time.date()) - 1


def scheduled_run_time(settings: Settings, q: Quarter) -> datetime:
    """When the schedule runs quarter ``q``: its first firing after the quarter ended (the
    ``--as-of`` of a backfill, so a past quarter is evaluated with what was known then)."""
    from datetime import time

    tz = ZoneInfo(schedule_config(settings)["timezone"])
    after = datetime.combine(q.end_date + timedelta(days=1), time(0, 0), tzinfo=tz)
    return trigger(settings).get_next_fire_time(None, after)


def last_fire_before(settings: Settings, now: datetime) -> datetime | None:
    """The most recent scheduled time at or before ``now`` (within the last 13 months)."""
    trig = trigger(settings)
    t = now - timedelta(days=400)
    last, prev = None, None
    while True:
        nxt = trig.get_next_fire_time(prev, t)
        if nxt is None or nxt > now:
            return last
        last, prev, t = nxt, nxt, nxt + timedelta(seconds=1)


def scheduled_quarter(settings: Settings, when: datetime) -> Quarter:
    """The quarter a run at ``when`` evaluates: the last ended by then, but not after the last
    quarter with data (what ``--quarter latest`` resolves to); raises an IpevalError on bad data."""
    from helpers.run.quarter import load_run_inputs

    return min(quarter_for(when), load_run_inputs(settings, "latest").quarter)


def missed_quarter(settings: Settings, now: datetime) -> Quarter | None:
    """The quarter whose scheduled run was missed (no published output), if any."""
    from helpers.exceptions import IpevalError

    fired = last_fire_before(settings, now)
    if fired is None:
        return None
    try:
        q = scheduled_quarter(settings, fired)
    except IpevalError as exc:  # the scheduled run itself will report it
        log.error("no catch-up: %s", exc)
        return None
    return None if (settings.outputs_path / str(q)).exists() else q


def run_scheduled(settings_path: str | None = None, now: datetime | None = None) -> int:
    """One scheduled firing: ingest the inbox, run the latest complete quarter quietly; return the exit code."""
    from helpers.exceptions import IpevalError
    from helpers.run.inbox import take_inbox
    from helpers.run.quarter import run_quarter
    from helpers.settings import load_settings

    settings = load_settings(settings_path)
    tz = ZoneInfo(schedule_config(settings)["timezone"])
    q: object = "latest"  # the quarter once known (a Quarter), for the log lines
    try:
        # district returns dropped in data/inbox/ first (they may bring the new quarter); a bad file
        # is set aside and the run goes on
        events = take_inbox(settings)
        q = scheduled_quarter(settings, now or datetime.now(tz))
        log.info("scheduled run of %s", q)
        result = run_quarter(settings, str(q), quiet=True, log_events=events)
    except IpevalError as exc:
        log.error("scheduled run of %s refused: %s", q, exc)
        _tell(settings, q, error=exc)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the job says so and the scheduler keeps firing
        # one line for whoever reads the scheduler's output; the traceback in a details file under
        # outputs/ (as the command line does), never on the console
        import traceback

        from helpers.files import unique_path

        where = ""
        try:
            details = unique_path(settings.outputs_path / ".errors", "scheduled-", ".log")
            details.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
            where = f"; details: {details}"
        except OSError:  # the disk is full: the line alone
            pass
        log.error("scheduled run of %s failed (%s: %s)%s", q, type(exc).__name__, str(exc)[:200], where)
        _tell(settings, q, error=exc)
        return 3
    log.info("scheduled run of %s finished: %d jobs, %d failed", q, len(result.jobs), len(result.failed))
    _tell(settings, q, result=result)
    return result.exit_code


def _tell(settings: Settings, q, **outcome) -> None:
    """The result message of a scheduled run (``notify``); never raises, never changes the exit code."""
    from helpers.run.notify.jobs import after_run

    after_run(settings, q, **outcome)


def build_scheduler(settings: Settings, job=None, blocking: bool = True, trig=None):
    """An APScheduler scheduler with the quarterly job (``job`` defaults to :func:`run_scheduled`)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cfg = schedule_config(settings)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    kw = {}
    if blocking:
        # the job runs in the main thread (not a pool thread), where the runner's SIGTERM/SIGINT
        # handlers work: a stopped service leaves no staging folder and no kernels behind
        from apscheduler.executors.debug import DebugExecutor

        kw["executors"] = {"default": DebugExecutor()}
    sched = cls(timezone=ZoneInfo(cfg["timezone"]), **kw)
    sched.add_job(job or run_scheduled, trigger=trig or trigger(settings), id="ipeval-quarterly",
                  kwargs={} if job else {"settings_path": str(settings.path)},
                  max_instances=1, coalesce=True, misfire_grace_time=int(cfg["misfire_grace_days"]) * 86400)
    if job is None and settings.notify.enabled:
        _add_reminders(sched, settings)
    return sched


def _add_reminders(sched, settings: Settings) -> None:
    """The daily reminder job (``notify``): on the days ``remind_days_before`` the returns'
    deadline, each district whose return is missing is reminded (:mod:`helpers.run.notify.jobs`)."""
    from apscheduler.triggers.cron import CronTrigger

    from helpers.run.notify.jobs import scheduled_reminders

    tz = ZoneInfo(schedule_config(settings)["timezone"])
    sched.add_job(scheduled_reminders, trigger=CronTrigger(hour=settings.notify.remind_hour, minute=0, timezone=tz),
                  id="ipeval-reminders", kwargs={"settings_path": str(settings.path)}, max_instances=1,
                  coalesce=True, misfire_grace_time=6 * 3600)


def serve(settings: Settings) -> None:
    """Run the schedule until stopped; first catch up a run missed while the process was down."""
    tz = ZoneInfo(schedule_config(settings)["timezone"])
    check_fires(settings)  # a schedule that never fires would wait forever, silently
    missed = missed_quarter(settings, datetime.now(tz))
    sched = build_scheduler(settings)
    if missed is not None:
        # now, in this (main) thread, before the scheduler starts: the same quarter --print-cron runs
        log.warning("catching up the missed run of %s", missed)
        run_scheduled(str(settings.path))
    nxt = trigger(settings).get_next_fire_time(None, datetime.now(tz))
    log.warning("next scheduled run: %s", nxt.isoformat() if nxt else "never")
    sched.start()


def _run_argv(settings: Settings) -> list[str]:
    """``ipeval run --quarter latest --inbox --quiet``, with ``--settings`` when not the project's default file
    and ``--notify`` when ``notify.enabled``: a cron line nobody watches then sends its result, as the
    built-in scheduler does (``docs/notify.md``)."""
    argv = [str(Path(sys.executable).with_name("ipeval")), "run", "--quarter", "latest", "--inbox", "--quiet"]
    default = settings.root / "params" / "settings.yaml"
    if Path(settings.path).resolve() != default.resolve():
        argv += ["--settings", str(Path(settings.path).resolve())]
    if settings.notify.enabled:
        argv.append("--notify")
    return argv


def _run_command(settings: Settings) -> str:
    """The run command for a POSIX shell (each argument quoted)."""
    return " ".join(shlex.quote(a) for a in _run_argv(settings))


def _check_paths(settings: Settings, *paths) -> None:
    """Refuse a path a scheduler line cannot hold: a newline (or other control character) would
    end the crontab line or the unit's setting and start another, with whatever follows."""
    from helpers.exceptions import ConfigError

    for p in (settings.root, settings.path, settings.outputs_path, sys.executable, *paths):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in str(p)):
            raise ConfigError(et("path_control_char", path=repr(str(p))))


def check_fires(settings: Settings) -> None:
    """Refuse a cron expression that never fires (``0 6 31 2 *``: 31 February)."""
    from helpers.exceptions import ConfigError

    cfg = schedule_config(settings)
    if trigger(settings).get_next_fire_time(None, datetime.now(ZoneInfo(cfg["timezone"]))) is None:
        raise ConfigError(et("cron_never_fires", cron=repr(cfg["cron"]), path=settings.path))


def _cron_escape(text: str) -> str:
    """crontab(5) turns an unescaped ``%`` of the command into a newline (stdin of the command)."""
    return text.replace("%", "\\%")


def _systemd_arg(text: str) -> str:
    """One argument of a systemd ``ExecStart=``: double-quoted with C escapes, ``%`` (a specifier)
    doubled, ``$`` (a variable) doubled (systemd.service(5), "Command lines")."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$") + '"'


_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12))


def _expand(field: str, name: str, lo: int, hi: int) -> str:
    """A cron field as systemd writes it: ``*``, or the explicit list of values (``1-12/3`` -> 01,04,07,10)."""
    from helpers.exceptions import ConfigError

    if field == "*":
        return "*"
    values: set[int] = set()
    for part in field.split(","):
        rng, _, step = part.partition("/")
        try:
            if rng == "*":
                a, b = lo, hi
            elif "-" in rng:
                a, b = (int(x) for x in rng.split("-", 1))
            else:
                a = int(rng)
                b = hi if step else a
            values.update(range(a, b + 1, int(step) if step else 1))
        except ValueError:
            raise ConfigError(et("cron_field_systemd", name=name, field=repr(field))) from None
    return ",".join(f"{v:02d}" for v in sorted(values))


def print_cron(settings: Settings) -> str:
    """A crontab entry equivalent to the built-in schedule."""
    cfg = schedule_config(settings)
    _check_paths(settings)
    check_fires(settings)
    cmd = _cron_escape(f"cd {shlex.quote(str(settings.root))} && {_run_command(settings)} "
                       f">> {shlex.quote(str(settings.outputs_path / 'cron.log'))} 2>&1")
    return (f"# ipeval quarterly run ({cfg['timezone']}); cron does not catch up missed runs: prefer the systemd timer\n"
            f"CRON_TZ={cfg['timezone']}\n{cfg['cron']} {cmd}\n")


def print_systemd(settings: Settings) -> str:
    """A systemd service and timer equivalent to the built-in schedule (Persistent= catches up)."""
    from helpers.exceptions import ConfigError

    cfg = schedule_config(settings)
    _check_paths(settings)
    check_fires(settings)
    fields = cfg["cron"].split()
    minute, hour, dom, month = (_expand(f, *spec) for f, spec in zip(fields[:4], _FIELDS))
    if fields[4] != "*":
        raise ConfigError(et("cron_day_of_week", cron=repr(cfg["cron"])))
    return f"""# /etc/systemd/system/ipeval.service
[Unit]
Description=ipeval quarterly evaluation run

[Service]
Type=oneshot
WorkingDirectory={str(settings.root).replace("%", "%%")}
ExecStart={" ".join(_systemd_arg(a) for a in _run_argv(settings))}

# /etc/systemd/system/ipeval.timer
[Unit]
Description=ipeval quarterly evaluation schedule

[Timer]
OnCalendar=*-{month}-{dom} {hour}:{minute}:00 {cfg['timezone']}
Persistent=true

[Install]
WantedBy=timers.target
"""
