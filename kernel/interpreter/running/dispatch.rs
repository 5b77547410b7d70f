//! Which code runs which command: one arm per [`Command`], no catch-all, so
//! a new command does not compile until it has an arm here.
//!
//! `run` only computes what a command produced ([`Effect`]); where that goes
//! (stdout, a display, or the cell's result) is decided by the caller, which
//! knows whether this was the cell's last command.

use std::time::Instant;

use super::context::{Ctx, Effect, EvalError};
use super::{blocks, crash, draw, expect, files, isolation, kv, magics};
use crate::interpreter::language::parser::{Block, Command};
use crate::interpreter::showing::help;
use crate::interpreter::showing::lines::dispatch as said;
use crate::interpreter::showing::lines::transfers as transfers_said;

/// Runs one line.
pub(crate) fn run(ctx: &mut Ctx<'_>, command: &Command) -> Result<Effect, EvalError> {
    if let Some(why) = closes_database(command) {
        if let Some(line) = ctx.live.transfers.stop(why) {
            ctx.out.stdout(&format!("{line}\n"));
        }
    }
    let result = run_command(ctx, command);
    forget_what_it_wrote(ctx, command, result.is_ok());
    result
}

/// Why a command stops `%transfers` first: it closes or replaces the
/// database the writer thread holds.
fn closes_database(command: &Command) -> Option<&'static str> {
    Some(match command {
        Command::Reset => transfers_said::BEFORE_RESET,
        Command::Open { .. } => transfers_said::BEFORE_OPEN,
        Command::Reopen => transfers_said::BEFORE_REOPEN,
        Command::CrashCopy { .. } => transfers_said::BEFORE_CRASH_COPY,
        Command::Crash => transfers_said::BEFORE_CRASH,
        Command::DropTree { .. } => transfers_said::BEFORE_DROP_TREE,
        _ => return None,
    })
}

/// `%written_by` answers only what is still true: a command that wrote
/// keys outside a batch or transaction makes the kernel forget what it
/// knew of them (`crash::crash_copy` forgets for itself, once the copy is
/// open). A write of one key that failed wrote nothing; a command of many
/// writes that failed (an interrupted `%load` or `clear`) may have made
/// some, so its tree is forgotten all the same.
fn forget_what_it_wrote(ctx: &mut Ctx<'_>, command: &Command, succeeded: bool) {
    let tree = ctx.session.tree_name().map(<[u8]>::to_vec);
    let record = &mut ctx.live.written_by;
    match command {
        // Many writes, some of which may have been made before a failure.
        Command::Clear | Command::Load { .. } => record.forget_tree(tree.as_deref()),
        _ if !succeeded => {}
        Command::Insert { key, .. }
        | Command::Remove { key }
        | Command::CompareAndSwap { key, .. }
        | Command::Append { key, .. }
        | Command::Incr { key, .. } => record.forget_key(tree.as_deref(), key),
        // One key, but which one the command does not name.
        Command::PopMin | Command::PopMax => record.forget_tree(tree.as_deref()),
        Command::DropTree { name } => record.forget_tree(Some(name)),
        Command::Reset | Command::Open { .. } | Command::Crash => record.forget_all(),
        _ => {}
    }
}

fn run_command(ctx: &mut Ctx<'_>, command: &Command) -> Result<Effect, EvalError> {
    match command {
        // ------------------------------------------------------------ reads
        Command::Get { key } => kv::get(ctx, key),
        Command::ContainsKey { key } => kv::contains_key(ctx, key),
        Command::Len => kv::len(ctx),
        Command::IsEmpty => kv::is_empty(ctx),
        Command::First => kv::first(ctx),
        Command::Last => kv::last(ctx),
        Command::GetLt { key } => kv::get_lt(ctx, key),
        Command::GetGt { key } => kv::get_gt(ctx, key),
        Command::Rows { scan, options } => kv::rows(ctx, scan, *options),
        // ----------------------------------------------------------- writes
        Command::Insert { key, value } => kv::insert(ctx, key, value),
        Command::Remove { key } => kv::remove(ctx, key),
        Command::PopMin => kv::pop_min(ctx),
        Command::PopMax => kv::pop_max(ctx),
        Command::CompareAndSwap { key, old, new } => {
            kv::compare_and_swap(ctx, key, old.as_deref(), new.as_deref())
        }
        Command::Append { key, value } => kv::append(ctx, key, value),
        Command::Incr { key, by } => kv::incr(ctx, key, *by),
        Command::Clear => kv::clear(ctx),
        // ----------------------------------------------------------- blocks
        // Blocks arrive whole as `Item::Block` (see [`run_block`]); these
        // words only open and close them, and `abort` runs inside a
        // transaction.
        Command::Batch | Command::Transaction | Command::End | Command::Abort { .. } => {
            Ok(Effect::Nothing)
        }
        // ------------------------------------------------------------ trees
        Command::OpenTree { name } => kv::open_tree(ctx, name),
        Command::DefaultTree => kv::default_tree(ctx),
        Command::TreeNames => kv::tree_names(ctx),
        Command::DropTree { name } => kv::drop_tree(ctx, name),
        // --------------------------------------------------------- database
        Command::Flush => kv::flush(ctx),
        Command::SizeOnDisk => kv::size_on_disk(ctx),
        Command::Checksum => kv::checksum(ctx),
        Command::GenerateId => kv::generate_id(ctx),
        Command::WasRecovered => kv::was_recovered(ctx),
        // ----------------------------------------------------------- magics
        Command::Help { topic } => Ok(Effect::Display(match topic {
            Some(spec) => help::command(spec),
            None => help::overview(),
        })),
        Command::LsMagic => Ok(Effect::Display(help::magics())),
        Command::Reset => magics::reset(ctx),
        Command::Open { path } => magics::open(ctx, path),
        Command::Reopen => magics::reopen(ctx),
        Command::Info => magics::info(ctx),
        Command::Limit { rows } => Ok(magics::limit(ctx, *rows)),
        Command::Time(inner) => {
            let started = Instant::now();
            let effect = run(ctx, inner)?;
            Ok(Effect::Timed {
                inner: Box::new(effect),
                elapsed: started.elapsed(),
            })
        }
        Command::Timings => Ok(magics::timings(ctx)),
        Command::Load { file, flush_every } => files::load(ctx, file, *flush_every),
        Command::SampleFile {
            file,
            rows,
            prefix,
            value,
        } => files::sample_file(ctx, file, *rows, prefix.as_deref(), value.as_deref()),
        Command::Dump { file } => files::dump(ctx, file),
        Command::Sleep { duration } => magics::sleep(ctx, *duration),
        Command::TryOpen { path } => magics::try_open(ctx, path.as_deref()),
        Command::Crash => crash::crash(ctx),
        Command::CrashCopy { damage } => crash::crash_copy(ctx, *damage),
        Command::Log => crash::log(ctx),
        Command::Transfers { prefix } => isolation::transfers(ctx, prefix),
        Command::Sum { prefix, times, how } => isolation::sum(ctx, prefix, *times, *how),
        Command::Exit => Ok(Effect::AskExit),
        // --------------------------------------------------------- printing
        Command::Echo { text } => Ok(Effect::Print(text.clone())),
        Command::Warn { text } => Ok(Effect::Warn(said::warning(text))),
        // ------------------------------------------------ live and pictures
        Command::WatchPrefix { prefix } => watch_prefix(ctx, prefix),
        Command::Unwatch { prefix } => unwatch(ctx, prefix.as_deref()),
        Command::Draw { selection } => draw::draw(ctx, selection.as_ref()),
        // -------------------------------------------------------- exercises
        Command::Expect { check, expected } => {
            let answer = run(ctx, check)?;
            expect::check(answer, expected)
        }
        Command::WrittenBy { key } => expect::written_by(ctx, key),
    }
}

/// Runs a `batch … end` or `transaction … end`.
pub(crate) fn run_block(ctx: &mut Ctx<'_>, block: &Block) -> Result<Effect, EvalError> {
    blocks::run(ctx, block)
}

/// `watch_prefix P`: a live table of the keys under P.
fn watch_prefix(ctx: &mut Ctx<'_>, prefix: &[u8]) -> Result<Effect, EvalError> {
    let id = ctx.live.ids.next("watch");
    let limit = ctx.settings.limit;
    let replaced = ctx
        .live
        .watches
        .start(ctx.session, prefix, id, limit, ctx.out);
    Ok(Effect::Print(said::watching(&ctx.tag(), prefix, replaced)))
}

/// `unwatch [P]`: the table of P (or every table) stops updating.
fn unwatch(ctx: &mut Ctx<'_>, prefix: Option<&[u8]>) -> Result<Effect, EvalError> {
    let limit = ctx.settings.limit;
    let n = ctx.live.watches.stop(prefix, limit, ctx.out);
    Ok(Effect::Print(said::unwatched(prefix, n)))
}
