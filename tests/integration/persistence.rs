//! Persistent databases (`%open DIR`) under the faults a laptop produces:
//! the kernel killed outright in the middle of a load, and a second kernel
//! reaching for a directory the first one holds.

use crate::common::{stdout, Kernel};
use serde_json::{json, Value};
use sled_kernel::message::Message;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Generous: the slowest cell here takes a few seconds in a release build.
const CELL_LIMIT: Duration = Duration::from_secs(120);

/// Runs a cell; returns the reply content and the IOPub messages to idle.
fn run(kernel: &Kernel, code: &str) -> (Value, Vec<Message>) {
    kernel.execute_within(code, CELL_LIMIT)
}

fn ok(kernel: &Kernel, code: &str) -> String {
    let (reply, iopub) = run(kernel, code);
    assert_eq!(reply["status"], "ok", "{code}: {reply}");
    stdout(&iopub)
}

fn value(i: usize) -> String {
    format!("value {i} of the load")
}

/// Writes the pairs `k0000000` … for `keys` as JSON lines.
fn write_chunk(path: &Path, keys: std::ops::Range<usize>) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in keys {
        writeln!(out, "{{\"key\":\"k{i:07}\",\"value\":\"{}\"}}", value(i)).unwrap();
    }
    out.flush().unwrap();
}

/// The bytes sled has written under `dir`.
fn bytes_on_disk(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => bytes_on_disk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A million keys in all: three chunks of 250,000 are loaded and flushed
/// (each `flush` reply acknowledges them), then the kernel is killed with
/// SIGKILL while it loads the last 250,000. In a release build on two
/// cores the whole test takes about 15 s.
const CHUNK: usize = 250_000;
const ACKNOWLEDGED_CHUNKS: usize = 3;

#[test]
fn every_flushed_key_survives_a_kill_during_a_million_key_load() {
    let place = tempfile::tempdir().unwrap();
    let db = place.path().join("classroom-db");
    let chunks: Vec<_> = (0..=ACKNOWLEDGED_CHUNKS)
        .map(|c| {
            let file = place.path().join(format!("chunk{c}.jsonl"));
            write_chunk(&file, c * CHUNK..(c + 1) * CHUNK);
            file
        })
        .collect();

    let mut kernel = Kernel::start();
    let out = ok(&kernel, &format!("%open {}", db.display()));
    assert!(out.starts_with("opened persistent database"), "{out}");
    for (c, file) in chunks[..ACKNOWLEDGED_CHUNKS].iter().enumerate() {
        let out = ok(&kernel, &format!("%load {}\nflush", file.display()));
        assert!(
            out.starts_with(&format!("loaded {CHUNK} rows from")),
            "chunk {c}: {out}"
        );
        assert!(out.contains("\nflushed "), "chunk {c}: {out}");
    }

    // The last load: kill the kernel once sled has started writing its
    // rows to disk, before the cell can answer.
    let before = bytes_on_disk(&db);
    let load = format!("%load {}\nflush", chunks[ACKNOWLEDGED_CHUNKS].display());
    kernel.request(&kernel.shell, "execute_request", json!({ "code": load }));
    let deadline = Instant::now() + CELL_LIMIT;
    while bytes_on_disk(&db) < before + 1024 * 1024 {
        assert!(Instant::now() < deadline, "the last load never wrote");
        assert!(
            kernel
                .recv_on(&kernel.shell, Duration::from_millis(5))
                .is_none(),
            "the last load finished before it could be killed; make CHUNK larger"
        );
    }
    kernel.kill();
    kernel.wait_exit(Duration::from_secs(10));
    let grown = bytes_on_disk(&db) - before;

    // A new kernel opens the same directory and dumps what is there.
    let kernel = Kernel::start();
    let out = ok(&kernel, &format!("%open {}", db.display()));
    assert!(out.contains("(recovered from its files)"), "{out}");
    let dump = place.path().join("after-the-crash.jsonl");
    let out = ok(&kernel, &format!("%dump {}", dump.display()));
    assert!(out.starts_with("dumped "), "{out}");
    let mut found: HashMap<String, String> = HashMap::new();
    for line in std::io::BufReader::new(std::fs::File::open(&dump).unwrap()).lines() {
        let row: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let text = |field: &str| row[field].as_str().unwrap().to_string();
        found.insert(text("key"), text("value"));
    }
    for i in 0..ACKNOWLEDGED_CHUNKS * CHUNK {
        let key = format!("k{i:07}");
        match found.get(&key) {
            Some(v) => assert_eq!(*v, value(i), "{key} has another value"),
            None => panic!("{key} was acknowledged by a flush and is gone"),
        }
    }
    // What the killed load had written may or may not be there, but
    // never as anything other than what was loaded.
    let acknowledged = ACKNOWLEDGED_CHUNKS * CHUNK;
    let mut partial = 0;
    for (key, v) in &found {
        let i: usize = key
            .strip_prefix('k')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a key nobody loaded: {key}"));
        assert_eq!(*v, value(i), "{key}");
        partial += usize::from(i >= acknowledged);
    }
    assert_eq!(found.len(), acknowledged + partial);
    eprintln!(
        "killed after the last load wrote {grown} bytes: {acknowledged} acknowledged keys all \
         there, {partial} of the last {CHUNK} too"
    );
}

#[test]
fn a_second_kernel_opening_a_held_database_is_told_why_and_how_and_goes_on() {
    let place = tempfile::tempdir().unwrap();
    let db = place.path().join("shared");
    let mut holder = Kernel::start();
    ok(
        &holder,
        &format!("%open {}\ninsert owner first", db.display()),
    );

    let second = Kernel::start();
    let code = format!(
        "insert before-open 1\n%open {}\ninsert after-open 2",
        db.display()
    );
    let (reply, iopub) = run(&second, &code);
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["ename"], "DatabaseLocked", "{reply}");
    let evalue = reply["evalue"].as_str().unwrap();
    // The problem: which database, who holds it, and that sled allows one
    // process; what happened: the session is unchanged.
    assert!(
        evalue.starts_with(&format!("The database at {} is locked by", db.display())),
        "{evalue}"
    );
    assert!(evalue.contains("another process"), "{evalue}");
    assert!(evalue.contains("one process"), "{evalue}");
    assert!(
        evalue.ends_with("The session keeps using its current database."),
        "{evalue}"
    );
    // The fix, under the caret.
    let error = iopub
        .iter()
        .find(|m| m.header.msg_type == "error")
        .expect("an error message on IOPub");
    let traceback: Vec<&str> = error.content["traceback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        traceback.iter().any(
            |l| l.contains("help: close the database in the other program")
                && l.contains("then run `%open` again")
        ),
        "{traceback:?}"
    );
    assert!(
        traceback.iter().any(|l| l.contains("line 2")),
        "{traceback:?}"
    );
    // The line before ran, the one after did not.
    let out = stdout(&iopub);
    assert!(out.contains("put before-open = \"1\""), "{out}");
    assert!(!out.contains("after-open"), "{out}");

    // The kernel goes on with its own database.
    let out = ok(
        &second,
        "get before-open\nget after-open\nget owner\necho still here",
    );
    assert_eq!(
        out,
        "get before-open -> \"1\"\nget after-open -> <missing>\nget owner -> <missing>\nstill here\n"
    );
    // And once the holder is gone, the same %open works.
    holder.shutdown();
    let out = ok(
        &second,
        &format!("%open {}\nget owner\necho done", db.display()),
    );
    assert!(out.contains("get owner -> \"first\""), "{out}");
}
