//! Which process owns what.
//!
//! * Each temporary session directory holds an `owner.pid` file with the
//!   kernel's process id. A kernel that is killed (`kill -9`, a crash, a
//!   power cut) cannot delete its directory, so the next kernel to start
//!   [`sweep`]s the directories whose owner is no longer running. Only
//!   directories named `sled-kernel-*` that hold such a file are touched.
//! * When sled cannot lock a database, [`lock_holder`] asks the system which
//!   process holds the lock, so the error can name it.
//!
//! Both answers come from `/proc`, so they are only given on Linux; on other
//! systems nothing is swept and the lock holder goes unnamed.

use std::path::{Path, PathBuf};

/// The file in a session directory naming the kernel that owns it.
pub const PID_FILE: &str = "owner.pid";
/// What session directories are called (followed by random characters).
pub const DIR_PREFIX: &str = "sled-kernel-";

/// Records this process as the owner of `dir`.
pub fn write_pid_file(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join(PID_FILE), format!("{}\n", std::process::id()))
}

/// The pid recorded in `dir`, if it has a readable pid file.
pub fn recorded_pid(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether process `pid` is running: `None` when this system cannot tell.
pub fn is_running(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        Some(Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}

/// Deletes the session directories in `temp_dir` left by kernels that are
/// no longer running; returns the ones deleted. A directory is deleted only
/// if its name starts with [`DIR_PREFIX`], it is a real directory (not a
/// link), it has a pid file, and that process is known to be gone.
pub fn sweep(temp_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(temp_dir) else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let named_ours = entry.file_name().to_string_lossy().starts_with(DIR_PREFIX);
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !named_ours || !is_dir {
            continue;
        }
        let dir = entry.path();
        let Some(pid) = recorded_pid(&dir) else {
            continue;
        };
        if pid == me || is_running(pid) != Some(false) {
            continue;
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {
                log::info!(
                    "removed {} left by kernel {pid}, which is gone",
                    dir.display()
                );
                removed.push(dir);
            }
            Err(e) => log::warn!("could not remove {}: {e}", dir.display()),
        }
    }
    removed
}

/// A process holding a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// Its command name, when the system tells.
    pub name: Option<String>,
}

impl Holder {
    /// Whether the holder is this kernel or a process it started (evcxr
    /// runs the Rust cells in a child of the kernel), by walking the parent
    /// pids up from the holder (Linux; elsewhere only the kernel's own pid
    /// counts).
    pub fn is_this_kernel(&self) -> bool {
        let me = std::process::id();
        let mut pid = self.pid;
        // A bounded walk: process trees are shallow, and a cycle (a pid
        // reused mid-walk) must not loop forever.
        for _ in 0..64 {
            if pid == me {
                return true;
            }
            match parent_of(pid) {
                Some(parent) if parent > 1 => pid = parent,
                _ => return false,
            }
        }
        false
    }

    /// `pid 1234, sled-kernel`.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("pid {}, {name}", self.pid),
            None => format!("pid {}", self.pid),
        }
    }
}

/// The parent of process `pid`, from `/proc/PID/stat`: the fourth field,
/// counted after the `)` that ends the command name (which may itself hold
/// spaces and parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parent_in_stat(&stat)
}

fn parent_in_stat(stat: &str) -> Option<u32> {
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// The process holding a `flock` on `file`, from `/proc/locks` (Linux).
pub fn lock_holder(file: &Path) -> Option<Holder> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(file).ok()?;
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        let pid = holder_in(&locks, meta.ino(), device_numbers(meta.dev()))?;
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Some(Holder { pid, name })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

/// The major and minor numbers of a Linux `st_dev`, as `/proc/locks`
/// prints them.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
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
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
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
    fn parent_pids_come_from_after_the_command_name() {
        assert_eq!(parent_in_stat("42 (sled-kernel) S 7 42 42 0"), Some(7));
        assert_eq!(parent_in_stat("42 (a) b (c) R 9 1"), Some(9));
        assert_eq!(parent_in_stat("garbage"), None);
        assert_eq!(parent_in_stat("1 (x) S"), None);
        if cfg!(target_os = "linux") {
            let me = std::process::id();
            assert!(parent_of(me).is_some_and(|p| p != me));
            let parent = Holder {
                pid: parent_of(me).unwrap_or(1),
                name: None,
            };
            assert!(!parent.is_this_kernel(), "an ancestor is not this kernel");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_child_of_this_process_counts_as_this_kernel() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let holder = Holder {
            pid: child.id(),
            name: None,
        };
        assert!(holder.is_this_kernel());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!holder.is_this_kernel(), "gone");
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
    fn pid_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(recorded_pid(dir.path()), None);
        write_pid_file(dir.path()).unwrap();
        assert_eq!(recorded_pid(dir.path()), Some(std::process::id()));
    }

    /// The pid of a process that has exited (and been reaped).
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn sweep_removes_only_dead_kernels_directories() {
        let temp = tempfile::tempdir().unwrap();
        let make = |name: &str, pid: Option<String>| {
            let dir = temp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("db"), "data").unwrap();
            if let Some(pid) = pid {
                std::fs::write(dir.join(PID_FILE), pid).unwrap();
            }
            dir
        };
        let dead = dead_pid();
        assert_eq!(is_running(dead), Some(false));
        assert_eq!(is_running(std::process::id()), Some(true));
        let gone = make("sled-kernel-gone", Some(format!("{dead}\n")));
        let mine = make("sled-kernel-mine", Some(std::process::id().to_string()));
        let no_pid = make("sled-kernel-nopid", None);
        let garbled = make("sled-kernel-garbled", Some("not a pid".into()));
        let other = make("other-dead", Some(dead.to_string()));
        let file = temp.path().join("sled-kernel-file");
        std::fs::write(&file, dead.to_string()).unwrap();

        assert_eq!(sweep(temp.path()), std::slice::from_ref(&gone));
        assert!(!gone.exists());
        for kept in [&mine, &no_pid, &garbled, &other, &file] {
            assert!(kept.exists(), "{} must stay", kept.display());
        }
        assert!(sweep(temp.path()).is_empty());
        assert!(sweep(&temp.path().join("missing")).is_empty());
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn names_the_process_holding_a_sled_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let holder = lock_holder(&dir.path().join("db")).expect("found in /proc/locks");
        assert_eq!(holder.pid, std::process::id());
        assert!(holder.is_this_kernel(), "{holder:?}");
        assert!(holder
            .describe()
            .starts_with(&format!("pid {}", std::process::id())));
        drop(db);
    }
}
