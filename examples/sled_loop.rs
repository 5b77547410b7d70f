//! The ceiling for bulk inserts on this machine: a plain Rust loop of
//! `sled` inserts into a fresh database, opened the way the kernel opens its
//! session database (64 MiB page cache, no background flusher) and with the
//! key shape the kernel's benchmarks use (`user:00000042` = `"value 42"`).
//! Like the kernel's `%load`, the timed part ends with the last insert; the
//! final `flush` is timed on its own. For comparison it also applies the
//! same pairs as one `sled::Batch` (what the kernel's `batch … end` does),
//! in a second fresh database.
//!
//! The process's resident set after the insert loop (`rss_mb`, Linux only)
//! is what sled itself holds for N keys with that cache.
//!
//! Prints one line of JSON:
//! `{"keys": N, "keys_per_second": …, "flush_seconds": …, "rss_mb": …, "batch_keys_per_second": …}`
//! (`inserts` as a second argument leaves out the batch).
//!
//! `cargo run --release --example sled_loop -- 1000000 [inserts]`
//!
//! To see how sled's memory follows its cache setting, two variables change
//! the configuration: `SLED_LOOP_CACHE_MB` (default 64) and
//! `SLED_LOOP_FLUSH_MS` (default: no background flusher).

use std::time::Instant;

fn open(dir: &std::path::Path) -> sled::Result<sled::Db> {
    // The kernel's settings unless the variables say otherwise.
    sled::Config::new()
        .path(dir)
        .cache_capacity(
            std::env::var("SLED_LOOP_CACHE_MB")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(64)
                << 20,
        )
        .flush_every_ms(
            std::env::var("SLED_LOOP_FLUSH_MS")
                .ok()
                .and_then(|v| v.parse().ok()),
        )
        .open()
}

/// This process's resident set in MB (`VmRSS`), where /proc has it.
fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0 / 1e6)
}

fn main() -> sled::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let with_batch = std::env::args().nth(2).as_deref() != Some("inserts");

    let dir = tempfile::tempdir()?;
    let db = open(dir.path())?;
    let began = Instant::now();
    for i in 0..n {
        db.insert(format!("user:{i:08}"), format!("value {i}").as_bytes())?;
    }
    let seconds = began.elapsed().as_secs_f64();
    let rss = rss_mb().map_or("null".to_string(), |mb| format!("{mb:.1}"));
    let flushed = Instant::now();
    db.flush()?;
    let flush_seconds = flushed.elapsed().as_secs_f64();
    drop(db);
    drop(dir);
    let mut line = format!(
        "{{\"keys\": {n}, \"seconds\": {seconds:.3}, \"keys_per_second\": {:.0}, \
         \"flush_seconds\": {flush_seconds:.3}, \"rss_mb\": {rss}",
        n as f64 / seconds
    );

    if with_batch {
        let dir = tempfile::tempdir()?;
        let db = open(dir.path())?;
        let began = Instant::now();
        let mut batch = sled::Batch::default();
        for i in 0..n {
            batch.insert(
                format!("user:{i:08}").as_bytes(),
                format!("value {i}").as_bytes(),
            );
        }
        db.apply_batch(batch)?;
        let batch_seconds = began.elapsed().as_secs_f64();
        line.push_str(&format!(
            ", \"batch_seconds\": {batch_seconds:.3}, \"batch_keys_per_second\": {:.0}",
            n as f64 / batch_seconds
        ));
    }
    println!("{line}}}");
    Ok(())
}
