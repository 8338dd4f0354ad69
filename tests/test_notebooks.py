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


def test_section_notebooks_differ_only_in_their_section(plan):
    """One notebook per plan section, each runnable on its own with its section as the default;
    apart from that default they are the same notebook, so a fix made to one is made to all."""
    def cells(section):
        nb = nbformat.read(str(ROOT / "notebooks" / f"{section}.ipynb"), as_version=4)
        return [(c.cell_type, c.source.replace(section, "<section>")) for c in nb.cells]

    first, *others = [s.id for s in plan.sections]
    for section in others:
        assert cells(section) == cells(first), f"notebooks/{section}.ipynb has drifted from notebooks/{first}.ipynb"


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


@pytest.mark.e2e
def test_notebook_runs_through_papermill(tmp_path, project):
    """The plain papermill route (as a user would, defaults plus a district) and nbconvert HTML."""
    import papermill as pm

    from helpers.pages.report import export_html

    out = tmp_path / "judicial-330106.ipynb"
    pm.execute_notebook(str(project / "notebooks" / "judicial.ipynb"), str(out), kernel_name="python3",
                        parameters={"geography": "330106", "settings_path": str(project / "params" / "settings.yaml")},
                        progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    from helpers.plan.registry import load_plan

    plan = load_plan(project / "params" / "plans" / "hangzhou_ipz_2023_2025.yaml")
    district_indicators = [i for i in plan.indicators_in("judicial") if not i.city_only]
    assert len(pngs) == len(district_indicators)  # a chart per indicator that the district reports
    html = export_html(out, tmp_path / "judicial.report.html", "report").read_text(encoding="utf-8")
    assert 'class="ipeval-compare"' in html and 'class="ipeval-legend"' in html  # districts compared, with a legend
    assert "知识产权纠纷调解成功率" in html and "西湖区" in html
    assert "def " not in html and "open_context" not in html  # no code in the report variant
    assert "演示数据" in html  # the demo-data banner
