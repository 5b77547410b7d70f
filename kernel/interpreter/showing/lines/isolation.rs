//! The lines of `%transfers` and `%sum` (`running/isolation.rs`): the
//! writer that started, the totals a reader saw, and why neither could run.

use std::collections::BTreeMap;
use std::fmt::Display;

use serde_json::{json, Value};

use crate::interpreter::language::args::ReadHow;
use crate::interpreter::showing::render::{self, Answer};

/// Distinct totals `%sum` names; the rest are counted.
const TOTALS_SHOWN: usize = 8;

/// How to make accounts `%transfers` can use.
pub(crate) const BANK_HELP: &str =
    "a bank of 100 accounts holding 100 each: `%sample_file bank.jsonl 100 acct: value=100`, then `%load bank.jsonl`";

/// `%transfers` met a value that is no balance.
pub(crate) fn not_a_balance(key: &[u8], value: &[u8]) -> String {
    format!(
        "`%transfers` moves money between balances, and {} holds {}, which is not a whole number of at least 0; nothing was started.",
        render::key(key),
        render::value(value)
    )
}

/// `%transfers` over more than `most` accounts.
pub(crate) fn too_many_accounts(most: usize, prefix: &[u8]) -> String {
    format!(
        "`%transfers` moves money between at most {most} accounts, and there are more under {}; nothing was started.",
        render::value(prefix)
    )
}

/// `%transfers` over fewer than two accounts (`found`).
pub(crate) fn too_few_accounts(prefix: &[u8], found: usize) -> String {
    format!(
        "`%transfers` needs at least two accounts under {}, and there {}; nothing was started.",
        render::value(prefix),
        match found {
            0 => "are none",
            _ => "is 1",
        }
    )
}

/// The writer thread could not be started.
pub(crate) fn no_writer_thread(error: &dyn Display) -> String {
    format!("`%transfers` could not start its writer thread ({error}); nothing was started.")
}

/// The writer thread started.
pub(crate) fn transfers_started(tag: &str, prefix: &[u8], accounts: usize) -> String {
    format!(
        "{tag}%transfers {}: a writer thread now moves money between the {accounts} accounts under it, one transaction per transfer, until this cell ends",
        render::value(prefix)
    )
}

/// Interrupt between two sums.
pub(crate) fn sums_interrupted(done: usize, times: usize) -> String {
    format!("Interrupted after {done} of the {times} sums; nothing was changed.")
}

/// `%sum` met a value that is no whole number.
pub(crate) fn not_summable(key: &[u8], value: &[u8]) -> String {
    format!(
        "`%sum` adds whole numbers, and {} holds {}.",
        render::key(key),
        render::value(value)
    )
}

/// `%sum acct: -> 10000`; with N, each total and how often it came out,
/// the most frequent first.
pub(crate) fn sum_answer(
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
        let a = sum_answer("", b"acct:", 1, ReadHow::Scan, &one, None);
        assert_eq!(a.text, "%sum acct: -> 10000");
        assert_eq!(a.json, json!(10000));
        let same: BTreeMap<i128, usize> = [(10000, 1000)].into();
        let a = sum_answer(
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
        let a = sum_answer("", b"acct:", 1000, ReadHow::Scan, &mixed, None);
        assert_eq!(
            a.shown,
            "4 different totals: 10000 ×990, 10020 ×4, 9990 ×3, 10007 ×3"
        );
        let many: BTreeMap<i128, usize> = (0..20).map(|i| (i, 1)).collect();
        let a = sum_answer("", b"acct:", 20, ReadHow::Scan, &many, None);
        assert!(a.shown.ends_with("and 12 more totals"), "{}", a.shown);
    }
}
