//! Letting go of the database for the Rust cells, and cleaning up after
//! kernels that died.

use super::*;
use crate::interpreter::showing::lines::failures::RUST_CELLS_HOLD_IT;

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
    let db = open_once_let_go(&path);
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

/// Runs `cell` against a suspended interpreter whose database is held
/// meanwhile by `hold`; the cell must fail with `DatabaseLocked` at line 2
/// and leave the session as it was.
fn locked_out(interp: &mut Interpreter, cell: &str) -> CellError {
    let (out, e) = fail(interp, cell);
    assert_eq!(out.stdout(), "before\n", "the line before ran");
    assert_eq!(e.ename, "DatabaseLocked");
    let tb: Vec<String> = e.traceback.iter().map(|l| strip_ansi(l)).collect();
    assert_eq!(tb[1], " --> line 2, column 1");
    assert!(
        interp.is_suspended(),
        "still let go; the next cell tries again"
    );
    e
}

#[test]
fn a_database_still_held_in_this_process_is_the_rust_cells_holding_it() {
    let mut interp = interpreter();
    run(&mut interp, "use users\ninsert alice admin");
    interp.suspend().unwrap();
    let held = open_once_let_go(interp.db_path());
    let e = locked_out(&mut interp, "echo before\nget alice\necho after");
    let expected = if cfg!(target_os = "linux") {
        RUST_CELLS_HOLD_IT
    } else {
        "Something still holds the session database"
    };
    assert!(e.evalue.starts_with(expected), "{}", e.evalue);
    assert!(
        !e.evalue.contains("/"),
        "no path in the evalue: {}",
        e.evalue
    );
    drop(held);
    let (_, result) = run(&mut interp, "get alice");
    assert_eq!(plain(&result.unwrap()), "[users] get alice -> \"admin\"");
}

/// Opens the database once this process's last handle has let go of its
/// lock: sled's writer threads may hold it for a moment after the session
/// dropped the `Db` (longer on a loaded machine).
fn open_once_let_go(path: &std::path::Path) -> sled::Db {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e)
                if Instant::now() < deadline
                    && e.to_string().contains("could not acquire lock") =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("opening the suspended database: {e}"),
        }
    }
}

/// Run as a child process by the test below (see there); does nothing
/// when run on its own.
#[test]
#[ignore = "a helper: run by a_database_held_by_a_child_process_is_the_rust_cells_holding_it"]
fn hold_a_database_until_killed() {
    let Some(dir) = std::env::var_os("SLED_KERNEL_TEST_HOLD") else {
        return;
    };
    let _db = open_once_let_go(std::path::Path::new(&dir));
    println!("holding");
    std::thread::sleep(Duration::from_secs(60));
}

/// evcxr runs Rust cells in a child of the kernel: a lock held by a child
/// is the Rust cells, with the same message, no pid, no path.
#[test]
#[cfg(target_os = "linux")]
fn a_database_held_by_a_child_process_is_the_rust_cells_holding_it() {
    use std::io::BufRead;
    let mut interp = interpreter();
    run(&mut interp, "insert k v");
    interp.suspend().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "interpreter::tests::suspend::hold_a_database_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env("SLED_KERNEL_TEST_HOLD", interp.db_path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let holding = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("holding"));
    assert!(holding, "the child took the lock");
    let e = locked_out(&mut interp, "echo before\nlen");
    assert_eq!(e.evalue, RUST_CELLS_HOLD_IT);
    assert!(e.traceback.iter().any(|l| l.contains("`%rust reset`")));
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, result) = run(&mut interp, "len");
    assert_eq!(plain(&result.unwrap()), "len -> 1");
}

#[test]
fn a_fresh_interpreter_sweeps_directories_of_dead_kernels_only() {
    let dead = crate::session_dirs::dead_pid();
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
    assert!(!orphan.exists(), "the dead kernel's directory is swept");
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
