//! Showing what commands produced: printed lines, HTML tables, JSON,
//! pictures and progress bars, as Jupyter mime bundles. Nothing here reads
//! the database.
//!
//! * `render`: answers and rows as text, HTML and JSON;
//! * `draw`: the picture `%draw` shows;
//! * `help`: the `%help` and `%lsmagic` texts;
//! * `lines`: the lines commands print, one module per module of `running/`
//!   that prints;
//! * `progress`: bars of long work, updated in place;
//! * `timings`: the `%timings` table of what `%time` measured.

pub(super) mod draw;
pub(super) mod help;
pub(super) mod lines;
pub(super) mod log;
pub(super) mod progress;
pub(super) mod render;
pub(super) mod timings;
