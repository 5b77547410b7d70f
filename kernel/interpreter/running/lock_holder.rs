//! Which process holds a session database's lock: when sled cannot lock
//! a database, [`lock_holder`] asks the system, so the error can name it.
//! Only Linux tells; elsewhere the holder goes unnamed, and the messages
//! say what can be said without it.

use std::path::Path;

use crate::interpreter::showing::lines::session as said;
use crate::platform;

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
        said::holder(self.pid, self.name.as_deref())
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

/// Where the system tells parents and lock holders (macOS only parents).
#[cfg(all(test, any(target_os = "linux", target_os = "macos")))]
mod tests {
    use super::*;

    #[test]
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
