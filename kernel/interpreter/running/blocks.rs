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

use sled::transaction::{abort, TransactionError};

use super::context::{Ctx, Effect, EvalError, INTERRUPT_CHECK_EVERY};
use super::expect;
use super::kv::{counter_refusal, counter_sum, incr_line, insert_line, remove_line};
use super::written_by::{self, Group};
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::language::parser::{BatchOp, Block, BlockBody, BlockLine, TxOp};
use crate::interpreter::language::span::Span;
use crate::interpreter::showing::progress::Progress;
use crate::interpreter::showing::render::{self, Answer};

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
    let what = format!("{}batch", ctx.tag());
    let mut bar = Progress::start(ctx.out, &mut ctx.live.ids, what, "write", total);
    let mut batch = sled::Batch::default();
    let (mut inserts, mut removed) = (0usize, Vec::new());
    for (i, line) in lines.iter().enumerate() {
        if i == INTERRUPT_CHECK_EVERY {
            // A long block: what the cell printed before it shows now.
            ctx.out.flush();
        }
        if ctx.interrupt.is_raised() {
            return Err(EvalError::Interrupted(Some(
                "Interrupted before the batch was applied; none of its writes were made.".into(),
            )));
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
        bar.phase(ctx.out, total, "applying them as one atomic batch");
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
    Ok(Effect::Print(format!(
        "{}batch applied: {} ({}, {})",
        ctx.tag(),
        render::plural(inserts + removes, "write"),
        render::plural(inserts, "insert"),
        render::plural(removes, "remove"),
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
        let mut lines = Vec::new();
        let mut writes = 0usize;
        let mut removed = Vec::new();
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
            match &line.op {
                TxOp::Get { key } => {
                    let value = tx.get(key)?;
                    lines.push(Answer::get(&tag, key, value.as_deref()).text);
                }
                TxOp::Insert { key, value } => {
                    let old = tx.insert(key.as_slice(), value.as_slice())?;
                    lines.push(insert_line(&tag, key, value, old.as_deref()));
                    writes += 1;
                }
                TxOp::Remove { key } => {
                    let old = tx.remove(key.as_slice())?;
                    if old.is_some() {
                        removed.push(key);
                    }
                    lines.push(remove_line(&tag, key, old.as_deref()));
                    writes += 1;
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
                    lines.push(incr_line(&tag, key, new));
                    writes += 1;
                }
                TxOp::Expect { key, expected } => {
                    let value = tx.get(key)?;
                    let answer = Answer::get(&tag, key, value.as_deref());
                    match expect::verdict(&answer, expected) {
                        Ok(line) => lines.push(line),
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
        }
        Ok((lines, writes, removed))
    });
    let at = |index: usize| body.get(index).map_or(head, |line| line.head);
    let name = |index: usize| body.get(index).map_or("transaction", |line| line.spec.name);
    match result {
        Ok((lines, writes, removed)) => {
            for key in removed {
                ctx.removed(key);
            }
            let ops = || body.iter().map(|line| &line.op);
            ctx.live.written_by.record(
                ctx.session.tree_name(),
                written_by::transaction_keys(ops()),
                Group::transaction(ops()),
            );
            let mut effects: Vec<Effect> = lines.into_iter().map(Effect::Print).collect();
            effects.push(Effect::Print(format!(
                "{tag}transaction committed: {}",
                render::plural(writes, "write")
            )));
            Ok(Effect::Several(effects))
        }
        Err(TransactionError::Abort(Stop::Abort { index, reason })) => {
            let why = if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            };
            Err(EvalError::AtLine {
                at: at(index),
                name: "abort",
                error: Box::new(EvalError::refused(
                    ErrorKind::TransactionAborted,
                    format!(
                        "The transaction was aborted at line {}{why}. It was rolled back: none of its writes were made.",
                        at(index).start.line + 1
                    ),
                )),
            })
        }
        Err(TransactionError::Abort(Stop::Refused {
            index,
            message,
            notes,
        })) => Err(EvalError::AtLine {
            at: at(index),
            name: name(index),
            error: Box::new(EvalError::Refused {
                kind: ErrorKind::TransactionAborted,
                message: format!(
                    "The transaction was aborted at line {}: {} It was rolled back: none of its writes were made.",
                    at(index).start.line + 1,
                    lowercase_first(&message),
                ),
                notes,
            }),
        }),
        Err(TransactionError::Abort(Stop::Interrupted { index })) => Err(EvalError::AtLine {
            at: at(index),
            name: name(index),
            error: Box::new(EvalError::Interrupted(Some(
                "Interrupted inside the transaction, which was rolled back: none of its writes were made."
                    .into(),
            ))),
        }),
        Err(TransactionError::Storage(e)) => {
            let index = running.get();
            Err(EvalError::AtLine {
                at: at(index),
                name: name(index),
                error: Box::new(EvalError::refused(
                    ErrorKind::Storage,
                    format!(
                        "sled failed at line {} of the transaction ({e}); it was rolled back: none of its writes were made.",
                        at(index).start.line + 1
                    ),
                )),
            })
        }
    }
}

/// `Expected …` -> `expected …`, to follow "aborted at line N: ".
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
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
