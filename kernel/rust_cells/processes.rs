//! Stopping what a Rust cell started.
//!
//! evcxr runs user code in a child process, and compiles it with cargo and
//! rustc, also children of the kernel. Killing the child stops a running
//! loop; killing cargo and rustc too stops a compile (the first one builds
//! sled and takes a minute). The kernel starts no other processes, so every
//! descendant of the kernel is fair game ([`platform::kill_tree_below`]
//! finds them through `/proc` on Linux and libproc on macOS).

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::platform;

/// How often a wait on the Rust side (a cell running, a start under way)
/// looks at the interrupt flag when nothing arrives; a running cell's
/// buffered output is sent at the same moments.
pub(super) const TICK: Duration = Duration::from_millis(20);
/// While an interrupted cell or start has not stopped, kill again this
/// often (cargo may have started another rustc in the meantime, or the
/// start was analysing code, not running cargo, when first told).
pub(super) const KILL_AGAIN: Duration = Duration::from_millis(250);

/// Kills the evcxr child and every other descendant process.
pub(super) fn stop_all(child: &Arc<Mutex<Child>>) {
    stop_descendants();
    // evcxr may hold this lock while it waits on the child; never block on it.
    if let Ok(mut child) = child.try_lock() {
        let _ = child.kill();
    }
}

/// Kills every descendant process: what a Rust context that is still
/// starting has running.
pub(super) fn stop_descendants() {
    platform::kill_tree_below(std::process::id());
}
