//! `batch … end` and `transaction … end`: all or nothing.

use super::*;

fn keys(interp: &mut Interpreter) -> String {
    let (_, result) = run(interp, "keys");
    plain(&result.unwrap()).to_string()
}

#[test]
fn a_batch_applies_every_write() {
    let mut interp = interpreter();
    run(&mut interp, "insert old 1");
    let (out, result) = run(
        &mut interp,
        "batch\n  insert a 1\n  insert b 2   # second\n  remove old\nend",
    );
    assert!(result.is_none());
    assert_eq!(
        out.stdout(),
        "batch applied: 3 writes (2 inserts, 1 remove)\n"
    );
    assert_eq!(keys(&mut interp), "  a\n  b");
    let (out, _) = run(&mut interp, "use t\nBATCH\ninsert x y\nEND");
    assert!(out
        .stdout()
        .ends_with("[t] batch applied: 1 write (1 insert, 0 removes)\n"));
    let (out, _) = run(&mut interp, "batch\nend");
    assert!(out
        .stdout()
        .ends_with("batch applied: 0 writes (0 inserts, 0 removes)\n"));
}

#[test]
fn a_mistake_anywhere_in_a_batch_applies_none_of_it() {
    let mut interp = interpreter();
    let (out, e) = fail(
        &mut interp,
        "insert before 0\nbatch\n  insert a 1\n  insert b\n  insert c 3\nend\ninsert after 9",
    );
    assert_eq!(
        out.stdout(),
        "put before = \"0\"\n",
        "the line before the batch ran"
    );
    assert_eq!(e.ename, "ArgumentError");
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 4, column 11");
    assert_eq!(
        keys(&mut interp),
        "  before",
        "nothing of the batch, nothing after it"
    );

    let (_, e) = fail(&mut interp, "batch\n  insert a 1\n  get a\nend");
    assert_eq!(e.ename, "SyntaxError");
    assert!(e
        .evalue
        .contains("a `sled::Batch` holds only `insert` and `remove`"));
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 3, column 3");
    assert!(tb
        .iter()
        .any(|l| l.contains("help: run it before `batch` or after `end`")));

    let (_, e) = fail(&mut interp, "batch\n  insert a 1");
    assert!(e.evalue.contains("never closed"), "{}", e.evalue);
    assert!(strip_ansi(&e.traceback[1]).contains("line 1, column 1"));
    assert_eq!(keys(&mut interp), "  before");
}

#[test]
fn a_transaction_commits_and_prints_its_lines_after() {
    let mut interp = interpreter();
    run(
        &mut interp,
        "insert balance:alice 100\ninsert balance:bob 100",
    );
    let (out, result) = run(
        &mut interp,
        "transaction\n  get balance:alice\n  insert balance:alice 90\n  insert balance:bob 110\n  remove nothing\nend",
    );
    assert!(result.is_none());
    assert_eq!(
        out.stdout(),
        "get balance:alice -> \"100\"\n\
         put balance:alice = \"90\" (was \"100\")\n\
         put balance:bob = \"110\" (was \"100\")\n\
         remove nothing (was missing)\n\
         transaction committed: 3 writes\n"
    );
    let (out, _) = run(&mut interp, "use acct\ntx\ninsert k v\nend");
    assert!(out
        .stdout()
        .ends_with("[acct] put k = \"v\"\n[acct] transaction committed: 1 write\n"));
}

#[test]
fn abort_rolls_back_and_names_its_line() {
    let mut interp = interpreter();
    run(&mut interp, "insert balance:alice 100");
    let (out, e) = fail(
        &mut interp,
        "echo moving money\ntransaction\n  insert balance:alice 0\n  insert balance:bob 100\n  abort alice may not go to zero\nend\necho never",
    );
    assert_eq!(
        out.stdout(),
        "moving money\n",
        "nothing from inside the transaction"
    );
    assert_eq!(e.ename, "TransactionAborted");
    assert_eq!(
        e.evalue,
        "The transaction was aborted at line 5: alice may not go to zero. It was rolled back: none of its writes were made."
    );
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 5, column 3");
    assert_eq!(tb[4], "  |   ^^^^^");
    let (_, result) = run(&mut interp, "iter");
    assert_eq!(plain(&result.unwrap()), "  balance:alice = \"100\"");

    let (_, e) = fail(&mut interp, "tx\nabort\nend");
    assert_eq!(
        e.evalue,
        "The transaction was aborted at line 2. It was rolled back: none of its writes were made."
    );
}

#[test]
fn only_sled_transaction_methods_go_inside() {
    let mut interp = interpreter();
    let (_, e) = fail(
        &mut interp,
        "transaction\n  insert a 1\n  scan_prefix a\nend",
    );
    assert_eq!(e.ename, "SyntaxError");
    assert_eq!(
        e.evalue,
        "`scan_prefix` cannot go inside a transaction: sled's `TransactionalTree` offers only `get`, `insert` and `remove` (and `abort` rolls back)."
    );
    let (_, e) = fail(&mut interp, "transaction\n  batch\n  end\nend");
    assert!(e.evalue.contains("Blocks do not nest"), "{}", e.evalue);
    let (_, e) = fail(&mut interp, "end");
    assert!(e.evalue.contains("none is open"), "{}", e.evalue);
    let (_, result) = run(&mut interp, "len");
    assert_eq!(plain(&result.unwrap()), "len -> 0");
}

/// A cell with `n` inserts inside `kind … end`.
fn big_block(kind: &str, n: usize) -> String {
    let mut cell = format!("{kind}\n");
    for i in 0..n {
        cell.push_str(&format!("insert k{i:06} v\n"));
    }
    cell.push_str("end\n");
    cell
}

/// Runs `cell`, raising the interrupt once it is well inside its block: a
/// block sends what the cell printed so far after its first thousand lines.
fn interrupted(interp: &mut Interpreter, cell: &str) -> CellError {
    let mut out = Collect::interrupting(&interp.interrupt, is_flush);
    let e = interp.execute(cell, &mut out).unwrap_err();
    interp.interrupt.clear();
    e
}

#[test]
fn an_interrupted_batch_or_transaction_applies_nothing() {
    let mut interp = interpreter();
    for (kind, why) in [
        (
            "batch",
            "Interrupted before the batch was applied; none of its writes were made.",
        ),
        (
            "transaction",
            "Interrupted inside the transaction, which was rolled back: none of its writes were made.",
        ),
    ] {
        let cell = big_block(kind, 20_000) + "insert after x";
        let e = interrupted(&mut interp, &cell);
        assert_eq!(e.ename, "Interrupted", "{kind}");
        assert_eq!(e.evalue, why, "{kind}");
        let (_, result) = run(&mut interp, "len");
        assert_eq!(plain(&result.unwrap()), "len -> 0", "{kind}: {}", e.evalue);
    }
    // The same transaction, uninterrupted, goes through whole.
    let (out, _) = run(&mut interp, &big_block("transaction", 2000));
    assert!(out
        .stdout()
        .ends_with("transaction committed: 2000 writes\n"));
}
