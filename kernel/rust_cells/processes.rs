//! Stopping what a Rust cell started.
//!
//! evcxr runs user code in a child process, and compiles it with cargo and
//! rustc, also children of the kernel. Killing the child stops a running
//! loop; killing cargo and rustc too stops a compile (the first one builds
//! sled and takes a minute). The kernel starts no other processes, so on
//! Linux every descendant of the kernel is fair game; elsewhere only the
//! evcxr child is stopped and a compile runs to its end.

use std::process::Child;
use std::sync::{Arc, Mutex};

/// Kills the evcxr child and, on Linux, every other descendant process.
pub(super) fn stop_all(child: &Arc<Mutex<Child>>) {
    #[cfg(target_os = "linux")]
    kill_below(std::process::id());
    // evcxr may hold this lock while it waits on the child; never block on it.
    if let Ok(mut child) = child.try_lock() {
        let _ = child.kill();
    }
}

/// Kills every descendant process (on Linux; elsewhere nothing): what a
/// Rust context that is still starting has running.
pub(super) fn stop_descendants() {
    #[cfg(target_os = "linux")]
    kill_below(std::process::id());
}

/// SIGKILLs every process below `root`. They are stopped first, round by
/// round until no new one appears, so none can start another (cargo its
/// next rustc) between our look at /proc and the kill.
#[cfg(target_os = "linux")]
fn kill_below(root: u32) {
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

#[cfg(target_os = "linux")]
fn signal(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Every process below `root`, parents before children, read from /proc.
#[cfg(target_os = "linux")]
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| parent_pid(&stat))
            {
                parent_of.push((pid, ppid));
            }
        }
    }
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

/// The parent pid from a /proc/PID/stat line: `pid (comm) state ppid ...`,
/// where comm may itself contain spaces and parentheses.
#[cfg(target_os = "linux")]
fn parent_pid(stat: &str) -> Option<u32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    #[test]
    fn parses_stat_lines_with_odd_names() {
        assert_eq!(parent_pid("42 (cargo) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parent_pid("43 (a b) (c)) R 9 1 1"), Some(9));
        assert_eq!(parent_pid("garbage"), None);
    }

    #[test]
    fn finds_and_stops_grandchildren() {
        // sh starts a sleep of its own: a grandchild of this test process.
        let child = Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .unwrap();
        let shell = child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        let grandchild = loop {
            if let Some(&pid) = descendants(shell).first() {
                assert!(descendants(std::process::id()).contains(&pid));
                break pid;
            }
            assert!(Instant::now() < deadline, "the sleep never showed up");
            std::thread::sleep(Duration::from_millis(10));
        };
        // Only below the shell: other tests of this process may have children.
        kill_below(shell);
        // The shell itself may already have gone (its `wait` returned).
        let mut child = child;
        let _ = child.kill();
        child.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::path::Path::new(&format!("/proc/{grandchild}/stat")).exists() {
            // A killed orphan may linger as a zombie until init reaps it.
            let stat =
                std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
            if stat.contains(") Z") {
                break;
            }
            assert!(Instant::now() < deadline, "the grandchild survived");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
