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
//! Whether a process runs, every system says ([`platform::process_alive`]);
//! who holds a lock, only Linux: elsewhere the holder goes unnamed, and the
//! messages say what can be said without it.

use std::path::{Path, PathBuf};

use crate::platform;

/// The file in a session directory naming the kernel that owns it.
pub(crate) const PID_FILE: &str = "owner.pid";
/// What session directories are called (followed by random characters).
pub(crate) const DIR_PREFIX: &str = "sled-kernel-";

/// Records this process as the owner of `dir`.
pub fn write_pid_file(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join(PID_FILE), format!("{}\n", std::process::id()))
}

/// The pid recorded in `dir`, if it has a readable pid file.
pub(crate) fn recorded_pid(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Deletes the session directories in `temp_dir` left by kernels that are
/// no longer running; returns the ones deleted. A directory is deleted only
/// if its name starts with [`DIR_PREFIX`], it is a real directory (not a
/// link), it has a pid file, and that process is known to be gone.
pub(crate) fn sweep(temp_dir: &Path) -> Vec<PathBuf> {
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
        if pid == me || platform::process_alive(pid) != Some(false) {
            continue;
        }
        match remove_owned_dir(&dir) {
            Ok(()) => {
                log::info!(
                    "removed {} left by kernel {pid}, which is gone",
                    dir.display()
                );
                removed.push(dir);
            }
            Err(e) => log::warn!(
                "could not remove {} left by kernel {pid}, which is gone: {e}; the next kernel to start tries again",
                dir.display()
            ),
        }
    }
    removed
}

/// Deletes a directory marked with a pid file, the pid file last: a file
/// that cannot be deleted yet (Windows refuses to delete a file some
/// process still has open) leaves the directory marked, so a kernel that
/// starts later sweeps what is left.
pub(crate) fn remove_owned_dir(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() == PID_FILE {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    if let Err(e) = std::fs::remove_file(dir.join(PID_FILE)) {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(e);
        }
    }
    std::fs::remove_dir(dir)
}

/// A process holding a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub pid: u32,
    /// Its command name, when the system tells.
    pub name: Option<String>,
}

impl Holder {
    /// Whether the holder is this kernel or a process it started (evcxr
    /// runs the Rust cells in a child of the kernel), by walking the parent
    /// pids up from the holder (where the system tells parents; elsewhere
    /// only the kernel's own pid counts).
    pub(crate) fn is_this_kernel(&self) -> bool {
        let me = std::process::id();
        let mut pid = self.pid;
        // A bounded walk: process trees are shallow, and a cycle (a pid
        // reused mid-walk) must not loop forever.
        for _ in 0..64 {
            if pid == me {
                return true;
            }
            match platform::parent_of(pid) {
                Some(parent) if parent > 1 => pid = parent,
                _ => return false,
            }
        }
        false
    }

    /// `pid 1234, sled-kernel`.
    pub(crate) fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("pid {}, {name}", self.pid),
            None => format!("pid {}", self.pid),
        }
    }
}

/// The process holding the lock on `file`, where the system tells
/// ([`platform::lock_holder`]).
pub(crate) fn lock_holder(file: &Path) -> Option<Holder> {
    let pid = platform::lock_holder(file)?;
    Some(Holder {
        pid,
        name: platform::process_name(pid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    fn a_child_of_this_process_counts_as_this_kernel_and_an_ancestor_does_not() {
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
        let parent = Holder {
            pid: platform::parent_of(std::process::id()).unwrap(),
            name: None,
        };
        assert!(!parent.is_this_kernel(), "an ancestor is not this kernel");
    }

    #[test]
    fn pid_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(recorded_pid(dir.path()), None);
        write_pid_file(dir.path()).unwrap();
        assert_eq!(recorded_pid(dir.path()), Some(std::process::id()));
    }

    /// The pid of a process that has exited (and been reaped): this test
    /// program, asked only to list its tests.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--list", "--exact", "no-such-test"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn sweep_removes_only_dead_kernels_directories() {
        let temp = tempfile::tempdir().unwrap();
        let make = |name: &str, pid: Option<String>| {
            let dir = temp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("db"), "data").unwrap();
            std::fs::create_dir(dir.join("blobs")).unwrap();
            std::fs::write(dir.join("blobs").join("1"), "blob").unwrap();
            if let Some(pid) = pid {
                std::fs::write(dir.join(PID_FILE), pid).unwrap();
            }
            dir
        };
        let dead = dead_pid();
        assert_eq!(platform::process_alive(dead), Some(false));
        assert_eq!(platform::process_alive(std::process::id()), Some(true));
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

    /// A file some program keeps open (Windows refuses to delete it then)
    /// leaves the directory marked with its pid file, for a later sweep.
    #[test]
    #[cfg(windows)]
    fn a_directory_that_cannot_be_deleted_yet_stays_marked_for_a_later_sweep() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("sled-kernel-busy");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("conf"), "c").unwrap();
        std::fs::write(dir.join("db"), "data").unwrap();
        std::fs::write(dir.join(PID_FILE), format!("{}\n", dead_pid())).unwrap();
        let held = platform::open_undeletable(&dir.join("db")).unwrap();
        assert!(sweep(temp.path()).is_empty(), "db is held open");
        assert!(dir.join(PID_FILE).exists(), "still marked");
        drop(held);
        assert_eq!(sweep(temp.path()), [dir]);
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
            .starts_with(&format!("pid {}, ", std::process::id())));
        drop(db);
    }
}
