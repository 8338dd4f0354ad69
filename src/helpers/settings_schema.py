"""The schema of ``params/settings.yaml``: one pydantic model per block, and its errors in words.

Each block (:class:`ForecastBlock`, :class:`StatusBlock`, :class:`ExecutorBlock`,
:class:`ScheduleBlock`, :class:`StoreBlock`, :class:`NotifyBlock`, :class:`ReportBlock`) refuses
unknown keys, wrong types and out-of-range values; :class:`SettingsFile` is the whole file.
:func:`_describe` turns pydantic's errors into one line per problem (file, key, rule).
:mod:`helpers.settings` reads the file and checks it against these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from helpers.i18n import et, settings_rule


class _Block(BaseModel):
    # strict: YAML's `n_paths: "2000"` or `retries: true` is a mistake, not a number
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ForecastBlock(_Block):
    """``forecast``: the simulation engine (see :class:`helpers.model.forecast.ForecastSettings`)."""

    n_paths: int = Field(2000, ge=10, le=1_000_000)
    seed: int = Field(20231023, ge=0)
    min_points: int = Field(6, ge=3, le=1000)            # quarterly series
    min_points_yearly: int = Field(3, ge=3, le=1000)     # yearly series
    seasonal_min_points: int = Field(12, ge=4, le=1000)
    members: Optional[tuple[str, ...]] = None
    weights: Optional[str] = None
    engine: Literal["drift_t", "ensemble", "rw_drift"] = "drift_t"
    drift_damping: float = Field(0.85, ge=0, le=1)
    drift_inflation: float = Field(1.0, ge=0, le=100)
    drift_wander: float = Field(1.0, ge=0, le=100)          # quarterly series
    drift_wander_yearly: float = Field(0.3, ge=0, le=100)   # yearly series
    prior_sigma: float = Field(0.08, ge=0, le=10)
    prior_df: float = Field(2.0, ge=0, le=1000)
    widen: float = Field(1.0, ge=0.1, le=10)

    @field_validator("drift_damping", "drift_inflation", "drift_wander", "drift_wander_yearly", "prior_sigma",
                     "prior_df", "widen", mode="before")
    @classmethod
    def _int_is_float(cls, v):
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("members", mode="before")
    @classmethod
    def _list_to_tuple(cls, v):
        return tuple(v) if isinstance(v, list) else v


class StatusBlock(_Block):
    """``status``: probability thresholds of the open statuses."""

    on_track: float = Field(0.80, gt=0, lt=1)
    at_risk: float = Field(0.40, gt=0, lt=1)
    # judge districts against the city's rate and per-capita standards (docs/methodology.md)
    hold_districts: bool = False

    @field_validator("on_track", "at_risk", mode="before")
    @classmethod
    def _int_is_float(cls, v):
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _ordered(self):
        if not self.at_risk < self.on_track:
            raise ValueError(et("settings_status_order", at_risk=self.at_risk, on_track=self.on_track))
        return self


class ExecutorBlock(_Block):
    """``executor``: how reports are run."""

    workers: Optional[int] = Field(None, ge=1, le=64)
    start_timeout: float = Field(120, gt=0, le=3600)
    execution_timeout: float = Field(600, gt=0, le=86400)
    retries: int = Field(1, ge=0, le=5)
    fork_kernels: bool = True  # kernels forked from a warmed-up server (docs/kernels.md); false: ordinary kernels
    # shell: each notebook's cells in an IPython shell forked from that server, no Jupyter kernel (run/engines.py);
    # kernel: papermill's own engine, a Jupyter kernel per report (forked unless fork_kernels is false)
    engine: Literal["shell", "kernel"] = "shell"

    @property
    def forks_shells(self) -> bool:
        """Whether a local run's reports run in shells forked from its server: the shell engine, forking on."""
        return self.engine == "shell" and self.fork_kernels

    @field_validator("start_timeout", "execution_timeout", mode="before")
    @classmethod
    def _int_is_float(cls, v):
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


class ScheduleBlock(_Block):
    """``schedule``: when the quarterly run fires."""

    cron: str = "0 6 25 1,4,7,10 *"
    timezone: str = "Asia/Shanghai"
    misfire_grace_days: int = Field(30, ge=0, le=366)
    returns_due_day: int = Field(15, ge=1, le=28)  # district returns due this day of the month after the quarter

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v):
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds for a bad name
            raise ValueError(et("settings_timezone", value=repr(v))) from None
        return v

    @model_validator(mode="after")
    def _cron(self):
        from zoneinfo import ZoneInfo

        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))
        except ValueError as exc:
            raise ValueError(et("settings_cron", cron=repr(self.cron), reason=exc)) from None
        return self


class StoreBlock(_Block):
    """``store``: the observation store with vintages (docs/data_store.md)."""

    path: str = "data/store.sqlite"          # the SQLite database (rebuildable from ``received``)
    received: str = "data/received"          # every ingested file, named by sequence, time and SHA-256
    inbox: str = "data/inbox"                # files dropped here are ingested at a scheduled run


class ChannelBlock(_Block):
    """One channel of ``notify.channels``: e-mail over SMTP or a webhook (``docs/notify.md``).

    Secrets never sit in the file: ``user_env``, ``password_env``, ``url_env`` and ``secret_env``
    name environment variables that hold them.
    """

    name: str = Field(min_length=1)
    kind: Literal["smtp", "webhook"]
    events: tuple[Literal["result", "reminder"], ...] = ("result", "reminder")
    to: tuple[str, ...] = ()                    # smtp: the office's recipients of results (reminders go to districts)
    host: Optional[str] = None                  # smtp
    port: Optional[int] = Field(None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    sender: Optional[str] = None
    user_env: Optional[str] = None
    password_env: Optional[str] = None
    preset: Literal["dingtalk", "wecom", "generic"] = "generic"  # webhook
    url_env: Optional[str] = None
    secret_env: Optional[str] = None            # dingtalk: the robot's signing secret (加签)
    mention: tuple[str, ...] = ()               # dingtalk / wecom: mobile numbers to @
    ca_file: Optional[str] = None               # smtp: CA certificates (PEM) of an internal mail server, absolute path

    @field_validator("events", "to", "mention", mode="before")
    @classmethod
    def _list_to_tuple(cls, v):
        return tuple(v) if isinstance(v, list) else v

    @model_validator(mode="after")
    def _complete(self):
        if self.kind == "smtp" and not (self.host and self.sender):
            raise ValueError(et("settings_smtp", name=repr(self.name)))
        if self.kind == "webhook" and not self.url_env:
            raise ValueError(et("settings_webhook", name=repr(self.name)))
        return self


class NotifyBlock(_Block):
    """``notify``: reminders to districts and the result of each scheduled run (``docs/notify.md``)."""

    enabled: bool = False
    dry_run: bool = False                       # write messages to outputs/<quarter>/messages/ instead of sending
    language: Optional[Literal["zh", "en"]] = None  # default: the settings' language
    contacts: str = "params/contacts.yaml"
    remind_days_before: tuple[int, ...] = (7, 0)    # 0: on the deadline itself
    remind_hour: int = Field(9, ge=0, le=23)
    timeout: float = Field(10, gt=0, le=120)        # seconds per attempt
    retries: int = Field(2, ge=0, le=5)             # further attempts after a failed one
    channels: tuple[ChannelBlock, ...] = ()

    @field_validator("remind_days_before", "channels", mode="before")
    @classmethod
    def _list_to_tuple(cls, v):
        return tuple(v) if isinstance(v, list) else v

    @field_validator("timeout", mode="before")
    @classmethod
    def _int_is_float(cls, v):
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


class ReportBlock(_Block):
    """``report``: what the evaluation team owns in the report (cover and judgement; docs/documents.md)."""

    evaluator: str = ""                                          # 评估单位 (empty: the cover says 待填写)
    commissioner: str = ""                                       # 委托单位 (params/settings.yaml names the plan's lead agency)
    evaluation_date: str = ""                                    # 评估日期, YYYY-MM-DD (empty: the run's date)
    judgement: str = "params/judgement.yaml"                     # 问题与建议 the team writes, per target
    evaluator_en: str = ""                                       # the evaluator in English (--lang en; empty: quoted)
    commissioner_en: str = ""                                    # the commissioner in English (--lang en; empty: quoted)

    @field_validator("evaluation_date")
    @classmethod
    def _date(cls, v: str) -> str:
        from datetime import date

        if v:
            try:
                date.fromisoformat(v)
            except ValueError:
                raise ValueError(et("settings_date", value=repr(v))) from None
        return v


class SettingsFile(_Block):
    """The whole file."""

    schema_version: Literal[1] = 1
    plan: str
    geographies: str
    data: str
    outputs: str = "outputs"
    language: Literal["zh", "en"] = "zh"
    forecast: ForecastBlock = ForecastBlock()
    status: StatusBlock = StatusBlock()
    executor: ExecutorBlock = ExecutorBlock()
    schedule: ScheduleBlock = ScheduleBlock()
    store: StoreBlock = StoreBlock()
    notify: NotifyBlock = NotifyBlock()
    report: ReportBlock = ReportBlock()

    @field_validator("forecast", "status", "executor", "schedule", "store", "notify", mode="before")
    @classmethod
    def _empty_block(cls, v, info):
        # an empty YAML block (`status:` with nothing under it) means the defaults
        return cls.model_fields[info.field_name].default if v is None else v

    @field_validator("report", mode="before")
    @classmethod
    def _empty_report(cls, v):
        return ReportBlock() if v is None else v


def _describe(exc: ValidationError, path: Path) -> str:
    """Every problem of the file, one line each: ``file: key: rule (got value)``, in the error language
    (:func:`helpers.i18n.settings_rule`: pydantic's usual rules in Chinese; the key path as the file writes it)."""
    lines = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(x) for x in err["loc"]) or "(file)"
        if err["type"] == "extra_forbidden":
            parent = SettingsFile
            for part in err["loc"][:-1]:
                if isinstance(part, int):  # an item of a list of blocks (notify.channels.0)
                    continue
                ann = getattr(parent.model_fields.get(str(part)), "annotation", None)
                if ann is not None and not hasattr(ann, "model_fields"):  # tuple[ChannelBlock, ...]
                    ann = next((a for a in getattr(ann, "__args__", ()) if hasattr(a, "model_fields")), None)
                parent = ann or parent
            allowed = ", ".join(getattr(parent, "model_fields", {})) or "?"
            lines.append(et("settings_not_a_setting", path=path, key=key, allowed=allowed))
        elif err["type"] == "missing":
            lines.append(et("settings_required", path=path, key=key))
        else:
            got = et("settings_got", value=repr(err["input"])) if not isinstance(err.get("input"), dict) else ""
            lines.append(et("settings_rule", path=path, key=key, rule=settings_rule(err), got=got))
    return et("settings_invalid", n=len(lines)) + "\n  " + "\n  ".join(lines)
