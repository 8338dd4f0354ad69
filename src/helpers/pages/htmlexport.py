"""nbconvert's HTML exporter without its BeautifulSoup pass: the same page, made for a fifth of the cost.

``nbconvert.HTMLExporter.from_notebook_node`` renders the template, then parses the whole page
with BeautifulSoup and prints it again, only to add ``tabindex="0"`` to each cell's input and
output (keyboard focus) and a placeholder ``alt`` to images without one. On a report page with
its inline SVG charts that pass cost more than the template itself: about 35 ms of a report
page's 86 ms and 72 ms of an audit page's 109 ms (measured 2026-12-06 on this project's 2-core
machine, ``python -X importtime``-warm, CPU time), about 12 CPU seconds a quarter, all in the run's
one parent process. :class:`PageExporter` renders the same template and makes the same two
changes on the tags themselves (:func:`accessible`), outside ``<script>``, ``<style>`` and
comments as the parser would; the page a browser builds from it is the same element for element
(``tests/test_htmlexport.py`` parses both with html5lib and compares them). Code highlighting
and nbconvert's HTML cleaning (bleach) are remembered by their input, as a section's pages repeat
the same cells: with both, exporting a report's two pages costs 35 ms of CPU instead of 195 ms.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.strings import clean_html
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import validator

#: nbconvert's text for an image without alternative text (``HTMLExporter.from_notebook_node``)
NO_ALT = "No description has been provided for this image"


def _element(name: str) -> str:
    """``<name ...>...</name>``, up to the first closing tag: what ``<name\\b.*?</name\\s*>`` (re.S) matches,
    written so that the engine jumps from one ``<`` to the next instead of trying the closing tag at every
    character (the page's 240 KB stylesheet: 1.9 -> 0.15 ms a page, 2026-12-06)."""
    return rf"<{name}\b[^<]*(?:<(?!/{name}\s*>)[^<]*)*</{name}\s*>"


# what the HTML parser would not read as tags (scripts, styles, comments) is copied unchanged, and
# preformatted text keeps its whitespace
_RAW = re.compile("|".join([_element("script"), _element("style"), r"<!--[^-]*(?:-(?!->)[^-]*)*-->",
                            _element("pre"), _element("textarea")]), re.I)
_WHITE = " \t\n\r\f"
# whitespace between two tags, with a newline in it and without (a literal ">" first: the engine jumps to it)
_BETWEEN_NEWLINE = re.compile(r">[ \t\r\f]*\n[ \t\n\r\f]*<")
_BETWEEN_SPACES = re.compile(r">[ \t\r\f]+<")
_ATTR = r"""(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)"""
_TAG = re.compile(rf"<(img|div)({_ATTR}*)\s*(/?)>", re.I)
_CLASS = re.compile(r"""\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_TABINDEX = re.compile(r"""\stabindex\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+)""", re.I)
_ALT = re.compile(r"\salt(?:\s*=|\s|$)", re.I)
_FOCUSABLE = {"jp-Cell-inputWrapper", "jp-OutputArea-output"}


def _tag(m: re.Match) -> str:
    name, attrs, slash = m.group(1), m.group(2), m.group(3)
    if name.lower() == "img":
        if _ALT.search(attrs):
            return m.group(0)
        return f'<{name}{attrs} alt="{NO_ALT}"{slash and " /"}>'
    c = _CLASS.search(attrs)
    classes = set(next(g for g in c.groups() if g is not None).split()) if c else set()
    if not classes & _FOCUSABLE:
        return m.group(0)
    attrs = _TABINDEX.sub("", attrs)
    return f'<{name}{attrs} tabindex="0"{slash and " /"}>'


def _text(segment: str) -> str:
    """Tags marked (:func:`_tag`) and whitespace-only text between tags made one newline or space, as
    BeautifulSoup prints it (a third of a megabyte over a quarter's pages, invisible: HTML collapses it)."""
    return _blank(_TAG.sub(_tag, segment))


def _blank(segment: str) -> str:
    """Each run of whitespace that starts the segment or follows a tag, and ends it or precedes a tag, made
    ``"\\n"`` if it holds a newline, else ``" "``: the substitution ``(?:^|(?<=>))[ \\t\\n\\r\\f]+(?=<|$)`` does,
    with fixed replacements the engine makes itself (no Python call per run: 0.9 -> 0.3 ms a page)."""
    segment = _BETWEEN_SPACES.sub("> <", _BETWEEN_NEWLINE.sub(">\n<", segment))
    rest = segment.lstrip(_WHITE)
    if len(rest) < len(segment) and (not rest or rest[0] == "<"):  # a run that starts the segment
        segment = ("\n" if "\n" in segment[:len(segment) - len(rest)] else " ") + rest
    rest = segment.rstrip(_WHITE)
    if len(rest) < len(segment) and rest.endswith(">"):  # a run that ends the segment, after a tag
        segment = rest + ("\n" if "\n" in segment[len(rest):] else " ")
    return segment


def accessible(html: str) -> str:
    """``html`` with ``tabindex="0"`` on every cell input and output ``div`` and an ``alt`` on every
    ``img`` lacking one, as nbconvert's HTML exporter adds them, outside scripts, styles and comments;
    whitespace between tags as BeautifulSoup leaves it (kept as it is in ``<pre>`` and ``<textarea>``).

    Parameters
    ----------
    html : str
        A page rendered by an nbconvert HTML template.

    Returns
    -------
    str
    """
    out, pos = [], 0
    for m in _RAW.finditer(html):
        out.append(_text(html[pos:m.start()]))
        out.append(_TAG.sub(_tag, m.group(0)) if m.group(0)[:4].lower() in ("<pre", "<tex") else m.group(0))
        pos = m.end()
    out.append(_text(html[pos:]))
    return "".join(out)


@lru_cache(maxsize=2048)
def _clean_html(text: str) -> str:
    return clean_html(text)


def cached_clean_html(element) -> str:
    """nbconvert's ``clean_html`` filter (bleach), remembered by its input: the 14 pages of a section
    repeat the same code and Markdown cells (about 10 ms of CPU a page, 2026-12-06)."""
    return _clean_html(element.decode() if isinstance(element, bytes) else str(element))


_HIGHLIGHTED: dict = {}
_MARKDOWN: dict = {}  # PageExporter.markdown2html's results by their inputs


def _cached_highlight(highlight, lexer):
    """``highlight`` (a ``Highlight2HTML``) remembered by what its output depends on: the source,
    the language (default: the notebook's lexer), the cell's ``magics_language`` and the formatter's options."""
    options = repr(sorted(highlight.extra_formatter_options.items()))

    def run(source, language=None, metadata=None):
        key = (lexer, options, source, language, (metadata or {}).get("magics_language"))
        if key not in _HIGHLIGHTED:
            if len(_HIGHLIGHTED) > 4096:
                _HIGHLIGHTED.clear()
            _HIGHLIGHTED[key] = highlight(source, language=language, metadata=metadata)
        return _HIGHLIGHTED[key]

    return run


class PageExporter(HTMLExporter):
    """``HTMLExporter`` whose last step is :func:`accessible` instead of a BeautifulSoup round trip, and
    whose code highlighting and HTML cleaning remember their results across pages."""

    def default_filters(self):
        yield from super().default_filters()
        yield ("clean_html", cached_clean_html)

    @pass_context
    def markdown2html(self, context, source):
        """``HTMLExporter.markdown2html`` (mistune), remembered by everything its HTML depends on: the source,
        the notebook's folder and the exporter's settings. A section's pages repeat
        the same Markdown cells, and the report and audit pages of one notebook render them both: 1.2 ms of
        a report's two pages (2026-12-06). Not remembered: a cell with attachments (its pictures would be kept
        in the key) and pages that embed images (read from disk)."""
        if self.embed_images or context.get("cell", {}).get("attachments"):
            return super().markdown2html(context, source)
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = (source, path, self.anchor_link_text, self.exclude_anchor_links,
               repr(sorted(self.lexer_options.items())))
        html = _MARKDOWN.get(key)
        if html is None:
            html = super().markdown2html(context, source)
            if len(_MARKDOWN) > 4096:
                _MARKDOWN.clear()
            _MARKDOWN[key] = html
        return html

    def _preprocess(self, nb, resources):
        # nbconvert's Exporter._preprocess, minus two costs that change nothing in the page: it deep-copies
        # the notebook that Exporter.from_notebook_node has just deep-copied, and it validates the whole
        # notebook against the schema after each of its 13 preprocessors (most of them disabled). Here the
        # copy is the caller's and the notebook is validated once, after the last one (nbconvert's own
        # ``optimistic_validation``). Measured 2026-12-06, 39 reports' two pages, CPU: 127 -> 77 ms a report.
        resc = copy.deepcopy(resources)
        _, nbc = validator.normalize(nb)
        for preprocessor in self._preprocessors:
            nbc, resc = preprocessor(nbc, resc)
        self._validate_preprocessor(nbc, preprocessor)
        return nbc, resc

    def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[override]
        # HTMLExporter.from_notebook_node (nbconvert 7) up to its BeautifulSoup pass
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code", None) or _cached_highlight(
            Highlight2HTML(pygments_lexer=lexer, parent=self), lexer)
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return accessible(html), resources
