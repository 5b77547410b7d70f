//! Stands in for `ahead.rs` (and the evcxr engine behind it) in a build
//! without the `rust-cells` cargo feature: it implements the same
//! [`RustCells`] boundary, so the rest of the kernel is the same in both
//! builds and the compiler keeps the two in step. Each Rust cell or
//! `%rust` line gets an error that says Rust cells are not in this build,
//! where they are (the Linux and macOS builds), and how to rebuild where
//! that helps. It never asks for the database, so the KV side is left as
//! it was. Windows builds are always this one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{CacheCommand, RustCells, RustCode};
use crate::cell::{CellError, Completion, Interrupt, MimeBundle, Output};

/// The Rust side of a session in a build without Rust cells.
#[derive(Default)]
pub struct NotBuilt;

impl RustCells for NotBuilt {
    /// Nothing to hook: this binary is never started as evcxr's process or
    /// cargo's rustc wrapper.
    fn runtime_hook() {}

    /// `sled-kernel warm` in a build without Rust cells: nothing to warm.
    fn warm() -> anyhow::Result<String> {
        anyhow::bail!(
            "this sled-kernel was built without the `rust-cells` feature, so it has no Rust cells and no Rust cache to warm. {} {}",
            WHERE_THEY_ARE,
            HOW_TO_GET_THEM.join(" ")
        )
    }

    fn execute(
        &mut self,
        _code: RustCode<'_>,
        _take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%%rust"))
    }

    fn reset(
        &mut self,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust reset"))
    }

    fn deps(
        &mut self,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust deps"))
    }

    /// No Rust cache either: this build compiles no Rust.
    fn cache(
        &mut self,
        _command: CacheCommand,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust cache"))
    }

    fn start(
        &mut self,
        _db_path: &Path,
        _out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust start"))
    }

    fn stop(
        &mut self,
        _out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        Err(not_built("%rust stop"))
    }

    /// There is never a Rust context to stop for being idle.
    fn idle_deadline(&self) -> Option<Instant> {
        None
    }

    fn stop_if_idle(&mut self) {}

    /// Nothing to complete: there is no Rust context.
    fn complete(
        &mut self,
        _code: RustCode<'_>,
        _cell: &str,
        _cursor_pos: usize,
    ) -> Option<Completion> {
        None
    }

    /// Nothing to inspect: there is no Rust context.
    fn inspect(
        &mut self,
        _code: RustCode<'_>,
        _cell: &str,
        _cursor_pos: usize,
    ) -> Option<MimeBundle> {
        None
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust_cells::Magic;

    #[test]
    fn without_the_feature_rust_cells_name_it() {
        use crate::cell::Discard;
        let interrupt = Interrupt::new();
        let mut rust = NotBuilt;
        let mut asked_for_the_database = 0;
        for text in [
            "%%rust\nprintln!(\"hi\");",
            "%rust reset",
            "%rust deps",
            "%rust cache",
            "%rust cache clear",
            "%rust start",
            "%rust stop",
        ] {
            let magic = Magic::parse(text).unwrap();
            let mut take_db = || {
                asked_for_the_database += 1;
                Ok(PathBuf::new())
            };
            let error = rust
                .run(
                    magic,
                    Path::new("db"),
                    &mut take_db,
                    &mut Discard,
                    &interrupt,
                )
                .unwrap_err();
            assert_eq!(error.ename, "RustCellsNotBuilt");
            assert!(
                error
                    .evalue
                    .starts_with("Rust cells are not available in this build"),
                "{error:?}"
            );
            assert!(error.evalue.contains("`rust-cells` feature"), "{error:?}");
            let text = error.traceback.join("\n");
            assert!(text.contains("the Linux and macOS wheels"), "{text}");
            if cfg!(windows) {
                assert!(text.contains("KV cells work in full here"), "{text}");
            } else {
                assert!(text.contains("--features rust-cells"), "{text}");
            }
        }
        // The KV side is untouched: the database was never asked for.
        assert_eq!(asked_for_the_database, 0);
        // Nor is there a Rust cache to warm.
        let warm = NotBuilt::warm().unwrap_err().to_string();
        assert!(warm.contains("`rust-cells` feature"), "{warm}");
    }
}
