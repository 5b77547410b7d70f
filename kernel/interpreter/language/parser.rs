//! From cell text to typed commands.
//!
//! [`raw_statements`] splits a cell into statements of undecoded words; it
//! never fails, so completion, inspection and `is_complete` use it on
//! unfinished text. [`items`] then checks and decodes each statement into a
//! [`Command`] and gathers `batch … end` and `transaction … end` into
//! [`Block`]s.
//!
//! A statement is one line, except that a quoted word may run on over line
//! breaks. `%time` and the command after it form one statement.

use super::build;
use super::command::{self, Args, CommandId, CommandSpec};
use super::errors::{ErrorKind, Problem};
use super::lexer::{self, Form, Scanner, Text, Word};
use super::span::{Pos, Span};
use crate::cell::IsComplete;
// The tree this file produces, declared in `syntax.rs`; re-exported so
// `running/` and `showing/` name it as what the parser gives them.
pub(crate) use super::syntax::{
    BatchOp, Block, BlockBody, BlockKind, BlockLine, Command, Comparison, Expected, Item, Scan,
    Statement, TxOp,
};

/// A statement as words, before anything is decoded or checked.
#[derive(Debug, Clone)]
pub(crate) struct RawStatement<'a> {
    /// `%time`, when the statement is a timed line.
    pub lead: Option<Word<'a>>,
    /// The command word first, then its arguments.
    pub words: Vec<Word<'a>>,
    /// For commands that take the rest of the line (`echo`, `warn`, `abort`).
    pub text: Option<Text<'a>>,
    /// For `expect`: the comparison word (`==`, `>=`, …) and the words after it.
    pub expected: Option<Vec<Word<'a>>>,
    /// The command the first word names, if it names one.
    pub spec: Option<&'static CommandSpec>,
    /// Where the statement stops: the end of its line.
    pub end: Pos,
}

impl RawStatement<'_> {
    pub(crate) fn head(&self) -> Option<&Word<'_>> {
        self.words.first()
    }

    /// Whether the statement opens a block.
    pub(crate) fn opens_block(&self) -> bool {
        self.lead.is_none() && self.spec.is_some_and(|s| s.args == Args::Block)
    }

    pub(crate) fn is_end(&self) -> bool {
        self.lead.is_none() && self.spec.is_some_and(|s| s.id == CommandId::End)
    }
}

/// The comparison a bare word names (`==`, `>=`, …).
fn comparison(word: &Word<'_>) -> Option<Comparison> {
    if word.form != Form::Bare {
        return None;
    }
    Comparison::ALL
        .into_iter()
        .find(|c| c.symbol() == word.text)
}

fn command_of(word: &Word<'_>) -> Option<&'static CommandSpec> {
    match word.form {
        Form::Bare => command::lookup(word.text),
        _ => None,
    }
}

/// The statements of a cell, as words.
pub(crate) fn raw_statements(src: &str) -> impl Iterator<Item = RawStatement<'_>> {
    let mut scanner = Scanner::new(src);
    std::iter::from_fn(move || {
        if !scanner.start_statement() {
            return None;
        }
        let mut head = scanner.next_word()?;
        let mut spec = command_of(&head);
        let mut lead = None;
        if spec.is_some_and(|s| s.args == Args::Line) {
            // `%time LINE`: the statement is the line after it.
            if let Some(inner) = scanner.next_word() {
                lead = Some(head);
                head = inner;
                spec = command_of(&head);
            }
        }
        let mut words = vec![head];
        let mut text = None;
        if spec.is_some_and(|s| matches!(s.args, Args::Text { .. })) {
            // The scanner stopped the command word at whitespace; the
            // text is everything after it on the line.
            text = Some(scanner.rest_of_line());
        } else {
            while let Some(word) = scanner.next_word() {
                words.push(word);
            }
        }
        // `expect LINE OP VALUE`: the line stops at the first comparison
        // word (a key spelled like one is quoted: `get "<"`).
        let mut expected = None;
        let expects = lead
            .as_ref()
            .and_then(command_of)
            .is_some_and(|s| s.id == CommandId::Expect);
        if expects {
            if let Some(at) = words.iter().position(|w| comparison(w).is_some()) {
                expected = Some(words.split_off(at));
            }
        }
        Some(RawStatement {
            lead,
            words,
            text,
            expected,
            spec,
            end: scanner.pos(),
        })
    })
}

/// The items of a cell, checked and decoded, in order. Parsing is lazy: the
/// caller runs each item before an error further down is reported. After
/// an error nothing more is produced.
pub(crate) fn items(src: &str) -> impl Iterator<Item = Result<Item, Problem>> + '_ {
    let mut raws = raw_statements(src);
    let mut stopped = false;
    std::iter::from_fn(move || {
        if stopped {
            return None;
        }
        let raw = raws.next()?;
        let item = next_item(&raw, &mut raws);
        stopped = item.is_err();
        Some(item)
    })
}

fn next_item<'a>(
    raw: &RawStatement<'a>,
    rest: &mut impl Iterator<Item = RawStatement<'a>>,
) -> Result<Item, Problem> {
    let statement = parse(raw)?;
    let kind = match statement.command {
        Command::Batch => BlockKind::Batch,
        Command::Transaction => BlockKind::Transaction,
        _ => {
            check_top_level(&statement)?;
            return Ok(Item::Line(statement));
        }
    };
    let mut body = match kind {
        BlockKind::Batch => BlockBody::Batch(Vec::new()),
        BlockKind::Transaction => BlockBody::Transaction(Vec::new()),
    };
    for raw in rest.by_ref() {
        let inner = parse(&raw)?;
        if inner.command == Command::End {
            return Ok(Item::Block(Block {
                head: statement.head,
                body,
            }));
        }
        check_in_block(&inner, kind, &statement)?;
        let Statement {
            command,
            spec,
            head,
        } = inner;
        let refused = |_| refused_in_block(spec, head, kind, &statement);
        match &mut body {
            BlockBody::Batch(lines) => lines.push(BlockLine {
                op: BatchOp::from_command(command).map_err(refused)?,
                spec,
                head,
            }),
            BlockBody::Transaction(lines) => lines.push(BlockLine {
                op: TxOp::from_command(command).map_err(refused)?,
                spec,
                head,
            }),
        }
    }
    Err(Problem::new(
        ErrorKind::Syntax,
        statement.head,
        format!(
            "This `{}` is never closed; add a line `end` after its last line. Nothing in it ran.",
            kind.name()
        ),
    )
    .expected("a line `end` before the end of the cell"))
}

fn check_top_level(statement: &Statement) -> Result<(), Problem> {
    let spec = statement.spec;
    if spec.allowed.top {
        return Ok(());
    }
    let message = match spec.id {
        CommandId::End => {
            "`end` closes a `batch` or `transaction`, but none is open here.".to_string()
        }
        _ => format!(
            "`{}` only works inside `transaction … end`, where it rolls the transaction back.",
            spec.name
        ),
    };
    Err(Problem::new(ErrorKind::Syntax, statement.head, message)
        .help("see `%help batch` and `%help transaction`"))
}

fn check_in_block(inner: &Statement, kind: BlockKind, opener: &Statement) -> Result<(), Problem> {
    let spec = inner.spec;
    let allowed = match kind {
        BlockKind::Batch => spec.allowed.batch,
        BlockKind::Transaction => spec.allowed.transaction,
    };
    // `expect LINE OP VALUE` carries the row of its LINE; in a transaction it
    // reads through the transaction, so LINE must be `get`, the one read a
    // `TransactionalTree` has.
    if let (BlockKind::Transaction, Command::Expect { check, .. }) = (kind, &inner.command) {
        if matches!(**check, Command::Get { .. }) {
            return Ok(());
        }
        return Err(Problem::new(
            ErrorKind::Syntax,
            inner.head,
            "Inside a transaction `expect` can check only `get KEY`, the one read sled's `TransactionalTree` has.",
        )
        .help("write it as `expect get KEY OP VALUE`, or check after `end`"));
    }
    if allowed && !matches!(inner.command, Command::Time(_) | Command::Expect { .. }) {
        return Ok(());
    }
    Err(refused_in_block(spec, inner.head, kind, opener))
}

/// Why a line cannot stand in a block of this kind.
fn refused_in_block(
    spec: &CommandSpec,
    head: Span,
    kind: BlockKind,
    opener: &Statement,
) -> Problem {
    let message = if spec.args == Args::Block {
        format!(
            "Blocks do not nest: this `{}` is inside the `{}` opened on line {}; close that one with `end` first.",
            spec.name,
            kind.name(),
            opener.line()
        )
    } else {
        match kind {
            BlockKind::Batch => format!(
                "`{}` cannot go inside a batch: a `sled::Batch` holds only `insert` and `remove`.",
                spec.name
            ),
            BlockKind::Transaction => format!(
                "`{}` cannot go inside a transaction: sled's `TransactionalTree` offers only `get`, `insert` and `remove` (`incr` and `expect get` are built from them, and `abort` rolls back).",
                spec.name
            ),
        }
    };
    Problem::new(ErrorKind::Syntax, head, message)
        .help(format!("run it before `{}` or after `end`", kind.name()))
}

/// Checks one statement and decodes its arguments.
pub(crate) fn parse(raw: &RawStatement<'_>) -> Result<Statement, Problem> {
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
    if let Some(lead) = &raw.lead {
        if command_of(lead).is_some_and(|s| s.id == CommandId::Expect) {
            return expectation(raw, lead, spec, head);
        }
        if matches!(spec.args, Args::Line | Args::Block) || !spec.allowed.top {
            return Err(Problem::new(
                ErrorKind::Argument,
                head.span,
                format!(
                    "`%time` times one ordinary line, and `{}` is not one.",
                    spec.name
                ),
            )
            .expected("a command such as `len` or `scan_prefix todo:`")
            .usage("%time LINE"));
        }
        let timed = single(raw, spec, head)?;
        return Ok(Statement {
            command: Command::Time(Box::new(timed)),
            spec,
            head: lead.span,
        });
    }
    Ok(Statement {
        command: single(raw, spec, head)?,
        spec,
        head: head.span,
    })
}

/// `expect LINE OP VALUE`: LINE must be a read with one answer.
fn expectation(
    raw: &RawStatement<'_>,
    lead: &Word<'_>,
    spec: &'static CommandSpec,
    head: &Word<'_>,
) -> Result<Statement, Problem> {
    let usage = "expect LINE == VALUE (or !=, <, <=, >, >=)";
    let one_answer = spec.kind == command::Kind::Read
        && spec.allowed.top
        && matches!(spec.args, Args::Words { options: false, .. });
    if !one_answer {
        return Err(Problem::new(
            ErrorKind::Argument,
            head.span,
            format!(
                "`expect` checks the one answer of a read such as `get KEY`, `len` or `contains_key KEY`, and `{}` {}.",
                spec.name,
                if spec.takes_options() {
                    "returns rows, not one answer: check `len`, `first` or a `get` instead"
                } else {
                    "is not such a read"
                }
            ),
        )
        .usage(usage));
    }
    let check = single(raw, spec, head)?;
    let Some((equals, words)) = raw.expected.as_deref().and_then(<[Word<'_>]>::split_first) else {
        let after = raw.words.last().unwrap_or(head).span.end;
        return Err(Problem::new(
            ErrorKind::Argument,
            Span::at(after),
            "`expect` needs the answer it expects after `==`, as in `expect get todo:002 == \"lift legs\"`.",
        )
        .expected("`==` (or `!=`, `<`, `<=`, `>`, `>=`) and a value")
        .usage(usage));
    };
    let op = comparison(equals).unwrap_or(Comparison::Equal);
    if words.is_empty() {
        return Err(Problem::new(
            ErrorKind::Argument,
            Span::at(equals.span.end),
            format!(
                "Nothing follows `{}`: write the answer you expect, such as `\"lift legs\"`, `3`, `false` or `<missing>`.",
                op.symbol()
            ),
        )
        .expected("a value")
        .usage(usage));
    }
    // The words as typed, one space apart.
    let text = words.iter().map(|w| w.text).collect::<Vec<_>>().join(" ");
    let decoded = |w: &Word<'_>| lexer::decode(w).ok();
    let value = match words {
        [one] => decoded(one),
        _ => None,
    };
    let pair = match words {
        [k, eq, v] if eq.form == Form::Bare && eq.text == "=" => decoded(k).zip(decoded(v)),
        _ => None,
    };
    Ok(Statement {
        command: Command::Expect {
            check: Box::new(check),
            expected: Expected {
                op,
                text,
                value,
                pair,
            },
        },
        spec,
        head: lead.span,
    })
}

/// The command of a statement that is not a timed line.
fn single(
    raw: &RawStatement<'_>,
    spec: &'static CommandSpec,
    head: &Word<'_>,
) -> Result<Command, Problem> {
    let words = raw.words.get(1..).unwrap_or(&[]);
    build::command(spec, head, words, raw.text.map(|t| t.text))
}

fn unknown_command(head: &Word<'_>) -> Problem {
    let listing = "`%help` lists every command";
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
        .expected(format!("a command ({listing})"));
    }
    // Quoted short and with control characters escaped (`lexer::shown`).
    let word = lexer::shown(head.text);
    match command::suggest(head.text) {
        Some(name) => Problem::new(
            ErrorKind::UnknownCommand,
            head.span,
            format!("`{word}` is not a command; did you mean `{name}`?"),
        )
        .help(format!("did you mean `{name}`?"))
        .expected(format!("a command ({listing})")),
        None => Problem::new(
            ErrorKind::UnknownCommand,
            head.span,
            format!(
                "`{word}` is not a command; start the line with a command such as `get` or `insert`."
            ),
        )
        .expected(format!("a command ({listing})")),
    }
}

/// Indentation suggested for the next line inside an open block.
pub(crate) const BLOCK_INDENT: &str = "  ";

/// What `is_complete_request` answers: an open quote or an open
/// `batch`/`transaction` wants more lines, an unknown command word can
/// never run, anything else is ready to execute (where any other mistake is
/// reported with its caret).
pub(crate) fn completeness(src: &str) -> IsComplete {
    let mut open_block = false;
    for raw in raw_statements(src) {
        let unclosed = raw.lead.iter().chain(&raw.words).any(|w| !w.terminated);
        if unclosed {
            return IsComplete::Incomplete {
                indent: if open_block {
                    BLOCK_INDENT.to_string()
                } else {
                    String::new()
                },
            };
        }
        if raw.spec.is_none() {
            return IsComplete::Invalid;
        }
        if raw.opens_block() {
            open_block = true;
        } else if raw.is_end() {
            open_block = false;
        }
    }
    if open_block {
        IsComplete::Incomplete {
            indent: BLOCK_INDENT.to_string(),
        }
    } else {
        IsComplete::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::language::syntax::{Damage, KeyRange, ReadHow, ReadOptions};
    use std::ops::Bound;
    use std::time::Duration;

    fn parse_all(src: &str) -> Result<Vec<Item>, Problem> {
        items(src).collect()
    }

    fn lines(src: &str) -> Result<Vec<Command>, Problem> {
        parse_all(src).map(|items| {
            items
                .into_iter()
                .map(|item| match item {
                    Item::Line(s) => s.command,
                    Item::Block(b) => panic!("unexpected block {b:?}"),
                })
                .collect()
        })
    }

    fn one(src: &str) -> Command {
        match lines(src) {
            Ok(mut commands) if commands.len() == 1 => commands.remove(0),
            other => panic!("{src:?} parsed to {other:?}"),
        }
    }

    fn problem(src: &str) -> Problem {
        match parse_all(src) {
            Ok(items) => panic!("{src:?} parsed to {items:?}"),
            Err(p) => p,
        }
    }

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn rows(scan: Scan) -> Command {
        Command::Rows {
            scan,
            options: ReadOptions::default(),
        }
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
        assert_eq!(one("contains_key k"), Command::ContainsKey { key: b("k") });
        assert_eq!(one("exists k"), Command::ContainsKey { key: b("k") });
        assert_eq!(one("len"), Command::Len);
        assert_eq!(one("count"), Command::Len);
        assert_eq!(one("is_empty"), Command::IsEmpty);
        assert_eq!(one("first"), Command::First);
        assert_eq!(one("last"), Command::Last);
        assert_eq!(one("get_lt k"), Command::GetLt { key: b("k") });
        assert_eq!(one("get_gt k"), Command::GetGt { key: b("k") });
        let scan = rows(Scan::Prefix(b("todo:")));
        assert_eq!(one("scan_prefix todo:"), scan);
        assert_eq!(one("scan todo:"), scan);
        assert_eq!(
            one("range a..c"),
            rows(Scan::Range(KeyRange {
                lo: Bound::Included(b("a")),
                hi: Bound::Excluded(b("c"))
            }))
        );
        assert_eq!(one("iter"), rows(Scan::Iter));
        assert_eq!(one("keys"), rows(Scan::Keys));
        let remove = Command::Remove { key: b("k") };
        assert_eq!(one("remove k"), remove);
        assert_eq!(one("del k"), remove);
        assert_eq!(one("Delete k"), remove);
        assert_eq!(one("pop_min"), Command::PopMin);
        assert_eq!(one("pop_max"), Command::PopMax);
        let cas = Command::CompareAndSwap {
            key: b("k"),
            old: None,
            new: Some(b("v")),
        };
        assert_eq!(one("compare_and_swap k - v"), cas);
        assert_eq!(one("cas k - v"), cas);
        assert_eq!(
            one("append k v"),
            Command::Append {
                key: b("k"),
                value: b("v")
            }
        );
        assert_eq!(one("incr k"), Command::Incr { key: b("k"), by: 1 });
        assert_eq!(
            one("incr k -5"),
            Command::Incr {
                key: b("k"),
                by: -5
            }
        );
        assert_eq!(one("clear"), Command::Clear);
        assert_eq!(
            one("open_tree users"),
            Command::OpenTree { name: b("users") }
        );
        assert_eq!(one("use users"), Command::OpenTree { name: b("users") });
        assert_eq!(one("tree_names"), Command::TreeNames);
        assert_eq!(one("trees"), Command::TreeNames);
        assert_eq!(
            one("drop_tree users"),
            Command::DropTree { name: b("users") }
        );
        assert_eq!(one("flush"), Command::Flush);
        assert_eq!(one("size_on_disk"), Command::SizeOnDisk);
        assert_eq!(one("checksum"), Command::Checksum);
        assert_eq!(one("generate_id"), Command::GenerateId);
        assert_eq!(one("was_recovered"), Command::WasRecovered);
        assert_eq!(one("%help"), Command::Help { topic: None });
        assert!(matches!(one("%help get"), Command::Help { topic: Some(s) } if s.name == "get"));
        assert_eq!(one("%lsmagic"), Command::LsMagic);
        assert_eq!(one("%reset"), Command::Reset);
        assert_eq!(
            one("%open ./db"),
            Command::Open {
                path: "./db".into()
            }
        );
        assert_eq!(one("%reopen"), Command::Reopen);
        assert_eq!(one("%info"), Command::Info);
        assert_eq!(one("%time len"), Command::Time(Box::new(Command::Len)));
        assert_eq!(one("%limit 5"), Command::Limit { rows: Some(5) });
        assert_eq!(one("%limit"), Command::Limit { rows: None });
        assert_eq!(
            one("%load a.csv"),
            Command::Load {
                file: "a.csv".into(),
                flush_every: None,
            }
        );
        assert_eq!(
            one("%load a.jsonl flush_every=1"),
            Command::Load {
                file: "a.jsonl".into(),
                flush_every: Some(1),
            }
        );
        assert_eq!(
            one("%sample_file s.jsonl 100000"),
            Command::SampleFile {
                file: "s.jsonl".into(),
                rows: 100_000,
                prefix: None,
                value: None,
            }
        );
        assert_eq!(
            one("%sample_file s.jsonl 10 book:"),
            Command::SampleFile {
                file: "s.jsonl".into(),
                rows: 10,
                prefix: Some(b"book:".to_vec()),
                value: None,
            }
        );
        assert_eq!(
            one("%sample_file bank.jsonl 100 acct: value=100"),
            Command::SampleFile {
                file: "bank.jsonl".into(),
                rows: 100,
                prefix: Some(b"acct:".to_vec()),
                value: Some(b"100".to_vec()),
            }
        );
        assert_eq!(one("%crash_copy"), Command::CrashCopy { damage: None });
        assert_eq!(
            one("%crash_copy tear=30"),
            Command::CrashCopy {
                damage: Some(Damage::Tear(30))
            }
        );
        assert_eq!(
            one("%crash_copy FLIP=160"),
            Command::CrashCopy {
                damage: Some(Damage::Flip(160))
            }
        );
        assert_eq!(one("%log"), Command::Log);
        assert_eq!(
            one("%transfers acct:"),
            Command::Transfers {
                prefix: b"acct:".to_vec()
            }
        );
        let sum = |times, how| Command::Sum {
            prefix: b"acct:".to_vec(),
            times,
            how,
        };
        assert_eq!(one("%sum acct:"), sum(1, ReadHow::Scan));
        assert_eq!(one("%sum acct: 1000"), sum(1000, ReadHow::Scan));
        assert_eq!(
            one("%sum acct: 1000 transaction"),
            sum(1000, ReadHow::Transaction)
        );
        assert_eq!(one("%sum acct: transaction"), sum(1, ReadHow::Transaction));
        assert_eq!(
            one("%written_by user:003"),
            Command::WrittenBy {
                key: b"user:003".to_vec()
            }
        );
        assert_eq!(one("%timings"), Command::Timings);
        assert_eq!(
            one("%dump a.jsonl"),
            Command::Dump {
                file: "a.jsonl".into()
            }
        );
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
    fn read_options_in_any_order() {
        assert_eq!(
            one("scan todo: limit 2 rev"),
            Command::Rows {
                scan: Scan::Prefix(b("todo:")),
                options: ReadOptions {
                    limit: Some(2),
                    rev: true
                }
            }
        );
        assert_eq!(
            one("keys REV"),
            Command::Rows {
                scan: Scan::Keys,
                options: ReadOptions {
                    limit: None,
                    rev: true
                }
            }
        );
        // A key may be called `rev`: the positional slot comes first.
        assert_eq!(one("scan_prefix rev"), rows(Scan::Prefix(b("rev"))));
        let p = problem("scan_prefix a b");
        assert!(
            p.message.contains("not an option of `scan_prefix`"),
            "{}",
            p.message
        );
        assert_eq!(p.span.start.col, 14);
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
        let commands =
            lines("# seed\n\ninsert a 1  # first\n  # note\nget a#b # the key is a#b\n\n").unwrap();
        assert_eq!(
            commands,
            [
                Command::Insert {
                    key: b("a"),
                    value: b("1")
                },
                Command::Get { key: b("a#b") }
            ]
        );
        assert_eq!(
            one("insert k \"# kept\" # dropped"),
            Command::Insert {
                key: b("k"),
                value: b("# kept")
            }
        );
        // A comment can stand where an argument is missing: still missing.
        let p = problem("insert k # v");
        assert!(p.message.contains("missing its VALUE"), "{}", p.message);
    }

    #[test]
    fn a_quoted_value_may_span_lines() {
        assert_eq!(
            lines("insert poem \"roses\nviolets\"\nget poem").unwrap(),
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
    fn items_are_parsed_lazily_so_earlier_ones_survive_a_later_error() {
        let mut it = items("get a\ngte b\nget c");
        assert!(matches!(it.next(), Some(Ok(_))));
        assert!(matches!(it.next(), Some(Err(_))));
        assert!(it.next().is_none(), "nothing after an error");
    }

    #[test]
    fn every_row_builds_and_blocks_hold_exactly_what_the_table_allows() {
        for spec in command::COMMANDS {
            let example = spec.examples[0];
            let line = example.lines().next().unwrap_or(example);
            match spec.args {
                // An example of a block is the whole block.
                Args::Block => {
                    let items = parse_all(example).unwrap_or_else(|p| panic!("{example:?}: {p:?}"));
                    assert!(matches!(&items[0], Item::Block(b) if b.kind().name() == spec.name));
                }
                _ if spec.allowed.top => {
                    let items = parse_all(line).unwrap_or_else(|p| panic!("{line:?}: {p:?}"));
                    let Item::Line(statement) = &items[0] else {
                        panic!("{line:?}: {items:?}")
                    };
                    if spec.args == Args::Line {
                        // `%time LINE`, `expect LINE`: the row is the line's.
                        assert!(
                            matches!(statement.command, Command::Time(_) | Command::Expect { .. }),
                            "{line:?}"
                        );
                    } else {
                        assert_eq!(statement.spec.id, spec.id, "{line:?}");
                    }
                }
                _ => assert!(parse_all(line).is_err(), "{line:?} outside a block"),
            }
            if spec.args == Args::Block || spec.id == CommandId::End {
                continue;
            }
            for (kind, allowed) in [
                ("batch", spec.allowed.batch),
                ("transaction", spec.allowed.transaction),
            ] {
                let block = format!("{kind}\n{line}\nend");
                assert_eq!(
                    parse_all(&block).is_ok(),
                    allowed,
                    "{line:?} in a {kind}: {:?}",
                    parse_all(&block).err()
                );
            }
        }
    }

    #[test]
    fn blocks_gather_their_lines() {
        let items =
            parse_all("insert x 0\nbatch\n  insert a 1\n  remove b  # old\nend\nget a").unwrap();
        assert_eq!(items.len(), 3);
        let Item::Block(block) = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(block.kind(), BlockKind::Batch);
        assert_eq!(block.head.start.line, 1);
        let BlockBody::Batch(lines) = &block.body else {
            panic!("{block:?}")
        };
        let body: Vec<_> = lines.iter().map(|line| line.op.clone()).collect();
        assert_eq!(
            body,
            [
                BatchOp::Insert {
                    key: b("a"),
                    value: b("1")
                },
                BatchOp::Remove { key: b("b") }
            ]
        );
        let items = parse_all("TX\nget a\ninsert a 2\nabort  too poor \nEND").unwrap();
        let Item::Block(block) = &items[0] else {
            panic!()
        };
        assert_eq!(block.kind(), BlockKind::Transaction);
        let BlockBody::Transaction(lines) = &block.body else {
            panic!("{block:?}")
        };
        assert_eq!(
            lines[2].op,
            TxOp::Abort {
                reason: "too poor".into()
            }
        );
        let empty = parse_all("batch\nend").unwrap();
        assert!(matches!(
            &empty[0],
            Item::Block(Block { body: BlockBody::Batch(lines), .. }) if lines.is_empty()
        ));
    }

    #[test]
    fn block_mistakes_are_explained() {
        let p = problem("batch\ninsert a 1");
        assert!(p.message.contains("never closed"), "{}", p.message);
        assert_eq!(p.span.start.line, 0);

        let p = problem("batch\n  get a\nend");
        assert!(
            p.message.contains("a `sled::Batch` holds only"),
            "{}",
            p.message
        );
        assert_eq!((p.span.start.line, p.span.start.col), (1, 2));

        let p = problem("transaction\nscan a\nend");
        assert!(
            p.message
                .contains("offers only `get`, `insert` and `remove`"),
            "{}",
            p.message
        );

        let p = problem("transaction\nbatch\nend\nend");
        assert!(p.message.contains("do not nest"), "{}", p.message);
        assert!(p.message.contains("opened on line 1"), "{}", p.message);

        let p = problem("end");
        assert!(p.message.contains("none is open"), "{}", p.message);
        let p = problem("abort");
        assert!(
            p.message.contains("only works inside `transaction"),
            "{}",
            p.message
        );
        let p = problem("batch\nabort\nend");
        assert!(
            p.message.contains("cannot go inside a batch"),
            "{}",
            p.message
        );
        let p = problem("batch now\nend");
        assert!(p.message.contains("takes no arguments"), "{}", p.message);
        let p = problem("transaction\n%time get a\nend");
        assert!(
            p.message.contains("cannot go inside a transaction"),
            "{}",
            p.message
        );
        // An error in a line inside the block points at that line.
        let p = problem("batch\ninsert a\nend");
        assert_eq!(p.span.start.line, 1);
        assert!(p.message.contains("missing its VALUE"));
    }

    #[test]
    fn time_wraps_one_line() {
        let s = match parse_all("%time scan todo: limit 1").unwrap().remove(0) {
            Item::Line(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.spec.name, "scan_prefix");
        assert_eq!((s.head.start.col, s.head.end.col), (0, 5));
        assert!(matches!(s.command, Command::Time(_)));
        assert_eq!(
            one("%time echo hi # there"),
            Command::Time(Box::new(Command::Echo {
                text: "hi # there".into()
            }))
        );
        let p = problem("%time");
        assert!(p.message.contains("missing its LINE"), "{}", p.message);
        let p = problem("%time %time len");
        assert!(p.message.contains("not one"), "{}", p.message);
        let p = problem("%time batch");
        assert!(p.message.contains("not one"), "{}", p.message);
        let p = problem("%time gte a");
        assert_eq!(p.kind, ErrorKind::UnknownCommand);
        assert_eq!(p.span.start.col, 6);
        assert!(parse_all("%time %sleep 0").unwrap()[0].waits());
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
        let p = problem("%opne x");
        assert!(p.message.contains("did you mean `%open`?"), "{}", p.message);
        let p = problem("reopen");
        assert!(
            p.message.contains("did you mean `%reopen`?"),
            "{}",
            p.message
        );

        let p = problem("frobnicate");
        assert!(!p.message.contains("did you mean"));
        assert!(p.notes.iter().any(|n| n.contains("%help")));
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

        let p = problem("cas k v");
        assert!(p.message.contains("missing its NEW"), "{}", p.message);
        assert!(p
            .notes
            .contains(&"usage: compare_and_swap KEY OLD NEW".to_string()));
        let p = problem("range");
        assert!(p
            .notes
            .contains(&"usage: range A..B [limit N] [rev]".to_string()));
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

        let p = problem("len todo:");
        assert!(
            p.message.contains("takes no arguments but got 1"),
            "{}",
            p.message
        );
        assert!(p.notes.contains(&"usage: len".to_string()));
        let p = problem("incr a 1 2");
        assert!(
            p.message.contains("takes at most 2 arguments but got 3"),
            "{}",
            p.message
        );
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
        let Item::Line(s) = items("  get  k").next().unwrap().unwrap() else {
            panic!()
        };
        assert_eq!((s.head.start.col, s.head.end.col), (2, 5));
        assert_eq!(s.spec.name, "get");
    }

    #[test]
    fn completeness_of_cells() {
        let incomplete = IsComplete::Incomplete {
            indent: String::new(),
        };
        let in_block = IsComplete::Incomplete {
            indent: BLOCK_INDENT.to_string(),
        };
        assert_eq!(completeness(""), IsComplete::Complete);
        assert_eq!(completeness("get a\n# 'comment\n"), IsComplete::Complete);
        assert_eq!(completeness("get a # 'comment"), IsComplete::Complete);
        assert_eq!(completeness("insert a \"open"), incomplete);
        assert_eq!(completeness("insert a 'open\nstill"), incomplete);
        assert_eq!(
            completeness("insert a \"two\nlines\""),
            IsComplete::Complete
        );
        assert_eq!(completeness("echo don't"), IsComplete::Complete);
        assert_eq!(completeness("range \"a\"..\"b"), incomplete);
        assert_eq!(completeness("gte a"), IsComplete::Invalid);
        assert_eq!(completeness("get a\nfoo"), IsComplete::Invalid);
        assert_eq!(completeness("\"get a"), incomplete);
        assert_eq!(completeness("0x00"), IsComplete::Invalid);
        assert_eq!(completeness("%time gte"), IsComplete::Invalid);
        assert_eq!(completeness("%time get \"a"), incomplete);
        assert_eq!(completeness("batch"), in_block);
        assert_eq!(completeness("batch\n  insert a 1"), in_block);
        assert_eq!(completeness("batch\n  insert a \"x"), in_block);
        assert_eq!(
            completeness("transaction\nget a\nend"),
            IsComplete::Complete
        );
        assert_eq!(completeness("tx\nend\nbatch"), in_block);
        assert_eq!(completeness("batch\nfrob"), IsComplete::Invalid);
        // Other mistakes are left for execute to explain.
        assert_eq!(completeness("get"), IsComplete::Complete);
        assert_eq!(completeness("get 0xzz"), IsComplete::Complete);
        assert_eq!(completeness("end"), IsComplete::Complete);
    }
}
