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
