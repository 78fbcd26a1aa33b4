//! Returning freed memory to the operating system.
//!
//! glibc's allocator keeps one arena per busy thread and holds on to pages freed in the
//! middle of them, so a server that served a burst keeps its peak size. Asking it every
//! couple of seconds to give free pages back keeps the resident size near what is in
//! use, at the cost of a quick walk over the arenas.

/// Gives free heap pages back to the system (glibc only; elsewhere a no-op).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages the allocator holds as free; it may be
    // called at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
