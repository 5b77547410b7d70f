//! The Windows side: the interrupt event and the parent handle that
//! jupyter_client passes, console events, process handles, `LockFileEx`.
//!
//! jupyter_client on Windows (its `launcher.py`) puts two inheritable
//! handles in the kernel's environment as decimal numbers:
//! `JPY_INTERRUPT_EVENT` (also `IPY_INTERRUPT_EVENT`), an auto-reset event
//! it sets to interrupt the kernel when a spec asks for signals, and
//! `JPY_PARENT_PID`, a handle on the frontend's own process.

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use windows_sys::core::BOOL;
use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, ERROR_LOCK_VIOLATION,
    HANDLE, WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::Storage::FileSystem::{
    LockFileEx, UnlockFileEx, LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY,
};
use windows_sys::Win32::System::Console::{
    SetConsoleCtrlHandler, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT, CTRL_C_EVENT, CTRL_LOGOFF_EVENT,
    CTRL_SHUTDOWN_EVENT,
};
use windows_sys::Win32::System::Threading::{
    CreateEventW, GetCurrentProcess, GetProcessId, OpenProcess, SetEvent, TerminateProcess,
    WaitForMultipleObjects, WaitForSingleObject, INFINITE, PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SYNCHRONIZE,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{Request, KILLED_EXIT_CODE};

const TRUE: BOOL = 1;
const FALSE: BOOL = 0;

/// The environment variables that may name the interrupt event, newest
/// first (jupyter_client sets both).
const INTERRUPT_EVENT_VARS: [&str; 2] = ["JPY_INTERRUPT_EVENT", "IPY_INTERRUPT_EVENT"];

/// How long the console handler holds on when the console closes: Windows
/// ends the process when the handler returns, and gives it 5 s at most.
/// The kernel's own exit, once it has shut down, ends the wait sooner.
const CLOSE_GRACE: Duration = Duration::from_millis(4500);

type OnRequest = Arc<dyn Fn(Request) + Send + Sync>;

/// Where the console handler, a plain function, finds what to call.
static CONSOLE: Mutex<Option<OnRequest>> = Mutex::new(None);

/// The console handler and the interrupt event's thread; dropping this
/// removes the one and ends the other.
pub(crate) struct Requests {
    stop: Option<Arc<OwnedHandle>>,
}

impl Drop for Requests {
    fn drop(&mut self) {
        // SAFETY: removes the handler added in `watch_requests`.
        unsafe { SetConsoleCtrlHandler(Some(console_event), FALSE) };
        if let Ok(mut on) = CONSOLE.lock() {
            *on = None;
        }
        if let Some(stop) = &self.stop {
            // SAFETY: an event handle we own, kept open by the Arc.
            unsafe { SetEvent(stop.as_raw_handle()) };
        }
    }
}

pub(crate) fn watch_requests(on: Box<dyn Fn(Request) + Send + Sync>) -> io::Result<Requests> {
    let on: OnRequest = Arc::from(on);
    if let Ok(mut slot) = CONSOLE.lock() {
        *slot = Some(on.clone());
    }
    // SAFETY: registers a function that lives as long as the program.
    if unsafe { SetConsoleCtrlHandler(Some(console_event), TRUE) } == FALSE {
        return Err(io::Error::last_os_error());
    }
    let mut requests = Requests { stop: None };
    let named = INTERRUPT_EVENT_VARS
        .iter()
        .find_map(|name| Some((*name, std::env::var(name).ok()?)));
    if let Some((name, value)) = named {
        requests.stop = Some(watch_interrupt_event(name, &value, on)?.0);
    }
    Ok(requests)
}

/// Ctrl+C interrupts, as SIGINT does on Unix (the kernel shares the
/// console of the Jupyter server that started it, and Ctrl+C there reaches
/// both); Ctrl+Break, closing the console, logging off and shutting down
/// shut the kernel down cleanly.
unsafe extern "system" fn console_event(kind: u32) -> BOOL {
    let request = match kind {
        CTRL_C_EVENT => Request::Interrupt,
        CTRL_BREAK_EVENT | CTRL_CLOSE_EVENT | CTRL_LOGOFF_EVENT | CTRL_SHUTDOWN_EVENT => {
            Request::Shutdown
        }
        _ => return FALSE,
    };
    let on = CONSOLE.lock().ok().and_then(|on| on.clone());
    let Some(on) = on else {
        return FALSE;
    };
    on(request);
    if matches!(
        kind,
        CTRL_CLOSE_EVENT | CTRL_LOGOFF_EVENT | CTRL_SHUTDOWN_EVENT
    ) {
        std::thread::sleep(CLOSE_GRACE);
    }
    TRUE
}

/// Waits on the interrupt event named by `value` (a handle this process
/// inherited) on a thread of its own, and calls `on` each time it is set,
/// until the returned stop event is set; then the thread ends.
fn watch_interrupt_event(
    name: &str,
    value: &str,
    on: OnRequest,
) -> io::Result<(Arc<OwnedHandle>, std::thread::JoinHandle<()>)> {
    let event = inherited_handle(name, value)?;
    // SAFETY: a new unnamed auto-reset event, unset; we own the handle.
    let stop = unsafe { CreateEventW(std::ptr::null(), FALSE, FALSE, std::ptr::null()) };
    if stop.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `stop` is a handle we just created and nobody else owns.
    let stop = Arc::new(unsafe { OwnedHandle::from_raw_handle(stop) });
    let stopped = stop.clone();
    let name = name.to_string();
    let thread = std::thread::Builder::new()
        .name("interrupt-event".into())
        .spawn(move || loop {
            let handles: [HANDLE; 2] = [event as HANDLE, stopped.as_raw_handle()];
            // SAFETY: two handles that stay open while we wait: the
            // inherited event is never closed, `stopped` is kept by its Arc.
            let woke = unsafe { WaitForMultipleObjects(2, handles.as_ptr(), FALSE, INFINITE) };
            match woke {
                WAIT_OBJECT_0 => on(Request::Interrupt),
                w if w == WAIT_OBJECT_0 + 1 => return,
                _ => {
                    log::warn!(
                        "cannot wait on the interrupt event {name}={}: {}; interrupt with the interrupt_request message instead",
                        event,
                        io::Error::last_os_error()
                    );
                    return;
                }
            }
        })?;
    Ok((stop, thread))
}

/// `JPY_PARENT_PID` on Windows is a handle on the frontend's process: wait
/// until that process ends.
pub(crate) fn watch_parent(value: &str, gone: Box<dyn FnOnce() + Send>) -> io::Result<()> {
    let handle = inherited_handle("JPY_PARENT_PID", value)?;
    // SAFETY: GetProcessId only looks the handle up; 0 means it is not a
    // process handle of ours.
    let parent = unsafe { GetProcessId(handle as HANDLE) };
    if parent == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "JPY_PARENT_PID={value} is not a process handle this kernel inherited ({}): jupyter_client on Windows passes one; a frontend that passes a process id instead (a Unix jupyter_client running this program under wine does) is not watched",
                io::Error::last_os_error()
            ),
        ));
    }
    std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(move || {
            // SAFETY: an inherited process handle, never closed by us.
            match unsafe { WaitForSingleObject(handle as HANDLE, INFINITE) } {
                WAIT_OBJECT_0 => {
                    log::warn!("the process that started this kernel (pid {parent}) is gone");
                    gone();
                }
                _ => log::warn!(
                    "cannot wait on the process that started this kernel (pid {parent}): {}",
                    io::Error::last_os_error()
                ),
            }
        })?;
    Ok(())
}

/// A handle passed as a decimal number in an environment variable, as a
/// plain integer that may cross threads.
fn inherited_handle(name: &str, value: &str) -> io::Result<isize> {
    match value.trim().parse::<isize>() {
        Ok(handle) if handle != 0 => Ok(handle),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name}={value:?} is not a handle (a nonzero decimal number)"),
        )),
    }
}

/// Opens the process to ask: no such process (`ERROR_INVALID_PARAMETER`)
/// means gone; a process we may not open belongs to someone else and is
/// running; an open process is running until a zero wait says it ended.
pub(crate) fn process_alive(pid: u32) -> Option<bool> {
    // SAFETY: plain arguments; the handle is closed below.
    let process = unsafe {
        OpenProcess(
            PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
            FALSE,
            pid,
        )
    };
    if process.is_null() {
        // SAFETY: reads this thread's last error.
        return match unsafe { GetLastError() } {
            ERROR_INVALID_PARAMETER => Some(false),
            ERROR_ACCESS_DENIED => Some(true),
            _ => None,
        };
    }
    // SAFETY: a handle we opened, closed right after.
    let waited = unsafe { WaitForSingleObject(process, 0) };
    unsafe { CloseHandle(process) };
    match waited {
        WAIT_TIMEOUT => Some(true),
        WAIT_OBJECT_0 => Some(false),
        _ => None,
    }
}

/// Not asked on Windows: no Rust cells, so no child process to recognise.
pub(crate) fn parent_of(_pid: u32) -> Option<u32> {
    None
}

pub(crate) fn process_name(_pid: u32) -> Option<String> {
    None
}

/// Windows does not tell who holds a byte-range lock.
pub(crate) fn lock_holder(_file: &Path) -> Option<u32> {
    None
}

/// Tries sled's lock (`LockFileEx`, exclusive, the whole file) through a
/// handle of our own: Windows locks belong to a handle, so a lock taken
/// through sled's handle refuses ours, in this process too.
pub(crate) fn held_by_this_process(file: &Path) -> bool {
    let Ok(probe) = std::fs::File::open(file) else {
        return false;
    };
    let handle = probe.as_raw_handle() as HANDLE;
    // SAFETY: an all-zero OVERLAPPED is the offset 0 that sled locks from.
    let mut at = unsafe { std::mem::zeroed::<OVERLAPPED>() };
    let flags = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
    // SAFETY: a handle `probe` owns and an OVERLAPPED that outlives the call.
    if unsafe { LockFileEx(handle, flags, 0, u32::MAX, u32::MAX, &mut at) } != FALSE {
        // SAFETY: the same range, just locked through the same handle.
        unsafe { UnlockFileEx(handle, 0, u32::MAX, u32::MAX, &mut at) };
        return false;
    }
    io::Error::last_os_error().raw_os_error() == Some(ERROR_LOCK_VIOLATION as i32)
}

/// `ERROR_LOCK_VIOLATION`: a region another handle locked was read or written.
pub(crate) const LOCK_VIOLATION: Option<i32> = Some(ERROR_LOCK_VIOLATION as i32);

pub(crate) fn kill_this_process() -> ! {
    // SAFETY: ends this process; the pseudo handle needs no closing.
    unsafe { TerminateProcess(GetCurrentProcess(), KILLED_EXIT_CODE) };
    std::process::abort()
}

pub(crate) fn let_everyone_read(_path: &Path) -> io::Result<()> {
    Ok(())
}

pub(crate) fn unix_mode(_path: &Path) -> Option<u32> {
    None
}

/// `canonicalize` gives `\\?\C:\dir\file`; `C:\dir\file` names the same
/// file when it is short enough for the plain form and no name in it is one
/// the plain form reads otherwise (a device name such as `NUL`, a name
/// ending in a dot or a space). Other paths (network shares too) keep the
/// prefix.
pub(crate) fn canonical(path: &Path) -> io::Result<PathBuf> {
    let verbatim = path.canonicalize()?;
    Ok(plain_form(&verbatim).unwrap_or(verbatim))
}

/// The plain form of a verbatim drive path, when it means the same.
fn plain_form(verbatim: &Path) -> Option<PathBuf> {
    /// The plain form's limit, MAX_PATH, less the final NUL.
    const LONGEST: usize = 259;
    const DEVICES: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    let text = verbatim.to_str()?;
    let plain = text.strip_prefix(r"\\?\")?;
    let drive = plain.as_bytes();
    let is_drive = drive.len() >= 3 && drive[0].is_ascii_alphabetic() && &drive[1..3] == b":\\";
    if !is_drive || plain.len() > LONGEST {
        return None;
    }
    let reads_otherwise = plain[3..].split('\\').any(|name| {
        let stem = name.split('.').next().unwrap_or(name).trim_end();
        name.ends_with('.')
            || name.ends_with(' ')
            || DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem))
    });
    (!reads_otherwise).then(|| PathBuf::from(plain))
}

pub(crate) fn run_in_place(command: &mut Command) -> io::Result<i32> {
    Ok(command.status()?.code().unwrap_or(1))
}

/// Opens `file` the way an editor, a virus scanner or an indexer may: not
/// sharing delete access, so that deleting it fails while it is open.
#[cfg(test)]
pub fn open_undeletable(file: &Path) -> io::Result<std::fs::File> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE};
    std::fs::OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    const PATIENCE: Duration = Duration::from_secs(30);

    fn new_event() -> OwnedHandle {
        // SAFETY: a new unnamed auto-reset event, unset, that we own.
        let event = unsafe { CreateEventW(std::ptr::null(), FALSE, FALSE, std::ptr::null()) };
        assert!(!event.is_null(), "{}", io::Error::last_os_error());
        // SAFETY: just created, owned by nobody else.
        unsafe { OwnedHandle::from_raw_handle(event) }
    }

    fn set(event: &OwnedHandle) {
        // SAFETY: an event handle we own.
        assert_ne!(unsafe { SetEvent(event.as_raw_handle()) }, FALSE);
    }

    /// The handle as jupyter_client writes it in the environment.
    fn as_env(handle: &impl AsRawHandle) -> String {
        (handle.as_raw_handle() as isize).to_string()
    }

    #[test]
    fn the_interrupt_event_interrupts_each_time_it_is_set() {
        let event = new_event();
        let (tx, rx) = mpsc::channel();
        let (stop, thread) = watch_interrupt_event(
            "JPY_INTERRUPT_EVENT",
            &as_env(&event),
            Arc::new(move |request| {
                let _ = tx.send(request);
            }),
        )
        .unwrap();
        for _ in 0..3 {
            set(&event);
            assert_eq!(rx.recv_timeout(PATIENCE), Ok(Request::Interrupt));
        }
        set(&stop);
        thread.join().unwrap();
    }

    #[test]
    fn a_value_that_is_no_handle_is_refused_by_name() {
        let on: OnRequest = Arc::new(|_| {});
        for value in ["", "zero", "0"] {
            let e = watch_interrupt_event("JPY_INTERRUPT_EVENT", value, on.clone()).unwrap_err();
            assert!(e.to_string().contains("JPY_INTERRUPT_EVENT="), "{e}");
            let e = watch_parent(value, Box::new(|| {})).unwrap_err();
            assert!(e.to_string().contains("JPY_PARENT_PID="), "{e}");
        }
        // A number that is no handle of this process (handles are small
        // multiples of 4): not waited on, and the log says why.
        let e = watch_parent("123456788", Box::new(|| {})).unwrap_err();
        assert!(e.to_string().contains("not a process handle"), "{e}");
    }

    #[test]
    fn console_events_interrupt_or_shut_down() {
        let (tx, rx) = mpsc::channel();
        let requests = watch_requests(Box::new(move |request| {
            let _ = tx.send(request);
        }))
        .unwrap();
        // What Windows does when Ctrl+C or Ctrl+Break reaches the console.
        // SAFETY: the handler is a plain function of ours.
        assert_eq!(unsafe { console_event(CTRL_C_EVENT) }, TRUE);
        assert_eq!(rx.try_recv(), Ok(Request::Interrupt));
        assert_eq!(unsafe { console_event(CTRL_BREAK_EVENT) }, TRUE);
        assert_eq!(rx.try_recv(), Ok(Request::Shutdown));
        drop(requests);
        assert_eq!(
            unsafe { console_event(CTRL_C_EVENT) },
            FALSE,
            "no longer ours: the next handler (the default) decides"
        );
    }

    /// Run as a child process by the tests below: waits until its stdin
    /// closes (or it is killed). Does nothing when run on its own.
    #[test]
    #[ignore = "a helper for the tests of process handles"]
    fn wait_until_stdin_closes() {
        if std::env::var_os("SLED_KERNEL_TEST_WAIT").is_some() {
            let _ = io::Read::read(&mut io::stdin(), &mut [0u8; 1]);
        }
    }

    fn waiting_child() -> std::process::Child {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "platform::windows::tests::wait_until_stdin_closes",
                "--ignored",
            ])
            .env("SLED_KERNEL_TEST_WAIT", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }

    #[test]
    fn a_parent_handle_that_ends_means_the_frontend_is_gone() {
        let mut parent = waiting_child();
        let (tx, rx) = mpsc::channel();
        watch_parent(
            &as_env(&parent),
            Box::new(move || {
                let _ = tx.send(());
            }),
        )
        .unwrap();
        parent.kill().unwrap();
        assert_eq!(rx.recv_timeout(PATIENCE), Ok(()));
        parent.wait().unwrap();
    }

    #[test]
    fn processes_are_alive_until_they_end() {
        assert_eq!(process_alive(std::process::id()), Some(true));
        let mut child = waiting_child();
        assert_eq!(process_alive(child.id()), Some(true));
        drop(child.stdin.take());
        child.wait().unwrap();
        // Its handle is still open here, so the pid is not reused yet.
        assert_eq!(process_alive(child.id()), Some(false));
    }

    #[test]
    fn canonical_paths_lose_the_verbatim_prefix_where_they_may() {
        let plain = |s: &str| plain_form(Path::new(s)).map(|p| p.display().to_string());
        assert_eq!(
            plain(r"\\?\C:\Users\ann\x.txt").as_deref(),
            Some(r"C:\Users\ann\x.txt")
        );
        assert_eq!(plain(r"\\?\C:\").as_deref(), Some(r"C:\"));
        assert_eq!(plain(r"\\?\UNC\server\share\x"), None, "a share keeps it");
        assert_eq!(plain(r"\\?\C:\dir\nul.txt"), None, "a device name");
        assert_eq!(plain(r"\\?\C:\dir\trailing."), None);
        assert_eq!(plain(r"C:\already\plain"), None);
        let long = format!(r"\\?\C:\{}", "a".repeat(300));
        assert_eq!(plain(&long), None, "too long for the plain form");
        let dir = tempfile::tempdir().unwrap();
        let found = canonical(dir.path()).unwrap();
        assert!(!found.to_string_lossy().starts_with(r"\\?\"), "{found:?}");
        // `..` joined to it is resolved again.
        std::fs::create_dir(dir.path().join("a")).unwrap();
        let up = canonical(&found.join("a").join("..")).unwrap();
        assert_eq!(up, found);
    }

    #[test]
    fn a_probe_sees_sleds_lock_until_sled_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db");
        assert!(!held_by_this_process(&file), "no file, no lock");
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        assert!(held_by_this_process(&file));
        drop(db);
        let deadline = std::time::Instant::now() + PATIENCE;
        while held_by_this_process(&file) {
            assert!(std::time::Instant::now() < deadline, "sled never let go");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
