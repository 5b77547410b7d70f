//! Rust cells: a cell whose first line is `%%rust` is Rust code, evaluated by
//! an `evcxr` context that lives for the session, next to the KV cells and
//! against the same sled database on disk.
//!
//! * [`Magic::parse`] decides whether a cell belongs here: `%%rust` (Rust
//!   code), `%rust reset`, `%rust deps`, `%rust cache`, `%rust start` or
//!   `%rust stop`.
//! * [`RustCells`] owns the evcxr context, started by the first Rust cell
//!   or ahead of it, on a thread of its own, by `%rust start` (`ahead.rs`
//!   holds it, `engine.rs` is the context). With the `rust-cells` cargo
//!   feature off, a stand-in (`not_built.rs`) takes the place of both and
//!   answers every Rust cell with an error naming the feature.
//! * [`run`], [`complete`], [`inspect`] and [`is_complete`] answer what the
//!   shell asks of a cell that [`Magic::parse`] gave to this side
//!   (`engine.rs` at the top of the crate decides that, once per request).
//!
//! The hand-off: sled lets one process hold a database at a time, and evcxr
//! runs Rust code in a child process. So before Rust code runs, the KV
//! interpreter flushes and closes its handle (the `take_db` that [`run`] is
//! given does that); the next KV cell reopens it, or reports
//! `DatabaseLocked` while Rust code still holds it.
//!
//! The Rust cache: crates the Rust cells compiled (sled above all) are kept
//! between kernels, in a directory several kernels may share; `cache.rs`
//! stores them, `wrapper.rs` is the rustc wrapper cargo runs, `cache_use.rs`
//! how a kernel uses and reports it, and `sled-kernel warm` ([`warm`])
//! fills it before class.

use std::path::{Path, PathBuf};

use crate::cell::{CellError, Completion, Interrupt, IsComplete, MimeBundle, Output};

#[cfg(all(feature = "rust-cells", windows))]
compile_error!(
    "Rust cells (the `rust-cells` feature, on by default) are not available on Windows: evcxr's \
     Windows support is incomplete. Build with --no-default-features; KV cells work in full."
);

#[cfg(feature = "rust-cells")]
mod ahead;
#[cfg(feature = "rust-cells")]
mod cache;
#[cfg(feature = "rust-cells")]
mod cache_use;
#[cfg(feature = "rust-cells")]
mod engine;
#[cfg(feature = "rust-cells")]
mod memory;
#[cfg(not(feature = "rust-cells"))]
mod not_built;
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

/// The Rust side of a session: evcxr's context (`engine.rs`), started by
/// the first Rust cell or in the background by `%rust start` (`ahead.rs`).
/// A build without the `rust-cells` feature has a stand-in with the same
/// methods instead (`not_built.rs`), which answers every Rust cell with an
/// error naming the feature.
#[cfg(feature = "rust-cells")]
pub use ahead::Ahead as RustCells;
#[cfg(not(feature = "rust-cells"))]
pub use not_built::NotBuilt as RustCells;

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

#[cfg(not(feature = "rust-cells"))]
pub use not_built::warm;
/// `sled-kernel warm`: starts a Rust context the way the first `%%rust`
/// cell does, so that what it compiles lands in the Rust cache; returns
/// what to tell the user (`warm.rs`, or the stand-in's refusal).
#[cfg(feature = "rust-cells")]
pub use warm::warm;

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
    /// `%rust stop`: end the Rust context now and give its memory back.
    Stop,
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
            [word] if word.eq_ignore_ascii_case("stop") => Magic::Stop,
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
                    "Use `%rust start`, `%rust stop`, `%rust reset`, `%rust deps` or `%rust cache`; Rust code goes in a cell whose first line is `%%rust`.",
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

/// Runs what [`Magic::parse`] found. For a `%%rust` cell, `take_db` is
/// called before the Rust code runs: it makes the KV interpreter flush and
/// close the session database, and says where the database is. `db_path`
/// is where it is without taking it (what `%rust start` sets `DB_PATH` to
/// while KV cells go on with the database).
pub fn run(
    rust: &mut RustCells,
    magic: Magic<'_>,
    db_path: &Path,
    take_db: &mut dyn FnMut() -> Result<PathBuf, CellError>,
    out: &mut dyn Output,
    interrupt: &Interrupt,
) -> Result<Option<MimeBundle>, CellError> {
    match magic {
        Magic::Invalid(error) => Err(error),
        Magic::Cell(code) => rust.execute(code, take_db, out, interrupt),
        // `%rust reset`: drops every variable, function, type and `:dep`
        // the Rust cells made, and stops the process holding them (which
        // releases the database); compiled crates are kept.
        Magic::Reset => rust.reset(out, interrupt),
        // `%rust deps`: the crates Rust cells can use.
        Magic::Deps => rust.deps(out, interrupt),
        // `%rust cache …`: the compiled-crate cache Rust cells share.
        Magic::Cache(command) => rust.cache(command, out, interrupt),
        // `%rust start`: the context starts on a thread of its own and this
        // returns at once; KV cells go on, the first Rust cell waits for
        // what is left of the start.
        Magic::Start => rust.start(db_path, out),
        // `%rust stop`: ends the context (its variables, its process and
        // rust-analyzer's analysis) and gives its memory back.
        Magic::Stop => rust.stop(out, interrupt),
    }
}

/// Completions from evcxr (rust-analyzer) inside a `%%rust` cell;
/// `cursor_pos` counts code points from the start of the cell. None until
/// the context has started (starting it takes seconds with a warm Rust
/// cache and a minute without, too long to hold a completion request), and
/// none on a `%rust …` line.
pub fn complete(
    rust: &mut RustCells,
    magic: &Magic<'_>,
    cell: &str,
    cursor_pos: usize,
) -> Completion {
    let found = match magic {
        Magic::Cell(code) => rust.complete(*code, cell, cursor_pos),
        Magic::Reset
        | Magic::Deps
        | Magic::Cache(_)
        | Magic::Start
        | Magic::Stop
        | Magic::Invalid(_) => None,
    };
    found.unwrap_or(Completion {
        matches: Vec::new(),
        cursor_start: cursor_pos,
        cursor_end: cursor_pos,
    })
}

/// Documentation, from rust-analyzer, of what ends at the cursor in a
/// `%%rust` cell.
pub fn inspect(
    rust: &mut RustCells,
    magic: &Magic<'_>,
    cell: &str,
    cursor_pos: usize,
) -> Option<MimeBundle> {
    match magic {
        Magic::Cell(code) => rust.inspect(*code, cell, cursor_pos),
        Magic::Reset
        | Magic::Deps
        | Magic::Cache(_)
        | Magic::Start
        | Magic::Stop
        | Magic::Invalid(_) => None,
    }
}

/// Whether a cell for this side looks finished: a `%%rust` cell when its
/// brackets are balanced outside strings and comments and there is code
/// under the `%%rust` line; a `%rust` line when it is right.
pub fn is_complete(magic: &Magic<'_>) -> IsComplete {
    let code = match magic {
        Magic::Cell(code) => code,
        Magic::Reset | Magic::Deps | Magic::Cache(_) | Magic::Start | Magic::Stop => {
            return IsComplete::Complete
        }
        Magic::Invalid(_) => return IsComplete::Invalid,
    };
    if code.body.trim().is_empty() {
        return IsComplete::Incomplete {
            indent: String::new(),
        };
    }
    match bracket_depth(code.body) {
        Some(0) => IsComplete::Complete,
        Some(depth) => IsComplete::Incomplete {
            indent: "    ".repeat(depth.min(8)),
        },
        None => IsComplete::Invalid,
    }
}

/// Open `(`/`[`/`{` minus closed ones, outside comments and string and
/// char literals; `None` when a closer has no opener. Code that stops inside
/// a string or a block comment counts one level more: more lines are to
/// come.
///
/// It reads Rust's tokens as far as brackets need: line comments, nested
/// block comments, string literals with their escapes, raw strings
/// (`r"…"`, `r#"…"#`, `br"…"`, `cr"…"`), char and byte literals (`'{'`,
/// `b'\''`, `'\u{7b}'`) and lifetimes (`'a`, `'static`). Words (names,
/// numbers, raw identifiers like `r#match`) are skipped whole, so a raw
/// string is only one where a word could start.
fn bracket_depth(code: &str) -> Option<usize> {
    let chars: Vec<char> = code.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            '/' if at(i + 1) == Some('/') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                // Block comments nest in Rust.
                let mut open = 1;
                i += 2;
                while open > 0 {
                    match (at(i), at(i + 1)) {
                        (None, _) => return Some(depth + 1),
                        (Some('/'), Some('*')) => {
                            open += 1;
                            i += 2;
                        }
                        (Some('*'), Some('/')) => {
                            open -= 1;
                            i += 2;
                        }
                        _ => i += 1,
                    }
                }
                continue;
            }
            '"' => match closing_quote(&chars, i + 1) {
                Some(end) => i = end,
                None => return Some(depth + 1),
            },
            '\'' => {
                if at(i + 1) == Some('\\') {
                    // An escaped char: '\n', '\'', '\u{7b}'. The character
                    // after the backslash is never the closing quote.
                    let mut j = i + 3;
                    while at(j).is_some_and(|c| c != '\'' && c != '\n') {
                        j += 1;
                    }
                    i = j;
                } else if at(i + 2) == Some('\'') {
                    // A char: 'x', '{'.
                    i += 2;
                }
                // Otherwise a lifetime or a label ('a, 'outer): its name is
                // a word, skipped next.
            }
            c if is_word(c) => {
                if let Some(end) = raw_string(&chars, i) {
                    match end {
                        Some(end) => i = end,
                        None => return Some(depth + 1),
                    }
                } else {
                    // b"…" and b'…' end the word at their quote, which is
                    // read as any other quote.
                    while at(i + 1).is_some_and(is_word) {
                        i += 1;
                    }
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

/// The index of the `"` that closes a string whose text starts at `from`
/// (escapes skipped), if it is closed.
fn closing_quote(chars: &[char], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => i += 2,
            '"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether a raw string starts at `start` (`r"`, `r#"`, `br##"`, `cr"`):
/// `None` if not; `Some(Some(end))` with the index of its last character,
/// or `Some(None)` when it is never closed.
fn raw_string(chars: &[char], start: usize) -> Option<Option<usize>> {
    let mut i = start;
    if matches!(chars.get(i), Some('b' | 'c')) {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    i += hashes;
    if chars.get(i) != Some(&'"') {
        // `r#match` and plain words.
        return None;
    }
    let closing: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = i + 1;
    Some(
        (body..=chars.len().saturating_sub(closing.len()))
            .find(|&j| chars[j..].starts_with(&closing))
            .map(|j| j + closing.len() - 1),
    )
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
        assert_eq!(Magic::parse("%Rust STOP"), Some(Magic::Stop));
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

    #[test]
    fn completeness_follows_brackets_outside_strings_and_comments() {
        let check = |text: &str| is_complete(&Magic::parse(text).unwrap());
        assert_eq!(check("%%rust\nlet x = 1;"), IsComplete::Complete);
        assert_eq!(
            check("%%rust\nfn f() {\n    if x {"),
            IsComplete::Incomplete {
                indent: "        ".into()
            }
        );
        assert_eq!(
            check("%%rust\nlet s = \"{(\"; // {\nlet c = '{'; /* ( */"),
            IsComplete::Complete
        );
        assert_eq!(
            check("%%rust\nfn f<'a>(x: &'a str) -> &'a str { x }"),
            IsComplete::Complete
        );
        assert_eq!(check("%%rust\n}"), IsComplete::Invalid);
        assert!(matches!(check("%%rust\n"), IsComplete::Incomplete { .. }));
        assert!(matches!(
            check("%%rust\nlet s = \"open"),
            IsComplete::Incomplete { .. }
        ));
    }

    #[test]
    fn brackets_inside_raw_strings_bytes_chars_and_comments_do_not_count() {
        let check = |body: &str| is_complete(&Magic::parse(&format!("%%rust\n{body}")).unwrap());
        for complete in [
            r##"let s = r#"a"{"#;"##,
            r#"let s = r"{(";"#,
            r###"let s = br##"}"# still inside {"##;"###,
            r#"let s = b"{";"#,
            r#"let c = b'{';"#,
            r#"let c = '{';"#,
            r#"let c = '\'';"#,
            r#"let c = '\u{7b}';"#,
            r#"let pair = ['\'', '}', '\\', ']'];"#,
            r#"let s = "a \" {";"#,
            r#"let s = "\\"; let t = ();"#,
            "fn f<'a>(x: &'a str) -> &'a str { x }",
            "'outer: loop { break 'outer; }",
            "let r#match = 1; let r2d2 = [r#match];",
            "/* { /* nested { */ still a comment ( */ let x = 1;",
            "// { only a comment\nlet x = (1);",
            "let n = 0b1010 + 0xff_u8 as i32;",
        ] {
            assert_eq!(check(complete), IsComplete::Complete, "{complete}");
        }
        for open in [
            r##"let s = r#"a"{""##,
            "let s = r\"never closed",
            "/* an open comment",
            "/* /* */ still open",
            "fn f() { let c = '}';",
        ] {
            assert!(
                matches!(check(open), IsComplete::Incomplete { .. }),
                "{open}"
            );
        }
        assert_eq!(check("let c = '}'; }"), IsComplete::Invalid);
    }

    #[cfg(not(feature = "rust-cells"))]
    #[test]
    fn without_the_feature_rust_cells_name_it() {
        use crate::cell::Discard;
        let interrupt = Interrupt::new();
        let mut rust = RustCells;
        let mut asked_for_the_database = 0;
        for text in [
            "%%rust\nprintln!(\"hi\");",
            "%rust reset",
            "%rust deps",
            "%rust cache",
            "%rust cache clear",
            "%rust start",
            "%rust stop",
        ] {
            let magic = Magic::parse(text).unwrap();
            let mut take_db = || {
                asked_for_the_database += 1;
                Ok(PathBuf::new())
            };
            let error = run(
                &mut rust,
                magic,
                Path::new("db"),
                &mut take_db,
                &mut Discard,
                &interrupt,
            )
            .unwrap_err();
            assert_eq!(error.ename, "RustCellsNotBuilt");
            assert!(
                error
                    .evalue
                    .starts_with("Rust cells are not available in this build"),
                "{error:?}"
            );
            assert!(error.evalue.contains("`rust-cells` feature"), "{error:?}");
            let text = error.traceback.join("\n");
            assert!(text.contains("the Linux and macOS wheels"), "{text}");
            if cfg!(windows) {
                assert!(text.contains("KV cells work in full here"), "{text}");
            } else {
                assert!(text.contains("--features rust-cells"), "{text}");
            }
        }
        // The KV side is untouched: the database was never asked for.
        assert_eq!(asked_for_the_database, 0);
        // Nor is there a Rust cache to warm.
        let warm = warm().unwrap_err().to_string();
        assert!(warm.contains("`rust-cells` feature"), "{warm}");
    }
}
