//! The session database: a sled `Db` in a fresh temporary directory, which
//! lives exactly as long as the kernel (or until `%reset`).

use std::path::Path;

use tempfile::TempDir;

/// sled's default page cache is 1 GiB; a teaching session needs far less.
const CACHE_CAPACITY: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("could not create the database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Sled(#[from] sled::Error),
}

pub struct Session {
    // Field order matters: the database is dropped (and closed) before its
    // directory is deleted.
    db: sled::Db,
    dir: TempDir,
}

impl Session {
    /// Opens an empty database in a new directory under the system temp dir.
    pub fn open() -> Result<Session, SessionError> {
        let dir = tempfile::Builder::new().prefix("sled-kernel-").tempdir()?;
        let db = sled::Config::new()
            .path(dir.path())
            .cache_capacity(CACHE_CAPACITY)
            // No background flusher: writes reach disk on `flush` (or when
            // the session ends), so `flush` reports the same byte count for
            // the same commands however long the user paused between cells.
            .flush_every_ms(None)
            .open()?;
        log::debug!("opened session database in {}", dir.path().display());
        Ok(Session { db, dir })
    }

    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces the database with an empty one. The new one is opened first,
    /// so a failure leaves the old session usable.
    pub fn reset(&mut self) -> Result<(), SessionError> {
        let fresh = Session::open()?;
        drop(std::mem::replace(self, fresh));
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(e) = self.db.flush() {
            log::warn!("flushing {} on close failed: {e}", self.path().display());
        }
        log::debug!("closing session database in {}", self.path().display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_in_a_prefixed_temp_dir_and_deletes_it_on_drop() {
        let session = Session::open().unwrap();
        let path = session.path().to_path_buf();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("sled-kernel-"), "{name}");
        assert!(path.starts_with(std::env::temp_dir()));
        session.db().insert("k", "v").unwrap();
        session.db().flush().unwrap();
        assert!(path.join("conf").exists() || path.join("db").exists());
        drop(session);
        assert!(!path.exists(), "{} should be deleted", path.display());
    }

    #[test]
    fn reset_gives_an_empty_database_in_a_new_directory() {
        let mut session = Session::open().unwrap();
        session.db().insert("k", "v").unwrap();
        let old = session.path().to_path_buf();
        session.reset().unwrap();
        assert!(session.db().is_empty());
        assert_ne!(session.path(), old);
        assert!(!old.exists());
        assert!(session.path().exists());
    }
}
