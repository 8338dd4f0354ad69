"""The published HTML: offline-clean, the two report variants, the provenance footer, escaping,
and (marked ``browser``) rendering in headless Chromium with every network request blocked.

The session's published run (``published_run`` in conftest.py; its ``enforcement`` pages for Hangzhou and
Xihu are the ones checked here) is shared with tests/test_run.py."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest

QUARTER, SECTION, GEOS = "2025Q2", "enforcement", ("330100", "330106")
PLAN_TITLE = "杭州市国家知识产权保护示范区建设方案"
INDICATOR_NAME = "知识产权行政案件办理量"  # admin_cases
CHROMIUM = Path("/usr/bin/chromium")


# --------------------------------------------------------------------------- a small DOM from html.parser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None" = None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    @property
    def classes(self) -> set:
        return set((self.attrs.get("class") or "").split())

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list:
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class TreeBuilder(HTMLParser):
    """Elements with their (unescaped) attributes and text; the text of <style> elements stays raw CSS."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:  # a stray end tag is ignored, an unclosed child is closed with its parent
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(path_or_text) -> Node:
    text = path_or_text.read_text(encoding="utf-8") if isinstance(path_or_text, Path) else path_or_text
    b = TreeBuilder()
    b.feed(text)
    b.close()
    return b.root


# --------------------------------------------------------------------------- what counts as a fetch

FETCHING = {"script", "link", "img", "iframe", "source", "audio", "video", "embed", "object", "track", "input"}
URL_ATTRS = ("src", "href", "data", "poster")
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)]*?))\s*\)", re.I)
CSS_IMPORT = re.compile(r"@import\s+(?:url\(\s*)?[\"']?([^\"')\s;]+)", re.I)
JS_REMOTE = re.compile(r"[\"'`]((?:https?:)?//[^\"'`\s]+)", re.I)  # e.g. nbconvert's `await import("https://...mermaid...")`


def _remote(url: str) -> bool:
    u = url.strip().lower()
    return u.startswith(("http:", "https:", "//"))


def css_remote_urls(css: str) -> list:
    css = CSS_COMMENT.sub("", css)
    urls = [next(g for g in m.groups() if g is not None) for m in CSS_URL.finditer(css)]
    urls += CSS_IMPORT.findall(css)
    return [u for u in urls if _remote(u)]


def offline_problems(path: Path) -> list:
    """Every way ``path`` would fetch something from another host (empty when offline-clean)."""
    doc = parse(path)
    problems = []
    for n in doc.iter():
        if n.tag in FETCHING:
            for a in URL_ATTRS:
                if a in n.attrs and _remote(n.attrs[a]):
                    problems.append(f"<{n.tag} {a}={n.attrs[a][:120]!r}>")
            for part in (n.attrs.get("srcset") or "").split(","):
                if part.strip() and _remote(part.strip().split()[0]):
                    problems.append(f"<{n.tag} srcset={part.strip()[:120]!r}>")
        if n.tag == "script" and "src" not in n.attrs:
            problems += [f"<script> inline loads {u[:120]!r}" for u in JS_REMOTE.findall(n.text())
                         if not u.startswith("http://www.w3.org/")]  # namespace names are not fetched
        if n.tag == "style":
            problems += [f"<style> url {u[:120]!r}" for u in css_remote_urls(n.text())]
        if "style" in n.attrs:
            problems += [f"<{n.tag} style=> url {u[:120]!r}" for u in css_remote_urls(n.attrs["style"])]
        if n.tag == "meta" and n.attrs.get("http-equiv", "").lower() == "refresh" and "url=" in n.attrs.get("content", "").lower():
            problems.append(f"<meta refresh {n.attrs['content'][:120]!r}>")
    return problems


# --------------------------------------------------------------------------- the run

@pytest.fixture(scope="module")
def published(published_run):
    """The session's published run (conftest.PUBLISHED_RUN), which has SECTION x GEOS in QUARTER."""
    return published_run[0]


@pytest.fixture(scope="module")
def out(published) -> Path:
    return published / "outputs" / QUARTER


def _report(out: Path, code: str, variant: str) -> Path:
    return out / "reports" / SECTION / f"{code}.{variant}.html"


# --------------------------------------------------------------------------- 1. offline-clean

@pytest.mark.e2e
def test_every_page_is_offline_clean(out):
    pages = sorted(out.rglob("*.html"))
    expected = {out / "index.html"} | {_report(out, c, v) for c in GEOS for v in ("report", "audit")}
    assert expected <= set(pages), sorted(map(str, expected - set(pages)))
    problems = {str(p.relative_to(out)): offline_problems(p) for p in pages}
    assert not {k: v for k, v in problems.items() if v}, problems
    for page in pages:
        doc = parse(page)
        imgs = doc.find_all("img")
        for img in imgs:
            src = img.attrs.get("src", "")
            if src.startswith("data:"):
                assert src.startswith("data:image/") and len(src) > 100, (page.name, src[:80])
            else:
                parts = urlsplit(src)
                assert src and not parts.scheme and not parts.netloc and not src.startswith("/"), (page.name, src)
                assert (page.parent / unquote(parts.path)).is_file(), f"{page.name}: <img src={src!r}> is missing"
        if page.name.endswith(".report.html"):
            charts = [n for n in doc.iter() if n.tag == "svg"]
            assert len(charts) >= 3, f"{page.name}: the charts are missing"  # charts are inline, not linked
        if page.name.endswith(".audit.html"):  # the audit page links the report page's charts and charts.zip
            refs = [a.attrs.get("href", "") for a in doc.find_all("a") if a.attrs.get("href", "").endswith("charts.zip")]
            assert len(refs) >= 3 and all((page.parent / r).resolve().is_file() for r in refs), refs
    # links are navigation, not fetches; the index links only to files of the run
    index = parse(out / "index.html")
    hrefs = [a.attrs.get("href", "") for a in index.find_all("a")]
    assert hrefs and not [h for h in hrefs if _remote(h) or urlsplit(h).scheme], hrefs


def test_the_checker_finds_remote_fetches(tmp_path):
    """The checker itself: remote src/href/url()/@import/import() are caught, CSS comments and <a> links are not."""
    bad = """<html><head><link rel="stylesheet" href="https://cdn.example/x.css">
    <script src="//cdn.example/require.js"></script>
    <style>/* see https://example.org/ and url(https://in.comment/) */ body { background: url( "http://x.example/a.png" ) }
    @import 'https://fonts.example/css';</style></head>
    <body><img src="HTTPS://x.example/i.png"><div style="background:url(//x.example/b.png)"></div>
    <a href="https://example.org/">a link</a>
    <script type="module">const m = (await import("https://cdn.example/mermaid.mjs")).default;</script></body></html>"""
    p = tmp_path / "bad.html"
    p.write_text(bad, encoding="utf-8")
    problems = offline_problems(p)
    assert len(problems) == 7, problems
    assert not any("in.comment" in x or "example.org" in x for x in problems)
    p.write_text("<style>/* https://a.example */ a { color: red } .i { background: url(data:image/png;base64,AAAA) }"
                 "</style><a href='https://example.org'>x</a>", encoding="utf-8")
    assert offline_problems(p) == []


# --------------------------------------------------------------------------- 2. the two variants

def _code_cell_text(doc: Node, tag_class: str) -> str:
    cells = doc.find_all(cls=tag_class)
    return "\n".join(c.text() for c in cells)


@pytest.mark.e2e
@pytest.mark.parametrize("code", GEOS)
def test_report_has_no_code_and_audit_has_code_and_parameters(out, code):
    report_text = _report(out, code, "report").read_text(encoding="utf-8")
    report = parse(report_text)
    assert not report.find_all(cls="jp-InputArea")
    assert not report.find_all(cls="highlight")  # no syntax-highlighted source anywhere
    code_cells = report.find_all(cls="jp-CodeCell")
    assert code_cells and all("jp-mod-noInput" in c.classes for c in code_cells)
    assert "open_page" not in report_text
    for tag in ("celltag_parameters", "celltag_injected-parameters", "celltag_audit-only"):
        assert not report.find_all(cls=tag), tag
    assert "injected-parameters" not in report_text and "# Parameters" not in report_text
    assert INDICATOR_NAME in report.text()  # the outputs are all there

    audit_text = _report(out, code, "audit").read_text(encoding="utf-8")
    audit = parse(audit_text)
    assert "open_page" in audit_text
    assert audit.find_all(cls="jp-InputArea")
    # the run passes one parameter, the page's report input, which the published run holds
    injected = _code_cell_text(audit, "celltag_injected-parameters")
    assert f'report_input = "../../inputs/{SECTION}/{code}.json"' in injected
    assert "geography = " not in injected and "run_dir = " not in injected and "settings_path = " not in injected
    page_input = json.loads((out / "inputs" / SECTION / f"{code}.json").read_text(encoding="utf-8"))
    assert (page_input["geography"], page_input["quarter"], page_input["section"]) == (code, QUARTER, SECTION)
    defaults = _code_cell_text(audit, "celltag_parameters")
    assert 'section = "enforcement"' in defaults


# --------------------------------------------------------------------------- 3. provenance

@pytest.mark.e2e
@pytest.mark.parametrize("variant", ["report", "audit"])
def test_provenance_footer(out, variant):
    import json

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for code in GEOS:
        doc = parse(_report(out, code, variant))
        footers = doc.find_all("footer", cls="ipeval-provenance")
        assert len(footers) == 1
        dts = [n.text().strip() for n in footers[0].find_all("dt")]
        dds = [n.text().strip() for n in footers[0].find_all("dd")]
        prov = dict(zip(dts, dds))
        assert len(dts) == len(dds) == len(prov)
        # the Chinese reader's page labels its footer in Chinese and leaves the run's paths to the audit page
        run_key, git_key = ("运行编号", "代码版本") if variant == "report" else ("run_id", "git_commit")
        assert prov.get(run_key) == manifest["run_id"]
        assert git_key in prov and prov[git_key]
        shas = {k: v for k, v in prov.items() if re.fullmatch(r"[0-9a-f]{64}", v)}
        assert shas and any("demo_data.csv" in k for k in shas), prov
        if variant == "audit":
            assert f"geography={code}" in prov.get("parameters", "")
        else:
            assert "parameters" not in prov and not any("/" in v for v in prov.values()), prov


@pytest.mark.e2e
def test_every_chart_has_its_title_as_alternative_text(out):
    doc = parse(_report(out, "330106", "report"))
    figures = [n for n in doc.iter() if n.attrs.get("role") == "img"]
    assert len(figures) >= 3
    alts = [i.attrs.get("aria-label") or "" for i in figures]
    assert all(a and "No description" not in a for a in alts), alts
    assert any(INDICATOR_NAME in a for a in alts)  # the chart's Chinese title


# --------------------------------------------------------------------------- 4. escaping

def test_index_escapes_job_errors(tmp_path, plan, geos):
    from helpers.pages.report import render_index

    city, district = geos.city.code, "330106"
    rows = []
    for n, ind in enumerate(plan.indicators_in(SECTION)):
        for code in (city, district):
            if code == district and ind.city_only:
                continue
            rows.append(dict(indicator_id=ind.id, geography_code=code, name_zh=ind.name("zh"), name_en=ind.name("en"),
                             status=("on_track", "off_track", "achieved")[n % 3], probability=(0.9, 0.2, 1.0)[n % 3]))
    assessments = pd.DataFrame(rows)
    payload = "<script>alert(1)</script>"
    jobs = [
        dict(section=SECTION, geography_code=city, status="ok", error="", notebook=f"notebooks/{SECTION}/{city}.ipynb",
             report=f"reports/{SECTION}/{city}.report.html", audit=f"reports/{SECTION}/{city}.audit.html"),
        dict(section=SECTION, geography_code=district, status="failed", error=payload,
             notebook=f"notebooks/{SECTION}/{district}.ipynb", report=f"reports/{SECTION}/{district}.report.html",
             audit=f"reports/{SECTION}/{district}.audit.html"),
    ]
    path = render_index(tmp_path / "index.html", plan=plan, geos=geos, quarter=QUARTER, sections=[SECTION], jobs=jobs,
                        assessments=assessments, demo=True, lang="zh", downloads=[("assessments.csv", "assessments.csv")],
                        manifest={"run": "r1", "note": '<img src=x onerror="alert(2)">'})
    text = path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text
    assert "<img src=x" not in text and "&lt;img src=x" in text
    doc = parse(text)
    assert not doc.find_all("script") and not doc.find_all("img")
    # names are shown as they are, not mangled
    assert plan.title("zh") in doc.text() and PLAN_TITLE in text
    assert geos.get(district).name("zh") in doc.text()
    assert any(h.attrs.get("href") == f"reports/{SECTION}/{city}.report.html" for h in doc.find_all("a"))


def test_index_links_charts_zip_and_speaks_the_readers_words(tmp_path, plan, geos):
    """The downloads say what each file is, in Chinese, with its size (charts.zip among them, issue 16
    item 9); the final assessment's summary names no open status it has none of; the footer's keys in Chinese."""
    from helpers.pages.report import render_index

    from helpers.pages.document import document_name

    (tmp_path / "charts.zip").write_bytes(b"z" * 730_000)
    carried = geos.get("330102")  # a geography whose documents a subset run carried: linked too
    (tmp_path / "documents").mkdir()
    for f in ("docx", "pdf"):
        (tmp_path / "documents" / document_name(carried, "zh", f, True)).write_bytes(b"d")
    rows = [dict(indicator_id=i.id, geography_code=geos.city.code, name_zh=i.name("zh"), name_en=i.name("en"),
                 status=("achieved", "missed")[n % 2], probability=float("nan"))
            for n, i in enumerate(plan.indicators_in(SECTION))]
    path = render_index(tmp_path / "index.html", plan=plan, geos=geos, quarter="2025Q4", sections=[SECTION], jobs=[],
                        assessments=pd.DataFrame(rows), demo=True, lang="zh",
                        downloads=[("assessments.csv", "assessments.csv"), ("charts.zip", "charts.zip")],
                        manifest={"run": "r1", "git": "abc"}, documents={geos.city.code})
    doc = parse(path)
    links = {a.attrs.get("href"): a.text() for a in doc.find_all("a")}
    assert links["charts.zip"] == "全部图表（SVG矢量图，可编辑，可用于幻灯片）：charts.zip，0.7 MB"
    assert links["assessments.csv"] == "评估结果（机器可读，CSV）：assessments.csv"  # no size under 50 KB: none written
    shown = [h for h in links if h.startswith("documents/")]
    assert len(shown) == 4 and all(carried.name_zh in h or geos.city.name_zh in h for h in shown), shown
    summary = next(p for p in doc.find_all("p") if p.attrs.get("class") == "summary").text()
    assert "已达标：" in summary and "未达标：" in summary and "存在风险" not in summary and "按计划推进" not in summary
    assert "运行编号：r1" in doc.text() and "run:" not in doc.text()
    # the final assessment's legend and the plan's dates, as a Chinese reader writes them
    assert "按计划推进" not in doc.text() and "已达标的目标占比" in doc.text()
    assert "2023年11月23日起施行" in doc.text() and "2023-11-23" not in doc.text()


@pytest.mark.e2e
def test_data_note_is_escaped_in_report(published, tmp_path):
    import papermill as pm

    from helpers.pages.report import export_html

    payload = '<script>alert("x")</script>修订'
    df = pd.read_csv(published / "data" / "demo" / "demo_data.csv", dtype=str, keep_default_na=False)
    hit = (df["indicator_id"] == "admin_cases") & (df["geography_code"] == "330106") & (df["period"] == "2024Q1")
    assert hit.sum() == 1
    df.loc[hit, "note"] = payload
    data = tmp_path / "xss.csv"
    df.to_csv(data, index=False)
    nb_out = tmp_path / "enforcement-330106.ipynb"
    # same project as the run, so the assessments come from its forecast cache (notes are not in the key)
    pm.execute_notebook(str(published / "notebooks" / "enforcement.ipynb"), str(nb_out), kernel_name="python3",
                        parameters=dict(geography="330106", settings_path=str(published / "params" / "settings.yaml"),
                                        data_path=str(data)),
                        cwd=str(published), progress_bar=False, log_output=False, start_timeout=120,
                        execution_timeout=600)
    html = export_html(nb_out, tmp_path / "330106.report.html", "report", provenance={"note": payload}).read_text(
        encoding="utf-8")
    assert '<script>alert("x")' not in html and "<script" not in html.lower()
    doc = parse(html)
    assert not doc.find_all("script")
    # the note was read: its revision word marks 2024Q1 as revised in the data-quality table
    quality = doc.find_all("table", cls="ipeval-quality")
    assert len(quality) == 1
    row = next(tr for tr in quality[0].find_all("tr") if INDICATOR_NAME in tr.text())
    assert "2024年第一季度" in [td.text() for td in row.find_all("td")][3]  # a Chinese page writes its quarters
    # the footer shows the payload as text
    assert "&lt;script&gt;alert(" in html


# --------------------------------------------------------------------------- 5. headless Chromium

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.mark.e2e
@pytest.mark.browser
def test_pages_render_offline_in_chromium(out):
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright cannot be imported ({exc}); pip install playwright")

    blocked, failed, seen = [], [], []

    def handler(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    pages = {"index": (out / "index.html", PLAN_TITLE), "report": (_report(out, "330106", "report"), INDICATOR_NAME)}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
            context.route("**/*", handler)
            page = context.new_page()
            page.on("requestfailed", lambda r: failed.append(f"{r.url[:200]}: {r.failure}"))
            page.on("request", lambda r: seen.append(r.url))
            for name, (path, expected) in pages.items():
                page.goto(path.resolve().as_uri(), wait_until="load", timeout=30_000)
                body = page.inner_text("body")
                assert expected in body, f"{name}: {expected} not on the page"
                shot = out / f"{name}.png"
                page.screenshot(path=str(shot), full_page=(name == "index"))
                data = shot.read_bytes()
                assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, (shot, len(data))
        finally:
            browser.close()
    assert not blocked, blocked
    assert not failed, failed
    assert not [u for u in seen if not u.startswith(("file:", "data:"))], seen


# --------------------------------------------------------------------------- charts drawn once, plan, methods link

@pytest.mark.e2e
@pytest.mark.parametrize("code", GEOS)
def test_report_embeds_the_runs_chart_files(out, plan, code):
    """The page's charts are the chart step's SVG files inline, at the display width; the stored
    notebook names each file instead of carrying it again; the run keeps them once, in charts.zip."""
    import json
    import zipfile

    from helpers.pages.charts import DISPLAY_WIDTH, chart_path

    packed = zipfile.ZipFile(out / "charts.zip")

    text = _report(out, code, "report").read_text(encoding="utf-8")
    inds = [i for i in plan.indicators_in(SECTION) if code == "330100" or not i.city_only]
    # nbconvert re-serialises the page (attribute order, case: a browser's HTML parser restores
    # viewBox and clipPath in inline SVG), so the drawing is compared, not the bytes
    shown = re.findall(r"<svg.*?</svg>", text, re.S)
    assert len(shown) == len(inds)
    for svg_in_page, ind in zip(shown, inds):
        svg = packed.read(f"{ind.id}/{code}.svg").decode("utf-8")
        assert not chart_path(out, ind.id, code).exists()  # the zip is the one copy
        assert f'width="{DISPLAY_WIDTH}"' in svg[:600] and f'width="{DISPLAY_WIDTH}"' in svg_in_page[:600]
        assert re.search(r"<title>.*?</title>", svg).group(0) in svg_in_page
        assert re.findall(r' d="([^"]*)"', svg) == re.findall(r' d="([^"]*)"', svg_in_page)
        assert not chart_path(out, ind.id, code, "png").exists()
    assert "data:image/png" not in text
    nb = json.loads((out / "notebooks" / SECTION / f"{code}.ipynb").read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    named = [o["metadata"]["ipeval"]["chart"] for o in outputs if o.get("metadata", {}).get("ipeval")]
    assert named == [f"charts/{ind.id}/{code}.svg" for ind in inds]
    assert not [o for o in outputs if any(k.startswith("image/") for k in o.get("data", {}))]
    assert not list((out / "charts").rglob("*.svg"))


@pytest.mark.e2e
def test_plan_number_and_validity_on_every_page(out):
    for p in [out / "index.html", *(_report(out, c, v) for c in GEOS for v in ("report", "audit"))]:
        text = p.read_text(encoding="utf-8")
        assert "杭政办函〔2023〕71号" in text and "有效期至2025年4月30日" in text, p.name  # dates as Chinese writes them


@pytest.mark.e2e
def test_published_figures_marked_with_their_source(out):
    city = _report(out, "330100", "report").read_text(encoding="utf-8")
    assert 'class="ipeval-published"' in city and "杭州市政府新闻办 新闻发布会 2025年4月23日" in city
    assert "2024年办理各类行政案件2859件" in city  # the publication's own words, in the Chinese page
    assert "公开发布的真实数据" in city  # the banner says which numbers are real and which generated
    district = _report(out, "330106", "report").read_text(encoding="utf-8")
    assert 'class="ipeval-published"' not in district  # the press release gives city figures only


@pytest.mark.e2e
def test_methods_note_links_the_methodology_and_audit_shows_the_input_relative(out):
    page = parse(_report(out, "330106", "report"))
    links = [a.attrs["href"] for a in page.find_all("a") if "methodology" in a.attrs.get("href", "")]
    assert links and (_report(out, "330106", "report").parent / links[0]).resolve().is_file()
    audit = _report(out, "330106", "audit").read_text(encoding="utf-8")
    assert ".staging" not in audit
    injected = _code_cell_text(parse(audit), "celltag_injected-parameters")
    assert 'report_input = "../../inputs/' in injected  # the run folder's input, from the notebook's folder


@pytest.mark.e2e
def test_chinese_report_pages_have_no_leaks_mid_term(out):
    """The document check of issue 16 on the HTML: no None/nan, English runs, paths or commands in a Chinese page."""
    from doccheck import html_text, text_leaks

    pages = sorted(out.glob("reports/*/*.report.html"))
    assert len(pages) >= 4  # two sections, for the city and a district
    leaks = {p.relative_to(out).as_posix(): dict(c) for p in pages if sum((c := text_leaks(html_text(p))).values())}
    assert not leaks, leaks
