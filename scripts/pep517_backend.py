"""The build backend of `pip install .` and `pip wheel .` (pyproject.toml
names it, with backend-path = ["scripts"]): maturin's backend, plus what
scripts/build-wheel does around maturin (scripts/wheels.py), so that both
give the same wheel:

- the JupyterLab extension is built first (it needs node and npm when it
  has to be built; the error says so);
- the program is built for this machine's target in that target's
  environment (scripts/targets.py: on Linux, zig and glibc 2.17, so the
  wheel is manylinux_2_17, and the release build of ./install.sh is reused);
- the wheel gets its platform's kernelspec and is checked.

Everything else (metadata, sdists) is maturin's, unchanged.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import maturin
from maturin import (  # noqa: F401  (the hooks pip calls, as maturin has them)
    build_sdist,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_wheel,
)

import targets
import wheels


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    host = targets.host_triple()
    if host not in targets.TARGETS:
        raise SystemExit(
            f"sled-kernel: `pip install .` builds the wheel of this machine's target, and "
            f"{host} is not one of the wheels' ({', '.join(targets.TARGETS)}). On Windows, "
            "install the win_amd64 wheel (built on Linux with mingw-w64: docs/developers/wheels.md)."
        )
    try:
        t = targets.TARGETS[host]
        wheels.prepare()
        os.environ.update(targets.build_env(t.triple))
    except targets.SetupError as error:
        raise SystemExit(f"sled-kernel: {error}") from None
    given = shlex.split(os.environ.get("MATURIN_PEP517_ARGS", ""))
    os.environ["MATURIN_PEP517_ARGS"] = shlex.join([*wheels.maturin_args(t), *given])
    name = maturin.build_wheel(wheel_directory, config_settings, metadata_directory)
    try:
        wheels.finish(Path(wheel_directory) / name, t)
    except targets.SetupError as error:
        raise SystemExit(f"sled-kernel: {error}") from None
    return name
