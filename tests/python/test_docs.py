"""The documentation site, built and read the way a visitor reads it.

`scripts/build-docs` builds it into a scratch directory (Sphinx with
warnings as errors, then every internal link and anchor checked); a plain
HTTP server serves it on 127.0.0.1; Debian's headless Chromium, through
Playwright as in the browser test (its `browser` fixture), opens:

- a lesson page, lesson 02: every command name of its code cells carries
  the sled-kv lexer's token class, each `%draw` picture it stores is shown
  as a loaded SVG, and its row results are HTML tables;
- lesson 06: a `%%rust` cell is coloured as Rust;
- the language reference: its example cells are coloured by the lexer;
- every page the front page links to, each of which must load with the
  site's title and some text, among them every lesson of notebooks/.

A screenshot of the lesson page goes to tests/artifacts/docs-lesson.png.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import site_links  # scripts/site_links.py
from conftest import ROOT, TIMINGS
from test_jupyterlab import ARTIFACTS, PAGE_LOAD, Browser, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.timeout(900)

SHOT_LESSON = ARTIFACTS / "docs-lesson.png"
DRAWING_LESSON = "02-prefixes-and-ranges"
RUST_LESSON = "06-rust-cells"
# Pygments' HTML classes for the sled-kv lexer's tokens: Keyword (a command),
# Name.Builtin (a %magic), Keyword.Namespace (%%rust), and Rust's
# Keyword.Declaration (`let`).
COMMAND, MAGIC, CELL_MAGIC, RUST_LET = "k", "nb", "kn", "kd"
# Pages Sphinx makes itself, with no text until a reader searches.
SPHINX_PAGES = {"search.html", "genindex.html"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    start = time.monotonic()
    done = subprocess.run(
        [str(ROOT / "scripts" / "build-docs"), str(out)], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"scripts/build-docs failed:\n{done.stdout}\n{done.stderr}"
    TIMINGS["scripts/build-docs, a fresh build of the site (s)"] = time.monotonic() - start
    assert "0 broken" in done.stdout, done.stdout
    return out


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site over HTTP on 127.0.0.1, as a reader's browser gets it."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(10)


def lesson(name: str) -> dict:
    return json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())


def code_cells(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def command_names(nb: dict) -> set[str]:
    """The first word of every line of the KV cells that is a command (not a
    comment, not a %magic, not inside `echo`'s text)."""
    names = set()
    for source in code_cells(nb):
        if source.lstrip().lower().startswith("%%rust"):
            continue
        for line in source.splitlines():
            word = line.split()[0] if line.split() else ""
            if re.fullmatch(r"[A-Za-z_]\w*", word):
                names.add(word)
    return names


def tokens(page, css_class: str) -> list[str]:
    """The text of every span of this Pygments class in the page's sled-kv
    code blocks."""
    return page.eval_on_selector_all(
        f".highlight-sled-kv span.{css_class}", "spans => spans.map(s => s.textContent)"
    )


def open_page(page, url: str) -> int:
    response = page.goto(url, timeout=PAGE_LOAD * 1000)
    assert response is not None, url
    return response.status


def test_a_lesson_page_shows_highlighted_cells_tables_and_pictures(browser: Browser, served: str) -> None:
    SHOT_LESSON.unlink(missing_ok=True)
    page = browser.page
    nb = lesson(DRAWING_LESSON)
    assert open_page(page, f"{served}lessons/{DRAWING_LESSON}.html") == 200
    page.locator(".highlight-sled-kv").first.wait_for()

    names = command_names(nb)
    assert {"insert", "scan_prefix"} <= names, names
    coloured = set(tokens(page, COMMAND))
    assert names <= coloured, f"command names not coloured as commands: {sorted(names - coloured)}"
    assert "%draw" in tokens(page, MAGIC)

    stored = sum(
        "image/svg+xml" in output.get("data", {})
        for cell in nb["cells"]
        for output in cell.get("outputs", [])
    )
    assert stored >= 1, "the lesson stores no %draw picture"
    pictures = page.locator("img[src$='.svg']")
    assert pictures.count() == stored
    for i in range(stored):
        picture = pictures.nth(i)
        picture.scroll_into_view_if_needed()
        assert picture.is_visible()
        loaded = picture.evaluate("img => img.complete && img.naturalWidth > 0")
        assert loaded, f"the picture {picture.get_attribute('src')} did not load"
    assert page.locator("table.sled-rows").count() >= 1, "no row result shown as a table"
    assert "vnd.sled-kv+json" not in page.content()

    page.locator("img[src$='.svg']").first.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOT_LESSON))
    assert not browser.errors, browser.errors


def test_a_rust_cell_is_coloured_as_rust(browser: Browser, served: str) -> None:
    page = browser.page
    assert open_page(page, f"{served}lessons/{RUST_LESSON}.html") == 200
    rust = page.locator(".highlight-sled-kv", has=page.locator(f"span.{CELL_MAGIC}", has_text="%%rust"))
    assert rust.count() >= 1, "no %%rust cell on the page"
    assert "let" in rust.first.locator(f"span.{RUST_LET}").all_text_contents()


def test_the_language_reference_colours_its_examples(browser: Browser, served: str) -> None:
    page = browser.page
    assert open_page(page, f"{served}students/language.html") == 200
    coloured = set(tokens(page, COMMAND))
    assert {"insert", "get", "scan_prefix"} <= coloured, coloured
    assert "let" in tokens(page, RUST_LET)


def test_every_page_linked_from_the_front_page_loads(browser: Browser, served: str, site: Path) -> None:
    pages = site_links.linked_pages(site, site / "index.html")
    linked = {p.relative_to(site).as_posix() for p in pages}
    lessons = {f"lessons/{p.stem}.html" for p in (ROOT / "notebooks").glob("*.ipynb")}
    sections = {"students/index.html", "teachers/index.html", "developers/index.html"}
    assert lessons | sections <= linked, sorted((lessons | sections) - linked)
    page = browser.page
    failed = []
    for path in sorted(linked):
        status = open_page(page, served + path)
        article = page.locator("[role=main]").first
        shown = path in SPHINX_PAGES or (article.is_visible() and bool(article.inner_text().strip()))
        if status != 200 or "sled-kernel" not in page.title() or not shown:
            failed.append(f"{path}: HTTP {status}, title {page.title()!r}, article shown: {shown}")
    assert not failed, failed
    assert not browser.errors, browser.errors
