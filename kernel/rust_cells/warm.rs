//! `sled-kernel warm`: fill the Rust cache before class.
//!
//! It runs a Rust context exactly as a kernel's first `%%rust` cell does
//! (same evcxr settings, same `:dep sled`, the same cargo arguments), so
//! what it compiles is what the next kernel looks for.

use super::engine::Engine;
use super::wrapper::Mode;
use super::RustCode;
use crate::cell::{Interrupt, MimeBundle, Output};
use anyhow::{bail, Context};
use std::path::Path;
use std::time::Instant;

/// Passes the context's messages (the "starting" line, notices about the
/// cache, compile output) on to stderr.
struct Relay;

impl Output for Relay {
    fn stdout(&mut self, text: &str) {
        eprint!("{text}");
    }
    fn stderr(&mut self, text: &str) {
        eprint!("{text}");
    }
    fn display(&mut self, _: MimeBundle) {}
}

pub(super) fn warm() -> anyhow::Result<String> {
    let began = Instant::now();
    let mut engine = Engine::default();
    engine.prepare_cache();
    let Some(dir) = engine.cache().dir().map(Path::to_path_buf) else {
        bail!(
            "there is nothing to warm: the Rust cache is {}; unset {} (or set it to a directory) and try again",
            engine.cache().state_text(),
            super::CACHE_DIR_ENV
        );
    };
    if engine.cache().mode() != Mode::ReadWrite {
        bail!(
            "cannot warm the Rust cache at {}: it is {}",
            dir.display(),
            engine.cache().state_text()
        );
    }
    eprintln!(
        "warming the Rust cache at {}: starting a Rust context as the first %%rust cell does",
        dir.display()
    );
    // DB_PATH must name something; no code here opens it.
    let db = tempfile::tempdir().context("cannot create a temporary directory")?;
    let code = RustCode {
        body: "1 + 1",
        offset: 0,
        first_line: 1,
    };
    let mut take_db = || Ok(db.path().to_path_buf());
    let result = engine.execute(code, &mut take_db, &mut Relay, &Interrupt::new());
    let counts = engine.cache().counts();
    // Deletes the context's build directory.
    drop(engine);
    if let Err(e) = result {
        bail!("{}", e.traceback.join("\n"));
    }
    let seconds = began.elapsed().as_secs_f64();
    let place = dir.display();
    Ok(if counts.compiled == 0 {
        format!(
            "the Rust cache at {place} was already warm: {} crates came from it ({seconds:.1} s)",
            counts.from_cache
        )
    } else {
        format!(
            "warmed the Rust cache at {place} in {seconds:.1} s: {} crates compiled, {} added ({}), {} already there; the first %%rust cell of a new kernel now skips compiling them",
            counts.compiled,
            counts.kept,
            super::cache::human(counts.kept_bytes),
            counts.from_cache
        )
    })
}
