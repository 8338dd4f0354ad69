"""The commands on plan registries: ``plan draft`` and ``validate-plan``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from helpers.cli_common import _fail
from helpers.exceptions import IpevalError


def plan_draft(
    text: Path = typer.Argument(..., help="The plan's text (UTF-8), e.g. docs/sources/hangzhou_ipz_plan_2023_2025.txt."),
    output: Path = typer.Option(Path("draft.yaml"), "--output", "-o", help="The draft registry to write."),
    against: Optional[Path] = typer.Option(None, "--against", help="A registry written by hand: print found/missed/spurious."),
):
    """Propose a registry: every numeric target of the text, its clause verbatim, each `confirmed: false`."""
    from helpers.files import atomic_write_bytes
    from helpers.plan.check import score_against
    from helpers.plan.draft import draft_from_file, to_yaml
    from helpers.plan.registry import load_plan

    try:
        doc, targets = draft_from_file(text)
        atomic_write_bytes(output, to_yaml(doc).encode("utf-8"))
        typer.echo(f"{len(targets)} 个数值目标（均为 confirmed: false，请逐条核对）-> {output}")
        if against:
            s = score_against(targets, load_plan(against), text.read_text(encoding="utf-8"))
            typer.echo(f"found {len(s['found'])}/{len(s['found']) + len(s['missed'])} (recall {s['recall']:.0%}, "
                       f"with clause {s['clause_recall']:.0%}), spurious {len(s['spurious'])} "
                       f"(precision {s['precision']:.0%}); missed: {', '.join(s['missed']) or '-'}")
    except IpevalError as exc:
        _fail(exc)


def validate_plan(plan_file: Path = typer.Argument(..., help="A plan registry (params/plans/*.yaml or a draft).")):
    """Check a registry: its schema, every clause verbatim in the plan's text, and no unconfirmed entry (exit 2)."""
    from helpers.exceptions import RegistryError
    from helpers.plan.check import clause_problems
    from helpers.plan.registry import load_plan, require_confirmed
    from helpers.settings import find_project_root

    try:
        plan = load_plan(plan_file)
        problems = clause_problems(plan, find_project_root(plan_file.resolve().parent))
        if problems:
            raise RegistryError(f"{plan_file}：\n  " + "\n  ".join(problems))
        require_confirmed(plan)
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"{plan_file}: {len(plan.targets)} 个目标、{len(plan.indicators)} 个指标，均已确认，条款均为原文")
