//! The live table of `watch_prefix` (`running/watch.rs`): a status line
//! over the rows, as text, HTML and JSON.

use serde_json::{json, Value};

use crate::cell::MimeBundle;
use crate::interpreter::showing::render::{self, Rows};

/// One changed key, as the status line lists it: `insert k`, `remove k`.
pub(crate) fn changed(key: &[u8], inserted: bool) -> String {
    let what = if inserted { "insert" } else { "remove" };
    format!("{what} {}", render::clip(&render::key(key), 60))
}

/// Why the table stopped short.
pub(crate) fn reading_failed(error: &dyn std::fmt::Display) -> String {
    format!("reading failed: {error}")
}

/// What a watch table shows besides its rows.
pub(crate) struct Status<'a> {
    pub tree: Option<&'a [u8]>,
    pub prefix: &'a [u8],
    /// `live`, or why it stopped.
    pub state: &'a str,
    /// Changes seen since it started.
    pub events: u64,
    /// The latest changes, as [`changed`] lists them.
    pub latest: &'a [String],
    pub trouble: Option<&'a str>,
}

/// The watch table: the status line, then the rows.
pub(crate) fn table(status: &Status<'_>, rows: &Rows) -> MimeBundle {
    let mut line = format!(
        "{}watch_prefix {} ({}): {} seen",
        render::tree_tag(status.tree),
        render::value(status.prefix),
        status.state,
        render::plural(status.events as usize, "change"),
    );
    if !status.latest.is_empty() {
        line.push_str(&format!("; latest: {}", status.latest.join(", ")));
    }
    if let Some(trouble) = status.trouble {
        line.push_str(&format!(" ({trouble})"));
    }
    let mut bundle = rows.bundle();
    let text = format!("{line}\n{}", rows.text());
    let html = format!(
        "<div class=\"sled-watch\">\n<p><strong>{}</strong></p>\n{}\n</div>",
        render::escape_html(&line),
        rows.html()
    );
    bundle.insert("text/plain".into(), Value::String(text));
    bundle.insert("text/html".into(), Value::String(html));
    let json_rows = bundle.remove(render::JSON_MIME).unwrap_or(Value::Null);
    bundle.insert(
        render::JSON_MIME.into(),
        json!({
            "watch_prefix": render::json_bytes(status.prefix),
            "state": status.state,
            "changes": status.events,
            "rows": json_rows,
            "more": rows.more,
        }),
    );
    bundle
}

/// The state of a watch that is running.
pub(crate) const LIVE: &str = "live";
/// The state `unwatch` leaves.
pub(crate) const STOPPED: &str = "stopped";
/// The state of a watch a newer one of the same prefix and tree ended.
pub(crate) const REPLACED: &str = "replaced by a newer watch";
/// The states of watches whose database went away, by the command that
/// closed it.
pub(crate) const STOPPED_BY_RESET: &str = "stopped by %reset";
pub(crate) const STOPPED_BY_OPEN: &str = "stopped by %open";
pub(crate) const STOPPED_BY_CRASH: &str = "stopped by %crash";
pub(crate) const STOPPED_BY_CRASH_COPY: &str = "stopped by %crash_copy";
/// Ends the list of changed keys when more changed than were kept.
pub(crate) const MORE_CHANGED: &str = "…";
