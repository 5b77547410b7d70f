"""The wheel, as a student gets it: `pip install sled_kernel-….whl` into a
fresh environment on a machine without cargo, rustc or a C compiler, then
Jupyter from that environment, started by its path without activating it.

`wheel_env` (conftest.py) is that environment, made once per session from
dist/ (scripts/build-wheel writes it; tests/run runs that first)."""

from __future__ import annotations

import asyncio
import configparser
import importlib
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import psutil
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

import hub_class  # scripts/hub_class.py: the kernel websocket client
import notebooks  # scripts/notebooks.py
from conftest import (
    HOST,
    KERNEL_BIN,
    ROOT,
    LoggedProcess,
    built_wheel,
    cargo_version,
    jupyter_server_argv,
    new_venv,
    pip_install,
)

# Making `wheel_env` (pip installing JupyterLab) takes a minute or two on a
# busy machine; whichever test comes first pays for it.
pytestmark = pytest.mark.timeout(900)

LESSON_01 = ROOT / "notebooks" / "01-embedded-kv-with-sled.ipynb"
SPEC_FILES = ["kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]
COMMITTED_SPEC = ROOT / "python" / "sled_kernel.data" / "data" / "share" / "jupyter" / "kernels" / "sled"
SERVER_START = 180  # seconds for a Jupyter server to say it is running, on 2 busy cores


def run(
    argv: list, env: dict[str, str], timeout: float = 120, ok: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in argv], env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )
    if ok:
        assert done.returncode == 0, f"{' '.join(map(str, argv))}:\n{done.stdout}\n{done.stderr}"
    return done


def listed_specs(venv: Path, env: dict[str, str]) -> dict[str, dict]:
    out = run([venv / "bin" / "jupyter", "kernelspec", "list", "--json"], env).stdout
    return json.loads(out)["kernelspecs"]


def entry_points(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # keep the names' case
    parser.read_string(text)
    return {name.strip(): value.strip() for name, value in parser["pygments.lexers"].items()}


# --------------------------------------------------------------- the file


def auditwheel_show(wheel: Path) -> str:
    shown = run([Path(sys.prefix) / "bin" / "auditwheel", "show", wheel], dict(os.environ)).stdout
    return " ".join(shown.split())


def test_the_wheel_holds_the_binary_the_spec_the_lexer_and_the_extension() -> None:
    wheel = built_wheel()
    version = cargo_version()
    tag = re.fullmatch(
        rf"sled_kernel-{re.escape(version)}-py3-none-(?:manylinux2014_x86_64\.)?(manylinux_2_(\d+)_x86_64)\.whl",
        wheel.name,
    )
    assert tag, f"{wheel.name}: expected a py3-none-manylinux wheel"
    assert int(tag.group(2)) <= 28, f"{wheel.name}: RHEL 8 (glibc 2.28) could not install it"
    data = f"sled_kernel-{version}.data"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        binary = zf.getinfo(f"{data}/scripts/sled-kernel")
        assert (binary.external_attr >> 16) & 0o111, "the binary must be executable"
        for name in SPEC_FILES:
            packed = zf.read(f"{data}/data/share/jupyter/kernels/sled/{name}")
            assert packed == (COMMITTED_SPEC / name).read_bytes(), name
        assert {"sled_kernel/__init__.py", "sled_kernel/lexer.py"} <= names
        extension = f"{data}/data/share/jupyter/labextensions/jupyterlab-sled-kv/"
        assert {f"{extension}package.json", f"{extension}install.json"} <= names
        assert any(n.startswith(f"{extension}static/remoteEntry.") for n in names), "no built extension"
        # Both licences of `MIT OR Apache-2.0`, as the MIT licence asks of every copy.
        licences = {f"sled_kernel-{version}.dist-info/licenses/{name}": name for name in ("LICENSE-MIT", "LICENSE-APACHE")}
        for packed, name in licences.items():
            assert zf.read(packed) == (ROOT / name).read_bytes(), packed
        meta = zf.read(f"sled_kernel-{version}.dist-info/METADATA").decode()
        points = entry_points(zf.read(f"sled_kernel-{version}.dist-info/entry_points.txt").decode())
    assert points == {"sled-kv": "sled_kernel.lexer:SledKvLexer"}
    assert re.search(r"^Requires-Dist: jupyterlab\b", meta, re.M), "JupyterLab must come with it"
    # What install.sh links into .venv (this checkout's Python half, where
    # pytest runs) declares the same lexer under the same name.
    linked = importlib.metadata.distribution("sled-kernel")
    assert {e.name: e.value for e in linked.entry_points if e.group == "pygments.lexers"} == points
    assert Path(importlib.import_module("sled_kernel.lexer").__file__).parent == ROOT / "python" / "sled_kernel"

    flat = auditwheel_show(wheel)
    assert f'is consistent with the following platform tag: "{tag.group(1)}"' in flat, flat


def platforms_of_glibc(minor: int) -> list[str]:
    """The platform tags pip accepts on an x86_64 Linux with glibc 2.MINOR
    (what `packaging.tags` gives there: every manylinux_2_X up to it, and the
    old names manylinux2014, manylinux2010 and manylinux1 for 2.17, 2.12 and
    2.5). pip's --platform takes them one by one: it does not widen a
    manylinux_2_X to the older ones by itself."""
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    tags = []
    for x in range(minor, 4, -1):
        tags.append(f"manylinux_2_{x}_x86_64")
        if x in legacy:
            tags.append(f"{legacy[x]}_x86_64")
    return tags


def test_the_linux_wheel_installs_where_glibc_is_2_28_and_needs_no_newer_symbol() -> None:
    """As far as this machine (glibc 2.36) can show it: pip on a glibc 2.28
    system (RHEL 8) takes the wheel, pip on a glibc 2.16 one does not, and
    the program asks for no glibc symbol newer than 2.17 and for no shared
    library but glibc's own (auditwheel reads its ELF version needs). There
    is no older glibc here to start the program under."""
    wheel = built_wheel()

    def pip_on(minor: int) -> subprocess.CompletedProcess:
        platforms = [arg for tag in platforms_of_glibc(minor) for arg in ("--platform", tag)]
        return run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
                    "--only-binary=:all:", "--dry-run", "--target", "/nonexistent", *platforms, wheel],
                   dict(os.environ), ok=False)

    taken = pip_on(28)
    assert taken.returncode == 0, f"pip on glibc 2.28 refused it:\n{taken.stderr}"
    refused = pip_on(16)
    assert refused.returncode != 0 and "is not a supported wheel on this platform" in refused.stderr

    flat = auditwheel_show(wheel)
    needs = re.search(r"libc\.so\.6 with versions \{([^}]*)\}", flat)
    assert needs, flat
    versions = [tuple(int(p) for p in v.strip(" '").removeprefix("GLIBC_").split(".")) for v in needs.group(1).split(",")]
    assert max(versions) <= (2, 17), f"asks for glibc {max(versions)}"
    libraries = set(re.findall(r"(\S+\.so\.\d+) with versions", flat))
    assert libraries <= {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                         "ld-linux-x86-64.so.2"}, libraries


# --------------------------------------------------- a fresh environment


def test_the_fresh_environment_has_the_kernel_and_jupyter_lists_it(
    wheel_env: Path, bare_env: dict[str, str]
) -> None:
    version = run([wheel_env / "bin" / "sled-kernel", "--version"], bare_env).stdout
    assert version.strip() == f"sled-kernel {cargo_version()}"
    spec_dir = wheel_env / "share" / "jupyter" / "kernels" / "sled"
    assert sorted(p.name for p in spec_dir.iterdir()) == SPEC_FILES
    found = listed_specs(wheel_env, bare_env)
    assert Path(found["sled"]["resource_dir"]) == spec_dir
    assert found["sled"]["spec"]["display_name"] == "sled KV"
    lexer = run(
        [
            wheel_env / "bin" / "python",
            "-c",
            "from pygments.lexers import get_lexer_by_name; import sled_kernel.lexer as m; "
            "print(get_lexer_by_name('sled-kv').name, m.__file__)",
        ],
        bare_env,
    ).stdout.split()
    assert lexer[0] == "sled-kv"
    assert Path(lexer[1]).is_relative_to(wheel_env), lexer


def test_lesson_01_runs_from_the_wheel_with_nbclient(wheel_env: Path, bare_env: dict[str, str]) -> None:
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT / 'scripts')!r})
import notebooks
from jupyter_client.kernelspec import KernelSpecManager
spec = KernelSpecManager().get_kernel_spec("sled")
fresh = notebooks.execute(notebooks.read(notebooks.Path({str(LESSON_01)!r})), cell_timeout=60)
print(json.dumps({{"spec": spec.resource_dir, "cells": notebooks.comparable(fresh)}}))
"""
    done = run([wheel_env / "bin" / "python", "-c", script], bare_env, timeout=300)
    result = json.loads(done.stdout.splitlines()[-1])
    assert Path(result["spec"]).is_relative_to(wheel_env), result["spec"]
    assert result["cells"] == notebooks.comparable(notebooks.read(LESSON_01))
    assert not list(Path(bare_env["TMPDIR"]).glob("sled-kernel-*")), "the kernel left its database"


def test_nbconvert_from_the_wheel_highlights_sled_kv(
    wheel_env: Path, bare_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "lesson.html"
    run(
        [wheel_env / "bin" / "jupyter", "nbconvert", "--to", "html", "--output", out, LESSON_01],
        bare_env,
        timeout=300,
    )
    html = out.read_text()
    assert '<span class="k">' in html  # a keyword, from the sled-kv lexer


def test_rust_cells_say_what_they_need_when_cargo_is_missing(
    wheel_env: Path, bare_env: dict[str, str]
) -> None:
    script = """
import json
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="sled")
try:
    reply = kc.execute_interactive('%%rust\\nprintln!("hi");', timeout=120)
    after = kc.execute_interactive("insert k v", timeout=60)
finally:
    kc.stop_channels()
    km.shutdown_kernel()
print(json.dumps([reply["content"], after["content"]["status"]]))
"""
    done = run([wheel_env / "bin" / "python", "-c", script], bare_env, timeout=300)
    content, after = json.loads(done.stdout.splitlines()[-1])
    assert content["ename"] == "RustToolchainMissing", content
    assert "`cargo` and `rustc` are not on PATH" in content["evalue"], content
    assert after == "ok"


# ------------------------------------------------ the lessons, for students


def nbgrader_flag(cell: dict, key: str) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get(key))


def cell_texts(nb: dict, skip=lambda cell: False) -> list[str]:
    """Every source and every output text of the cells `skip` leaves, one
    string per line, as a student reads them."""
    def as_text(value) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "".join(value)
        return json.dumps(value, ensure_ascii=False)

    texts = []
    for cell in nb["cells"]:
        if skip(cell):
            continue
        texts.append(as_text(cell["source"]))
        for out in cell.get("outputs", []):
            texts.append(as_text(out.get("text", "")))
            texts += [as_text(value) for value in out.get("data", {}).values()]
            texts += out.get("traceback", [])
    return [line.strip() for text in texts for line in text.splitlines()]


def model_answer_lines(nb: dict) -> list[str]:
    """The lines of the model answers that appear nowhere else in the lesson
    a student gets: what a copy must not contain."""
    answered = [c for c in nb["cells"] if nbgrader_flag(c, "solution")]
    elsewhere = set(
        cell_texts(nb, skip=lambda c: nbgrader_flag(c, "solution") or nbgrader_flag(c, "grade"))
    )
    lines = []
    for cell in answered:
        inside = False
        for line in "".join(cell["source"]).splitlines():
            if "SOLUTION" in line:
                inside = "BEGIN" in line
            elif inside and line.strip() and line.strip() not in elsewhere:
                lines.append(line.strip())
    return lines


def test_sled_kernel_lessons_writes_every_lesson_without_the_answers(
    wheel_env: Path, bare_env: dict[str, str], tmp_path: Path
) -> None:
    stored = {p.name: p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    said = run([wheel_env / "bin" / "sled-kernel", "lessons"], bare_env, cwd=tmp_path).stdout
    written = tmp_path / "sled-lessons"
    assert sorted(p.name for p in written.iterdir()) == sorted(stored), said
    for name in stored:
        assert f"wrote sled-lessons/{name}\n" in said, said
    assert said.rstrip().endswith("Open them with: jupyter lab sled-lessons"), said

    exercises = 0
    for name, path in stored.items():
        teacher = json.loads(path.read_text())
        copy = (written / name).read_text()
        assert "BEGIN SOLUTION" not in copy and "END SOLUTION" not in copy, name
        student = set(cell_texts(json.loads(copy)))
        answers = model_answer_lines(teacher)
        if any(nbgrader_flag(c, "solution") for c in teacher["cells"]):
            exercises += 1
            assert answers, f"{name}: no line of its model answer is its own; nothing to look for"
        leaked = [line for line in answers if line in student]
        assert not leaked, f"{name}: the student copy shows its model answer: {leaked}"
    assert exercises >= 9, exercises

    # A student's work is never written over; the teacher's copies are the
    # lessons as stored.
    lesson_01 = written / LESSON_01.name
    lesson_01.write_text(lesson_01.read_text().replace("YOUR ANSWER HERE", "my answer"))
    worked_on = lesson_01.read_bytes()
    again = run([wheel_env / "bin" / "sled-kernel", "lessons"], bare_env, cwd=tmp_path).stdout
    assert f"kept sled-lessons/{LESSON_01.name}" in again, again
    assert lesson_01.read_bytes() == worked_on
    run([wheel_env / "bin" / "sled-kernel", "lessons", "--with-answers", "teacher"], bare_env, cwd=tmp_path)
    for name, path in stored.items():
        assert (tmp_path / "teacher" / name).read_bytes() == path.read_bytes(), name


def test_lesson_01_as_a_student_gets_it_runs_and_checks_the_answer(
    wheel_env: Path, bare_env: dict[str, str], tmp_path: Path
) -> None:
    run([wheel_env / "bin" / "sled-kernel", "lessons"], bare_env, cwd=tmp_path)
    copy = tmp_path / "sled-lessons" / LESSON_01.name
    teacher = notebooks.read(LESSON_01)
    code = [c for c in teacher.cells if c.cell_type == "code"]
    answer = next(i for i, c in enumerate(code) if nbgrader_flag(c, "solution"))
    check = next(i for i, c in enumerate(code) if nbgrader_flag(c, "grade"))
    model = "\n".join(line for line in code[answer].source.split("\n") if "SOLUTION" not in line)
    # Run in the wheel's environment: the copy as written (its check cell is
    # to fail, so it is tagged to let the run go on past it), then with the
    # model answer typed in.
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT / 'scripts')!r})
import notebooks
nb = notebooks.read(notebooks.Path({str(copy)!r}))
code = [c for c in nb.cells if c.cell_type == "code"]
code[{check}].metadata.setdefault("tags", []).append("raises-exception")
as_written = notebooks.execute(nb, cell_timeout=60)
code[{answer}].source = {model!r}
answered = notebooks.execute(nb, cell_timeout=60)
print(json.dumps([notebooks.comparable(as_written), notebooks.comparable(answered)]))
"""
    done = run([wheel_env / "bin" / "python", "-c", script], bare_env, timeout=300)
    as_written, answered = json.loads(done.stdout.splitlines()[-1])
    stored = notebooks.comparable(teacher)
    # Up to the exercise, every cell shows what the lesson stores, the
    # "predict, then run" cells included.
    assert as_written[:answer] == stored[:answer]
    stub = as_written[answer]
    assert stub["source"] == "# YOUR ANSWER HERE" and stub["outputs"] == [], stub
    [failure] = as_written[check]["outputs"]
    assert failure["output_type"] == "error" and failure["ename"] == "ExpectationFailed", failure
    # With the model answer, the checks pass as they do in the stored lesson.
    assert answered[answer]["outputs"] == stored[answer]["outputs"]
    assert answered[check]["outputs"] == stored[check]["outputs"]
    assert "✓" in json.dumps(answered[check]["outputs"], ensure_ascii=False)


# ------------------------------------------------------- Jupyter servers


def jupyter_server(venv: Path, app: str, env: dict[str, str], log: Path, root_dir: Path) -> tuple[LoggedProcess, str, str]:
    """`VENV/bin/jupyter APP` on 127.0.0.1, by its absolute path, with `env`
    as its whole environment; returns it once it says it is running, with its
    URL and token."""
    port, token = hub_class.free_port(), secrets.token_hex(16)
    server = LoggedProcess(
        jupyter_server_argv(venv / "bin" / "jupyter", app, port, token, root_dir),
        env,
        log,
        cwd=root_dir,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_for_line(r"Jupyter Server .* is running at", SERVER_START)
        # The server binds its port on its event loop, just after it says so.
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=10):
                    break
            except OSError:
                if time.monotonic() > deadline or server.proc.poll() is not None:
                    raise
                time.sleep(0.05)
    except BaseException:
        server.stop()
        raise
    return server, base, token


async def rest(base: str, token: str, method: str, path: str, body=None) -> tuple[int, dict | None]:
    client = AsyncHTTPClient(force_instance=True)
    try:
        response = await client.fetch(
            HTTPRequest(
                base + path,
                method=method,
                headers={"Authorization": f"token {token}"},
                body=json.dumps(body) if body is not None else (b"" if method == "POST" else None),
                request_timeout=120,
            ),
            raise_error=False,
        )
    finally:
        client.close()
    return response.code, json.loads(response.body) if response.body else None


def shut_down(server: LoggedProcess, base: str, token: str) -> None:
    """POST /api/shutdown (the server stops its kernels), then wait for it."""
    if server.proc.poll() is None:
        code, _ = asyncio.run(rest(base, token, "POST", "/api/shutdown"))
        assert code == 200, code
        server.proc.wait(120)
    server.stop()


def test_jupyterlab_by_its_path_without_activating_starts_the_kernel(
    wheel_env: Path, bare_env: dict[str, str], tmp_path: Path
) -> None:
    # bare_env has no VIRTUAL_ENV and a PATH without the environment's bin/.
    assert str(wheel_env) not in bare_env["PATH"] and "VIRTUAL_ENV" not in bare_env
    server, base, token = jupyter_server(wheel_env, "lab", bare_env, tmp_path / "lab.log", tmp_path)
    try:
        code, model = asyncio.run(rest(base, token, "POST", "/api/kernels", {"name": "sled"}))
        assert code == 201, (code, model)

        async def use_kernel() -> tuple[dict, hub_class.Execution]:
            ws = base.replace("http", "ws", 1) + f"/api/kernels/{model['id']}/channels"
            sock = await hub_class.KernelSocket.open(ws, token, 60)
            try:
                info = await sock.kernel_info(60)
                return info, await sock.execute("insert wheel yes\nget wheel", 60)
            finally:
                await sock.close()

        info, cell = asyncio.run(use_kernel())
        assert info["implementation"] == "sled-kernel"
        assert cell.status == "ok", cell.outputs
        assert cell.text() == 'put wheel = "yes"\n\nget wheel -> "yes"'

        # The kernel running is the wheel's binary, started through the
        # kernelspec's guard (which exec'd it: no shell is left).
        kernels = [
            p for p in psutil.Process(server.proc.pid).children(recursive=True) if "kernel" in p.cmdline()
        ]
        assert [Path(p.exe()) for p in kernels] == [wheel_env / "bin" / "sled-kernel"], kernels
        assert len(list(Path(bare_env["TMPDIR"]).glob("sled-kernel-*"))) == 1
        shut_down(server, base, token)
        assert not any(p.is_running() for p in kernels)
        assert not list(Path(bare_env["TMPDIR"]).glob("sled-kernel-*"))
    finally:
        server.stop()


def test_a_spec_whose_program_is_gone_says_in_the_server_log_what_to_run(
    wheel_env: Path, bare_env: dict[str, str], tmp_path: Path
) -> None:
    # Another environment with the wheel, whose binary then goes missing.
    broken = new_venv(tmp_path / "broken", bare_env)
    pip_install(broken / "bin" / "python", ["--no-deps", str(built_wheel())], bare_env)
    (broken / "bin" / "sled-kernel").unlink()
    env = {**bare_env, "JUPYTER_PATH": str(broken / "share" / "jupyter")}
    assert Path(listed_specs(wheel_env, env)["sled"]["resource_dir"]).is_relative_to(broken)

    server, base, token = jupyter_server(wheel_env, "server", env, tmp_path / "server.log", tmp_path)
    try:
        asyncio.run(rest(base, token, "POST", "/api/kernels", {"name": "sled"}))
        missing = broken.resolve() / "bin" / "sled-kernel"
        at, _ = server.wait_for_line(
            re.escape(f"sled-kernel: the sled KV kernel cannot start: its program {missing} is missing."), 120
        )
        _, advice = server.wait_for_line(r"Reinstall it", 30, start=at + 1)
        line = advice.string
        assert "pip install --force-reinstall sled-kernel" in line, line
        assert "pip uninstall sled-kernel" in line, line
        shut_down(server, base, token)
    finally:
        server.stop()


# ------------------------------------------------------ installing twice


def test_install_user_over_the_wheel_says_which_spec_jupyter_uses(
    wheel_env: Path, bare_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**bare_env, "HOME": str(tmp_path / "home")}
    wheel_spec = wheel_env / "share" / "jupyter" / "kernels" / "sled"
    user_spec = tmp_path / "home" / ".local" / "share" / "jupyter" / "kernels" / "sled"
    sled = wheel_env / "bin" / "sled-kernel"

    said = " ".join(run([sled, "install", "--user"], env).stdout.split())
    assert f"installed kernelspec sled (\"sled KV\") in {user_spec}" in said
    # In its own virtual environment Jupyter prefers the environment's spec...
    assert Path(listed_specs(wheel_env, env)["sled"]["resource_dir"]) == wheel_spec
    assert f"Jupyter in {wheel_env} finds 2 `sled` kernelspecs" in said, said
    assert f"so it will keep using {wheel_spec}, not the one just written" in said, said
    assert "JUPYTER_PREFER_ENV_PATH=0" in said
    assert "They start the same program" in said

    # ...unless told otherwise, and then the message says the other thing.
    env["JUPYTER_PREFER_ENV_PATH"] = "0"
    assert Path(listed_specs(wheel_env, env)["sled"]["resource_dir"]) == user_spec
    said = " ".join(run([sled, "install", "--user"], env).stdout.split())
    assert "so it will use the one just written." in said, said

    said = " ".join(run([sled, "uninstall", "--user"], env).stdout.split())
    assert f"removed kernelspec {user_spec}" in said
    assert f"Jupyter in {wheel_env} will now use {wheel_spec} (runs {sled})" in said, said
    assert not user_spec.exists()


def same_content(name: str, data: bytes) -> object:
    """What of a wheel's file must be the same in two builds of the same
    program: everything but the software bill of materials' serial number
    and time stamp, which maturin makes anew for every wheel, and so the
    line of RECORD that holds the bill's hash."""
    if name.endswith(".cyclonedx.json"):
        sbom = json.loads(data)
        sbom.pop("serialNumber", None)
        sbom.get("metadata", {}).pop("timestamp", None)
        return sbom
    if name.endswith(".dist-info/RECORD"):
        return [line for line in data.decode().splitlines() if ".cyclonedx.json," not in line]
    return data


def test_pip_install_of_the_checkout_builds_the_same_wheel(tmp_path: Path) -> None:
    """`pip wheel .` (what `pip install .` builds) in the checkout, with
    cargo: the project's build backend (scripts/pep517_backend.py) runs what
    scripts/build-wheel runs around maturin, so the wheel is the same, file
    for file: the release build already in cargo's target directory, the
    JupyterLab extension, the kernelspec, the lexer. Then it installs."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    out = tmp_path / "out"
    run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--no-deps", "-w", out, ROOT],
        env, timeout=900)
    (made,) = out.glob("*.whl")
    expected = built_wheel()
    assert made.name == expected.name
    with zipfile.ZipFile(made) as a, zipfile.ZipFile(expected) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        different = [n for n in a.namelist() if same_content(n, a.read(n)) != same_content(n, b.read(n))]
    assert different == [], f"pip's wheel differs from scripts/build-wheel's in {different}"

    venv = new_venv(tmp_path / "v", dict(os.environ))
    pip_install(venv / "bin" / "python", ["--no-deps", str(made)], env)
    assert (venv / "bin" / "sled-kernel").read_bytes() == KERNEL_BIN.read_bytes()
    spec = venv / "share" / "jupyter" / "kernels" / "sled"
    assert sorted(p.name for p in spec.iterdir()) == SPEC_FILES
    assert (venv / "share" / "jupyter" / "labextensions" / "jupyterlab-sled-kv" / "package.json").is_file()


def test_the_build_backend_asks_pip_for_the_same_zig_as_the_scripts() -> None:
    """pyproject.toml's build requirements (what `pip install .` gets) and
    scripts/targets.py's (what scripts/setup-toolchains installs) name the
    same zig and cargo-zigbuild."""
    import targets

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    linux_only = sorted(r.split(";")[0].strip() for r in requires if "sys_platform == 'linux'" in r)
    assert linux_only == sorted(targets.ZIG_PACKAGES)


# ------------------------------------------------------------ bad input


def test_pip_uninstall_removes_all_of_it(bare_env: dict[str, str], tmp_path: Path) -> None:
    venv = new_venv(tmp_path / "v", bare_env)
    python = venv / "bin" / "python"
    pip_install(python, ["--no-deps", str(built_wheel())], bare_env)
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], bare_env).stdout.strip())
    installed = [
        venv / "bin" / "sled-kernel",
        venv / "share" / "jupyter" / "kernels" / "sled" / "kernel.json",
        site / "sled_kernel" / "lexer.py",
    ]
    assert all(p.exists() for p in installed), installed
    run([python, "-m", "pip", "uninstall", "--yes", "sled-kernel"], bare_env)
    assert not any(p.exists() for p in installed)
    assert not (venv / "share" / "jupyter" / "kernels" / "sled").exists()
    assert not list(site.glob("sled_kernel*"))


def test_a_wheel_for_another_platform_is_refused_and_the_docs_say_what_to_do(
    bare_env: dict[str, str], tmp_path: Path
) -> None:
    wheel = built_wheel()
    other = tmp_path / wheel.name.replace(HOST.platform_tag, "macosx_11_0_arm64")
    shutil.copy(wheel, other)
    venv = new_venv(tmp_path / "v", bare_env)
    done = run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", other], bare_env, ok=False)
    assert done.returncode != 0
    refusal = f"{other.name} is not a supported wheel on this platform."
    assert refusal in done.stdout + done.stderr
    troubleshooting = (ROOT / "docs" / "students" / "troubleshooting.md").read_text()
    assert "is not a supported wheel on this platform" in troubleshooting
    assert not (venv / "bin" / "sled-kernel").exists()

