//! The words of the session's errors (`running/session.rs`) and of the
//! process holding a database's lock (`running/lock_holder.rs`).

use std::fmt::Display;
use std::path::Path;

/// `pid 1234, sled-kernel`: a process holding a lock, with its command
/// name when the system tells.
pub(crate) fn holder(pid: u32, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("pid {pid}, {name}"),
        None => format!("pid {pid}"),
    }
}

/// The session's database directory could not be made.
pub(crate) fn no_directory(error: &dyn Display) -> String {
    format!("could not create the database directory: {error}")
}

/// sled could not lock the database at `path`; `holder` as [`holder`]
/// describes it, when the system tells.
pub(crate) fn locked(path: &Path, holder: Option<&str>) -> String {
    format!(
        "the database at {} is locked by {}",
        path.display(),
        holder.unwrap_or("another process")
    )
}
