//! The one table of commands. Parsing, help, completion, inspection and
//! "did you mean" all read [`COMMANDS`], so everything that *describes* a
//! command is in its row: its name and aliases, its arguments, where it may
//! stand, what it needs of the session, what it prints and which sled
//! method it stands for. What a command *does* is in two more places, and
//! the compiler names both: `build::build` turns its arguments into a
//! typed `Command`, and `running::dispatch::run` runs that `Command`.
//!
//! Commands are named after the sled methods they call, so the notebook
//! teaches the Rust API as it goes; familiar names from other stores are
//! aliases.
//!
//! # Adding a command
//!
//! Say, `get_or KEY DEFAULT`. Each step is a compile error until it is
//! done, so `cargo build` walks you through them:
//!
//! 1. Add `GetOr` to the list in `command_ids!` below. `cargo build` now
//!    stops twice:
//!    * here: *every CommandId needs exactly one row in COMMANDS*. Add the
//!      row (a `CommandSpec` literal: leaving out a field does not compile
//!      either). Its `args` decide what the parser accepts; `allowed` says
//!      whether it may stand in a `batch` or `transaction`; `needs` whether
//!      a suspended database must be reopened first.
//!    * in `language/build.rs`, `build`: *non-exhaustive patterns:
//!      `CommandId::GetOr` not covered*. Build its `Command` there, asking
//!      for the arguments the row declares, in order and by kind
//!      (`g.req(P::Key, Arg::bytes)?`, `g.req(P::Value, Arg::bytes)?`);
//!      asking for others is an internal error, which `build.rs`'s tests
//!      look for in every row. When no existing `Command` fits, add a
//!      variant (`Command::GetOr { key, default }`) to the `Command` enum
//!      in `language/syntax.rs`.
//! 2. A new `Command` variant makes `cargo build` stop in
//!    `running/dispatch.rs`, `run`: *`Command::GetOr { .. }` not covered*.
//!    Add the arm; it calls a function that runs the command against the
//!    context and returns an `Effect`: next to its kin (`running/kv.rs` for
//!    a sled call), or in a file of its own under `running/` when it is more
//!    than a few lines. Show new kinds of output with a function in
//!    `showing/render.rs`.
//! 3. Only if the row allows it inside `batch … end` or
//!    `transaction … end`: add it to `BatchOp` or `TxOp` (syntax.rs); the
//!    compiler then names `running/blocks.rs`, where each block runs them.
//!
//! Then `cargo test`: the table's own tests check the new row's help text
//! and that each of its examples parses to it, and `build.rs`'s tests that
//! its arm asks for exactly what the row gives. `%help`, completion,
//! inspection and "did you mean" need nothing more.

/// Declares [`CommandId`] and [`CommandId::ALL`] from one list, so no id
/// can be missing from `ALL` (and, through the check under [`COMMANDS`],
/// from the table).
macro_rules! command_ids {
    ($($id:ident,)*) => {
        /// Which command a line names, once aliases are resolved.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum CommandId {
            $($id,)*
        }

        impl CommandId {
            /// Every id, in declaration order.
            pub(crate) const ALL: &'static [CommandId] = &[$(CommandId::$id,)*];
        }
    };
}

command_ids! {
    // Reads
    Get,
    ContainsKey,
    Len,
    IsEmpty,
    First,
    Last,
    GetLt,
    GetGt,
    ScanPrefix,
    Range,
    Iter,
    Keys,
    WatchPrefix,
    Unwatch,
    // Writes
    Insert,
    Remove,
    PopMin,
    PopMax,
    CompareAndSwap,
    Append,
    Incr,
    Clear,
    // Atomic groups
    Batch,
    Transaction,
    End,
    Abort,
    // Trees
    OpenTree,
    DefaultTree,
    TreeNames,
    DropTree,
    // Database
    Flush,
    SizeOnDisk,
    Checksum,
    GenerateId,
    WasRecovered,
    // Magics
    Help,
    LsMagic,
    Reset,
    Open,
    Reopen,
    Info,
    Time,
    Timings,
    Limit,
    Load,
    SampleFile,
    Dump,
    Sleep,
    Draw,
    TryOpen,
    Crash,
    CrashCopy,
    Log,
    Transfers,
    Sum,
    Exit,
    // Exercises
    Expect,
    WrittenBy,
    // Printing
    Echo,
    Warn,
}

/// The sections of `%help`, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    Reads,
    Writes,
    Atomic,
    Trees,
    Database,
    Magics,
    Exercises,
    Printing,
}

impl Group {
    pub(crate) const ALL: [Group; 8] = [
        Group::Reads,
        Group::Writes,
        Group::Atomic,
        Group::Trees,
        Group::Database,
        Group::Magics,
        Group::Exercises,
        Group::Printing,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Group::Reads => "reads",
            Group::Writes => "writes",
            Group::Atomic => "atomic groups",
            Group::Trees => "trees",
            Group::Database => "database",
            Group::Magics => "magics (the session, not sled)",
            Group::Exercises => "exercises",
            Group::Printing => "printing",
        }
    }
}

/// What one argument slot holds. Completion and inspection look at this to
/// know what belongs where the cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    Key,
    Value,
    Prefix,
    /// `A..B` in any of sled's bound forms.
    Range,
    /// The value `compare_and_swap` expects, or `-` for "absent".
    Old,
    /// The value `compare_and_swap` stores, or `-` to remove the key.
    New,
    /// A signed whole number to add.
    Delta,
    /// A tree name.
    Tree,
    /// A database directory.
    Dir,
    /// A data file.
    File,
    /// A count of rows.
    Rows,
    Seconds,
    /// A command name, for `%help`.
    Topic,
    /// `flush_every=N`: `%load` flushes after every N rows.
    FlushEvery,
    /// `value=V`: every pair `%sample_file` writes holds V.
    SampleValue,
    /// `tear=N` or `flip=OFFSET`: how `%crash_copy` damages the copy's log.
    Damage,
    /// How many times (`%sum`).
    Times,
    /// `scan` or `transaction`: how `%sum` reads.
    ReadHow,
}

impl Param {
    pub(crate) fn placeholder(self) -> &'static str {
        match self {
            Param::Key => "KEY",
            Param::Value => "VALUE",
            Param::Prefix => "PREFIX",
            Param::Range => "A..B",
            Param::Old => "OLD",
            Param::New => "NEW",
            Param::Delta => "N",
            Param::Tree => "NAME",
            Param::Dir => "PATH",
            Param::File => "FILE",
            Param::Rows => "N",
            Param::Seconds => "SECONDS",
            Param::Topic => "COMMAND",
            Param::FlushEvery => "flush_every=N",
            Param::SampleValue => "value=V",
            Param::Damage => "tear=N|flip=OFFSET",
            Param::Times => "N",
            Param::ReadHow => "scan|transaction",
        }
    }

    /// What completion offers for a slot whose words are fixed (or begin
    /// with a fixed `name=`).
    pub(crate) fn offered(self) -> &'static [&'static str] {
        match self {
            Param::FlushEvery => &["flush_every="],
            Param::SampleValue => &["value="],
            Param::Damage => &["tear=", "flip="],
            Param::ReadHow => &["scan", "transaction"],
            _ => &[],
        }
    }
}

/// How a command takes its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Args {
    /// Words: the `required` ones, then up to all of the `optional` ones,
    /// then (for row reads) the options `limit N` and `rev` in any order.
    Words {
        required: &'static [Param],
        optional: &'static [Param],
        options: bool,
    },
    /// The rest of the line, verbatim (`echo`, `warn`, `abort`).
    Text { required: bool },
    /// The rest of the line is another command (`%time`, `expect`).
    Line,
    /// Opens a block that runs until `end` (`batch`, `transaction`).
    Block,
}

/// No arguments at all.
const NONE: Args = Args::Words {
    required: &[],
    optional: &[],
    options: false,
};

const fn words(required: &'static [Param]) -> Args {
    Args::Words {
        required,
        optional: &[],
        options: false,
    }
}

/// Only optional words.
const fn optional(optional: &'static [Param]) -> Args {
    Args::Words {
        required: &[],
        optional,
        options: false,
    }
}

const fn rows(required: &'static [Param]) -> Args {
    Args::Words {
        required,
        optional: &[],
        options: true,
    }
}

/// What running the command does, which decides where its output goes:
/// a read that ends a cell becomes the cell's `Out[n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Read,
    Write,
    Block,
    Print,
    Session,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Read => "reads the database; as a cell's last line its answer becomes Out[n]",
            Kind::Write => "changes the database and prints what it did",
            Kind::Block => "groups the lines up to `end` so they apply together or not at all",
            Kind::Print => "prints text; does not touch the database",
            Kind::Session => "acts on the kernel session rather than on keys",
        }
    }
}

/// Where a command may stand: at the top of a cell, inside `batch … end`,
/// inside `transaction … end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allowed {
    pub top: bool,
    pub batch: bool,
    pub transaction: bool,
}

const TOP: Allowed = Allowed {
    top: true,
    batch: false,
    transaction: false,
};
const TOP_AND_TX: Allowed = Allowed {
    top: true,
    batch: false,
    transaction: true,
};
const EVERYWHERE: Allowed = Allowed {
    top: true,
    batch: true,
    transaction: true,
};
const IN_BLOCKS: Allowed = Allowed {
    top: false,
    batch: true,
    transaction: true,
};
const IN_TX: Allowed = Allowed {
    top: false,
    batch: false,
    transaction: true,
};

/// What running a command needs of the session besides its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// The database open: a suspended one is reopened first.
    Database,
    /// Nothing: printing, help and settings (`%reset` and `%open` replace
    /// the database anyway).
    Nothing,
    /// Nothing, but it waits, so what the cell printed so far is sent and
    /// the watched tables redrawn first (`%sleep`).
    Pause,
    /// What the line it wraps needs (`%time LINE`, `expect LINE == VALUE`).
    Line,
}

/// Everything there is to know about one command.
#[derive(Debug)]
pub(crate) struct CommandSpec {
    pub id: CommandId,
    /// The canonical name; magics start with `%`.
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub group: Group,
    pub args: Args,
    pub kind: Kind,
    pub allowed: Allowed,
    pub needs: Needs,
    /// One line for `%help` and completion.
    pub summary: &'static str,
    /// More for `%help COMMAND` and inspection: edge cases, output, limits.
    pub details: &'static str,
    /// The Rust call the command stands for.
    pub maps_to: &'static str,
    pub examples: &'static [&'static str],
}

/// A command is its row: two specs are equal when they are the same command.
impl PartialEq for CommandSpec {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl CommandSpec {
    /// `insert KEY VALUE`, `incr KEY [N]`, `iter [limit N] [rev]`: built from
    /// the parameters so it cannot drift from what the parser accepts.
    pub(crate) fn syntax(&self) -> String {
        let mut out = self.name.to_string();
        match self.args {
            Args::Words {
                required,
                optional,
                options,
            } => {
                for p in required {
                    out.push(' ');
                    out.push_str(p.placeholder());
                }
                for p in optional {
                    out.push_str(&format!(" [{}]", p.placeholder()));
                }
                if options {
                    out.push_str(" [limit N] [rev]");
                }
            }
            Args::Text { required: true } => out.push_str(" TEXT"),
            Args::Text { required: false } => out.push_str(" [TEXT]"),
            Args::Line => out.push_str(" LINE"),
            Args::Block => out.push_str(" … end"),
        }
        out
    }

    /// The parameter at argument position `index` (0 = first after the name).
    pub(crate) fn param(&self, index: usize) -> Option<Param> {
        match self.args {
            Args::Words {
                required, optional, ..
            } => required
                .get(index)
                .or_else(|| optional.get(index.checked_sub(required.len())?))
                .copied(),
            _ => None,
        }
    }

    /// How many words the positional parameters take at most.
    pub(crate) fn max_params(&self) -> usize {
        match self.args {
            Args::Words {
                required, optional, ..
            } => required.len() + optional.len(),
            _ => 0,
        }
    }

    pub(crate) fn takes_options(&self) -> bool {
        matches!(self.args, Args::Words { options: true, .. })
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    pub(crate) fn is_magic(&self) -> bool {
        self.name.starts_with('%')
    }
}

pub(crate) static COMMANDS: &[CommandSpec] = &[
    // ---------------------------------------------------------------- reads
    CommandSpec {
        id: CommandId::Get,
        name: "get",
        aliases: &[],
        group: Group::Reads,
        args: words(&[Param::Key]),
        kind: Kind::Read,
        allowed: TOP_AND_TX,
        needs: Needs::Database,
        summary: "Look up the value stored under KEY; `<missing>` when there is none.",
        details: "A missing key is an ordinary answer in sled (`Ok(None)`), not an error.",
        maps_to: "sled::Tree::get(&self, key) -> sled::Result<Option<IVec>>",
        examples: &["get todo:002", "get \"buy boots\"", "get 0x00ff"],
    },
    CommandSpec {
        id: CommandId::ContainsKey,
        name: "contains_key",
        aliases: &["exists"],
        group: Group::Reads,
        args: words(&[Param::Key]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Whether KEY is stored: `true` or `false`.",
        details: "",
        maps_to: "sled::Tree::contains_key(&self, key) -> sled::Result<bool>",
        examples: &["contains_key todo:001"],
    },
    CommandSpec {
        id: CommandId::Len,
        name: "len",
        aliases: &["count"],
        group: Group::Reads,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "How many keys the current tree holds.",
        details: "sled does not keep a count: `len` walks every key, so it takes a while on big trees (Interrupt stops it).",
        maps_to: "sled::Tree::len(&self) -> usize",
        examples: &["len"],
    },
    CommandSpec {
        id: CommandId::IsEmpty,
        name: "is_empty",
        aliases: &[],
        group: Group::Reads,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Whether the current tree holds no keys at all.",
        details: "Unlike `len` this is quick: it only looks for a first key.",
        maps_to: "sled::Tree::is_empty(&self) -> bool",
        examples: &["is_empty"],
    },
    CommandSpec {
        id: CommandId::First,
        name: "first",
        aliases: &[],
        group: Group::Reads,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "The pair with the smallest key; `<none>` in an empty tree.",
        details: "",
        maps_to: "sled::Tree::first(&self) -> sled::Result<Option<(IVec, IVec)>>",
        examples: &["first"],
    },
    CommandSpec {
        id: CommandId::Last,
        name: "last",
        aliases: &[],
        group: Group::Reads,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "The pair with the largest key; `<none>` in an empty tree.",
        details: "",
        maps_to: "sled::Tree::last(&self) -> sled::Result<Option<(IVec, IVec)>>",
        examples: &["last"],
    },
    CommandSpec {
        id: CommandId::GetLt,
        name: "get_lt",
        aliases: &[],
        group: Group::Reads,
        args: words(&[Param::Key]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "The pair just before KEY: the largest key smaller than KEY.",
        details: "KEY itself need not exist. `<none>` when nothing sorts before it.",
        maps_to: "sled::Tree::get_lt(&self, key) -> sled::Result<Option<(IVec, IVec)>>",
        examples: &["get_lt todo:002"],
    },
    CommandSpec {
        id: CommandId::GetGt,
        name: "get_gt",
        aliases: &[],
        group: Group::Reads,
        args: words(&[Param::Key]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "The pair just after KEY: the smallest key larger than KEY.",
        details: "KEY itself need not exist. `<none>` when nothing sorts after it.",
        maps_to: "sled::Tree::get_gt(&self, key) -> sled::Result<Option<(IVec, IVec)>>",
        examples: &["get_gt todo:002", "get_gt \"\""],
    },
    CommandSpec {
        id: CommandId::ScanPrefix,
        name: "scan_prefix",
        aliases: &["scan"],
        group: Group::Reads,
        args: rows(&[Param::Prefix]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Every pair whose key starts with PREFIX, in key order.",
        details: "`limit N` stops after N pairs (sled's `.take(N)`); `rev` walks from the largest key down (`.rev()`). At most `%limit` rows are shown; the rest are counted as `… N more`.",
        maps_to: "sled::Tree::scan_prefix(&self, prefix) -> sled::Iter",
        examples: &["scan_prefix todo:", "scan todo: limit 2", "scan_prefix todo: rev limit 1"],
    },
    CommandSpec {
        id: CommandId::Range,
        name: "range",
        aliases: &[],
        group: Group::Reads,
        args: rows(&[Param::Range]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Every pair whose key lies in A..B, in key order.",
        details: "The bounds are Rust's: `a..c` from a up to but not including c, `a..=c` including c, `a..` from a to the end, `..c` from the start up to c, `..` everything. Quote a bound with spaces: `\"a b\"..\"c d\"`. `limit N` and `rev` as for `scan_prefix`.",
        maps_to: "sled::Tree::range(&self, a..b) -> sled::Iter",
        examples: &["range todo:001..todo:003", "range todo:001..=todo:003 rev", "range ..todo: limit 5"],
    },
    CommandSpec {
        id: CommandId::Iter,
        name: "iter",
        aliases: &[],
        group: Group::Reads,
        args: rows(&[]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Every pair in the current tree, in key order.",
        details: "`limit N` and `rev` as for `scan_prefix`.",
        maps_to: "sled::Tree::iter(&self) -> sled::Iter",
        examples: &["iter", "iter rev limit 3"],
    },
    CommandSpec {
        id: CommandId::Keys,
        name: "keys",
        aliases: &[],
        group: Group::Reads,
        args: rows(&[]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Every key in the current tree, in sorted order.",
        details: "`limit N` and `rev` as for `scan_prefix`.",
        maps_to: "sled::Tree::iter(&self).keys()",
        examples: &["keys", "keys limit 10"],
    },
    CommandSpec {
        id: CommandId::WatchPrefix,
        name: "watch_prefix",
        aliases: &["watch"],
        group: Group::Reads,
        args: words(&[Param::Prefix]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Show the pairs under PREFIX in a live table that updates itself whenever later cells change them.",
        details: "The table stays in the cell where the watch began and is redrawn after every cell that changed a key under PREFIX (and before `%sleep`), with a count of the changes sled reported and the last one. It stops at `unwatch PREFIX`, `unwatch`, `%reset` or `%open`. Watching the same prefix again moves the live table to the new cell. sled's subscriber makes writers wait once 1,024 events are unread, so the kernel reads them on a thread of its own.",
        maps_to: "sled::Tree::watch_prefix(&self, prefix) -> sled::Subscriber",
        examples: &["watch_prefix todo:", "watch \"\""],
    },
    CommandSpec {
        id: CommandId::Unwatch,
        name: "unwatch",
        aliases: &[],
        group: Group::Reads,
        args: optional(&[Param::Prefix]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Stop the live table of `watch_prefix PREFIX` (of every watch, without PREFIX).",
        details: "The table keeps its last contents and says it stopped. Dropping the subscriber is all sled needs.",
        maps_to: "drop(subscriber)",
        examples: &["unwatch todo:", "unwatch"],
    },
    // --------------------------------------------------------------- writes
    CommandSpec {
        id: CommandId::Insert,
        name: "insert",
        aliases: &["put", "set"],
        group: Group::Writes,
        args: words(&[Param::Key, Param::Value]),
        kind: Kind::Write,
        allowed: EVERYWHERE,
        needs: Needs::Database,
        summary: "Store VALUE under KEY, replacing any old value, and show the old value if there was one.",
        details: "",
        maps_to: "sled::Tree::insert(&self, key, value) -> sled::Result<Option<IVec>>",
        examples: &["insert todo:001 \"buy boots\"", "put 0x00ff b\"\\x01\\x02\""],
    },
    CommandSpec {
        id: CommandId::Remove,
        name: "remove",
        aliases: &["del", "delete"],
        group: Group::Writes,
        args: words(&[Param::Key]),
        kind: Kind::Write,
        allowed: EVERYWHERE,
        needs: Needs::Database,
        summary: "Delete KEY and show the value it held.",
        details: "Removing a key that is not there is not an error: it shows `(was missing)`.",
        maps_to: "sled::Tree::remove(&self, key) -> sled::Result<Option<IVec>>",
        examples: &["remove todo:001"],
    },
    CommandSpec {
        id: CommandId::PopMin,
        name: "pop_min",
        aliases: &[],
        group: Group::Writes,
        args: NONE,
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Remove the pair with the smallest key and show it (a queue's front).",
        details: "`<none>` when the tree is empty.",
        maps_to: "sled::Tree::pop_min(&self) -> sled::Result<Option<(IVec, IVec)>>",
        examples: &["pop_min"],
    },
    CommandSpec {
        id: CommandId::PopMax,
        name: "pop_max",
        aliases: &[],
        group: Group::Writes,
        args: NONE,
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Remove the pair with the largest key and show it (a stack's top).",
        details: "`<none>` when the tree is empty.",
        maps_to: "sled::Tree::pop_max(&self) -> sled::Result<Option<(IVec, IVec)>>",
        examples: &["pop_max"],
    },
    CommandSpec {
        id: CommandId::CompareAndSwap,
        name: "compare_and_swap",
        aliases: &["cas"],
        group: Group::Writes,
        args: words(&[Param::Key, Param::Old, Param::New]),
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Store NEW under KEY only if KEY currently holds OLD; otherwise show what it holds.",
        details: "Write `-` for \"absent\": OLD `-` means \"only if KEY is missing\", NEW `-` removes KEY. For the text \"-\" itself, quote it: `\"-\"`. A conflict is an answer, not an error: the line shows the current value and nothing changes.",
        maps_to: "sled::Tree::compare_and_swap(&self, key, old, new) -> sled::Result<Result<(), CompareAndSwapError>>",
        examples: &["cas lock:job - mine", "cas lock:job mine theirs", "compare_and_swap lock:job theirs -"],
    },
    CommandSpec {
        id: CommandId::Append,
        name: "append",
        aliases: &[],
        group: Group::Writes,
        args: words(&[Param::Key, Param::Value]),
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Add VALUE to the end of what KEY holds (or store it, if KEY is missing) and show the result.",
        details: "Runs as one atomic read-modify-write with sled's `update_and_fetch`.",
        maps_to: "sled::Tree::update_and_fetch(&self, key, |old| old + value)",
        examples: &["append log:1 \"step one; \""],
    },
    CommandSpec {
        id: CommandId::Incr,
        name: "incr",
        aliases: &[],
        group: Group::Writes,
        args: Args::Words {
            required: &[Param::Key],
            optional: &[Param::Delta],
            options: false,
        },
        kind: Kind::Write,
        allowed: TOP_AND_TX,
        needs: Needs::Database,
        summary: "Add N (default 1, may be negative) to the counter under KEY and show the new count.",
        details: "Counters are stored as decimal text, so `get` shows `\"42\"` and a missing key counts as 0. A value that is not a whole number is left alone and reported; so is a sum past the 64-bit range. Inside `transaction … end` it reads the counter and writes the sum through the transaction, so the new value depends on what the transaction read. (Rust code often stores counters as `u64::to_be_bytes` instead; this kernel keeps them readable.)",
        maps_to: "sled::Tree::update_and_fetch(&self, key, |old| old + n)",
        examples: &["incr views", "incr views 10", "incr views -1"],
    },
    CommandSpec {
        id: CommandId::Clear,
        name: "clear",
        aliases: &[],
        group: Group::Writes,
        args: NONE,
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Remove every key from the current tree and say how many went.",
        details: "Like sled's `clear`, it removes the keys one at a time: an Interrupt stops it part way, and the message says how many went.",
        maps_to: "sled::Tree::clear(&self) -> sled::Result<()>",
        examples: &["clear"],
    },
    // -------------------------------------------------------- atomic groups
    CommandSpec {
        id: CommandId::Batch,
        name: "batch",
        aliases: &[],
        group: Group::Atomic,
        args: Args::Block,
        kind: Kind::Block,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Gather the `insert` and `remove` lines up to `end` and apply them all at once, or none of them.",
        details: "Nothing is written until `end`: a mistake in any line, or an Interrupt, applies none of them. Only `insert` and `remove` fit in a batch, because a `sled::Batch` holds only those.",
        maps_to: "let mut b = sled::Batch::default(); b.insert(..); b.remove(..); tree.apply_batch(b)",
        examples: &["batch\n  insert a 1\n  insert b 2\n  remove c\nend"],
    },
    CommandSpec {
        id: CommandId::Transaction,
        name: "transaction",
        aliases: &["tx"],
        group: Group::Atomic,
        args: Args::Block,
        kind: Kind::Block,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Run the `get`, `insert`, `remove`, `incr` and `expect get` lines up to `end` in a sled transaction; any failure rolls all of them back.",
        details: "Inside a sled transaction only `get`, `insert` and `remove` exist; `incr KEY N` is a `get` and an `insert` of the sum, and `expect get KEY OP VALUE` reads and decides: when it does not hold, the transaction aborts. `abort [TEXT]` rolls back on purpose. The error names the line that stopped it. What the lines print appears once the transaction commits.",
        maps_to: "tree.transaction(|tx| { tx.get(..)?; tx.insert(..)?; tx.remove(..)?; Ok(()) })",
        examples: &["transaction\n  incr balance:alice -10\n  incr balance:bob 10\n  expect get balance:alice >= 0\nend"],
    },
    CommandSpec {
        id: CommandId::End,
        name: "end",
        aliases: &[],
        group: Group::Atomic,
        args: NONE,
        kind: Kind::Block,
        allowed: IN_BLOCKS,
        needs: Needs::Database,
        summary: "Close a `batch` or `transaction` and run it.",
        details: "",
        maps_to: "tree.apply_batch(batch) / the end of the transaction closure",
        examples: &["end"],
    },
    CommandSpec {
        id: CommandId::Abort,
        name: "abort",
        aliases: &[],
        group: Group::Atomic,
        args: Args::Text { required: false },
        kind: Kind::Block,
        allowed: IN_TX,
        needs: Needs::Database,
        summary: "Inside a transaction: stop here and roll back every write of the transaction.",
        details: "The cell fails with `TransactionAborted` and TEXT as the reason.",
        maps_to: "sled::transaction::abort(reason)",
        examples: &["abort not enough money"],
    },
    // ---------------------------------------------------------------- trees
    CommandSpec {
        id: CommandId::OpenTree,
        name: "open_tree",
        aliases: &["use"],
        group: Group::Trees,
        args: words(&[Param::Tree]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Switch to the tree NAME (creating it if needed) for the following lines and cells.",
        details: "A tree is a separate keyspace in the same database. Output names the tree, like `[users] put …`, whenever it is not the default one. Go back with `default_tree`: in sled the default tree is the `Db` itself.",
        maps_to: "sled::Db::open_tree(&self, name) -> sled::Result<Tree>",
        examples: &["open_tree users", "use users"],
    },
    CommandSpec {
        id: CommandId::DefaultTree,
        name: "default_tree",
        aliases: &[],
        group: Group::Trees,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Switch back to the default tree for the following lines and cells.",
        details: "In sled the default tree is the `Db` itself: `Db` dereferences to a `Tree`, so `db.insert(..)` writes to it. sled lists it among the trees as `__sled__default`, and `open_tree __sled__default` also lands here, but in Rust `db.open_tree(\"__sled__default\")` hands out a second handle that is not the `Db`: use `db`.",
        maps_to: "the `Db` itself (impl Deref<Target = Tree> for Db)",
        examples: &["default_tree"],
    },
    CommandSpec {
        id: CommandId::TreeNames,
        name: "tree_names",
        aliases: &["trees"],
        group: Group::Trees,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "The names of all trees, sorted, the default one included.",
        details: "sled keeps trees in a hash map and returns them in no particular order; they are sorted here.",
        maps_to: "sled::Db::tree_names(&self) -> Vec<IVec>",
        examples: &["tree_names"],
    },
    CommandSpec {
        id: CommandId::DropTree,
        name: "drop_tree",
        aliases: &[],
        group: Group::Trees,
        args: words(&[Param::Tree]),
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Delete the tree NAME and every key in it.",
        details: "sled refuses to drop the default tree. Dropping the current tree moves you back to the default one.",
        maps_to: "sled::Db::drop_tree(&self, name) -> sled::Result<bool>",
        examples: &["drop_tree users"],
    },
    // ------------------------------------------------------------- database
    CommandSpec {
        id: CommandId::Flush,
        name: "flush",
        aliases: &[],
        group: Group::Database,
        args: NONE,
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Write buffered changes to disk and show how many bytes that took.",
        details: "sled's documentation says that `flush` calls fsync and that writes made before a `flush` that returned are recovered after a crash. On Linux sled 0.34 ends each log write with `sync_file_range` instead, which waits until the bytes reach the drive but neither writes the file's metadata nor asks the drive to empty its own write cache; on other systems it calls `sync_all`. A full `sync_all` comes when the database is closed (from the log's own drop) and from the background flusher after each round (every 500 ms, for databases opened with `%open`). The session's temporary database has no background flusher, so the byte counts repeat from run to run, and unflushed writes stay in sled's memory until a `flush` (see `%crash_copy` and `%log`).",
        maps_to: "sled::Tree::flush(&self) -> sled::Result<usize>",
        examples: &["flush"],
    },
    CommandSpec {
        id: CommandId::SizeOnDisk,
        name: "size_on_disk",
        aliases: &[],
        group: Group::Database,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "How many bytes the database's files take on disk.",
        details: "",
        maps_to: "sled::Db::size_on_disk(&self) -> sled::Result<u64>",
        examples: &["size_on_disk"],
    },
    CommandSpec {
        id: CommandId::Checksum,
        name: "checksum",
        aliases: &[],
        group: Group::Database,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "A CRC32 of every tree name, key and value: equal databases give equal numbers.",
        details: "Computed the way sled's `Db::checksum` does (trees in name order), but here Interrupt can stop it.",
        maps_to: "sled::Db::checksum(&self) -> sled::Result<u32>",
        examples: &["checksum"],
    },
    CommandSpec {
        id: CommandId::GenerateId,
        name: "generate_id",
        aliases: &[],
        group: Group::Database,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "A number never handed out before by this database, even across restarts.",
        details: "",
        maps_to: "sled::Db::generate_id(&self) -> sled::Result<u64>",
        examples: &["generate_id"],
    },
    CommandSpec {
        id: CommandId::WasRecovered,
        name: "was_recovered",
        aliases: &[],
        group: Group::Database,
        args: NONE,
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Whether the database was opened from existing files rather than created empty.",
        details: "",
        maps_to: "sled::Db::was_recovered(&self) -> bool",
        examples: &["was_recovered"],
    },
    // --------------------------------------------------------------- magics
    CommandSpec {
        id: CommandId::Help,
        name: "%help",
        aliases: &[],
        group: Group::Magics,
        args: Args::Words {
            required: &[],
            optional: &[Param::Topic],
            options: false,
        },
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "List every command, or show one command's syntax, examples, aliases and sled method.",
        details: "Shift+Tab on a command shows the same help.",
        maps_to: "(the kernel's own help)",
        examples: &["%help", "%help scan_prefix", "%help %open"],
    },
    CommandSpec {
        id: CommandId::LsMagic,
        name: "%lsmagic",
        aliases: &[],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "List the magics (the commands that start with %).",
        details: "",
        maps_to: "(the kernel's own help)",
        examples: &["%lsmagic"],
    },
    CommandSpec {
        id: CommandId::Reset,
        name: "%reset",
        aliases: &[],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Start over on a fresh, empty temporary database.",
        details: "A temporary database is deleted; one opened with `%open` is closed and left on disk.",
        maps_to: "drop(db); sled::Config::new().path(fresh_dir).open()",
        examples: &["%reset"],
    },
    CommandSpec {
        id: CommandId::Open,
        name: "%open",
        aliases: &[],
        group: Group::Magics,
        args: words(&[Param::Dir]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Use the database in directory PATH (created if missing) for the rest of the session; it is never deleted.",
        details: "A relative PATH is relative to the notebook's directory; `~` is your home. sled's background flusher hands what is buffered to a writer every 500 ms (without waiting for it), so a crash usually loses at most about the last half second of writes; only what a returned `flush` covered is promised. If another process has it open, the error says which one where the system tells, and the session keeps its current database.",
        maps_to: "sled::open(path) -> sled::Result<Db>",
        examples: &["%open ./todo-db", "%open \"~/my data/db\""],
    },
    CommandSpec {
        id: CommandId::Reopen,
        name: "%reopen",
        aliases: &[],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Close the database and open it again, to see what survived.",
        details: "Closing flushes, as dropping a `Db` does; opening again reads the files back as a restarted program would, so `was_recovered` is then true. You stay on the same tree. If something else grabs the directory in between, the error says so and the next cell tries again.",
        maps_to: "drop(db); let db = sled::open(path)?",
        examples: &["%reopen"],
    },
    CommandSpec {
        id: CommandId::Info,
        name: "%info",
        aliases: &[],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Where the database is, whether it is temporary or persistent, its trees and key counts, its size on disk.",
        details: "Counting keys walks every tree; Interrupt stops it.",
        maps_to: "db.tree_names(), tree.len(), db.size_on_disk()",
        examples: &["%info"],
    },
    CommandSpec {
        id: CommandId::Time,
        name: "%time",
        aliases: &[],
        group: Group::Magics,
        args: Args::Line,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Line,
        summary: "Run one line and print how long it took (wall time).",
        details: "The line's own output comes first; a read's answer still becomes Out[n].",
        maps_to: "let t = std::time::Instant::now(); …; t.elapsed()",
        examples: &["%time len", "%time scan_prefix todo:"],
    },
    CommandSpec {
        id: CommandId::Timings,
        name: "%timings",
        aliases: &[],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Show every line timed with `%time` in this session, with its wall time and how many times slower than the fastest it was.",
        details: "A table in the order the lines ran, with a bar per line on a log scale (5 more marks for each ten times longer). The list outlives `%reset` and `%open`; a kernel restart empties it. It keeps the last 100 timings.",
        maps_to: "(the kernel's own record of `%time`)",
        examples: &["%timings"],
    },
    CommandSpec {
        id: CommandId::Limit,
        name: "%limit",
        aliases: &[],
        group: Group::Magics,
        args: Args::Words {
            required: &[],
            optional: &[Param::Rows],
            options: false,
        },
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Show at most N rows per result (default 100); with no N, show the setting.",
        details: "The rows past the limit are still read and counted, and summarised as `… N more`. This is only about display: `limit N` on a read changes what is read.",
        maps_to: "(display setting)",
        examples: &["%limit 10", "%limit"],
    },
    CommandSpec {
        id: CommandId::Load,
        name: "%load",
        aliases: &[],
        group: Group::Magics,
        args: Args::Words {
            required: &[Param::File],
            optional: &[Param::FlushEvery],
            options: false,
        },
        kind: Kind::Write,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Insert the pairs from FILE: JSON lines as `%dump` writes them, or a CSV file of key,value rows.",
        details: "JSON lines: `{\"key\": \"k\", \"value\": \"v\", \"tree\": \"users\"}`, one per line; `tree` is optional (the current tree), bytes that are not UTF-8 are `{\"hex\": \"00ff\"}`. A file ending in .csv is read as two columns (a first row `key,value` is a header). The whole file is checked first, so a bad line loads nothing; then the rows are inserted, and an Interrupt stops only after a multiple of 10,000 rows (the message says how many went in). With `flush_every=N` it also calls `flush` after every N rows and once at the end, as a program that flushes that often would: `flush_every=1` is a flush per insert.",
        maps_to: "for (key, value) in rows { tree.insert(key, value)?; } (with flush_every=N: tree.flush()? after every N)",
        examples: &["%load todo.jsonl", "%load people.csv", "%load todo.jsonl flush_every=1"],
    },
    CommandSpec {
        id: CommandId::SampleFile,
        name: "%sample_file",
        aliases: &[],
        group: Group::Magics,
        args: Args::Words {
            required: &[Param::File, Param::Rows],
            optional: &[Param::Prefix, Param::SampleValue],
            options: false,
        },
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Write FILE with N made-up pairs (keys PREFIX000001, PREFIX000002, …), the same every time, for `%load`.",
        details: "The file is JSON lines, as `%dump` writes them. PREFIX defaults to `key:`; the numbers are zero-padded to at least 6 digits, so text order is number order. Each value is a short text naming its key, or V for every pair with `value=V` (after PREFIX: `%sample_file bank.jsonl 100 acct: value=100` makes a bank of 100 accounts holding 100 each). FILE is replaced if it exists; at most 10,000,000 pairs. The database is not touched: `%load FILE` puts the pairs in.",
        maps_to: "(writes a file; no sled call)",
        examples: &["%sample_file big.jsonl 100000", "%sample_file books.jsonl 1000 book:", "%sample_file bank.jsonl 100 acct: value=100"],
    },
    CommandSpec {
        id: CommandId::Dump,
        name: "%dump",
        aliases: &[],
        group: Group::Magics,
        args: words(&[Param::File]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Write every pair of every tree to FILE as JSON lines, which `%load` reads back.",
        details: "Each line is `{\"key\": …, \"value\": …, \"tree\": …}`; bytes that are not UTF-8 are written as `{\"hex\": \"…\"}`. FILE is replaced if it exists. Written by iterating, not with sled's `export` (which panics on I/O errors); an Interrupt deletes the half-written file.",
        maps_to: "for tree in db.tree_names() { for (k, v) in tree.iter() { … } }",
        examples: &["%dump backup.jsonl"],
    },
    CommandSpec {
        id: CommandId::Sleep,
        name: "%sleep",
        aliases: &[],
        group: Group::Magics,
        args: words(&[Param::Seconds]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Pause,
        summary: "Wait SECONDS seconds (fractions allowed); Interrupt stops the wait.",
        details: "",
        maps_to: "std::thread::sleep(Duration::from_secs_f64(seconds))",
        examples: &["%sleep 0.5"],
    },
    CommandSpec {
        id: CommandId::Draw,
        name: "%draw",
        aliases: &[],
        group: Group::Magics,
        args: optional(&[Param::Prefix]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Draw the sorted drawer: the keys as folders in order, banded by prefix, with what PREFIX or a range A..B selects highlighted.",
        details: "With a prefix or a range, the picture shows the one seek to the first selected folder, the walk over the rest, and the key where the walk stops; a few neighbours stand on either side. Keys removed earlier in the same cell are drawn crossed out where they stood (the kernel remembers them for the picture; sled's tree keeps nothing of a removed key). At most 40 folders are drawn; the rest are counted. The picture is an SVG, with a text version for plain frontends.",
        maps_to: "tree.scan_prefix(p) / tree.range(a..b), drawn",
        examples: &["%draw", "%draw todo:", "%draw todo:001..todo:003"],
    },
    CommandSpec {
        id: CommandId::TryOpen,
        name: "%try_open",
        aliases: &[],
        group: Group::Magics,
        args: optional(&[Param::Dir]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Try to open PATH (default: this session's database) with a second, separate `sled::open`, as another program would, and show what sled answers.",
        details: "sled takes an exclusive lock on a database's `db` file while it is open (`flock` on Linux and macOS, `LockFileEx` on Windows; an advisory lock: it stops whoever asks for it, as every `sled::open` does), so a second `sled::open` of the directory is refused for as long as the session holds it, in this process or any other: the lesson of why one program at a time can use an embedded database. Clones of a `Db` are more handles on the one open database. The session's own handle is not touched. PATH must already hold a sled database.",
        maps_to: "sled::open(path) (a second handle)",
        examples: &["%try_open", "%try_open drawer"],
    },
    CommandSpec {
        id: CommandId::Crash,
        name: "%crash",
        aliases: &[],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Kill this kernel's process on the spot (SIGKILL; TerminateProcess on Windows), with no flush and no clean close, to see afterwards what a crash kept of a database opened with `%open`.",
        details: "Only for a database opened with `%open`: the session's temporary database would die with the kernel, so on it `%crash` refuses and says why. JupyterLab restarts the kernel; `%open` the same PATH again and look. Writes that a `flush` covered are there; later ones may or may not be (sled's background flusher may have written them), and sled promises nothing about them. A killed process still leaves what it had handed to the operating system; a power cut can lose more. While nbgrader runs the notebook (NBGRADER_EXECUTION is set) the kernel is not killed: the database's files are left as a kill would have left them and the session starts over on a fresh temporary database, as after a restart.",
        maps_to: "kill(getpid(), SIGKILL), on Windows TerminateProcess: the process ends without running any destructor, so `Db` is never dropped",
        examples: &["%crash"],
    },
    CommandSpec {
        id: CommandId::CrashCopy,
        name: "%crash_copy",
        aliases: &[],
        group: Group::Magics,
        args: optional(&[Param::Damage]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Copy the database's files as they are on disk right now, without a flush, and go on with the copy: what a crash at this instant would leave. `tear=N` or `flip=OFFSET` damages the copy's log first.",
        details: "Writes that nothing has sent to the files yet are only in sled's memory, so the copy does not have them. A `flush` writes them out before it returns; a batch, a transaction or a full buffer hands them to a writer thread, which writes them moments later. The session's temporary database has no background flusher, so after plain writes or a `flush` the answer is the same every time; a database opened with `%open` has sled's flusher, which may have written more. `tear=N` zeroes the last N bytes of the log's records in the copy, as a crash part-way through writing them would leave them; `flip=OFFSET` inverts the one byte at OFFSET of the copy's `db` file (see `%log` for where each record starts). The command says which record the damage hit, then opens the copy as sled would after a restart: sled checks every record's CRC and stops reading the log at the first record that fails, and its `open` says nothing about what it left out. If sled refuses to open the copy, the error says what sled reported, and the session keeps its database. Otherwise the session continues on the copy (a temporary database, on the same tree when the copy has it); the database it leaves is closed normally, which flushes it: a temporary one is deleted, one opened with `%open` stays on disk.",
        maps_to: "copy the directory's files; sled::Config::new().path(copy).open()",
        examples: &["%crash_copy", "%crash_copy tear=30", "%crash_copy flip=160"],
    },
    CommandSpec {
        id: CommandId::Log,
        name: "%log",
        aliases: &[],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Show the records of the database's log file (`db`) as they are on disk now: each with its offset, its size, what it holds and whether its CRC matches.",
        details: "sled 0.34 keeps everything in one log file cut into segments of 512 KiB. Each segment starts with a 20-byte header; then come records, each with a header (a CRC32, a kind, a length, the segment and page number) and a body. A change to one key is one small record (`insert k = \"v\"`, `remove k`); sled also writes whole pages, its list of trees and its ID counter, and a batch marker before the records of every batch and transaction, which makes recovery keep all of them or none. Unflushed writes are not in the file yet, so they are not listed. sled writes a key in a record without the prefix all keys of its page share; `%log` puts the prefix back from the page's last whole copy in the log, and shows `…` in its place when there is none. The picture shows at most the last 40 records; the rest are counted. The file is only read.",
        maps_to: "(reads the `db` file: sled's log, records as sled 0.34's `pagecache/logger.rs` writes them)",
        examples: &["%log"],
    },
    CommandSpec {
        id: CommandId::Transfers,
        name: "%transfers",
        aliases: &[],
        group: Group::Magics,
        args: words(&[Param::Prefix]),
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Start a writer thread that moves money between the accounts under PREFIX, one sled transaction per transfer, until the cell ends.",
        details: "Every value under PREFIX must be a whole number of at least 0 (a balance), and there must be at least two. Each transfer is one `transaction` on the current tree: it reads two accounts picked at random, and moves an amount from 1 to 10 from the first to the second, unless the first holds less. The total never changes. The thread runs beside the rest of the cell (so the reads after `%transfers` race with it) and stops when the cell ends, or after 200,000 transfers, and the cell's output ends with how many it committed. Commands that close the database (`%reset`, `%open`, `%reopen`, `%crash_copy`, `%crash`, `drop_tree`) stop it first.",
        maps_to: "std::thread::spawn(move || loop { tree.transaction(|tx| { /* get a, get b, insert a - n, insert b + n */ }) })",
        examples: &["%transfers acct:"],
    },
    CommandSpec {
        id: CommandId::Sum,
        name: "%sum",
        aliases: &[],
        group: Group::Magics,
        args: Args::Words {
            required: &[Param::Prefix],
            optional: &[Param::Times, Param::ReadHow],
            options: false,
        },
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Database,
        summary: "Add up the whole-number values under PREFIX; with N, do it N times and count how often each total came out.",
        details: "`scan` (the default) reads the values with one `scan_prefix`, adding them as it walks, as a program's loop would. `transaction` first lists the keys with a scan, then reads every one of them with `get` inside one sled transaction (a `TransactionalTree` has no scan). While `%transfers` runs, a scan can add up a total that never existed: sled's iterator takes its lock for one step at a time and reads each leaf of the tree as it is when it gets there. A transaction holds sled's one lock for the whole process from its first read to its commit, so no transfer lands in the middle. Every value must be a whole number; N is at most 100,000.",
        maps_to: "tree.scan_prefix(p).values().map(parse).sum(); or tree.transaction(|tx| keys.iter().map(|k| tx.get(k)).sum())",
        examples: &["%sum acct:", "%sum acct: 1000", "%sum acct: 1000 transaction"],
    },
    CommandSpec {
        id: CommandId::Exit,
        name: "exit",
        aliases: &["quit"],
        group: Group::Magics,
        args: NONE,
        kind: Kind::Session,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Ask the frontend to close: `jupyter console` ends (and stops the kernel it started); a notebook ignores it.",
        details: "This is what `exit` and `quit` do in IPython: the reply asks the frontend to close, and the frontend decides. In a notebook nothing happens and the session goes on; to stop the kernel there, use Kernel › Shut Down Kernel (or close the notebook and shut it down).",
        maps_to: "(the execute_reply payload {\"source\": \"ask_exit\", \"keepkernel\": false})",
        examples: &["exit", "quit"],
    },
    // ------------------------------------------------------------ exercises
    CommandSpec {
        id: CommandId::Expect,
        name: "expect",
        aliases: &[],
        group: Group::Exercises,
        args: Args::Line,
        kind: Kind::Read,
        allowed: TOP_AND_TX,
        needs: Needs::Line,
        summary: "Check that a read gives the answer you expect: `expect get todo:002 == \"lift legs\"`. A tick when it does, an `ExpectationFailed` error when it does not.",
        details: "LINE is a read with one answer (`get`, `contains_key`, `len`, `is_empty`, `first`, `last`, `get_lt`, `get_gt`, `tree_names`, …); VALUE is written as a value is typed (`\"lift legs\"`, `3`, `false`, `<missing>` for an absent key) or as the answer prints (`todo:002 = \"lift legs\"`). Besides `==` there are `!=`, `<`, `<=`, `>` and `>=`: whole numbers (`\"0950\"`, `-3`) compare as numbers, other values byte by byte, as sled orders keys. A failed expectation is a real error, so graders such as nbgrader mark the cell as failed, and the cells after it are not run. Inside `transaction … end`, `expect get KEY OP VALUE` reads through the transaction, and when it does not hold the transaction aborts and is rolled back.",
        maps_to: "assert_eq!(tree.get(key)?, expected); in a transaction: if !holds { abort(..) }",
        examples: &["expect get todo:002 == \"lift legs\"", "expect len == 3", "expect contains_key todo:001 == false", "expect get balance:alice >= 0"],
    },
    CommandSpec {
        id: CommandId::WrittenBy,
        name: "%written_by",
        aliases: &[],
        group: Group::Exercises,
        args: words(&[Param::Key]),
        kind: Kind::Read,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Which batch or transaction of this session's cells last wrote KEY in the current tree: `a batch of 3 writes`, `a transaction of 1 read and 2 writes`, or `<none>`.",
        details: "The kernel keeps this record (sled keeps none): for each key a committed `batch … end` or `transaction … end` inserted or removed, how many writes that block made, and for a transaction how many reads (`get`, `expect get` and `incr` read; `insert`, `remove` and `incr` write). A later single write of the key (`insert`, `remove`, `incr`, `cas`, `append`) makes the answer `<none>` again, and so do `clear`, `pop_min`, `pop_max` and `%load` for every key of their tree, `drop_tree`, `%reset`, `%open`, `%crash_copy`, `%crash` and a `%%rust` cell for every key. Writes made by `%transfers` and by Rust cells are not recorded. Checks use it to see that writes were made together: `expect %written_by user:003 == \"a batch of 3 writes\"`.",
        maps_to: "(the kernel's own record of committed batches and transactions)",
        examples: &["%written_by user:003"],
    },
    // ------------------------------------------------------------- printing
    CommandSpec {
        id: CommandId::Echo,
        name: "echo",
        aliases: &[],
        group: Group::Printing,
        args: Args::Text { required: false },
        kind: Kind::Print,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Print the rest of the line as it is (headings between steps).",
        details: "The text is taken verbatim, quotes and `#` included.",
        maps_to: "println!(\"{text}\")",
        examples: &["echo insert 4 keys:"],
    },
    CommandSpec {
        id: CommandId::Warn,
        name: "warn",
        aliases: &[],
        group: Group::Printing,
        args: Args::Text { required: true },
        kind: Kind::Print,
        allowed: TOP,
        needs: Needs::Nothing,
        summary: "Print `warning: TEXT` to stderr.",
        details: "",
        maps_to: "eprintln!(\"warning: {text}\")",
        examples: &["warn these keys are only for this session"],
    },
];

// Checked while compiling: every `CommandId` has exactly one row, so a new
// id cannot be forgotten in the table (nor listed twice).
const _: () = {
    let mut i = 0;
    while i < CommandId::ALL.len() {
        let mut rows = 0;
        let mut j = 0;
        while j < COMMANDS.len() {
            if COMMANDS[j].id as usize == CommandId::ALL[i] as usize {
                rows += 1;
            }
            j += 1;
        }
        assert!(
            rows == 1,
            "every CommandId needs exactly one row in COMMANDS"
        );
        i += 1;
    }
    assert!(
        COMMANDS.len() == CommandId::ALL.len(),
        "every row of COMMANDS needs its own CommandId"
    );
};

/// The command a word names, ignoring case (`GET`, `Scan`, `%RESET`).
pub(crate) fn lookup(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|c| c.names().any(|n| n.eq_ignore_ascii_case(word)))
}

/// The command a help topic names: like [`lookup`], but a magic may be
/// named without its `%` (`%help open`).
pub(crate) fn lookup_topic(word: &str) -> Option<&'static CommandSpec> {
    lookup(word).or_else(|| {
        COMMANDS.iter().filter(|c| c.is_magic()).find(|c| {
            c.name
                .strip_prefix('%')
                .is_some_and(|name| name.eq_ignore_ascii_case(word))
        })
    })
}

/// Every name and alias, sorted; what completion offers at a line start.
pub(crate) fn all_names() -> Vec<&'static str> {
    let mut names: Vec<_> = COMMANDS.iter().flat_map(CommandSpec::names).collect();
    names.sort_unstable();
    names
}

/// The closest name to a mistyped word, if any is close enough to be a
/// likely typo: one edit for three-letter words, two for longer ones
/// (transpositions count as one edit, so `gte` finds `get`). A magic typed
/// without its `%` is found too.
pub(crate) fn suggest(word: &str) -> Option<&'static str> {
    let typed = word.to_lowercase();
    let length = typed.chars().count();
    if length < 3 {
        // Too short to tell a typo from a different word (`x`, `tc`).
        return None;
    }
    let limit = if length == 3 { 1 } else { 2 };
    COMMANDS
        .iter()
        .flat_map(CommandSpec::names)
        // The distance is at least the difference in length: skip names
        // that cannot be close, so a long word costs nothing (measuring a
        // 10 MB word against every name took 15 s and gigabytes).
        .filter(|name| name.chars().count().abs_diff(length) <= limit)
        .map(|name| (strsim::damerau_levenshtein(&typed, name), name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_aliases_are_unique_lowercase_and_resolve_to_their_command() {
        let mut seen = HashSet::new();
        for spec in COMMANDS {
            for name in spec.names() {
                assert!(seen.insert(name), "{name} is listed twice");
                assert_eq!(name, name.to_lowercase());
                assert_eq!(lookup(name).map(|c| c.id), Some(spec.id));
            }
        }
        assert_eq!(all_names().len(), seen.len());
    }

    #[test]
    fn every_id_has_one_row_with_help() {
        let mut ids = HashSet::new();
        for spec in COMMANDS {
            assert!(ids.insert(spec.id), "{:?} twice", spec.id);
            assert!(spec.summary.ends_with('.'), "{}", spec.name);
            assert!(!spec.examples.is_empty(), "{}", spec.name);
            assert!(!spec.maps_to.is_empty(), "{}", spec.name);
            for example in spec.examples {
                let first = example.split_whitespace().next().unwrap_or("");
                assert_eq!(
                    lookup(first).map(|c| c.id),
                    Some(spec.id),
                    "example {example:?} of {}",
                    spec.name
                );
            }
        }
        assert_eq!(
            ids.len(),
            CommandId::ALL.len(),
            "a new CommandId needs a row"
        );
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup("GET").map(|c| c.id), Some(CommandId::Get));
        assert_eq!(lookup("Scan").map(|c| c.id), Some(CommandId::ScanPrefix));
        assert_eq!(lookup("%RESET").map(|c| c.id), Some(CommandId::Reset));
        assert_eq!(lookup("DEL").map(|c| c.id), Some(CommandId::Remove));
        assert!(lookup("reset").is_none(), "magics keep their %");
        assert!(lookup("").is_none());
        assert_eq!(lookup_topic("open").map(|c| c.id), Some(CommandId::Open));
        assert_eq!(lookup_topic("%open").map(|c| c.id), Some(CommandId::Open));
        assert_eq!(
            lookup_topic("cas").map(|c| c.id),
            Some(CommandId::CompareAndSwap)
        );
    }

    #[test]
    fn syntax_is_built_from_params() {
        let syntax = |w| lookup(w).map(|c| c.syntax());
        assert_eq!(syntax("put").as_deref(), Some("insert KEY VALUE"));
        assert_eq!(
            syntax("scan").as_deref(),
            Some("scan_prefix PREFIX [limit N] [rev]")
        );
        assert_eq!(syntax("keys").as_deref(), Some("keys [limit N] [rev]"));
        assert_eq!(
            syntax("range").as_deref(),
            Some("range A..B [limit N] [rev]")
        );
        assert_eq!(syntax("incr").as_deref(), Some("incr KEY [N]"));
        assert_eq!(
            syntax("cas").as_deref(),
            Some("compare_and_swap KEY OLD NEW")
        );
        assert_eq!(syntax("echo").as_deref(), Some("echo [TEXT]"));
        assert_eq!(syntax("warn").as_deref(), Some("warn TEXT"));
        assert_eq!(syntax("%sleep").as_deref(), Some("%sleep SECONDS"));
        assert_eq!(syntax("%time").as_deref(), Some("%time LINE"));
        assert_eq!(syntax("%help").as_deref(), Some("%help [COMMAND]"));
        assert_eq!(syntax("batch").as_deref(), Some("batch … end"));
        assert_eq!(syntax("len").as_deref(), Some("len"));
        assert_eq!(
            syntax("%crash_copy").as_deref(),
            Some("%crash_copy [tear=N|flip=OFFSET]")
        );
        assert_eq!(
            syntax("%sum").as_deref(),
            Some("%sum PREFIX [N] [scan|transaction]")
        );
        assert_eq!(
            syntax("%load").as_deref(),
            Some("%load FILE [flush_every=N]")
        );
        assert_eq!(
            syntax("%sample_file").as_deref(),
            Some("%sample_file FILE N [PREFIX] [value=V]")
        );
    }

    #[test]
    fn suggestions_catch_typos_but_not_unrelated_words() {
        assert_eq!(suggest("gte"), Some("get"));
        assert_eq!(suggest("scna_prefix"), Some("scan_prefix"));
        assert_eq!(suggest("INSRET"), Some("insert"));
        assert_eq!(suggest("reset"), Some("%reset"));
        assert_eq!(suggest("sleep"), Some("%sleep"));
        assert_eq!(suggest("kyes"), Some("keys"));
        assert_eq!(suggest("%opne"), Some("%open"));
        assert_eq!(suggest("%lsmagc"), Some("%lsmagic"));
        assert_eq!(suggest("tree_name"), Some("tree_names"));
        assert_eq!(suggest("pop_mn"), Some("pop_min"));
        assert_eq!(suggest("select"), None);
        assert_eq!(suggest("x"), None);
        assert_eq!(suggest("tc"), None);
    }

    #[test]
    fn parameter_slots() {
        let get = lookup("get").unwrap();
        assert_eq!(get.param(0), Some(Param::Key));
        assert_eq!(get.param(1), None);
        let insert = lookup("insert").unwrap();
        assert_eq!(insert.param(0), Some(Param::Key));
        assert_eq!(insert.param(1), Some(Param::Value));
        let incr = lookup("incr").unwrap();
        assert_eq!(incr.param(1), Some(Param::Delta));
        assert_eq!(incr.param(2), None);
        assert_eq!(incr.max_params(), 2);
        assert_eq!(lookup("echo").unwrap().param(0), None);
        assert!(lookup("iter").unwrap().takes_options());
        assert!(!lookup("get").unwrap().takes_options());
    }

    #[test]
    fn only_sled_operations_go_inside_blocks() {
        let in_batch: Vec<_> = COMMANDS
            .iter()
            .filter(|c| c.allowed.batch)
            .map(|c| c.name)
            .collect();
        assert_eq!(in_batch, ["insert", "remove", "end"]);
        let in_tx: Vec<_> = COMMANDS
            .iter()
            .filter(|c| c.allowed.transaction)
            .map(|c| c.name)
            .collect();
        assert_eq!(
            in_tx,
            ["get", "insert", "remove", "incr", "end", "abort", "expect"]
        );
    }
}
