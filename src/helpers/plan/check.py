"""A registry checked against its plan's text: verbatim clauses, and a draft scored against a registry.

:func:`clause_problems` is what ``ipeval validate-plan`` checks besides the schema; :func:`score_against`
measures ``ipeval plan draft`` (found / missed / spurious) against a registry written by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers.plan.draft import DraftTarget, normalise

def score_against(targets: list[DraftTarget], plan, text: str) -> dict:
    """Found, missed and spurious targets of a draft against a registry written by hand.

    A registry target is *found* when a proposal has its value and its number lies inside the
    registry's clause (located in the whitespace-free text); *with its clause* when, besides, one
    quote contains the other. Proposals that match no registry target are *spurious*.

    Returns
    -------
    dict
        ``found``, ``with_clause``, ``missed`` (registry ids), ``spurious`` (proposals),
        ``recall``, ``clause_recall`` and ``precision``.
    """
    flat = normalise(text)
    matched: set[int] = set()
    found, with_clause, missed = [], [], []
    for ind in plan.targets:
        quote = normalise(ind.clause_text)
        spans = [(m.start(), m.start() + len(quote)) for m in re.finditer(re.escape(quote), flat)]
        hit = next((k for k, t in enumerate(targets) if k not in matched
                    and abs(t.value - ind.target.value) < 1e-9
                    and any(s <= t.position < e for s, e in spans)), None)
        if hit is None:
            missed.append(ind.id)
            continue
        matched.add(hit)
        found.append(ind.id)
        if quote in targets[hit].clause or targets[hit].clause in quote:
            with_clause.append(ind.id)
    n = len(plan.targets)
    spurious = [t for k, t in enumerate(targets) if k not in matched]
    return {
        "found": found, "with_clause": with_clause, "missed": missed, "spurious": spurious,
        "recall": len(found) / n if n else 0.0,
        "clause_recall": len(with_clause) / n if n else 0.0,
        "precision": len(matched) / len(targets) if targets else 0.0,
    }


def clause_problems(plan, root: Path) -> list[str]:
    """Entries whose ``clause.text`` is not a verbatim span of the plan's ``source_text``
    (whitespace removed from both, as ``docs/registry.md`` says); empty when the plan names no text."""
    source = plan.meta.get("source_text")
    if not source:
        return []
    path = (root / source) if not Path(source).is_absolute() else Path(source)
    try:
        flat = normalise(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return [f"plan.source_text: 无法读取 {source}（{exc.strerror or exc}）"]
    return [f"indicators[{n}] ({ind.id}).clause.text 不是方案原文中的连续片段：{ind.clause_text[:40]}"
            for n, ind in enumerate(plan.indicators) if normalise(ind.clause_text) not in flat]

