//! The cell language: parse a cell, evaluate it against the session's sled
//! database, and render what it produced as Jupyter mime bundles.
//!
//! The protocol side only talks to [`Interpreter`] and the [`Output`] sink; it
//! knows nothing of commands or sled.
//!
//! The pieces, in the order a cell goes through them:
//!
//! * `lexer`: words and their spans (code points), decoding quotes and escapes;
//! * `command`: the table of commands (names, aliases, syntax, help);
//! * `parser`: statements of words, then typed `parser::Command`s;
//! * `eval`: running a command against the `session` database;
//! * `render`: printed lines, HTML tables and JSON;
//! * `errors`: errors with line, column and a caret;
//! * `complete` and `inspect`: Tab and Shift+Tab.

mod command;
mod complete;
mod errors;
mod eval;
mod inspect;
mod lexer;
mod parser;
mod render;
mod session;
#[cfg(test)]
mod tests;

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
    /// Send whatever is gathered now: called before the cell waits (`%sleep`).
    fn flush(&mut self) {}
}

/// An `Output` that drops everything: used for `silent` execution.
pub struct Discard;

impl Output for Discard {
    fn stdout(&mut self, _: &str) {}
    fn stderr(&mut self, _: &str) {}
    fn display(&mut self, _: MimeBundle) {}
}

/// A failed cell, as Jupyter shows it: `ename`, `evalue`, and traceback lines.
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

/// Set from the control thread or a SIGINT; a running cell checks it between
/// lines and inside long loops, and stops with an `Interrupted` error.
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
    /// The flag itself, for `signal_hook::flag::register`.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
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

/// Runs cells against one session database.
pub struct Interpreter {
    session: session::Session,
    interrupt: Interrupt,
}

impl Interpreter {
    /// Opens a fresh session database in a new directory under the system
    /// temp dir; dropping the interpreter closes it and deletes the directory.
    pub fn new(interrupt: Interrupt) -> anyhow::Result<Interpreter> {
        Ok(Interpreter {
            session: session::Session::open()?,
            interrupt,
        })
    }

    /// Runs a cell, streaming what it prints to `out`. Returns the cell's
    /// result (its last command, when that is a read), or the first error;
    /// commands before the error stay applied.
    pub fn execute(
        &mut self,
        code: &str,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        let mut statements = parser::statements(code).peekable();
        let mut result = None;
        while let Some(parsed) = statements.next() {
            let statement = parsed.map_err(|p| p.into_cell_error(code))?;
            if self.interrupt.is_raised() {
                return Err(interrupted(&statement).into_cell_error(code));
            }
            let is_last = statements.peek().is_none();
            if statement.command.waits() {
                // Let the frontend see what was printed so far before the pause.
                out.flush();
            }
            let effect = eval::run(&mut self.session, &statement.command, &self.interrupt)
                .map_err(|e| failed(&statement, e).into_cell_error(code))?;
            result = deliver(effect, is_last, out);
        }
        Ok(result)
    }

    pub fn complete(&self, code: &str, cursor_pos: usize) -> Completion {
        complete::complete(self.session.db(), code, cursor_pos)
    }

    pub fn inspect(&self, code: &str, cursor_pos: usize, detail_level: u8) -> Option<MimeBundle> {
        inspect::inspect(self.session.db(), code, cursor_pos, detail_level)
    }

    pub fn is_complete(&self, code: &str) -> IsComplete {
        parser::completeness(code)
    }

    /// The session database directory (it changes on `%reset`).
    pub fn db_path(&self) -> &std::path::Path {
        self.session.path()
    }
}

/// Sends what a command produced where IPython would: writes and single
/// reads print, row reads display, and a read that ends the cell becomes its
/// result instead.
fn deliver(effect: eval::Effect, is_last: bool, out: &mut dyn Output) -> Option<MimeBundle> {
    match effect {
        eval::Effect::Print(line) => out.stdout(&format!("{line}\n")),
        eval::Effect::Warn(line) => out.stderr(&format!("{line}\n")),
        eval::Effect::Value { key, value } if is_last => {
            return Some(render::get_bundle(&key, value.as_deref()));
        }
        eval::Effect::Value { key, value } => {
            out.stdout(&format!("{}\n", render::get_line(&key, value.as_deref())));
        }
        eval::Effect::Rows(rows) if is_last => return Some(rows.bundle()),
        eval::Effect::Rows(rows) => out.display(rows.bundle()),
        eval::Effect::Nothing => {}
    }
    None
}

fn interrupted(statement: &parser::Statement) -> errors::Problem {
    errors::Problem::new(
        errors::ErrorKind::Interrupted,
        statement.head,
        format!(
            "Interrupted before line {} ran; the lines above it were applied.",
            statement.head.start.line + 1
        ),
    )
}

fn failed(statement: &parser::Statement, error: eval::EvalError) -> errors::Problem {
    let name = statement.spec.name;
    match error {
        eval::EvalError::Interrupted => errors::Problem::new(
            errors::ErrorKind::Interrupted,
            statement.head,
            format!("Interrupted while `{name}` ran; the lines above it were applied."),
        ),
        eval::EvalError::Storage(e) => errors::Problem::new(
            errors::ErrorKind::Storage,
            statement.head,
            format!("sled failed to run `{name}`: {e}."),
        )
        .help("the lines above it were applied; `%reset` opens a fresh database"),
    }
}
