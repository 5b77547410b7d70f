//! Rust cells: a cell whose first line is `%%rust` is Rust code, evaluated by
//! an `evcxr` context that lives for the session, next to the KV cells and
//! against the same sled database on disk.
//!
//! * [`Magic::parse`] decides whether a cell belongs here: `%%rust` (Rust
//!   code), `%rust reset`, `%rust deps`, `%rust cache` or `%rust start`.
//! * [`RustCells`] owns the evcxr context, started by the first Rust cell
//!   (or ahead of it, in the background, by `%rust start`: `ahead`).
//!   With the `rust-cells` cargo feature off it still exists, and answers
//!   every Rust cell with an error naming the feature.
//!
//! The hand-off: sled lets one process hold a database at a time, and evcxr
//! runs Rust code in a child process. So before a Rust cell runs, the KV
//! interpreter flushes and closes its handle ([`Interpreter::suspend`]); the
//! next KV cell reopens it, or reports `DatabaseLocked` while Rust code still
//! holds it.
//!
//! The Rust cache: crates the Rust cells compiled (sled above all) are kept
//! between kernels, in a directory several kernels may share; `cache`
//! stores them, `wrapper` is the rustc wrapper cargo runs, `cache_use` how
//! a kernel uses and reports it, and `sled-kernel warm` ([`warm`]) fills it
//! before class.

use crate::interpreter::{CellError, Interpreter, Interrupt, MimeBundle, Output};
use std::path::Path;

#[cfg(feature = "rust-cells")]
mod ahead;
#[cfg(feature = "rust-cells")]
mod cache;
#[cfg(feature = "rust-cells")]
mod cache_use;
#[cfg(feature = "rust-cells")]
mod engine;
#[cfg(feature = "rust-cells")]
mod processes;
#[cfg(feature = "rust-cells")]
mod report;
#[cfg(feature = "rust-cells")]
mod warm;
#[cfg(feature = "rust-cells")]
mod wrapper;

#[cfg(feature = "rust-cells")]
pub use cache::{DIR_ENV as CACHE_DIR_ENV, LIMIT_ENV as CACHE_LIMIT_ENV};
#[cfg(feature = "rust-cells")]
pub use cache_use::CACHE_MIME;

/// The sled the Rust context gets without a `:dep` line: the kernel's own.
pub const SLED_DEP: &str = "sled = \"0.34.7\"";

/// Must run first in `main`, before any thread starts: evcxr starts our
/// own binary again as the process that runs Rust cells, and cargo starts
/// it as its rustc wrapper (the Rust cache); in those roles this call never
/// returns. Otherwise it points evcxr at this process's build directory
/// ([`work_dir`]). A no-op without the `rust-cells` feature.
pub fn runtime_hook() {
    #[cfg(feature = "rust-cells")]
    {
        wrapper::hook();
        evcxr::runtime_hook();
        // evcxr reads its build directory from here. Still one thread, so
        // setting the environment is safe.
        std::env::set_var("EVCXR_TMPDIR", work_dir());
    }
}

/// Where this process's Rust context builds: one directory per kernel in
/// the temp dir, named like the session database's so that a killed
/// kernel's is swept by the next one.
pub fn work_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sled-kernel-rust-{}", std::process::id()))
}

/// `sled-kernel warm`: starts a Rust context the way the first `%%rust`
/// cell does, so that what it compiles lands in the Rust cache; returns
/// what to tell the user.
pub fn warm() -> anyhow::Result<String> {
    #[cfg(feature = "rust-cells")]
    return warm::warm();
    #[cfg(not(feature = "rust-cells"))]
    anyhow::bail!(
        "this sled-kernel was built without the `rust-cells` feature, so it has no Rust cells and no Rust cache to warm; rebuild with `cargo build --release --locked --features rust-cells`"
    )
}

/// What a cell asks of the Rust side.
#[derive(Debug, Clone, PartialEq)]
pub enum Magic<'a> {
    /// `%%rust` and the Rust code below it.
    Cell(RustCode<'a>),
    /// `%rust reset`: forget everything the Rust cells defined.
    Reset,
    /// `%rust deps`: list the Rust context's dependencies.
    Deps,
    /// `%rust cache …`: the compiled-crate cache.
    Cache(CacheCommand),
    /// `%rust start`: start the Rust context now, in the background.
    Start,
    /// A `%rust` / `%%rust` line that is wrong; says how.
    Invalid(CellError),
}

/// What `%rust cache` is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheCommand {
    /// `%rust cache`: where it is, how big, what this kernel got from it.
    Show,
    /// `%rust cache clear`: delete every compiled crate in it.
    Clear,
    /// `%rust cache off` / `on`: stop or resume using it in this kernel.
    Off,
    On,
}

/// The body of a `%%rust` cell, with where it sits in the cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RustCode<'a> {
    /// The code after the `%%rust` line.
    pub body: &'a str,
    /// Byte offset of `body` in the cell.
    pub offset: usize,
    /// The cell's line number (1-based) of the body's first line.
    pub first_line: usize,
}

impl<'a> Magic<'a> {
    /// `None` when the cell is a KV cell. Blank lines before the magic line
    /// are allowed; the magic word is case-insensitive like KV commands.
    pub fn parse(cell: &'a str) -> Option<Magic<'a>> {
        let mut start = 0;
        for (line_number, line) in (1..).zip(cell.split_inclusive('\n')) {
            let text = line.trim();
            if !text.is_empty() {
                let end = start + line.len();
                return Self::from_line(cell, text, end, line_number);
            }
            start += line.len();
        }
        None
    }

    fn from_line(cell: &'a str, line: &str, end: usize, line_number: usize) -> Option<Magic<'a>> {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        let rest: Vec<&str> = words.collect();
        if first.eq_ignore_ascii_case("%%rust") {
            if !rest.is_empty() {
                return Some(Magic::Invalid(usage_error(
                    line_number,
                    format!("`%%rust` takes no arguments, but this line has {rest:?}"),
                    "Put the Rust code on the lines below `%%rust`.",
                )));
            }
            return Some(Magic::Cell(RustCode {
                body: &cell[end..],
                offset: end,
                first_line: line_number + 1,
            }));
        }
        if !first.eq_ignore_ascii_case("%rust") {
            return None;
        }
        let magic = match rest.as_slice() {
            [word] if word.eq_ignore_ascii_case("reset") => Magic::Reset,
            [word] if word.eq_ignore_ascii_case("deps") => Magic::Deps,
            [word] if word.eq_ignore_ascii_case("start") => Magic::Start,
            [word, what @ ..] if word.eq_ignore_ascii_case("cache") && what.len() <= 1 => {
                let what = what.first().map(|w| w.to_ascii_lowercase());
                match what.as_deref() {
                    None => Magic::Cache(CacheCommand::Show),
                    Some("clear") => Magic::Cache(CacheCommand::Clear),
                    Some("off") => Magic::Cache(CacheCommand::Off),
                    Some("on") => Magic::Cache(CacheCommand::On),
                    Some(other) => {
                        return Some(Magic::Invalid(usage_error(
                            line_number,
                            format!("unknown `%rust cache` command `{other}`"),
                            "Use `%rust cache` (where and how big), `%rust cache clear`, `%rust cache off` or `%rust cache on`.",
                        )))
                    }
                }
            }
            _ => {
                return Some(Magic::Invalid(usage_error(
                    line_number,
                    format!("unknown `%rust` command `{}`", rest.join(" ")),
                    "Use `%rust start`, `%rust reset`, `%rust deps` or `%rust cache`; Rust code goes in a cell whose first line is `%%rust`.",
                )))
            }
        };
        let after = &cell[end..];
        let stray = after
            .lines()
            .enumerate()
            .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        if let Some((index, _)) = stray {
            return Some(Magic::Invalid(usage_error(
                line_number + 1 + index,
                format!("`{line}` must be alone in its cell"),
                "Move the other lines to a cell of their own.",
            )));
        }
        Some(magic)
    }
}

fn usage_error(line: usize, what: String, fix: &str) -> CellError {
    CellError {
        ename: "RustMagicError".into(),
        evalue: what.clone(),
        traceback: vec![format!("line {line}: {what}"), fix.to_string()],
    }
}

/// A completion inside a `%%rust` cell, in the protocol's units (Unicode
/// code points from the start of the whole cell).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RustCompletion {
    pub matches: Vec<String>,
    pub cursor_start: usize,
    pub cursor_end: usize,
}

/// How complete a `%%rust` cell looks, for `is_complete_request`.
#[derive(Debug, Clone, PartialEq)]
pub enum Completeness {
    Complete,
    Incomplete { indent: String },
    Invalid,
}

/// The Rust side of a session.
pub struct RustCells {
    #[cfg(feature = "rust-cells")]
    engine: ahead::Ahead,
}

impl Default for RustCells {
    fn default() -> Self {
        Self::new()
    }
}

impl RustCells {
    /// Nothing starts until the first Rust cell runs.
    pub fn new() -> Self {
        RustCells {
            #[cfg(feature = "rust-cells")]
            engine: ahead::Ahead::default(),
        }
    }

    /// Whether this build has Rust cells (the `rust-cells` feature).
    pub const fn available() -> bool {
        cfg!(feature = "rust-cells")
    }

    /// Runs what [`Magic::parse`] found, handing the database over first:
    /// before Rust code runs the KV interpreter flushes and closes its
    /// handle, and its next cell reopens it.
    pub fn run(
        &mut self,
        magic: Magic<'_>,
        kv: &mut Interpreter,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        match magic {
            Magic::Invalid(error) => Err(error),
            Magic::Cell(code) => {
                if !Self::available() {
                    return Err(not_built("%%rust"));
                }
                kv.suspend().map_err(|e| CellError {
                    ename: "DatabaseError".into(),
                    evalue: format!("could not hand the database to the Rust cells: {e:#}"),
                    traceback: vec![
                        format!("could not flush and close the session database: {e:#}"),
                        "The Rust cell did not run. Run a KV cell (e.g. `flush`) to see the database's state, then try again.".into(),
                    ],
                })?;
                self.execute(code, kv.db_path(), out, interrupt)
            }
            Magic::Reset => self.reset(out, interrupt),
            Magic::Deps => self.deps(out, interrupt),
            Magic::Cache(command) => self.cache(command, out, interrupt),
            Magic::Start => self.start(kv.db_path(), out),
        }
    }

    /// `%rust cache …`: the compiled-crate cache Rust cells share.
    #[allow(unused_variables)]
    pub fn cache(
        &mut self,
        command: CacheCommand,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        #[cfg(feature = "rust-cells")]
        return self
            .engine
            .wait(out, interrupt)
            .and_then(|engine| engine.cache_command(command, out));
        #[cfg(not(feature = "rust-cells"))]
        Err(not_built("%rust cache"))
    }

    /// `%rust start`: starts the Rust context on a thread of its own and
    /// returns at once; KV cells go on meanwhile, and the first Rust cell
    /// waits for what is left of the start. `db_path` is what `DB_PATH`
    /// names (a later cell corrects it if the session moves).
    #[allow(unused_variables)]
    pub fn start(
        &mut self,
        db_path: &Path,
        out: &mut dyn Output,
    ) -> Result<Option<MimeBundle>, CellError> {
        #[cfg(feature = "rust-cells")]
        return self.engine.start(db_path, out);
        #[cfg(not(feature = "rust-cells"))]
        Err(not_built("%rust start"))
    }

    /// Evaluates a `%%rust` cell's code; starts the context on first use.
    /// `db_path` is what `DB_PATH` names in the Rust code.
    #[allow(unused_variables)]
    pub fn execute(
        &mut self,
        code: RustCode<'_>,
        db_path: &Path,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        #[cfg(feature = "rust-cells")]
        return self
            .engine
            .wait(out, interrupt)
            .and_then(|engine| engine.execute(code, db_path, out, interrupt));
        #[cfg(not(feature = "rust-cells"))]
        Err(not_built("%%rust"))
    }

    /// `%rust reset`: drops every variable, function, type and `:dep` the
    /// Rust cells made, and stops the process holding them (which releases
    /// the database). evcxr's compiled crates are kept, so the next cell
    /// does not compile sled again.
    #[allow(unused_variables)]
    pub fn reset(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        #[cfg(feature = "rust-cells")]
        return self
            .engine
            .wait(out, interrupt)
            .and_then(|engine| engine.reset(out, interrupt));
        #[cfg(not(feature = "rust-cells"))]
        Err(not_built("%rust reset"))
    }

    /// `%rust deps`: the crates Rust cells can use.
    #[allow(unused_variables)]
    pub fn deps(
        &mut self,
        out: &mut dyn Output,
        interrupt: &Interrupt,
    ) -> Result<Option<MimeBundle>, CellError> {
        #[cfg(feature = "rust-cells")]
        return self
            .engine
            .wait(out, interrupt)
            .and_then(|engine| engine.deps(out, interrupt));
        #[cfg(not(feature = "rust-cells"))]
        Err(not_built("%rust deps"))
    }

    /// Completions from evcxr (rust-analyzer) for a `%%rust` cell;
    /// `cursor_pos` counts code points from the start of the cell. Empty
    /// until the context has started: starting it takes seconds to a
    /// minute, too long to hold a completion request.
    #[allow(unused_variables)]
    pub fn complete(
        &mut self,
        code: RustCode<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> RustCompletion {
        #[cfg(feature = "rust-cells")]
        if let Some(completion) = self
            .engine
            .ready()
            .and_then(|engine| engine.complete(code, cell, cursor_pos))
        {
            return completion;
        }
        RustCompletion {
            matches: Vec::new(),
            cursor_start: cursor_pos,
            cursor_end: cursor_pos,
        }
    }

    /// Documentation of what ends at the cursor, from rust-analyzer.
    #[allow(unused_variables)]
    pub fn inspect(
        &mut self,
        code: RustCode<'_>,
        cell: &str,
        cursor_pos: usize,
    ) -> Option<MimeBundle> {
        #[cfg(feature = "rust-cells")]
        return self
            .engine
            .ready()
            .and_then(|engine| engine.inspect(code, cell, cursor_pos));
        #[cfg(not(feature = "rust-cells"))]
        None
    }

    /// Whether a `%%rust` cell looks finished: brackets balanced outside
    /// strings and comments, and some code under the `%%rust` line.
    pub fn is_complete(code: RustCode<'_>) -> Completeness {
        if code.body.trim().is_empty() {
            return Completeness::Incomplete {
                indent: String::new(),
            };
        }
        match bracket_depth(code.body) {
            Some(0) => Completeness::Complete,
            Some(depth) => Completeness::Incomplete {
                indent: "    ".repeat(depth.min(8)),
            },
            None => Completeness::Invalid,
        }
    }
}

/// The error every Rust cell gets from a build without the feature.
fn not_built(what: &str) -> CellError {
    CellError {
        ename: "RustCellsNotBuilt".into(),
        evalue: format!(
            "`{what}` needs Rust cells, and this sled-kernel was built without the `rust-cells` feature"
        ),
        traceback: vec![
            format!("`{what}` needs Rust cells, and this sled-kernel was built without the `rust-cells` cargo feature."),
            "Rebuild with it (it is on by default; --no-default-features turns it off):".into(),
            "    cargo build --release --locked --features rust-cells".into(),
            "then install the kernel again (./install.sh) and restart it.".into(),
        ],
    }
}

/// Open `(`/`[`/`{` minus closed ones, skipping string and char literals
/// and comments; `None` when a closer has no opener.
fn bracket_depth(code: &str) -> Option<usize> {
    let chars: Vec<char> = code.chars().collect();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= chars.len() {
                    // An open string: more lines to come.
                    return Some(depth + 1);
                }
            }
            // A char literal ('x', '\n'), not a lifetime ('a).
            '\'' if chars.get(i + 2) == Some(&'\'') => i += 2,
            '\'' if chars.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    Some(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(magic: Option<Magic<'_>>) -> RustCode<'_> {
        match magic {
            Some(Magic::Cell(code)) => code,
            other => panic!("not a Rust cell: {other:?}"),
        }
    }

    #[test]
    fn kv_cells_are_not_ours() {
        assert_eq!(Magic::parse("get k"), None);
        assert_eq!(Magic::parse(""), None);
        assert_eq!(Magic::parse("\n\n"), None);
        assert_eq!(Magic::parse("%reset"), None);
        assert_eq!(Magic::parse("echo %%rust"), None);
        assert_eq!(Magic::parse("%%rusty\nfn x() {}"), None);
    }

    #[test]
    fn a_rust_cell_is_the_code_under_its_first_line() {
        let text = "%%rust\nlet x = 1;\nx + 1";
        let code = cell(Magic::parse(text));
        assert_eq!(code.body, "let x = 1;\nx + 1");
        assert_eq!(code.offset, 7);
        assert_eq!(code.first_line, 2);
        assert_eq!(&text[code.offset..], code.body);

        let code = cell(Magic::parse("\n  %%RUST  \r\nprintln!()"));
        assert_eq!(code.body, "println!()");
        assert_eq!(code.first_line, 3);

        assert_eq!(cell(Magic::parse("%%rust")).body, "");
    }

    #[test]
    fn line_magics_must_be_alone() {
        assert_eq!(Magic::parse("%rust reset"), Some(Magic::Reset));
        assert_eq!(Magic::parse("%rust start"), Some(Magic::Start));
        assert_eq!(Magic::parse("%rust deps\n\n# comment\n"), Some(Magic::Deps));
        assert_eq!(Magic::parse("%Rust DEPS"), Some(Magic::Deps));
        let Some(Magic::Invalid(e)) = Magic::parse("%rust reset\nget k") else {
            panic!("a reset with a KV line after it is an error");
        };
        assert!(e.evalue.contains("must be alone"), "{e:?}");
        assert!(e.traceback[0].starts_with("line 2:"), "{e:?}");
    }

    #[test]
    fn wrong_magics_say_what_to_write() {
        let Some(Magic::Invalid(e)) = Magic::parse("%rust frobnicate") else {
            panic!("unknown subcommand accepted");
        };
        assert!(e.evalue.contains("frobnicate"));
        assert!(e.traceback[1].contains("%rust reset"));
        let Some(Magic::Invalid(e)) = Magic::parse("%rust") else {
            panic!("bare %rust accepted");
        };
        assert_eq!(e.ename, "RustMagicError");
        let Some(Magic::Invalid(e)) = Magic::parse("%%rust --release\nfn f() {}") else {
            panic!("arguments to %%rust accepted");
        };
        assert!(e.evalue.contains("no arguments"), "{e:?}");
    }

    #[test]
    fn cache_magics_show_clear_and_switch() {
        assert_eq!(
            Magic::parse("%rust cache"),
            Some(Magic::Cache(CacheCommand::Show))
        );
        assert_eq!(
            Magic::parse("%rust cache Clear"),
            Some(Magic::Cache(CacheCommand::Clear))
        );
        assert_eq!(
            Magic::parse("%RUST CACHE off"),
            Some(Magic::Cache(CacheCommand::Off))
        );
        assert_eq!(
            Magic::parse("%rust cache on\n# back on"),
            Some(Magic::Cache(CacheCommand::On))
        );
        let Some(Magic::Invalid(e)) = Magic::parse("%rust cache wipe") else {
            panic!("unknown cache command accepted");
        };
        assert!(e.evalue.contains("wipe"), "{e:?}");
        assert!(e.traceback[1].contains("%rust cache clear"), "{e:?}");
        let Some(Magic::Invalid(e)) = Magic::parse("%rust cache clear now") else {
            panic!("extra words accepted");
        };
        assert!(e.evalue.contains("cache clear now"), "{e:?}");
    }

    #[cfg(not(feature = "rust-cells"))]
    #[test]
    fn without_the_feature_the_cache_magic_says_so() {
        let mut rust = RustCells::new();
        let e = rust
            .cache(
                CacheCommand::Show,
                &mut crate::interpreter::Discard,
                &Interrupt::new(),
            )
            .unwrap_err();
        assert_eq!(e.ename, "RustCellsNotBuilt");
        assert!(e.evalue.contains("%rust cache"), "{e:?}");
        assert!(warm().unwrap_err().to_string().contains("rust-cells"));
    }

    #[test]
    fn completeness_follows_brackets_outside_strings_and_comments() {
        let check = |text: &str| RustCells::is_complete(cell(Magic::parse(text)));
        assert_eq!(check("%%rust\nlet x = 1;"), Completeness::Complete);
        assert_eq!(
            check("%%rust\nfn f() {\n    if x {"),
            Completeness::Incomplete {
                indent: "        ".into()
            }
        );
        assert_eq!(
            check("%%rust\nlet s = \"{(\"; // {\nlet c = '{'; /* ( */"),
            Completeness::Complete
        );
        assert_eq!(
            check("%%rust\nfn f<'a>(x: &'a str) -> &'a str { x }"),
            Completeness::Complete
        );
        assert_eq!(check("%%rust\n}"), Completeness::Invalid);
        assert!(matches!(check("%%rust\n"), Completeness::Incomplete { .. }));
        assert!(matches!(
            check("%%rust\nlet s = \"open"),
            Completeness::Incomplete { .. }
        ));
    }

    #[cfg(not(feature = "rust-cells"))]
    #[test]
    fn without_the_feature_rust_cells_name_it() {
        use crate::interpreter::Discard;
        let interrupt = Interrupt::new();
        let mut kv = Interpreter::new(interrupt.clone()).unwrap();
        let mut rust = RustCells::new();
        for text in ["%%rust\nprintln!(\"hi\");", "%rust reset", "%rust deps"] {
            let magic = Magic::parse(text).unwrap();
            let error = rust
                .run(magic, &mut kv, &mut Discard, &interrupt)
                .unwrap_err();
            assert_eq!(error.ename, "RustCellsNotBuilt");
            let text = error.traceback.join("\n");
            assert!(text.contains("--features rust-cells"), "{text}");
            assert!(error.evalue.contains("`rust-cells` feature"), "{error:?}");
        }
        // The KV side is untouched: nothing was suspended or broken.
        assert!(kv.execute("echo still here", &mut Discard).is_ok());
    }
}
