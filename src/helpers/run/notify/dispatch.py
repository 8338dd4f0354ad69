"""Delivering messages to the configured channels: bounded, retried, logged, never raising.

A run must not wait on, or fail because of, a mail server or a robot: every attempt has the
settings' ``notify.timeout``; a failed attempt is retried ``notify.retries`` times after 1, 2,
4 ... seconds; a channel that still fails is skipped for the rest of that delivery (thirteen
reminders to an unreachable server cost one channel's attempts, not thirteen); and every outcome
is appended to ``outputs/.notify/sends.jsonl``, which ``ipeval status`` reads. Nothing here
raises: :func:`deliver` returns the outcomes.

With ``dry_run`` the messages are written instead of sent: to ``outputs/<quarter>/messages/``
when that quarter has a published run, else ``outputs/.notify/messages/<quarter>/`` (a folder at
``outputs/<quarter>`` would stand where the run's link goes).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from helpers.run.notify.channels import CHANNELS, applies, dry_run_file

log = logging.getLogger("ipeval.notify")

SEND_LOG = Path(".notify") / "sends.jsonl"


def send_log_path(settings) -> Path:
    """``outputs/.notify/sends.jsonl``: one JSON line per message and channel."""
    return settings.outputs_path / SEND_LOG


def messages_dir(settings, quarter: str) -> Path:
    """Where a dry run writes the messages of ``quarter``."""
    link = settings.outputs_path / str(quarter)
    return link / "messages" if link.exists() else settings.outputs_path / ".notify" / "messages" / str(quarter)


def _record(settings, entry: dict) -> None:
    try:
        path = send_log_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
    except OSError as exc:  # a full disk must not turn a sent message into a failed run
        log.error("could not record a send: %s", exc)


def _attempts(send, channel, msg, timeout: float, retries: int, sleep) -> tuple[bool, str, int]:
    err = ""
    for n in range(1, retries + 2):
        try:
            return True, send(channel, msg, timeout), n
        except Exception as exc:  # noqa: BLE001 - any failure of a channel is logged, never raised
            err = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("%s: attempt %d of %d failed: %s", channel.name, n, retries + 1, err)
            if n <= retries:
                sleep(min(2 ** (n - 1), 8))
    return False, err, retries + 1


def _write_dry(settings, channel, msg, n: int) -> str:
    suffix, data = dry_run_file(channel, msg)
    folder = messages_dir(settings, msg.quarter)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-{n:03d}-{msg.event}-{channel.name}-{msg.geography_code or 'office'}{suffix}"
    path.write_bytes(data)
    return str(path)


def deliver(settings, messages, *, dry_run: bool | None = None, sleep=time.sleep) -> list[dict]:
    """Send each message over every channel that carries it (:func:`.channels.applies`).

    Parameters
    ----------
    settings : Settings
        ``notify.channels``, ``timeout``, ``retries`` and ``dry_run``.
    messages : iterable of Message
    dry_run : bool, optional
        Write the messages instead of sending them (default: ``notify.dry_run``).
    sleep : callable
        Waits between attempts (a test passes a no-op).

    Returns
    -------
    list of dict
        One per message and channel: ``time, event, quarter, channel, subject, to, ok, attempts,
        detail`` (the receipt, the dry-run file, or the last error). Also appended to the send log.
    """
    cfg = settings.notify
    dry = cfg.dry_run if dry_run is None else dry_run
    down: set[str] = set()
    out = []
    for n, msg in enumerate(messages):
        for channel in cfg.channels:
            if not applies(channel, msg):
                continue
            entry = {"time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "event": msg.event,
                     "quarter": msg.quarter, "channel": channel.name, "subject": msg.subject,
                     "to": list(msg.to) or list(channel.to), "dry_run": dry}
            try:
                if dry:
                    ok, detail, tries = True, _write_dry(settings, channel, msg, n), 0
                elif channel.name in down:
                    ok, detail, tries = False, "skipped: the channel failed earlier in this delivery", 0
                else:
                    ok, detail, tries = _attempts(CHANNELS[channel.kind], channel, msg, cfg.timeout, cfg.retries, sleep)
                    if not ok:
                        down.add(channel.name)
            except Exception as exc:  # noqa: BLE001 - e.g. an unwritable messages folder
                ok, detail, tries = False, f"{type(exc).__name__}: {exc}"[:300], 0
            entry.update(ok=ok, attempts=tries, detail=detail)
            (log.info if ok else log.error)("%s %s via %s: %s", msg.event, msg.quarter, channel.name, detail)
            _record(settings, entry)
            out.append(entry)
    return out


def failed_sends(settings, limit: int = 10) -> list[dict]:
    """The last failed sends of the log, newest last (``ipeval status`` shows them)."""
    path = send_log_path(settings)
    if not path.is_file():
        return []
    bad = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not e.get("ok"):
            bad.append(e)
    return bad[-limit:]
