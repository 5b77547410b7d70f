//! The lines commands print, built from what `running/` found, one module
//! per module there that prints: `running/` decides what happened, these
//! decide the words a student reads. (Answers, rows and pictures are in
//! `render`, `draw`, `log` and `timings` beside this folder.)

pub(crate) mod blocks;
pub(crate) mod crash;
pub(crate) mod dispatch;
pub(crate) mod expect;
pub(crate) mod failures;
pub(crate) mod files;
pub(crate) mod isolation;
pub(crate) mod kv;
pub(crate) mod magics;
pub(crate) mod session;
pub(crate) mod transfers;
pub(crate) mod watch;

/// `tree "users"`, or `the default tree` for `None`.
pub(crate) fn the_tree(name: Option<&[u8]>) -> String {
    match name {
        Some(name) => format!("tree {}", super::render::tree_name(name)),
        None => "the default tree".to_string(),
    }
}

/// A `help:` line under an error: how to fix it.
pub(crate) fn help_note(text: &str) -> String {
    format!("help: {text}")
}
