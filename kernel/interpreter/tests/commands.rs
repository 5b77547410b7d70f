//! Every command and alias through `execute`, as a student types them.

use super::*;

fn out_of(interp: &mut Interpreter, code: &str) -> String {
    let (out, result) = run(interp, code);
    let mut text = out.stdout();
    if let Some(result) = result {
        text.push_str(plain(&result));
    }
    text
}

fn seeded() -> Interpreter {
    let mut interp = interpreter();
    run(
        &mut interp,
        "insert todo:001 \"buy boots\"\ninsert todo:002 \"lift legs\"\ninsert todo:003 \"call mom\"\ninsert note:042 \"GTA loads slow\"",
    );
    interp
}

#[test]
fn single_answers_become_out_or_lines() {
    let mut interp = seeded();
    let (out, result) = run(&mut interp, "contains_key todo:001\nexists nope\nlen");
    assert_eq!(
        out.stdout(),
        "contains_key todo:001 -> true\ncontains_key nope -> false\n"
    );
    let result = result.unwrap();
    assert_eq!(plain(&result), "len -> 4");
    assert_eq!(result["application/vnd.sled-kv+json"], json!(4));
    assert_eq!(out_of(&mut interp, "count"), "len -> 4");
    assert_eq!(out_of(&mut interp, "is_empty"), "is_empty -> false");
    assert_eq!(
        out_of(&mut interp, "first\nlast"),
        "first -> note:042 = \"GTA loads slow\"\nlast -> todo:003 = \"call mom\""
    );
    let (_, result) = run(&mut interp, "get_lt todo:002");
    let result = result.unwrap();
    assert_eq!(
        plain(&result),
        "get_lt todo:002 -> todo:001 = \"buy boots\""
    );
    assert_eq!(
        result["application/vnd.sled-kv+json"],
        json!({"key": "todo:001", "value": "buy boots"})
    );
    assert_eq!(
        out_of(&mut interp, "get_gt todo:003"),
        "get_gt todo:003 -> <none>"
    );
    assert_eq!(
        out_of(&mut interp, "get_gt \"\""),
        "get_gt \"\" -> note:042 = \"GTA loads slow\""
    );
}

#[test]
fn trailing_comments_are_allowed_where_a_word_starts() {
    let mut interp = seeded();
    assert_eq!(
        out_of(&mut interp, "get todo:001  # the first one"),
        "get todo:001 -> \"buy boots\""
    );
    let (out, _) = run(
        &mut interp,
        "insert tag#1 x # a key with # inside\ninsert k \"# kept\"",
    );
    assert_eq!(out.stdout(), "put tag#1 = \"x\"\nput k = \"# kept\"\n");
    // A key that starts with # prints quoted, so it can be pasted back.
    let (out, _) = run(&mut interp, "insert \"#tag\" y");
    assert_eq!(out.stdout(), "put \"#tag\" = \"y\"\n");
    assert_eq!(out_of(&mut interp, "get \"#tag\""), "get \"#tag\" -> \"y\"");
}

#[test]
fn row_reads_with_limit_and_rev() {
    let mut interp = seeded();
    assert_eq!(
        out_of(&mut interp, "scan todo: limit 2"),
        "scan prefix \"todo:\" (limit 2):\n  todo:001 = \"buy boots\"\n  todo:002 = \"lift legs\""
    );
    assert_eq!(
        out_of(&mut interp, "scan_prefix todo: rev limit 1"),
        "scan prefix \"todo:\" (rev, limit 1):\n  todo:003 = \"call mom\""
    );
    assert_eq!(
        out_of(&mut interp, "keys rev"),
        "keys (rev):\n  todo:003\n  todo:002\n  todo:001\n  note:042"
    );
    assert_eq!(
        out_of(&mut interp, "iter limit 1"),
        "iter (limit 1):\n  note:042 = \"GTA loads slow\""
    );
}

#[test]
fn ranges_in_every_bound_form() {
    let mut interp = seeded();
    let keys = |interp: &mut Interpreter, code: &str| -> Vec<String> {
        let (_, result) = run(interp, code);
        let result = result.unwrap();
        result["application/vnd.sled-kv+json"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        keys(&mut interp, "range todo:001..todo:003"),
        ["todo:001", "todo:002"]
    );
    assert_eq!(
        keys(&mut interp, "range todo:001..=todo:003"),
        ["todo:001", "todo:002", "todo:003"]
    );
    assert_eq!(
        keys(&mut interp, "range todo:002.."),
        ["todo:002", "todo:003"]
    );
    assert_eq!(keys(&mut interp, "range ..todo:"), ["note:042"]);
    assert_eq!(keys(&mut interp, "range ..").len(), 4);
    assert_eq!(keys(&mut interp, "range .. rev limit 1"), ["todo:003"]);
    assert!(keys(&mut interp, "range z..a").is_empty());
    run(
        &mut interp,
        "insert \"a b\" 1\ninsert \"c d\" 2\ninsert \"e f\" 3",
    );
    assert_eq!(keys(&mut interp, "range \"a b\"..=\"c d\""), ["a b", "c d"]);
    assert_eq!(keys(&mut interp, "range 'a b'..'e f'"), ["a b", "c d"]);
    let (_, result) = run(&mut interp, "range \"a b\"..=\"c d\"");
    assert!(plain(&result.unwrap()).starts_with("range \"a b\"..=\"c d\":\n"));

    let (_, e) = fail(&mut interp, "range todo:");
    assert_eq!(e.ename, "ArgumentError");
    assert!(e.evalue.contains("is not a range"), "{}", e.evalue);
    assert!(e.traceback.iter().any(|l| l.contains("use `scan_prefix`")));
    let (_, e) = fail(&mut interp, "range a..=");
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[4], "  |        ^^^");
}

#[test]
fn the_display_limit_summarises_the_rest() {
    let mut interp = interpreter();
    let mut cell = String::from("batch\n");
    for i in 0..150 {
        cell.push_str(&format!("insert k{i:03} v\n"));
    }
    cell.push_str("end");
    run(&mut interp, &cell);
    let (_, result) = run(&mut interp, "keys");
    let result = result.unwrap();
    let text = plain(&result);
    assert_eq!(text.lines().count(), 101);
    assert!(text.ends_with("  k099\n  … 50 more"), "{text}");
    assert_eq!(
        result["application/vnd.sled-kv+json"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    let html = result["text/html"].as_str().unwrap();
    assert!(html.contains("<caption>keys: 150 keys, first 100 shown</caption>"));
    assert_eq!(
        out_of(&mut interp, "%limit 2"),
        "%limit: showing at most 2 rows per result\n"
    );
    assert_eq!(
        out_of(&mut interp, "scan k1 rev"),
        "scan prefix \"k1\" (rev):\n  k149 = \"v\"\n  k148 = \"v\"\n  … 48 more"
    );
    assert_eq!(
        out_of(&mut interp, "keys limit 3"),
        "keys (limit 3):\n  k000\n  k001\n  … 1 more"
    );
    run(&mut interp, "%limit 0");
    assert_eq!(out_of(&mut interp, "iter"), "  … 150 more");
    assert_eq!(out_of(&mut interp, "%limit"), "%limit: 0 rows per result\n");
    run(&mut interp, "%limit 100");
    assert_eq!(
        out_of(&mut interp, "%limit"),
        "%limit: 100 rows (the default) per result\n"
    );
    let (_, e) = fail(&mut interp, "%limit lots");
    assert!(e.evalue.contains("not a number of rows"), "{}", e.evalue);
}

#[test]
fn writes_say_what_they_did() {
    let mut interp = interpreter();
    let (out, _) = run(
        &mut interp,
        "insert q:1 a\ninsert q:2 b\ninsert q:3 c\npop_min\npop_max\npop_max\npop_min",
    );
    assert_eq!(
        out.stdout(),
        "put q:1 = \"a\"\nput q:2 = \"b\"\nput q:3 = \"c\"\npop_min -> q:1 = \"a\"\npop_max -> q:3 = \"c\"\npop_max -> q:2 = \"b\"\npop_min -> <none> (the tree is empty)\n"
    );
    let (out, _) = run(
        &mut interp,
        "cas lock - me\ncas lock - you\ncompare_and_swap lock me \"-\"\ncas lock \"-\" -",
    );
    assert_eq!(
        out.stdout(),
        "cas lock: <missing> -> \"me\" (swapped)\n\
         cas lock: not swapped, it holds \"me\" (expected <missing>)\n\
         cas lock: \"me\" -> \"-\" (swapped)\n\
         cas lock: \"-\" -> <missing> (swapped)\n"
    );
    let (out, _) = run(
        &mut interp,
        "append log a\nappend log \", b\"\nincr n\nincr n 41\nincr n -50",
    );
    assert_eq!(
        out.stdout(),
        "append log -> \"a\"\nappend log -> \"a, b\"\nincr n -> 1\nincr n -> 42\nincr n -> -8\n"
    );
    assert_eq!(out_of(&mut interp, "get n"), "get n -> \"-8\"");
    let (out, _) = run(&mut interp, "clear\nlen");
    assert_eq!(out.stdout(), "clear: removed 2 keys\n");
}

#[test]
fn a_counter_that_is_not_a_number_is_a_value_error_pointing_at_the_line() {
    let mut interp = interpreter();
    run(&mut interp, "insert name bob");
    let (out, e) = fail(&mut interp, "incr hits\nincr name\nincr hits");
    assert_eq!(out.stdout(), "incr hits -> 1\n", "the line before applied");
    assert_eq!(e.ename, "ValueError");
    assert!(
        e.evalue
            .contains("name holds \"bob\", which is not a whole number"),
        "{}",
        e.evalue
    );
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 2, column 1");
    assert_eq!(tb[4], "  | ^^^^");
    assert!(tb
        .iter()
        .any(|l| l.contains("help: start the counter over with `insert name 0`")));
    assert_eq!(
        out_of(&mut interp, "get hits"),
        "get hits -> \"1\"",
        "line 3 never ran"
    );
    let (_, e) = fail(&mut interp, "incr hits 1.5");
    assert_eq!(e.ename, "ArgumentError");
    assert!(e.evalue.contains("not a whole number"), "{}", e.evalue);
}

#[test]
fn trees_switch_for_later_cells_and_are_named_in_output() {
    let mut interp = interpreter();
    assert_eq!(
        out_of(&mut interp, "use users"),
        "using tree users (new, empty)\n"
    );
    let (out, _) = run(&mut interp, "insert alice admin\nremove bob");
    assert_eq!(
        out.stdout(),
        "[users] put alice = \"admin\"\n[users] remove bob (was missing)\n"
    );
    assert_eq!(
        out_of(&mut interp, "get alice"),
        "[users] get alice -> \"admin\""
    );
    assert_eq!(out_of(&mut interp, "keys"), "[users] keys:\n  alice");
    assert_eq!(out_of(&mut interp, "len"), "[users] len -> 1");
    let (_, result) = run(&mut interp, "iter");
    let html = result.unwrap()["text/html"].as_str().unwrap().to_string();
    assert!(
        html.contains("<caption>[users] iter: 1 row</caption>"),
        "{html}"
    );
    run(&mut interp, "open_tree zoo\nopen_tree __sled__default");
    let (_, result) = run(&mut interp, "tree_names");
    let result = result.unwrap();
    assert_eq!(plain(&result), "tree_names -> __sled__default, users, zoo");
    assert_eq!(
        result["application/vnd.sled-kv+json"],
        json!(["__sled__default", "users", "zoo"])
    );
    assert_eq!(out_of(&mut interp, "get alice"), "get alice -> <missing>");
    assert_eq!(
        out_of(&mut interp, "drop_tree zoo"),
        "drop_tree zoo -> true\n"
    );
    assert_eq!(
        out_of(&mut interp, "trees"),
        "tree_names -> __sled__default, users"
    );
}

#[test]
fn the_default_tree_cannot_be_dropped_and_the_error_says_why() {
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, "echo first\ndrop_tree __sled__default");
    assert_eq!(e.ename, "Unsupported");
    assert!(
        e.evalue.contains("will not drop the default tree"),
        "{}",
        e.evalue
    );
    assert!(e.evalue.contains("cannot remove the core structures"));
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 2, column 1");
    assert!(tb.iter().any(|l| l.contains("`clear`")));
}

#[test]
fn database_commands() {
    let mut interp = seeded();
    run(&mut interp, "use other\ninsert x y");
    let (_, result) = run(&mut interp, "checksum");
    let expected = interp.session.db().unwrap().checksum().unwrap();
    assert_eq!(
        result.unwrap()["application/vnd.sled-kv+json"],
        json!(expected)
    );
    let (_, result) = run(&mut interp, "size_on_disk");
    let text = plain(&result.unwrap()).to_string();
    assert!(
        text.starts_with("size_on_disk -> ") && text.ends_with(" bytes"),
        "{text}"
    );
    let (out, result) = run(&mut interp, "generate_id\ngenerate_id");
    let first: u64 = out
        .stdout()
        .trim()
        .trim_start_matches("generate_id -> ")
        .parse()
        .unwrap();
    assert!(
        result.unwrap()["application/vnd.sled-kv+json"]
            .as_u64()
            .unwrap()
            > first
    );
    assert_eq!(
        out_of(&mut interp, "was_recovered"),
        "was_recovered -> false"
    );
}

#[test]
fn magics_get_did_you_mean_too() {
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, "%opne ./db");
    assert_eq!(e.ename, "UnknownCommand");
    assert_eq!(e.evalue, "`%opne` is not a command; did you mean `%open`?");
    let (_, e) = fail(&mut interp, "lsmagic");
    assert!(
        e.evalue.contains("did you mean `%lsmagic`?"),
        "{}",
        e.evalue
    );
    let (_, e) = fail(&mut interp, "%help gte");
    assert_eq!(e.ename, "ArgumentError");
    assert!(e.evalue.contains("did you mean `get`?"), "{}", e.evalue);
}

#[test]
fn wrong_arity_shows_usage_for_new_commands() {
    let mut interp = interpreter();
    for (code, usage) in [
        ("cas k v", "usage: compare_and_swap KEY OLD NEW"),
        ("append k", "usage: append KEY VALUE"),
        ("incr", "usage: incr KEY [N]"),
        ("incr a 1 2", "usage: incr KEY [N]"),
        ("open_tree", "usage: open_tree NAME"),
        ("get_lt", "usage: get_lt KEY"),
        ("pop_min now", "usage: pop_min"),
        ("iter todo:", "usage: iter [limit N] [rev]"),
        ("%open", "usage: %open PATH"),
        ("%load a b", "usage: %load FILE [flush_every=N]"),
        (
            "%load a flush_every=1 c",
            "usage: %load FILE [flush_every=N]",
        ),
        (
            "%sample_file a",
            "usage: %sample_file FILE N [PREFIX] [value=V]",
        ),
        ("%timings now", "usage: %timings"),
    ] {
        let (_, e) = fail(&mut interp, code);
        assert_eq!(e.ename, "ArgumentError", "{code}");
        assert!(
            e.traceback.iter().any(|l| l.ends_with(usage)),
            "{code}: {:?}",
            e.traceback
        );
    }
}

#[test]
fn exit_and_quit_ask_the_frontend_to_close_and_change_nothing() {
    let mut interp = seeded();
    for cell in ["exit", "QUIT", "quit  # done", "%time exit"] {
        let (out, result) = run(&mut interp, cell);
        assert!(out.0.contains(&Event::AskExit), "{cell}: {:?}", out.0);
        assert!(result.is_none(), "{cell}");
    }
    // The session goes on: a notebook ignores the request.
    assert_eq!(out_of(&mut interp, "len"), "len -> 4");
    let (_, e) = fail(&mut interp, "exit()");
    assert_eq!(e.evalue, "`exit()` is not a command; did you mean `exit`?");
    let (_, e) = fail(&mut interp, "exit now");
    assert!(
        e.evalue.contains("`exit` takes no arguments"),
        "{}",
        e.evalue
    );
    // `%help exit` says what it does in a notebook.
    let (out, _) = run(&mut interp, "%help quit");
    let Event::Display(help) = &out.0[0] else {
        panic!("{:?}", out.0)
    };
    assert!(
        plain(help).contains("a notebook ignores it"),
        "{}",
        plain(help)
    );
    assert!(
        plain(help).contains("Kernel › Shut Down Kernel"),
        "{}",
        plain(help)
    );
}
