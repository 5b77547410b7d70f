"""A class of 30 on one machine's JupyterHub, with the `sled` kernel and,
in the same run, with ipykernel; and a class of 10 running lesson 06's Rust
cells.

    .venv/bin/python benches/jupyterhub_class.py [--students 30]
    .venv/bin/python benches/jupyterhub_class.py --kernels rust [--rust-students 10]

The hub is the tested one (deploy/jupyterhub_config.py), the environment a
fresh one with the wheel from dist/ and jupyterhub installed (kept in
target/bench-hub-env/ and made again when the wheel changes). The class runs
twice: first every student runs lesson 01 in a `sled` kernel, then the same
students run the same steps in Python (a dict for the database) in an
ipykernel. Each time, every student's server is started at once, then every
kernel, then all run the lesson's cells at the same moment
(scripts/hub_class.py drives it over REST and the kernel websockets, as
browsers do). Measured: time to start all the servers and all the kernels,
cell latency (request to reply and idle) p50 and p95 over every cell of
every student, and each student's memory, the kernel and the single-user
server apart: RSS (what `top` shows) and USS (what that process alone
holds; the rest is shared).

The Rust class (`--kernels rust`, part of the default run too): the same
hub with cargo on PATH and one Rust cache for the class, warmed with
`sled-kernel warm` first, as a teacher would; every student runs lesson 06,
KV and Rust cells, at the same moment, every output checked against the
stored notebook. Measured: each cell's wait, the median student's and the
slowest's, and each student's kernel memory after the lesson: the kernel's
RSS and its peak (VmHWM), the process that runs its Rust code, and the total.

Writes target/bench-hub-class.json. Nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "benches")]
import hub_class  # noqa: E402
from wheel_costs import the_wheel  # noqa: E402

ENV_DIR = ROOT / "target" / "bench-hub-env"

# The same steps as lesson 01, for ipykernel: the database is a dict.
PYTHON_LESSON = hub_class.Lesson(
    name="lesson 01 in Python",
    cells=[
        "db = {}\nprint('opened fresh database')",
        "print('insert 4 keys:')\n"
        "for k, v in [('todo:001', 'buy boots'), ('todo:002', 'lift legs'),\n"
        "             ('todo:003', 'stretch'), ('note:042', 'GTA loads slow')]:\n"
        "    db[k] = v\n    print(f'put {k} = {v!r}')",
        "db['todo:002']",
        "{k: v for k, v in sorted(db.items()) if k.startswith('todo:')}",
        "print('remove todo:001 (was', repr(db.pop('todo:001')) + ')')",
        "print('final keys (sorted):')\nsorted(db)",
    ],
    stored=None,
    write_mine=lambda student: f"db['whoami:{student}'] = {student!r}",
    read_all="sorted(k for k in db if k.startswith('whoami:'))",
)


def environment(wheel: Path) -> Path:
    """target/bench-hub-env with this wheel and jupyterhub (ipykernel comes
    with JupyterLab)."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    stamp = ENV_DIR / ".wheel-sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return ENV_DIR
    shutil.rmtree(ENV_DIR, ignore_errors=True)
    print(f"making {ENV_DIR.relative_to(ROOT)}: the wheel and jupyterhub", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(ENV_DIR)], check=True)
    pip = [str(ENV_DIR / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel), "jupyterhub>=6.1,<7"], check=True)
    stamp.write_text(digest)
    return ENV_DIR


def memory(procs: list[psutil.Process]) -> list[tuple[float, float]]:
    """(RSS, USS) in MB of each process."""
    out = []
    for p in procs:
        info = p.memory_full_info()
        out.append((info.rss / 1e6, info.uss / 1e6))
    return out


# Every server and kernel the bench saw, to make sure none outlives it.
SEEN: list[psutil.Process] = []


async def one_class(hub: hub_class.LocalHub, names: list[str], lesson: hub_class.Lesson, kernel: str) -> dict:
    measured: dict = {}

    async def while_running(_run: hub_class.ClassRun) -> None:
        servers, kernels, _ = hub_class.students_processes(hub.proc.pid)
        all_kernels = [k for ks in kernels.values() for k in ks]
        SEEN.extend([*servers.values(), *all_kernels])
        measured["servers"] = memory(list(servers.values()))
        measured["kernels"] = memory(all_kernels)

    api = hub_class.Hub(hub.url, hub.token)
    try:
        run = await hub_class.run_class(api, names, lesson, kernel_name=kernel, while_running=while_running)
    finally:
        api.http.close()
    if run.problems:
        print("\n".join(run.problems[:20]))
        sys.exit(f"bench: the {kernel} class had {len(run.problems)} problems")
    lat = run.latencies
    print(run.summary(), flush=True)
    return {
        "servers_seconds": run.servers_seconds,
        "kernels_seconds": run.kernels_seconds,
        "reconnects": sum(s.reconnects for s in run.students),
        "lesson_seconds": run.lesson_seconds,
        "latency_ms": [round(t * 1000, 2) for t in lat],
        "p50_ms": hub_class.percentile(lat, 0.50) * 1000,
        "p95_ms": hub_class.percentile(lat, 0.95) * 1000,
        "server_mb": measured["servers"],
        "kernel_mb": measured["kernels"],
    }


def rust_env() -> dict[str, str]:
    """What the students' kernels need for Rust cells, from this machine:
    cargo on PATH and where rustup keeps its toolchain (each student has a
    HOME of their own)."""
    cargo = shutil.which("cargo")
    if cargo is None:
        sys.exit("bench: the Rust class needs cargo on PATH")
    return {
        "PATH": f"{Path(cargo).parent}:{os.environ['PATH']}",
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
        "CARGO_HOME": os.environ.get("CARGO_HOME", str(Path.home() / ".cargo")),
    }


def kernel_memory(kernel: psutil.Process) -> dict:
    """MB: the kernel's RSS and peak (VmHWM), and the RSS of the processes
    under it (the one that runs Rust code)."""
    peak = None
    for line in Path(f"/proc/{kernel.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024 / 1e6
    below = sum(c.memory_info().rss for c in kernel.children(recursive=True)) / 1e6
    return {"rss_mb": kernel.memory_info().rss / 1e6, "peak_mb": peak, "rust_process_mb": below}


async def rust_class(hub: hub_class.LocalHub, names: list[str], env_dir: Path) -> dict:
    lesson = hub_class.Lesson.from_notebook(hub_class.ROOT / "notebooks" / "06-rust-cells.ipynb")
    measured: dict = {}
    kernel_exe = env_dir / "bin" / "sled-kernel"

    async def while_running(_run: hub_class.ClassRun) -> None:
        servers, kernels, _ = hub_class.students_processes(hub.proc.pid)
        measured["servers"] = memory(list(servers.values()))
        measured["kernels"] = {}
        for name, procs in kernels.items():
            SEEN.extend(procs)
            for proc in procs:
                if Path(proc.exe()) == kernel_exe and "kernel" in proc.cmdline():
                    measured["kernels"][name] = kernel_memory(proc)
        SEEN.extend(servers.values())

    api = hub_class.Hub(hub.url, hub.token)
    try:
        run = await hub_class.run_class(api, names, lesson, timeout=1800, while_running=while_running)
    finally:
        api.http.close()
    print(run.summary(), flush=True)
    if run.problems:
        print("\n".join(run.problems[:20]))
        sys.exit(f"bench: the Rust class had {len(run.problems)} problems")
    cells = []
    for index, code in enumerate(lesson.cells):
        waits = [s.executions[index].seconds for s in run.students]
        cells.append({"cell": index, "code": code.splitlines()[0], "rust": code.lstrip().startswith("%%rust"),
                      "median_s": statistics.median(waits), "slowest_s": max(waits)})
    return {
        "students": len(names),
        "servers_seconds": run.servers_seconds,
        "kernels_seconds": run.kernels_seconds,
        "lesson_seconds": run.lesson_seconds,
        "cells": cells,
        "kernels": measured["kernels"],
        "server_mb": measured["servers"],
    }


def print_rust_class(result: dict) -> None:
    n = result["students"]
    print(f"\n{n} students run lesson 06 at once; each cell's wait (s), from execute_request to idle:\n")
    print("| cell | median student | slowest student |")
    print("|---|--:|--:|")
    for cell in result["cells"]:
        if cell["rust"]:
            print(f"| {cell['cell'] + 1}: `%%rust` … | {cell['median_s']:.2f} | {cell['slowest_s']:.2f} |")
    kv = [c for c in result["cells"] if not c["rust"]]
    print(f"| the {len(kv)} KV cells, slowest of them | {max(c['median_s'] for c in kv):.2f} "
          f"| {max(c['slowest_s'] for c in kv):.2f} |")
    print(f"\nthe whole lesson, everyone at once: {result['lesson_seconds']:.1f} s; "
          f"servers ready in {result['servers_seconds']:.1f} s, kernels in {result['kernels_seconds']:.1f} s\n")
    print("| student | kernel RSS (MB) | kernel peak (MB) | process running Rust code (MB) |")
    print("|---|--:|--:|--:|")
    kernels = result["kernels"]
    for name in sorted(kernels, key=lambda s: int(s.rsplit("-", 1)[1])):
        k = kernels[name]
        print(f"| {name} | {k['rss_mb']:.0f} | {k['peak_mb']:.0f} | {k['rust_process_mb']:.0f} |")
    total = sum(k["rss_mb"] + k["rust_process_mb"] for k in kernels.values())
    servers = sum(rss for rss, _ in result["server_mb"])
    print(f"| all {n} kernels, with their Rust processes | {total:.0f} | | |")
    print(f"| all {n} single-user servers | {servers:.0f} | | |")


def median_of(pairs: list[tuple[float, float]], which: int) -> float:
    return statistics.median(p[which] for p in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--kernels", default="sled,python3,rust",
                        help="which classes to run (default: sled,python3,rust)")
    parser.add_argument("--rust-students", type=int, default=10, help="the Rust class's size (default 10)")
    args = parser.parse_args()
    kinds = args.kernels.split(",")
    if not (ROOT / "deploy" / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        sys.exit("bench: configurable-http-proxy is missing: npm ci --prefix deploy (benches/run does)")
    env_dir = environment(the_wheel())
    names = [f"student-{n}" for n in range(1, args.students + 1)]
    state = Path(tempfile.mkdtemp(prefix="sled-bench-hub-"))
    env = dict(os.environ)
    for var in ("VIRTUAL_ENV", "JUPYTER_PATH", "JUPYTER_DATA_DIR"):
        env.pop(var, None)
    env["HOME"] = str(state / "home")
    if "rust" in kinds:
        # One Rust cache for the class, warmed before it starts.
        env.update(rust_env(), SLED_KERNEL_RUST_CACHE=str(state / "rust-cells"))
        began = time.monotonic()
        warmed = subprocess.run([str(env_dir / "bin" / "sled-kernel"), "warm"], env=env,
                                capture_output=True, text=True)
        if warmed.returncode != 0:
            sys.exit(f"bench: sled-kernel warm failed:\n{warmed.stderr}")
        print(f"{warmed.stdout.strip()} ({time.monotonic() - began:.0f} s)", flush=True)
    hub = hub_class.start_local_hub(env_dir, state, env)
    results = {}
    try:
        lessons = {"sled": hub_class.Lesson.from_notebook(hub_class.LESSON_01), "python3": PYTHON_LESSON}
        for kernel in kinds:
            if kernel == "rust":
                rust_names = [f"rustacean-{n}" for n in range(1, args.rust_students + 1)]
                print(f"\n==> {len(rust_names)} students, lesson 06 with Rust cells", flush=True)
                results["rust"] = asyncio.run(rust_class(hub, rust_names, env_dir))
                continue
            lesson = lessons[kernel]
            print(f"\n==> {len(names)} students, {kernel}", flush=True)
            results[kernel] = asyncio.run(one_class(hub, names, lesson, kernel))
    finally:
        try:
            SEEN.extend(psutil.Process(hub.proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass
        problems = hub.stop()
        _, alive = psutil.wait_procs(SEEN, timeout=30)
        for proc in alive:
            try:
                command = " ".join(proc.cmdline())
                proc.kill()
            except psutil.NoSuchProcess:
                continue
            problems.append(f"still running after the hub stopped, ended: {command}")
        shutil.copy(hub.log_path, ROOT / "target" / "bench-hub-class.log")
        shutil.rmtree(state, ignore_errors=True)
    if problems:
        print("\n".join(problems))

    (ROOT / "target" / "bench-hub-class.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nMeasured on {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, "
          f"load average now {os.getloadavg()[0]:.1f}")
    if "rust" in results:
        print_rust_class(results["rust"])
    if not {"sled", "python3"} <= set(results):
        return
    sled, py = results["sled"], results["python3"]
    rows = [
        ("time to start all single-user servers (s)", "servers_seconds", "{:.1f}"),
        ("time to start all kernels, to their kernel_info_reply (s)", "kernels_seconds", "{:.2f}"),
        ("kernel websockets the server closed while waiting, reconnected", "reconnects", "{}"),
        ("cell latency under simultaneous execution, p50 (ms)", "p50_ms", "{:.1f}"),
        ("cell latency under simultaneous execution, p95 (ms)", "p95_ms", "{:.1f}"),
        ("the whole lesson, everyone at once (s)", "lesson_seconds", "{:.2f}"),
    ]
    print(f"\n| {len(names)} students at once | sled-kernel | ipykernel |")
    print("|---|--:|--:|")
    for title, key, fmt in rows:
        print(f"| {title} | {fmt.format(sled[key])} | {fmt.format(py[key])} |")
    for what, key in (("kernel", "kernel_mb"), ("single-user server", "server_mb")):
        for which, label in ((0, "RSS"), (1, "USS")):
            print(
                f"| per student: {what} {label}, median (MB) | {median_of(sled[key], which):.1f} "
                f"| {median_of(py[key], which):.1f} |"
            )


if __name__ == "__main__":
    main()
