#!/usr/bin/env python3
"""Take the picture of a lesson in JupyterLab that the README and the
documentation site show: docs/_static/lesson-in-jupyterlab.png.

    .venv/bin/python scripts/readme_picture.py [OUT.png]

It does what the browser test does, with the browser test's own helpers
(tests/python/test_jupyterlab.py): JupyterLab from .venv on a scratch copy
of notebooks/, Debian's headless Chromium through Playwright, lesson 01 run
with Run All. Then it scrolls to the prefix scan and takes a screenshot.
Run it again when JupyterLab or lesson 01 changes how they look; commit
the PNG it writes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))

import test_jupyterlab as lab  # noqa: E402  (the browser test's helpers)

OUT = ROOT / "docs" / "_static" / "lesson-in-jupyterlab.png"
VIEWPORT = {"width": 1000, "height": 700}
# The picture shows a read and its result, then the prefix scan's table.
CELL = "get todo:002"
# Not what a student's JupyterLab has (the test tools in .venv bring them).
NOT_A_STUDENTS = ("@jupyter/nbgrader", "@jupyter-notebook/lab-extension")


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    out = Path(argv[1]) if len(argv) > 1 else OUT
    with tempfile.TemporaryDirectory(prefix="sled-picture-") as tmp:
        servers = lab.serve_jupyterlab(
            Path(tmp), ROOT / ".venv", Path(tmp) / "jupyterlab.log", disable=NOT_A_STUDENTS
        )
        server = next(servers)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(lab.CHROMIUM), headless=True, args=lab.CHROMIUM_ARGS
                )
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(lab.UI_STEP * 1000)
                lab.open_without_running(page, server, lab.NOTEBOOK)
                lab.run_all(page, server)
                lab.menu(page, "File", "docmanager:save")
                # The notebook gets the whole width: the file browser closes.
                page.locator(".jp-SideBar .lm-TabBar-tab.lm-mod-current").first.click()
                cell = page.locator(".jp-CodeCell", has_text=CELL).first
                cell.scroll_into_view_if_needed()
                page.evaluate(
                    "(el) => el.closest('.jp-WindowedPanel-outer').scrollBy(0, "
                    "el.getBoundingClientRect().top - 150)",
                    cell.element_handle(),
                )
                page.mouse.move(0, 0)
                # two animation frames: the scrolled notebook is painted
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            servers.close()
    print(f"wrote {out} ({out.stat().st_size // 1024} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
