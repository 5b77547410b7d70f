//! The lines of `batch … end` and `transaction … end` (`running/blocks.rs`):
//! what a block did, why it wrote nothing, and what `%written_by` calls it
//! (`running/written_by.rs`).

use std::fmt::Display;

use crate::interpreter::showing::render;

/// An interrupted batch.
pub(crate) const BATCH_INTERRUPTED: &str =
    "Interrupted before the batch was applied; none of its writes were made.";
/// An interrupted transaction.
pub(crate) const TRANSACTION_INTERRUPTED: &str =
    "Interrupted inside the transaction, which was rolled back: none of its writes were made.";

/// What a batch's progress bar is called: `[users] batch`.
pub(crate) fn batch_bar(tag: &str) -> String {
    format!("{tag}batch")
}

/// `batch applied: 3 writes (2 inserts, 1 remove)`.
pub(crate) fn batch_applied(tag: &str, inserts: usize, removes: usize) -> String {
    format!(
        "{tag}batch applied: {} ({}, {})",
        render::plural(inserts + removes, "write"),
        render::plural(inserts, "insert"),
        render::plural(removes, "remove"),
    )
}

/// `transaction committed: 2 writes`.
pub(crate) fn transaction_committed(tag: &str, writes: usize) -> String {
    format!(
        "{tag}transaction committed: {}",
        render::plural(writes, "write")
    )
}

/// `abort` (with its reason, if any) at `line` (counted from 1).
pub(crate) fn aborted(line: usize, reason: &str) -> String {
    let why = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    format!(
        "The transaction was aborted at line {line}{why}. It was rolled back: none of its writes were made."
    )
}

/// An `expect` or `incr` at `line` refused, for the reason `sentence` (the
/// words it says outside a transaction).
pub(crate) fn refused(line: usize, sentence: &str) -> String {
    format!(
        "The transaction was aborted at line {line}: {} It was rolled back: none of its writes were made.",
        after_colon(sentence),
    )
}

/// sled failed at `line`.
pub(crate) fn storage_failed(line: usize, error: &dyn Display) -> String {
    format!(
        "sled failed at line {line} of the transaction ({error}); it was rolled back: none of its writes were made."
    )
}

/// A sentence made to follow a colon: `Expected …` -> `expected …`.
fn after_colon(sentence: &str) -> String {
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `a batch of 3 writes`, `a transaction of 1 read and 2 writes`
/// (`reads` is `None` for a batch).
pub(crate) fn block_group(reads: Option<usize>, writes: usize) -> String {
    let writes = render::plural(writes, "write");
    match reads {
        None => format!("a batch of {writes}"),
        Some(0) => format!("a transaction of {writes}"),
        Some(reads) => format!(
            "a transaction of {} and {writes}",
            render::plural(reads, "read")
        ),
    }
}

/// What a batch's progress bar counts.
pub(crate) const BATCH_UNIT: &str = "write";
/// The batch's progress bar once every write is gathered.
pub(crate) const BATCH_APPLYING: &str = "applying them as one atomic batch";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_on_after_the_line_number() {
        assert_eq!(
            refused(3, "Expected get a == 1, but it is 2."),
            "The transaction was aborted at line 3: expected get a == 1, but it is 2. It was rolled back: none of its writes were made."
        );
        assert_eq!(after_colon(""), "");
        assert_eq!(after_colon("`incr` counts"), "`incr` counts");
    }
}
