"""Settings (``params/settings.yaml``): one typed object, checked when it is loaded.

Every block of the file has a schema (:class:`ForecastBlock`, :class:`StatusBlock`,
:class:`ExecutorBlock`, :class:`ScheduleBlock`; in :mod:`helpers.settings_schema`, re-exported
here) that refuses unknown keys, wrong types and out-of-range values. A mistake is a :class:`ConfigError` naming the file, the key and the rule,
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

import yaml
from pydantic import ValidationError

from helpers.exceptions import ConfigError
from helpers.i18n import error_file_kind, et
from helpers.settings_schema import (  # noqa: F401 - the blocks are re-exported: helpers.settings.ForecastBlock
    ChannelBlock,
    ExecutorBlock,
    ForecastBlock,
    NotifyBlock,
    ReportBlock,
    ScheduleBlock,
    SettingsFile,
    StatusBlock,
    StoreBlock,
    _Block,
    _describe,
)

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
    raise ConfigError(et("no_project", file=SETTINGS_RELPATH, here=here))


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
                        None, None, et("yaml_key_twice", key=repr(key), line=key_node.start_mark.line + 1),
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
        raise error(et("yaml_missing", what=error_file_kind(what), path=path))
    raw_bytes = path.read_bytes()
    try:
        return load_yaml(raw_bytes), hashlib.sha256(raw_bytes).hexdigest()
    except yaml.YAMLError as exc:
        raise error(et("yaml_invalid", path=path, reason=exc)) from None


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
        raise ConfigError(et("settings_not_mapping", path=p))
    try:
        typed = SettingsFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, p)) from None
    return Settings(p.parent.parent, p, sha256, raw, typed)
