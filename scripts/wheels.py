#!/usr/bin/env python3
"""Build the wheel for one target into dist/.

    .venv/bin/python scripts/wheels.py TRIPLE OUT_DIR

scripts/build-wheel runs this (after making sure maturin and the target's
tools are there); scripts/pep517_backend.py, what `pip install .` and
`pip wheel .` use, calls the same functions around maturin's own backend,
so the two give the same wheel:

1. `prepare`: the JupyterLab extension is built into
   python/sled_kernel.data/ (wheel data) by labextension/build, which skips
   the work when nothing changed;
2. maturin builds the wheel with `maturin_args` (the target, its features,
   and for Linux the manylinux_2_17 tag, which maturin checks against the
   program's symbol versions), in the environment scripts/targets.py gives
   the target;
3. `finish`: for Windows, the files under python/windows.data/data/ take
   the place of python/sled_kernel.data/data/'s in the wheel (the
   kernelspec that starts `Scripts\\sled-kernel.exe`), and then the wheel
   is checked: its tag, the program, the kernelspec, the logos, the lexer
   and the extension.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import targets  # noqa: E402
from targets import ROOT, SetupError, Target  # noqa: E402

DATA = ROOT / "python" / "sled_kernel.data" / "data"
WINDOWS_DATA = ROOT / "python" / "windows.data" / "data"
EXTENSION = Path("share/jupyter/labextensions/jupyterlab-sled-kv")
SPEC = Path("share/jupyter/kernels/sled")
SPEC_FILES = ("kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg")


def version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    if not match:
        raise SetupError("cannot read the package version from Cargo.toml")
    return match.group(1)


def wheel_name(t: Target) -> str:
    return f"sled_kernel-{version()}-py3-none-{t.platform_tag}.whl"


def prepare() -> None:
    """The JupyterLab extension, into python/sled_kernel.data/
    (labextension/build rebuilds it only when its sources changed; node and
    npm only then)."""
    print("==> JupyterLab extension: labextension/build", flush=True)
    done = subprocess.run([str(ROOT / "labextension" / "build")])
    if done.returncode == 3:
        raise SetupError(
            "the wheel carries the JupyterLab extension jupyterlab-sled-kv, and building it "
            "needs Node.js 20 or newer with npm (see above)"
        )
    if done.returncode != 0:
        raise SetupError(f"labextension/build failed (exit {done.returncode})")


def maturin_args(t: Target) -> list[str]:
    """What maturin is told besides pyproject.toml's [tool.maturin]. With
    `--auditwheel check` a program that needs a shared library the platform
    tag does not promise stops the build instead of being patched."""
    args = ["--target", t.triple, "--auditwheel", "check"]
    if t.manylinux:
        args += ["--compatibility", t.manylinux]
    if not t.rust_cells:
        args += ["--no-default-features"]
    return args


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def overlay(wheel: Path, folder: Path) -> None:
    """Puts every file under FOLDER into the wheel's data (`*.data/data/`),
    in place of the file of the same path, and rewrites RECORD to match."""
    data_dir = f"sled_kernel-{version()}.data/data/"
    replacements = {
        data_dir + p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    with zipfile.ZipFile(wheel) as old:
        entries = [(info, old.read(info)) for info in old.infolist()]
    record_name = next(info.filename for info, _ in entries if info.filename.endswith(".dist-info/RECORD"))
    written = set()
    fd, scratch = tempfile.mkstemp(dir=wheel.parent, suffix=".whl")
    os.close(fd)
    records = []
    with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in entries:
            if info.filename == record_name:
                continue
            if info.filename in replacements:
                data = replacements[info.filename]
                written.add(info.filename)
            new.writestr(info, data)
            records.append(record_line(info.filename, data))
        for name in sorted(set(replacements) - written):
            new.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), replacements[name])
            records.append(record_line(name, replacements[name]))
        records.append(f"{record_name},,")
        new.writestr(record_name, "\n".join(records) + "\n")
    os.replace(scratch, wheel)


def check(wheel: Path, t: Target) -> None:
    """The wheel holds what every wheel must hold, for its own platform."""
    expected = wheel_name(t)
    if wheel.name != expected:
        raise SetupError(f"maturin wrote {wheel.name}, expected {expected}")
    data = f"sled_kernel-{version()}.data"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        program = f"{data}/scripts/sled-kernel{t.exe}"
        spec_source = WINDOWS_DATA if t.windows else DATA
        missing = [program] if program not in names else []
        for name in SPEC_FILES:
            inside = f"{data}/data/{SPEC.as_posix()}/{name}"
            source = spec_source / SPEC / name
            if not source.is_file():
                source = DATA / SPEC / name
            if inside not in names:
                missing.append(inside)
            elif zf.read(inside) != source.read_bytes():
                raise SetupError(f"{wheel.name}: {inside} is not {source.relative_to(ROOT)}")
        for name in ("sled_kernel/__init__.py", "sled_kernel/lexer.py", f"{data}/data/{EXTENSION.as_posix()}/package.json"):
            if name not in names:
                missing.append(name)
    if missing:
        raise SetupError(f"{wheel.name} lacks {', '.join(missing)}")


def finish(wheel: Path, t: Target) -> None:
    if t.windows:
        overlay(wheel, WINDOWS_DATA)
    check(wheel, t)


def build(t: Target, out: Path) -> Path:
    prepare()
    out.mkdir(parents=True, exist_ok=True)
    # One wheel per version and platform in OUT, so that a glob names one file.
    for old in out.glob(f"sled_kernel-{version()}-*-{t.platform_tag}.whl"):
        old.unlink()
    env = {**os.environ, **targets.build_env(t.triple)}
    maturin = shutil.which("maturin", path=str(Path(sys.executable).parent)) or "maturin"
    command = [maturin, "build", "--release", "--locked", *maturin_args(t), "--out", str(out)]
    print(f"==> {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SetupError(f"maturin failed for {t.triple} (see above)")
    wheel = out / wheel_name(t)
    if not wheel.is_file():
        made = sorted(p.name for p in out.glob(f"sled_kernel-{version()}-*.whl"))
        raise SetupError(f"maturin finished but wrote no {wheel.name} (dist/ has {made})")
    finish(wheel, t)
    return wheel


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    try:
        wheel = build(targets.target(argv[0]), Path(argv[1]).resolve())
    except SetupError as error:
        print(f"build-wheel: {error}", file=sys.stderr)
        return 1
    size = wheel.stat().st_size / 1e6
    print(f"built {wheel.relative_to(ROOT) if wheel.is_relative_to(ROOT) else wheel} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
