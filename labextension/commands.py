"""The kernel's command table, as the highlighter needs it.

The JupyterLab extension reads `src/commands.json`: every command name and
alias the kernel knows, each with its syntax line (`scan_prefix PREFIX
[limit N] [rev]`). From the syntax it tells a key from a value, the rest of an
`echo` line from words, a `%time LINE` from its line, and where `limit` and
`rev` are options. This module asks a running kernel for the same facts (the
names through completion at an empty line, the syntax through `%help NAME`),
so the file is written from the kernel, never by hand:

    .venv/bin/python labextension/commands.py          # rewrite src/commands.json
    .venv/bin/python labextension/commands.py --check  # exit 1 when it is stale

tests/python/test_labextension.py runs the same comparison, so a command added
to the kernel and not here fails the test suite with the command to run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMANDS_JSON = HERE / "src" / "commands.json"
NOTE = (
    "Written by labextension/commands.py from the kernel (completion at an empty "
    "line gives the names, `%help NAME` the syntax); do not edit by hand. "
    "tests/python/test_labextension.py fails when it is stale."
)


def kernel_syntax(kc, timeout: float = 30) -> dict[str, str]:
    """Every name the kernel behind the client `kc` completes at the start of
    a line, mapped to the first line of its `%help`: the command's syntax."""
    kc.complete("", 0)
    names = kc.get_shell_msg(timeout=timeout)["content"]["matches"]
    return {name: help_text(kc, name, timeout).splitlines()[0].strip() for name in names}


def help_text(kc, name: str, timeout: float) -> str:
    """What `%help NAME` shows."""
    shown: list[str] = []
    errors: list[str] = []

    def collect(msg: dict) -> None:
        content = msg["content"]
        if msg["msg_type"] in ("execute_result", "display_data"):
            shown.append(content["data"]["text/plain"])
        elif msg["msg_type"] == "stream":
            shown.append(content["text"])
        elif msg["msg_type"] == "error":
            errors.append(f"{content['ename']}: {content['evalue']}")

    kc.execute_interactive(f"%help {name}", output_hook=collect, timeout=timeout)
    if errors or not "".join(shown).strip():
        raise RuntimeError(f"`%help {name}` gave no syntax: {errors or 'no output'}")
    return "".join(shown)


def stored_syntax() -> dict[str, str]:
    return json.loads(COMMANDS_JSON.read_text())["syntax"]


def render(syntax: dict[str, str]) -> str:
    data = {"note": NOTE, "syntax": dict(sorted(syntax.items()))}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    from jupyter_client.manager import start_new_kernel

    check = "--check" in argv
    km, kc = start_new_kernel(kernel_name="sled")
    try:
        syntax = kernel_syntax(kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if check:
        if COMMANDS_JSON.exists() and stored_syntax() == syntax:
            print(f"{COMMANDS_JSON} matches the kernel ({len(syntax)} names)")
            return 0
        print(f"{COMMANDS_JSON} is stale: run {sys.executable} {__file__}", file=sys.stderr)
        return 1
    COMMANDS_JSON.write_text(render(syntax))
    print(f"wrote {len(syntax)} names to {COMMANDS_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
