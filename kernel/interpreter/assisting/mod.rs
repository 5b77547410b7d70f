//! Helping while a cell is typed: Tab (`complete`) and Shift+Tab
//! (`inspect`). Both read the language and, for keys and trees, the
//! session; neither runs anything.

pub(super) mod complete;
pub(super) mod inspect;
