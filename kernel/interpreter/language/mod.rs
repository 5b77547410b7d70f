//! The cell language: from text to typed commands. Nothing here touches
//! sled or the session; it only reads the text of a cell.
//!
//! * `span`: places in a cell (line, column, code point and byte offsets);
//! * `lexer`: words and their spans, decoding quotes and escapes;
//! * `errors`: problems with a place, turned into the protocol's error;
//! * `command`: the table of commands (names, aliases, syntax, help);
//! * `args`: one argument word decoded into what its slot holds;
//! * `build`: a command's words checked against its row, decoded, and
//!   built into its `Command`;
//! * `parser`: statements of words, then typed `Command`s, with
//!   `batch … end` / `transaction … end` gathered into blocks;
//! * `syntax`: the tree the parser produces (`Item`, `Statement`,
//!   `Command`, `Block`, …), which `running/` runs.

pub(super) mod args;
pub(super) mod build;
pub(super) mod command;
pub(super) mod errors;
pub(super) mod lexer;
pub(super) mod parser;
pub(super) mod span;
pub(super) mod syntax;
