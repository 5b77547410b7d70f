"""Real nbgrader grades the lessons, the way a teacher's course would.

Every lesson with a graded exercise (found by its nbgrader cell metadata, so
new lessons join on their own) goes into one nbgrader course as the
assignment `lessons`. `nbgrader generate_assignment` writes the students'
version; then `nbgrader autograde` grades these submissions, run in the
`sled` kernel:

- `model`: the students' version with every answer cell holding the model
  answer: full marks;
- `blank`: the students' version as generated, answer cells untouched: no
  marks;
- answers that reach the right data but skip the skill the exercise asks
  for, each in a submission of its own: no marks. Lesson 04 without its
  `flush` (the check looks at what a crash would keep); lesson 03 with three
  single writes instead of one batch, and lesson 05 with two plain `insert`s
  or with a transaction that does not refuse a name already taken (their
  checks ask `%written_by`); lesson 10 with the auditor's reads outside the
  transaction, or with a scan said to be safe; lesson 11 with a tear that
  keeps one record too many.

Scores are read from nbgrader's gradebook. The students' version is also
held against `sled-kernel lessons`: its student copies must have the cells
nbgrader made, answers cleared alike. The course lives in a temporary
directory; nbgrader runs from .venv (its `alembic` must be on PATH), with
scratch Jupyter config and data directories.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import notebooks  # scripts/notebooks.py, put on sys.path by conftest.py
from conftest import KERNEL_BIN

VENV_BIN = Path(sys.executable).parent
ASSIGNMENT = "lessons"
STUB = "# YOUR ANSWER HERE"
# Lesson 06's first Rust cell compiles sled: give a cell minutes.
CELL_TIMEOUT = notebooks.RUST_CELL_TIMEOUT
DURABILITY = "04-durability"

# Answers that skip the skill: student -> (lesson, the answer cell's text).
# Each must score zero.
SKIPPED = {
    "noflush": (DURABILITY, 'insert diary:004 "written to disk"'),
    "nobatch": (
        "03-trees-batches-transactions",
        'default_tree\ninsert user:003 "Cy, Oslo"\nremove idx:city:Lyon:003\ninsert idx:city:Oslo:003 ""',
    ),
    "notransaction": (
        "05-leaderboard-app",
        'insert player:kim 001100\ninsert rank:001100:kim ""',
    ),
    "noguard": (
        "05-leaderboard-app",
        'transaction\n  insert player:kim 001100\n  insert rank:001100:kim ""\nend',
    ),
    "readsoutside": (
        "10-isolation",
        "%transfers acct:\nget acct:000001\nget acct:000100\ninsert audit:2026-12-01 done\n"
        "insert answer:scan yes\ninsert answer:gets yes\ninsert answer:transaction no",
    ),
    "scansafe": (
        "10-isolation",
        "%transfers acct:\ntransaction\n  get acct:000001\n  get acct:000100\n  insert audit:2026-12-01 done\nend\n"
        "insert answer:scan no\ninsert answer:gets yes\ninsert answer:transaction no",
    ),
    "tearonetoofew": ("11-crash-recovery", "%crash_copy tear=27"),
}
# Two runs of every lesson, and one more of each lesson in SKIPPED per
# answer there, Rust compiles included.
pytestmark = pytest.mark.timeout(1800)


def nbgrader_cells(nb: nbformat.NotebookNode, kind: str) -> list[nbformat.NotebookNode]:
    """The answer cells (`solution`) or the check cells (`grade`)."""
    return [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get(kind)]


LESSONS = [p for p in notebooks.notebook_paths() if nbgrader_cells(notebooks.read(p), "grade")]


def model_answer(source: str) -> str:
    """An answer cell's text as a student who wrote the model answer would
    hand it in: the solution markers' lines gone, their contents kept."""
    return "\n".join(line for line in source.split("\n") if "SOLUTION" not in line)


def nbgrader(course: Path, env: dict[str, str], *args: str) -> str:
    run = subprocess.run(
        [str(VENV_BIN / "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{log}"
    assert "[ERROR]" not in log, f"nbgrader {' '.join(args)} logged an error:\n{log}"
    return log


def submit(course: Path, student: str, notebooks_by_name: dict[str, nbformat.NotebookNode]) -> None:
    where = course / "submitted" / student / ASSIGNMENT
    where.mkdir(parents=True)
    for name, nb in notebooks_by_name.items():
        nbformat.write(nb, str(where / f"{name}.ipynb"))
    (where / "timestamp.txt").write_text("2026-12-01 12:00:00.000000 UTC\n")


@dataclasses.dataclass
class Course:
    # student -> notebook -> (score, max score), from the gradebook
    scores: dict[str, dict[str, tuple[float, float]]]
    # notebook -> the students' version that generate_assignment wrote
    release: dict[str, nbformat.NotebookNode]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """Runs the course: generate, submit, autograde."""
    from nbgrader.api import Gradebook

    course = tmp_path_factory.mktemp("course")
    scratch = tmp_path_factory.mktemp("nbgrader-home")
    env = {
        **os.environ,
        # nbgrader runs alembic (from .venv) to set up its gradebook.
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_CONFIG_DIR": str(scratch / "config"),
        "JUPYTER_DATA_DIR": str(scratch / "data"),
    }
    env.pop("NBGRADER_EXECUTION", None)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'sled-lessons'\n"
        # nbgrader's default stub is Python; sled-kv cells take `#` comments.
        f"c.ClearSolutions.code_stub = {{'sled-kv': {STUB!r}}}\n"
        f"c.Execute.timeout = {CELL_TIMEOUT}\n"
    )
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in LESSONS:
        shutil.copy(path, source / path.name)

    nbgrader(course, env, "generate_assignment", ASSIGNMENT)
    release = {
        path.stem: notebooks.read(course / "release" / ASSIGNMENT / path.name) for path in LESSONS
    }

    model = {}
    for path in LESSONS:
        answers = {
            c.metadata["nbgrader"]["grade_id"]: model_answer(c.source)
            for c in nbgrader_cells(notebooks.read(path), "solution")
        }
        nb = copy.deepcopy(release[path.stem])
        for cell in nbgrader_cells(nb, "solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
        model[path.stem] = nb
    submit(course, "model", model)
    submit(course, "blank", release)

    for student, (lesson, text) in SKIPPED.items():
        skipped = copy.deepcopy(release[lesson])
        [answer] = nbgrader_cells(skipped, "solution")
        answer.source = text
        submit(course, student, {lesson: skipped})

    nbgrader(course, env, "autograde", ASSIGNMENT)

    scores: dict[str, dict[str, tuple[float, float]]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ("model", "blank", *SKIPPED):
            submission = gradebook.find_submission(ASSIGNMENT, student)
            scores[student] = {
                nb.name: (nb.score, nb.max_score) for nb in submission.notebooks
            }
    return Course(scores, release)


def test_every_lesson_has_a_graded_exercise() -> None:
    names = [p.stem for p in LESSONS]
    for lesson in ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"):
        assert any(name.startswith(lesson) for name in names), f"lesson {lesson} has no exercise"


def test_the_students_version_holds_no_solutions(graded: Course) -> None:
    for name, nb in graded.release.items():
        answers = nbgrader_cells(nb, "solution")
        assert answers, f"{name} has no answer cell"
        for cell in nb.cells:
            assert "SOLUTION" not in cell.source, f"{name}: a solution marker survived"
        for cell in answers:
            assert STUB in cell.source, f"{name}: answer cell without the stub: {cell.source!r}"


def test_model_answers_get_full_marks(graded: Course) -> None:
    scores = graded.scores["model"]
    assert set(scores) == {p.stem for p in LESSONS}
    for name, (score, max_score) in scores.items():
        assert max_score > 0, name
        assert score == max_score, f"{name}: the model answer scored {score} of {max_score}"


def test_answers_left_as_generated_get_no_marks(graded: Course) -> None:
    scores = graded.scores["blank"]
    assert set(scores) == {p.stem for p in LESSONS}
    for name, (score, max_score) in scores.items():
        assert score == 0, f"{name}: an empty answer scored {score} of {max_score}"


@pytest.mark.parametrize("student", SKIPPED)
def test_an_answer_that_skips_the_skill_gets_no_marks(graded: Course, student: str) -> None:
    lesson, text = SKIPPED[student]
    score, max_score = graded.scores[student][lesson]
    assert max_score > 0
    assert score == 0, f"{lesson}: the answer {text!r} scored {score} of {max_score}"


def test_sled_kernel_lessons_clears_answers_as_nbgrader_does(graded: Course, tmp_path: Path) -> None:
    subprocess.run(
        [str(KERNEL_BIN), "lessons", str(tmp_path)], check=True, capture_output=True, timeout=60
    )
    for path in LESSONS:
        ours, theirs = notebooks.read(tmp_path / path.name), graded.release[path.stem]
        assert [c.cell_type for c in ours.cells] == [c.cell_type for c in theirs.cells], path.name
        for index, (mine, made) in enumerate(zip(ours.cells, theirs.cells)):
            # every cell's text, the answer cells' stubs included
            assert mine.source == made.source, (path.name, index)
            marked = mine.metadata.get("nbgrader", {})
            if marked.get("solution") or marked.get("grade"):
                assert mine.outputs == made.outputs == [], (path.name, index)
                assert mine.execution_count is made.execution_count is None, (path.name, index)
