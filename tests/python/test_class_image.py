"""The `rust` stage of the class image (deploy/Dockerfile), outside a
container: deploy/rust-for-class.sh installs a minimal Rust toolchain with
rust-src into a fresh prefix and warms the Rust cache there with the wheel's
`sled-kernel`, then lesson 06 runs from the wheel's environment with nothing
else: no rustup, cargo or Rust cache of this machine, a HOME of its own, and
only that prefix's toolchain on PATH. Every output must be the stored one,
and every crate the lesson needs must come from the warmed cache.

It downloads rustup-init and the toolchain from static.rust-lang.org (about
a minute) and compiles sled once (the warm step, about a minute on two
cores), as the image build does."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import notebooks  # scripts/notebooks.py
from conftest import ROOT, TIMINGS

pytestmark = pytest.mark.timeout(1800)

SCRIPT = ROOT / "deploy" / "rust-for-class.sh"
LESSON_06 = ROOT / "notebooks" / "06-rust-cells.ipynb"
CACHE_MIME = "application/vnd.sled-kernel.rust-cache+json"


def system_path() -> str:
    """Where the image has its system tools (curl, cc, sh): /usr/bin and
    /bin, and nothing of this machine's Rust."""
    return "/usr/local/bin:/usr/bin:/bin"


@pytest.fixture(scope="module")
def prefix(wheel_env: Path, bare_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the image's `rust` stage makes: the script run once, as root
    runs it there, with the wheel's sled-kernel on PATH."""
    for tool in ("curl", "cc", "sha256sum"):
        if shutil.which(tool, path=system_path()) is None:
            pytest.fail(f"deploy/rust-for-class.sh needs {tool} in {system_path()}", pytrace=False)
    where = tmp_path_factory.mktemp("class-image") / "opt-rust"
    env = {**bare_env, "PATH": f"{wheel_env / 'bin'}:{system_path()}"}
    began = time.monotonic()
    done = subprocess.run(
        ["sh", str(SCRIPT), str(where)], env=env, capture_output=True, text=True, timeout=1500
    )
    TIMINGS["class image: deploy/rust-for-class.sh (toolchain, rust-src, warm cache) (s)"] = (
        time.monotonic() - began
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "warmed the Rust cache" in done.stdout, done.stdout
    return where


def image_env(prefix: Path, wheel_env: Path, bare_env: dict[str, str], home: Path) -> dict[str, str]:
    """The environment the Dockerfile's ENV gives every student's kernel."""
    return {
        **bare_env,
        "HOME": str(home),
        "RUSTUP_HOME": str(prefix / "rustup"),
        "CARGO_HOME": str(prefix / "cargo"),
        "PATH": f"{prefix / 'cargo' / 'bin'}:{wheel_env / 'bin'}:{system_path()}",
        "SLED_KERNEL_RUST_CACHE": str(prefix / "rust-cells"),
    }


def test_the_script_installs_a_minimal_toolchain_with_rust_src(prefix: Path) -> None:
    toolchains = list((prefix / "rustup" / "toolchains").iterdir())
    assert len(toolchains) == 1, toolchains
    toolchain = toolchains[0]
    assert toolchain.name.startswith("1.95.0-"), toolchain.name
    assert (toolchain / "lib" / "rustlib" / "src" / "rust" / "library" / "core").is_dir()
    # The minimal profile: no documentation, clippy or rustfmt.
    assert not (toolchain / "share" / "doc" / "rust" / "html").exists()
    assert not (toolchain / "bin" / "cargo-clippy").exists()
    assert (prefix / "cargo" / "bin" / "cargo").exists()
    assert list((prefix / "rust-cells" / "crates").iterdir()), "the Rust cache is empty"
    size = sum(f.stat().st_size for f in prefix.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"the class image's Rust: {size / 1e6:.0f} MB in {prefix}")


def test_lesson_06_runs_with_only_what_the_image_has(
    prefix: Path, wheel_env: Path, bare_env: dict[str, str], tmp_path: Path
) -> None:
    """Lesson 06, every output as stored, then `%rust cache`: the lesson's
    crates came from the warmed cache, none was compiled."""
    home = tmp_path / "student-home"
    home.mkdir()
    env = image_env(prefix, wheel_env, bare_env, home)
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT / 'scripts')!r})
import nbformat, notebooks
nb = notebooks.read(notebooks.Path({str(LESSON_06)!r}))
nb.cells.append(nbformat.v4.new_code_cell("%rust cache"))
fresh = notebooks.execute(nb, cell_timeout=60)
cache = next(o for o in fresh.cells[-1].outputs if "data" in o)["data"][{CACHE_MIME!r}]
fresh.cells.pop()
print(json.dumps({{"cells": notebooks.comparable(fresh), "cache": cache}}))
"""
    done = subprocess.run(
        [str(wheel_env / "bin" / "python"), "-c", script], env=env, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["cells"] == notebooks.comparable(notebooks.read(LESSON_06))
    cache = result["cache"]
    assert cache["dir"] == str(prefix / "rust-cells"), cache
    assert cache["kernel"]["compiled"] == 0, cache
    assert cache["kernel"]["from_cache"] >= 15, cache
    # Nothing of this machine's Rust was needed: the student's HOME has no
    # ~/.cargo or ~/.rustup.
    assert not (home / ".cargo").exists() and not (home / ".rustup").exists()
