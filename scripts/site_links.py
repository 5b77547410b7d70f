#!/usr/bin/env python3
"""Check every internal link of a built site: each `href` and `src` in its
HTML pages that points into the site must reach a file there, and a
`#fragment` must name an element of that page. Links to other sites are
listed by host, never fetched.

    python3 scripts/site_links.py SITE_DIR

Prints what it checked, or every broken link with the page it is on, and
exits 1 when there is one. scripts/build-docs runs it after Sphinx.
"""

from __future__ import annotations

import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINKING = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src", "source": "src"}


class Page(HTMLParser):
    """The links and the element ids of one HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])
        wanted = LINKING.get(tag)
        if wanted and values.get(wanted):
            self.links.append(values[wanted])


def read_page(path: Path, cache: dict[Path, Page]) -> Page:
    if path not in cache:
        cache[path] = Page(path.read_text(encoding="utf-8", errors="replace"))
    return cache[path]


def internal_target(site: Path, page: Path, link: str) -> tuple[Path, str] | None:
    """The file (and fragment) a link on `page` points at, or None for a link
    that leaves the site (another host, mailto:, data:, javascript:)."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    fragment = unquote(parts.fragment)
    if not parts.path:
        return page, fragment
    target = (page.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, fragment


def linked_pages(site: Path, page: Path) -> list[Path]:
    """The HTML pages of the site that `page` links to, each once, in order."""
    seen: dict[Path, None] = {}
    for link in read_page(page, {}).links:
        found = internal_target(site, page, link)
        if found and found[0].suffix == ".html" and found[0] != page:
            seen.setdefault(found[0], None)
    return list(seen)


def check(site: Path) -> tuple[list[str], int, Counter]:
    """Broken links (as lines to print), how many internal links were
    checked, and the external links counted by host."""
    site = site.resolve()
    cache: dict[Path, Page] = {}
    broken: list[str] = []
    checked = 0
    external: Counter = Counter()
    for page in sorted(site.rglob("*.html")):
        for link in read_page(page, cache).links:
            found = internal_target(site, page, link)
            if found is None:
                external[urlsplit(link).netloc or urlsplit(link).scheme] += 1
                continue
            checked += 1
            target, fragment = found
            where = page.relative_to(site)
            if not target.is_relative_to(site):
                broken.append(f"{where}: {link} leaves the site")
            elif not target.is_file():
                broken.append(f"{where}: {link} -> {target.relative_to(site)} does not exist")
            elif fragment and target.suffix == ".html" and fragment not in read_page(target, cache).ids:
                broken.append(f"{where}: {link} -> no #{fragment} in {target.relative_to(site)}")
    return broken, checked, external


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    site = Path(argv[1])
    if not (site / "index.html").is_file():
        print(f"site_links: {site} has no index.html; build the site first", file=sys.stderr)
        return 2
    broken, checked, external = check(site)
    for line in broken:
        print(f"broken link: {line}")
    hosts = ", ".join(f"{host} ({n})" for host, n in external.most_common()) or "none"
    print(f"checked {checked} internal links in {site}: {len(broken)} broken; not fetched, links to {hosts}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
