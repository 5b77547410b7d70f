//! Arguments: from the words after a command to typed values, by the
//! parameter kinds the command table gives each slot, with errors that
//! point at the word and say what was expected.

use std::ops::Bound;
use std::time::Duration;

use super::command::{self, CommandSpec, Param};
use super::errors::{ErrorKind, Problem};
use super::lexer::{self, Form, Word};
use super::span::Span;

/// A decoded argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Bytes(Vec<u8>),
    /// `-` (absent) or a value, for `compare_and_swap`.
    Maybe(Option<Vec<u8>>),
    Range(KeyRange),
    Int(i64),
    Count(usize),
    Seconds(Duration),
    Text(String),
    Topic(&'static CommandSpec),
}

/// The bounds of a `range`, as sled takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub lo: Bound<Vec<u8>>,
    pub hi: Bound<Vec<u8>>,
}

impl KeyRange {
    pub fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_slice(&self.lo), as_slice(&self.hi))
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(b) => Bound::Included(b.as_slice()),
        Bound::Excluded(b) => Bound::Excluded(b.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// `limit N` and `rev` on a row read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    pub limit: Option<usize>,
    pub rev: bool,
}

/// Decodes the word in a slot of kind `param`.
pub fn decode(param: Param, word: &Word) -> Result<Arg, Problem> {
    // A range is decoded bound by bound; the whole word is not one value.
    if param == Param::Range {
        return range(word).map(Arg::Range);
    }
    if matches!(param, Param::Old | Param::New) && word.form == Form::Bare && word.text == "-" {
        return Ok(Arg::Maybe(None));
    }
    let bytes = lexer::decode(word)?;
    match param {
        Param::Key | Param::Value | Param::Prefix | Param::Tree => Ok(Arg::Bytes(bytes)),
        Param::Old | Param::New => Ok(Arg::Maybe(Some(bytes))),
        Param::Range => range(word).map(Arg::Range),
        Param::Delta => text(&bytes)
            .and_then(|s| s.parse::<i64>().ok())
            .map(Arg::Int)
            .ok_or_else(|| {
                not_a(
                    word,
                    "whole number",
                    "a whole number such as 5 or -2",
                    "N, a whole number",
                )
            }),
        Param::Rows => text(&bytes)
            .and_then(|s| s.parse::<usize>().ok())
            .map(Arg::Count)
            .ok_or_else(|| {
                not_a(
                    word,
                    "number of rows",
                    "a whole number such as 10 (0 shows none)",
                    "N, a whole number of rows",
                )
            }),
        Param::Seconds => text(&bytes)
            .and_then(|s| s.trim().parse::<f64>().ok())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .map(Arg::Seconds)
            .ok_or_else(|| {
                not_a(
                    word,
                    "number of seconds",
                    "a non-negative number such as 0.5",
                    "SECONDS, a number like 2 or 0.25",
                )
            }),
        Param::Dir | Param::File => match String::from_utf8(bytes) {
            Ok(path) if !path.is_empty() => Ok(Arg::Text(path)),
            Ok(_) => Err(Problem::new(
                ErrorKind::Argument,
                word.span,
                "An empty path names no file; write the path, quoted if it has spaces.",
            )
            .expected("a path such as ./data.jsonl")),
            Err(_) => Err(Problem::new(
                ErrorKind::Argument,
                word.span,
                "A path must be text, and these bytes are not UTF-8.",
            )
            .expected("a path such as ./data.jsonl")),
        },
        Param::Topic => {
            let name = String::from_utf8_lossy(&bytes).into_owned();
            command::lookup_topic(&name).map(Arg::Topic).ok_or_else(|| {
                let problem = Problem::new(
                    ErrorKind::Argument,
                    word.span,
                    match command::suggest(&name) {
                        Some(near) => {
                            format!("There is no command `{name}`; did you mean `{near}`?")
                        }
                        None => {
                            format!("There is no command `{name}`; `%help` alone lists them all.")
                        }
                    },
                )
                .expected("a command or magic name, like get or %open");
                match command::suggest(&name) {
                    Some(near) => problem.help(format!("did you mean `{near}`?")),
                    None => problem,
                }
            })
        }
    }
}

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

fn not_a(word: &Word, what: &str, write: &str, expected: &str) -> Problem {
    Problem::new(
        ErrorKind::Argument,
        word.span,
        format!("`{}` is not a {what}; write {write}.", word.text),
    )
    .expected(expected)
}

const RANGE_FORMS: &str = "A..B, A..=B, A.. or ..B";

/// `a..b`, `a..=b`, `a..`, `..b`, `..`, with bounds in any word form.
fn range(word: &Word) -> Result<KeyRange, Problem> {
    let Some(parts) = lexer::split_range(word) else {
        if !word.terminated {
            // An unclosed quote: that is the thing to fix first.
            lexer::decode(word)?;
        }
        return Err(Problem::new(
            ErrorKind::Argument,
            word.span,
            format!(
                "`{}` is not a range; write two keys with `..` between them (`..=` to include the second).",
                word.text
            ),
        )
        .expected(RANGE_FORMS)
        .help(format!("for keys starting with {}, use `scan_prefix`", word.text)));
    };
    let lo = match &parts.lo {
        Some(w) => Bound::Included(lexer::decode(w)?),
        None => Bound::Unbounded,
    };
    let hi = match (&parts.hi, parts.inclusive) {
        (Some(w), false) => Bound::Excluded(lexer::decode(w)?),
        (Some(w), true) => Bound::Included(lexer::decode(w)?),
        (None, false) => Bound::Unbounded,
        (None, true) => {
            return Err(Problem::new(
                ErrorKind::Argument,
                parts.dots,
                "`..=` includes its upper bound, so it needs one after it.",
            )
            .expected("a key after ..=")
            .help("for everything from A on, write A.."));
        }
    };
    Ok(KeyRange { lo, hi })
}

/// The words after the positional arguments of a row read: `rev` and
/// `limit N`, each at most once, in any order.
pub fn options(spec: &CommandSpec, words: &[Word]) -> Result<ReadOptions, Problem> {
    let mut options = ReadOptions::default();
    let mut seen_rev: Option<Span> = None;
    let mut seen_limit: Option<Span> = None;
    let mut rest = words.iter();
    while let Some(word) = rest.next() {
        let name = if word.form == Form::Bare {
            word.text.to_ascii_lowercase()
        } else {
            String::new()
        };
        match name.as_str() {
            "rev" => {
                if seen_rev.is_some() {
                    return Err(twice(spec, word, "rev"));
                }
                seen_rev = Some(word.span);
                options.rev = true;
            }
            "limit" => {
                if seen_limit.is_some() {
                    return Err(twice(spec, word, "limit"));
                }
                seen_limit = Some(word.span);
                let Some(n) = rest.next() else {
                    return Err(Problem::new(
                        ErrorKind::Argument,
                        Span::at(word.span.end),
                        "`limit` needs the number of rows to read after it, like `limit 10`.",
                    )
                    .expected("N, a whole number")
                    .usage(spec.syntax()));
                };
                let parsed = lexer::decode(n)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| s.parse::<usize>().ok());
                match parsed {
                    Some(count) => options.limit = Some(count),
                    None => {
                        return Err(not_a(
                            n,
                            "number of rows",
                            "a whole number such as 10",
                            "N, a whole number",
                        )
                        .usage(spec.syntax()))
                    }
                }
            }
            _ => {
                let takes = match spec.max_params() {
                    0 => "takes no key".to_string(),
                    1 => format!("takes one {}", spec.param(0).map_or("", Param::placeholder)),
                    _ => "takes its arguments".to_string(),
                };
                return Err(Problem::new(
                    ErrorKind::Argument,
                    word.span,
                    format!(
                        "`{}` is not an option of `{}`, which {takes} and then only `limit N` or `rev`.",
                        word.text, spec.name
                    ),
                )
                .expected("limit N, rev or the end of the line")
                .usage(spec.syntax()));
            }
        }
    }
    Ok(options)
}

fn twice(spec: &CommandSpec, word: &Word, option: &str) -> Problem {
    Problem::new(
        ErrorKind::Argument,
        word.span,
        format!("`{option}` is given twice; give it once."),
    )
    .usage(spec.syntax())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::language::lexer::Scanner;

    fn word(src: &str) -> Word<'_> {
        let mut s = Scanner::new(src);
        assert!(s.start_statement());
        s.next_word().unwrap()
    }

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn range_of(src: &str) -> KeyRange {
        match decode(Param::Range, &word(src)) {
            Ok(Arg::Range(r)) => r,
            other => panic!("{src}: {other:?}"),
        }
    }

    #[test]
    fn every_bound_form() {
        use Bound::*;
        let r = |lo, hi| KeyRange { lo, hi };
        assert_eq!(range_of("a..c"), r(Included(b("a")), Excluded(b("c"))));
        assert_eq!(range_of("a..=c"), r(Included(b("a")), Included(b("c"))));
        assert_eq!(range_of("a.."), r(Included(b("a")), Unbounded));
        assert_eq!(range_of("..c"), r(Unbounded, Excluded(b("c"))));
        assert_eq!(range_of("..=c"), r(Unbounded, Included(b("c"))));
        assert_eq!(range_of(".."), r(Unbounded, Unbounded));
        assert_eq!(
            range_of(r#""a b".."c d""#),
            r(Included(b("a b")), Excluded(b("c d")))
        );
        assert_eq!(
            range_of(r#"'x'..=b"\xff""#),
            r(Included(b("x")), Included(vec![0xff]))
        );
        assert_eq!(
            range_of("0x00..0x0a"),
            r(Included(vec![0]), Excluded(vec![10]))
        );
        assert_eq!(
            range_of(r#""a..b".."c""#),
            r(Included(b("a..b")), Excluded(b("c"))),
            "dots inside quotes are text"
        );
    }

    #[test]
    fn bad_ranges_say_what_a_range_looks_like() {
        let e = decode(Param::Range, &word("todo:")).unwrap_err();
        assert!(e.message.contains("not a range"), "{}", e.message);
        assert!(e.notes.iter().any(|n| n.contains("A..=B")));
        let e = decode(Param::Range, &word("a..=")).unwrap_err();
        assert_eq!((e.span.start.col, e.span.end.col), (1, 4));
        let e = decode(Param::Range, &word("a..0xzz")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.span.start.col, 5);
    }

    #[test]
    fn cas_values_and_absent() {
        assert_eq!(decode(Param::Old, &word("-")), Ok(Arg::Maybe(None)));
        assert_eq!(
            decode(Param::New, &word("\"-\"")),
            Ok(Arg::Maybe(Some(b("-"))))
        );
        assert_eq!(decode(Param::Value, &word("-")), Ok(Arg::Bytes(b("-"))));
    }

    #[test]
    fn numbers() {
        assert_eq!(decode(Param::Delta, &word("-3")), Ok(Arg::Int(-3)));
        assert!(decode(Param::Delta, &word("1.5")).is_err());
        assert_eq!(decode(Param::Rows, &word("0")), Ok(Arg::Count(0)));
        let e = decode(Param::Rows, &word("-1")).unwrap_err();
        assert!(e.message.contains("not a number of rows"), "{}", e.message);
    }

    #[test]
    fn topics_and_paths() {
        assert!(matches!(
            decode(Param::Topic, &word("open")),
            Ok(Arg::Topic(spec)) if spec.name == "%open"
        ));
        let e = decode(Param::Topic, &word("gte")).unwrap_err();
        assert!(e.message.contains("did you mean `get`?"), "{}", e.message);
        assert_eq!(
            decode(Param::File, &word("'my file.csv'")),
            Ok(Arg::Text("my file.csv".into()))
        );
        assert!(decode(Param::File, &word("\"\"")).is_err());
        assert!(decode(Param::File, &word("0xff")).is_err());
    }

    fn words(src: &str) -> Vec<Word<'_>> {
        let mut s = Scanner::new(src);
        let mut out = Vec::new();
        s.start_statement();
        while let Some(w) = s.next_word() {
            out.push(w);
        }
        out
    }

    #[test]
    fn read_options() {
        let iter = command::lookup("iter").unwrap();
        assert_eq!(options(iter, &[]), Ok(ReadOptions::default()));
        assert_eq!(
            options(iter, &words("rev limit 3")),
            Ok(ReadOptions {
                limit: Some(3),
                rev: true
            })
        );
        assert_eq!(
            options(iter, &words("LIMIT 0")),
            Ok(ReadOptions {
                limit: Some(0),
                rev: false
            })
        );
        let e = options(iter, &words("rev rev")).unwrap_err();
        assert!(e.message.contains("twice"));
        let e = options(iter, &words("limit")).unwrap_err();
        assert!(e.message.contains("needs the number"));
        let e = options(iter, &words("limit x")).unwrap_err();
        assert_eq!(e.span.start.col, 6);
        let e = options(iter, &words("todo:")).unwrap_err();
        assert!(
            e.message
                .contains("not an option of `iter`, which takes no key"),
            "{}",
            e.message
        );
        assert!(e.notes.contains(&"usage: iter [limit N] [rev]".to_string()));
    }
}
