//! The magics that act on the session itself: `%reset`, `%open`, `%reopen`,
//! `%info`, `%limit`, `%timings`, `%try_open` and `%sleep`. (`%help` and
//! `%lsmagic` are texts in `showing::help`, `%load`, `%dump` and
//! `%sample_file` are in `files`, `%time` is in `dispatch`.)

use std::time::{Duration, Instant};

use super::context::{count, Ctx, Effect, EvalError, DEFAULT_LIMIT};
use super::files::resolve;
use super::lock_holder::Holder;
use super::session::{Session, SessionError, DEFAULT_TREE};
use crate::cell::Interrupt;
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::showing::lines::magics::{self as said, Holds, Info, LockedBy, Tried};
use crate::interpreter::showing::lines::watch as watch_said;
use crate::interpreter::showing::timings::{self, Measured};

/// How often sled's background flusher runs for a persistent database
/// (sled's default, which `%open` keeps).
const FLUSH_EVERY_MS: u64 = 500;
/// The longest `%sleep` goes without looking at the interrupt flag.
const SLEEP_SLICE: Duration = Duration::from_millis(20);

/// `%reset`: a fresh temporary database. The new one is opened first, so a
/// failure leaves the session as it was.
pub(crate) fn reset(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    let fresh = Session::temporary()?;
    let limit = ctx.settings.limit;
    ctx.live
        .watches
        .stop_all(watch_said::STOPPED_BY_RESET, limit, ctx.out);
    let old = std::mem::replace(ctx.session, fresh);
    let kept = (!old.is_temporary()).then(|| old.path().display().to_string());
    drop(old);
    Ok(Effect::Print(said::reset(kept.as_deref())))
}

/// `%open PATH`: switch to a persistent database. The session keeps the
/// database it had if this one cannot be opened.
pub(crate) fn open(ctx: &mut Ctx<'_>, typed: &str) -> Result<Effect, EvalError> {
    let path = resolve(typed);
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize())
    {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if same(&path, ctx.session.path()) {
        return Ok(Effect::Print(said::already_open(typed)));
    }
    if path.is_file() {
        return Err(EvalError::refused(
            ErrorKind::File,
            said::open_a_file(typed),
        ));
    }
    let foreign = std::fs::read_dir(&path).ok().is_some_and(|mut entries| {
        let has_files = entries.next().is_some();
        has_files && !path.join("conf").exists() && !path.join("db").exists()
    });
    if foreign {
        return Err(EvalError::refused(
            ErrorKind::File,
            said::open_foreign(typed),
        ));
    }
    let opened = Session::persistent(&path).map_err(|e| match e {
        SessionError::Locked { holder, .. } => locked_by_other(typed, holder.as_ref()),
        other => other.into(),
    })?;
    let recovered = opened.db().is_some_and(sled::Db::was_recovered);
    let limit = ctx.settings.limit;
    ctx.live
        .watches
        .stop_all(watch_said::STOPPED_BY_OPEN, limit, ctx.out);
    let old = std::mem::replace(ctx.session, opened);
    let left_temporary = old.is_temporary();
    drop(old);
    let mut lines = vec![Effect::Print(said::opened(typed, recovered))];
    if left_temporary {
        lines.push(Effect::Print(said::TEMPORARY_DELETED.to_string()));
    }
    Ok(Effect::Several(lines))
}

/// The `%open` error for a directory someone else holds.
fn locked_by_other(typed: &str, holder: Option<&Holder>) -> EvalError {
    let described = holder.map(Holder::describe);
    let by = match (holder, &described) {
        (Some(h), _) if h.is_this_kernel() => LockedBy::ThisKernel,
        (_, Some(described)) => LockedBy::Process(described),
        // Only Linux names the holder.
        _ => LockedBy::Unnamed {
            rust_cells: cfg!(feature = "rust-cells"),
        },
    };
    EvalError::refused(ErrorKind::Locked, said::locked(typed, by)).help(said::CLOSE_IT_THERE)
}

/// `%try_open [PATH]`: a second, independent `sled::open` of a database,
/// as another program would make it; reports what sled answered.
pub(crate) fn try_open(ctx: &mut Ctx<'_>, typed: Option<&str>) -> Result<Effect, EvalError> {
    let (path, shown) = match typed {
        Some(typed) => (resolve(typed), typed.to_string()),
        None if ctx.session.is_temporary() => (
            ctx.session.path().to_path_buf(),
            said::THIS_TEMPORARY_DATABASE.to_string(),
        ),
        None => (
            ctx.session.path().to_path_buf(),
            said::THIS_DATABASE.to_string(),
        ),
    };
    if !path.join("conf").exists() && !path.join("db").exists() {
        return Err(
            EvalError::refused(ErrorKind::File, said::nothing_to_try(&shown))
                .help(said::OPEN_CREATES),
        );
    }
    let held_here = ctx.session.path() == path && !ctx.session.is_suspended();
    match sled::Config::new().path(&path).open() {
        Ok(second) => {
            drop(second);
            Ok(Effect::Print(said::tried(&shown, Tried::Opened)))
        }
        Err(e) if e.to_string().contains("could not acquire lock") => {
            let holder = if held_here {
                Holds::ThisSession
            } else {
                match super::lock_holder::lock_holder(&path.join("db")) {
                    Some(h) if h.is_this_kernel() => Holds::ThisKernel,
                    Some(_) => Holds::AnotherProcess,
                    None => Holds::Unknown,
                }
            };
            Ok(Effect::Print(said::tried(&shown, Tried::Locked { holder })))
        }
        Err(e) => Ok(Effect::Print(said::tried(&shown, Tried::Failed(&e)))),
    }
}

/// `%reopen`: close the database and open it again.
pub(crate) fn reopen(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    // The watches hold handles into the database: it closes only without them.
    ctx.live.watches.detach_all();
    let reopened = ctx.session.reopen();
    ctx.live.watches.attach_all(ctx.session);
    reopened?;
    let recovered = ctx.db()?.was_recovered();
    let keys = ctx.tree()?.iter();
    let keys = count(keys, &mut ctx.ticker())?;
    Ok(Effect::Print(said::reopened(
        ctx.session.is_temporary(),
        recovered,
        keys,
        ctx.session.tree_name(),
    )))
}

/// `%info`: where the database is, what kind, its trees, size and settings.
pub(crate) fn info(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    let db = ctx.db()?.clone();
    let path = ctx.session.path().display().to_string();
    let mut names = db.tree_names();
    names.sort();
    let current = ctx.session.tree_name().unwrap_or(DEFAULT_TREE).to_vec();
    let mut ticker = ctx.ticker();
    let mut trees = Vec::new();
    for name in &names {
        let tree = if name == DEFAULT_TREE {
            sled::Tree::clone(&db)
        } else {
            db.open_tree(name)?
        };
        trees.push((name.as_ref(), count(tree.iter(), &mut ticker)?));
    }
    Ok(Effect::Answer(said::info(&Info {
        path: &path,
        temporary: ctx.session.is_temporary(),
        flush_every_ms: FLUSH_EVERY_MS,
        trees: &trees,
        current: &current,
        size_on_disk: db.size_on_disk()?,
        recovered: db.was_recovered(),
        limit: ctx.settings.limit,
    })))
}

/// `%limit [N]`: set or show the rows shown per result.
pub(crate) fn limit(ctx: &mut Ctx<'_>, rows: Option<usize>) -> Effect {
    match rows {
        Some(n) => {
            ctx.settings.limit = n;
            Effect::Print(said::limit_set(n))
        }
        None => {
            let n = ctx.settings.limit;
            Effect::Print(said::limit_is(n, n == DEFAULT_LIMIT))
        }
    }
}

/// `%timings`: every line this session timed with `%time`, side by side.
pub(crate) fn timings(ctx: &Ctx<'_>) -> Effect {
    let kept = &ctx.live.timings;
    let measured: Vec<Measured<'_>> = kept
        .kept()
        .map(|t| Measured {
            number: t.number,
            line: &t.line,
            elapsed: t.elapsed,
        })
        .collect();
    match timings::table(&measured, kept.recorded()) {
        Some(answer) => Effect::Answer(answer),
        None => Effect::Print(said::NOTHING_TIMED.to_string()),
    }
}

/// `%sleep SECONDS`: waits, or stops at once on Interrupt.
pub(crate) fn sleep(ctx: &mut Ctx<'_>, duration: Duration) -> Result<Effect, EvalError> {
    sleep_until_interrupted(duration, ctx.interrupt, std::thread::sleep)?;
    Ok(Effect::Nothing)
}

/// Sleeps in short slices (`nap`s) so an interrupt ends the wait promptly.
fn sleep_until_interrupted(
    duration: Duration,
    interrupt: &Interrupt,
    mut nap: impl FnMut(Duration),
) -> Result<(), EvalError> {
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
        nap(left.min(SLEEP_SLICE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurdly_long_sleep_is_still_interruptible() {
        let interrupt = Interrupt::new();
        let mut naps = Vec::new();
        // The interrupt comes during the third nap.
        let result = sleep_until_interrupted(Duration::MAX, &interrupt, |nap| {
            naps.push(nap);
            if naps.len() == 3 {
                interrupt.raise();
            }
        });
        assert!(matches!(result, Err(EvalError::Interrupted(None))));
        assert_eq!(naps, [SLEEP_SLICE; 3], "short naps, however long the sleep");
    }
}
