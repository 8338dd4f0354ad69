"""Benchmark: the Word and PDF reports of every geography of a published quarter.

Needs a published run (``ipeval run --quarter 2025Q4``; its assessments cover all 14 geographies even
with ``--sections``). Prints the time to build the content, to draw the charts that the run's
charts stage did not, and to write 14 .docx + 14 .pdf with 1 and 2 processes (charts already drawn,
fonts already cut). Goal (issue 13): the documents add no more than about 10 s to a run on 2 cores.
With ``--phases``, instead, the CPU of each phase in a fresh process, in the order of the run's side
process: the workbook, the documents' content, the 14 PDFs, the 14 .docx (issue 19;
``python benchmarks/bench_documents.py 2025Q2 --phases``).
Figures only, no assertions.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from helpers.pages.document import write_documents
from helpers.run.publish import published_dir
from helpers.settings import load_settings


def main(quarter: str = "2025Q4", *flags: str) -> None:
    s = load_settings()
    run = published_dir(s.outputs_path, quarter)
    if run is None:
        sys.exit(f"no published run of {quarter}: run `ipeval run --quarter {quarter}` first")
    if "--phases" in flags:  # before anything else in this process: nothing measured or kept yet
        phases(s, run)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "documents"
        t, c = time.perf_counter(), time.process_time()
        write_documents(s, run, formats=(), out_dir=out)  # content and charts only
        print(f"content + charts (cold): {time.perf_counter() - t:.1f} s wall, {time.process_time() - c:.1f} s CPU")
        for workers in (1, 2):
            t, c = time.perf_counter(), time.process_time()
            files = write_documents(s, run, out_dir=out, workers=workers)
            print(f"{len(files)} files, {workers} process(es): {time.perf_counter() - t:.1f} s wall "
                  f"({time.process_time() - c:.1f} s CPU in this process)")


def phases(s, run: Path) -> None:
    """CPU seconds of the workbook, the content, the PDFs and the .docx, written into a temporary folder."""
    import helpers.pages.document as documents
    from helpers.pages.document.fonts import base_charset, document_chars, truetype_fonts
    from helpers.pages.document.pdf import cjk_font_files, write_pdf
    from helpers.pages.document.source import document_inputs
    from helpers.pages.document.word import write_docx
    from helpers.pages.workbook import write_workbook_from_input

    with tempfile.TemporaryDirectory() as tmp:
        out, cpu = Path(tmp), {}
        c = time.process_time()
        tables, inputs = document_inputs(s, run, None, "zh")
        write_workbook_from_input(out / "assessments.xlsx", inputs[tables.geos.city.code], run)
        cpu["workbook"] = time.process_time() - c
        c = time.process_time()
        docs = documents._build_all(tables, inputs, "zh", out / "charts")
        cpu["content"] = time.process_time() - c
        chars = base_charset(tables.plan, tables.geos)
        for d in docs.values():
            chars |= document_chars(d)
        fonts = truetype_fonts(cjk_font_files(), chars, documents.default_font_cache(s))
        for fmt, write in (("pdf", lambda d, p: write_pdf(d, p, fonts)), ("docx", write_docx)):
            c = time.process_time()
            for code, d in docs.items():
                write(d, out / f"{code}.{fmt}")
            cpu[f"{len(docs)} {fmt}"] = time.process_time() - c
        print("CPU s: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))


if __name__ == "__main__":
    main(*sys.argv[1:])
