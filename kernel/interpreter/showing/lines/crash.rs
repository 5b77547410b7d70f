//! The lines of `%crash`, `%crash_copy` and `%log` (`running/crash.rs`):
//! what a crash kept, and what was done to the copy.

use std::fmt::Display;

use super::the_tree;
use crate::interpreter::showing::render;

/// The first line of `%crash_copy`'s answer.
pub(crate) const COPIED: &str = "%crash_copy: copied the database's files as they are on disk now, without a flush: what a crash at this instant would leave";

/// `%crash` just before the kill (`how`: the signal or call that kills).
pub(crate) fn killing(how: &str) -> String {
    format!("%crash: killing this kernel's process now ({how}): no flush, no clean close\n")
}

/// `%crash` under nbgrader, which set `grader` to `how`.
pub(crate) fn not_killed_under_grader(grader: &str, how: &str) -> String {
    format!(
        "%crash: nbgrader is running this notebook ({grader}={how}), so the kernel was not killed: the database's files were left as a kill at this instant would have left them, and the session starts over on a fresh temporary database, as the restarted kernel would"
    )
}

/// What `%crash_copy` printed before sled refused the damaged copy.
pub(crate) fn copied_and_damaged(said: &str) -> String {
    format!("{COPIED}\n{said}\n")
}

/// sled refused to open the damaged copy.
pub(crate) fn copy_refused(error: &dyn Display) -> String {
    format!(
        "sled refused to open the damaged copy: its `open` failed with \"{error}\" (sled's `Error::Corruption`). The session keeps its database."
    )
}

/// The copy `%crash_copy` goes on with.
pub(crate) fn using_copy(recovered: bool, keys: usize, tree: Option<&[u8]>) -> String {
    format!(
        "now using the copy: was_recovered = {recovered}, {} in {}",
        render::plural(keys, "key"),
        the_tree(tree)
    )
}

/// `tear=N`: which bytes were zeroed and how many records they hit.
pub(crate) fn torn(n: usize, start: u64, end: u64, hit: usize) -> String {
    format!(
        "tear={n}: zeroed bytes {start} to {} of the copy's log, its last {}, as a crash part-way through writing them leaves them ({} hit)",
        end.saturating_sub(1),
        render::byte_count((end - start) as usize),
        render::plural(hit, "record")
    )
}

/// Where a flipped byte was: in which record of the log.
pub(crate) enum Inside<'a> {
    Zeros,
    Record {
        offset: u64,
        len: u64,
        describe: &'a str,
    },
    Nothing,
}

/// `flip=N`: which byte was inverted, and what it was part of.
pub(crate) fn flipped(offset: u64, inside: Inside<'_>) -> String {
    let inside = match inside {
        Inside::Zeros => "in the zeros after the last record, which hold nothing".to_string(),
        Inside::Record {
            offset,
            len,
            describe,
        } => format!(
            "inside the record at offset {offset} ({}): {describe}",
            render::byte_count(len as usize),
        ),
        Inside::Nothing => "in no record".to_string(),
    };
    format!("flip={offset}: inverted byte {offset} of the copy's log, {inside}")
}

/// `flip=N` past the end of a log of `len` bytes: the message and its help.
pub(crate) fn flip_past_end(offset: u64, len: u64) -> (String, String) {
    (
        format!(
            "flip={offset} is past the end of the copy's `db` file, which holds {}; nothing was copied or changed.",
            render::byte_count(len as usize)
        ),
        format!(
            "the bytes are numbered 0 to {}; `%log` shows where each record starts",
            len.saturating_sub(1)
        ),
    )
}

/// `%log` could not read the log file.
pub(crate) fn log_unreadable(error: &dyn Display) -> String {
    format!("The log file `db` of the database could not be read ({error}); nothing was changed.")
}

/// Copying the database's files failed; `locked_on_windows` when sled's
/// lock kept the reader out.
pub(crate) fn copy_failed(error: &dyn Display, locked_on_windows: bool) -> String {
    if locked_on_windows {
        format!(
            "Copying the database's files failed: on Windows, sled's lock on an open database keeps every other reader out of its files ({error}). The session keeps its database as it was."
        )
    } else {
        format!(
            "Copying the database's files failed ({error}); the session keeps its database as it was."
        )
    }
}

/// `%crash` on the session's temporary database: the refusal.
pub(crate) const CRASH_ON_TEMPORARY: &str = "`%crash` kills this kernel's process, and the session's temporary database would go with it: the restarted kernel starts on a new, empty one, so nothing would be left to look at. First `%open` a directory of your own (`%open crash-demo`), write to it, then `%crash`.";
/// The help under [`CRASH_ON_TEMPORARY`].
pub(crate) const CRASH_ON_TEMPORARY_HELP: &str =
    "`%crash_copy` shows what a crash would keep without killing anything";

/// The help under [`copy_refused`]: which damage sled notices.
pub(crate) const WHICH_DAMAGE_IS_REPORTED: &str = "damage in the part of the log that sled's snapshot (`snap.*`) vouches for is reported; damage after it is not";

/// sled opened a damaged copy without an error.
pub(crate) const DAMAGED_COPY_OPENED: &str =
    "sled opened the damaged copy without an error: whatever recovery left out is simply not there";

/// The last line of `%crash_copy`: what became of the database it copied,
/// the session's temporary one or one opened with `%open`.
pub(crate) fn copied_from_closed(temporary: bool) -> &'static str {
    if temporary {
        "the temporary database it was copied from is closed and deleted"
    } else {
        "the database opened with `%open` is closed normally (which flushes it) and stays on disk"
    }
}

/// The help under [`copy_failed`] when sled's lock kept the reader out.
pub(crate) const CRASH_SHOWS_IT_EVERYWHERE: &str =
    "`%crash` on a database opened with `%open` shows what a crash keeps, on every system";
