//! Showing what commands produced: printed lines, HTML tables, JSON,
//! pictures and progress bars, as Jupyter mime bundles. Nothing here reads
//! the database.
//!
//! * `render`: answers and rows as text, HTML and JSON;
//! * `draw`: the picture `%draw` shows;
//! * `help`: the `%help` and `%lsmagic` texts;
//! * `progress`: bars of long work, updated in place.

pub(super) mod draw;
pub(super) mod help;
pub(super) mod progress;
pub(super) mod render;
