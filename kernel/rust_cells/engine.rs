//! The evcxr side: one `evcxr::CommandContext` per session, started by the
//! first Rust cell.
//!
//! evcxr compiles each cell into a shared library and runs it in a child
//! process (our own binary again, see `RustCells::runtime_hook`). Its stdout
//! and stderr arrive line by line on channels while the cell runs. The
//! kernel's [`Output`] must stay on the shell thread, so evaluation runs on a
//! scoped worker thread while this thread forwards those lines, flushes them
//! when the program goes quiet, and watches for an interrupt.
//!
//! The context builds in a directory of the kernel's own (see
//! `session_dirs::rust_build_dir`), with this binary as cargo's rustc wrapper so that
//! crates come from the Rust cache ([`super::cache_use`]).

use super::cache_use::CacheUse;
use super::memory;
use super::processes::{self, KILL_AGAIN, TICK};
use super::report::{self, WHAT_SURVIVES};
use super::wrapper::{self, Mode};
use super::{CacheCommand, RustCode, SLED_DEP};
use crate::cell::{CellError, Completion, Interrupt, MimeBundle, Output};
use crate::platform;
use crate::session_dirs;
use crossbeam_channel::{never, select, Receiver};
use evcxr::{CommandContext, EvalOutputs};
use serde_json::Value;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Printed (on stderr) while the first Rust cell starts evcxr and builds
/// sled. The same words whether sled is cached or not, so a stored
/// notebook's output does not depend on the machine's cache.
pub(super) const STARTING: &str =
    "starting the Rust context (about a minute the first time, seconds once sled is in the Rust cache)…\n";
/// Evaluated by `%rust start` once the context is set up. The first cell
/// that defines a variable makes evcxr's rust-analyzer infer types for the
/// first time, which takes seconds; this pays for it ahead (with a sled
/// type, so sled's are loaded too). The variable is moved at once, so evcxr
/// keeps nothing of it.
/// Its `?` has evcxr wrap cells for `?` now, which it otherwise learns from
/// a failed compile of the first cell that uses one.
const WARM_UP: &str = "let sled_kernel_warm_up = sled::Config::new();\ndrop(sled_kernel_warm_up);\nOk::<(), std::fmt::Error>(())?;";
/// Put in every context with sled and `DB_PATH`. A cell that ends in a
/// value is compiled calling the value's `evcxr_display` method (how a type
/// shows itself as HTML or an image), and when it has none evcxr compiles
/// the cell a second time to show it with `{:?}`. This method gives every
/// `Debug` value one that prints what that second compile would, so one
/// compile does. A type's own `evcxr_display` method still wins (Rust picks
/// an inherent method before a trait's). One from another trait would
/// clash with this one, so a cell that names `evcxr_display` or adds a
/// crate with `:dep` takes it away first (see
/// [`Engine::follow_evcxr_settings`]).
const SHOW_DEBUG: &str = "trait SledKernelShowDebug { fn evcxr_display(&self); }\nimpl<T: std::fmt::Debug + ?Sized> SledKernelShowDebug for T {\n    fn evcxr_display(&self) {\n        println!(\"EVCXR_BEGIN_CONTENT text/plain\\n{:?}\\nEVCXR_END_CONTENT\", self);\n    }\n}\n";
/// What takes [`SHOW_DEBUG`]'s method away again, leaving values to
/// evcxr's own two compiles.
const SHOW_DEBUG_OFF: &str = "trait SledKernelShowDebug {}";
/// The optimisation level of a cell's own crate (the wrapper's
/// [`wrapper::CELL_OPT`]) until a cell chooses one with `:opt`: compiling
/// a cell that calls into sled takes a third of the time at 0, and sled
/// itself stays optimised.
const CELL_OPT_LEVEL: &str = "0";
/// The wrapper's log, in the context's build directory.
const CACHE_LOG: &str = "sled-kernel-cache.log";

/// After the cell: stderr comes from its own reader thread and may trail
/// stdout; wait this long for it to go quiet.
const QUIET: Duration = Duration::from_millis(30);

/// While evcxr works on a cell, what it freed goes back to the system this
/// often (when no output is waiting). The first cell of a context
/// analyses sled with the standard library and then compiles: lesson 06's
/// first cell peaked at 546 MB with the memory given back only after the
/// cell, at 493 MB with this.
const PURGE_EVERY: Duration = Duration::from_millis(250);

/// evcxr's context, once started, and how it uses the Rust cache
/// (`ahead.rs` holds it for `rust_cells::RustCells`).
pub(super) struct Engine {
    session: Option<Session>,
    cache: CacheUse,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            session: None,
            cache: CacheUse::from_env(),
        }
    }
}

struct Session {
    context: CommandContext,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// evcxr's child process; the handle stays valid across its restarts.
    child: Arc<Mutex<Child>>,
    /// Whether `:dep sled` and `DB_PATH` are in the context (false after a
    /// reset whose setup failed, until the next cell puts them back).
    set_up: bool,
    /// What `DB_PATH` says.
    db_path: PathBuf,
    /// The wrapper mode cargo currently gets.
    cache_mode: Option<Mode>,
    /// Whether the crate directory started from the cache's `Cargo.lock`.
    seeded: bool,
    /// Whether the cell's crate is compiled at [`CELL_OPT_LEVEL`] (until a
    /// cell says `:opt`).
    cell_opt: bool,
    /// Whether [`SHOW_DEBUG`] shows a cell's value (until a cell changes
    /// how values are shown, with `:fmt` or `:types`).
    show_debug: bool,
    /// Last, so that it is deleted after the context has let go of it.
    work: WorkDir,
}

/// The context's build directory, deleted with the session.
struct WorkDir(PathBuf);

impl WorkDir {
    /// Empties `dir` (a kernel killed earlier with the same pid may have
    /// left it) and marks it as this process's, so that the next kernel
    /// sweeps it if this one is killed.
    fn create(dir: PathBuf) -> std::io::Result<WorkDir> {
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir_all(&dir)?;
        session_dirs::write_pid_file(&dir)?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            log::warn!("could not remove {}: {e}", self.0.display());
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Dropping the context waits for its child to exit: make sure it
        // does, whatever user code it is running. The context then deletes
        // its build directory.
        processes::stop_all(&self.child);
    }
}

/// How an evaluation ended.
enum Outcome {
    Finished(Result<EvalOutputs, evcxr::Error>),
    /// The interrupt flag was raised and we killed the processes.
    Interrupted,
    /// evcxr panicked; the message.
    Crashed(String),
    /// The user's code panicked; its message.
    Panicked(String),
}

impl Engine {
    /// Evaluates a `%%rust` cell's code; starts the context on first use.
    /// `take_db` hands the session database over (the KV interpreter lets
    /// go of it) and says where it is: what `DB_PATH` names.
    pub(super) fn execute(
        &mut self,
        code: RustCode<'_>,
        take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        refuse_commands_that_break_the_session(&code)?;
        let db_path = &take_db()?;
        if self.session.is_none() {
            self.session = Some(Session::start(db_path, &mut self.cache, out)?);
        }
        self.follow_evcxr_settings(code.body);
        let (outcome, lead) = match self.with_setup(db_path, &code, out, interrupt)? {
            Some(folded) => folded,
            None => {
                self.set_up(db_path, out, interrupt)?;
                (self.eval(code.body, out, interrupt), 0)
            }
        };
        match outcome {
            Outcome::Finished(Ok(outputs)) => Ok(bundle(outputs)),
            Outcome::Finished(Err(error)) => Err(report::from_evcxr(error, &code, lead)),
            Outcome::Interrupted => Err(interrupted()),
            Outcome::Crashed(why) => Err(self.crashed(why)),
            Outcome::Panicked(message) => Err(CellError {
                ename: "Panic".into(),
                evalue: message.clone(),
                traceback: vec![
                    format!("the Rust code panicked: {message}"),
                    "Variables this cell defined were not kept; those from earlier cells are intact.".into(),
                ],
            }),
        }
    }

    pub(super) fn reset(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        let Some(session) = self.session.as_mut() else {
            out.stdout("the Rust context has not started yet: nothing to reset\n");
            return Ok(None);
        };
        // `:clear` forgets all state and restarts the child (releasing any
        // database it had open) but keeps the compiled crates.
        let cleared = panic::catch_unwind(AssertUnwindSafe(|| session.context.execute(":clear")));
        if !matches!(cleared, Ok(Ok(_))) {
            // Whatever state it is in, a fresh context is the sure way out.
            self.drop_session();
            out.stdout(
                "Rust context dropped: the next %%rust cell starts a new one (and compiles sled again)\n",
            );
            return Ok(None);
        }
        session.set_up = false;
        let db_path = session.db_path.clone();
        self.set_up(&db_path, out, interrupt)?;
        out.stdout(
            "Rust context reset: variables, functions, types and :dep lines are gone; sled and DB_PATH remain\n",
        );
        Ok(None)
    }

    pub(super) fn deps(
        &mut self,
        out: &mut dyn Output,
        _interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        let mut deps: Vec<String> = Vec::new();
        let Some(session) = self.session.as_mut() else {
            out.stdout("the Rust context starts with the first %%rust cell; it will have:\n");
            deps.push(SLED_DEP.to_string());
            return Ok(Some(text_bundle(&deps)));
        };
        let set_up = session.set_up;
        let shown = panic::catch_unwind(AssertUnwindSafe(|| session.context.execute(":show_deps")));
        match shown {
            Ok(Ok(outputs)) => deps.extend(
                outputs
                    .get("text/plain")
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            ),
            Ok(Err(e)) => {
                return Err(CellError {
                    ename: "RustError".into(),
                    evalue: format!("could not list the dependencies: {e}"),
                    traceback: vec![format!("could not list the dependencies: {e}")],
                })
            }
            Err(panicked) => return Err(self.crashed(panic_message(&*panicked))),
        }
        if !set_up {
            deps.push(format!("{SLED_DEP} (back with the next %%rust cell)"));
        }
        Ok(Some(text_bundle(&deps)))
    }

    /// `%rust cache …`.
    pub(super) fn cache_command(
        &mut self,
        command: CacheCommand,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        let (said, shown) = self.cache.command(command)?;
        out.stdout(&said);
        self.sync_cache_mode();
        Ok(shown)
    }

    /// Whether a Rust context is running.
    pub(super) fn is_running(&self) -> bool {
        self.session.is_some()
    }

    /// Ends the Rust context, if one runs (`%rust stop`, or idle); whether
    /// one did. The next cell starts a new one.
    pub(super) fn stop(&mut self) -> bool {
        let running = self.is_running();
        self.drop_session();
        running
    }

    /// What is wrong with the Rust cache, once per kernel (see
    /// [`CacheUse::opening_lines`]).
    pub(super) fn cache_opening_lines(&mut self) -> Vec<String> {
        self.cache.prepare();
        self.cache.opening_lines()
    }

    /// Starts the context and adds sled and `DB_PATH`, as the first Rust
    /// cell does, then has evcxr work out a variable's type once (see
    /// [`WARM_UP`]); runs no cell (`%rust start`, on its own thread).
    pub(super) fn start_ahead(
        &mut self,
        db_path: &Path,
        out: &mut dyn Output,
    ) -> Result<(), CellError> {
        let started = panic::catch_unwind(AssertUnwindSafe(|| {
            let interrupt = Interrupt::new();
            if self.session.is_none() {
                self.session = Some(Session::start(db_path, &mut self.cache, out)?);
            }
            self.set_up(db_path, out, &interrupt)?;
            if !matches!(
                self.eval(WARM_UP, out, &interrupt),
                Outcome::Finished(Ok(_))
            ) {
                log::info!("the Rust warm-up cell did not run; the first cell pays for it");
            }
            Ok(())
        }));
        started.unwrap_or_else(|panicked| Err(self.crashed(panic_message(&*panicked))))
    }

    /// How this kernel uses the Rust cache.
    pub(super) fn cache(&self) -> &CacheUse {
        &self.cache
    }

    pub(super) fn prepare_cache(&mut self) {
        self.cache.prepare();
    }

    /// Gives cargo the wrapper mode the cache is in now (`%rust cache off`,
    /// or read-only after a failed write).
    fn sync_cache_mode(&mut self) {
        let mode = self.cache.mode();
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if session.cache_mode.is_none_or(|applied| applied == mode) {
            return;
        }
        let line = format!(":build_env {}={}", wrapper::MODE, mode.as_str());
        let set = panic::catch_unwind(AssertUnwindSafe(|| session.context.execute(&line)));
        if matches!(set, Ok(Ok(_))) {
            session.cache_mode = Some(mode);
        } else {
            log::warn!("could not switch the Rust cache to {}", mode.as_str());
        }
    }

    pub(super) fn complete(
        &mut self,
        code: RustCode<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> Option<Completion> {
        let session = self.session.as_mut()?;
        let position = char_to_byte(cell, cursor_pos).checked_sub(code.offset)?;
        let found = memory::in_arena(|| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                session.context.completions(code.body, position)
            }))
        })
        .ok()?
        .ok()?;
        Some(Completion {
            matches: found
                .completions
                .into_iter()
                .map(|c| c.code)
                // How evcxr shows values (SHOW_DEBUG), not for students.
                .filter(|code| code != "evcxr_display")
                .collect(),
            cursor_start: byte_to_char(cell, code.offset + found.start_offset),
            cursor_end: byte_to_char(cell, code.offset + found.end_offset),
        })
    }

    pub(super) fn inspect(
        &mut self,
        code: RustCode<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> Option<MimeBundle> {
        let session = self.session.as_mut()?;
        let position = char_to_byte(cell, cursor_pos).checked_sub(code.offset)?;
        let (plain, html) = memory::in_arena(|| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                session.context.hover_at(code.body, position)
            }))
        })
        .ok()?
        .ok()?;
        // evcxr's way of saying it found nothing.
        if plain == "No documentation found" || plain.trim().is_empty() {
            return None;
        }
        let mut data = MimeBundle::new();
        data.insert("text/plain".into(), Value::from(plain));
        data.insert("text/html".into(), Value::from(html));
        Some(data)
    }

    /// The first cell of a context, compiled with the setup in front of it
    /// (`:dep sled`, [`SHOW_DEBUG`], `DB_PATH`): one compile where the setup
    /// on its own took another. Returns the outcome and how many lines came
    /// before the cell's, or `None` when the cell goes the usual way: the
    /// context is already set up, or the cell has evcxr commands (`:dep`,
    /// `:opt`), which evcxr applies before any code. When the compile fails
    /// other than in the cell's own lines (cargo could not resolve sled with
    /// the cache's Cargo.lock, say), nothing was kept, and this returns
    /// `None` too: [`Engine::set_up`] then says what failed, or retries.
    fn with_setup(
        &mut self,
        db_path: &Path,
        code: &RustCode<'_>,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<(Outcome, usize)>, CellError> {
        let first = self.session.as_ref().is_some_and(|s| !s.set_up);
        let commands = code.body.lines().any(|l| l.trim_start().starts_with(':'));
        if !first || commands {
            return Ok(None);
        }
        let Some(setup) = self.setup_code(db_path)? else {
            return Ok(None);
        };
        let lead = setup.lines().count();
        let outcome = self.eval(&format!("{setup}{}", code.body), out, interrupt);
        let Some(session) = self.session.as_mut() else {
            return Ok(Some((outcome, lead)));
        };
        // What evcxr kept: the setup with the cell, or nothing.
        if session.context.defined_item_names().any(|n| n == "DB_PATH") {
            session.set_up = true;
            session.db_path = db_path.to_path_buf();
            self.cache.remember_lock(&session.work.0);
        }
        let usual_way = match &outcome {
            Outcome::Finished(Err(evcxr::Error::CompilationErrors(errors))) => {
                !report::all_after(errors, lead)
            }
            Outcome::Finished(Err(_)) => true,
            _ => false,
        };
        Ok((!usual_way).then_some((outcome, lead)))
    }

    /// What puts `:dep sled` and `DB_PATH` into the context; `None` when
    /// they are there and `DB_PATH` has not moved.
    fn setup_code(&self, db_path: &Path) -> Result<Option<String>, CellError> {
        let Some(session) = self.session.as_ref() else {
            return Ok(None);
        };
        if session.set_up && session.db_path == db_path {
            return Ok(None);
        }
        let Some(path) = db_path.to_str() else {
            return Err(CellError {
                ename: "RustSetupFailed".into(),
                evalue: format!("the session database's path is not UTF-8: {}", db_path.display()),
                traceback: vec![
                    format!("DB_PATH must be a Rust string, but the session database's path is not UTF-8: {}", db_path.display()),
                    "Start Jupyter with a TMPDIR whose path is UTF-8.".into(),
                ],
            });
        };
        let mut setup = String::new();
        if !session.set_up {
            setup.push_str(&format!(":dep {SLED_DEP}\n"));
            if session.show_debug {
                setup.push_str(SHOW_DEBUG);
            }
        }
        // Debug formatting of a str is a valid Rust string literal.
        setup.push_str(&format!("const DB_PATH: &str = {path:?};\n"));
        Ok(Some(setup))
    }

    /// Puts `:dep sled` and `DB_PATH` into the context if they are missing
    /// or `DB_PATH` moved.
    fn set_up(
        &mut self,
        db_path: &Path,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<(), CellError> {
        let Some(setup) = self.setup_code(db_path)? else {
            return Ok(());
        };
        let mut outcome = self.eval(&setup, out, interrupt);
        if let (Outcome::Finished(Err(e)), Some(session)) = (&outcome, self.session.as_mut()) {
            if std::mem::take(&mut session.seeded) {
                // The remembered Cargo.lock may not suit this cargo: once
                // more, resolving afresh.
                log::info!(
                    "Rust setup failed with the cache's Cargo.lock ({e}); trying without it"
                );
                let _ = std::fs::remove_file(session.work.0.join("Cargo.lock"));
                outcome = self.eval(&setup, out, interrupt);
            }
        }
        match outcome {
            Outcome::Finished(Ok(_)) => {
                if let Some(session) = self.session.as_mut() {
                    session.set_up = true;
                    session.db_path = db_path.to_path_buf();
                    self.cache.remember_lock(&session.work.0);
                }
                Ok(())
            }
            Outcome::Finished(Err(error)) => Err(setup_failed(&error.to_string())),
            Outcome::Panicked(message) => Err(setup_failed(&message)),
            Outcome::Interrupted => {
                if let Some(session) = self.session.as_mut() {
                    session.set_up = false;
                }
                Err(CellError {
                    ename: "Interrupted".into(),
                    evalue: "interrupted while setting up the Rust context".into(),
                    traceback: vec![
                        "Interrupted while compiling sled for the Rust context; nothing ran."
                            .into(),
                        "The next %%rust cell picks the compile up where it stopped.".into(),
                    ],
                })
            }
            Outcome::Crashed(why) => Err(self.crashed(why)),
        }
    }

    /// Runs `code` on a worker thread; forwards its output to `out` as it
    /// comes and stops its processes when `interrupt` is raised.
    fn eval(&mut self, code: &str, out: &mut dyn Output, interrupt: &Interrupt) -> Outcome {
        self.sync_cache_mode();
        let outcome = self.eval_in_context(code, out, interrupt);
        memory::give_back();
        for notice in self.cache.absorb() {
            out.stderr(&format!("{notice}\n"));
        }
        outcome
    }

    fn eval_in_context(
        &mut self,
        code: &str,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Outcome {
        let Some(session) = self.session.as_mut() else {
            return Outcome::Crashed("the Rust context is gone".into());
        };
        let Session {
            context,
            stdout,
            stderr,
            child,
            ..
        } = session;
        let mut pump = Pump {
            stdout: stdout.clone(),
            stderr: stderr.clone(),
            panic: PanicWatch::default(),
        };
        let mut killed = false;
        let joined = std::thread::scope(|scope| {
            // Dropped when the worker ends, however it ends: that is the signal.
            let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
            let context = &mut *context;
            let worker = std::thread::Builder::new()
                .name("rust-cell".into())
                .spawn_scoped(scope, move || {
                    let _done = done_tx;
                    memory::enter();
                    panic::catch_unwind(AssertUnwindSafe(|| context.execute(code)))
                });
            let worker = match worker {
                Ok(worker) => worker,
                Err(e) => return Err(format!("could not start a thread for the cell: {e}")),
            };
            let mut last_kill: Option<Instant> = None;
            let mut last_purge = Instant::now();
            loop {
                match pump.next(&done_rx, TICK) {
                    Event::Done => break,
                    Event::Idle => {
                        out.flush();
                        if last_purge.elapsed() >= PURGE_EVERY {
                            memory::purge();
                            last_purge = Instant::now();
                        }
                    }
                    event => pump.forward(event, out),
                }
                if interrupt.is_raised() && last_kill.is_none_or(|t| t.elapsed() >= KILL_AGAIN) {
                    processes::stop_all(child);
                    killed = true;
                    last_kill = Some(Instant::now());
                }
            }
            pump.drain(out);
            worker
                .join()
                .map_err(|p| panic_message(&*p))
                .and_then(|caught| caught.map_err(|p| panic_message(&*p)))
        });
        match joined {
            Err(why) => Outcome::Crashed(why),
            Ok(_) if killed => {
                // The child may have died mid-compile, where evcxr does not
                // notice; give it a live one for the next cell.
                let restarted =
                    panic::catch_unwind(AssertUnwindSafe(|| context.execute(":restart")));
                if !matches!(restarted, Ok(Ok(_))) {
                    return Outcome::Crashed(
                        "could not restart the Rust process after the interrupt".into(),
                    );
                }
                Outcome::Interrupted
            }
            Ok(Ok(_)) if pump.panic.message.is_some() => {
                Outcome::Panicked(pump.panic.message.unwrap_or_default())
            }
            Ok(result) => Outcome::Finished(result),
        }
    }

    /// Before a cell that changes evcxr's optimisation level (`:opt`) or
    /// how it shows values (`:fmt`, `:types`), adds a crate (`:dep`, whose
    /// traits may have an `evcxr_display` of their own) or names
    /// `evcxr_display` itself: stop doing those our way, for the rest of
    /// the context ([`CELL_OPT_LEVEL`], [`SHOW_DEBUG`]).
    fn follow_evcxr_settings(&mut self, body: &str) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let commands: Vec<&str> = body
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        let mut undo = Vec::new();
        if session.cell_opt && commands.contains(&":opt") {
            session.cell_opt = false;
            undo.push(format!(":build_env {}=", wrapper::CELL_OPT));
        }
        let shown_otherwise = commands
            .iter()
            .any(|c| [":fmt", ":types", ":dep"].contains(c))
            || body.contains("evcxr_display");
        if session.show_debug && shown_otherwise {
            session.show_debug = false;
            // Until sled and DB_PATH are in, neither is the method.
            if session.set_up {
                undo.push(SHOW_DEBUG_OFF.to_string());
            }
        }
        for line in undo {
            let done = memory::in_arena(|| {
                panic::catch_unwind(AssertUnwindSafe(|| session.context.execute(&line)))
            });
            if !matches!(done, Ok(Ok(_))) {
                log::warn!("could not hand {line:?} back to evcxr");
            }
        }
    }

    /// Ends the context (its process, rust-analyzer's analysis, the build
    /// directory) and gives its memory back.
    fn drop_session(&mut self) {
        self.session = None;
        memory::give_back();
    }

    /// Drops a context that failed inside evcxr and says so.
    fn crashed(&mut self, why: String) -> CellError {
        self.drop_session();
        CellError {
            ename: "RustContextCrashed".into(),
            evalue: format!("evcxr failed inside the kernel: {why}"),
            traceback: vec![
                format!("evcxr failed inside the kernel: {why}"),
                "The Rust context was dropped; the next %%rust cell starts a fresh one (variables, functions and :dep lines are gone).".into(),
            ],
        }
    }
}

fn setup_failed(text: &str) -> CellError {
    let mut traceback = vec!["Could not add sled and DB_PATH to the Rust context:".to_string()];
    traceback.extend(text.lines().map(str::to_string));
    traceback.push(
        "The first time, cargo downloads sled 0.34.7 from crates.io: check the network (or that sled is in ~/.cargo/registry), then run the cell again.".into(),
    );
    CellError {
        ename: "RustSetupFailed".into(),
        evalue: format!(
            "could not add sled and DB_PATH to the Rust context: {}",
            text.lines().next().unwrap_or("cargo failed")
        ),
        traceback,
    }
}

/// Byte offset of the `chars`-th code point of `text` (its end if beyond).
fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(byte, _)| byte)
}

/// Code points in `text[..byte]` (`byte` clamped to a char boundary).
fn byte_to_char(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text[..byte].chars().count()
}

fn text_bundle(lines: &[String]) -> MimeBundle {
    let mut data = MimeBundle::new();
    data.insert("text/plain".into(), Value::from(lines.join("\n")));
    data
}

impl Session {
    /// Starts evcxr (it compiles an empty crate to check the toolchain) in
    /// the kernel's build directory, with the Rust cache set up for cargo.
    fn start(
        db_path: &Path,
        cache: &mut CacheUse,
        out: &mut dyn Output,
    ) -> Result<Session, CellError> {
        check_toolchain()?;
        out.stderr(STARTING);
        cache.prepare();
        for line in cache.opening_lines() {
            out.stderr(&format!("{line}\n"));
        }
        out.flush();
        let failed = |why: String| {
            CellError {
            ename: "RustContextFailed".into(),
            evalue: format!("could not start the Rust context: {why}"),
            traceback: std::iter::once("could not start the Rust context (evcxr):".to_string())
                .chain(why.lines().map(str::to_string))
                .chain(std::iter::once(
                    "Check that `cargo build` works for a new project in this environment, then run the cell again.".to_string(),
                ))
                .collect(),
        }
        };
        let work = session_dirs::rust_build_dir();
        let work = WorkDir::create(work.clone()).map_err(|e| {
            failed(format!(
                "cannot prepare the build directory {}: {e}",
                work.display()
            ))
        })?;
        let started = memory::in_arena(|| panic::catch_unwind(new_context));
        let (mut context, outputs) = match started {
            Ok(Ok(made)) => made,
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Err(panicked) => return Err(failed(panic_message(&*panicked))),
        };
        let log = work.0.join(CACHE_LOG);
        let mut cache_mode = None;
        let settings = match std::env::current_exe() {
            Ok(exe) => {
                let mut settings = cache.wrapper_env(&exe, &work.0, &log);
                settings.push((wrapper::CELL_OPT.into(), CELL_OPT_LEVEL.into()));
                settings
            }
            Err(e) => {
                log::warn!("cannot find this program ({e}), so cargo cannot use the Rust cache");
                Vec::new()
            }
        };
        if !settings.is_empty() {
            let applied = settings.iter().all(|(key, value)| {
                let line = format!(":build_env {key}={value}");
                matches!(
                    panic::catch_unwind(AssertUnwindSafe(|| context.execute(&line))),
                    Ok(Ok(_))
                )
            });
            if applied {
                cache.begin(log);
                cache_mode = Some(cache.mode());
            } else {
                log::warn!("could not hand the Rust cache to cargo; compiling without it");
            }
        }
        let seeded = cache_mode.is_some() && cache.seed(&work.0);
        Ok(Session {
            child: context.process_handle(),
            context,
            stdout: outputs.stdout,
            stderr: outputs.stderr,
            set_up: false,
            db_path: db_path.to_path_buf(),
            cache_mode,
            seeded,
            cell_opt: true,
            show_debug: true,
            work,
        })
    }
}

/// evcxr's context, with the process that runs cells given the standard
/// library's directory on Linux (see [`runner`]).
fn new_context() -> Result<(CommandContext, evcxr::EvalContextOutputs), evcxr::Error> {
    let exe = std::env::current_exe()?;
    let (context, outputs) = evcxr::EvalContext::with_subprocess_command(runner(exe))?;
    Ok((CommandContext::with_eval_context(context), outputs))
}

/// The command for the process that runs the cells: this program again
/// (see `RustCells::runtime_hook`). Every cell is a shared library that needs
/// the standard library's, which cargo's `-C rpath` finds by a path
/// relative to where cargo wrote the cell's library; evcxr then moves it one
/// directory up, and that path breaks when the build directory and the
/// toolchain share a parent below `/` (a TMPDIR and a rustup both in one
/// home): "dlopen failed" on the first cell. So the process is told to
/// load libraries from that directory (`rustc --print target-libdir`)
/// first ([`platform::load_libraries_first_from`]: `LD_LIBRARY_PATH` on
/// Linux).
fn runner(exe: PathBuf) -> Command {
    let mut command = Command::new(exe);
    let printed = Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .ok()
        .filter(|done| done.status.success())
        .and_then(|done| String::from_utf8(done.stdout).ok());
    if let Some(dir) = printed
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
    {
        platform::load_libraries_first_from(&mut command, Path::new(&dir));
    }
    command
}

/// Rust cells compile with cargo and rustc when they run: say plainly when
/// either is missing rather than let evcxr fail somewhere deeper.
fn check_toolchain() -> Result<(), CellError> {
    let missing: Vec<&str> = ["cargo", "rustc"]
        .into_iter()
        .filter(|tool| which::which(tool).is_err())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names = missing
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let verb = if missing.len() == 1 { "is" } else { "are" };
    let what = format!("{names} {verb} not on PATH");
    Err(CellError {
        ename: "RustToolchainMissing".into(),
        evalue: format!("{what}: Rust cells compile each cell with cargo and rustc"),
        traceback: vec![
            format!("{what}: Rust cells compile each cell with cargo and rustc, so the kernel needs both at run time."),
            format!(
                "The kernel's PATH is: {}",
                std::env::var("PATH").unwrap_or_else(|_| "(not set)".into())
            ),
            "Install Rust with rustup (https://rustup.rs), make sure the PATH that starts Jupyter includes ~/.cargo/bin (or set PATH in the kernelspec's env), and restart the kernel.".into(),
        ],
    })
}

/// evcxr commands that would take the session down with them.
fn refuse_commands_that_break_the_session(code: &RustCode<'_>) -> Result<(), CellError> {
    for (index, line) in code.body.lines().enumerate() {
        let command = line.split_whitespace().next().unwrap_or("");
        let why = match command {
            ":quit" => "`:quit` would end the whole kernel, KV cells included; use Kernel ▸ Shut Down instead",
            ":clear" => "`:clear` would also drop sled and DB_PATH; use `%rust reset`, which puts them back",
            ":cache" | ":clear_cache" | ":sccache" => "the kernel keeps compiled crates itself, safely shared between kernels; evcxr's own cache would replace it: use `%rust cache` (`%rust cache clear`, `%rust cache off`)",
            _ => continue,
        };
        let line_number = code.first_line + index;
        return Err(CellError {
            ename: "RustMagicError".into(),
            evalue: why.to_string(),
            traceback: vec![format!("cell line {line_number}: {why}")],
        });
    }
    Ok(())
}

fn interrupted() -> CellError {
    CellError {
        ename: "Interrupted".into(),
        evalue:
            "the Rust cell was interrupted; its process was stopped and Rust variables were lost"
                .into(),
        traceback: vec![
            "Interrupted: the Rust cell was stopped by killing the process that runs Rust code."
                .into(),
            WHAT_SURVIVES.into(),
            "The KV session is untouched; any database handle the Rust code held is released."
                .into(),
        ],
    }
}

/// evcxr's outputs (the trailing expression's value, and any
/// `EVCXR_BEGIN_CONTENT` blocks) as one mime bundle; JSON types as JSON.
/// A unit value (a cell ending in a `for` loop or a `match` without a
/// semicolon) is no value, as `None` is in Python: no `Out[n]`.
fn bundle(outputs: EvalOutputs) -> Option<MimeBundle> {
    let only_unit = outputs.content_by_mime_type.len() == 1
        && outputs.get("text/plain").map(str::trim) == Some("()");
    if outputs.content_by_mime_type.is_empty() || only_unit {
        return None;
    }
    let mut entries: Vec<(String, String)> = outputs.content_by_mime_type.into_iter().collect();
    entries.sort();
    let mut data = MimeBundle::new();
    for (mime, content) in entries {
        let value = if mime.contains("json") {
            serde_json::from_str(&content).unwrap_or(Value::String(content))
        } else {
            Value::String(content)
        };
        data.insert(mime, value);
    }
    Some(data)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

/// What the pump saw in one wait.
enum Event {
    Stdout(String),
    Stderr(String),
    StdoutClosed,
    StderrClosed,
    Done,
    Idle,
}

/// Reads evcxr's output channels.
struct Pump {
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    panic: PanicWatch,
}

/// Notices a panic in the stderr evcxr forwards (evcxr itself only keeps
/// the cell's new variables out and reports success), and keeps the
/// backtrace out of the cell: it shows evcxr's runtime and generated code,
/// nothing of the user's.
#[derive(Default)]
struct PanicWatch {
    /// The panic's message, once seen.
    message: Option<String>,
    /// The line after `thread '…' panicked at …:` is the message.
    expect_message: bool,
    in_backtrace: bool,
}

impl PanicWatch {
    /// Whether `line` belongs in the cell's stderr.
    fn keep(&mut self, line: &str) -> bool {
        if self.expect_message {
            self.expect_message = false;
            self.message.get_or_insert_with(|| line.to_string());
            return true;
        }
        if line.starts_with("thread '") && line.contains(" panicked at ") {
            self.expect_message = true;
            return true;
        }
        if self.message.is_some() && line == "stack backtrace:" {
            self.in_backtrace = true;
            return false;
        }
        if self.in_backtrace {
            let frame = line.trim_start();
            let numbered = frame
                .split_once(": ")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
            if numbered || frame.starts_with("at ") {
                return false;
            }
            self.in_backtrace = false;
            if line.starts_with("note: Some details are omitted") {
                return false;
            }
        }
        true
    }
}

impl Pump {
    fn next(&self, done: &Receiver<()>, wait: Duration) -> Event {
        select! {
            recv(self.stdout) -> line => line.map_or(Event::StdoutClosed, Event::Stdout),
            recv(self.stderr) -> line => line.map_or(Event::StderrClosed, Event::Stderr),
            recv(done) -> _ => Event::Done,
            default(wait) => Event::Idle,
        }
    }

    fn forward(&mut self, event: Event, out: &mut dyn Output) {
        match event {
            Event::Stdout(line) => out.stdout(&format!("{line}\n")),
            Event::Stderr(line) => {
                if self.panic.keep(&line) {
                    out.stderr(&format!("{line}\n"));
                }
            }
            // A closed channel would be ready forever: stop listening to it.
            Event::StdoutClosed => self.stdout = never(),
            Event::StderrClosed => self.stderr = never(),
            Event::Done | Event::Idle => {}
        }
    }

    /// Forwards what is still on its way once the cell has ended.
    fn drain(&mut self, out: &mut dyn Output) {
        let nothing = never();
        loop {
            match self.next(&nothing, QUIET) {
                Event::Idle | Event::Done => break,
                event => self.forward(event, out),
            }
        }
        out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_noticed_and_its_backtrace_left_out() {
        let mut watch = PanicWatch::default();
        let stderr = [
            "a line before",
            "",
            "thread '<unnamed>' (20542) panicked at src/lib.rs:7:1:",
            "boom",
            "stack backtrace:",
            "   0: __rustc::rust_begin_unwind",
            "             at /rustc/x/library/std/src/panicking.rs:689:5",
            "  10: core::ops::function::FnOnce::call_once",
            "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
            "a line after",
        ];
        let kept: Vec<&str> = stderr.into_iter().filter(|l| watch.keep(l)).collect();
        assert_eq!(
            kept,
            [
                "a line before",
                "",
                "thread '<unnamed>' (20542) panicked at src/lib.rs:7:1:",
                "boom",
                "a line after"
            ]
        );
        assert_eq!(watch.message.as_deref(), Some("boom"));
    }

    #[test]
    fn ordinary_stderr_is_left_alone() {
        let mut watch = PanicWatch::default();
        for line in [
            "stack backtrace:",
            "   0: not a panic",
            "thread 'x' is fine",
        ] {
            assert!(watch.keep(line));
        }
        assert_eq!(watch.message, None);
    }

    #[test]
    fn bundles_parse_json_and_skip_empty_outputs() {
        assert_eq!(bundle(EvalOutputs::new()), None);
        let mut unit = EvalOutputs::new();
        unit.content_by_mime_type
            .insert("text/plain".into(), "()".into());
        assert_eq!(bundle(unit), None);
        let mut outputs = EvalOutputs::new();
        outputs
            .content_by_mime_type
            .insert("application/json".into(), "{\"a\": 1}".into());
        outputs
            .content_by_mime_type
            .insert("text/plain".into(), "x".into());
        let data = bundle(outputs).unwrap();
        assert_eq!(data["application/json"]["a"], 1);
        assert_eq!(data["text/plain"], "x");
    }

    #[test]
    fn offsets_count_code_points() {
        let text = "é\u{1F600}x";
        assert_eq!(char_to_byte(text, 0), 0);
        assert_eq!(char_to_byte(text, 1), 2);
        assert_eq!(char_to_byte(text, 2), 6);
        assert_eq!(char_to_byte(text, 9), 7);
        assert_eq!(byte_to_char(text, 6), 2);
        assert_eq!(byte_to_char(text, 4), 1);
        assert_eq!(byte_to_char(text, 99), 3);
    }
}
