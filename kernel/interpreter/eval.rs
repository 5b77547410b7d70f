//! Running one command against the session database.
//!
//! `run` only computes what a command produced ([`Effect`]); where that goes
//! (stdout, a display, or the cell's result) is decided by the caller, which
//! knows whether this was the cell's last command. Blocks, files and the
//! session magics have modules of their own; this one holds the reads,
//! writes, trees and database commands and the loop helpers they share.

use std::cell::Cell;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::draw::Tombstones;
use super::errors::ErrorKind;
use super::lexer::Span;
use super::parser::{Command, Scan};
use super::progress::DisplayIds;
use super::render::{self, Answer, Rows};
use super::session::{Session, SessionError, DEFAULT_TREE};
use super::timings::Timings;
use super::watch::Watches;
use super::{blocks, draw, expect, files, help, magics, sample, Interrupt, MimeBundle, Output};

/// Rows read between two looks at the interrupt flag.
pub const INTERRUPT_CHECK_EVERY: usize = 1000;
/// The longest `%sleep` goes without looking at the interrupt flag.
const SLEEP_SLICE: Duration = Duration::from_millis(20);
/// Rows shown per result unless `%limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;

/// Settings that outlive a cell (and a database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Rows shown per result (`%limit`).
    pub limit: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limit: DEFAULT_LIMIT,
        }
    }
}

/// What outlives a command but is not a setting: live displays and what
/// `%draw` remembers of the cell.
#[derive(Default)]
pub struct Live {
    pub watches: Watches,
    /// Keys removed since the cell began.
    pub tombstones: Tombstones,
    pub ids: DisplayIds,
    /// What `%time` measured, for `%timings`.
    pub timings: Timings,
}

/// What a command runs with.
pub struct Ctx<'a> {
    pub session: &'a mut Session,
    pub settings: &'a mut Settings,
    pub interrupt: &'a Interrupt,
    /// Where live output goes while the command runs (progress bars, watch
    /// tables); what the command produced is its [`Effect`].
    pub out: &'a mut dyn Output,
    pub live: &'a mut Live,
}

impl Ctx<'_> {
    /// The current tree.
    pub fn tree(&self) -> Result<&sled::Tree, EvalError> {
        self.session.tree().ok_or(EvalError::Suspended)
    }

    pub fn db(&self) -> Result<&sled::Db, EvalError> {
        self.session.db().ok_or(EvalError::Suspended)
    }

    /// `[users] ` when the current tree is not the default one.
    pub fn tag(&self) -> String {
        render::tree_tag(self.session.tree_name())
    }

    /// Remembers that `key` was removed from the current tree in this cell.
    pub fn removed(&mut self, key: &[u8]) {
        self.live.tombstones.record(self.session.tree_name(), key);
    }

    pub fn ticker(&self) -> Ticker<'_> {
        Ticker {
            interrupt: self.interrupt,
            count: 0,
        }
    }
}

/// Counts steps of a long loop and looks at the interrupt flag every
/// [`INTERRUPT_CHECK_EVERY`] of them, starting with the first.
pub struct Ticker<'a> {
    interrupt: &'a Interrupt,
    count: usize,
}

impl Ticker<'_> {
    pub fn tick(&mut self) -> Result<(), EvalError> {
        let check = self.count % INTERRUPT_CHECK_EVERY == 0;
        self.count += 1;
        if check && self.interrupt.is_raised() {
            return Err(EvalError::Interrupted(None));
        }
        Ok(())
    }
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A line for stdout (without its newline).
    Print(String),
    /// A line for stderr (without its newline).
    Warn(String),
    /// The one-line answer of a read.
    Answer(Answer),
    /// Rows read from the database.
    Rows(Rows),
    /// Rich output that is never a cell's result (help).
    Display(MimeBundle),
    /// Several effects, in order (the lines of a transaction).
    Several(Vec<Effect>),
    /// `%time`: what the line produced and how long it took.
    Timed {
        inner: Box<Effect>,
        elapsed: Duration,
    },
    /// Nothing to show.
    Nothing,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Interrupt was pressed; the text, when given, says what was applied.
    #[error("interrupted")]
    Interrupted(Option<String>),
    #[error(transparent)]
    Storage(#[from] sled::Error),
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The database is let go of (for the Rust cells) and was not reopened.
    #[error("the database is suspended")]
    Suspended,
    /// The command ran but refused: a value that is not a number, the
    /// default tree, a bad file line.
    #[error("{message}")]
    Refused {
        kind: ErrorKind,
        message: String,
        notes: Vec<String>,
    },
    /// A failure inside a block, at the line `at`.
    #[error("{error}")]
    AtLine {
        at: Span,
        name: &'static str,
        error: Box<EvalError>,
    },
}

impl EvalError {
    pub fn refused(kind: ErrorKind, message: impl Into<String>) -> EvalError {
        EvalError::Refused {
            kind,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a `help:` line to a refusal.
    pub fn help(self, text: impl Into<String>) -> EvalError {
        match self {
            EvalError::Refused {
                kind,
                message,
                mut notes,
            } => {
                notes.push(format!("help: {}", text.into()));
                EvalError::Refused {
                    kind,
                    message,
                    notes,
                }
            }
            other => other,
        }
    }
}

pub fn run(ctx: &mut Ctx, command: &Command) -> Result<Effect, EvalError> {
    let tag = ctx.tag();
    let effect = match command {
        // ------------------------------------------------------------ reads
        Command::Get { key } => {
            let value = ctx.tree()?.get(key)?;
            Effect::Answer(Answer::get(&tag, key, value.as_deref()))
        }
        Command::ContainsKey { key } => {
            let found = ctx.tree()?.contains_key(key)?;
            let asked = format!("contains_key {}", render::key(key));
            Effect::Answer(Answer::plain(&tag, &asked, found, json!(found)))
        }
        Command::Len => {
            let n = count(ctx.tree()?.iter(), &mut ctx.ticker())?;
            Effect::Answer(Answer::plain(&tag, "len", n, json!(n)))
        }
        Command::IsEmpty => {
            let empty = ctx.tree()?.is_empty();
            Effect::Answer(Answer::plain(&tag, "is_empty", empty, json!(empty)))
        }
        Command::First => pair_answer(&tag, "first", ctx.tree()?.first()?),
        Command::Last => pair_answer(&tag, "last", ctx.tree()?.last()?),
        Command::GetLt { key } => {
            let asked = format!("get_lt {}", render::key(key));
            pair_answer(&tag, &asked, ctx.tree()?.get_lt(key)?)
        }
        Command::GetGt { key } => {
            let asked = format!("get_gt {}", render::key(key));
            pair_answer(&tag, &asked, ctx.tree()?.get_gt(key)?)
        }
        Command::Rows { scan, options } => Effect::Rows(read_rows(ctx, scan, *options)?),
        // ----------------------------------------------------------- writes
        Command::Insert { key, value } => {
            let old = ctx.tree()?.insert(key.as_slice(), value.as_slice())?;
            Effect::Print(insert_line(&tag, key, value, old.as_deref()))
        }
        Command::Remove { key } => {
            let old = ctx.tree()?.remove(key.as_slice())?;
            if old.is_some() {
                ctx.removed(key);
            }
            Effect::Print(remove_line(&tag, key, old.as_deref()))
        }
        Command::PopMin => {
            let popped = ctx.tree()?.pop_min()?;
            pop_line(ctx, &tag, "pop_min", popped)
        }
        Command::PopMax => {
            let popped = ctx.tree()?.pop_max()?;
            pop_line(ctx, &tag, "pop_max", popped)
        }
        Command::CompareAndSwap { key, old, new } => {
            let swapped =
                ctx.tree()?
                    .compare_and_swap(key.as_slice(), old.as_deref(), new.as_deref())?;
            if swapped.is_ok() && old.is_some() && new.is_none() {
                ctx.removed(key);
            }
            let shown = |v: Option<&[u8]>| v.map_or_else(|| "<missing>".to_string(), render::value);
            let line = match swapped {
                Ok(()) => format!(
                    "{tag}cas {}: {} -> {} (swapped)",
                    render::key(key),
                    shown(old.as_deref()),
                    shown(new.as_deref())
                ),
                Err(conflict) => format!(
                    "{tag}cas {}: not swapped, it holds {} (expected {})",
                    render::key(key),
                    shown(conflict.current.as_deref()),
                    shown(old.as_deref())
                ),
            };
            Effect::Print(line)
        }
        Command::Append { key, value } => {
            let new = ctx.tree()?.update_and_fetch(key.as_slice(), |old| {
                let mut joined = old.map(<[u8]>::to_vec).unwrap_or_default();
                joined.extend_from_slice(value);
                Some(joined)
            })?;
            let shown = render::value(new.as_deref().unwrap_or_default());
            Effect::Print(format!("{tag}append {} -> {shown}", render::key(key)))
        }
        Command::Incr { key, by } => Effect::Print(incr(ctx, &tag, key, *by)?),
        Command::Clear => {
            // One remove at a time, as sled's own `clear` does (a single
            // batch of every key grows without bound on big trees).
            let tree = ctx.tree()?.clone();
            let mut n = 0usize;
            for (i, k) in tree.iter().keys().enumerate() {
                if i % INTERRUPT_CHECK_EVERY == 0 && ctx.interrupt.is_raised() {
                    return Err(EvalError::Interrupted(Some(format!(
                        "Interrupted: `clear` removed {} and stopped; the rest are still there.",
                        render::plural(n, "key")
                    ))));
                }
                let k = k?;
                tree.remove(&k)?;
                ctx.removed(&k);
                n += 1;
            }
            Effect::Print(format!("{tag}clear: removed {}", render::plural(n, "key")))
        }
        // ----------------------------------------------------------- blocks
        // Blocks arrive whole as `Item::Block`; these words only open and
        // close them, and `abort` runs inside a transaction.
        Command::Batch | Command::Transaction | Command::End | Command::Abort { .. } => {
            Effect::Nothing
        }
        // ------------------------------------------------------------ trees
        Command::OpenTree { name } => {
            let existed = ctx.session.use_tree(name)?;
            let line = if name == DEFAULT_TREE {
                "using the default tree".to_string()
            } else if existed {
                format!("using tree {}", render::tree_name(name))
            } else {
                format!("using tree {} (new, empty)", render::tree_name(name))
            };
            Effect::Print(line)
        }
        Command::TreeNames => {
            let mut names: Vec<Vec<u8>> =
                ctx.db()?.tree_names().iter().map(|n| n.to_vec()).collect();
            names.sort();
            let shown: Vec<String> = names.iter().map(|n| render::tree_name(n)).collect();
            let json: Vec<Value> = names.iter().map(|n| render::json_bytes(n)).collect();
            Effect::Answer(Answer::plain(
                "",
                "tree_names",
                shown.join(", "),
                Value::Array(json),
            ))
        }
        Command::DropTree { name } => {
            if name == DEFAULT_TREE {
                return Err(EvalError::refused(
                    ErrorKind::Unsupported,
                    "sled will not drop the default tree `__sled__default`: it holds the database's own structures (sled says \"cannot remove the core structures\").",
                )
                .help("to empty it, `open_tree __sled__default` and then `clear`"));
            }
            let was_current = ctx.session.tree_name() == Some(name.as_slice());
            let dropped = ctx.session.drop_tree(name)?;
            let shown = render::tree_name(name);
            let line = match (dropped, was_current) {
                (true, true) => format!(
                    "drop_tree {shown} -> true (it was the current tree; now using the default tree)"
                ),
                (true, false) => format!("drop_tree {shown} -> true"),
                (false, _) => format!("drop_tree {shown} -> false (there is no such tree)"),
            };
            Effect::Print(line)
        }
        // --------------------------------------------------------- database
        Command::Flush => Effect::Print(format!("flushed {} bytes", ctx.db()?.flush()?)),
        Command::SizeOnDisk => {
            let bytes = ctx.db()?.size_on_disk()?;
            Effect::Answer(Answer::plain(
                "",
                "size_on_disk",
                format!("{bytes} bytes"),
                json!(bytes),
            ))
        }
        Command::Checksum => {
            let sum = checksum(ctx)?;
            Effect::Answer(Answer::plain("", "checksum", sum, json!(sum)))
        }
        Command::GenerateId => {
            let id = ctx.db()?.generate_id()?;
            Effect::Answer(Answer::plain("", "generate_id", id, json!(id)))
        }
        Command::WasRecovered => {
            let recovered = ctx.db()?.was_recovered();
            Effect::Answer(Answer::plain(
                "",
                "was_recovered",
                recovered,
                json!(recovered),
            ))
        }
        // ----------------------------------------------------------- magics
        Command::Help { topic } => Effect::Display(match topic {
            Some(spec) => help::command(spec),
            None => help::overview(),
        }),
        Command::LsMagic => Effect::Display(help::magics()),
        Command::Reset => magics::reset(ctx)?,
        Command::Open { path } => magics::open(ctx, path)?,
        Command::Reopen => magics::reopen(ctx)?,
        Command::Info => magics::info(ctx)?,
        Command::Limit { rows } => magics::limit(ctx, *rows),
        Command::Time(inner) => {
            let started = Instant::now();
            let effect = run(ctx, inner)?;
            Effect::Timed {
                inner: Box::new(effect),
                elapsed: started.elapsed(),
            }
        }
        Command::Load { file, flush_every } => files::load(ctx, file, *flush_every)?,
        Command::SampleFile { file, rows, prefix } => {
            sample::sample_file(ctx, file, *rows, prefix.as_deref())?
        }
        Command::Timings => ctx.live.timings.show(),
        Command::Dump { file } => files::dump(ctx, file)?,
        Command::Sleep { duration } => {
            sleep(*duration, ctx.interrupt)?;
            Effect::Nothing
        }
        // --------------------------------------------------------- printing
        Command::Echo { text } => Effect::Print(text.clone()),
        Command::Warn { text } => Effect::Warn(format!("warning: {text}")),
        // ------------------------------------------------ live and pictures
        Command::WatchPrefix { prefix } => {
            let id = ctx.live.ids.next("watch");
            let limit = ctx.settings.limit;
            let replaced = ctx
                .live
                .watches
                .start(ctx.session, prefix, id, limit, ctx.out);
            Effect::Print(format!(
                "{tag}watching {}: the table above updates itself after each cell that changes a key under it{}",
                render::value(prefix),
                if replaced {
                    " (the earlier table of this prefix stopped)"
                } else {
                    ""
                }
            ))
        }
        Command::Unwatch { prefix } => {
            let limit = ctx.settings.limit;
            let n = ctx.live.watches.stop(prefix.as_deref(), limit, ctx.out);
            Effect::Print(match (prefix, n) {
                (Some(p), 0) => format!("unwatch {}: it was not watched", render::value(p)),
                (Some(p), _) => format!("unwatch {}: stopped", render::value(p)),
                (None, n) => format!("unwatch: stopped {}", render::plural(n, "watch")),
            })
        }
        Command::Draw { selection } => draw::draw(ctx, selection.as_ref())?,
        Command::TryOpen { path } => magics::try_open(ctx, path.as_deref())?,
        Command::Expect { check, expected } => expect::check(ctx, check, expected)?,
    };
    Ok(effect)
}

/// Runs a `batch … end` or `transaction … end`.
pub fn run_block(ctx: &mut Ctx, block: &super::parser::Block) -> Result<Effect, EvalError> {
    blocks::run(ctx, block)
}

/// `put k = "v"`, with ` (was "old")` when a value was replaced.
pub fn insert_line(tag: &str, key: &[u8], value: &[u8], old: Option<&[u8]>) -> String {
    let mut line = format!("{tag}put {} = {}", render::key(key), render::value(value));
    if let Some(old) = old {
        line.push_str(&format!(" (was {})", render::value(old)));
    }
    line
}

/// `remove k (was "v")` or `remove k (was missing)`.
pub fn remove_line(tag: &str, key: &[u8], old: Option<&[u8]>) -> String {
    let was = match old {
        Some(old) => format!("was {}", render::value(old)),
        None => "was missing".to_string(),
    };
    format!("{tag}remove {} ({was})", render::key(key))
}

fn pair_answer(tag: &str, asked: &str, found: Option<(sled::IVec, sled::IVec)>) -> Effect {
    let found = found.as_ref().map(|(k, v)| (k.as_ref(), v.as_ref()));
    Effect::Answer(Answer::pair(tag, asked, found))
}

fn pop_line(
    ctx: &mut Ctx,
    tag: &str,
    asked: &str,
    popped: Option<(sled::IVec, sled::IVec)>,
) -> Effect {
    Effect::Print(match popped {
        Some((k, v)) => {
            ctx.removed(&k);
            format!("{tag}{asked} -> {}", render::pair(&k, &v))
        }
        None => format!("{tag}{asked} -> <none> (the tree is empty)"),
    })
}

/// Why a counter could not be changed.
#[derive(Debug, Clone, PartialEq)]
enum CounterProblem {
    NotANumber(Vec<u8>),
    Overflow(i64),
}

/// `incr`: adds `by` to the decimal counter under `key`, atomically.
fn incr(ctx: &Ctx, tag: &str, key: &[u8], by: i64) -> Result<String, EvalError> {
    let problem = Cell::new(None);
    let new = ctx.tree()?.update_and_fetch(key, |old| {
        let current = match old {
            None => Ok(0),
            Some(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| CounterProblem::NotANumber(bytes.to_vec())),
        };
        match current.and_then(|n| n.checked_add(by).ok_or(CounterProblem::Overflow(n))) {
            Ok(n) => {
                problem.set(None);
                Some(n.to_string().into_bytes())
            }
            Err(why) => {
                // Leave the value as it was.
                problem.set(Some(why));
                old.map(<[u8]>::to_vec)
            }
        }
    })?;
    match problem.into_inner() {
        None => {
            let shown = String::from_utf8_lossy(new.as_deref().unwrap_or_default()).into_owned();
            Ok(format!("{tag}incr {} -> {shown}", render::key(key)))
        }
        Some(CounterProblem::NotANumber(held)) => Err(EvalError::refused(
            ErrorKind::Value,
            format!(
                "`incr` counts in decimal text, but {} holds {}, which is not a whole number; nothing changed.",
                render::key(key),
                render::value(&held)
            ),
        )
        .help(format!(
            "start the counter over with `insert {} 0`",
            render::key(key)
        ))),
        Some(CounterProblem::Overflow(n)) => Err(EvalError::refused(
            ErrorKind::Value,
            format!("{n} + {by} does not fit in a 64-bit integer; nothing changed."),
        )),
    }
}

/// Reads the rows of a scan: keeps the first `%limit` of them and counts
/// the rest without keeping them.
fn read_rows(ctx: &Ctx, scan: &Scan, options: super::args::ReadOptions) -> Result<Rows, EvalError> {
    let tree = ctx.tree()?;
    let iter = match scan {
        Scan::Prefix(prefix) => tree.scan_prefix(prefix),
        Scan::Range(range) => tree.range::<&[u8], _>(range.bounds()),
        Scan::Iter | Scan::Keys => tree.iter(),
    };
    let mut rows = Rows {
        scan: scan.clone(),
        options,
        tree: ctx.session.tree_name().map(<[u8]>::to_vec),
        rows: Vec::new(),
        more: 0,
    };
    let keep_values = *scan != Scan::Keys;
    let show = ctx.settings.limit;
    let cap = options.limit.unwrap_or(usize::MAX);
    let mut ticker = ctx.ticker();
    let mut take = |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<(), EvalError> {
        ticker.tick()?;
        let (k, v) = item?;
        if rows.rows.len() < show {
            rows.rows
                .push((k.to_vec(), keep_values.then(|| v.to_vec())));
        } else {
            rows.more += 1;
        }
        Ok(())
    };
    if options.rev {
        iter.rev().take(cap).try_for_each(&mut take)?;
    } else {
        iter.take(cap).try_for_each(&mut take)?;
    }
    Ok(rows)
}

/// Counts the items of a sled iterator, interruptibly.
pub fn count<T>(
    items: impl Iterator<Item = sled::Result<T>>,
    ticker: &mut Ticker,
) -> Result<usize, EvalError> {
    let mut n = 0;
    for item in items {
        ticker.tick()?;
        item?;
        n += 1;
    }
    Ok(n)
}

/// The CRC32 that `sled::Db::checksum` computes (every tree in name order:
/// its name, then each key and value), in a loop Interrupt can stop.
fn checksum(ctx: &Ctx) -> Result<u32, EvalError> {
    let db = ctx.db()?;
    let mut names = db.tree_names();
    names.sort();
    let mut hasher = crc32fast::Hasher::new();
    let mut ticker = ctx.ticker();
    for name in names {
        hasher.update(&name);
        let tree = if name == DEFAULT_TREE {
            sled::Tree::clone(db)
        } else {
            db.open_tree(&name)?
        };
        for item in tree.iter() {
            ticker.tick()?;
            let (k, v) = item?;
            hasher.update(&k);
            hasher.update(&v);
        }
    }
    Ok(hasher.finalize())
}

/// Sleeps in short slices so an interrupt ends the wait promptly.
fn sleep(duration: Duration, interrupt: &Interrupt) -> Result<(), EvalError> {
    // A deadline too far away to represent means "until interrupted".
    let deadline = Instant::now().checked_add(duration);
    loop {
        if interrupt.is_raised() {
            return Err(EvalError::Interrupted(None));
        }
        let left = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => SLEEP_SLICE,
        };
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLEEP_SLICE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::args::ReadOptions;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    struct Fixture {
        session: Session,
        settings: Settings,
        interrupt: Interrupt,
        live: Live,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                session: Session::temporary().unwrap(),
                settings: Settings::default(),
                interrupt: Interrupt::new(),
                live: Live::default(),
            }
        }

        fn seeded() -> Fixture {
            let f = Fixture::new();
            for (k, v) in [
                ("todo:002", "b"),
                ("note:042", "n"),
                ("todo:001", "a"),
                ("todo:", "p"),
            ] {
                f.tree().insert(k, v).unwrap();
            }
            f
        }

        fn tree(&self) -> &sled::Tree {
            self.session.tree().unwrap()
        }

        fn run(&mut self, command: Command) -> Result<Effect, EvalError> {
            let mut ctx = Ctx {
                session: &mut self.session,
                settings: &mut self.settings,
                interrupt: &self.interrupt,
                out: &mut super::super::Discard,
                live: &mut self.live,
            };
            run(&mut ctx, &command)
        }

        fn ok(&mut self, command: Command) -> Effect {
            self.run(command).unwrap()
        }

        fn rows(&mut self, scan: Scan, options: ReadOptions) -> Rows {
            match self.ok(Command::Rows { scan, options }) {
                Effect::Rows(rows) => rows,
                other => panic!("not rows: {other:?}"),
            }
        }

        fn answer(&mut self, command: Command) -> Answer {
            match self.ok(command) {
                Effect::Answer(a) => a,
                other => panic!("not an answer: {other:?}"),
            }
        }
    }

    fn print(s: &str) -> Effect {
        Effect::Print(s.to_string())
    }

    fn keys_of(rows: &Rows) -> Vec<Vec<u8>> {
        rows.rows.iter().map(|(k, _)| k.clone()).collect()
    }

    #[test]
    fn insert_reports_the_replaced_value() {
        let mut f = Fixture::new();
        let insert = |v: &str| Command::Insert {
            key: b("todo:001"),
            value: b(v),
        };
        assert_eq!(
            f.ok(insert("buy boots")),
            print(r#"put todo:001 = "buy boots""#)
        );
        assert_eq!(
            f.ok(insert("buy shoes")),
            print(r#"put todo:001 = "buy shoes" (was "buy boots")"#)
        );
        assert_eq!(
            f.tree().get("todo:001").unwrap().as_deref(),
            Some(&b"buy shoes"[..])
        );
    }

    #[test]
    fn single_key_reads() {
        let mut f = Fixture::seeded();
        assert_eq!(
            f.answer(Command::Get { key: b("todo:001") }).text,
            r#"get todo:001 -> "a""#
        );
        assert_eq!(
            f.answer(Command::Get { key: b("x") }).text,
            "get x -> <missing>"
        );
        let a = f.answer(Command::ContainsKey { key: b("todo:") });
        assert_eq!(
            (a.text.as_str(), &a.json),
            ("contains_key todo: -> true", &json!(true))
        );
        assert_eq!(
            f.answer(Command::ContainsKey { key: b("nope") }).text,
            "contains_key nope -> false"
        );
        let a = f.answer(Command::Len);
        assert_eq!((a.text.as_str(), &a.json), ("len -> 4", &json!(4)));
        assert_eq!(f.answer(Command::IsEmpty).text, "is_empty -> false");
        assert_eq!(f.answer(Command::First).text, r#"first -> note:042 = "n""#);
        assert_eq!(f.answer(Command::Last).text, r#"last -> todo:002 = "b""#);
        assert_eq!(
            f.answer(Command::GetLt { key: b("todo:001") }).text,
            r#"get_lt todo:001 -> todo: = "p""#
        );
        assert_eq!(
            f.answer(Command::GetGt { key: b("todo:001") }).text,
            r#"get_gt todo:001 -> todo:002 = "b""#
        );
        assert_eq!(
            f.answer(Command::GetGt { key: b("zzz") }).text,
            "get_gt zzz -> <none>"
        );
        assert_eq!(f.answer(Command::GetLt { key: b("") }).json, Value::Null);
        f.ok(Command::Clear);
        assert_eq!(f.answer(Command::IsEmpty).text, "is_empty -> true");
        assert_eq!(f.answer(Command::First).text, "first -> <none>");
        assert_eq!(f.answer(Command::Len).text, "len -> 0");
    }

    #[test]
    fn row_reads_in_order_with_limit_and_rev() {
        let mut f = Fixture::seeded();
        let all = ReadOptions::default();
        let rows = f.rows(Scan::Prefix(b("todo:")), all);
        assert_eq!(keys_of(&rows), [b("todo:"), b("todo:001"), b("todo:002")]);
        assert_eq!(rows.rows[1].1, Some(b("a")));
        let rows = f.rows(Scan::Iter, all);
        assert_eq!(rows.rows.len(), 4);
        assert_eq!(rows.rows[0], (b("note:042"), Some(b("n"))));
        let rows = f.rows(Scan::Keys, all);
        assert_eq!(rows.rows[0], (b("note:042"), None));
        let back = ReadOptions {
            limit: Some(2),
            rev: true,
        };
        let rows = f.rows(Scan::Prefix(b("todo:")), back);
        assert_eq!(keys_of(&rows), [b("todo:002"), b("todo:001")]);
        assert_eq!(rows.more, 0, "limit N reads N; nothing more to count");
        let rows = f.rows(
            Scan::Keys,
            ReadOptions {
                limit: Some(0),
                rev: false,
            },
        );
        assert!(rows.rows.is_empty());
    }

    #[test]
    fn ranges_in_every_bound_form() {
        use crate::interpreter::args::KeyRange;
        use std::ops::Bound::*;
        let mut f = Fixture::seeded();
        let mut range =
            |lo, hi| keys_of(&f.rows(Scan::Range(KeyRange { lo, hi }), ReadOptions::default()));
        assert_eq!(
            range(Included(b("todo:")), Excluded(b("todo:002"))),
            [b("todo:"), b("todo:001")]
        );
        assert_eq!(
            range(Included(b("todo:")), Included(b("todo:002"))),
            [b("todo:"), b("todo:001"), b("todo:002")]
        );
        assert_eq!(range(Unbounded, Excluded(b("todo:"))), [b("note:042")]);
        assert_eq!(range(Included(b("todo:002")), Unbounded), [b("todo:002")]);
        assert_eq!(range(Unbounded, Unbounded).len(), 4);
        assert!(
            range(Included(b("z")), Excluded(b("a"))).is_empty(),
            "inverted: empty, no panic"
        );
        assert!(range(Included(b("a")), Excluded(b("a"))).is_empty());
    }

    #[test]
    fn the_display_limit_counts_the_rest() {
        let mut f = Fixture::new();
        for i in 0..250u32 {
            f.tree().insert(format!("k{i:03}"), &b"v"[..]).unwrap();
        }
        let rows = f.rows(Scan::Iter, ReadOptions::default());
        assert_eq!((rows.rows.len(), rows.more), (100, 150));
        f.settings.limit = 10;
        let rows = f.rows(
            Scan::Keys,
            ReadOptions {
                limit: Some(50),
                rev: true,
            },
        );
        assert_eq!((rows.rows.len(), rows.more), (10, 40));
        assert_eq!(rows.rows[0].0, b("k249"));
    }

    #[test]
    fn remove_pop_and_clear() {
        let mut f = Fixture::seeded();
        assert_eq!(
            f.ok(Command::Remove { key: b("todo:001") }),
            print(r#"remove todo:001 (was "a")"#)
        );
        assert_eq!(
            f.ok(Command::Remove { key: b("todo:001") }),
            print("remove todo:001 (was missing)")
        );
        assert_eq!(f.ok(Command::PopMin), print(r#"pop_min -> note:042 = "n""#));
        assert_eq!(f.ok(Command::PopMax), print(r#"pop_max -> todo:002 = "b""#));
        assert_eq!(f.ok(Command::Clear), print("clear: removed 1 key"));
        assert!(f.tree().is_empty());
        assert_eq!(
            f.ok(Command::PopMin),
            print("pop_min -> <none> (the tree is empty)")
        );
        assert_eq!(f.ok(Command::Clear), print("clear: removed 0 keys"));
    }

    #[test]
    fn compare_and_swap_with_absent_on_either_side() {
        let mut f = Fixture::new();
        let cas = |old: Option<&str>, new: Option<&str>| Command::CompareAndSwap {
            key: b("lock"),
            old: old.map(b),
            new: new.map(b),
        };
        assert_eq!(
            f.ok(cas(None, Some("me"))),
            print(r#"cas lock: <missing> -> "me" (swapped)"#)
        );
        assert_eq!(
            f.ok(cas(None, Some("you"))),
            print(r#"cas lock: not swapped, it holds "me" (expected <missing>)"#)
        );
        assert_eq!(
            f.ok(cas(Some("you"), Some("x"))),
            print(r#"cas lock: not swapped, it holds "me" (expected "you")"#)
        );
        assert_eq!(
            f.ok(cas(Some("me"), None)),
            print(r#"cas lock: "me" -> <missing> (swapped)"#)
        );
        assert!(f.tree().is_empty());
    }

    #[test]
    fn append_and_incr() {
        let mut f = Fixture::new();
        let append = |v: &str| Command::Append {
            key: b("log"),
            value: b(v),
        };
        assert_eq!(f.ok(append("a")), print(r#"append log -> "a""#));
        assert_eq!(f.ok(append("bc")), print(r#"append log -> "abc""#));
        let incr = |by| Command::Incr { key: b("n"), by };
        assert_eq!(f.ok(incr(1)), print("incr n -> 1"));
        assert_eq!(f.ok(incr(10)), print("incr n -> 11"));
        assert_eq!(f.ok(incr(-12)), print("incr n -> -1"));
        assert_eq!(
            f.tree().get("n").unwrap().as_deref(),
            Some(&b"-1"[..]),
            "decimal text"
        );
        let e = f
            .run(Command::Incr {
                key: b("log"),
                by: 1,
            })
            .unwrap_err();
        let EvalError::Refused {
            kind,
            message,
            notes,
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(kind, ErrorKind::Value);
        assert!(
            message.contains(r#"log holds "abc", which is not a whole number"#),
            "{message}"
        );
        assert!(notes[0].contains("insert log 0"));
        assert_eq!(
            f.tree().get("log").unwrap().as_deref(),
            Some(&b"abc"[..]),
            "unchanged"
        );
        f.tree()
            .insert("n", i64::MAX.to_string().as_bytes())
            .unwrap();
        let e = f.run(incr(1)).unwrap_err();
        assert!(e.to_string().contains("does not fit"), "{e}");
    }

    #[test]
    fn trees_are_named_in_output_and_the_default_cannot_be_dropped() {
        let mut f = Fixture::new();
        assert_eq!(
            f.ok(Command::OpenTree { name: b("users") }),
            print("using tree users (new, empty)")
        );
        assert_eq!(
            f.ok(Command::Insert {
                key: b("alice"),
                value: b("admin")
            }),
            print(r#"[users] put alice = "admin""#)
        );
        assert_eq!(
            f.answer(Command::Get { key: b("alice") }).text,
            r#"[users] get alice -> "admin""#
        );
        let rows = f.rows(Scan::Keys, ReadOptions::default());
        assert_eq!(rows.text(), "[users] keys:\n  alice");
        assert_eq!(
            f.answer(Command::TreeNames).text,
            "tree_names -> __sled__default, users"
        );
        assert_eq!(
            f.ok(Command::OpenTree {
                name: DEFAULT_TREE.to_vec()
            }),
            print("using the default tree")
        );
        assert_eq!(
            f.answer(Command::Get { key: b("alice") }).text,
            "get alice -> <missing>"
        );
        assert_eq!(
            f.ok(Command::OpenTree { name: b("users") }),
            print("using tree users")
        );
        assert_eq!(
            f.ok(Command::DropTree { name: b("users") }),
            print("drop_tree users -> true (it was the current tree; now using the default tree)")
        );
        assert_eq!(
            f.ok(Command::DropTree { name: b("users") }),
            print("drop_tree users -> false (there is no such tree)")
        );
        let e = f
            .run(Command::DropTree {
                name: DEFAULT_TREE.to_vec(),
            })
            .unwrap_err();
        assert!(
            matches!(
                &e,
                EvalError::Refused {
                    kind: ErrorKind::Unsupported,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("cannot remove the core structures"));
    }

    #[test]
    fn database_commands() {
        let mut f = Fixture::seeded();
        f.ok(Command::OpenTree { name: b("other") });
        f.tree().insert("x", "y").unwrap();
        let Effect::Print(flushed) = f.ok(Command::Flush) else {
            panic!()
        };
        assert!(
            flushed.starts_with("flushed ") && flushed != "flushed 0 bytes",
            "{flushed}"
        );
        assert_eq!(f.ok(Command::Flush), print("flushed 0 bytes"));
        let a = f.answer(Command::SizeOnDisk);
        assert!(a.text.starts_with("size_on_disk -> ") && a.text.ends_with(" bytes"));
        assert!(a.json.as_u64().is_some_and(|n| n > 0));
        let expected = f.session.db().unwrap().checksum().unwrap();
        assert_eq!(
            f.answer(Command::Checksum).json,
            json!(expected),
            "same as sled's"
        );
        let first = f.answer(Command::GenerateId).json;
        let second = f.answer(Command::GenerateId).json;
        assert_ne!(first, second);
        assert_eq!(
            f.answer(Command::WasRecovered).text,
            "was_recovered -> false"
        );
    }

    #[test]
    fn echo_warn_and_sleep() {
        let mut f = Fixture::new();
        assert_eq!(
            f.ok(Command::Echo {
                text: "hi there".into()
            }),
            print("hi there")
        );
        assert_eq!(
            f.ok(Command::Warn {
                text: "careful".into()
            }),
            Effect::Warn("warning: careful".into())
        );
        let started = Instant::now();
        let effect = f.ok(Command::Sleep {
            duration: Duration::from_millis(60),
        });
        assert_eq!(effect, Effect::Nothing);
        assert!(started.elapsed() >= Duration::from_millis(60));
    }

    #[test]
    fn a_raised_interrupt_stops_every_long_loop() {
        let mut f = Fixture::seeded();
        f.interrupt.raise();
        let all = ReadOptions::default();
        for command in [
            Command::Rows {
                scan: Scan::Iter,
                options: all,
            },
            Command::Rows {
                scan: Scan::Keys,
                options: all,
            },
            Command::Rows {
                scan: Scan::Prefix(b("todo:")),
                options: all,
            },
            Command::Len,
            Command::Checksum,
            Command::Clear,
            Command::Sleep {
                duration: Duration::from_secs(60),
            },
        ] {
            let result = f.run(command.clone());
            assert!(
                matches!(result, Err(EvalError::Interrupted(_))),
                "{command:?}: {result:?}"
            );
        }
        assert_eq!(f.tree().len(), 4, "clear was stopped before its first key");
    }

    #[test]
    fn a_long_loop_notices_an_interrupt_raised_midway() {
        let f = Fixture::new();
        for i in 0..5000u32 {
            f.tree().insert(i.to_be_bytes(), &b"v"[..]).unwrap();
        }
        let seen = Cell::new(0usize);
        let flag = f.interrupt.clone();
        // Raise the flag from "inside" the loop, after 1500 rows: the next
        // check (at row 2000) must stop it.
        let rows = f.tree().iter().inspect(|_| {
            seen.set(seen.get() + 1);
            if seen.get() == 1500 {
                flag.raise();
            }
        });
        let mut ticker = Ticker {
            interrupt: &f.interrupt,
            count: 0,
        };
        let result = count(rows, &mut ticker);
        assert!(matches!(result, Err(EvalError::Interrupted(None))));
        assert_eq!(seen.get(), 2001);
    }

    #[test]
    fn absurdly_long_sleep_is_still_interruptible() {
        let interrupt = Interrupt::new();
        let flag = interrupt.clone();
        let raiser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            flag.raise();
        });
        let result = sleep(Duration::MAX, &interrupt);
        raiser.join().unwrap();
        assert!(matches!(result, Err(EvalError::Interrupted(None))));
    }
}
