"""The package's stages import one way (cli -> run -> pages -> model -> data -> plan), with no cycle."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "helpers"
# leaves first; a module may import its own stage or any stage with a lower rank
RANK = {"exceptions": 0, "files": 0, "i18n": 0, "settings": 1, "plan": 2, "data": 3, "model": 4, "pages": 5,
        "run": 6, "cli": 7,
        # modules beside a leaf or the command line that share its rank: the settings' schema, the command groups
        "settings_schema": 1, "cli_common": 7, "cli_run": 7, "cli_data": 7, "cli_schedule": 7, "cli_model": 7,
        "cli_plan": 7, "cache": 0}


@functools.lru_cache(maxsize=1)
def _modules() -> dict[str, set[str]]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(("helpers", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("helpers."):
                # `from helpers.x import y` where y is a module depends on helpers.x.y, not on what
                # helpers.x defines
                subs = {f"{node.module}.{a.name}" for a in node.names}
                real = {m for m in subs if _is_module(m)}
                deps |= real if real == subs else real | {node.module}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("helpers.")}
        mods[name] = deps
    return mods


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _stage(module: str) -> str:
    return module.split(".")[1]


def test_every_stage_is_known():
    assert {_stage(m) for m in _modules() if m != "helpers"} <= set(RANK)


@pytest.mark.parametrize("module", sorted(m for m in _modules() if m != "helpers"))
def test_no_module_imports_a_stage_above_its_own(module):
    above = [d for d in _modules()[module] if RANK[_stage(d)] > RANK[_stage(module)]]
    assert not above, f"{module} imports {above}, a stage above it"


def test_no_import_cycle():
    mods = _modules()
    # resolve `helpers.x.y` imports to the modules that exist (a package import means its __init__)
    graph = {m: {d for d in deps if d in mods} for m, deps in mods.items()}
    seen, stack = set(), []

    def visit(m):
        if m in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
        if m in seen:
            return
        stack.append(m)
        for d in graph[m]:
            visit(d)
        stack.pop()
        seen.add(m)

    for m in graph:
        visit(m)


# Modules allowed over the size limit, each for its reason (issue 18: "no module over 400 lines unless it is one
# cohesive class or a table of texts"). The list only shrinks.
LONG_MODULES = {
    "helpers.i18n": "a table of texts (labels and error messages in Chinese and English)",
    "helpers.data.observation_store": "one cohesive class, ObservationStore (connection, reads, ingest, rebuild)",
}
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 80


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(("helpers", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        yield name, path.read_text(encoding="utf-8")


def test_modules_are_short_unless_listed_with_a_reason():
    long = {name: text.count("\n") for name, text in _sources() if text.count("\n") > MAX_MODULE_LINES}
    assert set(long) <= set(LONG_MODULES), {n: v for n, v in long.items() if n not in LONG_MODULES}
    # a listed module that has become short comes off the list
    assert set(LONG_MODULES) <= set(long), set(LONG_MODULES) - set(long)


def test_no_function_is_over_80_lines():
    long = [f"{name}.{node.name}: {node.end_lineno - node.lineno + 1}"
            for name, text in _sources() for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, long
