//! The one boundary between the protocol and what runs cells.
//!
//! A session has two engines: the KV interpreter ([`Interpreter`]) and the
//! Rust cells (the [`RustCells`] boundary, [`InThisBuild`] in this build).
//! [`Engines::new`] makes both; neither uses the other's code. Every
//! request about code (execute, complete, inspect, is_complete) goes to
//! exactly one of them, and [`Engines::engine_for`] decides which, once per
//! request, from the code alone: a cell whose first line is `%%rust` or
//! `%rust …` belongs to the Rust cells, anything else to the KV
//! interpreter. The [`Engine`] it gives back answers the four requests with
//! the types both engines share (`crate::cell`), so the shell never looks
//! at the code itself.
//!
//! The engines share the session's temporary directories (each makes its
//! own through `crate::session_dirs`) and the session database. sled lets
//! one process hold it at a time, so before Rust code runs the KV
//! interpreter flushes and closes it ([`Interpreter::suspend`]); its next
//! line that needs the database opens it again.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cell::{CellError, Completion, Interrupt, IsComplete, MimeBundle, Output};
use crate::interpreter::Interpreter;
use crate::rust_cells::{InThisBuild, Magic, RustCells};

/// Both engines of a session.
pub struct Engines {
    // Dropped first: the Rust cells' process may hold the database, which
    // the KV interpreter deletes when it goes.
    rust: InThisBuild,
    kv: Interpreter,
    /// The flag both engines stop on (the KV interpreter holds a clone).
    interrupt: Interrupt,
}

/// One request's engine, with the code it is about.
pub enum Engine<'a> {
    /// A KV cell.
    Kv {
        kv: &'a mut Interpreter,
        cell: &'a str,
    },
    /// A `%%rust` cell or a `%rust …` line, as [`Magic::parse`] read it.
    Rust {
        rust: &'a mut InThisBuild,
        /// Holds the database the Rust code needs handed over.
        kv: &'a mut Interpreter,
        interrupt: &'a Interrupt,
        cell: &'a str,
        magic: Magic<'a>,
    },
}

impl Engines {
    /// A session's engines, both stopping on `interrupt`: the KV
    /// interpreter opens a fresh session database (the error says why it
    /// could not); the Rust cells start nothing until their first cell.
    #[allow(
        clippy::default_constructed_unit_structs,
        reason = "InThisBuild is a unit struct in a build without the rust-cells feature"
    )]
    pub fn new(interrupt: Interrupt) -> anyhow::Result<Engines> {
        Ok(Engines {
            rust: InThisBuild::default(),
            kv: Interpreter::new(interrupt.clone())?,
            interrupt,
        })
    }

    /// The engine `cell` goes to.
    pub fn engine_for<'a>(&'a mut self, cell: &'a str) -> Engine<'a> {
        match Magic::parse(cell) {
            Some(magic) => Engine::Rust {
                rust: &mut self.rust,
                kv: &mut self.kv,
                interrupt: &self.interrupt,
                cell,
                magic,
            },
            None => Engine::Kv {
                kv: &mut self.kv,
                cell,
            },
        }
    }

    /// The KV interpreter, for what only KV code does (user expressions).
    pub fn kv(&mut self) -> &mut Interpreter {
        &mut self.kv
    }

    /// Where the session database is.
    pub fn db_path(&self) -> &Path {
        self.kv.db_path()
    }

    /// When the shell must wake, with no request, to stop an idle Rust
    /// context (a teacher's idle time, [`RustCells::idle_deadline`]); `None`:
    /// it may sleep until the next request.
    pub fn wake_at(&self) -> Option<Instant> {
        self.rust.idle_deadline()
    }

    /// What the shell does when it wakes at [`Engines::wake_at`].
    pub fn on_wake(&mut self) {
        self.rust.stop_if_idle();
    }
}

impl Engine<'_> {
    /// Runs the cell, streaming what it prints to `out`; its result bundle,
    /// or the error that stopped it.
    pub fn execute(self, out: &mut dyn Output) -> Result<Option<MimeBundle>, CellError> {
        match self {
            Engine::Kv { kv, cell } => kv.execute(cell, out),
            Engine::Rust {
                rust,
                kv,
                interrupt,
                magic,
                ..
            } => {
                let db_path = kv.db_path().to_path_buf();
                rust.run(magic, &db_path, &mut || hand_over(kv), out, interrupt)
            }
        }
    }

    /// Tab: what may stand at `cursor_pos` (code points from the cell's start).
    pub fn complete(self, cursor_pos: usize) -> Completion {
        match self {
            Engine::Kv { kv, cell } => kv.complete(cell, cursor_pos),
            Engine::Rust {
                rust, cell, magic, ..
            } => rust.complete_cell(&magic, cell, cursor_pos),
        }
    }

    /// Shift+Tab: what is known about the word at `cursor_pos`.
    pub fn inspect(self, cursor_pos: usize, detail_level: u8) -> Option<MimeBundle> {
        match self {
            Engine::Kv { kv, cell } => kv.inspect(cell, cursor_pos, detail_level),
            Engine::Rust {
                rust, cell, magic, ..
            } => rust.inspect_cell(&magic, cell, cursor_pos),
        }
    }

    /// Whether the cell is ready to run, needs more lines, or cannot run.
    pub fn is_complete(self) -> IsComplete {
        match self {
            Engine::Kv { kv, cell } => kv.is_complete(cell),
            Engine::Rust { magic, .. } => magic.is_complete(),
        }
    }
}

/// Lets go of the session database for the Rust cells; where it is.
fn hand_over(kv: &mut Interpreter) -> Result<PathBuf, CellError> {
    kv.suspend().map_err(|e| CellError {
        ename: "DatabaseError".into(),
        evalue: format!("could not hand the database to the Rust cells: {e:#}"),
        traceback: vec![
            format!("could not flush and close the session database: {e:#}"),
            "The Rust cell did not run. Run a KV cell (e.g. `flush`) to see the database's state, then try again.".into(),
        ],
    })?;
    Ok(kv.db_path().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Discard;

    fn engines() -> Engines {
        Engines::new(Interrupt::new()).unwrap()
    }

    #[test]
    fn each_cell_goes_to_one_engine() {
        let mut engines = engines();
        for kv in ["get a", "", "echo %%rust", "%reset", "%%rusty\nfn f() {}"] {
            assert!(
                matches!(engines.engine_for(kv), Engine::Kv { .. }),
                "{kv:?}"
            );
        }
        for rust in [
            "%%rust\nlet x = 1;",
            "\n%rust deps",
            "%rust cache clear",
            "%rust start",
            "%rust frobnicate",
        ] {
            assert!(
                matches!(engines.engine_for(rust), Engine::Rust { .. }),
                "{rust:?}"
            );
        }
    }

    #[test]
    fn both_engines_answer_with_the_same_types() {
        let mut engines = engines();
        let complete = |e: &mut Engines, code: &str| e.engine_for(code).is_complete();
        assert_eq!(complete(&mut engines, "get a"), IsComplete::Complete);
        assert_eq!(complete(&mut engines, "gte a"), IsComplete::Invalid);
        assert_eq!(
            complete(&mut engines, "batch\ninsert a 1"),
            IsComplete::Incomplete {
                indent: "  ".into()
            }
        );
        assert_eq!(complete(&mut engines, "%rust reset"), IsComplete::Complete);
        assert_eq!(complete(&mut engines, "%rust cache"), IsComplete::Complete);
        assert_eq!(complete(&mut engines, "%rust start"), IsComplete::Complete);
        assert_eq!(complete(&mut engines, "%rust what"), IsComplete::Invalid);
        assert_eq!(
            complete(&mut engines, "%%rust\nfn f() {"),
            IsComplete::Incomplete {
                indent: "    ".into()
            }
        );
        // Before the Rust context starts, Tab in a Rust cell offers nothing,
        // at the cursor; in a KV cell it offers commands.
        let code = "%%rust\nlet x = 1;";
        assert_eq!(
            engines.engine_for(code).complete(9),
            Completion {
                matches: Vec::new(),
                cursor_start: 9,
                cursor_end: 9,
            }
        );
        assert!(engines
            .engine_for("ge")
            .complete(2)
            .matches
            .contains(&"get".to_string()));
        assert!(engines.engine_for(code).inspect(9, 0).is_none());
        assert!(engines.engine_for("get a").inspect(1, 0).is_some());
    }

    #[test]
    fn a_wrong_rust_line_fails_without_taking_the_database() {
        let mut engines = engines();
        let error = engines
            .engine_for("%rust frobnicate")
            .execute(&mut Discard)
            .unwrap_err();
        assert_eq!(error.ename, "RustMagicError");
        assert!(!engines.kv().is_suspended());
        assert!(engines
            .engine_for("insert a 1")
            .execute(&mut Discard)
            .is_ok());
    }

    #[cfg(not(feature = "rust-cells"))]
    #[test]
    fn without_the_feature_a_rust_cell_leaves_the_kv_session_alone() {
        let mut engines = engines();
        engines
            .engine_for("insert a 1")
            .execute(&mut Discard)
            .unwrap();
        let error = engines
            .engine_for("%%rust\nprintln!(\"hi\");")
            .execute(&mut Discard)
            .unwrap_err();
        assert_eq!(error.ename, "RustCellsNotBuilt");
        assert!(!engines.kv().is_suspended(), "nothing was handed over");
        let result = engines.engine_for("get a").execute(&mut Discard).unwrap();
        assert_eq!(result.unwrap()["text/plain"], "get a -> \"1\"");
    }
}
