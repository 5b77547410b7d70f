"""The JupyterLab extension (labextension/) against the kernel, without a
browser: the command table it highlights from is the kernel's own, and the
kernel names its language so that JupyterLab finds it, or, without the
extension, the shell mode. test_jupyterlab.py shows both in the browser."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from types import ModuleType

import pytest
from jupyter_client.manager import start_new_kernel

from conftest import ROOT

LABEXTENSION = ROOT / "labextension"


@pytest.fixture(scope="module")
def kc() -> Iterator:
    """A client of one `sled` kernel for the tests of this file."""
    km, client = start_new_kernel(kernel_name="sled")
    yield client
    client.stop_channels()
    km.shutdown_kernel(now=True)


def commands_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "labextension_commands", LABEXTENSION / "commands.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_highlighter_knows_every_command_of_the_kernel(kc) -> None:
    commands = commands_module()
    kernel = commands.kernel_syntax(kc)
    stored = commands.stored_syntax()
    assert "insert" in kernel and "%reset" in kernel and "tx" in kernel, kernel
    problems = [f"missing: {name} ({kernel[name]})" for name in sorted(kernel.keys() - stored)]
    problems += [f"no longer in the kernel: {name}" for name in sorted(stored.keys() - kernel)]
    problems += [
        f"{name}: the kernel says `{kernel[name]}`, the extension `{stored[name]}`"
        for name in sorted(kernel.keys() & stored.keys())
        if kernel[name] != stored[name]
    ]
    assert not problems, (
        f"{commands.COMMANDS_JSON.relative_to(ROOT)} disagrees with the kernel:\n  "
        + "\n  ".join(problems)
        + "\nRewrite it with `.venv/bin/python labextension/commands.py`, then rebuild the"
        " extension (./install.sh does)."
    )


def test_the_kernel_names_the_extensions_language_with_a_shell_fallback(kc) -> None:
    kc.kernel_info()
    info = kc.get_shell_msg(timeout=20)["content"]["language_info"]
    # JupyterLab resolves an object by name, then by mime type: the name is
    # the extension's language, the mime type the shell mode's. The version
    # is for strict clients (runtimed's jupyter-protocol), JupyterLab ignores it.
    assert info["codemirror_mode"] == {"name": "sled-kv", "mime": "text/x-sh", "version": 1}, info
    assert info["mimetype"] == "text/x-sled-kv", info
    plugin = (LABEXTENSION / "src" / "index.ts").read_text()
    registered = re.search(r"addLanguage\(\{(.*?)\n\s*load:", plugin, re.DOTALL)
    assert registered, "labextension/src/index.ts registers no language"
    assert "name: 'sled-kv'" in registered[1] and "mime: 'text/x-sled-kv'" in registered[1], (
        registered[1]
    )
