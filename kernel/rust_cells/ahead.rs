//! `%rust start`: the Rust context started ahead of the first `%%rust`
//! cell, on a thread of its own, while the notebook goes on with KV cells.
//!
//! Even with sled in the Rust cache a new context costs seconds, most of
//! them evcxr's rust-analyzer reading the standard library and sled inside
//! the kernel. A lesson that starts with `%rust start` pays them while its
//! students read; the first Rust cell then waits only for what is left.
//!
//! [`Ahead`] holds the [`Engine`], or the thread that has it. Everything
//! that needs the engine waits for that thread (an interrupt stops the
//! processes the start is waiting on, and the wait); completion and
//! inspection never wait, they find nothing until the context is there.

use super::engine::Engine;
use super::processes;
use super::{CacheCommand, RustCode};
use crate::cell::{CellError, Completion, Interrupt, MimeBundle, Output};
use crossbeam_channel::{select, Receiver};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What `%rust start` says.
pub(super) const STARTING_AHEAD: &str = "starting the Rust context in the background (about a minute the first time, seconds once sled is in the Rust cache); the first %%rust cell waits for it\n";
/// How often a wait looks at the interrupt flag.
const TICK: Duration = Duration::from_millis(20);
/// While a stopped start has not ended, kill again this often (it may have
/// been analysing code, not running cargo, when first told).
const KILL_AGAIN: Duration = Duration::from_millis(250);

/// What the starting thread hands back: the engine, whether the start
/// worked, and its notices about the Rust cache.
type Started = (Engine, Result<(), CellError>, Vec<String>);

/// The Rust side of a session (`rust_cells::RustCells`): the engine, or
/// the thread that is starting it. Its methods are the ones `not_built.rs`
/// stands in for; each waits for a start under way (see [`Ahead::wait`])
/// and then asks the engine, except completion and inspection, which never
/// wait.
#[derive(Default)]
pub struct Ahead {
    /// `None` while the engine is on the starting thread.
    engine: Option<Engine>,
    starting: Option<Receiver<Started>>,
    /// Notices of a start that completion collected, for the next cell.
    notices: Vec<String>,
}

/// Keeps the lines a background start prints; only the Rust cache's
/// notices are passed on, to the cell that waits for it.
#[derive(Default)]
struct Keep(Vec<String>);

impl Output for Keep {
    fn stdout(&mut self, _: &str) {}
    fn stderr(&mut self, text: &str) {
        self.0.extend(
            text.lines()
                .filter(|l| l.starts_with("Rust cache:"))
                .map(|l| format!("{l}\n")),
        );
    }
    fn display(&mut self, _: MimeBundle) {}
}

impl Ahead {
    /// `%rust start`.
    pub(super) fn start(
        &mut self,
        db_path: &Path,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        if self.starting.is_some() {
            out.stdout("the Rust context is already starting\n");
            return Ok(None);
        }
        let mut engine = self.engine.take().unwrap_or_default();
        if engine.is_running() {
            out.stdout("the Rust context is already running\n");
            self.engine = Some(engine);
            return Ok(None);
        }
        out.stdout(STARTING_AHEAD);
        for line in engine.cache_opening_lines() {
            out.stderr(&format!("{line}\n"));
        }
        let (done, starting) = crossbeam_channel::bounded(1);
        let db_path = db_path.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("rust-start".into())
            .spawn(move || {
                let mut kept = Keep::default();
                let result = engine.start_ahead(&db_path, &mut kept);
                let _ = done.send((engine, result, kept.0));
            });
        match spawned {
            Ok(_) => {
                self.starting = Some(starting);
                Ok(None)
            }
            // The engine went with the closure; it held no context yet.
            Err(e) => Err(CellError {
                ename: "RustContextFailed".into(),
                evalue: format!("could not start a thread for the Rust context: {e}"),
                traceback: vec![
                    format!("could not start a thread for the Rust context: {e}"),
                    "The first %%rust cell starts it instead.".into(),
                ],
            }),
        }
    }

    /// The engine, once any start in the background is over (everything
    /// but completion and inspection goes through here). An interrupt while
    /// waiting stops the start and fails the cell.
    fn wait(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<&mut Engine, CellError> {
        if let Some(starting) = self.starting.take() {
            let mut stopped = false;
            let (engine, result, notices) = loop {
                let wait = if stopped { KILL_AGAIN } else { TICK };
                select! {
                    recv(starting) -> started => match started {
                        Ok(started) => break started,
                        // The thread died without a word: start afresh.
                        Err(_) => break (Engine::default(), Ok(()), Vec::new()),
                    },
                    default(wait) => {
                        if interrupt.is_raised() {
                            processes::stop_descendants();
                            stopped = true;
                        }
                    }
                }
            };
            self.engine = Some(engine);
            self.notices.extend(notices);
            if stopped {
                return Err(interrupted_while_starting());
            }
            if let Err(e) = result {
                // The cell goes the usual way, which tries again and shows
                // what fails in its own output.
                log::info!("the Rust context started ahead failed: {}", e.evalue);
            }
        }
        for notice in self.notices.drain(..) {
            out.stderr(&notice);
        }
        Ok(self.engine.get_or_insert_with(Engine::default))
    }

    /// The engine if no start is under way (finished starts are
    /// collected): for completion and inspection, which never wait.
    fn ready(&mut self) -> Option<&mut Engine> {
        if let Some(starting) = &self.starting {
            let (engine, result, notices) = match starting.try_recv() {
                Ok(started) => started,
                Err(crossbeam_channel::TryRecvError::Empty) => return None,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    (Engine::default(), Ok(()), Vec::new())
                }
            };
            if let Err(e) = result {
                log::info!("the Rust context started ahead failed: {}", e.evalue);
            }
            self.engine = Some(engine);
            self.notices.extend(notices);
            self.starting = None;
        }
        Some(self.engine.get_or_insert_with(Engine::default))
    }

    /// A `%%rust` cell: `take_db` hands the session database over once the
    /// context is there (see `rust_cells::run`).
    pub(super) fn execute(
        &mut self,
        code: RustCode<'_>,
        take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.wait(out, interrupt)?
            .execute(code, take_db, out, interrupt)
    }

    pub(super) fn reset(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.wait(out, interrupt)?.reset(out, interrupt)
    }

    pub(super) fn deps(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.wait(out, interrupt)?.deps(out, interrupt)
    }

    /// `%rust cache …`: waits for a start under way, whose compiles the
    /// figures should count.
    pub(super) fn cache(
        &mut self,
        command: CacheCommand,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.wait(out, interrupt)?.cache_command(command, out)
    }

    pub(super) fn complete(
        &mut self,
        code: RustCode<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> Option<Completion> {
        self.ready()?.complete(code, cell, cursor_pos)
    }

    pub(super) fn inspect(
        &mut self,
        code: RustCode<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> Option<MimeBundle> {
        self.ready()?.inspect(code, cell, cursor_pos)
    }
}

impl Drop for Ahead {
    /// A kernel shutting down while its context starts: stop the start and
    /// wait for it, so its build directory and processes go too. Killing
    /// cargo ends a compile at once, but evcxr's first evaluation also has
    /// rust-analyzer load the standard library inside this process, which
    /// nothing interrupts: a shutdown then waits for it (seconds; more on a
    /// busy machine). A frontend that gives up first and kills the kernel
    /// leaves the build directory to the next kernel, which sweeps it.
    fn drop(&mut self) {
        if let Some(starting) = self.starting.take() {
            loop {
                processes::stop_descendants();
                match starting.recv_timeout(KILL_AGAIN) {
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            }
        }
    }
}

fn interrupted_while_starting() -> CellError {
    CellError {
        ename: "Interrupted".into(),
        evalue: "interrupted while the Rust context was starting; nothing ran".into(),
        traceback: vec![
            "Interrupted while waiting for the Rust context that `%rust start` began; its start was stopped and nothing ran."
                .into(),
            "The next %%rust cell starts it again.".into(),
        ],
    }
}
