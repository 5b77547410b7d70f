//! The line `%transfers`' writer thread leaves when it stops
//! (`running/transfers.rs`).

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

/// What the writer thread's line says when its thread panicked.
pub(crate) const THREAD_PANICKED: &str = "the transfer thread panicked";

/// Why the writer thread was stopped ([`Ending::Asked`]).
pub(crate) const AT_THE_END_OF_THE_CELL: &str = "at the end of the cell";
pub(crate) const AS_THE_SESSION_CLOSED: &str = "as the session closed";
pub(crate) const AS_THE_RUST_CELLS_TOOK_IT: &str = "as the Rust cells took the database";
pub(crate) const BEFORE_THE_NEW_ONE: &str = "before the new one started";
/// Before a command that closes or replaces the database it writes to.
pub(crate) const BEFORE_RESET: &str = "before %reset";
pub(crate) const BEFORE_OPEN: &str = "before %open";
pub(crate) const BEFORE_REOPEN: &str = "before %reopen";
pub(crate) const BEFORE_CRASH_COPY: &str = "before %crash_copy";
pub(crate) const BEFORE_CRASH: &str = "before %crash";
pub(crate) const BEFORE_DROP_TREE: &str = "before drop_tree";
