//! Errors that teach: what went wrong, where (line, column, a caret under
//! the spot) and what was expected instead.
//!
//! Everything that can stop a cell becomes a [`Problem`] first; only at the
//! edge, with the cell's source at hand, is it turned into the protocol's
//! [`CellError`].

use super::span::Span;
use crate::cell::CellError;

/// The short `ename` a frontend shows in red.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// A word is malformed: a quote, an escape, hex digits.
    Syntax,
    /// The first word of a line is not a command.
    UnknownCommand,
    /// Too many or too few arguments, or one of the wrong kind.
    Argument,
    /// sled (or the filesystem under it) failed.
    Storage,
    /// The user pressed Interrupt.
    Interrupted,
    /// A value is not what the command needs (`incr` of text).
    Value,
    /// sled refuses the operation (dropping the default tree).
    Unsupported,
    /// Another handle or process holds the database.
    Locked,
    /// A file could not be read or written.
    File,
    /// A line of a `%load` file is not a pair.
    Load,
    /// `abort` rolled a transaction back.
    TransactionAborted,
    /// `expect` found another answer than the one expected.
    ExpectationFailed,
    /// A mistake in the kernel, not in the cell: the command table and the
    /// parser disagree about a command's arguments.
    Internal,
}

impl ErrorKind {
    pub(crate) fn ename(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "SyntaxError",
            ErrorKind::UnknownCommand => "UnknownCommand",
            ErrorKind::Argument => "ArgumentError",
            ErrorKind::Storage => "StorageError",
            ErrorKind::Interrupted => "Interrupted",
            ErrorKind::Value => "ValueError",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::Locked => "DatabaseLocked",
            ErrorKind::File => "FileError",
            ErrorKind::Load => "LoadError",
            ErrorKind::TransactionAborted => "TransactionAborted",
            ErrorKind::ExpectationFailed => "ExpectationFailed",
            ErrorKind::Internal => "InternalError",
        }
    }
}

/// A problem found at one place in the cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub kind: ErrorKind,
    pub span: Span,
    /// One sentence: what was wrong and how to fix it (the `evalue`).
    pub message: String,
    /// Lines shown under the caret: `expected: ...`, `help: ...`, `usage: ...`.
    pub notes: Vec<String>,
}

/// The most characters of a source line a traceback shows, and how many
/// of them come before the spot when the line is cut.
const SHOWN_LINE: usize = 120;
const SHOWN_BEFORE: usize = 40;

const RED: &str = "\x1b[1;31m";
const RESET: &str = "\x1b[0m";

impl Problem {
    pub(crate) fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Self {
        Problem {
            kind,
            span,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn expected(self, what: impl std::fmt::Display) -> Self {
        self.note(format!("expected: {what}"))
    }

    pub(crate) fn help(self, what: impl std::fmt::Display) -> Self {
        self.note(format!("help: {what}"))
    }

    pub(crate) fn usage(self, syntax: impl std::fmt::Display) -> Self {
        self.note(format!("usage: {syntax}"))
    }

    fn note(mut self, line: String) -> Self {
        self.notes.push(line);
        self
    }

    /// The protocol's error, with a traceback drawn from `source`:
    ///
    /// ```text
    /// UnknownCommand: `gte` is not a command; did you mean `get`?
    ///  --> line 2, column 1
    ///   |
    /// 2 | gte todo:002
    ///   | ^^^
    ///   = help: did you mean `get`?
    /// ```
    pub(crate) fn into_cell_error(self, source: &str) -> CellError {
        let traceback = self.traceback(source);
        CellError {
            ename: self.kind.ename().to_string(),
            evalue: self.message,
            traceback,
        }
    }

    fn traceback(&self, source: &str) -> Vec<String> {
        let start = self.span.start;
        let line_no = start.line + 1;
        // Control characters (a tab, say) would shift the caret; show each
        // as one space so columns still line up.
        let source_line = source
            .split('\n')
            .nth(start.line)
            .unwrap_or("")
            .trim_end_matches('\r');
        let line_len = source_line.chars().count();
        let end_col = if self.span.end.line == start.line {
            self.span.end.col
        } else {
            line_len
        };
        // A long line (a pasted 10 MB value) is shown only around the
        // spot, so the traceback stays a few lines a frontend can draw.
        let from = if line_len > SHOWN_LINE {
            start.col.saturating_sub(SHOWN_BEFORE).min(line_len)
        } else {
            0
        };
        let to = line_len.min(from + SHOWN_LINE);
        let mut line: String = source_line
            .chars()
            .skip(from)
            .take(to - from)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut caret_col = start.col - from;
        if from > 0 {
            line.insert(0, '…');
            caret_col += 1;
        }
        if to < line_len {
            line.push('…');
        }
        let carets = end_col
            .min(to.max(start.col + 1))
            .saturating_sub(start.col)
            .max(1);
        let gutter = " ".repeat(line_no.to_string().len());
        let mut lines = vec![
            format!("{RED}{}{RESET}: {}", self.kind.ename(), self.message),
            format!("{gutter}--> line {line_no}, column {}", start.col + 1),
            format!("{gutter} |"),
            format!("{line_no} | {line}"),
            format!(
                "{gutter} | {}{RED}{}{RESET}",
                " ".repeat(caret_col),
                "^".repeat(carets)
            ),
        ];
        lines.extend(self.notes.iter().map(|n| format!("{gutter} = {n}")));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::language::span::Pos;

    fn span(src: &str, from: usize, to: usize) -> Span {
        let pos_at = |n: usize| {
            src.chars()
                .take(n)
                .fold(Pos::default(), |p, c| p.advance(c))
        };
        Span {
            start: pos_at(from),
            end: pos_at(to),
        }
    }

    fn strip_ansi(s: &str) -> String {
        s.replace(RED, "").replace(RESET, "")
    }

    #[test]
    fn traceback_names_line_and_column_and_draws_a_caret() {
        let src = "insert a b\ngte todo:002";
        let err = Problem::new(
            ErrorKind::UnknownCommand,
            span(src, 11, 14),
            "not a command.",
        )
        .help("did you mean `get`?")
        .into_cell_error(src);
        assert_eq!(err.ename, "UnknownCommand");
        assert_eq!(err.evalue, "not a command.");
        let tb: Vec<String> = err.traceback.iter().map(|l| strip_ansi(l)).collect();
        assert_eq!(
            tb,
            [
                "UnknownCommand: not a command.",
                " --> line 2, column 1",
                "  |",
                "2 | gte todo:002",
                "  | ^^^",
                "  = help: did you mean `get`?",
            ]
        );
        assert!(err.traceback[0].starts_with(RED), "the name is red");
    }

    #[test]
    fn caret_column_counts_characters_and_tabs_stay_aligned() {
        let src = "echo héllo\n\tget \"x";
        let err =
            Problem::new(ErrorKind::Syntax, span(src, 16, 17), "unclosed.").into_cell_error(src);
        let tb: Vec<String> = err.traceback.iter().map(|l| strip_ansi(l)).collect();
        assert_eq!(tb[1], " --> line 2, column 6");
        assert_eq!(tb[3], "2 |  get \"x");
        assert_eq!(tb[4], "  |      ^");
    }

    #[test]
    fn empty_span_still_gets_one_caret_and_a_multiline_span_stops_at_line_end() {
        let src = "get";
        let err =
            Problem::new(ErrorKind::Argument, span(src, 3, 3), "missing.").into_cell_error(src);
        assert_eq!(strip_ansi(&err.traceback[4]), "  |    ^");

        let src = "insert k \"ab\ncd";
        let err = Problem::new(ErrorKind::Syntax, span(src, 9, 15), "x.").into_cell_error(src);
        assert_eq!(strip_ansi(&err.traceback[4]), "  |          ^^^");
    }

    #[test]
    fn a_long_line_is_shown_only_around_the_spot() {
        let src = format!("insert k {}\"{}", "x".repeat(1000), "y".repeat(10_000_000));
        let err = Problem::new(ErrorKind::Syntax, span(&src, 1009, 1010), "unclosed.")
            .into_cell_error(&src);
        let tb: Vec<String> = err.traceback.iter().map(|l| strip_ansi(l)).collect();
        assert_eq!(tb[1], " --> line 1, column 1010", "the real column");
        let shown = format!("…{}\"{}…", "x".repeat(40), "y".repeat(79));
        assert_eq!(tb[3], format!("1 | {shown}"));
        assert_eq!(tb[4], format!("  | {}^", " ".repeat(41)));
        assert!(tb.iter().all(|l| l.chars().count() < 200), "{tb:?}");

        // A span running past the cut gets carets only up to it.
        let src = format!("get {}", "z".repeat(500));
        let err = Problem::new(ErrorKind::Syntax, span(&src, 4, 504), "x.").into_cell_error(&src);
        let tb: Vec<String> = err.traceback.iter().map(|l| strip_ansi(l)).collect();
        assert_eq!(tb[3], format!("1 | get {}…", "z".repeat(116)));
        assert_eq!(tb[4], format!("  |     {}", "^".repeat(116)));

        // The end of a long line: the caret after its last character.
        let src = format!("get {}", "z".repeat(500));
        let err =
            Problem::new(ErrorKind::Argument, span(&src, 504, 504), "x.").into_cell_error(&src);
        let tb: Vec<String> = err.traceback.iter().map(|l| strip_ansi(l)).collect();
        assert_eq!(tb[3], format!("1 | …{}", "z".repeat(40)));
        assert_eq!(tb[4], format!("  | {}^", " ".repeat(41)));
    }

    #[test]
    fn wide_line_numbers_widen_the_gutter() {
        let src = "\n".repeat(11) + "x";
        let err = Problem::new(ErrorKind::Syntax, span(&src, 11, 12), "x.").into_cell_error(&src);
        let tb: Vec<String> = err.traceback.iter().map(|l| strip_ansi(l)).collect();
        assert_eq!(tb[1], "  --> line 12, column 1");
        assert_eq!(tb[3], "12 | x");
        assert_eq!(tb[4], "   | ^");
    }
}
