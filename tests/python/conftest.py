"""Shared set-up for the Python tests.

Most tests run the `sled` kernelspec that ./install.sh registered in .venv,
and it must be this checkout's build. The wheel tests (and the JupyterHub
class) use `wheel_env` instead: a fresh virtual environment with nothing but
the wheel from dist/ installed, by a pip run whose PATH holds no cargo, rustc
or C compiler."""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"

sys.path.insert(0, str(ROOT / "scripts"))

import targets  # noqa: E402
from cargo_executable import target_dir  # noqa: E402

# This checkout's release build for this machine, in cargo's target
# directory (target/, or CARGO_TARGET_DIR), under the target's name:
# ./install.sh built it there with scripts/targets.py's settings, the same
# build the host's wheel packs. Asking cargo builds nothing.
HOST = targets.target(targets.host_triple())
KERNEL_BIN = target_dir() / HOST.triple / "release" / "sled-kernel"

# Kernels started by these tests keep their cell history (and Jupyter its
# runtime files) in the per-user Jupyter data dir: point that at a scratch
# directory, so the tests neither read a developer's history nor add to it.
# The `sled` kernelspec is still found in .venv, where ./install.sh put it.
_SCRATCH_DATA_DIR = tempfile.mkdtemp(prefix="sled-tests-jupyter-data-")
os.environ["JUPYTER_DATA_DIR"] = _SCRATCH_DATA_DIR
atexit.register(shutil.rmtree, _SCRATCH_DATA_DIR, ignore_errors=True)


def spec_program(argv: list[str]) -> str:
    """The program a kernelspec's argv starts: after the `/bin/sh -c GUARD`
    that sled-kernel puts in front of it (the guard says what to run when the
    program is gone), or first when there is none."""
    if argv[:2] == ["/bin/sh", "-c"] and len(argv) > 3:
        return argv[3]
    return argv[0]


def pytest_sessionstart(session: pytest.Session) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("sled")
    except NoSuchKernel:
        pytest.exit("no `sled` kernelspec is visible to this Python: run ./install.sh", returncode=3)
    program = spec_program(spec.argv)
    if os.path.realpath(program) != os.path.realpath(KERNEL_BIN):
        pytest.exit(
            f"the `sled` kernelspec at {spec.resource_dir} runs {program}, "
            f"not this checkout's {KERNEL_BIN}: run ./install.sh",
            returncode=3,
        )


# ------------------------------------------------------------------ the wheel

# What must not be on the PATH of the wheel's environment: proof that nothing
# in it is compiled on the spot. And the one tool that must be: node, for
# configurable-http-proxy (`#!/usr/bin/env node`) in the JupyterHub test.
NO_BUILD_TOOLS = ("cargo", "rustc", "cc", "gcc", "c++", "g++", "clang", "make")
BARE_PATH_TOOLS = ("node",)
# Passed on to pip so that it reaches the package index as the rest of the
# machine does (certificates, mirrors, proxies); everything else is left out.
PASSED_ON = re.compile(
    r"PIP_.*|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE"
)

# Filled in by `wheel_env`, printed at the end of the run.
TIMINGS: dict[str, float] = {}


def jupyter_server_argv(jupyter: Path, app: str, port: int, token: str, root_dir: Path) -> list[str]:
    """`JUPYTER APP` (`lab` or `notebook`) serving ROOT_DIR on 127.0.0.1:PORT
    with TOKEN, and no other port if that one is taken; JupyterLab without
    its news and update checks (no network in the tests)."""
    argv = [
        str(jupyter),
        app,
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root_dir}",
    ]
    if app == "lab":
        argv += ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    return argv


def cargo_version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    assert match, "no version in Cargo.toml"
    return match.group(1)


def platform_wheel(t: targets.Target) -> Path:
    """The wheel scripts/build-wheel wrote for this version and target."""
    wheel = DIST / f"sled_kernel-{cargo_version()}-py3-none-{t.platform_tag}.whl"
    if not wheel.is_file():
        hint = "" if t is HOST else f" --target {t.triple}"
        pytest.fail(f"{wheel.relative_to(ROOT)} is missing: run scripts/build-wheel{hint} (tests/run does)",
                    pytrace=False)
    return wheel


def built_wheel() -> Path:
    """The wheel for this machine that scripts/build-wheel wrote for this
    version, checked to hold this checkout's release build (KERNEL_BIN)."""
    wheel = platform_wheel(HOST)
    with zipfile.ZipFile(wheel) as zf:
        inside = zf.read(f"sled_kernel-{cargo_version()}.data/scripts/sled-kernel")
    if hashlib.sha256(inside).digest() != hashlib.sha256(KERNEL_BIN.read_bytes()).digest():
        pytest.fail(
            f"{wheel.name} holds an older build than {KERNEL_BIN}: run scripts/build-wheel "
            "(tests/run does)",
            pytrace=False,
        )
    return wheel


def pip_cache_dir() -> str:
    """The pip cache this machine already has, so a fresh environment does
    not download every package again."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else ""


@pytest.fixture(scope="session")
def bare_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment variables for anything run from the wheel's environment:
    a PATH of one scratch directory that holds only `node`, a scratch HOME
    and TMPDIR, and no variable that activates an environment."""
    root = tmp_path_factory.mktemp("bare")
    bin_dir, home, tmp = root / "bin", root / "home", root / "tmp"
    for d in (bin_dir, home, tmp):
        d.mkdir()
    for tool in BARE_PATH_TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    env = {k: v for k, v in os.environ.items() if PASSED_ON.fullmatch(k)}
    env.update(PATH=str(bin_dir), HOME=str(home), TMPDIR=str(tmp), LANG="C.UTF-8")
    cache = pip_cache_dir()
    if cache and "PIP_CACHE_DIR" not in env and "PIP_NO_CACHE_DIR" not in env:
        env["PIP_CACHE_DIR"] = cache
    for tool in NO_BUILD_TOOLS:
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} is on the bare PATH"
    return env


def pip_install(python: Path, args: list[str], env: dict[str, str], timeout: float = 600) -> float:
    """Run `python -m pip install ARGS`; seconds taken. Fails with pip's output."""
    start = time.monotonic()
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        pytest.fail(f"pip install {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
    return time.monotonic() - start


def new_venv(path: Path, env: dict[str, str]) -> Path:
    """`python3 -m venv PATH` with the interpreter running these tests."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], env=env, check=True, timeout=300)
    return path


@pytest.fixture(scope="session")
def wheel_env(tmp_path_factory: pytest.TempPathFactory, bare_env: dict[str, str]) -> Path:
    """A fresh virtual environment with the wheel installed (and with it
    JupyterLab), as `python3 -m venv v && v/bin/pip install sled_kernel-*.whl`
    does on a student's machine. Made once per test session."""
    wheel = built_wheel()
    venv = new_venv(tmp_path_factory.mktemp("wheel-env") / "v", bare_env)
    # --no-compile: pip would byte-compile every module of JupyterLab's
    # dependencies, tens of seconds of CPU the tests do not need (Python
    # compiles what it imports). benches/wheel_costs.py times the plain install.
    TIMINGS["pip install of the wheel into a fresh environment (s)"] = pip_install(
        venv / "bin" / "python", ["--no-compile", str(wheel)], bare_env
    )
    return venv


def pytest_terminal_summary(terminalreporter) -> None:
    for what, seconds in TIMINGS.items():
        terminalreporter.write_line(f"{what}: {seconds:.1f}")


class LoggedProcess:
    """A server process whose output goes to a log file, line by line, so a
    test can wait for the line that says something happened."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path | None = None):
        import threading

        self.log_path = log_path
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to stop it whole
        )
        self.reader = threading.Thread(target=self._copy, daemon=True)
        self.reader.start()

    def _copy(self) -> None:
        with self.log_path.open("w") as log:
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace")
                log.write(line)
                log.flush()
                with self.changed:
                    self.lines.append(line.rstrip("\n"))
                    self.changed.notify_all()
        with self.changed:
            self.lines.append("")  # wakes waiters: the process closed its output
            self.changed.notify_all()

    def wait_for_line(self, pattern: str, timeout: float, start: int = 0) -> tuple[int, re.Match]:
        """The first line from `start` on that matches `pattern`; fails with
        the log's end when the process exits first or time runs out."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = start
        with self.changed:
            while True:
                for index in range(seen, len(self.lines)):
                    match = regex.search(self.lines[index])
                    if match:
                        return index, match
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (not self.reader.is_alive() and self.proc.poll() is not None):
                    tail = "\n".join(self.lines[-40:])
                    raise AssertionError(
                        f"no line matching {pattern!r} within {timeout:.0f}s "
                        f"(exit status {self.proc.poll()}); {self.log_path.name} ends:\n{tail}"
                    )
                self.changed.wait(min(left, 1.0))

    def stop(self, timeout: float = 60) -> None:
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.reader.join(10)
