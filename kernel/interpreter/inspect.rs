//! Shift+Tab: help for the command under the cursor, or the value of the key
//! under it.

use serde_json::Value;
use sled::Db;

use super::command::{self, CommandSpec, Param};
use super::complete::clamp_cursor;
use super::lexer::{self, Word};
use super::parser::raw_statements;
use super::render;
use super::MimeBundle;

/// How many characters of a value are shown at detail level 0 and above it.
const SHORT_VALUE: usize = 200;
const LONG_VALUE: usize = 5000;
/// Counting keys under a prefix stops here, to stay quick on big databases.
const MAX_COUNT: usize = 10_000;

pub fn inspect(db: &Db, code: &str, cursor_pos: usize, detail_level: u8) -> Option<MimeBundle> {
    let (cursor, _) = clamp_cursor(code, cursor_pos);
    for statement in raw_statements(code) {
        for (index, word) in statement.words.iter().enumerate() {
            let span = word.span;
            if span.start.offset <= cursor && cursor <= span.end.offset {
                return if index == 0 {
                    command::lookup(word.text).map(|spec| command_help(spec, detail_level))
                } else {
                    match statement.spec?.param(index - 1)? {
                        Param::Key => key_info(db, word, detail_level),
                        Param::Prefix => prefix_info(db, word),
                        Param::Value | Param::Seconds => None,
                    }
                };
            }
        }
    }
    None
}

fn bundle(plain: String, markdown: String) -> MimeBundle {
    let mut bundle = MimeBundle::new();
    bundle.insert("text/plain".into(), Value::String(plain));
    bundle.insert("text/markdown".into(), Value::String(markdown));
    bundle
}

fn command_help(spec: &CommandSpec, detail_level: u8) -> MimeBundle {
    let aliases = if spec.aliases.is_empty() {
        "none".to_string()
    } else {
        spec.aliases.join(", ")
    };
    let mut plain = format!(
        "{}\n{}\nin Rust: {}\naliases: {aliases}\nexample: {}",
        spec.syntax(),
        spec.summary,
        spec.maps_to,
        spec.example
    );
    let mut markdown = format!(
        "**{}**\n\n{}\n\n- in Rust: {}\n- aliases: {aliases}\n- example: {}",
        code_span(&spec.syntax()),
        spec.summary,
        code_span(spec.maps_to),
        code_span(spec.example)
    );
    if detail_level > 0 {
        plain.push_str(&format!("\nkind: {}", spec.kind.describe()));
        markdown.push_str(&format!("\n- kind: {}", spec.kind.describe()));
    }
    bundle(plain, markdown)
}

fn key_info(db: &Db, word: &Word, detail_level: u8) -> Option<MimeBundle> {
    let key = lexer::decode(word).ok()?;
    let value = db.get(&key).ok()??;
    let limit = if detail_level > 0 {
        LONG_VALUE
    } else {
        SHORT_VALUE
    };
    let shown = render::value(&value);
    let (shown, cut) = truncate(&shown, limit);
    let note = if cut {
        format!(" (first {limit} characters shown)")
    } else {
        String::new()
    };
    let key_shown = render::key(&key);
    let (key_len, value_len) = (
        render::byte_count(key.len()),
        render::byte_count(value.len()),
    );
    let plain = format!("key {key_shown} ({key_len})\nvalue {shown} ({value_len}){note}");
    let markdown = format!(
        "**key** {} ({key_len})\n\n**value** ({value_len}){note}\n\n{}",
        code_span(&key_shown),
        code_block(&shown)
    );
    Some(bundle(plain, markdown))
}

fn prefix_info(db: &Db, word: &Word) -> Option<MimeBundle> {
    let prefix = lexer::decode(word).ok()?;
    let count = db.scan_prefix(&prefix).keys().take(MAX_COUNT).count();
    let count = if count == MAX_COUNT {
        format!("at least {MAX_COUNT} keys")
    } else if count == 1 {
        "1 key".to_string()
    } else {
        format!("{count} keys")
    };
    let shown = render::value(&prefix);
    Some(bundle(
        format!("prefix {shown}: {count} start with it"),
        format!("**prefix** {}: {count} start with it", code_span(&shown)),
    ))
}

/// The first `limit` characters of `text` (never splitting a character),
/// with `…` when something was cut.
fn truncate(text: &str, limit: usize) -> (String, bool) {
    match text.char_indices().nth(limit) {
        Some((byte, _)) => (format!("{}…", text.get(..byte).unwrap_or(text)), true),
        None => (text.to_string(), false),
    }
}

/// Markdown inline code that survives backticks in the text.
fn code_span(text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced Markdown code block that survives backticks in the text.
fn code_block(text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    format!("{fence}text\n{text}\n{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::session::Session;

    fn text(bundle: &MimeBundle, mime: &str) -> String {
        bundle[mime].as_str().unwrap_or_default().to_string()
    }

    fn session() -> Session {
        let s = Session::open().unwrap();
        s.db().insert("todo:002", "lift legs").unwrap();
        s.db().insert("todo:003", "call mom").unwrap();
        s.db().insert("long", "x".repeat(300).as_bytes()).unwrap();
        s
    }

    #[test]
    fn help_on_a_command_word() {
        let s = session();
        let b = inspect(s.db(), "get todo:002", 1, 0).unwrap();
        let plain = text(&b, "text/plain");
        assert!(plain.starts_with("get KEY\nLook up"), "{plain}");
        assert!(
            plain.contains("in Rust: sled::Tree::get(&self, key)"),
            "{plain}"
        );
        let md = text(&b, "text/markdown");
        assert!(md.contains("**`get KEY`**"), "{md}");
        assert!(!plain.contains("kind:"));

        let b = inspect(s.db(), "PUT a b", 3, 1).unwrap();
        let plain = text(&b, "text/plain");
        assert!(
            plain.starts_with("insert KEY VALUE"),
            "aliases resolve: {plain}"
        );
        assert!(plain.contains("aliases: put, set"));
        assert!(
            plain.contains("kind: changes the database"),
            "detail 1 says more"
        );
    }

    #[test]
    fn value_of_a_key() {
        let s = session();
        let b = inspect(s.db(), "echo héllo\nget todo:002", 17, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "key todo:002 (8 bytes)\nvalue \"lift legs\" (9 bytes)"
        );
        assert!(text(&b, "text/markdown").contains("```text\n\"lift legs\"\n```"));
        assert!(inspect(s.db(), "get nothing", 6, 0).is_none());
    }

    #[test]
    fn long_values_are_truncated_more_at_detail_zero() {
        let s = session();
        let short = text(&inspect(s.db(), "get long", 5, 0).unwrap(), "text/plain");
        assert!(
            short.contains(&format!("\"{}…", "x".repeat(199))),
            "{short}"
        );
        assert!(short.contains("(300 bytes) (first 200 characters shown)"));
        let long = text(&inspect(s.db(), "get long", 5, 1).unwrap(), "text/plain");
        assert!(long.contains(&format!("\"{}\"", "x".repeat(300))));
        assert!(!long.contains('…'));
    }

    #[test]
    fn prefix_counts_keys() {
        let s = session();
        let b = inspect(s.db(), "scan todo:", 7, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "prefix \"todo:\": 2 keys start with it"
        );
    }

    #[test]
    fn nothing_on_values_unknown_words_or_blank_space() {
        let s = session();
        assert!(inspect(s.db(), "insert k todo:002", 12, 0).is_none());
        assert!(inspect(s.db(), "frob todo:002", 2, 0).is_none());
        assert!(inspect(s.db(), "get  todo:002", 4, 0).is_none());
        assert!(inspect(s.db(), "echo get", 7, 0).is_none());
        assert!(inspect(s.db(), "", 0, 0).is_none());
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("héllo", 2), ("hé…".to_string(), true));
        assert_eq!(truncate("hé", 2), ("hé".to_string(), false));
    }

    #[test]
    fn markdown_code_survives_backticks() {
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x"), "`` `x ``");
        assert_eq!(code_block("```"), "````text\n```\n````");
    }
}
