//! Rust cells: a cell whose first line is `%%rust` is Rust code, evaluated by
//! an `evcxr` context that lives for the session, next to the KV cells and
//! against the same sled database on disk.
//!
//! * [`Magic::parse`] (`magic.rs`) decides whether a cell belongs here:
//!   `%%rust` (Rust code), `%rust reset`, `%rust deps`, `%rust cache`,
//!   `%rust start` or `%rust stop`; [`Magic::is_complete`] whether it looks
//!   finished (`brackets.rs` reads a Rust cell's brackets).
//! * [`RustCells`] (`boundary.rs`) is the one boundary the kernel calls
//!   (`engine.rs` at the top of the crate, once per request), and
//!   [`InThisBuild`] the side that implements it in this build: `ahead.rs`
//!   holds the evcxr context (`engine.rs`), started by the first Rust cell
//!   or ahead of it, on a thread of its own, by `%rust start`. With the
//!   `rust-cells` cargo feature off, a stand-in (`not_built.rs`) takes its
//!   place and answers every Rust cell with an error naming the feature.
//!
//! The hand-off: sled lets one process hold a database at a time, and evcxr
//! runs Rust code in a child process. So before Rust code runs, the KV
//! interpreter flushes and closes its handle (the `take_db` that
//! [`RustCells::run`] is given does that); the next KV cell reopens it, or
//! reports `DatabaseLocked` while Rust code still holds it.
//!
//! The Rust cache: crates the Rust cells compiled (sled above all) are kept
//! between kernels, in a directory several kernels may share; `cache.rs`
//! stores them, `wrapper.rs` is the rustc wrapper cargo runs, `cache_use.rs`
//! how a kernel uses and reports it, and `sled-kernel warm`
//! ([`RustCells::warm`], `warm.rs`) fills it before class.

#[cfg(all(feature = "rust-cells", windows))]
compile_error!(
    "Rust cells (the `rust-cells` feature, on by default) are not available on Windows: evcxr's \
     Windows support is incomplete. Build with --no-default-features; KV cells work in full."
);

#[cfg(feature = "rust-cells")]
mod ahead;
mod boundary;
mod brackets;
#[cfg(feature = "rust-cells")]
mod cache;
#[cfg(feature = "rust-cells")]
mod cache_use;
#[cfg(feature = "rust-cells")]
mod engine;
mod magic;
#[cfg(feature = "rust-cells")]
mod memory;
#[cfg(not(feature = "rust-cells"))]
mod not_built;
#[cfg(feature = "rust-cells")]
mod processes;
#[cfg(feature = "rust-cells")]
mod report;
#[cfg(feature = "rust-cells")]
mod warm;
#[cfg(feature = "rust-cells")]
mod wrapper;

pub use boundary::RustCells;
#[cfg(feature = "rust-cells")]
pub use cache::{DIR_ENV as CACHE_DIR_ENV, LIMIT_ENV as CACHE_LIMIT_ENV};
#[cfg(feature = "rust-cells")]
pub use cache_use::CACHE_MIME;
pub use magic::{CacheCommand, Magic, RustCode};

/// The Rust side of a session in this build: evcxr's context
/// (`engine.rs`), started by the first Rust cell or in the background by
/// `%rust start` (`ahead.rs`); without the `rust-cells` feature, the
/// stand-in (`not_built.rs`), which answers every Rust cell with an error
/// naming the feature.
#[cfg(feature = "rust-cells")]
pub use ahead::Ahead as InThisBuild;
#[cfg(not(feature = "rust-cells"))]
pub use not_built::NotBuilt as InThisBuild;

/// The sled the Rust context gets without a `:dep` line: the kernel's own.
pub const SLED_DEP: &str = "sled = \"0.34.7\"";
