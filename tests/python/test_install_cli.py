"""`sled-kernel install` / `uninstall` as a user runs them, checked with the
.venv's own `jupyter kernelspec list`. Every run gets a scratch HOME and
scratch Jupyter dirs, so nothing real is touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import KERNEL_BIN, spec_program

JUPYTER = Path(sys.prefix) / "bin" / "jupyter"
JUPYTER_VARS = (
    "JUPYTER_DATA_DIR",
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_PLATFORM_DIRS",
    "JUPYTER_PREFER_ENV_PATH",
    "XDG_DATA_HOME",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in JUPYTER_VARS}
    clean["HOME"] = str(tmp_path / "home")
    # .venv's own `sled` spec would otherwise shadow the user-level one.
    clean["JUPYTER_PREFER_ENV_PATH"] = "0"
    (tmp_path / "home").mkdir()
    return clean


def sled_cli(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(KERNEL_BIN), *args], env=env, capture_output=True, text=True, timeout=30
    )
    if ok:
        assert done.returncode == 0, f"sled-kernel {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done


def listed(env: dict[str, str]) -> dict[str, dict]:
    done = subprocess.run(
        [str(JUPYTER), "kernelspec", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)["kernelspecs"]


def check_spec(spec_dir: Path) -> None:
    kernel_json = json.loads((spec_dir / "kernel.json").read_text())
    assert Path(spec_program(kernel_json["argv"])).resolve() == KERNEL_BIN.resolve()
    assert kernel_json["argv"][-3:] == ["kernel", "--connection-file", "{connection_file}"]
    assert kernel_json["display_name"] == "sled KV"
    assert (spec_dir / "logo-64x64.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_user_install_lands_in_the_home_data_dir(env: dict[str, str]) -> None:
    expected = Path(env["HOME"]) / ".local" / "share" / "jupyter" / "kernels" / "sled"
    sled_cli(env, "install")  # --user is the default
    check_spec(expected)
    found = listed(env)
    assert Path(found["sled"]["resource_dir"]) == expected

    sled_cli(env, "uninstall", "--user")
    assert not expected.exists()
    # what is left is .venv's own spec, not the user one
    assert Path(listed(env)["sled"]["resource_dir"]) != expected


def test_user_install_honours_jupyter_data_dir(env: dict[str, str], tmp_path: Path) -> None:
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "jdata")
    sled_cli(env, "install", "--user")
    expected = tmp_path / "jdata" / "kernels" / "sled"
    check_spec(expected)
    assert Path(listed(env)["sled"]["resource_dir"]) == expected
    assert not (Path(env["HOME"]) / ".local").exists()


def test_user_install_honours_xdg_data_home(env: dict[str, str], tmp_path: Path) -> None:
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    sled_cli(env, "install", "--user")
    expected = tmp_path / "xdg" / "jupyter" / "kernels" / "sled"
    check_spec(expected)
    assert Path(listed(env)["sled"]["resource_dir"]) == expected


def test_prefix_install_is_found_through_jupyter_path(env: dict[str, str], tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    sled_cli(env, "install", "--prefix", str(prefix))
    expected = prefix / "share" / "jupyter" / "kernels" / "sled"
    check_spec(expected)
    assert "sled" not in listed(env) or Path(listed(env)["sled"]["resource_dir"]) != expected
    env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    assert Path(listed(env)["sled"]["resource_dir"]) == expected


def test_sys_prefix_install_follows_virtual_env(env: dict[str, str], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env["VIRTUAL_ENV"] = str(venv)
    sled_cli(env, "install", "--sys-prefix")
    expected = venv / "share" / "jupyter" / "kernels" / "sled"
    check_spec(expected)
    env["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
    assert Path(listed(env)["sled"]["resource_dir"]) == expected
    sled_cli(env, "uninstall", "--sys-prefix")
    assert not expected.exists()


def test_install_twice_then_uninstall_twice(env: dict[str, str], tmp_path: Path) -> None:
    prefix = tmp_path / "p"
    spec_dir = prefix / "share" / "jupyter" / "kernels" / "sled"
    sled_cli(env, "install", "--prefix", str(prefix))
    (spec_dir / "stale-file").write_text("left by an older install")
    sled_cli(env, "install", "--prefix", str(prefix))
    check_spec(spec_dir)
    assert sorted(p.name for p in spec_dir.iterdir()) == [
        "kernel.json",
        "logo-32x32.png",
        "logo-64x64.png",
        "logo-svg.svg",
    ]
    assert [p.name for p in spec_dir.parent.iterdir()] == ["sled"]

    sled_cli(env, "uninstall", "--prefix", str(prefix))
    assert not spec_dir.exists()
    again = sled_cli(env, "uninstall", "--prefix", str(prefix), ok=False)
    assert again.returncode != 0
    assert "nothing to uninstall" in again.stdout + again.stderr
