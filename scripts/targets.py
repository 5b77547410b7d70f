#!/usr/bin/env python3
"""The platforms sled-kernel's wheels are built for, and how each is built.

    python3 scripts/targets.py list                       the targets, one a line
    python3 scripts/targets.py host                       this machine's target
    python3 scripts/targets.py run TRIPLE -- COMMAND...   COMMAND with TRIPLE's settings

`run` starts COMMAND (cargo or maturin, given `--target TRIPLE` by the
caller) with the environment that builds for TRIPLE:

- Linux (x86_64 and aarch64): zig's C compiler and linker, through
  cargo-zigbuild's `zig cc` driver, targeting glibc 2.17. The program then
  runs on any Linux with glibc 2.17 or newer (manylinux_2_17: RHEL/CentOS 7
  and later, Ubuntu 14.04 and later) and needs no C++ runtime (zig links
  LLVM's libc++ in). This holds for the host's own target too: the release
  build that ./install.sh makes, `cargo test` in tests/run and the wheel are
  one build with one set of flags, in `target/x86_64-unknown-linux-gnu/`.
  A plain `cargo build` by hand (no `--target`) is another build, in
  `target/release/`, with the system's compilers, and the two never
  invalidate each other: the linker is given through
  CARGO_TARGET_<TRIPLE>_RUSTFLAGS, which cargo applies only to what it
  builds for `--target`, not to build scripts and proc macros.
- macOS (x86_64 and aarch64): zig too, with macOS 10.12 / 11.0 as the
  oldest system (Rust's own defaults), and stubs for the two Apple
  frameworks a dependency names (see patches/macos-sdk-stubs/README.md).
- Windows (x86_64-pc-windows-gnu): Debian's mingw-w64 gcc with POSIX
  threads (libzmq's std::condition_variable needs them), linked with
  `-static` so that the C++ runtime, libgcc and winpthread are inside the
  program and it needs no DLL beyond Windows' own.

The zig wrappers are written into cargo's target directory
(`zig/ZIG-TARGET/cc`, `c++`, `ar`, e.g. `zig/x86_64-linux-gnu.2.17/cc`) each
time, with the same paths, so cargo sees the same linker from one run to
the next. ziglang and cargo-zigbuild
come from the Python environment that runs this script
(scripts/setup-toolchains puts them in .venv).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cargo_executable import target_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MACOS_STUBS = ROOT / "patches" / "macos-sdk-stubs"
# What the zig targets need in the Python environment that builds.
ZIG_PACKAGES = ["ziglang>=0.17,<0.18", "cargo-zigbuild>=0.24,<0.25"]


@dataclass(frozen=True)
class Target:
    triple: str
    # The wheel's platform tag (maturin's name for it; scripts/wheels.py
    # checks it), and what a student's machine needs for it.
    platform_tag: str
    needs: str
    # zig's name for the target (with the oldest glibc or macOS), or None
    # for the mingw-w64 build.
    zig: str | None
    rust_cells: bool
    # How the tests run this target's program here: "natively", "qemu",
    # "wine", or "not at all".
    runs_here: str
    # Debian packages: to build it, and to run it here.
    apt_build: tuple[str, ...] = ()
    apt_run: tuple[str, ...] = ()
    env_extra: dict[str, str] = field(default_factory=dict)
    # maturin's --compatibility for Linux: the manylinux policy it checks the
    # program's symbol versions against.
    manylinux: str | None = None

    @property
    def exe(self) -> str:
        return ".exe" if "windows" in self.triple else ""

    @property
    def windows(self) -> bool:
        return "windows" in self.triple

    @property
    def macos(self) -> bool:
        return "apple-darwin" in self.triple


MINGW = "x86_64-w64-mingw32"
TARGETS: dict[str, Target] = {
    t.triple: t
    for t in [
        Target(
            "x86_64-unknown-linux-gnu",
            "manylinux2014_x86_64.manylinux_2_17_x86_64",
            "64-bit Intel/AMD Linux with glibc 2.17 or newer",
            zig="x86_64-linux-gnu.2.17",
            rust_cells=True,
            runs_here="natively",
            manylinux="manylinux_2_17",
        ),
        Target(
            "aarch64-unknown-linux-gnu",
            "manylinux2014_aarch64.manylinux_2_17_aarch64",
            "64-bit ARM Linux with glibc 2.17 or newer",
            zig="aarch64-linux-gnu.2.17",
            rust_cells=True,
            runs_here="qemu",
            # qemu-aarch64 runs the program; the sysroot's loader and glibc
            # (/usr/aarch64-linux-gnu) are what it runs against.
            apt_run=("qemu-user", "libc6-arm64-cross"),
            manylinux="manylinux_2_17",
        ),
        Target(
            "x86_64-pc-windows-gnu",
            "win_amd64",
            "64-bit Windows 10 or newer",
            zig=None,
            rust_cells=False,
            runs_here="wine",
            apt_build=("mingw-w64", "gcc-mingw-w64-x86-64-posix", "g++-mingw-w64-x86-64-posix"),
            apt_run=("wine64",),
        ),
        Target(
            "x86_64-apple-darwin",
            "macosx_10_12_x86_64",
            "an Intel Mac with macOS 10.12 or newer",
            zig="x86_64-macos.10.12-none",
            rust_cells=True,
            runs_here="not at all",
            env_extra={"MACOSX_DEPLOYMENT_TARGET": "10.12"},
        ),
        Target(
            "aarch64-apple-darwin",
            "macosx_11_0_arm64",
            "an Apple silicon Mac with macOS 11 or newer",
            zig="aarch64-macos.11.0-none",
            rust_cells=True,
            runs_here="not at all",
            env_extra={"MACOSX_DEPLOYMENT_TARGET": "11.0"},
        ),
    ]
}


class SetupError(Exception):
    """Something a build for a target needs is missing; the message says
    what and how to get it."""


def host_triple() -> str:
    done = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("host: "):
            return line.split(": ", 1)[1].strip()
    raise SetupError("`rustc -vV` printed no host line")


def target(triple: str) -> Target:
    try:
        return TARGETS[triple]
    except KeyError:
        known = ", ".join(TARGETS)
        raise SetupError(f"no wheel target {triple!r}: the targets are {known}") from None


def rust_std_installed(triple: str) -> bool:
    done = subprocess.run(
        ["rustc", "--print", "target-libdir", "--target", triple], capture_output=True, text=True
    )
    return done.returncode == 0 and Path(done.stdout.strip()).is_dir() and any(
        Path(done.stdout.strip()).glob("libstd-*")
    )


def zig_tools() -> tuple[Path, str]:
    """cargo-zigbuild and the version of zig, from the Python environment
    running this script (or, in pip's isolated build environment, from the
    build requirements pip put on PATH and on Python's path)."""
    driver = Path(sysconfig.get_path("scripts")) / "cargo-zigbuild"
    if not driver.is_file():
        driver = Path(shutil.which("cargo-zigbuild") or driver)
    zig = subprocess.run([sys.executable, "-m", "ziglang", "version"], capture_output=True, text=True)
    if not driver.is_file() or zig.returncode != 0:
        raise SetupError(
            f"zig builds need ziglang and cargo-zigbuild in the Python environment of "
            f"{sys.executable}; run scripts/setup-toolchains (it puts them in .venv), or "
            f"pip install {' '.join(shlex.quote(p) for p in ZIG_PACKAGES)}"
        )
    return driver, zig.stdout.strip()


def rustc_version() -> str:
    done = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True)
    return done.stdout.split()[1]


def write_if_changed(path: Path, text: str) -> None:
    """Writes an executable script, leaving it alone (and its time stamp) when
    it already says the same."""
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    path.chmod(0o755)


def zig_wrappers(t: Target) -> dict[str, Path]:
    """target/zig/TRIPLE/{cc,c++,ar}: zig's compiler, C++ compiler and
    archiver for the target, through cargo-zigbuild's `zig` driver (which
    adapts what rustc and cc pass to what zig accepts)."""
    driver, zig_version = zig_tools()
    # Named after zig's target, so that a change of it (another glibc or
    # macOS) is a change of compiler and linker for cargo, which then
    # rebuilds. The resolved path: a CARGO_TARGET_DIR that is another name
    # for the same folder must give cargo the same linker, or it rebuilds
    # everything.
    folder = target_dir().resolve() / "zig" / t.zig
    header = (
        "#!/bin/sh\n"
        f"# Written by scripts/targets.py for {t.triple}: do not edit.\n"
        f"export CARGO_ZIGBUILD_PYTHON_PATH={shlex.quote(sys.executable)}\n"
        f"export CARGO_ZIGBUILD_ZIG_VERSION={shlex.quote(zig_version)}\n"
        f"export CARGO_ZIGBUILD_RUSTC_VERSION={shlex.quote(rustc_version())}\n"
    )
    wrappers = {}
    for tool in ("cc", "c++"):
        wrappers[tool] = folder / tool
        write_if_changed(
            wrappers[tool],
            header + f'exec {shlex.quote(str(driver))} zig {tool} -- -g -fno-sanitize=all '
            f'-target {t.zig} "$@"\n',
        )
    wrappers["ar"] = folder / "ar"
    write_if_changed(wrappers["ar"], header + f'exec {shlex.quote(str(driver))} zig ar -- "$@"\n')
    return wrappers


def missing_commands(names: list[str]) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


def build_env(triple: str) -> dict[str, str]:
    """The variables (added to the current environment) that build for
    TRIPLE. A host that is not Linux, or not one of the targets, builds its
    own target with its own toolchain, and gets none."""
    host = host_triple()
    if triple == host and ("linux" not in host or triple not in TARGETS):
        return {}
    t = target(triple)
    if not rust_std_installed(triple):
        raise SetupError(
            f"Rust's standard library for {triple} is not installed: "
            f"rustup target add {triple} (scripts/setup-toolchains {triple} does it)"
        )
    for name in ("RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"):
        if os.environ.get(name):
            raise SetupError(
                f"{name} is set; cargo would then ignore CARGO_TARGET_*_RUSTFLAGS, through which "
                f"the linker for {triple} is given: unset {name} for this build"
            )
    under = triple.replace("-", "_")
    env = dict(t.env_extra)
    rustflags: list[str] = []
    if t.zig:
        tools = zig_wrappers(t)
        env[f"CC_{under}"] = str(tools["cc"])
        env[f"CXX_{under}"] = str(tools["c++"])
        env[f"AR_{under}"] = str(tools["ar"])
        rustflags += ["-C", f"linker={tools['cc']}"]
        if t.macos:
            rustflags += ["-C", f"link-arg=-F{MACOS_STUBS}"]
    else:
        gcc, gxx = f"{MINGW}-gcc-posix", f"{MINGW}-g++-posix"
        missing = missing_commands([gcc, gxx, f"{MINGW}-ar"])
        if missing:
            raise SetupError(
                f"building for {triple} needs {', '.join(missing)}: "
                f"apt-get install {' '.join(t.apt_build)} (scripts/setup-toolchains {triple} does it)"
            )
        env[f"CC_{under}"] = gcc
        env[f"CXX_{under}"] = gxx
        env[f"AR_{under}"] = f"{MINGW}-ar"
        # libstdc++ as a static library (cc would name the DLL), and
        # everything else static too: the program then imports only
        # Windows' own DLLs.
        env[f"CXXSTDLIB_{under}"] = "static:-bundle=stdc++"
        rustflags += ["-C", f"linker={gcc}", "-C", "link-arg=-static"]
        # `cargo test` (and `cargo run`) for Windows start the programs under
        # wine; the runner plays no part in what is built.
        env[f"CARGO_TARGET_{under.upper()}_RUNNER"] = str(ROOT / "tests" / "wine" / "run")
    env[f"CARGO_TARGET_{under.upper()}_RUSTFLAGS"] = " ".join(rustflags)
    return env


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    try:
        if argv == ["list"]:
            for t in TARGETS.values():
                print(t.triple)
            return 0
        if argv == ["host"]:
            print(host_triple())
            return 0
        if argv[0] == "run" and len(argv) >= 4 and argv[2] == "--":
            env = build_env(argv[1])
            os.execvpe(argv[3], argv[3:], {**os.environ, **env})
    except SetupError as error:
        print(f"targets.py: {error}", file=sys.stderr)
        return 1
    print("usage: targets.py list | host | run TRIPLE -- COMMAND [ARGS...]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
