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
//!
//! It also stops the context: `%rust stop` at once, and, when the teacher
//! sets [`IDLE_ENV`], after that long without a Rust cell (the shell asks
//! [`Ahead::idle_deadline`] how long it may sleep and calls
//! [`Ahead::stop_if_idle`] when it wakes). A running context holds a few
//! hundred MB; a stopped one nothing. The next `%%rust` cell starts a new
//! one, and after an idle stop says first, in one line, that the Rust
//! variables are gone, why, and how to change the time.

use super::engine::Engine;
use super::processes::{self, KILL_AGAIN, TICK};
use super::{warm, wrapper, CacheCommand, RustCells, RustCode};
use crate::cell::{CellError, Completion, Interrupt, MimeBundle, Output};
use crate::session_dirs;
use crossbeam_channel::{select, Receiver};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How many minutes without a Rust cell stop the Rust context (a teacher
/// sets it in the kernelspec's `env`, or where Jupyter starts); unset or
/// `0`: never.
pub(super) const IDLE_ENV: &str = "SLED_KERNEL_RUST_IDLE_MINUTES";
/// While `%rust start` runs in the background with an idle time set, the
/// shell looks this often whether it has finished (the idle time counts
/// from then).
const CHECK_START: Duration = Duration::from_secs(5);

/// What `%rust start` says.
pub(super) const STARTING_AHEAD: &str = "starting the Rust context in the background (about a minute the first time, seconds once sled is in the Rust cache); the first %%rust cell waits for it\n";

/// What the starting thread hands back: the engine, whether the start
/// worked, and its notices about the Rust cache.
type Started = (Engine, Result<(), CellError>, Vec<String>);

/// The Rust side of a session in a build with Rust cells (its
/// [`RustCells`], as `not_built.rs` is without them): the engine, or the
/// thread that is starting it. Each method waits for a start under way
/// (see [`Ahead::wait`]) and then asks the engine, except completion and
/// inspection, which never wait.
#[derive(Default)]
pub struct Ahead {
    /// `None` while the engine is on the starting thread.
    engine: Option<Engine>,
    starting: Option<Receiver<Started>>,
    /// Notices of a start that completion collected, for the next cell.
    notices: Vec<String>,
    idle: Idle,
}

/// When an idle Rust context is stopped, and what the next cell says.
struct Idle {
    /// How long without a Rust cell; `None`: never.
    after: Option<Duration>,
    /// What is wrong with [`IDLE_ENV`], said with the first Rust cell.
    problem: Option<String>,
    /// When the Rust side was last used (a cell, a `%rust` line, Tab).
    last_used: Instant,
    /// The context was stopped for being idle this long: the next
    /// `%%rust` cell says so.
    stopped: Option<Duration>,
}

impl Default for Idle {
    fn default() -> Self {
        let value = std::env::var(IDLE_ENV).ok();
        let (after, problem) = idle_setting(value.as_deref());
        Idle {
            after,
            problem,
            last_used: Instant::now(),
            stopped: None,
        }
    }
}

/// Reads [`IDLE_ENV`]: minutes (`20`, `0.5`), `0` or unset for never.
/// The longest idle time taken: a year, far below where a `Duration` or an
/// `Instant` plus it could overflow.
const IDLE_MAX_MINUTES: f64 = 525_600.0;

fn idle_setting(value: Option<&str>) -> (Option<Duration>, Option<String>) {
    let Some(text) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return (None, None);
    };
    match text.parse::<f64>() {
        Ok(0.0) => (None, None),
        Ok(minutes) if minutes.is_finite() && minutes > 0.0 && minutes <= IDLE_MAX_MINUTES => {
            (Some(Duration::from_secs_f64(minutes * 60.0)), None)
        }
        Ok(minutes) if minutes > IDLE_MAX_MINUTES => (
            None,
            Some(format!(
                "Rust context: {IDLE_ENV}={text:?} is more than a year ({IDLE_MAX_MINUTES} minutes), so the Rust context is never stopped for being idle; set it to a number such as 20 (0: never)\n"
            )),
        ),
        _ => (
            None,
            Some(format!(
                "Rust context: {IDLE_ENV}={text:?} is not a number of minutes, so the Rust context is never stopped for being idle; set it to a number such as 20 (0: never)\n"
            )),
        ),
    }
}

/// `20 minutes`, `1 minute`, `30 seconds`.
fn spoken(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    let (amount, unit) = if seconds >= 60.0 {
        (seconds / 60.0, "minute")
    } else {
        (seconds, "second")
    };
    let amount = (amount * 10.0).round() / 10.0;
    let plural = if amount == 1.0 { "" } else { "s" };
    format!("{amount} {unit}{plural}")
}

/// The line the first `%%rust` cell after an idle stop prints.
fn stopped_line(after: Duration) -> String {
    format!(
        "the Rust context was stopped after {} without a Rust cell, so the variables, functions and :dep lines of earlier Rust cells are gone (the KV session is not); {IDLE_ENV} in the kernelspec's env sets that time (0: never)\n",
        spoken(after)
    )
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
    /// The engine, once any start in the background is over (everything
    /// but completion and inspection goes through here). An interrupt while
    /// waiting stops the start and fails the cell.
    fn wait(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<&mut Engine, CellError> {
        if let Some(problem) = self.idle.problem.take() {
            out.stderr(&problem);
        }
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
}

impl RustCells for Ahead {
    fn runtime_hook() {
        wrapper::keep_temporary_files_in_build_dir();
        wrapper::hook();
        evcxr::runtime_hook();
        // evcxr reads its build directory from here. Still one thread, so
        // setting the environment is safe.
        std::env::set_var(wrapper::EVCXR_BUILD_DIR, session_dirs::rust_build_dir());
    }

    fn warm() -> anyhow::Result<String> {
        warm::warm()
    }

    /// `%rust start`.
    fn start(
        &mut self,
        db_path: &Path,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.idle.last_used = Instant::now();
        if let Some(problem) = self.idle.problem.take() {
            out.stderr(&problem);
        }
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

    /// A `%%rust` cell: `take_db` hands the session database over once the
    /// context is there.
    fn execute(
        &mut self,
        code: RustCode<'_>,
        take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        if let Some(problem) = self.idle.problem.take() {
            out.stderr(&problem);
        }
        if let Some(after) = self.idle.stopped.take() {
            out.stderr(&stopped_line(after));
        }
        let done = self
            .wait(out, interrupt)
            .and_then(|engine| engine.execute(code, take_db, out, interrupt));
        // The idle time counts from the end of the cell.
        self.idle.last_used = Instant::now();
        done
    }

    fn reset(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.idle.last_used = Instant::now();
        self.wait(out, interrupt)?.reset(out, interrupt)
    }

    /// `%rust stop`: waits for a start under way (an interrupt stops it,
    /// which also ends it), then ends the context.
    fn stop(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.idle.stopped = None;
        if self.wait(out, interrupt)?.stop() {
            out.stdout("Rust context stopped: the variables, functions, types and :dep lines of the Rust cells are gone and its memory went back to the system; the next %%rust cell starts a new one\n");
        } else {
            out.stdout("the Rust context is not running: nothing to stop\n");
        }
        Ok(None)
    }

    /// When the shell should wake to stop an idle Rust context ([`IDLE_ENV`]);
    /// `None` when there is nothing to stop or no idle time is set.
    fn idle_deadline(&self) -> Option<Instant> {
        let after = self.idle.after?;
        if self.starting.is_some() {
            return Some(Instant::now() + CHECK_START.min(after));
        }
        let running = self.engine.as_ref().is_some_and(Engine::is_running);
        running.then(|| self.idle.last_used + after)
    }

    /// Stops the Rust context if it has gone unused for the idle time; a
    /// start that finished in the background counts as a use.
    fn stop_if_idle(&mut self) {
        let Some(after) = self.idle.after else {
            return;
        };
        if self.starting.is_some() {
            if self.ready().is_some() {
                self.idle.last_used = Instant::now();
            }
            return;
        }
        if self.idle.last_used.elapsed() < after {
            return;
        }
        if self.engine.as_mut().is_some_and(Engine::stop) {
            log::info!("stopped the Rust context after {} idle", spoken(after));
            self.idle.stopped = Some(after);
        }
    }

    fn deps(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.idle.last_used = Instant::now();
        self.wait(out, interrupt)?.deps(out, interrupt)
    }

    /// `%rust cache …`: waits for a start under way, whose compiles the
    /// figures should count.
    fn cache(
        &mut self,
        command: CacheCommand,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        self.idle.last_used = Instant::now();
        self.wait(out, interrupt)?.cache_command(command, out)
    }

    fn complete(
        &mut self,
        code: RustCode<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> Option<Completion> {
        self.idle.last_used = Instant::now();
        self.ready()?.complete(code, cell, cursor_pos)
    }

    fn inspect(&mut self, code: RustCode<'_>, cell: &str, cursor_pos: usize) -> Option<MimeBundle> {
        self.idle.last_used = Instant::now();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_times_are_minutes_and_zero_or_nothing_is_never() {
        assert_eq!(idle_setting(None), (None, None));
        assert_eq!(idle_setting(Some(" ")), (None, None));
        assert_eq!(idle_setting(Some("0")), (None, None));
        assert_eq!(
            idle_setting(Some("20")),
            (Some(Duration::from_secs(1200)), None)
        );
        assert_eq!(
            idle_setting(Some("0.5")),
            (Some(Duration::from_secs(30)), None)
        );
        for wrong in ["soon", "-5", "NaN", "inf", "20m", "1e300", "525601"] {
            let (after, problem) = idle_setting(Some(wrong));
            assert_eq!(after, None, "{wrong}");
            let problem = problem.unwrap();
            assert!(problem.contains(IDLE_ENV), "{problem}");
            assert!(problem.contains(&format!("{wrong:?}")), "{problem}");
        }
    }

    #[test]
    fn idle_times_are_spoken_plainly() {
        assert_eq!(spoken(Duration::from_secs(1200)), "20 minutes");
        assert_eq!(spoken(Duration::from_secs(60)), "1 minute");
        assert_eq!(spoken(Duration::from_secs(90)), "1.5 minutes");
        assert_eq!(spoken(Duration::from_secs_f64(0.05 * 60.0)), "3 seconds");
        let line = stopped_line(Duration::from_secs(1200));
        assert!(line.starts_with("the Rust context was stopped after 20 minutes"));
        assert_eq!(line.lines().count(), 1);
    }
}
