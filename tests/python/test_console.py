"""`jupyter console`, the terminal frontend, with the sled kernel: `exit`
ends it as it ends an IPython session (the ask_exit payload), and the
console shuts down the kernel it started."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

JUPYTER = Path(sys.executable).parent / "jupyter"


def test_exit_and_quit_send_ask_exit_in_the_reply() -> None:
    km, kc = start_new_kernel(kernel_name="sled")
    try:
        for code in ["exit", "quit"]:
            reply = kc.execute_interactive(code, timeout=20)
            assert reply["content"]["status"] == "ok"
            assert reply["content"]["payload"] == [{"source": "ask_exit", "keepkernel": False}]
        # The kernel itself goes on: closing is the frontend's decision.
        reply = kc.execute_interactive("echo still here", timeout=20)
        assert reply["content"]["payload"] == []
    finally:
        kc.stop_channels()
        km.shutdown_kernel()


def test_exit_ends_jupyter_console_and_the_kernel_it_started(tmp_path: Path) -> None:
    kernel_tmp = tmp_path / "tmp"
    kernel_tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(kernel_tmp))
    # Lines after `exit` must never run.
    typed = "insert greeting hello\nget greeting\nexit\necho never\n"
    done = subprocess.run(
        [str(JUPYTER), "console", "--kernel", "sled", "--simple-prompt"],
        input=typed,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert 'put greeting = "hello"' in done.stdout, done.stdout
    assert 'get greeting -> "hello"' in done.stdout, done.stdout
    assert "never" not in done.stdout, done.stdout
    # The console shut its kernel down: the kernel removes its session
    # database as it stops.
    deadline = time.monotonic() + 20
    while list(kernel_tmp.glob("sled-kernel-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(kernel_tmp.glob("sled-kernel-*")), "the kernel did not shut down"
