"""Every lesson notebook, run afresh in the `sled` kernel, must print what its
stored outputs show. The stored notebook is only read, never written: to
accept new outputs on purpose, run `.venv/bin/python scripts/notebooks.py refresh`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError

import notebooks  # scripts/notebooks.py, put on sys.path by conftest.py

PATHS = notebooks.notebook_paths()


def _has_rust_cells(path: Path) -> bool:
    return any(
        cell.cell_type == "code" and cell.source.lstrip().startswith("%%rust")
        for cell in notebooks.read(path).cells
    )


# A lesson with Rust cells compiles sled in its first one, which takes more
# than a minute on a busy two-core machine: give those runs longer.
FRESH_RUNS = [
    pytest.param(p, id=p.name, marks=[pytest.mark.timeout(900)] if _has_rust_cells(p) else [])
    for p in PATHS
]


def test_there_are_notebooks() -> None:
    assert PATHS, f"no notebooks in {notebooks.NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", FRESH_RUNS)
def test_fresh_run_matches_stored_outputs(path: Path) -> None:
    before = path.read_bytes()
    stored = notebooks.read(path)
    assert stored.metadata.get("kernelspec", {}).get("name") == "sled"

    assert any(cell["outputs"] for cell in notebooks.comparable(stored)), f"{path.name} has no stored outputs"
    diff = notebooks.differences(stored, notebooks.execute(stored, cell_timeout=30))
    if diff:
        pytest.fail(
            f"{path.name}: a fresh run differs from the stored outputs "
            "(refresh with `.venv/bin/python scripts/notebooks.py refresh` if the change "
            "is intended)\n" + diff,
            pytrace=False,
        )
    assert path.read_bytes() == before, "the test must not write to the notebook"


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_stored_notebook_is_in_stable_form(path: Path) -> None:
    """What `refresh` writes: no timings, no version noise, no temporary
    path, except the figures in the outputs of cells tagged
    `nondeterministic-output`, which show one run's (the session's
    temporary directory is stored as a placeholder there too)."""
    nb = notebooks.read(path)
    normal = notebooks.normalise(notebooks.read(path))
    assert nb == normal, f"{path.name} is not normalised: run scripts/notebooks.py refresh"
    for cell in nb.cells:
        if notebooks.is_nondeterministic(cell):
            # The tag loosens the comparison; it must not hide a cell that
            # shows nothing or that fails.
            outputs = cell.get("outputs", [])
            assert outputs, f"{path.name}: a cell tagged {notebooks.NONDETERMINISTIC} has no output"
            assert all(o["output_type"] != "error" for o in outputs), (
                f"{path.name}: a cell tagged {notebooks.NONDETERMINISTIC} stores an error"
            )
    text = json.dumps(nb)
    for noise in ("sled-kernel-", "/tmp/", "\"execution\":", "iopub."):
        assert noise not in text, f"{path.name} contains {noise!r}"


def _notebook(*cells: tuple[str, list[str]]) -> "notebooks.nbformat.NotebookNode":
    nbf = notebooks.nbformat.v4
    nb = nbf.new_notebook(metadata={"kernelspec": dict(notebooks.KERNELSPEC)})
    for source, tags in cells:
        cell = nbf.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


def test_the_nondeterministic_tag_compares_kinds_and_untagged_cells_stay_strict() -> None:
    """Two real runs of the same cells differ where the output names the
    session's temporary database (`%info`) or a time (`%time`): tagged, the
    cells compare equal; untagged, the same cells make the runs differ. A
    tagged cell that fails, or shows other kinds of output, still differs."""
    tag = [notebooks.NONDETERMINISTIC]
    tagged = _notebook(("insert a 1", []), ("%info", tag), ("%time %sleep 0.01\nget a", tag))
    first = notebooks.execute(tagged, cell_timeout=30)
    second = notebooks.execute(tagged, cell_timeout=30)
    # The texts do differ (every session has its own temporary directory) ...
    info = [notebooks.observed(run)[1]["outputs"][0]["data"]["text/plain"] for run in (first, second)]
    assert info[0] != info[1], info
    # ... and the tag makes the runs equal: same kinds, in the same order.
    assert notebooks.comparable(first) == notebooks.comparable(second)
    kinds = notebooks.comparable(first)[2]["outputs"]
    assert kinds == [
        {"output_type": "stream", "name": "stdout"},
        {
            "output_type": "execute_result",
            "mimes": ["application/vnd.sled-kv+json", "text/plain"],
            "execution_count": 3,
        },
    ], kinds

    # The same cells without the tag: compared strictly, the runs differ.
    for cell in (first.cells[1], second.cells[1]):
        cell.metadata["tags"] = []
    assert notebooks.comparable(first) != notebooks.comparable(second)
    # And the first, untagged cell is compared by its text, tag or no tag.
    changed = notebooks.execute(
        _notebook(("insert a 2", []), ("%info", tag), ("%time %sleep 0.01\nget a", tag)), cell_timeout=30
    )
    assert notebooks.comparable(changed)[0] != notebooks.comparable(second)[0]

    # A tagged cell is still held to the kinds of its outputs ...
    other = notebooks.execute(
        _notebook(("insert a 1", []), ("%info\nwarn one line more", tag), ("%time %sleep 0.01\nget a", tag)),
        cell_timeout=30,
    )
    assert notebooks.comparable(other)[1] != notebooks.comparable(first)[1]
    assert notebooks.comparable(other)[2] == notebooks.comparable(first)[2]
    # ... and to running without an error: the run stops there.
    with pytest.raises(CellExecutionError, match="ArgumentError"):
        notebooks.execute(_notebook(("%time get", tag)), cell_timeout=30)


# A Markdown link: [text](target). Only links to files next to the lessons
# are checked; web addresses are not fetched.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_lessons_link_to_each_other_and_the_links_lead_somewhere(path: Path) -> None:
    """Every lesson but the last names the next one in a link, every lesson
    links back to the start page, the start page links to every lesson, and
    every link to a file leads to a notebook that exists."""
    nb = notebooks.read(path)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    targets = [t for t in LINK.findall(text) if "://" not in t and not t.startswith("#")]
    for target in targets:
        assert (path.parent / target.split("#")[0]).exists(), f"{path.name} links to {target}, which is not there"
    names = [p.name for p in PATHS]
    if path.name == names[0]:
        missing = [n for n in names[1:] if n not in targets]
        assert not missing, f"the start page does not link to {missing}"
        return
    assert names[0] in targets, f"{path.name} does not link back to {names[0]}"
    following = names[names.index(path.name) + 1 :]
    if following:
        assert following[0] in targets, f"{path.name} does not link to the next lesson, {following[0]}"
