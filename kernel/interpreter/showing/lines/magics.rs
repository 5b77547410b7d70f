//! The lines of the magics that act on the session (`running/magics.rs`):
//! `%reset`, `%open`, `%try_open`, `%reopen`, `%info`, `%limit`.

use serde_json::{json, Map, Value};

use super::the_tree;
use crate::interpreter::showing::render::{self, Answer};

/// What `%reset` did; `kept` is the persistent database it closed.
pub(crate) fn reset(kept: Option<&str>) -> String {
    match kept {
        None => "opened fresh database".to_string(),
        Some(path) => {
            format!("closed the database at {path} (it stays on disk); opened fresh database")
        }
    }
}

/// `%open` of the database already open.
pub(crate) fn already_open(typed: &str) -> String {
    format!("already using the database at {typed}")
}

/// `%open` of a file.
pub(crate) fn open_a_file(typed: &str) -> String {
    format!("{typed} is a file; `%open` wants a directory to keep sled's files in (it is created if missing).")
}

/// `%open` of a directory that holds other things than sled's files.
pub(crate) fn open_foreign(typed: &str) -> String {
    format!("{typed} already holds other files and no sled database; choose a new or empty directory, so sled's files do not mix with yours.")
}

/// What `%open` opened.
pub(crate) fn opened(typed: &str, recovered: bool) -> String {
    format!(
        "opened persistent database {typed} ({})",
        if recovered {
            "recovered from its files"
        } else {
            "new"
        }
    )
}

/// Who holds a database `%open` could not open: this kernel, another
/// process (described), or one this system does not name (with
/// `rust_cells` when this kernel's Rust cells could be it).
pub(crate) enum LockedBy<'a> {
    ThisKernel,
    Process(&'a str),
    Unnamed { rust_cells: bool },
}

/// `%open` of a database someone else holds.
pub(crate) fn locked(typed: &str, by: LockedBy<'_>) -> String {
    let who = match by {
        LockedBy::ThisKernel => {
            "this kernel itself (its Rust cells, or another handle it opened)".to_string()
        }
        LockedBy::Process(described) => format!("another process ({described})"),
        LockedBy::Unnamed { rust_cells: true } => {
            "another process or this kernel's own Rust cells (this system does not say which)"
                .to_string()
        }
        LockedBy::Unnamed { rust_cells: false } => {
            "another process (this system does not say which)".to_string()
        }
    };
    format!(
        "The database at {typed} is locked by {who}: sled lets one process open a database at a time. The session keeps using its current database."
    )
}

/// `%try_open` where there is no database.
pub(crate) fn nothing_to_try(shown: &str) -> String {
    format!("There is no sled database at {shown}, so there is nothing to try: `%try_open` never creates one.")
}

/// What the second `sled::open` of `%try_open` met.
pub(crate) enum Tried<'a> {
    Opened,
    /// Refused for the lock, which `holder` holds.
    Locked {
        holder: Holds,
    },
    Failed(&'a dyn std::fmt::Display),
}

/// What `%try_open` found.
pub(crate) fn tried(shown: &str, tried: Tried<'_>) -> String {
    match tried {
        Tried::Opened => format!(
            "a second sled::open of {shown} succeeded: nothing held it (it is closed again)"
        ),
        Tried::Locked { holder } => format!(
            "a second sled::open of {shown} was refused: sled could not acquire the lock on its `db` file, because {}. One `sled::open` of a directory at a time holds the database; clones of the `Db` it returns are more handles on that one open database.",
            match holder {
                Holds::ThisSession => "this session holds it open",
                Holds::ThisKernel => "this kernel holds it open",
                Holds::AnotherProcess => "another process holds it open",
                Holds::Unknown => "something holds it open",
            }
        ),
        Tried::Failed(e) => format!("a second sled::open of {shown} failed: {e}"),
    }
}

/// What `%reopen` found: `tree` is the current tree (`None`: the default).
pub(crate) fn reopened(
    temporary: bool,
    recovered: bool,
    keys: usize,
    tree: Option<&[u8]>,
) -> String {
    format!(
        "reopened the {} database: was_recovered = {recovered}, {} in {}",
        if temporary { "temporary" } else { "persistent" },
        render::plural(keys, "key"),
        the_tree(tree)
    )
}

/// What `%info` shows of a database.
pub(crate) struct Info<'a> {
    pub path: &'a str,
    pub temporary: bool,
    /// How often sled flushes a persistent database in the background.
    pub flush_every_ms: u64,
    /// Each tree, in name order, and how many keys it holds.
    pub trees: &'a [(&'a [u8], usize)],
    pub current: &'a [u8],
    pub size_on_disk: u64,
    pub recovered: bool,
    pub limit: usize,
}

/// `%info`'s answer: one `name: value` line per fact, a table, and JSON.
pub(crate) fn info(info: &Info<'_>) -> Answer {
    let (kind, flushing) = if info.temporary {
        (
            "temporary, deleted when the kernel stops",
            "no background flush; writes reach disk on `flush`".to_string(),
        )
    } else {
        (
            "persistent, never deleted",
            format!(
                "sled flushes in the background every {} ms",
                info.flush_every_ms
            ),
        )
    };
    let mut shown = Vec::new();
    let mut counts = Map::new();
    for (name, n) in info.trees {
        let mark = if *name == info.current {
            " (current)"
        } else {
            ""
        };
        shown.push(format!(
            "{} {}{mark}",
            render::tree_name(name),
            render::plural(*n, "key")
        ));
        counts.insert(String::from_utf8_lossy(name).into_owned(), json!(n));
    }
    let facts = [
        ("database", info.path.to_string()),
        ("kind", format!("{kind} ({flushing})")),
        ("trees", shown.join(", ")),
        (
            "size on disk",
            render::plural(
                usize::try_from(info.size_on_disk).unwrap_or(usize::MAX),
                "byte",
            ),
        ),
        ("was_recovered", info.recovered.to_string()),
        ("%limit", format!("{} rows per result", info.limit)),
    ];
    let text = facts
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n");
    let html = render::facts_html("%info", &facts);
    let json = json!({
        "path": info.path,
        "temporary": info.temporary,
        "background_flush_ms": if info.temporary { Value::Null } else { json!(info.flush_every_ms) },
        "trees": counts,
        "current_tree": String::from_utf8_lossy(info.current),
        "size_on_disk": info.size_on_disk,
        "was_recovered": info.recovered,
        "limit": info.limit,
    });
    Answer {
        shown: text.clone(),
        text,
        json,
        html: Some(html),
    }
}

/// `%limit N`: what it set.
pub(crate) fn limit_set(rows: usize) -> String {
    format!(
        "%limit: showing at most {} per result",
        render::plural(rows, "row")
    )
}

/// `%limit`: what it is.
pub(crate) fn limit_is(rows: usize, default: bool) -> String {
    format!(
        "%limit: {}{} per result",
        render::plural(rows, "row"),
        if default { " (the default)" } else { "" }
    )
}

/// `%open` over the temporary database: what became of it.
pub(crate) const TEMPORARY_DELETED: &str = "the temporary database was closed and deleted";

/// The help under [`locked`].
pub(crate) const CLOSE_IT_THERE: &str =
    "close the database in the other program (or stop it), then run `%open` again";

/// What `%try_open` without a path calls the session's database.
pub(crate) const THIS_TEMPORARY_DATABASE: &str = "this session's temporary database";
pub(crate) const THIS_DATABASE: &str = "this session's database";

/// The help under [`nothing_to_try`].
pub(crate) const OPEN_CREATES: &str = "`%open PATH` creates a database";

/// Who holds a database `%try_open` found locked.
#[derive(Clone, Copy)]
pub(crate) enum Holds {
    ThisSession,
    ThisKernel,
    AnotherProcess,
    Unknown,
}

/// `%timings` before any `%time`.
pub(crate) const NOTHING_TIMED: &str =
    "no line has been timed yet: put `%time` in front of one, like `%time len`";
