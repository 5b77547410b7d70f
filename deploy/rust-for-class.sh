#!/bin/sh
# What a class image needs for Rust cells, in one place: a minimal Rust
# toolchain with rust-src (rust-analyzer reads the standard library's
# source) and the Rust cache warmed with sled, so that every student's first
# %%rust cell takes its crates from the cache instead of compiling them.
#
#   deploy/rust-for-class.sh PREFIX
#
# installs into PREFIX/rustup and PREFIX/cargo (RUSTUP_HOME, CARGO_HOME) and
# warms PREFIX/rust-cells (SLED_KERNEL_RUST_CACHE) with the `sled-kernel`
# on PATH (or $SLED_KERNEL). The kernels then need, in their environment:
#
#   RUSTUP_HOME=PREFIX/rustup CARGO_HOME=PREFIX/cargo
#   PATH=PREFIX/cargo/bin:$PATH SLED_KERNEL_RUST_CACHE=PREFIX/rust-cells
#
# deploy/Dockerfile's `rust` stage runs it as root, then hands PREFIX to the
# students' user; tests/python/test_class_image.py runs the same script
# outside a container and then a kernel that has nothing else.
#
# Needs: curl, a C compiler as `cc` (rustc links every cell with it; on
# Debian or Ubuntu: apt-get install gcc libc6-dev), the network for
# static.rust-lang.org and crates.io. RUST_VERSION picks the toolchain
# (default below: the one the project is tested with).
set -eu

prefix=${1:?usage: deploy/rust-for-class.sh PREFIX}
version=${RUST_VERSION:-1.95.0}
sled_kernel=${SLED_KERNEL:-sled-kernel}

command -v curl >/dev/null || { echo "rust-for-class: curl is needed to fetch rustup" >&2; exit 1; }
command -v cc >/dev/null || {
  echo "rust-for-class: Rust cells link with a C compiler, and there is no \`cc\`; install one first (Debian/Ubuntu: apt-get install gcc libc6-dev)" >&2
  exit 1
}
command -v "$sled_kernel" >/dev/null || {
  echo "rust-for-class: $sled_kernel not found; install the sled-kernel wheel first or set SLED_KERNEL" >&2
  exit 1
}

mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd -P)
export RUSTUP_HOME="$prefix/rustup" CARGO_HOME="$prefix/cargo"

# rustup-init from static.rust-lang.org, checked against its published
# SHA-256, then the minimal profile (rustc, cargo, the standard library)
# with rust-src.
host="$(uname -m)-unknown-linux-gnu"
url="https://static.rust-lang.org/rustup/dist/$host/rustup-init"
fetch=$(mktemp -d)
trap 'rm -rf "$fetch"' EXIT
curl --proto '=https' --tlsv1.2 -sSf "$url" -o "$fetch/rustup-init"
curl --proto '=https' --tlsv1.2 -sSf "$url.sha256" -o "$fetch/rustup-init.sha256"
(cd "$fetch" && echo "$(cut -d ' ' -f 1 rustup-init.sha256)  rustup-init" | sha256sum -c -) >/dev/null
chmod +x "$fetch/rustup-init"
"$fetch/rustup-init" -y --quiet --no-modify-path --profile minimal \
  --default-toolchain "$version" --component rust-src
PATH="$CARGO_HOME/bin:$PATH"
export PATH

# The Rust cache, warmed the way the first %%rust cell of a kernel works.
SLED_KERNEL_RUST_CACHE="$prefix/rust-cells" "$sled_kernel" warm
echo "rust-for-class: Rust $version with rust-src in $prefix, the Rust cache in $prefix/rust-cells"
