"""The Pygments lexer that makes shared lessons readable: `jupyter nbconvert`
highlights sled-kv cells with it, found by the name the kernel advertises."""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Operator, String

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def tokens(code: str) -> list[tuple[object, str]]:
    lexer = get_lexer_by_name("sled-kv")
    return [(tok, text) for tok, text in lexer.get_tokens(code) if text.strip()]


def test_the_kernel_names_a_lexer_that_is_installed() -> None:
    km, kc = start_new_kernel(kernel_name="sled")
    try:
        kc.kernel_info()
        info = kc.get_shell_msg(timeout=20)["content"]["language_info"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    lexer = get_lexer_by_name(info["pygments_lexer"])
    assert lexer.name == "sled-kv"
    assert info["file_extension"] in [f.lstrip("*") for f in lexer.filenames]


def test_every_command_the_kernel_completes_is_a_keyword() -> None:
    km, kc = start_new_kernel(kernel_name="sled")
    try:
        kc.complete("", 0)
        names = kc.get_shell_msg(timeout=20)["content"]["matches"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    assert "insert" in names and "%reset" in names, names
    for name in names:
        first = tokens(f"{name} k\n")[0]
        assert first[1] == name, (name, first)
        assert first[0] in Keyword or first[0] in Name.Builtin, (name, first)


def test_keys_values_and_comments_get_their_own_tokens() -> None:
    got = tokens('insert todo:001 "buy\\n boots"  # why\nget b"\\x00" \'C:\\temp\'\n')
    kinds = {text: tok for tok, text in got}
    assert kinds["insert"] in Keyword
    assert kinds["todo:001"] in Name
    assert kinds["\\n"] in String.Escape
    assert kinds["# why"] in Comment
    assert kinds["\\x00"] in String.Escape
    assert kinds["'C:\\temp'"] in String


def test_every_comparison_of_expect_is_an_operator() -> None:
    for op in ["==", "!=", "<", "<=", ">", ">="]:
        got = tokens(f"expect get balance:alice {op} 0\n")
        assert got[3] == (Operator, op), (op, got)
    got = tokens("expect get gone == <missing>\n")
    assert got[-1] == (Name.Variable, "<missing>"), got


def test_a_rust_cell_is_rust_after_its_first_line() -> None:
    got = tokens("%%rust\nlet db = sled::open(DB_PATH)?;\ndrop(db); // done\n")
    assert got[0] == (Keyword.Namespace, "%%rust"), got
    kinds = {text.strip(): tok for tok, text in got}
    # Rust's tokens, from Pygments' Rust lexer: `let` declares, `//` comments
    assert kinds["let"] in Keyword.Declaration, got
    assert kinds["// done"] in Comment.Single, got
    assert kinds["drop"] in Name.Builtin, got
    # where the kernel finds a Rust cell: blank lines first, any case
    assert tokens("\n  %%RUST\nlet x = 1;\n")[1][0] in Keyword.Declaration
    # and where it does not: `%%rusty`, `%%rust` below another line, after echo
    for kv in ["%%rusty\nlet x = 1;\n", "get a\n%%rust\nlet x = 1;\n"]:
        let = [tok for tok, text in tokens(kv) if text == "let"]
        assert let and let[0] not in Keyword.Declaration, (kv, tokens(kv))
    assert tokens("echo %%rust\n")[1][0] in String.Doc


@functools.cache
def nbconvert_html(notebook: Path) -> str:
    """The lesson exported by `jupyter nbconvert --to html` (once per run)."""
    with tempfile.TemporaryDirectory(prefix="sled-nbconvert-") as tmp:
        out = Path(tmp) / "lesson.html"
        subprocess.run(
            [sys.executable, "-m", "nbconvert", "--to", "html", "--output", str(out), str(notebook)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return out.read_text()


def test_nbconvert_html_shows_rust_cells_as_rust() -> None:
    html = nbconvert_html(ROOT / "notebooks" / "06-rust-cells.ipynb")
    # `let` as Pygments' Rust lexer marks it (Keyword.Declaration), and the
    # cell marker as the sled-kv lexer does.
    assert '<span class="kd">let</span>' in html
    assert '<span class="kn">%%rust</span>' in html


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_nbconvert_html_highlights_the_cells(notebook: Path) -> None:
    html = nbconvert_html(notebook)
    # Pygments wraps keywords in <span class="k">; plain text would have none.
    assert '<span class="k">' in html
    assert "No lexer found" not in html
