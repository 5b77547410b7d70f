//! The lines of the commands `running/dispatch.rs` answers itself:
//! `warn`, `watch_prefix`, `unwatch`.

use crate::interpreter::showing::render;

/// What `warn TEXT` writes to stderr.
pub(crate) fn warning(text: &str) -> String {
    format!("warning: {text}")
}

/// `watching P: …`, and whether it replaced a table of the same prefix.
pub(crate) fn watching(tag: &str, prefix: &[u8], replaced: bool) -> String {
    format!(
        "{tag}watching {}: the table above updates itself after each cell that changes a key under it{}",
        render::value(prefix),
        if replaced {
            " (the earlier table of this prefix stopped)"
        } else {
            ""
        }
    )
}

/// What `unwatch [P]` stopped: `stopped` tables of `prefix` (or of all).
pub(crate) fn unwatched(prefix: Option<&[u8]>, stopped: usize) -> String {
    match (prefix, stopped) {
        (Some(p), 0) => format!("unwatch {}: it was not watched", render::value(p)),
        (Some(p), _) => format!("unwatch {}: stopped", render::value(p)),
        (None, n) => format!("unwatch: stopped {}", render::plural(n, "watch")),
    }
}
