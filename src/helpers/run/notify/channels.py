"""The channels a message can go out by: e-mail over SMTP, a webhook (HTTP POST of JSON).

:data:`CHANNELS` maps a channel's ``kind`` to its sender; a sender raises :class:`SendError` (or
an ``OSError`` from the network) when the message did not get through, and :mod:`.dispatch`
retries and logs. Secrets come only from the environment variables a channel names
(``user_env``, ``password_env``, ``url_env``, ``secret_env``), never from a file.

Webhook presets (group robots):

``dingtalk``  ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with ``secret_env`` the
              URL is signed (加签): ``timestamp`` in ms and ``sign`` = URL-encoded base64 of
              HMAC-SHA256(secret, ``"{timestamp}\\n{secret}"``), as DingTalk's robot documentation gives it.
``wecom``     ``{"msgtype": "markdown", "markdown": {"content"}}`` (the key is in the URL).
``generic``   ``{"event", "quarter", "subject", "text", "attachments", "geography_code"}``.

Both robots answer HTTP 200 with ``{"errcode": 0}`` on success; any other errcode is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import os
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from helpers.i18n import et


class SendError(Exception):
    """A message did not get through (missing secret, a robot's error code, no recipients)."""


def _env(name: str | None, what: str) -> str | None:
    """The value of the environment variable ``name`` (None when no variable is named); ``what`` is the
    :data:`helpers.i18n.ERROR_TEXTS` key of what it holds, for the message when it is not set."""
    if not name:
        return None
    value = os.environ.get(name)
    if not value:
        raise SendError(et("send_env_unset", name=name, what=et(what)))
    return value


def _required_env(name: str | None, what: str) -> str:
    """:func:`_env` for a value the channel cannot do without (its URL, a signing secret it names)."""
    value = _env(name, what)
    if value is None:
        raise SendError(et("send_env_unnamed", what=et(what)))
    return value


# --------------------------------------------------------------------------- e-mail

def build_email(channel, msg) -> EmailMessage:
    """The MIME message of ``msg`` for an SMTP channel (attachments by their file type)."""
    em = EmailMessage()
    em["Subject"] = msg.subject
    em["From"] = channel.sender
    em["To"] = ", ".join(recipients(channel, msg))
    em["Date"] = formatdate(localtime=False)
    em["Message-ID"] = make_msgid(domain=(channel.sender or "ipeval").rpartition("@")[2] or None)
    em.set_content(msg.text)
    for path in msg.attachments:
        path = Path(path)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, sub = ctype.split("/", 1)
        em.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return em


def recipients(channel, msg) -> list[str]:
    """A district's own addresses for a message meant for it, else the channel's ``to``."""
    return list(msg.to) if msg.to else list(channel.to)


def send_smtp(channel, msg, timeout: float) -> str:
    """Send by SMTP (STARTTLS, SSL or plain, as the channel says); returns a one-line receipt."""
    to = recipients(channel, msg)
    if not to:
        raise SendError(et("send_no_recipients", name=channel.name))
    user = _env(channel.user_env, "send_what_smtp_user")
    password = _env(channel.password_env, "send_what_smtp_password")
    em = build_email(channel, msg)
    port = channel.port or {"ssl": 465, "starttls": 587}.get(channel.security, 25)
    # the certificate is always verified: against the system's CAs, or an office's own (ca_file)
    context = ssl.create_default_context(cafile=channel.ca_file)
    server: smtplib.SMTP  # SMTP_SSL is an SMTP
    if channel.security == "ssl":
        server = smtplib.SMTP_SSL(channel.host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(channel.host, port, timeout=timeout)
    with server:
        if channel.security == "starttls":
            server.starttls(context=context)
        if user:
            server.login(user, password or "")
        refused = server.send_message(em, to_addrs=to)
    if refused:
        raise SendError(et("send_refused", addresses=", ".join(refused)))
    return f"{len(to)} recipient(s) via {channel.host}:{port}"


# --------------------------------------------------------------------------- webhooks

def dingtalk_sign(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """The robot URL with DingTalk's ``timestamp`` and ``sign`` parameters appended."""
    ts = int(time.time() * 1000) if timestamp_ms is None else int(timestamp_ms)
    digest = hmac.new(secret.encode("utf-8"), f"{ts}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def webhook_body(preset: str, msg, mention=()) -> dict:
    """The JSON a preset posts."""
    paths = [str(p) for p in msg.attachments]
    if preset == "dingtalk":
        text = f"### {msg.subject}\n\n" + msg.text.replace("\n", "\n\n")
        body = {"msgtype": "markdown", "markdown": {"title": msg.subject, "text": text}}
        if mention:
            body["at"] = {"atMobiles": list(mention), "isAtAll": False}
        return body
    if preset == "wecom":
        content = f"**{msg.subject}**\n{msg.text}" + "".join(f"\n<@{m}>" for m in mention)
        return {"msgtype": "markdown", "markdown": {"content": content[:4000]}}  # the robot's limit: 4096 bytes
    return {"event": msg.event, "quarter": msg.quarter, "subject": msg.subject, "text": msg.text,
            "attachments": paths, "geography_code": msg.geography_code}


def send_webhook(channel, msg, timeout: float) -> str:
    """POST the preset's JSON to the channel's URL; returns a one-line receipt."""
    url = _required_env(channel.url_env, "send_what_webhook_url")
    if channel.preset == "dingtalk" and channel.secret_env:
        url = dingtalk_sign(url, _required_env(channel.secret_env, "send_what_dingtalk_secret"))
    data = json.dumps(webhook_body(channel.preset, msg, channel.mention), ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the URL is the operator's
        status, answer = resp.status, resp.read(65536)
    if channel.preset in ("dingtalk", "wecom"):
        try:
            code = json.loads(answer or b"{}").get("errcode", 0)
        except ValueError:
            code = None
        if code != 0:
            raise SendError(et("send_robot", answer=answer[:200].decode("utf-8", "replace")))
    return f"HTTP {status}"


#: ``kind`` -> sender(channel, message, timeout) -> receipt
CHANNELS = {"smtp": send_smtp, "webhook": send_webhook}


def applies(channel, msg) -> bool:
    """A channel carries a message if it subscribes to the event; a message for a district's own
    addresses goes by e-mail only (a group robot gets the summary instead)."""
    if msg.event not in channel.events:
        return False
    return channel.kind == "smtp" or not msg.to


def dry_run_file(channel, msg) -> tuple[str, bytes]:
    """What would have been sent, as a file: ``.eml`` for e-mail, ``.json`` for a webhook."""
    if channel.kind == "smtp":
        return ".eml", bytes(build_email(channel, msg))
    body = webhook_body(channel.preset, msg, channel.mention)
    return ".json", json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")
