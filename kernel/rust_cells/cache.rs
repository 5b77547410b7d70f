//! The Rust cache: crates that Rust cells compiled, kept between kernels.
//!
//! The first `%%rust` cell of a kernel needs sled and the twenty-odd crates
//! sled depends on. Compiling them takes about a minute on a small machine;
//! copying them out of this cache takes well under a second. The kernel
//! makes its own binary cargo's `RUSTC_WRAPPER` (see `wrapper.rs`),
//! which answers each compile of a crates.io crate from here when it can and
//! adds what it had to compile.
//!
//! The directory (by default `$XDG_CACHE_HOME/sled-kernel/rust-cells`):
//!
//! ```text
//! crates/<key>/   one compiled crate: its files and a `manifest.json`
//! tmp/            entries being written, each in a directory of its own
//! trash/          entries being deleted
//! Cargo.lock      the versions the last Rust context resolved, so the next
//!                 one picks the same (and needs no network to do so)
//! compilers/<id>  what `rustc -vV` printed, for one compiler file as it
//!                 was (the wrapper's `compiler_version`)
//! ```
//!
//! Many kernels may use one cache at once (thirty students on one
//! JupyterHub machine). Nothing in `crates/` is ever written in place: an
//! entry is assembled under `tmp/` and appears with one `rename`, so a
//! reader sees all of it or none; deleting starts with a `rename` into
//! `trash/`. A reader that loses a race (the entry vanished while it was
//! copying) compiles the crate instead, so the worst a race can cost is time.

use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Where the cache is (a directory), or `off`.
pub const DIR_ENV: &str = "SLED_KERNEL_RUST_CACHE";
/// Its size limit in MiB.
pub const LIMIT_ENV: &str = "SLED_KERNEL_RUST_CACHE_MB";
/// The size limit when [`LIMIT_ENV`] is not set.
pub(super) const DEFAULT_LIMIT_MIB: u64 = 1024;
/// Changes whenever entries written by an older kernel must not be read.
const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const SEED_LOCK: &str = "Cargo.lock";
const COMPILERS: &str = "compilers";
/// Staging directories older than this belong to a writer that died.
const STALE: Duration = Duration::from_secs(3600);

const MIB: u64 = 1024 * 1024;

/// The cache settings a kernel starts with, from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settings {
    /// The cache directory; `None` when the cache is off.
    pub dir: Option<PathBuf>,
    /// Entries are evicted, least recently used first, above this many bytes.
    pub limit: u64,
    /// Why the cache is where it is (or off), for `%rust cache`.
    pub origin: String,
    /// What was wrong with the environment, one line each; the cache then
    /// falls back to its defaults.
    pub problems: Vec<String>,
}

impl Settings {
    /// Reads [`DIR_ENV`] and [`LIMIT_ENV`] from this process's environment.
    pub(super) fn from_env() -> Settings {
        Self::from_vars(|name| std::env::var_os(name), dirs::cache_dir())
    }

    /// `var` looks a variable up; `user_cache` is the user's cache
    /// directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux).
    pub(super) fn from_vars(
        var: impl Fn(&str) -> Option<OsString>,
        user_cache: Option<PathBuf>,
    ) -> Settings {
        let mut problems = Vec::new();
        let limit = match var(LIMIT_ENV).map(|v| v.to_string_lossy().trim().to_string()) {
            None => DEFAULT_LIMIT_MIB * MIB,
            Some(text) if text.is_empty() => DEFAULT_LIMIT_MIB * MIB,
            Some(text) => match text.parse::<u64>() {
                Ok(0) => {
                    return Settings {
                        dir: None,
                        limit: 0,
                        origin: format!("off ({LIMIT_ENV}=0)"),
                        problems,
                    }
                }
                Ok(mib) => mib.saturating_mul(MIB),
                Err(_) => {
                    problems.push(format!(
                        "{LIMIT_ENV}={text:?} is not a whole number of MiB; using {DEFAULT_LIMIT_MIB}"
                    ));
                    DEFAULT_LIMIT_MIB * MIB
                }
            },
        };
        let default_place = || {
            user_cache
                .as_ref()
                .map(|dir| dir.join("sled-kernel").join("rust-cells"))
        };
        let (dir, origin) = match var(DIR_ENV) {
            Some(value) if !value.is_empty() => {
                let text = value.to_string_lossy().trim().to_ascii_lowercase();
                if ["off", "0", "no", "false", "none"].contains(&text.as_str()) {
                    (None, format!("off ({DIR_ENV}={})", value.to_string_lossy()))
                } else if Path::new(&value).is_absolute() {
                    (Some(PathBuf::from(value)), format!("set by {DIR_ENV}"))
                } else {
                    problems.push(format!(
                        "{DIR_ENV}={:?} is neither an absolute directory nor `off`; using the default place",
                        value.to_string_lossy()
                    ));
                    (default_place(), "the default place".to_string())
                }
            }
            _ => (
                default_place(),
                "the default place ($XDG_CACHE_HOME or ~/.cache)".to_string(),
            ),
        };
        if dir.is_none() && !origin.starts_with("off") {
            problems.push(format!(
                "there is no cache directory (neither XDG_CACHE_HOME nor HOME is set); set {DIR_ENV} to a directory"
            ));
            return Settings {
                dir: None,
                limit,
                origin: "off (no cache directory)".into(),
                problems,
            };
        }
        Settings {
            dir,
            limit,
            origin,
            problems,
        }
    }
}

/// What this process may do with the cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Access {
    ReadWrite,
    /// Entries can be read but not added; why.
    ReadOnly(String),
    /// Not even readable (it cannot be created, or is not a directory); why.
    Unusable(String),
}

/// How much the cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Usage {
    pub crates: u64,
    pub bytes: u64,
}

/// What adding an entry came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Published {
    Stored {
        bytes: u64,
    },
    /// Another kernel stored the same crate first; ours was dropped.
    AlreadyThere,
    /// The entry alone is bigger than the cache may be.
    TooBig {
        bytes: u64,
    },
}

/// One file a compile produced, as rustc's artifact notification names it
/// (`emit` is `link`, `metadata`, `dep-info`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Artifact {
    pub file: String,
    pub emit: String,
    pub bytes: u64,
}

/// An entry's description, written last into its staging directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Manifest {
    pub format: u32,
    pub crate_name: String,
    pub artifacts: Vec<Artifact>,
    /// Environment variables the compile read (`env!`, `option_env!`), as
    /// rustc listed them in the dep-info, with placeholders for paths. The
    /// entry only serves a compile that sees the same values.
    #[serde(default)]
    pub env: Vec<(String, Option<String>)>,
}

/// The directories whose names differ between kernels and users but not
/// in what they mean: a kernel's build directory and cargo's home. Paths in
/// cache keys and dep-info files name them by placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Places {
    pub build: String,
    pub cargo_home: String,
}

const BUILD_MARK: &str = "<sled-kernel-build>";
const CARGO_HOME_MARK: &str = "<cargo-home>";

impl Places {
    /// Real paths to placeholders.
    pub(super) fn hide(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (real, mark) in [
            (&self.build, BUILD_MARK),
            (&self.cargo_home, CARGO_HOME_MARK),
        ] {
            if !real.is_empty() {
                text = text.replace(real.as_str(), mark);
            }
        }
        text
    }

    /// Placeholders to this kernel's real paths.
    pub(super) fn show(&self, text: &str) -> String {
        text.replace(BUILD_MARK, &self.build)
            .replace(CARGO_HOME_MARK, &self.cargo_home)
    }
}

/// A cache directory.
#[derive(Debug, Clone)]
pub(super) struct Store {
    root: PathBuf,
}

impl Store {
    pub(super) fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    fn crates(&self) -> PathBuf {
        self.root.join("crates")
    }

    fn staging(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn trash(&self) -> PathBuf {
        self.root.join("trash")
    }

    fn entry(&self, key: &str) -> PathBuf {
        self.crates().join(key)
    }

    /// Creates the directory if needed and finds out what we may do there.
    pub(super) fn prepare(&self) -> Access {
        if let Err(e) = fs::create_dir_all(self.crates()) {
            if !self.crates().is_dir() {
                return Access::Unusable(format!("cannot create {}: {e}", self.crates().display()));
            }
        }
        if let Err(e) = fs::read_dir(self.crates()) {
            return Access::Unusable(format!("cannot read {}: {e}", self.crates().display()));
        }
        let probe = fs::create_dir_all(self.staging()).and_then(|()| {
            tempfile::Builder::new()
                .prefix("probe")
                .tempfile_in(self.staging())
                .map(drop)
        });
        match probe {
            Ok(()) => Access::ReadWrite,
            Err(e) => {
                Access::ReadOnly(format!("cannot write in {}: {e}", self.staging().display()))
            }
        }
    }

    /// The entry for `key`, when there is a complete one of this format.
    pub(super) fn lookup(&self, key: &str) -> Option<Manifest> {
        let text = fs::read_to_string(self.entry(key).join(MANIFEST)).ok()?;
        let manifest: Manifest = serde_json::from_str(&text).ok()?;
        (manifest.format == FORMAT).then_some(manifest)
    }

    /// Copies the entry's files into `out_dir` (dep-info with this kernel's
    /// paths) and returns them as they now are. Any failure (the entry was
    /// deleted meanwhile, a file is short) is an error: compile instead.
    pub(super) fn restore(
        &self,
        key: &str,
        manifest: &Manifest,
        out_dir: &Path,
        places: &Places,
    ) -> io::Result<Vec<(PathBuf, String)>> {
        let entry = self.entry(key);
        let mut restored = Vec::new();
        for artifact in &manifest.artifacts {
            let name = plain_file_name(&artifact.file)?;
            let from = entry.join(name);
            let to = out_dir.join(name);
            if artifact.emit == "dep-info" {
                let text = fs::read_to_string(&from)?;
                fs::write(&to, places.show(&text))?;
            } else {
                let copied = fs::copy(&from, &to)?;
                if copied != artifact.bytes {
                    return Err(io::Error::other(format!(
                        "{} has {copied} bytes, the manifest says {}",
                        from.display(),
                        artifact.bytes
                    )));
                }
            }
            restored.push((to, artifact.emit.clone()));
        }
        Ok(restored)
    }

    /// Marks the entry as just used (eviction drops the least recently used).
    pub(super) fn touch(&self, key: &str) {
        let stamp = fs::OpenOptions::new()
            .write(true)
            .open(self.entry(key).join(MANIFEST))
            .and_then(|f| f.set_modified(SystemTime::now()));
        if let Err(e) = stamp {
            log::debug!("could not mark cache entry {key} as used: {e}");
        }
    }

    /// Adds the files `produced` (paths, emit kinds) as the entry `key`.
    pub(super) fn publish(
        &self,
        key: &str,
        crate_name: &str,
        produced: &[(PathBuf, String)],
        env: Vec<(String, Option<String>)>,
        places: &Places,
        limit: u64,
    ) -> io::Result<Published> {
        let mut bytes = 0;
        for (path, _) in produced {
            bytes += fs::metadata(path)?.len();
        }
        if bytes > limit {
            return Ok(Published::TooBig { bytes });
        }
        if self.entry(key).is_dir() {
            return Ok(Published::AlreadyThere);
        }
        fs::create_dir_all(self.staging())?;
        fs::create_dir_all(self.crates())?;
        let staging = tempfile::Builder::new()
            .prefix(&format!("{key}."))
            .tempdir_in(self.staging())?;
        let mut artifacts = Vec::new();
        for (path, emit) in produced {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| io::Error::other(format!("odd file name {}", path.display())))?;
            let to = staging.path().join(name);
            let bytes = if emit == "dep-info" {
                let text = places.hide(&fs::read_to_string(path)?);
                fs::write(&to, &text)?;
                text.len() as u64
            } else {
                fs::copy(path, &to)?
            };
            artifacts.push(Artifact {
                file: name.to_string(),
                emit: emit.clone(),
                bytes,
            });
        }
        let manifest = Manifest {
            format: FORMAT,
            crate_name: crate_name.to_string(),
            artifacts,
            env,
        };
        let text = serde_json::to_string_pretty(&manifest).map_err(io::Error::other)?;
        fs::write(staging.path().join(MANIFEST), text)?;
        // The one step that makes the entry visible, all of it at once.
        let staged = staging.keep();
        match fs::rename(&staged, self.entry(key)) {
            Ok(()) => Ok(Published::Stored { bytes }),
            Err(e) => {
                let _ = fs::remove_dir_all(&staged);
                // A non-empty directory is in the way: another kernel's entry.
                let taken = matches!(
                    e.kind(),
                    io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists
                );
                if taken || self.entry(key).is_dir() {
                    Ok(Published::AlreadyThere)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Every complete entry: key, last use, size.
    fn entries(&self) -> Vec<(String, SystemTime, u64)> {
        let Ok(listing) = fs::read_dir(self.crates()) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in listing.flatten() {
            let path = entry.path();
            let Ok(used) = fs::metadata(path.join(MANIFEST)).and_then(|m| m.modified()) else {
                continue;
            };
            let bytes = directory_bytes(&path);
            found.push((
                entry.file_name().to_string_lossy().into_owned(),
                used,
                bytes,
            ));
        }
        found
    }

    pub(super) fn usage(&self) -> Usage {
        let entries = self.entries();
        Usage {
            crates: entries.len() as u64,
            bytes: entries.iter().map(|(_, _, bytes)| bytes).sum(),
        }
    }

    /// Deletes least recently used entries until the cache holds at most
    /// `limit` bytes; returns what went. Entries another kernel deletes at
    /// the same moment are skipped.
    pub(super) fn evict(&self, limit: u64) -> Usage {
        self.sweep_leftovers();
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|(_, _, bytes)| bytes).sum();
        let mut freed = Usage::default();
        entries.sort_by_key(|(_, used, _)| *used);
        for (key, _, bytes) in entries {
            if total <= limit {
                break;
            }
            if self.discard(&key).is_ok() {
                total = total.saturating_sub(bytes);
                freed.crates += 1;
                freed.bytes += bytes;
            }
        }
        freed
    }

    /// Deletes every entry and the remembered `Cargo.lock`.
    pub(super) fn clear(&self) -> Usage {
        let mut freed = Usage::default();
        for (key, _, bytes) in self.entries() {
            if self.discard(&key).is_ok() {
                freed.crates += 1;
                freed.bytes += bytes;
            }
        }
        let _ = fs::remove_file(self.root.join(SEED_LOCK));
        self.sweep_leftovers();
        freed
    }

    /// Takes an entry out of `crates/` in one step, then deletes it.
    fn discard(&self, key: &str) -> io::Result<()> {
        fs::create_dir_all(self.trash())?;
        let doomed = tempfile::Builder::new()
            .prefix(&format!("{key}."))
            .tempdir_in(self.trash())?
            .keep();
        // Renaming a directory onto an empty one replaces it.
        if let Err(e) = fs::rename(self.entry(key), &doomed) {
            let _ = fs::remove_dir(&doomed);
            return Err(e);
        }
        fs::remove_dir_all(&doomed)
    }

    /// Removes what crashed writers and deleters left behind.
    fn sweep_leftovers(&self) {
        if let Ok(listing) = fs::read_dir(self.trash()) {
            for entry in listing.flatten() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        if let Ok(listing) = fs::read_dir(self.staging()) {
            for entry in listing.flatten() {
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE);
                if old {
                    let path = entry.path();
                    let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
                }
            }
        }
    }

    /// The `Cargo.lock` a Rust context with sled last resolved, if any.
    pub(super) fn seed_lock(&self) -> Option<String> {
        let text = fs::read_to_string(self.root.join(SEED_LOCK)).ok()?;
        looks_like_a_sled_lock(&text).then_some(text)
    }

    /// Remembers `text` as the `Cargo.lock` for the next context.
    pub(super) fn save_seed_lock(&self, text: &str) -> io::Result<()> {
        if !looks_like_a_sled_lock(text) || self.seed_lock().as_deref() == Some(text) {
            return Ok(());
        }
        self.write_whole(&self.root.join(SEED_LOCK), text)
    }

    /// The `rustc -vV` output remembered under `id`, if any.
    pub(super) fn compiler(&self, id: &str) -> Option<String> {
        fs::read_to_string(self.root.join(COMPILERS).join(id)).ok()
    }

    /// Remembers `text` under `id`, whole or not at all.
    pub(super) fn save_compiler(&self, id: &str, text: &str) -> io::Result<()> {
        let folder = self.root.join(COMPILERS);
        fs::create_dir_all(&folder)?;
        self.write_whole(&folder.join(id), text)
    }

    /// Writes `text` to `to` through a file staged in `tmp/`, so that a
    /// reader sees all of it or the file as it was.
    fn write_whole(&self, to: &Path, text: &str) -> io::Result<()> {
        fs::create_dir_all(self.staging())?;
        let mut staged = tempfile::Builder::new()
            .prefix("file.")
            .tempfile_in(self.staging())?;
        io::Write::write_all(&mut staged, text.as_bytes())?;
        staged.persist(to).map(drop).map_err(|e| e.error)
    }
}

fn looks_like_a_sled_lock(text: &str) -> bool {
    text.contains("[[package]]") && text.contains("name = \"sled\"")
}

/// A manifest's file name, refused if it could point outside the entry.
fn plain_file_name(name: &str) -> io::Result<&str> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.contains('\\')
        && name != MANIFEST;
    if plain {
        Ok(name)
    } else {
        Err(io::Error::other(format!(
            "bad file name {name:?} in a manifest"
        )))
    }
}

fn directory_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|listing| {
            listing
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Bytes as a person reads them: `26.3 MiB`, `1024 MiB`, `99 bytes`.
pub(super) fn human(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes < MIB {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else if bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn settings_default_to_the_user_cache_directory() {
        let s = Settings::from_vars(vars(&[]), Some("/home/ann/.cache".into()));
        assert_eq!(
            s.dir,
            Some("/home/ann/.cache/sled-kernel/rust-cells".into())
        );
        assert_eq!(s.limit, DEFAULT_LIMIT_MIB * MIB);
        assert!(s.problems.is_empty());

        let s = Settings::from_vars(
            vars(&[(DIR_ENV, "/srv/class-cache"), (LIMIT_ENV, "300")]),
            Some("/home/ann/.cache".into()),
        );
        assert_eq!(s.dir, Some("/srv/class-cache".into()));
        assert_eq!(s.limit, 300 * MIB);
    }

    #[test]
    fn settings_turn_off_and_say_what_was_wrong() {
        for off in ["off", "OFF", "0", "no"] {
            let s = Settings::from_vars(vars(&[(DIR_ENV, off)]), Some("/c".into()));
            assert_eq!(s.dir, None, "{off}");
            assert!(s.origin.starts_with("off"), "{}", s.origin);
            assert!(s.problems.is_empty());
        }
        let s = Settings::from_vars(vars(&[(LIMIT_ENV, "0")]), Some("/c".into()));
        assert_eq!(s.dir, None);

        let s = Settings::from_vars(
            vars(&[(DIR_ENV, "relative/dir"), (LIMIT_ENV, "lots")]),
            Some("/c".into()),
        );
        assert_eq!(s.dir, Some("/c/sled-kernel/rust-cells".into()));
        assert_eq!(s.limit, DEFAULT_LIMIT_MIB * MIB);
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        assert!(s.problems[0].contains("\"lots\""), "{:?}", s.problems);
        assert!(s.problems[1].contains("relative/dir"), "{:?}", s.problems);

        let s = Settings::from_vars(vars(&[]), None);
        assert_eq!(s.dir, None);
        assert!(s.problems[0].contains(DIR_ENV), "{:?}", s.problems);
    }

    fn places(build: &Path) -> Places {
        Places {
            build: build.to_string_lossy().into_owned(),
            cargo_home: "/home/ann/.cargo".into(),
        }
    }

    /// A fake compile's outputs in `dir`: an rlib of `size` bytes and a
    /// dep-info naming the build directory and cargo's home.
    fn outputs(dir: &Path, size: usize, fill: u8) -> Vec<(PathBuf, String)> {
        fs::create_dir_all(dir).unwrap();
        let rlib = dir.join("libdemo-1234.rlib");
        fs::write(&rlib, vec![fill; size]).unwrap();
        let dep_info = dir.join("demo-1234.d");
        fs::write(
            &dep_info,
            format!(
                "{}: /home/ann/.cargo/registry/src/demo/lib.rs\n",
                rlib.display()
            ),
        )
        .unwrap();
        vec![(rlib, "link".into()), (dep_info, "dep-info".into())]
    }

    #[test]
    fn an_entry_comes_back_in_another_build_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path().join("cache"));
        assert_eq!(store.prepare(), Access::ReadWrite);
        let first = tmp.path().join("kernel-a/target/deps");
        let produced = outputs(&first, 1000, 7);
        let publish = || {
            store
                .publish(
                    "k1",
                    "demo",
                    &produced,
                    Vec::new(),
                    &places(&first),
                    10 * MIB,
                )
                .unwrap()
        };
        let published = publish();
        assert!(
            matches!(published, Published::Stored { .. }),
            "{published:?}"
        );
        assert_eq!(store.usage().crates, 1);

        let second = tmp.path().join("kernel-b/target/deps");
        fs::create_dir_all(&second).unwrap();
        let manifest = store.lookup("k1").expect("a complete entry");
        let restored = store
            .restore("k1", &manifest, &second, &places(&second))
            .unwrap();
        assert_eq!(restored.len(), 2);
        assert_eq!(
            fs::read(second.join("libdemo-1234.rlib")).unwrap(),
            vec![7; 1000]
        );
        let dep_info = fs::read_to_string(second.join("demo-1234.d")).unwrap();
        assert!(
            dep_info.starts_with(&second.display().to_string()),
            "{dep_info}"
        );
        assert!(!dep_info.contains("kernel-a"), "{dep_info}");

        // Publishing the same key again keeps the first entry.
        assert_eq!(publish(), Published::AlreadyThere);
        assert_eq!(store.usage().crates, 1);
    }

    #[test]
    fn too_big_entries_are_not_kept_and_old_ones_are_evicted() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path().join("cache"));
        let dir = tmp.path().join("build");
        let big = outputs(&dir.join("big"), 3000, 1);
        assert_eq!(
            store
                .publish("big", "demo", &big, Vec::new(), &places(&dir), 2000)
                .unwrap(),
            Published::TooBig {
                bytes: 3000 + fs::metadata(&big[1].0).unwrap().len()
            }
        );
        for (i, key) in ["old", "middle", "new"].into_iter().enumerate() {
            let produced = outputs(&dir.join(key), 1000, i as u8);
            store
                .publish(key, "demo", &produced, Vec::new(), &places(&dir), 10 * MIB)
                .unwrap();
            // Distinct last-use times, oldest first.
            let stamp = SystemTime::now() - Duration::from_secs(100 - i as u64 * 10);
            fs::File::options()
                .write(true)
                .open(store.entry(key).join(MANIFEST))
                .unwrap()
                .set_modified(stamp)
                .unwrap();
        }
        // Using "old" makes "middle" the least recently used.
        store.touch("old");
        let before = store.usage();
        assert_eq!(before.crates, 3);
        let freed = store.evict(before.bytes - 1);
        assert_eq!(freed.crates, 1);
        assert!(store.lookup("middle").is_none());
        assert!(store.lookup("old").is_some() && store.lookup("new").is_some());
        assert_eq!(store.clear().crates, 2);
        assert_eq!(store.usage(), Usage::default());
    }

    #[test]
    fn an_unwritable_cache_is_read_only_and_a_file_in_the_way_unusable() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path().join("cache"));
        fs::create_dir_all(store.crates()).unwrap();
        // Root ignores permission bits, so block staging with a file.
        fs::write(store.staging(), "not a directory").unwrap();
        let Access::ReadOnly(why) = store.prepare() else {
            panic!("staging blocked: should be read-only");
        };
        assert!(why.contains("tmp"), "{why}");

        let blocked = tmp.path().join("a-file");
        fs::write(&blocked, "").unwrap();
        let Access::Unusable(why) = Store::new(blocked.join("cache")).prepare() else {
            panic!("a file in the way: should be unusable");
        };
        assert!(why.contains("cannot create"), "{why}");
    }

    #[test]
    fn the_seed_lock_must_name_sled() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        assert_eq!(store.seed_lock(), None);
        store.save_seed_lock("garbage").unwrap();
        assert_eq!(store.seed_lock(), None);
        let lock = "version = 4\n\n[[package]]\nname = \"sled\"\nversion = \"0.34.7\"\n";
        store.save_seed_lock(lock).unwrap();
        assert_eq!(store.seed_lock().as_deref(), Some(lock));
    }

    #[test]
    fn manifests_cannot_name_files_outside_their_entry() {
        assert!(plain_file_name("libsled-1.rlib").is_ok());
        for bad in ["../x", "a/b", "..", "", MANIFEST] {
            assert!(plain_file_name(bad).is_err(), "{bad}");
        }
    }

    /// Writers racing to store one crate, readers restoring it and an
    /// evictor deleting it, all at once on the real file system: every
    /// restore that succeeds has the whole of one writer's files, and none
    /// of them fails for another reason than the entry having gone.
    #[test]
    fn racing_writers_readers_and_evictors_never_see_half_an_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::new(tmp.path().join("cache")));
        let stop = Arc::new(AtomicBool::new(false));
        let restores = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for writer in 0..4u8 {
            let (store, stop, dir) = (
                store.clone(),
                stop.clone(),
                tmp.path().join(format!("w{writer}")),
            );
            threads.push(std::thread::spawn(move || {
                let produced = outputs(&dir, 200_000, writer);
                while !stop.load(Ordering::Relaxed) {
                    store
                        .publish(
                            "shared",
                            "demo",
                            &produced,
                            Vec::new(),
                            &places(&dir),
                            10 * MIB,
                        )
                        .unwrap();
                }
            }));
        }
        {
            let (store, stop) = (store.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    store.evict(0);
                }
            }));
        }
        for reader in 0..3 {
            let (store, stop, restores) = (store.clone(), stop.clone(), restores.clone());
            let out = tmp.path().join(format!("r{reader}"));
            fs::create_dir_all(&out).unwrap();
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(manifest) = store.lookup("shared") else {
                        continue;
                    };
                    match store.restore("shared", &manifest, &out, &places(&out)) {
                        Ok(_) => {
                            let rlib = fs::read(out.join("libdemo-1234.rlib")).unwrap();
                            assert_eq!(rlib.len(), 200_000);
                            assert!(rlib.iter().all(|b| *b == rlib[0]), "mixed writers");
                            restores.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}"),
                    }
                }
            }));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while restores.load(Ordering::Relaxed) < 200 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(restores.load(Ordering::Relaxed) >= 200, "too few restores");
        // Nothing left half-written once everyone has stopped.
        store.evict(0);
        assert_eq!(fs::read_dir(store.staging()).unwrap().count(), 0);
        assert_eq!(fs::read_dir(store.trash()).unwrap().count(), 0);
    }
}
