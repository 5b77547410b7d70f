"""A class of five on a real JupyterHub: deploy/jupyterhub_config.py with
configurable-http-proxy from npm, SimpleLocalProcessSpawner and
DummyAuthenticator, on 127.0.0.1 only. Every student's single-user server
comes from the environment the wheel was installed into (`wheel_env`, plus
jupyterhub). The students all start a `sled` kernel through their server's
REST API and run lesson 01's cells over the kernel's websocket at the same
moment, as their browsers would (scripts/hub_class.py does the driving).

Then a class of three with Rust cells: the same hub, with cargo on PATH and
one Rust cache for the class, warmed by `sled-kernel warm` before it starts;
the students run lesson 06, Rust cells included, at the same moment, and
each kernel's resident memory is printed."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from traitlets.config.loader import PyFileConfigLoader

import hub_class  # scripts/hub_class.py
from conftest import ROOT, TIMINGS, pip_install

pytestmark = pytest.mark.timeout(1800)

STUDENTS = [f"student-{n}" for n in range(1, 6)]
RUST_STUDENTS = [f"rustacean-{n}" for n in range(1, 4)]
LESSON_01 = ROOT / "notebooks" / "01-embedded-kv-with-sled.ipynb"
LESSON_06 = ROOT / "notebooks" / "06-rust-cells.ipynb"
PROXY = ROOT / "deploy" / "node_modules" / ".bin" / "configurable-http-proxy"
JUPYTERHUB = "jupyterhub>=6.1,<7"


@dataclass(frozen=True)
class Process:
    """What was seen of one process (it may be gone when the tests look)."""

    handle: psutil.Process  # is_running() also tells a reused pid apart
    argv: tuple[str, ...]
    exe: Path
    parent: int


@dataclass
class Seen:
    """The processes of the class while every kernel was up."""

    servers: dict[str, Process] = field(default_factory=dict)  # by student
    kernels: dict[str, list[Process]] = field(default_factory=dict)  # by student
    others: list[Process] = field(default_factory=list)  # the proxy, ...
    database_dirs: list[Path] = field(default_factory=list)
    transports: list[str] = field(default_factory=list)  # of every kernel's connection file

    def everything(self) -> list[Process]:
        return [*self.servers.values(), *(k for ks in self.kernels.values() for k in ks), *self.others]


@dataclass
class Class:
    run: hub_class.ClassRun
    seen: Seen
    env_dir: Path
    tmp_dir: Path
    alive_after_stop: list[str]
    dirs_after_stop: list[Path]
    hub_problems: list[str]
    hub_log: str


def look(hub_pid: int, tmp_dir: Path) -> Seen:
    def record(proc: psutil.Process) -> Process:
        with proc.oneshot():
            return Process(proc, tuple(proc.cmdline()), Path(proc.exe()), proc.ppid())

    seen = Seen()
    servers, kernels, others = hub_class.students_processes(hub_pid)
    seen.servers = {name: record(p) for name, p in servers.items()}
    seen.kernels = {name: [record(p) for p in ps] for name, ps in kernels.items() if ps}
    seen.others = [record(p) for p in others]
    seen.database_dirs = sorted(tmp_dir.glob("sled-kernel-*"))
    for kernel in (k for ks in seen.kernels.values() for k in ks):
        connection_file = kernel.argv[kernel.argv.index("--connection-file") + 1]
        seen.transports.append(json.loads(Path(connection_file).read_text())["transport"])
    return seen


@pytest.fixture(scope="module")
def hub_env(wheel_env: Path, bare_env: dict[str, str]) -> Path:
    """The wheel's environment with jupyterhub added (what the Docker Stacks
    image has beside it: jupyterhub-singleuser)."""
    if not PROXY.exists():
        pytest.fail(f"{PROXY} is missing: run `npm ci --prefix deploy` (tests/run does)", pytrace=False)
    TIMINGS["pip install of jupyterhub into the wheel's environment (s)"] = pip_install(
        wheel_env / "bin" / "python", ["--no-compile", JUPYTERHUB], bare_env
    )
    return wheel_env


@pytest.fixture(scope="module")
def a_class(hub_env: Path, bare_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Class:
    state = tmp_path_factory.mktemp("hub")
    hub = hub_class.start_local_hub(hub_env, state, bare_env)
    tmp_dir = state / "tmp"
    seen = Seen()
    try:

        async def while_running(_run: hub_class.ClassRun) -> None:
            nonlocal seen
            seen = look(hub.proc.pid, tmp_dir)

        async def go() -> hub_class.ClassRun:
            api = hub_class.Hub(hub.url, hub.token)
            try:
                return await hub_class.run_class(
                    api, STUDENTS, hub_class.Lesson.from_notebook(LESSON_01), while_running=while_running
                )
            finally:
                api.http.close()

        run = asyncio.run(go())
        # run_class stopped every server through the hub's API: their kernels
        # must be gone with them.
        watched = {p.handle: p for p in [*seen.servers.values(), *(k for ks in seen.kernels.values() for k in ks)]}
        _, alive = psutil.wait_procs(list(watched), timeout=60)
        alive_after_stop = [" ".join(watched[p].argv) for p in alive]
        dirs_after_stop = sorted(tmp_dir.glob("sled-kernel-*"))
    finally:
        hub_problems = hub.stop()
    TIMINGS[f"JupyterHub class of {len(STUDENTS)}: servers ready (s)"] = run.servers_seconds
    TIMINGS[f"JupyterHub class of {len(STUDENTS)}: all kernels answering (s)"] = run.kernels_seconds
    TIMINGS[f"JupyterHub class of {len(STUDENTS)}: lesson 01, everyone at once (s)"] = run.lesson_seconds
    print(run.summary())
    return Class(
        run, seen, hub_env, tmp_dir, alive_after_stop, dirs_after_stop, hub_problems, hub.log_tail(80)
    )


@dataclass
class RustClass:
    run: hub_class.ClassRun
    warmed: str  # what `sled-kernel warm` said
    # By student: the kernel's resident memory and that of the processes
    # under it (the one that runs Rust code), MB, after the lesson.
    memory: dict[str, tuple[float, float]]


def machines_rust() -> dict[str, str]:
    """Where this machine's Rust is, for a hub whose students each have a
    HOME of their own (rustup's proxies find their toolchain through
    RUSTUP_HOME and CARGO_HOME)."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is not on PATH: the Rust class needs the machine's toolchain", pytrace=False)
    home = Path.home()
    return {
        "cargo_bin": str(Path(cargo).parent),
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(home / ".rustup")),
        "CARGO_HOME": os.environ.get("CARGO_HOME", str(home / ".cargo")),
    }


@pytest.fixture(scope="module")
def a_rust_class(hub_env: Path, bare_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> RustClass:
    """Three students run lesson 06 at once, from one warm Rust cache."""
    state = tmp_path_factory.mktemp("rust-hub")
    rust = machines_rust()
    cache = state / "rust-cells"
    # The class's cache starts as a copy of this machine's, which tests/run
    # has warmed (so that sled is compiled here only when that one is cold);
    # the teacher's step, `sled-kernel warm`, then runs as it would.
    users = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sled-kernel" / "rust-cells"
    if (users / "crates").is_dir():
        shutil.copytree(users / "crates", cache / "crates")
        if (users / "Cargo.lock").is_file():
            shutil.copy(users / "Cargo.lock", cache / "Cargo.lock")
    env = {
        **bare_env,
        "PATH": f"{rust['cargo_bin']}:/usr/bin:/bin:{bare_env['PATH']}",
        "RUSTUP_HOME": rust["RUSTUP_HOME"],
        "CARGO_HOME": rust["CARGO_HOME"],
        "SLED_KERNEL_RUST_CACHE": str(cache),
    }
    warmed = subprocess.run(
        [str(hub_env / "bin" / "sled-kernel"), "warm"], env=env, capture_output=True, text=True, timeout=1200
    )
    assert warmed.returncode == 0, warmed.stderr
    hub = hub_class.start_local_hub(hub_env, state, env)
    memory: dict[str, tuple[float, float]] = {}
    try:

        async def while_running(_run: hub_class.ClassRun) -> None:
            _, kernels, _ = hub_class.students_processes(hub.proc.pid)
            for name, procs in kernels.items():
                kernel = next(p for p in procs if Path(p.exe()) == hub_env / "bin" / "sled-kernel"
                              and "kernel" in p.cmdline())
                below = sum(c.memory_info().rss for c in kernel.children(recursive=True))
                memory[name] = (kernel.memory_info().rss / 1e6, below / 1e6)

        async def go() -> hub_class.ClassRun:
            api = hub_class.Hub(hub.url, hub.token)
            try:
                return await hub_class.run_class(
                    api,
                    RUST_STUDENTS,
                    hub_class.Lesson.from_notebook(LESSON_06),
                    timeout=1200,
                    while_running=while_running,
                )
            finally:
                api.http.close()

        run = asyncio.run(go())
    finally:
        hub.stop()
    TIMINGS[f"JupyterHub Rust class of {len(RUST_STUDENTS)}: lesson 06, everyone at once (s)"] = run.lesson_seconds
    print(run.summary())
    for name, (kernel_mb, below_mb) in sorted(memory.items()):
        print(f"{name}: kernel {kernel_mb:.0f} MB resident, the process running Rust code {below_mb:.0f} MB")
    print(f"the class's kernels: {sum(k + b for k, b in memory.values()):.0f} MB in all")
    return RustClass(run, warmed.stdout, memory)


def test_every_student_gets_every_output_of_lesson_06_with_rust_cells(a_rust_class: RustClass) -> None:
    lesson = hub_class.Lesson.from_notebook(LESSON_06)
    assert sum(code.lstrip().startswith("%%rust") for code in lesson.cells) >= 5
    assert "the Rust cache at" in a_rust_class.warmed, a_rust_class.warmed
    for student in a_rust_class.run.students:
        assert len(student.executions) == len(lesson.cells), student.name
    assert a_rust_class.run.problems == [], "\n".join(a_rust_class.run.problems)
    assert sorted(a_rust_class.memory) == RUST_STUDENTS
    for student in a_rust_class.run.students:
        assert hub_class.owners(student.sees) == {student.name}, student.sees


def test_every_student_gets_every_output_of_lesson_01(a_class: Class) -> None:
    lesson = hub_class.Lesson.from_notebook(LESSON_01)
    assert [s.name for s in a_class.run.students] == STUDENTS
    for student in a_class.run.students:
        assert len(student.executions) == len(lesson.cells), student.name
    assert a_class.run.problems == [], "\n".join(a_class.run.problems)


def test_no_student_sees_another_students_keys(a_class: Class) -> None:
    for student in a_class.run.students:
        assert hub_class.owners(student.sees) == {student.name}, student.sees


def test_each_student_has_a_server_and_a_kernel_of_their_own_from_the_wheel(a_class: Class) -> None:
    seen = a_class.seen
    assert sorted(seen.servers) == STUDENTS, a_class.hub_log
    assert sorted(seen.kernels) == STUDENTS
    assert all(len(kernels) == 1 for kernels in seen.kernels.values()), seen.kernels
    for name, server in seen.servers.items():
        assert Path(server.argv[1]) == a_class.env_dir / "bin" / "jupyterhub-singleuser"
        kernel = seen.kernels[name][0]
        assert kernel.parent == server.handle.pid
        assert kernel.exe == a_class.env_dir / "bin" / "sled-kernel"
    assert len(seen.database_dirs) == len(STUDENTS), seen.database_dirs
    # Unix sockets, not TCP ports that servers starting kernels at once could
    # both pick (see deploy/jupyterhub_config.py).
    assert seen.transports == ["ipc"] * len(STUDENTS)
    assert any("configurable-http-proxy" in " ".join(p.argv) for p in seen.others), seen.others


def test_stopping_the_servers_leaves_no_kernel_and_no_database_dir(a_class: Class) -> None:
    assert a_class.alive_after_stop == []
    assert a_class.dirs_after_stop == []
    kernel_exe = a_class.env_dir / "bin" / "sled-kernel"
    running = []
    for proc in psutil.process_iter():
        try:
            if Path(proc.exe()) == kernel_exe:
                running.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError):
            continue
    assert running == []
    assert a_class.hub_problems == [], a_class.hub_log
    outlived = [" ".join(p.argv) for p in a_class.seen.everything() if p.handle.is_running()]
    assert outlived == [], "still running after the hub stopped"


def test_the_real_class_config_loads_on_top_of_the_tested_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy/real_class.py is not run (it needs an OAuth app, a certificate
    and systemd); it must at least load and change what it says it does."""
    monkeypatch.setenv("SLED_HUB_TEACHER_TOKEN", "not-a-real-token")
    deploy = ROOT / "deploy"
    tested = PyFileConfigLoader("jupyterhub_config.py", path=str(deploy)).load_config()
    real = PyFileConfigLoader("real_class.py", path=str(deploy)).load_config()
    assert tested.JupyterHub.authenticator_class == "dummy"
    assert tested.JupyterHub.bind_url.startswith("http://127.0.0.1:")
    assert real.JupyterHub.authenticator_class == "github"
    assert real.Authenticator.allow_all is False
    assert real.JupyterHub.bind_url.startswith("https://")
    assert real.JupyterHub.ssl_cert and real.JupyterHub.ssl_key
    assert real.JupyterHub.spawner_class == "systemdspawner.SystemdSpawner"
    assert real.Spawner.mem_limit == "1G"
    assert "--KernelManager.transport=ipc" in tested.Spawner.args
    assert "--KernelManager.transport=ipc" in real.Spawner.args
    # what the real class does not change is the tested configuration's
    assert real.JupyterHub.db_url == tested.JupyterHub.db_url
    assert real.Spawner.default_url == "/lab"
    roles = real.JupyterHub.load_roles
    roles = roles.to_dict().get("extend", []) if hasattr(roles, "to_dict") else roles
    assert {r["name"] for r in roles} >= {"teacher", "idle-culler"}


def test_the_kubernetes_recipe_installs_the_wheel_on_docker_stacks() -> None:
    """deploy/Dockerfile and deploy/z2jh-values.yaml are not built or run
    here (no container engine, registry or cluster); they must stay the
    steps the tests take (the wheel's pip install; deploy/rust-for-class.sh,
    which test_class_image.py runs) and name each other."""
    import yaml

    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    steps = [line.split()[0] for line in dockerfile.splitlines() if line and not line.startswith(("#", " "))]
    assert steps == ["ARG", "FROM", "COPY", "RUN", "FROM", "ARG", "USER", "COPY", "RUN", "ENV", "USER"], steps
    assert "quay.io/jupyter/base-notebook:" in dockerfile
    assert "FROM ${BASE_IMAGE} AS kv" in dockerfile and "FROM kv AS rust" in dockerfile
    assert "dist/sled_kernel-*.whl" in dockerfile
    assert "pip install --no-cache-dir --find-links /tmp/wheels sled-kernel" in dockerfile
    assert "COPY deploy/rust-for-class.sh" in dockerfile
    assert "sh /tmp/rust-for-class.sh /opt/rust" in dockerfile
    for setting in ("RUSTUP_HOME=/opt/rust/rustup", "CARGO_HOME=/opt/rust/cargo",
                    "PATH=/opt/rust/cargo/bin:", "SLED_KERNEL_RUST_CACHE=/opt/rust/rust-cells"):
        assert setting in dockerfile, setting
    values = yaml.safe_load((ROOT / "deploy" / "z2jh-values.yaml").read_text())
    image = values["singleuser"]["image"]
    assert image["name"].endswith("/sled-kernel-notebook") and image["tag"]
    assert f"--target kv -t {image['name']}:{image['tag']}" in dockerfile
    assert f"--target rust -t {image['name']}:{image['tag']}-rust" in dockerfile
    assert values["singleuser"]["memory"]["limit"]
    kv, rust = values["singleuser"]["profileList"]
    assert kv["default"] is True
    rust = rust["kubespawner_override"]
    assert rust["image"] == f"{image['name']}:{image['tag']}-rust"
    assert rust["mem_limit"] and rust["environment"]["SLED_KERNEL_RUST_IDLE_MINUTES"]
    assert values["proxy"]["https"]["enabled"] is True


def test_every_server_start_gets_a_port_no_other_student_has_had() -> None:
    """The hub keeps a stopped server's port for its next start and takes any
    answer as `up`: two students on one port would reach each other's
    server. The tested configuration hands out ports itself."""
    from types import SimpleNamespace

    config = PyFileConfigLoader("jupyterhub_config.py", path=str(ROOT / "deploy")).load_config()
    hook = config.Spawner.pre_spawn_hook
    spawners = [SimpleNamespace(user=SimpleNamespace(name=f"s{n}"), name="", port=0) for n in range(40)]
    for spawner in spawners:
        hook(spawner)
    first = [s.port for s in spawners]
    assert len(set(first)) == len(first) and all(1024 < p < 65536 for p in first)
    for spawner in spawners[::2]:  # half the class restarts
        hook(spawner)
    again = [s.port for s in spawners]
    assert len(set(again)) == len(again)
    assert not set(again[::2]) & set(first[1::2])
