//! The Unix side (Linux and macOS): signals, `kill`, `flock`, file modes,
//! `exec`. What only `/proc` (Linux) or libproc (macOS) can answer comes
//! from `linux.rs` and `macos.rs` through [`procs`].

use std::fs::File;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use super::Request;

#[cfg(target_os = "linux")]
use super::linux as procs;
#[cfg(target_os = "macos")]
use super::macos as procs;

/// Other Unixes: nothing but what POSIX itself answers.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod procs {
    pub fn parent_of(_pid: u32) -> Option<u32> {
        None
    }
    pub fn process_name(_pid: u32) -> Option<String> {
        None
    }
    pub fn parents() -> Vec<(u32, u32)> {
        Vec::new()
    }
    pub fn lock_holder(_file: &std::path::Path) -> Option<u32> {
        None
    }
}

/// How often the parent watch looks at the parent pid.
const PARENT_POLL: Duration = Duration::from_millis(500);

/// The signal thread; closing its handle ends it and lets the signals go.
pub(super) struct Requests {
    handle: Handle,
}

impl Drop for Requests {
    fn drop(&mut self) {
        self.handle.close();
    }
}

pub(super) fn watch_requests(on: Box<dyn Fn(Request) + Send + Sync>) -> io::Result<Requests> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let handle = signals.handle();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                on(if signal == SIGTERM {
                    Request::Shutdown
                } else {
                    Request::Interrupt
                });
            }
        })?;
    Ok(Requests { handle })
}

/// On Unix `JPY_PARENT_PID` only says that jupyter_client started us; the
/// parent pid changing (an orphan is adopted by init or a subreaper) says
/// that it died.
pub(super) fn watch_parent(_value: &str, gone: Box<dyn FnOnce() + Send>) -> io::Result<()> {
    let parent = std::os::unix::process::parent_id();
    std::thread::Builder::new()
        .name("parent-watch".into())
        .spawn(move || loop {
            std::thread::sleep(PARENT_POLL);
            if std::os::unix::process::parent_id() != parent {
                log::warn!("the process that started this kernel (pid {parent}) is gone");
                gone();
                return;
            }
        })?;
    Ok(())
}

/// `kill(pid, 0)` sends nothing and says whether the process exists: ESRCH
/// when it does not, EPERM when it belongs to someone else. A zombie (dead,
/// not yet reaped) still counts as running.
pub(super) fn process_alive(pid: u32) -> Option<bool> {
    // 0 and negative numbers name process groups, not a process.
    let pid = libc::pid_t::try_from(pid).ok().filter(|pid| *pid > 0)?;
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return Some(true);
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::ESRCH) => Some(false),
        Some(libc::EPERM) => Some(true),
        _ => None,
    }
}

pub(super) fn parent_of(pid: u32) -> Option<u32> {
    procs::parent_of(pid)
}

pub(super) fn process_name(pid: u32) -> Option<String> {
    procs::process_name(pid)
}

pub(super) fn lock_holder(file: &Path) -> Option<u32> {
    procs::lock_holder(file)
}

pub(super) fn held_by_this_process(file: &Path) -> bool {
    if cfg!(target_os = "linux") {
        lock_holder(file) == Some(std::process::id())
    } else {
        locked_by_anyone(file)
    }
}

/// Tries sled's lock (`flock`, exclusive) on a descriptor of our own: a
/// lock held through any other open file, in this process or another,
/// refuses it. When it is taken, closing the file lets go of it at once.
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn locked_by_anyone(file: &Path) -> bool {
    let Ok(probe) = File::open(file) else {
        return false;
    };
    // SAFETY: flock(2) on a descriptor we own, which `probe` closes.
    let taken = unsafe { libc::flock(probe.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    !taken && io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

/// Unix locks are advisory: none stops a read.
pub(super) const LOCK_VIOLATION: Option<i32> = None;

pub(super) fn kill_tree_below(root: u32) {
    let mut frozen: Vec<u32> = Vec::new();
    for _ in 0..20 {
        let fresh: Vec<u32> = descendants(root)
            .into_iter()
            .filter(|pid| !frozen.contains(pid))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for pid in fresh {
            signal(pid, libc::SIGSTOP);
            frozen.push(pid);
        }
    }
    for pid in frozen {
        signal(pid, libc::SIGKILL);
    }
}

fn signal(pid: u32, signal: libc::c_int) {
    let Some(pid) = libc::pid_t::try_from(pid).ok().filter(|pid| *pid > 0) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Every process below `root`, parents before children.
pub(super) fn descendants(root: u32) -> Vec<u32> {
    let parent_of = procs::parents();
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            parent_of
                .iter()
                .filter(|(pid, ppid)| *ppid == parent && !found.contains(pid))
                .map(|(pid, _)| *pid)
                .collect::<Vec<_>>(),
        );
        next += 1;
    }
    found.remove(0);
    found
}

pub(super) fn kill_this_process() -> ! {
    // SAFETY: raise(3) takes a plain integer; SIGKILL ends the whole
    // process and cannot be caught. It returns only if it failed.
    unsafe {
        libc::raise(libc::SIGKILL);
    }
    std::process::abort()
}

pub(super) fn let_everyone_read(path: &Path) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

pub(super) fn unix_mode(path: &Path) -> Option<u32> {
    Some(std::fs::metadata(path).ok()?.permissions().mode() & 0o777)
}

pub(super) fn canonical(path: &Path) -> io::Result<PathBuf> {
    path.canonicalize()
}

pub(super) fn run_in_place(command: &mut Command) -> io::Result<i32> {
    Err(command.exec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;
    use std::time::Instant;

    #[test]
    fn processes_are_alive_until_reaped() {
        assert_eq!(process_alive(std::process::id()), Some(true));
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        assert_eq!(process_alive(pid), Some(true));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(process_alive(pid), Some(false));
        assert_eq!(process_alive(0), None, "0 is a process group");
        assert_eq!(process_alive(u32::MAX), None);
    }

    #[test]
    fn finds_freezes_and_kills_grandchildren() {
        // sh starts a sleep of its own: a grandchild of this test process.
        let child = Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let shell = child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        // Named `sh` from its fork until it runs `sleep`.
        let grandchild = loop {
            let below = descendants(shell);
            if let Some(&pid) = below.first() {
                if process_name(pid).as_deref() == Some("sleep") {
                    assert!(descendants(std::process::id()).contains(&pid));
                    assert_eq!(parent_of(pid), Some(shell));
                    break pid;
                }
            }
            assert!(Instant::now() < deadline, "the sleep never showed up");
            std::thread::sleep(Duration::from_millis(10));
        };
        // Only below the shell: other tests of this process may have children.
        kill_tree_below(shell);
        // The shell itself may already have gone (its `wait` returned).
        let mut child = child;
        let _ = child.kill();
        child.wait().unwrap();
        // The killed orphan is reaped by init (or lingers as a zombie until
        // then): gone from the tree below the shell, it is no longer there.
        let deadline = Instant::now() + Duration::from_secs(5);
        while process_alive(grandchild) == Some(true) && !is_zombie(grandchild) {
            assert!(Instant::now() < deadline, "the grandchild survived");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A zombie has exited; only its parent has not collected it yet.
    fn is_zombie(pid: u32) -> bool {
        Command::new("ps")
            .args(["-o", "stat=", "-p", &pid.to_string()])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"Z"))
    }

    #[test]
    fn a_probe_sees_a_lock_held_through_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db");
        std::fs::write(&file, "").unwrap();
        assert!(!locked_by_anyone(&file));
        assert!(!locked_by_anyone(&dir.path().join("missing")));
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        assert!(locked_by_anyone(&dir.path().join("db")));
        assert!(held_by_this_process(&dir.path().join("db")));
        drop(db);
        // sled's threads let go of the lock a moment after the last handle.
        let deadline = Instant::now() + Duration::from_secs(10);
        while locked_by_anyone(&dir.path().join("db")) {
            assert!(Instant::now() < deadline, "sled never let go");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!held_by_this_process(&dir.path().join("db")));
    }

    #[test]
    fn modes_are_set_and_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("program");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let_everyone_read(&file).unwrap();
        assert_eq!(unix_mode(&file), Some(0o755));
        assert_eq!(unix_mode(&dir.path().join("missing")), None);
    }
}
