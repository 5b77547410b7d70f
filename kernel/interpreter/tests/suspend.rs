//! Letting go of the database for the Rust cells, and cleaning up after
//! kernels that died.

use super::*;

#[test]
fn suspend_keeps_the_session_and_the_next_cell_reopens() {
    let mut interp = interpreter();
    run(
        &mut interp,
        "use users\ninsert alice admin\n%limit 1\ninsert bob x",
    );
    let path = interp.db_path().to_path_buf();
    assert!(!interp.is_suspended());
    interp.suspend().unwrap();
    assert!(interp.is_suspended());
    assert_eq!(interp.db_path(), path, "same directory");
    interp.suspend().unwrap();

    // What the Rust cells would do in between: open, write, let go.
    let db = sled::open(&path).unwrap();
    db.open_tree("users")
        .unwrap()
        .insert("carol", "from rust")
        .unwrap();
    db.flush().unwrap();
    drop(db);

    // Completion and inspection do not reopen it.
    assert!(interp.complete("get a", 5).matches.is_empty());
    assert!(interp.inspect("get alice", 5, 0).is_none());
    assert!(interp.is_suspended());
    // Lines that need no database leave it closed.
    let (out, _) = run(&mut interp, "echo hello\n%help get");
    assert_eq!(out.stdout(), "hello\n");
    assert!(interp.is_suspended());

    let (_, result) = run(&mut interp, "keys");
    assert!(!interp.is_suspended());
    assert_eq!(
        plain(&result.unwrap()),
        "[users] keys:\n  alice\n  … 2 more",
        "same tree, same %limit, and what the Rust side wrote"
    );
    assert_eq!(interp.complete("get c", 5).matches, ["carol"]);
}

#[test]
fn a_database_still_held_is_a_database_locked_error_and_nothing_is_lost() {
    let mut interp = interpreter();
    run(&mut interp, "use users\ninsert alice admin");
    interp.suspend().unwrap();
    let held = sled::open(interp.db_path()).unwrap();

    let (out, e) = fail(&mut interp, "echo before\nget alice\necho after");
    assert_eq!(out.stdout(), "before\n");
    assert_eq!(e.ename, "DatabaseLocked");
    assert!(
        e.evalue
            .starts_with("The Rust cells still hold the database at "),
        "{}",
        e.evalue
    );
    assert!(
        e.evalue.contains("`drop(db)`") && e.evalue.contains("`%rust reset`"),
        "{}",
        e.evalue
    );
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 2, column 1");
    assert!(
        interp.is_suspended(),
        "still let go; the next cell tries again"
    );

    drop(held);
    let (_, result) = run(&mut interp, "get alice");
    assert_eq!(plain(&result.unwrap()), "[users] get alice -> \"admin\"");
}

#[test]
fn a_fresh_interpreter_sweeps_directories_of_dead_kernels_only() {
    let dead = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    let temp = std::env::temp_dir();
    let make = |pid: Option<u32>| {
        let dir = tempfile::Builder::new()
            .prefix("sled-kernel-fake-")
            .tempdir_in(&temp)
            .unwrap()
            .keep();
        std::fs::write(dir.join("db"), b"old data").unwrap();
        if let Some(pid) = pid {
            std::fs::write(dir.join("owner.pid"), format!("{pid}\n")).unwrap();
        }
        dir
    };
    let orphan = make(Some(dead));
    let alive = make(Some(std::process::id()));
    let unmarked = make(None);
    let interp = interpreter();
    if cfg!(target_os = "linux") {
        assert!(!orphan.exists(), "the dead kernel's directory is swept");
    }
    assert!(alive.exists(), "a running kernel's directory stays");
    assert!(
        unmarked.exists(),
        "a directory without a pid file is never touched"
    );
    assert!(interp.db_path().join("owner.pid").exists());
    for dir in [orphan, alive, unmarked] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
