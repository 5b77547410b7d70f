//! From cell text to typed commands.
//!
//! [`raw_statements`] splits a cell into statements of undecoded words; it
//! never fails, so completion and `is_complete` use it on unfinished text.
//! [`statements`] then checks and decodes each one into a [`Command`].
//!
//! A statement is one line, except that a quoted word may run on over line
//! breaks. (Blocks such as `batch ... end` would group statements here.)

use std::time::Duration;

use super::command::{self, Args, CommandId, CommandSpec, Param};
use super::errors::{ErrorKind, Problem};
use super::lexer::{self, Form, Pos, Scanner, Span, Text, Word};
use super::IsComplete;

/// One command with its arguments decoded, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Insert { key: Vec<u8>, value: Vec<u8> },
    Get { key: Vec<u8> },
    ScanPrefix { prefix: Vec<u8> },
    Remove { key: Vec<u8> },
    Iter,
    Keys,
    Flush,
    Reset,
    Echo { text: String },
    Warn { text: String },
    Sleep { duration: Duration },
}

impl Command {
    /// Whether running it means waiting, so output gathered so far should
    /// be sent first.
    pub fn waits(&self) -> bool {
        matches!(self, Command::Sleep { .. })
    }
}

/// A parsed command and where it stands in the cell.
#[derive(Debug, Clone)]
pub struct Statement {
    pub command: Command,
    pub spec: &'static CommandSpec,
    /// The command word, where runtime errors point.
    pub head: Span,
}

/// A statement as words, before anything is decoded or checked.
#[derive(Debug, Clone)]
pub struct RawStatement<'a> {
    /// The command word first, then its arguments.
    pub words: Vec<Word<'a>>,
    /// For commands that take the rest of the line (`echo`, `warn`).
    pub text: Option<Text<'a>>,
    /// The command the first word names, if it names one.
    pub spec: Option<&'static CommandSpec>,
    /// Where the statement stops: the end of its line.
    pub end: Pos,
}

impl RawStatement<'_> {
    pub fn head(&self) -> Option<&Word<'_>> {
        self.words.first()
    }
}

/// The statements of a cell, as words.
pub fn raw_statements(src: &str) -> impl Iterator<Item = RawStatement<'_>> {
    let mut scanner = Scanner::new(src);
    std::iter::from_fn(move || {
        if !scanner.start_statement() {
            return None;
        }
        let head = scanner.next_word()?;
        let spec = match head.form {
            Form::Bare => command::lookup(head.text),
            _ => None,
        };
        let mut words = vec![head];
        let mut text = None;
        if let Some(CommandSpec {
            args: Args::Text { .. },
            ..
        }) = spec
        {
            // The scanner stopped the command word at whitespace; the
            // text is everything after it on the line.
            text = Some(scanner.rest_of_line());
        } else {
            while let Some(word) = scanner.next_word() {
                words.push(word);
            }
        }
        Some(RawStatement {
            words,
            text,
            spec,
            end: scanner.pos(),
        })
    })
}

/// The statements of a cell, checked and decoded, in order. Parsing is lazy:
/// the caller runs each statement before an error further down is reported.
pub fn statements(src: &str) -> impl Iterator<Item = Result<Statement, Problem>> + '_ {
    raw_statements(src).map(|raw| parse(&raw))
}

/// Checks one statement and decodes its arguments.
pub fn parse(raw: &RawStatement) -> Result<Statement, Problem> {
    let Some(head) = raw.head() else {
        return Err(Problem::new(
            ErrorKind::Syntax,
            Span::at(raw.end),
            "Expected a command.",
        ));
    };
    let spec = match raw.spec {
        Some(spec) => spec,
        None => return Err(unknown_command(head)),
    };
    let args = match spec.args {
        Args::Text { required } => {
            let text = raw.text.map_or("", |t| t.text);
            if required && text.trim().is_empty() {
                return Err(missing(spec, "TEXT", head.span.end));
            }
            vec![Arg::Text(text.to_string())]
        }
        Args::Words(params) => {
            let words = raw.words.get(1..).unwrap_or(&[]);
            if words.len() > params.len() {
                return Err(too_many(spec, params, words));
            }
            let mut args = Vec::with_capacity(params.len());
            for (param, word) in params.iter().zip(words) {
                args.push(decode_arg(*param, word)?);
            }
            if let Some(absent) = params.get(words.len()) {
                let after = words.last().unwrap_or(head).span.end;
                return Err(missing(spec, absent.placeholder(), after));
            }
            args
        }
    };
    let command = build(spec.id, args);
    Ok(Statement {
        command,
        spec,
        head: head.span,
    })
}

/// A decoded argument.
enum Arg {
    Bytes(Vec<u8>),
    Seconds(Duration),
    Text(String),
}

fn decode_arg(param: Param, word: &Word) -> Result<Arg, Problem> {
    let bytes = lexer::decode(word)?;
    match param {
        Param::Key | Param::Value | Param::Prefix => Ok(Arg::Bytes(bytes)),
        Param::Seconds => {
            let seconds = std::str::from_utf8(&bytes)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok());
            seconds
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .map(Arg::Seconds)
                .ok_or_else(|| {
                    Problem::new(
                        ErrorKind::Argument,
                        word.span,
                        format!(
                            "`{}` is not a number of seconds; write a non-negative number such as 0.5.",
                            word.text
                        ),
                    )
                    .expected("SECONDS, a number like 2 or 0.25")
                })
        }
    }
}

/// Builds the command from arguments already checked against the table,
/// so each slot holds the kind of argument its command expects.
fn build(id: CommandId, args: Vec<Arg>) -> Command {
    let mut args = args.into_iter();
    let mut bytes = || match args.next() {
        Some(Arg::Bytes(b)) => b,
        _ => Vec::new(),
    };
    match id {
        CommandId::Insert => {
            let key = bytes();
            Command::Insert {
                key,
                value: bytes(),
            }
        }
        CommandId::Get => Command::Get { key: bytes() },
        CommandId::ScanPrefix => Command::ScanPrefix { prefix: bytes() },
        CommandId::Remove => Command::Remove { key: bytes() },
        CommandId::Iter => Command::Iter,
        CommandId::Keys => Command::Keys,
        CommandId::Flush => Command::Flush,
        CommandId::Reset => Command::Reset,
        CommandId::Echo => Command::Echo {
            text: text_of(args.next()),
        },
        CommandId::Warn => Command::Warn {
            text: text_of(args.next()),
        },
        CommandId::Sleep => Command::Sleep {
            duration: match args.next() {
                Some(Arg::Seconds(d)) => d,
                _ => Duration::ZERO,
            },
        },
    }
}

fn text_of(arg: Option<Arg>) -> String {
    match arg {
        Some(Arg::Text(text)) => text,
        _ => String::new(),
    }
}

fn unknown_command(head: &Word) -> Problem {
    let listing = command::COMMANDS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ");
    if head.form != Form::Bare {
        if !head.terminated {
            // An unclosed quote as the first word: the quote is the problem.
            if let Err(problem) = lexer::decode(head) {
                return problem;
            }
        }
        return Problem::new(
            ErrorKind::UnknownCommand,
            head.span,
            "A line must start with a command name, not a quoted string or hex.",
        )
        .expected(format!("a command: {listing}"));
    }
    match command::suggest(head.text) {
        Some(name) => Problem::new(
            ErrorKind::UnknownCommand,
            head.span,
            format!("`{}` is not a command; did you mean `{name}`?", head.text),
        )
        .help(format!("did you mean `{name}`?"))
        .expected(format!("a command: {listing}")),
        None => Problem::new(
            ErrorKind::UnknownCommand,
            head.span,
            format!(
                "`{}` is not a command; start the line with one of the commands listed below.",
                head.text
            ),
        )
        .expected(format!("a command: {listing}")),
    }
}

fn missing(spec: &CommandSpec, what: &str, after: Pos) -> Problem {
    Problem::new(
        ErrorKind::Argument,
        Span::at(after),
        format!(
            "`{}` is missing its {what}; write it as `{}`.",
            spec.name,
            spec.syntax()
        ),
    )
    .expected(what)
    .usage(spec.syntax())
}

fn too_many(spec: &CommandSpec, params: &[Param], args: &[Word]) -> Problem {
    let extra = args.get(params.len()..).unwrap_or(&[]);
    let span = Span {
        start: extra.first().map_or(Pos::default(), |w| w.span.start),
        end: extra.last().map_or(Pos::default(), |w| w.span.end),
    };
    let count = |n: usize| match n {
        0 => "no arguments".to_string(),
        1 => "1 argument".to_string(),
        n => format!("{n} arguments"),
    };
    let fix = match params.last() {
        Some(last) => format!(
            "remove the extra words or quote a {} that contains spaces",
            last.placeholder().to_lowercase()
        ),
        None => "remove the extra words".to_string(),
    };
    let problem = Problem::new(
        ErrorKind::Argument,
        span,
        format!(
            "`{}` takes {} but got {}; {fix}.",
            spec.name,
            count(params.len()),
            args.len(),
        ),
    )
    .expected("the end of the line")
    .usage(spec.syntax());
    // Likely cause: an unquoted value with spaces. Show it quoted.
    let last_slot = params.len().checked_sub(1);
    match (params.last(), last_slot.and_then(|i| args.get(i..))) {
        (Some(Param::Key | Param::Value | Param::Prefix), Some(words)) => {
            let joined: Vec<&str> = words.iter().map(|w| w.text).collect();
            let joined = joined.join(" ");
            if words.iter().all(|w| w.form == Form::Bare) {
                problem.help(format!("to keep the spaces, quote it: {joined:?}"))
            } else {
                problem
            }
        }
        _ => problem,
    }
}

/// What `is_complete_request` answers: an open quote wants more lines, an
/// unknown command word can never run, anything else is ready to execute
/// (where any other mistake is reported with its caret).
pub fn completeness(src: &str) -> IsComplete {
    for raw in raw_statements(src) {
        if raw.words.iter().any(|w| !w.terminated) {
            return IsComplete::Incomplete {
                indent: String::new(),
            };
        }
        if raw.spec.is_none() {
            return IsComplete::Invalid;
        }
    }
    IsComplete::Complete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(src: &str) -> Result<Vec<Command>, Problem> {
        statements(src).map(|s| s.map(|s| s.command)).collect()
    }

    fn one(src: &str) -> Command {
        match parse_all(src) {
            Ok(mut commands) if commands.len() == 1 => commands.remove(0),
            other => panic!("{src:?} parsed to {other:?}"),
        }
    }

    fn problem(src: &str) -> Problem {
        match parse_all(src) {
            Ok(commands) => panic!("{src:?} parsed to {commands:?}"),
            Err(p) => p,
        }
    }

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn every_command_and_alias() {
        let insert = Command::Insert {
            key: b("todo:001"),
            value: b("buy boots"),
        };
        assert_eq!(one("insert todo:001 \"buy boots\""), insert);
        assert_eq!(one("put todo:001 'buy boots'"), insert);
        assert_eq!(one("SET todo:001 \"buy boots\""), insert);
        assert_eq!(one("get todo:002"), Command::Get { key: b("todo:002") });
        let scan = Command::ScanPrefix { prefix: b("todo:") };
        assert_eq!(one("scan_prefix todo:"), scan);
        assert_eq!(one("scan todo:"), scan);
        let remove = Command::Remove { key: b("k") };
        assert_eq!(one("remove k"), remove);
        assert_eq!(one("del k"), remove);
        assert_eq!(one("Delete k"), remove);
        assert_eq!(one("iter"), Command::Iter);
        assert_eq!(one("keys"), Command::Keys);
        assert_eq!(one("flush"), Command::Flush);
        assert_eq!(one("%reset"), Command::Reset);
        assert_eq!(
            one("echo insert 4 keys:"),
            Command::Echo {
                text: "insert 4 keys:".into()
            }
        );
        assert_eq!(one("echo"), Command::Echo { text: "".into() });
        assert_eq!(
            one("warn don't \"mind\""),
            Command::Warn {
                text: "don't \"mind\"".into()
            }
        );
        assert_eq!(
            one("%sleep 0.25"),
            Command::Sleep {
                duration: Duration::from_millis(250)
            }
        );
    }

    #[test]
    fn keys_and_values_in_every_form() {
        assert_eq!(
            one(r#"insert 0x00ff b"\x01""#),
            Command::Insert {
                key: vec![0, 0xff],
                value: vec![1]
            }
        );
    }

    #[test]
    fn several_lines_with_comments_and_blanks() {
        let commands = parse_all("# seed\n\ninsert a 1\n  # note\nget a\n\n").unwrap();
        assert_eq!(
            commands,
            [
                Command::Insert {
                    key: b("a"),
                    value: b("1")
                },
                Command::Get { key: b("a") }
            ]
        );
    }

    #[test]
    fn a_quoted_value_may_span_lines() {
        assert_eq!(
            parse_all("insert poem \"roses\nviolets\"\nget poem").unwrap(),
            [
                Command::Insert {
                    key: b("poem"),
                    value: b("roses\nviolets")
                },
                Command::Get { key: b("poem") }
            ]
        );
    }

    #[test]
    fn statements_are_parsed_lazily_so_earlier_ones_survive_a_later_error() {
        let mut it = statements("get a\ngte b");
        assert!(matches!(it.next(), Some(Ok(_))));
        assert!(matches!(it.next(), Some(Err(_))));
        assert!(it.next().is_none());
    }

    #[test]
    fn unknown_command_suggests_a_near_miss() {
        let p = problem("insert a 1\ngte todo:002");
        assert_eq!(p.kind, ErrorKind::UnknownCommand);
        assert_eq!(p.message, "`gte` is not a command; did you mean `get`?");
        assert_eq!(
            (p.span.start.line, p.span.start.col, p.span.end.col),
            (1, 0, 3)
        );
        assert!(p.notes.iter().any(|n| n.contains("did you mean `get`?")));

        let p = problem("scna_prefix todo:");
        assert!(
            p.message.contains("did you mean `scan_prefix`?"),
            "{}",
            p.message
        );

        let p = problem("frobnicate");
        assert!(!p.message.contains("did you mean"));
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("insert, get, scan_prefix")));
    }

    #[test]
    fn a_quoted_first_word_is_not_a_command() {
        let p = problem("\"get\" k");
        assert_eq!(p.kind, ErrorKind::UnknownCommand);
        let p = problem("\"get k");
        assert_eq!(p.kind, ErrorKind::Syntax);
        assert!(p.message.contains("never closed"));
    }

    #[test]
    fn missing_argument_points_after_the_last_word_and_shows_usage() {
        let p = problem("insert todo:001");
        assert_eq!(p.kind, ErrorKind::Argument);
        assert_eq!(p.span.start.col, 15);
        assert!(p.message.contains("missing its VALUE"), "{}", p.message);
        assert!(p.notes.contains(&"usage: insert KEY VALUE".to_string()));

        let p = problem("get");
        assert_eq!(p.span.start.col, 3);
        assert!(p.notes.contains(&"usage: get KEY".to_string()));

        let p = problem("warn   ");
        assert!(p.notes.contains(&"usage: warn TEXT".to_string()));
    }

    #[test]
    fn extra_argument_points_at_the_extra_words_and_suggests_quoting() {
        let p = problem("insert todo:001 buy boots");
        assert_eq!(p.kind, ErrorKind::Argument);
        assert_eq!((p.span.start.col, p.span.end.col), (20, 25));
        assert!(
            p.message.contains("takes 2 arguments but got 3"),
            "{}",
            p.message
        );
        assert!(p.notes.contains(&"usage: insert KEY VALUE".to_string()));
        assert!(
            p.notes.iter().any(|n| n.contains(r#""buy boots""#)),
            "{:?}",
            p.notes
        );

        let p = problem("keys todo:");
        assert!(
            p.message.contains("takes no arguments but got 1"),
            "{}",
            p.message
        );
        assert!(p.notes.contains(&"usage: keys".to_string()));
    }

    #[test]
    fn syntax_errors_in_arguments_come_through_with_their_columns() {
        let p = problem("get \"ab\\q\"");
        assert_eq!(p.kind, ErrorKind::Syntax);
        assert_eq!(p.span.start.col, 7);
        let p = problem("get 0xabz");
        assert_eq!(p.span.start.col, 8);
    }

    #[test]
    fn sleep_wants_a_sane_number() {
        for bad in [
            "%sleep soon",
            "%sleep -1",
            "%sleep NaN",
            "%sleep 1e300",
            "%sleep inf",
        ] {
            let p = problem(bad);
            assert_eq!(p.kind, ErrorKind::Argument, "{bad}");
            assert_eq!(p.span.start.col, 7, "{bad}");
        }
    }

    #[test]
    fn head_span_is_the_command_word() {
        let s = statements("  get  k").next().unwrap().unwrap();
        assert_eq!((s.head.start.col, s.head.end.col), (2, 5));
        assert_eq!(s.spec.name, "get");
    }

    #[test]
    fn completeness_of_cells() {
        let incomplete = IsComplete::Incomplete {
            indent: String::new(),
        };
        assert_eq!(completeness(""), IsComplete::Complete);
        assert_eq!(completeness("get a\n# 'comment\n"), IsComplete::Complete);
        assert_eq!(completeness("insert a \"open"), incomplete);
        assert_eq!(completeness("insert a 'open\nstill"), incomplete);
        assert_eq!(
            completeness("insert a \"two\nlines\""),
            IsComplete::Complete
        );
        assert_eq!(completeness("echo don't"), IsComplete::Complete);
        assert_eq!(completeness("gte a"), IsComplete::Invalid);
        assert_eq!(completeness("get a\nfoo"), IsComplete::Invalid);
        assert_eq!(completeness("\"get a"), incomplete);
        assert_eq!(completeness("0x00"), IsComplete::Invalid);
        // Other mistakes are left for execute to explain.
        assert_eq!(completeness("get"), IsComplete::Complete);
        assert_eq!(completeness("get 0xzz"), IsComplete::Complete);
    }
}
