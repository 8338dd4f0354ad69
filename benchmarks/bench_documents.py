"""Benchmark: the Word and PDF reports of every geography of a published quarter.

Needs a published run (``ipeval run --quarter 2025Q4``; its assessments cover all 14 geographies even
with ``--sections``). Prints the time to build the content, to draw the charts that the run's
charts stage did not, and to write 14 .docx + 14 .pdf with 1 and 2 processes (charts already drawn,
fonts already cut). Goal (issue 13): the documents add no more than about 10 s to a run on 2 cores.
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


def main(quarter: str = "2025Q4") -> None:
    s = load_settings()
    run = published_dir(s.outputs_path, quarter)
    if run is None:
        sys.exit(f"no published run of {quarter}: run `ipeval run --quarter {quarter}` first")
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


if __name__ == "__main__":
    main(*sys.argv[1:])
