//! `%crash`: the kernel kills its own process while a database opened with
//! `%open` holds a write no flush covered; a new kernel opens the directory
//! and finds what the flush covered.

use crate::common::{stdout, Kernel};
use serde_json::{json, Value};
use std::time::Duration;

const CELL_LIMIT: Duration = Duration::from_secs(60);

fn ok(kernel: &Kernel, code: &str) -> String {
    let (reply, iopub) = kernel.execute_within(code, CELL_LIMIT);
    assert_eq!(reply["status"], "ok", "{code}: {reply}");
    stdout(&iopub)
}

#[test]
fn crash_kills_the_kernel_and_a_new_one_finds_what_was_flushed() {
    let place = tempfile::tempdir().unwrap();
    let db = place.path().join("crash-demo");
    let mut kernel = Kernel::start();
    ok(&kernel, &format!("%open {}", db.display()));
    ok(
        &kernel,
        "insert diary:101 \"kept: a flush covered it\"\nflush",
    );

    let id = kernel.request(
        &kernel.shell,
        "execute_request",
        json!({ "code": "insert diary:102 \"no flush covered it\"\n%crash" }),
    );
    let status = kernel.wait_exit(Duration::from_secs(30));
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    }
    #[cfg(windows)]
    assert_eq!(
        status.code(),
        Some(sled_kernel::platform::KILLED_EXIT_CODE as i32),
        "ended by TerminateProcess: {status:?}"
    );
    assert!(!status.success());
    assert!(
        kernel
            .recv_on(&kernel.shell, Duration::from_millis(200))
            .is_none(),
        "a killed kernel sends no execute_reply to {id}"
    );
    assert!(db.join("db").exists(), "the database's files stay behind");

    let kernel = Kernel::start();
    let out = ok(&kernel, &format!("%open {}", db.display()));
    assert!(out.contains("(recovered from its files)"), "{out}");
    let out = ok(&kernel, "get diary:101\necho end");
    assert!(
        out.starts_with("get diary:101 -> \"kept: a flush covered it\"\n"),
        "{out}"
    );
    // diary:102 may or may not be there: sled's background flusher may
    // have written it before the kill. Whatever is there is whole.
    let (reply, iopub) = kernel.execute_within("get diary:102\necho end", CELL_LIMIT);
    assert_eq!(reply["status"], "ok");
    let out = stdout(&iopub);
    assert!(
        out.starts_with("get diary:102 -> \"no flush covered it\"\n")
            || out.starts_with("get diary:102 -> <missing>\n"),
        "{out}"
    );
}

#[test]
fn crash_on_the_temporary_database_refuses_and_the_kernel_lives_on() {
    let kernel = Kernel::start();
    let (reply, _) = kernel.execute_within("insert a 1\n%crash", CELL_LIMIT);
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["ename"], "Unsupported");
    let evalue = reply["evalue"].as_str().unwrap_or_default();
    assert!(evalue.contains("`%open`"), "{evalue}");
    let out = ok(&kernel, "get a\necho alive");
    assert_eq!(out, "get a -> \"1\"\nalive\n");
}

#[test]
fn crash_copy_of_the_temporary_database_loses_exactly_the_unflushed_writes() {
    let kernel = Kernel::start();
    ok(&kernel, "insert flushed yes\nflush\ninsert unflushed yes");
    let (reply, iopub) = kernel.execute_within("%crash_copy\nkeys", CELL_LIMIT);
    assert_eq!(reply["status"], "ok", "{reply}");
    assert_eq!(
        stdout(&iopub),
        "%crash_copy: copied the database's files as they are on disk now, without a flush: what a crash at this instant would leave\n\
         now using the copy: was_recovered = true, 1 key in the default tree\n\
         the temporary database it was copied from is closed and deleted\n"
    );
    let result: Vec<&Value> = iopub
        .iter()
        .filter(|m| m.header.msg_type == "execute_result")
        .map(|m| &m.content["data"]["text/plain"])
        .collect();
    assert_eq!(result, [&json!("  flushed")]);
}
