//! How keys, values and results look: the printed lines (the same lines the
//! lesson's Rust program printed), an HTML table, and JSON.
//!
//! Printed keys can be pasted back into a cell: a key is shown bare only when
//! it would read back as the same bytes, otherwise as a Rust string literal.
//! Output about a tree other than the default one starts with its name in
//! brackets: `[users] put alice = "admin"`.

use std::fmt::Write as _;
use std::ops::Bound;

use serde_json::{json, Value};

use crate::cell::MimeBundle;
use crate::interpreter::language::args::{KeyRange, ReadOptions};
use crate::interpreter::language::parser::Scan;

/// The mime type of the machine-readable form of a result. Not plain
/// `application/json`: JupyterLab ranks its JSON tree viewer above HTML and
/// text, so a student would see a collapsed tree instead of the table.
/// Programs (nbclient, papermill, scripts) read this type like any other.
pub(crate) const JSON_MIME: &str = "application/vnd.sled-kv+json";

/// A key as printed: bare when that reads back unchanged (`todo:001`),
/// otherwise `"with spaces"` (Rust `{:?}` escaping) or `b"\xff"` for bytes
/// that are not UTF-8.
pub(crate) fn key(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if prints_bare(s) => s.to_string(),
        Ok(s) => format!("{s:?}"),
        Err(_) => byte_string(bytes),
    }
}

/// A value as printed: always quoted, as `{:?}` prints a `&str`.
pub(crate) fn value(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => format!("{s:?}"),
        Err(_) => byte_string(bytes),
    }
}

/// Bytes as a Rust byte-string literal, `b"\x00ab\xff"`.
pub(crate) fn byte_string(bytes: &[u8]) -> String {
    format!("b\"{}\"", bytes.escape_ascii())
}

fn prints_bare(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with("0x")
        && !s.starts_with("b\"")
        // A word starting with # is a comment.
        && !s.starts_with('#')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'')
        // Anything else `{:?}` would escape (an invisible or unassigned
        // character) is clearer quoted. Backslashes are fine bare: a bare
        // word has no escapes, so `C:\dir` reads back as itself.
        && format!("{s:?}").len() == s.len() + 2 + s.matches('\\').count()
}

/// A bound of a range as printed: like a key, but quoted when it holds
/// `..` itself, so the range reads back the same.
fn bound_key(bytes: &[u8]) -> String {
    let shown = key(bytes);
    if shown.contains("..") && !shown.starts_with('"') && !shown.starts_with("b\"") {
        format!("{shown:?}")
    } else {
        shown
    }
}

/// `1 byte`, `9 bytes`.
pub(crate) fn byte_count(n: usize) -> String {
    plural(n, "byte")
}

/// `1 key`, `0 keys`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A tree's name as printed, like a key.
pub(crate) fn tree_name(name: &[u8]) -> String {
    key(name)
}

/// What starts a line about the tree `name`: nothing for the default tree
/// (`None`), `[users] ` for any other.
pub(crate) fn tree_tag(name: Option<&[u8]>) -> String {
    match name {
        Some(name) => format!("[{}] ", tree_name(name)),
        None => String::new(),
    }
}

/// Bytes for the JSON form ([`JSON_MIME`]): a string when they are UTF-8, otherwise
/// `{"hex": "00ff"}`.
pub(crate) fn json_bytes(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "hex": hex::encode(bytes) }),
    }
}

/// `k = "v"`, how a pair is printed.
pub(crate) fn pair(k: &[u8], v: &[u8]) -> String {
    format!("{} = {}", key(k), value(v))
}

/// A one-line answer of a read: printed as it is, or as a cell's last line
/// its `Out[n]` (`text/plain` and the JSON form ([`JSON_MIME`])).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub text: String,
    /// The answer alone, the part after ` -> ` (what `expect` compares).
    pub shown: String,
    pub json: Value,
    /// A table, for answers of several facts (`%info`).
    pub html: Option<String>,
}

impl Answer {
    /// `get todo:002 -> "lift legs"`, `get nope -> <missing>`.
    pub(crate) fn get(tree: &str, k: &[u8], v: Option<&[u8]>) -> Answer {
        let shown = v.map_or_else(|| "<missing>".to_string(), value);
        Answer {
            text: format!("{tree}get {} -> {shown}", key(k)),
            shown,
            json: v.map_or(Value::Null, json_bytes),
            html: None,
        }
    }

    /// `first -> a = "1"`, `get_lt k -> <none>`.
    pub(crate) fn pair(tree: &str, asked: &str, found: Option<(&[u8], &[u8])>) -> Answer {
        match found {
            Some((k, v)) => Answer {
                text: format!("{tree}{asked} -> {}", pair(k, v)),
                shown: pair(k, v),
                json: json!({ "key": json_bytes(k), "value": json_bytes(v) }),
                html: None,
            },
            None => Answer {
                text: format!("{tree}{asked} -> <none>"),
                shown: "<none>".to_string(),
                json: Value::Null,
                html: None,
            },
        }
    }

    /// `len -> 4`, `contains_key k -> true`.
    pub(crate) fn plain(
        tree: &str,
        asked: &str,
        shown: impl std::fmt::Display,
        json: Value,
    ) -> Answer {
        Answer {
            text: format!("{tree}{asked} -> {shown}"),
            shown: shown.to_string(),
            json,
            html: None,
        }
    }

    pub(crate) fn bundle(&self) -> MimeBundle {
        let mut bundle = MimeBundle::new();
        bundle.insert("text/plain".into(), Value::String(self.text.clone()));
        if let Some(html) = &self.html {
            bundle.insert("text/html".into(), Value::String(html.clone()));
        }
        bundle.insert(JSON_MIME.into(), self.json.clone());
        bundle
    }
}

/// A two-column table of facts (`%info`): a name and its value per row.
pub(crate) fn facts_html(caption: &str, facts: &[(&str, String)]) -> String {
    let mut html = String::from("<table class=\"sled-facts\">\n<caption>");
    escape_html_into(&mut html, caption);
    html.push_str("</caption>\n<tbody>\n");
    for (name, value) in facts {
        html.push_str("<tr><th>");
        escape_html_into(&mut html, name);
        html.push_str("</th><td>");
        escape_html_into(&mut html, value);
        html.push_str("</td></tr>\n");
    }
    html.push_str("</tbody>\n</table>");
    html
}

/// Rows read from the database, in the order they were read: the first
/// `%limit` of them, and how many more there were. For `keys` the values
/// are not kept and stay `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rows {
    pub scan: Scan,
    pub options: ReadOptions,
    /// The tree's name when it is not the default one.
    pub tree: Option<Vec<u8>>,
    pub rows: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Rows read but not kept, past `%limit`.
    pub more: usize,
}

impl Rows {
    fn total(&self) -> usize {
        self.rows.len() + self.more
    }

    fn with_values(&self) -> bool {
        self.scan != Scan::Keys
    }

    /// What was read: `scan prefix "todo:"`, `range a..c`, `iter`, with the
    /// tree and options. `None` for a plain `iter` or `keys` of the default
    /// tree, which print no header (as the lesson's program did).
    fn title(&self) -> Option<String> {
        let what = match &self.scan {
            Scan::Prefix(prefix) => format!("scan prefix {}", value(prefix)),
            Scan::Range(range) => format!("range {}", range_text(range)),
            Scan::Iter => "iter".to_string(),
            Scan::Keys => "keys".to_string(),
        };
        let mut options = Vec::new();
        if self.options.rev {
            options.push("rev".to_string());
        }
        if let Some(n) = self.options.limit {
            options.push(format!("limit {n}"));
        }
        let plain = matches!(self.scan, Scan::Iter | Scan::Keys);
        if plain && options.is_empty() && self.tree.is_none() {
            return None;
        }
        let mut title = tree_tag(self.tree.as_deref()) + &what;
        if !options.is_empty() {
            title.push_str(&format!(" ({})", options.join(", ")));
        }
        Some(title)
    }

    fn caption(&self) -> String {
        let what = self.title().unwrap_or_else(|| match self.scan {
            Scan::Keys => "keys".to_string(),
            _ => "iter".to_string(),
        });
        let unit = if self.with_values() { "row" } else { "key" };
        let mut caption = format!("{what}: {}", plural(self.total(), unit));
        if self.more > 0 {
            caption.push_str(&format!(", first {} shown", self.rows.len()));
        }
        caption
    }

    fn more_line(&self) -> String {
        format!("… {} more", self.more)
    }

    /// The printed form: header (if any), one line per row and the `… N
    /// more` line, joined by newlines with no newline at the end. An empty
    /// result says so.
    pub(crate) fn text(&self) -> String {
        let title = self.title();
        if self.total() == 0 {
            return match title {
                Some(title) => format!("{title}: (no keys)"),
                None => "(no keys)".to_string(),
            };
        }
        let mut out = String::new();
        if let Some(title) = title {
            out.push_str(&title);
            out.push(':');
        }
        for (k, v) in &self.rows {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("  ");
            out.push_str(&key(k));
            if let Some(v) = v {
                out.push_str(" = ");
                out.push_str(&value(v));
            }
        }
        if self.more > 0 {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("  ");
            out.push_str(&self.more_line());
        }
        out
    }

    /// A table with a caption. Pairs get key, value and the value's length
    /// in bytes; `keys` gets key and the key's length. Built in one buffer,
    /// since it may hold many rows.
    pub(crate) fn html(&self) -> String {
        let with_values = self.with_values();
        let mut html = String::with_capacity(256 + self.rows.len() * 64);
        html.push_str("<table class=\"sled-rows\">\n<caption>");
        escape_html_into(&mut html, &self.caption());
        html.push_str("</caption>\n<thead><tr><th>key</th>");
        if with_values {
            html.push_str("<th>value</th><th title=\"value length in bytes\">length</th>");
        } else {
            html.push_str("<th title=\"key length in bytes\">length</th>");
        }
        html.push_str("</tr></thead>\n<tbody>\n");
        for (k, v) in &self.rows {
            html.push_str("<tr><td><code>");
            escape_html_into(&mut html, &html_bytes(k, true));
            match v {
                Some(v) if with_values => {
                    html.push_str("</code></td><td><code>");
                    escape_html_into(&mut html, &html_bytes(v, false));
                    let _ = writeln!(html, "</code></td><td>{}</td></tr>", v.len());
                }
                _ => {
                    let _ = writeln!(html, "</code></td><td>{}</td></tr>", k.len());
                }
            }
        }
        if self.more > 0 {
            let columns = if with_values { 3 } else { 2 };
            let _ = writeln!(
                html,
                "<tr><td colspan=\"{columns}\">{}</td></tr>",
                self.more_line()
            );
        }
        html.push_str("</tbody>\n</table>");
        html
    }

    /// `[{"key": "todo:001", "value": "buy boots"}, ...]` for the rows
    /// shown; `keys` leaves out `"value"`.
    pub(crate) fn json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => json!({ "key": json_bytes(k), "value": json_bytes(v) }),
                    None => json!({ "key": json_bytes(k) }),
                })
                .collect(),
        )
    }

    pub(crate) fn bundle(&self) -> MimeBundle {
        let mut bundle = MimeBundle::new();
        bundle.insert("text/plain".into(), Value::String(self.text()));
        bundle.insert("text/html".into(), Value::String(self.html()));
        bundle.insert(JSON_MIME.into(), self.json());
        bundle
    }
}

/// At most `n` characters of `text`, with `…` when cut.
pub(crate) fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(n.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Characters of a key or value a table cell shows before cutting it short.
pub(crate) const CELL_CHARS: usize = 80;

/// A key or value as a table cell shows it: printed as in text when it is
/// UTF-8, as `0x…` hex (which reads back as the same bytes) when it is not,
/// and cut to [`CELL_CHARS`] characters with the full length after `…`.
pub(crate) fn html_bytes(bytes: &[u8], is_key: bool) -> String {
    let shown = match std::str::from_utf8(bytes) {
        Ok(_) if is_key => key(bytes),
        Ok(_) => value(bytes),
        Err(_) => format!("0x{}", hex::encode(bytes)),
    };
    if shown.chars().count() <= CELL_CHARS {
        return shown;
    }
    let cut: String = shown.chars().take(CELL_CHARS - 1).collect();
    format!("{cut}… ({})", byte_count(bytes.len()))
}

/// `a..c`, `a..=c`, `..c`, `a..`, `..` with the bounds printed as keys.
pub(crate) fn range_text(range: &KeyRange) -> String {
    let lo = match &range.lo {
        Bound::Included(k) | Bound::Excluded(k) => bound_key(k),
        Bound::Unbounded => String::new(),
    };
    match &range.hi {
        Bound::Included(k) => format!("{lo}..={}", bound_key(k)),
        Bound::Excluded(k) => format!("{lo}..{}", bound_key(k)),
        Bound::Unbounded => format!("{lo}.."),
    }
}

/// A duration as a person reads it: `850 µs`, `12.3 ms`, `1.52 s`.
pub(crate) fn duration(d: std::time::Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1e6 {
        format!("{:.3} ms", micros / 1e3)
    } else {
        format!("{:.3} s", micros / 1e6)
    }
}

/// `text` with the characters that mean something in HTML escaped.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_html_into(&mut out, text);
    out
}

/// Appends `text` with the five characters that mean something in HTML
/// text and attribute values escaped.
pub(crate) fn escape_html_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_print_bare_when_they_read_back_unchanged() {
        assert_eq!(key(b"todo:001"), "todo:001");
        assert_eq!(key("héllo".as_bytes()), "héllo");
        assert_eq!(key(b"tag#1"), "tag#1");
        assert_eq!(key(br"C:\dir"), r"C:\dir");
    }

    #[test]
    fn keys_that_would_not_read_back_are_quoted() {
        assert_eq!(key(b"buy boots"), r#""buy boots""#);
        assert_eq!(key(b""), r#""""#);
        assert_eq!(key(b"tab\there"), r#""tab\there""#);
        assert_eq!(key(b"say\"hi\""), r#""say\"hi\"""#);
        assert_eq!(key(b"don't"), r#""don't""#);
        assert_eq!(key(b"0x00"), r#""0x00""#);
        assert_eq!(key(b"b\"x\""), r#""b\"x\"""#);
        assert_eq!(
            key(b"#tag"),
            r##""#tag""##,
            "a bare #tag would be a comment"
        );
        assert_eq!(
            key("zero\u{200b}width".as_bytes()),
            r#""zero\u{200b}width""#
        );
    }

    #[test]
    fn non_utf8_prints_as_a_byte_string() {
        assert_eq!(key(&[0x00, 0xff, b'a']), r#"b"\x00\xffa""#);
        assert_eq!(value(&[0xc3]), r#"b"\xc3""#);
        assert_eq!(value(b"lift legs"), r#""lift legs""#);
        assert_eq!(value(b"a\nb"), r#""a\nb""#);
    }

    #[test]
    fn answers_match_the_lesson() {
        let a = Answer::get("", b"todo:002", Some(b"lift legs"));
        assert_eq!(a.text, r#"get todo:002 -> "lift legs""#);
        assert_eq!(a.json, json!("lift legs"));
        let a = Answer::get("[users] ", b"nope", None);
        assert_eq!(a.text, "[users] get nope -> <missing>");
        assert_eq!(a.json, Value::Null);
        assert_eq!(
            Answer::get("", b"k", Some(&[0xff])).json,
            json!({"hex": "ff"})
        );
        let a = Answer::pair("", "first", Some((b"a", b"1")));
        assert_eq!(a.text, r#"first -> a = "1""#);
        assert_eq!(a.json, json!({"key": "a", "value": "1"}));
        assert_eq!(Answer::pair("", "last", None).text, "last -> <none>");
        let bundle = Answer::plain("", "len", 4, json!(4)).bundle();
        assert_eq!(bundle["text/plain"], json!("len -> 4"));
        assert_eq!(bundle[JSON_MIME], json!(4));
    }

    #[test]
    fn tree_tags_and_ranges() {
        assert_eq!(tree_tag(None), "");
        assert_eq!(tree_tag(Some(b"users")), "[users] ");
        assert_eq!(tree_tag(Some(b"my tree")), "[\"my tree\"] ");
        let r = |lo, hi| range_text(&KeyRange { lo, hi });
        use Bound::*;
        assert_eq!(r(Included(b"a".to_vec()), Excluded(b"c".to_vec())), "a..c");
        assert_eq!(r(Unbounded, Included(b"c".to_vec())), "..=c");
        assert_eq!(r(Included(b"a b".to_vec()), Unbounded), "\"a b\"..");
        assert_eq!(r(Unbounded, Unbounded), "..");
        assert_eq!(r(Included(b"v1..2".to_vec()), Unbounded), "\"v1..2\"..");
    }

    fn sample() -> Rows {
        Rows {
            scan: Scan::Prefix(b"todo:".to_vec()),
            options: ReadOptions::default(),
            tree: None,
            rows: vec![
                (
                    b"todo:001".to_vec(),
                    Some(b"buy <boots> & \"socks\"".to_vec()),
                ),
                (vec![0xff], Some(vec![0x00, 0xfe])),
            ],
            more: 0,
        }
    }

    fn keys(names: &[&str], more: usize) -> Rows {
        Rows {
            scan: Scan::Keys,
            options: ReadOptions::default(),
            tree: None,
            rows: names
                .iter()
                .map(|k| (k.as_bytes().to_vec(), None))
                .collect(),
            more,
        }
    }

    #[test]
    fn rows_text_has_header_and_indented_lines() {
        assert_eq!(
            sample().text(),
            "scan prefix \"todo:\":\n  todo:001 = \"buy <boots> & \\\"socks\\\"\"\n  b\"\\xff\" = b\"\\x00\\xfe\""
        );
        assert_eq!(keys(&["a", "b c"], 0).text(), "  a\n  \"b c\"");
    }

    #[test]
    fn empty_results_say_so() {
        assert_eq!(keys(&[], 0).text(), "(no keys)");
        let mut scan = sample();
        scan.rows.clear();
        assert_eq!(scan.text(), "scan prefix \"todo:\": (no keys)");
        assert!(scan
            .html()
            .contains("<caption>scan prefix &quot;todo:&quot;: 0 rows</caption>"));
        assert_eq!(scan.json(), json!([]));
    }

    #[test]
    fn rows_past_the_limit_are_counted_not_shown() {
        let rows = keys(&["a", "b"], 99_998);
        assert_eq!(rows.text(), "  a\n  b\n  … 99998 more");
        let html = rows.html();
        assert!(
            html.contains("<caption>keys: 100000 keys, first 2 shown</caption>"),
            "{html}"
        );
        assert!(
            html.contains("<tr><td colspan=\"2\">… 99998 more</td></tr>"),
            "{html}"
        );
        assert_eq!(rows.json().as_array().map(Vec::len), Some(2));
        let none_shown = keys(&[], 5);
        assert_eq!(none_shown.text(), "  … 5 more");
    }

    #[test]
    fn trees_and_options_show_in_the_header() {
        let mut rows = keys(&["a"], 0);
        rows.tree = Some(b"users".to_vec());
        assert_eq!(rows.text(), "[users] keys:\n  a");
        rows.options = ReadOptions {
            limit: Some(1),
            rev: true,
        };
        assert_eq!(rows.text(), "[users] keys (rev, limit 1):\n  a");
        assert!(rows
            .html()
            .contains("<caption>[users] keys (rev, limit 1): 1 key</caption>"));
        rows.rows.clear();
        assert_eq!(rows.text(), "[users] keys (rev, limit 1): (no keys)");
    }

    #[test]
    fn html_is_escaped_and_has_caption_and_lengths() {
        let html = sample().html();
        assert!(
            html.contains("<caption>scan prefix &quot;todo:&quot;: 2 rows</caption>"),
            "{html}"
        );
        assert!(html.contains("<th>key</th><th>value</th>"));
        assert!(
            html.contains("&quot;buy &lt;boots&gt; &amp; \\&quot;socks\\&quot;&quot;"),
            "{html}"
        );
        assert!(html.contains("<td>21</td>"), "{html}");
        assert!(!html.contains("<boots>"));
        let html = keys(&["abc"], 0).html();
        assert!(html.contains("<caption>keys: 1 key</caption>"), "{html}");
        assert!(
            html.contains("<tr><td><code>abc</code></td><td>3</td></tr>"),
            "{html}"
        );
        assert!(!html.contains("<th>value</th>"));
    }

    #[test]
    fn table_cells_show_binary_as_hex_and_cut_long_values_with_their_length() {
        assert_eq!(html_bytes(&[0x00, 0xff], false), "0x00ff");
        assert_eq!(html_bytes(&[0xff], true), "0xff");
        assert_eq!(html_bytes(b"todo:001", true), "todo:001");
        assert_eq!(html_bytes(b"buy boots", false), "\"buy boots\"");
        let long = "x".repeat(500);
        let cell = html_bytes(long.as_bytes(), false);
        assert!(cell.ends_with("… (500 bytes)"), "{cell}");
        assert_eq!(cell.chars().count(), CELL_CHARS + " (500 bytes)".len());
        let html = sample().html();
        assert!(
            html.contains("<td><code>0xff</code></td><td><code>0x00fe</code></td><td>2</td>"),
            "{html}"
        );
    }

    #[test]
    fn json_marks_non_utf8_as_hex() {
        assert_eq!(
            sample().json(),
            json!([
                {"key": "todo:001", "value": "buy <boots> & \"socks\""},
                {"key": {"hex": "ff"}, "value": {"hex": "00fe"}},
            ])
        );
        let bundle = sample().bundle();
        let mut mimes: Vec<_> = bundle.keys().cloned().collect();
        mimes.sort();
        assert_eq!(mimes, [JSON_MIME, "text/html", "text/plain"]);
    }

    #[test]
    fn durations_read_well() {
        use std::time::Duration;
        assert_eq!(duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(duration(Duration::from_micros(12_345)), "12.345 ms");
        assert_eq!(duration(Duration::from_millis(1520)), "1.520 s");
    }

    #[test]
    fn escape_html_covers_the_special_characters() {
        let mut out = String::from("<p>");
        escape_html_into(&mut out, r#"<a href="x">&'</a>"#);
        assert_eq!(out, "<p>&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
