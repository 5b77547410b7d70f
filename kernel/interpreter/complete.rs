//! Tab completion: command names at the start of a line, existing keys where
//! a key belongs.
//!
//! Only the text before the cursor is scanned, so an unfinished quote there is
//! read as the word being typed rather than pairing with a quote further down.
//! Positions are code points throughout, as Jupyter counts `cursor_pos`.

use sled::Db;

use super::command::{self, CommandSpec};
use super::lexer::{self, Form, Pos, Word};
use super::parser::raw_statements;
use super::render;
use super::Completion;

/// At most this many keys are offered.
const MAX_KEYS: usize = 100;

/// Where the cursor is, as far as completion cares.
#[derive(Debug)]
enum Spot<'a> {
    /// On the command word of a statement (or where one would start).
    Command(Option<Word<'a>>),
    /// On argument `index` (0 = first after the command word).
    Argument {
        spec: &'static CommandSpec,
        index: usize,
        word: Option<Word<'a>>,
    },
    /// In a comment, in `echo` text, after an unknown command...
    Nowhere,
}

pub fn complete(db: &Db, code: &str, cursor_pos: usize) -> Completion {
    let (cursor, cursor_byte) = clamp_cursor(code, cursor_pos);
    let before = code.get(..cursor_byte).unwrap_or(code);
    let spot = locate(before);
    let (matches, start) = match &spot {
        Spot::Command(word) => command_matches(word.as_ref(), cursor),
        Spot::Argument { spec, index, word } => match spec.param(*index) {
            Some(param) if param.names_keys() => key_matches(db, word.as_ref(), cursor),
            _ => (Vec::new(), cursor),
        },
        Spot::Nowhere => (Vec::new(), cursor),
    };
    // When completing a word, replace all of it, including any part after the
    // cursor; at an empty spot just insert.
    let typing = matches!(
        spot,
        Spot::Command(Some(_)) | Spot::Argument { word: Some(_), .. }
    );
    let cursor_end = if typing && !matches.is_empty() {
        let after = code.get(cursor_byte..).unwrap_or("");
        cursor + after.chars().take_while(|c| !c.is_whitespace()).count()
    } else {
        cursor
    };
    Completion {
        matches,
        cursor_start: start,
        cursor_end,
    }
}

/// The cursor as a code-point index no further than the end of `code`, and
/// the byte offset where it falls.
pub fn clamp_cursor(code: &str, cursor_pos: usize) -> (usize, usize) {
    match code.char_indices().nth(cursor_pos) {
        Some((byte, _)) => (cursor_pos, byte),
        None => (code.chars().count(), code.len()),
    }
}

/// Works out what the cursor (at the end of `before`) is on.
fn locate(before: &str) -> Spot<'_> {
    let on_comment_line = || {
        let line = before.rsplit('\n').next().unwrap_or("");
        line.trim_start().starts_with('#')
    };
    let fresh_line = || {
        if on_comment_line() {
            Spot::Nowhere
        } else {
            Spot::Command(None)
        }
    };
    let Some(statement) = raw_statements(before).last() else {
        return fresh_line();
    };
    let Some(last) = statement.words.last().copied() else {
        return fresh_line();
    };
    let gap = before.get(last.span.end.byte..).unwrap_or("");
    let head_only = statement.words.len() == 1;
    if let Some(text) = statement.text {
        // `echo`/`warn`: only the command word itself can be completed.
        return if head_only && text.span.start == text.span.end && gap.is_empty() {
            Spot::Command(Some(last))
        } else if before
            .get(text.span.end.byte..)
            .unwrap_or("")
            .contains('\n')
        {
            fresh_line()
        } else {
            Spot::Nowhere
        };
    }
    let ends_at_cursor = gap.is_empty();
    if !ends_at_cursor && gap.contains('\n') {
        return fresh_line();
    }
    let index = if ends_at_cursor {
        statement.words.len() - 1
    } else {
        statement.words.len()
    };
    let word = ends_at_cursor.then_some(last);
    match (index, statement.spec) {
        (0, _) => Spot::Command(word),
        (i, Some(spec)) => Spot::Argument {
            spec,
            index: i - 1,
            word,
        },
        (_, None) => Spot::Nowhere,
    }
}

fn command_matches(word: Option<&Word>, cursor: usize) -> (Vec<String>, usize) {
    let (typed, start) = match word {
        Some(w) if w.form == Form::Bare || w.form == Form::Hex => (w.text, w.span.start.offset),
        Some(_) => return (Vec::new(), cursor),
        None => ("", cursor),
    };
    let typed = typed.to_lowercase();
    let matches = command::all_names()
        .into_iter()
        .filter(|name| name.starts_with(&typed))
        .map(str::to_string)
        .collect();
    (matches, start)
}

/// Keys starting with what has been typed, written the way the word was
/// started (bare, `"..."`, `'...'`, `b"..."` or `0x...`).
fn key_matches(db: &Db, word: Option<&Word>, cursor: usize) -> (Vec<String>, usize) {
    let none = (Vec::new(), cursor);
    let Some(word) = word else {
        return (
            keys_with_prefix(db, b"")
                .iter()
                .map(|k| render::key(k))
                .collect(),
            cursor,
        );
    };
    if word.terminated && word.form.quote().is_some() {
        // The quote is closed: the word is finished.
        return none;
    }
    let start = word.span.start.offset;
    let inside = word.after_opener();
    let inside_start = start + word.form.opener().chars().count();
    match word.form {
        Form::Bare => {
            if inside.contains(['"', '\'']) {
                return none;
            }
            let matches = keys_with_prefix(db, inside.as_bytes())
                .iter()
                .map(|k| render::key(k))
                .collect();
            (matches, start)
        }
        Form::Hex => {
            if !inside.chars().all(|c| c.is_ascii_hexdigit()) {
                return none;
            }
            let whole_bytes = inside.get(..inside.len() - inside.len() % 2).unwrap_or("");
            let Ok(prefix) = hex::decode(whole_bytes) else {
                return none;
            };
            let typed = word.text.to_ascii_lowercase();
            let matches = keys_with_prefix(db, &prefix)
                .iter()
                .map(|k| format!("0x{}", hex::encode(k)))
                .filter(|m| m.starts_with(&typed))
                .collect();
            (matches, start)
        }
        Form::DoubleQuoted | Form::ByteString => {
            let Some(prefix) = partial_unescape(inside) else {
                return none;
            };
            let byte_string = word.form == Form::ByteString;
            let matches = keys_with_prefix(db, &prefix)
                .iter()
                .map(|k| {
                    let escaped = if byte_string {
                        k.escape_ascii().to_string()
                    } else {
                        escape_in_double_quotes(k)
                    };
                    escaped + "\""
                })
                .collect();
            (matches, inside_start)
        }
        Form::SingleQuoted => {
            // Single quotes are literal: only keys that are UTF-8 without a
            // single quote can be written inside them.
            let matches = keys_with_prefix(db, inside.as_bytes())
                .into_iter()
                .filter_map(|k| String::from_utf8(k).ok())
                .filter(|k| !k.contains('\''))
                .map(|k| k + "'")
                .collect();
            (matches, inside_start)
        }
    }
}

fn keys_with_prefix(db: &Db, prefix: &[u8]) -> Vec<Vec<u8>> {
    db.scan_prefix(prefix)
        .keys()
        .take(MAX_KEYS)
        .filter_map(Result::ok)
        .map(|k| k.to_vec())
        .collect()
}

/// Decodes what has been typed inside a double quote so far, dropping an
/// escape that is still being typed (`"ab\x4`).
fn partial_unescape(inside: &str) -> Option<Vec<u8>> {
    lexer::unescape(inside, Pos::default()).ok().or_else(|| {
        let cut = inside.rfind('\\')?;
        lexer::unescape(inside.get(..cut)?, Pos::default()).ok()
    })
}

/// Key bytes as they would be written between double quotes: Rust string
/// escapes for text, `\xNN` for bytes that are not UTF-8.
fn escape_in_double_quotes(key: &[u8]) -> String {
    let mut out = String::new();
    for chunk in key.utf8_chunks() {
        let quoted = format!("{:?}", chunk.valid());
        out.push_str(quoted.get(1..quoted.len() - 1).unwrap_or(""));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::session::Session;

    fn session() -> Session {
        let s = Session::open().unwrap();
        for k in [
            &b"todo:001"[..],
            b"todo:002",
            b"tea time",
            b"note:042",
            b"caf\xc3\xa9",
            b"\xff\x00",
        ] {
            s.db().insert(k, &b"v"[..]).unwrap();
        }
        s
    }

    /// `|` in `text` marks the cursor.
    fn at(s: &Session, text: &str) -> Completion {
        let cursor = text
            .chars()
            .position(|c| c == '|')
            .expect("a | marks the cursor");
        complete(s.db(), &text.replacen('|', "", 1), cursor)
    }

    #[test]
    fn command_names_at_a_line_start() {
        let s = session();
        let c = at(&s, "ge|");
        assert_eq!(c.matches, ["get"]);
        assert_eq!((c.cursor_start, c.cursor_end), (0, 2));

        let c = at(&s, "d|");
        assert_eq!(c.matches, ["del", "delete"]);

        let c = at(&s, "%|");
        assert_eq!(c.matches, ["%reset", "%sleep"]);

        let c = at(&s, "SC|");
        assert_eq!(c.matches, ["scan", "scan_prefix"]);
        assert_eq!(c.cursor_start, 0);

        let c = at(&s, "|");
        assert_eq!(c.matches.len(), command::all_names().len());
        assert!(c.matches.contains(&"insert".to_string()));
        assert!(c.matches.contains(&"put".to_string()), "aliases too");
        assert_eq!((c.cursor_start, c.cursor_end), (0, 0));
    }

    #[test]
    fn command_names_on_a_later_line() {
        let s = session();
        let c = at(&s, "get a\n  ke|");
        assert_eq!(c.matches, ["keys"]);
        assert_eq!(c.cursor_start, 8);
        let c = at(&s, "get a\n|");
        assert_eq!(c.matches.len(), command::all_names().len());
        assert_eq!(c.cursor_start, 6);
    }

    #[test]
    fn keys_after_a_key_command() {
        let s = session();
        let c = at(&s, "get to|");
        assert_eq!(c.matches, ["todo:001", "todo:002"]);
        assert_eq!((c.cursor_start, c.cursor_end), (4, 6));

        let c = at(&s, "remove t|");
        assert_eq!(c.matches, ["\"tea time\"", "todo:001", "todo:002"]);

        let c = at(&s, "insert no| x");
        assert_eq!(c.matches, ["note:042"]);

        let c = at(&s, "scan_prefix |");
        assert_eq!(c.matches.len(), 6);
        assert_eq!((c.cursor_start, c.cursor_end), (12, 12));
    }

    #[test]
    fn no_keys_where_no_key_belongs() {
        let s = session();
        assert!(
            at(&s, "insert todo:001 to|").matches.is_empty(),
            "value slot"
        );
        assert!(at(&s, "echo to|").matches.is_empty());
        assert!(at(&s, "frob to|").matches.is_empty());
        assert!(at(&s, "# get to|").matches.is_empty());
        assert!(at(&s, "get a\n# to|").matches.is_empty());
        assert!(at(&s, "keys to|").matches.is_empty());
        assert!(at(&s, "get \"todo:001\"|").matches.is_empty());
    }

    #[test]
    fn multibyte_text_before_the_cursor() {
        let s = session();
        let c = at(&s, "echo héllo\nget to|");
        assert_eq!(c.matches, ["todo:001", "todo:002"]);
        assert_eq!((c.cursor_start, c.cursor_end), (15, 17));

        let c = at(&s, "echo 😀😀\nget caf|");
        assert_eq!(c.matches, ["café"]);
        assert_eq!(c.cursor_start, 12);

        let c = at(&s, "get café|");
        assert_eq!(c.matches, ["café"]);
        assert_eq!((c.cursor_start, c.cursor_end), (4, 8));
    }

    #[test]
    fn completing_inside_quotes() {
        let s = session();
        let c = at(&s, "get \"te|");
        assert_eq!(c.matches, ["tea time\""]);
        assert_eq!((c.cursor_start, c.cursor_end), (5, 7));

        let c = at(&s, "get 'to|");
        assert_eq!(c.matches, ["todo:001'", "todo:002'"]);
        assert_eq!(c.cursor_start, 5);

        let c = at(&s, "get \"\\xff|");
        assert_eq!(c.matches, ["\\xff\\0\""]);

        let c = at(&s, "get b\"\\xf|");
        assert_eq!(c.matches.len(), 6, "an escape being typed is ignored");
        assert_eq!(c.cursor_start, 6);

        let c = at(&s, "get \"caf|");
        assert_eq!(c.matches, ["café\""]);
    }

    #[test]
    fn an_open_quote_on_the_cursor_line_does_not_pair_with_later_text() {
        let s = session();
        let c = at(&s, "get \"to|\nget \"x\"");
        assert_eq!(c.matches, ["todo:001\"", "todo:002\""]);
    }

    #[test]
    fn hex_keys() {
        let s = session();
        let c = at(&s, "get 0xf|");
        assert_eq!(c.matches, ["0xff00"]);
        assert_eq!(c.cursor_start, 4);
        let c = at(&s, "get 0x746f|");
        assert_eq!(c.matches, ["0x746f646f3a303031", "0x746f646f3a303032"]);
        assert!(at(&s, "get 0xzz|").matches.is_empty());
    }

    #[test]
    fn completion_replaces_the_rest_of_the_word() {
        let s = session();
        let c = at(&s, "get to|do:00 next");
        assert_eq!(c.matches, ["todo:001", "todo:002"]);
        assert_eq!((c.cursor_start, c.cursor_end), (4, 11));
    }

    #[test]
    fn cursor_past_the_end_is_clamped() {
        let s = session();
        let c = complete(s.db(), "ge", 99);
        assert_eq!(c.matches, ["get"]);
        assert_eq!((c.cursor_start, c.cursor_end), (0, 2));
    }

    #[test]
    fn at_most_a_hundred_keys() {
        let s = Session::open().unwrap();
        for i in 0..150 {
            s.db().insert(format!("k{i:03}"), &b"v"[..]).unwrap();
        }
        let c = at(&s, "get k|");
        assert_eq!(c.matches.len(), MAX_KEYS);
        assert_eq!(c.matches[0], "k000");
        assert_eq!(c.matches[99], "k099");
    }

    #[test]
    fn escaping_for_double_quotes() {
        assert_eq!(escape_in_double_quotes(b"a\"b\\c\n"), r#"a\"b\\c\n"#);
        assert_eq!(escape_in_double_quotes(b"x\xffy"), r"x\xffy");
    }
}
