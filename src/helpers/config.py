"""Settings (``params/settings.yaml``) and the project folder they are relative to."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

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


@dataclass(frozen=True)
class Settings:
    """The parsed settings file with paths made absolute."""

    root: Path
    path: Path
    sha256: str
    raw: dict

    def resolve(self, value: str | Path) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (self.root / p)

    @property
    def plan_path(self) -> Path:
        return self.resolve(self.raw["plan"])

    @property
    def geographies_path(self) -> Path:
        return self.resolve(self.raw["geographies"])

    @property
    def data_path(self) -> Path:
        return self.resolve(self.raw["data"])

    @property
    def outputs_path(self) -> Path:
        return self.resolve(self.raw.get("outputs", "outputs"))

    @property
    def language(self) -> str:
        return self.raw.get("language", "zh")

    def block(self, name: str) -> dict:
        return dict(self.raw.get(name) or {})


def load_yaml(raw: bytes | str):
    """Parse YAML with safe loading only: plain data, never a tag that builds a Python object.

    libyaml's C parser when PyYAML has it (its wheels do), else the pure-Python one; both are the
    safe loader. The C parser reads the plan registry about ten times faster, which every report
    kernel pays once.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(raw, Loader=loader)  # noqa: S506 - a safe loader, chosen above


def load_settings(path: str | Path | None = None) -> Settings:
    """Read the settings file (default: ``<project>/params/settings.yaml``), safe YAML only."""
    p = Path(path) if path else find_project_root() / SETTINGS_RELPATH
    p = p.resolve()
    if not p.is_file():
        raise ConfigError(f"settings file {p} does not exist")
    raw_bytes = p.read_bytes()
    try:
        raw = load_yaml(raw_bytes) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p} is not valid YAML: {exc}") from None
    for key in ("plan", "geographies", "data"):
        if key not in raw:
            raise ConfigError(f"{p}: setting {key!r} is required")
    if raw.get("language", "zh") not in ("zh", "en"):
        raise ConfigError(f"{p}: language must be zh or en")
    return Settings(p.parent.parent, p, hashlib.sha256(raw_bytes).hexdigest(), raw)
