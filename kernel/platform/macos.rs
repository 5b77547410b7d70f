//! What macOS tells through libproc (it has no `/proc`): parents and
//! names. Who holds a lock it does not tell.
//!
//! Built by `cargo zigbuild --target {x86_64,aarch64}-apple-darwin`; it
//! cannot run on the Linux machine that builds it.

use std::mem::{size_of, MaybeUninit};
use std::path::Path;

use libc::c_int;

/// The parent of process `pid`.
pub fn parent_of(pid: u32) -> Option<u32> {
    bsd_info(pid).map(|info| info.pbi_ppid)
}

/// The command name libproc gives (`proc_name`).
pub fn process_name(pid: u32) -> Option<String> {
    let pid = c_int::try_from(pid).ok()?;
    let mut name = [0u8; 2 * libc::MAXCOMLEN + 1];
    // SAFETY: the buffer holds `name.len()` bytes; proc_name writes at
    // most that many and returns how many it wrote.
    let written = unsafe { libc::proc_name(pid, name.as_mut_ptr().cast(), name.len() as u32) };
    let written = usize::try_from(written).ok().filter(|n| *n > 0)?;
    let name = String::from_utf8_lossy(&name[..written.min(name.len())]);
    Some(name.trim_end_matches('\0').to_string()).filter(|s| !s.is_empty())
}

/// `(pid, parent pid)` of every process this user may look at.
pub fn parents() -> Vec<(u32, u32)> {
    all_pids()
        .into_iter()
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect()
}

/// Not told on macOS: `None`.
pub fn lock_holder(_file: &Path) -> Option<u32> {
    None
}

/// Every process id, from `proc_listallpids`.
fn all_pids() -> Vec<u32> {
    // SAFETY: with no buffer, proc_listallpids only counts the processes.
    let count = unsafe { libc::proc_listallpids(std::ptr::null_mut(), 0) };
    let Ok(count) = usize::try_from(count) else {
        return Vec::new();
    };
    // Room for processes started since the count.
    let mut pids: Vec<c_int> = vec![0; count + 64];
    let bytes = c_int::try_from(pids.len() * size_of::<c_int>()).unwrap_or(c_int::MAX);
    // SAFETY: the buffer holds `bytes` bytes; proc_listallpids fills at most
    // that many and returns how many pids it wrote.
    let filled = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast(), bytes) };
    pids.truncate(usize::try_from(filled).unwrap_or(0).min(pids.len()));
    pids.into_iter()
        .filter_map(|pid| u32::try_from(pid).ok())
        .filter(|pid| *pid > 0)
        .collect()
}

/// `proc_pidinfo(PROC_PIDTBSDINFO)`: the BSD view of a process.
fn bsd_info(pid: u32) -> Option<libc::proc_bsdinfo> {
    let pid = c_int::try_from(pid).ok()?;
    let size = c_int::try_from(size_of::<libc::proc_bsdinfo>()).ok()?;
    let mut info = MaybeUninit::<libc::proc_bsdinfo>::zeroed();
    // SAFETY: the buffer is one proc_bsdinfo, `size` bytes; proc_pidinfo
    // returns how many bytes it wrote, all of them on success.
    let written = unsafe {
        libc::proc_pidinfo(
            pid,
            libc::PROC_PIDTBSDINFO,
            0,
            info.as_mut_ptr().cast(),
            size,
        )
    };
    // SAFETY: zeroed, then filled in whole: every field is an integer.
    (written == size).then(|| unsafe { info.assume_init() })
}
