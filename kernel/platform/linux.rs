//! What Linux tells through `/proc`: parents, names, and who holds a lock.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The parent of process `pid`, from `/proc/PID/stat`.
pub(super) fn parent_of(pid: u32) -> Option<u32> {
    parent_in_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The command name in `/proc/PID/comm` (at most 15 bytes of it).
pub(super) fn process_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Puts `dir` in front of the `LD_LIBRARY_PATH` the program `command`
/// starts will have, which the dynamic loader searches first.
#[cfg_attr(not(feature = "rust-cells"), allow(dead_code))]
pub(super) fn load_libraries_first_from(command: &mut std::process::Command, dir: &Path) {
    let mut path = std::ffi::OsString::from(dir);
    if let Some(more) = std::env::var_os("LD_LIBRARY_PATH").filter(|p| !p.is_empty()) {
        path.push(":");
        path.push(more);
    }
    command.env("LD_LIBRARY_PATH", path);
}

/// `(pid, parent pid)` of every process, from one pass over `/proc`.
pub(super) fn parents() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((pid, parent_in_stat(&stat)?))
        })
        .collect()
}

/// The parent pid in a `/proc/PID/stat` line, `pid (comm) state ppid ...`:
/// the second field after the `)` that ends the command name (which may
/// itself hold spaces and parentheses).
fn parent_in_stat(stat: &str) -> Option<u32> {
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// The process holding a `flock` on `file`, from `/proc/locks`.
pub(super) fn lock_holder(file: &Path) -> Option<u32> {
    let meta = std::fs::metadata(file).ok()?;
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in(&locks, meta.ino(), device_numbers(meta.dev()))
}

/// The major and minor numbers of a Linux `st_dev`, as `/proc/locks`
/// prints them.
fn device_numbers(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

/// Finds the pid holding a lock on inode `ino` in the text of `/proc/locks`:
///
/// ```text
/// 1: FLOCK  ADVISORY  WRITE 2791 00:19:2766 0 EOF
/// 1: -> FLOCK  ADVISORY  WRITE 2800 00:19:2766 0 EOF   (a waiter)
/// ```
///
/// A line on the same device wins; failing that (overlay filesystems report
/// other device numbers) the only line for that inode.
fn holder_in(locks: &str, ino: u64, (major, minor): (u64, u64)) -> Option<u32> {
    let mut same_inode = Vec::new();
    for line in locks.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) == Some(&"->") {
            continue;
        }
        let (Some(pid), Some(place)) = (fields.get(4), fields.get(5)) else {
            continue;
        };
        let mut parts = place.split(':');
        let (Some(maj), Some(min), Some(inode)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(pid), Ok(inode)) = (pid.parse::<u32>(), inode.parse::<u64>()) else {
            continue;
        };
        if inode != ino {
            continue;
        }
        let same_device =
            u64::from_str_radix(maj, 16) == Ok(major) && u64::from_str_radix(min, 16) == Ok(minor);
        if same_device {
            return Some(pid);
        }
        same_inode.push(pid);
    }
    match same_inode.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_pids_come_from_after_the_command_name() {
        assert_eq!(parent_in_stat("42 (sled-kernel) S 7 42 42 0"), Some(7));
        assert_eq!(parent_in_stat("43 (a b) (c)) R 9 1 1"), Some(9));
        assert_eq!(parent_in_stat("42 (a) b (c) R 9 1"), Some(9));
        assert_eq!(parent_in_stat("garbage"), None);
        assert_eq!(parent_in_stat("1 (x) S"), None);
        let me = std::process::id();
        let parent = parent_of(me).unwrap();
        assert_ne!(parent, me);
        assert!(parents().contains(&(me, parent)));
    }

    #[test]
    fn parses_proc_locks() {
        let locks = "1: POSIX  ADVISORY  WRITE 100 00:19:55 0 EOF\n\
                     2: FLOCK  ADVISORY  WRITE 2791 00:2e:2766 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 2800 00:2e:2766 0 EOF\n\
                     3: FLOCK  ADVISORY  WRITE 4242 08:01:2766 0 EOF\n";
        assert_eq!(holder_in(locks, 2766, (0, 0x2e)), Some(2791));
        assert_eq!(holder_in(locks, 2766, (8, 1)), Some(4242));
        assert_eq!(
            holder_in(locks, 2766, (9, 9)),
            None,
            "two candidates: unsure"
        );
        assert_eq!(holder_in(locks, 55, (7, 7)), Some(100), "the only one");
        assert_eq!(holder_in(locks, 1, (0, 0)), None);
        assert_eq!(holder_in("garbage\n\n1: x", 1, (0, 0)), None);
    }

    #[test]
    fn device_numbers_split_like_glibc() {
        assert_eq!(device_numbers(0x0801), (8, 1));
        assert_eq!(device_numbers(0x2e), (0, 0x2e));
        assert_eq!(
            device_numbers((0x123 << 8) | 0x45 | (0xabc << 12) << 8),
            (0x123, 0xabc45)
        );
    }

    #[test]
    fn names_the_process_holding_a_sled_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let holder = lock_holder(&dir.path().join("db")).expect("found in /proc/locks");
        assert_eq!(holder, std::process::id());
        assert!(process_name(holder).is_some());
        drop(db);
    }
}
