"""The wheel: how long a student's install takes, and what the kernelspec's
start command costs.

    .venv/bin/python benches/wheel_costs.py [--rounds N] [--starts N]

Install: `python3 -m venv`, then `pip install dist/sled_kernel-*.whl` (with
JupyterLab and everything it needs, as a student runs it), then the wheel
alone with `--no-deps` into another fresh environment (what it costs where
Jupyter is already installed, as on a JupyterHub image). Plain pip settings;
the package index as this machine reaches it.

Start-up: the wheel's kernelspec starts `/bin/sh -c GUARD
{resource_dir}/../../../../bin/sled-kernel ...` (the guard says what to run
when the binary is gone). This starts the same binary both ways, through
jupyter_client as JupyterLab's server does, taking turns, from process start
to the first kernel_info_reply: once through the wheel's spec and once with
the binary's absolute path as the whole command. The target is the guard
costing under 10 ms.

Writes bench-wheel.json in cargo's target directory. Nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# compare.py (startup: start kernels in turns, time each to its first
# kernel_info_reply) is next to this file; scripts/ says where cargo's target
# directory is.
sys.path[:0] = [str(HERE), str(ROOT / "scripts")]


def the_wheel() -> Path:
    wheels = sorted((ROOT / "dist").glob("sled_kernel-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"bench: expected one dist/sled_kernel-*.whl, found {len(wheels)}: run scripts/build-wheel")
    return wheels[0]


def timed(argv: list) -> float:
    began = time.perf_counter()
    subprocess.run([str(a) for a in argv], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def installs(wheel: Path, rounds: int, scratch: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"venv": [], "full": [], "no_deps": []}
    for n in range(rounds):
        full, bare = scratch / f"full-{n}", scratch / f"bare-{n}"
        times["venv"].append(timed([sys.executable, "-m", "venv", full]))
        times["full"].append(timed([full / "bin" / "python", "-m", "pip", "install", "-q", wheel]))
        timed([sys.executable, "-m", "venv", bare])
        times["no_deps"].append(
            timed([bare / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", wheel])
        )
        print(
            f"  round {n + 1}: venv {times['venv'][-1]:.1f} s, wheel with JupyterLab "
            f"{times['full'][-1]:.1f} s, wheel alone {times['no_deps'][-1]:.1f} s",
            flush=True,
        )
    return times


def startups(venv: Path, starts: int, scratch: Path) -> dict[str, list[float]]:
    """Start-up through the wheel's own spec and through a bare command."""
    bare_dir = scratch / "specs" / "kernels" / "sled-bare"
    bare_dir.mkdir(parents=True)
    wheel_spec = venv / "share" / "jupyter" / "kernels" / "sled"
    spec = json.loads((wheel_spec / "kernel.json").read_text())
    spec["argv"] = [str(venv / "bin" / "sled-kernel"), "kernel", "--connection-file", "{connection_file}"]
    (bare_dir / "kernel.json").write_text(json.dumps(spec))
    # Both specs first on Jupyter's path (before .venv's own `sled`).
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(scratch / "specs"), str(venv / "share" / "jupyter")])
    from compare import Subject, startup
    from jupyter_client.kernelspec import KernelSpecManager

    found = KernelSpecManager().find_kernel_specs()
    assert Path(found["sled"]) == wheel_spec, found["sled"]
    subjects = [Subject("wheel spec (sh guard)", "sled", "get k"), Subject("bare binary", "sled-bare", "get k")]
    return startup(subjects, starts)


def exec_costs(venv: Path, runs: int) -> dict[str, list[float]]:
    """The guard alone: `sled-kernel --version` run directly and through the
    wheel spec's `/bin/sh -c GUARD`, taking turns (no Jupyter in between)."""
    spec = json.loads((venv / "share" / "jupyter" / "kernels" / "sled" / "kernel.json").read_text())
    program = str(venv / "bin" / "sled-kernel")
    ways = {
        "wheel spec (sh guard)": [*spec["argv"][:3], program, "--version"],
        "bare binary": [program, "--version"],
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    for _ in range(runs):
        for label, argv in ways.items():
            began = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            times[label].append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="fresh installs of each kind (default 2)")
    parser.add_argument("--starts", type=int, default=20, help="kernel starts of each kind (default 20)")
    args = parser.parse_args()
    wheel = the_wheel()
    scratch = Path(tempfile.mkdtemp(prefix="sled-bench-wheel-"))
    try:
        print(f"installing {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB) into fresh environments", flush=True)
        inst = installs(wheel, args.rounds, scratch)
        print(f"starting the kernel {args.starts} times each way", flush=True)
        start = startups(scratch / "bare-0", args.starts, scratch)
        execs = exec_costs(scratch / "bare-0", 10 * args.starts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in inst.items()}
    guard, bare = (statistics.median(v) * 1000 for v in start.values())
    exec_guard, exec_bare = (statistics.median(v) * 1000 for v in execs.values())
    result = {
        "wheel": wheel.name,
        "wheel_mb": round(wheel.stat().st_size / 1e6, 1),
        "install_seconds": inst,
        "startup_ms": {k: [round(t * 1000, 2) for t in v] for k, v in start.items()},
        "startup_median_ms": {"wheel spec": round(guard, 2), "bare binary": round(bare, 2)},
        "version_median_ms": {"wheel spec": round(exec_guard, 3), "bare binary": round(exec_bare, 3)},
    }
    from cargo_executable import target_dir

    out = target_dir() / "bench-wheel.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print("| | median | all |")
    print("|---|--:|---|")
    for key, title in (
        ("venv", "`python3 -m venv` (s)"),
        ("full", "`pip install` of the wheel with JupyterLab, fresh environment (s)"),
        ("no_deps", "`pip install --no-deps` of the wheel alone (s)"),
    ):
        print(f"| {title} | {med[key]:.1f} | {', '.join(f'{t:.1f}' for t in inst[key])} |")
    print(f"| start-up to kernel_info_reply, wheel spec with the sh guard (ms) | {guard:.1f} | |")
    print(f"| start-up to kernel_info_reply, bare binary (ms) | {bare:.1f} | |")
    runs = len(next(iter(execs.values())))
    print(f"| `sled-kernel --version` through the guard, median of {runs} (ms) | {exec_guard:.2f} | |")
    print(f"| `sled-kernel --version` run directly, median of {runs} (ms) | {exec_bare:.2f} | |")
    verdict = "met" if guard - bare < 10 else "missed"
    print(
        f"\nthe guard costs {guard - bare:+.1f} ms at the start-up median, {exec_guard - exec_bare:+.2f} ms "
        f"on its own (target: start-up within 10 ms of the bare binary): {verdict}"
    )


if __name__ == "__main__":
    main()
