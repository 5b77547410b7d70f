//! The one table of commands. Parsing, help, completion and "did you mean"
//! all read [`COMMANDS`], so a command is described in exactly one place.
//!
//! Commands are named after the sled methods they call, so the notebook
//! teaches the Rust API as it goes.

/// Which command a line names, once aliases are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandId {
    Insert,
    Get,
    ScanPrefix,
    Remove,
    Iter,
    Keys,
    Flush,
    Reset,
    Echo,
    Warn,
    Sleep,
}

/// What one argument slot holds. Completion and inspection look at this to
/// know when the cursor sits where a key belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    Key,
    Value,
    Prefix,
    Seconds,
}

impl Param {
    pub fn placeholder(self) -> &'static str {
        match self {
            Param::Key => "KEY",
            Param::Value => "VALUE",
            Param::Prefix => "PREFIX",
            Param::Seconds => "SECONDS",
        }
    }

    /// Whether the slot names keys already in the database.
    pub fn names_keys(self) -> bool {
        matches!(self, Param::Key | Param::Prefix)
    }
}

/// How a command takes its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    /// A fixed list of words (keys, values, numbers).
    Words(&'static [Param]),
    /// The rest of the line, verbatim (`echo`, `warn`).
    Text { required: bool },
}

/// What running the command does, which decides where its output goes:
/// a read that ends a cell becomes the cell's `Out[n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
    Print,
    Session,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Read => "reads the database; as a cell's last line its answer becomes Out[n]",
            Kind::Write => "changes the database and prints what it did",
            Kind::Print => "prints text; does not touch the database",
            Kind::Session => "acts on the kernel session rather than on keys",
        }
    }
}

/// Everything there is to know about one command.
#[derive(Debug)]
pub struct CommandSpec {
    pub id: CommandId,
    /// The canonical name; magics start with `%`.
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: Args,
    pub kind: Kind,
    /// One line for help and inspection.
    pub summary: &'static str,
    /// The Rust call the command stands for.
    pub maps_to: &'static str,
    pub example: &'static str,
}

impl CommandSpec {
    /// `insert KEY VALUE`, `echo [TEXT]`: built from the parameters so it
    /// cannot drift from what the parser accepts.
    pub fn syntax(&self) -> String {
        let mut out = self.name.to_string();
        match self.args {
            Args::Words(params) => {
                for p in params {
                    out.push(' ');
                    out.push_str(p.placeholder());
                }
            }
            Args::Text { required: true } => out.push_str(" TEXT"),
            Args::Text { required: false } => out.push_str(" [TEXT]"),
        }
        out
    }

    /// The parameter at argument position `index` (0 = first after the name).
    pub fn param(&self, index: usize) -> Option<Param> {
        match self.args {
            Args::Words(params) => params.get(index).copied(),
            Args::Text { .. } => None,
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        id: CommandId::Insert,
        name: "insert",
        aliases: &["put", "set"],
        args: Args::Words(&[Param::Key, Param::Value]),
        kind: Kind::Write,
        summary: "Store VALUE under KEY, replacing any old value, and show the old value if there was one.",
        maps_to: "sled::Tree::insert(&self, key, value) -> sled::Result<Option<IVec>>",
        example: "insert todo:001 \"buy boots\"",
    },
    CommandSpec {
        id: CommandId::Get,
        name: "get",
        aliases: &[],
        args: Args::Words(&[Param::Key]),
        kind: Kind::Read,
        summary: "Look up the value stored under KEY; `<missing>` when there is none.",
        maps_to: "sled::Tree::get(&self, key) -> sled::Result<Option<IVec>>",
        example: "get todo:002",
    },
    CommandSpec {
        id: CommandId::ScanPrefix,
        name: "scan_prefix",
        aliases: &["scan"],
        args: Args::Words(&[Param::Prefix]),
        kind: Kind::Read,
        summary: "List every key that starts with PREFIX, with its value, in sorted key order.",
        maps_to: "sled::Tree::scan_prefix(&self, prefix) -> sled::Iter",
        example: "scan_prefix todo:",
    },
    CommandSpec {
        id: CommandId::Remove,
        name: "remove",
        aliases: &["del", "delete"],
        args: Args::Words(&[Param::Key]),
        kind: Kind::Write,
        summary: "Delete KEY and show the value it held.",
        maps_to: "sled::Tree::remove(&self, key) -> sled::Result<Option<IVec>>",
        example: "remove todo:001",
    },
    CommandSpec {
        id: CommandId::Iter,
        name: "iter",
        aliases: &[],
        args: Args::Words(&[]),
        kind: Kind::Read,
        summary: "List every key and value in the database, in sorted key order.",
        maps_to: "sled::Tree::iter(&self) -> sled::Iter",
        example: "iter",
    },
    CommandSpec {
        id: CommandId::Keys,
        name: "keys",
        aliases: &[],
        args: Args::Words(&[]),
        kind: Kind::Read,
        summary: "List every key in the database, in sorted order.",
        maps_to: "sled::Tree::iter(&self).keys()",
        example: "keys",
    },
    CommandSpec {
        id: CommandId::Flush,
        name: "flush",
        aliases: &[],
        args: Args::Words(&[]),
        kind: Kind::Write,
        summary: "Write buffered changes to disk and show how many bytes that took.",
        maps_to: "sled::Tree::flush(&self) -> sled::Result<usize>",
        example: "flush",
    },
    CommandSpec {
        id: CommandId::Reset,
        name: "%reset",
        aliases: &[],
        args: Args::Words(&[]),
        kind: Kind::Session,
        summary: "Throw the session database away and open a fresh, empty one.",
        maps_to: "drop(db); sled::Config::new().path(fresh_dir).open()",
        example: "%reset",
    },
    CommandSpec {
        id: CommandId::Echo,
        name: "echo",
        aliases: &[],
        args: Args::Text { required: false },
        kind: Kind::Print,
        summary: "Print the rest of the line as it is (headings between steps).",
        maps_to: "println!(\"{text}\")",
        example: "echo insert 4 keys:",
    },
    CommandSpec {
        id: CommandId::Warn,
        name: "warn",
        aliases: &[],
        args: Args::Text { required: true },
        kind: Kind::Print,
        summary: "Print `warning: TEXT` to stderr.",
        maps_to: "eprintln!(\"warning: {text}\")",
        example: "warn these keys are only for this session",
    },
    CommandSpec {
        id: CommandId::Sleep,
        name: "%sleep",
        aliases: &[],
        args: Args::Words(&[Param::Seconds]),
        kind: Kind::Session,
        summary: "Wait SECONDS seconds (fractions allowed); Interrupt stops the wait.",
        maps_to: "std::thread::sleep(Duration::from_secs_f64(seconds))",
        example: "%sleep 0.5",
    },
];

/// The command a word names, ignoring case (`GET`, `Scan`, `%RESET`).
pub fn lookup(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|c| c.names().any(|n| n.eq_ignore_ascii_case(word)))
}

/// Every name and alias, sorted; what completion offers at a line start.
pub fn all_names() -> Vec<&'static str> {
    let mut names: Vec<_> = COMMANDS.iter().flat_map(CommandSpec::names).collect();
    names.sort_unstable();
    names
}

/// The closest name to a mistyped word, if any is close enough to be a
/// likely typo: one edit for short words, two for longer ones
/// (transpositions count as one edit, so `gte` finds `get`).
pub fn suggest(word: &str) -> Option<&'static str> {
    let typed = word.to_lowercase();
    let limit = if typed.chars().count() <= 3 { 1 } else { 2 };
    COMMANDS
        .iter()
        .flat_map(CommandSpec::names)
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
    fn lookup_ignores_case() {
        assert_eq!(lookup("GET").map(|c| c.id), Some(CommandId::Get));
        assert_eq!(lookup("Scan").map(|c| c.id), Some(CommandId::ScanPrefix));
        assert_eq!(lookup("%RESET").map(|c| c.id), Some(CommandId::Reset));
        assert_eq!(lookup("DEL").map(|c| c.id), Some(CommandId::Remove));
        assert!(lookup("reset").is_none(), "magics keep their %");
        assert!(lookup("").is_none());
    }

    #[test]
    fn syntax_is_built_from_params() {
        let syntax = |w| lookup(w).map(|c| c.syntax());
        assert_eq!(syntax("put").as_deref(), Some("insert KEY VALUE"));
        assert_eq!(syntax("scan").as_deref(), Some("scan_prefix PREFIX"));
        assert_eq!(syntax("keys").as_deref(), Some("keys"));
        assert_eq!(syntax("echo").as_deref(), Some("echo [TEXT]"));
        assert_eq!(syntax("warn").as_deref(), Some("warn TEXT"));
        assert_eq!(syntax("%sleep").as_deref(), Some("%sleep SECONDS"));
    }

    #[test]
    fn suggestions_catch_typos_but_not_unrelated_words() {
        assert_eq!(suggest("gte"), Some("get"));
        assert_eq!(suggest("scna_prefix"), Some("scan_prefix"));
        assert_eq!(suggest("INSRET"), Some("insert"));
        assert_eq!(suggest("reset"), Some("%reset"));
        assert_eq!(suggest("sleep"), Some("%sleep"));
        assert_eq!(suggest("kyes"), Some("keys"));
        assert_eq!(suggest("select"), None);
        assert_eq!(suggest("x"), None);
    }

    #[test]
    fn key_slots_are_known() {
        let get = lookup("get").unwrap();
        assert_eq!(get.param(0), Some(Param::Key));
        assert_eq!(get.param(1), None);
        let insert = lookup("insert").unwrap();
        assert!(insert.param(0).is_some_and(Param::names_keys));
        assert!(!insert.param(1).is_some_and(Param::names_keys));
        assert_eq!(lookup("echo").unwrap().param(0), None);
    }
}
