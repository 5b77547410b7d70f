//! Everything that depends on the operating system, behind functions whose
//! names say what they do. The rest of the kernel calls these and never an
//! OS interface itself: no `libc`, no `signal_hook`, no `/proc`, no
//! `std::os::*`, no Windows API outside this module.
//!
//! | what                          | Linux                 | macOS              | Windows                                   |
//! |-------------------------------|-----------------------|--------------------|-------------------------------------------|
//! | interrupt ([`Request`])       | SIGINT                | SIGINT             | `JPY_INTERRUPT_EVENT`, Ctrl+C             |
//! | shut down ([`Request`])       | SIGTERM               | SIGTERM            | Ctrl+Break, console closed, log off       |
//! | the frontend died             | parent pid changes    | parent pid changes | `JPY_PARENT_PID` handle signalled         |
//! | [`process_alive`]             | `kill(pid, 0)`        | `kill(pid, 0)`     | `OpenProcess`, then a zero wait           |
//! | [`parent_of`]                 | `/proc/PID/stat`      | `proc_pidinfo`     | not known                                 |
//! | [`lock_holder`]               | `/proc/locks`         | not known          | not known                                 |
//! | [`held_by_this_process`]      | `/proc/locks`         | `flock` probe      | `LockFileEx` probe                        |
//! | [`kill_tree_below`]           | `/proc`, SIGSTOP/KILL | `proc_listallpids` | (no Rust cells on Windows)                |
//! | [`kill_this_process`]         | SIGKILL               | SIGKILL            | `TerminateProcess`                        |
//! | [`let_everyone_read`]         | mode 0755             | mode 0755          | nothing: the folder's access applies      |
//! | [`load_libraries_first_from`] | `LD_LIBRARY_PATH`     | nothing            | nothing (no Rust cells on Windows)        |
//!
//! The `interrupt_request` message works the same everywhere; it is handled
//! in `handlers/control.rs`, not here. `docs/developers/platforms.md` tells
//! what differs for a student on each system.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
use unix as os;
#[cfg(windows)]
use windows as os;

/// For tests of what Windows does with files held open.
#[cfg(all(test, windows))]
pub use windows::open_undeletable;

#[cfg(not(any(unix, windows)))]
compile_error!("sled-kernel runs on Unix (Linux, macOS) and on Windows");

/// What the operating system asks of the kernel, besides Jupyter's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Stop the running cell: SIGINT on Unix (what jupyter_client sends
    /// when a spec asks for signals); on Windows the interrupt event that
    /// jupyter_client hands over in `JPY_INTERRUPT_EVENT`, and Ctrl+C in the
    /// console the kernel shares with the Jupyter server.
    Interrupt,
    /// Shut down cleanly: SIGTERM on Unix; on Windows Ctrl+Break, the
    /// console window closing, logging off or shutting down.
    Shutdown,
}

/// Listening for [`Request`]s; it stops when this is dropped.
pub struct Requests {
    _watch: os::Requests,
}

/// Starts listening for [`Request`]s and calls `on` with each one, on a
/// thread of its own (on Windows, console events come on a thread the
/// system starts). Call it first thing: until then SIGINT (or Ctrl+C) ends
/// the process.
pub fn watch_requests(on: impl Fn(Request) + Send + Sync + 'static) -> io::Result<Requests> {
    os::watch_requests(Box::new(on)).map(|watch| Requests { _watch: watch })
}

/// When jupyter_client started this kernel (it sets `JPY_PARENT_PID`, unless
/// asked for an independent kernel), calls `gone` once, on a thread of its
/// own, when the process that started it has exited, so a kernel whose
/// frontend was killed does not run on forever. On Unix the parent process
/// changes (the orphan is adopted); on Windows `JPY_PARENT_PID` is a handle
/// on the parent that jupyter_client made inheritable, and the kernel waits
/// on it. An error says why it cannot watch, for the log.
pub fn watch_parent(gone: impl FnOnce() + Send + 'static) -> io::Result<()> {
    match std::env::var_os("JPY_PARENT_PID") {
        Some(value) => os::watch_parent(&value.to_string_lossy(), Box::new(gone)),
        None => Ok(()),
    }
}

/// Whether process `pid` is running: `None` when this system cannot tell.
/// A process of another user counts as running.
pub fn process_alive(pid: u32) -> Option<bool> {
    os::process_alive(pid)
}

/// The parent of process `pid`, where the system says (Linux, macOS).
pub fn parent_of(pid: u32) -> Option<u32> {
    os::parent_of(pid)
}

/// A process's command name, where the system says (Linux, macOS).
pub fn process_name(pid: u32) -> Option<String> {
    os::process_name(pid)
}

/// The process holding a whole-file lock (sled's `flock`) on `file`, where
/// the system can say: Linux, from `/proc/locks`. Elsewhere `None`, also
/// when the file is locked: say "another process" then.
pub fn lock_holder(file: &Path) -> Option<u32> {
    os::lock_holder(file)
}

/// Whether this process still holds the lock sled took on `file`, which
/// sled's threads do for a moment after the last handle is dropped. On
/// Linux exactly (`/proc/locks`); elsewhere by trying to take the lock and
/// letting go of it at once, so a lock held by any process counts: ask only
/// right after this process closed the database, when nobody else can have
/// taken it yet.
pub fn held_by_this_process(file: &Path) -> bool {
    os::held_by_this_process(file)
}

/// Freezes (SIGSTOP), then kills (SIGKILL) every process below `root`, not
/// `root` itself: frozen round by round until no new one appears, so none
/// can start another (cargo its next rustc) between the look and the kill.
/// The Rust cells' processes (evcxr's child, cargo, rustc) are the kernel's
/// only children. Unix only: Windows builds have no Rust cells.
#[cfg(unix)]
#[cfg_attr(not(feature = "rust-cells"), allow(dead_code))]
pub fn kill_tree_below(root: u32) {
    os::kill_tree_below(root)
}

/// Ends this process at once, the way `kill -9` does: no destructor runs,
/// no file is flushed or closed. SIGKILL on Unix; `TerminateProcess` on
/// Windows (exit code [`KILLED_EXIT_CODE`]).
pub fn kill_this_process() -> ! {
    os::kill_this_process()
}

/// How [`kill_this_process`] kills, in the words of this system.
pub const HARD_KILL: &str = if cfg!(windows) {
    "TerminateProcess"
} else {
    "SIGKILL"
};

/// The exit code `kill_this_process` leaves on Windows: 128 + 9, what a
/// Unix shell reports for a process killed with SIGKILL.
pub const KILLED_EXIT_CODE: u32 = 137;

/// Lets everyone read `path` (and enter it, or run it) while only its owner
/// writes: mode 0755 on Unix, as `jupyter kernelspec install` leaves a spec.
/// On Windows nothing changes: a file or folder has the access its parent
/// folder passes on (a per-user profile folder, or the Python environment).
pub fn let_everyone_read(path: &Path) -> io::Result<()> {
    os::let_everyone_read(path)
}

/// The permission bits of `path` (`mode & 0o777`) on Unix; `None` on Windows.
pub fn unix_mode(path: &Path) -> Option<u32> {
    os::unix_mode(path)
}

/// This program's path, for a kernelspec to start it by, with symlinks
/// resolved ([`canonical`]).
pub fn this_program() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(canonical(&exe).unwrap_or(exe))
}

/// `path` made absolute, with symlinks and `..` resolved, in the form people
/// read and programs accept: on Windows without the `\\?\` prefix that
/// `canonicalize` puts in front, where the plain path names the same file
/// (a `\\?\` path shows badly in a message, and `..` joined to it is not
/// resolved).
pub fn canonical(path: &Path) -> io::Result<PathBuf> {
    os::canonical(path)
}

/// Whether `error` says that another handle's lock on a file stopped a
/// read or a write: Windows' `ERROR_LOCK_VIOLATION`, which sled's lock on an
/// open database's `db` file causes for every other reader. Unix locks are
/// advisory and never do.
pub fn is_lock_violation(error: &io::Error) -> bool {
    os::LOCK_VIOLATION.is_some() && error.raw_os_error() == os::LOCK_VIOLATION
}

/// The error a lock violation gives on this system, if it has them.
#[cfg(test)]
pub fn lock_violation() -> Option<io::Error> {
    os::LOCK_VIOLATION.map(io::Error::from_raw_os_error)
}

/// Runs `command` in place of this process, for a wrapper that has nothing
/// to add: `exec` on Unix (returns only the error if that fails); on
/// Windows, which has no `exec`, runs it and returns its exit code.
#[cfg_attr(not(feature = "rust-cells"), allow(dead_code))]
pub fn run_in_place(command: &mut Command) -> io::Result<i32> {
    os::run_in_place(command)
}

/// Makes the program `command` starts look for shared libraries in `dir`
/// before anywhere else: on Linux by putting `dir` first in
/// `LD_LIBRARY_PATH`. On macOS and Windows nothing changes (no Rust cells
/// on Windows; on macOS a library's install name says where its own
/// libraries are).
#[cfg_attr(not(feature = "rust-cells"), allow(dead_code))]
pub fn load_libraries_first_from(command: &mut Command, dir: &Path) {
    #[cfg(target_os = "linux")]
    linux::load_libraries_first_from(command, dir);
    #[cfg(not(target_os = "linux"))]
    let _ = (command, dir);
}
