//! The kernel's own round trip, with no Python in the way: a Rust zmq
//! frontend sends `execute_request` for a trivial cell and waits for the
//! `status: idle` that ends it. Prints figures; asserts nothing about speed.
//!
//! Run: `cargo bench --bench roundtrip` (ROUNDTRIPS=N to change the count).

#[path = "../tests/common/mod.rs"]
mod common;

use common::Kernel;
use serde_json::json;
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
    for _ in 0..n {
        let sent = Instant::now();
        let id = kernel.request(&kernel.shell, "execute_request", json!({"code": "get k"}));
        loop {
            let msg = kernel
                .iopub_next(Duration::from_secs(10))
                .expect("iopub traffic");
            if msg.parent_header["msg_id"] == id
                && msg.header.msg_type == "status"
                && msg.content["execution_state"] == "idle"
            {
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
    let out = json!({
        "client": "rust-zmq",
        "count": n,
        "median_us": us(percentile(&times, 0.5)),
        "p99_us": us(percentile(&times, 0.99)),
        "min_us": us(times[0]),
    });
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-roundtrip.json");
    if let Err(e) = std::fs::write(&path, out.to_string()) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
