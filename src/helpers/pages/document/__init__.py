"""The assessment report (评估报告) as Word and PDF, one per geography, from a finished run.

:func:`write_documents` is what ``ipeval run`` (the documents step) and ``ipeval report`` call.
The content is built once per geography (:mod:`.content`, sentences from :mod:`.narrative`), then
laid out by :mod:`.word` and :mod:`.pdf`; charts come from :mod:`.charts`. See docs/documents.md.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from helpers.cache import Key, copy_all_verified, read_stamp, write_stamp

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
    from helpers.i18n import et

    chosen = tuple(f.strip().lower() for f in (text or ",".join(FORMATS)).split(",") if f.strip())
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise ConfigError(et("document_formats", formats=", ".join(FORMATS), text=repr(text)))
    return chosen


def write_documents(settings, run_dir: str | Path, *, geographies=None, formats=FORMATS, lang: str = "zh",
                    out_dir: str | Path | None = None, font_cache: str | Path | None = None,
                    workers: int = 1, reuse_from: str | Path | None = None) -> list[Path]:
    """Write the report of each geography of a finished run as .docx and/or .pdf.

    Parameters
    ----------
    settings : Settings
        The caller's: where the fonts are cached, and the project folder the run's inputs name paths
        under. What the documents say comes from each geography's overview report input
        (``<run_dir>/inputs/overview/<code>.json``: the run's settings, tables and provenance).
    run_dir : path
        A run folder (published ``outputs/<quarter>`` or a staging folder) with its tables
        (``assessments.csv``, ``validated_data.csv``, ``bands.csv``) and overview inputs.
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
    from helpers.pages.document.source import document_inputs

    t0 = time.monotonic()
    # each geography's overview report input: its tables verified, the run's settings (pages/document/source.py)
    tables, inputs = document_inputs(settings, run_dir, geographies, lang)
    out = Path(out_dir) if out_dir else Path(run_dir) / "documents"
    codes = list(inputs)
    stamp = _stamp(Path(run_dir), codes, formats, lang, settings)
    if reuse_from is not None:
        reused = _reuse(Path(reuse_from) / "documents", out, stamp)
        if reused:
            return reused
    docs = _build_all(tables, inputs, lang, out)
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
    write_stamp(out / ".stamp", stamp, [p.name for p in written])
    log.info("documents written", extra={"event": "documents", "files": len(written),
                                         "seconds_build": round(t_build - t0, 2),
                                         "seconds": round(time.monotonic() - t0, 2)})
    return written


def _build_all(tables, inputs: dict, lang: str, out: Path) -> dict:
    """Each geography's document (blocks), from the tables its overview input names."""
    from helpers.pages.document.charts import chart_images, run_charts
    from helpers.pages.document.content import build_document
    from helpers.pages.document.english import apply_judgement_en
    from helpers.pages.document.judgement import apply_judgement
    from helpers.pages.document.tasks import add_task_chapters
    from helpers.pages.published import add_published_figures

    existing = run_charts(tables.run_dir)
    docs = {}
    for code, inp in inputs.items():
        geo = tables.geos.get(inp.geography)
        charts = chart_images(tables, geo, charted_indicators(tables, geo), lang, out / "charts", existing)
        docs[code] = build_document(tables, geo.code, lang, charts)
        add_task_chapters(docs[code], tables, code, lang)  # 工作成效, 任务完成情况 (document/tasks.py)
        add_published_figures(docs[code], tables, code, lang)  # ◆ figures of the press release (pages/published.py)
        apply_judgement(docs[code], tables, code, lang)  # 问题与建议 and cover names the team owns (document/judgement.py)
        if lang != "zh":  # the same judgement file in English (document/english.py)
            apply_judgement_en(docs[code], tables, code)
    return docs


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


def _stamp(run_dir: Path, codes, formats, lang: str, settings=None) -> str:
    """What the documents depend on: the run's tables, its copies of the settings, registry,
    geographies and the team's judgement file (``params/``), its charts (``charts.json`` names each
    by content), the published figures, the backtest summary, the code, and what was asked for."""
    key = Key("documents").json("asked", [list(codes), list(formats), lang]).code()
    for name in ("assessments.csv", "validated_data.csv", "bands.csv", "task_status.csv", "charts/charts.json"):
        key.file(name, run_dir / name)
    key.tree("params", run_dir / "params")
    if settings is not None:
        key.tree("reference", settings.root / "data" / "reference")
        key.file("backtest", settings.outputs_path / "backtest" / "backtest_summary.csv")
    return key.hexdigest()


def _reuse(prev: Path, out: Path, stamp: str) -> list[Path]:
    """Copy the previous run's documents into ``out`` if their stamp matches; [] otherwise."""
    from helpers.files import recorded_checksums

    names = read_stamp(prev / ".stamp", stamp)
    if not names:
        return []
    recorded = recorded_checksums(prev.parent)  # the checksums the previous run's manifest holds
    # verified copies, never hard links: editing one run's document must not change another
    # run's, and a damaged one is written again, not republished
    if not copy_all_verified(prev, names, out, {k[len("documents/"):]: v for k, v in recorded.items()
                                                if k.startswith("documents/")}):
        return []
    write_stamp(out / ".stamp", stamp, names)
    return [out / n for n in names]


def _write_one(task) -> Path:
    doc, fmt, path, fonts = task
    if fmt == "docx":
        from helpers.pages.document.word import write_docx

        return write_docx(doc, path)
    from helpers.pages.document.pdf import write_pdf

    return write_pdf(doc, path, fonts)


def _write_all(tasks: list, workers: int) -> list[Path]:
    """Lay out every (document, format) task, in ``workers`` processes when more than one.

    This process is one of them: ``workers - 1`` more are forked when this process runs one thread (the
    run's side process), else spawned (each spawned one spends about 0.45 s CPU importing fpdf2 and
    python-docx before its first file): forking a process with threads can copy a held lock. They take the
    largest documents (most blocks) first, this process the smallest, from the other end, so they finish
    together; each has a second task queued so that it never waits for this one.
    """
    if workers <= 1 or len(tasks) < 3:
        return [_write_one(t) for t in tasks]
    import multiprocessing
    import threading
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    queue = deque(sorted(range(len(tasks)), key=lambda k: -len(tasks[k][0].blocks)))
    done: dict = {}
    running: dict = {}
    method = "fork" if threading.active_count() == 1 else "spawn"
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context(method)) as pool:
        while queue or running:
            while queue and len(running) < 2 * (workers - 1):
                k = queue.popleft()
                running[pool.submit(_write_one, tasks[k])] = k
            if queue:
                k = queue.pop()
                done[k] = _write_one(tasks[k])
            else:
                wait(list(running), return_when=FIRST_COMPLETED)
            for f in [f for f in running if f.done()]:
                done[running.pop(f)] = f.result()
    return [done[k] for k in range(len(tasks))]


def charted_indicators(tables, geo) -> list:
    """The indicators a geography's report charts: the targets it is judged on (a district's
    contribution to a city-wide target is shown in the tables, not charted against the city's line)."""
    from helpers.pages.document.narrative import verdict

    judged = {r["indicator_id"] for r in tables.records.get(geo.code, []) if verdict(r) is not None}
    return [i for i in tables.plan.indicators if i.id in judged]
