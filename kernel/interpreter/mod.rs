//! The cell language: parse a cell, evaluate it against the session's sled
//! database, and render what it produced as Jupyter mime bundles.
//!
//! The protocol side only talks to [`Interpreter`] and the [`Output`] sink; it
//! knows nothing of commands or sled.
//!
//! The folders follow a cell through the interpreter:
//!
//! * `language`: text to typed commands (lexer, errors, the command table,
//!   arguments, parser); no sled here;
//! * `running`: commands run against the session database, each giving an
//!   `Effect` (the dispatcher, the KV operations, blocks, files, magics,
//!   `%crash`, expect, watches, the session and its lock's holder);
//! * `showing`: effects as mime bundles (render, the `%draw` picture, help,
//!   progress bars); no sled here either;
//! * `assisting`: Tab and Shift+Tab (complete, inspect).
//!
//! This file ties them together: [`Interpreter::execute`] parses each item
//! (`language`), runs it (`running`) and sends what it produced where
//! IPython would (`deliver`, with `showing`). Imports go one way:
//! `running` uses `language` and `showing`, `showing` uses `language`, and
//! none of them uses this file's `Interpreter`.

mod assisting;
mod language;
mod running;
mod showing;
#[cfg(test)]
mod tests;

use assisting::{complete, inspect};
use language::{errors, parser, span};
use running::context::{Ctx, Effect, EvalError, Live, Settings};
use running::{dispatch, session};
use showing::{lines, render};

use crate::cell::{CellError, Completion, Interrupt, IsComplete, MimeBundle, Output};

/// Runs cells against one session database.
pub struct Interpreter {
    // Dropped first: the watches hold handles into the session's database,
    // which must be closed before its directory is deleted.
    live: Live,
    session: session::Session,
    settings: Settings,
    interrupt: Interrupt,
}

impl Interpreter {
    /// Opens a fresh session database in a new directory under the system
    /// temp dir; dropping the interpreter closes it and deletes the directory.
    /// First removes the directories that kernels no longer running left
    /// behind there.
    pub fn new(interrupt: Interrupt) -> anyhow::Result<Interpreter> {
        crate::session_dirs::sweep(&std::env::temp_dir());
        Ok(Interpreter {
            live: Live::default(),
            session: session::Session::temporary()?,
            settings: Settings::default(),
            interrupt,
        })
    }

    /// Runs a cell, streaming what it prints to `out`. Returns the cell's
    /// result (its last command, when that is a read), or the first error;
    /// commands before the error stay applied. A suspended database is
    /// reopened by the first line that needs it.
    pub fn execute(
        &mut self,
        code: &str,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.live.tombstones.clear();
        let result = self.run_items(code, out);
        // `%transfers` runs beside the cell it was started in, no longer.
        if let Some(line) = self
            .live
            .transfers
            .stop(lines::transfers::AT_THE_END_OF_THE_CELL)
        {
            out.stdout(&format!("{line}\n"));
        }
        // Whatever the cell changed, even one that failed half way, shows
        // in the watched tables before the cell ends.
        if !self.live.watches.is_empty() {
            self.live.watches.refresh(self.settings.limit, out);
        }
        result
    }

    fn run_items(
        &mut self,
        code: &str,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        let mut items = parser::items(code).peekable();
        let mut result = None;
        while let Some(parsed) = items.next() {
            let item = parsed.map_err(|p| p.into_cell_error(code))?;
            if self.interrupt.is_raised() {
                return Err(interrupted(&item).into_cell_error(code));
            }
            let is_last = items.peek().is_none();
            if item.waits() {
                // Let the frontend see what was printed so far, and the
                // watched tables what changed, before the pause.
                out.flush();
                self.live.watches.refresh(self.settings.limit, out);
            }
            if item.needs_db() && self.session.is_suspended() {
                self.session
                    .resume()
                    .map_err(|e| resume_failed(&item, e).into_cell_error(code))?;
                self.live.watches.attach_all(&self.session);
            }
            let mut ctx = Ctx {
                session: &mut self.session,
                settings: &mut self.settings,
                interrupt: &self.interrupt,
                out: &mut *out,
                live: &mut self.live,
            };
            let effect = match &item {
                parser::Item::Line(statement) => dispatch::run(&mut ctx, &statement.command),
                parser::Item::Block(block) => dispatch::run_block(&mut ctx, block),
            }
            .map_err(|e| failed(item.head(), item.name(), e).into_cell_error(code))?;
            if let Effect::Timed { elapsed, .. } = &effect {
                // The line's text after `%time`, for `%timings`.
                let after = code.get(item.head().end.byte..).unwrap_or("");
                let line = after.lines().next().unwrap_or("");
                self.live.timings.record(line, *elapsed);
            }
            result = deliver(effect, is_last, out);
        }
        Ok(result)
    }

    /// Completion; a suspended database offers no keys (it is not reopened
    /// for this).
    pub fn complete(&self, code: &str, cursor_pos: usize) -> Completion {
        complete::complete(&self.session, code, cursor_pos)
    }

    pub fn inspect(&self, code: &str, cursor_pos: usize, detail_level: u8) -> Option<MimeBundle> {
        inspect::inspect(&self.session, code, cursor_pos, detail_level)
    }

    pub fn is_complete(&self, code: &str) -> IsComplete {
        parser::completeness(code)
    }

    /// The database directory (it changes on `%reset` and `%open`; it stays
    /// the same while suspended).
    pub fn db_path(&self) -> &std::path::Path {
        self.session.path()
    }

    /// Flushes the database and lets go of it, so that other code in this
    /// process (Rust cells) can open the same directory. The directory, the
    /// current tree, `%limit` and every other setting are kept; the next
    /// cell line that needs the database opens it again.
    pub fn suspend(&mut self) -> anyhow::Result<()> {
        // The watches' subscribers hold the trees: let go of them too.
        self.live.watches.detach_all();
        self.live
            .transfers
            .stop(lines::transfers::AS_THE_RUST_CELLS_TOOK_IT);
        // Rust cells may write anything: what `%written_by` knew may no
        // longer be true.
        self.live.written_by.forget_all();
        Ok(self.session.suspend()?)
    }

    /// Whether the database is let go of (see [`Interpreter::suspend`]).
    pub fn is_suspended(&self) -> bool {
        self.session.is_suspended()
    }
}

/// Parses a cell without running it: how many items (lines and blocks) it
/// holds, or the first mistake, exactly as `execute` would report it. For
/// the cell-parser fuzz target and the parser benchmark.
pub fn parse_cell(code: &str) -> Result<usize, CellError> {
    let mut n = 0;
    for item in parser::items(code) {
        item.map_err(|p| p.into_cell_error(code))?;
        n += 1;
    }
    Ok(n)
}

/// Sends what a command produced where IPython would: writes and single
/// reads print, row reads display, and a read that ends the cell becomes its
/// result instead.
fn deliver(effect: Effect, is_last: bool, out: &mut dyn Output) -> Option<MimeBundle> {
    match effect {
        Effect::Print(line) => out.stdout(&format!("{line}\n")),
        Effect::Warn(line) => out.stderr(&format!("{line}\n")),
        Effect::Answer(answer) if is_last => return Some(answer.bundle()),
        Effect::Answer(answer) => out.stdout(&format!("{}\n", answer.text)),
        Effect::Rows(rows) if is_last => return Some(rows.bundle()),
        Effect::Rows(rows) => out.display(rows.bundle()),
        Effect::Display(bundle) => out.display(bundle),
        Effect::Several(effects) => {
            let n = effects.len();
            let mut result = None;
            for (i, effect) in effects.into_iter().enumerate() {
                result = deliver(effect, is_last && i + 1 == n, out);
            }
            return result;
        }
        Effect::Timed { inner, elapsed } => {
            let line = format!("wall time: {}\n", render::duration(elapsed));
            // A timed read that ends the cell still becomes its result;
            // the time is printed just before it. Anything else prints
            // first and the time after.
            if is_last && matches!(*inner, Effect::Answer(_) | Effect::Rows(_)) {
                out.stdout(&line);
                return deliver(*inner, true, out);
            }
            let result = deliver(*inner, false, out);
            out.stdout(&line);
            return result;
        }
        Effect::AskExit => out.ask_exit(),
        Effect::Nothing => {}
    }
    None
}

fn interrupted(item: &parser::Item) -> errors::Problem {
    errors::Problem::new(
        errors::ErrorKind::Interrupted,
        item.head(),
        format!(
            "Interrupted before line {} ran; the lines above it were applied.",
            item.head().start.line + 1
        ),
    )
}

/// The error for a line that needed the suspended database and could not
/// get it back.
fn resume_failed(item: &parser::Item, error: session::SessionError) -> errors::Problem {
    use errors::{ErrorKind, Problem};
    use lines::failures as said;
    let session::SessionError::Locked { path, holder } = error else {
        return Problem::new(
            ErrorKind::Storage,
            item.head(),
            said::not_opened_again(&error),
        )
        .help(said::RESET);
    };
    let path = path.display();
    match holder {
        Some(holder) if !holder.is_this_kernel() => Problem::new(
            ErrorKind::Locked,
            item.head(),
            said::held_by_another(&holder.describe(), &path),
        ),
        Some(_) => Problem::new(ErrorKind::Locked, item.head(), said::RUST_CELLS_HOLD_IT)
            .help(said::DID_NOT_RUN),
        None => Problem::new(ErrorKind::Locked, item.head(), said::SOMETHING_HOLDS_IT)
            .help(said::database_in(&path))
            .help(said::DID_NOT_RUN),
    }
}

fn failed(head: span::Span, name: &str, error: EvalError) -> errors::Problem {
    use errors::{ErrorKind, Problem};
    use lines::failures as said;
    match error {
        EvalError::Interrupted(None) => {
            Problem::new(ErrorKind::Interrupted, head, said::interrupted(name))
        }
        EvalError::Interrupted(Some(text)) => Problem::new(ErrorKind::Interrupted, head, text),
        EvalError::Storage(e) => Problem::new(ErrorKind::Storage, head, said::storage(name, &e))
            .help(said::APPLIED_RESET),
        EvalError::Session(e @ session::SessionError::Locked { .. }) => {
            Problem::new(ErrorKind::Locked, head, said::sentence(&e)).help(said::CLOSE_IT_THERE)
        }
        EvalError::Session(e) => Problem::new(ErrorKind::Storage, head, said::session(name, &e))
            .help(said::APPLIED_RESET),
        EvalError::Suspended => Problem::new(ErrorKind::Locked, head, said::NOT_REOPENED),
        EvalError::Refused {
            kind,
            message,
            notes,
        } => {
            let mut problem = Problem::new(kind, head, message);
            problem.notes = notes;
            problem
        }
        EvalError::AtLine { at, name, error } => failed(at, name, *error),
    }
}
