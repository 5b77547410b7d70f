//! Which `sled` kernelspec Jupyter will use.
//!
//! Several `sled` specs can be installed at once: the wheel's in an
//! environment's `share/jupyter`, one that `sled-kernel install --user` wrote
//! into the user's data directory, one in `/usr/local/share/jupyter`. Jupyter
//! takes the first `kernels/sled` on its search path, and that path belongs
//! to the Jupyter installation (`JUPYTER_PATH`, whether it runs in a virtual
//! or conda environment, `JUPYTER_PREFER_ENV_PATH`). Rather than guess, this
//! asks: each Python that may run Jupyter here (the environment this binary
//! was installed into, the active one, the one behind `jupyter` on PATH,
//! `python3` on PATH) reports the `sled` specs its jupyter_client finds, in
//! search order, and the one it picks.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{program_in_argv, KERNEL_NAME};

/// What one Python's jupyter_client sees.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct View {
    /// `sys.prefix` of that Python: names the Jupyter installation.
    pub prefix: PathBuf,
    /// Every `kernels/sled` with a kernel.json on its search path, in order.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// The one `get_kernel_spec("sled")` returns.
    #[serde(default)]
    pub chosen: Option<PathBuf>,
    /// Whether it searches the environment before the user's data dir.
    #[serde(default)]
    pub prefer_env: bool,
    /// Set when jupyter_client could not be imported there.
    #[serde(default)]
    pub error: Option<String>,
}

/// Run by each candidate Python; prints one JSON object.
const ASK: &str = r#"
import json, os, sys
out = {"prefix": sys.prefix}
try:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from jupyter_core import paths
except Exception as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
else:
    ksm = KernelSpecManager()
    dirs = []
    for kernels in ksm.kernel_dirs:
        d = os.path.join(kernels, "sled")
        if os.path.isfile(os.path.join(d, "kernel.json")) and d not in dirs:
            dirs.append(d)
    out["dirs"] = dirs
    try:
        out["chosen"] = ksm.get_kernel_spec("sled").resource_dir
    except NoSuchKernel:
        out["chosen"] = None
    prefer = getattr(paths, "prefer_environment_over_user", None)
    out["prefer_env"] = bool(prefer()) if prefer else False
print(json.dumps(out))
"#;

/// How long one Python may take to answer (importing jupyter_client on a
/// busy machine takes a second or two).
const ASK_TIMEOUT: Duration = Duration::from_secs(30);

/// Ask every Python that may run Jupyter here; one [`View`] per Jupyter
/// installation that has jupyter_client.
pub fn ask_all() -> Vec<View> {
    let exe = std::env::current_exe().ok();
    let pythons = candidates(exe.as_deref(), &|name| std::env::var_os(name));
    let answers: Vec<Option<View>> = std::thread::scope(|scope| {
        let asks: Vec<_> = pythons
            .iter()
            .map(|python| scope.spawn(move || ask(python)))
            .collect();
        asks.into_iter()
            .map(|ask| ask.join().ok().flatten())
            .collect()
    });
    let mut seen = HashSet::new();
    answers
        .into_iter()
        .flatten()
        .filter(|view| view.error.is_none())
        .filter(|view| seen.insert(same_file(&view.prefix)))
        .collect()
}

/// The Pythons to ask, most relevant first, without repeats.
fn candidates(exe: Option<&Path>, env: super::EnvLookup<'_>) -> Vec<PathBuf> {
    let bin = if cfg!(windows) { "Scripts" } else { "bin" };
    let pythons_in = |prefix: &Path| -> Option<PathBuf> {
        ["python3", "python", "python.exe"]
            .iter()
            .map(|name| prefix.join(bin).join(name))
            .find(|path| path.is_file())
    };
    let mut found = Vec::new();
    // The environment this binary lives in (a wheel install: PREFIX/bin).
    if let Some(prefix) = exe.and_then(Path::parent).and_then(Path::parent) {
        found.extend(pythons_in(prefix));
    }
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(prefix) = super::env_nonempty(env, var) {
            found.extend(pythons_in(Path::new(&prefix)));
        }
    }
    let path = env("PATH").unwrap_or_default();
    let on_path = |name: &str| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    };
    // The Python that runs the `jupyter` command people type.
    found.extend(on_path("jupyter").as_deref().and_then(shebang_python));
    found.extend(on_path("python3"));
    let mut seen = HashSet::new();
    found.retain(|python| seen.insert(python.clone()));
    found
}

/// The interpreter of a script whose first line is `#!/abs/path/python…`.
fn shebang_python(script: &Path) -> Option<PathBuf> {
    let head = std::fs::read(script).ok()?;
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.strip_prefix("#!")?.trim();
    let python = Path::new(line.split_whitespace().next()?);
    let named_python = python
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("python"));
    (python.is_absolute() && named_python && python.is_file()).then(|| python.to_path_buf())
}

/// Run [`ASK`] with `python`; `None` when it fails or takes too long.
fn ask(python: &Path) -> Option<View> {
    let mut child = Command::new(python)
        .args(["-c", ASK])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + ASK_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                log::warn!("{} did not say which kernelspecs it sees", python.display());
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last()?).ok()
}

/// `path` with symlinks resolved when it exists, for comparing.
fn same_file(path: &Path) -> PathBuf {
    crate::platform::canonical(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The program a spec directory's kernel.json starts, with
/// `{resource_dir}` filled in and symlinks and `..` resolved when it exists.
pub fn program_of(spec_dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(spec_dir.join("kernel.json")).ok()?;
    let spec: serde_json::Value = serde_json::from_str(&text).ok()?;
    let argv: Vec<String> = serde_json::from_value(spec.get("argv")?.clone()).ok()?;
    let program = program_in_argv(&argv)?.replace("{resource_dir}", spec_dir.to_str()?);
    Some(same_file(Path::new(&program)))
}

fn runs(spec_dir: &Path) -> String {
    match program_of(spec_dir) {
        Some(program) if program.exists() => format!("runs {}", program.display()),
        Some(program) => format!("its program {} is missing", program.display()),
        None => "its kernel.json cannot be read".to_string(),
    }
}

/// What to tell someone who just wrote the spec at `written`, given what
/// each Jupyter installation sees.
pub fn after_install(written: &Path, views: &[View]) -> Vec<String> {
    if views.is_empty() {
        return vec![format!(
            "No Python with jupyter_client was found to ask which `{KERNEL_NAME}` kernelspec \
             it uses; check with: jupyter kernelspec list"
        )];
    }
    let written = same_file(written);
    let mut lines = Vec::new();
    for view in views {
        let dirs: Vec<PathBuf> = view.dirs.iter().map(|d| same_file(d)).collect();
        let chosen = view.chosen.as_deref().map(same_file);
        let prefix = view.prefix.display();
        if !dirs.contains(&written) {
            let data_dir = written
                .parent()
                .and_then(Path::parent)
                .unwrap_or(&written)
                .display();
            let uses = match &chosen {
                Some(dir) => format!("; it uses {} ({})", dir.display(), runs(dir)),
                None => String::new(),
            };
            lines.push(format!(
                "Jupyter in {prefix} does not look there{uses}. \
                 To let it find this one, add {data_dir} to JUPYTER_PATH."
            ));
            continue;
        }
        if dirs.len() == 1 {
            lines.push(format!("Jupyter in {prefix} will use it."));
            continue;
        }
        lines.push(format!(
            "Jupyter in {prefix} finds {} `{KERNEL_NAME}` kernelspecs and uses the first:",
            dirs.len()
        ));
        for (n, dir) in dirs.iter().enumerate() {
            let mark = if *dir == written {
                ", just written"
            } else {
                ""
            };
            lines.push(format!(
                "  {}. {} ({}{mark})",
                n + 1,
                dir.display(),
                runs(dir)
            ));
        }
        match chosen {
            Some(dir) if dir == written => {
                lines.push("so it will use the one just written.".to_string());
            }
            Some(dir) => {
                lines.push(format!(
                    "so it will keep using {}, not the one just written.",
                    dir.display()
                ));
                if view.prefer_env && dir.starts_with(same_file(&view.prefix)) {
                    lines.push(
                        "(Inside a virtual or conda environment Jupyter looks in the \
                         environment's own share/jupyter before your user directory; start it \
                         with JUPYTER_PREFER_ENV_PATH=0 to look in yours first.)"
                            .to_string(),
                    );
                }
            }
            None => {}
        }
        let programs: HashSet<Option<PathBuf>> = dirs.iter().map(|d| program_of(d)).collect();
        if programs.len() == 1 && programs.iter().all(Option::is_some) {
            lines.push("They start the same program, so the kernel is the same either way.".into());
        }
        lines.push(
            "To keep a single one, remove the others: `sled-kernel uninstall` with the flag \
             that wrote it (--user, --sys-prefix, --prefix DIR), or `pip uninstall sled-kernel` \
             for the one that came with the wheel."
                .to_string(),
        );
    }
    lines
}

/// What is left for each Jupyter installation after an uninstall.
pub fn after_uninstall(views: &[View]) -> Vec<String> {
    views
        .iter()
        .filter_map(|view| {
            let dir = view.chosen.as_deref()?;
            Some(format!(
                "Jupyter in {} will now use {} ({}).",
                view.prefix.display(),
                dir.display(),
                runs(dir)
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// `base` joined with the `/`-separated names of `rel` one by one, so
    /// that the path is written the system's way.
    fn under(base: &Path, rel: &str) -> PathBuf {
        rel.split('/')
            .fold(base.to_path_buf(), |path, name| path.join(name))
    }

    fn spec(dir: &Path, program: &str) {
        fs::create_dir_all(dir).unwrap();
        let argv = ["/bin/sh", "-c", "guard", program, "kernel"];
        fs::write(
            dir.join("kernel.json"),
            serde_json::json!({ "argv": argv }).to_string(),
        )
        .unwrap();
    }

    fn view(prefix: &Path, dirs: &[&Path], chosen: Option<&Path>, prefer_env: bool) -> View {
        View {
            prefix: prefix.to_path_buf(),
            dirs: dirs.iter().map(|d| d.to_path_buf()).collect(),
            chosen: chosen.map(Path::to_path_buf),
            prefer_env,
            error: None,
        }
    }

    #[test]
    fn a_wheel_spec_that_hides_the_user_one_is_named_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::platform::canonical(tmp.path()).unwrap();
        let venv = root.join("venv");
        let wheel = under(&venv, "share/jupyter/kernels/sled");
        let user = under(&root, "home/.local/share/jupyter/kernels/sled");
        fs::create_dir_all(venv.join("bin")).unwrap();
        fs::write(under(&venv, "bin/sled-kernel"), "").unwrap();
        spec(&wheel, "{resource_dir}/../../../../bin/sled-kernel");
        spec(&user, "/gone/sled-kernel");

        let lines = after_install(&user, &[view(&venv, &[&wheel, &user], Some(&wheel), true)]);
        let text = lines.join("\n");
        assert!(
            text.contains(&format!(
                "Jupyter in {} finds 2 `sled` kernelspecs",
                venv.display()
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "1. {} (runs {})",
                wheel.display(),
                under(&venv, "bin/sled-kernel").display()
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "2. {} (its program /gone/sled-kernel is missing, just written)",
                user.display()
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "so it will keep using {}, not the one just written",
                wheel.display()
            )),
            "{text}"
        );
        assert!(text.contains("JUPYTER_PREFER_ENV_PATH=0"), "{text}");
        assert!(text.contains("pip uninstall sled-kernel"), "{text}");

        // The same two specs, but the user's comes first.
        let lines = after_install(&user, &[view(&venv, &[&user, &wheel], Some(&user), false)]);
        let text = lines.join("\n");
        assert!(
            text.contains("so it will use the one just written."),
            "{text}"
        );
        assert!(!text.contains("JUPYTER_PREFER_ENV_PATH"), "{text}");
        assert!(!text.contains("the same program"), "{text}");

        // Two specs for one binary: no harm, and it says so.
        spec(&user, under(&venv, "bin/sled-kernel").to_str().unwrap());
        let lines = after_install(&user, &[view(&venv, &[&wheel, &user], Some(&wheel), true)]);
        assert!(lines.join("\n").contains("the same program"), "{lines:?}");
    }

    #[test]
    fn a_single_spec_is_one_line_and_an_unseen_one_says_how_to_find_it() {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::platform::canonical(tmp.path()).unwrap();
        let user = under(&root, "share/jupyter/kernels/sled");
        spec(&user, "/x/sled-kernel");
        assert_eq!(
            after_install(
                &user,
                &[view(Path::new("/env"), &[&user], Some(&user), false)]
            ),
            ["Jupyter in /env will use it."]
        );
        let other = under(&root, "p/share/jupyter/kernels/sled");
        spec(&other, "/x/sled-kernel");
        let lines = after_install(
            &other,
            &[view(Path::new("/env"), &[&user], Some(&user), false)],
        );
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("does not look there"), "{}", lines[0]);
        assert!(
            lines[0].contains(&format!(
                "add {} to JUPYTER_PATH",
                under(&root, "p/share/jupyter").display()
            )),
            "{}",
            lines[0]
        );
        assert!(after_install(&user, &[])[0].contains("jupyter kernelspec list"));
    }

    #[test]
    fn after_uninstall_names_what_is_left() {
        let tmp = tempfile::tempdir().unwrap();
        let left = under(tmp.path(), "kernels/sled");
        spec(&left, "/opt/sled-kernel");
        let lines = after_uninstall(&[
            view(Path::new("/a"), &[&left], Some(&left), false),
            view(Path::new("/b"), &[], None, false),
        ]);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with("Jupyter in /a will now use"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains("program /opt/sled-kernel is missing"),
            "{}",
            lines[0]
        );
    }

    #[cfg(unix)]
    #[test]
    fn candidates_start_with_this_binarys_environment_and_skip_repeats() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        fs::create_dir_all(venv.join("bin")).unwrap();
        let python = under(&venv, "bin/python3");
        fs::write(&python, "").unwrap();
        let jupyter = under(&venv, "bin/jupyter");
        fs::write(&jupyter, format!("#!{}\nimport sys\n", python.display())).unwrap();
        crate::platform::let_everyone_read(&jupyter).unwrap();
        let vars: std::collections::HashMap<&str, std::ffi::OsString> = [
            ("VIRTUAL_ENV", venv.clone().into_os_string()),
            ("PATH", venv.join("bin").into_os_string()),
        ]
        .into();
        let env = move |name: &str| vars.get(name).cloned();
        let found = candidates(Some(&under(&venv, "bin/sled-kernel")), &env);
        assert_eq!(found, std::slice::from_ref(&python));
        assert_eq!(shebang_python(&jupyter), Some(python));
    }

    #[test]
    fn a_python_without_jupyter_client_is_no_view() {
        let answer: View =
            serde_json::from_str(r#"{"prefix": "/usr", "error": "ModuleNotFoundError: x"}"#)
                .unwrap();
        assert!(answer.error.is_some() && answer.dirs.is_empty());
    }
}
