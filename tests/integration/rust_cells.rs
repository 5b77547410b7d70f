//! `%%rust` cells through the real kernel binary: evcxr compiling real Rust
//! against the session's sled database on disk, KV cells in between.
//!
//! Starting a Rust context costs seconds, so the scenarios that need one
//! share one kernel, in order, in `one_kernel_many_rust_cells`; each step is
//! its own function and prints its name, so a failure says which step
//! broke. The cheap checks that never start the context get kernels of
//! their own.
//!
//! Every kernel here has a Rust cache of its own (a temporary
//! XDG_CACHE_HOME or SLED_KERNEL_RUST_CACHE), copied from a template this
//! test binary warms once with `sled-kernel warm` (see [`template`]). The
//! cache tests then check, by what the kernels report, that a kernel's
//! first Rust cell takes its crates from the cache, that kernels compiling
//! at once into one cache do not disturb each other, and that a cache that
//! cannot take more costs one line, never a failed cell.

use crate::common::{entries, stdout, types, Kernel};
use serde_json::{json, Value};
use sled_kernel::message::Message;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Long enough for the first Rust cell (starting evcxr, compiling sled) on
/// a loaded two-core CI machine, in a debug build too: there the kernel's
/// own rust-analyzer runs unoptimised, and a first cell took 290 s with the
/// machine's load at 7. Limits, not targets: the benchmark measures speed.
const FIRST_CELL: Duration = Duration::from_secs(1200);
/// Any later Rust cell compiles only itself, but still waits on that
/// rust-analyzer (a debug build under load went past 120 s).
const RUST_CELL: Duration = Duration::from_secs(600);

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

/// The kernel's line while its first Rust cell starts the context.
const STARTING: &str =
    "starting the Rust context (about a minute the first time, seconds once sled is in the Rust cache)…\n";

/// What `%rust cache` reports, as figures.
fn cache_figures(kernel: &Kernel) -> Value {
    let shown = kv(kernel, "%rust cache").ok();
    shown.result().expect("an execute_result")[sled_kernel::rust_cells::CACHE_MIME].clone()
}

/// The Rust cache a machine's kernels use by default, when it exists.
fn users_cache() -> Option<PathBuf> {
    let dir = match std::env::var_os(sled_kernel::rust_cells::CACHE_DIR_ENV) {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => dirs::cache_dir()?.join("sled-kernel").join("rust-cells"),
    };
    dir.join("crates").is_dir().then_some(dir)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A warm Rust cache for these tests to copy, and what `sled-kernel warm`
/// said while warming it. It lives in `target/tmp` and is kept between
/// runs like build output; an empty one starts as a copy of the user's
/// cache (which `tests/run` warms), so sled is compiled from scratch only
/// when neither has it. The user's cache is only read.
fn template() -> &'static (PathBuf, String) {
    static TEMPLATE: OnceLock<(PathBuf, String)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-cell-cache");
        if !dir.join("crates").is_dir() {
            if let Some(users) = users_cache() {
                for part in ["crates", "Cargo.lock"] {
                    let from = users.join(part);
                    if from.is_dir() {
                        copy_tree(&from, &dir.join(part));
                    } else if from.is_file() {
                        std::fs::create_dir_all(&dir).unwrap();
                        std::fs::copy(&from, dir.join(part)).unwrap();
                    }
                }
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let began = Instant::now();
        let warmed = Command::new(env!("CARGO_BIN_EXE_sled-kernel"))
            .arg("warm")
            .env(sled_kernel::rust_cells::CACHE_DIR_ENV, &dir)
            .env("TMPDIR", tmp.path())
            .output()
            .expect("running sled-kernel warm");
        let said = String::from_utf8_lossy(&warmed.stdout).into_owned();
        assert!(
            warmed.status.success(),
            "sled-kernel warm failed: {said}{}",
            String::from_utf8_lossy(&warmed.stderr)
        );
        eprintln!("warmed the test cache in {:?}: {said}", began.elapsed());
        // The context's build directory went with it.
        assert_eq!(entries(tmp.path()), Vec::<String>::new());
        (dir, said)
    })
}

/// A copy of the warm template at `<returned dir>/sled-kernel/rust-cells`:
/// use the directory as XDG_CACHE_HOME.
fn cache_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    copy_tree(&template().0, &home.path().join("sled-kernel/rust-cells"));
    home
}

/// A kernel whose Rust cache is the default place under `home`.
fn kernel_with_cache_home(home: &Path, more: &[(&str, &OsStr)]) -> Kernel {
    let mut vars: Vec<(&str, &OsStr)> = vec![
        ("XDG_CACHE_HOME", home.as_os_str()),
        // The developer's own settings must not leak in.
        (sled_kernel::rust_cells::CACHE_DIR_ENV, OsStr::new("")),
        (sled_kernel::rust_cells::CACHE_LIMIT_ENV, OsStr::new("")),
    ];
    vars.extend_from_slice(more);
    Kernel::start_with_env(&vars)
}

#[test]
fn one_kernel_many_rust_cells() {
    let home = cache_home();
    let began = Instant::now();
    let mut kernel = kernel_with_cache_home(home.path(), &[]);
    before_the_context_starts(&kernel);
    kv_writes_and_the_first_rust_cell_reads(&kernel);
    eprintln!("first Rust cell done after {:?}", began.elapsed());
    the_first_cell_took_sled_from_the_cache(&kernel, home.path());
    values_rich_output_and_streams(&kernel);
    a_value_compiles_once(&kernel);
    a_compile_error_names_the_cell_line(&kernel);
    a_rust_handle_locks_kv_cells_until_dropped(&kernel);
    reset_releases_the_database_and_keeps_sled(&kernel);
    interrupt_stops_a_loop_and_spares_the_kv_session(&kernel);
    completion_and_inspection_come_from_evcxr(&kernel);
    deps_and_refused_commands(&kernel);
    cells_compile_unoptimised_until_opt(&kernel);
    the_compiler_keeps_its_temporary_files_in_the_build_dir(&kernel);
    rust_stop_ends_the_context(&kernel);
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
    assert_eq!(first.stderr(), STARTING, "one status line and nothing else");
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

fn the_first_cell_took_sled_from_the_cache(kernel: &Kernel, home: &Path) {
    step("the first Rust cell took sled and its crates from the cache");
    let figures = cache_figures(kernel);
    let dir = home.join("sled-kernel/rust-cells");
    assert_eq!(figures["dir"], dir.to_string_lossy().as_ref(), "{figures}");
    assert_eq!(figures["state"], "read-write", "{figures}");
    assert_eq!(figures["kernel"]["compiled"], 0, "{figures}");
    // sled 0.34.7 needs about twenty crates besides itself.
    let from_cache = figures["kernel"]["from_cache"].as_u64().unwrap();
    assert!(from_cache >= 15, "{figures}");
    assert!(
        figures["crates"].as_u64().unwrap() >= from_cache,
        "{figures}"
    );
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

/// How many times this kernel has compiled a cell's own crate.
fn cell_compiles(kernel: &Kernel) -> u64 {
    cache_figures(kernel)["kernel"]["cell_compiles"]
        .as_u64()
        .unwrap()
}

/// Runs a Rust cell and says how many compiles of its crate it took.
fn compiles_of(kernel: &Kernel, code: &str) -> (Run, u64) {
    let before = cell_compiles(kernel);
    let cell = rust(kernel, code);
    (cell, cell_compiles(kernel) - before)
}

fn a_value_compiles_once(kernel: &Kernel) {
    step("a cell ending in a value is compiled once");
    let (cell, compiles) = compiles_of(kernel, "6 * 7");
    assert_eq!(cell.ok().plain(), "42");
    assert_eq!(compiles, 1);
    let (cell, compiles) = compiles_of(kernel, "let listed = vec![1, 2];\nlisted");
    assert_eq!(cell.ok().plain(), "[1, 2]");
    assert_eq!(compiles, 1);
    let (cell, compiles) = compiles_of(kernel, "let mut label = String::from(\"a\");\nlabel");
    assert_eq!(cell.ok().plain(), "\"a\"");
    assert_eq!(compiles, 1);

    step("a value that is not Debug is still an error that says so");
    let cell = rust(kernel, "struct Plain;\nPlain");
    let evalue = cell.error()["evalue"].as_str().unwrap().to_string();
    assert!(evalue.contains("doesn't implement `Debug`"), "{evalue}");

    step(":fmt is honoured: values are shown evcxr's way from then on");
    let cell = rust(kernel, ":fmt {:#?}\nvec![1, 2]").ok();
    assert!(
        cell.plain().ends_with("[\n    1,\n    2,\n]"),
        "{}",
        cell.plain()
    );
    rust(kernel, ":fmt {:?}").ok();
    let (cell, compiles) = compiles_of(kernel, "vec![3]");
    assert_eq!(cell.ok().plain(), "[3]");
    assert_eq!(compiles, 2, "evcxr's own two compiles");

    step("a type's own evcxr_display shows it");
    let cell = rust(
        kernel,
        "struct Badge;\nimpl Badge {\n    fn evcxr_display(&self) {\n        println!(\"EVCXR_BEGIN_CONTENT text/html\\n<i>badge</i>\\nEVCXR_END_CONTENT\");\n    }\n}\nBadge",
    )
    .ok();
    let data = cell.result().expect("an execute_result");
    assert_eq!(data["text/html"], "<i>badge</i>", "{data}");
    assert!(data.get("text/plain").is_none(), "{data}");
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

    step("evcxr's own :cache is refused (it is not safe to share)");
    let cache = rust(kernel, "let x = 1;\n:cache 500");
    assert_eq!(cache.error()["ename"], "RustMagicError");
    assert!(
        cache.traceback().contains("cell line 3"),
        "{}",
        cache.traceback()
    );
    assert!(
        cache.traceback().contains("%rust cache"),
        "{}",
        cache.traceback()
    );
    assert_eq!(rust(kernel, "2 + 2").ok().plain(), "4");
}

/// The Rust context's build directory under the kernel's TMPDIR, while a
/// context runs.
fn build_dir(kernel: &Kernel) -> Option<PathBuf> {
    let dir = kernel
        .kernel_tmp()
        .join(format!("sled-kernel-rust-{}", kernel.child.id()));
    dir.is_dir().then_some(dir)
}

fn cells_compile_unoptimised_until_opt(kernel: &Kernel) {
    step("a cell's own crate is compiled at opt-level 0, until :opt");
    let log = build_dir(kernel)
        .expect("a running context")
        .join("sled-kernel-cache.log");
    let levels = || -> Vec<String> {
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("cell\tctx\t"))
            .map(str::to_string)
            .collect()
    };
    let so_far = levels();
    assert!(!so_far.is_empty());
    assert!(so_far.iter().all(|l| l == "0"), "{so_far:?}");
    let cell = rust(kernel, ":opt 2\n1 + 2").ok();
    assert!(cell.plain().ends_with('3'), "{}", cell.plain());
    let now = levels();
    assert_eq!(now.last().unwrap(), "as cargo asks", "{now:?}");
}

fn the_compiler_keeps_its_temporary_files_in_the_build_dir(kernel: &Kernel) {
    step("rustc and its linker keep temporary files in the build directory");
    // `env!` reads rustc's own environment, as the linker it runs inherits it.
    let tmp = build_dir(kernel).expect("a running context").join("tmp");
    let seen = rust(kernel, "env!(\"TMPDIR\")").ok();
    assert_eq!(seen.plain(), format!("{:?}", tmp.to_str().unwrap()));
    assert!(tmp.is_dir());
}

fn rust_stop_ends_the_context(kernel: &Kernel) {
    step("%rust stop ends the context; the next cell starts a new one");
    rust(kernel, "let before_stop = 1;").ok();
    let stop = kv(kernel, "%rust stop").ok();
    assert!(
        stop.stdout().starts_with("Rust context stopped:"),
        "{}",
        stop.stdout()
    );
    assert_eq!(build_dir(kernel), None, "the build directory went with it");
    assert_eq!(
        kv(kernel, "%rust stop").ok().stdout(),
        "the Rust context is not running: nothing to stop\n"
    );
    assert_eq!(
        kv(kernel, "get kv_state").ok().plain(),
        "get kv_state -> \"survives\""
    );
    let gone = run(kernel, "%%rust\nbefore_stop", FIRST_CELL);
    assert_eq!(gone.error()["ename"], "CompileError");
    assert_eq!(gone.stderr(), STARTING, "a stop on request needs no notice");

    step("a new context's first cell is compiled with sled and DB_PATH, once");
    // The failed cell above was compiled with the setup in front of it:
    // its line numbers still count the cell's own lines.
    let evalue = gone.error()["evalue"].as_str().unwrap().to_string();
    assert!(evalue.contains("(cell line 2)"), "{evalue}");
    assert!(
        gone.traceback().contains("2 | before_stop"),
        "{}",
        gone.traceback()
    );
    // Nothing of it was kept, so the next cell carries the setup again.
    let (four, compiles) = compiles_of(kernel, "let opened = sled::open(DB_PATH).is_ok();\n2 + 2");
    assert_eq!(four.ok().plain(), "4");
    assert_eq!(compiles, 1);
    let (cell, compiles) = compiles_of(kernel, "(opened, DB_PATH.is_empty())");
    assert_eq!(cell.ok().plain(), "(true, false)");
    assert_eq!(compiles, 1);
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

/// The kernel's resident memory in MB (Linux).
#[cfg(target_os = "linux")]
fn resident_mb(kernel: &Kernel) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", kernel.child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap()
        / 1000
}

/// With an idle time set, a context nobody uses is stopped (its build
/// directory goes, and on Linux its memory), and the next Rust cell says in
/// one line what was lost, why and what sets the time.
#[test]
fn an_idle_context_is_stopped_and_the_next_cell_says_so() {
    let home = cache_home();
    // Three seconds.
    let kernel = kernel_with_cache_home(
        home.path(),
        &[("SLED_KERNEL_RUST_IDLE_MINUTES", OsStr::new("0.05"))],
    );
    kv(&kernel, "insert kv_state survives").ok();
    run(
        &kernel,
        "%%rust\nlet kept = 5;\nlet db = sled::open(DB_PATH)?;",
        FIRST_CELL,
    )
    .ok();
    #[cfg(target_os = "linux")]
    let running = resident_mb(&kernel);
    step("the context is stopped once idle");
    let deadline = Instant::now() + RUST_CELL;
    while build_dir(&kernel).is_some() {
        assert!(
            Instant::now() < deadline,
            "the idle context was never stopped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The build directory goes with the context; the memory is given back
    // right after, once the context has been dropped.
    #[cfg(target_os = "linux")]
    {
        let deadline = Instant::now() + RUST_CELL;
        let mut stopped = resident_mb(&kernel);
        while stopped + 100 >= running && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            stopped = resident_mb(&kernel);
        }
        eprintln!("resident memory: {running} MB running, {stopped} MB stopped");
        assert!(
            stopped + 100 < running,
            "{running} MB running, {stopped} MB stopped"
        );
    }
    step("the database the Rust variable held is free again");
    assert_eq!(
        kv(&kernel, "get kv_state").ok().plain(),
        "get kv_state -> \"survives\""
    );
    step("the next Rust cell says what happened, then starts afresh");
    let next = run(&kernel, "%%rust\nkept", FIRST_CELL);
    assert_eq!(next.error()["ename"], "CompileError");
    let said = next.stderr();
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 2, "{said}");
    assert!(
        lines[0].starts_with("the Rust context was stopped after 3 seconds without a Rust cell"),
        "{said}"
    );
    assert!(lines[0].contains("are gone"), "{said}");
    assert!(
        lines[0].contains("SLED_KERNEL_RUST_IDLE_MINUTES in the kernelspec's env"),
        "{said}"
    );
    assert_eq!(format!("{}\n", lines[1]), STARTING);
}

/// A wrong idle time is said once, with the first `%rust` line or cell,
/// and the context is then never stopped for being idle.
#[test]
fn a_wrong_idle_time_is_said_once() {
    let kernel = Kernel::start_with_env(&[("SLED_KERNEL_RUST_IDLE_MINUTES", OsStr::new("soon"))]);
    let first = kv(&kernel, "%rust deps").ok();
    assert_eq!(
        first.stderr(),
        "Rust context: SLED_KERNEL_RUST_IDLE_MINUTES=\"soon\" is not a number of minutes, so the Rust context is never stopped for being idle; set it to a number such as 20 (0: never)\n"
    );
    assert_eq!(kv(&kernel, "%rust deps").ok().stderr(), "");
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

/// A kernel whose PATH has no cargo or rustc: a Rust cell says exactly
/// that (and which PATH it searched), and the KV session goes on.
#[test]
fn without_cargo_on_path_a_rust_cell_says_so() {
    let empty = tempfile::tempdir().unwrap();
    let kernel = Kernel::start_with_env(&[("PATH", empty.path().as_os_str())]);

    let cell = rust(&kernel, "println!(\"hi\");");
    assert_eq!(cell.error()["ename"], "RustToolchainMissing");
    let evalue = cell.error()["evalue"].as_str().unwrap();
    assert!(
        evalue.starts_with("`cargo` and `rustc` are not on PATH"),
        "{evalue}"
    );
    let traceback = cell.traceback();
    assert!(traceback.contains("rustup"), "{traceback}");
    assert!(
        traceback.contains(&empty.path().display().to_string()),
        "the traceback should show the PATH it searched: {traceback}"
    );
    // Only the error: no status line, since nothing started.
    assert_eq!(
        types(&cell.iopub),
        ["status", "execute_input", "error", "status"]
    );

    // The database was handed over and comes back for the next KV cell.
    assert_eq!(kv(&kernel, "get k").ok().plain(), "get k -> <missing>");
}

/// A first Rust cell that keeps cargo off the network: the crates the
/// tests add (`memchr`, `strsim`, `itoa`) are dependencies of the kernel
/// itself, so cargo's registry has them.
const OFFLINE_CELL: &str = "%%rust\n:offline 1";
/// A cell that adds a crate the template cache does not hold.
const MEMCHR_CELL: &str = "%%rust\n:dep memchr = \"2\"\nmemchr::memchr(b'k', b\"sled kernel\")";

/// Every entry of the cache at `dir` is whole: its manifest names files
/// that are there, with the sizes it gives; nothing is left half-written.
/// Returns the crate names.
fn assert_cache_intact(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for key in entries(&dir.join("crates")) {
        let entry = dir.join("crates").join(&key);
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(entry.join("manifest.json"))
                .unwrap_or_else(|e| panic!("entry {key} has no manifest: {e}")),
        )
        .unwrap();
        for artifact in manifest["artifacts"].as_array().unwrap() {
            let file = entry.join(artifact["file"].as_str().unwrap());
            let size = std::fs::metadata(&file)
                .unwrap_or_else(|e| panic!("{} is missing: {e}", file.display()))
                .len();
            if artifact["emit"] != "dep-info" {
                assert_eq!(size, artifact["bytes"], "{} is torn", file.display());
            }
        }
        names.push(manifest["crate_name"].as_str().unwrap().to_string());
    }
    assert_eq!(
        entries(&dir.join("tmp")),
        Vec::<String>::new(),
        "half-written entries"
    );
    assert_eq!(
        entries(&dir.join("trash")),
        Vec::<String>::new(),
        "half-deleted entries"
    );
    names
}

/// Thirty students on one machine, in small: kernels sharing one cache
/// directory start at the same moment and compile the same new crate at
/// the same moment. Both cells succeed, every entry stays whole, and a
/// later kernel's first Rust cell gets everything, the new crate too, from
/// the cache (as it reports).
#[test]
fn kernels_compiling_at_once_share_one_cache() {
    let shared = tempfile::tempdir().unwrap();
    let dir = shared.path().join("class-cache");
    copy_tree(&template().0, &dir);
    let vars = [
        (sled_kernel::rust_cells::CACHE_DIR_ENV, dir.as_os_str()),
        (sled_kernel::rust_cells::CACHE_LIMIT_ENV, OsStr::new("")),
    ];
    let mut pair = [Kernel::start_with_env(&vars), Kernel::start_with_env(&vars)];

    step("two kernels start their Rust contexts at once");
    let ids: Vec<String> = pair.iter().map(|k| send(k, OFFLINE_CELL)).collect();
    for (kernel, id) in pair.iter().zip(&ids) {
        let first = collect(kernel, id, FIRST_CELL).ok();
        assert_eq!(first.plain().trim_end(), "Offline mode: true");
        assert_eq!(first.stderr(), STARTING);
        let figures = cache_figures(kernel);
        assert_eq!(figures["kernel"]["compiled"], 0, "{figures}");
        assert!(
            figures["kernel"]["from_cache"].as_u64().unwrap() >= 15,
            "{figures}"
        );
    }

    step("both compile a crate the cache lacks, at the same moment");
    assert!(!assert_cache_intact(&dir).contains(&"memchr".to_string()));
    let ids: Vec<String> = pair.iter().map(|k| send(k, MEMCHR_CELL)).collect();
    let mut compiled = 0;
    for (kernel, id) in pair.iter().zip(&ids) {
        let cell = collect(kernel, id, RUST_CELL).ok();
        assert_eq!(cell.plain(), "Some(5)");
        assert_eq!(cell.stderr(), "", "no notice: nothing went wrong");
        compiled += cache_figures(kernel)["kernel"]["compiled"]
            .as_u64()
            .unwrap();
    }
    assert!(compiled >= 1, "someone compiled memchr");
    let names = assert_cache_intact(&dir);
    assert_eq!(
        names.iter().filter(|n| *n == "memchr").count(),
        1,
        "{names:?}"
    );
    for kernel in &mut pair {
        kernel.shutdown();
    }

    step("a later kernel takes sled and memchr from the cache");
    let mut later = Kernel::start_with_env(&vars);
    run(&later, OFFLINE_CELL, FIRST_CELL).ok();
    let cell = run(&later, MEMCHR_CELL, RUST_CELL).ok();
    assert_eq!(cell.plain(), "Some(5)");
    let figures = cache_figures(&later);
    assert_eq!(figures["kernel"]["compiled"], 0, "{figures}");
    assert!(
        figures["kernel"]["from_cache"].as_u64().unwrap() >= 16,
        "{figures}"
    );

    step("%rust cache off / on / clear");
    let off = kv(&later, "%rust cache off").ok();
    assert!(
        off.stdout().starts_with("Rust cache off for this kernel"),
        "{}",
        off.stdout()
    );
    assert_eq!(cache_figures(&later)["state"], "paused");
    assert_eq!(rust(&later, "3 + 4").ok().plain(), "7");
    kv(&later, "%rust cache on").ok();
    assert_eq!(cache_figures(&later)["state"], "read-write");
    let cleared = kv(&later, "%rust cache clear").ok();
    assert!(
        cleared.stdout().starts_with("removed "),
        "{}",
        cleared.stdout()
    );
    assert_eq!(cache_figures(&later)["crates"], 0);
    assert_eq!(entries(&dir.join("crates")), Vec::<String>::new());
    later.shutdown();
}

/// A cache that cannot take a crate (bigger than its limit, or its
/// directory unwritable mid-session as on a full disk) costs one line per
/// kind of trouble on the cell's stderr, and the cells all run.
#[test]
fn a_cache_that_cannot_keep_a_crate_says_so_once() {
    let home = cache_home();
    let dir = home.path().join("sled-kernel/rust-cells");
    let mut kernel = kernel_with_cache_home(
        home.path(),
        &[(sled_kernel::rust_cells::CACHE_LIMIT_ENV, OsStr::new("1"))],
    );
    assert_eq!(cache_figures(&kernel)["state"], "read-write");
    // From now on nothing can be added: where entries are assembled is a file.
    std::fs::remove_dir_all(dir.join("tmp")).unwrap();
    std::fs::write(dir.join("tmp"), "in the way").unwrap();

    step("sled still comes from the cache");
    let first = run(&kernel, OFFLINE_CELL, FIRST_CELL).ok();
    assert_eq!(first.stderr(), STARTING);
    assert_eq!(cache_figures(&kernel)["kernel"]["compiled"], 0);

    step("a crate bigger than the limit: compiled, not kept, one line");
    let big = run(&kernel, MEMCHR_CELL, RUST_CELL).ok();
    assert_eq!(big.plain(), "Some(5)");
    let notice = big.stderr();
    assert_eq!(notice.lines().count(), 1, "{notice}");
    assert!(
        notice.starts_with("Rust cache: memchr (")
            && notice.contains("bigger than the whole cache may be (1 MiB"),
        "{notice}"
    );

    step("a crate that cannot be written: compiled, not kept, one line");
    let cell = run(
        &kernel,
        "%%rust\n:dep strsim = \"0.11\"\nstrsim::hamming(\"sled\", \"slid\")",
        RUST_CELL,
    )
    .ok();
    assert_eq!(cell.plain(), "Ok(1)");
    let notice = cell.stderr();
    assert_eq!(notice.lines().count(), 1, "{notice}");
    assert!(
        notice.starts_with("Rust cache: could not add strsim to "),
        "{notice}"
    );

    step("after that the kernel only reads the cache, quietly");
    let cell = run(
        &kernel,
        "%%rust\n:dep itoa = \"1\"\nitoa::Buffer::new().format(42).to_string()",
        RUST_CELL,
    )
    .ok();
    assert_eq!(cell.plain(), "\"42\"");
    assert_eq!(cell.stderr(), "");
    let figures = cache_figures(&kernel);
    assert_eq!(figures["state"], "read-only", "{figures}");
    assert_eq!(figures["kernel"]["compiled"], 3, "{figures}");
    assert_eq!(figures["kernel"]["added"], 0, "{figures}");
    kernel.shutdown();
}

/// `sled-kernel warm` fills a cache (the template above is its work) and
/// refuses, saying why, when there is nothing it could keep.
#[test]
fn warm_fills_a_cache_or_says_why_it_cannot() {
    let said = &template().1;
    assert!(
        said.starts_with("warmed the Rust cache at ") || said.starts_with("the Rust cache at "),
        "{said}"
    );
    assert!(said.contains(&template().0.display().to_string()), "{said}");

    let warm = |value: &OsStr| {
        let tmp = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_sled-kernel"))
            .arg("warm")
            .env(sled_kernel::rust_cells::CACHE_DIR_ENV, value)
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, said) = warm(OsStr::new("off"));
    assert_eq!(code, Some(1));
    assert!(said.contains("nothing to warm"), "{said}");
    assert!(
        said.contains(sled_kernel::rust_cells::CACHE_DIR_ENV),
        "{said}"
    );

    let blocked = tempfile::tempdir().unwrap();
    std::fs::write(blocked.path().join("file"), "").unwrap();
    let (code, said) = warm(blocked.path().join("file/cache").as_os_str());
    assert_eq!(code, Some(1));
    assert!(
        said.contains("cannot warm") && said.contains("unusable"),
        "{said}"
    );
}

/// What `%rust start` prints.
const STARTING_AHEAD: &str = "starting the Rust context in the background (about a minute the first time, seconds once sled is in the Rust cache); the first %%rust cell waits for it\n";

/// `%rust start` returns at once and starts the context on its own while
/// KV cells go on; the first Rust cell then uses it (no second starting
/// line). An interrupt while a cell waits for a start stops it, and a
/// kernel shut down in the middle of a start leaves nothing behind.
#[test]
fn a_context_started_ahead_serves_the_first_rust_cell() {
    let home = cache_home();
    let mut kernel = kernel_with_cache_home(home.path(), &[]);

    step("%rust start returns at once; KV cells run meanwhile");
    let start = kv(&kernel, "%rust start").ok();
    assert_eq!(start.stdout(), STARTING_AHEAD);
    assert!(start.result().is_none());
    kv(&kernel, "insert ahead yes").ok();
    let again = kv(&kernel, "%rust start").ok().stdout();
    assert!(
        again == "the Rust context is already starting\n"
            || again == "the Rust context is already running\n",
        "{again}"
    );

    step("the first Rust cell waits for it and reads what the KV cell wrote");
    let first = run(
        &kernel,
        "%%rust\nlet db = sled::open(DB_PATH)?;\nlet v = db.get(\"ahead\")?.map(|v| v.to_vec());\ndrop(db);\nv",
        FIRST_CELL,
    )
    .ok();
    assert_eq!(first.plain(), "Some([121, 101, 115])");
    assert_eq!(first.stderr(), "", "the start was announced by %rust start");
    let vars = rust(&kernel, ":vars").ok();
    assert!(!vars.plain().contains("warm_up"), "{}", vars.plain());
    let figures = cache_figures(&kernel);
    assert_eq!(figures["kernel"]["compiled"], 0, "{figures}");
    assert_eq!(
        kv(&kernel, "%rust start").ok().stdout(),
        "the Rust context is already running\n"
    );
    kernel.shutdown();

    step("an interrupt while a cell waits for the start");
    let mut kernel = kernel_with_cache_home(home.path(), &[]);
    kv(&kernel, "%rust start").ok();
    let id = send(
        &kernel,
        "%%rust\nloop { std::thread::sleep(std::time::Duration::from_millis(5)); }",
    );
    // Once the cell is under way (an interrupt before it would be forgotten).
    kernel.await_iopub(&id, |m| m.header.msg_type == "execute_input");
    kernel.interrupt();
    let stopped = collect(&kernel, &id, FIRST_CELL);
    assert_eq!(stopped.error()["ename"], "Interrupted");
    // The start was stopped, so this cell starts the context again.
    let again = run(&kernel, "%%rust\n2 + 2", FIRST_CELL).ok();
    assert_eq!(again.plain(), "4");
    let tmp = kernel.kernel_tmp();
    kernel.shutdown();
    assert_eq!(entries(&tmp), Vec::<String>::new());

    step("shutting down while the context starts leaves nothing behind");
    let mut kernel = kernel_with_cache_home(home.path(), &[]);
    kv(&kernel, "%rust start").ok();
    let tmp = kernel.kernel_tmp();
    // The shutdown waits for the start to end: cargo is killed at once, but
    // rust-analyzer loading the standard library in the kernel is not
    // interruptible (seconds, far more in a loaded debug build).
    let reply = kernel.shutdown_within(FIRST_CELL);
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(entries(&tmp), Vec::<String>::new());
}
