//! `batch … end` and `transaction … end`: lines that apply together or not
//! at all.
//!
//! The parser has already checked every line (so a typo anywhere in a block
//! runs none of it) and admitted only what sled allows inside, typed so that
//! nothing else can be there: [`BatchOp`]s (`insert`, `remove`) in a batch;
//! [`TxOp`]s (`get`, `insert`, `remove` and `abort`) in a transaction, with
//! `incr` (a `get` and an `insert` of the sum) and `expect get` (a `get`
//! that decides whether to go on or abort) built from them.

use std::cell::{Cell, RefCell};

use sled::transaction::{
    abort, ConflictableTransactionResult, TransactionError, TransactionalTree,
};

use super::context::{Ctx, Effect, EvalError, INTERRUPT_CHECK_EVERY};
use super::expect;
use super::kv::{counter_refusal, counter_sum};
use super::written_by::{self, Group};
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::language::parser::{BatchOp, Block, BlockBody, BlockLine, TxOp};
use crate::interpreter::language::span::Span;
use crate::interpreter::showing::lines::blocks as said;
use crate::interpreter::showing::lines::kv as said_kv;
use crate::interpreter::showing::progress::Progress;
use crate::interpreter::showing::render::Answer;

pub(crate) fn run(ctx: &mut Ctx<'_>, block: &Block) -> Result<Effect, EvalError> {
    match &block.body {
        BlockBody::Batch(lines) => batch(ctx, lines),
        BlockBody::Transaction(lines) => transaction(ctx, block.head, lines),
    }
}

/// Gathers the writes into one `sled::Batch` and applies it. A big batch
/// shows a progress bar: gathering, then the one atomic apply.
fn batch(ctx: &mut Ctx<'_>, lines: &[BlockLine<BatchOp>]) -> Result<Effect, EvalError> {
    let total = lines.len();
    let what = said::batch_bar(&ctx.tag());
    let mut bar = Progress::start(ctx.out, &mut ctx.live.ids, what, said::BATCH_UNIT, total);
    let mut batch = sled::Batch::default();
    let (mut inserts, mut removed) = (0usize, Vec::new());
    for (i, line) in lines.iter().enumerate() {
        if i == INTERRUPT_CHECK_EVERY {
            // A long block: what the cell printed before it shows now.
            ctx.out.flush();
        }
        if ctx.interrupt.is_raised() {
            return Err(EvalError::Interrupted(Some(said::BATCH_INTERRUPTED.into())));
        }
        match &line.op {
            BatchOp::Insert { key, value } => {
                batch.insert(key.as_slice(), value.as_slice());
                inserts += 1;
            }
            BatchOp::Remove { key } => {
                batch.remove(key.as_slice());
                removed.push(key);
            }
        }
        if let Some(bar) = &mut bar {
            bar.advance(ctx.out, i);
        }
    }
    if let Some(bar) = &mut bar {
        bar.phase(ctx.out, total, said::BATCH_APPLYING);
    }
    let tree = ctx.tree()?.clone();
    // Which removes take away a key that is there: those leave tombstones.
    let mut gone = Vec::new();
    for key in &removed {
        if tree.contains_key(key)? {
            gone.push(*key);
        }
    }
    tree.apply_batch(batch)?;
    for key in gone {
        ctx.removed(key);
    }
    let keys = written_by::batch_keys(lines.iter().map(|line| &line.op));
    ctx.live
        .written_by
        .record(ctx.session.tree_name(), keys, Group::batch(total));
    if let Some(bar) = bar {
        bar.finish(ctx.out, total);
    }
    let removes = removed.len();
    Ok(Effect::Print(said::batch_applied(
        &ctx.tag(),
        inserts,
        removes,
    )))
}

/// Why a transaction stopped on purpose.
#[derive(Debug, Clone)]
enum Stop {
    /// `abort` at this line of the body.
    Abort {
        index: usize,
        reason: String,
    },
    Interrupted {
        index: usize,
    },
    /// An `expect` that did not hold, or an `incr` of something that is not
    /// a counter, at this line: why, and the notes under it.
    Refused {
        index: usize,
        message: String,
        notes: Vec<String>,
    },
}

/// What the body of a transaction did once it ran to its end: the lines
/// it printed, how many writes it made and which keys it removed.
struct Done<'a> {
    lines: Vec<String>,
    writes: usize,
    removed: Vec<&'a [u8]>,
}

/// Runs the lines in a sled transaction. What they print is gathered and
/// shown only once it commits (sled may run the closure more than once).
fn transaction(
    ctx: &mut Ctx<'_>,
    head: Span,
    body: &[BlockLine<TxOp>],
) -> Result<Effect, EvalError> {
    let tag = ctx.tag();
    let interrupt = ctx.interrupt;
    let running = Cell::new(0usize);
    let tree = ctx.tree()?.clone();
    let out = RefCell::new(&mut *ctx.out);
    let result = tree.transaction(|tx| {
        let mut done = Done {
            lines: Vec::new(),
            writes: 0,
            removed: Vec::new(),
        };
        for (index, line) in body.iter().enumerate() {
            running.set(index);
            if index == INTERRUPT_CHECK_EVERY {
                // A long transaction: what the cell printed before it
                // shows now.
                out.borrow_mut().flush();
            }
            if interrupt.is_raised() {
                return abort(Stop::Interrupted { index });
            }
            step(tx, &tag, index, &line.op, &mut done)?;
        }
        Ok(done)
    });
    match result {
        Ok(done) => Ok(committed(ctx, &tag, body, done)),
        Err(TransactionError::Abort(stop)) => Err(stopped(head, body, stop)),
        Err(TransactionError::Storage(e)) => {
            let (at, name) = where_in(head, body, running.get());
            Err(EvalError::AtLine {
                at,
                name,
                error: Box::new(EvalError::refused(
                    ErrorKind::Storage,
                    said::storage_failed(at.start.line + 1, &e),
                )),
            })
        }
    }
}

/// Runs one line of a transaction's body (line `index`), adding what it
/// printed and wrote to `done`.
fn step<'a>(
    tx: &TransactionalTree,
    tag: &str,
    index: usize,
    op: &'a TxOp,
    done: &mut Done<'a>,
) -> ConflictableTransactionResult<(), Stop> {
    match op {
        TxOp::Get { key } => {
            let value = tx.get(key)?;
            done.lines
                .push(Answer::get(tag, key, value.as_deref()).text);
        }
        TxOp::Insert { key, value } => {
            let old = tx.insert(key.as_slice(), value.as_slice())?;
            done.lines
                .push(said_kv::put(tag, key, value, old.as_deref()));
            done.writes += 1;
        }
        TxOp::Remove { key } => {
            let old = tx.remove(key.as_slice())?;
            if old.is_some() {
                done.removed.push(key);
            }
            done.lines.push(said_kv::removed(tag, key, old.as_deref()));
            done.writes += 1;
        }
        TxOp::Incr { key, by } => {
            let old = tx.get(key)?;
            let new = match counter_sum(old.as_deref(), *by) {
                Ok(n) => n,
                Err(problem) => {
                    let (message, notes) = counter_refusal(key, *by, problem);
                    return abort(Stop::Refused {
                        index,
                        message,
                        notes,
                    });
                }
            };
            tx.insert(key.as_slice(), new.to_string().as_bytes())?;
            done.lines.push(said_kv::incremented(tag, key, new));
            done.writes += 1;
        }
        TxOp::Expect { key, expected } => {
            let value = tx.get(key)?;
            let answer = Answer::get(tag, key, value.as_deref());
            match expect::verdict(&answer, expected) {
                Ok(line) => done.lines.push(line),
                Err(failure) => {
                    return abort(Stop::Refused {
                        index,
                        message: failure.message,
                        notes: failure.notes,
                    });
                }
            }
        }
        TxOp::Abort { reason } => {
            return abort(Stop::Abort {
                index,
                reason: reason.clone(),
            });
        }
    }
    Ok(())
}

/// After the commit: remembers what the transaction removed and wrote,
/// and gives back its lines and the summary under them.
fn committed(ctx: &mut Ctx<'_>, tag: &str, body: &[BlockLine<TxOp>], done: Done<'_>) -> Effect {
    for key in done.removed {
        ctx.removed(key);
    }
    let ops = || body.iter().map(|line| &line.op);
    ctx.live.written_by.record(
        ctx.session.tree_name(),
        written_by::transaction_keys(ops()),
        Group::transaction(ops()),
    );
    let mut effects: Vec<Effect> = done.lines.into_iter().map(Effect::Print).collect();
    effects.push(Effect::Print(said::transaction_committed(tag, done.writes)));
    Effect::Several(effects)
}

/// The error of a transaction that stopped on purpose, at the line that
/// stopped it.
fn stopped(head: Span, body: &[BlockLine<TxOp>], stop: Stop) -> EvalError {
    let (Stop::Abort { index, .. } | Stop::Interrupted { index } | Stop::Refused { index, .. }) =
        stop;
    let (at, name) = where_in(head, body, index);
    let line = at.start.line + 1;
    let error = match stop {
        Stop::Abort { reason, .. } => {
            EvalError::refused(ErrorKind::TransactionAborted, said::aborted(line, &reason))
        }
        Stop::Refused { message, notes, .. } => EvalError::Refused {
            kind: ErrorKind::TransactionAborted,
            message: said::refused(line, &message),
            notes,
        },
        Stop::Interrupted { .. } => {
            EvalError::Interrupted(Some(said::TRANSACTION_INTERRUPTED.into()))
        }
    };
    EvalError::AtLine {
        at,
        name,
        error: Box::new(error),
    }
}

/// Where line `index` of the body is and which command it runs (the head
/// of the block, when there is no such line).
fn where_in(head: Span, body: &[BlockLine<TxOp>], index: usize) -> (Span, &'static str) {
    body.get(index)
        .map_or((head, "transaction"), |line| (line.head, line.spec.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Interrupt;
    use crate::interpreter::language::parser::{items, Item};
    use crate::interpreter::running::context::{Live, Settings};
    use crate::interpreter::running::session::Session;

    fn block(src: &str) -> Block {
        match items(src).next() {
            Some(Ok(Item::Block(block))) => block,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_raised_interrupt_stops_a_block_before_anything_is_written() {
        let mut session = Session::temporary().unwrap();
        let mut settings = Settings::default();
        let interrupt = Interrupt::new();
        interrupt.raise();
        for src in ["batch\ninsert a 1\nend", "transaction\ninsert a 1\nend"] {
            let mut ctx = Ctx {
                session: &mut session,
                settings: &mut settings,
                interrupt: &interrupt,
                out: &mut crate::cell::Discard,
                live: &mut Live::default(),
            };
            let e = run(&mut ctx, &block(src)).unwrap_err();
            let text = match e {
                EvalError::Interrupted(Some(text)) => text,
                EvalError::AtLine { error, .. } => match *error {
                    EvalError::Interrupted(Some(text)) => text,
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            };
            assert!(text.contains("none of its writes were made"), "{text}");
            assert!(session.tree().unwrap().is_empty(), "{src}");
        }
    }
}
