//! The session's temporary directories, and which kernel owns them.
//!
//! A session has two: the KV interpreter's database directory
//! (`sled-kernel-` and random characters) and, once a Rust cell runs, the
//! Rust context's build directory ([`rust_build_dir`]). Both engines make
//! theirs here, below them both, so neither reaches into the other.
//!
//! Each holds an `owner.pid` file with the kernel's process id. A kernel
//! that is killed (`kill -9`, a crash, a power cut) cannot delete its
//! directories, so the next kernel to start [`sweep`]s the ones whose owner
//! is no longer running ([`platform::process_alive`], which every system
//! answers). Only directories named `sled-kernel-*` that hold such a file
//! are touched.

use std::path::{Path, PathBuf};

use crate::platform;

/// The file in a session directory naming the kernel that owns it.
pub(crate) const PID_FILE: &str = "owner.pid";
/// What session directories are called (the database's is followed by
/// random characters, the Rust build directory's by `rust-` and the pid).
pub(crate) const DIR_PREFIX: &str = "sled-kernel-";

/// Where this process's Rust context builds: one directory per kernel in
/// the temp dir, named like the session database's so that a killed
/// kernel's is swept by the next one.
#[cfg(feature = "rust-cells")]
pub(crate) fn rust_build_dir() -> PathBuf {
    std::env::temp_dir().join(format!("{DIR_PREFIX}rust-{}", std::process::id()))
}

/// Records this process as the owner of `dir`.
pub(crate) fn write_pid_file(dir: &Path) -> std::io::Result<()> {
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

/// The pid of a process that has exited (and been reaped), for tests of
/// the sweep: this test program, asked only to list its tests.
#[cfg(test)]
pub(crate) fn dead_pid() -> u32 {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--list", "--exact", "no-such-test"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(recorded_pid(dir.path()), None);
        write_pid_file(dir.path()).unwrap();
        assert_eq!(recorded_pid(dir.path()), Some(std::process::id()));
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
}
