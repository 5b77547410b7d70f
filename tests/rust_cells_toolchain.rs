//! A kernel whose PATH has no cargo or rustc: Rust cells say exactly that.
//! A test binary of its own, because it changes this process's PATH (which
//! the kernel inherits) and no other test may run meanwhile.

#![cfg(feature = "rust-cells")]

mod common;

use common::{types, Kernel};
use serde_json::json;

#[test]
fn without_cargo_on_path_a_rust_cell_says_so() {
    let empty = tempfile::tempdir().unwrap();
    std::env::set_var("PATH", empty.path());
    let kernel = Kernel::start();

    let (reply, iopub) = kernel.execute("%%rust\nprintln!(\"hi\");");
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "RustToolchainMissing");
    let evalue = reply.content["evalue"].as_str().unwrap();
    assert!(
        evalue.starts_with("`cargo` and `rustc` are not on PATH"),
        "{evalue}"
    );
    let traceback = reply.content["traceback"].to_string();
    assert!(traceback.contains("rustup"), "{traceback}");
    assert!(
        traceback.contains(&empty.path().display().to_string()),
        "the traceback should show the PATH it searched: {traceback}"
    );
    // Only the error: no status line, since nothing started.
    assert_eq!(
        types(&iopub),
        ["status", "execute_input", "error", "status"]
    );

    // The database was handed over and comes back for the next KV cell.
    let (reply, iopub) = kernel.execute("get k");
    assert_eq!(reply.content["status"], "ok", "{}", reply.content);
    let result = iopub
        .iter()
        .find(|m| m.header.msg_type == "execute_result")
        .expect("an execute_result");
    assert_eq!(
        result.content["data"]["text/plain"],
        json!("get k -> <missing>")
    );
}
