"""Sphinx configuration of the sled-kernel documentation site.

Build it with `scripts/build-docs [OUTDIR]` (docs/README.md says what it
does and why this generator). Pages are Markdown (MyST); the lessons are the
notebooks of notebooks/, copied into docs/lessons/ at each build
(`_ext/sled_docs.py`) and rendered by MyST-NB from their stored outputs,
never run.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The project's own Pygments lexer for sled-kv cells comes from this
# checkout (the same module the wheel installs), so the site needs no install
# of it; _ext/ holds this site's own extension.
sys.path[:0] = [str(ROOT / "python"), str(Path(__file__).parent / "_ext")]

project = "sled-kernel"
author = "the sled-kernel authors"
copyright = "the sled-kernel authors"
release = next(
    line.split('"')[1] for line in (ROOT / "Cargo.toml").read_text().splitlines() if line.startswith("version = ")
)
version = release

# MyST-NB brings MyST-Parser for the .md pages; sled_docs copies the
# lessons in, reads them and registers the sled-kv lexer.
extensions = ["myst_nb", "sled_docs"]

# docs/README.md is about building the site, for people reading the source.
exclude_patterns = ["README.md", "_build", "_ext", "**/.ipynb_checkpoints"]

# ---- MyST: Markdown pages
myst_enable_extensions = ["colon_fence", "deflist"]
# `page.md#a-heading` links resolve to headings down to ###, and a link to a
# heading that is not there is a warning (so an error in scripts/build-docs).
myst_heading_anchors = 3

# ---- MyST-NB: the lessons, from their stored outputs
nb_execution_mode = "off"
# The stored notebook without the kernel's JSON form of each result
# (sled_docs.read_lesson says why).
nb_custom_formats = {".ipynb": "sled_docs.read_lesson"}

# ---- Highlighting
pygments_style = "friendly"
pygments_dark_style = "monokai"
highlight_language = "none"  # a fence without a language stays plain

# ---- HTML
html_theme = "furo"
html_title = f"sled-kernel {release}"
html_static_path = ["_static"]
html_css_files = ["sled-kernel.css"]
html_copy_source = False
html_show_sourcelink = False
