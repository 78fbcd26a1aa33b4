//! The database file as it was opened, so that a file moved away or removed under a
//! running server is noticed.
//!
//! SQLite keeps writing to a file it has open even after `rm newsdesk.db` or `mv`: every
//! write then goes to an unlinked inode that vanishes when the process ends, and the
//! next start finds no database (or another one) at the path. So the path is checked
//! against the file that was opened — the same test as SQLite's
//! `SQLITE_FCNTL_HAS_MOVED` (device and inode at the path) — before every commit, by
//! `/healthz` and `/readyz`; a moved file refuses writes with 503 and is logged once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Identity of the opened database file.
#[derive(Debug, Clone)]
pub struct DbFile {
    path: PathBuf,
    opened: Option<(u64, u64)>,
    reported: Arc<AtomicBool>,
}

fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok((0, 0))
    }
}

impl DbFile {
    /// Records the identity of the file now at `path` (call right after opening it).
    pub fn opened(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            opened: identity(path).ok(),
            reported: Arc::new(AtomicBool::new(false)),
        }
    }

    /// `None` while the path still names the opened file; otherwise why writes must
    /// stop (logged the first time it is seen).
    pub fn moved(&self) -> Option<String> {
        let now = identity(&self.path);
        let reason = match (&now, self.opened) {
            (Ok(now), Some(opened)) if *now == opened => return None,
            (_, None) => return None,
            (Err(_), Some(_)) => format!(
                "the database file {} has been removed or moved away; writes are refused \
                 until newsdesk is restarted with the file back in place",
                self.path.display()
            ),
            (Ok(_), Some(_)) => format!(
                "the database file {} has been replaced by another file; writes are refused \
                 until newsdesk is restarted",
                self.path.display()
            ),
        };
        if !self.reported.swap(true, Ordering::AcqRel) {
            tracing::error!("{reason}");
        }
        Some(reason)
    }
}

/// Refuses to open a database whose file is missing while its write-ahead log is still
/// there: the file was moved or removed, and creating a new, empty database beside the
/// log would lose what the log holds. `None` when opening is safe.
pub fn missing_beside_its_wal(path: &Path) -> Option<String> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    if !path.exists() && wal.exists() {
        Some(format!(
            "{} is missing but its write-ahead log {} is still there: the database was \
             moved or removed. Put it back, or remove {} (and any -shm file) to start a new, \
             empty database",
            path.display(),
            wal.display(),
            wal.display()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_or_replaced_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.db");
        std::fs::write(&path, b"x").unwrap();
        let file = DbFile::opened(&path);
        assert!(file.moved().is_none());
        std::fs::rename(&path, dir.path().join("elsewhere.db")).unwrap();
        assert!(file.moved().unwrap().contains("removed or moved"));
        std::fs::write(&path, b"another").unwrap();
        assert!(file.moved().unwrap().contains("replaced"));
    }

    #[test]
    fn a_wal_without_its_database_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.db");
        assert!(
            missing_beside_its_wal(&path).is_none(),
            "a new database is fine"
        );
        std::fs::write(dir.path().join("n.db-wal"), b"frames").unwrap();
        assert!(
            missing_beside_its_wal(&path)
                .unwrap()
                .contains("moved or removed")
        );
    }
}
