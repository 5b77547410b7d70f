//! The one boundary between the kernel and the Rust cells: [`RustCells`].
//! The real Rust cells (`ahead.rs`, with evcxr's context in `engine.rs`
//! behind it) and the stand-in of a build without the `rust-cells` feature
//! (`not_built.rs`) both implement it, so the compiler holds the stand-in
//! to the same methods; `super::InThisBuild` is the one this build has.
//!
//! The kernel calls the provided methods, [`RustCells::run`],
//! [`RustCells::complete_cell`] and [`RustCells::inspect_cell`], with what
//! [`Magic::parse`] found; they pick the method for the magic.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{CacheCommand, Magic, RustCode};
use crate::cell::{CellError, Completion, Interrupt, MimeBundle, Output};

/// The Rust side of a session, and of the process that holds it.
pub trait RustCells: Default {
    /// Must run first in `main`, before any thread starts: evcxr starts our
    /// own binary again as the process that runs Rust cells, and cargo
    /// starts it as its rustc wrapper (the Rust cache); in those roles this
    /// call never returns. Otherwise it points evcxr at this process's
    /// build directory (`session_dirs::rust_build_dir`).
    fn runtime_hook();

    /// `sled-kernel warm`: starts a Rust context the way the first `%%rust`
    /// cell does, so that what it compiles lands in the Rust cache; returns
    /// what to tell the user.
    fn warm() -> anyhow::Result<String>;

    /// `%%rust`: runs the code. `take_db` is called before the Rust code
    /// runs: it makes the KV interpreter flush and close the session
    /// database, and says where the database is.
    fn execute(
        &mut self,
        code: RustCode<'_>,
        take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError>;

    /// `%rust reset`: drops every variable, function, type and `:dep` the
    /// Rust cells made, and stops the process holding them (which releases
    /// the database); compiled crates are kept.
    fn reset(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError>;

    /// `%rust deps`: the crates Rust cells can use.
    fn deps(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError>;

    /// `%rust cache …`: the compiled-crate cache Rust cells share.
    fn cache(
        &mut self,
        command: CacheCommand,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError>;

    /// `%rust start`: the context starts on a thread of its own and this
    /// returns at once; KV cells go on, the first Rust cell waits for what
    /// is left of the start. `db_path` is where the session database is,
    /// without taking it (what `DB_PATH` says while KV cells go on with it).
    fn start(
        &mut self,
        db_path: &Path,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError>;

    /// `%rust stop`: ends the context (its variables, its process and
    /// rust-analyzer's analysis) and gives its memory back.
    fn stop(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError>;

    /// Completions from evcxr (rust-analyzer) inside a `%%rust` cell;
    /// `cursor_pos` counts code points from the start of the cell. None
    /// until the context has started (starting it takes seconds with a warm
    /// Rust cache and a minute without, too long to hold a completion
    /// request).
    fn complete(&mut self, code: RustCode<'_>, cell: &str, cursor_pos: usize)
        -> Option<Completion>;

    /// Documentation, from rust-analyzer, of what ends at the cursor in a
    /// `%%rust` cell; none until the context has started.
    fn inspect(&mut self, code: RustCode<'_>, cell: &str, cursor_pos: usize) -> Option<MimeBundle>;

    /// When the shell should wake to stop an idle Rust context; `None`
    /// when there is nothing to stop or no idle time is set.
    fn idle_deadline(&self) -> Option<Instant>;

    /// Stops the Rust context if it has gone unused for the idle time.
    fn stop_if_idle(&mut self);

    /// Runs what [`Magic::parse`] found: a wrong `%rust` line fails as it
    /// is, without asking for the database; everything else goes to the
    /// method for it. `db_path` and `take_db` as for [`RustCells::start`]
    /// and [`RustCells::execute`].
    fn run(
        &mut self,
        magic: Magic<'_>,
        db_path: &Path,
        take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        match magic {
            Magic::Invalid(error) => Err(error),
            Magic::Cell(code) => self.execute(code, take_db, out, interrupt),
            Magic::Reset => self.reset(out, interrupt),
            Magic::Deps => self.deps(out, interrupt),
            Magic::Cache(command) => self.cache(command, out, interrupt),
            Magic::Start => self.start(db_path, out),
            Magic::Stop => self.stop(out, interrupt),
        }
    }

    /// Tab in a cell for this side: [`RustCells::complete`] in a `%%rust`
    /// cell, nothing (at the cursor) on a `%rust …` line.
    fn complete_cell(&mut self, magic: &Magic<'_>, cell: &str, cursor_pos: usize) -> Completion {
        let found = match magic {
            Magic::Cell(code) => self.complete(*code, cell, cursor_pos),
            Magic::Reset
            | Magic::Deps
            | Magic::Cache(_)
            | Magic::Start
            | Magic::Stop
            | Magic::Invalid(_) => None,
        };
        found.unwrap_or(Completion {
            matches: Vec::new(),
            cursor_start: cursor_pos,
            cursor_end: cursor_pos,
        })
    }

    /// Shift+Tab in a cell for this side: [`RustCells::inspect`] in a
    /// `%%rust` cell, nothing on a `%rust …` line.
    fn inspect_cell(
        &mut self,
        magic: &Magic<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> Option<MimeBundle> {
        match magic {
            Magic::Cell(code) => self.inspect(*code, cell, cursor_pos),
            Magic::Reset
            | Magic::Deps
            | Magic::Cache(_)
            | Magic::Start
            | Magic::Stop
            | Magic::Invalid(_) => None,
        }
    }
}
