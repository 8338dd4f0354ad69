"""Re-run a published quarter from the copy of the inputs kept in its folder (``ipeval reproduce``).

In order: the manifest is read (a missing or corrupt one is refused by name); every copied input
(``data/``, ``params/``) is checked against the SHA-256 the manifest recorded, and any that
differs is named before anything is recomputed; then the assessments are recomputed (no cache)
and every table the reports are made from is compared with the published one: ``assessments.csv``
and ``bands.csv`` byte for byte, ``validated_data.csv`` (the data every report reads) and the
numbers of ``assessments.xlsx`` cell by cell.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from helpers.exceptions import ConfigError
from helpers.files import people_csv, sha256_file
from helpers.i18n import et


def _manifest(run: Path) -> dict:
    path = run / "manifest.json"
    if not path.is_file():
        raise ConfigError(et("reproduce_no_manifest", run=run))
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(et("reproduce_damaged", path=path, reason=exc)) from None
    missing = [k for k in ("quarter", "data_copy") if not isinstance(m, dict) or k not in m]
    if missing:
        raise ConfigError(et("reproduce_lacks", path=path, fields=", ".join(missing)))
    for name in ("assessments.csv", "params/settings.yaml"):
        if not (run / name).is_file():
            raise ConfigError(et("reproduce_missing_file", path=run / name))
    return m


def changed_inputs(run: Path, m: dict) -> list[str]:
    """The copied inputs whose SHA-256 differs from the manifest's (or that are missing)."""
    expected = m.get("copies_sha256")
    if expected is None:  # manifests before copies_sha256: match the copies to the inputs by name
        by_name = {Path(k).name: v for k, v in (m.get("inputs_sha256") or {}).items()}
        expected = {c: by_name[Path(c).name] for c in m["data_copy"] if Path(c).name in by_name}
    return _differing(run, expected)


def _differing(run: Path, expected: dict) -> list[str]:
    """``"<rel>: missing"`` or ``"<rel>: sha256 ..."`` for each file of ``expected`` ({rel: sha256}) not as recorded."""
    out = []
    for rel, digest in sorted(expected.items()):
        p = run / rel
        if not p.is_file():
            out.append(f"{rel}: missing")
        elif (got := sha256_file(p)) != digest:
            out.append(f"{rel}: sha256 {got[:16]}..., the manifest recorded {digest[:16]}...")
    return out


def manifest_edited(run: Path) -> list[str]:
    """``["manifest.json: ..."]`` if the manifest differs from the checksum written beside it."""
    from helpers.files import MANIFEST_SUM

    side, path = run / MANIFEST_SUM, run / "manifest.json"
    if not side.is_file() or not path.is_file():
        return []
    want = side.read_text(encoding="ascii", errors="replace").strip()
    got = sha256_file(path)
    return [] if got == want else [f"manifest.json: sha256 {got[:16]}..., recorded at publication {want[:16]}..."]


def changed_outputs(run: Path, m: dict) -> list[str]:
    """The published files (reports, tables, documents) whose SHA-256 differs from the manifest's
    ``files_sha256``, or that are missing; the copied inputs are named by :func:`changed_inputs`."""
    raw = m.get("files_sha256")
    recorded: dict = raw if isinstance(raw, dict) else {}
    copies = set(m.get("copies_sha256") or {})
    return _differing(run, {rel: d for rel, d in recorded.items() if rel not in copies and rel != "run.log.jsonl"})


def _xlsx_numbers_differ(old: Path, new: Path) -> bool:
    """Whether two workbooks differ in any cell's value (the bytes differ anyway: zip timestamps)."""
    import pandas as pd

    a, b = (pd.read_excel(p, header=None, sheet_name=None) for p in (old, new))
    return a.keys() != b.keys() or any(not a[k].astype(str).equals(b[k].astype(str)) for k in a)


def reproduce_run(run_dir: str | Path) -> tuple[bool, str]:
    """Check a run's copied inputs, recompute its assessments and compare every table.

    Returns
    -------
    (identical, message)
        ``identical`` only when every input matches the manifest and every table is reproduced;
        the message names each input that changed and each table that differs.
    """
    from helpers.data.contract import load_data
    from helpers.model.assess import StatusThresholds, assess_all
    from helpers.model.forecast import ForecastSettings
    from helpers.pages.report_input import build_report_input
    from helpers.pages.workbook import write_workbook_from_input
    from helpers.plan.geography import load_geographies
    from helpers.plan.periods import Quarter
    from helpers.plan.registry import OVERVIEW, load_plan
    from helpers.settings import load_settings

    from helpers.exceptions import IpevalError

    run = Path(run_dir).resolve()
    edited = manifest_edited(run)  # hashed first: an edited manifest cannot vouch for the copies
    m = _manifest(run)
    changed = edited + changed_inputs(run, m)
    lines = [f"INPUT CHANGED since the run: {c}" for c in changed]
    lines += [f"PUBLISHED FILE CHANGED since the run: {c}" for c in changed_outputs(run, m)]
    params = run / "params"
    try:
        settings = load_settings(params / "settings.yaml")
        plan = load_plan(params / Path(settings.raw["plan"]).name)
        geos = load_geographies(params / Path(settings.raw["geographies"]).name)
        ds = load_data([run / p for p in m["data_copy"]], plan, geos)
    except IpevalError as exc:  # a copy that no longer parses: named above, and why nothing was recomputed
        lines.append(f"NOT RECOMPUTED: a copied input cannot be read: {str(exc).splitlines()[0]}")
        return False, "\n".join(lines)
    from datetime import datetime

    from helpers.run.publication import known_at_run, mark_pending

    q, as_of = Quarter.parse(m["quarter"]), (m.get("store") or {}).get("as_of")
    when = as_of.replace("Z", "+00:00") if as_of else m.get("started")  # the run's date, as the run took it
    ds, pending = known_at_run(ds, plan, settings, q, now=datetime.fromisoformat(when) if when else None)
    fs = ForecastSettings.from_mapping(settings.block("forecast"))
    th = StatusThresholds(**settings.block("status"))
    # no cache: recompute; two processes, as a run does (the results do not depend on it)
    table, bands = assess_all(ds.frame, plan, geos, Quarter.parse(m["quarter"]), fs, th, workers=2)
    table = mark_pending(table, plan, pending, q)
    same_tables = True
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        # written exactly as the run writes them (helpers.run.quarter._assess)
        (tmp / "assessments.csv").write_bytes(people_csv(table, float_format="%.6g"))
        bands.to_csv(tmp / "bands.csv", index=False, float_format="%.6g")
        (tmp / "validated_data.csv").write_bytes(people_csv(ds.frame))
        for name in ("assessments.csv", "bands.csv", "validated_data.csv"):
            if not (run / name).is_file():  # runs before bands/validated_data were kept
                continue
            new, old = (tmp / name).read_bytes(), (run / name).read_bytes()
            if new == old:
                lines.append(f"identical: {name} reproduced byte for byte (sha256 {hashlib.sha256(new).hexdigest()})")
            else:
                same_tables = False
                lines.append(f"DIFFERENT: {name}: published sha256 {hashlib.sha256(old).hexdigest()}, "
                             f"reproduced sha256 {hashlib.sha256(new).hexdigest()}")
        if (run / "assessments.xlsx").is_file():
            # as the run writes it: from the city's overview report input over the tables just written
            city = build_report_input(settings, plan, geos, tmp, OVERVIEW, geos.city.code, m["quarter"],
                                      m.get("language", "zh"))
            write_workbook_from_input(tmp / "assessments.xlsx", city, tmp, plan_geos=(plan, geos))
            if _xlsx_numbers_differ(run / "assessments.xlsx", tmp / "assessments.xlsx"):
                same_tables = False
                lines.append("DIFFERENT: assessments.xlsx: its cells differ from the recomputed assessments")
            else:
                lines.append("identical: assessments.xlsx, every cell")
    return (not changed and same_tables and not changed_outputs(run, m)), "\n".join(lines)
