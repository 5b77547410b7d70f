"""Side-by-side figures for sled-kernel, ipykernel and (when on PATH)
evcxr_jupyter, measured through jupyter_client as a frontend sees them.

Kernels are measured in the same run, interleaved round by round, so the
ratios hold even on a noisy machine. This prints a table and writes JSON; it
asserts nothing (targets are read off the table, not enforced by a test).

    bench/run            # builds, installs what is needed, runs this
    .venv/bin/python bench/compare.py --quick   # fewer repetitions
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import zmq
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent


# ---- kernels ----------------------------------------------------------------


class Subject:
    """One kernel under test: its kernelspec name and the cells that do the
    same work in its language."""

    def __init__(self, label: str, spec: str, trivial: str, setup: str = ""):
        self.label = label
        self.spec = spec
        self.trivial = trivial
        self.setup = setup


def subjects(spec_manager: KernelSpecManager) -> tuple[list[Subject], list[str]]:
    found = spec_manager.find_kernel_specs()
    chosen = [
        Subject("sled-kernel", "sled", trivial="get k", setup="insert k v"),
        Subject("ipykernel", "python3", trivial="1"),
    ]
    notes = []
    for s in chosen:
        if s.spec not in found:
            sys.exit(f"bench: kernelspec {s.spec!r} not found; run bench/run (it installs both)")
    evcxr = shutil.which("evcxr_jupyter")
    if evcxr and "rust" in found:
        chosen.append(Subject("evcxr_jupyter", "rust", trivial="1"))
    else:
        notes.append(
            "evcxr_jupyter: absent (not on PATH with a `rust` kernelspec); "
            "`cargo install evcxr_jupyter && evcxr_jupyter --install` adds it"
        )
    return chosen, notes


# ---- one kernel session -------------------------------------------------------


class Session:
    """A started kernel with a blocking client on a context that reconnects
    every millisecond, so start-up is not rounded up to zmq's 100 ms default."""

    def __init__(self, subject: Subject):
        self.subject = subject
        self.context = zmq.Context()
        self.context.setsockopt(zmq.RECONNECT_IVL, 1)
        self.km = KernelManager(kernel_name=subject.spec, context=self.context)

    def start(self) -> float:
        """Starts the kernel; returns seconds from process start to the first
        kernel_info_reply."""
        began = time.perf_counter()
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        msg_id = self.kc.kernel_info()
        while True:
            reply = self.kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        elapsed = time.perf_counter() - began
        # Wait until IOPub is live before timing cells.
        self.kc.wait_for_ready(timeout=60)
        return elapsed

    @property
    def pid(self) -> int:
        return self.km.provisioner.process.pid

    def rss_mb(self) -> float:
        return psutil.Process(self.pid).memory_info().rss / 1e6

    def run(self, code: str, timeout: float = 600) -> float:
        """Runs a cell; returns seconds from execute_request sent to idle."""
        began = time.perf_counter()
        msg_id = self.kc.execute(code, store_history=False)
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                elapsed = time.perf_counter() - began
                break
        reply = self.kc.get_shell_msg(timeout=timeout)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{self.subject.label}: {code[:60]!r} failed: {reply['content']}")
        return elapsed

    def stop(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        self.context.term()


# ---- measurements -------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p))]


def startup(subjects: list[Subject], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {s.label: [] for s in subjects}
    for _ in range(rounds):
        for s in subjects:
            session = Session(s)
            times[s.label].append(session.start())
            session.stop()
    return times


def round_trips(sessions: list[Session], count: int, block: int = 100) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {s.subject.label: [] for s in sessions}
    for session in sessions:
        if session.subject.setup:
            session.run(session.subject.setup)
        for _ in range(20):  # warm up
            session.run(session.subject.trivial)
    for _ in range(0, count, block):
        for session in sessions:
            for _ in range(block):
                times[session.subject.label].append(session.run(session.subject.trivial))
    return times


def sled_ceiling(n: int) -> float:
    """Keys per second for a plain Rust loop of sled inserts."""
    exe = ROOT / "target" / "release" / "examples" / "sled_loop"
    out = subprocess.run([str(exe), str(n)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["keys_per_second"]


def sled_workloads(session: Session, keys: int, batch: int, scan: int, workdir: Path) -> dict:
    """Throughput and memory figures that only this kernel has commands for."""
    figures: dict = {}
    data = workdir / "pairs.jsonl"
    with data.open("w") as f:
        for i in range(keys):
            f.write(json.dumps({"key": f"user:{i:08d}", "value": f"value {i}"}) + "\n")
    session.run("%reset")
    seconds = session.run(f"%load {data}")
    figures["load_keys_per_second"] = keys / seconds
    figures["rss_after_load_mb"] = session.rss_mb()

    session.run("%reset")
    lines = ["batch"] + [f"insert b:{i:08d} {i}" for i in range(batch)] + ["end"]
    seconds = session.run("\n".join(lines))
    figures["batch_keys_per_second"] = batch / seconds

    session.run("%reset")
    session.run(f"%load {data}")
    scan_prefix = "user:000"  # user:00000000 .. user:00099999
    figures["scan_keys"] = min(scan, keys)
    figures["scan_default_limit_s"] = statistics.median(
        session.run(f"scan_prefix {scan_prefix}") for _ in range(5)
    )
    session.run(f"%limit {scan}")
    figures["scan_unlimited_s"] = statistics.median(
        session.run(f"scan_prefix {scan_prefix}") for _ in range(3)
    )
    session.run("%limit 100")
    return figures


def python_dict_load(session: Session, keys: int) -> dict:
    session.run(f"d = {{f'user:{{i:08d}}': f'value {{i}}' for i in range({keys})}}")
    return {"rss_after_load_mb": session.rss_mb()}


# ---- report -------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller data")
    parser.add_argument("--out", default=str(ROOT / "target" / "bench-compare.json"))
    args = parser.parse_args()

    starts = 3 if args.quick else 10
    trips = 200 if args.quick else 1000
    keys = 100_000 if args.quick else 1_000_000
    batch = 10_000 if args.quick else 100_000
    scan = 100_000 if not args.quick else 10_000

    chosen, notes = subjects(KernelSpecManager())
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, {platform.platform()}")

    start_times = startup(chosen, starts)
    sessions = [Session(s) for s in chosen]
    for s in sessions:
        s.start()
    time.sleep(0.5)
    idle_rss = {s.subject.label: s.rss_mb() for s in sessions}
    trip_times = round_trips(sessions, trips)

    by_label = {s.subject.label: s for s in sessions}
    with tempfile.TemporaryDirectory() as work:
        sled = sled_workloads(by_label["sled-kernel"], keys, batch, scan, Path(work))
    py = python_dict_load(by_label["ipykernel"], keys)
    for s in sessions:
        s.stop()
    ceiling = sled_ceiling(keys)

    result = {
        "machine": {
            "node": platform.node(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30),
        },
        "notes": notes,
        "kernels": {},
        "sled": {**sled, "plain_sled_keys_per_second": ceiling, "keys": keys, "batch": batch},
        "ipykernel_dict": py,
    }
    for s in chosen:
        st, rt = start_times[s.label], trip_times[s.label]
        result["kernels"][s.label] = {
            "startup_median_ms": statistics.median(st) * 1e3,
            "roundtrip_median_us": statistics.median(rt) * 1e6,
            "roundtrip_p99_us": pct(rt, 0.99) * 1e6,
            "idle_rss_mb": idle_rss[s.label],
            "starts": len(st), "roundtrips": len(rt),
        }
    rust_client = ROOT / "target" / "bench-roundtrip.json"
    if rust_client.exists():
        result["rust_client"] = json.loads(rust_client.read_text())

    k = result["kernels"]
    print()
    print(f"{'':24}" + "".join(f"{label:>16}" for label in k))
    rows = [
        ("start-up, median (ms)", "startup_median_ms", "{:.1f}"),
        ("round trip, median (µs)", "roundtrip_median_us", "{:.0f}"),
        ("round trip, p99 (µs)", "roundtrip_p99_us", "{:.0f}"),
        ("idle RSS (MB)", "idle_rss_mb", "{:.1f}"),
    ]
    for title, key, fmt in rows:
        print(f"{title:24}" + "".join(f"{fmt.format(v[key]):>16}" for v in k.values()))
    ours, theirs = k["sled-kernel"], k["ipykernel"]
    print()
    print("ratios (ipykernel / sled-kernel; higher is better for sled-kernel):")
    print(f"  start-up {theirs['startup_median_ms'] / ours['startup_median_ms']:.1f}x, "
          f"round trip {theirs['roundtrip_median_us'] / ours['roundtrip_median_us']:.1f}x, "
          f"idle RSS {theirs['idle_rss_mb'] / ours['idle_rss_mb']:.1f}x")
    if "rust_client" in result:
        rc = result["rust_client"]
        print(f"  Rust zmq client round trip: median {rc['median_us']:.0f} µs, "
              f"p99 {rc['p99_us']:.0f} µs ({rc['count']} cells)")
    print()
    print(f"sled workloads ({keys:,} keys):")
    print(f"  %load             {sled['load_keys_per_second']:>12,.0f} keys/s")
    print(f"  batch of {batch:,} {sled['batch_keys_per_second']:>12,.0f} keys/s")
    print(f"  plain sled loop   {ceiling:>12,.0f} keys/s  (the ceiling)")
    print(f"  RSS after %load   {sled['rss_after_load_mb']:>12.1f} MB "
          f"(ipykernel dict of the same keys: {py['rss_after_load_mb']:.1f} MB)")
    print(f"  scan_prefix over {sled['scan_keys']:,} keys: default limit "
          f"{sled['scan_default_limit_s'] * 1e3:.1f} ms, unlimited "
          f"{sled['scan_unlimited_s'] * 1e3:.1f} ms")
    for note in notes:
        print(f"note: {note}")
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
