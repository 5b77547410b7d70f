"""Shared set-up for the Python tests: they all run the `sled` kernelspec that
./install.sh registered in .venv, and it must be this checkout's build."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(ROOT / "scripts"))

from cargo_executable import build  # noqa: E402

# This checkout's release build, wherever cargo keeps it (CARGO_TARGET_DIR
# too); ./install.sh built it already, so this only asks cargo.
KERNEL_BIN = build("sled-kernel", "--release", "--locked", "--quiet")

# Kernels started by these tests keep their cell history (and Jupyter its
# runtime files) in the per-user Jupyter data dir: point that at a scratch
# directory, so the tests neither read a developer's history nor add to it.
# The `sled` kernelspec is still found in .venv, where ./install.sh put it.
_SCRATCH_DATA_DIR = tempfile.mkdtemp(prefix="sled-tests-jupyter-data-")
os.environ["JUPYTER_DATA_DIR"] = _SCRATCH_DATA_DIR
atexit.register(shutil.rmtree, _SCRATCH_DATA_DIR, ignore_errors=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("sled")
    except NoSuchKernel:
        pytest.exit("no `sled` kernelspec is visible to this Python: run ./install.sh", returncode=3)
    if os.path.realpath(spec.argv[0]) != os.path.realpath(KERNEL_BIN):
        pytest.exit(
            f"the `sled` kernelspec at {spec.resource_dir} runs {spec.argv[0]}, "
            f"not this checkout's {KERNEL_BIN}: run ./install.sh",
            returncode=3,
        )
