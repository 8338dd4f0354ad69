"""Notebooks are thin, committed without outputs, paired with jupytext, and run through papermill."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SECTIONS_REQUIRED = {"enforcement", "judicial", "financing", "geographical_indications", "overview"}


def test_a_notebook_per_section(plan):
    names = {p.stem for p in NOTEBOOKS}
    assert SECTIONS_REQUIRED <= names
    assert {s.id for s in plan.sections} <= names


def test_each_section_notebook_shows_its_analyses_cell_by_cell(plan):
    """A section notebook shows which analyses its section runs: a heading and one call per analysis of
    ``helpers.pages.analysis.ANALYSES``, in that order, and no other section's."""
    import jupytext

    from helpers.pages.analysis import ANALYSES

    assert set(ANALYSES) == {s.id for s in plan.sections}
    for sec in plan.sections:
        cells = jupytext.read(str(ROOT / "notebooks" / f"{sec.id}.py")).cells
        calls = [(n, c.source.strip()) for n, c in enumerate(cells)
                 if c.cell_type == "code" and c.source.strip().startswith("analysis.")]
        assert [src for _, src in calls] == [f"analysis.{f.__name__}(ctx)" for f in ANALYSES[sec.id]], sec.id
        for n, _ in calls:  # each under its own heading
            assert cells[n - 1].cell_type == "markdown" and cells[n - 1].source.startswith("### "), (sec.id, n)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem != "methodology"], ids=lambda p: p.stem)
def test_the_shared_opening_is_one_call(path):
    code = [c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]
    opening = [c for c in code if "open_page(" in c]
    assert len(opening) == 1 and "report_input=report_input" in opening[0]
    text = "\n".join(code)
    assert "open_context(" not in text and "headline_table(" not in text and "header(" not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_thin_parameters_then_helpers(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell is the parameters cell"
    params = ast.parse(code[0].source)
    assert {t.id for n in params.body for t in n.targets} >= {"section", "geography", "quarter", "lang", "data_path",
                                                              "registry_path"}
    assert ast.literal_eval(params.body[0].value) == path.stem  # the section's own default
    for cell in code:
        tree = ast.parse(cell.source)
        assert not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
                       for n in ast.walk(tree)), "no definitions in notebooks: they belong in src/helpers"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_percent_script_agrees(path):
    import jupytext

    script = path.with_suffix(".py")
    assert script.is_file(), f"{script.name} (jupytext py:percent pair) is missing"
    a = nbformat.read(str(path), as_version=4)
    b = jupytext.read(str(script))
    assert [(c.cell_type, c.source.strip()) for c in a.cells] == [(c.cell_type, c.source.strip()) for c in b.cells]


def test_cjk_font_resolves():
    from matplotlib import font_manager

    from helpers.pages.plots import use_cjk_font

    family = use_cjk_font()
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert "CJK" in Path(found).name or "cjk" in found.lower()
    # and the font has glyphs for the plan's own words
    from matplotlib.ft2font import FT2Font

    font = FT2Font(found)
    assert all(font.get_char_index(ord(ch)) != 0 for ch in "杭州知识产权保护示范区")


@pytest.fixture(scope="module")
def nb_project(tmp_path_factory):
    """One scratch project for the papermill runs, so the forecast cache fills once."""
    from conftest import make_project

    return make_project(tmp_path_factory.mktemp("nb") / "proj")


# a district per section notebook (the overview too), so each analysis meets a district page
GEOGRAPHY = {"enforcement": "330106", "judicial": "330106", "financing": "330108", "geographical_indications": "330127",
             "innovation": "330110", "international": "330109", "governance": "330105", "overview": "330106"}


@pytest.mark.e2e
@pytest.mark.parametrize("section", sorted(GEOGRAPHY))
def test_notebook_runs_through_papermill(tmp_path, nb_project, plan, section):
    """The plain papermill route (as a user would: defaults plus ``-p geography CODE``), then nbconvert HTML."""
    import papermill as pm

    from helpers.i18n import t
    from helpers.pages.report import export_html

    project, code = nb_project, GEOGRAPHY[section]
    out = tmp_path / f"{section}-{code}.ipynb"
    pm.execute_notebook(str(project / "notebooks" / f"{section}.ipynb"), str(out), kernel_name="python3",
                        parameters={"geography": code, "settings_path": str(project / "params" / "settings.yaml")},
                        progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    html = export_html(out, tmp_path / f"{section}.report.html", "report").read_text(encoding="utf-8")
    assert "def " not in html and "open_context" not in html  # no code in the report variant
    assert "演示数据" in html and "杭政办函〔2023〕71号" in html  # the demo banner; the plan's number on every page
    assert "西湖区" in html
    if section == "overview":
        assert len(pngs) == 1  # the sections chart
        return
    name = plan.section(section).name("zh")
    assert t("zh", "an_title", section=name) in html  # this section's own analysis
    assert 'class="ipeval-finding"' in html  # with findings written from templates
    district_indicators = [i for i in plan.indicators_in(section) if not i.city_only]
    assert len(pngs) == len(district_indicators)  # a chart per indicator that the district reports, drawn here
    assert 'class="ipeval-compare"' in html and 'class="ipeval-legend"' in html  # districts compared, with a legend
    assert plan.indicators_in(section)[0].name("zh") in html or district_indicators[0].name("zh") in html
