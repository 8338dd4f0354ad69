"""A page's stylesheet trimmed to the rules its elements can match."""

from helpers.pages.pagestyle import trim_css, trim_styles

CSS = """
/* licence */
:root { --jp-used: 1px; --jp-chain: var(--jp-used); --jp-unused: red; --jp-data: url(data:image/png;base64,AA;B) }
.jp-Cell { padding: var(--jp-chain); }
.jp-Widget .jp-Slider { color: var(--jp-unused); }
.jp-Cell:not(.jp-mod-active) { margin: 0 }
a, .jp-Toolbar { color: blue }
@media print { .jp-Cell { break-inside: avoid } .jp-Toolbar { display: none } }
@media screen { .jp-Toolbar { display: block } }
@keyframes spin { from { transform: rotate(0) } to { transform: rotate(1turn) } }
"""


def test_rules_of_absent_classes_go_and_used_properties_stay():
    out = trim_css(CSS, {"jp-Cell"})
    assert ".jp-Cell{padding:var(--jp-chain)}" in out
    assert ".jp-Cell:not(.jp-mod-active){margin:0}" in out  # a class inside :not() is not required
    assert "jp-Slider" not in out and "jp-Toolbar" not in out  # nothing on the page has these classes
    assert "a{color:blue}" in out  # element selectors are kept
    assert "--jp-used:1px" in out and "--jp-chain:var(--jp-used)" in out  # used, directly or through another
    assert "--jp-unused" not in out and "--jp-data" not in out
    assert "@media print{.jp-Cell{break-inside:avoid}}" in out and "@media screen" not in out
    assert "@keyframes" not in out and "licence" not in out


def test_only_large_style_blocks_are_trimmed():
    big = CSS + ".jp-Other { x: y }\n" * 600
    page = (f'<html><head><style type="text/css">{big}</style><style type="text/css">.mine {{ color: red }}</style>'
            '</head><body><div class="jp-Cell">x</div></body></html>')
    out = trim_styles(page)
    assert ".mine { color: red }" in out and "jp-Other" not in out and ".jp-Cell{" in out
    assert len(out) < len(page) / 10


def test_properties_defined_in_one_block_and_used_in_another_stay():
    theme = ":root { --jp-size: 14px; --jp-font: var(--jp-base); --jp-base: Noto; --jp-gone: 1 }\n" + ".jp-X{a:b}\n" * 900
    rules = ".jp-Cell { font-size: var(--jp-size); font-family: var(--jp-font) }\n" + ".jp-Y{a:b}\n" * 900
    page = (f'<style type="text/css">{theme}</style><style type="text/css">{rules}</style>'
            '<body><div class="jp-Cell">x</div></body>')
    out = trim_styles(page)
    assert "--jp-size:14px" in out and "--jp-font:var(--jp-base)" in out and "--jp-base:Noto" in out
    assert "--jp-gone" not in out and ".jp-Cell{font-size:var(--jp-size)" in out
