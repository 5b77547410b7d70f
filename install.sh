#!/usr/bin/env bash
# Build sled-kernel, give it a Jupyter environment in .venv, register the
# kernel there and run the first lesson notebook, so you can see it work.
# Needs the Rust toolchain (cargo) and python3 (zig, which links the kernel
# on Linux, comes into .venv from PyPI), and node/npm to build the
# JupyterLab highlighting extension (skipped with a note when they are
# missing). Safe to run again: a second run skips whatever is already done.
#
#   ./install.sh                  all of the above
#   ./install.sh --no-demo        skip running the notebook at the end
#   ./install.sh --test-packages  also put the test tools in .venv (tests/run)
#   ./install.sh --warm-rust      also fill the Rust cache (sled-kernel warm), so
#                                 the first %%rust cell of each kernel takes
#                                 seconds instead of a minute; asked when run
#                                 in a terminal, skipped with --no-warm-rust
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$(pwd -P)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
DEMO_NOTEBOOK="notebooks/01-embedded-kv-with-sled.ipynb"

# What the notebooks need, and what the tests need on top of that.
NOTEBOOK_PACKAGES=(
  "jupyterlab>=4.2,<5"
  "jupyter_client>=8.6,<9"
  "nbclient>=0.10,<0.12"
  "nbformat>=5.10,<6"
)
TEST_PACKAGES=(
  "pytest>=8,<10"
  "pytest-timeout>=2.3,<3"
  "jupyter_kernel_test>=0.7,<0.8"
  # drives the system Chromium in tests/python/test_jupyterlab.py; the
  # browsers Playwright could download are never used (no `playwright install`)
  "playwright>=1.40,<2"
  # the wheel tests: maturin builds it (scripts/build-wheel), auditwheel
  # checks its manylinux tag, psutil finds the processes a server started
  "maturin>=1.9,<2"
  "auditwheel>=6,<7"
  "psutil>=5.9,<8"
  # the terminal frontend: tests/python/test_console.py types `exit` into it
  "jupyter_console>=6.6,<7"
  # grades the lessons' exercises in tests/python/test_nbgrader.py
  "nbgrader>=0.9.6,<0.10"
)

demo=1
warm=ask
packages=("${NOTEBOOK_PACKAGES[@]}")
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    --test-packages) packages+=("${TEST_PACKAGES[@]}") ;;
    --warm-rust) warm=yes ;;
    --no-warm-rust) warm=no ;;
    -h | --help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install.sh: unknown option '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

command -v cargo >/dev/null || die "cargo was not found: install the Rust toolchain (rustup) first"
command -v python3 >/dev/null || die "python3 was not found: install Python 3.10 or newer first"

step "Python environment: .venv"
if [ ! -x "$PY" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" ||
    die "python3 -m venv failed (on Debian or Ubuntu: apt-get install python3-venv)"
  echo "created $VENV"
fi

# The build's tools for this machine's target: on Linux, zig (ziglang and
# cargo-zigbuild from PyPI, into .venv), which links the kernel for glibc
# 2.17, so that this build is also the manylinux wheel's (scripts/targets.py).
HOST="$(python3 scripts/targets.py host)" || die "rustc could not name this machine's target"
scripts/setup-toolchains --build "$HOST" || die "the build tools for $HOST are missing (see above)"

step "Building the kernel: cargo build --release --locked --target $HOST"
# Cargo says where it put the binary (target/$HOST/release, or under
# CARGO_TARGET_DIR); scripts/targets.py gives cargo the target's settings.
KERNEL_BIN="$("$PY" scripts/targets.py run "$HOST" -- \
  python3 scripts/cargo_executable.py sled-kernel --release --locked --target "$HOST")" ||
  die "the build failed (see above)"
[ -x "$KERNEL_BIN" ] || die "cargo reported $KERNEL_BIN, but it is not an executable file"
echo "built $KERNEL_BIN"

# A stamp file lists the requirements last installed; when it already holds
# every one asked for now, and they import, pip is not run at all.
stamp="$VENV/.sled-kernel-requirements"
wanted="$(printf '%s\n' "${packages[@]}" | sort)"
have_all() {
  [ -f "$stamp" ] || return 1
  [ -z "$(comm -23 <(printf '%s\n' "$wanted") <(sort "$stamp"))" ] || return 1
  "$PY" -c 'import jupyterlab, jupyter_client, nbclient, nbformat' 2>/dev/null || return 1
  if printf '%s\n' "${packages[@]}" | grep -q '^pytest'; then
    "$PY" -c 'import pytest, pytest_timeout, jupyter_kernel_test, playwright, psutil, jupyter_console, nbgrader' 2>/dev/null || return 1
    [ -x "$VENV/bin/maturin" ] && [ -x "$VENV/bin/auditwheel" ] || return 1
  fi
}
if have_all; then
  echo "packages already installed (delete .venv to start over)"
else
  echo "installing: ${packages[*]}"
  "$PY" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
  { [ -f "$stamp" ] && cat "$stamp"; printf '%s\n' "$wanted"; } | sort -u >"$stamp.new"
  mv "$stamp.new" "$stamp"
fi

step "The wheel's Python half (python/sled_kernel/): the sled-kv Pygments lexer, linked"
# Linked, as an editable install is, so that it follows this checkout: a .pth
# file puts python/ on .venv's path, and a distribution record
# (sled_kernel-0+checkout.dist-info) declares the lexer's entry point, the
# one pyproject.toml gives the wheel (tests/python/test_wheel.py compares
# them); `pip uninstall sled-kernel` removes both. The program is the build
# above, not a copy in .venv. The lexer used to be its own package,
# sled-kv-lexer, and then an editable install of python-src/; an old copy
# would break every Pygments lookup, so it goes.
if "$PY" -m pip show --quiet sled-kv-lexer >/dev/null 2>&1; then
  "$PY" -m pip uninstall --quiet --yes sled-kv-lexer
fi
if "$PY" - "$ROOT/python" <<'PYEOF' 2>/dev/null; then
import os, sys
from importlib.metadata import entry_points
import sled_kernel.lexer
here = os.path.realpath(sled_kernel.lexer.__file__).startswith(os.path.realpath(sys.argv[1]))
found = [e.value for e in entry_points(group="pygments.lexers") if e.name == "sled-kv"]
sys.exit(0 if here and found == ["sled_kernel.lexer:SledKvLexer"] else 1)
PYEOF
  echo "sled_kernel already linked from python/"
else
  if "$PY" -m pip show --quiet sled-kernel >/dev/null 2>&1; then
    "$PY" -m pip uninstall --quiet --yes sled-kernel
  fi
  "$PY" - "$ROOT/python" <<'PYEOF'
import sys, sysconfig
from pathlib import Path
site = Path(sysconfig.get_path("purelib"))
info = site / "sled_kernel-0+checkout.dist-info"
info.mkdir(exist_ok=True)
files = {
    site / "sled_kernel_checkout.pth": sys.argv[1] + "\n",
    info / "METADATA": "Metadata-Version: 2.1\nName: sled-kernel\nVersion: 0+checkout\n",
    info / "entry_points.txt": "[pygments.lexers]\nsled-kv = sled_kernel.lexer:SledKvLexer\n",
    info / "INSTALLER": "install.sh\n",
}
for path, text in files.items():
    path.write_text(text)
record = [*files, info / "RECORD"]
(info / "RECORD").write_text("".join(f"{p.relative_to(site).as_posix()},,\n" for p in record))
PYEOF
  echo "linked sled_kernel from python/"
fi

step "JupyterLab extension jupyterlab-sled-kv (labextension/): sled-kv highlighting"
# labextension/build rebuilds it only when its sources changed (node and npm
# are needed only then); .venv gets a link to the built directory, so a
# rebuild shows up in JupyterLab without installing again.
EXT_BUILT="$ROOT/python/sled_kernel.data/data/share/jupyter/labextensions/jupyterlab-sled-kv"
EXT_LINK="$VENV/share/jupyter/labextensions/jupyterlab-sled-kv"
ext_status=0
labextension/build || ext_status=$?
if [ "$ext_status" = 0 ]; then
  if [ "$(readlink "$EXT_LINK" 2>/dev/null)" != "$EXT_BUILT" ]; then
    mkdir -p "$(dirname "$EXT_LINK")"
    rm -rf "$EXT_LINK"
    ln -s "$EXT_BUILT" "$EXT_LINK"
  fi
  echo "JupyterLab in .venv loads it from ${EXT_BUILT#"$ROOT"/}"
elif [ "$ext_status" = 3 ]; then
  # No node/npm: the kernel works without it; cells are highlighted with
  # JupyterLab's shell mode until the extension is built.
  echo "install.sh: skipped the highlighting extension (see above); JupyterLab will colour" \
    "cells with its shell mode" >&2
else
  die "labextension/build failed (exit $ext_status)"
fi

step "Registering the kernel in .venv: sled-kernel install --sys-prefix"
VIRTUAL_ENV="$VENV" CONDA_PREFIX="" "$KERNEL_BIN" install --sys-prefix
# The kernelspec must be the one Jupyter in .venv picks, pointing at this build.
"$PY" - "$KERNEL_BIN" <<'PYEOF'
import os, sys
from jupyter_client.kernelspec import KernelSpecManager
spec = KernelSpecManager().get_kernel_spec("sled")
# kernel.json runs `/bin/sh -c GUARD PROGRAM ARGS...` (the guard says what to
# do when PROGRAM is gone); older specs run PROGRAM directly.
argv = spec.argv
program = argv[3] if argv[:2] == ["/bin/sh", "-c"] else argv[0]
if os.path.realpath(program) != os.path.realpath(sys.argv[1]):
    sys.exit(f"install.sh: Jupyter in .venv finds a `sled` kernel in {spec.resource_dir} "
             f"that runs {program}, not {sys.argv[1]}; remove it with "
             "`jupyter kernelspec remove sled` and run ./install.sh again")
print(f"jupyter finds: sled -> {spec.resource_dir}")
PYEOF

# The Rust cache: what the first %%rust cell of every kernel would compile
# (sled and its crates, about a minute), compiled once now. Offered, not
# forced: it takes that minute here and ~25 MB in ~/.cache.
if [ "$warm" = ask ]; then
  if [ -t 0 ] && [ -t 1 ]; then
    printf '\nWarm the Rust cache now? It compiles sled once (about a minute), so the\n'
    printf 'first %%%%rust cell of every new kernel takes seconds. [y/N] '
    read -r answer || answer=
    case "$answer" in [yY]*) warm=yes ;; *) warm=no ;; esac
  else
    warm=no
  fi
fi
if [ "$warm" = yes ]; then
  step "Warming the Rust cache: sled-kernel warm"
  # A failure costs the first Rust cell its minute, nothing more.
  "$KERNEL_BIN" warm ||
    echo "install.sh: warming the Rust cache failed (see above); Rust cells still work, the first one compiles sled" >&2
else
  echo
  echo "The first %%rust cell of each kernel compiles sled (about a minute) until the"
  echo "Rust cache is warm: run \`$KERNEL_BIN warm\` (or ./install.sh --warm-rust) before class."
fi

if [ "$demo" = 1 ]; then
  step "Running $DEMO_NOTEBOOK headless"
  "$PY" scripts/notebooks.py show "$DEMO_NOTEBOOK"
  cat <<EOF
Done. Open the lessons in JupyterLab with:

    .venv/bin/jupyter lab notebooks/

and run the test suite with: tests/run
EOF
fi
