//! The line `%transfers`' writer thread leaves when it stops
//! (`running/transfers.rs`), and what `%written_by` calls a block
//! (`running/written_by.rs`).

use crate::interpreter::showing::render;

/// How the writer thread ended.
pub(crate) enum Ending<'a> {
    /// It reached the most transfers it makes.
    AtMost(u64),
    /// It was stopped, for this reason (`at the end of the cell`).
    Asked(&'a str),
    /// The key no longer held a balance.
    NotABalance(&'a [u8]),
    /// sled failed.
    Storage(&'a str),
}

/// `%transfers acct:: 120 transfers committed, then it stopped …`.
pub(crate) fn stopped(tag: &str, prefix: &[u8], committed: u64, ending: Ending<'_>) -> String {
    let done = format!(
        "{tag}%transfers {}: {} committed",
        render::value(prefix),
        render::plural(usize::try_from(committed).unwrap_or(usize::MAX), "transfer"),
    );
    match ending {
        Ending::AtMost(most) => format!("{done}; it stopped by itself at {most}"),
        Ending::Asked(why) => format!("{done}, then it stopped {why}"),
        Ending::NotABalance(key) => format!(
            "{done}; it stopped early because {} no longer holds a whole number",
            render::key(key)
        ),
        Ending::Storage(e) => format!("{done}; it stopped early because sled failed: {e}"),
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
