//! The commands that are sled calls: reads, writes, trees and the
//! database. Each takes the context and what the command names, and returns
//! what it produced; `dispatch` picks which one runs.

use std::cell::Cell;

use serde_json::{json, Value};

use super::context::{count, Ctx, Effect, EvalError, INTERRUPT_CHECK_EVERY};
use super::session::DEFAULT_TREE;
use crate::interpreter::language::args::ReadOptions;
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::language::parser::Scan;
use crate::interpreter::showing::lines::kv as said;
use crate::interpreter::showing::render::{self, Answer, Rows};

// ------------------------------------------------------------------- reads

pub(crate) fn get(ctx: &Ctx<'_>, key: &[u8]) -> Result<Effect, EvalError> {
    let value = ctx.tree()?.get(key)?;
    Ok(Effect::Answer(Answer::get(
        &ctx.tag(),
        key,
        value.as_deref(),
    )))
}

pub(crate) fn contains_key(ctx: &Ctx<'_>, key: &[u8]) -> Result<Effect, EvalError> {
    let found = ctx.tree()?.contains_key(key)?;
    let asked = said::asked("contains_key", key);
    Ok(Effect::Answer(Answer::plain(
        &ctx.tag(),
        &asked,
        found,
        json!(found),
    )))
}

pub(crate) fn len(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    let items = ctx.tree()?.iter();
    let n = count(items, &mut ctx.ticker())?;
    Ok(Effect::Answer(Answer::plain(
        &ctx.tag(),
        "len",
        n,
        json!(n),
    )))
}

pub(crate) fn is_empty(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    let empty = ctx.tree()?.is_empty();
    Ok(Effect::Answer(Answer::plain(
        &ctx.tag(),
        "is_empty",
        empty,
        json!(empty),
    )))
}

pub(crate) fn first(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    Ok(pair_answer(&ctx.tag(), "first", ctx.tree()?.first()?))
}

pub(crate) fn last(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    Ok(pair_answer(&ctx.tag(), "last", ctx.tree()?.last()?))
}

pub(crate) fn get_lt(ctx: &Ctx<'_>, key: &[u8]) -> Result<Effect, EvalError> {
    let asked = said::asked("get_lt", key);
    Ok(pair_answer(&ctx.tag(), &asked, ctx.tree()?.get_lt(key)?))
}

pub(crate) fn get_gt(ctx: &Ctx<'_>, key: &[u8]) -> Result<Effect, EvalError> {
    let asked = said::asked("get_gt", key);
    Ok(pair_answer(&ctx.tag(), &asked, ctx.tree()?.get_gt(key)?))
}

/// `scan_prefix`, `range`, `iter` and `keys`.
pub(crate) fn rows(
    ctx: &mut Ctx<'_>,
    scan: &Scan,
    options: ReadOptions,
) -> Result<Effect, EvalError> {
    Ok(Effect::Rows(read_rows(ctx, scan, options)?))
}

// ------------------------------------------------------------------ writes

pub(crate) fn insert(ctx: &Ctx<'_>, key: &[u8], value: &[u8]) -> Result<Effect, EvalError> {
    let old = ctx.tree()?.insert(key, value)?;
    Ok(Effect::Print(said::put(
        &ctx.tag(),
        key,
        value,
        old.as_deref(),
    )))
}

pub(crate) fn remove(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Effect, EvalError> {
    let old = ctx.tree()?.remove(key)?;
    if old.is_some() {
        ctx.removed(key);
    }
    Ok(Effect::Print(said::removed(
        &ctx.tag(),
        key,
        old.as_deref(),
    )))
}

pub(crate) fn pop_min(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    let popped = ctx.tree()?.pop_min()?;
    Ok(pop_line(ctx, "pop_min", popped))
}

pub(crate) fn pop_max(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    let popped = ctx.tree()?.pop_max()?;
    Ok(pop_line(ctx, "pop_max", popped))
}

pub(crate) fn compare_and_swap(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) -> Result<Effect, EvalError> {
    let tag = ctx.tag();
    let swapped = ctx.tree()?.compare_and_swap(key, old, new)?;
    if swapped.is_ok() && old.is_some() && new.is_none() {
        ctx.removed(key);
    }
    let current = swapped
        .as_ref()
        .map(|_| ())
        .map_err(|conflict| conflict.current.as_deref());
    Ok(Effect::Print(said::compared_and_swapped(
        &tag, key, old, new, current,
    )))
}

pub(crate) fn append(ctx: &Ctx<'_>, key: &[u8], value: &[u8]) -> Result<Effect, EvalError> {
    let new = ctx.tree()?.update_and_fetch(key, |old| {
        let mut joined = old.map(<[u8]>::to_vec).unwrap_or_default();
        joined.extend_from_slice(value);
        Some(joined)
    })?;
    Ok(Effect::Print(said::appended(
        &ctx.tag(),
        key,
        new.as_deref().unwrap_or_default(),
    )))
}

pub(crate) fn incr(ctx: &Ctx<'_>, key: &[u8], by: i64) -> Result<Effect, EvalError> {
    Ok(Effect::Print(add_to_counter(ctx, &ctx.tag(), key, by)?))
}

pub(crate) fn clear(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    // One remove at a time, as sled's own `clear` does (a single batch of
    // every key grows without bound on big trees).
    let tree = ctx.tree()?.clone();
    let mut n = 0usize;
    for (i, k) in tree.iter().keys().enumerate() {
        if i % INTERRUPT_CHECK_EVERY == 0 && ctx.interrupt.is_raised() {
            return Err(EvalError::Interrupted(Some(said::clear_interrupted(n))));
        }
        let k = k?;
        tree.remove(&k)?;
        ctx.removed(&k);
        n += 1;
    }
    Ok(Effect::Print(said::cleared(&ctx.tag(), n)))
}

// ------------------------------------------------------------------- trees

pub(crate) fn open_tree(ctx: &mut Ctx<'_>, name: &[u8]) -> Result<Effect, EvalError> {
    let existed = ctx.session.use_tree(name)?;
    let named = (name != DEFAULT_TREE).then_some((name, existed));
    Ok(Effect::Print(said::using_tree(named)))
}

/// `default_tree`: back to the `Db` itself, sled's default tree.
pub(crate) fn default_tree(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    ctx.session.use_tree(DEFAULT_TREE)?;
    Ok(Effect::Print(said::using_tree(None)))
}

pub(crate) fn tree_names(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    let mut names: Vec<Vec<u8>> = ctx.db()?.tree_names().iter().map(|n| n.to_vec()).collect();
    names.sort();
    let shown: Vec<String> = names.iter().map(|n| render::tree_name(n)).collect();
    let json: Vec<Value> = names.iter().map(|n| render::json_bytes(n)).collect();
    Ok(Effect::Answer(Answer::plain(
        "",
        "tree_names",
        shown.join(", "),
        Value::Array(json),
    )))
}

pub(crate) fn drop_tree(ctx: &mut Ctx<'_>, name: &[u8]) -> Result<Effect, EvalError> {
    if name == DEFAULT_TREE {
        return Err(
            EvalError::refused(ErrorKind::Unsupported, said::DEFAULT_TREE_STAYS)
                .help(said::EMPTY_THE_DEFAULT_TREE),
        );
    }
    let was_current = ctx.session.tree_name() == Some(name);
    let dropped = ctx.session.drop_tree(name)?;
    Ok(Effect::Print(said::dropped_tree(
        name,
        dropped,
        was_current,
    )))
}

// ---------------------------------------------------------------- database

pub(crate) fn flush(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    Ok(Effect::Print(said::flushed(ctx.db()?.flush()?)))
}

pub(crate) fn size_on_disk(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    let bytes = ctx.db()?.size_on_disk()?;
    Ok(Effect::Answer(Answer::plain(
        "",
        "size_on_disk",
        said::size_on_disk(bytes),
        json!(bytes),
    )))
}

pub(crate) fn checksum(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    let sum = crc32_of_every_tree(ctx)?;
    Ok(Effect::Answer(Answer::plain(
        "",
        "checksum",
        sum,
        json!(sum),
    )))
}

pub(crate) fn generate_id(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    let id = ctx.db()?.generate_id()?;
    Ok(Effect::Answer(Answer::plain(
        "",
        "generate_id",
        id,
        json!(id),
    )))
}

pub(crate) fn was_recovered(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    let recovered = ctx.db()?.was_recovered();
    Ok(Effect::Answer(Answer::plain(
        "",
        "was_recovered",
        recovered,
        json!(recovered),
    )))
}

// ----------------------------------------------------------------- helpers

fn pair_answer(tag: &str, asked: &str, found: Option<(sled::IVec, sled::IVec)>) -> Effect {
    let found = found.as_ref().map(|(k, v)| (k.as_ref(), v.as_ref()));
    Effect::Answer(Answer::pair(tag, asked, found))
}

fn pop_line(ctx: &mut Ctx<'_>, asked: &str, popped: Option<(sled::IVec, sled::IVec)>) -> Effect {
    if let Some((k, _)) = &popped {
        ctx.removed(k);
    }
    let popped = popped.as_ref().map(|(k, v)| (k.as_ref(), v.as_ref()));
    Effect::Print(said::popped(&ctx.tag(), asked, popped))
}

/// Why a counter could not be changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CounterProblem {
    NotANumber(Vec<u8>),
    Overflow(i64),
}

/// The counter `old` (decimal text; missing counts as 0) plus `by`.
pub(crate) fn counter_sum(old: Option<&[u8]>, by: i64) -> Result<i64, CounterProblem> {
    let current = match old {
        None => 0,
        Some(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| CounterProblem::NotANumber(bytes.to_vec()))?,
    };
    current
        .checked_add(by)
        .ok_or(CounterProblem::Overflow(current))
}

/// Why `incr` left the counter under `key` alone: the sentence, and the
/// notes under it (a `help:` line when there is a fix).
pub(crate) fn counter_refusal(
    key: &[u8],
    by: i64,
    problem: CounterProblem,
) -> (String, Vec<String>) {
    match problem {
        CounterProblem::NotANumber(held) => said::not_a_counter(key, &held),
        CounterProblem::Overflow(n) => said::counter_overflow(n, by),
    }
}

/// `incr`: adds `by` to the decimal counter under `key`, atomically.
fn add_to_counter(ctx: &Ctx<'_>, tag: &str, key: &[u8], by: i64) -> Result<String, EvalError> {
    let outcome = Cell::new(None);
    ctx.tree()?.update_and_fetch(key, |old| {
        let sum = counter_sum(old, by);
        let new = match &sum {
            Ok(n) => Some(n.to_string().into_bytes()),
            // Leave the value as it was.
            Err(_) => old.map(<[u8]>::to_vec),
        };
        outcome.set(Some(sum));
        new
    })?;
    match outcome.into_inner() {
        Some(Ok(n)) => Ok(said::incremented(tag, key, n)),
        Some(Err(problem)) => {
            let (message, notes) = counter_refusal(key, by, problem);
            Err(EvalError::Refused {
                kind: ErrorKind::Value,
                message,
                notes,
            })
        }
        // sled calls the closure at least once; were it not called, nothing changed.
        None => Err(EvalError::refused(ErrorKind::Storage, said::UPDATE_NOT_RUN)),
    }
}

/// Reads the rows of a scan: keeps the first `%limit` of them and counts
/// the rest without keeping them.
fn read_rows(ctx: &mut Ctx<'_>, scan: &Scan, options: ReadOptions) -> Result<Rows, EvalError> {
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

/// The CRC32 that `sled::Db::checksum` computes (every tree in name order:
/// its name, then each key and value), in a loop Interrupt can stop.
fn crc32_of_every_tree(ctx: &mut Ctx<'_>) -> Result<u32, EvalError> {
    let db = ctx.db()?.clone();
    let mut names = db.tree_names();
    names.sort();
    let mut hasher = crc32fast::Hasher::new();
    let mut ticker = ctx.ticker();
    for name in names {
        hasher.update(&name);
        let tree = if name == DEFAULT_TREE {
            sled::Tree::clone(&db)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Interrupt;
    use crate::interpreter::language::parser::Command;
    use crate::interpreter::running::context::{Live, Settings, Ticker};
    use crate::interpreter::running::dispatch::run;
    use crate::interpreter::running::session::Session;
    use std::time::{Duration, Instant};

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
                out: &mut crate::cell::Discard,
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
        use crate::interpreter::language::args::KeyRange;
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
        let mut out = crate::cell::Discard;
        let mut ticker = Ticker::new(&f.interrupt, &mut out);
        let result = count(rows, &mut ticker);
        assert!(matches!(result, Err(EvalError::Interrupted(None))));
        assert_eq!(seen.get(), 2001);
    }
}
