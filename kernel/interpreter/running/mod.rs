//! Running commands against the session's database. Each command produces
//! an `Effect` (what it printed or read); where that goes is decided above,
//! in the interpreter.
//!
//! * `context`: what every command runs with (`Ctx`) and gives back
//!   (`Effect`, `EvalError`);
//! * `dispatch`: which of the modules below runs which command;
//! * `kv`: the reads, writes, trees and database commands;
//! * `blocks`: `batch … end` and `transaction … end`;
//! * `files`: `%load` and `%dump`;
//! * `magics`: `%reset`, `%open`, `%info`, `%limit`, …;
//! * `expect`: graded checks;
//! * `draw`: which folders `%draw` pictures;
//! * `watch`: live tables of `watch_prefix`;
//! * `session`: the database itself, suspended and reopened;
//! * `owner`: pid files, sweeping dead kernels' directories, lock holders.

pub(super) mod blocks;
pub(super) mod context;
pub(super) mod dispatch;
pub(super) mod draw;
pub(super) mod expect;
pub(super) mod files;
pub(super) mod kv;
pub(super) mod magics;
pub(super) mod owner;
pub(super) mod session;
pub(super) mod watch;
