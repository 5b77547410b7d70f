//! Arguments: from the words after a command to typed values, by the
//! parameter kinds the command table gives each slot, with errors that
//! point at the word and say what was expected.

use std::ops::Bound;
use std::time::Duration;

use super::command::{self, CommandSpec, Param};
use super::errors::{ErrorKind, Problem};
use super::lexer::{self, Form, Word};
use super::span::Span;
// The values arguments decode to are part of the tree (`syntax.rs`);
// re-exported so their users name them as arguments.
pub(crate) use super::syntax::{Damage, KeyRange, ReadHow, ReadOptions};

/// A decoded argument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Bytes(Vec<u8>),
    /// `-` (absent) or a value, for `compare_and_swap`.
    Maybe(Option<Vec<u8>>),
    Range(KeyRange),
    Int(i64),
    Count(usize),
    Seconds(Duration),
    Text(String),
    Topic(&'static CommandSpec),
    /// `value=V` (`%sample_file`).
    SampleValue(Vec<u8>),
    Damage(Damage),
    ReadHow(ReadHow),
}

/// `Arg::bytes(arg)` and its kin: the value of one kind of argument, or
/// `None` for another kind (the builder then reports the mismatch).
macro_rules! picks {
    ($($name:ident: $variant:ident -> $value:ty,)*) => {
        impl Arg {
            $(
                pub(crate) fn $name(self) -> Option<$value> {
                    match self {
                        Arg::$variant(value) => Some(value),
                        _ => None,
                    }
                }
            )*
        }
    };
}

picks! {
    bytes: Bytes -> Vec<u8>,
    maybe: Maybe -> Option<Vec<u8>>,
    range: Range -> KeyRange,
    int: Int -> i64,
    count: Count -> usize,
    seconds: Seconds -> Duration,
    text: Text -> String,
    topic: Topic -> &'static CommandSpec,
    sample_value: SampleValue -> Vec<u8>,
    damage: Damage -> Damage,
    read_how: ReadHow -> ReadHow,
}

/// Decodes the word in a slot of kind `param`.
pub(crate) fn decode(param: Param, word: &Word<'_>) -> Result<Arg, Problem> {
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
        Param::FlushEvery => flush_every(word, &bytes),
        Param::SampleValue => match text(&bytes).and_then(|t| t.split_once('=')) {
            Some((name, v)) if name.trim().eq_ignore_ascii_case("value") => {
                Ok(Arg::SampleValue(v.as_bytes().to_vec()))
            }
            _ => Err(Problem::new(
                ErrorKind::Argument,
                word.span,
                format!(
                    "`{}` is not `value=V`; write the value every pair should hold, like `value=100`.",
                    lexer::shown(word.text)
                ),
            )
            .expected("value=V")
            .usage("%sample_file FILE N [PREFIX] [value=V]")),
        },
        Param::Damage => damage(word, &bytes),
        Param::Times => text(&bytes)
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|n| (1..=MOST_TIMES).contains(n))
            .map(Arg::Count)
            .ok_or_else(|| {
                not_a(
                    word,
                    "number of times from 1 to 100,000",
                    "how many times, such as 1000, or `scan` or `transaction`",
                    "N, a whole number from 1 to 100000",
                )
            }),
        Param::ReadHow => read_how(word).ok_or_else(|| {
            Problem::new(
                ErrorKind::Argument,
                word.span,
                format!(
                    "`{}` is not a way to read; write `scan` (one scan_prefix, the default) or `transaction` (a get of every key in one transaction).",
                    lexer::shown(word.text)
                ),
            )
            .expected("scan or transaction")
        }),
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

/// The most times `%sum` repeats.
pub(crate) const MOST_TIMES: usize = 100_000;

/// `scan` or `transaction`, as a bare word.
pub(crate) fn read_how(word: &Word<'_>) -> Option<Arg> {
    if word.form != Form::Bare {
        return None;
    }
    match word.text.to_ascii_lowercase().as_str() {
        "scan" => Some(Arg::ReadHow(ReadHow::Scan)),
        "transaction" => Some(Arg::ReadHow(ReadHow::Transaction)),
        _ => None,
    }
}

/// `tear=N` (N at least 1) or `flip=OFFSET` (`%crash_copy`).
fn damage(word: &Word<'_>, bytes: &[u8]) -> Result<Arg, Problem> {
    let parsed = text(bytes).and_then(|t| {
        let (name, n) = t.split_once('=')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "tear" => n
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .map(Damage::Tear),
            "flip" => n.trim().parse::<u64>().ok().map(Damage::Flip),
            _ => None,
        }
    });
    parsed.map(Arg::Damage).ok_or_else(|| {
        Problem::new(
            ErrorKind::Argument,
            word.span,
            format!(
                "`{}` is not a way to damage the copy; write `tear=N` to zero the last N bytes of its log's records (N at least 1), or `flip=OFFSET` to invert the byte at OFFSET of its `db` file (`%log` shows where each record starts).",
                lexer::shown(word.text)
            ),
        )
        .expected("tear=N or flip=OFFSET")
        .usage("%crash_copy [tear=N|flip=OFFSET]")
    })
}

/// `flush_every=N` (`%load`): N rows between two flushes, at least 1.
fn flush_every(word: &Word<'_>, bytes: &[u8]) -> Result<Arg, Problem> {
    let count = text(bytes).and_then(|t| {
        let (name, n) = t.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("flush_every") {
            return None;
        }
        n.trim().parse::<usize>().ok().filter(|n| *n > 0)
    });
    count.map(Arg::Count).ok_or_else(|| {
        Problem::new(
            ErrorKind::Argument,
            word.span,
            format!(
                "`{}` is not `flush_every=N`; write how many rows go between two flushes, like `flush_every=1` (a flush after every row) or `flush_every=1000`, or quote a file name that has spaces.",
                lexer::shown(word.text)
            ),
        )
        .expected("flush_every=N, N a whole number of at least 1")
        .usage("%load FILE [flush_every=N]")
    })
}

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

fn not_a(word: &Word<'_>, what: &str, write: &str, expected: &str) -> Problem {
    Problem::new(
        ErrorKind::Argument,
        word.span,
        format!("`{}` is not a {what}; write {write}.", word.text),
    )
    .expected(expected)
}

const RANGE_FORMS: &str = "A..B, A..=B, A.. or ..B";

/// `a..b`, `a..=b`, `a..`, `..b`, `..`, with bounds in any word form.
fn range(word: &Word<'_>) -> Result<KeyRange, Problem> {
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
pub(crate) fn options(spec: &CommandSpec, words: &[Word<'_>]) -> Result<ReadOptions, Problem> {
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

fn twice(spec: &CommandSpec, word: &Word<'_>, option: &str) -> Problem {
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

    #[test]
    fn flush_every_takes_a_count_of_at_least_one() {
        for (src, n) in [
            ("flush_every=1", 1),
            ("FLUSH_EVERY=1000", 1000),
            ("\"flush_every = 5\"", 5),
        ] {
            assert_eq!(
                decode(Param::FlushEvery, &word(src)),
                Ok(Arg::Count(n)),
                "{src}"
            );
        }
        for src in [
            "flush_every=0",
            "flush_every=-1",
            "flush_every=",
            "flush=3",
            "3",
            "flush_every=x",
        ] {
            let e = decode(Param::FlushEvery, &word(src)).unwrap_err();
            assert!(
                e.message.contains("is not `flush_every=N`"),
                "{src}: {}",
                e.message
            );
        }
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
