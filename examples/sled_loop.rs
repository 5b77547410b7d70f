//! The ceiling for bulk inserts on this machine: a plain Rust loop of
//! `sled` inserts into a fresh database, with the same cache size and key
//! shape the kernel's benchmarks use. Prints `{"keys_per_second": …}`.
//!
//! `cargo run --release --example sled_loop -- 1000000`

use std::time::Instant;

fn main() -> sled::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(64 * 1024 * 1024)
        .open()?;
    let began = Instant::now();
    for i in 0..n {
        db.insert(format!("user:{i:08}"), format!("value {i}").as_bytes())?;
    }
    db.flush()?;
    let seconds = began.elapsed().as_secs_f64();
    println!(
        "{{\"keys\": {n}, \"seconds\": {seconds:.3}, \"keys_per_second\": {:.0}}}",
        n as f64 / seconds
    );
    Ok(())
}
