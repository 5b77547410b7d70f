//! The kernel's own round trip, with no Python in the way: a Rust zmq
//! frontend sends `execute_request` for a trivial cell and waits for the
//! `status: idle` that ends it. Prints figures; asserts nothing about speed.
//!
//! Run: `cargo bench --bench roundtrip` (ROUNDTRIPS=N to change the count;
//! ROUNDTRIP_JSON=NAME to write `NAME` instead of `bench-roundtrip.json`,
//! in cargo's scratch directory `target/tmp`). `benches/run` runs it a second time under
//! `taskset -c 0`, client and kernel on one CPU: on a virtual machine whose
//! CPUs sleep when idle, most of a round trip can be waking the other CPU.

// The integration tests' frontend; the bench uses a few of its functions.
#[path = "../tests/integration/common.rs"]
#[allow(dead_code, reason = "the rest of the frontend serves the tests")]
mod common;

use common::Kernel;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    let n: usize = std::env::var("ROUNDTRIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let start = Instant::now();
    let kernel = Kernel::start();
    let started = start.elapsed();
    kernel.execute("insert k v");
    let mut times = Vec::with_capacity(n);
    // When each IOPub message of the cell arrived, after the request was sent.
    let mut arrivals: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for _ in 0..n {
        let sent = Instant::now();
        let id = kernel.request(&kernel.shell, "execute_request", json!({"code": "get k"}));
        let mut seen = 0;
        loop {
            let msg = kernel
                .iopub_next(Duration::from_secs(10))
                .expect("iopub traffic");
            if msg.parent_header["msg_id"] != id {
                continue;
            }
            let name = match msg.content["execution_state"].as_str() {
                Some(state) => format!("{seen}: status {state}"),
                None => format!("{seen}: {}", msg.header.msg_type),
            };
            seen += 1;
            arrivals.entry(name).or_default().push(sent.elapsed());
            if msg.header.msg_type == "status" && msg.content["execution_state"] == "idle" {
                break;
            }
        }
        times.push(sent.elapsed());
        kernel.reply(&kernel.shell);
    }
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("sled-kernel, Rust zmq client, {n} x `get k`:");
    println!(
        "  start to first reply (incl. iopub welcome): {:.1} ms",
        started.as_secs_f64() * 1e3
    );
    println!(
        "  round trip median {:.0} µs, p99 {:.0} µs, min {:.0} µs",
        us(percentile(&times, 0.5)),
        us(percentile(&times, 0.99)),
        us(times[0])
    );
    println!("  median arrival after the request was sent, per IOPub message:");
    for (name, mut at) in arrivals {
        at.sort();
        println!("    {name:<24} {:>6.0} µs", us(percentile(&at, 0.5)));
    }
    let out = json!({
        "client": "rust-zmq",
        "count": n,
        "median_us": us(percentile(&times, 0.5)),
        "p99_us": us(percentile(&times, 0.99)),
        "min_us": us(times[0]),
    });
    let name = std::env::var("ROUNDTRIP_JSON").unwrap_or_else(|_| "bench-roundtrip.json".into());
    // Cargo's scratch directory inside its target directory (wherever
    // CARGO_TARGET_DIR puts that), where benches/compare.py reads it.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if let Err(e) = std::fs::write(&path, out.to_string()) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
