"""The report pages' exporter makes the page nbconvert's HTMLExporter makes, without BeautifulSoup."""

from __future__ import annotations

import re

import nbformat
from nbconvert import HTMLExporter

from helpers.pages.htmlexport import NO_ALT, PageExporter, accessible


def _dom(html: str) -> list:
    """The page as a browser builds it (html5lib: the HTML5 parsing algorithm, nbconvert's bleach ships it):
    element, attributes (class as its tokens), text; whitespace outside ``<pre>`` collapsed, as it renders."""
    from bleach._vendor import html5lib

    doc = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    out: list = []

    def norm(text, pre):
        return (text or "") if pre else re.sub(r"\s+", " ", text or "").strip()

    def walk(e, pre=False):
        pre = pre or e.tag in ("pre", "textarea")
        attrs = {str(k): (" ".join(v.split()) if k == "class" else v) for k, v in e.attrib.items()}
        out.append((e.tag, sorted(attrs.items()), norm(e.text, pre), norm(e.tail, pre)))
        for c in e:
            walk(c, pre)

    walk(doc)
    return out


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    code = nbformat.v4.new_code_cell("x = 1  # <div class='jp-OutputArea-output'>\nprint(x)")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1\n  <b>kept</b>\n"),
        nbformat.v4.new_output("display_data", data={
            "text/html": '<div class="ipeval-x jp-OutputArea-output" tabindex="-1">t</div><img src="a.png">'
                         '<script>var s = "<div class=\\"jp-Cell-inputWrapper\\">";</script><!-- <img src=b> -->'}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": '<svg viewBox="0 0 10 10"><text>图</text></svg>'}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# 标题\n\n![pic](data:image/png;base64,iVBORw0KGgo=)"), code]
    return nb


def test_page_exporter_builds_the_same_page_as_nbconvert():
    for exclude_input in (False, True):  # the audit and the report variant
        nb = _notebook()
        ours, _ = PageExporter(exclude_input=exclude_input).from_notebook_node(nb)
        theirs, _ = HTMLExporter(exclude_input=exclude_input).from_notebook_node(nb)
        assert _dom(ours) == _dom(theirs)
        assert 'tabindex="0"' in ours


def test_accessible_marks_tags_only_outside_scripts_styles_and_comments():
    html = ('<div class="a jp-Cell-inputWrapper">i</div><div class=\'jp-OutputArea-output\' tabindex="2">o</div>'
            '<div class="jp-OutputArea-outputX">n</div><img src="p.png"/><img alt="" src="q.png">'
            '<script>"<div class=\\"jp-OutputArea-output\\">"</script><style>.x{}</style><!-- <img src=c> -->')
    out = accessible(html)
    assert out.count('tabindex="0"') == 2 and 'tabindex="2"' not in out
    assert '<div class="jp-OutputArea-outputX">' in out  # a class token, not a prefix
    assert f'<img src="p.png" alt="{NO_ALT}" />' in out and '<img alt="" src="q.png">' in out
    assert '<script>"<div class=\\"jp-OutputArea-output\\">"</script>' in out and "<!-- <img src=c> -->" in out


def test_whitespace_between_tags_is_shortened_as_beautifulsoup_does_except_in_preformatted_text():
    html = '<div>\n\n  <p>a  b</p>  </div><pre>\n\n <b>x</b>\n</pre>\t<textarea>  </textarea>'
    assert accessible(html) == '<div>\n<p>a  b</p> </div><pre>\n\n <b>x</b>\n</pre> <textarea>  </textarea>'


#: the first, plainer forms of the scanning patterns (lazy ``.*?``, a lookbehind and a Python call per run)
_OLD_RAW = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<pre\b.*?</pre\s*>"
                      r"|<textarea\b.*?</textarea\s*>", re.S | re.I)
_OLD_BLANK = re.compile(r"(?:^|(?<=>))[ \t\n\r\f]+(?=<|$)")


def test_the_faster_scanning_patterns_find_what_the_plain_ones_do():
    """Raw elements and whitespace runs found as by the plain patterns, on random mixes of the pieces that
    matter (unclosed, nested and upper-case elements, comments with dashes, runs at the ends)."""
    import random

    from helpers.pages import htmlexport

    pieces = ["<script>", "</script>", "</SCRIPT >", "<style a='1'>", "</style>", "<pre>", "</pre>", "<textarea>",
              "</textarea>", "<!--", "-->", "-", "--", "->", "<div class='jp-OutputArea-output'>", "</div>", "<img>",
              "<b>", "</b>", "<", ">", "x", "图", " ", "  ", "\n", "\t", " \n ", "\r\f", "<scripts>", "</style x>"]
    rng = random.Random(19)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert [m.span() for m in htmlexport._RAW.finditer(text)] == [m.span() for m in _OLD_RAW.finditer(text)], text
        old = _OLD_BLANK.sub(lambda m: "\n" if "\n" in m.group(0) else " ", text)
        assert htmlexport._blank(text) == old, repr(text)


def test_markdown_is_rendered_once_per_input_and_cells_with_attachments_each_time(monkeypatch):
    from helpers.pages import htmlexport

    htmlexport._MARKDOWN.clear()
    rendered = []
    real = HTMLExporter.markdown2html
    monkeypatch.setattr(HTMLExporter, "markdown2html", lambda self, context, source: rendered.append(source)
                        or real(self, context, source))
    nb = nbformat.v4.new_notebook()
    same = "![图](attachment:p.png)"
    nb.cells = [nbformat.v4.new_markdown_cell("# 标题"),
                nbformat.v4.new_markdown_cell(same, attachments={"p.png": {"image/png": "QUFB"}}),
                nbformat.v4.new_markdown_cell(same, attachments={"p.png": {"image/png": "QkJC"}}),
                nbformat.v4.new_markdown_cell("# 标题")]
    first, _ = PageExporter().from_notebook_node(nb)
    assert rendered == ["# 标题", same, same]  # the repeated heading once; each cell with attachments
    assert "data:image/png;base64,QUFB" in first and "data:image/png;base64,QkJC" in first
    second, _ = PageExporter().from_notebook_node(nb)
    assert second == first and rendered == ["# 标题", same, same, same, same]  # the heading from memory
    monkeypatch.setattr(HTMLExporter, "markdown2html", real)
    assert _dom(first) == _dom(HTMLExporter().from_notebook_node(nb)[0])
