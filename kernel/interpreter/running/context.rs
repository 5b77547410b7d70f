//! What every command runs with and what it gives back: the context
//! ([`Ctx`]: the session, the settings, the interrupt flag, live output),
//! the [`Effect`] a command produced, and the [`EvalError`] it failed with.
//! The modules that run commands all take these from here; none of them
//! imports another's.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use super::session::{Session, SessionError};
use super::transfers::Transfers;
use super::watch::Watches;
use super::written_by::WrittenBy;
use crate::cell::{Interrupt, MimeBundle, Output};
use crate::interpreter::language::errors::ErrorKind;
use crate::interpreter::language::span::Span;
use crate::interpreter::showing::lines;
use crate::interpreter::showing::progress::DisplayIds;
use crate::interpreter::showing::render::{self, Answer, Rows};

/// Rows read between two looks at the interrupt flag.
pub(crate) const INTERRUPT_CHECK_EVERY: usize = 1000;
/// Rows shown per result unless `%limit` says otherwise.
pub(crate) const DEFAULT_LIMIT: usize = 100;

/// Removed keys remembered per cell; past this, no more tombstones.
const TOMBSTONES_KEPT: usize = 10_000;
/// Lines timed with `%time` that `%timings` remembers; older ones are
/// forgotten first.
pub(crate) const TIMINGS_KEPT: usize = 100;

/// Settings that outlive a cell (and a database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
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

/// What outlives a command but is not a setting: live displays, what
/// `%draw` remembers of the cell and what `%time` measured.
#[derive(Default)]
pub(crate) struct Live {
    pub watches: Watches,
    /// Keys removed since the cell began.
    pub tombstones: Tombstones,
    pub ids: DisplayIds,
    /// What `%time` measured in this session, for `%timings`.
    pub timings: Timings,
    /// Which batch or transaction last wrote each key (`%written_by`).
    pub written_by: WrittenBy,
    /// The writer thread of `%transfers`, while the cell runs.
    pub transfers: Transfers,
}

/// What a command runs with.
pub(crate) struct Ctx<'a> {
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
    pub(crate) fn tree(&self) -> Result<&sled::Tree, EvalError> {
        self.session.tree().ok_or(EvalError::Suspended)
    }

    pub(crate) fn db(&self) -> Result<&sled::Db, EvalError> {
        self.session.db().ok_or(EvalError::Suspended)
    }

    /// `[users] ` when the current tree is not the default one.
    pub(crate) fn tag(&self) -> String {
        render::tree_tag(self.session.tree_name())
    }

    /// Remembers that `key` was removed from the current tree in this cell.
    pub(crate) fn removed(&mut self, key: &[u8]) {
        self.live.tombstones.record(self.session.tree_name(), key);
    }

    /// A ticker for a long loop over the database.
    pub(crate) fn ticker(&mut self) -> Ticker<'_> {
        Ticker::new(self.interrupt, &mut *self.out)
    }
}

/// Counts steps of a long loop and looks at the interrupt flag every
/// [`INTERRUPT_CHECK_EVERY`] of them, starting with the first. Once the
/// loop has run that many steps it is a long one: the output gathered so
/// far is sent then, so what the cell printed before it (`echo counting…`)
/// shows while it runs, not after.
pub(crate) struct Ticker<'a> {
    interrupt: &'a Interrupt,
    out: &'a mut dyn Output,
    count: usize,
}

impl<'a> Ticker<'a> {
    pub(crate) fn new(interrupt: &'a Interrupt, out: &'a mut dyn Output) -> Ticker<'a> {
        Ticker {
            interrupt,
            out,
            count: 0,
        }
    }

    pub(crate) fn tick(&mut self) -> Result<(), EvalError> {
        if self.count == INTERRUPT_CHECK_EVERY {
            self.out.flush();
        }
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
pub(crate) enum Effect {
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
    /// `exit`, `quit`: ask the frontend to close.
    AskExit,
    /// Nothing to show.
    Nothing,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EvalError {
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
    pub(crate) fn refused(kind: ErrorKind, message: impl Into<String>) -> EvalError {
        EvalError::Refused {
            kind,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a `help:` line to a refusal.
    pub(crate) fn help(self, text: impl Into<String>) -> EvalError {
        match self {
            EvalError::Refused {
                kind,
                message,
                mut notes,
            } => {
                notes.push(lines::help_note(&text.into()));
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

/// Keys removed since the cell began, per tree (`None` = default tree).
#[derive(Debug, Default)]
pub(crate) struct Tombstones {
    by_tree: BTreeMap<Option<Vec<u8>>, BTreeSet<Vec<u8>>>,
    kept: usize,
}

impl Tombstones {
    pub(crate) fn record(&mut self, tree: Option<&[u8]>, key: &[u8]) {
        if self.kept >= TOMBSTONES_KEPT {
            return;
        }
        let set = self.by_tree.entry(tree.map(<[u8]>::to_vec)).or_default();
        if set.insert(key.to_vec()) {
            self.kept += 1;
        }
    }

    /// Forgets everything: a new cell begins.
    pub(crate) fn clear(&mut self) {
        self.by_tree.clear();
        self.kept = 0;
    }

    /// The keys removed from `tree` in this cell.
    pub(crate) fn of(&self, tree: Option<&[u8]>) -> impl Iterator<Item = &Vec<u8>> {
        self.by_tree
            .get(&tree.map(<[u8]>::to_vec))
            .into_iter()
            .flatten()
    }
}

/// One line timed with `%time`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Timing {
    /// Counted from 1 over the whole session, forgotten ones included.
    pub number: usize,
    /// The line after `%time`, trimmed.
    pub line: String,
    pub elapsed: Duration,
}

/// The session's `%time` measurements, oldest first: the last
/// [`TIMINGS_KEPT`] of them. They outlive `%reset` and `%open`.
#[derive(Debug, Default)]
pub(crate) struct Timings {
    kept: VecDeque<Timing>,
    recorded: usize,
}

impl Timings {
    pub(crate) fn record(&mut self, line: &str, elapsed: Duration) {
        self.recorded += 1;
        if self.kept.len() == TIMINGS_KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back(Timing {
            number: self.recorded,
            line: line.trim().to_string(),
            elapsed,
        });
    }

    /// The kept timings, oldest first.
    pub(crate) fn kept(&self) -> impl Iterator<Item = &Timing> {
        self.kept.iter()
    }

    /// How many lines were timed in all, forgotten ones included.
    pub(crate) fn recorded(&self) -> usize {
        self.recorded
    }
}

/// Counts the items of a sled iterator, interruptibly.
pub(crate) fn count<T>(
    items: impl Iterator<Item = sled::Result<T>>,
    ticker: &mut Ticker<'_>,
) -> Result<usize, EvalError> {
    let mut n = 0;
    for item in items {
        ticker.tick()?;
        item?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_timings_are_kept_and_their_numbers_go_on() {
        let mut timings = Timings::default();
        for i in 0..TIMINGS_KEPT + 5 {
            timings.record(
                &format!("  get k{i} "),
                Duration::from_micros(10 + i as u64),
            );
        }
        assert_eq!(timings.recorded(), TIMINGS_KEPT + 5);
        let kept: Vec<&Timing> = timings.kept().collect();
        assert_eq!(kept.len(), TIMINGS_KEPT);
        assert_eq!(kept[0].number, 6);
        assert_eq!(kept[0].line, "get k5");
        assert_eq!(kept[TIMINGS_KEPT - 1].number, TIMINGS_KEPT + 5);
    }
}
