"""The assessment report (评估报告) as Word and PDF, one per geography, from a finished run.

:func:`write_documents` is what ``ipeval run`` (the documents step) and ``ipeval report`` call.
The content is built once per geography (:mod:`.content`, sentences from :mod:`.narrative`), then
laid out by :mod:`.word` and :mod:`.pdf`; charts come from :mod:`.charts`. See docs/documents.md.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger("ipeval")

FORMATS = ("docx", "pdf")


def document_name(geo, lang: str, fmt: str, final: bool) -> str:
    """``330100_杭州市_终期评估报告.docx`` (zh) or ``330100_Hangzhou_final_assessment.en.docx``."""
    if lang == "zh":
        return f"{geo.code}_{geo.name_zh}_{'终期' if final else '中期'}评估报告.{fmt}"
    name = geo.name_en.replace(" ", "_")
    return f"{geo.code}_{name}_{'final' if final else 'midterm'}_assessment.en.{fmt}"


def parse_formats(text: str | None) -> tuple:
    """``docx,pdf`` to a tuple; refuses other formats with a :class:`ConfigError`."""
    from helpers.exceptions import ConfigError

    chosen = tuple(f.strip().lower() for f in (text or ",".join(FORMATS)).split(",") if f.strip())
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise ConfigError(f"--format takes {', '.join(FORMATS)} (comma-separated), not {text!r}")
    return chosen


def write_documents(settings, run_dir: str | Path, *, geographies=None, formats=FORMATS, lang: str = "zh",
                    out_dir: str | Path | None = None, font_cache: str | Path | None = None,
                    workers: int = 1, reuse_from: str | Path | None = None) -> list[Path]:
    """Write the report of each geography of a finished run as .docx and/or .pdf.

    Parameters
    ----------
    settings : Settings
    run_dir : path
        A run folder (published ``outputs/<quarter>`` or a staging folder) with
        ``assessments.csv``, ``validated_data.csv``, ``bands.csv`` and ``manifest.json``.
    geographies : list of str, optional
        Codes (default: every geography that has assessments in the run).
    formats : tuple of {'docx', 'pdf'}
    lang : {'zh', 'en'}
    out_dir : path, optional
        Default ``<run_dir>/documents``.
    font_cache : path, optional
        Where the PDF fonts' TrueType cuts are cached (default ``outputs/.cache/fonts``).
    workers : int
        Processes writing the files (the content is built once, here); 1 writes them in this process.
    reuse_from : path, optional
        A previous run folder: if its documents were made from byte-identical tables with the
        same code, language, formats and geographies, they are copied instead of rewritten (a
        re-run in which nothing changed stays fast).

    Returns
    -------
    list of Path
        The files written.
    """
    from helpers.pages.document.charts import chart_images, run_charts
    from helpers.pages.document.content import build_document, load_run_tables
    from helpers.pages.document.tasks import add_task_chapters
    from helpers.pages.published import add_published_figures
    from helpers.pages.document.english import apply_judgement_en
    from helpers.pages.document.judgement import apply_judgement

    t0 = time.monotonic()
    tables = load_run_tables(settings, run_dir)
    out = Path(out_dir) if out_dir else Path(run_dir) / "documents"
    present = set(tables.table["geography_code"])
    codes = list(geographies) if geographies else [g.code for g in tables.geos.all if g.code in present]
    stamp = _stamp(Path(run_dir), codes, formats, lang)
    if reuse_from is not None:
        reused = _reuse(Path(reuse_from) / "documents", out, stamp)
        if reused:
            return reused
    existing = run_charts(Path(run_dir))
    docs = {}
    for code in codes:
        geo = tables.geos.get(code)
        charts = chart_images(tables, geo, charted_indicators(tables, geo), lang, out / "charts", existing)
        docs[code] = build_document(tables, code, lang, charts)
        add_task_chapters(docs[code], tables, code, lang)  # 工作成效, 任务完成情况 (document/tasks.py)
        add_published_figures(docs[code], tables, code, lang)  # ◆ figures of the press release (pages/published.py)
        apply_judgement(docs[code], tables, code, lang)  # 问题与建议 and cover names the team owns (document/judgement.py)
        if lang != "zh":  # the same judgement file in English (document/english.py)
            apply_judgement_en(docs[code], tables, code)
    t_build = time.monotonic()
    fonts = None
    if "pdf" in formats:
        from helpers.pages.document.fonts import base_charset, document_chars, truetype_fonts
        from helpers.pages.document.pdf import cjk_font_files

        chars = base_charset(tables.plan, tables.geos)
        for d in docs.values():
            chars |= document_chars(d)
        fonts = truetype_fonts(cjk_font_files(), chars, Path(font_cache) if font_cache else default_font_cache(settings))
    tasks = [(d, fmt, out / document_name(tables.geos.get(code), lang, fmt, tables.final), fonts)
             for code, d in docs.items() for fmt in formats]
    written = _write_all(tasks, workers)
    (out / ".stamp").write_text(stamp + "\n" + "\n".join(p.name for p in written), encoding="utf-8")
    log.info("documents written", extra={"event": "documents", "files": len(written),
                                         "seconds_build": round(t_build - t0, 2),
                                         "seconds": round(time.monotonic() - t0, 2)})
    return written


def default_font_cache(settings) -> Path:
    """``$XDG_CACHE_HOME/ipeval/fonts`` (else ``~/.cache/ipeval/fonts``): the cut fonts depend only
    on the font files and the characters, so every project and test run on a machine shares them;
    ``outputs/.cache/fonts`` where the user cache cannot be written."""
    import os

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ipeval" / "fonts"
    try:
        base.mkdir(parents=True, exist_ok=True)
        if os.access(base, os.W_OK):
            return base
    except OSError:
        pass
    return settings.outputs_path / ".cache" / "fonts"


def _stamp(run_dir: Path, codes, formats, lang: str) -> str:
    """What the documents depend on: the run's tables, the code, and what was asked for."""
    import hashlib

    from helpers.model.assess import code_hash

    h = hashlib.sha256()
    for name in ("assessments.csv", "validated_data.csv", "bands.csv", "task_status.csv",
                 "params/judgement.yaml"):  # the team's 问题与建议 (an edit alone rewrites the reports)
        p = run_dir / name
        h.update(p.read_bytes() if p.is_file() else b"-")
    for name in ("charts",):  # pictures from the charts stage, by name and size
        for p in sorted((run_dir / name).glob("*/*.png")) if (run_dir / name).is_dir() else []:
            h.update(f"{p.parent.name}/{p.name}:{p.stat().st_size}".encode())
    h.update(f"{code_hash()}|{','.join(codes)}|{','.join(formats)}|{lang}".encode())
    return h.hexdigest()


def _reuse(prev: Path, out: Path, stamp: str) -> list[Path]:
    """Copy the previous run's documents into ``out`` if their stamp matches; [] otherwise."""
    from helpers.files import copy_verified, recorded_checksums

    f = prev / ".stamp"
    if not f.is_file():
        return []
    lines = f.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != stamp or not all((prev / n).is_file() for n in lines[1:]):
        return []
    out.mkdir(parents=True, exist_ok=True)
    done = []
    recorded = recorded_checksums(prev.parent)  # the checksums the previous run's manifest holds
    for n in lines[1:]:
        # a verified copy, never a hard link: editing one run's document must not change another
        # run's, and a damaged one is written again, not republished
        if not copy_verified(prev, n, out, {k[len("documents/"):]: v for k, v in recorded.items()
                                            if k.startswith("documents/")}):
            for d in done:
                d.unlink(missing_ok=True)
            return []
        done.append(out / n)
    (out / ".stamp").write_text("\n".join(lines), encoding="utf-8")
    return done


def _write_one(task) -> Path:
    doc, fmt, path, fonts = task
    if fmt == "docx":
        from helpers.pages.document.word import write_docx

        return write_docx(doc, path)
    from helpers.pages.document.pdf import write_pdf

    return write_pdf(doc, path, fonts)


def _write_all(tasks: list, workers: int) -> list[Path]:
    """Lay out every (document, format) task, in ``workers`` processes when more than one.

    Spawned processes, not forked: this runs inside ``ipeval run`` after the notebook threads,
    and forking a process with threads can copy a held lock. The largest documents (most
    blocks) go first so the processes finish together.
    """
    if workers <= 1 or len(tasks) < 3:
        return [_write_one(t) for t in tasks]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(range(len(tasks)), key=lambda k: -len(tasks[k][0].blocks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = dict(zip(order, pool.map(_write_one, [tasks[k] for k in order])))
    return [done[k] for k in range(len(tasks))]


def charted_indicators(tables, geo) -> list:
    """The indicators a geography's report charts: the targets it is judged on (a district's
    contribution to a city-wide target is shown in the tables, not charted against the city's line)."""
    from helpers.pages.document.narrative import verdict

    judged = {r["indicator_id"] for r in tables.records.get(geo.code, []) if verdict(r) is not None}
    return [i for i in tables.plan.indicators if i.id in judged]
