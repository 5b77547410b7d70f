//! How keys, values and rows look: the printed lines (the same lines the
//! lesson's Rust program printed), an HTML table, and JSON.
//!
//! Printed keys can be pasted back into a cell: a key is shown bare only when
//! it would read back as the same bytes, otherwise as a Rust string literal.

use serde_json::{json, Value};

use super::MimeBundle;

/// A key as printed: bare when that reads back unchanged (`todo:001`),
/// otherwise `"with spaces"` (Rust `{:?}` escaping) or `b"\xff"` for bytes
/// that are not UTF-8.
pub fn key(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if prints_bare(s) => s.to_string(),
        Ok(s) => format!("{s:?}"),
        Err(_) => byte_string(bytes),
    }
}

/// A value as printed: always quoted, as `{:?}` prints a `&str`.
pub fn value(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => format!("{s:?}"),
        Err(_) => byte_string(bytes),
    }
}

/// Bytes as a Rust byte-string literal, `b"\x00ab\xff"`.
pub fn byte_string(bytes: &[u8]) -> String {
    format!("b\"{}\"", bytes.escape_ascii())
}

fn prints_bare(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with("0x")
        && !s.starts_with("b\"")
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'')
        // Anything else `{:?}` would escape (an invisible or unassigned
        // character) is clearer quoted. Backslashes are fine bare: a bare
        // word has no escapes, so `C:\dir` reads back as itself.
        && format!("{s:?}").len() == s.len() + 2 + s.matches('\\').count()
}

/// `1 byte`, `9 bytes`.
pub fn byte_count(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

/// Bytes for `application/json`: a string when they are UTF-8, otherwise
/// `{"hex": "00ff"}`.
pub fn json_bytes(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "hex": hex::encode(bytes) }),
    }
}

/// The line a `get` prints: `get todo:002 -> "lift legs"`.
pub fn get_line(k: &[u8], v: Option<&[u8]>) -> String {
    match v {
        Some(v) => format!("get {} -> {}", key(k), value(v)),
        None => format!("get {} -> <missing>", key(k)),
    }
}

/// The bundle a `get` returns as a cell's result.
pub fn get_bundle(k: &[u8], v: Option<&[u8]>) -> MimeBundle {
    let mut bundle = MimeBundle::new();
    bundle.insert("text/plain".into(), Value::String(get_line(k, v)));
    bundle.insert("application/json".into(), v.map_or(Value::Null, json_bytes));
    bundle
}

/// Where a set of rows came from; decides the header line and caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowSource {
    ScanPrefix(Vec<u8>),
    Iter,
    Keys,
}

/// Rows read from the database, in key order. For `keys` the values are
/// not read and stay `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub source: RowSource,
    pub rows: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Rows {
    /// The line printed above the rows, if the command prints one.
    fn header(&self) -> Option<String> {
        match &self.source {
            RowSource::ScanPrefix(prefix) => Some(format!("scan prefix {}:", value(prefix))),
            RowSource::Iter | RowSource::Keys => None,
        }
    }

    fn caption(&self) -> String {
        let n = self.rows.len();
        let plural = |word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        match &self.source {
            RowSource::ScanPrefix(prefix) => {
                format!("scan prefix {}: {}", value(prefix), plural("row"))
            }
            RowSource::Iter => format!("iter: {}", plural("row")),
            RowSource::Keys => format!("keys: {}", plural("key")),
        }
    }

    fn lines(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("  {} = {}", key(k), value(v)),
                None => format!("  {}", key(k)),
            })
            .collect()
    }

    /// The printed form: header (if any) and one line per row, joined by
    /// newlines with no newline at the end.
    pub fn text(&self) -> String {
        self.header()
            .into_iter()
            .chain(self.lines())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A table with a caption. Pairs get key, value and the value's length
    /// in bytes; `keys` gets key and the key's length.
    pub fn html(&self) -> String {
        let with_values = self.source != RowSource::Keys;
        let mut html = String::from("<table class=\"sled-rows\">\n");
        html.push_str(&format!(
            "<caption>{}</caption>\n<thead><tr><th>key</th>",
            escape_html(&self.caption())
        ));
        if with_values {
            html.push_str("<th>value</th><th title=\"value length in bytes\">length</th>");
        } else {
            html.push_str("<th title=\"key length in bytes\">length</th>");
        }
        html.push_str("</tr></thead>\n<tbody>\n");
        for (k, v) in &self.rows {
            html.push_str(&format!(
                "<tr><td><code>{}</code></td>",
                escape_html(&key(k))
            ));
            match v {
                Some(v) if with_values => html.push_str(&format!(
                    "<td><code>{}</code></td><td>{}</td>",
                    escape_html(&value(v)),
                    v.len()
                )),
                _ => html.push_str(&format!("<td>{}</td>", k.len())),
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</tbody>\n</table>");
        html
    }

    /// `[{"key": "todo:001", "value": "buy boots"}, ...]`; `keys` leaves
    /// out `"value"`.
    pub fn json(&self) -> Value {
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

    pub fn bundle(&self) -> MimeBundle {
        let mut bundle = MimeBundle::new();
        bundle.insert("text/plain".into(), Value::String(self.text()));
        bundle.insert("text/html".into(), Value::String(self.html()));
        bundle.insert("application/json".into(), self.json());
        bundle
    }
}

/// Escapes the five characters that mean something in HTML text and
/// attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_print_bare_when_they_read_back_unchanged() {
        assert_eq!(key(b"todo:001"), "todo:001");
        assert_eq!(key("héllo".as_bytes()), "héllo");
        assert_eq!(key(b"#tag"), "#tag");
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
    fn get_lines_match_the_lesson() {
        assert_eq!(
            get_line(b"todo:002", Some(b"lift legs")),
            r#"get todo:002 -> "lift legs""#
        );
        assert_eq!(get_line(b"nope", None), "get nope -> <missing>");
        let bundle = get_bundle(b"k", None);
        assert_eq!(bundle["application/json"], Value::Null);
        let bundle = get_bundle(b"k", Some(&[0xff]));
        assert_eq!(bundle["application/json"], json!({"hex": "ff"}));
    }

    fn sample() -> Rows {
        Rows {
            source: RowSource::ScanPrefix(b"todo:".to_vec()),
            rows: vec![
                (
                    b"todo:001".to_vec(),
                    Some(b"buy <boots> & \"socks\"".to_vec()),
                ),
                (vec![0xff], Some(vec![0x00, 0xfe])),
            ],
        }
    }

    #[test]
    fn rows_text_has_header_and_indented_lines() {
        assert_eq!(
            sample().text(),
            "scan prefix \"todo:\":\n  todo:001 = \"buy <boots> & \\\"socks\\\"\"\n  b\"\\xff\" = b\"\\x00\\xfe\""
        );
        let keys = Rows {
            source: RowSource::Keys,
            rows: vec![(b"a".to_vec(), None), (b"b c".to_vec(), None)],
        };
        assert_eq!(keys.text(), "  a\n  \"b c\"");
        let empty = Rows {
            source: RowSource::Iter,
            rows: vec![],
        };
        assert_eq!(empty.text(), "");
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
        let keys = Rows {
            source: RowSource::Keys,
            rows: vec![(b"abc".to_vec(), None)],
        };
        let html = keys.html();
        assert!(html.contains("<caption>keys: 1 key</caption>"), "{html}");
        assert!(
            html.contains("<tr><td><code>abc</code></td><td>3</td></tr>"),
            "{html}"
        );
        assert!(!html.contains("<th>value</th>"));
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
        assert_eq!(mimes, ["application/json", "text/html", "text/plain"]);
    }

    #[test]
    fn escape_html_covers_the_special_characters() {
        assert_eq!(
            escape_html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
