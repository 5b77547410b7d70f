//! The lines of the reads, writes, trees and database commands
//! (`running/kv.rs`), also printed by the same lines inside a block.

use crate::interpreter::showing::render;

/// What a read of one key asked, as its answer repeats it: `get_lt k`.
pub(crate) fn asked(command: &str, key: &[u8]) -> String {
    format!("{command} {}", render::key(key))
}

/// `put k = "v"`, with ` (was "old")` when a value was replaced.
pub(crate) fn put(tag: &str, key: &[u8], value: &[u8], old: Option<&[u8]>) -> String {
    let mut line = format!("{tag}put {} = {}", render::key(key), render::value(value));
    if let Some(old) = old {
        line.push_str(&format!(" (was {})", render::value(old)));
    }
    line
}

/// `remove k (was "v")` or `remove k (was missing)`.
pub(crate) fn removed(tag: &str, key: &[u8], old: Option<&[u8]>) -> String {
    let was = match old {
        Some(old) => format!("was {}", render::value(old)),
        None => "was missing".to_string(),
    };
    format!("{tag}remove {} ({was})", render::key(key))
}

/// `pop_min -> k = "v"`, or what an empty tree gives.
pub(crate) fn popped(tag: &str, asked: &str, popped: Option<(&[u8], &[u8])>) -> String {
    match popped {
        Some((k, v)) => format!("{tag}{asked} -> {}", render::pair(k, v)),
        None => format!("{tag}{asked} -> <none> (the tree is empty)"),
    }
}

/// `cas k: "a" -> "b" (swapped)`, or, when `current` is `Err`, what the key
/// held instead of `old`.
pub(crate) fn compared_and_swapped(
    tag: &str,
    key: &[u8],
    old: Option<&[u8]>,
    new: Option<&[u8]>,
    current: Result<(), Option<&[u8]>>,
) -> String {
    let shown = |v: Option<&[u8]>| v.map_or_else(|| "<missing>".to_string(), render::value);
    match current {
        Ok(()) => format!(
            "{tag}cas {}: {} -> {} (swapped)",
            render::key(key),
            shown(old),
            shown(new)
        ),
        Err(held) => format!(
            "{tag}cas {}: not swapped, it holds {} (expected {})",
            render::key(key),
            shown(held),
            shown(old)
        ),
    }
}

/// `append k -> "joined"`.
pub(crate) fn appended(tag: &str, key: &[u8], new: &[u8]) -> String {
    format!("{tag}append {} -> {}", render::key(key), render::value(new))
}

/// `incr k -> 3`.
pub(crate) fn incremented(tag: &str, key: &[u8], new: i64) -> String {
    format!("{tag}incr {} -> {new}", render::key(key))
}

/// Why `incr` left a counter that holds no whole number alone: the
/// sentence and its `help:` note. Inside a transaction the same words tell
/// why it was aborted.
pub(crate) fn not_a_counter(key: &[u8], held: &[u8]) -> (String, Vec<String>) {
    (
        format!(
            "`incr` counts in decimal text, but {} holds {}, which is not a whole number; nothing changed.",
            render::key(key),
            render::value(held)
        ),
        vec![format!(
            "help: start the counter over with `insert {} 0`",
            render::key(key)
        )],
    )
}

/// Why `incr` left a counter alone whose sum does not fit.
pub(crate) fn counter_overflow(current: i64, by: i64) -> (String, Vec<String>) {
    (
        format!("{current} + {by} does not fit in a 64-bit integer; nothing changed."),
        Vec::new(),
    )
}

/// `clear: removed 3 keys`.
pub(crate) fn cleared(tag: &str, removed: usize) -> String {
    format!("{tag}clear: removed {}", render::plural(removed, "key"))
}

/// What an interrupted `clear` did.
pub(crate) fn clear_interrupted(removed: usize) -> String {
    format!(
        "Interrupted: `clear` removed {} and stopped; the rest are still there.",
        render::plural(removed, "key")
    )
}

/// Which tree `open_tree`/`default_tree` switched to: `None` for the
/// default tree, else its name and whether it was there before.
pub(crate) fn using_tree(tree: Option<(&[u8], bool)>) -> String {
    match tree {
        None => "using the default tree".to_string(),
        Some((name, true)) => format!("using tree {}", render::tree_name(name)),
        Some((name, false)) => format!("using tree {} (new, empty)", render::tree_name(name)),
    }
}

/// What `drop_tree` did.
pub(crate) fn dropped_tree(name: &[u8], dropped: bool, was_current: bool) -> String {
    let shown = render::tree_name(name);
    match (dropped, was_current) {
        (true, true) => format!(
            "drop_tree {shown} -> true (it was the current tree; now using the default tree)"
        ),
        (true, false) => format!("drop_tree {shown} -> true"),
        (false, _) => format!("drop_tree {shown} -> false (there is no such tree)"),
    }
}

/// `flushed 120 bytes`.
pub(crate) fn flushed(bytes: usize) -> String {
    format!("flushed {bytes} bytes")
}

/// `size_on_disk`'s answer: `4096 bytes`.
pub(crate) fn size_on_disk(bytes: u64) -> String {
    format!("{bytes} bytes")
}

/// `drop_tree` of the default tree: the refusal.
pub(crate) const DEFAULT_TREE_STAYS: &str = "sled will not drop the default tree `__sled__default`: it holds the database's own structures (sled says \"cannot remove the core structures\").";
/// The help under [`DEFAULT_TREE_STAYS`].
pub(crate) const EMPTY_THE_DEFAULT_TREE: &str = "to empty it, `default_tree` and then `clear`";

/// `incr` when sled never called the update closure.
pub(crate) const UPDATE_NOT_RUN: &str =
    "sled did not run the update of the counter; nothing changed.";
