//! End-to-end tests through the public [`Interpreter`] API, as the protocol
//! side calls it. This file has the helpers and the lesson; the other files
//! here take one concern each.

mod blocks;
mod commands;
mod fuzz;
mod lessons;
mod live;
mod magics;
mod suspend;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;

/// Everything a cell sent to its `Output`, in order.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Stdout(String),
    Stderr(String),
    Display(MimeBundle),
    /// A display with an id, or (`update`) a replacement for one.
    Live {
        id: String,
        update: bool,
        data: MimeBundle,
    },
    Flush,
    AskExit,
}

/// Records what a cell sent. It can also raise an interrupt when the cell
/// sends an event that `.1` picks: the cell is then running (output is sent
/// before a wait, as a long loop gets under way, when a progress bar
/// appears), so the interrupt lands inside it, on every run.
#[derive(Default)]
struct Collect(Vec<Event>, Option<Raise>);

/// The interrupt to raise, and which event raises it.
type Raise = (Interrupt, fn(&Event) -> bool);

impl Collect {
    fn interrupting(interrupt: &Interrupt, when: fn(&Event) -> bool) -> Collect {
        Collect(Vec::new(), Some((interrupt.clone(), when)))
    }

    fn push(&mut self, event: Event) {
        if let Some((interrupt, when)) = &self.1 {
            if when(&event) {
                interrupt.raise();
            }
        }
        self.0.push(event);
    }
}

impl Output for Collect {
    fn stdout(&mut self, text: &str) {
        self.push(Event::Stdout(text.to_string()));
    }
    fn stderr(&mut self, text: &str) {
        self.push(Event::Stderr(text.to_string()));
    }
    fn display(&mut self, data: MimeBundle) {
        self.push(Event::Display(data));
    }
    fn display_with_id(&mut self, data: MimeBundle, display_id: &str) {
        self.push(Event::Live {
            id: display_id.to_string(),
            update: false,
            data,
        });
    }
    fn update_display(&mut self, data: MimeBundle, display_id: &str) {
        self.push(Event::Live {
            id: display_id.to_string(),
            update: true,
            data,
        });
    }
    fn flush(&mut self) {
        self.push(Event::Flush);
    }
    fn ask_exit(&mut self) {
        self.push(Event::AskExit);
    }
}

impl Collect {
    fn stdout(&self) -> String {
        self.0
            .iter()
            .filter_map(|e| match e {
                Event::Stdout(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// Whether an event is the output of a cell being sent now.
fn is_flush(event: &Event) -> bool {
    *event == Event::Flush
}

fn interpreter() -> Interpreter {
    Interpreter::new(Interrupt::new()).unwrap()
}

/// Runs a cell that must succeed; returns what it sent and its result.
fn run(interp: &mut Interpreter, code: &str) -> (Collect, Option<MimeBundle>) {
    let mut out = Collect::default();
    match interp.execute(code, &mut out) {
        Ok(result) => (out, result),
        Err(e) => panic!("{code:?} failed: {e:?}"),
    }
}

/// Runs a cell that must fail; returns what it sent and the error.
fn fail(interp: &mut Interpreter, code: &str) -> (Collect, CellError) {
    let mut out = Collect::default();
    match interp.execute(code, &mut out) {
        Ok(result) => panic!("{code:?} succeeded with {result:?}"),
        Err(e) => (out, e),
    }
}

/// The displays a cell sent (not its result).
fn displayed(out: &Collect) -> Vec<&MimeBundle> {
    out.0
        .iter()
        .filter_map(|e| match e {
            Event::Display(b) => Some(b),
            _ => None,
        })
        .collect()
}

fn plain(bundle: &MimeBundle) -> &str {
    bundle
        .get("text/plain")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn strip_ansi(s: &str) -> String {
    s.replace("\x1b[1;31m", "").replace("\x1b[0m", "")
}

const SEED: &str = "echo insert 4 keys:
insert todo:001 \"buy boots\"
insert todo:002 \"lift legs\"
insert todo:003 \"call mom\"
insert note:042 \"GTA loads slow\"
flush";

/// The lesson's program, cell by cell; returns every line it showed.
fn seed_tutorial(interp: &mut Interpreter) -> Vec<String> {
    let mut shown = Vec::new();

    let (out, result) = run(interp, "%reset");
    assert_eq!(out.0, [Event::Stdout("opened fresh database\n".into())]);
    assert!(result.is_none());
    shown.push(out.stdout());

    let (out, result) = run(interp, SEED);
    assert!(result.is_none());
    let stdout = out.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "insert 4 keys:",
            "put todo:001 = \"buy boots\"",
            "put todo:002 = \"lift legs\"",
            "put todo:003 = \"call mom\"",
            "put note:042 = \"GTA loads slow\"",
        ]
    );
    let flushed = lines[5]
        .strip_prefix("flushed ")
        .and_then(|rest| rest.strip_suffix(" bytes"))
        .and_then(|n| n.parse::<usize>().ok());
    assert!(flushed.is_some_and(|n| n > 0), "{}", lines[5]);
    assert_eq!(out.0.len(), 6, "one stdout write per line");
    assert!(out
        .0
        .iter()
        .all(|e| matches!(e, Event::Stdout(s) if s.ends_with('\n'))));
    shown.push(stdout);

    let (out, result) = run(interp, "get todo:002");
    assert!(out.0.is_empty());
    let result = result.expect("get is the cell's result");
    assert_eq!(plain(&result), "get todo:002 -> \"lift legs\"");
    assert_eq!(result["application/vnd.sled-kv+json"], json!("lift legs"));
    shown.push(plain(&result).to_string());

    let (out, result) = run(interp, "scan_prefix todo:");
    assert!(out.0.is_empty());
    let result = result.expect("scan_prefix is the cell's result");
    assert_eq!(
        plain(&result),
        "scan prefix \"todo:\":\n  todo:001 = \"buy boots\"\n  todo:002 = \"lift legs\"\n  todo:003 = \"call mom\""
    );
    assert_eq!(
        result["application/vnd.sled-kv+json"],
        json!([
            {"key": "todo:001", "value": "buy boots"},
            {"key": "todo:002", "value": "lift legs"},
            {"key": "todo:003", "value": "call mom"},
        ])
    );
    // Byte for byte what the stored lesson notebook shows.
    assert_eq!(
        result["text/html"].as_str().unwrap_or_default(),
        "<table class=\"sled-rows\">\n\
         <caption>scan prefix &quot;todo:&quot;: 3 rows</caption>\n\
         <thead><tr><th>key</th><th>value</th><th title=\"value length in bytes\">length</th></tr></thead>\n\
         <tbody>\n\
         <tr><td><code>todo:001</code></td><td><code>&quot;buy boots&quot;</code></td><td>9</td></tr>\n\
         <tr><td><code>todo:002</code></td><td><code>&quot;lift legs&quot;</code></td><td>9</td></tr>\n\
         <tr><td><code>todo:003</code></td><td><code>&quot;call mom&quot;</code></td><td>8</td></tr>\n\
         </tbody>\n\
         </table>"
    );
    shown.push(plain(&result).to_string());

    let (out, result) = run(interp, "remove todo:001\nflush");
    assert!(result.is_none());
    let stdout = out.stdout();
    assert!(
        stdout.starts_with("remove todo:001 (was \"buy boots\")\nflushed "),
        "{stdout}"
    );
    shown.push(stdout);

    let (out, result) = run(interp, "echo final keys (sorted):\nkeys");
    assert_eq!(out.0, [Event::Stdout("final keys (sorted):\n".into())]);
    let result = result.expect("keys is the cell's result");
    assert_eq!(plain(&result), "  note:042\n  todo:002\n  todo:003");
    assert_eq!(
        result["application/vnd.sled-kv+json"],
        json!([{"key": "note:042"}, {"key": "todo:002"}, {"key": "todo:003"}])
    );
    shown.push(plain(&result).to_string());

    shown
}

#[test]
fn the_seed_tutorial_prints_what_the_lesson_printed() {
    let mut interp = interpreter();
    seed_tutorial(&mut interp);
}

#[test]
fn flush_byte_counts_repeat_for_the_same_commands() {
    let first = seed_tutorial(&mut interpreter());
    // Same commands after a pause, in another session: same numbers, because
    // there is no background flusher to get there first.
    std::thread::sleep(Duration::from_millis(600));
    let mut interp = interpreter();
    let second = seed_tutorial(&mut interp);
    assert_eq!(first, second);
    // And after %reset in the same session.
    let third = seed_tutorial(&mut interp);
    assert_eq!(first, third);
}

#[test]
fn a_read_in_the_middle_is_printed_or_displayed_and_the_last_one_is_the_result() {
    let mut interp = interpreter();
    run(&mut interp, "insert a 1\ninsert b 2");
    let (out, result) = run(&mut interp, "get a\nkeys\nget b\n# trailing comment\n\n");
    assert_eq!(out.0.len(), 2);
    assert_eq!(out.0[0], Event::Stdout("get a -> \"1\"\n".into()));
    let Event::Display(rows) = &out.0[1] else {
        panic!("keys should display: {:?}", out.0)
    };
    assert_eq!(plain(rows), "  a\n  b");
    assert!(rows.contains_key("text/html") && rows.contains_key("application/vnd.sled-kv+json"));
    assert_eq!(plain(&result.unwrap()), "get b -> \"2\"");

    let (out, result) = run(&mut interp, "iter\necho done");
    assert!(result.is_none());
    assert!(matches!(&out.0[0], Event::Display(b) if plain(b) == "  a = \"1\"\n  b = \"2\""));
    assert_eq!(out.0[1], Event::Stdout("done\n".into()));
}

#[test]
fn missing_keys_and_empty_results() {
    let mut interp = interpreter();
    let (_, result) = run(&mut interp, "get nope");
    let result = result.unwrap();
    assert_eq!(plain(&result), "get nope -> <missing>");
    assert_eq!(result["application/vnd.sled-kv+json"], Value::Null);
    let (_, result) = run(&mut interp, "scan nothing:");
    assert_eq!(
        plain(&result.unwrap()),
        "scan prefix \"nothing:\": (no keys)"
    );
    let (out, result) = run(&mut interp, "remove nope\nkeys");
    assert_eq!(out.stdout(), "remove nope (was missing)\n");
    let result = result.unwrap();
    assert_eq!(plain(&result), "(no keys)");
    assert_eq!(result["application/vnd.sled-kv+json"], json!([]));
    let html = result["text/html"].as_str().unwrap_or_default();
    assert!(html.contains("<caption>keys: 0 keys</caption>"), "{html}");
    let (_, result) = run(&mut interp, "range a..b rev");
    assert_eq!(plain(&result.unwrap()), "range a..b (rev): (no keys)");
}

#[test]
fn every_alias_works_through_execute() {
    let mut interp = interpreter();
    let (out, _) = run(&mut interp, "PUT a 1\nset a 2\nInsert b 3\nDEL b\ndelete a");
    assert_eq!(
        out.stdout(),
        "put a = \"1\"\nput a = \"2\" (was \"1\")\nput b = \"3\"\nremove b (was \"3\")\nremove a (was \"2\")\n"
    );
    run(&mut interp, "insert todo:1 x");
    let (_, result) = run(&mut interp, "SCAN todo:");
    assert_eq!(
        plain(&result.unwrap()),
        "scan prefix \"todo:\":\n  todo:1 = \"x\""
    );
}

#[test]
fn odd_keys_and_values_print_so_they_can_be_pasted_back() {
    let mut interp = interpreter();
    let (out, _) = run(
        &mut interp,
        "insert 0xff00 b\"\\x01\\xfe\"\ninsert \"buy boots\" 'C:\\dir'\ninsert \"\" \"tab\\there\"",
    );
    assert_eq!(
        out.stdout(),
        "put b\"\\xff\\x00\" = b\"\\x01\\xfe\"\nput \"buy boots\" = \"C:\\\\dir\"\nput \"\" = \"tab\\there\"\n"
    );
    let (_, result) = run(&mut interp, "get b\"\\xff\\x00\"");
    let result = result.unwrap();
    assert_eq!(plain(&result), "get b\"\\xff\\x00\" -> b\"\\x01\\xfe\"");
    assert_eq!(
        result["application/vnd.sled-kv+json"],
        json!({"hex": "01fe"})
    );
    let (_, result) = run(&mut interp, "get \"buy boots\"");
    assert_eq!(
        plain(&result.unwrap()),
        "get \"buy boots\" -> \"C:\\\\dir\""
    );
}

#[test]
fn multi_line_values() {
    let mut interp = interpreter();
    let (out, result) = run(
        &mut interp,
        "insert poem \"roses are red\nviolets are blue\"\nget poem",
    );
    assert_eq!(
        out.stdout(),
        "put poem = \"roses are red\\nviolets are blue\"\n"
    );
    assert_eq!(
        plain(&result.unwrap()),
        "get poem -> \"roses are red\\nviolets are blue\""
    );
}

#[test]
fn windows_line_endings_work() {
    let mut interp = interpreter();
    let (out, result) = run(&mut interp, "echo step one\r\ninsert a 1\r\n\r\nget a\r\n");
    assert_eq!(out.stdout(), "step one\nput a = \"1\"\n");
    assert_eq!(plain(&result.unwrap()), "get a -> \"1\"");
}

#[test]
fn warn_goes_to_stderr_and_echo_is_verbatim() {
    let mut interp = interpreter();
    let (out, result) = run(
        &mut interp,
        "warn keys vanish on restart\necho   \"quoted\" # not a comment",
    );
    assert!(result.is_none());
    assert_eq!(
        out.0,
        [
            Event::Stderr("warning: keys vanish on restart\n".into()),
            Event::Stdout("  \"quoted\" # not a comment\n".into()),
        ]
    );
}

#[test]
fn a_failing_only_line_sends_nothing() {
    let mut interp = interpreter();
    for code in [
        "gte todo:002",
        "insert a",
        "get \"open",
        "get 0xzz",
        "%sleep x",
        "echo hi\n\"x",
    ] {
        let (out, _) = fail(&mut interp, code);
        let sent_by_earlier_lines = code.starts_with("echo");
        assert_eq!(
            out.0.is_empty(),
            !sent_by_earlier_lines,
            "{code:?}: {:?}",
            out.0
        );
    }
}

#[test]
fn lines_before_an_error_stay_applied() {
    let mut interp = interpreter();
    let (out, e) = fail(&mut interp, "insert a 1\nkeys\ninsert b\ninsert c 3");
    assert_eq!(e.ename, "ArgumentError");
    assert_eq!(out.stdout(), "put a = \"1\"\n");
    assert!(
        matches!(out.0.get(1), Some(Event::Display(_))),
        "keys was displayed"
    );
    let (_, result) = run(&mut interp, "keys");
    assert_eq!(plain(&result.unwrap()), "  a", "c never ran");
}

#[test]
fn unknown_command_error_teaches() {
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, "insert a 1\ngte todo:002");
    assert_eq!(e.ename, "UnknownCommand");
    assert_eq!(e.evalue, "`gte` is not a command; did you mean `get`?");
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(
        tb[0],
        "UnknownCommand: `gte` is not a command; did you mean `get`?"
    );
    assert_eq!(tb[1], " --> line 2, column 1");
    assert_eq!(tb[3], "2 | gte todo:002");
    assert_eq!(tb[4], "  | ^^^");
    assert!(tb.iter().any(|l| l.contains("help: did you mean `get`?")));
    assert!(e.traceback[0].contains("\x1b[1;31mUnknownCommand\x1b[0m"));

    let (_, e) = fail(&mut interp, "scna_prefix todo:");
    assert!(e.evalue.contains("did you mean `scan_prefix`?"));
}

#[test]
fn wrong_argument_count_shows_usage() {
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, "insert todo:001");
    assert_eq!(e.ename, "ArgumentError");
    assert!(
        e.traceback
            .iter()
            .any(|l| l.ends_with("usage: insert KEY VALUE")),
        "{:?}",
        e.traceback
    );
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 1, column 16");
    assert_eq!(tb[4], format!("  | {}^", " ".repeat(15)));

    let (_, e) = fail(&mut interp, "insert todo:001 buy boots");
    assert!(
        e.evalue.contains("takes 2 arguments but got 3"),
        "{}",
        e.evalue
    );
    assert!(e
        .traceback
        .iter()
        .any(|l| l.contains("quote it: \"buy boots\"")));
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[4], format!("  | {}^^^^^", " ".repeat(20)));
}

#[test]
fn bad_quote_has_a_caret_under_the_quote() {
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, "echo héllo\ninsert todo:1 \"buy boots");
    assert_eq!(e.ename, "SyntaxError");
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 2, column 15");
    assert_eq!(tb[3], "2 | insert todo:1 \"buy boots");
    assert_eq!(tb[4], format!("  | {}^", " ".repeat(14)));
    assert!(tb.iter().any(|l| l.contains("expected: a closing \"")));

    let (_, e) = fail(&mut interp, "get \"é\\q\"");
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 1, column 7");
    assert_eq!(tb[4], "  |       ^^");
}

#[test]
fn reset_opens_a_fresh_database_in_a_new_directory() {
    let mut interp = interpreter();
    run(&mut interp, "insert a 1");
    let old = interp.db_path().to_path_buf();
    assert!(old.exists());
    let (out, _) = run(&mut interp, "%reset");
    assert_eq!(out.stdout(), "opened fresh database\n");
    assert!(!old.exists(), "the old directory is deleted");
    assert!(interp.db_path().exists());
    let (_, result) = run(&mut interp, "get a");
    assert_eq!(plain(&result.unwrap()), "get a -> <missing>");
}

#[test]
fn dropping_the_interpreter_deletes_its_directory() {
    let mut interp = interpreter();
    run(&mut interp, "insert a 1");
    let path = interp.db_path().to_path_buf();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("sled-kernel-"));
    drop(interp);
    assert!(!path.exists());
}

#[test]
fn interrupt_stops_a_long_sleep_after_flushing_output() {
    let interrupt = Interrupt::new();
    let mut interp = Interpreter::new(interrupt.clone()).unwrap();
    // Interrupt sent once "waiting" is out, as a frontend would after seeing it.
    let mut out = Collect::interrupting(&interrupt, is_flush);
    let started = Instant::now();
    let e = interp
        .execute("echo waiting\n%sleep 30\necho never", &mut out)
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(e.ename, "Interrupted");
    assert!(e.evalue.contains("`%sleep`"), "{}", e.evalue);
    assert!(strip_ansi(&e.traceback[1]).contains("line 2, column 1"));
    assert_eq!(out.0, [Event::Stdout("waiting\n".into()), Event::Flush]);
}

#[test]
fn interrupt_is_checked_between_lines() {
    let interrupt = Interrupt::new();
    let mut interp = Interpreter::new(interrupt.clone()).unwrap();
    interrupt.raise();
    let (out, e) = fail(&mut interp, "insert a 1");
    assert!(out.0.is_empty());
    assert_eq!(e.ename, "Interrupted");
    interrupt.clear();
    let (_, result) = run(&mut interp, "get a");
    assert_eq!(plain(&result.unwrap()), "get a -> <missing>", "nothing ran");
}

#[test]
fn interrupt_stops_a_long_scan() {
    let interrupt = Interrupt::new();
    let mut interp = Interpreter::new(interrupt.clone()).unwrap();
    for i in 0..20_000u32 {
        interp
            .session
            .tree()
            .unwrap()
            .insert(format!("k{i:05}"), &b"value"[..])
            .unwrap();
    }
    // A scan that has read a thousand rows sends what the cell printed
    // before it: the interrupt raised then lands mid-scan.
    let mut out = Collect::interrupting(&interrupt, is_flush);
    let e = interp
        .execute("echo scanning\niter\niter", &mut out)
        .unwrap_err();
    assert_eq!(e.ename, "Interrupted");
    assert_eq!(
        e.evalue,
        "Interrupted while `iter` ran; the lines above it were applied."
    );
    assert!(strip_ansi(&e.traceback[1]).contains("line 2, column 1"));
    assert_eq!(
        out.0,
        [Event::Stdout("scanning\n".into()), Event::Flush],
        "the rows were never shown"
    );
}

#[test]
fn storage_errors_are_reported_as_such() {
    let Some(Ok(item)) = parser::items("flush").next() else {
        panic!("flush parses")
    };
    let problem = failed(
        item.head(),
        item.name(),
        EvalError::from(sled::Error::Unsupported("no disk".into())),
    );
    let e = problem.into_cell_error("flush");
    assert_eq!(e.ename, "StorageError");
    assert!(
        e.evalue.starts_with("sled failed to run `flush`:"),
        "{}",
        e.evalue
    );
    assert!(e.evalue.contains("no disk"));
}

#[test]
fn completion_inspection_and_completeness_through_the_api() {
    let mut interp = interpreter();
    run(&mut interp, "insert todo:001 a\ninsert todo:002 b");
    let c = interp.complete("echo héllo\nget to", 17);
    assert_eq!(
        c,
        Completion {
            matches: vec!["todo:001".into(), "todo:002".into()],
            cursor_start: 15,
            cursor_end: 17,
        }
    );
    let help = interp.inspect("scan_prefix todo:", 3, 0).unwrap();
    assert!(plain(&help).contains("sled::Tree::scan_prefix"));
    let value = interp.inspect("get todo:002", 6, 0).unwrap();
    assert!(
        plain(&value).contains("value \"b\" (1 byte)"),
        "{}",
        plain(&value)
    );
    assert_eq!(
        interp.is_complete("insert a \"open"),
        IsComplete::Incomplete {
            indent: String::new()
        }
    );
    assert_eq!(interp.is_complete("gte a"), IsComplete::Invalid);
    assert_eq!(interp.is_complete("get a"), IsComplete::Complete);
}

#[test]
fn the_interpreter_can_move_to_another_thread() {
    fn is_send<T: Send>() {}
    is_send::<Interpreter>();
}
