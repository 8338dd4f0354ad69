"""What the scheduler and ``ipeval remind`` call: the result of a run, the reminders (催报).

:func:`after_run` and :func:`scheduled_reminders` never raise: a message that cannot be written or
sent is logged (and shown by ``ipeval status``), and the run's outputs and exit code stay as they
were. :func:`remind` (the command) raises :class:`~helpers.exceptions.ConfigError` for a bad
contacts file, since a person is there to read it.
"""

from __future__ import annotations

import logging
import traceback
from datetime import date, datetime, timezone
from pathlib import Path

from helpers.exceptions import ConfigError
from helpers.i18n import et
from helpers.plan.periods import Quarter
from helpers.run.notify.dispatch import deliver

log = logging.getLogger("ipeval.notify")


def load_contacts(settings, geos) -> dict[str, dict]:
    """``params/contacts.yaml``: district code -> ``{name, email: [...]}`` (checked)."""
    from helpers.settings import read_yaml_file

    path = settings.resolve(settings.notify.contacts)
    doc, _sha = read_yaml_file(path, ConfigError, "contacts file")
    raw = (doc or {}).get("contacts") or {}
    if not isinstance(raw, dict):
        raise ConfigError(et("contacts_mapping", path=path))
    out = {}
    for code, entry in raw.items():
        geos.get(str(code))  # UnknownGeographyError naming the valid codes
        emails = (entry or {}).get("email") if isinstance(entry, dict) else None
        emails = [emails] if isinstance(emails, str) else list(emails or [])
        if not emails or not all(isinstance(e, str) and "@" in e for e in emails):
            raise ConfigError(et("contacts_email", path=path, code=code))
        out[str(code)] = {"name": str(entry.get("name") or ""), "email": emails}
    return out


def _lang(settings) -> str:
    return settings.notify.language or settings.language


def _incomplete(settings, quarter, today=None) -> dict:
    from helpers.run.returns import outstanding, quarter_returns

    try:
        cells = quarter_returns(settings, quarter, today)
    except Exception as exc:  # noqa: BLE001 - the message goes out without the returns line
        log.error("returns of %s unknown: %s", quarter, exc)
        return {}
    return {code: [c for c in cs if c.status != "pending"] or cs for code, cs in outstanding(cells, str(quarter)).items()}


def _failure_log(settings, quarter, error: BaseException) -> Path:
    """The error, with its traceback, in ``outputs/.notify/failures/`` (the message names it)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = settings.outputs_path / ".notify" / "failures" / f"{stamp}-{quarter}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(traceback.format_exception(type(error), error, error.__traceback__)), encoding="utf-8")
    return path


def after_run(settings, quarter, *, result=None, error: BaseException | None = None, dry_run=None,
              today: date | None = None) -> list[dict]:
    """Send the result of a scheduled run: the published ``result`` or the ``error`` that stopped it.

    Does nothing unless ``notify.enabled`` (or ``dry_run`` is given). Never raises.
    """
    if not settings.notify.enabled and dry_run is None:
        return []
    try:
        from helpers.plan.geography import load_geographies
        from helpers.plan.registry import load_plan
        from helpers.run.notify.messages import failure_message, result_message

        lang = _lang(settings)
        plan, geos = load_plan(settings.plan_path), load_geographies(settings.geographies_path)
        real_q = str(quarter) if str(quarter) != "latest" else None
        missing = _incomplete(settings, real_q, today) if real_q else {}
        if result is not None:
            msg = result_message(Path(result.run_dir), plan, geos, result.exit_code, missing, lang)
        else:
            where = _failure_log(settings, quarter, error) if error is not None else "?"
            msg = failure_message(str(quarter), str(error or "?"), where, missing, plan, geos, lang)
        return deliver(settings, [msg], dry_run=dry_run)
    except Exception:  # noqa: BLE001 - telling people must never change the run's outcome
        log.exception("the result message of %s was not sent", quarter)
        return []


def remind(settings, quarter: str | None = None, *, today: date | None = None, dry_run=None) -> list[dict]:
    """Remind each district whose return for ``quarter`` (default: the coming one) is not complete.

    Each gets an e-mail at its contact's addresses listing what is missing, with its pre-filled
    template attached; the office's channels get one summary. Returns the send outcomes.
    """
    from helpers.data.store import ObservationStore
    from helpers.data.template import write_template
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.run.notify.messages import reminder_message, reminder_summary
    from helpers.run.returns import coming_quarter, deadline, outstanding, returns_status

    today = today or datetime.now(timezone.utc).date()
    lang = _lang(settings)
    plan, geos = load_plan(settings.plan_path), load_geographies(settings.geographies_path)
    q = Quarter.parse(quarter) if quarter else coming_quarter(settings, plan, today)
    store = ObservationStore.of(settings)
    if settings.data_path.is_file():
        store.ensure_seed(settings.data_path, plan, geos)
    todo = outstanding(returns_status(settings, plan, geos, store, [q], today), str(q))
    if not todo:
        return []
    contacts = load_contacts(settings, geos)
    due = deadline(settings, q)
    view = store.view()
    folder = settings.outputs_path / ".notify" / "templates" / str(q)
    messages = []
    for code, cells in todo.items():
        if code not in contacts:
            log.warning("no contact for %s in %s: reminded only in the summary", code, settings.notify.contacts)
            continue
        template = write_template(folder / f"{code}-{q}.xlsx", plan, geos, code, str(q), stored=view)
        messages.append(reminder_message(plan, geos.get(code), contacts[code], str(q), due, today, cells,
                                         template, lang))
    messages.append(reminder_summary(plan, geos, str(q), due, todo, lang))
    return deliver(settings, messages, dry_run=dry_run)


def reminder_quarter(settings, plan, today: date) -> Quarter | None:
    """The quarter to chase today, if today is one of ``notify.remind_days_before`` its deadline."""
    from helpers.run.returns import coming_quarter, deadline

    q = coming_quarter(settings, plan, today)
    return q if (deadline(settings, q) - today).days in settings.notify.remind_days_before else None


def scheduled_reminders(settings_path: str | None = None, now: datetime | None = None) -> list[dict]:
    """The scheduler's daily reminder job: on a reminder day, :func:`remind`. Never raises."""
    try:
        from zoneinfo import ZoneInfo

        from helpers.plan.registry import load_plan
        from helpers.settings import load_settings

        settings = load_settings(settings_path)
        if not settings.notify.enabled:
            return []
        today = (now or datetime.now(ZoneInfo(settings.schedule.timezone))).date()
        q = reminder_quarter(settings, load_plan(settings.plan_path), today)
        return remind(settings, str(q), today=today) if q is not None else []
    except Exception:  # noqa: BLE001 - a reminder that fails is logged; the scheduler goes on
        log.exception("the reminders were not sent")
        return []
