//! The lines commands print, built from what `running/` found, one module
//! per module there that prints: `running/` decides what happened, these
//! decide the words a student reads. (Answers, rows and pictures are in
//! `render`, `draw`, `log` and `timings` beside this folder.)

pub(crate) mod blocks;
pub(crate) mod files;
pub(crate) mod kv;
