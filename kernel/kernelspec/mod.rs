//! `sled-kernel install` / `uninstall`: write or remove the `sled` kernelspec.
//!
//! A kernelspec is a directory named after the kernel (`sled`) inside some
//! `kernels/` directory that Jupyter searches. It holds `kernel.json` (how to
//! start the kernel) and the logos the launcher shows. Which `kernels/`
//! directory is used depends on the [`Target`], and follows the rules of
//! `jupyter_core.paths` so that `jupyter kernelspec list` finds the result:
//!
//! * [`Target::User`] uses `JUPYTER_DATA_DIR` if set, else the platform's Jupyter
//!   data dir (Linux: `$XDG_DATA_HOME/jupyter` or `~/.local/share/jupyter`;
//!   macOS: `~/Library/Jupyter`; Windows: `%APPDATA%\jupyter`; with
//!   `JUPYTER_PLATFORM_DIRS` set, the `platformdirs` locations instead).
//! * [`Target::SysPrefix`] uses `<prefix>/share/jupyter`, where the prefix is the
//!   active environment's: `VIRTUAL_ENV`, else `CONDA_PREFIX`, else the
//!   `sys.prefix` that `python3` reports.
//! * [`Target::Prefix`] uses `<DIR>/share/jupyter`.
//!
//! The wheel ships a spec of its own
//! (`python/sled_kernel.data/data/share/jupyter/kernels/sled`,
//! installed as wheel data under the environment's prefix); it is built by the
//! same [`kernel_json`] and its logos are the ones `install` writes. The
//! Windows wheel's spec differs only in its `kernel.json`
//! (`python/windows.data/data/share/jupyter/kernels/sled/kernel.json`, which
//! `scripts/build-wheel` lays over `python/sled_kernel.data` for a Windows
//! target).
//! [`visible`] asks the Jupyter installations on this machine which `sled`
//! spec they will use, so that `install` can say so when there are several.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::platform;

/// The kernelspec's directory name, which is the name frontends select.
pub const KERNEL_NAME: &str = "sled";
/// Shown in the JupyterLab launcher and the kernel picker.
pub const DISPLAY_NAME: &str = "sled KV";
/// The `language` field of `kernel.json` (and of `language_info`).
pub const LANGUAGE: &str = "sled-kv";

pub mod visible;

// One copy of the logos: the wheel's kernelspec directory.
const LOGO_32: &[u8] =
    include_bytes!("../../python/sled_kernel.data/data/share/jupyter/kernels/sled/logo-32x32.png");
const LOGO_64: &[u8] =
    include_bytes!("../../python/sled_kernel.data/data/share/jupyter/kernels/sled/logo-64x64.png");
const LOGO_SVG: &[u8] =
    include_bytes!("../../python/sled_kernel.data/data/share/jupyter/kernels/sled/logo-svg.svg");

/// Every file a kernelspec holds, by name, besides `kernel.json`.
const LOGOS: [(&str, &[u8]); 3] = [
    ("logo-32x32.png", LOGO_32),
    ("logo-64x64.png", LOGO_64),
    ("logo-svg.svg", LOGO_SVG),
];

/// Prefix of the staging directory an install writes before moving it into
/// place; uninstall also clears any left behind by an interrupted install.
const STAGING_PREFIX: &str = ".sled-kernelspec-staging-";

/// Where the kernelspec goes, mirroring `jupyter kernelspec install`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The per-user Jupyter data dir (`JUPYTER_DATA_DIR`, else the platform default).
    User,
    /// `sys.prefix` of the active virtualenv / conda env.
    SysPrefix,
    /// An explicit prefix: `PREFIX/share/jupyter/kernels/sled`.
    Prefix(PathBuf),
}

/// Write the kernelspec; returns the directory written.
///
/// `kernel.json` points at the absolute path of the running executable.
/// An existing `sled` spec at the same place is replaced as a whole, so
/// running this twice is safe and leaves no stale files behind.
pub fn install(target: &Target) -> Result<PathBuf> {
    let exe = platform::this_program().context("cannot find the path of this executable")?;
    let dir = spec_dir(target, &real_env)?;
    install_at(&dir, &exe)?;
    Ok(dir)
}

/// Remove the kernelspec; returns the directories removed.
///
/// That is the `sled` spec directory of the target plus any staging
/// directories an interrupted install left beside it. Fails, naming the
/// path it looked at, when there was nothing to remove.
pub fn uninstall(target: &Target) -> Result<Vec<PathBuf>> {
    let dir = spec_dir(target, &real_env)?;
    uninstall_at(&dir)
}

/// The program a kernelspec starts, as its `kernel.json` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program<'a> {
    /// A spec written by `sled-kernel install`: the absolute path of the
    /// binary that wrote it.
    Installed(&'a Path),
    /// The wheel's spec: the `sled-kernel` that pip put in the environment
    /// whose `share/jupyter/kernels/sled` holds the spec
    /// ([`System::wheel_program`]).
    Wheel,
}

/// The system a kernelspec is for, which decides how its command is
/// written: on Unix behind a `/bin/sh` guard, on Windows (which has no
/// `/bin/sh`) the program itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Unix,
    Windows,
}

impl System {
    /// The system this program runs on.
    pub const HOST: System = if cfg!(windows) {
        System::Windows
    } else {
        System::Unix
    };

    /// How the wheel's spec names its program. jupyter_client replaces
    /// `{resource_dir}` with the spec's directory,
    /// `PREFIX/share/jupyter/kernels/sled`, so this is the program pip put
    /// in `PREFIX/bin` (Windows: `PREFIX\Scripts\sled-kernel.exe`)
    /// wherever the environment is (a venv, conda, `/usr/local`; `--user`
    /// on Unix), found without PATH: Jupyter started by its absolute path,
    /// from an environment nobody activated, still starts the kernel. On
    /// Windows the path is written with backslashes, as `{resource_dir}`
    /// is, and Windows removes the `..` steps by their text. (A `pip
    /// install --user` on Windows puts programs in
    /// `%APPDATA%\Python\Python3XY\Scripts`, out of this path's reach:
    /// `sled-kernel install --user` writes a spec that names it.)
    pub fn wheel_program(self) -> &'static str {
        match self {
            System::Unix => "{resource_dir}/../../../../bin/sled-kernel",
            System::Windows => r"{resource_dir}\..\..\..\..\Scripts\sled-kernel.exe",
        }
    }
}

/// The contents of `kernel.json` for a spec that starts `program` on
/// `system`.
///
/// On Unix the command is a short `/bin/sh` guard in front of the
/// program: when the program is there, the shell `exec`s it at once (the
/// kernel keeps the shell's process id, so signals and shutdown work as
/// without it, and start-up costs under a millisecond more); when it is
/// gone, the shell writes what to run to stderr, which is the log of the
/// Jupyter server that tried to start it, and exits with 127. Without the
/// guard the server would only log a `FileNotFoundError`, which is what a
/// Windows spec, started without a shell, leaves there. The kernel is
/// interrupted by message everywhere (`interrupt_mode`); it also honours
/// SIGINT, and on Windows the interrupt event jupyter_client passes.
pub fn kernel_json(program: Program<'_>, system: System) -> Result<serde_json::Value> {
    let (path, remedy) = match program {
        Program::Installed(exe) => (
            exe.to_str()
                .with_context(|| format!("executable path {} is not valid UTF-8", exe.display()))?,
            INSTALLED_REMEDY,
        ),
        Program::Wheel => (system.wheel_program(), WHEEL_REMEDY),
    };
    let args = [path, "kernel", "--connection-file", "{connection_file}"];
    let argv: Vec<String> = match system {
        System::Unix => ["/bin/sh", "-c", &missing_program_guard(remedy)]
            .into_iter()
            .chain(args)
            .map(String::from)
            .collect(),
        System::Windows => args.into_iter().map(String::from).collect(),
    };
    Ok(json!({
        "argv": argv,
        "display_name": DISPLAY_NAME,
        "language": LANGUAGE,
        "interrupt_mode": "message",
        "kernel_protocol_version": "5.5",
        "metadata": {},
    }))
}

/// The program's path inside a spec's argv: after the `/bin/sh -c GUARD`
/// that [`kernel_json`] puts in front of it, or first when there is none (a
/// spec written by an older `sled-kernel install`, or by hand).
pub fn program_in_argv(argv: &[String]) -> Option<&str> {
    match argv {
        [sh, c, _guard, program, ..] if sh.ends_with("/sh") && c == "-c" => Some(program),
        [program, ..] => Some(program),
        [] => None,
    }
}

/// What to run when a spec written by `sled-kernel install` lost its binary.
const INSTALLED_REMEDY: &str =
    "This kernelspec was written by sled-kernel install from that path. \
    Put the program back (in a checkout: ./install.sh, or cargo build --release --locked; \
    from a wheel: reinstall the sled-kernel package), or register the sled-kernel you have now \
    with: sled-kernel install --user (or --sys-prefix). \
    To drop this kernelspec instead: jupyter kernelspec remove sled";

/// What to run when the wheel's spec lost its binary.
const WHEEL_REMEDY: &str = "This kernelspec came with the sled-kernel Python package \
    (the wheel), which is now incomplete. Reinstall it with the pip of that environment: \
    pip install --force-reinstall sled-kernel (or the sled_kernel-*.whl file it came from). \
    To drop the kernel instead: pip uninstall sled-kernel";

/// The `sh -c` script of [`kernel_json`]: `$0` is the program, `$@` its
/// arguments. It must not contain `{word}`, which jupyter_client would try
/// to fill in, nor a quote that would end `remedy`'s single quotes.
fn missing_program_guard(remedy: &str) -> String {
    debug_assert!(!remedy.contains('\''));
    format!(
        "[ -x \"$0\" ] && exec \"$0\" \"$@\"; \
         p=$0; [ -d \"${{0%/*}}\" ] && p=$(cd \"${{0%/*}}\" && pwd -P)/${{0##*/}}; \
         echo \"sled-kernel: the sled KV kernel cannot start: its program $p is missing.\" >&2; \
         echo '{remedy}' >&2; exit 127"
    )
}

/// A way to read environment variables, so tests can supply their own.
type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

fn real_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// An environment variable that is set and not empty (jupyter_core treats
/// an empty value as unset).
fn env_nonempty(env: EnvLookup<'_>, name: &str) -> Option<OsString> {
    env(name).filter(|v| !v.is_empty())
}

fn spec_dir(target: &Target, env: EnvLookup<'_>) -> Result<PathBuf> {
    let data_dir = match target {
        Target::User => user_data_dir(env)?,
        Target::SysPrefix => sys_prefix(env)?.join("share").join("jupyter"),
        Target::Prefix(prefix) => std::path::absolute(prefix)
            .with_context(|| format!("cannot make {} absolute", prefix.display()))?
            .join("share")
            .join("jupyter"),
    };
    Ok(data_dir.join("kernels").join(KERNEL_NAME))
}

/// `jupyter_core.paths.jupyter_data_dir()`.
fn user_data_dir(env: EnvLookup<'_>) -> Result<PathBuf> {
    if let Some(dir) = env_nonempty(env, "JUPYTER_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    platform_data_dir(env, use_platform_dirs(env))
}

/// `jupyter_core.paths.use_platform_dirs()`: `JUPYTER_PLATFORM_DIRS` set to
/// anything but a false-looking word.
fn use_platform_dirs(env: EnvLookup<'_>) -> bool {
    match env("JUPYTER_PLATFORM_DIRS").and_then(|v| v.into_string().ok()) {
        None => false,
        Some(v) => !matches!(
            v.to_ascii_lowercase().as_str(),
            "" | "no" | "n" | "false" | "off" | "0" | "0.0"
        ),
    }
}

fn home_dir() -> Result<PathBuf> {
    dirs::home_dir().context("cannot find your home directory (is HOME set?)")
}

#[cfg(target_os = "macos")]
fn platform_data_dir(_env: EnvLookup, platform_dirs: bool) -> Result<PathBuf> {
    if platform_dirs {
        let base = dirs::data_dir().context("cannot find ~/Library/Application Support")?;
        return Ok(base.join("jupyter"));
    }
    Ok(home_dir()?.join("Library").join("Jupyter"))
}

#[cfg(windows)]
fn platform_data_dir(env: EnvLookup<'_>, platform_dirs: bool) -> Result<PathBuf> {
    if platform_dirs {
        let base = dirs::data_local_dir().context("cannot find %LOCALAPPDATA%")?;
        return Ok(base.join("jupyter"));
    }
    if let Some(appdata) = env_nonempty(env, "APPDATA") {
        return Ok(PathBuf::from(appdata).join("jupyter"));
    }
    // No APPDATA: jupyter_core falls back to `<config dir>/data`.
    let config = match env_nonempty(env, "JUPYTER_CONFIG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => home_dir()?.join(".jupyter"),
    };
    Ok(config.join("data"))
}

/// Linux and other Unixes. `platformdirs` agrees with jupyter_core's own
/// rule here, so `JUPYTER_PLATFORM_DIRS` changes nothing.
#[cfg(not(any(target_os = "macos", windows)))]
fn platform_data_dir(env: EnvLookup<'_>, _platform_dirs: bool) -> Result<PathBuf> {
    let base = match env_nonempty(env, "XDG_DATA_HOME") {
        Some(xdg) => PathBuf::from(xdg),
        None => home_dir()?.join(".local").join("share"),
    };
    Ok(base.join("jupyter"))
}

/// The active Python environment's prefix.
fn sys_prefix(env: EnvLookup<'_>) -> Result<PathBuf> {
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(prefix) = env_nonempty(env, var) {
            return Ok(PathBuf::from(prefix));
        }
    }
    let mut tried = Vec::new();
    for python in ["python3", "python"] {
        match Command::new(python)
            .args(["-c", "import sys; print(sys.prefix)"])
            .output()
        {
            Ok(out) if out.status.success() => {
                let prefix = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !prefix.is_empty() {
                    return Ok(PathBuf::from(prefix));
                }
                tried.push(format!("{python} printed no sys.prefix"));
            }
            Ok(out) => tried.push(format!("{python} exited with {}", out.status)),
            Err(err) => tried.push(format!("{python}: {err}")),
        }
    }
    bail!(
        "--sys-prefix needs an active Python environment, and none was found: \
         VIRTUAL_ENV and CONDA_PREFIX are unset and asking Python failed ({}). \
         Activate the environment that runs Jupyter, or use --user or --prefix DIR.",
        tried.join("; ")
    )
}

/// Write a complete kernelspec at `dir` for an executable at `exe`.
///
/// The files are written to a staging directory beside `dir` first; only
/// when all of them are there is the old spec (if any) removed and the new
/// one renamed into its place.
fn install_at(dir: &Path, exe: &Path) -> Result<()> {
    let kernels = dir
        .parent()
        .with_context(|| format!("{} has no parent directory", dir.display()))?;
    fs::create_dir_all(kernels).with_context(|| format!("cannot create {}", kernels.display()))?;

    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(kernels)
        .with_context(|| format!("cannot create a staging directory in {}", kernels.display()))?;

    let spec =
        serde_json::to_string_pretty(&kernel_json(Program::Installed(exe), System::HOST)?)? + "\n";
    let write = |name: &str, bytes: &[u8]| {
        let path = staging.path().join(name);
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    write("kernel.json", spec.as_bytes())?;
    for (name, bytes) in LOGOS {
        write(name, bytes)?;
    }
    // tempfile makes the directory private (0700 on Unix); a kernelspec
    // must be readable by everyone who may start the kernel, as jupyter's
    // own are.
    platform::let_everyone_read(staging.path())
        .with_context(|| format!("cannot set permissions on {}", staging.path().display()))?;

    remove_existing(dir)?;
    let staged = staging.keep();
    if let Err(err) = fs::rename(&staged, dir) {
        let _ = fs::remove_dir_all(&staged);
        return Err(err)
            .with_context(|| format!("cannot move the kernelspec into {}", dir.display()));
    }
    Ok(())
}

/// Remove whatever is at `path` (directory, file or symlink); true if there
/// was something.
fn remove_existing(path: &Path) -> Result<bool> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err).with_context(|| format!("cannot inspect {}", path.display())),
    };
    let removed = if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    removed.with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(true)
}

fn uninstall_at(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    if remove_existing(dir)? {
        removed.push(dir.to_path_buf());
    }
    if let Some(kernels) = dir.parent() {
        if let Ok(entries) = fs::read_dir(kernels) {
            for entry in entries.flatten() {
                let leftover = entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(STAGING_PREFIX);
                if leftover && remove_existing(&entry.path())? {
                    removed.push(entry.path());
                }
            }
        }
    }
    if removed.is_empty() {
        bail!(
            "no `{KERNEL_NAME}` kernelspec is installed at {}; nothing to uninstall",
            dir.display()
        );
    }
    Ok(removed)
}

/// The per-user Jupyter data dir, as `jupyter --data-dir` prints it (the
/// kernel keeps its cell history there).
pub fn user_data_dir_now() -> Result<PathBuf> {
    user_data_dir(&real_env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment made of just the given variables.
    fn fake_env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    /// What an installed spec's directory holds, and nothing more.
    const SPEC_FILES: [&str; 4] = [
        "kernel.json",
        "logo-32x32.png",
        "logo-64x64.png",
        "logo-svg.svg",
    ];

    fn read_spec(dir: &Path) -> serde_json::Value {
        serde_json::from_slice(&fs::read(dir.join("kernel.json")).unwrap()).unwrap()
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[test]
    fn logos_are_what_their_names_say() {
        assert_eq!(png_size(LOGO_32), (32, 32));
        assert_eq!(png_size(LOGO_64), (64, 64));
        let svg = std::str::from_utf8(LOGO_SVG).unwrap();
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    fn argv_of(spec: &serde_json::Value) -> Vec<String> {
        serde_json::from_value(spec["argv"].clone()).unwrap()
    }

    #[test]
    fn kernel_json_has_every_field() {
        for system in [System::Unix, System::Windows] {
            let spec = kernel_json(
                Program::Installed(Path::new("/opt/bin/sled-kernel")),
                system,
            )
            .unwrap();
            let argv = argv_of(&spec);
            assert_eq!(program_in_argv(&argv), Some("/opt/bin/sled-kernel"));
            assert_eq!(
                argv[argv.len() - 3..],
                ["kernel", "--connection-file", "{connection_file}"]
            );
            let mut rest = spec.clone();
            rest.as_object_mut().unwrap().remove("argv");
            assert_eq!(
                rest,
                json!({
                    "display_name": "sled KV",
                    "language": "sled-kv",
                    "interrupt_mode": "message",
                    "kernel_protocol_version": "5.5",
                    "metadata": {},
                })
            );
        }
    }

    #[test]
    fn a_windows_spec_starts_the_program_itself() {
        let exe = Path::new(r"C:\Users\ann\sled-kernel.exe");
        let argv = argv_of(&kernel_json(Program::Installed(exe), System::Windows).unwrap());
        assert_eq!(
            argv,
            [
                r"C:\Users\ann\sled-kernel.exe",
                "kernel",
                "--connection-file",
                "{connection_file}"
            ]
        );
    }

    /// What jupyter_client does to the wheel's program on Windows: fill in
    /// `{resource_dir}` (a path with backslashes), then Windows removes each
    /// `..` with the name before it, by the text alone.
    #[test]
    fn the_windows_wheel_spec_reaches_the_environments_scripts_folder() {
        let program = System::Windows.wheel_program();
        for prefix in [
            r"C:\Users\ann\class\.venv",
            r"C:\Users\ann\miniconda3\envs\sled",
            r"C:\Program Files\Python312",
        ] {
            let filled = program.replace(
                "{resource_dir}",
                &format!(r"{prefix}\share\jupyter\kernels\sled"),
            );
            let mut parts: Vec<&str> = Vec::new();
            for part in filled.split('\\') {
                match part {
                    ".." => {
                        parts.pop();
                    }
                    "." => {}
                    part => parts.push(part),
                }
            }
            assert_eq!(
                parts.join("\\"),
                format!(r"{prefix}\Scripts\sled-kernel.exe")
            );
        }
    }

    /// On Windows the wheel's spec, filled in as jupyter_client fills it
    /// in, starts the program in the environment's `Scripts` folder.
    #[cfg(windows)]
    #[test]
    fn the_windows_wheel_spec_starts_the_program_in_scripts() {
        let tmp = tempfile::tempdir().unwrap();
        let spec_dir = tmp.path().join(r"share\jupyter\kernels\sled");
        fs::create_dir_all(&spec_dir).unwrap();
        fs::create_dir_all(tmp.path().join("Scripts")).unwrap();
        // A stand-in program: this test program, asked to list no tests,
        // with the DLLs beside it (the test runner may have put some there).
        let exe = std::env::current_exe().unwrap();
        fs::copy(&exe, tmp.path().join(r"Scripts\sled-kernel.exe")).unwrap();
        for entry in fs::read_dir(exe.parent().unwrap()).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "dll") {
                fs::copy(
                    entry.path(),
                    tmp.path().join("Scripts").join(entry.file_name()),
                )
                .unwrap();
            }
        }
        let argv = argv_of(&kernel_json(Program::Wheel, System::Windows).unwrap());
        let program = argv[0].replace("{resource_dir}", spec_dir.to_str().unwrap());
        let out = Command::new(&program)
            .args(["--list", "--exact", "no-such-test"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{program}: {out:?}");
    }

    #[test]
    fn the_start_command_is_a_guard_in_front_of_the_program() {
        let argv =
            argv_of(&kernel_json(Program::Installed(Path::new("/opt/sk")), System::Unix).unwrap());
        assert_eq!(argv[..2], ["/bin/sh", "-c"]);
        assert_eq!(
            argv[3..],
            [
                "/opt/sk",
                "kernel",
                "--connection-file",
                "{connection_file}"
            ]
        );
        // jupyter_client fills in every `{word}` of every argument: the guard
        // must have none.
        let word = |s: &str| {
            s.split('{').skip(1).any(|after| {
                let name: String = after.chars().take_while(|c| *c != '}').collect();
                after.len() > name.len()
                    && !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        };
        assert!(!word(&argv[2]), "{}", argv[2]);
        assert!(word(&argv[6]));
    }

    /// Runs a spec's argv the way jupyter_client does (with the connection
    /// file filled in) and returns the process id, exit code, stdout and
    /// stderr.
    #[cfg(unix)]
    fn launch(argv: &[String], resource_dir: &Path) -> (u32, i32, String, String) {
        let argv: Vec<String> = argv
            .iter()
            .map(|a| {
                a.replace("{resource_dir}", resource_dir.to_str().unwrap())
                    .replace("{connection_file}", "/tmp/kernel-1.json")
            })
            .collect();
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        (
            pid,
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[cfg(unix)]
    #[test]
    fn the_guard_execs_the_program_with_its_arguments() {
        let tmp = tempfile::tempdir().unwrap();
        let program = tmp.path().join("sled-kernel");
        // A stand-in program that shows its arguments and its process id:
        // the guard execs it, so it runs as the process Jupyter started
        // (and signals Jupyter sends reach it).
        fs::write(&program, "#!/bin/sh\necho \"$$ $# $*\"\n").unwrap();
        platform::let_everyone_read(&program).unwrap();
        let argv = argv_of(&kernel_json(Program::Installed(&program), System::Unix).unwrap());
        let (pid, code, out, err) = launch(&argv, tmp.path());
        assert_eq!((code, err.as_str()), (0, ""));
        assert_eq!(
            out,
            format!("{pid} 3 kernel --connection-file /tmp/kernel-1.json\n")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_missing_program_says_what_to_run() {
        let tmp = tempfile::tempdir().unwrap();
        let program = tmp.path().join("gone").join("sled-kernel");
        let argv = argv_of(&kernel_json(Program::Installed(&program), System::Unix).unwrap());
        let (_, code, out, err) = launch(&argv, tmp.path());
        assert_eq!((code, out.as_str()), (127, ""));
        assert!(
            err.contains(&format!("its program {} is missing", program.display())),
            "{err}"
        );
        assert!(err.contains("sled-kernel install --user"), "{err}");
        assert!(err.contains("jupyter kernelspec remove sled"), "{err}");

        // The wheel's spec names the program through {resource_dir}; the
        // message shows the path without the `..` steps.
        let prefix = platform::canonical(tmp.path()).unwrap();
        let spec_dir = prefix.join("share/jupyter/kernels/sled");
        fs::create_dir_all(&spec_dir).unwrap();
        fs::create_dir_all(prefix.join("bin")).unwrap();
        let argv = argv_of(&kernel_json(Program::Wheel, System::Unix).unwrap());
        let (_, code, _, err) = launch(&argv, &spec_dir);
        assert_eq!(code, 127);
        let expected = prefix.join("bin/sled-kernel");
        assert!(
            err.contains(&format!("its program {} is missing", expected.display())),
            "{err}"
        );
        assert!(
            err.contains("pip install --force-reinstall sled-kernel"),
            "{err}"
        );
    }

    /// The wheels' kernel.json files are committed (maturin packs them as
    /// wheel data); each must be exactly what this module would write.
    #[test]
    fn the_wheel_specs_are_what_kernel_json_builds() {
        for (system, path, committed) in [
            (
                System::Unix,
                "python/sled_kernel.data/data/share/jupyter/kernels/sled/kernel.json",
                include_str!(
                    "../../python/sled_kernel.data/data/share/jupyter/kernels/sled/kernel.json"
                ),
            ),
            (
                System::Windows,
                "python/windows.data/data/share/jupyter/kernels/sled/kernel.json",
                include_str!(
                    "../../python/windows.data/data/share/jupyter/kernels/sled/kernel.json"
                ),
            ),
        ] {
            let committed: serde_json::Value = serde_json::from_str(committed).unwrap();
            let expected = kernel_json(Program::Wheel, system).unwrap();
            assert!(
                committed == expected,
                "{path} is out of date; write this:\n{}",
                serde_json::to_string_pretty(&expected).unwrap()
            );
            let argv = argv_of(&expected);
            assert_eq!(program_in_argv(&argv), Some(system.wheel_program()));
        }
    }

    #[test]
    fn the_program_is_found_in_old_and_new_argvs() {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            program_in_argv(&owned(&["/x/sled-kernel", "kernel", "-f", "c.json"])),
            Some("/x/sled-kernel")
        );
        assert_eq!(
            program_in_argv(&owned(&["/bin/sh", "-c", "g", "/y/sled-kernel", "kernel"])),
            Some("/y/sled-kernel")
        );
        assert_eq!(program_in_argv(&[]), None);
    }

    #[test]
    fn jupyter_data_dir_wins_for_user() {
        let env = fake_env(&[("JUPYTER_DATA_DIR", "/data/jup"), ("XDG_DATA_HOME", "/xdg")]);
        assert_eq!(
            spec_dir(&Target::User, &env).unwrap(),
            Path::new("/data/jup/kernels/sled")
        );
    }

    #[cfg(not(any(target_os = "macos", windows)))]
    #[test]
    fn user_dir_on_linux_follows_xdg_then_home() {
        let env = fake_env(&[("XDG_DATA_HOME", "/xdg"), ("JUPYTER_DATA_DIR", "")]);
        assert_eq!(
            spec_dir(&Target::User, &env).unwrap(),
            Path::new("/xdg/jupyter/kernels/sled")
        );
        let env = fake_env(&[]);
        let home = dirs::home_dir().unwrap();
        assert_eq!(
            spec_dir(&Target::User, &env).unwrap(),
            home.join(".local/share/jupyter/kernels/sled")
        );
        // platformdirs agrees with jupyter_core on Linux.
        let env = fake_env(&[("XDG_DATA_HOME", "/xdg"), ("JUPYTER_PLATFORM_DIRS", "1")]);
        assert_eq!(
            spec_dir(&Target::User, &env).unwrap(),
            Path::new("/xdg/jupyter/kernels/sled")
        );
    }

    #[test]
    fn platform_dirs_flag_reads_like_jupyter_core() {
        for (value, expected) in [
            ("1", true),
            ("yes", true),
            ("0", false),
            ("False", false),
            ("", false),
        ] {
            let env = fake_env(&[("JUPYTER_PLATFORM_DIRS", value)]);
            assert_eq!(
                use_platform_dirs(&env),
                expected,
                "JUPYTER_PLATFORM_DIRS={value:?}"
            );
        }
        assert!(!use_platform_dirs(&fake_env(&[])));
    }

    #[test]
    fn sys_prefix_prefers_virtualenv_then_conda() {
        let env = fake_env(&[("VIRTUAL_ENV", "/venv"), ("CONDA_PREFIX", "/conda")]);
        assert_eq!(
            spec_dir(&Target::SysPrefix, &env).unwrap(),
            Path::new("/venv/share/jupyter/kernels/sled")
        );
        let env = fake_env(&[("VIRTUAL_ENV", ""), ("CONDA_PREFIX", "/conda")]);
        assert_eq!(
            spec_dir(&Target::SysPrefix, &env).unwrap(),
            Path::new("/conda/share/jupyter/kernels/sled")
        );
    }

    #[test]
    fn prefix_target_is_made_absolute() {
        let env = fake_env(&[]);
        let dir = spec_dir(&Target::Prefix(PathBuf::from("some/where")), &env).unwrap();
        assert!(dir.is_absolute(), "{}", dir.display());
        assert!(dir.ends_with("some/where/share/jupyter/kernels/sled"));
    }

    #[test]
    fn install_writes_a_complete_spec_for_this_executable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = install(&Target::Prefix(tmp.path().to_path_buf())).unwrap();
        assert_eq!(dir, tmp.path().join("share/jupyter/kernels/sled"));
        assert_eq!(names_in(&dir), SPEC_FILES);
        let spec = read_spec(&dir);
        let argv = argv_of(&spec);
        let program = PathBuf::from(program_in_argv(&argv).unwrap());
        assert!(program.is_absolute());
        assert_eq!(program, platform::this_program().unwrap());
        assert_eq!(argv.last().unwrap(), "{connection_file}");
        assert_eq!(spec["language"], "sled-kv");
        assert_eq!(fs::read(dir.join("logo-64x64.png")).unwrap(), LOGO_64);
        // Nothing else is left in kernels/ (no staging directory).
        assert_eq!(names_in(dir.parent().unwrap()), ["sled"]);
        if cfg!(unix) {
            assert_eq!(platform::unix_mode(&dir), Some(0o755));
        }
    }

    #[test]
    fn install_twice_replaces_the_old_spec_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let target = Target::Prefix(tmp.path().to_path_buf());
        let dir = install(&target).unwrap();
        fs::write(dir.join("stale.txt"), "from an older install").unwrap();
        fs::write(dir.join("kernel.json"), "{ broken").unwrap();
        let again = install(&target).unwrap();
        assert_eq!(again, dir);
        assert_eq!(names_in(&dir), SPEC_FILES);
        let spec = read_spec(&dir);
        assert_eq!(spec["display_name"], "sled KV");
        assert_eq!(names_in(dir.parent().unwrap()), ["sled"]);
    }

    #[test]
    fn install_replaces_a_plain_file_in_the_way() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("kernels/sled");
        fs::create_dir_all(dir.parent().unwrap()).unwrap();
        fs::write(&dir, "not a directory").unwrap();
        install_at(&dir, Path::new("/bin/sled-kernel")).unwrap();
        assert!(dir.join("kernel.json").is_file());
    }

    #[test]
    fn uninstall_removes_the_spec_and_leftovers_then_says_nothing_is_there() {
        let tmp = tempfile::tempdir().unwrap();
        let target = Target::Prefix(tmp.path().to_path_buf());
        let dir = install(&target).unwrap();
        let kernels = dir.parent().unwrap().to_path_buf();
        // A staging dir an interrupted install might leave, and a neighbour
        // kernelspec that must survive.
        let leftover = kernels.join(format!("{STAGING_PREFIX}abc123"));
        fs::create_dir(&leftover).unwrap();
        fs::create_dir(kernels.join("python3")).unwrap();

        let mut removed = uninstall(&target).unwrap();
        removed.sort();
        let mut expected = vec![dir.clone(), leftover];
        expected.sort();
        assert_eq!(removed, expected);
        assert_eq!(names_in(&kernels), ["python3"]);

        let err = uninstall(&target).unwrap_err().to_string();
        assert!(err.contains("nothing to uninstall"), "{err}");
        assert!(err.contains(&dir.display().to_string()), "{err}");
    }

    #[test]
    fn uninstall_of_a_prefix_that_never_existed_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let err = uninstall(&Target::Prefix(tmp.path().join("nope")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no `sled` kernelspec is installed at"),
            "{err}"
        );
    }
}
