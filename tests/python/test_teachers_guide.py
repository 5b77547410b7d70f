"""The teacher's guide keeps in step with the lessons: every notebook in
notebooks/ has its page in docs/teachers/lessons/, named like it, and every
lesson page there has its notebook. A page links to its lesson, says what the
lesson teaches, how long it takes in class, the predictions to expect for
each "predict, then run" cell, the misconceptions to watch for, and one
extension task. Nothing here needs a kernel.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import notebooks  # scripts/notebooks.py, put on sys.path by conftest.py

GUIDE = notebooks.ROOT / "docs" / "teachers" / "lessons"
# A lesson's page is named like its notebook: two digits, a dash, a name.
LESSON_PAGE = re.compile(r"^\d\d-.+\.md$")
SECTIONS = ("## What it teaches", "## Time in class", "## Misconceptions to watch for", "## Extension task")
PATHS = notebooks.notebook_paths()


def page_of(notebook: Path) -> Path:
    return GUIDE / f"{notebook.stem}.md"


def lesson_pages() -> list[Path]:
    return sorted(p for p in GUIDE.glob("*.md") if LESSON_PAGE.match(p.name))


def test_every_lesson_has_a_page_and_every_page_a_lesson() -> None:
    assert PATHS, "no lessons"
    missing = [p.name for p in PATHS if not page_of(p).exists()]
    assert not missing, f"lessons without a teacher's guide page in {GUIDE}: {missing}"
    lessons = {p.stem for p in PATHS}
    orphans = [p.name for p in lesson_pages() if p.stem not in lessons]
    assert not orphans, f"guide pages without a lesson in notebooks/: {orphans}"


def section(text: str, heading: str) -> str:
    """The text under a `## ` heading, up to the next one."""
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    return text[start : following if following != -1 else len(text)]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_a_page_says_what_a_teacher_needs(path: Path) -> None:
    text = page_of(path).read_text(encoding="utf-8")
    assert text.startswith("# "), f"{page_of(path).name} has no `#` title"
    assert f"(../../lessons/{path.name})" in text, f"{page_of(path).name} does not link to its lesson"
    for heading in SECTIONS:
        assert f"\n{heading}\n" in text, f"{page_of(path).name} has no section {heading!r}"
    for heading in SECTIONS:
        assert section(text, heading).strip(), f"{page_of(path).name}: {heading!r} is empty"
    predicts = [c for c in notebooks.read(path).cells if "predict" in notebooks.tags(c)]
    if predicts:
        assert "\n## Predictions\n" in text, f"{page_of(path).name} has no section on its predictions"
        # One bold lead per prediction: **the cell, in a few words.**
        leads = re.findall(r"^\*\*[^*]+\*\*", section(text, "## Predictions"), flags=re.M)
        assert len(leads) >= len(predicts), (
            f"{page_of(path).name} discusses {len(leads)} predictions; the lesson has {len(predicts)} predict cells"
        )
        assert "wrong" in section(text, "## Predictions"), f"{page_of(path).name} names no common wrong answer"
