"""What the sled-kernel site adds to Sphinx and MyST-NB.

- The lessons: `notebooks/` is their one source. Before Sphinx looks for
  pages, every `notebooks/*.ipynb` is copied into `docs/lessons/` (ignored by
  git), so the lessons are pages of the site and links such as
  `../lessons/01-embedded-kv-with-sled.ipynb` resolve. A copy is rewritten
  only when its lesson changed, and one whose lesson is gone is removed. (A
  symbolic link would not do: Sphinx resolves links through it to
  `notebooks/`, outside the site.)
- `read_lesson`, MyST-NB's reader for them: the notebook as stored, less the
  kernel's machine-readable `application/vnd.sled-kv+json` form of each
  result. The site shows what JupyterLab shows (the HTML table, or the text);
  MyST-NB would otherwise warn that it cannot render the JSON form.
- The `sled-kv` Pygments lexer, registered under the name the kernel gives in
  `language_info.pygments_lexer`, which MyST-NB uses for every code cell
  (and for ```sled-kv fences in the pages).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

DOCS = Path(__file__).resolve().parent.parent
NOTEBOOKS = DOCS.parent / "notebooks"
LESSONS = DOCS / "lessons"
KERNEL_JSON = "application/vnd.sled-kv+json"

logger = logging.getLogger(__name__)


def copy_lessons(app: Sphinx, config) -> None:
    LESSONS.mkdir(exist_ok=True)
    sources = {path.name: path for path in NOTEBOOKS.glob("*.ipynb")}
    if not sources:
        raise RuntimeError(f"no lessons in {NOTEBOOKS}")
    for name, source in sorted(sources.items()):
        copy = LESSONS / name
        if not copy.exists() or copy.read_bytes() != source.read_bytes():
            shutil.copyfile(source, copy)
    for stale in LESSONS.glob("*.ipynb"):
        if stale.name not in sources:
            stale.unlink()
            logger.info(f"removed docs/lessons/{stale.name}: its lesson is gone")


def read_lesson(text: str) -> nbformat.NotebookNode:
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(KERNEL_JSON, None)
    return nb


def setup(app: Sphinx) -> dict:
    # The checkout's lexer, the same module the wheel installs.
    from sled_kernel.lexer import SledKvLexer

    app.add_lexer("sled-kv", SledKvLexer)
    app.connect("config-inited", copy_lessons)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
