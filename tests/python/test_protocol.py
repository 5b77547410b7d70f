"""The kernel as a real frontend sees it: jupyter_client's KernelManager and
blocking client against the `sled` kernelspec in .venv.

Each test gets a kernel of its own and every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from conftest import KERNEL_BIN, spec_program

TIMEOUT = 20  # seconds for any single reply


def sled_temp_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("sled-kernel-*"))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# sled-kernel-* temp dirs that existed before the `kernel` fixture started its kernel
DIRS_BEFORE: set[Path] = set()


@pytest.fixture
def kernel() -> Iterator[tuple[KernelManager, Any]]:
    DIRS_BEFORE.clear()
    DIRS_BEFORE.update(sled_temp_dirs())
    km = KernelManager(kernel_name="sled")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        yield km, kc
    finally:
        kc.stop_channels()
        if km.has_kernel:
            # graceful, so the kernel removes its database directory itself
            km.shutdown_kernel(now=False)


def shell_reply(kc, msg_id: str, timeout: float = TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def iopub_until_idle(kc, msg_id: str, timeout: float = TIMEOUT) -> list[dict]:
    """Every IOPub message whose parent is `msg_id`, up to and including idle."""
    deadline = time.monotonic() + timeout
    got = []
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        got.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return got


def wait_until_printed(kc, msg_id: str, text: str) -> None:
    """Until the cell's output shows `text`: proof that it runs. (The kernel
    sends what a cell printed before the cell waits, e.g. at `%sleep`.)"""
    deadline = time.monotonic() + TIMEOUT
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "stream"
            and text in msg["content"]["text"]
        ):
            return


def wait_until_delivered(pid: int, signum: int) -> None:
    """Until `signum` is no longer pending for the process: its handler ran
    (or it did what it does by default)."""
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + TIMEOUT
    while status.exists() and time.monotonic() < deadline:
        pending = 0
        for line in status.read_text().splitlines():
            if line.startswith(("SigPnd:", "ShdPnd:")):
                pending |= int(line.split()[1], 16)
        if not pending & (1 << (signum - 1)):
            return
        time.sleep(0.01)


def run_cell(kc, code: str, timeout: float = TIMEOUT) -> tuple[dict, list[dict]]:
    msg_id = kc.execute(code)
    reply = shell_reply(kc, msg_id, timeout)
    return reply, iopub_until_idle(kc, msg_id, timeout)


def outputs(iopub: list[dict]) -> list[tuple]:
    """The outputs between busy and idle: stream text joined per name, rich
    outputs by their text/plain, errors by name and value."""
    seen: list[tuple] = []
    for msg in iopub:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            if seen and seen[-1][:2] == ("stream", content["name"]):
                seen[-1] = ("stream", content["name"], seen[-1][2] + content["text"])
            else:
                seen.append(("stream", content["name"], content["text"]))
        elif kind in ("execute_result", "display_data"):
            seen.append((kind, content["data"]["text/plain"]))
        elif kind == "error":
            seen.append(("error", content["ename"], content["evalue"]))
    return seen


def check_envelope(code: str, reply: dict, iopub: list[dict]) -> None:
    """busy, execute_input, outputs, idle; all from one kernel session."""
    kinds = [m["msg_type"] for m in iopub]
    assert kinds[0] == "status" and iopub[0]["content"]["execution_state"] == "busy", kinds
    assert kinds[1] == "execute_input", kinds
    assert iopub[1]["content"]["code"] == code
    assert iopub[1]["content"]["execution_count"] == reply["content"]["execution_count"]
    assert kinds[-1] == "status" and iopub[-1]["content"]["execution_state"] == "idle", kinds
    allowed = {"stream", "display_data", "execute_result", "error"}
    assert set(kinds[2:-1]) <= allowed, kinds
    sessions = {m["header"]["session"] for m in iopub} | {reply["header"]["session"]}
    assert len(sessions) == 1, sessions


def flush_free(text: str) -> str:
    """`flushed N bytes`: N depends on sled's log layout, not on the lesson."""
    return re.sub(r"^flushed \d+ bytes$", "flushed N bytes", text, flags=re.M)


# The seed lesson's steps, and what each prints: the seed program's lines.
SEED_CELLS: list[tuple[str, list[tuple]]] = [
    ("%reset", [("stream", "stdout", "opened fresh database\n")]),
    (
        "echo insert 4 keys:\n"
        'insert todo:001 "buy boots"\n'
        'insert todo:002 "lift legs"\n'
        'insert todo:003 "call mom"\n'
        'insert note:042 "GTA loads slow"\n'
        "flush",
        [
            (
                "stream",
                "stdout",
                "insert 4 keys:\n"
                'put todo:001 = "buy boots"\n'
                'put todo:002 = "lift legs"\n'
                'put todo:003 = "call mom"\n'
                'put note:042 = "GTA loads slow"\n'
                "flushed N bytes\n",
            )
        ],
    ),
    ("get todo:002", [("execute_result", 'get todo:002 -> "lift legs"')]),
    (
        "scan_prefix todo:",
        [
            (
                "execute_result",
                'scan prefix "todo:":\n'
                '  todo:001 = "buy boots"\n'
                '  todo:002 = "lift legs"\n'
                '  todo:003 = "call mom"',
            )
        ],
    ),
    (
        "remove todo:001\nflush",
        [("stream", "stdout", 'remove todo:001 (was "buy boots")\nflushed N bytes\n')],
    ),
    (
        "echo final keys (sorted):\nkeys",
        [
            ("stream", "stdout", "final keys (sorted):\n"),
            ("execute_result", "  note:042\n  todo:002\n  todo:003"),
        ],
    ),
]


def test_installed_kernelspec_is_this_build() -> None:
    spec = KernelSpecManager().get_kernel_spec("sled")
    assert Path(spec.resource_dir).resolve().is_relative_to(Path(sys.prefix).resolve())
    assert Path(spec_program(spec.argv)).resolve() == KERNEL_BIN.resolve()
    assert spec.argv[-3:] == ["kernel", "--connection-file", "{connection_file}"]
    assert spec.display_name == "sled KV"
    assert spec.language == "sled-kv"
    assert spec.interrupt_mode == "message"
    files = sorted(p.name for p in Path(spec.resource_dir).iterdir())
    assert files == ["kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]
    raw = json.loads((Path(spec.resource_dir) / "kernel.json").read_text())
    assert raw["kernel_protocol_version"] == "5.5"
    assert raw["metadata"] == {}


def check_kernel_info(reply: dict) -> None:
    content = reply["content"]
    assert content["status"] == "ok"
    assert content["protocol_version"] == "5.5"
    assert content["implementation"] and content["implementation_version"]
    assert content["banner"].strip()
    assert isinstance(content.get("help_links", []), list)
    info = content["language_info"]
    assert info["name"] == "sled-kv"
    assert info["file_extension"] == ".sledkv"
    assert info["mimetype"] and info["version"]
    assert "iopub_welcome" in content["supported_features"]
    assert reply["header"]["version"] >= "5.3"


def test_kernel_info_on_shell_and_control(kernel) -> None:
    km, kc = kernel
    msg_id = kc.kernel_info()
    shell = shell_reply(kc, msg_id)
    check_kernel_info(shell)
    kinds = [m["msg_type"] for m in iopub_until_idle(kc, msg_id)]
    assert kinds == ["status", "status"]

    request = kc.session.msg("kernel_info_request")
    kc.control_channel.send(request)
    deadline = time.monotonic() + TIMEOUT
    while True:
        control = kc.control_channel.get_msg(timeout=max(0.1, deadline - time.monotonic()))
        if control["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            break
    check_kernel_info(control)
    assert control["msg_type"] == "kernel_info_reply"
    assert control["content"] == shell["content"]
    states = [m["content"]["execution_state"] for m in iopub_until_idle(kc, request["header"]["msg_id"])]
    assert states == ["busy", "idle"]


def test_seed_lesson_cells(kernel) -> None:
    km, kc = kernel
    for number, (code, expected) in enumerate(SEED_CELLS, start=1):
        reply, iopub = run_cell(kc, code)
        assert reply["content"]["status"] == "ok", (code, reply["content"])
        assert reply["content"]["execution_count"] == number
        check_envelope(code, reply, iopub)
        got = [
            (kind, *[flush_free(part) if isinstance(part, str) else part for part in rest])
            for kind, *rest in outputs(iopub)
        ]
        assert got == expected, f"cell {number}:\n{code}"
    # The rows came with their rich forms too.
    _, iopub = run_cell(kc, "scan_prefix todo:")
    (result,) = [m for m in iopub if m["msg_type"] == "execute_result"]
    assert {"text/plain", "text/html", "application/vnd.sled-kv+json"} <= set(result["content"]["data"])


def test_interrupt_message_stops_a_sleeping_cell(kernel) -> None:
    km, kc = kernel
    msg_id = kc.execute("echo sleeping\n%sleep 30")
    wait_until_printed(kc, msg_id, "sleeping")
    started = time.monotonic()
    km.interrupt_kernel()  # interrupt_mode "message": an interrupt_request on control
    reply = shell_reply(kc, msg_id, timeout=10)
    assert time.monotonic() - started < 5, "the interrupt took too long to land"
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "Interrupted"
    errors = [m for m in iopub_until_idle(kc, msg_id) if m["msg_type"] == "error"]
    assert [e["content"]["ename"] for e in errors] == ["Interrupted"]

    reply, iopub = run_cell(kc, "echo still here")
    assert reply["content"]["status"] == "ok"
    assert outputs(iopub) == [("stream", "stdout", "still here\n")]


def test_sigint_interrupts_and_never_kills(kernel) -> None:
    km, kc = kernel
    pid = km.provisioner.process.pid
    # While idle: jupyter_client sends SIGINT like this before shutting down.
    os.kill(pid, signal.SIGINT)
    wait_until_delivered(pid, signal.SIGINT)
    assert km.is_alive()
    reply, iopub = run_cell(kc, "echo alive")
    assert outputs(iopub) == [("stream", "stdout", "alive\n")]

    # While a cell runs: it stops with Interrupted.
    msg_id = kc.execute("echo sleeping\n%sleep 30")
    wait_until_printed(kc, msg_id, "sleeping")
    os.kill(pid, signal.SIGINT)
    reply = shell_reply(kc, msg_id, timeout=10)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "Interrupted"
    iopub_until_idle(kc, msg_id)
    assert km.is_alive()


def test_restart_gives_a_fresh_database(kernel) -> None:
    km, kc = kernel
    reply, iopub = run_cell(kc, 'insert restart:key "before"')
    assert outputs(iopub) == [("stream", "stdout", 'put restart:key = "before"\n')]
    old_pid = km.provisioner.process.pid
    old_dirs = sled_temp_dirs() - DIRS_BEFORE
    assert old_dirs, "the kernel has no sled-kernel-* temp dir"

    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=30)
    assert km.provisioner.process.pid != old_pid
    assert not pid_alive(old_pid) or _is_zombie(old_pid)

    reply, iopub = run_cell(kc, "get restart:key")
    assert outputs(iopub) == [("execute_result", "get restart:key -> <missing>")]
    assert reply["content"]["execution_count"] == 1, "a restarted kernel counts from 1 again"
    for d in old_dirs:
        assert not d.exists(), f"the old kernel left {d} behind"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return False


def test_shutdown_exits_cleanly_and_removes_the_database() -> None:
    before = sled_temp_dirs()
    km = KernelManager(kernel_name="sled")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        reply, iopub = run_cell(kc, "insert k v\nflush")
        assert reply["content"]["status"] == "ok"
        mine = sled_temp_dirs() - before
        assert len(mine) == 1, f"expected one new sled-kernel-* temp dir, found {mine}"
        process = km.provisioner.process
        started = time.monotonic()
        km.shutdown_kernel(now=False)  # shutdown_request on control, then wait
        assert time.monotonic() - started < 5, "the kernel was slow to exit"
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    assert process.poll() == 0, f"the kernel did not exit by itself (code {process.poll()})"
    assert not pid_alive(process.pid) or _is_zombie(process.pid)
    assert sled_temp_dirs() - before == set(), "the session database outlived the kernel"
