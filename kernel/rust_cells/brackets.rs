//! How deep a `%%rust` cell's brackets go, for [`super::Magic::is_complete`]:
//! Rust's tokens read as far as brackets need.

/// Open `(`/`[`/`{` minus closed ones, outside comments and string and
/// char literals; `None` when a closer has no opener. Code that stops inside
/// a string or a block comment counts one level more: more lines are to
/// come.
///
/// It reads Rust's tokens as far as brackets need: line comments, nested
/// block comments, string literals with their escapes, raw strings
/// (`r"…"`, `r#"…"#`, `br"…"`, `cr"…"`), char and byte literals (`'{'`,
/// `b'\''`, `'\u{7b}'`) and lifetimes (`'a`, `'static`). Words (names,
/// numbers, raw identifiers like `r#match`) are skipped whole, so a raw
/// string is only one where a word could start.
pub(super) fn depth(code: &str) -> Option<usize> {
    let chars: Vec<char> = code.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            '/' if at(i + 1) == Some('/') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                // Block comments nest in Rust.
                let mut open = 1;
                i += 2;
                while open > 0 {
                    match (at(i), at(i + 1)) {
                        (None, _) => return Some(depth + 1),
                        (Some('/'), Some('*')) => {
                            open += 1;
                            i += 2;
                        }
                        (Some('*'), Some('/')) => {
                            open -= 1;
                            i += 2;
                        }
                        _ => i += 1,
                    }
                }
                continue;
            }
            '"' => match closing_quote(&chars, i + 1) {
                Some(end) => i = end,
                None => return Some(depth + 1),
            },
            '\'' => {
                if at(i + 1) == Some('\\') {
                    // An escaped char: '\n', '\'', '\u{7b}'. The character
                    // after the backslash is never the closing quote.
                    let mut j = i + 3;
                    while at(j).is_some_and(|c| c != '\'' && c != '\n') {
                        j += 1;
                    }
                    i = j;
                } else if at(i + 2) == Some('\'') {
                    // A char: 'x', '{'.
                    i += 2;
                }
                // Otherwise a lifetime or a label ('a, 'outer): its name is
                // a word, skipped next.
            }
            c if is_word(c) => {
                if let Some(end) = raw_string(&chars, i) {
                    match end {
                        Some(end) => i = end,
                        None => return Some(depth + 1),
                    }
                } else {
                    // b"…" and b'…' end the word at their quote, which is
                    // read as any other quote.
                    while at(i + 1).is_some_and(is_word) {
                        i += 1;
                    }
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    Some(depth)
}

/// The index of the `"` that closes a string whose text starts at `from`
/// (escapes skipped), if it is closed.
fn closing_quote(chars: &[char], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => i += 2,
            '"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether a raw string starts at `start` (`r"`, `r#"`, `br##"`, `cr"`):
/// `None` if not; `Some(Some(end))` with the index of its last character,
/// or `Some(None)` when it is never closed.
fn raw_string(chars: &[char], start: usize) -> Option<Option<usize>> {
    let mut i = start;
    if matches!(chars.get(i), Some('b' | 'c')) {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
    i += hashes;
    if chars.get(i) != Some(&'"') {
        // `r#match` and plain words.
        return None;
    }
    let closing: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = i + 1;
    Some(
        (body..=chars.len().saturating_sub(closing.len()))
            .find(|&j| chars[j..].starts_with(&closing))
            .map(|j| j + closing.len() - 1),
    )
}

#[cfg(test)]
mod tests {
    use crate::cell::IsComplete;
    use crate::rust_cells::Magic;

    #[test]
    fn brackets_inside_raw_strings_bytes_chars_and_comments_do_not_count() {
        let check = |body: &str| {
            Magic::parse(&format!("%%rust\n{body}"))
                .unwrap()
                .is_complete()
        };
        for complete in [
            r##"let s = r#"a"{"#;"##,
            r#"let s = r"{(";"#,
            r###"let s = br##"}"# still inside {"##;"###,
            r#"let s = b"{";"#,
            r#"let c = b'{';"#,
            r#"let c = '{';"#,
            r#"let c = '\'';"#,
            r#"let c = '\u{7b}';"#,
            r#"let pair = ['\'', '}', '\\', ']'];"#,
            r#"let s = "a \" {";"#,
            r#"let s = "\\"; let t = ();"#,
            "fn f<'a>(x: &'a str) -> &'a str { x }",
            "'outer: loop { break 'outer; }",
            "let r#match = 1; let r2d2 = [r#match];",
            "/* { /* nested { */ still a comment ( */ let x = 1;",
            "// { only a comment\nlet x = (1);",
            "let n = 0b1010 + 0xff_u8 as i32;",
        ] {
            assert_eq!(check(complete), IsComplete::Complete, "{complete}");
        }
        for open in [
            r##"let s = r#"a"{""##,
            "let s = r\"never closed",
            "/* an open comment",
            "/* /* */ still open",
            "fn f() { let c = '}';",
        ] {
            assert!(
                matches!(check(open), IsComplete::Incomplete { .. }),
                "{open}"
            );
        }
        assert_eq!(check("let c = '}'; }"), IsComplete::Invalid);
    }
}
