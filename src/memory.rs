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

/// Blocks of this size or more come straight from the system and go back to it when
/// freed: a decoded photo or a rendition (megabytes each) never stays behind in an
/// allocator arena after its image is done.
pub const BIG_BLOCK_BYTES: i32 = 1 << 20;

/// Fixes glibc's threshold for serving an allocation by its own mapping at
/// [`BIG_BLOCK_BYTES`]. Left alone, the threshold rises to 32 MB after the first large
/// block is freed, and image buffers then pile up in the heaps of the threads that
/// encoded them: importing five 12-megapixel photos reached 164 MB where one takes 105.
///
/// Fixing the threshold also stops glibc from raising its trim threshold as it goes,
/// which would then stay at 128 KB: the heap's top would be given back and taken again
/// on every burst of small allocations (an A/B of the read paths measured 5–14% more
/// CPU per request that way). It is set to 64 MB, what the dynamic rule reaches; free
/// pages are still given back every few seconds by [`give_back`].
pub fn big_blocks_from_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; it is called once at start,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, BIG_BLOCK_BYTES);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES);
    }
}

/// Free memory at the top of the heap kept for reuse rather than given back at once.
pub const TRIM_THRESHOLD_BYTES: i32 = 64 << 20;
