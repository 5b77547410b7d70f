//! The `%rust` magics: which cells belong to the Rust side ([`Magic::parse`])
//! and whether one looks finished ([`Magic::is_complete`]).

use super::brackets;
use crate::cell::{CellError, IsComplete};

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

    /// Whether a cell for this side looks finished: a `%%rust` cell when its
    /// brackets are balanced outside strings and comments and there is code
    /// under the `%%rust` line; a `%rust` line when it is right.
    pub fn is_complete(&self) -> IsComplete {
        let code = match self {
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
        match brackets::depth(code.body) {
            Some(0) => IsComplete::Complete,
            Some(depth) => IsComplete::Incomplete {
                indent: "    ".repeat(depth.min(8)),
            },
            None => IsComplete::Invalid,
        }
    }
}

fn usage_error(line: usize, what: String, fix: &str) -> CellError {
    CellError {
        ename: "RustMagicError".into(),
        evalue: what.clone(),
        traceback: vec![format!("line {line}: {what}"), fix.to_string()],
    }
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
        let check = |text: &str| Magic::parse(text).unwrap().is_complete();
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
}
