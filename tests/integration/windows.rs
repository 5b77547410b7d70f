//! The Windows side of the kernel, end to end (on Linux: under wine): the
//! interrupt event and the parent handle that jupyter_client passes on
//! Windows, and a connection file asking for the ipc transport, which
//! Windows builds do not have. `%crash` on Windows is in `crash.rs`.

use crate::common::Kernel;
use serde_json::json;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{DuplicateHandle, DUPLICATE_SAME_ACCESS, HANDLE};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::System::Threading::{CreateEventW, GetCurrentProcess, SetEvent};

/// An inheritable auto-reset event, unset, as jupyter_client's
/// `create_interrupt_event` makes it.
fn inheritable_event() -> OwnedHandle {
    let inherit = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: std::ptr::null_mut(),
        bInheritHandle: 1,
    };
    // SAFETY: a new unnamed event; the attributes outlive the call.
    let event = unsafe { CreateEventW(&inherit, 0, 0, std::ptr::null()) };
    assert!(!event.is_null(), "{}", std::io::Error::last_os_error());
    // SAFETY: just created, owned by nobody else.
    unsafe { OwnedHandle::from_raw_handle(event) }
}

/// An inheritable copy of a handle, as jupyter_client hands its own
/// process to the kernel (`DuplicateHandle(..., True, DUPLICATE_SAME_ACCESS)`).
fn inheritable_copy(handle: &impl AsRawHandle) -> OwnedHandle {
    let mut copy: HANDLE = std::ptr::null_mut();
    // SAFETY: duplicates a handle we hold into this same process.
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            handle.as_raw_handle(),
            GetCurrentProcess(),
            &mut copy,
            0,
            1,
            DUPLICATE_SAME_ACCESS,
        )
    };
    assert_ne!(ok, 0, "{}", std::io::Error::last_os_error());
    // SAFETY: the copy is ours alone.
    unsafe { OwnedHandle::from_raw_handle(copy) }
}

/// How jupyter_client writes a handle in the kernel's environment.
fn as_env(handle: &impl AsRawHandle) -> String {
    (handle.as_raw_handle() as isize).to_string()
}

#[test]
fn the_interrupt_event_stops_a_running_cell_and_never_the_kernel() {
    let event = inheritable_event();
    let value = as_env(&event);
    let kernel = Kernel::start_with_env(&[("JPY_INTERRUPT_EVENT", value.as_ref())]);
    let set = || {
        // SAFETY: an event handle we own.
        assert_ne!(unsafe { SetEvent(event.as_raw_handle()) }, 0);
    };
    let started = Instant::now();
    kernel.execute_until_printed("echo sleeping\n%sleep 30", "sleeping");
    set();
    let reply = kernel.reply(&kernel.shell);
    assert_eq!(reply.content["ename"], "Interrupted", "{:?}", reply.content);
    assert!(started.elapsed() < Duration::from_secs(25), "stopped early");
    let (reply, _) = kernel.execute("echo alive");
    assert_eq!(reply.content["status"], "ok");
}

#[test]
fn a_kernel_whose_frontend_died_shuts_down_and_cleans_up() {
    // The "frontend": a process that waits until it is killed.
    let mut frontend = Command::new("cmd")
        .args(["/c", "pause"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let handle = inheritable_copy(&frontend);
    let value = as_env(&handle);
    let mut kernel = Kernel::start_with_env(&[("JPY_PARENT_PID", value.as_ref())]);
    let (reply, _) = kernel.execute("insert k v");
    assert_eq!(reply.content["status"], "ok");
    assert!(!crate::common::entries(&kernel.kernel_tmp()).is_empty());
    frontend.kill().unwrap();
    frontend.wait().unwrap();
    let status = kernel.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "a clean shutdown: {status:?}");
    assert!(
        crate::common::entries(&kernel.kernel_tmp()).is_empty(),
        "its database was left behind"
    );
}

#[test]
fn a_connection_file_asking_for_ipc_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("kernel").to_string_lossy().into_owned();
    let (file, _) = crate::common::connection_file(dir.path(), |c| {
        c["transport"] = json!("ipc");
        c["ip"] = json!(base);
    });
    let out = Command::new(env!("CARGO_BIN_EXE_sled-kernel"))
        .args(["kernel", "--connection-file"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("\"transport\": \"tcp\""), "{err}");
}
