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

use serde_json::{json, Value};
use sled::transaction::{abort, TransactionError};

use super::context::{Ctx, Effect, EvalError};
use super::transfers::balance;
use crate::interpreter::language::args::ReadHow;
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::showing::render::{self, Answer};

/// Accounts `%transfers` moves money between at most.
const MOST_ACCOUNTS: usize = 100_000;
/// Distinct totals `%sum` names; the rest are counted.
const TOTALS_SHOWN: usize = 8;

/// `%transfers PREFIX`.
pub(crate) fn transfers(ctx: &mut Ctx<'_>, prefix: &[u8]) -> Result<Effect, EvalError> {
    let mut said = Vec::new();
    if let Some(line) = ctx.live.transfers.stop("before the new one started") {
        said.push(Effect::Print(line));
    }
    let tree = ctx.tree()?.clone();
    let mut keys = Vec::new();
    let mut ticker = ctx.ticker();
    for item in tree.scan_prefix(prefix) {
        ticker.tick()?;
        let (key, value) = item?;
        if balance(Some(&value)).is_none() {
            return Err(EvalError::refused(
                ErrorKind::Value,
                format!(
                    "`%transfers` moves money between balances, and {} holds {}, which is not a whole number of at least 0; nothing was started.",
                    render::key(&key),
                    render::value(&value)
                ),
            )
            .help(BANK_HELP));
        }
        if keys.len() == MOST_ACCOUNTS {
            return Err(EvalError::refused(
                ErrorKind::Value,
                format!(
                    "`%transfers` moves money between at most {MOST_ACCOUNTS} accounts, and there are more under {}; nothing was started.",
                    render::value(prefix)
                ),
            ));
        }
        keys.push(key.to_vec());
    }
    if keys.len() < 2 {
        return Err(EvalError::refused(
            ErrorKind::Value,
            format!(
                "`%transfers` needs at least two accounts under {}, and there {}; nothing was started.",
                render::value(prefix),
                match keys.len() {
                    0 => "are none".to_string(),
                    _ => "is 1".to_string(),
                }
            ),
        )
        .help(BANK_HELP));
    }
    let n = keys.len();
    let tag = ctx.tag();
    ctx.live
        .transfers
        .start(tree, tag.clone(), prefix.to_vec(), keys)
        .map_err(|e| {
            EvalError::refused(
                ErrorKind::Storage,
                format!(
                    "`%transfers` could not start its writer thread ({e}); nothing was started."
                ),
            )
        })?;
    said.push(Effect::Print(format!(
        "{tag}%transfers {}: a writer thread now moves money between the {n} accounts under it, one transaction per transfer, until this cell ends",
        render::value(prefix)
    )));
    Ok(Effect::Several(said))
}

const BANK_HELP: &str =
    "a bank of 100 accounts holding 100 each: `%sample_file bank.jsonl 100 acct: value=100`, then `%load bank.jsonl`";

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
            return Err(EvalError::Interrupted(Some(format!(
                "Interrupted after {done} of the {times} sums; nothing was changed."
            ))));
        }
        let total = match how {
            ReadHow::Scan => by_scan(&tree, prefix)?,
            ReadHow::Transaction => by_transaction(&tree, &keys)?,
        };
        let total = total.map_err(|NotSummed::NotANumber(key, value)| {
            EvalError::refused(
                ErrorKind::Value,
                format!(
                    "`%sum` adds whole numbers, and {} holds {}.",
                    render::key(&key),
                    render::value(&value)
                ),
            )
        })?;
        *tally.entry(total).or_default() += 1;
    }
    let meanwhile = match (before, ctx.live.transfers.committed()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    Ok(Effect::Answer(answer(
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

/// `%sum acct: -> 10000`; with N, each total and how often it came out,
/// the most frequent first.
fn answer(
    tag: &str,
    prefix: &[u8],
    times: usize,
    how: ReadHow,
    tally: &BTreeMap<i128, usize>,
    meanwhile: Option<u64>,
) -> Answer {
    let mut asked = format!("%sum {}", render::key(prefix));
    if times > 1 {
        asked.push_str(&format!(" {times}"));
    }
    if how == ReadHow::Transaction {
        asked.push_str(" transaction");
    }
    let mut totals: Vec<(i128, usize)> = tally.iter().map(|(t, n)| (*t, *n)).collect();
    totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let (shown, json) = match totals.as_slice() {
        [(total, _)] if times == 1 => (total.to_string(), json!(total)),
        [(total, _)] => (format!("{total} (all {times} sums)"), json!(total)),
        _ => {
            let mut parts: Vec<String> = totals
                .iter()
                .take(TOTALS_SHOWN)
                .map(|(total, n)| format!("{total} ×{n}"))
                .collect();
            match totals.len().saturating_sub(TOTALS_SHOWN) {
                0 => {}
                1 => parts.push("and 1 more total".to_string()),
                n => parts.push(format!("and {n} more totals")),
            }
            let listed: Vec<Value> = totals
                .iter()
                .map(|(total, n)| json!({"total": total, "times": n}))
                .collect();
            (
                format!("{} different totals: {}", totals.len(), parts.join(", ")),
                json!({ "sums": times, "totals": listed }),
            )
        }
    };
    let mut text = format!("{tag}{asked} -> {shown}");
    if let Some(n) = meanwhile {
        text.push_str(&format!(
            "\n(while the sums ran, %transfers committed {})",
            render::plural(usize::try_from(n).unwrap_or(usize::MAX), "transfer")
        ));
    }
    Answer {
        text,
        shown,
        json,
        html: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_total_or_a_tally_most_frequent_first() {
        let one: BTreeMap<i128, usize> = [(10000, 1)].into();
        let a = answer("", b"acct:", 1, ReadHow::Scan, &one, None);
        assert_eq!(a.text, "%sum acct: -> 10000");
        assert_eq!(a.json, json!(10000));
        let same: BTreeMap<i128, usize> = [(10000, 1000)].into();
        let a = answer(
            "[bank] ",
            b"acct:",
            1000,
            ReadHow::Transaction,
            &same,
            Some(42),
        );
        assert_eq!(
            a.text,
            "[bank] %sum acct: 1000 transaction -> 10000 (all 1000 sums)\n(while the sums ran, %transfers committed 42 transfers)"
        );
        assert_eq!(a.json, json!(10000), "so `expect … == 10000` holds");
        let mixed: BTreeMap<i128, usize> = [(9990, 3), (10000, 990), (10007, 3), (10020, 4)].into();
        let a = answer("", b"acct:", 1000, ReadHow::Scan, &mixed, None);
        assert_eq!(
            a.shown,
            "4 different totals: 10000 ×990, 10020 ×4, 9990 ×3, 10007 ×3"
        );
        let many: BTreeMap<i128, usize> = (0..20).map(|i| (i, 1)).collect();
        let a = answer("", b"acct:", 20, ReadHow::Scan, &many, None);
        assert!(a.shown.ends_with("and 12 more totals"), "{}", a.shown);
    }
}
