//! Places in a cell: where a word, a statement or a mistake is. The lexer
//! makes them and errors point with them.

/// A place in the cell. `line` and `col` are 0-based; `col` and `offset`
/// count code points (what Jupyter's `cursor_pos` counts), `byte` is for
/// slicing the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub line: usize,
    pub col: usize,
    pub offset: usize,
    pub byte: usize,
}

impl Pos {
    /// The position just after `c`, when `c` starts at `self`.
    pub(crate) fn advance(self, c: char) -> Pos {
        if c == '\n' {
            Pos {
                line: self.line + 1,
                col: 0,
                offset: self.offset + 1,
                byte: self.byte + 1,
            }
        } else {
            Pos {
                line: self.line,
                col: self.col + 1,
                offset: self.offset + 1,
                byte: self.byte + c.len_utf8(),
            }
        }
    }

    /// The position after walking over all of `text`.
    pub(crate) fn advance_str(self, text: &str) -> Pos {
        text.chars().fold(self, Pos::advance)
    }
}

/// A stretch of the cell, `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    /// An empty span, used to point just after something (a missing argument).
    pub(crate) fn at(pos: Pos) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }
}
