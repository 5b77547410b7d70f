//! The syntax tree: what the parser makes of a cell. A cell is [`Item`]s:
//! single lines ([`Statement`]s, each holding a [`Command`]) and
//! `batch … end` / `transaction … end` [`Block`]s, whose lines are typed by
//! what the block may hold ([`BatchOp`], [`TxOp`]). `running/` runs these
//! and `showing/` draws some of them; nothing here reads text or
//! touches sled.

use std::ops::Bound;
use std::time::Duration;

use super::command::{CommandSpec, Needs};
use super::span::Span;

/// The rows a row read walks over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scan {
    Prefix(Vec<u8>),
    Range(KeyRange),
    Iter,
    Keys,
}

/// One command with its arguments decoded, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    Get {
        key: Vec<u8>,
    },
    ContainsKey {
        key: Vec<u8>,
    },
    Len,
    IsEmpty,
    First,
    Last,
    GetLt {
        key: Vec<u8>,
    },
    GetGt {
        key: Vec<u8>,
    },
    Rows {
        scan: Scan,
        options: ReadOptions,
    },
    Insert {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Remove {
        key: Vec<u8>,
    },
    PopMin,
    PopMax,
    CompareAndSwap {
        key: Vec<u8>,
        old: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    },
    Append {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Incr {
        key: Vec<u8>,
        by: i64,
    },
    Clear,
    Batch,
    Transaction,
    End,
    Abort {
        reason: String,
    },
    OpenTree {
        name: Vec<u8>,
    },
    DefaultTree,
    TreeNames,
    DropTree {
        name: Vec<u8>,
    },
    Flush,
    SizeOnDisk,
    Checksum,
    GenerateId,
    WasRecovered,
    Help {
        topic: Option<&'static CommandSpec>,
    },
    LsMagic,
    Reset,
    Open {
        path: String,
    },
    Reopen,
    Info,
    Time(Box<Command>),
    /// `%timings`: what `%time` measured in this session.
    Timings,
    Limit {
        rows: Option<usize>,
    },
    Load {
        file: String,
        /// `flush_every=N`: flush after every N rows (and at the end).
        flush_every: Option<usize>,
    },
    SampleFile {
        file: String,
        rows: usize,
        prefix: Option<Vec<u8>>,
        /// `value=V`: every pair holds V instead of a text naming its key.
        value: Option<Vec<u8>>,
    },
    Dump {
        file: String,
    },
    Sleep {
        duration: Duration,
    },
    Echo {
        text: String,
    },
    Warn {
        text: String,
    },
    WatchPrefix {
        prefix: Vec<u8>,
    },
    Unwatch {
        prefix: Option<Vec<u8>>,
    },
    /// `%draw`, with a `Scan::Prefix` or `Scan::Range` to highlight.
    Draw {
        selection: Option<Scan>,
    },
    TryOpen {
        path: Option<String>,
    },
    Crash,
    /// `%crash_copy [tear=N | flip=OFFSET]`.
    CrashCopy {
        damage: Option<Damage>,
    },
    /// `%log`: the records of the log file.
    Log,
    /// `%transfers PREFIX`: a writer thread for the rest of the cell.
    Transfers {
        prefix: Vec<u8>,
    },
    /// `%sum PREFIX [N] [scan|transaction]`.
    Sum {
        prefix: Vec<u8>,
        times: usize,
        how: ReadHow,
    },
    /// `%written_by KEY`: the batch or transaction that last wrote KEY.
    WrittenBy {
        key: Vec<u8>,
    },
    /// `exit`, `quit`: the frontend is asked to close.
    Exit,
    /// `expect LINE == VALUE`: `check` is the read.
    Expect {
        check: Box<Command>,
        expected: Expected,
    },
}

/// How `expect LINE OP VALUE` compares the answer with VALUE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    pub(crate) const ALL: [Comparison; 6] = [
        Comparison::Equal,
        Comparison::NotEqual,
        Comparison::Less,
        Comparison::LessOrEqual,
        Comparison::Greater,
        Comparison::GreaterOrEqual,
    ];

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }
}

/// The VALUE of `expect LINE OP VALUE`, as typed and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    /// `==` unless another comparison was written.
    pub op: Comparison,
    /// The words after the comparison, as typed (`"lift legs"`, `3`, `a = "1"`).
    pub text: String,
    /// One word, decoded as a value is.
    pub value: Option<Vec<u8>>,
    /// `KEY = VALUE`, decoded, for reads that answer with a pair.
    pub pair: Option<(Vec<u8>, Vec<u8>)>,
}

/// A parsed command and where it stands in the cell.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub command: Command,
    /// The command's row in the table (for `%time LINE`, the timed one's).
    pub spec: &'static CommandSpec,
    /// The command word, where runtime errors point (`%time` for a timed line).
    pub head: Span,
}

impl Statement {
    /// The 1-based line the statement starts on.
    pub(crate) fn line(&self) -> usize {
        self.head.start.line + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Batch,
    Transaction,
}

impl BlockKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            BlockKind::Batch => "batch",
            BlockKind::Transaction => "transaction",
        }
    }
}

/// A line that may stand inside `batch … end`: a `sled::Batch` holds
/// only these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BatchOp {
    Insert { key: Vec<u8>, value: Vec<u8> },
    Remove { key: Vec<u8> },
}

/// A line that may stand inside `transaction … end`: what sled's
/// `TransactionalTree` offers, `abort`, which rolls it back, and two built
/// from a `get`: `incr` (then an `insert` of the sum) and `expect get KEY
/// OP VALUE` (then go on, or abort).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxOp {
    Get { key: Vec<u8> },
    Insert { key: Vec<u8>, value: Vec<u8> },
    Remove { key: Vec<u8> },
    Incr { key: Vec<u8>, by: i64 },
    Expect { key: Vec<u8>, expected: Expected },
    Abort { reason: String },
}

impl BatchOp {
    /// The batch line a command is, if it may be one; the command back
    /// otherwise (the parser then says why it cannot stand there).
    pub(crate) fn from_command(command: Command) -> Result<BatchOp, Command> {
        match command {
            Command::Insert { key, value } => Ok(BatchOp::Insert { key, value }),
            Command::Remove { key } => Ok(BatchOp::Remove { key }),
            other => Err(other),
        }
    }
}

impl TxOp {
    /// The transaction line a command is, if it may be one.
    pub(crate) fn from_command(command: Command) -> Result<TxOp, Command> {
        match command {
            Command::Get { key } => Ok(TxOp::Get { key }),
            Command::Insert { key, value } => Ok(TxOp::Insert { key, value }),
            Command::Remove { key } => Ok(TxOp::Remove { key }),
            Command::Incr { key, by } => Ok(TxOp::Incr { key, by }),
            Command::Expect { check, expected } => match *check {
                Command::Get { key } => Ok(TxOp::Expect { key, expected }),
                check => Err(Command::Expect {
                    check: Box::new(check),
                    expected,
                }),
            },
            Command::Abort { reason } => Ok(TxOp::Abort { reason }),
            other => Err(other),
        }
    }
}

/// One line of a block and where it stands.
#[derive(Debug, Clone)]
pub(crate) struct BlockLine<Op> {
    pub op: Op,
    /// The line's row in the table.
    pub spec: &'static CommandSpec,
    /// The command word, where runtime errors point.
    pub head: Span,
}

/// The lines of a block, typed by what the block may hold.
#[derive(Debug, Clone)]
pub(crate) enum BlockBody {
    Batch(Vec<BlockLine<BatchOp>>),
    Transaction(Vec<BlockLine<TxOp>>),
}

/// `batch … end` or `transaction … end`, all of it parsed before any of it
/// runs.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// The `batch`/`transaction` word.
    pub head: Span,
    pub body: BlockBody,
}

impl Block {
    pub(crate) fn kind(&self) -> BlockKind {
        match self.body {
            BlockBody::Batch(_) => BlockKind::Batch,
            BlockBody::Transaction(_) => BlockKind::Transaction,
        }
    }
}

/// What a cell is made of: single lines and blocks.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Line(Statement),
    Block(Block),
}

impl Item {
    /// The command word (or `batch`/`transaction`), where errors point.
    pub(crate) fn head(&self) -> Span {
        match self {
            Item::Line(s) => s.head,
            Item::Block(b) => b.head,
        }
    }

    /// The command's name, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Item::Line(s) => s.spec.name,
            Item::Block(b) => b.kind().name(),
        }
    }

    /// Whether running it means waiting, so output gathered so far should
    /// be sent first. (A statement's `spec` is the wrapped line's own row for
    /// `%time` and `expect`.)
    pub(crate) fn waits(&self) -> bool {
        match self {
            Item::Line(s) => s.spec.needs == Needs::Pause,
            Item::Block(_) => false,
        }
    }

    /// Whether it needs the database open (a suspended one is reopened
    /// first).
    pub(crate) fn needs_db(&self) -> bool {
        match self {
            Item::Line(s) => match s.spec.needs {
                // `Line` never shows here (see `waits`); were it to, opening
                // the database is the safe side.
                Needs::Database | Needs::Line => true,
                Needs::Nothing | Needs::Pause => false,
            },
            Item::Block(_) => true,
        }
    }
}

/// How `%crash_copy` damages the copy's log before opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Damage {
    /// `tear=N`: the last N bytes of the log's records become zeros, as a
    /// crash part-way through writing them leaves them.
    Tear(usize),
    /// `flip=OFFSET`: the byte at OFFSET of the `db` file is inverted.
    Flip(u64),
}

/// How `%sum` reads the values it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadHow {
    /// One `scan_prefix`, adding as it walks.
    Scan,
    /// A `get` of every key inside one transaction.
    Transaction,
}

/// The bounds of a `range`, as sled takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub lo: Bound<Vec<u8>>,
    pub hi: Bound<Vec<u8>>,
}

impl KeyRange {
    pub(crate) fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_slice(&self.lo), as_slice(&self.hi))
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(b) => Bound::Included(b.as_slice()),
        Bound::Excluded(b) => Bound::Excluded(b.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// `limit N` and `rev` on a row read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ReadOptions {
    pub limit: Option<usize>,
    pub rev: bool,
}
