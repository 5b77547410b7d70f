//! The Rust context's memory: one allocator arena of its own, emptied back
//! to the operating system after every Rust cell and when the context stops.
//!
//! evcxr runs rust-analyzer inside the kernel, and its analysis of the
//! standard library and sled is a few hundred MB of small, long-lived
//! objects mixed with short-lived ones. With glibc's allocator, each cell's
//! thread could take another arena, and freed memory stayed with the
//! process: a kernel held about 780 MB after lesson 06. On Linux the kernel
//! uses jemalloc (the global allocator, `crate::ALLOCATOR`), puts every
//! thread that runs evcxr in one arena of its own ([`enter`]) and purges
//! that arena after each cell and when a context is dropped ([`give_back`]).
//! The KV side keeps jemalloc's usual arenas. jemalloc is also faster than
//! glibc's allocator for rust-analyzer's work (about a quarter less CPU to
//! start a context here).
//!
//! Elsewhere (macOS, Windows, or Linux without the `rust-cells` feature) the
//! system allocator stays and both functions do nothing.

#[cfg(target_os = "linux")]
mod jemalloc {
    use std::ffi::{c_void, CStr};
    use std::sync::OnceLock;
    use tikv_jemalloc_sys::mallctl;

    /// The arena of the Rust context's threads; `None` if jemalloc would
    /// not make one (they then use the usual arenas).
    fn arena() -> Option<u32> {
        static ARENA: OnceLock<Option<u32>> = OnceLock::new();
        *ARENA.get_or_init(|| {
            let mut index: u32 = 0;
            let mut len = std::mem::size_of::<u32>();
            // SAFETY: `arenas.create` writes one unsigned int to `oldp`,
            // whose size we pass; nothing is read from `newp`.
            let made = unsafe {
                mallctl(
                    c"arenas.create".as_ptr(),
                    (&mut index as *mut u32).cast::<c_void>(),
                    &mut len,
                    std::ptr::null_mut(),
                    0,
                )
            };
            if made == 0 {
                Some(index)
            } else {
                log::warn!("jemalloc could not create an arena for the Rust context ({made})");
                None
            }
        })
    }

    /// Calls a control with `value` as its new value (an unsigned int),
    /// or with none; whether jemalloc accepted it.
    fn control(name: &CStr, value: Option<u32>) -> bool {
        let mut value = value;
        let (newp, newlen) = match value.as_mut() {
            Some(v) => ((v as *mut u32).cast::<c_void>(), std::mem::size_of::<u32>()),
            None => (std::ptr::null_mut(), 0),
        };
        // SAFETY: the controls used here read one unsigned int from `newp`
        // (whose size we pass) or take nothing; none writes to `oldp`.
        let done = unsafe {
            mallctl(
                name.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                newp,
                newlen,
            )
        };
        done == 0
    }

    pub(super) fn enter() {
        if let Some(index) = arena() {
            control(c"thread.arena", Some(index));
        }
    }

    /// Moves this thread into the context's arena; the arena it was in.
    pub(super) fn switch_to_context() -> Option<u32> {
        let index = arena()?;
        let mut own: u32 = 0;
        let mut len = std::mem::size_of::<u32>();
        let mut new = index;
        // SAFETY: `thread.arena` reads and writes one unsigned int; both
        // sizes are given.
        let done = unsafe {
            mallctl(
                c"thread.arena".as_ptr(),
                (&mut own as *mut u32).cast::<c_void>(),
                &mut len,
                (&mut new as *mut u32).cast::<c_void>(),
                std::mem::size_of::<u32>(),
            )
        };
        (done == 0).then_some(own)
    }

    pub(super) fn switch_back(own: Option<u32>) {
        if let Some(own) = own {
            control(c"thread.arena", Some(own));
        }
    }

    pub(super) fn give_back() {
        // What this thread keeps for reuse goes back to its arenas first.
        control(c"thread.tcache.flush", None);
        purge();
        if log::log_enabled!(log::Level::Debug) {
            log::debug!("memory after giving back: {}", figures());
        }
    }

    pub(super) fn purge() {
        // Every arena: rust-analyzer's file loader and evcxr's output
        // readers run on threads of their own, in the usual arenas.
        control(c"arena.4096.purge", None);
    }

    /// jemalloc's own account: what the program holds, what its pages
    /// take, and what jemalloc keeps for itself (MB).
    fn figures() -> String {
        refresh_statistics();
        let read = |name: &CStr| match statistic(name) {
            Some(value) => format!("{:.1}", value as f64 / 1e6),
            None => "?".into(),
        };
        format!(
            "allocated {} MB, in active pages {} MB, resident {} MB, jemalloc's metadata {} MB",
            read(c"stats.allocated"),
            read(c"stats.active"),
            read(c"stats.resident"),
            read(c"stats.metadata"),
        )
    }

    /// Brings the `stats.*` figures up to date (jemalloc keeps them as of
    /// the last `epoch`).
    fn refresh_statistics() {
        let mut epoch: u64 = 1;
        // SAFETY: `epoch` reads and writes one u64, size given.
        unsafe {
            mallctl(
                c"epoch".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                (&mut epoch as *mut u64).cast::<c_void>(),
                std::mem::size_of::<u64>(),
            );
        }
    }

    /// One `stats.*` figure that is a size_t; `None` if jemalloc has none
    /// by that name.
    fn statistic(name: &CStr) -> Option<usize> {
        let mut value: usize = 0;
        let mut len = std::mem::size_of::<usize>();
        // SAFETY: the `stats.*` figures read here are one size_t each,
        // size given; nothing is written.
        let done = unsafe {
            mallctl(
                name.as_ptr(),
                (&mut value as *mut usize).cast::<c_void>(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        (done == 0).then_some(value)
    }

    /// The bytes of the Rust context's arena resident in memory, by
    /// jemalloc's count: unlike the process's VmRSS, what other threads
    /// allocate in their own arenas does not move it.
    #[cfg(test)]
    pub(super) fn context_arena_resident() -> Option<usize> {
        let name = std::ffi::CString::new(format!("stats.arenas.{}.resident", arena()?)).ok()?;
        refresh_statistics();
        statistic(&name)
    }
}

/// Makes the calling thread allocate in the Rust context's arena: call it
/// first on every thread that runs evcxr (a cell, `%rust start`).
pub(super) fn enter() {
    #[cfg(target_os = "linux")]
    jemalloc::enter();
}

/// Runs `work` with the calling thread in the Rust context's arena, then
/// puts the thread back in its own: for what evcxr does on the shell thread
/// (starting a context, completing and inspecting code).
pub(super) fn in_arena<T>(work: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    let own = jemalloc::switch_to_context();
    let done = work();
    #[cfg(target_os = "linux")]
    jemalloc::switch_back(own);
    done
}

/// Returns the memory the Rust context freed to the operating system.
pub(super) fn give_back() {
    #[cfg(target_os = "linux")]
    jemalloc::give_back();
}

/// The same, from another thread while the context works, and quietly:
/// what the threads running evcxr hold for reuse stays with them.
pub(super) fn purge() {
    #[cfg(target_os = "linux")]
    jemalloc::purge();
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// What a thread in the context's arena allocated and freed leaves the
    /// process once given back (jemalloc alone would keep it for a while).
    /// Counted in the context's arena, by jemalloc: the process's VmRSS
    /// also moves with what tests running beside this one allocate.
    #[test]
    fn freed_memory_goes_back_to_the_system() {
        let (full, given_back) = std::thread::spawn(|| {
            enter();
            let resident = || jemalloc::context_arena_resident().expect("the context's arena");
            // 200 MB in small pieces, written, then freed.
            let pieces: Vec<Vec<u8>> = (0..200_000).map(|i| vec![i as u8; 1000]).collect();
            let full = resident();
            drop(pieces);
            give_back();
            (full, resident())
        })
        .join()
        .unwrap();
        assert!(
            given_back + 150_000_000 < full,
            "{} MB of the context's arena resident with the pieces, still {} MB after giving them back",
            full / 1_000_000,
            given_back / 1_000_000
        );
    }
}
