"""Rust cells: speed and memory of lesson 06, through jupyter_client, with
evcxr_jupyter's figures beside them when a binary is given.

Measured, in fresh kernels on a temporary Rust cache of their own (seconds
are from execute_request sent to idle, as a student waits):

- the first `%%rust` cell with the cache cold (an empty cache directory:
  the context compiles sled and its crates);
- lesson 06 run from a fresh kernel, as *Restart Kernel and Run All* does,
  in N kernels with the cache warm: its first Rust cell (no `%rust start`
  before it) and every later Rust cell, with CPU seconds (the kernel's and
  what it waited for: cargo, rustc, the rustc wrapper), which a busy machine
  changes far less than the wall clock; how many times each Rust cell's
  crate was compiled; and the kernel's memory after the lesson (VmRSS and
  its peak VmHWM, the process that runs Rust code beside it, and jemalloc's
  own account of what is live) and after `%rust stop`;
- lesson 06's first Rust cell in kernels that ran `%rust start` and then
  the KV cells before it, with a student's reading time in between;
- a trivial Rust cell (`1 + 1`, `println!`) and a KV cell right after a Rust
  cell (the hand-off), median and p90 of M each;
- the same lesson's Rust cells in evcxr_jupyter (`--evcxr-jupyter PATH`; its
  own `:cache` warmed first, so that it too takes sled from a cache), with
  its memory after them and its trivial cell.

It prints the figures as Markdown tables with the targets of issue 21, the
date and the machine's load, and writes JSON (bench-rust-cells.json in
cargo's target directory). It asserts nothing.

    benches/run                                  # everything, this included
    .venv/bin/python benches/rust_cells.py --quick
    .venv/bin/python benches/rust_cells.py --evcxr-jupyter /tmp/evcxr/bin/evcxr_jupyter
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for where in ("benches", "scripts"):
    sys.path.insert(0, str(ROOT / where))
from compare import cpu_model, pct  # noqa: E402
from cargo_executable import target_dir  # noqa: E402
import nbformat  # noqa: E402
import psutil  # noqa: E402
import zmq  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

LESSON = ROOT / "notebooks" / "06-rust-cells.ipynb"
CACHE_FIGURES = "application/vnd.sled-kernel.rust-cache+json"
TRIVIAL = ("%%rust\n1 + 1", '%%rust\nprintln!("hi");')
# jemalloc's account, in the kernel's debug log after each Rust cell.
JEMALLOC = re.compile(
    r"memory after giving back: allocated ([\d.]+) MB, in active pages ([\d.]+) MB, "
    r"resident ([\d.]+) MB, jemalloc's metadata ([\d.]+) MB"
)


class Kernel:
    """A kernel started as JupyterLab's server starts one, with its stderr
    kept in a file (the sled kernel's debug log)."""

    def __init__(self, spec: str, env: dict[str, str], specs: KernelSpecManager | None = None):
        self.context = zmq.Context()
        self.context.setsockopt(zmq.RECONNECT_IVL, 1)
        self.km = KernelManager(kernel_name=spec, context=self.context,
                                **({"kernel_spec_manager": specs} if specs else {}))
        self.log = tempfile.NamedTemporaryFile(prefix="bench-kernel-", suffix=".log", delete=False)
        self.km.start_kernel(env={**os.environ, **env}, stderr=self.log)
        self.kc = self.km.client(context=self.context)
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    @property
    def pid(self) -> int:
        return self.km.provisioner.process.pid

    def run(self, code: str, timeout: float = 900) -> tuple[float, list[dict], str]:
        """Seconds to idle, the outputs, and the reply's status."""
        outputs = []
        began = time.perf_counter()
        msg_id = self.kc.execute(code, store_history=False, stop_on_error=False)
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                took = time.perf_counter() - began
                break
            if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                outputs.append(msg["content"])
        reply = self.kc.get_shell_msg(timeout=timeout)
        return took, outputs, reply["content"]["status"]

    def cpu(self) -> float:
        """CPU seconds of the kernel and of the children it has waited for."""
        t = psutil.Process(self.pid).cpu_times()
        return t.user + t.system + t.children_user + t.children_system

    def memory(self) -> dict:
        """MB: the kernel's VmRSS and VmHWM, its children's RSS (the process
        that runs Rust code, and any compile running)."""
        status = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                status[key] = int(value.split()[0]) / 1024
        children = 0.0
        for child in psutil.Process(self.pid).children(recursive=True):
            try:
                children += child.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                pass
        return {"rss_mb": status.get("VmRSS"), "peak_mb": status.get("VmHWM"), "children_mb": children}

    def jemalloc(self) -> dict | None:
        """jemalloc's last account of the kernel's heap (MB), if it logged one."""
        found = JEMALLOC.findall(Path(self.log.name).read_text(errors="replace"))
        if not found:
            return None
        allocated, active, resident, metadata = map(float, found[-1])
        return {"allocated_mb": allocated, "active_mb": active, "resident_mb": resident,
                "metadata_mb": metadata}

    def stop(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        self.context.term()
        self.log.close()
        os.unlink(self.log.name)


def lesson_cells() -> list[str]:
    nb = nbformat.read(LESSON, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def is_rust(code: str) -> bool:
    return code.lstrip().startswith("%%rust")


def cell_compiles(kernel: Kernel) -> int:
    _, outputs, _ = kernel.run("%rust cache")
    figures = next(o["data"][CACHE_FIGURES] for o in outputs if "data" in o)
    return figures["kernel"]["cell_compiles"]


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "p90": pct(values, 0.9), "min": min(values),
            "max": max(values), "n": len(values)}


def sled_lesson(env: dict[str, str]) -> dict:
    """Lesson 06, Run All, in a fresh kernel: timings, compiles, memory."""
    kernel = Kernel("sled", {**env, "SLED_KERNEL_LOG": "debug"})
    try:
        rust_times, rust_cpu, first, first_cpu, compiles = [], [], None, None, []
        for code in lesson_cells():
            if not is_rust(code):
                kernel.run(code)
                continue
            before_compiles = cell_compiles(kernel)
            before_cpu = kernel.cpu()
            took, _, _ = kernel.run(code)
            if first is None:
                first, first_cpu = took, kernel.cpu() - before_cpu
            else:
                rust_times.append(took)
                rust_cpu.append(kernel.cpu() - before_cpu)
            compiles.append(cell_compiles(kernel) - before_compiles)
        after = kernel.memory()
        heap = kernel.jemalloc()
        kernel.run("%rust stop")
        stopped = kernel.memory()
        return {"first_s": first, "first_cpu_s": first_cpu, "later_s": rust_times, "later_cpu_s": rust_cpu,
                "compiles": compiles, "memory": after, "jemalloc": heap, "after_stop": stopped}
    finally:
        kernel.stop()


def sled_ahead(env: dict[str, str], reading: float) -> float:
    """The first Rust cell of lesson 06 in a kernel that ran `%rust start`,
    then the KV cells before it, and gave a student `reading` seconds."""
    kernel = Kernel("sled", env)
    try:
        kernel.run("%rust start")
        cells = lesson_cells()
        first_rust = next(i for i, c in enumerate(cells) if is_rust(c))
        for code in cells[:first_rust]:
            kernel.run(code)
        time.sleep(reading)
        took, _, _ = kernel.run(cells[first_rust])
        return took
    finally:
        kernel.stop()


def sled_trivial(env: dict[str, str], count: int) -> dict:
    kernel = Kernel("sled", env)
    try:
        kernel.run("insert k v")
        kernel.run(TRIVIAL[0])
        times = {code: [] for code in TRIVIAL}
        cpu = {code: [] for code in TRIVIAL}
        handoff = []
        for _ in range(count):
            for code in TRIVIAL:
                before = kernel.cpu()
                times[code].append(kernel.run(code)[0])
                cpu[code].append(kernel.cpu() - before)
            handoff.append(kernel.run("get k")[0])
        plain_kv = [kernel.run("get k")[0] for _ in range(count)]
        return {"trivial": {code: summary(t) for code, t in times.items()},
                "trivial_cpu": {code: summary(t) for code, t in cpu.items()},
                "kv_after_rust": summary(handoff), "kv_after_kv": summary(plain_kv)}
    finally:
        kernel.stop()


def evcxr_kernelspec(binary: Path, where: Path) -> KernelSpecManager:
    spec = where / "kernels" / "evcxr-bench"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(binary), "--control_file", "{connection_file}"],
        "display_name": "evcxr_jupyter (bench)", "language": "rust",
    }))
    return KernelSpecManager(kernel_dirs=[str(where / "kernels")])


def evcxr_setup(db: Path) -> str:
    """What sled-kernel's context has without asking, for evcxr_jupyter:
    its own cache (warm after the first kernel), sled and DB_PATH."""
    return f':cache 1024\n:dep sled = "0.34.7"\nconst DB_PATH: &str = "{db}";\n'


def evcxr_lesson(specs: KernelSpecManager, env: dict[str, str]) -> dict:
    kernel = Kernel("evcxr-bench", env, specs)
    db = Path(tempfile.mkdtemp(prefix="bench-evcxr-db-"))
    try:
        rust = [c.split("\n", 1)[1] for c in lesson_cells() if is_rust(c)]
        before = kernel.cpu()
        first, _, status = kernel.run(evcxr_setup(db) + rust[0])
        first_cpu = kernel.cpu() - before
        if status != "ok":
            print(f"  evcxr_jupyter's first cell failed ({status})", flush=True)
        later = [kernel.run(code)[0] for code in rust[1:]]
        memory = kernel.memory()
        return {"first_s": first, "first_cpu_s": first_cpu, "later_s": later, "memory": memory}
    finally:
        kernel.stop()


def evcxr_trivial(specs: KernelSpecManager, env: dict[str, str], count: int) -> dict:
    kernel = Kernel("evcxr-bench", env, specs)
    try:
        kernel.run("1 + 1")
        times = {code: [kernel.run(code.split("\n", 1)[1])[0] for _ in range(count)] for code in TRIVIAL}
        return {code: summary(t) for code, t in times.items()}
    finally:
        kernel.stop()


def warm_cold(env: dict[str, str]) -> dict:
    """The first `%%rust` cell with an empty cache: it compiles sled."""
    kernel = Kernel("sled", env)
    try:
        before = kernel.cpu()
        took, _, _ = kernel.run("%%rust\n1 + 1")
        return {"wall_s": took, "cpu_s": kernel.cpu() - before}
    finally:
        kernel.stop()


def ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer kernels and cells")
    parser.add_argument("--evcxr-jupyter", type=Path, help="an evcxr_jupyter binary to measure beside")
    parser.add_argument("--reading", type=float, default=30.0,
                        help="seconds between %%rust start and the first Rust cell (default 30)")
    parser.add_argument("--out", help="where the JSON goes (default: in cargo's target directory)")
    args = parser.parse_args()
    kernels = 2 if args.quick else 5
    cells = 10 if args.quick else 40
    load_before = os.getloadavg()
    began = time.time()

    with tempfile.TemporaryDirectory(prefix="rust-cache-bench-") as scratch:
        os.environ.pop("SLED_KERNEL_RUST_CACHE_MB", None)
        env = {"SLED_KERNEL_RUST_CACHE": str(Path(scratch) / "rust-cells")}
        print(f"cache: {env['SLED_KERNEL_RUST_CACHE']} (temporary)", flush=True)
        print("first %%rust cell, cold cache (compiles sled)...", flush=True)
        cold = warm_cold(env)
        print(f"  {cold['wall_s']:.1f} s ({cold['cpu_s']:.1f} CPU s)", flush=True)

        lessons = []
        for i in range(kernels):
            lessons.append(sled_lesson(env))
            one = lessons[-1]
            print(f"lesson 06, kernel {i + 1}: first Rust cell {one['first_s']:.2f} s "
                  f"({one['first_cpu_s']:.1f} CPU s), later cells median "
                  f"{statistics.median(one['later_s']):.2f} s, compiles {one['compiles']}, "
                  f"memory {one['memory']}, jemalloc {one['jemalloc']}, after %rust stop "
                  f"{one['after_stop']}", flush=True)
        ahead = []
        for _ in range(max(1, kernels // 2)):
            ahead.append(sled_ahead(env, args.reading))
            print(f"first Rust cell {args.reading:.0f} s after %rust start: {ahead[-1]:.2f} s", flush=True)
        trivial = sled_trivial(env, cells)
        print(f"trivial cells: {json.dumps(trivial['trivial'])}", flush=True)

        evcxr = None
        if args.evcxr_jupyter:
            evcxr_env = {"XDG_CACHE_HOME": str(Path(scratch) / "evcxr-cache")}
            specs = evcxr_kernelspec(args.evcxr_jupyter.resolve(), Path(scratch) / "evcxr-spec")
            print("evcxr_jupyter: warming its :cache with sled...", flush=True)
            evcxr_lesson(specs, evcxr_env)
            runs = []
            for i in range(kernels):
                runs.append(evcxr_lesson(specs, evcxr_env))
                print(f"evcxr_jupyter, kernel {i + 1}: first cell {runs[-1]['first_s']:.2f} s, "
                      f"memory {runs[-1]['memory']}", flush=True)
            evcxr = {"lessons": runs, "trivial": evcxr_trivial(specs, evcxr_env, cells)}

    first = summary([r["first_s"] for r in lessons])
    first_cpu = summary([r["first_cpu_s"] for r in lessons])
    later = summary([t for r in lessons for t in r["later_s"]])
    later_cpu = summary([t for r in lessons for t in r["later_cpu_s"]])
    rss = summary([r["memory"]["rss_mb"] for r in lessons])
    peak = summary([r["memory"]["peak_mb"] for r in lessons])
    child = summary([r["memory"]["children_mb"] for r in lessons])
    stopped = summary([r["after_stop"]["rss_mb"] for r in lessons])
    heaps = [r["jemalloc"] for r in lessons if r["jemalloc"]]
    compiles = lessons[0]["compiles"]
    result = {
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(),
                    "load_before": load_before, "load_after": os.getloadavg(),
                    "date": time.strftime("%Y-%m-%d %H:%M %Z"), "minutes": (time.time() - began) / 60},
        "first_cell_cold": cold,
        "lesson_06": lessons,
        "first_cell_after_rust_start_s": ahead,
        "trivial": trivial,
        "evcxr_jupyter": evcxr,
    }
    out = Path(args.out) if args.out else target_dir() / "bench-rust-cells.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    t, tc = trivial["trivial"], trivial["trivial_cpu"]
    ev = evcxr or {}
    ev_lessons = ev.get("lessons", [])

    def ev_fig(fn) -> str:
        return fn() if ev_lessons else "(not given)"

    rows = [
        ("first `%%rust` cell, cold cache (compiles sled and its crates): wall (CPU)",
         f"{cold['wall_s']:.1f} s ({cold['cpu_s']:.1f} s)", "", ""),
        (f"lesson 06's first Rust cell, fresh kernel, warm cache, no `%rust start`, "
         f"{first['n']} kernels: wall median / best (CPU median)",
         f"{first['median']:.1f} / {first['min']:.1f} s ({first_cpu['median']:.1f} s)",
         ev_fig(lambda: f"{statistics.median(r['first_s'] for r in ev_lessons):.1f} s "
                        f"({statistics.median(r['first_cpu_s'] for r in ev_lessons):.1f} s)"),
         "at most 3 s"),
        (f"the same cell {args.reading:.0f} s after `%rust start` (median of {len(ahead)})",
         f"{statistics.median(ahead):.2f} s", "", ""),
        (f"lesson 06's later Rust cells, each calling sled: wall median / p90 / max of {later['n']} "
         f"(CPU median)",
         f"{later['median']:.2f} / {later['p90']:.2f} / {later['max']:.2f} s ({later_cpu['median']:.2f} s)",
         ev_fig(lambda: f"{statistics.median(x for r in ev_lessons for x in r['later_s']):.2f} s"),
         "at most 1 s"),
        (f"trivial Rust cell `1 + 1`: wall median / p90 of {t[TRIVIAL[0]]['n']} (CPU median)",
         f"{ms(t[TRIVIAL[0]]['median'])} / {ms(t[TRIVIAL[0]]['p90'])} ms ({ms(tc[TRIVIAL[0]]['median'])} ms)",
         f"{ms(ev['trivial'][TRIVIAL[0]]['median'])} ms" if ev else "(not given)", "at most 200 ms"),
        ("trivial Rust cell `println!(\"hi\");`: wall median / p90 (CPU median)",
         f"{ms(t[TRIVIAL[1]]['median'])} / {ms(t[TRIVIAL[1]]['p90'])} ms ({ms(tc[TRIVIAL[1]]['median'])} ms)",
         f"{ms(ev['trivial'][TRIVIAL[1]]['median'])} ms" if ev else "(not given)", "at most 200 ms"),
        ("KV cell `get k` right after a Rust cell / after a KV cell (median)",
         f"{trivial['kv_after_rust']['median'] * 1000:.1f} / {trivial['kv_after_kv']['median'] * 1000:.1f} ms",
         "", ""),
        ("compiles of each Rust cell's crate, lesson 06 in order", " ".join(map(str, compiles)), "",
         "one each"),
        (f"kernel resident memory after lesson 06, VmRSS median (peak VmHWM median), {rss['n']} kernels",
         f"{rss['median']:.0f} MB ({peak['median']:.0f} MB)",
         ev_fig(lambda: f"{statistics.median(r['memory']['rss_mb'] for r in ev_lessons):.0f} MB "
                        f"({statistics.median(r['memory']['peak_mb'] for r in ev_lessons):.0f} MB)"),
         "at most 300 MB"),
        ("the process that runs Rust code, beside the kernel (median)", f"{child['median']:.0f} MB",
         ev_fig(lambda: f"{statistics.median(r['memory']['children_mb'] for r in ev_lessons):.0f} MB"), ""),
        ("kernel resident memory after `%rust stop` (median)", f"{stopped['median']:.0f} MB", "", ""),
    ]
    if heaps:
        rows.append((
            "of the kernel's heap after lesson 06: live / in pages partly used / resident (jemalloc, median)",
            f"{statistics.median(h['allocated_mb'] for h in heaps):.0f} / "
            f"{statistics.median(h['active_mb'] for h in heaps):.0f} / "
            f"{statistics.median(h['resident_mb'] for h in heaps):.0f} MB", "", ""))
    lines = ["| measured | sled-kernel | evcxr_jupyter | target (issue 21) |", "| --- | --: | --: | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    m = result["machine"]
    print()
    print(f"Measured on {m['date']}: {m['cpu']}, {m['cpus']} CPUs, load average "
          f"{m['load_before'][0]:.1f} before and {m['load_after'][0]:.1f} after ({m['minutes']:.0f} minutes); "
          f"rustc {subprocess.run(['rustc', '--version'], capture_output=True, text=True).stdout.strip()}")
    print("\n".join(lines))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
