//! The magics: help, time, info, persistent databases, files.

use super::*;
use crate::cell::Discard;

#[test]
fn help_is_displayed_as_text_and_markdown() {
    let mut interp = interpreter();
    let (out, result) = run(&mut interp, "%help");
    assert!(result.is_none(), "help is never Out[n]");
    let shown = displayed(&out);
    assert_eq!(shown.len(), 1);
    let text = plain(shown[0]);
    for heading in [
        "\nreads\n",
        "\nwrites\n",
        "\natomic groups\n",
        "\ntrees\n",
        "\ndatabase\n",
        "\nmagics",
    ] {
        assert!(text.contains(heading), "{heading:?} in {text}");
    }
    assert!(shown[0]["text/markdown"]
        .as_str()
        .unwrap()
        .contains("| `compare_and_swap (cas)` |"));

    let (out, _) = run(&mut interp, "%help cas");
    let text = plain(displayed(&out)[0]).to_string();
    assert!(text.starts_with("compare_and_swap KEY OLD NEW\n"), "{text}");
    assert!(text.contains("aliases: cas"));
    assert!(text.contains("in Rust: sled::Tree::compare_and_swap"));
    assert!(text.contains("examples:\n  cas lock:job - mine\n"));

    let (out, _) = run(&mut interp, "%help open");
    assert!(plain(displayed(&out)[0]).starts_with("%open PATH\n"));
    let (out, _) = run(&mut interp, "%lsmagic");
    let text = plain(displayed(&out)[0]).to_string();
    assert!(
        text.contains("%load FILE") && !text.contains("  get KEY"),
        "{text}"
    );
}

#[test]
fn time_prints_the_wall_time_and_keeps_the_result() {
    let mut interp = interpreter();
    run(&mut interp, "insert a 1");
    let (out, result) = run(&mut interp, "%time get a");
    let stdout = out.stdout();
    assert!(
        stdout.starts_with("wall time: ") && stdout.ends_with("s\n"),
        "{stdout}"
    );
    assert_eq!(plain(&result.unwrap()), "get a -> \"1\"");
    let (out, result) = run(&mut interp, "%time insert b 2\necho done");
    assert!(result.is_none());
    let stdout = out.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "put b = \"2\"");
    assert!(lines[1].starts_with("wall time: "), "{stdout}");
    assert_eq!(lines[2], "done");
    let started = Instant::now();
    let (out, _) = run(&mut interp, "%time %sleep 0.05");
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert!(
        out.0.first() == Some(&Event::Flush),
        "flushed before waiting"
    );
    let (_, e) = fail(&mut interp, "%time");
    assert!(e.evalue.contains("missing its LINE"), "{}", e.evalue);
}

#[test]
fn info_says_where_and_what_kind() {
    let mut interp = interpreter();
    run(&mut interp, "insert a 1\nuse users\ninsert b 2\ninsert c 3");
    let (_, result) = run(&mut interp, "%info");
    let result = result.unwrap();
    let text = plain(&result).to_string();
    assert!(
        text.contains(&format!("database: {}", interp.db_path().display())),
        "{text}"
    );
    assert!(
        text.contains("kind: temporary, deleted when the kernel stops (no background flush"),
        "{text}"
    );
    assert!(
        text.contains("trees: __sled__default 1 key, users 2 keys (current)"),
        "{text}"
    );
    assert!(text.contains("%limit: 100 rows per result"));
    let json = &result["application/vnd.sled-kv+json"];
    assert_eq!(json["temporary"], json!(true));
    assert_eq!(json["trees"], json!({"__sled__default": 1, "users": 2}));
    assert_eq!(json["current_tree"], json!("users"));
    assert_eq!(json["background_flush_ms"], Value::Null);
}

#[test]
fn a_persistent_database_survives_reopen_and_reset_and_a_new_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("todo-db");
    let mut interp = interpreter();
    let temporary = interp.db_path().to_path_buf();
    run(&mut interp, "insert scratch 1");
    let (out, _) = run(&mut interp, &format!("%open {}", path.display()));
    assert_eq!(
        out.stdout(),
        format!(
            "opened persistent database {} (new)\nthe temporary database was closed and deleted\n",
            path.display()
        )
    );
    assert!(!temporary.exists());
    assert_eq!(interp.db_path(), path);
    let (out, _) = run(
        &mut interp,
        "insert todo:001 boots\nuse notes\ninsert n1 hello\n%reopen",
    );
    assert!(
        out.stdout().ends_with(
            "reopened the persistent database: was_recovered = true, 1 key in tree notes\n"
        ),
        "{}",
        out.stdout()
    );
    let (_, result) = run(&mut interp, "%info");
    let text = plain(&result.unwrap()).to_string();
    assert!(
        text.contains(
            "kind: persistent, never deleted (sled flushes in the background every 500 ms)"
        ),
        "{text}"
    );
    let (out, _) = run(&mut interp, "%reset");
    assert_eq!(
        out.stdout(),
        format!(
            "closed the database at {} (it stays on disk); opened fresh database\n",
            path.display()
        )
    );
    assert!(path.join("db").exists());
    drop(interp);
    assert!(path.join("db").exists(), "never deleted");

    let mut next = interpreter();
    let (out, _) = run(
        &mut next,
        &format!("%open {}\nget todo:001", path.display()),
    );
    assert!(
        out.stdout().contains("(recovered from its files)"),
        "{}",
        out.stdout()
    );
    let (_, result) = run(&mut next, "get todo:001");
    assert_eq!(plain(&result.unwrap()), "get todo:001 -> \"boots\"");
    let (_, result) = run(&mut next, "use notes\nget n1");
    assert_eq!(plain(&result.unwrap()), "[notes] get n1 -> \"hello\"");
    let (out, _) = run(&mut next, &format!("%open {}", path.display()));
    assert_eq!(
        out.stdout(),
        format!("already using the database at {}\n", path.display())
    );
}

#[test]
fn reopen_of_the_temporary_database_keeps_it() {
    let mut interp = interpreter();
    let path = interp.db_path().to_path_buf();
    let (out, result) = run(&mut interp, "insert a 1\n%reopen\nget a");
    assert_eq!(
        out.stdout(),
        "put a = \"1\"\nreopened the temporary database: was_recovered = true, 1 key in the default tree\n"
    );
    assert_eq!(plain(&result.unwrap()), "get a -> \"1\"");
    assert_eq!(interp.db_path(), path);
    let (_, result) = run(&mut interp, "flush");
    assert!(result.is_none());
}

#[test]
fn open_refuses_files_foreign_directories_and_locked_databases() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let mut interp = interpreter();
    run(&mut interp, "insert kept 1");
    let (_, e) = fail(&mut interp, &format!("%open {}", file.display()));
    assert_eq!(e.ename, "FileError");
    assert!(e.evalue.contains("is a file"), "{}", e.evalue);
    let (_, e) = fail(&mut interp, &format!("%open {}", dir.path().display()));
    assert!(
        e.evalue
            .contains("already holds other files and no sled database"),
        "{}",
        e.evalue
    );

    let locked = dir.path().join("locked-db");
    let holder = sled::open(&locked).unwrap();
    let (_, e) = fail(
        &mut interp,
        &format!("echo trying\n%open {}", locked.display()),
    );
    assert_eq!(e.ename, "DatabaseLocked");
    assert!(
        e.evalue.contains(&format!(
            "The database at {} is locked by",
            locked.display()
        )),
        "{}",
        e.evalue
    );
    if cfg!(target_os = "linux") {
        assert!(e.evalue.contains("this kernel itself"), "{}", e.evalue);
    }
    assert!(e
        .evalue
        .contains("The session keeps using its current database."));
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 2, column 1");
    let (_, result) = run(&mut interp, "get kept");
    assert_eq!(
        plain(&result.unwrap()),
        "get kept -> \"1\"",
        "still on the old database"
    );
    drop(holder);
    let (out, _) = run(&mut interp, &format!("%open {}", locked.display()));
    assert!(out.stdout().starts_with("opened persistent database"));
}

#[test]
fn dump_and_load_round_trip_every_tree_and_odd_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.jsonl");
    let mut interp = interpreter();
    run(
        &mut interp,
        "insert todo:001 \"buy boots\"\ninsert 0xff00 b\"\\x01\\xfe\"\nuse users\ninsert alice admin",
    );
    let (out, _) = run(&mut interp, &format!("%dump {}", file.display()));
    assert_eq!(
        out.stdout(),
        format!("dumped 3 rows from 2 trees to {}\n", file.display())
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"key": "todo:001", "value": "buy boots", "tree": "__sled__default"}),
            json!({"key": {"hex": "ff00"}, "value": {"hex": "01fe"}, "tree": "__sled__default"}),
            json!({"key": "alice", "value": "admin", "tree": "users"}),
        ]
    );
    assert!(
        written.starts_with("{\"key\":\"todo:001\",\"value\":\"buy boots\",\"tree\":"),
        "{written}"
    );
    let before = interp.session.db().unwrap().checksum().unwrap();

    let mut other = interpreter();
    let (out, _) = run(&mut other, &format!("%load {}", file.display()));
    assert_eq!(
        out.stdout(),
        format!(
            "loaded 3 rows from {}: __sled__default 2, users 1\n",
            file.display()
        )
    );
    assert_eq!(other.session.db().unwrap().checksum().unwrap(), before);
}

#[test]
fn load_reads_json_lines_into_the_current_tree_and_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("todo.jsonl");
    std::fs::write(
        &jsonl,
        "{\"key\":\"a\",\"value\":\"1\"}\n\n{\"value\":\"2\",\"key\":\"b\"}\n",
    )
    .unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "key,value\nalice,\"admin, owner\"\r\nbob,\"says \"\"hi\"\"\"\n",
    )
    .unwrap();
    let mut interp = interpreter();
    let (out, _) = run(&mut interp, &format!("use t\n%load {}", jsonl.display()));
    assert!(out
        .stdout()
        .ends_with(&format!("[t] loaded 2 rows from {}\n", jsonl.display())));
    let (out, result) = run(&mut interp, &format!("%load {}\niter", csv.display()));
    assert_eq!(
        out.stdout(),
        format!("[t] loaded 2 rows from {}\n", csv.display())
    );
    assert_eq!(
        plain(&result.unwrap()),
        "[t] iter:\n  a = \"1\"\n  alice = \"admin, owner\"\n  b = \"2\"\n  bob = \"says \\\"hi\\\"\""
    );
}

#[test]
fn a_bad_line_loads_nothing_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("bad.jsonl");
    std::fs::write(&jsonl, "{\"key\":\"a\",\"value\":\"1\"}\n{\"key\":\"b\"}\n").unwrap();
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, &format!("%load {}", jsonl.display()));
    assert_eq!(e.ename, "LoadError");
    assert_eq!(
        e.evalue,
        format!(
            "Line 2 of {}: \"value\" is missing. Nothing was loaded.",
            jsonl.display()
        )
    );
    assert!(e
        .traceback
        .iter()
        .any(|l| l.contains(r#"help: expected each line like {"key": "k", "value": "v"}"#)));
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "a,1\nb,2,3\n").unwrap();
    let (_, e) = fail(&mut interp, &format!("%load {}", csv.display()));
    assert!(e.evalue.contains("Line 2 of"), "{}", e.evalue);
    assert!(
        e.evalue
            .contains("needs 2 columns, key and value, and this one has 3"),
        "{}",
        e.evalue
    );
    let (_, result) = run(&mut interp, "len");
    assert_eq!(plain(&result.unwrap()), "len -> 0");

    let (_, e) = fail(&mut interp, "%load /no/such/file.jsonl");
    assert_eq!(e.ename, "FileError");
    assert!(
        e.evalue.starts_with("Cannot read /no/such/file.jsonl: "),
        "{}",
        e.evalue
    );
    let (_, e) = fail(
        &mut interp,
        &format!("%dump {}", dir.path().join("x.csv").display()),
    );
    assert!(e.evalue.contains("JSON lines, not CSV"), "{}", e.evalue);
    let (_, e) = fail(&mut interp, "%dump /no/such/dir/x.jsonl");
    assert!(
        e.evalue.starts_with("Cannot write /no/such/dir/x.jsonl"),
        "{}",
        e.evalue
    );
}

#[test]
fn an_interrupted_load_stops_at_a_whole_chunk_and_an_interrupted_dump_deletes_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("many.jsonl");
    let mut text = String::new();
    for i in 0..100_000 {
        text.push_str(&format!("{{\"key\":\"k{i:06}\",\"value\":\"v\"}}\n"));
    }
    std::fs::write(&jsonl, text).unwrap();
    let interrupt = Interrupt::new();
    let mut interp = Interpreter::new(interrupt.clone()).unwrap();
    // Interrupted as soon as its progress bar appears: every line has been
    // checked, and the inserting has begun.
    let mut out = Collect::interrupting(
        &interrupt,
        |event| matches!(event, Event::Live { id, update: false, .. } if id.contains("progress")),
    );
    let e = interp
        .execute(&format!("%load {}", jsonl.display()), &mut out)
        .unwrap_err();
    interrupt.clear();
    assert_eq!(e.ename, "Interrupted");
    let (_, result) = run(&mut interp, "len");
    let n: usize = plain(&result.unwrap())
        .trim_start_matches("len -> ")
        .parse()
        .unwrap();
    assert_eq!(n % 10_000, 0, "whole chunks only: {n}; {}", e.evalue);
    assert_eq!(n, 10_000, "it stops at the first chunk after the interrupt");
    if n > 0 {
        assert!(
            e.evalue
                .contains(&format!("stopped after the first {n} of 100000 rows")),
            "{}",
            e.evalue
        );
    } else {
        assert!(e.evalue.contains("nothing was loaded"), "{}", e.evalue);
    }

    run(&mut interp, "insert x 1");
    interrupt.raise();
    let dump = dir.path().join("out.jsonl");
    let mut ctx = Ctx {
        session: &mut interp.session,
        settings: &mut interp.settings,
        interrupt: &interrupt,
        out: &mut Discard,
        live: &mut interp.live,
    };
    let e = running::files::dump(&mut ctx, &dump.display().to_string()).unwrap_err();
    assert!(e.to_string() == "interrupted", "{e}");
    assert!(!dump.exists(), "the half-written file is gone");
}

#[test]
fn sample_file_writes_the_same_pairs_every_time_for_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("books.jsonl");
    let typed = file.display().to_string();
    let mut interp = interpreter();
    let (out, result) = run(&mut interp, &format!("%sample_file {typed} 1200 book:"));
    assert!(result.is_none());
    assert_eq!(
        out.stdout(),
        format!("wrote 1200 sample pairs to {typed}: keys book:000001 to book:001200; `%load {typed}` puts them in the current tree\n")
    );
    let first = std::fs::read(&file).unwrap();
    let text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(text.lines().count(), 1200);
    assert_eq!(
        text.lines().next(),
        Some(r#"{"key":"book:000001","value":"sample value for book:000001"}"#)
    );
    // Again, into the same file: the very same bytes, and the database untouched.
    run(&mut interp, &format!("%sample_file {typed} 1200 book:"));
    assert_eq!(std::fs::read(&file).unwrap(), first);
    let (_, result) = run(&mut interp, "is_empty");
    assert_eq!(plain(&result.unwrap()), "is_empty -> true");

    let (out, result) = run(&mut interp, &format!("use shelf\n%load {typed}\nlen"));
    assert_eq!(
        out.stdout(),
        format!("using tree shelf (new, empty)\n[shelf] loaded 1200 rows from {typed}\n")
    );
    assert_eq!(plain(&result.unwrap()), "[shelf] len -> 1200");
    let (_, result) = run(&mut interp, "get book:000600");
    assert_eq!(
        plain(&result.unwrap()),
        "[shelf] get book:000600 -> \"sample value for book:000600\""
    );

    // The default prefix, and widths past six digits.
    let wide = dir.path().join("wide.jsonl");
    let (out, _) = run(&mut interp, &format!("%sample_file {} 3", wide.display()));
    assert!(
        out.stdout().contains("keys key:000001 to key:000003"),
        "{}",
        out.stdout()
    );

    for (code, says) in [
        (
            format!("%sample_file {typed} 0"),
            "from 1 to 10000000 pairs, and 0 is not",
        ),
        (
            format!("%sample_file {typed} 10000001"),
            "and 10000001 is not in that range",
        ),
        (
            format!("%sample_file {typed} many"),
            "`many` is not a number of rows",
        ),
        (
            format!("%sample_file {}.csv 5", dir.path().join("x").display()),
            "writes JSON lines, not CSV",
        ),
        (
            format!("%sample_file {} 5", dir.path().display()),
            "it is not a regular file",
        ),
        (format!("%sample_file {typed}"), "missing its N"),
    ] {
        let (_, e) = fail(&mut interp, &code);
        assert!(e.evalue.contains(says), "{code}: {}", e.evalue);
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        first,
        "refusals leave the file alone"
    );

    // An Interrupt stops the writing and deletes the half-written file.
    let interrupt = Interrupt::new();
    interrupt.raise();
    let big = dir.path().join("big.jsonl");
    let mut ctx = Ctx {
        session: &mut interp.session,
        settings: &mut interp.settings,
        interrupt: &interrupt,
        out: &mut Discard,
        live: &mut interp.live,
    };
    let e = running::files::sample_file(&mut ctx, &big.display().to_string(), 100_000, None, None)
        .unwrap_err();
    assert!(
        matches!(&e, EvalError::Interrupted(Some(text))
            if text.contains("%sample_file stopped and deleted the half-written")),
        "{e:?}"
    );
    assert!(!big.exists(), "the half-written file is gone");
}

#[test]
fn load_with_flush_every_flushes_as_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("five.jsonl");
    let typed = file.display().to_string();
    let mut interp = interpreter();
    run(&mut interp, &format!("%sample_file {typed} 5"));

    // Without it, the rows wait in memory for a flush.
    let (out, _) = run(&mut interp, &format!("%load {typed}\nflush"));
    let stdout = out.stdout();
    assert!(
        stdout.starts_with(&format!("loaded 5 rows from {typed}\nflushed ")),
        "{stdout}"
    );
    assert!(!stdout.ends_with("flushed 0 bytes\n"), "{stdout}");

    // With a flush after every row, nothing is left for the next flush.
    run(&mut interp, "%reset");
    let (out, _) = run(&mut interp, &format!("%load {typed} flush_every=1\nflush"));
    assert_eq!(
        out.stdout(),
        format!("loaded 5 rows from {typed}, with a flush after every row (5 flushes)\nflushed 0 bytes\n")
    );
    // Rows past the last whole N get a flush of their own.
    run(&mut interp, "%reset");
    let (out, _) = run(&mut interp, &format!("%load {typed} flush_every=2\nflush"));
    assert_eq!(
        out.stdout(),
        format!("loaded 5 rows from {typed}, with a flush after every 2 rows (3 flushes)\nflushed 0 bytes\n")
    );
    let (out, _) = run(&mut interp, &format!("%load {typed} flush_every=5"));
    assert!(out.stdout().ends_with("(1 flush)\n"), "{}", out.stdout());

    let (_, e) = fail(&mut interp, &format!("%load {typed} flush_every=0"));
    assert!(e.evalue.contains("is not `flush_every=N`"), "{}", e.evalue);
    let (_, e) = fail(&mut interp, &format!("%load {typed} 1"));
    assert!(
        e.evalue.contains("`1` is not `flush_every=N`"),
        "{}",
        e.evalue
    );
}

#[test]
fn timings_lists_every_timed_line_beside_the_fastest() {
    let mut interp = interpreter();
    let (out, result) = run(&mut interp, "%timings");
    assert!(result.is_none());
    assert_eq!(
        out.stdout(),
        "no line has been timed yet: put `%time` in front of one, like `%time len`\n"
    );
    run(&mut interp, "insert a 1\n%time get a");
    run(&mut interp, "%time %sleep 0.02\n%time   len  ");
    // A new database does not forget what was measured.
    run(&mut interp, "%reset");
    let (_, result) = run(&mut interp, "%timings");
    let result = result.unwrap();
    let text = plain(&result);
    assert!(
        text.starts_with("%timings: 3 lines timed with %time in this session; bars on a log scale"),
        "{text}"
    );
    let json = &result["application/vnd.sled-kv+json"]["timings"];
    let lines: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["get a", "%sleep 0.02", "len"]);
    let slept = json[1]["seconds"].as_f64().unwrap();
    assert!(slept >= 0.02, "{slept}");
    let fastest = json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["times_fastest"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(fastest, 1.0);
    assert!(json[1]["times_fastest"].as_f64().unwrap() > 1.0);
    let html = result["text/html"].as_str().unwrap();
    assert!(html.contains("<code>%sleep 0.02</code>"), "{html}");
    assert!(
        text.lines().nth(3).unwrap().contains("%sleep 0.02"),
        "{text}"
    );
}
