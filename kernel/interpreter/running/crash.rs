//! `%crash`, `%crash_copy` and `%log`: what a crash keeps of a sled
//! database.
//!
//! sled 0.34 gathers writes in an in-memory log buffer. `flush` writes the
//! buffer to its files and waits for it; when the buffer is full, or before
//! a batch or a transaction is applied (`pin_log` rolls the buffer), sled
//! seals it and a writer thread writes it moments later; its background
//! flusher does the same every `flush_every_ms` (the session's temporary
//! database has no flusher). A process that dies before then leaves the
//! files without the newest writes. `%crash` really kills the kernel;
//! `%crash_copy` copies the files as they are at this instant, which is
//! what such a kill would leave, and goes on with the copy; asked to, it
//! first damages the copy's log the way a torn write or a bad sector would,
//! so that recovery's CRC checks can be watched at work. `%log` shows the
//! records the log file holds.

use std::fs;
use std::io;
use std::path::Path;

use super::context::{count, Ctx, Effect, EvalError, Settings};
use super::log_file;
use super::session::Session;
use crate::interpreter::language::args::Damage;
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::showing::lines::crash::{self as said, Inside};
use crate::interpreter::showing::lines::watch as watch_said;
use crate::interpreter::showing::log::{Log, What};
use crate::platform;
use crate::session_dirs::PID_FILE;

/// nbgrader sets this while it runs a notebook (`autograde`, `validate`).
const GRADER: &str = "NBGRADER_EXECUTION";

/// `%crash`: kill this process now, with no flush and no clean close.
pub(crate) fn crash(ctx: &mut Ctx<'_>) -> Result<Effect, EvalError> {
    if ctx.session.is_temporary() {
        return Err(
            EvalError::refused(ErrorKind::Unsupported, said::CRASH_ON_TEMPORARY)
                .help(said::CRASH_ON_TEMPORARY_HELP),
        );
    }
    if let Some(how) = std::env::var_os(GRADER).filter(|v| !v.is_empty()) {
        return crash_under_grader(ctx, &how.to_string_lossy());
    }
    ctx.out.stdout(&said::killing(platform::HARD_KILL));
    ctx.out.flush();
    log::warn!(
        "%crash: killing the kernel (pid {}) with the database at {} open",
        std::process::id(),
        ctx.session.path().display()
    );
    // Ends the process the way `kill -9` does: no destructor runs, so
    // sled's `Db` is never dropped and never flushes.
    platform::kill_this_process()
}

/// Under nbgrader a dead kernel would stop the grading, so the kernel stays
/// alive and does what the kill and the restart would have done: the files
/// are left as they are now, the session starts over on a fresh temporary
/// database.
fn crash_under_grader(ctx: &mut Ctx<'_>, how: &str) -> Result<Effect, EvalError> {
    let path = ctx.session.path().to_path_buf();
    let at_crash = Session::scratch_dir().map_err(file_error)?;
    copy_files(&path, at_crash.path()).map_err(file_error)?;
    let fresh = Session::temporary()?;
    let limit = ctx.settings.limit;
    ctx.live
        .watches
        .stop_all(watch_said::STOPPED_BY_CRASH, limit, ctx.out);
    // Closing flushes the database; its files then go back to how they were.
    drop(std::mem::replace(ctx.session, fresh));
    remove_sled_files(&path).map_err(file_error)?;
    copy_files(at_crash.path(), &path).map_err(file_error)?;
    *ctx.settings = Settings::default();
    Ok(Effect::Print(said::not_killed_under_grader(GRADER, how)))
}

/// `%crash_copy [tear=N | flip=OFFSET]`: the files as they are on disk
/// now, damaged if asked, opened as a new temporary database that the
/// session goes on with.
pub(crate) fn crash_copy(ctx: &mut Ctx<'_>, damage: Option<Damage>) -> Result<Effect, EvalError> {
    let dir = Session::scratch_dir().map_err(file_error)?;
    copy_files(ctx.session.path(), dir.path()).map_err(file_error)?;
    let damaged = match damage {
        Some(damage) => Some(harm(&dir.path().join("db"), damage)?),
        None => None,
    };
    let mut copy = match (Session::temporary_in(dir), damaged.as_ref()) {
        (Ok(copy), _) => copy,
        (Err(e), Some((done, log))) => {
            // What was done, and the damaged log, before sled's refusal.
            ctx.out.stdout(&said::copied_and_damaged(done));
            ctx.out.display(log.bundle());
            return Err(
                EvalError::refused(ErrorKind::Storage, said::copy_refused(&e))
                    .help(said::WHICH_DAMAGE_IS_REPORTED),
            );
        }
        (Err(e), None) => return Err(e.into()),
    };
    if let Some(name) = ctx.session.tree_name().map(<[u8]>::to_vec) {
        let there = copy
            .db()
            .is_some_and(|db| db.tree_names().iter().any(|n| *n == name));
        if there {
            copy.use_tree(&name)?;
        }
    }
    let left_temporary = ctx.session.is_temporary();
    let limit = ctx.settings.limit;
    ctx.live
        .watches
        .stop_all(watch_said::STOPPED_BY_CRASH_COPY, limit, ctx.out);
    ctx.live.written_by.forget_all();
    drop(std::mem::replace(ctx.session, copy));
    let recovered = ctx.db()?.was_recovered();
    let keys = count(ctx.tree()?.iter(), &mut ctx.ticker())?;
    let mut lines = vec![Effect::Print(said::COPIED.to_string())];
    if let Some((done, log)) = damaged {
        lines.push(Effect::Print(done));
        lines.push(Effect::Display(log.bundle()));
    }
    lines.push(Effect::Print(said::using_copy(
        recovered,
        keys,
        ctx.session.tree_name(),
    )));
    if damage.is_some() {
        lines.push(Effect::Print(said::DAMAGED_COPY_OPENED.to_string()));
    }
    lines.push(Effect::Print(
        said::copied_from_closed(left_temporary).to_string(),
    ));
    Ok(Effect::Several(lines))
}

/// Damages the copy's log file; says what was hit, and gives the records
/// of the damaged log, as recovery is about to meet them.
fn harm(file: &Path, damage: Damage) -> Result<(String, Log), EvalError> {
    let mut bytes = fs::read(file).map_err(file_error)?;
    let log = log_file::parse(&bytes, segment_of(file));
    let done = match damage {
        Damage::Tear(n) => {
            // A last record cut short claims bytes the file does not have.
            let end = log_file::end_of_records(&log).min(bytes.len() as u64);
            let start = end.saturating_sub(n as u64);
            bytes[start as usize..end as usize].fill(0);
            // Only how many: the records of a batch are in no fixed order.
            let hit = log
                .records
                .iter()
                .filter(|r| r.offset + r.len > start && r.offset < end)
                .filter(|r| !matches!(r.what, What::Zeros))
                .count();
            said::torn(n, start, end, hit)
        }
        Damage::Flip(offset) => {
            let len = bytes.len() as u64;
            if offset >= len {
                let (message, help) = said::flip_past_end(offset, len);
                return Err(EvalError::refused(ErrorKind::Argument, message).help(help));
            }
            bytes[offset as usize] ^= 0xFF;
            let record = log_file::record_at(&log, offset);
            let describe = record.map(|r| r.describe()).unwrap_or_default();
            let inside = match record {
                Some(r) if matches!(r.what, What::Zeros) => Inside::Zeros,
                Some(r) => Inside::Record {
                    offset: r.offset,
                    len: r.len,
                    describe: &describe,
                },
                None => Inside::Nothing,
            };
            said::flipped(offset, inside)
        }
    };
    fs::write(file, &bytes).map_err(file_error)?;
    let damaged = log_file::newest(log_file::parse(&bytes, segment_of(file)));
    Ok((done, damaged))
}

/// The segment size of the database whose log is `file`.
fn segment_of(file: &Path) -> u64 {
    log_file::segment_size(file.parent().unwrap_or(Path::new(".")))
}

/// `%log`: the records of the database's log file, as they are on disk.
pub(crate) fn log(ctx: &Ctx<'_>) -> Result<Effect, EvalError> {
    let dir = ctx.session.path();
    let log = log_file::read(dir)
        .map_err(|e| EvalError::refused(ErrorKind::File, said::log_unreadable(&e)))?;
    Ok(Effect::Display(log_file::newest(log).bundle()))
}

fn file_error(e: io::Error) -> EvalError {
    if platform::is_lock_violation(&e) {
        // Windows: sled's lock on its `db` file (LockFileEx) keeps every
        // other handle from reading it while the database is open.
        return EvalError::refused(ErrorKind::File, said::copy_failed(&e, true))
            .help(said::CRASH_SHOWS_IT_EVERYWHERE);
    }
    EvalError::refused(ErrorKind::File, said::copy_failed(&e, false))
}

/// Copies what is in `from` into `to` (files and folders such as sled's
/// `blobs/`), leaving out the kernel's own pid file.
fn copy_files(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == PID_FILE {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&target)?;
            copy_files(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Removes sled's files from a closed database's directory: `conf`, `db`,
/// the `snap.*` snapshots and `blobs/`. Anything else is left alone.
fn remove_sled_files(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_sled = name == "conf" || name == "db" || name.starts_with("snap.");
        if name == "blobs" && entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else if is_sled {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{Discard, Interrupt};
    use crate::interpreter::running::context::Live;

    fn run(
        session: &mut Session,
        settings: &mut Settings,
        live: &mut Live,
        f: fn(&mut Ctx<'_>) -> Result<Effect, EvalError>,
    ) -> Result<Effect, EvalError> {
        let interrupt = Interrupt::new();
        let mut ctx = Ctx {
            session,
            settings,
            interrupt: &interrupt,
            out: &mut Discard,
            live,
        };
        f(&mut ctx)
    }

    fn lines(effect: Effect) -> Vec<String> {
        match effect {
            Effect::Several(effects) => effects.into_iter().flat_map(lines).collect(),
            Effect::Print(line) => vec![line],
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_copy_has_what_was_flushed_and_not_what_was_only_written() {
        let mut session = Session::temporary().unwrap();
        let (mut settings, mut live) = (Settings::default(), Live::default());
        let old_dir = session.path().to_path_buf();
        session.use_tree(b"diary").unwrap();
        let tree = session.tree().unwrap().clone();
        tree.insert("kept", "flushed").unwrap();
        session.db().unwrap().flush().unwrap();
        tree.insert("lost", "only in sled's memory").unwrap();
        drop(tree);
        let effect = run(&mut session, &mut settings, &mut live, |ctx| {
            crash_copy(ctx, None)
        })
        .unwrap();
        assert_eq!(
            lines(effect)[1],
            "now using the copy: was_recovered = true, 1 key in tree diary"
        );
        let tree = session.tree().unwrap();
        assert!(tree.get("kept").unwrap().is_some());
        assert!(
            tree.get("lost").unwrap().is_none(),
            "an unflushed write is not in the files"
        );
        assert!(session.is_temporary());
        assert_ne!(session.path(), old_dir);
        assert!(
            !old_dir.exists(),
            "the temporary database it left is deleted"
        );
        assert_eq!(
            crate::session_dirs::recorded_pid(session.path()),
            Some(std::process::id()),
            "the copy is marked as this kernel's, so a later kernel can sweep it"
        );
    }

    #[test]
    fn a_batch_sends_the_earlier_writes_to_the_files_without_a_flush() {
        // sled's `pin_log` seals the log buffer before a batch applies and
        // hands it to a writer thread; the files get it soon after, with no
        // flush. Look at copies of the files until one has it.
        let session = Session::temporary().unwrap();
        let tree = session.tree().unwrap().clone();
        tree.insert("before", "1").unwrap();
        let mut batch = sled::Batch::default();
        batch.insert("in-batch", "2");
        tree.apply_batch(batch).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let dir = Session::scratch_dir().unwrap();
            copy_files(session.path(), dir.path()).unwrap();
            let copy = Session::temporary_in(dir).unwrap();
            if copy.tree().unwrap().get("before").unwrap().is_some() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the write before the batch never reached the files"
            );
        }
    }

    #[test]
    fn a_file_locked_against_reading_says_why_and_what_else_to_do() {
        let Some(locked) = platform::lock_violation() else {
            return; // Unix locks never stop a read
        };
        let EvalError::Refused { message, notes, .. } = file_error(locked) else {
            panic!("a refusal")
        };
        assert!(message.contains("on Windows, sled's lock"), "{message}");
        assert!(notes.iter().any(|n| n.contains("`%crash`")), "{notes:?}");
    }

    #[test]
    fn crash_refuses_the_temporary_database_and_says_what_to_do() {
        let mut session = Session::temporary().unwrap();
        let (mut settings, mut live) = (Settings::default(), Live::default());
        let Err(EvalError::Refused {
            kind,
            message,
            notes,
        }) = run(&mut session, &mut settings, &mut live, crash)
        else {
            panic!("%crash on the temporary database must refuse")
        };
        assert_eq!(kind, ErrorKind::Unsupported);
        assert!(message.contains("`%open`"), "{message}");
        assert!(notes.iter().any(|n| n.contains("%crash_copy")), "{notes:?}");
    }

    #[test]
    fn a_persistent_copy_leaves_the_original_closed_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut session = Session::persistent(&path).unwrap();
        let (mut settings, mut live) = (Settings::default(), Live::default());
        session.tree().unwrap().insert("a", "1").unwrap();
        let effect = run(&mut session, &mut settings, &mut live, |ctx| {
            crash_copy(ctx, None)
        })
        .unwrap();
        assert!(lines(effect)[2].contains("stays on disk"));
        assert!(session.is_temporary());
        let original = Session::persistent(&path).unwrap();
        assert!(
            original.tree().unwrap().get("a").unwrap().is_some(),
            "closing the original flushed it"
        );
    }

    #[test]
    fn under_a_grader_the_files_go_back_to_how_a_kill_would_leave_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut session = Session::persistent(&path).unwrap();
        let (mut settings, mut live) = (Settings::default(), Live::default());
        settings.limit = 7;
        std::fs::write(dir.path().join("db").join("notes.txt"), "mine").unwrap();
        let tree = session.tree().unwrap().clone();
        tree.insert("kept", "flushed").unwrap();
        session.db().unwrap().flush().unwrap();
        drop(tree);
        let effect = run(&mut session, &mut settings, &mut live, |ctx| {
            crash_under_grader(ctx, "autograde")
        })
        .unwrap();
        assert!(lines(effect)[0].contains("NBGRADER_EXECUTION=autograde"));
        assert!(session.is_temporary(), "the session starts over");
        assert!(session.tree().unwrap().is_empty());
        assert_eq!(settings, Settings::default(), "as in a restarted kernel");
        let reopened = Session::persistent(&path).unwrap();
        assert!(reopened.tree().unwrap().get("kept").unwrap().is_some());
        assert_eq!(
            std::fs::read_to_string(path.join("notes.txt")).unwrap(),
            "mine",
            "files that are not sled's are left alone"
        );
    }
}
