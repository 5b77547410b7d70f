"""What a flush waits for: sled 0.34's `sync_file_range` against a real fsync.

    .venv/bin/python benches/fsync_cost.py [--dir DIR] [--rounds N]

On Linux, sled ends every log write of a `flush` with
`sync_file_range(fd, offset, len, WAIT_BEFORE | WRITE | WAIT_AFTER)`
(`pagecache/iobuf.rs`), which waits until the bytes have been handed to the
drive but writes no metadata and does not ask the drive to empty its write
cache; `fsync` and `fdatasync` do. This appends 100-byte records to a file in
DIR (default: the system temporary directory, where the kernel's session
database lives) and times each of the three calls after each write: the
median and the 90th percentile of N rounds. Lessons 04 and 08 quote these
figures.

It needs Linux (sync_file_range is a Linux call); elsewhere it times fsync and
fdatasync only. Writes bench-fsync.json in cargo's target directory. Nothing
here passes or fails.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))

from cargo_executable import target_dir  # noqa: E402

# The flags sled passes: wait for earlier writeback, start it, wait for it.
SYNC_FILE_RANGE_WAIT_BEFORE = 1
SYNC_FILE_RANGE_WRITE = 2
SYNC_FILE_RANGE_WAIT_AFTER = 4
RECORD = b"x" * 100


def sync_file_range():
    """The libc call, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    call = libc.sync_file_range
    call.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER

    def run(fd: int, offset: int, length: int) -> None:
        if call(fd, offset, length, flags) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))

    return run


def time_calls(directory: Path, how: str, rounds: int) -> list[float]:
    """Seconds taken by `how` after each of `rounds` appended records."""
    sfr = sync_file_range()
    taken = []
    with tempfile.NamedTemporaryFile(dir=directory, prefix="fsync-cost-") as f:
        fd = f.fileno()
        offset = 0
        for _ in range(rounds):
            os.pwrite(fd, RECORD, offset)
            started = time.perf_counter()
            if how == "sync_file_range":
                sfr(fd, offset, len(RECORD))
            elif how == "fdatasync":
                os.fdatasync(fd)
            else:
                os.fsync(fd)
            taken.append(time.perf_counter() - started)
            offset += len(RECORD)
    return taken


def filesystem(directory: Path) -> str:
    """The type of the filesystem `directory` is on, where /proc says."""
    mounts = Path("/proc/self/mounts")
    if not mounts.exists():
        return "unknown"
    best = ("", "unknown")
    resolved = str(directory.resolve())
    for line in mounts.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and resolved.startswith(parts[1]) and len(parts[1]) > len(best[0]):
            best = (parts[1], parts[2])
    return best[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    calls = ["fdatasync", "fsync"]
    if sync_file_range() is not None:
        calls.insert(0, "sync_file_range")
    fs = filesystem(args.dir)
    print(f"{args.rounds} appends of {len(RECORD)} bytes in {args.dir} ({fs}), each followed by the call:")
    print(f"  {'call':<16} {'median':>10} {'p90':>10}")
    results = {}
    for how in calls:
        taken = sorted(time_calls(args.dir, how, args.rounds))
        median = statistics.median(taken)
        p90 = taken[int(len(taken) * 0.9)]
        results[how] = {"median_ms": median * 1e3, "p90_ms": p90 * 1e3}
        print(f"  {how:<16} {median * 1e3:>8.3f} ms {p90 * 1e3:>8.3f} ms")
    out = target_dir() / "bench-fsync.json"
    out.write_text(json.dumps({"dir": str(args.dir), "filesystem": fs, "rounds": args.rounds, "calls": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
