//! `newsdesk_bm25`: FTS5's BM25 ranking with each phrase's article count kept between
//! searches.
//!
//! FTS5's own `bm25()` starts every query by counting, for each phrase, the articles
//! that contain it: a walk of the phrase's whole posting list, 4–10 ms for a common
//! word at a million articles, on every search, while the ranking of the newest 5,000
//! matches that follows takes about one. Those counts change only when the index does.
//! This function computes exactly the same score (same formula, same constants, same
//! order of operations, so the same bits), but keeps the counts per connection,
//! stamped with the content version (`content_state.version`, which every committed
//! content write bumps, read by the same statement, so from the same snapshot as the
//! index) and the index's row and token totals (which catch rows another program added
//! without moving the version; FTS5 does not lower them on a delete from a contentless
//! index, so deletes rely on the version). A count is reused only under the same
//! stamp; anything else counts again, as `bm25()` does. Each matching row's length in
//! tokens, which FTS5 looks up in a table of its own for every row ranked, is kept the
//! same way.
//!
//! The statistics count what readers can see only. Drafts, scheduled stories and
//! stories past their `unpublish_at` are in the index (staff search them), and were in
//! FTS5's counts: three drafts that held a word made two published stories that hold it
//! swap places in a reader's results. The function reads those rows itself, each with
//! its entry in FTS5's table of row lengths ([`read_hidden`], on the statement's own
//! connection and snapshot), and keeps them per connection while the content version
//! and the statement's `hidden_key` stay the same: reading ten thousand drafts on every
//! search made searches 2–3 times slower. A phrase's count leaves them out, and so do
//! the row and token totals, which come from `search_totals` (kept by every write of
//! the index, [`super::sqlite::fts_insert`]): FTS5's own never go down when a row is
//! deleted from a contentless index, and every edit deletes the story's row and adds
//! it again.
//!
//! SQL: `newsdesk_bm25(articles_fts, version, names, rows, tokens, hidden, hidden_key,
//! now, w_title, w_summary, w_body)`, where `names` names the query's phrases in order,
//! separated by single spaces, as [`crate::domain::search::Fts5Search`] writes them
//! (`"water" "clim"*=2`: the phrase `"water"`, then two phrases that stand for the
//! prefix `clim`, counted and weighed as the one phrase the prefix would have been);
//! `rows` and `tokens` are the index's totals (FTS5's own when null); `hidden` lists
//! the rows readers cannot see as `id:sz`, comma-separated, `sz` the row's entry in
//! `articles_fts_docsize` in hexadecimal (empty when the row is not in the index);
//! when it is null and `hidden_key` and `now` are not, the function reads them from
//! `articles` as of `now` (see [`Counts::hidden`]); with all three null there are
//! none; and the weights are per column, as for `bm25()`. The result is the
//! score itself (BM25 is `-bm25()`). With no hidden row and the totals FTS5 would give,
//! it is `bm25()`'s to the bit.
//!
//! Diesel gives no access to a connection's `sqlite3` handle, so the function is
//! registered through SQLite's automatic extensions: [`super::sqlite::establish`] has
//! SQLite run [`register`] on every connection this process opens.

use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::Mutex;

use libsqlite3_sys as ffi;

/// The function's name in SQL.
pub const FUNCTION: &str = "newsdesk_bm25";

/// BM25's constants, as FTS5 sets them.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Phrase counts kept per connection at most; the whole set is dropped when full.
const KEPT_PHRASES: usize = 4_096;

/// Row lengths are kept in blocks of this many consecutive row ids. The rows a search
/// ranks come newest first, so one look-up after another falls in the same block, a
/// few cache lines; a map of single rows scattered them over its whole table, and its
/// look-ups (a memory stall each) were a tenth of a distinct search's CPU at a
/// million stories.
const LENGTH_BLOCK: i64 = 256;

/// Blocks kept per connection at most (2 MB of lengths), all dropped when full: enough
/// for a search's 5,000 matches even when they spread over a million rows. The matches
/// ranked are each query's newest 5,000, so searches mostly meet the same recent rows.
const KEPT_LENGTH_BLOCKS: usize = 4_096;

/// The lengths of [`LENGTH_BLOCK`] consecutive rows, each kept as its length plus one
/// (0: not kept). A row of 65,535 tokens or more is never kept: FTS5 is asked each time.
type LengthBlock = Box<[u16; LENGTH_BLOCK as usize]>;

/// Run by SQLite on each new connection (see [`super::sqlite::establish`]): finds the
/// connection's FTS5 API and registers the function with a count store of its own.
/// Never fails the connection: without the function, searches fail with "no such
/// function", loudly, rather than the connection not opening at all.
///
/// # Safety
/// `db` must be a connection being opened, used by nothing else meanwhile.
pub(super) unsafe fn register(db: *mut ffi::sqlite3) {
    // SAFETY: `db` is the connection being opened; the statement is finalised before
    // returning and the FTS5 API pointer is only used while the connection lives.
    unsafe {
        let api = fts5_api(db);
        if api.is_null() {
            return;
        }
        let Some(create) = (*api).xCreateFunction else {
            return;
        };
        let store = Box::into_raw(Box::new(Mutex::new(Counts::default())));
        let rc = create(
            api,
            c"newsdesk_bm25".as_ptr(),
            store.cast::<c_void>(),
            Some(rank),
            Some(drop_store),
        );
        if rc != ffi::SQLITE_OK {
            drop(Box::from_raw(store));
        }
    }
}

/// The connection's FTS5 API (`SELECT fts5(?1)` with a pointer bound, as SQLite
/// documents), or null.
unsafe fn fts5_api(db: *mut ffi::sqlite3) -> *mut ffi::fts5_api {
    let mut api: *mut ffi::fts5_api = std::ptr::null_mut();
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: the statement handle is checked before use and always finalised; the
    // bound pointer outlives the step that writes through it.
    unsafe {
        let sql = c"SELECT fts5(?1)";
        if ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut())
            != ffi::SQLITE_OK
        {
            ffi::sqlite3_finalize(stmt);
            return std::ptr::null_mut();
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
    }
    api
}

unsafe extern "C" fn drop_store(store: *mut c_void) {
    // SAFETY: `store` is the box `register` made, handed back once by SQLite when the
    // connection closes.
    unsafe { drop(Box::from_raw(store.cast::<Mutex<Counts>>())) }
}

/// A connection's phrase counts and row lengths, valid for one stamp.
#[derive(Default)]
struct Counts {
    stamp: Stamp,
    hits: HashMap<String, i64>,
    /// Row lengths by block (row id divided by [`LENGTH_BLOCK`]), looked up for every
    /// ranked row (up to 5,000 a search): hashed by foldhash, not the standard
    /// library's SipHash, whose resistance to chosen keys row ids need not.
    lengths: HashMap<i64, LengthBlock, foldhash::fast::RandomState>,
    /// The stories readers cannot see, as last read ([`read_hidden`]): valid while the
    /// content version and the statement's `hidden_key` are the same. Within one
    /// version the hidden rows change only as time passes a scheduled story's
    /// publication or a story's `unpublish_at`, and the key counts both kinds (each
    /// count is a threshold of one set of times, so equal counts mean equal rows,
    /// whichever way the clock moved).
    hidden: Option<KeptHidden>,
}

/// What the counts depend on: the content version, the index's rows and tokens (as
/// FTS5 counts them, and as the statement gives them), and the rows readers cannot see
/// (a hash of their ids: a scheduled story falls due with no write).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    version: i64,
    rows: i64,
    tokens: i64,
    given_rows: i64,
    given_tokens: i64,
    hidden: u64,
}

/// The argument the weights start at.
const FIRST_WEIGHT: usize = 7;

/// The stories readers cannot see, with their entries in FTS5's table of row lengths,
/// as of `?1` (the statement's time): read by the function itself when what it keeps
/// is stale (see [`Counts::hidden`]).
const HIDDEN_ROWS: &std::ffi::CStr = c"SELECT h.id, d.sz FROM \
     (SELECT id FROM articles WHERE status = 'draft' \
     UNION SELECT id FROM articles WHERE status = 'published' AND published_at > ?1 \
     UNION SELECT id FROM articles WHERE status = 'published' AND published_at IS NULL \
     UNION SELECT id FROM articles WHERE unpublish_at <= ?1) h \
     LEFT JOIN articles_fts_docsize d ON d.id = h.id";

/// The hidden rows a connection keeps, and what they were read under: the content
/// version and the statement's `hidden_key` (see the module).
struct KeptHidden {
    version: i64,
    key: String,
    hidden: std::sync::Arc<Hidden>,
}

/// Reads the hidden rows as of `now` (a value of the statement, bound as it is) on the
/// statement's own connection, within its read (the same snapshot as the index).
unsafe fn read_hidden(
    db: *mut ffi::sqlite3,
    now: *mut ffi::sqlite3_value,
) -> Result<Hidden, c_int> {
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    // SAFETY: `db` is the connection running this statement; the statement made here is
    // stepped to its end or to an error and always finalised; each row's blob is read
    // before the next step.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            db,
            HIDDEN_ROWS.as_ptr(),
            -1,
            &mut stmt,
            std::ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            ffi::sqlite3_finalize(stmt);
            return Err(rc);
        }
        let rc = ffi::sqlite3_bind_value(stmt, 1, now);
        if rc != ffi::SQLITE_OK {
            ffi::sqlite3_finalize(stmt);
            return Err(rc);
        }
        let mut hidden = Hidden::default();
        let outcome = loop {
            match ffi::sqlite3_step(stmt) {
                ffi::SQLITE_ROW => {
                    hidden.ids.push(ffi::sqlite3_column_int64(stmt, 0));
                    if ffi::sqlite3_column_type(stmt, 1) == ffi::SQLITE_BLOB {
                        let bytes = ffi::sqlite3_column_blob(stmt, 1).cast::<u8>();
                        let len = ffi::sqlite3_column_bytes(stmt, 1).max(0) as usize;
                        let sz = match bytes.is_null() {
                            true => &[][..],
                            false => std::slice::from_raw_parts(bytes, len),
                        };
                        match row_tokens(sz) {
                            Some(tokens) => {
                                hidden.indexed += 1;
                                hidden.tokens += tokens;
                            }
                            None => break Err(ffi::SQLITE_CORRUPT),
                        }
                    }
                }
                ffi::SQLITE_DONE => break Ok(()),
                rc => break Err(rc),
            }
        };
        ffi::sqlite3_finalize(stmt);
        outcome?;
        Ok(hidden.seal())
    }
}

/// The rows readers cannot see, by id, ascending, and the number of them in the index
/// with their tokens.
#[derive(Debug, Default, PartialEq)]
struct Hidden {
    ids: Vec<i64>,
    indexed: i64,
    tokens: i64,
    /// A hash of `ids`, made once ([`Hidden::seal`]).
    print: u64,
}

impl Hidden {
    /// Reads `id:sz,...` (see the module); `None` when malformed.
    fn parse(text: &str) -> Option<Hidden> {
        let mut hidden = Hidden::default();
        for entry in text.split(',').filter(|e| !e.is_empty()) {
            let (id, sz) = entry.split_once(':')?;
            hidden.ids.push(id.parse().ok()?);
            if !sz.is_empty() {
                hidden.indexed += 1;
                hidden.tokens += row_tokens(&hex_bytes(sz)?)?;
            }
        }
        Some(hidden.seal())
    }

    /// Sorts the ids, drops repeats and hashes them.
    fn seal(mut self) -> Hidden {
        use std::hash::BuildHasher;
        self.ids.sort_unstable();
        self.ids.dedup();
        self.print = foldhash::fast::FixedState::default().hash_one(&self.ids);
        self
    }

    fn contains(&self, rowid: i64) -> bool {
        self.ids.binary_search(&rowid).is_ok()
    }

    /// A hash of the ids, for the stamp.
    fn fingerprint(&self) -> u64 {
        self.print
    }
}

/// Bytes from hexadecimal digits (SQLite's `hex()`), `None` when malformed.
fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The tokens of a row from its entry in FTS5's table of row lengths: one varint per
/// column (SQLite's varint: seven bits a byte, most significant first, the high bit set
/// on every byte but the last; a ninth byte gives all eight), summed. `None` when the
/// entry is cut short.
pub(crate) fn row_tokens(sz: &[u8]) -> Option<i64> {
    let mut total = 0_i64;
    let mut rest = sz;
    while !rest.is_empty() {
        let mut value = 0_u64;
        let mut used = 0;
        loop {
            let byte = *rest.get(used)?;
            used += 1;
            if used == 9 {
                value = (value << 8) | u64::from(byte);
                break;
            }
            value = (value << 7) | u64::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                break;
            }
        }
        total = total.checked_add(i64::try_from(value).ok()?)?;
        rest = &rest[used..];
    }
    Some(total)
}

impl Counts {
    /// The count of `phrase` under `stamp`, if kept.
    fn get(&self, stamp: Stamp, phrase: &str) -> Option<i64> {
        (self.stamp == stamp)
            .then(|| self.hits.get(phrase).copied())
            .flatten()
    }

    /// Keeps a count made under `stamp`.
    fn put(&mut self, stamp: Stamp, phrase: &str, hits: i64) {
        if self.renew(stamp) {
            if self.hits.len() >= KEPT_PHRASES {
                self.hits.clear();
            }
            self.hits.insert(phrase.to_owned(), hits);
        }
    }

    /// The length in tokens of row `rowid` under `stamp`, if kept.
    fn length(&self, stamp: Stamp, rowid: i64) -> Option<c_int> {
        if self.stamp != stamp {
            return None;
        }
        let block = self.lengths.get(&rowid.div_euclid(LENGTH_BLOCK))?;
        match block[rowid.rem_euclid(LENGTH_BLOCK) as usize] {
            0 => None,
            kept => Some(c_int::from(kept - 1)),
        }
    }

    /// Keeps a row's length read under `stamp`, unless it is too long to keep.
    fn put_length(&mut self, stamp: Stamp, rowid: i64, tokens: c_int) {
        let Some(kept) = tokens
            .checked_add(1)
            .and_then(|t| u16::try_from(t).ok())
            .filter(|t| *t > 0)
        else {
            return;
        };
        if !self.renew(stamp) {
            return;
        }
        let key = rowid.div_euclid(LENGTH_BLOCK);
        if self.lengths.len() >= KEPT_LENGTH_BLOCKS && !self.lengths.contains_key(&key) {
            self.lengths.clear();
        }
        let block = self
            .lengths
            .entry(key)
            .or_insert_with(|| Box::new([0; LENGTH_BLOCK as usize]));
        block[rowid.rem_euclid(LENGTH_BLOCK) as usize] = kept;
    }

    /// Whether what was read under `stamp` may be kept: under the kept stamp, or a newer
    /// content version (which replaces everything kept). What a statement that began
    /// before a commit read (an older version) is not kept.
    fn renew(&mut self, stamp: Stamp) -> bool {
        if self.stamp == stamp {
            return true;
        }
        if stamp.version < self.stamp.version {
            return false;
        }
        self.stamp = stamp;
        self.hits.clear();
        self.lengths.clear();
        true
    }
}

/// The connection's store, locked (a panic elsewhere leaves nothing half-written in
/// it: every change is one map operation).
fn locked(store: Option<&Mutex<Counts>>) -> Option<std::sync::MutexGuard<'_, Counts>> {
    store.map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
}

/// What one statement computes once: each phrase's group (a phrase alone, or the
/// phrases that stand for one prefix), each group's IDF, the average row length.
struct Query {
    /// The group of each phrase.
    group_of: Vec<usize>,
    /// Each column's weight, as the statement gives them.
    weights: Vec<f64>,
    idf: Vec<f64>,
    avgdl: f64,
    freq: Vec<f64>,
    /// The stamp row lengths are kept under (none when the version is not given), and
    /// the connection's store.
    stamp: Option<Stamp>,
    store: *const Mutex<Counts>,
}

/// The function SQLite calls for each matching row.
unsafe extern "C" fn rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n: c_int,
    args: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes a valid API, context and `n` argument values for this call.
    let outcome = std::panic::catch_unwind(|| unsafe {
        score(&*api, fts, ffi::sqlite3_context_db_handle(ctx), n, args)
    });
    // SAFETY: `ctx` is this call's result context.
    unsafe {
        match outcome {
            Ok(Ok(score)) => ffi::sqlite3_result_double(ctx, score),
            Ok(Err(rc)) => ffi::sqlite3_result_error_code(ctx, rc),
            Err(_) => ffi::sqlite3_result_error_code(ctx, ffi::SQLITE_INTERNAL),
        }
    }
}

/// Turns an FTS5 return code into a `Result`.
fn ok(rc: c_int) -> Result<(), c_int> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}

/// The BM25 score of the current row (see the module's documentation).
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    db: *mut ffi::sqlite3,
    n: c_int,
    args: *mut *mut ffi::sqlite3_value,
) -> Result<f64, c_int> {
    let missing = ffi::SQLITE_MISUSE;
    let (get_aux, set_aux) = (
        api.xGetAuxdata.ok_or(missing)?,
        api.xSetAuxdata.ok_or(missing)?,
    );
    let (phrase_first, phrase_next, column_size) = (
        api.xPhraseFirst.ok_or(missing)?,
        api.xPhraseNext.ok_or(missing)?,
        api.xColumnSize.ok_or(missing)?,
    );
    if (n as usize) < FIRST_WEIGHT {
        return Err(missing);
    }
    // SAFETY: `args` holds `n` values (SQLite's contract); the auxiliary data is only
    // ever a `Query` set below, owned by FTS5 until the statement ends.
    unsafe {
        let args = std::slice::from_raw_parts(args, n as usize);
        let mut query = get_aux(fts, 0).cast::<Query>();
        if query.is_null() {
            let made = Box::into_raw(Box::new(prepare(api, fts, db, args)?));
            ok(set_aux(fts, made.cast::<c_void>(), Some(drop_query)))?;
            query = made;
        }
        let query = &mut *query;
        query.freq.iter_mut().for_each(|f| *f = 0.0);
        // Each phrase's hits in this row, column by column, walked in its own position
        // list: FTS5's list of every hit of every phrase in order (`xInst`) merges
        // those lists into an array first, which was 6% of a search's CPU.
        for (phrase, group) in query.group_of.iter().enumerate() {
            let mut iter = ffi::Fts5PhraseIter {
                a: std::ptr::null(),
                b: std::ptr::null(),
            };
            let (mut column, mut offset) = (0, 0);
            ok(phrase_first(
                fts,
                phrase as c_int,
                &mut iter,
                &mut column,
                &mut offset,
            ))?;
            let mut f = 0.0;
            while column >= 0 {
                f += query.weights.get(column as usize).copied().unwrap_or(1.0);
                phrase_next(fts, &mut iter, &mut column, &mut offset);
            }
            if let Some(sum) = query.freq.get_mut(*group) {
                *sum += f;
            }
        }
        // The row's length: FTS5 looks it up in its own table for every row; kept
        // per connection, a search over recent rows reads it once.
        let rowid = api.xRowid.ok_or(missing)?(fts);
        let store = (!query.store.is_null()).then(|| &*query.store);
        let kept = match (locked(store), query.stamp) {
            (Some(counts), Some(stamp)) => counts.length(stamp, rowid),
            _ => None,
        };
        let tokens = match kept {
            Some(tokens) => tokens,
            None => {
                let mut tokens: c_int = 0;
                ok(column_size(fts, -1, &mut tokens))?;
                if let (Some(mut counts), Some(stamp)) = (locked(store), query.stamp) {
                    counts.put_length(stamp, rowid, tokens);
                }
                tokens
            }
        };
        let d = f64::from(tokens);
        let mut score = 0.0;
        for (idf, f) in query.idf.iter().zip(&query.freq) {
            score += idf * ((f * (K1 + 1.0)) / (f + K1 * (1.0 - B + B * d / query.avgdl)));
        }
        Ok(score)
    }
}

unsafe extern "C" fn drop_query(query: *mut c_void) {
    // SAFETY: `query` is the box `score` handed to FTS5, handed back once.
    unsafe { drop(Box::from_raw(query.cast::<Query>())) }
}

/// Counts each phrase's articles (kept, or anew) and derives the IDFs, as `bm25()`.
unsafe fn prepare(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    db: *mut ffi::sqlite3,
    args: &[*mut ffi::sqlite3_value],
) -> Result<Query, c_int> {
    let missing = ffi::SQLITE_MISUSE;
    let phrase_count = api.xPhraseCount.ok_or(missing)?;
    let row_count = api.xRowCount.ok_or(missing)?;
    let total_size = api.xColumnTotalSize.ok_or(missing)?;
    let user_data = api.xUserData.ok_or(missing)?;
    // SAFETY: the FTS5 calls get this statement's context; the user data is the
    // `Mutex<Counts>` registered with the function for this connection.
    unsafe {
        let phrases = phrase_count(fts).max(0) as usize;
        let (mut fts_rows, mut fts_tokens) = (0_i64, 0_i64);
        ok(row_count(fts, &mut fts_rows))?;
        ok(total_size(fts, -1, &mut fts_tokens))?;
        let given = |i: usize| {
            (ffi::sqlite3_value_type(args[i]) == ffi::SQLITE_INTEGER)
                .then(|| ffi::sqlite3_value_int64(args[i]))
        };
        let (given_rows, given_tokens) = match (given(2), given(3)) {
            (Some(rows), Some(tokens)) => (rows, tokens),
            _ => (fts_rows, fts_tokens),
        };
        let store = user_data(fts).cast::<Mutex<Counts>>();
        let store = (!store.is_null()).then(|| &*store);
        let version = ffi::sqlite3_value_int64(args[0]);
        let hidden: std::sync::Arc<Hidden> = match (value_text(args[4]), value_text(args[5])) {
            (Some(text), _) => {
                std::sync::Arc::new(Hidden::parse(&text).ok_or(ffi::SQLITE_MISMATCH)?)
            }
            (None, Some(key)) if ffi::sqlite3_value_type(args[6]) != ffi::SQLITE_NULL => {
                let kept = locked(store).and_then(|counts| {
                    counts
                        .hidden
                        .as_ref()
                        .filter(|k| k.version == version && k.key == key)
                        .map(|k| k.hidden.clone())
                });
                match kept {
                    Some(hidden) => hidden,
                    None => {
                        let hidden = std::sync::Arc::new(read_hidden(db, args[6])?);
                        if let Some(mut counts) = locked(store) {
                            counts.hidden = Some(KeptHidden {
                                version,
                                key,
                                hidden: hidden.clone(),
                            });
                        }
                        hidden
                    }
                }
            }
            _ => std::sync::Arc::new(Hidden::default()),
        };
        // What readers can see; at least one row, and an average length that is a
        // number, when a staff search finds only what readers cannot see.
        let rows = (given_rows - hidden.indexed).max(1);
        let tokens = (given_tokens - hidden.tokens).max(0);
        let avgdl = match tokens {
            0 => 1.0,
            _ => tokens as f64 / rows as f64,
        };
        let stamp = Stamp {
            version,
            rows: fts_rows,
            tokens: fts_tokens,
            given_rows,
            given_tokens,
            hidden: hidden.fingerprint(),
        };
        let text = value_text(args[1]);
        // The groups' names and sizes, when they cover the phrases FTS5 found;
        // otherwise each phrase is its own group, nothing is kept and every count is
        // made, as `bm25()` would.
        let named: Option<Vec<(&str, usize)>> = match text.as_deref() {
            Some(t) if ffi::sqlite3_value_type(args[0]) == ffi::SQLITE_INTEGER => {
                let groups: Vec<(&str, usize)> = t.split(' ').map(group).collect();
                (groups.iter().map(|(_, size)| size).sum::<usize>() == phrases).then_some(groups)
            }
            _ => None,
        };
        let groups: Vec<(Option<&str>, usize)> = match &named {
            Some(groups) => groups.iter().map(|(n, size)| (Some(*n), *size)).collect(),
            None => (0..phrases).map(|_| (None, 1)).collect(),
        };
        let mut idf = Vec::with_capacity(groups.len());
        let mut group_of = Vec::with_capacity(phrases);
        for (g, (name, size)) in groups.into_iter().enumerate() {
            let first = group_of.len() as c_int;
            group_of.extend(std::iter::repeat_n(g, size));
            let kept = match (locked(store), name) {
                (Some(counts), Some(name)) => counts.get(stamp, name),
                _ => None,
            };
            let hits = match kept {
                Some(hits) => hits,
                None => {
                    let hits = count_rows(api, fts, first, size as c_int, &hidden)?;
                    if let (Some(mut counts), Some(name)) = (locked(store), name) {
                        counts.put(stamp, name, hits);
                    }
                    hits
                }
            };
            let mut value = (((rows - hits) as f64 + 0.5) / (hits as f64 + 0.5)).ln();
            // FTS5's floor for words in more than half the rows (and, unlike it, for
            // counts that do not fit the row total, which would make a NaN).
            if value.is_nan() || value <= 0.0 {
                value = 1e-6;
            }
            idf.push(value);
        }
        let versioned = ffi::sqlite3_value_type(args[0]) == ffi::SQLITE_INTEGER;
        Ok(Query {
            freq: vec![0.0; idf.len()],
            weights: args[FIRST_WEIGHT..]
                .iter()
                .map(|value| ffi::sqlite3_value_double(*value))
                .collect(),
            group_of,
            idf,
            avgdl,
            stamp: versioned.then_some(stamp),
            store: store.map_or(std::ptr::null(), |s| s as *const Mutex<Counts>),
        })
    }
}

/// A text argument, if it is one.
unsafe fn value_text(value: *mut ffi::sqlite3_value) -> Option<String> {
    // SAFETY: SQLite returns the value's text (or null) and its length in bytes, valid
    // until the value changes; it is copied at once.
    unsafe {
        if ffi::sqlite3_value_type(value) != ffi::SQLITE_TEXT {
            return None;
        }
        let text = ffi::sqlite3_value_text(value);
        if text.is_null() {
            return None;
        }
        let len = ffi::sqlite3_value_bytes(value).max(0) as usize;
        let bytes = std::slice::from_raw_parts(text, len);
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }
}

/// A group's name and size from `"pre"*=3` (three phrases), or a phrase's own name.
fn group(entry: &str) -> (&str, usize) {
    match entry.rsplit_once('=') {
        Some((name, size)) => match size.parse::<usize>() {
            Ok(size) if size > 0 => (name, size),
            _ => (entry, 1),
        },
        None => (entry, 1),
    }
}

/// The number of rows readers can see that contain any of the `size` phrases from
/// `first` (FTS5's own walk of their posting lists; for several, or with hidden rows,
/// their rows are gathered and told apart).
unsafe fn count_rows(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    first: c_int,
    size: c_int,
    hidden: &Hidden,
) -> Result<i64, c_int> {
    unsafe extern "C" fn one_more(
        _api: *const ffi::Fts5ExtensionApi,
        _fts: *mut ffi::Fts5Context,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: `data` is the counter `count_rows` passes, alive for the walk.
        unsafe { *data.cast::<i64>() += 1 };
        ffi::SQLITE_OK
    }
    unsafe extern "C" fn gather(
        api: *const ffi::Fts5ExtensionApi,
        fts: *mut ffi::Fts5Context,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: `data` is the list `count_rows` passes, alive for the walk; `api` and
        // `fts` are the walk's own.
        unsafe {
            let Some(rowid) = (*api).xRowid else {
                return ffi::SQLITE_MISUSE;
            };
            (*data.cast::<Vec<i64>>()).push(rowid(fts));
        }
        ffi::SQLITE_OK
    }
    let query_phrase = api.xQueryPhrase.ok_or(ffi::SQLITE_MISUSE)?;
    if size == 1 && hidden.ids.is_empty() {
        let mut hits = 0_i64;
        // SAFETY: `hits` outlives the walk, which calls `one_more` synchronously.
        ok(unsafe {
            query_phrase(
                fts,
                first,
                (&mut hits as *mut i64).cast::<c_void>(),
                Some(one_more),
            )
        })?;
        return Ok(hits);
    }
    let mut rows: Vec<i64> = Vec::new();
    for i in first..first + size {
        // SAFETY: `rows` outlives the walk, which calls `gather` synchronously.
        ok(unsafe {
            query_phrase(
                fts,
                i,
                (&mut rows as *mut Vec<i64>).cast::<c_void>(),
                Some(gather),
            )
        })?;
    }
    rows.sort_unstable();
    rows.dedup();
    rows.retain(|rowid| !hidden.contains(*rowid));
    Ok(rows.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::{Counts, KEPT_LENGTH_BLOCKS, LENGTH_BLOCK, Stamp};
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Double, Text};

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Scored {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Double)]
        ours: f64,
        #[diesel(sql_type = Double)]
        theirs: f64,
    }

    fn connection() -> diesel::SqliteConnection {
        let mut conn = crate::db::sqlite::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE VIRTUAL TABLE docs USING fts5(title, summary, body, content='',
                 contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
             CREATE TABLE state (version INTEGER NOT NULL);
             INSERT INTO state VALUES (1);",
        )
        .unwrap();
        let words = [
            "water", "rules", "harbour", "budget", "pension", "pensions", "grain", "deal",
        ];
        // A fixed pseudo-random corpus: earlier words are commoner, rows differ in
        // length, every column holds some words.
        let mut seed = 7_u64;
        let mut next = move |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((seed >> 33) as usize) % n
        };
        for id in 1..=80_i64 {
            let mut column = |count: usize| -> String {
                (0..count)
                    .map(|_| words[next(words.len()).min(next(words.len()))])
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let (title, summary, body) = (column(2), column(4), column(3 + (id as usize % 9)));
            diesel::sql_query("INSERT INTO docs (rowid, title, summary, body) VALUES (?, ?, ?, ?)")
                .bind::<BigInt, _>(id)
                .bind::<Text, _>(title)
                .bind::<Text, _>(summary)
                .bind::<Text, _>(body)
                .execute(&mut conn)
                .unwrap();
        }
        conn
    }

    fn both(conn: &mut diesel::SqliteConnection, expression: &str) -> Vec<Scored> {
        diesel::sql_query(
            "SELECT rowid AS id,
                 newsdesk_bm25(docs, (SELECT version FROM state), ?, NULL, NULL, NULL, NULL, NULL, 10.0, 5.0, 1.0) AS ours,
                 -bm25(docs, 10.0, 5.0, 1.0) AS theirs
             FROM docs WHERE docs MATCH ? ORDER BY rowid",
        )
        .bind::<Text, _>(expression)
        .bind::<Text, _>(expression)
        .load(conn)
        .unwrap()
    }

    fn assert_same_bits(rows: &[Scored], expression: &str) {
        assert!(!rows.is_empty(), "{expression} matched nothing");
        for row in rows {
            assert_eq!(
                row.ours.to_bits(),
                row.theirs.to_bits(),
                "{expression}, row {}: {} against bm25's {}",
                row.id,
                row.ours,
                row.theirs
            );
        }
    }

    #[test]
    fn scores_are_bm25s_to_the_bit_first_time_and_from_kept_counts() {
        let mut conn = connection();
        for expression in [
            "\"water\"",
            "\"water\" \"rules\"",
            "\"pension\"*",
            "\"grain\" \"deal\" \"budget\"",
            "\"harbour\" \"pen\"*",
        ] {
            // The first statement counts; the second reuses the kept counts.
            assert_same_bits(&both(&mut conn, expression), expression);
            assert_same_bits(&both(&mut conn, expression), expression);
        }
    }

    #[test]
    fn kept_counts_follow_the_index_as_it_changes() {
        let mut conn = connection();
        // Rare words (in fewer than half the rows), whose IDF is not FTS5's floor.
        let expression = "\"deal\" \"grain\"";
        assert_same_bits(&both(&mut conn, expression), expression);
        let add = |conn: &mut diesel::SqliteConnection, ids: std::ops::Range<i64>| {
            for id in ids {
                diesel::sql_query(
                    "INSERT INTO docs (rowid, title, summary, body) \
                     VALUES (?, 'deal', 'grain', 'water deal grain')",
                )
                .bind::<BigInt, _>(id)
                .execute(conn)
                .unwrap();
            }
        };
        // New rows with the words, the version moving with them as every content
        // commit moves it: the counts are made again.
        add(&mut conn, 100..110);
        conn.batch_execute("UPDATE state SET version = version + 1")
            .unwrap();
        assert_same_bits(&both(&mut conn, expression), expression);
        // Rows added without the version moving (another program's write): the
        // index's row and token totals change, and the counts are made again too.
        add(&mut conn, 200..205);
        assert_same_bits(&both(&mut conn, expression), expression);
        // A row rewritten longer (an edit): its kept length goes with the version.
        conn.batch_execute(
            "DELETE FROM docs WHERE rowid = 100;
             INSERT INTO docs (rowid, title, summary, body)
                 VALUES (100, 'deal', 'grain', 'water deal grain harbour budget rules water');
             UPDATE state SET version = version + 1",
        )
        .unwrap();
        assert_same_bits(&both(&mut conn, expression), expression);
        // Rows removed: FTS5 does not keep its totals of a contentless index up to
        // date on a delete, but the version moves (every delete of newsdesk's is a
        // content commit).
        conn.batch_execute(
            "DELETE FROM docs WHERE rowid >= 100; UPDATE state SET version = version + 1",
        )
        .unwrap();
        assert_same_bits(&both(&mut conn, expression), expression);
    }

    #[test]
    fn row_lengths_are_kept_by_block_up_to_what_a_block_holds() {
        let stamp = Stamp {
            version: 3,
            rows: 10,
            tokens: 100,
            ..Stamp::default()
        };
        let mut counts = Counts::default();
        // Rows on both sides of block edges, and the longest length a block keeps.
        let rows = [(1, 0), (255, 7), (256, 8), (257, 65_534), (1_000_000, 12)];
        for (rowid, tokens) in rows {
            counts.put_length(stamp, rowid, tokens);
        }
        for (rowid, tokens) in rows {
            assert_eq!(counts.length(stamp, rowid), Some(tokens), "row {rowid}");
        }
        assert_eq!(counts.length(stamp, 2), None, "a row never kept");
        // Too long to keep, or not a length: asked of FTS5 again each time.
        counts.put_length(stamp, 258, 65_535);
        counts.put_length(stamp, 259, -1);
        assert_eq!(counts.length(stamp, 258), None);
        assert_eq!(counts.length(stamp, 259), None);
        // Nothing is answered under another stamp, and a newer one starts afresh.
        let newer = Stamp {
            version: 4,
            ..stamp
        };
        assert_eq!(counts.length(newer, 255), None);
        counts.put_length(newer, 300, 5);
        assert_eq!(counts.length(newer, 255), None);
        assert_eq!(counts.length(newer, 300), Some(5));
        // Full (the block of row 300 and as many more as are kept): a row in a new
        // block drops every block, then is kept.
        let far = 100_000 * LENGTH_BLOCK;
        for block in 1..KEPT_LENGTH_BLOCKS as i64 {
            counts.put_length(newer, far + block * LENGTH_BLOCK, 9);
        }
        assert_eq!(counts.length(newer, 300), Some(5), "the block filled first");
        counts.put_length(newer, far + LENGTH_BLOCK + 1, 10);
        assert_eq!(
            counts.length(newer, 300),
            Some(5),
            "a kept block takes more rows"
        );
        counts.put_length(newer, 1, 6);
        assert_eq!(counts.length(newer, 300), None);
        assert_eq!(counts.length(newer, far + LENGTH_BLOCK + 1), None);
        assert_eq!(counts.length(newer, 1), Some(6));
    }

    #[test]
    fn a_row_too_long_to_keep_ranks_to_the_bit_every_time() {
        let mut conn = connection();
        let long = std::iter::repeat_n("water deal", 40_000)
            .collect::<Vec<_>>()
            .join(" ");
        diesel::sql_query(
            "INSERT INTO docs (rowid, title, summary, body) VALUES (90, 'grain', '', ?)",
        )
        .bind::<Text, _>(long)
        .execute(&mut conn)
        .unwrap();
        for _ in 0..2 {
            let rows = both(&mut conn, "\"water\" \"grain\"");
            assert!(rows.iter().any(|r| r.id == 90), "the long row matches");
            assert_same_bits(&rows, "water grain");
        }
    }

    #[test]
    fn an_expression_that_does_not_name_each_phrase_is_counted_each_time() {
        let mut conn = connection();
        // Three phrases named by two words: nothing is kept under the wrong name.
        let rows: Vec<Scored> = diesel::sql_query(
            "SELECT rowid AS id,
                 newsdesk_bm25(docs, 1, 'water rules', NULL, NULL, NULL, NULL, NULL, 10.0, 5.0, 1.0) AS ours,
                 -bm25(docs, 10.0, 5.0, 1.0) AS theirs
             FROM docs WHERE docs MATCH '\"water\" \"rules\" \"deal\"' ORDER BY rowid",
        )
        .load(&mut conn)
        .unwrap();
        assert_same_bits(&rows, "three phrases");
        let alone = both(&mut conn, "\"water\" \"rules\"");
        assert_same_bits(&alone, "two phrases");
    }

    #[test]
    fn row_lengths_are_read_from_their_varints() {
        assert_eq!(super::row_tokens(&[]), Some(0));
        assert_eq!(super::row_tokens(&[3, 0, 7]), Some(10));
        // 0x81 0x00 is 128; 0x82 0x01 is 257.
        assert_eq!(
            super::row_tokens(&[0x81, 0x00, 0x05, 0x82, 0x01]),
            Some(390)
        );
        assert_eq!(super::row_tokens(&[0x81]), None, "cut short");
        assert_eq!(super::hex_bytes("0A81ff"), Some(vec![0x0a, 0x81, 0xff]));
        assert_eq!(super::hex_bytes("0A8"), None);
        let hidden = super::Hidden::parse("7:0305,3:,7:0305").unwrap();
        assert_eq!(hidden.ids, vec![3, 7]);
        assert_eq!(
            (hidden.indexed, hidden.tokens),
            (2, 16),
            "each entry as given"
        );
        assert_eq!(super::Hidden::parse("x:01"), None);
    }

    #[test]
    fn rows_readers_cannot_see_count_for_nothing() {
        // The same rows in two indexes, one of them also holding the rows readers
        // cannot see (every fourth, or every third): over it, with those rows named,
        // the scores are `bm25()`'s over the other, to the bit.
        let mut conn = crate::db::sqlite::establish(":memory:").unwrap();
        let words = [
            "water", "rules", "harbour", "budget", "grain", "deal", "wind",
        ];
        let mut seed = 11_u64;
        let mut next = move |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((seed >> 33) as usize) % n
        };
        let rows: Vec<(i64, [String; 3])> = (1..=60_i64)
            .map(|id| {
                let mut column = |count: usize| -> String {
                    (0..count)
                        .map(|_| words[next(words.len()).min(next(words.len()))])
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                (id, [column(2), column(4), column(3 + (id as usize % 9))])
            })
            .collect();
        for every in [4_i64, 3] {
            conn.batch_execute(
                "DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS seen;
                 CREATE VIRTUAL TABLE docs USING fts5(title, summary, body, content='',
                     contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
                 CREATE VIRTUAL TABLE seen USING fts5(title, summary, body, content='',
                     contentless_delete=1, tokenize='unicode61 remove_diacritics 2');",
            )
            .unwrap();
            for (id, [title, summary, body]) in &rows {
                let tables: &[&str] = if id % every == 0 {
                    &["docs"]
                } else {
                    &["docs", "seen"]
                };
                for table in tables {
                    diesel::sql_query(format!(
                        "INSERT INTO {table} (rowid, title, summary, body) VALUES (?, ?, ?, ?)"
                    ))
                    .bind::<BigInt, _>(id)
                    .bind::<Text, _>(title)
                    .bind::<Text, _>(summary)
                    .bind::<Text, _>(body)
                    .execute(&mut conn)
                    .unwrap();
                }
            }
            for expression in ["\"water\" \"rules\"", "\"grain\"", "\"deal\" \"wind\""] {
                // Twice: the second time with the counts kept (version 1).
                for _ in 0..2 {
                    let ours: Vec<Scored> = diesel::sql_query(format!(
                        "SELECT rowid AS id,
                             newsdesk_bm25(docs, 1, ?, NULL, NULL,
                                 (SELECT group_concat(id || ':' || hex(sz), ',')
                                  FROM docs_docsize WHERE id % {every} = 0),
                                 NULL, NULL, 10.0, 5.0, 1.0) AS ours,
                             0.0 AS theirs
                         FROM docs WHERE docs MATCH ? AND rowid % {every} != 0 ORDER BY rowid"
                    ))
                    .bind::<Text, _>(expression)
                    .bind::<Text, _>(expression)
                    .load(&mut conn)
                    .unwrap();
                    let theirs: Vec<Scored> = diesel::sql_query(
                        "SELECT rowid AS id, 0.0 AS ours, -bm25(seen, 10.0, 5.0, 1.0) AS theirs
                         FROM seen WHERE seen MATCH ? ORDER BY rowid",
                    )
                    .bind::<Text, _>(expression)
                    .load(&mut conn)
                    .unwrap();
                    assert!(!theirs.is_empty(), "{expression} matched nothing");
                    let ours: Vec<(i64, u64)> =
                        ours.iter().map(|r| (r.id, r.ours.to_bits())).collect();
                    let theirs: Vec<(i64, u64)> =
                        theirs.iter().map(|r| (r.id, r.theirs.to_bits())).collect();
                    assert_eq!(ours, theirs, "{expression}, every {every}th hidden");
                }
            }
        }
    }
}
