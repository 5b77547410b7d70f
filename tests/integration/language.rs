//! The cell language as a frontend meets it: the real binary over real zmq
//! sockets. Completion, inspection and is_complete requests; interrupts in
//! the middle of work on a million keys; a database that another kernel
//! process holds; persistent databases across reopen, restart and a crash;
//! the directories of killed kernels.

use crate::common::{connection_file, entries, printed, stdout, Kernel};
use serde_json::{json, Value};
use sled_kernel::message::Message;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The reply content of a request on the shell channel.
fn ask(kernel: &Kernel, msg_type: &str, content: Value) -> Value {
    kernel.request(&kernel.shell, msg_type, content);
    kernel.reply(&kernel.shell).content
}

fn complete(kernel: &Kernel, code: &str, cursor_pos: usize) -> Value {
    ask(
        kernel,
        "complete_request",
        json!({"code": code, "cursor_pos": cursor_pos}),
    )
}

fn is_complete(kernel: &Kernel, code: &str) -> Value {
    ask(kernel, "is_complete_request", json!({"code": code}))
}

/// Runs a cell that must succeed; returns its stdout and result text.
fn ok(kernel: &Kernel, code: &str) -> (String, String) {
    let (reply, iopub) = kernel.execute(code);
    assert_eq!(reply.content["status"], "ok", "{code}: {}", reply.content);
    (stdout(&iopub), result_text(&iopub))
}

fn result_text(iopub: &[Message]) -> String {
    iopub
        .iter()
        .find(|m| m.header.msg_type == "execute_result")
        .and_then(|m| m.content["data"]["text/plain"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Runs a cell that must fail; returns the error reply content.
fn error(kernel: &Kernel, code: &str) -> Value {
    let (reply, _) = kernel.execute(code);
    assert_eq!(reply.content["status"], "error", "{code}");
    reply.content
}

/// Sends a cell that may run long and waits up to `limit` for its reply
/// (IOPub is left alone: `Kernel::execute` skips stale messages later).
fn execute_long(kernel: &Kernel, code: &str, limit: Duration) -> Value {
    let id = kernel.request(&kernel.shell, "execute_request", json!({"code": code}));
    let Some(reply) = kernel.recv_on(&kernel.shell, limit) else {
        // Say whether the kernel is gone (killed, crashed) or still busy,
        // and how busy where `ps` tells.
        let pid = kernel.child.id();
        let state = match sled_kernel::platform::process_alive(pid) {
            Some(false) => "no longer running".to_string(),
            _ => match std::process::Command::new("ps")
                .args(["-o", "stat=,time=", "-p", &pid.to_string()])
                .output()
            {
                Ok(out) if out.status.success() => format!(
                    "still running: {}",
                    String::from_utf8_lossy(&out.stdout).trim()
                ),
                _ => "still running".to_string(),
            },
        };
        panic!("no reply to {code:?} within {limit:?}; the kernel is {state}");
    };
    assert_eq!(reply.parent_header["msg_id"], id);
    reply.content
}

/// Starts `code` after an `echo` line, and sends an `interrupt_request` on
/// control as soon as that line's output arrives: the kernel sends it once
/// the next line is under way (a long loop, after its first thousand steps;
/// a wait; a progress bar). Returns the reply and how long it took to arrive
/// after the interrupt.
fn interrupt_once_running(kernel: &Kernel, code: &str) -> (Value, Duration) {
    let id = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": format!("echo running\n{code}")}),
    );
    kernel.await_iopub(&id, |m| printed(m, "running"));
    let sent = Instant::now();
    kernel.interrupt();
    let reply = kernel.reply(&kernel.shell);
    (reply.content, sent.elapsed())
}

#[test]
fn completion_counts_code_points_and_completes_quoted_keys_trees_and_magics() {
    let kernel = Kernel::start();
    ok(
        &kernel,
        "insert café:1 x\ninsert café:2 y\ninsert \"tea time\" z\ninsert todo:001 w\nopen_tree users\nopen_tree __sled__default",
    );
    // Multibyte text before the cursor: positions are code points.
    let code = "echo 😀 héllo wörld\nget caf";
    let cursor = code.chars().count();
    let c = complete(&kernel, code, cursor);
    assert_eq!(c["status"], "ok");
    assert_eq!(c["matches"], json!(["café:1", "café:2"]));
    assert_eq!(c["cursor_start"], json!(cursor - 3));
    assert_eq!(c["cursor_end"], json!(cursor));
    // The cursor in the middle of a word that holds multibyte characters.
    let c = complete(&kernel, "get café:", 8);
    assert_eq!(c["matches"], json!(["café:1", "café:2"]));
    assert_eq!(
        (c["cursor_start"].clone(), c["cursor_end"].clone()),
        (json!(4), json!(9))
    );
    // Quoted keys: the completion continues inside the quote and closes it.
    let c = complete(&kernel, "remove \"te", 10);
    assert_eq!(c["matches"], json!(["tea time\""]));
    assert_eq!(c["cursor_start"], 8);
    let c = complete(&kernel, "get t", 5);
    assert_eq!(c["matches"], json!(["\"tea time\"", "todo:001"]));
    // Trees after open_tree, magics at a line start, options after a read.
    let c = complete(&kernel, "use ", 4);
    assert_eq!(c["matches"], json!(["__sled__default", "users"]));
    let c = complete(&kernel, "get a\n%re", 9);
    assert_eq!(c["matches"], json!(["%reopen", "%reset"]));
    let c = complete(&kernel, "scan_prefix café: r", 19);
    assert_eq!(c["matches"], json!(["rev"]));
}

#[test]
fn inspection_shows_help_on_commands_and_values_on_keys() {
    let kernel = Kernel::start();
    ok(&kernel, "use users\ninsert alice \"admin, owner\"");
    let r = ask(
        &kernel,
        "inspect_request",
        json!({"code": "scan_prefix todo:", "cursor_pos": 3, "detail_level": 0}),
    );
    assert_eq!(r["found"], true);
    let plain = r["data"]["text/plain"].as_str().unwrap();
    assert!(
        plain.starts_with("scan_prefix PREFIX [limit N] [rev]\n"),
        "{plain}"
    );
    assert!(plain.contains("in Rust: sled::Tree::scan_prefix"));
    assert!(r["data"]["text/markdown"]
        .as_str()
        .unwrap()
        .contains("**`scan_prefix PREFIX [limit N] [rev]`**"));

    let r = ask(
        &kernel,
        "inspect_request",
        json!({"code": "echo ünïcode\nget alice", "cursor_pos": 19, "detail_level": 0}),
    );
    assert_eq!(r["found"], true);
    assert_eq!(
        r["data"]["text/plain"],
        "key alice (5 bytes) in tree users\nvalue \"admin, owner\" (12 bytes)"
    );
    let r = ask(
        &kernel,
        "inspect_request",
        json!({"code": "get alice   ", "cursor_pos": 11, "detail_level": 0}),
    );
    assert_eq!(r["found"], false);
}

#[test]
fn is_complete_waits_for_quotes_and_blocks_and_rejects_unknown_commands() {
    let kernel = Kernel::start();
    let r = is_complete(&kernel, "insert a \"open");
    assert_eq!(r, json!({"status": "incomplete", "indent": ""}));
    let r = is_complete(&kernel, "batch\n  insert a 1");
    assert_eq!(r, json!({"status": "incomplete", "indent": "  "}));
    let r = is_complete(&kernel, "transaction");
    assert_eq!(r, json!({"status": "incomplete", "indent": "  "}));
    let r = is_complete(&kernel, "batch\n  insert a 1\nend");
    assert_eq!(r, json!({"status": "complete"}));
    let r = is_complete(&kernel, "get a # don't mind the quote");
    assert_eq!(r, json!({"status": "complete"}));
    let r = is_complete(&kernel, "gte a");
    assert_eq!(r, json!({"status": "invalid"}));
}

/// Writes `n` pairs `k0000000` … as JSON lines.
fn write_keys(path: &Path, n: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(out, "{{\"key\":\"k{i:07}\",\"value\":\"value {i}\"}}").unwrap();
    }
    out.flush().unwrap();
}

const MILLION: usize = 1_000_000;
/// Loading a million keys takes tens of seconds in a debug build.
const LOAD_LIMIT: Duration = Duration::from_secs(600);

#[test]
fn interrupts_stop_work_on_a_million_keys_mid_way_and_the_kernel_goes_on() {
    let kernel = Kernel::start();
    let file = kernel.tmp.path().join("million.jsonl");
    write_keys(&file, MILLION);
    let started = Instant::now();
    let reply = execute_long(&kernel, &format!("%load {}", file.display()), LOAD_LIMIT);
    assert_eq!(reply["status"], "ok", "{reply}");
    eprintln!("%load of {MILLION} keys: {:?}", started.elapsed());

    // Each of these walks all (or most) of the keys; an interrupt once it
    // is under way must stop it while it runs, within a moment.
    for (code, name) in [
        ("scan_prefix k", "scan_prefix"),
        ("iter", "iter"),
        ("keys rev", "keys"),
        ("range k0000010..", "range"),
        ("len", "len"),
        ("checksum", "checksum"),
        ("%info", "%info"),
    ] {
        let (reply, took) = interrupt_once_running(&kernel, code);
        assert_eq!(reply["status"], "error", "{code}: {reply}");
        assert_eq!(reply["ename"], "Interrupted", "{code}");
        assert_eq!(
            reply["evalue"],
            format!("Interrupted while `{name}` ran; the lines above it were applied."),
            "{code}"
        );
        eprintln!("{code}: stopped {took:?} after the interrupt");
    }

    // The database is whole and the kernel answers.
    let (_, result) = ok(&kernel, "get k0999999");
    assert_eq!(result, "get k0999999 -> \"value 999999\"");
    let (_, result) = ok(&kernel, "last");
    assert_eq!(result, "last -> k0999999 = \"value 999999\"");
    let (_, result) = ok(&kernel, "scan_prefix k000000 limit 3");
    assert_eq!(
        result,
        "scan prefix \"k000000\" (limit 3):\n  k0000000 = \"value 0\"\n  k0000001 = \"value 1\"\n  k0000002 = \"value 2\""
    );
    // Uninterrupted, the default %limit shows 100 rows and counts the rest.
    let started = Instant::now();
    let reply = execute_long(&kernel, "scan_prefix k0", LOAD_LIMIT);
    assert_eq!(reply["status"], "ok");
    eprintln!(
        "scan_prefix over {MILLION} keys (100 shown): {:?}",
        started.elapsed()
    );
    let (_, result) = ok(&kernel, "scan_prefix k00000");
    assert!(
        result.ends_with("  … 0 more") || result.ends_with("= \"value 99\""),
        "{result}"
    );
}

#[test]
fn an_interrupted_load_of_a_million_keys_stops_at_a_whole_chunk() {
    let kernel = Kernel::start();
    let file = kernel.tmp.path().join("million.jsonl");
    write_keys(&file, MILLION);
    // Interrupted once its progress bar shows: every line has been checked
    // and the inserting has begun.
    let id = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({"code": format!("%load {}", file.display())}),
    );
    kernel.await_iopub(&id, |m| {
        m.header.msg_type == "display_data"
            && m.content["transient"]["display_id"]
                .as_str()
                .is_some_and(|id| id.contains("progress"))
    });
    let sent = Instant::now();
    kernel.interrupt();
    let reply = kernel.reply(&kernel.shell).content;
    let took = sent.elapsed();
    assert_eq!(reply["ename"], "Interrupted", "{reply}");
    eprintln!("%load stopped {took:?} after the interrupt");
    let evalue = reply["evalue"].as_str().unwrap().to_string();
    let reply = execute_long(&kernel, "len", LOAD_LIMIT);
    assert_eq!(reply["status"], "ok");
    let (_, result) = ok(&kernel, "get_lt k9");
    let loaded = if result == "get_lt k9 -> <none>" {
        0
    } else {
        let last: usize = result["get_lt k9 -> k".len()..][..7].parse().unwrap();
        last + 1
    };
    assert_eq!(loaded % 10_000, 0, "whole chunks: {loaded} ({evalue})");
    if loaded == 0 {
        assert!(evalue.contains("nothing was loaded"), "{evalue}");
    } else {
        assert!(
            evalue.contains(&format!("stopped after the first {loaded} of 1000000 rows")),
            "{loaded}: {evalue}"
        );
    }
    eprintln!("interrupted %load: {evalue}");
}

#[test]
fn a_database_held_by_another_kernel_process_is_locked_and_the_session_goes_on() {
    let place = tempfile::tempdir().unwrap();
    let path = place.path().join("shared-db");
    let mut holder = Kernel::start();
    let (out, _) = ok(
        &holder,
        &format!("%open {}\ninsert from holder", path.display()),
    );
    assert!(out.starts_with("opened persistent database"), "{out}");

    let kernel = Kernel::start();
    ok(&kernel, "insert mine 1");
    let e = error(&kernel, &format!("%open {}", path.display()));
    assert_eq!(e["ename"], "DatabaseLocked");
    let evalue = e["evalue"].as_str().unwrap();
    assert!(
        evalue.starts_with(&format!(
            "The database at {} is locked by another process",
            path.display()
        )),
        "{evalue}"
    );
    if cfg!(target_os = "linux") {
        let pid = holder.child.id();
        assert!(
            evalue.contains(&format!("(pid {pid}, sled-kernel)")),
            "names the holder, pid {pid}: {evalue}"
        );
    }
    assert!(evalue.ends_with("The session keeps using its current database."));
    let (_, result) = ok(&kernel, "get mine");
    assert_eq!(result, "get mine -> \"1\"");

    // Once the other kernel is gone, the same %open works and sees its data.
    holder.shutdown();
    let (out, result) = ok(&kernel, &format!("%open {}\nget from", path.display()));
    assert!(out.contains("(recovered from its files)"), "{out}");
    assert_eq!(result, "get from -> \"holder\"");
}

#[test]
fn a_persistent_database_survives_reopen_a_restart_and_a_crash() {
    let place = tempfile::tempdir().unwrap();
    let path = place.path().join("todo-db");
    let mut first = Kernel::start();
    ok(&first, &format!("%open {}", path.display()));
    let (out, result) = ok(
        &first,
        "insert todo:001 boots\nuse notes\ninsert n1 hi\n%reopen\nget n1",
    );
    assert!(
        out.ends_with(
            "reopened the persistent database: was_recovered = true, 1 key in tree notes\n"
        ),
        "{out}"
    );
    assert_eq!(result, "[notes] get n1 -> \"hi\"");
    first.shutdown();
    assert!(path.join("db").exists(), "never deleted");

    // A new kernel finds it; a write there survives kill -9 once sled's
    // background flusher has run (no `flush` in the cell).
    let mut second = Kernel::start();
    let (_, result) = ok(&second, &format!("%open {}\nget todo:001", path.display()));
    assert_eq!(result, "get todo:001 -> \"boots\"");
    ok(&second, "insert crash:test survived");
    // sled's flusher writes it to the file within its 500 ms period; the
    // value's bytes in the file are the sign that it has.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read(path.join("db"))
        .unwrap_or_default()
        .windows(b"survived".len())
        .any(|w| w == b"survived")
    {
        assert!(Instant::now() < deadline, "never written to disk");
        std::thread::sleep(Duration::from_millis(20));
    }
    second.kill();
    second.wait_exit(Duration::from_secs(10));

    let third = Kernel::start();
    let (_, result) = ok(&third, &format!("%open {}\nget crash:test", path.display()));
    assert_eq!(result, "get crash:test -> \"survived\"");
}

/// Starts the kernel binary with `tmpdir` as its TMPDIR and no frontend.
fn bare_kernel(tmpdir: &Path, files: &Path) -> std::process::Child {
    let (file, _) = connection_file(files, |_| {});
    Command::new(env!("CARGO_BIN_EXE_sled-kernel"))
        .args(["kernel", "--connection-file"])
        .arg(&file)
        .env("TMPDIR", tmpdir)
        .env("JUPYTER_DATA_DIR", files.join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn session_dirs(tmpdir: &Path) -> Vec<PathBuf> {
    entries(tmpdir)
        .into_iter()
        .filter(|name| name.starts_with("sled-kernel-"))
        .map(|name| tmpdir.join(name))
        .collect()
}

#[test]
fn the_next_kernel_sweeps_away_the_directory_of_a_killed_one() {
    let mut killed = Kernel::start();
    ok(&killed, "insert a 1\nflush");
    let tmpdir = killed.kernel_tmp();
    let left = session_dirs(&tmpdir);
    assert_eq!(left.len(), 1);
    let pid = std::fs::read_to_string(left[0].join("owner.pid")).unwrap();
    assert_eq!(pid.trim(), killed.child.id().to_string());
    killed.kill();
    killed.wait_exit(Duration::from_secs(10));
    assert!(left[0].exists(), "a killed kernel cannot clean up");
    let unmarked = tmpdir.join("sled-kernel-not-ours");
    std::fs::create_dir(&unmarked).unwrap();

    let files = tempfile::tempdir().unwrap();
    let mut next = bare_kernel(&tmpdir, files.path());
    let deadline = Instant::now() + Duration::from_secs(20);
    while left[0].exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = next.kill();
    let _ = next.wait();
    if cfg!(target_os = "linux") {
        assert!(!left[0].exists(), "swept by the next kernel");
    }
    assert!(
        unmarked.exists(),
        "a directory without owner.pid is never touched"
    );
}

#[test]
fn a_hundred_thousand_rows_come_back_quickly_with_the_default_limit_and_all_of_them() {
    let kernel = Kernel::start();
    let file = kernel.tmp.path().join("rows.jsonl");
    write_keys(&file, 100_000);
    let reply = execute_long(&kernel, &format!("%load {}", file.display()), LOAD_LIMIT);
    assert_eq!(reply["status"], "ok", "{reply}");

    let started = Instant::now();
    let (reply, iopub) = kernel.execute_within("scan_prefix k", LOAD_LIMIT);
    let default_limit = started.elapsed();
    assert_eq!(reply["status"], "ok");
    let text = result_text(&iopub);
    assert_eq!(text.lines().count(), 102, "header, 100 rows, the summary");
    assert!(
        text.ends_with("\n  … 99900 more"),
        "{}",
        &text[text.len() - 40..]
    );

    ok(&kernel, "%limit 100000");
    let started = Instant::now();
    let (reply, iopub) = kernel.execute_within("scan_prefix k", LOAD_LIMIT);
    let all = started.elapsed();
    assert_eq!(reply["status"], "ok");
    let result = iopub
        .iter()
        .find(|m| m.header.msg_type == "execute_result")
        .expect("the rows are the result");
    let data = &result.content["data"];
    assert_eq!(
        data["application/vnd.sled-kv+json"]
            .as_array()
            .map(Vec::len),
        Some(100_000)
    );
    let html = data["text/html"].as_str().unwrap();
    let plain = data["text/plain"].as_str().unwrap();
    assert_eq!(plain.lines().count(), 100_001);
    eprintln!(
        "scan_prefix of 100000 rows: {default_limit:?} showing 100; {all:?} showing all ({} KB text, {} KB html)",
        plain.len() / 1024,
        html.len() / 1024
    );
    assert!(
        html.len() < 100_000 * 100,
        "about 95 bytes a row: {}",
        html.len()
    );
    // Measured alone in release: about 30 ms and 0.5 s; the figures are
    // printed, not bounded (speed belongs to benches/run).
}
