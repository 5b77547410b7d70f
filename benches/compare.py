"""Side-by-side figures for sled-kernel, ipykernel and (when on PATH)
evcxr_jupyter, measured through jupyter_client as a frontend sees them.

Kernels are measured in the same run, interleaved (start by start, blocks
of 100 round trips), so the ratios hold even on a noisy machine. Measured:

- start-up: process start to the first kernel_info_reply (median of 10);
- round trip: execute_request sent to status: idle for a trivial cell
  (`get k`, `1`), median and p99 of 1,000; the Rust zmq client's figure
  (benches/roundtrip.rs, also pinned to one CPU) is read from cargo's
  scratch directory (target/tmp/bench-roundtrip*.json, or --scratch);
- resident memory when idle, and after loading 1,000,000 keys (ipykernel:
  a dict of the same pairs);
- `%load` of 1,000,000 pairs and a `batch` of 100,000 inserts in keys/s,
  each round followed by the plain sled loop (examples/sled_loop.rs) of
  the same size, medians of 3 rounds;
- `scan_prefix` over 100,000 matching keys, time to idle, with the default
  row limit and with `%limit` raised to all of them.

It prints a Markdown table and the targets of issue 7 read off it, and
writes JSON; it asserts nothing and always exits 0 when it could measure.

    benches/run            # builds, installs what is needed, runs this
    .venv/bin/python benches/compare.py --quick   # fewer repetitions
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
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
            sys.exit(f"bench: kernelspec {s.spec!r} not found; run benches/run (it installs both)")
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
        # The client needs the context too: km.client() would make its own.
        self.kc = self.km.client(context=self.context)
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

    def peak_rss_mb(self) -> float | None:
        """The kernel's high-water resident set (VmHWM), where /proc has it."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
        except OSError:
            pass
        return None

    def run(self, code: str, timeout: float = 600) -> float:
        """Runs a cell; returns seconds from execute_request sent to idle."""
        return self.run_capture(code, timeout)[0]

    def run_capture(self, code: str, timeout: float = 600) -> tuple[float, list[dict]]:
        """Runs a cell; returns seconds from execute_request sent to idle and
        the content of the outputs it sent (streams, displays, results)."""
        outputs = []
        began = time.perf_counter()
        msg_id = self.kc.execute(code, store_history=False)
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                elapsed = time.perf_counter() - began
                break
            if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                outputs.append(msg["content"])
        reply = self.kc.get_shell_msg(timeout=timeout)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{self.subject.label}: {code[:60]!r} failed: {reply['content']}")
        return elapsed, outputs

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


# The built examples/sled_loop.rs (main() sets it; cargo says where it is).
SLED_LOOP = Path("sled_loop")


def sled_ceiling(n: int, with_batch: bool = True) -> dict:
    """A plain Rust loop of n sled inserts (and the same pairs as one
    sled::Batch), opened the way the kernel opens its database."""
    argv = [str(SLED_LOOP), str(n)] + ([] if with_batch else ["inserts"])
    out = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


JSON_MIME = "application/vnd.sled-kv+json"


def scan_result(outputs: list[dict]) -> dict:
    """Rows shown, rows found and size of the one result a scan cell sends."""
    [result] = [o for o in outputs if "data" in o]
    data = result["data"]
    found = re.search(r": (\d+) rows", data["text/html"])
    return {
        "shown": len(data[JSON_MIME]),
        "found": int(found.group(1)) if found else None,
        "bytes": len(json.dumps(result)),
    }


def sled_workloads(session: Session, keys: int, batch: int, scan: int, rounds: int,
                   workdir: Path) -> dict:
    """Throughput and memory figures that only this kernel has commands for,
    each round followed by the plain sled loop of the same size, so that the
    kernel and its ceiling see the same machine load."""
    data = workdir / "pairs.jsonl"
    with data.open("w") as f:
        for i in range(keys):
            f.write(json.dumps({"key": f"user:{i:08d}", "value": f"value {i}"}) + "\n")
    batch_cell = "\n".join(["batch"] + [f'insert user:{i:08d} "value {i}"' for i in range(batch)]
                           + ["end"])
    figures: dict = {"rounds": rounds, "raw_data_mb": sum(
        len(f"user:{i:08d}") + len(f"value {i}") for i in range(keys)) / 1e6}
    load_rates, ceiling_rates, batch_rates, batch_ceiling_rates = [], [], [], []
    sled_batch_rates = []
    for r in range(rounds):
        session.run("%reset")
        load_rates.append(keys / session.run(f"%load {data}"))
        if r == 0:
            # The first load in this process, so nothing freed earlier hides in it.
            figures["rss_after_load_mb"] = session.rss_mb()
            figures["peak_rss_after_load_mb"] = session.peak_rss_mb()
            _, out = session.run_capture("size_on_disk")
            figures["size_on_disk_mb"] = out[0]["data"][JSON_MIME] / 1e6
        big = sled_ceiling(keys, with_batch=False)
        ceiling_rates.append(big["keys_per_second"])
        if r == 0:
            figures["plain_sled_rss_mb"] = big["rss_mb"]

        session.run("%reset")
        batch_rates.append(batch / session.run(batch_cell))
        small = sled_ceiling(batch)
        batch_ceiling_rates.append(small["keys_per_second"])
        sled_batch_rates.append(small["batch_keys_per_second"])
    median = statistics.median
    figures["load_keys_per_second"] = median(load_rates)
    figures["plain_sled_keys_per_second"] = median(ceiling_rates)
    figures["batch_keys_per_second"] = median(batch_rates)
    figures["plain_sled_batch_size_keys_per_second"] = median(batch_ceiling_rates)
    figures["sled_apply_batch_keys_per_second"] = median(sled_batch_rates)

    session.run("%reset")
    session.run(f"%load {data}")
    digits = len(str(scan)) - 1
    if scan != 10**digits or scan > keys:
        raise ValueError("the scan size must be a power of ten, at most the number of keys")
    prefix = "user:" + "0" * (8 - digits)  # user:000 matches user:00000000 .. user:00099999
    figures["scan_prefix"] = prefix

    def timed_scans(rounds: int) -> tuple[float, dict]:
        """The median time to idle of `rounds` scans, and the last result."""
        times, result = [], {}
        for _ in range(rounds):
            elapsed, out = session.run_capture(f"scan_prefix {prefix}")
            times.append(elapsed)
            result = scan_result(out)
        return median(times), result

    figures["scan_default_limit_s"], figures["scan_default_limit_result"] = timed_scans(5)
    session.run(f"%limit {scan}")
    figures["scan_unlimited_s"], result = timed_scans(3)
    figures["scan_unlimited_result"] = result
    session.run("%limit 100")
    figures["scan_keys"] = result["found"]
    return figures


def python_dict_load(session: Session, keys: int) -> dict:
    session.run(f"d = {{f'user:{{i:08d}}': f'value {{i}}' for i in range({keys})}}")
    return {"rss_after_load_mb": session.rss_mb()}


# ---- report -------------------------------------------------------------------


CACHE_MIB = 64  # the session database's page cache (kernel/interpreter/running/session.rs)


def table(result: dict) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """The measured table as Markdown lines, and the targets as (what,
    measured, met) — read off the figures, never enforced."""
    k, sled = result["kernels"], result["sled"]
    ours, theirs = k["sled-kernel"], k["ipykernel"]
    others = [label for label in k if label not in ("sled-kernel", "ipykernel")]
    keys, batch = sled["keys"], sled["batch"]
    rc = result.get("rust_client")

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.3f} (1/{b / a:.1f})" if a < b else f"{a / b:.2f}"

    lines = ["| | sled-kernel | ipykernel | sled-kernel / ipykernel |"
             + "".join(f" {o} |" for o in others),
             "|---|--:|--:|--:|" + "--:|" * len(others)]

    def row(title: str, mine: str, python: str = "", r: str = "", key: str | None = None,
            fmt: str = "{:.0f}") -> None:
        extra = "".join(f" {fmt.format(k[o][key]) if key else ''} |" for o in others)
        lines.append(f"| {title} | {mine} | {python} | {r} |{extra}")

    for title, key, fmt in [
        (f"start-up to kernel_info_reply, median of {ours['starts']} (ms)",
         "startup_median_ms", "{:.1f}"),
        (f"round trip, median of {ours['roundtrips']:,} (µs)", "roundtrip_median_us", "{:.0f}"),
        (f"round trip, p99 of {ours['roundtrips']:,} (µs)", "roundtrip_p99_us", "{:.0f}"),
        ("idle RSS (MB)", "idle_rss_mb", "{:.1f}"),
    ]:
        row(title, fmt.format(ours[key]), fmt.format(theirs[key]), ratio(ours[key], theirs[key]),
            key, fmt)
    if rc:
        row(f"round trip from the Rust zmq client, median / p99 of {rc['count']:,} (µs)",
            f"{rc['median_us']:.0f} / {rc['p99_us']:.0f}")
    one = result.get("rust_client_one_cpu")
    if one:
        row("the same, client and kernel on one CPU (`taskset -c 0`) (µs)",
            f"{one['median_us']:.0f} / {one['p99_us']:.0f}")
    py = result["ipykernel_dict"]
    row(f"RSS after loading {keys:,} keys (MB)",
        f"{sled['rss_after_load_mb']:.1f} (peak {sled['peak_rss_after_load_mb']:.1f})",
        f"{py['rss_after_load_mb']:.1f} (a dict)")
    if sled.get("plain_sled_rss_mb") is not None:
        row(f"plain sled loop's own RSS after {keys:,} keys (MB)",
            f"{sled['plain_sled_rss_mb']:.1f}")
    row(f"`%load` of {keys:,} pairs (keys/s)", f"{sled['load_keys_per_second']:,.0f}")
    row(f"plain sled insert loop, {keys:,} keys (keys/s)",
        f"{sled['plain_sled_keys_per_second']:,.0f}")
    row(f"`batch` of {batch:,} inserts (keys/s)", f"{sled['batch_keys_per_second']:,.0f}")
    row(f"plain sled insert loop, {batch:,} keys (keys/s)",
        f"{sled['plain_sled_batch_size_keys_per_second']:,.0f}")
    row(f"plain sled `apply_batch` of {batch:,} keys (keys/s)",
        f"{sled['sled_apply_batch_keys_per_second']:,.0f}")
    d, u = sled["scan_default_limit_result"], sled["scan_unlimited_result"]
    row(f"`scan_prefix` over {sled['scan_keys']:,} keys, default limit: to idle (ms)",
        f"{sled['scan_default_limit_s'] * 1e3:.1f} ({d['shown']} rows shown, "
        f"{d['bytes'] / 1e3:.0f} kB)")
    row(f"`scan_prefix` over {sled['scan_keys']:,} keys, `%limit {u['shown']}`: to idle (ms)",
        f"{sled['scan_unlimited_s'] * 1e3:.1f} ({u['shown']:,} rows shown, "
        f"{u['bytes'] / 1e6:.1f} MB)")

    idle, after = ours["idle_rss_mb"], sled["rss_after_load_mb"]
    bound = idle + CACHE_MIB * 2**20 / 1e6
    speed = theirs["startup_median_ms"] / ours["startup_median_ms"]
    trip = theirs["roundtrip_median_us"] / ours["roundtrip_median_us"]
    load = sled["load_keys_per_second"] / sled["plain_sled_keys_per_second"]
    bat = sled["batch_keys_per_second"] / sled["plain_sled_batch_size_keys_per_second"]
    targets = [
        ("start-up ≥ 10× faster than ipykernel", f"{speed:.1f}×", speed >= 10),
        ("round trip ≥ 4× faster than ipykernel (jupyter_client)", f"{trip:.1f}×", trip >= 4),
        ("round trip < 200 µs median (Rust client)",
         (f"{rc['median_us']:.0f} µs" if rc else "not measured")
         + (f" ({one['median_us']:.0f} µs on one CPU)" if one else ""),
         bool(rc) and rc["median_us"] < 200),
        ("idle RSS < 20 MB", f"{idle:.1f} MB", idle < 20),
        (f"RSS with {keys:,} keys ≤ idle + the {CACHE_MIB} MiB cache ({bound:.0f} MB)",
         f"{after:.1f} MB (plain sled loop alone {sled.get('plain_sled_rss_mb') or 0:.0f} MB; "
         f"data {sled['raw_data_mb']:.0f} MB raw, {sled['size_on_disk_mb']:.0f} MB on disk)",
         after <= bound),
        ("`%load` ≥ ½ the plain sled loop", f"{load:.2f}×", load >= 0.5),
        ("`batch` ≥ ½ the plain sled loop", f"{bat:.2f}×", bat >= 0.5),
        (f"default row limit holds ({sled['scan_keys']:,} rows found)",
         f"{d['shown']} shown", d["shown"] == 100 and d["found"] == sled["scan_keys"]),
        (f"unlimited {sled['scan_keys']:,}-row scan < 1 s", f"{sled['scan_unlimited_s']:.2f} s",
         sled["scan_unlimited_s"] < 1 and u["shown"] == sled["scan_keys"]),
    ]
    return lines, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller data")
    parser.add_argument("--out", help="where the JSON goes (default: in cargo's target directory)")
    parser.add_argument("--sled-loop", help="the built sled_loop example (default: build it)")
    parser.add_argument("--scratch", help="where benches/roundtrip.rs wrote its figures "
                        "(default: cargo's target/tmp)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "scripts"))
    from cargo_executable import build, target_dir

    global SLED_LOOP
    SLED_LOOP = Path(args.sled_loop or build(
        "sled_loop", "--release", "--locked", "--example", "sled_loop"))
    scratch = Path(args.scratch) if args.scratch else target_dir() / "tmp"
    out = Path(args.out) if args.out else target_dir() / "bench-compare.json"

    starts = 3 if args.quick else 10
    trips = 200 if args.quick else 1000
    keys = 100_000 if args.quick else 1_000_000
    batch = 10_000 if args.quick else 100_000
    scan = 10_000 if args.quick else 100_000
    rounds = 1 if args.quick else 3

    chosen, notes = subjects(KernelSpecManager())
    machine = {
        "node": platform.node(), "cpus": os.cpu_count(), "cpu": cpu_model(),
        "platform": platform.platform(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    print(f"machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gib']} GiB, "
          f"{machine['platform']}, {machine['date']}")

    start_times = startup(chosen, starts)
    sessions = [Session(s) for s in chosen]
    for s in sessions:
        s.start()
    time.sleep(0.5)
    idle_rss = {s.subject.label: s.rss_mb() for s in sessions}
    trip_times = round_trips(sessions, trips)

    by_label = {s.subject.label: s for s in sessions}
    with tempfile.TemporaryDirectory() as work:
        sled = sled_workloads(by_label["sled-kernel"], keys, batch, scan, rounds, Path(work))
    py = python_dict_load(by_label["ipykernel"], keys)
    for s in sessions:
        s.stop()

    result = {
        "machine": machine,
        "notes": notes,
        "kernels": {},
        "sled": {**sled, "keys": keys, "batch": batch},
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
    # Written by benches/roundtrip.rs just before (benches/run); an old file
    # from an earlier run is left out rather than shown as this run's.
    for key, name in [("rust_client", "bench-roundtrip.json"),
                      ("rust_client_one_cpu", "bench-roundtrip-one-cpu.json")]:
        path = scratch / name
        if path.exists() and time.time() - path.stat().st_mtime < 3600:
            result[key] = json.loads(path.read_text())

    lines, targets = table(result)
    result["targets"] = [{"target": t, "measured": m, "met": met} for t, m, met in targets]
    result["table_markdown"] = lines
    print()
    print("\n".join(lines))
    print()
    print("targets (read off the figures above; nothing is enforced):")
    for what, measured, met in targets:
        print(f"  {'met   ' if met else 'MISSED'}  {what}: {measured}")
    for note in notes:
        print(f"note: {note}")
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
