//! How a kernel uses the Rust cache: the settings it hands evcxr's cargo
//! for the wrapper, the outcomes it reads back, the one line it prints for
//! each kind of trouble, what `%rust cache` shows, and when old entries go.
//!
//! Trouble with the cache never fails a cell: an unusable cache means
//! compiling as if there were none, an unwritable or full one means
//! compiling and not keeping the result. Each of these is said once per
//! kernel, on the cell's stderr.

use super::cache::{self, human, Access, Settings, Store, Usage};
use super::wrapper::{self, Mode};
use super::CacheCommand;
use crate::cell::{CellError, MimeBundle};
use serde_json::{json, Value};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The mime type of `%rust cache`'s figures (a frontend shows the text).
pub const CACHE_MIME: &str = "application/vnd.sled-kernel.rust-cache+json";

/// What this kernel's compiles came to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    /// Crates copied out of the cache.
    pub from_cache: u64,
    /// Crates compiled (whether or not they were then kept).
    pub compiled: u64,
    /// Compiled crates added to the cache.
    pub kept: u64,
    pub kept_bytes: u64,
    /// Compiles of cells' own crates (each cell, at least once; never
    /// cached).
    pub cells: u64,
}

/// Which one-line notices this kernel has printed.
#[derive(Debug, Default)]
struct Told {
    opening: bool,
    store_failed: bool,
    too_big: bool,
}

pub(super) struct CacheUse {
    settings: Settings,
    /// `None` when the cache is off.
    store: Option<Store>,
    /// What this process may do there; looked at when first needed, so a
    /// kernel that never runs Rust never touches the directory.
    access: Option<Access>,
    /// `%rust cache off`.
    paused: bool,
    /// Adding to the cache failed (a full disk, permissions): from then on
    /// this kernel only reads it.
    store_failed: bool,
    counts: Counts,
    /// The wrapper's log for the running context, and how far it was read.
    log: Option<PathBuf>,
    read: u64,
    told: Told,
}

impl CacheUse {
    pub(super) fn from_env() -> CacheUse {
        Self::new(Settings::from_env())
    }

    pub(super) fn new(settings: Settings) -> CacheUse {
        let store = settings.dir.clone().map(Store::new);
        CacheUse {
            settings,
            store,
            access: None,
            paused: false,
            store_failed: false,
            counts: Counts::default(),
            log: None,
            read: 0,
            told: Told::default(),
        }
    }

    /// Creates the directory if needed and finds out what this kernel may
    /// do with it (once).
    pub(super) fn prepare(&mut self) {
        if self.access.is_none() {
            self.access = Some(match &self.store {
                Some(store) => store.prepare(),
                None => Access::Unusable(self.settings.origin.clone()),
            });
        }
    }

    fn access(&self) -> &Access {
        const UNSEEN: &Access = &Access::Unusable(String::new());
        self.access.as_ref().unwrap_or(UNSEEN)
    }

    pub(super) fn counts(&self) -> Counts {
        self.counts
    }

    pub(super) fn dir(&self) -> Option<&Path> {
        self.store.as_ref().map(Store::root)
    }

    /// The store, when this kernel can at least read it (once prepared).
    fn usable(&self) -> Option<&Store> {
        match self.access() {
            Access::Unusable(_) => None,
            _ => self.store.as_ref(),
        }
    }

    pub(super) fn mode(&self) -> Mode {
        match (&self.usable(), self.access()) {
            (None, _) => Mode::Off,
            _ if self.paused => Mode::Off,
            (_, Access::ReadOnly(_)) => Mode::ReadOnly,
            _ if self.store_failed => Mode::ReadOnly,
            _ => Mode::ReadWrite,
        }
    }

    /// The build environment for evcxr's cargo that makes this binary the
    /// rustc wrapper. With no usable cache it only passes compiles on (mode
    /// `off`), but it is still there for what it does to the cell's crate.
    pub(super) fn wrapper_env(
        &self,
        exe: &Path,
        build: &Path,
        log: &Path,
    ) -> Vec<(String, String)> {
        let text = |p: &Path| p.to_string_lossy().into_owned();
        let dir = self.usable().map(|s| text(s.root())).unwrap_or_default();
        vec![
            ("RUSTC_WRAPPER".into(), text(exe)),
            (wrapper::DIR.into(), dir),
            (wrapper::MODE.into(), self.mode().as_str().into()),
            (wrapper::LOG.into(), text(log)),
            (wrapper::BUILD.into(), text(build)),
            (wrapper::LIMIT.into(), self.settings.limit.to_string()),
        ]
    }

    /// A new context reports to `log` from the start.
    pub(super) fn begin(&mut self, log: PathBuf) {
        let _ = std::fs::remove_file(&log);
        self.log = Some(log);
        self.read = 0;
    }

    /// The lines a kernel prints when its first Rust context starts: what
    /// is wrong with the settings or the directory. Once per kernel.
    pub(super) fn opening_lines(&mut self) -> Vec<String> {
        if std::mem::replace(&mut self.told.opening, true) {
            return Vec::new();
        }
        let mut lines: Vec<String> = self
            .settings
            .problems
            .iter()
            .map(|p| format!("Rust cache: {p}"))
            .collect();
        match (self.access(), self.dir()) {
            (Access::ReadOnly(why), Some(dir)) => lines.push(format!(
                "Rust cache: {} is read-only here ({why}); crates it lacks are compiled and not kept",
                dir.display()
            )),
            (Access::Unusable(why), Some(dir)) => lines.push(format!(
                "Rust cache: cannot use {} ({why}); Rust cells compile without it",
                dir.display()
            )),
            _ => {}
        }
        lines
    }

    /// Reads what the wrapper reported since the last call; returns the
    /// notices to print. Evicts old entries when crates were added.
    pub(super) fn absorb(&mut self) -> Vec<String> {
        let mut notices = Vec::new();
        let mut added = false;
        for line in self.new_log_lines() {
            let mut fields = line.splitn(3, '\t');
            let (event, name, detail) = (
                fields.next().unwrap_or(""),
                fields.next().unwrap_or(""),
                fields.next().unwrap_or(""),
            );
            match event {
                "hit" => self.counts.from_cache += 1,
                "cell" => self.counts.cells += 1,
                "stored" => {
                    self.counts.compiled += 1;
                    self.counts.kept += 1;
                    self.counts.kept_bytes += detail.parse::<u64>().unwrap_or(0);
                    added = true;
                }
                "raced" | "compiled" | "restore-failed" => {
                    if event != "restore-failed" {
                        self.counts.compiled += 1;
                    }
                    log::debug!("Rust cache: {event} {name} {detail}");
                }
                "too-big" => {
                    self.counts.compiled += 1;
                    if !std::mem::replace(&mut self.told.too_big, true) {
                        let size = human(detail.parse().unwrap_or(0));
                        notices.push(format!(
                            "Rust cache: {name} ({size}) is bigger than the whole cache may be ({}, set by {}); it was compiled and not kept",
                            human(self.settings.limit),
                            cache::LIMIT_ENV
                        ));
                    }
                }
                "store-failed" => {
                    self.counts.compiled += 1;
                    self.store_failed = true;
                    if !std::mem::replace(&mut self.told.store_failed, true) {
                        let dir = self
                            .dir()
                            .map(|d| d.display().to_string())
                            .unwrap_or_default();
                        notices.push(format!(
                            "Rust cache: could not add {name} to {dir} ({detail}); this kernel compiles without adding to the cache"
                        ));
                    }
                }
                _ => log::warn!("Rust cache: unexpected wrapper report {line:?}"),
            }
        }
        if added {
            if let Some(store) = self.usable() {
                let freed = store.evict(self.settings.limit);
                if freed.crates > 0 {
                    log::info!(
                        "Rust cache: evicted {} least recently used crates ({})",
                        freed.crates,
                        human(freed.bytes)
                    );
                }
            }
        }
        notices
    }

    fn new_log_lines(&mut self) -> Vec<String> {
        let Some(log) = &self.log else {
            return Vec::new();
        };
        let Ok(mut file) = std::fs::File::open(log) else {
            return Vec::new();
        };
        let mut text = String::new();
        if file.seek(SeekFrom::Start(self.read)).is_err() || file.read_to_string(&mut text).is_err()
        {
            return Vec::new();
        }
        // Only whole lines: a wrapper may be writing the next one.
        let complete = text.rfind('\n').map_or(0, |end| end + 1);
        self.read += complete as u64;
        text[..complete].lines().map(str::to_string).collect()
    }

    /// Puts the remembered `Cargo.lock` into a new context's crate
    /// directory, so it resolves sled to the versions in the cache, without
    /// the network. Whether it did.
    pub(super) fn seed(&self, build: &Path) -> bool {
        let Some(lock) = self.usable().and_then(Store::seed_lock) else {
            return false;
        };
        std::fs::write(build.join("Cargo.lock"), lock).is_ok()
    }

    /// Remembers the context's `Cargo.lock` for the next one.
    pub(super) fn remember_lock(&self, build: &Path) {
        if self.mode() != Mode::ReadWrite {
            return;
        }
        let (Some(store), Ok(lock)) = (
            self.usable(),
            std::fs::read_to_string(build.join("Cargo.lock")),
        ) else {
            return;
        };
        if let Err(e) = store.save_seed_lock(&lock) {
            log::info!("Rust cache: could not remember Cargo.lock: {e}");
        }
    }

    /// `%rust cache`, `%rust cache clear`, `%rust cache on` / `off`.
    pub(super) fn command(
        &mut self,
        command: CacheCommand,
    ) -> Result<(String, Option<MimeBundle>), CellError> {
        self.prepare();
        match command {
            CacheCommand::Show => Ok((String::new(), Some(self.show()))),
            CacheCommand::Clear => {
                let Some(store) = self.usable() else {
                    return Ok((
                        format!(
                            "the Rust cache is {}; nothing to clear\n",
                            self.state_text()
                        ),
                        None,
                    ));
                };
                let freed = store.clear();
                Ok((
                    format!(
                        "removed {} from {}; the next Rust context compiles sled again (once)\n",
                        crates_text(freed),
                        store.root().display()
                    ),
                    None,
                ))
            }
            CacheCommand::Off => {
                self.paused = true;
                Ok(("Rust cache off for this kernel: crates are compiled, not taken from or added to the cache (`%rust cache on` undoes it)\n".into(), None))
            }
            CacheCommand::On => {
                if self.usable().is_none() {
                    return Err(CellError {
                        ename: "RustCacheOff".into(),
                        evalue: format!("the Rust cache cannot be turned on: it is {}", self.state_text()),
                        traceback: vec![
                            format!("The Rust cache cannot be turned on in this kernel: it is {}.", self.state_text()),
                            format!(
                                "Set {} to a directory you can write (or unset it for the default place) before starting Jupyter, then restart the kernel.",
                                cache::DIR_ENV
                            ),
                        ],
                    });
                }
                self.paused = false;
                Ok((
                    format!("Rust cache on for this kernel: {}\n", self.state_text()),
                    None,
                ))
            }
        }
    }

    /// The cache's state in a few words (`on: …`, `read-only (why)`, …).
    pub(super) fn state_text(&self) -> String {
        match (self.access(), self.dir()) {
            (_, None) => self.settings.origin.clone(),
            (Access::Unusable(why), Some(_)) => format!("unusable: {why}"),
            _ if self.paused => "off for this kernel (`%rust cache on` turns it back on)".into(),
            (Access::ReadOnly(why), _) => format!("read-only: {why}"),
            _ if self.store_failed => "read-only since adding to it failed".into(),
            _ => "on: crates are taken from it and added to it".into(),
        }
    }

    /// `%rust cache`: where, how big, what this kernel got from it.
    fn show(&self) -> MimeBundle {
        let usage = self.usable().map(Store::usage).unwrap_or_default();
        let limit = self.settings.limit;
        let mut lines = Vec::new();
        match self.dir() {
            Some(dir) => {
                lines.push(format!("Rust cache: {}", dir.display()));
                lines.push(format!("  chosen by: {}", self.settings.origin));
            }
            None => lines.push(format!("Rust cache: {}", self.settings.origin)),
        }
        lines.push(format!("  state: {}", self.state_text()));
        if self.usable().is_some() {
            lines.push(format!(
                "  holds: {}, limit {} ({})",
                crates_text(usage),
                human(limit),
                cache::LIMIT_ENV
            ));
        }
        let c = self.counts;
        lines.push(format!(
            "  this kernel: {} from the cache, {} compiled, {} of them added to it; {} of its cells",
            plural(c.from_cache, "crate"),
            c.compiled,
            c.kept,
            plural(c.cells, "compile")
        ));
        lines.push(format!(
            "`%rust cache clear` empties it, `%rust cache off` stops this kernel using it; {}=off or a directory, and {}=MiB, set it for every kernel.",
            cache::DIR_ENV,
            cache::LIMIT_ENV
        ));
        let state = match (self.access(), self.dir()) {
            (_, None) | (Access::Unusable(_), _) => "off",
            _ if self.paused => "paused",
            _ => self.mode().as_str(),
        };
        let figures = json!({
            "dir": self.dir().map(|d| d.to_string_lossy().into_owned()),
            "state": state,
            "limit_bytes": limit,
            "crates": usage.crates,
            "bytes": usage.bytes,
            "kernel": {
                "from_cache": c.from_cache,
                "compiled": c.compiled,
                "added": c.kept,
                "cell_compiles": c.cells,
            },
        });
        let mut data = MimeBundle::new();
        data.insert("text/plain".into(), Value::from(lines.join("\n")));
        data.insert(CACHE_MIME.into(), figures);
        data
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn crates_text(usage: Usage) -> String {
    format!(
        "{} ({})",
        plural(usage.crates, "compiled crate"),
        human(usage.bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: Option<PathBuf>) -> Settings {
        Settings {
            dir,
            limit: 100 * 1024 * 1024,
            origin: "set by the test".into(),
            problems: vec!["SLED_KERNEL_RUST_CACHE_MB=\"x\" is not a whole number".into()],
        }
    }

    #[test]
    fn the_log_becomes_counts_and_one_notice_per_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let mut use_ = CacheUse::new(settings(Some(tmp.path().join("cache"))));
        assert_eq!(use_.mode(), Mode::Off, "not looked at yet");
        use_.prepare();
        assert_eq!(use_.mode(), Mode::ReadWrite);
        let log = tmp.path().join("log");
        use_.begin(log.clone());
        std::fs::write(
            &log,
            "hit\tlibc\t\nhit\tlog\t\ncell\tctx\t0\nstored\tsled\t2048\nstore-failed\tfs2\tNo space left on device (os error 28)\nstore-failed\tfxhash\tNo space left\ntoo-big\tbig\t99\npartial",
        )
        .unwrap();
        let notices = use_.absorb();
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(
            notices[0].contains("could not add fs2") && notices[0].contains("No space left"),
            "{notices:?}"
        );
        assert!(notices[1].contains("big (99 bytes)"), "{notices:?}");
        assert_eq!(
            use_.counts(),
            Counts {
                from_cache: 2,
                compiled: 4,
                kept: 1,
                kept_bytes: 2048,
                cells: 1,
            }
        );
        // After a failed store this kernel only reads the cache.
        assert_eq!(use_.mode(), Mode::ReadOnly);
        // The half-written last line is read once it is whole.
        std::fs::write(
            &log,
            format!(
                "{}\n",
                std::fs::read_to_string(&log)
                    .unwrap()
                    .replace("partial", "hit\tpartial\t")
            ),
        )
        .unwrap();
        assert!(use_.absorb().is_empty());
        assert_eq!(use_.counts().from_cache, 3);
        let opening = use_.opening_lines();
        assert_eq!(opening.len(), 1, "{opening:?}");
        assert!(use_.opening_lines().is_empty(), "said once");
    }

    #[test]
    fn off_and_unusable_caches_leave_the_wrapper_passing_compiles_on() {
        let off_mode = |env: Vec<(String, String)>| {
            env.iter().any(|(k, v)| k == wrapper::MODE && v == "off")
                && env.iter().any(|(k, v)| k == wrapper::DIR && v.is_empty())
        };
        let tmp = tempfile::tempdir().unwrap();
        let mut off = CacheUse::new(Settings {
            dir: None,
            problems: vec![],
            ..settings(None)
        });
        off.prepare();
        assert_eq!(off.mode(), Mode::Off);
        assert!(off_mode(off.wrapper_env(
            Path::new("/x"),
            Path::new("/b"),
            Path::new("/l")
        )));

        std::fs::write(tmp.path().join("file"), "").unwrap();
        let mut blocked = CacheUse::new(settings(Some(tmp.path().join("file/cache"))));
        blocked.prepare();
        assert_eq!(blocked.mode(), Mode::Off);
        assert!(off_mode(blocked.wrapper_env(
            Path::new("/x"),
            Path::new("/b"),
            Path::new("/l")
        )));
        let lines = blocked.opening_lines();
        assert!(lines.last().unwrap().contains("cannot use"), "{lines:?}");
        assert!(blocked.command(CacheCommand::On).is_err());

        let mut fine = CacheUse::new(settings(Some(tmp.path().join("cache"))));
        fine.prepare();
        let env = fine.wrapper_env(Path::new("/x"), Path::new("/b"), Path::new("/l"));
        assert!(env.iter().any(|(k, v)| k == "RUSTC_WRAPPER" && v == "/x"));
        assert!(env
            .iter()
            .any(|(k, v)| k == wrapper::MODE && v == "read-write"));
        fine.command(CacheCommand::Off).unwrap();
        assert_eq!(fine.mode(), Mode::Off);
        let (_, shown) = fine.command(CacheCommand::Show).unwrap();
        assert_eq!(shown.unwrap()[CACHE_MIME]["state"], "paused");
    }
}
