//! Displays that update in place (watches, progress bars), `%draw`,
//! `expect` and `%try_open`, through `Interpreter::execute`.

use super::*;

/// The live displays a cell sent: (id, is an update, bundle).
fn live(out: &Collect) -> Vec<(String, bool, MimeBundle)> {
    out.0
        .iter()
        .filter_map(|e| match e {
            Event::Live { id, update, data } => Some((id.clone(), *update, data.clone())),
            _ => None,
        })
        .collect()
}

fn displays(out: &Collect) -> Vec<MimeBundle> {
    out.0
        .iter()
        .filter_map(|e| match e {
            Event::Display(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

fn text_of(bundle: &MimeBundle) -> String {
    plain(bundle).to_string()
}

#[test]
fn expect_ticks_when_right_and_fails_with_both_answers_when_wrong() {
    let mut interp = interpreter();
    run(&mut interp, SEED);
    let (out, _) = run(
        &mut interp,
        "expect get todo:002 == \"lift legs\"\nexpect len == 4\nexpect contains_key todo:009 == false\nexpect get nope == <missing>\nexpect first == note:042 = \"GTA loads slow\"",
    );
    assert_eq!(
        out.stdout(),
        "✓ get todo:002 == \"lift legs\"\n✓ len == 4\n✓ contains_key todo:009 == false\n✓ get nope == <missing>\n✓ first == note:042 = \"GTA loads slow\"\n"
    );
    let (_, e) = fail(&mut interp, "expect get todo:002 == \"buy boots\"");
    assert_eq!(e.ename, "ExpectationFailed");
    assert_eq!(
        e.evalue,
        "Expected get todo:002 == \"buy boots\", but it is \"lift legs\"."
    );
    let traceback = strip_ansi(&e.traceback.join("\n"));
    assert!(traceback.contains("expected: \"buy boots\""), "{traceback}");
    assert!(traceback.contains("found: \"lift legs\""), "{traceback}");
    let (_, e) = fail(&mut interp, "expect len == 3");
    assert_eq!(e.evalue, "Expected len == 3, but it is 4.");
}

#[test]
fn expect_explains_what_it_cannot_check() {
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, "expect scan_prefix todo: == 3");
    assert_eq!(e.ename, "ArgumentError");
    assert!(
        e.evalue.contains("returns rows, not one answer"),
        "{}",
        e.evalue
    );
    let (_, e) = fail(&mut interp, "expect insert a b == c");
    assert!(e.evalue.contains("is not such a read"), "{}", e.evalue);
    let (_, e) = fail(&mut interp, "expect get a");
    assert!(e.evalue.contains("after `==`"), "{}", e.evalue);
    let (_, e) = fail(&mut interp, "expect get a ==");
    assert!(e.evalue.contains("Nothing follows `==`"), "{}", e.evalue);
    let (_, e) = fail(&mut interp, "batch\nexpect get a == b\nend");
    assert_eq!(e.ename, "SyntaxError");
}

#[test]
fn draw_highlights_the_selection_and_shows_this_cells_tombstones() {
    let mut interp = interpreter();
    run(&mut interp, SEED);
    let (out, _) = run(&mut interp, "remove todo:001\n%draw todo:");
    let shown = displays(&out);
    assert_eq!(shown.len(), 1);
    let svg = shown[0]["image/svg+xml"].as_str().unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>"));
    assert!(svg.contains("<g class=\"folder selected\" data-key=\"todo:002\">"));
    assert!(svg.contains("<g class=\"folder selected\" data-key=\"todo:003\">"));
    assert!(svg.contains("<g class=\"folder tombstone\" data-key=\"todo:001\">"));
    assert!(svg.contains("<g class=\"folder\" data-key=\"note:042\">"));
    assert!(svg.contains("class=\"seek\"") && svg.contains("class=\"walk\""));
    let text = text_of(&shown[0]);
    assert!(
        text.starts_with("%draw \"todo:\": scan_prefix \"todo:\" is one seek to todo:002, then a forward walk over 2 folders; it stops at the end of the drawer. 1 key removed in this cell is drawn crossed out where it stood; sled's tree keeps nothing there."),
        "{text}"
    );
    assert!(
        text.contains("  x  todo:001  (removed in this cell)"),
        "{text}"
    );
    assert!(text.contains("  >  todo:002  9 bytes  <- seek"), "{text}");
    let json = &shown[0][render::JSON_MIME];
    assert_eq!(json["folders"].as_array().map(Vec::len), Some(4));

    // A new cell forgets the tombstones.
    let (out, _) = run(&mut interp, "%draw");
    let svg = displays(&out)[0]["image/svg+xml"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!svg.contains("tombstone"), "{svg}");
    assert!(!svg.contains("selected"), "{svg}");
}

#[test]
fn draw_a_range_stops_at_the_first_key_past_it_and_counts_what_it_leaves_out() {
    let mut interp = interpreter();
    let mut cell = String::new();
    for i in 0..60 {
        cell.push_str(&format!("insert k:{i:03} v\n"));
    }
    cell.push_str("insert a:1 x\ninsert z:1 x\n");
    run(&mut interp, &cell);
    let (out, _) = run(&mut interp, "%draw k:010..k:013");
    let d = &displays(&out)[0];
    let text = text_of(d);
    assert!(text.contains("range k:010..k:013 is one seek to k:010, then a forward walk over 3 folders; it stops at k:013"), "{text}");
    assert!(text.contains("… 8 keys before"), "{text}");
    assert!(text.contains("<- stop"), "{text}");
    let svg = d["image/svg+xml"].as_str().unwrap();
    assert_eq!(svg.matches("class=\"folder selected\"").count(), 3);
    assert!(svg.contains("class=\"stop\""));
    let (out, _) = run(&mut interp, "%draw");
    let text = text_of(&displays(&out)[0]);
    assert!(
        text.contains("The drawer holds 62 folders in key order."),
        "{text}"
    );
    assert!(text.contains("… 22 keys after"), "{text}");
    let (out, _) = run(&mut interp, "%draw nothing:");
    let text = text_of(&displays(&out)[0]);
    assert!(text.contains("finds none"), "{text}");
}

#[test]
fn a_watch_updates_its_display_after_cells_that_change_its_prefix() {
    let mut interp = interpreter();
    run(&mut interp, SEED);
    let (out, _) = run(&mut interp, "watch_prefix todo:");
    let shown = live(&out);
    assert_eq!(shown.len(), 1);
    let (id, update, first) = &shown[0];
    assert!(!update);
    assert!(text_of(first).contains("todo:003 = \"call mom\""));
    assert!(out.stdout().starts_with("watching \"todo:\""));

    let (out, _) = run(
        &mut interp,
        "insert todo:004 \"read book\"\nremove todo:001",
    );
    let shown = live(&out);
    assert_eq!(shown.len(), 1, "one redraw per cell");
    assert_eq!((&shown[0].0, shown[0].1), (id, true));
    let text = text_of(&shown[0].2);
    assert!(text.contains("todo:004 = \"read book\""), "{text}");
    assert!(!text.contains("  todo:001 = "), "{text}");
    assert!(
        text.contains("2 changes seen; latest: remove todo:001, insert todo:004"),
        "{text}"
    );

    let (out, _) = run(&mut interp, "insert note:043 x\nget todo:002");
    assert!(live(&out).is_empty(), "nothing under the prefix changed");

    // A cell that fails half way still shows what it changed.
    let (out, _) = fail(&mut interp, "insert todo:005 y\ngte x");
    assert_eq!(live(&out).len(), 1);

    let (out, _) = run(&mut interp, "unwatch todo:");
    let shown = live(&out);
    assert_eq!(shown.len(), 1);
    assert!(text_of(&shown[0].2).contains("(stopped)"));
    assert_eq!(out.stdout(), "unwatch \"todo:\": stopped\n");
    let (out, _) = run(&mut interp, "insert todo:006 z");
    assert!(live(&out).is_empty());
    let (out, _) = run(&mut interp, "unwatch todo:");
    assert_eq!(out.stdout(), "unwatch \"todo:\": it was not watched\n");
}

#[test]
fn a_big_batch_through_a_watch_never_blocks_and_reset_ends_the_watch() {
    let mut interp = interpreter();
    run(&mut interp, "watch_prefix \"\"");
    // Far more events than sled queues (1,024) before a writer waits.
    let mut cell = String::from("batch\n");
    for i in 0..5000 {
        cell.push_str(&format!("insert k{i:05} v\n"));
    }
    cell.push_str("end");
    let (out, _) = run(&mut interp, &cell);
    let updates: Vec<_> = live(&out).into_iter().filter(|(_, u, _)| *u).collect();
    let last = updates.last().expect("the watch was redrawn");
    assert!(
        text_of(&last.2)
            .contains("5000 changes seen; latest: insert k00000, insert k00001, insert k00002, insert k00003, insert k00004, …"),
        "{}",
        text_of(&last.2)
    );
    let (out, _) = run(&mut interp, "%reset");
    let shown = live(&out);
    assert_eq!(shown.len(), 1);
    assert!(text_of(&shown[0].2).contains("stopped by %reset"));
    let (out, _) = run(&mut interp, "insert k a");
    assert!(live(&out).is_empty());
}

#[test]
fn long_loads_and_batches_show_a_progress_bar_that_updates_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.jsonl");
    let mut lines = String::new();
    for i in 0..20_000 {
        lines.push_str(&format!("{{\"key\":\"k{i:05}\",\"value\":\"v\"}}\n"));
    }
    std::fs::write(&file, lines).unwrap();
    let mut interp = interpreter();
    let (out, _) = run(&mut interp, &format!("%load {}", file.display()));
    let shown = live(&out);
    assert!(shown.len() >= 2, "a start and a finish");
    assert!(shown.iter().all(|(id, _, _)| *id == shown[0].0));
    assert!(!shown[0].1 && shown[1..].iter().all(|(_, u, _)| *u));
    let last = text_of(&shown.last().unwrap().2);
    assert!(last.contains("done, 20,000 rows in "), "{last}");
    assert!(out.stdout().starts_with("loaded 20000 rows from "));

    let mut cell = String::from("batch\n");
    for i in 0..12_000 {
        cell.push_str(&format!("insert b{i:05} v\n"));
    }
    cell.push_str("end");
    let (out, _) = run(&mut interp, &cell);
    let shown = live(&out);
    assert!(shown.len() >= 3, "start, applying, done");
    assert!(text_of(&shown[shown.len() - 2].2).contains("applying them as one atomic batch"));
    assert!(text_of(&shown.last().unwrap().2).contains("done, 12,000 writes in "));

    // Small work shows no bar.
    let (out, _) = run(&mut interp, "batch\ninsert a 1\nend");
    assert!(live(&out).is_empty());
}

#[test]
fn try_open_shows_that_a_second_handle_is_refused() {
    let mut interp = interpreter();
    run(&mut interp, "insert a 1\nflush");
    let (out, _) = run(&mut interp, "%try_open");
    assert_eq!(
        out.stdout(),
        "a second sled::open of this session's temporary database was refused: sled could not acquire the lock on its `db` file, because this session holds it open. One `sled::open` of a directory at a time holds the database; clones of the `Db` it returns are more handles on that one open database.\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, e) = fail(&mut interp, &format!("%try_open {}", dir.path().display()));
    assert_eq!(e.ename, "FileError");
    assert!(e.evalue.contains("never creates one"), "{}", e.evalue);
}

#[test]
fn a_watch_survives_reopen_and_lets_go_of_the_database_on_reset_and_drop() {
    let mut interp = interpreter();
    run(&mut interp, "watch_prefix a\ninsert a1 x");
    let (out, _) = run(&mut interp, "%reopen");
    assert!(
        out.stdout().starts_with("reopened the temporary database"),
        "{}",
        out.stdout()
    );
    let (out, _) = run(&mut interp, "insert a2 y");
    let shown = live(&out);
    assert_eq!(shown.len(), 1);
    assert!(text_of(&shown[0].2).contains("a2 = \"y\""));
    let path = interp.db_path().to_path_buf();
    drop(interp);
    assert!(
        !path.exists(),
        "the directory is deleted with a watch still live"
    );
}

#[test]
fn the_new_commands_complete_and_have_help() {
    let mut interp = interpreter();
    run(&mut interp, SEED);
    for code in ["expect get to", "watch_prefix to", "%draw to", "unwatch to"] {
        let done = interp.complete(code, code.chars().count());
        assert!(
            done.matches.iter().any(|m| m == "todo:001"),
            "{code}: {:?}",
            done.matches
        );
    }
    let done = interp.complete("expect ge", 9);
    assert!(
        done.matches.iter().any(|m| m == "get"),
        "{:?}",
        done.matches
    );
    for topic in ["expect", "watch_prefix", "unwatch", "%draw", "%try_open"] {
        let (out, _) = run(&mut interp, &format!("%help {topic}"));
        let help = plain(&displays(&out)[0]).to_string();
        assert!(help.contains(topic.trim_start_matches('%')), "{help}");
    }
}

#[test]
fn draw_takes_odd_selections_without_trouble() {
    let mut interp = interpreter();
    let (out, _) = run(&mut interp, "%draw");
    assert!(text_of(&displays(&out)[0]).contains("(the drawer is empty)"));
    run(&mut interp, "insert a 1\ninsert b 2\ninsert 0xff00 3");
    for code in [
        "%draw \"\"",
        "%draw ..",
        "%draw z..a",
        "%draw ..=b",
        "%draw 0xff",
        "%draw \"a b\"..\"c d\"",
        "%draw b\"\\xff\"",
    ] {
        let (out, _) = run(&mut interp, code);
        let shown = displays(&out);
        assert_eq!(shown.len(), 1, "{code}");
        let svg = shown[0]["image/svg+xml"].as_str().unwrap();
        assert!(svg.ends_with("</svg>"), "{code}");
    }
    let (out, _) = run(&mut interp, "%draw \"\"");
    let svg = displays(&out)[0]["image/svg+xml"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        svg.matches("folder selected").count(),
        3,
        "the empty prefix selects all"
    );
    let (out, _) = run(&mut interp, "%draw 0xff");
    let text = text_of(&displays(&out)[0]);
    assert!(text.contains("one seek to b\"\\xff\\x00\""), "{text}");
    let (out, _) = run(&mut interp, "remove a\nremove b\nremove 0xff00\n%draw");
    let text = text_of(&displays(&out)[0]);
    assert!(
        text.contains("3 keys removed in this cell are drawn crossed out where they stood; sled's tree keeps nothing there."),
        "{text}"
    );
}

#[test]
fn expect_quotes_only_the_start_of_a_huge_value() {
    let mut interp = interpreter();
    let big = "x".repeat(1_000_000);
    run(&mut interp, &format!("insert big \"{big}\""));
    let (_, e) = fail(&mut interp, "expect get big == small");
    assert!(e.evalue.len() < 600, "{} bytes", e.evalue.len());
    assert!(
        e.evalue.ends_with("…."),
        "{}",
        &e.evalue[e.evalue.len() - 20..]
    );
    let (out, _) = run(&mut interp, &format!("expect get big == \"{big}\""));
    assert!(out.stdout().len() < 600);
}
