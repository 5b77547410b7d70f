//! `%transfers PREFIX` and `%sum PREFIX [N] [scan|transaction]`: what a
//! reader sees while a writer works beside it.
//!
//! `%transfers` starts a real writer thread (in `transfers`) that keeps
//! moving money between accounts in sled transactions until the cell ends.
//! `%sum` adds the balances up, the way a reader program would: with one
//! `scan_prefix`, whose iterator takes sled's lock for one step at a time
//! and loads each leaf as it is when it gets there (sled 0.34's `iter.rs`),
//! or with a `get` of every key inside one transaction, which holds sled's
//! one lock for the whole process until it commits (`transaction.rs`,
//! `concurrency_control.rs`). Repeated, the first shows totals that never
//! existed; the second cannot.

use std::collections::BTreeMap;

use sled::transaction::{abort, TransactionError};

use super::context::{Ctx, Effect, EvalError};
use super::transfers::balance;
use crate::interpreter::language::args::ReadHow;
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::showing::lines::isolation as said;
use crate::interpreter::showing::lines::transfers as transfers_said;

/// Accounts `%transfers` moves money between at most.
const MOST_ACCOUNTS: usize = 100_000;

/// `%transfers PREFIX`.
pub(crate) fn transfers(ctx: &mut Ctx<'_>, prefix: &[u8]) -> Result<Effect, EvalError> {
    let mut lines = Vec::new();
    if let Some(line) = ctx.live.transfers.stop(transfers_said::BEFORE_THE_NEW_ONE) {
        lines.push(Effect::Print(line));
    }
    let tree = ctx.tree()?.clone();
    let mut keys = Vec::new();
    let mut ticker = ctx.ticker();
    for item in tree.scan_prefix(prefix) {
        ticker.tick()?;
        let (key, value) = item?;
        if balance(Some(&value)).is_none() {
            return Err(
                EvalError::refused(ErrorKind::Value, said::not_a_balance(&key, &value))
                    .help(said::BANK_HELP),
            );
        }
        if keys.len() == MOST_ACCOUNTS {
            return Err(EvalError::refused(
                ErrorKind::Value,
                said::too_many_accounts(MOST_ACCOUNTS, prefix),
            ));
        }
        keys.push(key.to_vec());
    }
    if keys.len() < 2 {
        return Err(EvalError::refused(
            ErrorKind::Value,
            said::too_few_accounts(prefix, keys.len()),
        )
        .help(said::BANK_HELP));
    }
    let n = keys.len();
    let tag = ctx.tag();
    ctx.live
        .transfers
        .start(tree, tag.clone(), prefix.to_vec(), keys)
        .map_err(|e| EvalError::refused(ErrorKind::Storage, said::no_writer_thread(&e)))?;
    lines.push(Effect::Print(said::transfers_started(&tag, prefix, n)));
    Ok(Effect::Several(lines))
}

/// Why a sum could not be made.
enum NotSummed {
    NotANumber(Vec<u8>, Vec<u8>),
}

/// `%sum PREFIX [N] [scan|transaction]`.
pub(crate) fn sum(
    ctx: &mut Ctx<'_>,
    prefix: &[u8],
    times: usize,
    how: ReadHow,
) -> Result<Effect, EvalError> {
    let tree = ctx.tree()?.clone();
    let before = ctx.live.transfers.committed();
    // A transaction has no scan: list the keys first, as a program would.
    let keys: Vec<sled::IVec> = match how {
        ReadHow::Scan => Vec::new(),
        ReadHow::Transaction => tree.scan_prefix(prefix).keys().collect::<Result<_, _>>()?,
    };
    let mut tally: BTreeMap<i128, usize> = BTreeMap::new();
    for done in 0..times {
        if ctx.interrupt.is_raised() {
            return Err(EvalError::Interrupted(Some(said::sums_interrupted(
                done, times,
            ))));
        }
        let total = match how {
            ReadHow::Scan => by_scan(&tree, prefix)?,
            ReadHow::Transaction => by_transaction(&tree, &keys)?,
        };
        let total = total.map_err(|NotSummed::NotANumber(key, value)| {
            EvalError::refused(ErrorKind::Value, said::not_summable(&key, &value))
        })?;
        *tally.entry(total).or_default() += 1;
    }
    let meanwhile = match (before, ctx.live.transfers.committed()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    Ok(Effect::Answer(said::sum_answer(
        &ctx.tag(),
        prefix,
        times,
        how,
        &tally,
        meanwhile,
    )))
}

fn by_scan(tree: &sled::Tree, prefix: &[u8]) -> Result<Result<i128, NotSummed>, EvalError> {
    let mut total = 0i128;
    for item in tree.scan_prefix(prefix) {
        let (key, value) = item?;
        match whole(&value) {
            Some(n) => total += n,
            None => return Ok(Err(NotSummed::NotANumber(key.to_vec(), value.to_vec()))),
        }
    }
    Ok(Ok(total))
}

fn by_transaction(
    tree: &sled::Tree,
    keys: &[sled::IVec],
) -> Result<Result<i128, NotSummed>, EvalError> {
    let result = tree.transaction(|tx| {
        let mut total = 0i128;
        for key in keys {
            // A key removed since the keys were listed adds nothing.
            if let Some(value) = tx.get(key)? {
                match whole(&value) {
                    Some(n) => total += n,
                    None => return abort(NotSummed::NotANumber(key.to_vec(), value.to_vec())),
                }
            }
        }
        Ok(total)
    });
    match result {
        Ok(total) => Ok(Ok(total)),
        Err(TransactionError::Abort(not)) => Ok(Err(not)),
        Err(TransactionError::Storage(e)) => Err(e.into()),
    }
}

fn whole(value: &[u8]) -> Option<i128> {
    std::str::from_utf8(value)
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()
        .map(i128::from)
}
