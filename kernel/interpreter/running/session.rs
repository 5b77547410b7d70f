//! The session database: where it lives, how it is opened and closed, and
//! which tree the cells are working on.
//!
//! A session starts on a *temporary* database in a fresh directory under the
//! system temp dir, deleted when the session ends (or at `%reset`). It has
//! no background flusher, so `flush` prints the same byte counts from run to
//! run. `%open PATH` switches to a *persistent* database, which is never
//! deleted and keeps sled's background flusher so a crash loses at most the
//! last half second.
//!
//! The handle can be let go of and taken back ([`Session::suspend`],
//! [`Session::resume`]) so that other code (Rust cells) can open the same
//! directory in between: sled allows one open handle per directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::lock_holder::{self, Holder};
use crate::interpreter::showing::lines::session as said;
use crate::platform;
use crate::session_dirs;

/// sled's default page cache is 1 GiB; a teaching session needs far less.
const CACHE_CAPACITY: u64 = 64 * 1024 * 1024;
/// How long opening keeps retrying while the directory is locked. A path
/// just closed can stay locked for a few milliseconds while sled's threads
/// finish (sled issue 1289).
const LOCK_RETRY: Duration = Duration::from_millis(500);
const LOCK_RETRY_PAUSE: Duration = Duration::from_millis(10);
/// How long closing waits for sled's threads to let go of the lock.
const LET_GO_LIMIT: Duration = Duration::from_secs(10);
/// sled's name for the default tree.
pub(crate) const DEFAULT_TREE: &[u8] = b"__sled__default";

#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    #[error("{}", said::no_directory(.0))]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Sled(#[from] sled::Error),
    #[error("{}", said::locked(path, holder.as_ref().map(Holder::describe).as_deref()))]
    Locked {
        path: PathBuf,
        holder: Option<Holder>,
    },
}

/// Where the database lives.
enum Place {
    /// Deleted when the session is dropped, once the database is closed.
    Temporary(PathBuf),
    Persistent(PathBuf),
}

pub(crate) struct Session {
    /// `None` while suspended.
    db: Option<sled::Db>,
    /// The current tree, a handle into `db`.
    tree: Option<sled::Tree>,
    /// The current tree's name; `None` for the default tree.
    tree_name: Option<Vec<u8>>,
    // A temporary directory is deleted by `Drop`, once the database is
    // closed and sled has let go of its files.
    place: Place,
}

impl Session {
    /// Opens an empty database in a new directory under the system temp dir,
    /// marked with this process's pid.
    pub(crate) fn temporary() -> Result<Session, SessionError> {
        Session::temporary_in(Session::scratch_dir()?)
    }

    /// A new directory for a temporary database, under the system temp dir
    /// and marked with this process's pid (so a later kernel sweeps it if
    /// this one is killed). [`Session::temporary_in`] opens a database there.
    pub(crate) fn scratch_dir() -> std::io::Result<TempDir> {
        let dir = tempfile::Builder::new()
            .prefix(session_dirs::DIR_PREFIX)
            .tempdir()?;
        session_dirs::write_pid_file(dir.path())?;
        Ok(dir)
    }

    /// Opens a temporary database in `dir`, from the files already there
    /// (a copy, for `%crash_copy`) or empty.
    pub(crate) fn temporary_in(dir: TempDir) -> Result<Session, SessionError> {
        // If it does not open, `dir` goes (dropping it deletes it).
        let db = open_db(dir.path(), true)?;
        log::debug!("opened session database in {}", dir.path().display());
        Ok(Session::new(db, Place::Temporary(dir.keep())))
    }

    /// Opens (or creates) the database in directory `path`, which is never
    /// deleted.
    pub(crate) fn persistent(path: &Path) -> Result<Session, SessionError> {
        let db = open_db(path, false)?;
        log::debug!("opened persistent database in {}", path.display());
        Ok(Session::new(db, Place::Persistent(path.to_path_buf())))
    }

    fn new(db: sled::Db, place: Place) -> Session {
        Session {
            tree: Some(default_tree(&db)),
            db: Some(db),
            tree_name: None,
            place,
        }
    }

    /// The open database; `None` while suspended.
    pub(crate) fn db(&self) -> Option<&sled::Db> {
        self.db.as_ref()
    }

    /// The current tree; `None` while suspended.
    pub(crate) fn tree(&self) -> Option<&sled::Tree> {
        self.tree.as_ref()
    }

    /// The current tree's name, `None` for the default tree.
    pub(crate) fn tree_name(&self) -> Option<&[u8]> {
        self.tree_name.as_deref()
    }

    pub(crate) fn path(&self) -> &Path {
        match &self.place {
            Place::Temporary(path) | Place::Persistent(path) => path,
        }
    }

    pub(crate) fn is_temporary(&self) -> bool {
        matches!(self.place, Place::Temporary(_))
    }

    pub(crate) fn is_suspended(&self) -> bool {
        self.db.is_none()
    }

    /// Makes `name` the current tree, creating it if needed. Returns whether
    /// it existed before. sled's name for the default tree selects it.
    pub(crate) fn use_tree(&mut self, name: &[u8]) -> Result<bool, SessionError> {
        let Some(db) = &self.db else {
            return Ok(false);
        };
        if name == DEFAULT_TREE {
            self.tree = Some(default_tree(db));
            self.tree_name = None;
            return Ok(true);
        }
        let existed = db.tree_names().iter().any(|n| n == name);
        self.tree = Some(db.open_tree(name)?);
        self.tree_name = Some(name.to_vec());
        Ok(existed)
    }

    /// Drops the tree `name`; if it was the current one, the default tree
    /// becomes current. Returns whether there was such a tree.
    pub(crate) fn drop_tree(&mut self, name: &[u8]) -> Result<bool, SessionError> {
        let Some(db) = &self.db else {
            return Ok(false);
        };
        if self.tree_name.as_deref() == Some(name) {
            // Let go of our handle before sled drops the tree under it.
            self.tree = Some(default_tree(db));
            self.tree_name = None;
        }
        Ok(db.drop_tree(name)?)
    }

    /// Flushes and closes the database but keeps the directory and the
    /// current tree's name, so [`Session::resume`] can open it again.
    pub(crate) fn suspend(&mut self) -> Result<(), SessionError> {
        let flushed = match &self.db {
            Some(db) => db.flush().map(|_| ()),
            None => Ok(()),
        };
        let was_open = self.db.is_some();
        self.tree = None;
        self.db = None;
        if was_open {
            wait_until_let_go(&self.path().join("db"));
        }
        flushed.map_err(SessionError::from)
    }

    /// Opens a suspended database again (retrying briefly while it is
    /// locked) and returns to the tree that was current.
    pub(crate) fn resume(&mut self) -> Result<(), SessionError> {
        if self.db.is_some() {
            return Ok(());
        }
        let db = open_db(self.path(), self.is_temporary())?;
        let tree = match &self.tree_name {
            Some(name) => db.open_tree(name)?,
            None => default_tree(&db),
        };
        self.tree = Some(tree);
        self.db = Some(db);
        Ok(())
    }

    /// Closes the database and opens it again, like a program restarting.
    pub(crate) fn reopen(&mut self) -> Result<(), SessionError> {
        self.suspend()?;
        self.resume()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(e) = self.suspend() {
            log::warn!("flushing {} on close failed: {e}", self.path().display());
        }
        log::debug!("closed the database in {}", self.path().display());
        if let Place::Temporary(dir) = &self.place {
            if let Err(e) = session_dirs::remove_owned_dir(dir) {
                log::warn!(
                    "could not delete the session's temporary directory {}: {e}; the next kernel to start deletes it",
                    dir.display()
                );
            }
        }
    }
}

/// A handle on the default tree, which is the `Db` itself (not
/// `open_tree("__sled__default")`, a second handle whose root sled does not
/// keep in step with the first).
fn default_tree(db: &sled::Db) -> sled::Tree {
    sled::Tree::clone(db)
}

/// Opens the database in `dir`, retrying for a moment while it is locked.
fn open_db(dir: &Path, temporary: bool) -> Result<sled::Db, SessionError> {
    let mut config = sled::Config::new().path(dir).cache_capacity(CACHE_CAPACITY);
    if temporary {
        // No background flusher: writes reach disk on `flush` (or when the
        // session ends), so `flush` reports the same byte count for the
        // same commands however long the user paused between cells.
        config = config.flush_every_ms(None);
    }
    let deadline = Instant::now() + LOCK_RETRY;
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(e) if is_lock_error(&e) => {
                if Instant::now() >= deadline {
                    return Err(SessionError::Locked {
                        path: dir.to_path_buf(),
                        holder: lock_holder::lock_holder(&dir.join("db")),
                    });
                }
                std::thread::sleep(LOCK_RETRY_PAUSE);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// sled's writer threads can hold the database's file lock for a moment
/// after the last `Db` handle is dropped (longer on a busy machine), and a
/// Rust cell's `sled::open` in that moment would be refused (and on
/// Windows, deleting a temporary database's files could fail). Returns once
/// this process no longer holds it, or after [`LET_GO_LIMIT`].
fn wait_until_let_go(file: &Path) {
    let deadline = Instant::now() + LET_GO_LIMIT;
    while platform::held_by_this_process(file) {
        if Instant::now() >= deadline {
            log::warn!(
                "{} is still locked by this process after closing it",
                file.display()
            );
            return;
        }
        std::thread::sleep(LOCK_RETRY_PAUSE);
    }
}

/// sled reports a held lock as an I/O error of kind `Other` with this text.
fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_in_a_prefixed_temp_dir_with_a_pid_file_and_deletes_it_on_drop() {
        let session = Session::temporary().unwrap();
        let path = session.path().to_path_buf();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("sled-kernel-"), "{name}");
        assert!(path.starts_with(std::env::temp_dir()));
        assert_eq!(session_dirs::recorded_pid(&path), Some(std::process::id()));
        assert!(session.is_temporary());
        session.tree().unwrap().insert("k", "v").unwrap();
        session.db().unwrap().flush().unwrap();
        assert!(path.join("db").exists());
        drop(session);
        assert!(!path.exists(), "{} should be deleted", path.display());
    }

    #[test]
    fn a_persistent_database_keeps_its_directory_and_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let session = Session::persistent(&path).unwrap();
        assert!(!session.is_temporary());
        session.tree().unwrap().insert("k", "v").unwrap();
        drop(session);
        assert!(path.exists());
        let again = Session::persistent(&path).unwrap();
        assert_eq!(
            again.tree().unwrap().get("k").unwrap().as_deref(),
            Some(&b"v"[..])
        );
        assert!(again.db().unwrap().was_recovered());
    }

    #[test]
    fn trees_switch_and_survive_suspend_and_reopen() {
        let mut s = Session::temporary().unwrap();
        assert_eq!(s.tree_name(), None);
        assert!(!s.use_tree(b"users").unwrap(), "new");
        assert_eq!(s.tree_name(), Some(&b"users"[..]));
        s.tree().unwrap().insert("alice", "admin").unwrap();
        assert!(
            s.db().unwrap().get("alice").unwrap().is_none(),
            "not in default"
        );
        s.suspend().unwrap();
        assert!(s.is_suspended() && s.tree().is_none() && s.db().is_none());
        s.suspend().unwrap();
        s.resume().unwrap();
        assert_eq!(s.tree_name(), Some(&b"users"[..]));
        assert!(s.tree().unwrap().get("alice").unwrap().is_some());
        s.reopen().unwrap();
        assert!(s.tree().unwrap().get("alice").unwrap().is_some());
        assert!(s.use_tree(DEFAULT_TREE).unwrap());
        assert_eq!(s.tree_name(), None);
        assert!(s.use_tree(b"users").unwrap(), "exists now");
        assert!(s.drop_tree(b"users").unwrap());
        assert_eq!(s.tree_name(), None, "dropping the current tree goes home");
        assert!(!s.drop_tree(b"users").unwrap());
    }

    #[test]
    fn a_second_handle_in_this_process_is_refused_then_the_retry_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let first = Session::persistent(dir.path()).unwrap();
        let started = Instant::now();
        let Err(SessionError::Locked { path, holder }) = Session::persistent(dir.path()) else {
            panic!("a second open of a locked directory must fail")
        };
        assert!(started.elapsed() >= LOCK_RETRY, "it retried");
        assert_eq!(path, dir.path());
        if cfg!(target_os = "linux") {
            assert!(holder.is_some_and(|h| h.is_this_kernel()));
        }
        drop(first);
    }

    #[test]
    fn resume_waits_out_a_lock_that_is_released_meanwhile() {
        let mut s = Session::temporary().unwrap();
        s.suspend().unwrap();
        let other = sled::Config::new().path(s.path()).open().unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(other);
        });
        s.resume().unwrap();
        releaser.join().unwrap();
        assert!(!s.is_suspended());
    }
}
