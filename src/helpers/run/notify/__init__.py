"""Telling people: reminders to districts, the result of each scheduled run (``docs/notify.md``).

:mod:`.messages` writes the messages (Chinese by default), :mod:`.channels` sends one over a
channel (SMTP, webhook with DingTalk / WeCom presets), :mod:`.dispatch` delivers messages to the
configured channels with bounded retries and never raises into a run, :mod:`.jobs` are what the
scheduler and ``ipeval remind`` call.
"""
