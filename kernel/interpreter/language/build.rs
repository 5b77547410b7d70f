//! From the words after a command to its [`Command`], by the command's row
//! in the table.
//!
//! [`command`] checks the words against the row's slots, decodes each one
//! ([`args::decode`]) and hands them to [`build`]: one arm per
//! [`CommandId`] and no catch-all, so a new id does not compile until it is
//! built there. An arm asks for its arguments slot by slot, naming the kind
//! it expects (`g.req(P::Key, Arg::bytes)?`). The row decides what is
//! there: asking for a slot the row does not declare, of another kind,
//! optional where the row says required (or the reverse), reading options or
//! text the row does not take, or leaving any of them unread, is an internal
//! error that names the disagreement, never a quiet default. The tests below
//! build every row, and every row with its slots dropped, added, retyped and
//! made optional, to show it.

use std::fmt::Display;

use super::args::{self, Arg};
use super::command::{Args, CommandId, CommandSpec, Param};
use super::errors::{ErrorKind, Problem};
use super::lexer::{self, Form, Word};
use super::span::{Pos, Span};
use super::syntax::{Command, ReadHow, ReadOptions, Scan};

/// The command of a statement that is not a timed line: `head` is its
/// command word, `words` the words after it, `text` the rest of its line
/// (for a row that takes text).
pub(super) fn command(
    spec: &CommandSpec,
    head: &Word<'_>,
    words: &[Word<'_>],
    text: Option<&str>,
) -> Result<Command, Problem> {
    build(given(spec, head, words, text)?)
}

/// The arguments of one statement, decoded by its row and handed out slot
/// by slot as the row declares them.
struct Given<'a> {
    spec: &'a CommandSpec,
    /// The command word, where an internal error points.
    head: Span,
    /// The positional arguments the line gives, decoded, in slot order.
    args: std::vec::IntoIter<Arg>,
    /// How many slots `build` has asked for.
    asked: usize,
    /// The rest of the line, for a row that takes text, until it is read.
    text: Option<String>,
    /// `limit N` and `rev`, for a row that takes them, until they are read.
    options: Option<ReadOptions>,
    /// Whether `build` made a block opener, as the row's `Args::Block` says.
    opened_block: bool,
}

/// Checks the words against the row and decodes them; the mistakes found
/// here are the student's (a missing or extra word, one that does not
/// decode).
fn given<'a>(
    spec: &'a CommandSpec,
    head: &Word<'_>,
    words: &[Word<'_>],
    text: Option<&str>,
) -> Result<Given<'a>, Problem> {
    let mut given = Given {
        spec,
        head: head.span,
        args: Vec::new().into_iter(),
        asked: 0,
        text: None,
        options: None,
        opened_block: false,
    };
    match spec.args {
        Args::Text { required } => {
            let text = text.unwrap_or("");
            if required && text.trim().is_empty() {
                return Err(missing(spec, "TEXT", head.span.end));
            }
            given.text = Some(text.to_string());
        }
        // The line it takes is parsed by the parser; `build` says it is missing.
        Args::Line => {}
        Args::Block => {
            if !words.is_empty() {
                return Err(too_many(spec, &[], words));
            }
        }
        Args::Words {
            required,
            optional,
            options: takes_options,
        } => {
            let slots = required.len() + optional.len();
            let positional = words.len().min(slots);
            if words.len() > slots && !takes_options {
                let params: Vec<Param> = required.iter().chain(optional).copied().collect();
                return Err(too_many(spec, &params, words));
            }
            let mut decoded = Vec::with_capacity(slots);
            let params = required.iter().chain(optional);
            for (param, word) in params.zip(words.iter().take(positional)) {
                decoded.push(args::decode(selection_param(spec, *param, word), word)?);
            }
            if let Some(absent) = required.get(positional) {
                let after = words.last().unwrap_or(head).span.end;
                return Err(missing(spec, absent.placeholder(), after));
            }
            if takes_options {
                let rest = words.get(positional..).unwrap_or(&[]);
                given.options = Some(args::options(spec, rest)?);
            }
            given.args = decoded.into_iter();
        }
    }
    Ok(given)
}

/// `%draw` takes a prefix or a range: a bare word holding `..` is a range.
/// `%sum` takes `scan` or `transaction` in place of N too.
fn selection_param(spec: &CommandSpec, param: Param, word: &Word<'_>) -> Param {
    if spec.id == CommandId::Sum && param == Param::Times && args::read_how(word).is_some() {
        return Param::ReadHow;
    }
    let is_range = word.text.contains("..")
        && !matches!(
            word.form,
            Form::DoubleQuoted | Form::SingleQuoted | Form::ByteString
        )
        || word.form == Form::DoubleQuoted && word.text.contains("\"..");
    if spec.id == CommandId::Draw && is_range {
        Param::Range
    } else {
        param
    }
}

impl Given<'_> {
    /// The kind of slot `index` and whether it is required, as the row
    /// declares it.
    fn slot(&self, index: usize) -> Option<(Param, bool)> {
        match self.spec.args {
            Args::Words {
                required, optional, ..
            } => match required.get(index) {
                Some(param) => Some((*param, true)),
                None => optional
                    .get(index - required.len())
                    .map(|param| (*param, false)),
            },
            _ => None,
        }
    }

    /// The next slot's argument, if the row declares that slot as `param`
    /// and as `required` (or not); `None` when an optional one was left out.
    fn take(&mut self, param: Param, required: bool) -> Result<Option<Arg>, Problem> {
        let index = self.asked;
        self.asked += 1;
        let asked = format!(
            "{} {param:?}",
            if required {
                "a required"
            } else {
                "an optional"
            }
        );
        match self.slot(index) {
            Some((declared, is_required)) if declared == param && is_required == required => {
                Ok(self.args.next())
            }
            Some((declared, is_required)) => Err(self.internal(format!(
                "its argument {} is {} {declared:?} in the table, but `build` asks for {asked}",
                index + 1,
                if is_required {
                    "a required"
                } else {
                    "an optional"
                },
            ))),
            None => Err(self.internal(format!(
                "the table gives it no argument {}, but `build` asks for {asked}",
                index + 1
            ))),
        }
    }

    /// A required argument of kind `param`, as `pick` takes it from its
    /// decoded form (`Arg::bytes`, `Arg::count`, …).
    fn req<T>(&mut self, param: Param, pick: impl FnOnce(Arg) -> Option<T>) -> Result<T, Problem> {
        match self.take(param, true)?.map(pick) {
            Some(Some(value)) => Ok(value),
            Some(None) => Err(self.not_decoded_as_asked(param)),
            None => Err(self.internal(format!(
                "its required {param:?} reached `build` without a value"
            ))),
        }
    }

    /// An optional argument of kind `param`: `None` when the line leaves
    /// it out.
    fn opt<T>(
        &mut self,
        param: Param,
        pick: impl FnOnce(Arg) -> Option<T>,
    ) -> Result<Option<T>, Problem> {
        match self.take(param, false)?.map(pick) {
            Some(Some(value)) => Ok(Some(value)),
            Some(None) => Err(self.not_decoded_as_asked(param)),
            None => Ok(None),
        }
    }

    /// The rest of the line, for a row that takes text.
    fn text(&mut self) -> Result<String, Problem> {
        self.text.take().ok_or_else(|| {
            self.internal("`build` reads the rest of the line, but the table's row takes no text")
        })
    }

    /// `limit N` and `rev`, for a row that takes them.
    fn options(&mut self) -> Result<ReadOptions, Problem> {
        self.options.take().ok_or_else(|| {
            self.internal(
                "`build` reads `limit N` and `rev`, but the table's row does not take them",
            )
        })
    }

    /// `batch` or `transaction`, for a row that opens a block.
    fn block(&mut self, opener: Command) -> Result<Command, Problem> {
        if self.spec.args != Args::Block {
            return Err(self.internal("`build` opens a block, but the table's row does not"));
        }
        self.opened_block = true;
        Ok(opener)
    }

    /// `%time LINE` and `expect LINE == VALUE` are built by the parser from
    /// the line after them; here, that line is missing.
    fn missing_line(&self) -> Problem {
        match self.spec.args {
            Args::Line => missing(self.spec, "LINE", self.head.end),
            _ => self
                .internal("`build` expects a LINE after it, but the table's row does not take one"),
        }
    }

    /// Checks that `build` read everything the row gives.
    fn finish(self) -> Result<(), Problem> {
        match self.spec.args {
            Args::Block if !self.opened_block => {
                return Err(
                    self.internal("its row opens a block, but `build` makes another command")
                );
            }
            Args::Line => {
                return Err(
                    self.internal("its row takes a LINE, but `build` makes a command of its own")
                );
            }
            _ => {}
        }
        if let Some((declared, _)) = self.slot(self.asked) {
            return Err(self.internal(format!(
                "its argument {} is {declared:?} in the table, which `build` never reads",
                self.asked + 1
            )));
        }
        if self.text.is_some() {
            return Err(self.internal("its row takes text, which `build` never reads"));
        }
        if self.options.is_some() {
            return Err(
                self.internal("its row takes `limit N` and `rev`, which `build` never reads")
            );
        }
        Ok(())
    }

    fn not_decoded_as_asked(&self, param: Param) -> Problem {
        self.internal(format!(
            "its {param:?} argument was decoded as another kind than `build` takes"
        ))
    }

    /// The table and the builder disagree: a mistake in the kernel, not in
    /// the cell.
    fn internal(&self, what: impl Display) -> Problem {
        Problem::new(
            ErrorKind::Internal,
            self.head,
            format!(
                "internal error: `{}`'s row in the command table and the parser's `build` disagree ({what}). This line did not run; please report it to the kernel's maintainers.",
                self.spec.name
            ),
        )
    }
}

/// Builds the command from the arguments its row gives. One arm per
/// [`CommandId`] and no catch-all: a new id does not compile until it is
/// built here. Each arm asks for exactly the slots its row declares, in
/// order; anything else is an internal error (see [`Given`]).
fn build(mut given: Given<'_>) -> Result<Command, Problem> {
    use CommandId as C;
    use Param as P;
    let g = &mut given;
    let command = match g.spec.id {
        C::Get => Command::Get {
            key: g.req(P::Key, Arg::bytes)?,
        },
        C::ContainsKey => Command::ContainsKey {
            key: g.req(P::Key, Arg::bytes)?,
        },
        C::Len => Command::Len,
        C::IsEmpty => Command::IsEmpty,
        C::First => Command::First,
        C::Last => Command::Last,
        C::GetLt => Command::GetLt {
            key: g.req(P::Key, Arg::bytes)?,
        },
        C::GetGt => Command::GetGt {
            key: g.req(P::Key, Arg::bytes)?,
        },
        C::ScanPrefix => Command::Rows {
            scan: Scan::Prefix(g.req(P::Prefix, Arg::bytes)?),
            options: g.options()?,
        },
        C::Range => Command::Rows {
            scan: Scan::Range(g.req(P::Range, Arg::range)?),
            options: g.options()?,
        },
        C::Iter => Command::Rows {
            scan: Scan::Iter,
            options: g.options()?,
        },
        C::Keys => Command::Rows {
            scan: Scan::Keys,
            options: g.options()?,
        },
        C::WatchPrefix => Command::WatchPrefix {
            prefix: g.req(P::Prefix, Arg::bytes)?,
        },
        C::Unwatch => Command::Unwatch {
            prefix: g.opt(P::Prefix, Arg::bytes)?,
        },
        C::Insert => Command::Insert {
            key: g.req(P::Key, Arg::bytes)?,
            value: g.req(P::Value, Arg::bytes)?,
        },
        C::Remove => Command::Remove {
            key: g.req(P::Key, Arg::bytes)?,
        },
        C::PopMin => Command::PopMin,
        C::PopMax => Command::PopMax,
        C::CompareAndSwap => Command::CompareAndSwap {
            key: g.req(P::Key, Arg::bytes)?,
            old: g.req(P::Old, Arg::maybe)?,
            new: g.req(P::New, Arg::maybe)?,
        },
        C::Append => Command::Append {
            key: g.req(P::Key, Arg::bytes)?,
            value: g.req(P::Value, Arg::bytes)?,
        },
        C::Incr => Command::Incr {
            key: g.req(P::Key, Arg::bytes)?,
            // `incr KEY` adds 1: the row makes N optional.
            by: g.opt(P::Delta, Arg::int)?.unwrap_or(1),
        },
        C::Clear => Command::Clear,
        C::Batch => g.block(Command::Batch)?,
        C::Transaction => g.block(Command::Transaction)?,
        C::End => Command::End,
        C::Abort => Command::Abort {
            reason: g.text()?.trim().to_string(),
        },
        C::OpenTree => Command::OpenTree {
            name: g.req(P::Tree, Arg::bytes)?,
        },
        C::DefaultTree => Command::DefaultTree,
        C::TreeNames => Command::TreeNames,
        C::DropTree => Command::DropTree {
            name: g.req(P::Tree, Arg::bytes)?,
        },
        C::Flush => Command::Flush,
        C::SizeOnDisk => Command::SizeOnDisk,
        C::Checksum => Command::Checksum,
        C::GenerateId => Command::GenerateId,
        C::WasRecovered => Command::WasRecovered,
        C::Help => Command::Help {
            topic: g.opt(P::Topic, Arg::topic)?,
        },
        C::LsMagic => Command::LsMagic,
        C::Reset => Command::Reset,
        C::Open => Command::Open {
            path: g.req(P::Dir, Arg::text)?,
        },
        C::Reopen => Command::Reopen,
        C::Info => Command::Info,
        C::Timings => Command::Timings,
        C::Limit => Command::Limit {
            rows: g.opt(P::Rows, Arg::count)?,
        },
        C::Load => Command::Load {
            file: g.req(P::File, Arg::text)?,
            flush_every: g.opt(P::FlushEvery, Arg::count)?,
        },
        C::SampleFile => {
            let file = g.req(P::File, Arg::text)?;
            let rows = g.req(P::Rows, Arg::count)?;
            let prefix = g.opt(P::Prefix, Arg::bytes)?;
            let value = g.opt(P::SampleValue, Arg::sample_value)?;
            if value.is_none() && prefix.as_deref().is_some_and(|p| p.starts_with(b"value=")) {
                return Err(Problem::new(
                    ErrorKind::Argument,
                    g.head,
                    "`value=V` comes after PREFIX: write the prefix first, as in `%sample_file bank.jsonl 100 acct: value=100` (or quote a prefix that starts with `value=`).",
                )
                .usage(g.spec.syntax()));
            }
            Command::SampleFile {
                file,
                rows,
                prefix,
                value,
            }
        }
        C::Dump => Command::Dump {
            file: g.req(P::File, Arg::text)?,
        },
        C::Sleep => Command::Sleep {
            duration: g.req(P::Seconds, Arg::seconds)?,
        },
        // The PREFIX slot holds a range when the word is one.
        C::Draw => Command::Draw {
            selection: g.opt(P::Prefix, |arg| match arg {
                Arg::Bytes(prefix) => Some(Scan::Prefix(prefix)),
                Arg::Range(range) => Some(Scan::Range(range)),
                _ => None,
            })?,
        },
        C::Exit => Command::Exit,
        C::Crash => Command::Crash,
        C::CrashCopy => Command::CrashCopy {
            damage: g.opt(P::Damage, Arg::damage)?,
        },
        C::Log => Command::Log,
        C::Transfers => Command::Transfers {
            prefix: g.req(P::Prefix, Arg::bytes)?,
        },
        C::Sum => {
            let prefix = g.req(P::Prefix, Arg::bytes)?;
            // N may be left out: `%sum acct: transaction` puts the way to
            // read in its slot.
            let (times, how_for_n) = g
                .opt(P::Times, |arg| match arg {
                    Arg::Count(n) => Some((Some(n), None)),
                    Arg::ReadHow(how) => Some((None, Some(how))),
                    _ => None,
                })?
                .unwrap_or_default();
            let how = g.opt(P::ReadHow, Arg::read_how)?.or(how_for_n);
            Command::Sum {
                prefix,
                times: times.unwrap_or(1),
                how: how.unwrap_or(ReadHow::Scan),
            }
        }
        C::WrittenBy => Command::WrittenBy {
            key: g.req(P::Key, Arg::bytes)?,
        },
        C::TryOpen => Command::TryOpen {
            path: g.opt(P::Dir, Arg::text)?,
        },
        C::Echo => Command::Echo { text: g.text()? },
        C::Warn => Command::Warn { text: g.text()? },
        C::Time | C::Expect => return Err(g.missing_line()),
    };
    given.finish()?;
    Ok(command)
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

fn too_many(spec: &CommandSpec, params: &[Param], args: &[Word<'_>]) -> Problem {
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
    let most = match spec.args {
        Args::Words { optional, .. } if !optional.is_empty() => "at most ",
        _ => "",
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
            "`{}` takes {most}{} but got {}; {fix}.",
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
                let quoted = lexer::shown(&format!("{joined:?}"));
                problem.help(format!("to keep the spaces, quote it: {quoted}"))
            } else {
                problem
            }
        }
        _ => problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::language::command::COMMANDS;
    use crate::interpreter::language::lexer::Scanner;

    /// A word that decodes in a slot of kind `param`.
    fn sample(param: Param) -> &'static str {
        match param {
            Param::Key | Param::Value | Param::Prefix | Param::Tree => "k",
            Param::Range => "a..b",
            Param::Old | Param::New => "-",
            Param::Delta => "-2",
            Param::Dir | Param::File => "./f",
            Param::Rows | Param::Times => "3",
            Param::Seconds => "0",
            Param::Topic => "get",
            Param::FlushEvery => "flush_every=2",
            Param::SampleValue => "value=1",
            Param::Damage => "tear=1",
            Param::ReadHow => "transaction",
        }
    }

    /// Builds `spec`'s command from a line that gives what its row
    /// declares: every slot (`all`) or only the required ones, `limit 1 rev`
    /// when it takes options, text when it takes text.
    fn build_line(spec: &CommandSpec, all: bool) -> Result<Command, Problem> {
        let mut line = String::from("cmd");
        let mut text = None;
        match spec.args {
            Args::Words {
                required,
                optional,
                options,
            } => {
                let given = if all { optional } else { &[] };
                for param in required.iter().chain(given) {
                    line.push(' ');
                    line.push_str(sample(*param));
                }
                // After a left-out optional slot, `limit` would fill it.
                if options && (all || optional.is_empty()) {
                    line.push_str(" limit 1 rev");
                }
            }
            Args::Text { .. } => text = Some("some text"),
            Args::Line | Args::Block => {}
        }
        let mut scanner = Scanner::new(&line);
        assert!(scanner.start_statement());
        let words: Vec<Word<'_>> = std::iter::from_fn(|| scanner.next_word()).collect();
        command(spec, &words[0], &words[1..], text)
    }

    #[test]
    fn every_row_builds_from_a_line_that_gives_what_it_declares() {
        for spec in COMMANDS {
            for all in [true, false] {
                match build_line(spec, all) {
                    Ok(_) => assert_ne!(spec.args, Args::Line, "{}", spec.name),
                    // `%time` and `expect` alone: their LINE is missing.
                    Err(p) => assert!(
                        spec.args == Args::Line && p.message.contains("missing its LINE"),
                        "{} (all slots: {all}): {p:?}",
                        spec.name
                    ),
                }
            }
        }
    }

    fn leak(params: impl IntoIterator<Item = Param>) -> &'static [Param] {
        params.into_iter().collect::<Vec<_>>().leak()
    }

    fn words(required: &[Param], optional: &[Param], options: bool) -> Args {
        Args::Words {
            required: leak(required.iter().copied()),
            optional: leak(optional.iter().copied()),
            options,
        }
    }

    /// Another kind of slot than `param`.
    fn other(param: Param) -> Param {
        match param {
            Param::Key => Param::Value,
            _ => Param::Key,
        }
    }

    /// A slot's kind changed at `index`.
    fn retyped(params: &[Param], index: usize) -> Vec<Param> {
        let mut params = params.to_vec();
        params[index] = other(params[index]);
        params
    }

    fn without(params: &[Param], index: usize) -> Vec<Param> {
        let mut params = params.to_vec();
        params.remove(index);
        params
    }

    /// Every way to change a row's arguments by one step: a slot dropped,
    /// retyped, added, moved between required and optional; options or text
    /// taken where they were not (and the reverse); a LINE or a block where
    /// there was none.
    fn one_step_from(args: Args) -> Vec<Args> {
        let no_words = words(&[], &[], false);
        let a_key = words(&[Param::Key], &[], false);
        let text = Args::Text { required: false };
        match args {
            Args::Words {
                required,
                optional,
                options,
            } => {
                let mut out = Vec::new();
                for i in 0..required.len() {
                    out.push(words(&without(required, i), optional, options));
                    out.push(words(&retyped(required, i), optional, options));
                }
                for i in 0..optional.len() {
                    out.push(words(required, &without(optional, i), options));
                    out.push(words(required, &retyped(optional, i), options));
                }
                if let Some((last, rest)) = required.split_last() {
                    let optional: Vec<Param> = [*last].iter().chain(optional).copied().collect();
                    out.push(words(rest, &optional, options));
                }
                if let Some((first, rest)) = optional.split_first() {
                    let required: Vec<Param> = required.iter().chain([first]).copied().collect();
                    out.push(words(&required, rest, options));
                }
                let added: Vec<Param> = required.iter().chain(&[Param::Key]).copied().collect();
                out.push(words(&added, optional, options));
                let added: Vec<Param> = optional.iter().chain(&[Param::Key]).copied().collect();
                out.push(words(required, &added, options));
                out.push(words(required, optional, !options));
                out.extend([text, Args::Line, Args::Block]);
                out
            }
            Args::Text { .. } => vec![no_words, a_key, Args::Line, Args::Block],
            Args::Line => vec![no_words, a_key, text, Args::Block],
            Args::Block => vec![no_words, a_key, text, Args::Line],
        }
    }

    #[test]
    fn a_row_that_disagrees_with_build_is_an_internal_error_for_every_row() {
        let mut checked = 0;
        for spec in COMMANDS {
            let changes = one_step_from(spec.args);
            assert!(!changes.is_empty(), "{}", spec.name);
            for args in changes {
                let drifted = CommandSpec { args, ..*spec };
                for all in [true, false] {
                    let problem = match build_line(&drifted, all) {
                        Ok(command) => panic!(
                            "`{}` with {args:?} built {command:?} instead of reporting the mismatch",
                            spec.name
                        ),
                        Err(problem) => problem,
                    };
                    assert_eq!(
                        problem.kind,
                        ErrorKind::Internal,
                        "`{}` with {args:?}: {problem:?}",
                        spec.name
                    );
                    assert!(
                        problem.message.starts_with("internal error: ")
                            && problem.message.contains(spec.name)
                            && problem.message.contains("please report"),
                        "{}",
                        problem.message
                    );
                    checked += 1;
                }
            }
        }
        // Every row changed in at least four ways, each with all its slots
        // given and with only the required ones.
        assert!(checked >= COMMANDS.len() * 8, "{checked}");
    }

    #[test]
    fn an_internal_error_points_at_the_command_word_and_says_what_disagrees() {
        let get = crate::interpreter::language::command::lookup("get").unwrap();
        let drifted = CommandSpec {
            args: words(&[Param::Prefix], &[], false),
            ..*get
        };
        let problem = build_line(&drifted, true).unwrap_err();
        assert_eq!(problem.kind.ename(), "InternalError");
        assert_eq!((problem.span.start.col, problem.span.end.col), (0, 3));
        assert_eq!(
            problem.message,
            "internal error: `get`'s row in the command table and the parser's `build` disagree (its argument 1 is a required Prefix in the table, but `build` asks for a required Key). This line did not run; please report it to the kernel's maintainers."
        );
    }
}
