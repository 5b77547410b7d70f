//! The Rust integration tests: the built `sled-kernel` binary driven over
//! real zmq sockets by a small frontend (`common`). One test binary, one
//! module per subject, so it links once; run one subject with
//! `cargo test --test integration protocol::`.

mod common;
mod crash;
mod fuzz_corpus;
mod hostile;
mod language;
mod persistence;
mod protocol;
mod reliability;
#[cfg(feature = "rust-cells")]
mod rust_cells;
mod strict_client;
#[cfg(windows)]
mod windows;
