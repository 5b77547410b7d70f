//! zeromq-src 0.3 under zeromq-src 0.2's name: see this crate's Cargo.toml.

pub use upstream::*;
