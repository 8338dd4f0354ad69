"""Settings (``params/settings.yaml``): one typed object, checked when it is loaded.

Every block of the file has a schema (:class:`ForecastBlock`, :class:`StatusBlock`,
:class:`ExecutorBlock`, :class:`ScheduleBlock`) that refuses unknown keys, wrong types and
out-of-range values. A mistake is a :class:`ConfigError` naming the file, the key and the rule,
which the command line turns into exit code 2 before anything runs. The loaded
:class:`Settings` is passed down; no module parses the file again.

pydantic does the checking: it reports every problem of a block at once, with the key's path,
which a hand-written checker would have to reimplement for each block.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from helpers.exceptions import ConfigError

SETTINGS_RELPATH = Path("params") / "settings.yaml"


def find_project_root(start: str | Path | None = None) -> Path:
    """The project folder: ``$IPEVAL_HOME``, else the first parent of ``start`` (default: the
    current folder) that holds ``params/settings.yaml``, else the folder this package was installed from."""
    env = os.environ.get("IPEVAL_HOME")
    if env:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_RELPATH).is_file():
            return folder
    source_root = Path(__file__).resolve().parents[2]
    if (source_root / SETTINGS_RELPATH).is_file():
        return source_root
    raise ConfigError(
        f"no {SETTINGS_RELPATH} found in {here} or its parents; run from the project folder or set IPEVAL_HOME"
    )


# --------------------------------------------------------------------------- the schema

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
            raise ValueError(f"at_risk ({self.at_risk}) must be below on_track ({self.on_track})")
        return self


class ExecutorBlock(_Block):
    """``executor``: how reports are run."""

    workers: Optional[int] = Field(None, ge=1, le=64)
    start_timeout: float = Field(120, gt=0, le=3600)
    execution_timeout: float = Field(600, gt=0, le=86400)
    retries: int = Field(1, ge=0, le=5)
    fork_kernels: bool = True  # kernels forked from a warmed-up server (docs/kernels.md); false: ordinary kernels

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
            raise ValueError(f"{v!r} is not a time zone (e.g. Asia/Shanghai)") from None
        return v

    @model_validator(mode="after")
    def _cron(self):
        from zoneinfo import ZoneInfo

        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))
        except ValueError as exc:
            raise ValueError(f"cron {self.cron!r} is not a cron expression: {exc}") from None
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
            raise ValueError(f"channel {self.name!r}: an smtp channel needs host and sender")
        if self.kind == "webhook" and not self.url_env:
            raise ValueError(f"channel {self.name!r}: a webhook needs url_env (the environment variable holding its URL)")
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

    @field_validator("evaluation_date")
    @classmethod
    def _date(cls, v: str) -> str:
        from datetime import date

        if v:
            try:
                date.fromisoformat(v)
            except ValueError:
                raise ValueError(f"{v!r} is not a date (YYYY-MM-DD)") from None
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
    """Every problem of the file, one line each: ``file: key: rule (got value)``."""
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
            lines.append(f"{path}: {key}: not a setting (allowed here: {allowed})")
        elif err["type"] == "missing":
            lines.append(f"{path}: {key}: required")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            got = f" (got {err['input']!r})" if not isinstance(err.get("input"), dict) else ""
            lines.append(f"{path}: {key}: {msg}{got}")
    return "invalid settings:\n  " + "\n  ".join(lines)


# --------------------------------------------------------------------------- the object

@dataclass(frozen=True)
class Settings:
    """The checked settings file with paths made absolute.

    Attributes
    ----------
    root : Path
        The project folder (the parent of ``params/``).
    path : Path
        The settings file.
    sha256 : str
        Of the file's bytes; recorded in every manifest.
    raw : dict
        The file as read (recorded in the manifest as written).
    file : SettingsFile
        The typed, checked content: ``settings.file.status.on_track``.
    """

    root: Path
    path: Path
    sha256: str
    raw: dict
    file: SettingsFile

    def resolve(self, value: str | Path) -> Path:
        """A path of the settings, absolute (relative ones are relative to the project folder)."""
        p = Path(value)
        return p if p.is_absolute() else (self.root / p)

    @property
    def plan_path(self) -> Path:
        return self.resolve(self.file.plan)

    @property
    def geographies_path(self) -> Path:
        return self.resolve(self.file.geographies)

    @property
    def data_path(self) -> Path:
        return self.resolve(self.file.data)

    @property
    def outputs_path(self) -> Path:
        return self.resolve(self.file.outputs)

    @property
    def language(self) -> str:
        return self.file.language

    @property
    def forecast(self) -> ForecastBlock:
        return self.file.forecast

    @property
    def status(self) -> StatusBlock:
        return self.file.status

    @property
    def executor(self) -> ExecutorBlock:
        return self.file.executor

    @property
    def schedule(self) -> ScheduleBlock:
        return self.file.schedule

    @property
    def store(self) -> StoreBlock:
        return self.file.store

    @property
    def notify(self) -> NotifyBlock:
        return self.file.notify

    def block(self, name: str) -> dict:
        """A block as a plain dict of the keys the file sets (defaults left to the consumer)."""
        return dict(getattr(self.file, name).model_dump(exclude_unset=True, exclude_none=True))


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # base chosen at import
    """The safe loader (libyaml's C parser when PyYAML has it) refusing a key given twice in one
    mapping, in the same parse: YAML otherwise keeps the last of two equal keys without a word, so
    a target typed twice would silently lose one."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = getattr(key_node, "value", None)
            if isinstance(key, str):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice in one mapping (line {key_node.start_mark.line + 1})",
                        key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(raw: bytes | str):
    """Parse YAML with safe loading only: plain data, never a tag that builds a Python object.

    libyaml's C parser when PyYAML has it (its wheels do), else the pure-Python one; both are the
    safe loader. The C parser reads the plan registry about ten times faster, which every report
    kernel pays once. A key given twice in one mapping is an error (:class:`_UniqueKeyLoader`).
    """
    return yaml.load(raw, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader, above


def read_yaml_file(path: Path, error: type[ConfigError] = ConfigError, what: str = "file"):
    """Read a YAML file of ``params/`` safely: ``(document, sha256 of its bytes)``.

    Raises ``error`` (a :class:`ConfigError`) saying which file is missing or not YAML.
    """
    if not path.is_file():
        raise error(f"{what} {path} does not exist")
    raw_bytes = path.read_bytes()
    try:
        return load_yaml(raw_bytes), hashlib.sha256(raw_bytes).hexdigest()
    except yaml.YAMLError as exc:
        raise error(f"{path} is not valid YAML: {exc}") from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and check the settings file (default: ``<project>/params/settings.yaml``).

    Raises
    ------
    ConfigError
        The file is missing, not YAML, or breaks the schema (every problem listed, with its key).
    """
    p = Path(path) if path else find_project_root() / SETTINGS_RELPATH
    p = p.resolve()
    raw, sha = read_yaml_file(p, ConfigError, "settings file")
    return settings_from_mapping(raw or {}, p, sha)


def settings_from_mapping(raw, path: str | Path, sha256: str) -> Settings:
    """The settings from their already-read mapping (a report input carries them): the same schema
    and the same errors as :func:`load_settings`, without reading the file again.

    ``path`` is where the settings file was (its project folder resolves relative paths).
    """
    p = Path(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: the settings must be a mapping of keys to values")
    try:
        typed = SettingsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, p)) from None
    return Settings(p.parent.parent, p, sha256, raw, typed)
