"""Compare two published run folders as a reader would: does a speed change leave the outputs the same?

Prints what differs; asserts nothing.

    python benchmarks/compare_runs.py outputs_a/2025Q4 outputs_b/2025Q4

What two runs of the same inputs always differ in is normalised first: the run id, times and dates,
papermill's random cell ids, and 64-hex keys (chart cache keys hold the drawing code's hash, so a change to
it renames the pictures, not their bytes). Then: every file byte for byte; .docx/.xlsx/.zip part by part;
notebooks by their cells' sources and outputs; report inputs without their run id; PDFs by their text
(``pdftotext``) and by their pages rendered at 30 dpi (``pdftoppm``), reporting the box of any differing
pixels (a run id and time on one line is a box a few pixels high). The logs and the manifest are not
compared (times, durations), but the manifest's documents step, stage and counts are.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

RUN_ID = re.compile(rb"\d{8}T\d{6}Z-[0-9a-f]{6}")
TIMES = [re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?"),
         re.compile(r"\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}(:\d{2})?".encode()),
         re.compile(rb"UTC \d{2}:\d{2}")]
HEX64 = re.compile(rb"[0-9a-f]{64}")
CELL_ID = re.compile(rb'(cell-id=|"id": ")[0-9a-f]{8}')
SKIP = ("run.log.jsonl", "kernels.log", "manifest.json")


def norm(b: bytes) -> bytes:
    b = RUN_ID.sub(b"RUNID", b)
    for t in TIMES:
        b = t.sub(b"TIME", b)
    return CELL_ID.sub(rb"\1CELLID", HEX64.sub(b"HASH", b))


def _cells(raw: bytes) -> list:
    nb = json.loads(raw)
    return [(c.get("source"), [{k: v for k, v in o.items() if k != "execution_count"} for o in c.get("outputs", [])])
            for c in nb["cells"]]


def _input(raw: bytes) -> str:
    d = json.loads(raw)
    for k in ("run_id", "started"):
        d.get("provenance", {}).pop(k, None)
    return json.dumps(d, sort_keys=True)


def same_file(rel: str, a: bytes, b: bytes) -> bool:
    if a == b:
        return True
    ext = rel.rsplit(".", 1)[-1]
    if ext in ("docx", "xlsx", "zip"):
        za, zb = zipfile.ZipFile(io.BytesIO(a)), zipfile.ZipFile(io.BytesIO(b))
        return set(za.namelist()) == set(zb.namelist()) and all(
            norm(za.read(n)) == norm(zb.read(n)) for n in za.namelist())
    if ext == "ipynb" and _cells(norm(a)) == _cells(norm(b)):
        return True
    if ext == "json" and rel.startswith("inputs/") and _input(a) == _input(b):
        return True
    return norm(a) == norm(b)


def compare_pdfs(a_dir: Path, b_dir: Path, names: list[str]) -> None:
    from PIL import Image, ImageChops

    text_differs, boxes, pages = [], [], 0
    for rel in names:
        ta, tb = (subprocess.run(["pdftotext", "-layout", str(d / rel), "-"], capture_output=True).stdout
                  for d in (a_dir, b_dir))
        if norm(ta) != norm(tb):
            text_differs.append(rel)
        with tempfile.TemporaryDirectory() as tmp:
            for tag, d in (("a", a_dir), ("b", b_dir)):
                subprocess.run(["pdftoppm", "-r", "30", "-gray", str(d / rel), f"{tmp}/{tag}"], check=True)
            pa, pb = sorted(Path(tmp).glob("a-*")), sorted(Path(tmp).glob("b-*"))
            pages += len(pa)
            if len(pa) != len(pb):
                text_differs.append(f"{rel} (pages {len(pa)} / {len(pb)})")
                continue
            for x, y in zip(pa, pb):
                box = ImageChops.difference(Image.open(x), Image.open(y)).getbbox()
                if box:
                    boxes.append((rel, x.name, box))
    print(f"PDF: {len(names)} files, {pages} pages; text differs in {len(text_differs)} {text_differs[:5]}")
    tall = [b for b in boxes if b[2][3] - b[2][1] > 6]
    print(f"PDF pages with differing pixels: {len(boxes)}; of them taller than one line (6 px at 30 dpi): "
          f"{len(tall)} {tall[:5]}")


def main(a_dir: Path, b_dir: Path) -> None:
    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    fa, fb = files(a_dir), files(b_dir)
    print(f"only in A: {len(fa - fb)} {sorted(fa - fb)[:5]}; only in B: {len(fb - fa)} {sorted(fb - fa)[:5]}")
    both = sorted(f for f in fa & fb if not f.endswith(SKIP))
    pdfs = [f for f in both if f.endswith(".pdf")]
    differ = [f for f in both if f not in pdfs and not same_file(f, (a_dir / f).read_bytes(), (b_dir / f).read_bytes())]
    print(f"files compared: {len(both) - len(pdfs)}, differing: {len(differ)} {differ[:8]}")
    ma, mb = (json.loads((d / "manifest.json").read_text(encoding="utf-8")) for d in (a_dir, b_dir))
    for k in ("documents", "assessment_stage", "city_counts"):
        va, vb = ma.get(k), mb.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            va, vb = ({x: y for x, y in v.items() if x != "seconds"} for v in (va, vb))
        print(f"manifest {k}: {'same' if va == vb else f'DIFFERS {va} / {vb}'}")
    compare_pdfs(a_dir, b_dir, pdfs)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
