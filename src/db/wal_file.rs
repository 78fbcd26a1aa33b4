//! A commit's pages reach SQLite's write-ahead log in one write instead of two per page.
//!
//! SQLite appends a transaction's pages to the WAL one frame at a time, and each frame
//! with two writes: its 24-byte header, then the page. A group of creates commits about
//! 75 pages, so about 150 `pwrite` calls, each taking the file's lock and finding its
//! pages in the kernel's cache again: a quarter of the writer thread's time
//! (`bench/RESULTS.md`).
//!
//! [`install`] makes the default VFS one that is SQLite's own (`unix`) for every file but
//! a WAL. For a WAL it keeps one run of appended bytes in memory: a write that continues
//! the run joins it, and the run is written with one call of the `unix` file's own write
//! as soon as it ends with the page of a commit frame (the WAL format marks a commit by
//! a non-zero database size in the frame's header). Anything else that could see the
//! file through the handle writes the run first: a read, a sync, its size, a
//! truncation, a file control, closing it, or a write anywhere but at the run's end
//! (SQLite rewrites a page or a checksum of the same transaction in place).
//!
//! What a crash leaves is what it left before. Other connections find frames through
//! the WAL index, which SQLite updates after the commit frame's write returns, so the
//! run is on the file by then; a run lost with the process holds only frames of a
//! transaction that had not committed, which recovery ignores, as it ignores a WAL
//! whose writes stopped half-way. An error writing the run (a full disk) is the error
//! of the write that ended it, so the transaction fails as it did before.
//!
//! Only appends at or past the furthest byte written join a run: the in-place rewrites
//! that come after a commit frame (checksums of frames written again) go straight to
//! the file, so nothing is held back once a commit's writes are done.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use libsqlite3_sys as ffi;

/// The VFS's name (what `sqlite3_vfs_find` finds it by).
pub const NAME: &std::ffi::CStr = c"newsdesk";

/// A WAL frame's header, before its page.
const FRAME_HEADER: usize = 24;
/// The WAL file's own header, written at its start when the log starts (over).
const WAL_HEADER: usize = 32;
/// A run is written once it holds this much, so that a large transaction (a bulk
/// load's, or one merging the search index's segments: thousands of pages) holds at
/// most about 1 MiB in memory. A group of HTTP creates commits about 300 KiB.
const MOST_HELD: usize = 1 << 20;
/// The longest write SQLite makes to a WAL: a page of the largest size, with its
/// frame's header.
const LARGEST_WRITE: usize = 65_536 + FRAME_HEADER;
/// The most the `unix` VFS writes in one call: it takes under 128 KiB (it masks a
/// longer length to 17 bits), so a run goes in writes of 31 pages' worth.
const MOST_AT_ONCE: usize = 31 * 4096;

/// The default VFS this one passes everything to.
static UNDER: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());

/// Registers the VFS as the default, once, before the process opens any connection.
/// Without it (if SQLite refuses), connections use SQLite's own VFS as before.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_vfs_find` initialises SQLite if needed and returns the
        // default VFS, which lives as long as the process; the copy made of it keeps
        // its methods and its `pAppData`, and is leaked, so it lives as long too.
        // Registering it as the default happens once, before any connection opens.
        unsafe {
            let under = ffi::sqlite3_vfs_find(ptr::null());
            if under.is_null() {
                tracing::error!("SQLite has no default VFS");
                return;
            }
            UNDER.store(under, Ordering::Release);
            let mut vfs = *under;
            vfs.szOsFile = (REAL_AT + (*under).szOsFile as usize) as c_int;
            vfs.zName = NAME.as_ptr();
            vfs.pNext = ptr::null_mut();
            vfs.xOpen = Some(open);
            let vfs = Box::into_raw(Box::new(vfs));
            let rc = ffi::sqlite3_vfs_register(vfs, 1);
            if rc != ffi::SQLITE_OK {
                tracing::error!(rc, "could not register newsdesk's SQLite VFS");
            }
        }
    });
}

/// An open WAL: the default VFS's file follows it in the memory SQLite gives.
#[repr(C)]
struct WalFile {
    /// What SQLite sees: this file's methods.
    base: ffi::sqlite3_file,
    /// The default VFS's file, at [`REAL_AT`] bytes from the start.
    under: *mut ffi::sqlite3_file,
    run: Run,
}

/// Where the default VFS's file starts (8-byte aligned, as SQLite aligns the whole).
const REAL_AT: usize = std::mem::size_of::<WalFile>().next_multiple_of(8);

/// Bytes appended and not yet written.
#[derive(Default)]
struct Run {
    /// Where the first byte goes.
    start: i64,
    bytes: Vec<u8>,
    /// The furthest byte written (or held) through this handle: only writes at or past
    /// it are appends.
    furthest: i64,
    /// Where the page of a commit frame goes, when the last write was its header (it
    /// stays when the run is written between the two: a run that reaches its most at
    /// the header).
    commit_page_at: Option<i64>,
}

impl Run {
    fn end(&self) -> i64 {
        self.start + self.bytes.len() as i64
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

fn under_vfs() -> *mut ffi::sqlite3_vfs {
    UNDER.load(Ordering::Acquire)
}

/// Opens a file with the default VFS: in place for anything but a WAL, after a
/// [`WalFile`] for a WAL.
unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let under = under_vfs();
    // SAFETY: `install` set `UNDER` before registering this VFS; `file` has room for
    // `REAL_AT` bytes and the default VFS's file after them (`szOsFile`). SQLite calls
    // `xClose` only when `pMethods` is set, and this sets it only after the default
    // VFS's open set its own.
    unsafe {
        let Some(open_under) = (*under).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return open_under(under, name, file, flags, out_flags);
        }
        let real = file.cast::<u8>().add(REAL_AT).cast::<ffi::sqlite3_file>();
        (*real).pMethods = ptr::null();
        let rc = open_under(under, name, real, flags, out_flags);
        if (*real).pMethods.is_null() {
            (*file).pMethods = ptr::null();
            return rc;
        }
        ptr::write(
            file.cast::<WalFile>(),
            WalFile {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                under: real,
                run: Run::default(),
            },
        );
        rc
    }
}

/// The [`WalFile`] behind a file SQLite passes, and its default VFS file's methods.
///
/// # Safety
/// `file` is a WAL opened by [`open`] and not yet closed, used by one thread at a time.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (&'a mut WalFile, &'a ffi::sqlite3_io_methods) {
    // SAFETY: as the caller promises; the default VFS's methods live as long as it.
    unsafe {
        let wal = &mut *file.cast::<WalFile>();
        let methods = &*(*wal.under).pMethods;
        (wal, methods)
    }
}

/// Writes the run, if any; the run is gone whether or not the write succeeded (a
/// failed write fails the transaction, which SQLite then writes again from its start).
fn flush(wal: &mut WalFile, methods: &ffi::sqlite3_io_methods) -> c_int {
    if wal.run.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let Some(write_under) = methods.xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    let mut rc = ffi::SQLITE_OK;
    let mut at = wal.run.start;
    for chunk in wal.run.bytes.chunks(MOST_AT_ONCE) {
        // SAFETY: the default VFS's file is open; `chunk` holds its length in bytes,
        // which fits a `c_int`.
        rc = unsafe { write_under(wal.under, chunk.as_ptr().cast(), chunk.len() as c_int, at) };
        if rc != ffi::SQLITE_OK {
            break;
        }
        at += chunk.len() as i64;
    }
    // The allocation stays for the next run.
    wal.run.bytes.clear();
    rc
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite passes its open WAL and `amount` readable bytes at `data`.
    let (wal, methods) = unsafe { parts(file) };
    let Ok(len) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: as above.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
    let continues = !wal.run.bytes.is_empty() && offset == wal.run.end();
    if !continues {
        let rc = flush(wal, methods);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if offset == 0 && len == WAL_HEADER {
            // The log starts over: everything after its header is an append again.
            wal.run.furthest = 0;
        }
        if offset < wal.run.furthest {
            // A page or checksum written again in place: straight to the file.
            let Some(write_under) = methods.xWrite else {
                return ffi::SQLITE_IOERR_WRITE;
            };
            wal.run.furthest = wal.run.furthest.max(offset + i64::from(amount));
            // SAFETY: the default VFS's file is open.
            return unsafe { write_under(wal.under, data, amount, offset) };
        }
        wal.run.start = offset;
        if wal.run.bytes.capacity() == 0 {
            // Room for the most a run holds and one more write, once: a run never
            // reallocates (a write is at most a page of 64 KiB and its header).
            wal.run.bytes.reserve_exact(MOST_HELD + LARGEST_WRITE);
        }
    }
    let ends_commit = wal.run.commit_page_at == Some(offset);
    wal.run.commit_page_at = None;
    wal.run.bytes.extend_from_slice(bytes);
    wal.run.furthest = wal.run.furthest.max(wal.run.end());
    if len == FRAME_HEADER && bytes[4..8] != [0, 0, 0, 0] {
        wal.run.commit_page_at = Some(offset + FRAME_HEADER as i64);
    }
    if ends_commit || wal.run.bytes.len() >= MOST_HELD {
        return flush(wal, methods);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes an open WAL once; nothing uses it after.
    unsafe {
        let (wal, methods) = parts(file);
        let rc = flush(wal, methods);
        let closed = match methods.xClose {
            Some(close_under) => close_under(wal.under),
            None => ffi::SQLITE_OK,
        };
        ptr::drop_in_place(&mut wal.run);
        (*file).pMethods = ptr::null();
        if rc != ffi::SQLITE_OK { rc } else { closed }
    }
}

/// Defines a method that writes the run and then calls the default VFS file's own.
macro_rules! after_flush {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite passes its open WAL; the arguments are SQLite's own.
            unsafe {
                let (wal, methods) = parts(file);
                let rc = flush(wal, methods);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                match methods.$method {
                    Some(f) => f(wal.under $(, $arg)*),
                    None => ffi::SQLITE_IOERR,
                }
            }
        }
    };
}

/// Defines a method that only passes on to the default VFS file's own.
macro_rules! passed_on {
    ($name:ident, $method:ident, $missing:expr, ($($arg:ident: $ty:ty),*)) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite passes its open WAL; the arguments are SQLite's own.
            unsafe {
                let (wal, methods) = parts(file);
                match methods.$method {
                    Some(f) => f(wal.under $(, $arg)*),
                    None => $missing,
                }
            }
        }
    };
}

after_flush!(read, xRead, (data: *mut c_void, amount: c_int, offset: i64));
after_flush!(sync, xSync, (flags: c_int));
after_flush!(file_size, xFileSize, (size: *mut i64));
after_flush!(file_control, xFileControl, (op: c_int, arg: *mut c_void));
passed_on!(lock, xLock, ffi::SQLITE_OK, (level: c_int));
passed_on!(unlock, xUnlock, ffi::SQLITE_OK, (level: c_int));
passed_on!(check_reserved_lock, xCheckReservedLock, ffi::SQLITE_OK, (out: *mut c_int));
passed_on!(sector_size, xSectorSize, 4096, ());
passed_on!(device_characteristics, xDeviceCharacteristics, 0, ());

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: SQLite passes its open WAL.
    unsafe {
        let (wal, methods) = parts(file);
        let rc = flush(wal, methods);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        wal.run.furthest = wal.run.furthest.min(size);
        match methods.xTruncate {
            Some(f) => f(wal.under, size),
            None => ffi::SQLITE_IOERR_TRUNCATE,
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Sums {
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }

    fn sums(conn: &mut diesel::SqliteConnection) -> Sums {
        diesel::sql_query("SELECT count(*) AS n, coalesce(sum(v), 0) AS total FROM t")
            .get_result(conn)
            .unwrap()
    }

    /// What a crash would leave: the database file and its WAL as they are on disk now,
    /// opened elsewhere, where SQLite recovers the WAL from its frames and checksums.
    fn as_a_crash_leaves(dir: &std::path::Path, n: usize) -> Sums {
        let copy = dir.join(format!("copy-{n}"));
        std::fs::create_dir(&copy).unwrap();
        std::fs::copy(dir.join("w.db"), copy.join("w.db")).unwrap();
        std::fs::copy(dir.join("w.db-wal"), copy.join("w.db-wal")).unwrap();
        let path = copy.join("w.db");
        let mut conn = crate::db::sqlite::establish(&path.to_string_lossy()).unwrap();
        sums(&mut conn)
    }

    #[test]
    fn every_commit_is_on_disk_and_seen_by_readers_as_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let path = path.to_string_lossy();
        let mut writer = crate::db::sqlite::establish(&path).unwrap();
        // SAFETY: the VFS is registered by the first `establish`; a name is only read.
        let default = unsafe { std::ffi::CStr::from_ptr((*ffi_default()).zName) };
        assert_eq!(default, super::NAME);
        // A page cache of 8 pages: larger transactions spill pages to the WAL before
        // they commit, and pages spilled and changed again are written again in place.
        writer
            .batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                 PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 8;
                 CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad BLOB);",
            )
            .unwrap();
        let mut reader = crate::db::sqlite::establish(&path).unwrap();
        let mut expected = Sums { n: 0, total: 0 };
        for round in 0..12_i64 {
            let rows = match round % 4 {
                0 => 1,
                1 => 30,
                _ => 2_000,
            };
            let work = |c: &mut diesel::SqliteConnection| -> QueryResult<()> {
                c.batch_execute(&format!(
                    "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {rows})
                     INSERT INTO t (v, pad) SELECT {round}, zeroblob(900) FROM k;"
                ))?;
                if round % 4 == 3 {
                    // Every row again, after its pages were spilled: in-place rewrites.
                    c.batch_execute("UPDATE t SET v = v + 1, pad = zeroblob(700);")?;
                    c.batch_execute("UPDATE t SET v = v - 1, pad = zeroblob(900);")?;
                }
                Ok(())
            };
            if round == 6 {
                // A large transaction rolled back after spilling: none of it shows.
                let failed: QueryResult<()> = writer.transaction(|c| {
                    work(c)?;
                    Err(diesel::result::Error::RollbackTransaction)
                });
                assert!(failed.is_err());
            } else {
                writer.transaction(work).unwrap();
                expected.n += rows;
                expected.total += rows * round;
            }
            assert_eq!(
                sums(&mut reader),
                expected,
                "round {round}, another connection"
            );
            assert_eq!(
                as_a_crash_leaves(dir.path(), round as usize),
                expected,
                "round {round}, the files as a crash would leave them"
            );
        }
    }

    /// What the fake file under a [`super::WalFile`] was given: offset and bytes.
    static GIVEN: std::sync::Mutex<Vec<(i64, Vec<u8>)>> = std::sync::Mutex::new(Vec::new());

    unsafe extern "C" fn given(
        _file: *mut libsqlite3_sys::sqlite3_file,
        data: *const std::ffi::c_void,
        amount: std::ffi::c_int,
        offset: i64,
    ) -> std::ffi::c_int {
        // SAFETY: `write` passes `amount` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), amount as usize) };
        GIVEN.lock().unwrap().push((offset, bytes.to_vec()));
        libsqlite3_sys::SQLITE_OK
    }

    #[test]
    fn a_commit_frames_page_is_never_held_even_when_the_run_fills_at_its_header() {
        use super::{FRAME_HEADER, MOST_HELD, Run, WalFile};
        // SAFETY: every field of the methods is an integer or an optional function,
        // for which zero is a valid value (0 and `None`).
        let mut fake: libsqlite3_sys::sqlite3_io_methods = unsafe { std::mem::zeroed() };
        fake.iVersion = 1;
        fake.xWrite = Some(given);
        let mut under = libsqlite3_sys::sqlite3_file { pMethods: &fake };
        // A run that a commit frame's header brings to its most, whatever page size
        // and start would make it so.
        let start = 4_152_i64;
        let held = MOST_HELD - FRAME_HEADER;
        let mut wal = WalFile {
            base: libsqlite3_sys::sqlite3_file {
                pMethods: &super::METHODS,
            },
            under: &mut under,
            run: Run {
                start,
                bytes: vec![7; held],
                furthest: start + held as i64,
                commit_page_at: None,
            },
        };
        let file = (&raw mut wal).cast::<libsqlite3_sys::sqlite3_file>();
        let mut header = [0_u8; FRAME_HEADER];
        header[7] = 9; // the database's size after the commit: a commit frame
        let page = [1_u8; 4096];
        let header_at = start + held as i64;
        // SAFETY: `file` is a WalFile over a fake file that only takes writes.
        unsafe {
            assert_eq!(super::write(file, header.as_ptr().cast(), 24, header_at), 0);
            let written: usize = GIVEN.lock().unwrap().iter().map(|(_, b)| b.len()).sum();
            assert_eq!(written, MOST_HELD, "the full run is written");
            assert_eq!(
                super::write(file, page.as_ptr().cast(), 4096, header_at + 24),
                0
            );
        }
        assert!(wal.run.bytes.is_empty(), "the commit frame's page was held");
        let given = GIVEN.lock().unwrap();
        assert_eq!(
            given.last().map(|(at, b)| (*at, b.len())),
            Some((header_at + 24, 4096))
        );
        assert_eq!(
            given.iter().map(|(_, b)| b.len()).sum::<usize>(),
            MOST_HELD + 4096
        );
    }

    fn ffi_default() -> *mut libsqlite3_sys::sqlite3_vfs {
        // SAFETY: SQLite is initialised; the default VFS lives as long as the process.
        unsafe { libsqlite3_sys::sqlite3_vfs_find(std::ptr::null()) }
    }
}
