"""Every lesson notebook, run afresh in the `sled` kernel, must print what its
stored outputs show. The stored notebook is only read, never written: to
accept new outputs on purpose, run `.venv/bin/python scripts/notebooks.py refresh`.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

import notebooks  # scripts/notebooks.py, put on sys.path by conftest.py

PATHS = notebooks.notebook_paths()


def render(cells: list[dict]) -> list[str]:
    return json.dumps(cells, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def test_there_are_notebooks() -> None:
    assert PATHS, f"no notebooks in {notebooks.NOTEBOOK_DIR}"


# A lesson with Rust cells compiles sled first: on a busy machine that alone
# can take minutes (scripts/notebooks.py gives a Rust cell up to ten).
@pytest.mark.timeout(notebooks.RUST_CELL_TIMEOUT + 300)
@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_fresh_run_matches_stored_outputs(path: Path) -> None:
    before = path.read_bytes()
    stored = notebooks.read(path)
    assert stored.metadata.get("kernelspec", {}).get("name") == "sled"

    expected = notebooks.comparable(stored)
    assert any(cell["outputs"] for cell in expected), f"{path.name} has no stored outputs"
    actual = notebooks.comparable(notebooks.execute(stored, cell_timeout=30))

    if actual != expected:
        diff = difflib.unified_diff(
            render(expected), render(actual), "stored outputs", "fresh run", lineterm="", n=4
        )
        pytest.fail(
            f"{path.name}: a fresh run differs from the stored outputs "
            "(refresh with `.venv/bin/python scripts/notebooks.py refresh` if the change "
            "is intended)\n" + "\n".join(diff),
            pytrace=False,
        )
    assert path.read_bytes() == before, "the test must not write to the notebook"


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_stored_notebook_is_in_stable_form(path: Path) -> None:
    """What `refresh` writes: no timings, no version noise, nothing temporary."""
    nb = notebooks.read(path)
    normal = notebooks.normalise(notebooks.read(path))
    assert nb == normal, f"{path.name} is not normalised: run scripts/notebooks.py refresh"
    text = path.read_text()
    for noise in ("sled-kernel-", "/tmp/", "\"execution\":", "iopub."):
        assert noise not in text, f"{path.name} contains {noise!r}"
