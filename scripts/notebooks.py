#!/usr/bin/env python3
"""Run the lesson notebooks with the `sled` kernel.

    python scripts/notebooks.py show [NOTEBOOK ...]     run, print the outputs as text
    python scripts/notebooks.py refresh [NOTEBOOK ...]  run, store the fresh outputs
    python scripts/notebooks.py check [NOTEBOOK ...]    run, compare with the stored outputs

With no NOTEBOOK, every `notebooks/*.ipynb` is used. Run it with the
project's environment (`.venv/bin/python`), where `./install.sh` registered
the kernel.

`refresh` writes each notebook back in a stable form, so that running it
twice gives the same bytes: no per-cell timings, no kernel version noise.
`check` exits with 1 and prints the differences when a fresh run does not
print what the stored notebook shows; `tests/python/test_notebooks.py` uses
the same functions, and the release workflow runs `check` on each platform.

A cell tagged `kills-kernel` (lesson 04's `%crash`) must kill the kernel:
the run notes the death, restarts the kernel as JupyterLab would, and goes
on with the next cell. Such a cell keeps no outputs (what reaches the
frontend before the process dies is a matter of timing), and a kernel that
survives it is an error.

A code cell tagged `nondeterministic-output` (lesson 08's timings, progress
bars and `%info`) is compared by the kinds of its outputs only: it must run
without an error it did not have before and produce the same sequence of
streams, displays and results with the same mime types, but their text may
differ. Every other cell is compared in full. `refresh` stores whatever the
run printed in such a cell, so its figures change from one refresh to the
next; nothing else does.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
KERNEL_NAME = "sled"
KERNELSPEC = {"name": "sled", "display_name": "sled KV", "language": "sled-kv"}

# The parts of a rich output that are compared and shown.
COMPARED_MIMES = ("text/plain", "text/html", "image/svg+xml", "application/vnd.sled-kv+json")
# language_info fields kept in a stored notebook; `version` is left out on
# purpose (it follows the kernel's version and would churn the file).
KEPT_LANGUAGE_INFO = ("name", "file_extension", "mimetype", "pygments_lexer", "codemirror_mode")

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# The session's temporary directory, as `%info` names it: a path whose last
# part is the kernel's prefix and the random suffix of its temporary
# directory. Stored outputs show a placeholder instead, so no run's path is
# kept in a lesson.
SESSION_DIR = re.compile(r"/(?:[^\s\"'<>/]+/)*sled-kernel-[A-Za-z0-9]{6}(?![A-Za-z0-9])")
SESSION_DIR_SHOWN = "(the session's temporary directory)"

# Cells whose output text changes from run to run (timings, sizes, the
# session's temporary path): only the kinds of their outputs are compared.
NONDETERMINISTIC = "nondeterministic-output"


def is_nondeterministic(cell: nbformat.NotebookNode) -> bool:
    return NONDETERMINISTIC in cell.get("metadata", {}).get("tags", [])


def notebook_paths(names: list[str] | None = None) -> list[Path]:
    if names:
        return [Path(n).resolve() for n in names]
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


# A Rust cell may compile (the first one builds sled): give it minutes.
RUST_CELL_TIMEOUT = 600
# The tag of a cell that kills its kernel on purpose (`%crash`).
KILLS_KERNEL = "kills-kernel"


class KernelSurvived(RuntimeError):
    """A cell tagged `kills-kernel` ran and the kernel was still alive."""


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def execute(nb: nbformat.NotebookNode, cell_timeout: int = 60) -> nbformat.NotebookNode:
    """Run a copy of `nb` in a fresh `sled` kernel; the argument is untouched.

    The kernel works in an empty scratch directory, removed afterwards, so
    the files a lesson writes (`%sample_file`, `%dump`, `%open`) never land
    in `notebooks/`."""
    fresh = copy.deepcopy(nb)

    def timeout_for(cell: nbformat.NotebookNode) -> int:
        is_rust = cell.source.lstrip().startswith("%%rust")
        return RUST_CELL_TIMEOUT if is_rust else cell_timeout

    # Streams are joined below, in the order the kernel sent them; nbclient's
    # own coalescing moves stdout ahead of stderr, which is not what a
    # frontend shows.
    with tempfile.TemporaryDirectory(prefix="sled-lesson-run-") as scratch:
        client = NotebookClient(
            fresh,
            kernel_name=KERNEL_NAME,
            timeout_func=timeout_for,
            startup_timeout=60,
            record_timing=False,
            coalesce_streams=False,
            resources={"metadata": {"path": scratch}},
        )
        run_sync(_run_cells)(client)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(out) for out in _merged_streams(cell.outputs)]
    return fresh


async def _run_cells(client: NotebookClient) -> None:
    """What `NotebookClient.execute` does, plus restarts after `kills-kernel` cells."""
    client.reset_execution_trackers()
    async with client.async_setup_kernel():
        info = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
        if info is not None and "language_info" in info["content"]:
            client.nb.metadata["language_info"] = info["content"]["language_info"]
        for index, cell in enumerate(client.nb.cells):
            if cell.cell_type != "code":
                continue
            count = client.code_cells_executed + 1
            if KILLS_KERNEL not in tags(cell):
                await client.async_execute_cell(cell, index, execution_count=count)
                continue
            try:
                await client.async_execute_cell(cell, index, execution_count=count)
            except DeadKernelError:
                pass
            else:
                raise KernelSurvived(
                    f"cell {index} is tagged {KILLS_KERNEL!r}, but the kernel was alive after it"
                )
            # As JupyterLab's server does: the same kernel, started again.
            cell.outputs = []
            cell.execution_count = None
            await client.km.restart_kernel(now=True)
            await client.kc.wait_for_ready(timeout=60)
            client.code_cells_executed = 0


def _text(value: Any) -> str:
    """Notebook text fields may be a string or a list of lines."""
    return "".join(value) if isinstance(value, list) else value


def _merged_streams(outputs: list[dict]) -> list[dict]:
    """Join neighbouring stream outputs of the same name, as a frontend shows them."""
    merged: list[dict] = []
    for out in outputs:
        if (
            out["output_type"] == "stream"
            and merged
            and merged[-1]["output_type"] == "stream"
            and merged[-1]["name"] == out["name"]
        ):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + _text(out["text"])}
        elif out["output_type"] == "stream":
            merged.append({"output_type": "stream", "name": out["name"], "text": _text(out["text"])})
        else:
            merged.append(out)
    return merged


def _kinds(outputs: list[dict]) -> list[dict]:
    """What a nondeterministic cell is held to: the kinds of its outputs,
    in order (stream names, mime types, error names), not their text."""
    kinds: list[dict] = []
    for out in outputs:
        kind = {"output_type": out["output_type"]}
        if "name" in out:
            kind["name"] = out["name"]
        if "data" in out:
            kind["mimes"] = sorted(out["data"])
        if "ename" in out:
            kind["ename"] = out["ename"]
        if "execution_count" in out:
            kind["execution_count"] = out["execution_count"]
        kinds.append(kind)
    return kinds


def comparable(nb: nbformat.NotebookNode) -> list[dict]:
    """The observable result of each code cell, in plain JSON for comparing.
    A cell tagged `nondeterministic-output` gives only the kinds of its
    outputs (see the module's docstring)."""
    cells = observed(nb)
    for cell, entry in zip((c for c in nb.cells if c.cell_type == "code"), cells):
        if is_nondeterministic(cell):
            entry[NONDETERMINISTIC] = True
            entry["outputs"] = _kinds(entry["outputs"])
    return cells


def observed(nb: nbformat.NotebookNode) -> list[dict]:
    """What each code cell showed, in full, in plain JSON."""
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in _merged_streams(cell.get("outputs", [])):
            kind = out["output_type"]
            item: dict[str, Any] = {"output_type": kind}
            if kind == "stream":
                item["name"] = out["name"]
                item["text"] = out["text"]
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                item["data"] = {
                    mime: (data[mime] if mime == "application/vnd.sled-kv+json" else _text(data[mime]))
                    for mime in COMPARED_MIMES
                    if mime in data
                }
                if kind == "execute_result":
                    item["execution_count"] = out.get("execution_count")
            elif kind == "error":
                item["ename"] = out["ename"]
                item["evalue"] = out["evalue"]
            outputs.append(item)
        cells.append(
            {
                "cell": index,
                "source": _text(cell.source),
                "execution_count": cell.get("execution_count"),
                "outputs": outputs,
            }
        )
    return cells


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip what changes from run to run, so a stored notebook is stable."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    info = nb.metadata.get("language_info")
    if info is not None:
        nb.metadata["language_info"] = {k: info[k] for k in KEPT_LANGUAGE_INFO if k in info}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("execute_result", "display_data"):
                out.setdefault("metadata", {})
                out.pop("transient", None)
            for field in ("text", "data"):
                if field in out:
                    out[field] = _without_session_dir(out[field])
    return nb


def _without_session_dir(value: Any) -> Any:
    """`value` (an output's text or mime bundle) with the session's
    temporary directory replaced by a placeholder, wherever it stands."""
    if isinstance(value, str):
        return SESSION_DIR.sub(SESSION_DIR_SHOWN, value)
    if isinstance(value, list):
        return [_without_session_dir(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_session_dir(v) for k, v in value.items()}
    return value


def as_text(nb: nbformat.NotebookNode) -> str:
    """The code cells and their outputs, the way a console would print them."""
    lines: list[str] = []
    for cell in observed(nb):
        count = cell["execution_count"] if cell["execution_count"] is not None else " "
        source = cell["source"].splitlines() or [""]
        lines.append(f"In [{count}]: {source[0]}")
        lines.extend(" " * (len(str(count)) + 7) + more for more in source[1:])
        for out in cell["outputs"]:
            kind = out["output_type"]
            if kind == "stream":
                prefix = "" if out["name"] == "stdout" else "[stderr] "
                lines.extend(prefix + line for line in out["text"].splitlines())
            elif kind == "execute_result":
                lines.append(f"Out[{out['execution_count']}]:")
                lines.extend(out["data"].get("text/plain", "").splitlines())
            elif kind == "display_data":
                lines.extend(out["data"].get("text/plain", "").splitlines())
            elif kind == "error":
                lines.append(f"{out['ename']}: {out['evalue']}")
        lines.append("")
    return ANSI.sub("", "\n".join(lines))


def differences(stored: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> str:
    """A unified diff of the compared outputs (`comparable`) of a stored
    notebook and a fresh run of it; empty when they agree."""
    expected, actual = comparable(stored), comparable(fresh)
    if actual == expected:
        return ""

    def render(cells: list[dict]) -> list[str]:
        return json.dumps(cells, indent=2, sort_keys=True, ensure_ascii=False).splitlines()

    diff = difflib.unified_diff(render(expected), render(actual), "stored outputs", "fresh run", lineterm="", n=4)
    return "\n".join(diff)


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["show", "refresh", "check"])
    parser.add_argument("notebooks", nargs="*", help="default: notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    args = parser.parse_args(argv)

    paths = notebook_paths(args.notebooks)
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        stored = read(path)
        fresh = execute(stored, cell_timeout=args.timeout)
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if args.command == "show":
            print(f"--- {shown} ---")
            print(as_text(fresh))
        elif args.command == "check":
            diff = differences(stored, fresh)
            print(f"{shown}: {'differs from its stored outputs' if diff else 'every output as stored'}")
            if diff:
                print(diff)
                failed += 1
        else:
            write(normalise(fresh), path)
            cells = observed(fresh)
            print(f"stored outputs of {len(cells)} code cells in {shown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
