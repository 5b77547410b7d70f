//! Running commands against the session's database. Each command produces
//! an `Effect` (what it printed or read); where that goes is decided above,
//! in the interpreter.
//!
//! * `context`: what every command runs with (`Ctx`) and gives back
//!   (`Effect`, `EvalError`);
//! * `dispatch`: which of the modules below runs which command;
//! * `kv`: the reads, writes, trees and database commands;
//! * `blocks`: `batch … end` and `transaction … end`;
//! * `files`: `%load`, `%dump` and `%sample_file`;
//! * `magics`: `%reset`, `%open`, `%info`, `%limit`, `%timings`, …;
//! * `crash`: `%crash`, `%crash_copy` and `%log`, what a crash keeps;
//! * `log_file`: reading sled's log file into records;
//! * `isolation`: `%transfers` and `%sum`, reads racing a writer;
//! * `transfers`: the writer thread `%transfers` starts;
//! * `written_by`: the record behind `%written_by`;
//! * `expect`: graded checks and a transaction's decisions;
//! * `draw`: which folders `%draw` pictures;
//! * `watch`: live tables of `watch_prefix`;
//! * `session`: the database itself, suspended and reopened;
//! * `lock_holder`: which process holds a database's lock (the session's
//!   directories and pid files are `crate::session_dirs`).

pub(super) mod blocks;
pub(super) mod context;
pub(super) mod crash;
pub(super) mod dispatch;
pub(super) mod draw;
pub(super) mod expect;
pub(super) mod files;
pub(super) mod isolation;
pub(super) mod kv;
pub(super) mod lock_holder;
pub(super) mod log_file;
pub(super) mod magics;
pub(super) mod session;
pub(super) mod transfers;
pub(super) mod watch;
pub(super) mod written_by;
