"""The English task chapters' words: task titles, statuses and what the returns say.

The registry's tasks are Chinese first: ``title_zh`` and the clause are the plan's own words, and
``title_en`` / ``responsible_en`` (optional) are our translation (``docs/registry.md``, *Tasks*).
An English report shows the translation with the Chinese beside it, quoted, so a reader can check
it against the plan; a task without ``title_en`` shows its Chinese title, quoted, with a note.

The task returns (:mod:`helpers.data.tasks`) are written by the districts in Chinese; nothing
translates free text, so the English report quotes a progress note as returned and says so. Two
kinds of text it does know are put into English: the demonstration marks of
:mod:`helpers.data.demo_tasks` and a publication the press-figures file names (evidence
"杭州市人民政府新闻办公室新闻发布会（2025年4月23日）" becomes the English name and date kept in
``press_release_2025-04-23_figures.en.csv``).
"""

from __future__ import annotations

from helpers.data.demo_tasks import MARK as DEMO_MARK

DEMO_EVIDENCE = "示例材料（演示）"  # the evidence every demo return gives (helpers.data.demo_tasks)

STATUS_EN = {"已完成": "completed", "推进中": "in progress", "未启动": "not started", "未报送": "not reported"}
NO_TITLE_EN = "no English title in the registry"
TITLES_NOTE = ("Task titles and responsible bodies are our translation; the plan's Chinese title follows each in "
               "quotation marks. Progress notes and evidence are quoted as the returns give them, in Chinese; "
               "“[demo]” marks a demonstration return.")


def status_en(status: str) -> str:
    """A task status of the returns (已完成, 推进中, 未启动, 未报送) in English (unknown text quoted)."""
    return STATUS_EN.get(status, f"“{status}”" if status else "—")


def title_en(task) -> str:
    """``title_en (“title_zh”)``; a task without ``title_en``: its Chinese title, quoted, with a note."""
    if task.title_en:
        return f"{task.title_en} (“{task.title_zh}”)"
    return f"“{task.title_zh}” ({NO_TITLE_EN})"


def returned_en(text: str) -> str:
    """A progress note as returned, quoted: ``[demo] “…”`` for a demonstration note, ``—`` for none."""
    text = (text or "").strip()
    if not text:
        return "—"
    demo = text.startswith(DEMO_MARK)
    body = text[len(DEMO_MARK):].strip() if demo else text
    return f"[demo] “{body}”" if demo else f"“{body}”"


def evidence_en(text: str, root) -> str:
    """Evidence as returned, in English where it names a known publication or the demo material."""
    text = (text or "").strip()
    if not text:
        return "—"
    if text == DEMO_EVIDENCE:
        return "sample material (demo)"
    known = _publications_en(root) if root is not None else {}
    return known.get(text) or returned_en(text)


def _publications_en(root) -> dict[str, str]:
    """``{Chinese source text: English source text}`` of every figure of the press-figures file."""
    from helpers.data.press_figures import published_date_zh
    from helpers.pages.document.english import _figures, source_text_en

    # the Chinese as helpers.pages.published.source_text writes it (not imported: that module places these chapters)
    return {f"{r['publication']}（{published_date_zh(r['published'])}）": source_text_en(root, r)
            for r in _figures(str(root))}
