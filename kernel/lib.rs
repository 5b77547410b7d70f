//! sled-kernel: a Jupyter kernel whose cells are commands against an embedded
//! sled key-value store.
//!
//! The code reads in one direction, outside in:
//!
//! * [`connection`]: the connection file a frontend hands us.
//! * [`wire`]: zmq multipart frames, `<IDS|MSG>`, HMAC signatures.
//! * [`message`]: typed headers and the content of every message we speak.
//! * [`sockets`] and [`handlers`]: the five channels and what each request
//!   does; [`handlers::lifecycle`] starts the kernel and stops it.
//! * [`engine`]: which engine a request's code goes to, decided once; the
//!   types both engines answer with are in [`cell`].
//! * [`interpreter`]: parse a KV cell, run it against the session database,
//!   show the result as a mime bundle.
//! * [`rust_cells`]: `%%rust` cells, evaluated by evcxr on the same database.
//! * `session_dirs`: the session's temporary directories (the database's,
//!   the Rust build's) and the pid files that let a later kernel sweep them.
//! * [`kernelspec`]: `sled-kernel install` / `uninstall`.
//! * [`lessons`]: `sled-kernel lessons`, the lessons built into the program,
//!   written out for a student or a teacher.
//! * [`platform`]: everything that depends on the operating system (signals,
//!   processes, locks, file modes), for all of the above.

pub mod cell;
pub mod connection;
pub mod engine;
pub mod handlers;
pub mod interpreter;
pub mod kernelspec;
pub mod lessons;
pub mod message;
pub mod platform;
pub mod rust_cells;
mod session_dirs;
pub mod sockets;
pub mod wire;

/// With Rust cells on Linux, jemalloc: the Rust context gets an arena of
/// its own that is given back after each cell (`rust_cells/memory.rs`).
#[cfg(all(feature = "rust-cells", target_os = "linux"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
