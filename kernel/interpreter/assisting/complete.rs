//! Tab completion: command and magic names at the start of a line (and after
//! `%time` and `%help`), existing keys where a key belongs (bounds of a range
//! included), tree names after `open_tree`/`drop_tree`, file paths after
//! `%open`/`%load`/`%dump`, and `limit`/`rev` after a row read's arguments.
//!
//! Only the text before the cursor is scanned, so an unfinished quote there is
//! read as the word being typed rather than pairing with a quote further down.
//! Positions are code points throughout, as Jupyter counts `cursor_pos`.

use crate::cell::Completion;
use crate::interpreter::language::command::{self, Args, CommandSpec, Param};
use crate::interpreter::language::lexer::{self, Form, Word};
use crate::interpreter::language::parser::raw_statements;
use crate::interpreter::language::span::Pos;
use crate::interpreter::running::files::resolve;
use crate::interpreter::running::session::{Session, DEFAULT_TREE};
use crate::interpreter::showing::render;

/// At most this many keys, trees or paths are offered.
const MAX_MATCHES: usize = 100;

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
        /// The word before it, to tell `limit N` from an option name.
        previous: Option<Word<'a>>,
    },
    /// In a comment, in `echo` text, after an unknown command...
    Nowhere,
}

pub(crate) fn complete(session: &Session, code: &str, cursor_pos: usize) -> Completion {
    let (cursor, cursor_byte) = clamp_cursor(code, cursor_pos);
    let before = code.get(..cursor_byte).unwrap_or(code);
    let spot = locate(before);
    let none = (Vec::new(), cursor);
    let (matches, start) = match &spot {
        Spot::Command(word) => names(word.as_ref(), cursor),
        Spot::Argument {
            spec,
            index,
            word,
            previous,
        } => match spec.param(*index) {
            Some(param) => argument(session, param, word.as_ref(), cursor),
            None if spec.takes_options() => {
                let after_limit = previous.is_some_and(|p| p.text.eq_ignore_ascii_case("limit"));
                if after_limit {
                    none
                } else {
                    options(word.as_ref(), cursor)
                }
            }
            None => none,
        },
        Spot::Nowhere => none,
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
pub(crate) fn clamp_cursor(code: &str, cursor_pos: usize) -> (usize, usize) {
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
        // `echo`/`warn`/`abort`: only the command word itself can be completed.
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
    if gap.trim_start().starts_with('#') {
        // In a comment after the words.
        return Spot::Nowhere;
    }
    let index = if ends_at_cursor {
        statement.words.len() - 1
    } else {
        statement.words.len()
    };
    let word = ends_at_cursor.then_some(last);
    match (index, statement.spec) {
        (0, _) => Spot::Command(word),
        // `%time ` with nothing after it yet: a command comes next.
        (1, Some(spec)) if spec.args == Args::Line => Spot::Command(None),
        (i, Some(spec)) => Spot::Argument {
            spec,
            index: i - 1,
            word,
            previous: statement.words.get(i - 1).copied(),
        },
        (_, None) => Spot::Nowhere,
    }
}

/// Command and magic names starting with what was typed.
fn names(word: Option<&Word<'_>>, cursor: usize) -> (Vec<String>, usize) {
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

/// `limit` and `rev`, after a row read's positional arguments.
fn options(word: Option<&Word<'_>>, cursor: usize) -> (Vec<String>, usize) {
    let (typed, start) = match word {
        Some(w) if w.form == Form::Bare => (w.text.to_lowercase(), w.span.start.offset),
        Some(_) => return (Vec::new(), cursor),
        None => (String::new(), cursor),
    };
    let matches = ["limit", "rev"]
        .into_iter()
        .filter(|o| o.starts_with(&typed))
        .map(str::to_string)
        .collect();
    (matches, start)
}

fn argument(
    session: &Session,
    param: Param,
    word: Option<&Word<'_>>,
    cursor: usize,
) -> (Vec<String>, usize) {
    match param {
        Param::Key | Param::Prefix => key_matches(session.tree(), word, cursor),
        Param::Range => {
            // Complete the bound being typed: the one after the dots if
            // there are dots, else the first.
            let upper = word.and_then(lexer::split_range);
            match upper {
                Some(parts) => match parts.hi {
                    Some(hi) => key_matches(session.tree(), Some(&hi), cursor),
                    None => key_matches(session.tree(), None, cursor),
                },
                None => key_matches(session.tree(), word, cursor),
            }
        }
        Param::Tree => tree_matches(session, word, cursor),
        Param::Dir | Param::File => path_matches(word, cursor, param == Param::Dir),
        Param::Topic => names(word, cursor),
        // Fixed words, or the fixed start of `name=N`.
        Param::FlushEvery | Param::SampleValue | Param::Damage | Param::ReadHow => {
            let (typed, start) = match word {
                Some(w) if w.form == Form::Bare => (w.text.to_lowercase(), w.span.start.offset),
                Some(_) => return (Vec::new(), cursor),
                None => (String::new(), cursor),
            };
            let matches = param
                .offered()
                .iter()
                .filter(|offered| offered.starts_with(&typed))
                .map(|offered| offered.to_string())
                .collect();
            (matches, start)
        }
        // Values, numbers and seconds are the student's own.
        Param::Value
        | Param::Old
        | Param::New
        | Param::Delta
        | Param::Rows
        | Param::Seconds
        | Param::Times => (Vec::new(), cursor),
    }
}

/// Keys starting with what has been typed, written the way the word was
/// started (bare, `"..."`, `'...'`, `b"..."` or `0x...`).
fn key_matches(
    tree: Option<&sled::Tree>,
    word: Option<&Word<'_>>,
    cursor: usize,
) -> (Vec<String>, usize) {
    let none = (Vec::new(), cursor);
    let Some(tree) = tree else {
        return none;
    };
    let with_prefix = |prefix: &[u8]| keys_with_prefix(tree, prefix);
    written_like(word, cursor, &with_prefix)
}

/// Tree names starting with what has been typed.
fn tree_matches(session: &Session, word: Option<&Word<'_>>, cursor: usize) -> (Vec<String>, usize) {
    let Some(db) = session.db() else {
        return (Vec::new(), cursor);
    };
    let mut names: Vec<Vec<u8>> = db.tree_names().iter().map(|n| n.to_vec()).collect();
    if !names.iter().any(|n| n == DEFAULT_TREE) {
        names.push(DEFAULT_TREE.to_vec());
    }
    names.sort();
    let with_prefix = |prefix: &[u8]| -> Vec<Vec<u8>> {
        names
            .iter()
            .filter(|n| n.starts_with(prefix))
            .take(MAX_MATCHES)
            .cloned()
            .collect()
    };
    written_like(word, cursor, &with_prefix)
}

/// Candidates (from `candidates(prefix)`) for the word being typed, each
/// written in the word's own form, and where the replacement starts.
fn written_like(
    word: Option<&Word<'_>>,
    cursor: usize,
    candidates: &dyn Fn(&[u8]) -> Vec<Vec<u8>>,
) -> (Vec<String>, usize) {
    let none = (Vec::new(), cursor);
    let Some(word) = word else {
        return (
            candidates(b"").iter().map(|k| render::key(k)).collect(),
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
            let matches = candidates(inside.as_bytes())
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
            let matches = candidates(&prefix)
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
            let matches = candidates(&prefix)
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
            // Single quotes are literal: only names that are UTF-8 without a
            // single quote can be written inside them.
            let matches = candidates(inside.as_bytes())
                .into_iter()
                .filter_map(|k| String::from_utf8(k).ok())
                .filter(|k| !k.contains('\''))
                .map(|k| k + "'")
                .collect();
            (matches, inside_start)
        }
    }
}

fn keys_with_prefix(tree: &sled::Tree, prefix: &[u8]) -> Vec<Vec<u8>> {
    tree.scan_prefix(prefix)
        .keys()
        .take(MAX_MATCHES)
        .filter_map(Result::ok)
        .map(|k| k.to_vec())
        .collect()
}

/// Files and directories starting with what has been typed (directories
/// with a trailing `/`); only directories for `%open`.
fn path_matches(word: Option<&Word<'_>>, cursor: usize, dirs_only: bool) -> (Vec<String>, usize) {
    let none = (Vec::new(), cursor);
    let (typed, start, quote) = match word {
        None => (String::new(), cursor, None),
        Some(w) if w.form == Form::Bare => (w.text.to_string(), w.span.start.offset, None),
        Some(w) if !w.terminated && w.form != Form::ByteString => {
            let inside = w.after_opener();
            let text = match w.form {
                Form::DoubleQuoted => match partial_unescape(inside).map(String::from_utf8) {
                    Some(Ok(text)) => text,
                    _ => return none,
                },
                _ => inside.to_string(),
            };
            let start = w.span.start.offset + w.form.opener().chars().count();
            (text, start, w.form.quote())
        }
        Some(_) => return none,
    };
    let (dir_part, file_prefix) = match typed.rfind('/') {
        Some(i) => typed.split_at(i + 1),
        None => ("", typed.as_str()),
    };
    let dir = if dir_part.is_empty() {
        resolve(".")
    } else {
        resolve(dir_part)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return none;
    };
    let mut found: Vec<(String, bool)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let is_dir = e.path().is_dir();
            let hidden = name.starts_with('.') && !file_prefix.starts_with('.');
            (name.starts_with(file_prefix) && !hidden && (is_dir || !dirs_only))
                .then_some((name, is_dir))
        })
        .collect();
    found.sort();
    found.truncate(MAX_MATCHES);
    let matches = found
        .into_iter()
        .map(|(name, is_dir)| {
            let full = format!("{dir_part}{name}{}", if is_dir { "/" } else { "" });
            match quote {
                // Inside a quote: close it after a file, leave it open after
                // a directory so Tab can go on into it.
                Some(q) => {
                    let body = if q == '"' {
                        escape_in_double_quotes(full.as_bytes())
                    } else {
                        full
                    };
                    if is_dir {
                        body
                    } else {
                        format!("{body}{q}")
                    }
                }
                None if needs_quotes(&full) => {
                    let quoted = format!("{full:?}");
                    if is_dir {
                        quoted.trim_end_matches('"').to_string()
                    } else {
                        quoted
                    }
                }
                None => full,
            }
        })
        .collect();
    (matches, start)
}

/// Whether a path cannot be written as a bare word.
fn needs_quotes(path: &str) -> bool {
    path.chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '#')
        || path.starts_with("0x")
        || path.starts_with("b\"")
}

/// Decodes what has been typed inside a double quote so far, dropping an
/// escape that is still being typed (`"ab\x4`).
fn partial_unescape(inside: &str) -> Option<Vec<u8>> {
    lexer::unescape(inside, Pos::default()).ok().or_else(|| {
        let cut = inside.rfind('\\')?;
        lexer::unescape(inside.get(..cut)?, Pos::default()).ok()
    })
}

/// Bytes as they would be written between double quotes: Rust string
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

    fn session() -> Session {
        let s = Session::temporary().unwrap();
        for k in [
            &b"todo:001"[..],
            b"todo:002",
            b"tea time",
            b"note:042",
            b"caf\xc3\xa9",
            b"\xff\x00",
        ] {
            s.tree().unwrap().insert(k, &b"v"[..]).unwrap();
        }
        s
    }

    /// `|` in `text` marks the cursor.
    fn at(s: &Session, text: &str) -> Completion {
        let cursor = text
            .chars()
            .position(|c| c == '|')
            .expect("a | marks the cursor");
        complete(s, &text.replacen('|', "", 1), cursor)
    }

    #[test]
    fn command_names_at_a_line_start() {
        let s = session();
        let c = at(&s, "ge|");
        assert_eq!(c.matches, ["generate_id", "get", "get_gt", "get_lt"]);
        assert_eq!((c.cursor_start, c.cursor_end), (0, 2));

        let c = at(&s, "del|");
        assert_eq!(c.matches, ["del", "delete"]);

        let c = at(&s, "%re|");
        assert_eq!(c.matches, ["%reopen", "%reset"]);

        let c = at(&s, "SC|");
        assert_eq!(c.matches, ["scan", "scan_prefix"]);
        assert_eq!(c.cursor_start, 0);

        let c = at(&s, "|");
        assert_eq!(c.matches.len(), command::all_names().len());
        assert!(c.matches.contains(&"insert".to_string()));
        assert!(c.matches.contains(&"put".to_string()), "aliases too");
        assert!(c.matches.contains(&"%open".to_string()), "magics too");
        assert_eq!((c.cursor_start, c.cursor_end), (0, 0));
    }

    #[test]
    fn command_names_on_a_later_line_after_time_and_for_help() {
        let s = session();
        let c = at(&s, "get a\n  ke|");
        assert_eq!(c.matches, ["keys"]);
        assert_eq!(c.cursor_start, 8);
        let c = at(&s, "get a\n|");
        assert_eq!(c.matches.len(), command::all_names().len());
        assert_eq!(c.cursor_start, 6);
        let c = at(&s, "%time sca|");
        assert_eq!(c.matches, ["scan", "scan_prefix"]);
        assert_eq!(c.cursor_start, 6);
        let c = at(&s, "%time |");
        assert_eq!(c.matches.len(), command::all_names().len());
        let c = at(&s, "%help %o|");
        assert_eq!(c.matches, ["%open"]);
        let c = at(&s, "batch\n  ins|");
        assert_eq!(c.matches, ["insert"]);
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

        let c = at(&s, "%time get_gt no|");
        assert_eq!(c.matches, ["note:042"]);
        let c = at(&s, "cas to|");
        assert_eq!(c.matches, ["todo:001", "todo:002"]);
        let c = at(&s, "transaction\n  get no|");
        assert_eq!(c.matches, ["note:042"]);
    }

    #[test]
    fn both_bounds_of_a_range() {
        let s = session();
        let c = at(&s, "range to|");
        assert_eq!(c.matches, ["todo:001", "todo:002"]);
        assert_eq!(c.cursor_start, 6);
        let c = at(&s, "range todo:001..todo:|");
        assert_eq!(c.matches, ["todo:001", "todo:002"]);
        assert_eq!(c.cursor_start, 16);
        let c = at(&s, "range a..=\"te|");
        assert_eq!(c.matches, ["tea time\""]);
        assert_eq!(c.cursor_start, 11);
    }

    #[test]
    fn options_after_the_arguments_of_a_row_read() {
        let s = session();
        assert_eq!(at(&s, "iter |").matches, ["limit", "rev"]);
        assert_eq!(at(&s, "scan_prefix todo: r|").matches, ["rev"]);
        assert_eq!(at(&s, "keys rev l|").matches, ["limit"]);
        assert!(
            at(&s, "keys limit |").matches.is_empty(),
            "a number comes next"
        );
        assert!(at(&s, "get todo:001 |").matches.is_empty());
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
        assert!(
            at(&s, "get # to|").matches.is_empty(),
            "in a trailing comment"
        );
        assert!(at(&s, "len to|").matches.is_empty());
        assert!(at(&s, "get \"todo:001\"|").matches.is_empty());
    }

    #[test]
    fn tree_names_after_tree_commands() {
        let s = session();
        s.db().unwrap().open_tree("users").unwrap();
        s.db().unwrap().open_tree("user log").unwrap();
        let c = at(&s, "open_tree u|");
        assert_eq!(c.matches, ["\"user log\"", "users"]);
        assert_eq!(c.cursor_start, 10);
        let c = at(&s, "use |");
        assert_eq!(c.matches, ["__sled__default", "\"user log\"", "users"]);
        let c = at(&s, "drop_tree 'us|");
        assert_eq!(c.matches, ["user log'", "users'"]);
    }

    #[test]
    fn a_suspended_database_offers_no_keys() {
        let mut s = session();
        s.suspend().unwrap();
        assert!(at(&s, "get to|").matches.is_empty());
        assert!(at(&s, "use |").matches.is_empty());
        assert_eq!(at(&s, "get_|").matches, ["get_gt", "get_lt"]);
    }

    #[test]
    fn file_paths_after_file_magics() {
        let s = session();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data dir")).unwrap();
        std::fs::create_dir(dir.path().join("dbs")).unwrap();
        std::fs::write(dir.path().join("data.jsonl"), "").unwrap();
        std::fs::write(dir.path().join(".hidden"), "").unwrap();
        let base = dir.path().display().to_string();
        let c = at(&s, &format!("%load {base}/d|"));
        // Inside quotes a backslash (Windows paths) is written twice.
        let quoted = base.replace('\\', "\\\\");
        assert_eq!(
            c.matches,
            [
                format!("\"{quoted}/data dir/"),
                format!("{base}/data.jsonl"),
                format!("{base}/dbs/"),
            ]
        );
        assert_eq!(c.cursor_start, 6);
        let c = at(&s, &format!("%open {base}/|"));
        assert_eq!(
            c.matches,
            [format!("\"{quoted}/data dir/"), format!("{base}/dbs/")],
            "directories only, no hidden files"
        );
        let c = at(&s, &format!("%dump \"{quoted}/data|"));
        assert_eq!(
            c.matches,
            [
                format!("{quoted}/data dir/"),
                format!("{quoted}/data.jsonl\"")
            ]
        );
        assert_eq!(c.cursor_start, 7);
        let c = at(&s, &format!("%load {base}/.h|"));
        assert_eq!(c.matches, [format!("{base}/.hidden")]);
        assert!(at(&s, "%load /no/such/dir/x|").matches.is_empty());
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
        let c = complete(&s, "len", 99);
        assert_eq!(c.matches, ["len"]);
        assert_eq!((c.cursor_start, c.cursor_end), (0, 3));
    }

    #[test]
    fn at_most_a_hundred_keys() {
        let s = Session::temporary().unwrap();
        for i in 0..150 {
            s.tree()
                .unwrap()
                .insert(format!("k{i:03}"), &b"v"[..])
                .unwrap();
        }
        let c = at(&s, "get k|");
        assert_eq!(c.matches.len(), MAX_MATCHES);
        assert_eq!(c.matches[0], "k000");
        assert_eq!(c.matches[99], "k099");
    }

    #[test]
    fn escaping_for_double_quotes() {
        assert_eq!(escape_in_double_quotes(b"a\"b\\c\n"), r#"a\"b\\c\n"#);
        assert_eq!(escape_in_double_quotes(b"x\xffy"), r"x\xffy");
    }
}
