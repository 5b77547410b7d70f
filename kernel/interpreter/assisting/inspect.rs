//! Shift+Tab: help for the command under the cursor (the same text as
//! `%help COMMAND`), or what the database holds for the word under it: a
//! key's value, how many keys start with a prefix or fall in a range, a
//! tree's size.

use serde_json::Value;

use super::complete::clamp_cursor;
use crate::cell::MimeBundle;
use crate::interpreter::language::args::{self, Arg};
use crate::interpreter::language::command::{self, Param};
use crate::interpreter::language::lexer::{self, Form, Word};
use crate::interpreter::language::parser::raw_statements;
use crate::interpreter::running::session::{Session, DEFAULT_TREE};
use crate::interpreter::showing::help::{self, code_block, code_span};
use crate::interpreter::showing::render;

/// How many characters of a value are shown at detail level 0 and above it.
const SHORT_VALUE: usize = 200;
const LONG_VALUE: usize = 5000;
/// Counting keys stops here, to stay quick on big databases.
const MAX_COUNT: usize = 10_000;

pub(crate) fn inspect(
    session: &Session,
    code: &str,
    cursor_pos: usize,
    detail_level: u8,
) -> Option<MimeBundle> {
    let (cursor, _) = clamp_cursor(code, cursor_pos);
    let under = |w: &Word<'_>| w.span.start.offset <= cursor && cursor <= w.span.end.offset;
    for statement in raw_statements(code) {
        if statement.lead.as_ref().is_some_and(under) {
            return command::lookup("%time")
                .map(|spec| help::command_detail(spec, detail_level > 0));
        }
        for (index, word) in statement.words.iter().enumerate() {
            if !under(word) {
                continue;
            }
            if index == 0 {
                return match word.form {
                    Form::Bare => command::lookup(word.text)
                        .map(|spec| help::command_detail(spec, detail_level > 0)),
                    _ => None,
                };
            }
            return match statement.spec?.param(index - 1)? {
                Param::Key => key_info(session, word, detail_level),
                Param::Prefix => prefix_info(session, word),
                Param::Range => range_info(session, word),
                Param::Tree => tree_info(session, word),
                Param::Topic => match args::decode(Param::Topic, word) {
                    Ok(Arg::Topic(spec)) => Some(help::command_detail(spec, detail_level > 0)),
                    _ => None,
                },
                _ => None,
            };
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

/// `the default tree` or `tree users`.
fn tree_words(session: &Session) -> String {
    match session.tree_name() {
        Some(name) => format!("tree {}", render::tree_name(name)),
        None => "the default tree".to_string(),
    }
}

fn key_info(session: &Session, word: &Word<'_>, detail_level: u8) -> Option<MimeBundle> {
    let tree = session.tree()?;
    let key = lexer::decode(word).ok()?;
    let value = tree.get(&key).ok()?;
    let key_shown = render::key(&key);
    let key_len = render::byte_count(key.len());
    let place = tree_words(session);
    let Some(value) = value else {
        return Some(bundle(
            format!("key {key_shown} ({key_len}) in {place}\nvalue <missing>"),
            format!(
                "**key** {} ({key_len}) in {place}\n\n**value** missing",
                code_span(&key_shown)
            ),
        ));
    };
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
    let value_len = render::byte_count(value.len());
    let plain =
        format!("key {key_shown} ({key_len}) in {place}\nvalue {shown} ({value_len}){note}");
    let markdown = format!(
        "**key** {} ({key_len}) in {place}\n\n**value** ({value_len}){note}\n\n{}",
        code_span(&key_shown),
        code_block(&shown)
    );
    Some(bundle(plain, markdown))
}

/// `1 key`, `42 keys`, `at least 10000 keys`.
fn counted<T>(items: impl Iterator<Item = T>) -> String {
    let n = items.take(MAX_COUNT).count();
    if n == MAX_COUNT {
        format!("at least {MAX_COUNT} keys")
    } else {
        render::plural(n, "key")
    }
}

fn prefix_info(session: &Session, word: &Word<'_>) -> Option<MimeBundle> {
    let tree = session.tree()?;
    let prefix = lexer::decode(word).ok()?;
    let count = counted(tree.scan_prefix(&prefix).keys());
    let shown = render::value(&prefix);
    let place = tree_words(session);
    Some(bundle(
        format!("prefix {shown}: {count} in {place} start with it"),
        format!(
            "**prefix** {}: {count} in {place} start with it",
            code_span(&shown)
        ),
    ))
}

fn range_info(session: &Session, word: &Word<'_>) -> Option<MimeBundle> {
    let tree = session.tree()?;
    let Ok(Arg::Range(range)) = args::decode(Param::Range, word) else {
        return None;
    };
    let count = counted(tree.range::<&[u8], _>(range.bounds()).keys());
    let shown = render::range_text(&range);
    let place = tree_words(session);
    Some(bundle(
        format!("range {shown}: {count} in {place}"),
        format!("**range** {}: {count} in {place}", code_span(&shown)),
    ))
}

fn tree_info(session: &Session, word: &Word<'_>) -> Option<MimeBundle> {
    let db = session.db()?;
    let name = lexer::decode(word).ok()?;
    let shown = render::tree_name(&name);
    let current = session.tree_name().unwrap_or(DEFAULT_TREE) == name.as_slice();
    let exists = name == DEFAULT_TREE || db.tree_names().iter().any(|n| *n == name);
    let text = if !exists {
        format!("tree {shown}: does not exist yet (open_tree creates it)")
    } else {
        let tree = if name == DEFAULT_TREE {
            sled::Tree::clone(db)
        } else {
            db.open_tree(&name).ok()?
        };
        let count = counted(tree.iter().keys());
        let default = if name == DEFAULT_TREE {
            ", the default tree"
        } else {
            ""
        };
        let mark = if current { ", the current tree" } else { "" };
        format!("tree {shown}: {count}{default}{mark}")
    };
    Some(bundle(
        text.clone(),
        text.replacen(&shown, &code_span(&shown), 1),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bundle: &MimeBundle, mime: &str) -> String {
        bundle[mime].as_str().unwrap_or_default().to_string()
    }

    fn session() -> Session {
        let s = Session::temporary().unwrap();
        let tree = s.tree().unwrap();
        tree.insert("todo:002", "lift legs").unwrap();
        tree.insert("todo:003", "call mom").unwrap();
        tree.insert("long", "x".repeat(300).as_bytes()).unwrap();
        s
    }

    #[test]
    fn help_on_a_command_word() {
        let s = session();
        let b = inspect(&s, "get todo:002", 1, 0).unwrap();
        let plain = text(&b, "text/plain");
        assert!(plain.starts_with("get KEY\nLook up"), "{plain}");
        assert!(
            plain.contains("in Rust: sled::Tree::get(&self, key)"),
            "{plain}"
        );
        assert!(plain.contains("examples:\n  get todo:002\n"), "{plain}");
        let md = text(&b, "text/markdown");
        assert!(md.contains("**`get KEY`**"), "{md}");
        assert!(!plain.contains("kind:"));

        let b = inspect(&s, "PUT a b", 3, 1).unwrap();
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
        assert_eq!(
            text(&inspect(&s, "%help %open", 2, 0).unwrap(), "text/plain")
                .lines()
                .next(),
            Some("%help [COMMAND]")
        );
        assert_eq!(
            text(&inspect(&s, "%help open", 8, 0).unwrap(), "text/plain")
                .lines()
                .next(),
            Some("%open PATH"),
            "the topic of %help"
        );
        assert_eq!(
            text(&inspect(&s, "%time len", 2, 0).unwrap(), "text/plain")
                .lines()
                .next(),
            Some("%time LINE")
        );
        assert_eq!(
            text(&inspect(&s, "%time len", 7, 0).unwrap(), "text/plain")
                .lines()
                .next(),
            Some("len")
        );
        assert!(text(&inspect(&s, "batch", 2, 0).unwrap(), "text/plain").starts_with("batch … end"));
    }

    #[test]
    fn value_of_a_key_with_its_tree() {
        let mut s = session();
        let b = inspect(&s, "echo héllo\nget todo:002", 17, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "key todo:002 (8 bytes) in the default tree\nvalue \"lift legs\" (9 bytes)"
        );
        assert!(text(&b, "text/markdown").contains("```text\n\"lift legs\"\n```"));
        let b = inspect(&s, "get nothing", 6, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "key nothing (7 bytes) in the default tree\nvalue <missing>"
        );
        s.use_tree(b"users").unwrap();
        s.tree().unwrap().insert("alice", "admin").unwrap();
        let b = inspect(&s, "remove alice", 9, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "key alice (5 bytes) in tree users\nvalue \"admin\" (5 bytes)"
        );
    }

    #[test]
    fn long_values_are_truncated_more_at_detail_zero() {
        let s = session();
        let short = text(&inspect(&s, "get long", 5, 0).unwrap(), "text/plain");
        assert!(
            short.contains(&format!("\"{}…", "x".repeat(199))),
            "{short}"
        );
        assert!(short.contains("(300 bytes) (first 200 characters shown)"));
        let long = text(&inspect(&s, "get long", 5, 1).unwrap(), "text/plain");
        assert!(long.contains(&format!("\"{}\"", "x".repeat(300))));
        assert!(!long.contains('…'));
    }

    #[test]
    fn prefixes_ranges_and_trees_are_counted() {
        let s = session();
        let b = inspect(&s, "scan todo:", 7, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "prefix \"todo:\": 2 keys in the default tree start with it"
        );
        let b = inspect(&s, "range ..todo:003 rev", 8, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "range ..todo:003: 2 keys in the default tree"
        );
        s.db()
            .unwrap()
            .open_tree("users")
            .unwrap()
            .insert("a", "b")
            .unwrap();
        let b = inspect(&s, "drop_tree users", 12, 0).unwrap();
        assert_eq!(text(&b, "text/plain"), "tree users: 1 key");
        assert_eq!(text(&b, "text/markdown"), "tree `users`: 1 key");
        let b = inspect(&s, "use __sled__default", 6, 0).unwrap();
        assert_eq!(
            text(&b, "text/plain"),
            "tree __sled__default: 3 keys, the default tree, the current tree"
        );
        let b = inspect(&s, "use nope", 6, 0).unwrap();
        assert!(text(&b, "text/plain").contains("does not exist yet"));
    }

    #[test]
    fn nothing_on_values_unknown_words_blank_space_or_a_suspended_db() {
        let mut s = session();
        assert!(inspect(&s, "insert k todo:002", 12, 0).is_none());
        assert!(inspect(&s, "frob todo:002", 2, 0).is_none());
        assert!(inspect(&s, "get  todo:002", 4, 0).is_none());
        assert!(inspect(&s, "echo get", 7, 0).is_none());
        assert!(inspect(&s, "get k # todo:002", 10, 0).is_none());
        assert!(inspect(&s, "", 0, 0).is_none());
        s.suspend().unwrap();
        assert!(inspect(&s, "get todo:002", 6, 0).is_none());
        assert!(
            inspect(&s, "get todo:002", 1, 0).is_some(),
            "help needs no database"
        );
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("héllo", 2), ("hé…".to_string(), true));
        assert_eq!(truncate("hé", 2), ("hé".to_string(), false));
    }
}
