//! Stands in for `ahead.rs` (and the evcxr engine behind it) in a build
//! without the `rust-cells` cargo feature: the same methods, so the rest of
//! the kernel is the same in both builds, each answering a Rust cell or
//! `%rust` line with an error that says Rust cells are not in this build,
//! where they are (the Linux and macOS builds), and how to rebuild where
//! that helps. It never asks for the database, so the KV side is left as
//! it was. Windows builds are always this one.

use std::path::{Path, PathBuf};

use super::{CacheCommand, RustCode};
use crate::cell::{CellError, Completion, Interrupt, MimeBundle, Output};

/// The Rust side of a session in a build without Rust cells.
#[derive(Default)]
pub struct NotBuilt;

impl NotBuilt {
    pub(super) fn execute(
        &mut self,
        _code: RustCode<'_>,
        _take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%%rust"))
    }

    pub(super) fn reset(
        &mut self,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust reset"))
    }

    pub(super) fn deps(
        &mut self,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust deps"))
    }

    /// No Rust cache either: this build compiles no Rust.
    pub(super) fn cache(
        &mut self,
        _command: CacheCommand,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust cache"))
    }

    pub(super) fn start(
        &mut self,
        _db_path: &Path,
        _out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust start"))
    }

    pub(super) fn stop(
        &mut self,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust stop"))
    }

    /// There is never a Rust context to stop for being idle.
    pub fn idle_deadline(&self) -> Option<std::time::Instant> {
        None
    }

    pub fn stop_if_idle(&mut self) {}

    /// Nothing to complete: there is no Rust context.
    pub(super) fn complete(
        &mut self,
        _code: RustCode<'_>,
        _cell: &str,
        _cursor_pos: usize,
    ) -> Option<Completion> {
        None
    }

    /// Nothing to inspect: there is no Rust context.
    pub(super) fn inspect(
        &mut self,
        _code: RustCode<'_>,
        _cell: &str,
        _cursor_pos: usize,
    ) -> Option<MimeBundle> {
        None
    }
}

/// `sled-kernel warm` in a build without Rust cells: nothing to warm.
pub fn warm() -> anyhow::Result<String> {
    anyhow::bail!(
        "this sled-kernel was built without the `rust-cells` feature, so it has no Rust cells and no Rust cache to warm. {} {}",
        WHERE_THEY_ARE,
        HOW_TO_GET_THEM.join(" ")
    )
}

/// Where Rust cells are to be had.
const WHERE_THEY_ARE: &str = "Rust cells come with the Linux and macOS wheels of sled-kernel and with builds from source on Linux and macOS; Windows builds have none, because evcxr, which runs them, does not fully support Windows.";

/// What to do about it here.
#[cfg(not(windows))]
const HOW_TO_GET_THEM: &[&str] = &[
    "To have them here, rebuild with the feature (it is on by default; --no-default-features turns it off):",
    "    cargo build --release --locked --features rust-cells",
    "then install the kernel again (./install.sh) and restart it.",
];
#[cfg(windows)]
const HOW_TO_GET_THEM: &[&str] = &[
    "KV cells work in full here. For Rust cells, use sled-kernel on Linux or macOS (on this Windows machine, WSL can run the Linux wheel).",
];

/// The error every Rust cell gets from a build without the feature.
fn not_built(what: &str) -> CellError {
    let evalue = format!(
        "Rust cells are not available in this build of sled-kernel (it was built without the `rust-cells` feature), so `{what}` cannot run"
    );
    let mut traceback = vec![format!("{evalue}."), WHERE_THEY_ARE.to_string()];
    traceback.extend(HOW_TO_GET_THEM.iter().map(|line| line.to_string()));
    CellError {
        ename: "RustCellsNotBuilt".into(),
        evalue,
        traceback,
    }
}
