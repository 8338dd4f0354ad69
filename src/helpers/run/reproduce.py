"""Re-run a published quarter from the copy of the inputs kept in its folder (``ipeval reproduce``)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from helpers.exceptions import ConfigError


def reproduce_run(run_dir: str | Path) -> tuple[bool, str]:
    """Recompute ``assessments.csv`` from ``<run>/data`` and ``<run>/params`` and compare bytes.

    Returns
    -------
    (identical, message)
    """
    from helpers.data.contract import load_data
    from helpers.model.assess import StatusThresholds, assess_all
    from helpers.model.forecast import ForecastSettings
    from helpers.plan.geography import load_geographies
    from helpers.plan.periods import Quarter
    from helpers.plan.registry import load_plan
    from helpers.settings import load_settings

    run = Path(run_dir).resolve()
    manifest_path = run / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(f"{run} has no manifest.json: not a published ipeval run")
    m = json.loads(manifest_path.read_text(encoding="utf-8"))
    params = run / "params"
    settings = load_settings(params / "settings.yaml")
    plan = load_plan(params / Path(settings.raw["plan"]).name)
    geos = load_geographies(params / Path(settings.raw["geographies"]).name)
    ds = load_data([run / p for p in m["data_copy"]], plan, geos)
    fs = ForecastSettings.from_mapping(settings.block("forecast"))
    th = StatusThresholds(**settings.block("status"))
    table, _ = assess_all(ds.frame, plan, geos, Quarter.parse(m["quarter"]), fs, th)  # no cache: recompute
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "assessments.csv"
        table.to_csv(out, index=False, float_format="%.6g")
        new, old = out.read_bytes(), (run / "assessments.csv").read_bytes()
    h_new, h_old = hashlib.sha256(new).hexdigest(), hashlib.sha256(old).hexdigest()
    if new == old:
        return True, f"identical: assessments.csv reproduced byte for byte (sha256 {h_new})"
    return False, f"DIFFERENT: published sha256 {h_old}, reproduced sha256 {h_new}"
