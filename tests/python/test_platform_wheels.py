"""The wheels for the other platforms, run as far as this machine can (it is
Linux x86_64): scripts/build-wheel --target writes them into dist/ (tests/run
does, before pytest).

- Linux on ARM (aarch64): pip takes the wheel for manylinux_2_17_aarch64;
  its program, started under qemu-aarch64 (Debian's qemu-user, against the
  arm64 glibc in /usr/aarch64-linux-gnu) by a kernelspec whose argv starts
  with qemu and then is the wheel's own, runs lesson 01 through nbclient,
  every output as stored.
- Windows: pip takes the wheel for win_amd64; its program imports nothing
  but Windows' own DLLs; under wine 8, started by the wheel's own Windows
  kernelspec (its `{resource_dir}\\..\\..\\..\\..\\Scripts\\sled-kernel.exe`
  filled in as jupyter_client does on Windows and resolved by wine's Windows
  path rules), it runs lesson 01, a `%sleep` is interrupted and the kernel
  restarted. wine 8 lacks bcryptprimitives.dll, which Rust's standard
  library takes random bytes from: a stand-in built from
  tests/wine/bcryptprimitives.c goes next to the program in the scratch
  install, never into a wheel (a test checks that).
- macOS: the programs cannot run here. They are read instead (binaries.py):
  CPU, the oldest macOS they promise, only system libraries and frameworks,
  a code signature that covers the file. These tests need the macOS wheels,
  which tests/run builds only with --all-platforms (marker all_platforms).
  The release workflow runs lesson 01 from every wheel on a real machine of
  its platform.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from jupyter_client.manager import KernelManager

import binaries
import notebooks  # scripts/notebooks.py
import targets  # scripts/targets.py
from conftest import ROOT, cargo_version, platform_wheel, spec_program
from test_protocol import iopub_until_idle, outputs, run_cell, shell_reply, wait_until_printed

LESSON_01 = ROOT / "notebooks" / "01-embedded-kv-with-sled.ipynb"
SPEC = Path("share") / "jupyter" / "kernels" / "sled"
ARM = targets.TARGETS["aarch64-unknown-linux-gnu"]
WINDOWS = targets.TARGETS["x86_64-pc-windows-gnu"]
MACS = [targets.TARGETS["x86_64-apple-darwin"], targets.TARGETS["aarch64-apple-darwin"]]
QEMU = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]
WINE = "/usr/lib/wine/wine64"
WINESERVER = "/usr/lib/wine/wineserver"
WINE_RUN = ROOT / "tests" / "wine" / "run"  # builds the test-only stand-in DLL
# The DLLs every Windows 10 has; the program may import these and no other.
WINDOWS_DLLS = {
    "advapi32.dll",
    "combase.dll",
    "ole32.dll",
    "shell32.dll",
    "api-ms-win-core-synch-l1-2-0.dll",
    "bcryptprimitives.dll",
    "iphlpapi.dll",
    "kernel32.dll",
    "msvcrt.dll",
    "ntdll.dll",
    "userenv.dll",
    "ws2_32.dll",
}

# Emulated, every cell takes longer: generous limits, on a busy machine too.
pytestmark = pytest.mark.timeout(900)


def pip_install_for(t: targets.Target, into: Path) -> Path:
    """`pip install --platform TAG --target INTO` of the wheel: pip must take
    it as a wheel for that platform. Returns INTO, which then holds bin/
    (the program) and share/ (the kernelspec), as an environment would."""
    wheel = platform_wheel(t)
    platform = t.platform_tag.split(".")[0]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
         "--only-binary=:all:", "--platform", platform, "--target", str(into), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, f"pip refused {wheel.name} for {platform}:\n{done.stdout}\n{done.stderr}"
    return into


def write_spec(jupyter_path: Path, spec: dict) -> None:
    """A `sled` kernelspec in JUPYTER_PATH, which Jupyter searches first."""
    folder = jupyter_path / "kernels" / "sled"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=2))


def run_lesson_01(cell_timeout: int) -> str:
    stored = notebooks.read(LESSON_01)
    return notebooks.differences(stored, notebooks.execute(stored, cell_timeout=cell_timeout))


def elf_machine(path: Path) -> int:
    with path.open("rb") as f:
        head = f.read(20)
    assert head[:4] == b"\x7fELF", f"{path} is not an ELF program"
    return struct.unpack_from("<H", head, 18)[0]


# ------------------------------------------------------------ Linux on ARM


def test_the_arm_wheel_runs_lesson_01_under_qemu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = pip_install_for(ARM, tmp_path / "arm")
    spec_dir = prefix / SPEC
    spec = json.loads((spec_dir / "kernel.json").read_text())
    template = spec_program(spec["argv"])
    program = Path(template.replace("{resource_dir}", str(spec_dir))).resolve()
    assert program == (prefix / "bin" / "sled-kernel").resolve()
    assert elf_machine(program) == 183, "not an aarch64 program"  # EM_AARCH64

    # The wheel's spec with qemu in front of the program it names.
    rest = spec["argv"][spec["argv"].index(template) + 1 :]
    write_spec(tmp_path / "jupyter", {**spec, "argv": [*QEMU, str(program), *rest]})
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))

    version = subprocess.run([*QEMU, str(program), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.strip() == f"sled-kernel {cargo_version()}", version
    diff = run_lesson_01(cell_timeout=120)
    assert not diff, "lesson 01 under qemu-aarch64 differs from its stored outputs:\n" + diff
    assert not list((tmp_path / "tmp").glob("sled-kernel-*")), "the kernel left its database"


# ----------------------------------------------------------------- Windows


@pytest.fixture(scope="module")
def windows_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The Windows wheel installed as in a Windows environment (the program
    in Scripts\\, the kernelspec in share\\), with the test-only stand-in for
    bcryptprimitives.dll next to the program, and a scratch wine prefix."""
    root = tmp_path_factory.mktemp("windows")
    prefix = pip_install_for(WINDOWS, root / "env")
    (prefix / "bin").rename(prefix / "Scripts")
    scripts = prefix / "Scripts"
    subprocess.run([str(WINE_RUN), "--stand-in", str(scripts)], check=True, timeout=120)
    env = {"WINEPREFIX": str(root / "wineprefix"), "WINEDEBUG": "-all"}
    # The first program started in a new prefix makes the prefix (seconds).
    version = subprocess.run(
        [WINE, str(scripts / "sled-kernel.exe"), "--version"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )
    assert version.stdout.strip() == f"sled-kernel {cargo_version()}", version
    try:
        yield prefix, env
    finally:
        subprocess.run([WINESERVER, "-k"], env={**os.environ, **env}, timeout=60)


@pytest.fixture
def windows_spec(windows_install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The wheel's Windows kernelspec, filled in as jupyter_client on
    Windows would (`{resource_dir}` is the spec's folder with backslashes;
    wine shows this machine's / as Z:), started by wine. Returns the
    Windows temporary folder the kernel keeps its session databases in."""
    prefix, env = windows_install
    spec_dir = prefix / SPEC
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert "/bin/sh" not in spec["argv"], "the Windows spec must start the program itself"
    windows_dir = "Z:" + str(spec_dir).replace("/", "\\")
    program = spec["argv"][0].replace("{resource_dir}", windows_dir)
    assert program.endswith("\\..\\..\\..\\..\\Scripts\\sled-kernel.exe"), program
    write_spec(tmp_path / "jupyter", {**spec, "argv": [WINE, program, *spec["argv"][1:]], "env": env})
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # %TEMP% of the prefix's user (wine names the user after the Unix one).
    (temp,) = Path(env["WINEPREFIX"], "drive_c", "users").glob("*/Temp")
    return temp


def test_the_windows_program_imports_only_windows_dlls_and_the_wheel_ships_no_stand_in() -> None:
    wheel = platform_wheel(WINDOWS)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        program = zf.read(f"sled_kernel-{cargo_version()}.data/scripts/sled-kernel.exe")
    assert not [n for n in names if n.lower().endswith(".dll")], names
    imported = {name.lower() for name in binaries.pe_imports(program)}
    assert imported <= WINDOWS_DLLS, f"imports DLLs Windows does not have: {imported - WINDOWS_DLLS}"
    # The C++ runtime, libgcc and winpthread are linked in.
    assert not {n for n in imported if n.startswith(("libstdc++", "libgcc", "libwinpthread"))}


def test_the_windows_wheel_runs_lesson_01_under_wine(windows_spec: Path) -> None:
    before = set(windows_spec.glob("sled-kernel-*"))
    diff = run_lesson_01(cell_timeout=120)
    assert not diff, "lesson 01 under wine differs from its stored outputs:\n" + diff
    assert set(windows_spec.glob("sled-kernel-*")) == before, "the kernel left its database"


def test_the_windows_kernel_is_interrupted_and_restarted_under_wine(windows_spec: Path) -> None:
    km = KernelManager(kernel_name="sled")
    assert km.kernel_spec.interrupt_mode == "message"
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        reply, iopub = run_cell(kc, 'insert wine:key "before"', timeout=60)
        assert outputs(iopub) == [("stream", "stdout", 'put wine:key = "before"\n')]

        msg_id = kc.execute("echo sleeping\n%sleep 60")
        wait_until_printed(kc, msg_id, "sleeping")
        started = time.monotonic()
        km.interrupt_kernel()  # an interrupt_request on the control channel
        reply = shell_reply(kc, msg_id, timeout=30)
        assert time.monotonic() - started < 20, "the interrupt took too long to land"
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "Interrupted"
        iopub_until_idle(kc, msg_id, timeout=30)
        reply, iopub = run_cell(kc, "get wine:key", timeout=60)
        assert outputs(iopub) == [("execute_result", 'get wine:key -> "before"')]

        old = km.provisioner.process
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=120)
        assert old.poll() is not None, "the first kernel is still running after the restart"
        reply, iopub = run_cell(kc, "get wine:key", timeout=60)
        assert outputs(iopub) == [("execute_result", "get wine:key -> <missing>")]
        assert reply["content"]["execution_count"] == 1, "a restarted kernel counts from 1 again"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not km.is_alive()


# ------------------------------------------------------------------- macOS


@pytest.mark.all_platforms
@pytest.mark.parametrize("t", MACS, ids=[t.triple for t in MACS])
def test_the_macos_wheel_holds_a_signed_program_for_its_mac(t: targets.Target) -> None:
    wheel = platform_wheel(t)
    data = f"sled_kernel-{cargo_version()}.data"
    with zipfile.ZipFile(wheel) as zf:
        program = binaries.macho(zf.read(f"{data}/scripts/sled-kernel"))
        spec = zf.read(f"{data}/data/{SPEC.as_posix()}/kernel.json")
    assert program.cpu == {"x86_64-apple-darwin": "x86_64", "aarch64-apple-darwin": "arm64"}[t.triple]
    oldest = tuple(int(p) for p in t.env_extra["MACOSX_DEPLOYMENT_TARGET"].split(".")) + (0,)
    assert program.min_macos == oldest[:3], program.min_macos
    outside = [lib for lib in program.dylibs if not lib.startswith(("/usr/lib/", "/System/Library/Frameworks/"))]
    assert not outside, f"loads libraries a Mac does not have: {outside}"
    assert "/usr/lib/libSystem.B.dylib" in program.dylibs
    # Apple silicon runs no unsigned code (an ad-hoc signature is enough, and
    # zig's linker writes one); an Intel Mac runs a program pip put there
    # unsigned, but a signature it carries must cover the file.
    if t.triple.startswith("aarch64") or program.signed:
        assert program.signed and program.signature_ok, program.signature_problem
    assert spec == (ROOT / "python" / "sled_kernel.data" / "data" / SPEC / "kernel.json").read_bytes()
