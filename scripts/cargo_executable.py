"""Build with cargo and say where it put an executable.

    python3 scripts/cargo_executable.py NAME [CARGO BUILD ARGUMENTS...]
    python3 scripts/cargo_executable.py --target-dir

The first prints the path of the executable NAME (a binary or an example)
that `cargo build ARGUMENTS` made; the second, cargo's target directory.
Cargo decides where they are (CARGO_TARGET_DIR, `build.target-dir` in a
cargo config, `--target`), so nothing here assumes `target/release`.
Cargo's own messages and errors go to stderr as usual.

install.sh and benches/ use it; the Python tests' conftest.py asks it for
the target directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(name: str, *cargo_args: str) -> Path:
    """Runs `cargo build --message-format=json-render-diagnostics ARGS` in the
    repository and returns the executable it reports for NAME."""
    command = ["cargo", "build", "--message-format=json-render-diagnostics", *cargo_args]
    try:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise SystemExit(
            "cargo_executable: cargo was not found: install the Rust toolchain (rustup)"
        ) from None
    if done.returncode != 0:
        raise SystemExit(f"cargo_executable: `{' '.join(command)}` failed (see above)")
    found = None
    for line in done.stdout.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (
            message.get("reason") == "compiler-artifact"
            and message.get("target", {}).get("name") == name
            and message.get("executable")
        ):
            found = Path(message["executable"])
    if found is None:
        raise SystemExit(
            f"cargo_executable: `{' '.join(command)}` built no executable named {name!r}"
        )
    return found


def target_dir() -> Path:
    """Cargo's target directory for this repository (`cargo metadata`)."""
    done = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return Path(json.loads(done.stdout)["target_directory"])


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
    elif sys.argv[1:] == ["--target-dir"]:
        print(target_dir())
    elif len(sys.argv) < 2:
        sys.exit("usage: " + __doc__.splitlines()[2].strip())
    else:
        print(build(sys.argv[1], *sys.argv[2:]))
