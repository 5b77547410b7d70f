//! Words of the cell language: where they are, and what bytes they stand for.
//!
//! This happens in two steps on purpose. *Scanning* ([`Scanner`]) only finds
//! where each word starts and ends and never fails, so completion, inspection
//! and `is_complete` can run it on half-typed text. *Decoding* ([`decode`])
//! turns one finished word into bytes and points at anything malformed.
//!
//! A word is one of:
//! * bare: `todo:001` (no whitespace, no quotes), taken as its UTF-8 bytes;
//! * hex: `0x00ff`, two hex digits per byte;
//! * double-quoted: `"buy boots\n"`, with Rust escapes, where `\xNN` is a raw byte;
//! * byte string: `b"\x00\xff"`, the same escapes;
//! * single-quoted: `'C:\dir'`, taken literally, as redis-cli does.
//!
//! Quoted words may run over several lines; the line breaks become part of
//! the value. A `#` that starts a word begins a comment to the end of the
//! line.
//!
//! A range (`a..b`, `"a b"..='z'`) is one word: after `..` or `..=` a
//! quoted bound is scanned whole, spaces and all. [`split_range`] cuts it.

use super::errors::{ErrorKind, Problem};
use super::span::{Pos, Span};

/// How a word is written, which decides how its text becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Bare,
    Hex,
    DoubleQuoted,
    ByteString,
    SingleQuoted,
}

impl Form {
    /// The form of a word that starts at the beginning of `text`.
    pub(crate) fn detect(text: &str) -> Form {
        if text.starts_with('"') {
            Form::DoubleQuoted
        } else if text.starts_with("b\"") {
            Form::ByteString
        } else if text.starts_with('\'') {
            Form::SingleQuoted
        } else if text.starts_with("0x") {
            Form::Hex
        } else {
            Form::Bare
        }
    }

    /// The characters that open the word (`"`, `b"`, `'`, `0x` or nothing).
    pub(crate) fn opener(self) -> &'static str {
        match self {
            Form::Bare => "",
            Form::Hex => "0x",
            Form::DoubleQuoted => "\"",
            Form::ByteString => "b\"",
            Form::SingleQuoted => "'",
        }
    }

    /// The closing quote, for the quoted forms.
    pub(crate) fn quote(self) -> Option<char> {
        match self {
            Form::DoubleQuoted | Form::ByteString => Some('"'),
            Form::SingleQuoted => Some('\''),
            Form::Bare | Form::Hex => None,
        }
    }
}

/// A word as it stands in the source, not yet decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    pub text: &'a str,
    pub span: Span,
    pub form: Form,
    /// False when a quote was opened and the cell ended before it closed.
    pub terminated: bool,
}

impl<'a> Word<'a> {
    /// The text after the opener (`"`, `b"`, `'`, `0x`): for an unfinished
    /// quoted word, everything typed inside the quote so far.
    pub(crate) fn after_opener(&self) -> &'a str {
        self.text.get(self.form.opener().len()..).unwrap_or("")
    }
}

/// The rest of a line taken verbatim (what `echo` and `warn` print).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Text<'a> {
    pub text: &'a str,
    pub span: Span,
}

/// Walks a cell, handing out words one line at a time.
pub(crate) struct Scanner<'a> {
    src: &'a str,
    pos: Pos,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Scanner {
            src,
            pos: Pos::default(),
        }
    }

    pub(crate) fn pos(&self) -> Pos {
        self.pos
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos.byte..).unwrap_or("")
    }

    fn slice(&self, from: Pos) -> &'a str {
        self.src.get(from.byte..self.pos.byte).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos = self.pos.advance(c);
        Some(c)
    }

    fn skip_inline_space(&mut self) {
        while self.peek().is_some_and(is_inline_space) {
            self.bump();
        }
    }

    /// Moves past blank lines and comment lines to where the next statement
    /// starts. Returns false at the end of the cell.
    ///
    /// This is only called at the start of a line (the previous statement
    /// stopped at its newline), so a `#` found here is the first non-space
    /// character of its line.
    pub(crate) fn start_statement(&mut self) -> bool {
        loop {
            match self.peek() {
                None => return false,
                Some('#') => self.skip_comment(),
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some(_) => return true,
            }
        }
    }

    /// The next word on the current line, or `None` at the end of the line
    /// (the newline itself is left for [`Scanner::start_statement`]).
    ///
    /// A `#` that starts a word begins a comment, which runs to the end of
    /// the line: `get k  # why` is `get k`. Inside a word (`k#1`) or inside
    /// quotes it is an ordinary character.
    pub(crate) fn next_word(&mut self) -> Option<Word<'a>> {
        self.skip_inline_space();
        match self.peek() {
            None | Some('\n') => None,
            Some('#') => {
                self.skip_comment();
                None
            }
            Some(_) => Some(self.word()),
        }
    }

    fn skip_comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    /// Everything up to the end of the line, after one separating space.
    pub(crate) fn rest_of_line(&mut self) -> Text<'a> {
        if self.peek().is_some_and(is_inline_space) {
            self.bump();
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c != '\n') {
            self.bump();
        }
        let text = self.slice(start);
        Text {
            text: text.strip_suffix('\r').unwrap_or(text),
            span: Span {
                start,
                end: self.pos,
            },
        }
    }

    fn word(&mut self) -> Word<'a> {
        let start = self.pos;
        let form = Form::detect(self.rest());
        let mut terminated = self.quoted_section(form);
        // Text glued to a closing quote stays in the word, so that decoding
        // can point at it instead of silently starting a new argument. The
        // one thing that may follow a bound is `..` or `..=` and another
        // bound, which may itself be quoted: `"a b".."c d"` is one word.
        while terminated {
            match self.peek() {
                Some(c) if !c.is_whitespace() => match self.quoted_bound_ahead() {
                    Some(form) => terminated = self.quoted_section(form),
                    None => {
                        self.bump();
                    }
                },
                _ => break,
            }
        }
        Word {
            text: self.slice(start),
            span: Span {
                start,
                end: self.pos,
            },
            form,
            terminated,
        }
    }

    /// Moves over a quoted section that starts here (opener, body, closing
    /// quote). Returns false when the cell ends before the quote closes.
    /// Does nothing for the unquoted forms.
    fn quoted_section(&mut self, form: Form) -> bool {
        let Some(quote) = form.quote() else {
            return true;
        };
        for _ in form.opener().chars() {
            self.bump();
        }
        while let Some(c) = self.bump() {
            if c == '\\' && quote == '"' {
                self.bump();
            } else if c == quote {
                return true;
            }
        }
        false
    }

    /// At `..` or `..=` followed by a quote: moves past the dots and
    /// returns the quoted form that follows. Otherwise moves nowhere.
    fn quoted_bound_ahead(&mut self) -> Option<Form> {
        let rest = self.rest();
        let after = rest
            .strip_prefix("..=")
            .or_else(|| rest.strip_prefix(".."))?;
        let form = Form::detect(after);
        form.quote()?;
        for _ in 0..rest.len() - after.len() {
            self.bump();
        }
        Some(form)
    }
}

/// The most characters of a word that a message quotes.
const SHOWN_WORD: usize = 40;

/// A word as a message quotes it: control characters escaped (`\0`,
/// `\u{1b}`), so none is invisible or drives the terminal, and a long word
/// cut short with `…`, so a 10 MB word makes a one-line message.
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == SHOWN_WORD {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_inline_space(c: char) -> bool {
    c != '\n' && c.is_whitespace()
}

/// What a word means as bytes, or a syntax error pointing into it.
pub(crate) fn decode(word: &Word<'_>) -> Result<Vec<u8>, Problem> {
    match word.form {
        Form::Bare => decode_bare(word),
        Form::Hex => decode_hex(word),
        Form::SingleQuoted => {
            let body = quoted_body(word)?;
            Ok(body.text.as_bytes().to_vec())
        }
        Form::DoubleQuoted | Form::ByteString => {
            let body = quoted_body(word)?;
            unescape(body.text, body.span.start)
        }
    }
}

/// A range word (`a..b`, `"a b"..='z'`, `..b`, `a..`, `..`) cut at its
/// dots. A bound is `None` when it is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RangeWord<'a> {
    pub lo: Option<Word<'a>>,
    pub hi: Option<Word<'a>>,
    /// `..=` rather than `..`.
    pub inclusive: bool,
    /// Where the dots are.
    pub dots: Span,
}

/// Cuts a word at the first `..` that is not inside quotes; `None` when
/// there is none. Each bound comes back as a word of its own, to decode
/// (or complete) like any other.
pub(crate) fn split_range<'a>(word: &Word<'a>) -> Option<RangeWord<'a>> {
    let text = word.text;
    // Where the lower bound ends: after its closing quote when it is
    // quoted, else at the first `..`.
    let form = Form::detect(text);
    let search_from = match form.quote() {
        Some(quote) => {
            let body = text.get(form.opener().len()..)?;
            form.opener().len() + closing_quote(body, quote)? + 1
        }
        None => 0,
    };
    let dots_at = search_from + text.get(search_from..)?.find("..")?;
    let lo_text = text.get(..dots_at)?;
    let inclusive = text.get(dots_at + 2..)?.starts_with('=');
    let hi_at = dots_at + if inclusive { 3 } else { 2 };
    let hi_text = text.get(hi_at..)?;
    let at = |byte: usize| word.span.start.advance_str(text.get(..byte).unwrap_or(""));
    let part = |from: usize, part_text: &'a str| -> Option<Word<'a>> {
        if part_text.is_empty() {
            return None;
        }
        let form = Form::detect(part_text);
        let terminated = match form.quote() {
            Some(quote) => part_text
                .get(form.opener().len()..)
                .and_then(|body| closing_quote(body, quote))
                .is_some(),
            None => true,
        };
        Some(Word {
            text: part_text,
            span: Span {
                start: at(from),
                end: at(from + part_text.len()),
            },
            form,
            terminated,
        })
    };
    Some(RangeWord {
        lo: part(0, lo_text),
        hi: part(hi_at, hi_text),
        inclusive,
        dots: Span {
            start: at(dots_at),
            end: at(hi_at),
        },
    })
}

/// The byte offset of the quote that closes `body` (the text after an
/// opener), skipping backslash escapes in double quotes.
fn closing_quote(body: &str, quote: char) -> Option<usize> {
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' && quote == '"' {
            chars.next();
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

fn decode_bare(word: &Word<'_>) -> Result<Vec<u8>, Problem> {
    let mut pos = word.span.start;
    for c in word.text.chars() {
        if c == '"' || c == '\'' {
            let suggestion = if word.text.contains('\'') {
                format!("{:?}", word.text)
            } else {
                format!("'{}'", word.text)
            };
            let suggestion = shown(&suggestion);
            return Err(Problem::new(
                ErrorKind::Syntax,
                one_char(pos, c),
                "A quote can only start a word, not appear inside one; quote the whole word instead.",
            )
            .help(format!("write it as {suggestion}")));
        }
        pos = pos.advance(c);
    }
    Ok(word.text.as_bytes().to_vec())
}

fn decode_hex(word: &Word<'_>) -> Result<Vec<u8>, Problem> {
    let digits = word.after_opener();
    let mut pos = word.span.start.advance_str(word.form.opener());
    for c in digits.chars() {
        if !c.is_ascii_hexdigit() {
            return Err(Problem::new(
                ErrorKind::Syntax,
                one_char(pos, c),
                format!(
                    "`{}` is not a hex digit; after 0x write pairs of 0-9 or a-f, or quote the word to mean the text itself.",
                    c.escape_debug()
                ),
            )
            .expected("hex digits 0-9, a-f")
            .help(format!(
                "for the text itself write {}",
                shown(&format!("{:?}", word.text))
            )));
        }
        pos = pos.advance(c);
    }
    if digits.len() % 2 == 1 {
        return Err(Problem::new(
            ErrorKind::Syntax,
            word.span,
            format!(
                "`{}` has an odd number of hex digits; each byte takes two, so pad it like {}.",
                shown(word.text),
                shown(&format!("0x0{digits}"))
            ),
        )
        .expected("an even number of hex digits"));
    }
    hex::decode(digits).map_err(|e| {
        Problem::new(
            ErrorKind::Syntax,
            word.span,
            format!("`{}` is not valid hex ({e}).", shown(word.text)),
        )
    })
}

/// The inside of a quoted word, checking the quote was closed and nothing
/// is glued after it.
fn quoted_body<'a>(word: &Word<'a>) -> Result<Text<'a>, Problem> {
    let Some(quote) = word.form.quote() else {
        return Ok(Text {
            text: word.text,
            span: word.span,
        });
    };
    let opener = word.form.opener();
    let body_start = word.span.start.advance_str(opener);
    if !word.terminated {
        let open_span = Span {
            start: word.span.start,
            end: body_start,
        };
        return Err(Problem::new(
            ErrorKind::Syntax,
            open_span,
            format!("This string is never closed; add a closing {quote} where it should end."),
        )
        .expected(format!("a closing {quote} before the end of the cell")));
    }
    let inside = word.after_opener();
    let mut pos = body_start;
    let mut chars = inside.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            let text = inside.get(..i).unwrap_or("");
            let after_quote = pos.advance(c);
            if after_quote.byte < word.span.end.byte {
                let tail = Span {
                    start: after_quote,
                    end: word.span.end,
                };
                return Err(Problem::new(
                    ErrorKind::Syntax,
                    tail,
                    "Text is glued to a closing quote; put a space between arguments or move the text inside the quotes.",
                )
                .expected("a space or the end of the line after the closing quote"));
            }
            return Ok(Text {
                text,
                span: Span {
                    start: body_start,
                    end: pos,
                },
            });
        }
        pos = pos.advance(c);
        if c == '\\' && quote == '"' {
            if let Some((_, escaped)) = chars.next() {
                pos = pos.advance(escaped);
            }
        }
    }
    // The scanner said the quote was closed, so this is not reached; answer
    // with the unclosed-quote error rather than panic.
    Err(Problem::new(
        ErrorKind::Syntax,
        word.span,
        format!("This string is never closed; add a closing {quote} where it should end."),
    ))
}

const ESCAPES: &str = r#"one of \n \t \r \0 \\ \" \' \xNN \u{NNNN}"#;

/// Decodes the inside of a double-quoted or byte string. `start` is where
/// `body` begins in the cell, for error positions.
pub(crate) fn unescape(body: &str, start: Pos) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    let mut pos = start;
    let mut buf = [0u8; 4];
    while let Some(c) = chars.next() {
        let here = pos;
        pos = pos.advance(c);
        if c != '\\' {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some(e) = chars.next() else {
            return Err(Problem::new(
                ErrorKind::Syntax,
                Span { start: here, end: pos },
                r"A backslash at the end starts an escape with nothing after it; write \\ for a backslash.",
            )
            .expected(ESCAPES));
        };
        pos = pos.advance(e);
        match e {
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            '0' => out.push(0),
            '\\' => out.push(b'\\'),
            '"' => out.push(b'"'),
            '\'' => out.push(b'\''),
            'x' => {
                let mut value = 0u8;
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(16).map(|v| (*d, v))) {
                        Some((d, v)) => {
                            chars.next();
                            pos = pos.advance(d);
                            // v < 16, so this fits in a byte.
                            value = value * 16 + v as u8;
                        }
                        None => {
                            return Err(Problem::new(
                                ErrorKind::Syntax,
                                Span { start: here, end: pos },
                                r"\x must be followed by exactly two hex digits, like \x0a or \xff.",
                            )
                            .expected("two hex digits after \\x"));
                        }
                    }
                }
                out.push(value);
            }
            'u' => {
                let ch = unicode_escape(&mut chars, here, &mut pos)?;
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => {
                return Err(Problem::new(
                    ErrorKind::Syntax,
                    Span {
                        start: here,
                        end: pos,
                    },
                    format!(
                        r"`\{}` is not an escape; write \\ for a backslash.",
                        other.escape_debug()
                    ),
                )
                .expected(ESCAPES));
            }
        }
    }
    Ok(out)
}

/// The `{NNNN}` part of a `\u{NNNN}` escape.
fn unicode_escape(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    here: Pos,
    pos: &mut Pos,
) -> Result<char, Problem> {
    let bad = |end: Pos, message: &str| {
        Problem::new(ErrorKind::Syntax, Span { start: here, end }, message)
            .expected(r"\u{...} with 1 to 6 hex digits, like \u{e9}")
    };
    if chars.peek() != Some(&'{') {
        return Err(bad(
            *pos,
            r"\u needs its code point in braces, like \u{e9}.",
        ));
    }
    chars.next();
    *pos = pos.advance('{');
    let mut digits = String::new();
    loop {
        match chars.next() {
            Some('}') => {
                *pos = pos.advance('}');
                break;
            }
            Some(d) if d.is_ascii_hexdigit() && digits.len() < 6 => {
                *pos = pos.advance(d);
                digits.push(d);
            }
            _ => {
                return Err(bad(
                    *pos,
                    r"\u{...} takes 1 to 6 hex digits and a closing brace, like \u{1f600}.",
                ))
            }
        }
    }
    u32::from_str_radix(&digits, 16)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| {
            bad(
                *pos,
                &format!(r"\u{{{digits}}} is not a Unicode character (surrogates and values above 10FFFF are not)."),
            )
        })
}

fn one_char(pos: Pos, c: char) -> Span {
    Span {
        start: pos,
        end: pos.advance(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<Word<'_>> {
        let mut scanner = Scanner::new(src);
        let mut out = Vec::new();
        while scanner.start_statement() {
            while let Some(w) = scanner.next_word() {
                out.push(w);
            }
        }
        out
    }

    fn one(src: &str) -> Word<'_> {
        let all = words(src);
        assert_eq!(all.len(), 1, "expected one word in {src:?}, got {all:?}");
        all[0]
    }

    fn bytes(src: &str) -> Vec<u8> {
        decode(&one(src)).unwrap_or_else(|e| panic!("{src:?} failed: {e:?}"))
    }

    fn error(src: &str) -> Problem {
        match decode(&one(src)) {
            Ok(b) => panic!("{src:?} decoded to {b:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bare_words_split_on_whitespace() {
        let w = words("insert  todo:001\tbuy");
        let texts: Vec<_> = w.iter().map(|w| w.text).collect();
        assert_eq!(texts, ["insert", "todo:001", "buy"]);
        assert_eq!(w[1].span.start.col, 8);
        assert_eq!(w[2].span.start.col, 17);
        assert!(w.iter().all(|w| w.form == Form::Bare));
    }

    #[test]
    fn columns_count_code_points_not_bytes() {
        let w = words("échò héllo wörld");
        assert_eq!(w[1].span.start.col, 5);
        assert_eq!(w[1].span.start.byte, 7);
        assert_eq!(w[2].span.start.col, 11);
        assert_eq!(w[2].span.end.offset, 16);
    }

    #[test]
    fn bare_word_is_its_utf8_bytes() {
        assert_eq!(bytes("héllo"), "héllo".as_bytes());
        assert_eq!(bytes(r"C:\dir"), br"C:\dir");
    }

    #[test]
    fn double_quoted_escapes() {
        assert_eq!(bytes(r#""buy boots""#), b"buy boots");
        assert_eq!(bytes(r#""a\nb\tc\rd\0e""#), b"a\nb\tc\rd\0e");
        assert_eq!(bytes(r#""\\ \" \'""#), b"\\ \" '");
        assert_eq!(bytes(r#""\x00\xff\x7F""#), [0x00, 0xff, 0x7f]);
        assert_eq!(bytes(r#""caf\u{e9} \u{1F600}""#), "café 😀".as_bytes());
        assert_eq!(bytes(r#""""#), b"");
    }

    #[test]
    fn byte_string_uses_the_same_escapes() {
        assert_eq!(bytes(r#"b"\x00\xff""#), [0x00, 0xff]);
        assert_eq!(bytes(r#"b"a b""#), b"a b");
        assert_eq!(one(r#"b"x""#).form, Form::ByteString);
    }

    #[test]
    fn single_quoted_is_literal() {
        assert_eq!(bytes(r"'C:\new\x00'"), br"C:\new\x00");
        assert_eq!(bytes(r#"'say "hi"'"#), br#"say "hi""#);
        assert_eq!(one("'a b'").form, Form::SingleQuoted);
    }

    #[test]
    fn hex_words() {
        assert_eq!(bytes("0x00ff"), [0x00, 0xff]);
        assert_eq!(bytes("0xDEADbeef"), [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(bytes("0x"), b"");
        assert_eq!(one("0x1234").form, Form::Hex);
    }

    #[test]
    fn quoted_words_keep_whitespace_and_may_span_lines() {
        let w = words("insert k \"two\nlines\" next");
        assert_eq!(w.len(), 4);
        assert_eq!(decode(&w[2]).unwrap(), b"two\nlines");
        assert_eq!(w[3].span.start.line, 1);
        assert_eq!(w[3].span.start.col, 7);
    }

    #[test]
    fn escaped_quote_does_not_close_the_string() {
        let w = one(r#""a\"b c""#);
        assert!(w.terminated);
        assert_eq!(decode(&w).unwrap(), b"a\"b c");
    }

    #[test]
    fn unclosed_quote_is_unterminated_and_points_at_the_opener() {
        let w = words("get \"todo");
        assert!(!w[1].terminated);
        let e = decode(&w[1]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.span.start.col, 4);
        assert!(e.message.contains("never closed"), "{}", e.message);

        let e = error("b'x");
        assert_eq!(e.span.start.col, 1, "the quote inside the bare word b'x");
        let w = one("b\"x");
        assert!(!w.terminated);
        let e = decode(&w).unwrap_err();
        assert_eq!((e.span.start.col, e.span.end.col), (0, 2));
    }

    #[test]
    fn bad_escapes_point_at_the_backslash() {
        let e = error(r#""ab\qc""#);
        assert_eq!(e.span.start.col, 3);
        assert!(e.message.contains(r"`\q`"), "{}", e.message);

        let e = error(r#""\xZ1""#);
        assert_eq!(e.span.start.col, 1);
        assert!(e.message.contains("two hex digits"));

        let e = error(r#""a\u{110000}""#);
        assert_eq!(e.span.start.col, 2);
        assert!(e.message.contains("not a Unicode character"));

        let e = error(r#""\u{d800}""#);
        assert!(e.message.contains("not a Unicode character"));

        let e = error(r#""\u00e9""#);
        assert!(e.message.contains("braces"));

        let e = error(r#""\u{1234567}""#);
        assert!(e.message.contains("1 to 6"));
    }

    #[test]
    fn bad_escape_on_a_later_line_of_a_string() {
        let w = words("insert k \"line one\nli\\ne \\q\"");
        let e = decode(&w[2]).unwrap_err();
        assert_eq!((e.span.start.line, e.span.start.col), (1, 6));
    }

    #[test]
    fn bad_hex_points_at_the_digit() {
        let e = error("0x0g");
        assert_eq!(e.span.start.col, 3);
        assert!(e.message.contains("`g` is not a hex digit"));
        let e = error("0xabc");
        assert!(e.message.contains("odd number"));
        assert_eq!((e.span.start.col, e.span.end.col), (0, 5));
    }

    #[test]
    fn quote_inside_bare_word_is_an_error_with_a_fix() {
        let e = error("don't");
        assert_eq!(e.span.start.col, 3);
        assert!(
            e.notes.iter().any(|n| n.contains(r#""don't""#)),
            "{:?}",
            e.notes
        );
        let e = error(r#"say"hi""#);
        assert!(
            e.notes.iter().any(|n| n.contains(r#"'say"hi"'"#)),
            "{:?}",
            e.notes
        );
    }

    #[test]
    fn text_glued_after_closing_quote_is_an_error() {
        let e = error(r#""abc"def"#);
        assert_eq!((e.span.start.col, e.span.end.col), (5, 8));
        assert!(e.message.contains("glued"));
    }

    #[test]
    fn messages_quote_words_short_and_with_control_characters_escaped() {
        assert_eq!(shown("get"), "get");
        assert_eq!(shown("a\0b\x1b[2J\r"), "a\\0b\\u{1b}[2J\\r");
        assert_eq!(shown(&"é".repeat(41)), format!("{}…", "é".repeat(40)));
        assert_eq!(shown(&"x".repeat(40)), "x".repeat(40));
        let e = error(&format!("0x{}", "a".repeat(10_000_001)));
        assert!(e.message.len() < 200, "{}", e.message);
        assert!(e
            .message
            .starts_with(&format!("`0x{}…` has an odd number", "a".repeat(38))));
        let e = error(&format!("{}\"", "b".repeat(10_000_000)));
        assert!(e.notes.iter().all(|n| n.len() < 200), "{:?}", e.notes);
    }

    #[test]
    fn comment_lines_and_blank_lines_are_skipped() {
        let w = words("# a comment with \"quote\n\n   # indented\nget k # a trailing comment");
        let texts: Vec<_> = w.iter().map(|w| w.text).collect();
        assert_eq!(texts, ["get", "k"], "a # that starts a word ends the line");
        assert_eq!(w[0].span.start.line, 3);
    }

    #[test]
    fn rest_of_line_is_verbatim_after_one_space() {
        let mut s = Scanner::new("echo  two spaces \"kept\"\r\nnext");
        assert!(s.start_statement());
        assert_eq!(s.next_word().map(|w| w.text), Some("echo"));
        let t = s.rest_of_line();
        assert_eq!(t.text, " two spaces \"kept\"");
        assert_eq!(t.span.start.col, 5);
        assert!(s.start_statement());
        assert_eq!(s.next_word().map(|w| w.text), Some("next"));
    }

    #[test]
    fn a_range_with_quoted_bounds_is_one_word() {
        let w = words(r#"range "a b".."c d" rev"#);
        let texts: Vec<_> = w.iter().map(|w| w.text).collect();
        assert_eq!(texts, ["range", r#""a b".."c d""#, "rev"]);
        assert!(w[1].terminated);
        let w = words(r#"range a..='c d' x"#);
        assert_eq!(w[1].text, "a..='c d'");
        let w = words("range a..\"open");
        assert!(!w[1].terminated, "the second bound's quote is open");
        // Outside ranges nothing changes: a quote inside a bare word is
        // still that word's problem, not the start of a new one.
        let w = words("insert don't stop");
        let texts: Vec<_> = w.iter().map(|w| w.text).collect();
        assert_eq!(texts, ["insert", "don't", "stop"]);
    }

    #[test]
    fn split_range_gives_each_bound_its_own_span() {
        let w = one(r#""a b"..=c"#);
        let r = split_range(&w).unwrap();
        let lo = r.lo.unwrap();
        assert_eq!(
            (lo.text, lo.form, lo.span.start.col, lo.span.end.col),
            (r#""a b""#, Form::DoubleQuoted, 0, 5)
        );
        assert!(r.inclusive);
        assert_eq!((r.dots.start.col, r.dots.end.col), (5, 8));
        let hi = r.hi.unwrap();
        assert_eq!((hi.text, hi.span.start.col), ("c", 8));
        let r = split_range(&one("..")).unwrap();
        assert!(r.lo.is_none() && r.hi.is_none() && !r.inclusive);
        let r = split_range(&one("0x00..")).unwrap();
        assert_eq!(r.lo.map(|w| w.form), Some(Form::Hex));
        assert!(split_range(&one("todo:")).is_none());
        assert!(
            split_range(&one(r#""a..b""#)).is_none(),
            "dots inside quotes"
        );
        let r = split_range(&one("x..'y")).unwrap();
        assert!(!r.hi.unwrap().terminated);
    }

    #[test]
    fn lone_backslash_at_end_of_body() {
        let e = unescape("ab\\", Pos::default()).unwrap_err();
        assert_eq!(e.span.start.col, 2);
    }

    #[test]
    fn pos_advance_str_tracks_lines() {
        let p = Pos::default().advance_str("ab\ncdé");
        assert_eq!((p.line, p.col, p.offset, p.byte), (1, 3, 6, 7));
    }
}
