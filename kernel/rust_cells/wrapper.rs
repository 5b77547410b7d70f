//! The rustc wrapper: this same binary, which cargo runs as
//! `sled-kernel RUSTC ARGS...` while a Rust context builds, because the
//! kernel sets `RUSTC_WRAPPER` for evcxr's cargo.
//!
//! For each compile of a crates.io (or git) crate it looks for an entry in
//! the Rust cache ([`super::cache`]) under a key made of the compiler's
//! arguments (with the kernel's build directory and cargo's home replaced
//! by placeholders), the files a build script generated, and what the
//! compiler's `rustc -vV` says (version, commit, host, LLVM). Cargo's
//! `-C metadata` argument already differs for every package version,
//! feature set, profile and compiler version. A hit copies the
//! files where cargo expects them and tells cargo about them as rustc
//! would; a miss runs rustc and keeps what it made. Everything else (the
//! cell's own crate, build-script probes, `rustc -vV`) goes straight to
//! rustc.
//!
//! Each outcome is one line in the kernel's log file, which the kernel
//! reads after each cell: that is how a kernel knows, and can say, that its
//! crates came from the cache.

use super::cache::{Places, Published, Store};
use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

/// The cache directory; its presence makes this process the wrapper.
pub(super) const DIR: &str = "SLED_KERNEL_RUSTC_WRAPPER";
/// `read-write`, `read-only` or `off`.
pub(super) const MODE: &str = "SLED_KERNEL_RUSTC_WRAPPER_MODE";
/// The file the outcomes are appended to.
pub(super) const LOG: &str = "SLED_KERNEL_RUSTC_WRAPPER_LOG";
/// The kernel's build directory (evcxr's crate directory).
pub(super) const BUILD: &str = "SLED_KERNEL_RUSTC_WRAPPER_BUILD";
/// The cache's size limit in bytes.
pub(super) const LIMIT: &str = "SLED_KERNEL_RUSTC_WRAPPER_LIMIT";
/// The optimisation level the cell's own crate is compiled with (`0`), or
/// empty for the level cargo asks for (after a cell's `:opt`).
pub(super) const CELL_OPT: &str = "SLED_KERNEL_RUSTC_WRAPPER_CELL_OPT";

/// The name evcxr gives the crate a cell is compiled into.
const CELL_CRATE: &str = "ctx";

/// Where evcxr builds: the kernel's Rust build directory. The kernel sets
/// it for itself, so cargo and every compile under it inherit it.
pub(super) const EVCXR_BUILD_DIR: &str = "EVCXR_TMPDIR";
/// Set by evcxr when it runs this binary as its own rustc wrapper (the
/// compile that checks the toolchain, before the kernel's settings apply).
const EVCXR_WRAPPER: &str = "EVCXR_RUSTC_WRAPPER";

/// In a process cargo started to compile (this wrapper, or evcxr's), points
/// `TMPDIR` at `tmp` in the kernel's Rust build directory, so rustc and the
/// linker it runs put their temporary files there. A link killed by an
/// interrupt leaves gcc's `cc*.o` and `cc*.res` behind; there they go with
/// the build directory when the context stops, not into the student's
/// temporary directory for good. Called while the process has one thread.
pub(super) fn keep_temporary_files_in_build_dir() {
    let compiling = std::env::var_os(DIR).is_some() || std::env::var_os(EVCXR_WRAPPER).is_some();
    let Some(build) = std::env::var_os(EVCXR_BUILD_DIR).filter(|_| compiling) else {
        return;
    };
    let tmp = Path::new(&build).join("tmp");
    if std::fs::create_dir_all(&tmp).is_ok() {
        std::env::set_var("TMPDIR", tmp);
    }
}

/// What the wrapper may do with the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    ReadWrite,
    ReadOnly,
    Off,
}

impl Mode {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Mode::ReadWrite => "read-write",
            Mode::ReadOnly => "read-only",
            Mode::Off => "off",
        }
    }

    fn parse(text: &str) -> Mode {
        match text {
            "read-write" => Mode::ReadWrite,
            "read-only" => Mode::ReadOnly,
            _ => Mode::Off,
        }
    }
}

/// Whether this is the compile of a cell's own crate (evcxr's `ctx`, from
/// the build directory's `src/lib.rs`), which the cache never keeps.
fn is_cell(args: &[OsString]) -> bool {
    args.windows(2)
        .any(|pair| pair[0] == "--crate-name" && pair[1] == CELL_CRATE)
        && args.iter().any(|a| a == "src/lib.rs")
}

/// The cell's compile with the optimisation level `opt` in place of
/// cargo's (all of it when `opt` is empty). Only the cell's crate: the
/// dependencies, sled above all, stay as the profile builds them (and as
/// the Rust cache keeps them), so a cell still calls optimised sled code;
/// what a cell itself computes runs unoptimised unless it asks with `:opt`.
fn cell_args(args: &[OsString], opt: &str) -> Vec<OsString> {
    if opt.is_empty() {
        return args.to_vec();
    }
    args.iter()
        .map(|arg| match arg.to_str() {
            Some(a) if a.starts_with("opt-level=") => OsString::from(format!("opt-level={opt}")),
            Some(a) if a.starts_with("-Copt-level=") => {
                OsString::from(format!("-Copt-level={opt}"))
            }
            _ => arg.clone(),
        })
        .collect()
}

/// Runs as the wrapper and exits, when cargo started this process as one.
pub(super) fn hook() {
    let Some(dir) = std::env::var_os(DIR) else {
        return;
    };
    let mut args = std::env::args_os().skip(1);
    let Some(rustc) = args.next() else {
        return;
    };
    let args: Vec<OsString> = args.collect();
    let env = Env::from_process(PathBuf::from(dir));
    std::process::exit(run(&rustc, &args, &env));
}

/// The wrapper's settings, from its environment.
#[derive(Debug, Clone)]
pub(super) struct Env {
    pub dir: PathBuf,
    pub mode: Mode,
    pub log: Option<PathBuf>,
    pub places: Places,
    pub limit: u64,
    /// See [`CELL_OPT`]; empty: leave the cell's crate as cargo has it.
    pub cell_opt: String,
}

impl Env {
    fn from_process(dir: PathBuf) -> Env {
        let var = |name: &str| std::env::var(name).ok();
        Env {
            dir,
            mode: Mode::parse(&var(MODE).unwrap_or_default()),
            log: var(LOG).map(PathBuf::from),
            places: Places {
                build: var(BUILD).unwrap_or_default(),
                cargo_home: cargo_home(),
            },
            limit: var(LIMIT).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX),
            cell_opt: var(CELL_OPT).unwrap_or_default(),
        }
    }
}

/// Cargo's home as cargo finds it: `CARGO_HOME`, else `~/.cargo`.
pub(super) fn cargo_home() -> String {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".cargo")))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One compile the cache can serve.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unit {
    name: String,
    out_dir: PathBuf,
}

impl Unit {
    /// A compile of a downloaded crate (its source under cargo's registry
    /// or git checkouts, which never change) that cargo drives with JSON
    /// messages and artifact notifications, without incremental state.
    fn parse(args: &[String], places: &Places) -> Option<Unit> {
        let mut name = None;
        let mut out_dir = None;
        let mut json = false;
        let mut notifications = false;
        let mut incremental = false;
        let mut source = None;
        let mut words = args.iter();
        while let Some(word) = words.next() {
            match word.as_str() {
                "--crate-name" => name = words.next().cloned(),
                "--out-dir" => out_dir = words.next().map(PathBuf::from),
                "-C" => incremental |= words.next()?.starts_with("incremental="),
                "--error-format=json" => json = true,
                _ if word.starts_with("-Cincremental=") => incremental = true,
                _ if word.starts_with("--json=") => {
                    notifications |= word.split(['=', ',']).any(|w| w == "artifacts");
                }
                _ if !word.starts_with('-') && word.ends_with(".rs") && source.is_none() => {
                    source = Some(word.clone());
                }
                _ => {}
            }
        }
        if incremental {
            return None;
        }
        let source = source?;
        let home = places.cargo_home.trim_end_matches('/');
        let downloaded = !home.is_empty()
            && ["registry/src/", "git/checkouts/"]
                .iter()
                .any(|under| source.starts_with(&format!("{home}/{under}")));
        let (name, out_dir) = (name?, out_dir?);
        (downloaded && json && notifications && name != "ctx").then_some(Unit { name, out_dir })
    }
}

/// What `rustc -vV` prints for `rustc`: which compiler it is, even behind a
/// rustup proxy (one small program for every toolchain). Asking it starts
/// the compiler, so the answer is kept in the cache under [`compiler_id`]
/// and asked again only when that changes. `None` when the compiler does
/// not answer (cargo then gets its error from the compile itself).
fn compiler_version(rustc: &OsStr, store: &Store) -> Option<String> {
    let id = compiler_id(rustc, |name| std::env::var_os(name));
    if let Some(known) = id.as_deref().and_then(|id| store.compiler(id)) {
        return Some(known);
    }
    let asked = Command::new(rustc)
        .arg("-vV")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(asked.stdout).ok()?;
    if !asked.status.success() || !text.contains("release:") {
        return None;
    }
    if let Some(id) = id {
        // Only a saving: the next compile asks rustc again if this fails.
        let _ = store.save_compiler(&id, &text);
    }
    Some(text)
}

/// A name for the compiler file as it is now: its path (as given and
/// resolved), size and modification time, and, when cargo runs under
/// rustup, the toolchain rustup chose and the time of that toolchain's
/// own rustc (what a proxy would run), as cargo keys its own `rustc -vV`
/// cache. `None` when the file cannot be found (a bare name such as
/// `rustc` that is not on PATH).
fn compiler_id(rustc: &OsStr, var: impl Fn(&str) -> Option<OsString>) -> Option<String> {
    let found = which::which(rustc).ok()?;
    let file = std::fs::metadata(&found).ok()?;
    let since_epoch = |time: std::io::Result<std::time::SystemTime>| {
        time.ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    };
    let mut hash = Sha256::new();
    hash.update(b"sled-kernel rustc -vV, id 1\0");
    let resolved = crate::platform::canonical(&found).unwrap_or_else(|_| found.clone());
    for path in [found, resolved] {
        hash.update(path.as_os_str().as_encoded_bytes());
        hash.update(b"\0");
    }
    hash.update(file.len().to_le_bytes());
    hash.update(since_epoch(file.modified()).to_le_bytes());
    if let (Some(home), Some(toolchain)) = (var("RUSTUP_HOME"), var("RUSTUP_TOOLCHAIN")) {
        hash.update(toolchain.as_encoded_bytes());
        hash.update(b"\0");
        let inner = Path::new(&home)
            .join("toolchains")
            .join(&toolchain)
            .join("bin")
            .join("rustc");
        hash.update(since_epoch(std::fs::metadata(inner).and_then(|m| m.modified())).to_le_bytes());
    }
    Some(hex::encode(&hash.finalize()[..16]))
}

/// The entry's key: what decides the compiler's output (`compiler` is what
/// `rustc -vV` printed).
fn key(compiler: &str, args: &[String], places: &Places) -> String {
    let mut hash = Sha256::new();
    hash.update(b"sled-kernel rust cache, key 2\0");
    hash.update(compiler.as_bytes());
    hash.update(b"\0");
    for arg in args {
        hash.update(places.hide(arg).as_bytes());
        hash.update(b"\0");
    }
    for name in ["CARGO_PKG_NAME", "CARGO_PKG_VERSION", "RUSTC_BOOTSTRAP"] {
        hash.update(name.as_bytes());
        hash.update(b"=");
        hash.update(std::env::var(name).unwrap_or_default().as_bytes());
        hash.update(b"\0");
    }
    // Code a build script generated is part of the crate's source.
    if let Some(out_dir) = std::env::var_os("OUT_DIR") {
        hash_tree(&mut hash, Path::new(&out_dir), Path::new(&out_dir), places);
    }
    let digest = hash.finalize();
    hex::encode(&digest[..16])
}

/// Feeds every file under `dir` (relative name, then contents with this
/// kernel's paths hidden) to `hash`, in a fixed order.
fn hash_tree(hash: &mut Sha256, root: &Path, dir: &Path, places: &Places) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = listing.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            hash_tree(hash, root, &path, places);
            continue;
        }
        let relative = path.strip_prefix(root).unwrap_or(&path);
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update(b"\0");
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => hash.update(places.hide(&text).as_bytes()),
                Err(raw) => hash.update(raw.as_bytes()),
            },
            Err(_) => hash.update(b"<unreadable>"),
        }
        hash.update(b"\0");
    }
}

/// The environment variables a compile read, from its dep-info file
/// (`# env-dep:NAME=VALUE` lines), values with this kernel's paths hidden.
fn env_deps(dep_info: &str, places: &Places) -> Vec<(String, Option<String>)> {
    dep_info
        .lines()
        .filter_map(|line| line.strip_prefix("# env-dep:"))
        .map(|dep| match dep.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(places.hide(value))),
            None => (dep.to_string(), None),
        })
        .collect()
}

/// Whether this process sees the values an entry was compiled with.
fn same_env(recorded: &[(String, Option<String>)], places: &Places) -> bool {
    recorded.iter().all(|(name, value)| {
        let now = std::env::var(name)
            .ok()
            .map(|v| places.hide(&escape_env(&v)));
        &now == value
    })
}

/// How rustc writes an environment value into dep-info.
fn escape_env(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// Compiles (or restores) and returns the exit code for cargo.
pub(super) fn run(rustc: &OsStr, args: &[OsString], env: &Env) -> i32 {
    if is_cell(args) {
        let level = if env.cell_opt.is_empty() {
            "as cargo asks"
        } else {
            &env.cell_opt
        };
        report(env, "cell", CELL_CRATE, level);
        return pass_through(rustc, &cell_args(args, &env.cell_opt));
    }
    let texts: Option<Vec<String>> = args.iter().map(|a| a.to_str().map(String::from)).collect();
    let unit = match (&texts, env.mode) {
        (Some(texts), Mode::ReadWrite | Mode::ReadOnly) => Unit::parse(texts, &env.places),
        _ => None,
    };
    let (Some(unit), Some(texts)) = (unit, texts) else {
        return pass_through(rustc, args);
    };
    let store = Store::new(&env.dir);
    let Some(compiler) = compiler_version(rustc, &store) else {
        return pass_through(rustc, args);
    };
    let key = key(&compiler, &texts, &env.places);
    if let Some(manifest) = store.lookup(&key) {
        if same_env(&manifest.env, &env.places) {
            match store.restore(&key, &manifest, &unit.out_dir, &env.places) {
                Ok(restored) => {
                    announce(&restored);
                    store.touch(&key);
                    report(env, "hit", &unit.name, "");
                    return 0;
                }
                // Gone while we copied (another kernel evicted it): compile.
                Err(e) => report(env, "restore-failed", &unit.name, &e.to_string()),
            }
        }
    }
    let (code, produced) = compile(rustc, args);
    if code != 0 {
        return code;
    }
    if env.mode != Mode::ReadWrite {
        report(env, "compiled", &unit.name, "");
        return code;
    }
    let env_read = produced
        .iter()
        .filter(|(_, emit)| emit == "dep-info")
        .filter_map(|(path, _)| std::fs::read_to_string(path).ok())
        .flat_map(|text| env_deps(&text, &env.places))
        .collect();
    match store.publish(
        &key,
        &unit.name,
        &produced,
        env_read,
        &env.places,
        env.limit,
    ) {
        Ok(Published::Stored { bytes }) => report(env, "stored", &unit.name, &bytes.to_string()),
        Ok(Published::AlreadyThere) => report(env, "raced", &unit.name, ""),
        Ok(Published::TooBig { bytes }) => report(env, "too-big", &unit.name, &bytes.to_string()),
        Err(e) => report(env, "store-failed", &unit.name, &e.to_string()),
    }
    code
}

/// Tells cargo about restored files the way rustc does.
fn announce(restored: &[(PathBuf, String)]) {
    let mut stderr = io::stderr().lock();
    for (path, emit) in restored {
        let note = serde_json::json!({
            "$message_type": "artifact",
            "artifact": path.to_string_lossy(),
            "emit": emit,
        });
        let _ = writeln!(stderr, "{note}");
    }
}

/// Runs rustc, passing its messages on to cargo as they come (cargo starts
/// dependent crates as soon as it sees the metadata file announced), and
/// notes the files it announces.
fn compile(rustc: &OsStr, args: &[OsString]) -> (i32, Vec<(PathBuf, String)>) {
    let child = Command::new(rustc)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!("sled-kernel (rustc wrapper): could not run {rustc:?}: {e}");
            return (1, Vec::new());
        }
    };
    let mut produced = Vec::new();
    if let Some(messages) = child.stderr.take() {
        let mut messages = BufReader::new(messages);
        let mut stderr = io::stderr().lock();
        let mut line = Vec::new();
        while messages.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            let _ = stderr.write_all(&line);
            if let Some(artifact) = artifact(&line) {
                produced.push(artifact);
            }
            line.clear();
        }
    }
    let code = match child.wait() {
        Ok(status) => status.code().unwrap_or(101),
        Err(_) => 101,
    };
    (code, produced)
}

/// The file and kind of a rustc artifact notification.
fn artifact(line: &[u8]) -> Option<(PathBuf, String)> {
    if !line.starts_with(b"{\"$message_type\":\"artifact\"") {
        return None;
    }
    let message: serde_json::Value = serde_json::from_slice(line).ok()?;
    let path = PathBuf::from(message["artifact"].as_str()?);
    let path = if path.is_relative() {
        std::env::current_dir().ok()?.join(path)
    } else {
        path
    };
    Some((path, message["emit"].as_str()?.to_string()))
}

/// Runs rustc as if there were no wrapper: in place of this process.
fn pass_through(rustc: &OsStr, args: &[OsString]) -> i32 {
    match crate::platform::run_in_place(Command::new(rustc).args(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sled-kernel (rustc wrapper): could not run {rustc:?}: {e}");
            1
        }
    }
}

/// One outcome for the kernel: `EVENT<TAB>CRATE<TAB>DETAIL`.
fn report(env: &Env, event: &str, name: &str, detail: &str) {
    let Some(log) = &env.log else {
        return;
    };
    let detail: String = detail
        .chars()
        .map(|c| if c == '\t' || c == '\n' { ' ' } else { c })
        .collect();
    let line = format!("{event}\t{name}\t{detail}\n");
    // One write with O_APPEND: lines from parallel compiles do not mix.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "sled-kernel (rustc wrapper): could not write {}: {e}",
            log.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        Places {
            build: "/tmp/k1/sled-kernel-rust-7".into(),
            cargo_home: "/home/ann/.cargo".into(),
        }
    }

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    const SLED_COMPILE: &[&str] = &[
        "--crate-name",
        "sled",
        "--edition=2018",
        "/home/ann/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/sled-0.34.7/src/lib.rs",
        "--error-format=json",
        "--json=diagnostic-rendered-ansi,artifacts,future-incompat",
        "--crate-type",
        "lib",
        "--emit=dep-info,metadata,link",
        "-C",
        "opt-level=2",
        "-C",
        "metadata=9d3e1f",
        "-C",
        "extra-filename=-9d3e1f",
        "--out-dir",
        "/tmp/k1/sled-kernel-rust-7/target/x86_64-unknown-linux-gnu/debug/deps",
        "-L",
        "dependency=/tmp/k1/sled-kernel-rust-7/target/x86_64-unknown-linux-gnu/debug/deps",
        "--cap-lints",
        "allow",
    ];

    #[test]
    fn downloaded_crates_are_cached_and_the_rest_is_not() {
        let unit = Unit::parse(&args(SLED_COMPILE), &places()).expect("sled is cacheable");
        assert_eq!(unit.name, "sled");
        assert!(unit.out_dir.ends_with("debug/deps"));

        let mut incremental = args(SLED_COMPILE);
        incremental.extend(args(&["-C", "incremental=/tmp/x"]));
        assert_eq!(Unit::parse(&incremental, &places()), None);

        let mut local = args(SLED_COMPILE);
        local[3] = "src/lib.rs".into();
        assert_eq!(Unit::parse(&local, &places()), None, "a local crate");
        local[1] = "ctx".into();
        assert_eq!(Unit::parse(&local, &places()), None, "the cell's crate");

        let probe = args(&["--crate-name", "probe", "--out-dir", "/tmp/o", "-"]);
        assert_eq!(Unit::parse(&probe, &places()), None, "a build-script probe");
        assert_eq!(Unit::parse(&args(&["-vV"]), &places()), None);

        let quiet: Vec<String> = args(SLED_COMPILE)
            .into_iter()
            .filter(|a| !a.starts_with("--json"))
            .collect();
        assert_eq!(
            Unit::parse(&quiet, &places()),
            None,
            "no artifact notifications"
        );
    }

    #[test]
    fn only_the_cells_crate_gets_the_cells_optimisation_level() {
        let os = |words: &[&str]| words.iter().map(OsString::from).collect::<Vec<_>>();
        let cell = os(&[
            "--crate-name",
            "ctx",
            "--edition=2024",
            "src/lib.rs",
            "--crate-type",
            "cdylib",
            "-C",
            "opt-level=2",
            "-C",
            "incremental=/tmp/k/target/incremental",
        ]);
        assert!(is_cell(&cell));
        let rewritten = cell_args(&cell, "0");
        assert_eq!(rewritten[7], "opt-level=0");
        let mut rest = rewritten.clone();
        rest.remove(7);
        let mut before = cell.clone();
        before.remove(7);
        assert_eq!(rest, before, "nothing else changes");
        // After `:opt`: as cargo says.
        assert_eq!(cell_args(&cell, ""), cell);
        // sled, and a crates.io crate that happens to be called ctx.
        assert!(!is_cell(&os(SLED_COMPILE)));
        let mut named_ctx = os(SLED_COMPILE);
        named_ctx[1] = "ctx".into();
        assert!(!is_cell(&named_ctx));
    }

    #[test]
    fn keys_ignore_where_the_kernel_builds_and_not_what_it_builds() {
        let rustc = "rustc 1.95.0 (59807616e 2026-04-14)\nrelease: 1.95.0\n";
        let here = key(rustc, &args(SLED_COMPILE), &places());
        let elsewhere: Vec<String> = args(SLED_COMPILE)
            .iter()
            .map(|a| {
                a.replace("/tmp/k1/sled-kernel-rust-7", "/tmp/k2/sled-kernel-rust-99")
                    .replace("/home/ann/.cargo", "/home/bob/.cargo")
            })
            .collect();
        let bob = Places {
            build: "/tmp/k2/sled-kernel-rust-99".into(),
            cargo_home: "/home/bob/.cargo".into(),
        };
        assert_eq!(key(rustc, &elsewhere, &bob), here);
        let mut other = args(SLED_COMPILE);
        other[12] = "metadata=aaaaaa".into();
        assert_ne!(key(rustc, &other, &places()), here);
        let nightly = "rustc 1.97.0-nightly (0123456789 2026-05-01)\nrelease: 1.97.0-nightly\n";
        assert_ne!(key(nightly, &args(SLED_COMPILE), &places()), here);
        assert_eq!(here.len(), 32);
    }

    #[test]
    fn env_deps_come_from_dep_info_and_must_match() {
        let dep_info =
            "x.d: a.rs\n\n# env-dep:CARGO_PKG_VERSION=0.34.7\n# env-dep:SLED_TEST_UNSET_VAR\n";
        let deps = env_deps(dep_info, &places());
        assert_eq!(
            deps,
            [
                ("CARGO_PKG_VERSION".to_string(), Some("0.34.7".to_string())),
                ("SLED_TEST_UNSET_VAR".to_string(), None)
            ]
        );
        assert!(same_env(&deps[1..], &places()));
        assert!(!same_env(
            &[("PATH".to_string(), Some("not the path".to_string()))],
            &places()
        ));
        assert_eq!(escape_env("a\\b\nc"), "a\\\\b\\nc");
    }

    /// `rustc -vV` is asked once for a compiler file as it is, and again for
    /// another toolchain behind the same file.
    #[test]
    fn the_compilers_version_is_asked_once_and_kept() {
        let rustc = which::which("rustc").expect("rustc on PATH, as cargo test has it");
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path());
        let asked = compiler_version(rustc.as_os_str(), &store).expect("rustc answers -vV");
        assert!(
            asked.starts_with("rustc ") && asked.contains("\nhost: "),
            "{asked}"
        );
        let id = compiler_id(rustc.as_os_str(), |name| std::env::var_os(name)).unwrap();
        assert_eq!(store.compiler(&id).as_deref(), Some(asked.as_str()));
        // The kept answer is used: rustc is not asked again.
        let kept = "rustc 0.0.0-kept\nrelease: 0.0.0\n";
        store.save_compiler(&id, kept).unwrap();
        assert_eq!(
            compiler_version(rustc.as_os_str(), &store).as_deref(),
            Some(kept)
        );

        let under = |toolchain: &'static str| {
            move |name: &str| match name {
                "RUSTUP_HOME" => Some(OsString::from("/nonexistent/rustup")),
                "RUSTUP_TOOLCHAIN" => Some(OsString::from(toolchain)),
                _ => None,
            }
        };
        let stable = compiler_id(rustc.as_os_str(), under("stable")).unwrap();
        assert_ne!(stable, id);
        assert_ne!(
            compiler_id(rustc.as_os_str(), under("nightly")).unwrap(),
            stable
        );
        assert_eq!(
            compiler_id(rustc.as_os_str(), under("stable")).unwrap(),
            stable
        );
        assert_eq!(
            compiler_id(OsStr::new("/nonexistent/rustc"), under("stable")),
            None
        );
        assert_eq!(
            compiler_version(OsStr::new("/nonexistent/rustc"), &store),
            None
        );
    }

    /// The whole wrapper around the real rustc: a crate under a fake cargo
    /// home compiles once, and a second build directory gets it from the
    /// cache with the same files and the same notifications.
    #[test]
    fn the_second_build_directory_gets_the_crate_from_the_cache() {
        let rustc = which::which("rustc").expect("rustc on PATH, as cargo test has it");
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("cargo-home");
        let source = home.join("registry/src/index/demo-1.0.0/src/lib.rs");
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::write(&source, "pub fn answer() -> u32 { 42 }\n").unwrap();
        let log = tmp.path().join("log");
        let mut outcomes = Vec::new();
        for build in ["first", "second"] {
            let build = tmp.path().join(build);
            let out_dir = build.join("target/deps");
            std::fs::create_dir_all(&out_dir).unwrap();
            let env = Env {
                dir: tmp.path().join("cache"),
                mode: Mode::ReadWrite,
                log: Some(log.clone()),
                places: Places {
                    build: build.to_string_lossy().into_owned(),
                    cargo_home: home.to_string_lossy().into_owned(),
                },
                limit: u64::MAX,
                cell_opt: "0".into(),
            };
            let words: Vec<OsString> = [
                "--crate-name",
                "demo",
                "--edition=2021",
                source.to_str().unwrap(),
                "--error-format=json",
                "--json=artifacts",
                "--crate-type",
                "lib",
                "--emit=dep-info,metadata,link",
                "-C",
                "metadata=0123abcd",
                "-C",
                "extra-filename=-0123abcd",
                "--out-dir",
                out_dir.to_str().unwrap(),
            ]
            .iter()
            .map(OsString::from)
            .collect();
            assert_eq!(run(rustc.as_os_str(), &words, &env), 0);
            let rlib = out_dir.join("libdemo-0123abcd.rlib");
            let rmeta = out_dir.join("libdemo-0123abcd.rmeta");
            let dep_info = std::fs::read_to_string(out_dir.join("demo-0123abcd.d")).unwrap();
            assert!(rlib.is_file() && rmeta.is_file());
            assert!(
                dep_info.contains(&out_dir.display().to_string()),
                "{dep_info}"
            );
            outcomes.push(std::fs::read(rlib).unwrap());
        }
        assert_eq!(outcomes[0], outcomes[1]);
        let events: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(events, ["stored demo", "hit demo"]);
    }
}
