"""Fonts for the PDF: the CJK OpenType faces, cut to the characters the reports use, as TrueType.

Noto Serif/Sans CJK SC are CFF-flavoured OpenType files of 65,000 glyphs. Subsetting CFF
outlines for every PDF costs about 2.5 s a document (fontTools re-executes every charstring);
subsetting TrueType outlines costs a fifth of that. So once per character set the two faces are
cut to the characters the reports can contain (every text of the registry, the geographies and
:mod:`helpers.i18n`, ASCII, and whatever else this run's documents hold) and converted to
TrueType outlines (quadratic curves, 1 font unit tolerance), then cached under
``outputs/.cache/fonts/``. Each PDF still embeds only the glyphs it uses.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from pathlib import Path

from helpers.cache import Key, Store

log = logging.getLogger("ipeval")

CONVERTER_VERSION = "1"  # bump when the conversion below changes, so cached fonts are rebuilt
EXTRA = "·…—–“”‘’（）《》〔〕【】、，。；：！？％＋－×≥≤≈°·\u3000"


def base_charset(plan, geos) -> set:
    """Every character a report can contain without data: texts, registry, geographies, ASCII."""
    from helpers import i18n

    chars = set(chr(c) for c in range(32, 127)) | set(EXTRA)
    for table in (i18n.TEXTS, i18n.DOCUMENT_TEXTS, i18n.STATUS_NAMES, i18n.SDG_NAMES, i18n.DECIDED_BY):
        for lang in table.values():
            for text in lang.values():
                chars |= set(str(text))
    for p in (plan.path, geos.path):
        chars |= set(Path(p).read_text(encoding="utf-8"))
    return {c for c in chars if _drawn(c)}


def document_chars(doc) -> set:
    """The characters of one :class:`~.blocks.Document` (every text it lays out)."""
    from helpers.pages.document.blocks import Cover, Heading, Image, Para, Table, Toc

    out = set(doc.header) | set(doc.title)
    for b in doc.blocks:
        if isinstance(b, (Heading, Para)):
            out |= set(b.text)
        elif isinstance(b, Table):
            out |= set(b.caption) | set("".join(map(str, b.header)))
            for r in b.rows:
                out |= set("".join(map(str, r)))
        elif isinstance(b, Image):
            out |= set(b.caption)
        elif isinstance(b, Cover):
            out |= set(b.title + b.subtitle + b.warning + "".join(b.lines))
        elif isinstance(b, Toc):
            out |= set(b.title)
    return {c for c in out if _drawn(c)}


def _drawn(c: str) -> bool:
    """A character with a glyph (not a control or format character; spaces count)."""
    return not unicodedata.category(c).startswith("C")


def truetype_fonts(sources: dict, chars: set, cache_dir: Path) -> dict:
    """``{name: path}`` of TrueType cuts of ``sources`` holding ``chars``, built once and cached.

    Falls back to the OpenType files themselves (slower to embed, same result) if the conversion fails.
    """
    text = "".join(sorted(chars))
    out = {}
    for name, src in sources.items():
        src = Path(src)
        # the font by its bytes, not its name and size (0.1 s for both faces, once per documents
        # step that writes PDFs): a reinstalled font of the same size is cut again
        key = Key("font").text("converter", CONVERTER_VERSION).file("source", src).text("chars", text).hexdigest()
        store = Store(cache_dir)
        hit = store.lookup(key, ["ttf"])  # verified: a truncated or edited cut is made again
        path = hit["ttf"] if hit else store.path(key, "ttf")
        if not hit:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                _cut_to_truetype(src, text, tmp)
                store.put(key, {"ttf": tmp})  # renamed into place, then sealed: a parallel writer never reads half a font
            except Exception as exc:  # noqa: BLE001 - a slower PDF beats no PDF
                log.warning("font conversion failed (%s); embedding %s directly", exc, src.name)
                path = src
        out[name] = path
    return out


def _cut_to_truetype(src: Path, text: str, dest: Path) -> None:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(src))
    opts = subset.Options(notdef_outline=True, recommended_glyphs=True, desubroutinize=True,
                          layout_features=[], name_IDs=["*"], name_languages=["*"])
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "VORG", "BASE"]
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for g in order:
        pen = TTGlyphPen(glyph_set)
        # cubic to quadratic within 1 unit of the 1000-unit em; CFF winds the other way round
        glyph_set[g].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[g] = pen.glyph()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(dest))
