"""A report page's stylesheet trimmed to the rules the page uses.

nbconvert's ``lab`` template inlines JupyterLab's whole theme, 256 KB of CSS in every page: on a
report page of about 6 KB of text that was 37% of the page and, over a quarter's 224 pages, 54 MB
of the published quarter (measured 2026-12-06). :func:`trim_styles` keeps, in each large
``<style>`` block of a page, the rules whose selectors can match an element of the page (every
class a selector requires is a class of the page), the at-rules holding such rules, and the
custom properties (``--jp-…``) those rules use, directly or through other properties. What a
reader sees is unchanged: a rule that is dropped matched nothing on the page, which has no
script to add classes later.
"""

from __future__ import annotations

import re
from functools import lru_cache

LARGE = 8_000  # characters: smaller <style> blocks (the project's own, Pygments') are kept as they are
_STYLE = re.compile(r'(<style type="text/css">)(.*?)(</style>)', re.S)
_CLASS_ATTR = re.compile(r'class="([^"]*)"')
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_FUNCTIONAL = re.compile(r":(?:not|is|where|has|matches|-webkit-any|-moz-any)\((?:[^()]|\([^()]*\))*\)")
_SEL_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_VAR_REF = re.compile(r"var\(\s*(--[\w-]+)")


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses, brackets and quotes."""
    out, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _declaration(text: str) -> str:
    """``name: value`` as ``name:value`` (whitespace inside the value is kept)."""
    name, sep, value = text.strip().partition(":")
    return f"{name.strip()}:{value.strip()}" if sep else text.strip()


def _parse(css: str) -> list:
    """Rules as ``("rule", selectors, declarations)`` and ``("at", prelude, children or None, raw)``."""
    items: list[tuple] = []  # ('rule', selectors, declarations) or ('at', prelude, children, raw)
    i, n = 0, len(css)
    while i < n:
        j = css.find("{", i)
        semi = css.find(";", i)
        if j < 0:
            break
        if css[i:].lstrip().startswith("@") and 0 <= semi < j:  # @import / @charset: a statement
            items.append(("at", css[i:semi + 1].strip(), None, css[i:semi + 1].strip()))
            i = semi + 1
            continue
        prelude = css[i:j].strip()
        depth, k = 1, j + 1
        while k < n and depth:
            depth += {"{": 1, "}": -1}.get(css[k], 0)
            k += 1
        body = css[j + 1:k - 1]
        if prelude.startswith("@"):
            nested = prelude.startswith(("@media", "@supports", "@layer", "@container"))
            items.append(("at", prelude, _parse(body) if nested else None, f"{prelude}{{{body.strip()}}}"))
        else:
            decls = [_declaration(d) for d in _split_top(body, ";") if d.strip()]
            sels = [s.strip() for s in _split_top(prelude, ",") if s.strip()]
            items.append(("rule", sels, decls))
        i = k
    return items


@lru_cache(maxsize=8)
def _parsed(css: str) -> list:
    return _parse(_COMMENT.sub("", css))


@lru_cache(maxsize=4096)
def _required(selector: str) -> frozenset:
    """The classes an element must have for ``selector`` to match (classes inside :not() and the
    like are not required)."""
    return frozenset(_SEL_CLASS.findall(_FUNCTIONAL.sub("", selector)))


def _keep(items: list, classes: set) -> list:
    out: list[tuple] = []
    for it in items:
        if it[0] == "rule":
            sels = [s for s in it[1] if _required(s) <= classes]
            if sels:
                out.append(("rule", sels, it[2]))
        elif it[2] is None:
            if not it[1].startswith("@keyframes"):  # animations of widgets a report never shows
                out.append(it)
        else:
            inner = _keep(it[2], classes)
            if inner:
                out.append(("at", it[1], inner, ""))
    return out


def _walk(items: list):
    for it in items:
        if it[0] == "rule":
            yield it
        elif it[2] is not None:
            yield from _walk(it[2])


def _used_properties(items: list) -> set:
    """Custom properties used by the kept rules, directly or through other custom properties."""
    used = set()
    for it in _walk(items):
        for d in it[2]:
            if not d.startswith("--"):
                used.update(_VAR_REF.findall(d))
    return _closure(used, items)


def _closure(used: set, items: list) -> set:
    """``used`` and every custom property their definitions in ``items`` refer to, transitively."""
    defs: dict[str, list] = {}
    used = set(used)
    for it in _walk(items):
        for d in it[2]:
            if d.startswith("--"):
                name, _, value = d.partition(":")
                defs.setdefault(name.strip(), []).append(value)
    todo = list(used)
    while todo:
        for value in defs.get(todo.pop(), []):
            for ref in _VAR_REF.findall(value):
                if ref not in used:
                    used.add(ref)
                    todo.append(ref)
    return used


def _write(items: list, used: set) -> str:
    parts = []
    for it in items:
        if it[0] == "rule":
            decls = [d for d in it[2] if not d.startswith("--") or d.partition(":")[0].strip() in used]
            if decls:
                parts.append(",".join(it[1]) + "{" + ";".join(decls) + "}")
        elif it[2] is None:
            parts.append(it[3])
        else:
            inner = _write(it[2], used)
            if inner:
                parts.append(f"{it[1]}{{{inner}}}")
    return "\n".join(parts)


def trim_css(css: str, classes: set, used: set | None = None) -> str:
    """``css`` with only the rules that can match an element whose classes are among ``classes``.

    ``used``: the custom properties to keep (default: those the kept rules use); a page's
    stylesheets share their properties (JupyterLab's theme defines in one block what the
    other uses).
    """
    kept = _keep(_parsed(css), set(classes))
    return _write(kept, _used_properties(kept) if used is None else used)


def page_classes(page: str) -> set:
    """Every class named in a page's ``class`` attributes."""
    out = set()
    for value in _CLASS_ATTR.findall(page):
        out.update(value.split())
    return out


def trim_styles(page: str) -> str:
    """``page`` (an HTML document) with each large ``<style>`` block trimmed by :func:`trim_css`."""
    spans = _style_spans(page)
    blocks = tuple(page[a:b] for _, a, b, _ in spans if b - a >= LARGE)
    if not blocks:
        return page
    classes = page_classes(page)
    # a property a small block (kept whole) or an element's style uses stays too
    small = " ".join(page[a:b] for _, a, b, _ in spans if b - a < LARGE)
    outside = "".join(page[end:start] for end, start in zip([0] + [e for *_, e in spans], [s for s, *_ in spans] + [len(page)]))
    extra = set(_VAR_REF.findall(small)) | set(_VAR_REF.findall(outside))
    trimmed = iter(_trimmed_blocks(blocks, frozenset(classes), frozenset(extra)))
    out, pos = [], 0
    for _, a, b, _ in spans:
        out.append(page[pos:a])
        out.append(page[a:b] if b - a < LARGE else "\n" + next(trimmed) + "\n")
        pos = b
    out.append(page[pos:])
    return "".join(out)


_OPEN, _CLOSE = '<style type="text/css">', "</style>"


def _style_spans(page: str) -> list:
    """``(start, css start, css end, end)`` of each ``<style type="text/css">`` block, as :data:`_STYLE`
    finds them but with ``str.find`` (the lazy regex over a 300 KB page took 3 ms a pass)."""
    spans, pos = [], 0
    while (start := page.find(_OPEN, pos)) >= 0:
        a = start + len(_OPEN)
        b = page.find(_CLOSE, a)
        if b < 0:
            break
        spans.append((start, a, b, b + len(_CLOSE)))
        pos = b + len(_CLOSE)
    return spans


@lru_cache(maxsize=32)
def _trimmed_blocks(blocks: tuple, classes: frozenset, extra: frozenset) -> tuple:
    """The large blocks of a page trimmed to its classes; cached, as the pages of a run share their theme and
    most share their classes (a section's pages differ in numbers, not in markup): the trimming was
    15 ms of CPU a page, 3.4 s over a quarter's 224 pages (measured 2026-12-06)."""
    kept = [it for css in blocks for it in _keep(_parsed(css), set(classes))]
    used = _closure(_used_properties(kept) | set(extra), kept)
    return tuple(trim_css(css, set(classes), used) for css in blocks)
