//! The commands lessons 03, 05, 10 and 11 are built on: `%written_by`
//! (checks that see how writes were made), `%transfers` and `%sum` (a
//! reader racing a writer), `%log` and `%crash_copy`'s damage (what
//! recovery does with a torn or damaged log).

use super::*;

fn answer(interp: &mut Interpreter, code: &str) -> String {
    let (_, result) = run(interp, code);
    plain(&result.expect("a result")).to_string()
}

fn diary(interp: &mut Interpreter) {
    run(
        interp,
        "%reset
insert diary:001 \"entry 1\"
insert diary:002 \"entry 2\"
insert diary:003 \"entry 3\"
flush
insert diary:004 \"entry 4\"
insert diary:005 \"entry 5\"
insert diary:006 \"entry 6\"
flush",
    );
}

#[test]
fn written_by_tells_a_batch_from_single_writes() {
    let mut interp = interpreter();
    run(
        &mut interp,
        "insert user:003 \"Cy, Lyon\"\ninsert idx:city:Lyon:003 \"\"",
    );
    assert_eq!(
        answer(&mut interp, "%written_by user:003"),
        "%written_by user:003 -> <none>"
    );
    run(
        &mut interp,
        "batch\n  insert user:003 \"Cy, Oslo\"\n  remove idx:city:Lyon:003\n  insert idx:city:Oslo:003 \"\"\nend",
    );
    for key in ["user:003", "idx:city:Lyon:003", "idx:city:Oslo:003"] {
        run(
            &mut interp,
            &format!("expect %written_by {key} == \"a batch of 3 writes\""),
        );
    }
    // The same writes one by one: no batch wrote them last.
    run(&mut interp, "insert user:003 \"Cy, Oslo\"");
    let (_, e) = fail(
        &mut interp,
        "expect %written_by user:003 == \"a batch of 3 writes\"",
    );
    assert_eq!(e.ename, "ExpectationFailed");
    assert!(e.evalue.contains("but it is <none>"), "{}", e.evalue);
    run(&mut interp, "expect %written_by user:003 == <none>");
    // Other trees have records of their own.
    run(
        &mut interp,
        "open_tree other\nexpect %written_by idx:city:Oslo:003 == <none>",
    );
}

#[test]
fn written_by_counts_a_transactions_reads_and_writes() {
    let mut interp = interpreter();
    run(
        &mut interp,
        "transaction\n  expect get player:kim == <missing>\n  insert player:kim 001100\n  insert rank:001100:kim \"\"\nend",
    );
    run(
        &mut interp,
        "expect %written_by player:kim == \"a transaction of 1 read and 2 writes\"\nexpect %written_by rank:001100:kim == \"a transaction of 1 read and 2 writes\"",
    );
    run(&mut interp, "transaction\n  insert a 1\n  incr a 2\nend");
    run(
        &mut interp,
        "expect %written_by a == \"a transaction of 1 read and 2 writes\"",
    );
    // A transaction that aborts wrote nothing, so it records nothing.
    fail(&mut interp, "transaction\n  insert b 1\n  abort no\nend");
    run(&mut interp, "expect %written_by b == <none>");
    // Commands that write keys they do not name forget their tree.
    run(&mut interp, "batch\n  insert c 1\nend\nclear");
    run(&mut interp, "expect %written_by c == <none>");
    run(
        &mut interp,
        "batch\n  insert d 1\nend\n%reset\nexpect %written_by d == <none>",
    );
}

#[test]
fn a_scan_racing_transfers_can_see_totals_that_never_existed_and_a_transaction_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank.jsonl");
    let mut interp = interpreter();
    run(
        &mut interp,
        &format!(
            "%sample_file {} 100 acct: value=100\n%load {}",
            bank.display(),
            bank.display()
        ),
    );
    assert_eq!(answer(&mut interp, "%sum acct:"), "%sum acct: -> 10000");
    // Transactions, one at a time: every total is the real one, while
    // the writer commits transfers between them.
    let (out, result) = run(&mut interp, "%transfers acct:\n%sum acct: 300 transaction");
    let text = plain(&result.unwrap()).to_string();
    assert!(
        text.starts_with("%sum acct: 300 transaction -> 10000 (all 300 sums)"),
        "{text}"
    );
    let stdout = out.stdout();
    assert!(
        stdout.starts_with("%transfers \"acct:\": a writer thread now moves money between the 100 accounts under it"),
        "{stdout}"
    );
    assert!(
        stdout.contains("committed, then it stopped at the end of the cell"),
        "{stdout}"
    );
    // The writer stopped with the cell: the total is still right.
    run(&mut interp, "expect %sum acct: == 10000");
    // Scans race it. A wrong total needs a transfer to land between the
    // scan's visits to two leaves, so sum until one shows (a few tries of
    // 2,000 scans; on this machine about one scan in fifty).
    let mut seen = String::new();
    for _ in 0..20 {
        let (_, result) = run(&mut interp, "%transfers acct:\n%sum acct: 2000");
        seen = plain(&result.unwrap()).to_string();
        if seen.contains("different totals") {
            break;
        }
    }
    assert!(
        seen.contains("different totals: 10000 ×"),
        "no scan saw a total that never existed: {seen}"
    );
}

#[test]
fn transfers_and_sum_refuse_what_is_not_a_bank() {
    let mut interp = interpreter();
    let (_, e) = fail(&mut interp, "%transfers acct:");
    assert!(
        e.evalue
            .contains("needs at least two accounts under \"acct:\", and there are none"),
        "{}",
        e.evalue
    );
    run(&mut interp, "insert acct:1 100\ninsert acct:2 lots");
    let (_, e) = fail(&mut interp, "%transfers acct:");
    assert!(
        e.evalue
            .contains("acct:2 holds \"lots\", which is not a whole number"),
        "{}",
        e.evalue
    );
    let (_, e) = fail(&mut interp, "%sum acct:");
    assert!(
        e.evalue
            .contains("`%sum` adds whole numbers, and acct:2 holds \"lots\""),
        "{}",
        e.evalue
    );
    let (_, e) = fail(&mut interp, "%sum acct: 0");
    assert_eq!(e.ename, "ArgumentError");
    let (_, e) = fail(&mut interp, "%sum acct: 10 sideways");
    assert!(e.evalue.contains("write `scan`"), "{}", e.evalue);
    // A `%reset` in the cell stops the writer before the database goes.
    run(&mut interp, "insert acct:2 100");
    let (out, _) = run(&mut interp, "%transfers acct:\n%reset");
    assert!(
        out.stdout()
            .contains("committed, then it stopped before %reset"),
        "{}",
        out.stdout()
    );
}

#[test]
fn log_shows_each_write_as_a_record_and_unflushed_ones_not_at_all() {
    let mut interp = interpreter();
    diary(&mut interp);
    run(&mut interp, "insert diary:007 \"not flushed\"");
    let (out, _) = run(&mut interp, "%log");
    let shown = displayed(&out);
    let text = plain(shown[0]);
    assert!(
        text.starts_with("%log: The log file `db` holds 258 bytes in 1 segment"),
        "{text}"
    );
    assert!(text.contains("every CRC matches"), "{text}");
    assert!(
        text.contains("     96     27  ok   page 2: insert diary:001 = \"entry 1\""),
        "{text}"
    );
    assert!(
        text.contains("    231     27  ok   page 2: insert diary:006 = \"entry 6\""),
        "{text}"
    );
    assert!(!text.contains("diary:007"), "{text}");
    assert!(shown[0].contains_key("image/svg+xml"));
}

#[test]
fn a_torn_tail_loses_the_last_records_and_a_flipped_byte_everything_after_it() {
    let mut interp = interpreter();
    diary(&mut interp);
    let (out, _) = run(&mut interp, "%crash_copy tear=30");
    let stdout = out.stdout();
    assert!(
        stdout.contains("tear=30: zeroed bytes 228 to 257 of the copy's log, its last 30 bytes, as a crash part-way through writing them leaves them (2 records hit)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("now using the copy: was_recovered = true, 4 keys in the default tree"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sled opened the damaged copy without an error"),
        "{stdout}"
    );
    run(
        &mut interp,
        "expect get_lt diary:999 == diary:004 = \"entry 4\"",
    );

    diary(&mut interp);
    let (out, _) = run(&mut interp, "%crash_copy flip=160");
    let stdout = out.stdout();
    assert!(
        stdout.contains("flip=160: inverted byte 160 of the copy's log, inside the record at offset 150 (27 bytes): page 2: insert diary:003 = \"entry 3\""),
        "{stdout}"
    );
    assert!(stdout.contains("was_recovered = true, 2 keys"), "{stdout}");
    // Before it opened the copy, it showed the damaged log: the record whose
    // CRC fails, and the whole ones after it that recovery will not read.
    let shown = plain(displayed(&out)[0]).to_string();
    assert!(shown.contains("    150     27  BAD"), "{shown}");
    assert!(
        shown.contains("page 2: insert diary:006 = \"entry 6\"  (after the damage: not read)"),
        "{shown}"
    );
    assert!(
        shown.contains("would not read the 3 records after it"),
        "{shown}"
    );
    // Recovery wrote zeros over what followed the damage.
    let (out, _) = run(&mut interp, "%log");
    let text = plain(displayed(&out)[0]).to_string();
    assert!(text.contains("    150"), "{text}");
    assert!(text.contains("zeros: no record here"), "{text}");
    assert!(!text.contains("diary:004"), "{text}");
}

#[test]
fn damage_the_snapshot_vouches_for_is_reported_and_the_session_keeps_its_database() {
    let mut interp = interpreter();
    diary(&mut interp);
    // Opening a copy makes sled write a snapshot of where the log ended.
    run(
        &mut interp,
        "%crash_copy\ninsert diary:007 \"entry 7\"\nflush",
    );
    let (_, e) = fail(&mut interp, "%crash_copy flip=160");
    assert_eq!(e.ename, "StorageError");
    assert!(
        e.evalue
            .starts_with("sled refused to open the damaged copy: its `open` failed with"),
        "{}",
        e.evalue
    );
    assert!(
        e.evalue.contains("The session keeps its database."),
        "{}",
        e.evalue
    );
    run(&mut interp, "expect len == 7");
    let (_, e) = fail(&mut interp, "%crash_copy flip=99999999");
    assert!(
        e.evalue.contains("past the end of the copy's `db` file"),
        "{}",
        e.evalue
    );
    // A tear longer than the log zeroes all of it, the part the snapshot
    // vouches for too: sled refuses the copy.
    let (_, e) = fail(&mut interp, "%crash_copy tear=99999999");
    assert_eq!(e.ename, "StorageError");
    run(&mut interp, "expect len == 7");
    diary(&mut interp);
    let (_, e) = fail(&mut interp, "%crash_copy tear=0");
    assert_eq!(e.ename, "ArgumentError");
    run(&mut interp, "expect len == 6");
}
