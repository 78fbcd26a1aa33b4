//! Open-file limits: every connection, stream and database file is a descriptor, and
//! a process that runs out of them cannot accept even the request that would tell an
//! operator so (`/healthz`).
//!
//! At start the soft limit is raised to the hard limit (systemd's soft default is often
//! 1,024 while the hard one is far higher), and the breaking stream's cap is kept below
//! what is left, so open streams can never take the descriptors ordinary requests need.

/// Descriptors kept for everything that is not a stream (database files, listeners,
/// ordinary requests): a quarter of the limit, and at least this many.
const MIN_HEADROOM: u64 = 128;

/// Raises the soft open-file limit to the hard limit; returns the soft limit in force
/// afterwards (`None` where it cannot be read).
pub fn raise_open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed in.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit.rlim_cur = limit.rlim_max;
                }
            }
        }
        // `rlim_t` is not `u64` on every platform.
        #[allow(clippy::unnecessary_cast)]
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The soft open-file limit now in force (`None` where it cannot be read).
pub fn open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct passed in.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        #[allow(clippy::unnecessary_cast)]
        ok.then_some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The most streams an instance may hold with `open_files` descriptors: the configured
/// cap, but never more than what is left after the headroom.
pub fn stream_cap(configured: usize, open_files: Option<u64>) -> usize {
    let Some(limit) = open_files else {
        return configured;
    };
    let headroom = (limit / 4).max(MIN_HEADROOM);
    let room = limit.saturating_sub(headroom).max(1);
    configured.min(usize::try_from(room).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_leave_room_for_ordinary_requests() {
        assert_eq!(stream_cap(5_000, Some(256)), 128, "256 - 128 headroom");
        assert_eq!(stream_cap(5_000, Some(1_024)), 768, "a quarter kept");
        assert_eq!(
            stream_cap(5_000, Some(1_048_576)),
            5_000,
            "the setting rules"
        );
        assert_eq!(stream_cap(5_000, None), 5_000);
        assert_eq!(stream_cap(5_000, Some(100)), 1, "always at least one");
    }
}
