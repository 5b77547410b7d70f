//! `%%rust` cells through the real kernel binary: evcxr compiling real Rust
//! against the session's sled database on disk, KV cells in between.
//!
//! The first Rust cell of a kernel compiles sled (about a minute), so the
//! scenarios that need a running Rust context share one kernel, in order, in
//! `one_kernel_many_rust_cells`; each step is its own function and prints
//! its name, so a failure says which step broke. The cheap checks that never
//! start the context get kernels of their own.

#![cfg(feature = "rust-cells")]

mod common;

use common::{entries, stdout, types, Kernel};
use serde_json::{json, Value};
use sled_kernel::message::Message;
use std::time::{Duration, Instant};

/// Long enough for the first Rust cell (starting evcxr, compiling sled) on
/// a loaded two-core CI machine.
const FIRST_CELL: Duration = Duration::from_secs(600);
/// Any later Rust cell compiles only itself.
const RUST_CELL: Duration = Duration::from_secs(120);

/// IOPub messages of one request, busy to idle, and its reply.
struct Run {
    reply: Message,
    iopub: Vec<Message>,
}

impl Run {
    fn status(&self) -> &str {
        self.reply.content["status"].as_str().unwrap_or("")
    }

    fn stdout(&self) -> String {
        stdout(&self.iopub)
    }

    fn stderr(&self) -> String {
        self.iopub
            .iter()
            .filter(|m| m.header.msg_type == "stream" && m.content["name"] == "stderr")
            .map(|m| m.content["text"].as_str().unwrap().to_string())
            .collect()
    }

    /// The execute_result's data, if there was one.
    fn result(&self) -> Option<&Value> {
        self.iopub
            .iter()
            .find(|m| m.header.msg_type == "execute_result")
            .map(|m| &m.content["data"])
    }

    fn plain(&self) -> &str {
        self.result()
            .and_then(|d| d["text/plain"].as_str())
            .unwrap_or_else(|| panic!("no text/plain result; iopub: {:?}", self.describe()))
    }

    /// The error message on IOPub; it must match the reply's.
    fn error(&self) -> &Value {
        let error = self
            .iopub
            .iter()
            .find(|m| m.header.msg_type == "error")
            .map(|m| &m.content)
            .unwrap_or_else(|| panic!("no error message; iopub: {:?}", self.describe()));
        assert_eq!(self.status(), "error");
        assert_eq!(error["ename"], self.reply.content["ename"]);
        assert_eq!(error["traceback"], self.reply.content["traceback"]);
        error
    }

    fn traceback(&self) -> String {
        self.error()["traceback"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn describe(&self) -> Vec<String> {
        self.iopub
            .iter()
            .map(|m| format!("{} {}", m.header.msg_type, m.content))
            .collect()
    }

    /// Asserts the cell succeeded, showing everything it said if not.
    fn ok(self) -> Self {
        assert_eq!(
            self.status(),
            "ok",
            "cell failed: {}\n{:?}",
            self.reply.content,
            self.describe()
        );
        self
    }
}

/// Sends a cell. `stop_on_error: false` because several steps fail on
/// purpose, and a request that arrives just as the kernel aborts the queue
/// after such a failure would be answered `aborted`.
fn send(kernel: &Kernel, code: &str) -> String {
    kernel.request(
        &kernel.shell,
        "execute_request",
        json!({ "code": code, "stop_on_error": false }),
    )
}

/// Collects the IOPub messages of `id` until its idle, then its reply.
fn collect(kernel: &Kernel, id: &str, timeout: Duration) -> Run {
    let iopub = kernel.iopub_until_idle_within(id, timeout);
    // The reply leaves before idle, so it is already here.
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.parent_header["msg_id"], id);
    Run { reply, iopub }
}

fn run(kernel: &Kernel, code: &str, timeout: Duration) -> Run {
    let id = send(kernel, code);
    collect(kernel, &id, timeout)
}

/// A KV cell (the other side of the hand-off).
fn kv(kernel: &Kernel, code: &str) -> Run {
    run(kernel, code, Duration::from_secs(30))
}

fn rust(kernel: &Kernel, code: &str) -> Run {
    run(kernel, &format!("%%rust\n{code}"), RUST_CELL)
}

fn step(name: &str) {
    eprintln!("--- step: {name}");
}

#[test]
fn one_kernel_many_rust_cells() {
    let began = Instant::now();
    let mut kernel = Kernel::start();
    before_the_context_starts(&kernel);
    kv_writes_and_the_first_rust_cell_reads(&kernel);
    eprintln!("first Rust cell done after {:?}", began.elapsed());
    values_rich_output_and_streams(&kernel);
    a_compile_error_names_the_cell_line(&kernel);
    a_rust_handle_locks_kv_cells_until_dropped(&kernel);
    reset_releases_the_database_and_keeps_sled(&kernel);
    interrupt_stops_a_loop_and_spares_the_kv_session(&kernel);
    completion_and_inspection_come_from_evcxr(&kernel);
    deps_and_refused_commands(&kernel);
    shutdown_removes_the_build_directory(&mut kernel);
    eprintln!("all Rust cell steps took {:?}", began.elapsed());
}

fn before_the_context_starts(kernel: &Kernel) {
    step("deps and reset before the Rust context starts");
    let deps = kv(kernel, "%rust deps").ok();
    assert_eq!(deps.plain(), "sled = \"0.34.7\"");
    assert!(
        deps.stdout().contains("first %%rust cell"),
        "{}",
        deps.stdout()
    );
    let reset = kv(kernel, "%rust reset").ok();
    assert_eq!(
        reset.stdout(),
        "the Rust context has not started yet: nothing to reset\n"
    );
}

fn kv_writes_and_the_first_rust_cell_reads(kernel: &Kernel) {
    step("a KV insert, read by the first Rust cell, which writes back");
    kv(kernel, "insert from_kv hello").ok();
    let first = run(
        kernel,
        r#"%%rust
fn trade_notes() -> sled::Result<()> {
    let db = sled::open(DB_PATH)?;
    match db.get("from_kv")? {
        Some(v) => println!("rust sees from_kv = {:?}", String::from_utf8_lossy(&v)),
        None => println!("rust sees no from_kv"),
    }
    db.insert("from_rust", "written by rust")?;
    db.flush()?;
    Ok(())
}
trade_notes()"#,
        FIRST_CELL,
    )
    .ok();
    assert!(
        first
            .stderr()
            .starts_with("starting the Rust context (first cell compiles sled, ~1 min)"),
        "no status line: {:?}",
        first.stderr()
    );
    assert_eq!(first.stdout(), "rust sees from_kv = \"hello\"\n");
    assert_eq!(first.plain(), "Ok(())");

    step("a KV cell reads what Rust wrote");
    let get = kv(kernel, "get from_rust").ok();
    assert_eq!(get.plain(), "get from_rust -> \"written by rust\"");

    step("the second Rust cell does not start anything again");
    let again = rust(kernel, "DB_PATH.is_empty()").ok();
    assert_eq!(again.plain(), "false");
    assert_eq!(again.stderr(), "");
}

fn values_rich_output_and_streams(kernel: &Kernel) {
    step("trailing value and EVCXR_BEGIN_CONTENT become one bundle");
    let cell = rust(
        kernel,
        r#"println!("EVCXR_BEGIN_CONTENT text/html\n<b>drawer</b>\nEVCXR_END_CONTENT");
eprintln!("a warning");
let answer = 6 * 7;
answer"#,
    )
    .ok();
    let data = cell.result().expect("an execute_result");
    assert_eq!(data["text/plain"], "42");
    assert_eq!(data["text/html"], "<b>drawer</b>");
    assert_eq!(cell.stdout(), "");
    assert_eq!(cell.stderr(), "a warning\n");
    assert!(types(&cell.iopub).contains(&"execute_input"));

    step("a unit value is no result");
    let cell = rust(kernel, "for i in 0..2 { println!(\"{i}\") }").ok();
    assert_eq!(cell.stdout(), "0\n1\n");
    assert!(cell.result().is_none(), "{:?}", cell.describe());

    step("variables persist between Rust cells");
    assert_eq!(rust(kernel, "answer + 1").ok().plain(), "43");

    step("output streams while the cell is still running");
    // The cell prints, then waits for a file that the test makes only once
    // that first line has arrived.
    let go = kernel.tmp.path().join("go");
    let id = send(
        kernel,
        &format!(
            "%%rust\nprintln!(\"before the nap\");\nwhile !std::path::Path::new({go:?}).exists() {{ std::thread::sleep(std::time::Duration::from_millis(10)); }}\nprintln!(\"after the nap\");"
        ),
    );
    let early = kernel.await_iopub(&id, |m| {
        m.header.msg_type == "stream" && m.content["name"] == "stdout"
    });
    assert_eq!(
        early.last().unwrap().content["text"],
        "before the nap\n",
        "the first stream message should hold only the first line"
    );
    std::fs::write(&go, "").unwrap();
    let rest = collect(kernel, &id, RUST_CELL).ok();
    assert_eq!(rest.stdout(), "after the nap\n");
}

fn a_compile_error_names_the_cell_line(kernel: &Kernel) {
    step("a compile error reports the compiler's message at the cell's line");
    let cell = rust(kernel, "let fine = 1;\nlet answer: u32 = \"forty-two\";");
    assert_eq!(cell.status(), "error");
    let error = cell.error();
    assert_eq!(error["ename"], "CompileError");
    let evalue = error["evalue"].as_str().unwrap();
    assert!(evalue.contains("mismatched types"), "{evalue}");
    // Line 1 is %%rust, so the bad line is the cell's line 3.
    assert!(evalue.contains("cell line 3"), "{evalue}");
    let traceback = cell.traceback();
    assert!(
        traceback.contains("error[E0308]: mismatched types"),
        "{traceback}"
    );
    assert!(traceback.contains("--> cell line 3, column"), "{traceback}");
    assert!(
        traceback.contains("3 | let answer: u32 = \"forty-two\";"),
        "{traceback}"
    );
    let caret_line = traceback
        .lines()
        .find(|l| l.contains('^'))
        .unwrap_or_else(|| panic!("no caret line in {traceback}"));
    let caret_at = caret_line.find('^').unwrap();
    let source_line = traceback.lines().find(|l| l.starts_with("3 | ")).unwrap();
    assert_eq!(
        &source_line[caret_at..caret_at + 11],
        "\"forty-two\"",
        "the caret should sit under the string:\n{traceback}"
    );
    assert_eq!(
        types(&cell.iopub),
        ["status", "execute_input", "error", "status"]
    );

    step("a failed cell changes nothing");
    assert_eq!(rust(kernel, "answer").ok().plain(), "42");

    step("a panic is an error with its message, earlier variables kept");
    let cell = rust(kernel, "let fresh = 1;\npanic!(\"the drawer is stuck\");");
    let error = cell.error();
    assert_eq!(error["ename"], "Panic");
    assert_eq!(error["evalue"], "the drawer is stuck");
    assert!(
        cell.stderr().contains("the drawer is stuck"),
        "{}",
        cell.stderr()
    );
    assert!(
        !cell.stderr().contains("stack backtrace"),
        "evcxr's backtrace should stay out of the cell: {}",
        cell.stderr()
    );
    assert_eq!(rust(kernel, "answer").ok().plain(), "42");
}

fn a_rust_handle_locks_kv_cells_until_dropped(kernel: &Kernel) {
    step("a sled handle kept in a Rust variable locks the KV side out");
    kv(kernel, "insert kv_state survives").ok();
    rust(
        kernel,
        "let db = sled::open(DB_PATH)?;\ndb.insert(\"held\", \"by rust\")?;\ndb.flush()?;",
    )
    .ok();
    let locked = kv(kernel, "get held");
    assert_eq!(locked.error()["ename"], "DatabaseLocked");
    let text = locked.traceback();
    assert!(text.contains("Rust cells"), "{text}");
    assert!(text.contains("drop(db)"), "{text}");
    assert!(text.contains("%rust reset"), "{text}");

    step("drop(db) in a Rust cell hands it back, KV state intact");
    rust(kernel, "drop(db);").ok();
    assert_eq!(
        kv(kernel, "get held").ok().plain(),
        "get held -> \"by rust\""
    );
    assert_eq!(
        kv(kernel, "get kv_state").ok().plain(),
        "get kv_state -> \"survives\""
    );
}

fn reset_releases_the_database_and_keeps_sled(kernel: &Kernel) {
    step("%rust reset releases a held database");
    rust(kernel, "let held_again = sled::open(DB_PATH)?;").ok();
    assert_eq!(kv(kernel, "get held").error()["ename"], "DatabaseLocked");
    let reset = kv(kernel, "%rust reset").ok();
    assert!(
        reset.stdout().starts_with("Rust context reset"),
        "{}",
        reset.stdout()
    );
    assert_eq!(
        kv(kernel, "get held").ok().plain(),
        "get held -> \"by rust\""
    );

    step("after a reset: variables gone, sled and DB_PATH still there");
    let gone = rust(kernel, "answer");
    assert_eq!(gone.error()["ename"], "CompileError");
    let cell = rust(
        kernel,
        "let db = sled::open(DB_PATH).unwrap();\nlet n = db.len();\ndrop(db);\nn > 0",
    )
    .ok();
    assert_eq!(cell.plain(), "true");
}

fn interrupt_stops_a_loop_and_spares_the_kv_session(kernel: &Kernel) {
    step("interrupting a running Rust loop");
    rust(kernel, "let doomed = 7;").ok();
    let id = send(
        kernel,
        "%%rust\nprintln!(\"looping\");\nloop { std::thread::sleep(std::time::Duration::from_millis(5)); }",
    );
    // Wait until it runs (not compiles): its first line arrives.
    let deadline = Instant::now() + RUST_CELL;
    let mut seen = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "the loop never printed: {seen:?}"
        );
        let Some(msg) = kernel.iopub_next(Duration::from_millis(100)) else {
            continue;
        };
        if msg.parent_header["msg_id"] == id && msg.header.msg_type == "stream" {
            assert_eq!(msg.content["text"], "looping\n");
            break;
        }
        seen.push(msg.header.msg_type);
    }
    let asked = Instant::now();
    kernel.interrupt();
    let cell = collect(kernel, &id, Duration::from_secs(30));
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "the interrupt took {:?}",
        asked.elapsed()
    );
    let error = cell.error();
    assert_eq!(error["ename"], "Interrupted");
    assert!(
        error["evalue"]
            .as_str()
            .unwrap()
            .contains("variables were lost"),
        "{error}"
    );

    step("after the interrupt: KV session intact, Rust runs again, variables gone");
    assert_eq!(
        kv(kernel, "get kv_state").ok().plain(),
        "get kv_state -> \"survives\""
    );
    assert_eq!(rust(kernel, "1 + 1").ok().plain(), "2");
    let lost = rust(kernel, "doomed");
    assert_eq!(lost.error()["ename"], "CompileError");
}

fn completion_and_inspection_come_from_evcxr(kernel: &Kernel) {
    step("completion in a %%rust cell");
    let code = "%%rust\nlet v: Vec<u8> = Vec::new();\nv.is_em";
    let cursor = code.chars().count();
    kernel.request(
        &kernel.shell,
        "complete_request",
        json!({"code": code, "cursor_pos": cursor}),
    );
    let reply = kernel
        .recv_on(&kernel.shell, RUST_CELL)
        .expect("a complete_reply");
    assert_eq!(reply.content["status"], "ok");
    let matches: Vec<&str> = reply.content["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        matches.iter().any(|m| m.starts_with("is_empty")),
        "{matches:?}"
    );
    assert_eq!(reply.content["cursor_start"], cursor - "is_em".len());
    assert_eq!(reply.content["cursor_end"], cursor);

    step("inspection in a %%rust cell");
    let code = "%%rust\nsled::open";
    kernel.request(
        &kernel.shell,
        "inspect_request",
        json!({"code": code, "cursor_pos": code.len(), "detail_level": 0}),
    );
    let reply = kernel
        .recv_on(&kernel.shell, RUST_CELL)
        .expect("an inspect_reply");
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(reply.content["found"], true, "{}", reply.content);
    let text = reply.content["data"]["text/plain"].as_str().unwrap();
    assert!(text.contains("fn open"), "{text}");
}

fn deps_and_refused_commands(kernel: &Kernel) {
    step("%rust deps lists sled once the context runs");
    let deps = kv(kernel, "%rust deps").ok();
    assert!(
        deps.plain().lines().any(|l| l == "sled = \"0.34.7\""),
        "{}",
        deps.plain()
    );
    assert_eq!(deps.stdout(), "");

    step(":quit is refused (it would end the kernel)");
    let quit = rust(kernel, ":quit");
    assert_eq!(quit.error()["ename"], "RustMagicError");
    assert!(quit.traceback().contains("cell line 2"));
    assert_eq!(rust(kernel, "2 + 2").ok().plain(), "4");
}

fn shutdown_removes_the_build_directory(kernel: &mut Kernel) {
    step("shutdown stops evcxr and deletes its build directory");
    let tmp = kernel.kernel_tmp();
    assert!(
        !entries(&tmp).is_empty(),
        "evcxr and the session database should live in the kernel's TMPDIR"
    );
    let reply = kernel.shutdown();
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(entries(&tmp), Vec::<String>::new());
}

#[test]
fn magic_mistakes_are_errors_that_say_what_to_write() {
    let kernel = Kernel::start();
    let cell = kv(&kernel, "%rust frobnicate");
    assert_eq!(cell.error()["ename"], "RustMagicError");
    assert!(cell.traceback().contains("%rust reset"));
    assert_eq!(
        types(&cell.iopub),
        ["status", "execute_input", "error", "status"]
    );
    let cell = kv(&kernel, "%rust deps\ninsert a b");
    assert!(cell.traceback().contains("must be alone"));
    // Nothing reached the database: the KV side still works normally.
    assert_eq!(kv(&kernel, "get a").ok().plain(), "get a -> <missing>");
}

#[test]
fn is_complete_and_completion_before_the_context_starts() {
    let kernel = Kernel::start();
    for (code, status) in [
        ("%%rust\nfn f() {", "incomplete"),
        ("%%rust", "incomplete"),
        ("%%rust\nfn f() {}", "complete"),
        ("%%rust\n}", "invalid"),
        ("%rust deps", "complete"),
    ] {
        kernel.request(&kernel.shell, "is_complete_request", json!({"code": code}));
        let reply = kernel.reply(&kernel.shell);
        assert_eq!(reply.content["status"], status, "for {code:?}");
    }
    // Completion never starts the context (that takes a minute): empty, at once.
    let started = Instant::now();
    let code = "%%rust\nsled::op";
    kernel.request(
        &kernel.shell,
        "complete_request",
        json!({"code": code, "cursor_pos": code.len()}),
    );
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(reply.content["matches"], json!([]));
    assert!(started.elapsed() < Duration::from_secs(5));
}
