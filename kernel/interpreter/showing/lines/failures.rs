//! The words of a line that failed as a whole (`interpreter/mod.rs` turns
//! what `running/` returned into an error at the line): interrupted, sled's
//! own error, a database held elsewhere.

use std::fmt::Display;

/// What a KV line says when the Rust cells (this kernel or a process it
/// started, such as evcxr's child) still hold the database. Verbatim: no
/// pid, no temporary path, so notebooks that show it reproduce.
pub(crate) const RUST_CELLS_HOLD_IT: &str = "The Rust cells still hold the session database, so this KV line cannot open it. Release it in a Rust cell with `drop(db)` (and every tree taken from it), or run `%rust reset`; then run this cell again. The session kept its trees and settings.";

/// The same when the system does not say who holds it.
pub(crate) const SOMETHING_HOLDS_IT: &str = "Something still holds the session database, so this KV line cannot open it: the Rust cells (release it there with `drop(db)`, or run `%rust reset`) or another program. Then run this cell again; the session kept its trees and settings.";

/// The database let go of for the Rust cells did not come back.
pub(crate) const NOT_REOPENED: &str =
    "The database is let go of for the Rust cells and was not opened again.";

/// Help: the line that failed and the ones after it did not run.
pub(crate) const DID_NOT_RUN: &str = "this line and the ones after it did not run";

/// Help: what ran stays, and how to start afresh.
pub(crate) const APPLIED_RESET: &str =
    "the lines above it were applied; `%reset` opens a fresh database";

/// Help: how to start afresh.
pub(crate) const RESET: &str = "`%reset` opens a fresh database";

/// Help under a database locked elsewhere.
pub(crate) const CLOSE_IT_THERE: &str =
    "close the database where it is open, then run the cell again";

/// The suspended database could not be opened again.
pub(crate) fn not_opened_again(error: &dyn Display) -> String {
    format!("The database could not be opened again: {error}.")
}

/// Another process (`holder`, as `lines::session::holder` says it) holds
/// the suspended database at `path`.
pub(crate) fn held_by_another(holder: &str, path: &dyn Display) -> String {
    format!("Another process ({holder}) holds the database at {path}, so this line cannot open it again. Close it there, then run the cell again; the session kept its trees and settings.")
}

/// Help: where the database is.
pub(crate) fn database_in(path: &dyn Display) -> String {
    format!("the database is in {path}")
}

/// `name` was interrupted.
pub(crate) fn interrupted(name: &str) -> String {
    format!("Interrupted while `{name}` ran; the lines above it were applied.")
}

/// sled returned an error for `name`.
pub(crate) fn storage(name: &str, error: &dyn Display) -> String {
    format!("sled failed to run `{name}`: {error}.")
}

/// The session's own error (`error`, as `lines::session` words it) for
/// `name`.
pub(crate) fn session(name: &str, error: &dyn Display) -> String {
    format!("`{name}` failed: {error}.")
}

/// A session error that is a sentence of its own: capitalised, with a
/// full stop.
pub(crate) fn sentence(error: &dyn Display) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}.", first.to_uppercase().chain(chars).collect::<String>()),
        None => ".".to_string(),
    }
}
