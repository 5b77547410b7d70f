"""Rust cells and the Rust cache, measured through jupyter_client in one run.

Figures, side by side (seconds from execute_request sent to idle):

- the first `%%rust` cell of a fresh kernel with a cold cache (an empty
  cache directory: the context compiles sled and its crates);
- the same cell in fresh kernels once that cache is warm (median of N
  kernels), and, for comparison, a first cell that opens the database as
  lesson 06's does;
- the same database-opening first cell in a fresh kernel that ran
  `%rust start` 30 s earlier (a student reading the lesson's first
  cells), warm cache;
- a trivial Rust cell (`1 + 1`) after the first (median and p90 of M);
- a KV cell right after a Rust cell: the hand-off, where the KV side
  reopens the database the Rust side had (median and p90 of M);
- lesson 06 run from a fresh kernel (Restart Kernel and Run All Cells)
  with the warm cache.

First cells are also given in CPU seconds (the kernel's and everything it
waited for: cargo, rustc, the rustc wrapper), which a busy machine changes
far less than the wall-clock time; on an idle two-core machine the wall time
of these mostly sequential steps comes close to it. Every kernel uses a
temporary cache (SLED_KERNEL_RUST_CACHE), never the user's. It prints a
Markdown table with the targets of issue 15 and writes JSON; it asserts
nothing.

    benches/run                                  # everything, this included
    .venv/bin/python benches/rust_cells.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The kernel session helper of the side-by-side benchmark, and the lesson
# runner of the notebook tests.
for where in ("benches", "scripts"):
    sys.path.insert(0, str(ROOT / where))
from compare import Session, Subject, cpu_model, pct  # noqa: E402
import notebooks  # noqa: E402
from cargo_executable import target_dir  # noqa: E402
import psutil  # noqa: E402

SLED = Subject("sled-kernel", "sled", trivial="get k", setup="insert k v")
FIRST_CELL = "%%rust\n1 + 1"
OPENS_DB = "%%rust\nlet db = sled::open(DB_PATH)?;\nlet n = db.len();\ndrop(db);\nn"
LESSON = ROOT / "notebooks" / "06-rust-cells.ipynb"
CACHE_FIGURES = "application/vnd.sled-kernel.rust-cache+json"
# How long a student reads before the first Rust cell, after `%rust start`.
READING = 30.0


def fresh_session() -> Session:
    session = Session(SLED)
    session.start()
    return session


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of the children it has waited for."""
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def first_cell(code: str) -> tuple[float, float, dict]:
    """A fresh kernel's first Rust cell: wall seconds, CPU seconds, and
    what `%rust cache` says the kernel took from the cache."""
    session = fresh_session()
    try:
        session.run(SLED.setup)
        before = cpu_seconds(session.pid)
        took = session.run(code)
        cpu = cpu_seconds(session.pid) - before
        _, outputs = session.run_capture("%rust cache")
        figures = next(o["data"][CACHE_FIGURES] for o in outputs if "data" in o)
        return took, cpu, figures["kernel"]
    finally:
        session.stop()


def summary(values: list[float]) -> dict:
    return {"median_s": statistics.median(values), "p90_s": pct(values, 0.9),
            "min_s": min(values), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer kernels and cells")
    parser.add_argument("--out", help="where the JSON goes (default: in cargo's target directory)")
    args = parser.parse_args()
    kernels = 2 if args.quick else 5
    cells = 10 if args.quick else 40

    with tempfile.TemporaryDirectory(prefix="rust-cache-bench-") as cache:
        os.environ["SLED_KERNEL_RUST_CACHE"] = str(Path(cache) / "rust-cells")
        os.environ.pop("SLED_KERNEL_RUST_CACHE_MB", None)
        print(f"cache: {os.environ['SLED_KERNEL_RUST_CACHE']} (temporary)", flush=True)

        print("first %%rust cell, cold cache (compiles sled)...", flush=True)
        cold, cold_cpu, cold_counts = first_cell(FIRST_CELL)
        print(f"  {cold:.1f} s ({cold_cpu:.1f} CPU s), {cold_counts}", flush=True)

        warm, warm_cpu, warm_counts = [], [], []
        for i in range(kernels):
            took, cpu, counts = first_cell(FIRST_CELL)
            warm.append(took)
            warm_cpu.append(cpu)
            warm_counts.append(counts)
            print(f"first %%rust cell, warm cache, kernel {i + 1}: {took:.2f} s ({cpu:.1f} CPU s), "
                  f"{counts}", flush=True)
        opening, opening_cpu = [], []
        for i in range(max(1, kernels // 2)):
            took, cpu, _ = first_cell(OPENS_DB)
            opening.append(took)
            opening_cpu.append(cpu)
            print(f"first cell opening the database, warm cache: {took:.2f} s ({cpu:.1f} CPU s)",
                  flush=True)

        ahead = []
        for i in range(max(1, kernels // 2)):
            session = fresh_session()
            session.run("%rust start")
            time.sleep(READING)
            ahead.append(session.run(OPENS_DB))
            session.stop()
            print(f"first cell opening the database {READING:.0f} s after %rust start: "
                  f"{ahead[-1]:.2f} s", flush=True)

        session = fresh_session()
        session.run(SLED.setup)
        session.run(FIRST_CELL)
        trivial, handoff = [], []
        for _ in range(cells):
            trivial.append(session.run("%%rust\n1 + 1"))
            handoff.append(session.run("get k"))
        # For scale: the same KV cell with no Rust cell before it.
        plain_kv = [session.run("get k") for _ in range(cells)]
        session.stop()
        print(f"trivial Rust cell: median {statistics.median(trivial):.3f} s", flush=True)

        began = time.perf_counter()
        notebooks.execute(notebooks.read(LESSON))
        lesson = time.perf_counter() - began
        print(f"lesson 06, run all from a fresh kernel: {lesson:.1f} s", flush=True)

    result = {
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "load_1min": os.getloadavg()[0],
                    "date": time.strftime("%Y-%m-%d %H:%M %Z")},
        "first_cell_cold_s": cold,
        "first_cell_cold_cpu_s": cold_cpu,
        "first_cell_cold_kernel": cold_counts,
        "first_cell_warm": summary(warm),
        "first_cell_warm_cpu": summary(warm_cpu),
        "first_cell_warm_kernels": warm_counts,
        "first_cell_opening_db_warm": summary(opening),
        "first_cell_opening_db_warm_cpu": summary(opening_cpu),
        "first_cell_after_rust_start": summary(ahead),
        "trivial_rust_cell": summary(trivial),
        "kv_after_rust_cell": summary(handoff),
        "kv_after_kv_cell": summary(plain_kv),
        "lesson_06_run_all_s": lesson,
    }
    w, t, h = result["first_cell_warm"], result["trivial_rust_cell"], result["kv_after_rust_cell"]
    wc, o = result["first_cell_warm_cpu"], result["first_cell_opening_db_warm"]
    oc = result["first_cell_opening_db_warm_cpu"]
    rows = [
        ("first `%%rust` cell, cold cache (compiles sled): wall (CPU)",
         f"{cold:.1f} s ({cold_cpu:.1f} s)", ""),
        (f"first `%%rust` cell, warm cache, {w['n']} kernels: wall median / best (CPU median)",
         f"{w['median_s']:.1f} / {w['min_s']:.1f} s ({wc['median_s']:.1f} s)", "under 5 s"),
        (f"first cell opening the database, warm cache, {o['n']} kernels: wall median / best (CPU)",
         f"{o['median_s']:.1f} / {o['min_s']:.1f} s ({oc['median_s']:.1f} s)", ""),
        (f"the same cell {READING:.0f} s after `%rust start`, warm cache "
         f"({result['first_cell_after_rust_start']['n']} kernels, median)",
         f"{result['first_cell_after_rust_start']['median_s']:.2f} s", "under 5 s"),
        (f"trivial Rust cell `1 + 1` after the first (median / p90 of {t['n']})",
         f"{t['median_s'] * 1e3:.0f} / {t['p90_s'] * 1e3:.0f} ms", "under 300 ms"),
        ("KV cell `get k` right after a Rust cell (median / p90)",
         f"{h['median_s'] * 1e3:.1f} / {h['p90_s'] * 1e3:.1f} ms", ""),
        ("the same KV cell after a KV cell (median)",
         f"{result['kv_after_kv_cell']['median_s'] * 1e3:.1f} ms", ""),
        ("lesson 06, Restart Kernel and Run All, warm cache", f"{lesson:.1f} s", "well under a minute"),
    ]
    lines = ["| measured | figure | target |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    result["table_markdown"] = lines
    print()
    print(f"machine: {result['machine']['cpu']}, {result['machine']['cpus']} CPUs, "
          f"load {result['machine']['load_1min']:.1f}, {result['machine']['date']}")
    print("\n".join(lines))
    out = Path(args.out) if args.out else target_dir() / "bench-rust-cells.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
