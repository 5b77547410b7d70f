#!/usr/bin/env python3
"""A class on JupyterHub: students who all run a lesson at the same moment,
each in a kernel of their own, the way their browsers would.

    python scripts/hub_class.py --hub http://127.0.0.1:8000 --token TOKEN [--students 5]

For every student (users class-1 ... class-N) it creates the user, starts
their server, starts a `sled` kernel through that server's REST API and opens
the kernel's websocket, as JupyterLab does. Once every kernel has answered,
all students run the lesson's code cells at the same moment, one cell after
another, and every output is compared with the one stored in the notebook.
Then each student writes a key of their own and, when all have, reads the
prefix back: nobody may see another's key. Last, their servers are stopped
and the users removed. It prints what it measured and exits non-zero when
anything was wrong.

The token must be allowed to create users, start and stop their servers and
use them (scopes admin:users, admin:servers, access:servers): the `teacher`
service of deploy/jupyterhub_config.py is. tests/python/test_jupyterhub.py
and benches/jupyterhub_class.py run the same code on a hub they start with
`start_local_hub`. It needs tornado, nbformat and nbclient, which every
Jupyter environment has.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import difflib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import quote

import nbformat
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebooks  # noqa: E402  (scripts/notebooks.py: reading and comparing lessons)

ROOT = Path(__file__).resolve().parent.parent
HUB_CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
LESSON_01 = ROOT / "notebooks" / "01-embedded-kv-with-sled.ipynb"


class ClassError(Exception):
    """Something the hub or a kernel did wrong, said in a sentence."""


class SocketClosed(ClassError):
    """The server closed a kernel's websocket."""


# ------------------------------------------------------------------ lessons


@dataclass
class Lesson:
    """What every student runs, and how to check it."""

    name: str
    cells: list[str]
    # The stored notebook (outputs compared with `notebooks.comparable`), or
    # None when there is nothing stored to compare with.
    stored: object | None
    # Code that stores a key only `student` writes, and code that reads back
    # the keys every student wrote (in their own kernel: they must see one).
    write_mine: Callable[[str], str]
    read_all: str

    @classmethod
    def from_notebook(cls, path: Path) -> Lesson:
        stored = notebooks.read(path)
        cells = [c.source for c in stored.cells if c.cell_type == "code"]
        return cls(
            name=path.name,
            cells=cells,
            stored=stored,
            write_mine=lambda student: f"insert whoami:{student} {student}",
            read_all="scan_prefix whoami:",
        )


# --------------------------------------------------------- kernel websocket


@dataclass
class Execution:
    code: str
    outputs: list[dict]
    execution_count: int | None
    status: str
    seconds: float  # execute_request sent to the reply and `idle`, both received

    def text(self) -> str:
        """Everything the cell showed, as plain text."""
        parts = []
        for out in self.outputs:
            if out["output_type"] == "stream":
                parts.append(out["text"])
            elif out["output_type"] in ("execute_result", "display_data"):
                parts.append(out["data"].get("text/plain", ""))
            elif out["output_type"] == "error":
                parts.append(f"{out['ename']}: {out['evalue']}")
        return "\n".join(parts)


class KernelSocket:
    """A kernel's websocket (`/api/kernels/ID/channels`), as JupyterLab uses it:
    Jupyter messages as JSON text frames with a `channel` field."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.session = uuid.uuid4().hex
        self.waiting: dict[str, asyncio.Queue] = {}
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, url: str, token: str, timeout: float) -> KernelSocket:
        request = HTTPRequest(
            url,
            headers={"Authorization": f"token {token}"},
            connect_timeout=timeout,
            request_timeout=timeout,
        )
        conn = await websocket_connect(request, max_message_size=256 * 1024 * 1024)
        return cls(conn)

    async def _read(self) -> None:
        while True:
            raw = await self.conn.read_message()
            if raw is None:
                break
            if isinstance(raw, bytes):
                continue  # binary frames carry buffers; nothing here uses them
            msg = json.loads(raw)
            parent = msg.get("parent_header", {}).get("msg_id")
            if parent in self.waiting:
                self.waiting[parent].put_nowait(msg)
        for queue in self.waiting.values():
            queue.put_nowait(None)  # the socket closed

    async def _send(self, channel: str, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        self.waiting[msg_id] = asyncio.Queue()
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "student",
            "session": self.session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
        await self.conn.write_message(json.dumps(message))
        return msg_id

    async def _next(self, msg_id: str, deadline: float, what: str) -> dict:
        left = deadline - time.monotonic()
        try:
            msg = await asyncio.wait_for(self.waiting[msg_id].get(), max(left, 0.001))
        except asyncio.TimeoutError:
            raise ClassError(f"no answer to {what} in time") from None
        if msg is None:
            raise SocketClosed(f"the kernel's websocket closed during {what}")
        return msg

    async def kernel_info(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        msg_id = await self._send("shell", "kernel_info_request", {})
        try:
            while True:
                msg = await self._next(msg_id, deadline, "kernel_info_request")
                if msg["msg_type"] == "kernel_info_reply":
                    return msg["content"]
        finally:
            del self.waiting[msg_id]

    async def execute(self, code: str, timeout: float) -> Execution:
        start = time.monotonic()
        deadline = start + timeout
        msg_id = await self._send(
            "shell",
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        outputs = Outputs()
        reply = None
        idle = False
        try:
            while reply is None or not idle:
                msg = await self._next(msg_id, deadline, f"the cell {code[:40]!r}")
                kind = msg["msg_type"]
                if kind == "execute_reply":
                    reply = msg["content"]
                elif kind == "status":
                    idle = msg["content"]["execution_state"] == "idle"
                else:
                    outputs.add(kind, msg["content"])
        finally:
            del self.waiting[msg_id]
        return Execution(
            code,
            outputs.items,
            reply.get("execution_count"),
            reply["status"],
            time.monotonic() - start,
        )

    async def close(self) -> None:
        self.conn.close()
        try:
            await asyncio.wait_for(self.reader, 10)
        except asyncio.TimeoutError:
            self.reader.cancel()


class Outputs:
    """IOPub messages turned into a cell's outputs, as a frontend keeps them
    (display updates and clear_output applied)."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.by_display: dict[str, list[int]] = {}
        self.clear_on_next = False

    def add(self, kind: str, content: dict) -> None:
        if kind == "clear_output":
            if content.get("wait"):
                self.clear_on_next = True
            else:
                self.items, self.by_display = [], {}
            return
        if kind == "update_display_data":
            for index in self.by_display.get(content.get("transient", {}).get("display_id"), []):
                self.items[index]["data"] = content["data"]
                self.items[index]["metadata"] = content.get("metadata", {})
            return
        if kind == "stream":
            out = {"output_type": "stream", "name": content["name"], "text": content["text"]}
        elif kind in ("execute_result", "display_data"):
            out = {"output_type": kind, "data": content["data"], "metadata": content.get("metadata", {})}
            if kind == "execute_result":
                out["execution_count"] = content.get("execution_count")
        elif kind == "error":
            out = {
                "output_type": "error",
                "ename": content["ename"],
                "evalue": content["evalue"],
                "traceback": content.get("traceback", []),
            }
        else:
            return  # execute_input, comm messages: not outputs
        if self.clear_on_next:
            self.items, self.by_display, self.clear_on_next = [], {}, False
        display_id = content.get("transient", {}).get("display_id")
        if display_id:
            self.by_display.setdefault(display_id, []).append(len(self.items))
        self.items.append(out)


def compare(lesson: Lesson, executions: list[Execution]) -> list[str]:
    """What differs between a student's run and the stored notebook."""
    if lesson.stored is None:
        return [f"cell {e.code[:40]!r} failed: {e.text()[:200]}" for e in executions if e.status != "ok"]
    actual = copy.deepcopy(lesson.stored)
    code_cells = [c for c in actual.cells if c.cell_type == "code"]
    for cell, run in zip(code_cells, executions):
        cell.outputs = [nbformat.from_dict(o) for o in run.outputs]
        cell.execution_count = run.execution_count
    want, got = notebooks.comparable(lesson.stored), notebooks.comparable(actual)
    problems = []
    for expected, seen in zip(want, got):
        if expected != seen:
            diff = difflib.unified_diff(
                json.dumps(expected, indent=1, sort_keys=True).splitlines(),
                json.dumps(seen, indent=1, sort_keys=True).splitlines(),
                "stored",
                "this run",
                lineterm="",
                n=2,
            )
            problems.append(f"cell {expected['cell']} differs:\n" + "\n".join(diff))
    if len(got) != len(want):
        problems.append(f"ran {len(got)} code cells, the notebook has {len(want)}")
    return problems


# --------------------------------------------------------------------- hub


class Hub:
    """JupyterHub's REST API, and each student's server behind its proxy."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = AsyncHTTPClient(force_instance=True, max_clients=200)

    async def call(self, method: str, path: str, body=None, timeout: float = 120, ok=(200, 201, 202, 204)):
        request = HTTPRequest(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            body=json.dumps(body) if body is not None else (b"" if method in ("POST", "PATCH") else None),
            request_timeout=timeout,
            connect_timeout=timeout,
        )
        response = await self.http.fetch(request, raise_error=False)
        if response.code not in ok:
            text = (response.body or b"").decode(errors="replace")[:400]
            raise ClassError(f"{method} {path} answered {response.code}: {text or response.reason}")
        return response.code, json.loads(response.body) if response.body else None

    async def add_users(self, names: list[str]) -> None:
        _, existing = await self.call("GET", "/hub/api/users?limit=10000")
        have = {user["name"] for user in existing}
        missing = [n for n in names if n not in have]
        if missing:
            await self.call("POST", "/hub/api/users", {"usernames": missing})

    async def start_server(self, name: str, timeout: float) -> float:
        """Start `name`'s server; seconds until the hub reports it ready."""
        start = time.monotonic()
        await self.call("POST", f"/hub/api/users/{quote(name)}/server", timeout=timeout)
        # The progress event stream ends when the spawn has finished, with a
        # last event that says whether the server is ready.
        events: list[dict] = []
        pending = bytearray()

        def on_chunk(chunk: bytes) -> None:
            pending.extend(chunk)
            while b"\n\n" in pending:
                block, _, rest = bytes(pending).partition(b"\n\n")
                pending[:] = rest
                for line in block.decode().splitlines():
                    if line.startswith("data:"):
                        events.append(json.loads(line[5:]))

        request = HTTPRequest(
            f"{self.url}/hub/api/users/{quote(name)}/server/progress",
            headers={"Authorization": f"token {self.token}", "Accept": "text/event-stream"},
            streaming_callback=on_chunk,
            request_timeout=timeout,
            connect_timeout=timeout,
        )
        await self.http.fetch(request)
        if not events or not events[-1].get("ready"):
            last = events[-1] if events else {}
            raise ClassError(f"{name}'s server did not start: {last.get('message', 'no progress events')}")
        return time.monotonic() - start

    async def stop_server(self, name: str, timeout: float) -> None:
        code, _ = await self.call("DELETE", f"/hub/api/users/{quote(name)}/server", timeout=timeout)
        deadline = time.monotonic() + timeout
        while code == 202:  # stopping: the user model shows when it is done
            _, user = await self.call("GET", f"/hub/api/users/{quote(name)}")
            if not user.get("servers"):
                return
            if time.monotonic() > deadline:
                raise ClassError(f"{name}'s server did not stop within {timeout:.0f}s")
            await asyncio.sleep(0.25)

    async def delete_user(self, name: str) -> None:
        await self.call("DELETE", f"/hub/api/users/{quote(name)}", ok=(204, 404))

    async def start_kernel(self, name: str, kernel_name: str, timeout: float) -> str:
        _, model = await self.call(
            "POST", f"/user/{quote(name)}/api/kernels", {"name": kernel_name}, timeout=timeout
        )
        return model["id"]

    def kernel_socket_url(self, name: str, kernel_id: str) -> str:
        base = "ws" + self.url[len("http") :]
        return f"{base}/user/{quote(name)}/api/kernels/{kernel_id}/channels"


# ------------------------------------------------------------------- class


def owners(text: str) -> set[str]:
    """The students whose `whoami:NAME` keys appear in `text`."""
    return set(re.findall(r"whoami:([\w.-]+)", text))


class Gate:
    """Lets everyone through once `count` have arrived (asyncio.Barrier, which
    needs Python 3.11, for one use)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.open = asyncio.Event()

    async def wait(self) -> None:
        self.count -= 1
        if self.count <= 0:
            self.open.set()
        await self.open.wait()


@dataclass
class Student:
    name: str
    server_seconds: float = float("nan")
    kernel_id: str = ""
    kernel_seconds: float = float("nan")  # POST /api/kernels to its kernel_info_reply
    executions: list[Execution] = field(default_factory=list)
    sees: str = ""  # what reading everyone's keys showed this student
    reconnects: int = 0  # websockets the server closed before the kernel answered
    problems: list[str] = field(default_factory=list)
    socket: KernelSocket | None = None


@dataclass
class ClassRun:
    lesson: str
    kernel_name: str
    students: list[Student]
    servers_seconds: float = float("nan")  # all servers, from the first request to the last ready
    kernels_seconds: float = float("nan")  # all kernels, from the first POST to the last kernel_info_reply
    lesson_seconds: float = float("nan")  # the lesson, from the common start to the last student done

    @property
    def latencies(self) -> list[float]:
        return [e.seconds for s in self.students for e in s.executions]

    @property
    def problems(self) -> list[str]:
        return [f"{s.name}: {p}" for s in self.students for p in s.problems]

    def summary(self) -> str:
        lat = self.latencies
        p50 = percentile(lat, 0.50) * 1000 if lat else float("nan")
        p95 = percentile(lat, 0.95) * 1000 if lat else float("nan")
        return (
            f"{len(self.students)} students, kernel {self.kernel_name!r}, {self.lesson}: "
            f"servers ready in {self.servers_seconds:.1f} s, kernels in {self.kernels_seconds:.2f} s, "
            f"lesson in {self.lesson_seconds:.2f} s; cell latency p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"over {len(lat)} cells; {sum(s.reconnects for s in self.students)} websocket reconnects; "
            f"{len(self.problems)} problems"
        )


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def run_class(
    hub: Hub,
    names: list[str],
    lesson: Lesson,
    kernel_name: str = "sled",
    timeout: float = 600,
    while_running: Callable[[ClassRun], Awaitable[None]] | None = None,
) -> ClassRun:
    """Every student at once: server, kernel, the lesson, the isolation check;
    then their servers are stopped. `while_running` is awaited while every
    kernel is still up, after the lesson."""
    run = ClassRun(lesson.name, kernel_name, [Student(n) for n in names])
    await hub.add_users(names)
    try:
        start = time.monotonic()
        for student, took in zip(
            run.students,
            await asyncio.gather(*(hub.start_server(s.name, timeout) for s in run.students)),
        ):
            student.server_seconds = took
        run.servers_seconds = time.monotonic() - start

        async def open_kernel(student: Student) -> None:
            began = time.monotonic()
            deadline = began + timeout
            student.kernel_id = await hub.start_kernel(student.name, kernel_name, timeout)
            url = hub.kernel_socket_url(student.name, student.kernel_id)
            while True:
                student.socket = await KernelSocket.open(url, hub.token, timeout)
                try:
                    await student.socket.kernel_info(max(deadline - time.monotonic(), 1))
                    break
                except SocketClosed:
                    # Jupyter Server closes the websocket of a kernel that has
                    # not answered within its kernel_info_timeout (60 s), which
                    # a machine starting a whole class at once can exceed;
                    # JupyterLab then connects again, and so does this.
                    await student.socket.close()
                    student.socket = None
                    if time.monotonic() > deadline:
                        raise
                    student.reconnects += 1
            student.kernel_seconds = time.monotonic() - began

        start = time.monotonic()
        await asyncio.gather(*(open_kernel(s) for s in run.students))
        run.kernels_seconds = time.monotonic() - start

        everyone_ready = Gate(len(names))
        everyone_wrote = Gate(len(names))

        async def attend(student: Student) -> None:
            await everyone_ready.wait()
            for code in lesson.cells:
                student.executions.append(await student.socket.execute(code, timeout))
            student.problems.extend(compare(lesson, student.executions))
            mine = await student.socket.execute(lesson.write_mine(student.name), timeout)
            if mine.status != "ok":
                student.problems.append(f"writing their own key failed: {mine.text()}")
            await everyone_wrote.wait()
            seen = await student.socket.execute(lesson.read_all, timeout)
            student.sees = seen.text()
            keys = owners(student.sees)
            if student.name not in keys:
                student.problems.append(f"does not see their own key: {student.sees!r}")
            if keys - {student.name}:
                student.problems.append(f"sees other students' keys: {sorted(keys - {student.name})}")

        start = time.monotonic()
        await asyncio.gather(*(attend(s) for s in run.students))
        run.lesson_seconds = time.monotonic() - start
        if while_running is not None:
            await while_running(run)
    finally:
        for student in run.students:
            if student.socket is not None:
                await student.socket.close()
        stopped = await asyncio.gather(
            *(hub.stop_server(s.name, timeout) for s in run.students), return_exceptions=True
        )
        for student, result in zip(run.students, stopped):
            if isinstance(result, Exception):
                student.problems.append(f"stopping the server: {result}")
    return run


async def remove_users(hub: Hub, names: list[str]) -> None:
    await asyncio.gather(*(hub.delete_user(n) for n in names))


# ---------------------------------------------------------- a hub right here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalHub:
    """A JupyterHub started from deploy/jupyterhub_config.py on 127.0.0.1."""

    proc: subprocess.Popen
    url: str
    token: str
    state: Path
    runtime: Path  # the students' runtime directories (kernel sockets): a short path
    log_path: Path
    reader: threading.Thread

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 120) -> list[str]:
        """SIGTERM (the hub then stops every server and its proxy); returns
        what went wrong."""
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                problems.append(f"the hub did not stop within {timeout:.0f}s; killed it")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(10)
        shutil.rmtree(self.runtime, ignore_errors=True)
        return problems


def start_local_hub(env_dir: Path, state: Path, env: dict[str, str], timeout: float = 300) -> LocalHub:
    """Start `env_dir/bin/jupyterhub -f deploy/jupyterhub_config.py`, with its
    state, homes and TMPDIR under `state`, and wait for the line that says it
    is running."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "tmp").mkdir(exist_ok=True)
    # Kernel sockets live in the students' runtime directories, and a
    # socket's path must stay under 108 bytes: somewhere short.
    runtime = Path(tempfile.mkdtemp(prefix="hub-run-"))
    port, token = free_port(), secrets.token_hex(32)
    env = {
        **env,
        "SLED_HUB_PORT": str(port),
        "SLED_HUB_API_PORT": str(free_port()),
        "SLED_HUB_PROXY_API_PORT": str(free_port()),
        "SLED_HUB_STATE": str(state),
        "SLED_HUB_HOMES": str(state / "homes"),
        "SLED_HUB_RUNTIME": str(runtime),
        "SLED_HUB_TEACHER_TOKEN": token,
        "TMPDIR": str(state / "tmp"),
    }
    log_path = state / "jupyterhub.log"
    proc = subprocess.Popen(
        [str(env_dir / "bin" / "jupyterhub"), "-f", str(HUB_CONFIG)],
        cwd=state,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = threading.Event()

    def copy_log() -> None:
        with log_path.open("wb") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if b"JupyterHub is now running at" in line:
                    running.set()
        running.set()  # the hub exited

    reader = threading.Thread(target=copy_log, daemon=True)
    reader.start()
    hub = LocalHub(proc, f"http://127.0.0.1:{port}", token, state, runtime, log_path, reader)
    if not running.wait(timeout) or proc.poll() is not None:
        problems = hub.stop()
        raise ClassError(
            f"JupyterHub did not start ({'; '.join(problems) or f'exit {proc.returncode}'}); "
            f"its log ends:\n{hub.log_tail()}"
        )
    return hub


def students_processes(hub_pid: int):
    """For a hub on this machine: each student's single-user server (by its
    JUPYTERHUB_USER), the processes each server started (its kernels), and
    the hub's other processes (the proxy). Needs psutil."""
    import psutil

    servers: dict[str, psutil.Process] = {}
    others: list[psutil.Process] = []
    for proc in psutil.Process(hub_pid).children(recursive=True):
        try:
            if any(arg.endswith("/jupyterhub-singleuser") for arg in proc.cmdline()[:2]):
                servers[proc.environ()["JUPYTERHUB_USER"]] = proc
            else:
                others.append(proc)
        except psutil.NoSuchProcess:
            continue
    kernels = {name: server.children(recursive=True) for name, server in servers.items()}
    under_servers = {k.pid for ks in kernels.values() for k in ks}
    return servers, kernels, [p for p in others if p.pid not in under_servers]


# --------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hub", required=True, help="the hub's URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", default=os.environ.get("SLED_HUB_TEACHER_TOKEN"),
                        help="an API token with the scopes above (default: $SLED_HUB_TEACHER_TOKEN)")
    parser.add_argument("--students", type=int, default=5, help="how many (default 5)")
    parser.add_argument("--lesson", type=Path, default=LESSON_01, help="the notebook to run (default: lesson 01)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for each step (default 600)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token is needed (or SLED_HUB_TEACHER_TOKEN)")
    names = [f"class-{n}" for n in range(1, args.students + 1)]

    async def go() -> ClassRun:
        hub = Hub(args.hub, args.token)
        try:
            return await run_class(hub, names, Lesson.from_notebook(args.lesson), timeout=args.timeout)
        finally:
            await remove_users(hub, names)

    run = asyncio.run(go())
    print(run.summary())
    for problem in run.problems:
        print(f"  {problem}")
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
