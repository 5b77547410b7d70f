//! A cell as the protocol side and both engines see it. The KV interpreter
//! (`interpreter/`) and the Rust cells (`rust_cells/`) run cells
//! of different languages; both send what a cell prints to an [`Output`],
//! end with a result [`MimeBundle`] or a [`CellError`], stop when the
//! [`Interrupt`] is raised, and answer Tab and `is_complete` with a
//! [`Completion`] and an [`IsComplete`]. The engine module (`engine.rs`)
//! decides which of them a request goes to.

use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A mime bundle: `{"text/plain": "...", "text/html": "...", ...}`.
pub type MimeBundle = Map<String, Value>;

/// Where a running cell sends what it prints, as it happens.
pub trait Output {
    /// Text for the `stdout` stream (already newline-terminated lines).
    fn stdout(&mut self, text: &str);
    /// Text for the `stderr` stream (warnings).
    fn stderr(&mut self, text: &str);
    /// A `display_data` bundle (rows from `scan_prefix`, `iter`, `keys`).
    fn display(&mut self, data: MimeBundle);
    /// A display that later updates replace in place (a progress bar, a
    /// watched prefix): `display_data` with `transient.display_id`.
    fn display_with_id(&mut self, data: MimeBundle, display_id: &str) {
        let _ = display_id;
        self.display(data);
    }
    /// Replaces what the display `display_id` shows, wherever it is
    /// (`update_display_data`).
    fn update_display(&mut self, data: MimeBundle, display_id: &str) {
        let _ = (data, display_id);
    }
    /// Send whatever is gathered now: called before the cell waits
    /// (`%sleep`) and once a long loop is under way.
    fn flush(&mut self) {}
    /// The cell asks the frontend to close (`exit`, `quit`): a console ends
    /// its session, a notebook ignores it.
    fn ask_exit(&mut self) {}
}

/// An `Output` that drops everything: used for `silent` execution.
pub struct Discard;

impl Output for Discard {
    fn stdout(&mut self, _: &str) {}
    fn stderr(&mut self, _: &str) {}
    fn display(&mut self, _: MimeBundle) {}
}

/// A failed cell, as Jupyter shows it: `ename`, `evalue`, and traceback
/// lines. It is also the content of the `error` broadcast and the error
/// fields of every failed reply (see `message.rs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl CellError {
    /// An error whose traceback is the one line `ENAME: EVALUE`.
    pub fn new(ename: &str, evalue: impl Into<String>) -> Self {
        let evalue = evalue.into();
        CellError {
            ename: ename.to_string(),
            traceback: vec![format!("{ename}: {evalue}")],
            evalue,
        }
    }
}

/// Set from the control thread or by the system (SIGINT; on Windows the
/// interrupt event or Ctrl+C); a running cell checks it between lines and
/// inside long loops, and stops with an `Interrupted` error.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// Forget an interrupt that arrived while nothing was running.
    pub fn clear(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The answer to a `complete_request`. Positions are code points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub matches: Vec<String>,
    pub cursor_start: usize,
    pub cursor_end: usize,
}

/// The answer to an `is_complete_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsComplete {
    Complete,
    Incomplete { indent: String },
    Invalid,
}
