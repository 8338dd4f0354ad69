"""The plan's tasks as data: its key measures, landmark outcomes and district tasks.

The numeric targets live in ``indicators:`` of the registry; this module reads its ``tasks:`` block
(schema: ``docs/registry.md``, section *Tasks*). A task is what the plan asks to be done rather than
counted ("在钱塘区建设科创企业上市知识产权加速器"); its status comes from the task return
(``helpers.data.tasks``), not from a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from helpers.exceptions import RegistryError
from helpers.i18n import et
from helpers.settings import find_project_root, read_yaml_file

TASK_KINDS = ("measure", "landmark", "district")
RESPONSIBLE_BASES = ("clause", "plan_lead")
GEOGRAPHY_BASES = ("named", "inferred")
ALL_DISTRICTS = "all_districts"
CITY = "330100"
KIND_LABELS_ZH = {"measure": "主要措施", "landmark": "区域性标志成果", "district": "区县（市）任务"}
_FIELDS = {
    "id", "kind", "ref", "title_zh", "clause", "responsible_zh", "responsible_basis", "geographies",
    "geography_basis", "geography_note_zh", "title_en", "responsible_en",
}
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Task:
    """One task of the plan: what it asks (verbatim), who answers for it, who reports on it."""

    id: str
    kind: str
    ref: str
    title_zh: str
    clause: str
    responsible_zh: tuple[str, ...]
    responsible_basis: str
    geographies: tuple[str, ...]
    geography_basis: str = "named"
    geography_note_zh: str = ""
    title_en: str = ""
    responsible_en: tuple[str, ...] = ()

    def reported_by(self, code: str) -> bool:
        """Whether geography ``code`` returns a status for this task."""
        code = str(code)
        if code in self.geographies:
            return True
        return code != CITY and ALL_DISTRICTS in self.geographies

    @property
    def responsible_text(self) -> str:
        """The 责任单位 as a report prints it: the clause's own bodies, or the plan's lead marked so."""
        text = "、".join(self.responsible_zh)
        return text if self.responsible_basis == "clause" else f"{text}（牵头）"

    @property
    def responsible_text_en(self) -> str:
        """The responsible bodies in English (``responsible_en``; the Chinese, quoted, when it has none)."""
        text = "; ".join(self.responsible_en) if self.responsible_en else f"“{'、'.join(self.responsible_zh)}”"
        return text if self.responsible_basis == "clause" else f"{text} (lead)"

    @property
    def ref_en(self) -> str:
        """The clause number with Arabic numerals: ``二(一)1`` as ``2(1)1``, ``三(四)`` as ``3(4)``."""
        return ref_en(self.ref)


def ref_en(ref: str) -> str:
    """A clause number of the plan's outline (``二(一)1``, ``三(四)``, ``一``) with Arabic numerals."""
    return re.sub(r"[一二三四五六七八九十]+", lambda m: str(_zh_number(m.group(0))), str(ref))


def _zh_number(text: str) -> int:
    digits = {c: k for k, c in enumerate("一二三四五六七八九", start=1)}
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + digits.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return digits[tens] * 10 + digits.get(ones, 0)
    return digits[text]


def squeeze(text: str) -> str:
    """Remove all whitespace (the plan text breaks lines inside sentences and spaces out numbers)."""
    return _WS.sub("", text)


def _parse(raw, n: int, plan_text: str | None) -> Task:
    where = f"tasks[{n}]"
    if not isinstance(raw, dict):
        raise RegistryError(et("task_not_mapping", where=where))
    tid = raw.get("id")
    where = f"{where} ({tid})" if tid else where
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise RegistryError(et("task_unknown_fields", where=where, fields=", ".join(unknown)))
    for key in ("id", "kind", "ref", "title_zh", "clause", "responsible_zh", "geographies"):
        if not raw.get(key):
            raise RegistryError(et("task_field_required", where=where, key=key))
    checks = (("kind", TASK_KINDS, None), ("responsible_basis", RESPONSIBLE_BASES, "plan_lead"),
              ("geography_basis", GEOGRAPHY_BASES, "named"))
    for key, options, default in checks:
        if raw.get(key, default) not in options:
            raise RegistryError(et("task_field_choice", where=where, key=key, value=repr(raw.get(key)),
                                     options=", ".join(options)))
    responsible = tuple(str(r) for r in raw["responsible_zh"])
    geos = tuple(str(g) for g in raw["geographies"])
    clause = str(raw["clause"])
    if plan_text is not None and squeeze(clause) not in plan_text:
        raise RegistryError(et("task_clause_not_verbatim", where=where, clause=clause[:40]))
    if raw.get("responsible_basis") == "clause":
        missing = [r for r in responsible if squeeze(r) not in squeeze(clause)]
        if missing:
            raise RegistryError(et("task_responsible_not_in_clause", where=where, missing=", ".join(missing)))
    if raw.get("geography_basis") == "inferred" and not raw.get("geography_note_zh"):
        raise RegistryError(et("task_inferred_needs_note", where=where))
    # English is optional (the Chinese is the source); a list of bodies must match responsible_zh one to one
    responsible_en = tuple(str(r) for r in raw.get("responsible_en") or ())
    if responsible_en and len(responsible_en) != len(responsible):
        raise RegistryError(et("task_responsible_en_length", where=where, n=len(responsible), k=len(responsible_en)))
    return Task(id=str(raw["id"]), kind=raw["kind"], ref=str(raw["ref"]), title_zh=str(raw["title_zh"]),
                clause=clause, responsible_zh=responsible,
                responsible_basis=raw.get("responsible_basis", "plan_lead"), geographies=geos,
                geography_basis=raw.get("geography_basis", "named"),
                geography_note_zh=str(raw.get("geography_note_zh", "")),
                title_en=str(raw.get("title_en") or ""), responsible_en=responsible_en)


def load_tasks(path: str | Path, *, check_text: bool = True) -> tuple[Task, ...]:
    """Read and check the ``tasks:`` block of a plan registry file.

    Parameters
    ----------
    path : str or Path
        The registry YAML, e.g. ``params/plans/hangzhou_ipz_2023_2025.yaml``.
    check_text : bool
        Check every clause against the plan text named by ``plan.source_text`` (when that file is
        present; ``tests/test_tasks.py`` checks the shipped registry against it either way).

    Returns
    -------
    tuple of Task
        In the registry's order; empty when the file has no ``tasks:`` block.

    Raises
    ------
    RegistryError
        A task breaks the schema, an id is used twice, or a clause is not verbatim in the plan text.
    """
    return _load_cached(str(Path(path).resolve()), check_text)


@lru_cache(maxsize=8)
def _load_cached(path: str, check_text: bool) -> tuple[Task, ...]:
    p = Path(path)
    doc, _ = read_yaml_file(p, RegistryError, "plan registry")
    raw_tasks = (doc or {}).get("tasks") or []
    plan_text = None
    source = ((doc or {}).get("plan") or {}).get("source_text")
    text_path = find_project_root(p.parent) / source if source else None
    if check_text and text_path is not None and text_path.is_file():  # a copy of params/ alone has no text
        plan_text = squeeze(text_path.read_text(encoding="utf-8"))
    tasks = tuple(_parse(raw, n, plan_text) for n, raw in enumerate(raw_tasks))
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise RegistryError(et("task_id_twice", path=p, id=repr(t.id)))
        seen.add(t.id)
    return tasks


def tasks_for(tasks, code: str) -> list[Task]:
    """The tasks geography ``code`` reports on, in registry order."""
    return [t for t in tasks if t.reported_by(code)]
