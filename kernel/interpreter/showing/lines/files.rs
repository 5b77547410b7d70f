//! The lines of `%load`, `%dump` and `%sample_file` (`running/files.rs`):
//! what went in or out of a file, and what was wrong with one.

use std::fmt::Display;

use crate::interpreter::showing::render;

/// What `%load`'s progress bar is called.
pub(crate) fn load_bar(tag: &str, typed: &str) -> String {
    format!("{tag}%load {typed}")
}

/// Interrupt during `%load`'s first pass, which only checks.
pub(crate) fn load_check_interrupted(typed: &str) -> String {
    format!("Interrupted while %load checked {typed}; nothing was loaded.")
}

/// Interrupt during `%load`'s second pass, after `applied` rows.
pub(crate) fn load_interrupted(applied: usize, total: usize, typed: &str, chunk: usize) -> String {
    format!(
        "Interrupted: %load stopped after the first {applied} of {} from {typed} (it stops only at a multiple of {chunk}); the rest was not loaded.",
        render::plural(total, "row"),
    )
}

/// A refusal met after some rows were in (the file changed between the
/// passes).
pub(crate) fn partly_loaded(message: &str, applied: usize) -> String {
    format!("{message} (the first {applied} rows were already loaded)")
}

/// `loaded 3 rows from f.jsonl`: `per_tree` holds how many rows went to
/// each tree when they did not all go to the current one; `flushes` is
/// `flush_every=N` and how many flushes it made.
pub(crate) fn loaded(
    tag: &str,
    typed: &str,
    applied: usize,
    per_tree: Option<&[(&[u8], usize)]>,
    flushes: Option<(usize, usize)>,
) -> String {
    let rows = render::plural(applied, "row");
    let line = match per_tree {
        None => format!("{tag}loaded {rows} from {typed}"),
        Some(per_tree) => {
            let trees: Vec<String> = per_tree
                .iter()
                .map(|(name, n)| format!("{} {n}", render::tree_name(name)))
                .collect();
            format!("loaded {rows} from {typed}: {}", trees.join(", "))
        }
    };
    match flushes {
        None => line,
        Some((every, made)) => format!(
            "{line}, with a flush after every {} ({})",
            if every == 1 {
                "row".to_string()
            } else {
                render::plural(every, "row")
            },
            match made {
                1 => "1 flush".to_string(),
                n => format!("{n} flushes"),
            }
        ),
    }
}

/// Line `line` of `typed` is not a pair, because `why`.
pub(crate) fn bad_line(typed: &str, line: usize, why: &str) -> String {
    format!("Line {line} of {typed}: {why}. Nothing was loaded.")
}

/// The `help:` under a bad line: what a line of a JSON-lines file (or, with
/// `csv`, a CSV record) looks like.
pub(crate) fn expected_line(csv: bool) -> String {
    let example = if csv {
        "two columns, key,value, with \"quotes\" around fields that hold commas"
    } else {
        r#"each line like {"key": "k", "value": "v"} (optional "tree": "name"; bytes as {"hex": "00ff"})"#
    };
    format!("expected {example}")
}

/// Why a line longer than `max` bytes is refused.
pub(crate) fn line_too_long(max: u64) -> String {
    format!("the line is longer than {} MiB", max >> 20)
}

/// Why a CSV record longer than `max` bytes is refused.
pub(crate) fn record_too_long(opened_on: usize, max: u64) -> String {
    format!(
        "the record starting on line {opened_on} is longer than {} MiB",
        max >> 20
    )
}

/// Why a CSV record whose quote never closes is refused.
pub(crate) fn quote_not_closed(opened_on: usize) -> String {
    format!("the quote opened on line {opened_on} is never closed")
}

/// Why a CSV row of other than two columns is refused.
pub(crate) fn columns(found: usize) -> String {
    format!("a row needs 2 columns, key and value, and this one has {found}")
}

/// Why a line that serde_json cannot read is refused.
pub(crate) fn not_json(error: &dyn Display) -> String {
    format!("this is not JSON ({error})")
}

/// Why a JSON field that holds no bytes is refused.
pub(crate) fn not_bytes(field: &str) -> String {
    format!("\"{field}\" must be a string or {{\"hex\": \"...\"}}")
}

/// `typed` is there but is not a regular file.
pub(crate) fn not_a_file(doing: Access, typed: &str) -> String {
    format!("Cannot {} {typed}: it is not a regular file.", doing.verb())
}

/// The operating system refused to let `typed` be read or written.
pub(crate) fn cannot(doing: Access, typed: &str, error: &dyn Display) -> String {
    format!("Cannot {} {typed}: {error}.", doing.verb())
}

/// `%dump` or `%sample_file` asked to write a `.csv` file.
pub(crate) fn not_csv(who: &str, typed: &str) -> String {
    format!(
        "{who} writes JSON lines, not CSV; name the file something like {}.jsonl.",
        typed.trim_end_matches(".csv")
    )
}

/// Interrupt while `who` wrote `typed`.
pub(crate) fn write_interrupted(who: &str, typed: &str) -> String {
    format!(
        "Interrupted: {who} stopped and deleted the half-written {typed}; the database is unchanged."
    )
}

/// `dumped 3 rows from 1 tree to f.jsonl`.
pub(crate) fn dumped(rows: usize, trees: usize, typed: &str) -> String {
    format!(
        "dumped {} from {} to {typed}",
        render::plural(rows, "row"),
        render::plural(trees, "tree")
    )
}

/// `%sample_file` asked for a count out of range.
pub(crate) fn sample_count(rows: usize, max: usize) -> String {
    format!(
        "%sample_file writes from 1 to {max} pairs, and {rows} is not in that range; give a count such as 100000."
    )
}

/// What `%sample_file` wrote, from its first key to its last.
pub(crate) fn sampled(typed: &str, rows: usize, first: &[u8], last: &[u8]) -> String {
    format!(
        "wrote {} to {typed}: keys {} to {}; `%load {typed}` puts them in the current tree",
        render::plural(rows, "sample pair"),
        render::key(first),
        render::key(last),
    )
}

/// Whether a file was being read or written, as the errors say it.
#[derive(Clone, Copy)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Access {
    fn verb(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// What `%load`'s progress bar counts.
pub(crate) const LOAD_UNIT: &str = "row";
/// `%load`'s progress bar after an error or an interrupt.
pub(crate) const LOAD_STOPPED: &str = "stopped";

/// What is wrong with a JSON line or a CSV row.
pub(crate) const NOT_AN_OBJECT: &str = "expected a JSON object";
pub(crate) const KEY_MISSING: &str = "\"key\" is missing";
pub(crate) const VALUE_MISSING: &str = "\"value\" is missing";
pub(crate) const TEXT_AFTER_QUOTE: &str = "text follows a closing quote; put a comma after it";
