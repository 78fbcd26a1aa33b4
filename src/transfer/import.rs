//! `newsdesk import`: loads records (see [`super`]) into the database, a batch of
//! records per transaction. Each record goes through the same checks as the API's
//! create of its kind, inside a savepoint: a record that fails is rolled back alone
//! and reported with its line and reason; the others go in. After each batch the
//! position reached is committed with it (the setting `import:<source>`), so an
//! interrupted import run again carries on after the last committed batch.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use diesel::prelude::*;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Actor;
use crate::auth::Role;
use crate::auth::scopes::Scopes;
use crate::db::{Db, DbConn, Scope, Written};
use crate::domain::articles::write::{
    Given, Known, NewArticle, Rendered, SearchEntry, Unwritten, prerender,
};
use crate::domain::input::Input;
use crate::domain::text::TextRule;
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::files::{FileName, Files};
use crate::schema::{
    article_corrections, article_revisions, articles, authors, breaking_items, collections, media,
    regions, sections, settings, tags, users,
};

/// Records per transaction on PostgreSQL, where a batch holds the writers' lock while it
/// runs (about 0.15 s at this size), so a server on the same database keeps writing.
/// Batches of 5,000 there were slower, not faster (bench/RESULTS.md).
pub const BATCH: usize = 500;

/// Records per transaction on SQLite, where the import writes on a connection of its own
/// and each commit copies the pages it wrote into the file: pages many records share (the
/// indexes' newest leaves, the search index's, the counts) are copied once a batch, so
/// bigger batches write less. An import of 100,000 short stories took 19.4–20.8 s in
/// batches of 500, 14.1–14.2 s in batches of 5,000 (bench/RESULTS.md).
pub const BATCH_SQLITE: usize = 5_000;

/// Line text a batch holds at most, whatever its records: an export with files carries
/// them in base64, and memory stays flat.
const BATCH_BYTES: usize = 64 << 20;

/// The error that rolls back a batch to do it again record by record.
const RETRY: &str = "a record of this import batch failed; the batch is done again";

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Into a database that already has content: a record whose slug (or a user whose
    /// email) exists is matched to it and left as it is.
    pub merge: bool,
    /// Records per transaction; `None`: [`BATCH_SQLITE`] on SQLite, [`BATCH`] on
    /// PostgreSQL.
    pub batch: Option<usize>,
}

/// One line of the source: its number (from 1) and its text.
pub type Line = (usize, String);

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Records imported, by kind.
    pub imported: Vec<(String, u64)>,
    /// Records matched to existing ones (with `--merge`), by kind.
    pub matched: Vec<(String, u64)>,
    /// Every line refused: its number and why.
    pub rejected: Vec<(usize, String)>,
    /// The line an interrupted import carried on after.
    pub resumed_after: Option<usize>,
    /// Uploaded images whose files were not in the source.
    pub files_missing: u64,
    /// Uploaded images whose files came in the source (their renditions are not).
    pub files_imported: u64,
}

fn bump(counts: &mut Vec<(String, u64)>, kind: &str) {
    match counts.iter_mut().find(|(k, _)| k == kind) {
        Some((_, n)) => *n += 1,
        None => counts.push((kind.to_owned(), 1)),
    }
}

impl Report {
    /// Records imported, all kinds.
    pub fn total(&self) -> u64 {
        self.imported.iter().map(|(_, n)| n).sum()
    }
}

/// What carries over from batch to batch (and across an interruption).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Progress {
    /// The last line committed.
    line: usize,
    /// Media keys of the source, to the ids given here.
    media: HashMap<String, i32>,
}

/// What every record needs.
struct Context {
    languages: Vec<String>,
    admin: Actor,
    merge: bool,
    files: Option<Files>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Whether the database holds content already (users do not count: the first admin
/// exists before anything is imported).
pub fn has_content(conn: &mut DbConn) -> AppResult<bool> {
    let counts: [i64; 8] = [
        articles::table.count().get_result(conn)?,
        tags::table.count().get_result(conn)?,
        authors::table.count().get_result(conn)?,
        sections::table.count().get_result(conn)?,
        regions::table.count().get_result(conn)?,
        media::table.count().get_result(conn)?,
        collections::table.count().get_result(conn)?,
        breaking_items::table.count().get_result(conn)?,
    ];
    Ok(counts.iter().any(|n| *n > 0))
}

fn progress_key(source: &str) -> String {
    format!("import:{source}")
}

/// Imports `lines` from the source named `source` (a stable id: the export's id, or a
/// hash of the file), as `admin` where a record names no creator.
#[allow(clippy::too_many_arguments)]
pub fn import(
    db: &Db,
    source: &str,
    lines: &mut (dyn Iterator<Item = Line> + Send),
    options: ImportOptions,
    languages: Vec<String>,
    admin: Actor,
    files: Option<Files>,
    bar: &ProgressBar,
) -> AppResult<Report> {
    let key = progress_key(source);
    let saved = {
        let key = key.clone();
        db.read_blocking(move |conn| crate::domain::settings::get(conn, &key))?
    };
    let mut report = Report::default();
    let mut progress = match saved {
        Some(json) => {
            let p: Progress = serde_json::from_str(&json)
                .map_err(|e| AppError::Internal(format!("unreadable import progress: {e}")))?;
            report.resumed_after = Some(p.line);
            p
        }
        None => {
            if !options.merge && db.read_blocking(has_content)? {
                return Err(AppError::Conflict {
                    code: "not_empty",
                    detail: "the database already has content: import into an empty \
                             database, or pass --merge to match records by slug"
                        .into(),
                });
            }
            Progress::default()
        }
    };
    let runtime = match files {
        Some(_) => Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AppError::Internal(format!("cannot start: {e}")))?,
        ),
        None => None,
    };
    let ctx = Arc::new(std::sync::Mutex::new(Context {
        languages,
        admin,
        merge: options.merge,
        files,
        runtime,
    }));
    // On SQLite, batches are written on a connection of the import's own, in plain
    // transactions (see `Db::bulk_writer`); a batch touches many pages, kept in a
    // 256 MB page cache rather than read again.
    let mut bulk = db.bulk_writer(256 * 1024)?;
    let per_batch = options
        .batch
        .unwrap_or(if bulk.is_some() { BATCH_SQLITE } else { BATCH })
        .max(1);
    let mut run = |mut bulk: Option<&mut DbConn>| -> AppResult<()> {
        let skip_to = progress.line;
        let mut lines = lines.skip_while(|(n, _)| *n <= skip_to);
        bar.set_position(skip_to as u64);
        let mut write_one = |mut bulk: Option<&mut DbConn>,
                             parsed: Vec<Prepared>,
                             last: usize|
         -> AppResult<()> {
            // First all records in the batch's one transaction; when one fails, the batch
            // is rolled back and done again with each record in a savepoint of its own, so
            // only the failing ones are left out (savepoints cost: most batches need none).
            let parsed = Arc::new(parsed);
            let mut done = None;
            for careful in [false, true] {
                let attempt = match bulk.as_deref_mut() {
                    Some(conn) => crate::db::sqlite::write_transaction(conn, |conn| {
                        let out = write_batch(conn, &ctx, &parsed, careful, &progress, &key, last)?;
                        crate::db::freshness::bump(conn)?;
                        Ok(out)
                    }),
                    None => {
                        let (ctx, key, parsed, p) =
                            (ctx.clone(), key.clone(), parsed.clone(), progress.clone());
                        db.write_content_blocking(move |conn| {
                            let out = write_batch(conn, &ctx, &parsed, careful, &p, &key, last)?;
                            Ok(Written::content(out, Scope::All))
                        })
                    }
                };
                match attempt {
                    Err(AppError::Internal(m)) if m == RETRY && !careful => continue,
                    other => {
                        done = Some(other?);
                        break;
                    }
                }
            }
            let Some((next, outcomes)) = done else {
                return Err(AppError::Internal("an import batch was not written".into()));
            };
            progress = next;
            for (line, kind, outcome) in outcomes {
                match outcome {
                    Outcome::Imported { file } => {
                        bump(&mut report.imported, &kind);
                        match file {
                            File::Missing => report.files_missing += 1,
                            File::Imported => report.files_imported += 1,
                            File::None => {}
                        }
                    }
                    Outcome::Matched => bump(&mut report.matched, &kind),
                    Outcome::Skipped => {}
                    Outcome::Rejected(reason) => {
                        bar.suspend(|| eprintln!("line {line}: {kind}: {reason}"));
                        report.rejected.push((line, reason));
                    }
                }
            }
            bar.set_position(last as u64);
            Ok(())
        };
        // The next batch is read, parsed and rendered on a thread of its own (and the
        // cores the writer leaves) while this one is written; one batch ahead at most.
        std::thread::scope(|s| {
            let (ready, batches) = std::sync::mpsc::sync_channel::<(usize, Vec<Prepared>)>(0);
            let reader = s.spawn(move || {
                loop {
                    let batch = next_batch(&mut lines, per_batch, BATCH_BYTES);
                    let Some(last) = batch.last().map(|(n, _)| *n) else {
                        break;
                    };
                    if ready.send((last, prepare(batch))).is_err() {
                        break;
                    }
                }
            });
            let mut written = Ok(());
            for (last, parsed) in batches.iter() {
                written = write_one(bulk.as_deref_mut(), parsed, last);
                if written.is_err() {
                    break;
                }
            }
            drop(batches);
            // A panic while reading or preparing is a bug: it stops the import after the
            // batches already written, losing nothing.
            if let Err(panic) = reader.join() {
                std::panic::resume_unwind(panic);
            }
            written
        })
    };
    match bulk.as_mut() {
        Some(conn) => crate::db::sqlite::bulk_search_index(conn, |conn| run(Some(conn)))?,
        None => run(None)?,
    }
    drop(bulk);
    // Forgets the progress; and caches of this process (a test's server) learn of the
    // imported records as of any write (other processes see the counter each batch
    // bumped).
    db.write_content_blocking(move |conn| {
        diesel::delete(settings::table.filter(settings::key.eq(&key))).execute(conn)?;
        Ok(Written::content((), Scope::All))
    })?;
    // On SQLite the server analyses the tables as it starts (doing it here too made an
    // import of 100,000 articles 3.5 s longer); PostgreSQL's vacuum is nobody's job
    // until autovacuum gets round to it.
    if db.is_postgres() {
        db.settle_after_bulk_load()?;
    }
    Ok(report)
}

type BatchOutcome = (Progress, Vec<(usize, String, Outcome)>);

/// Writes one batch in the transaction open on `conn`: every record, then the position
/// reached. Not `careful`, the first failing record fails the batch with [`RETRY`];
/// `careful`, each record goes in a savepoint of its own and a failing one is reported.
fn write_batch(
    conn: &mut DbConn,
    ctx: &std::sync::Mutex<Context>,
    parsed: &[Prepared],
    careful: bool,
    progress: &Progress,
    key: &str,
    last: usize,
) -> AppResult<BatchOutcome> {
    let ctx = ctx
        .lock()
        .map_err(|_| AppError::Internal("import context poisoned".into()))?;
    let mut p = progress.clone();
    let mut outcomes = Vec::with_capacity(parsed.len());
    let mut search = Vec::new();
    // What this attempt's articles looked up, for the next ones, and the counts they
    // moved: kept no longer than the attempt, so a batch done again starts afresh.
    let mut known = Looked {
        names: Known::tallying(),
        users: HashMap::new(),
        waiting: Vec::new(),
    };
    if !careful {
        // The slugs the batch's stories give, asked for at once.
        let slugs = parsed
            .iter()
            .filter_map(|item| item.record.as_ref().ok())
            .filter(|r| r["type"] == "article")
            .filter_map(slug_of)
            .collect();
        if known.names.expect_slugs(conn, slugs).is_err() {
            return Err(AppError::Internal(RETRY.into()));
        }
    }
    for item in parsed {
        // Articles wait to be written together until a record of another kind, which
        // may name them (a revision, a correction).
        let an_article = matches!(&item.record, Ok(r) if r["type"] == "article");
        if !an_article && write_waiting(conn, &mut known, &mut search).is_err() {
            return Err(AppError::Internal(RETRY.into()));
        }
        let outcome = match &item.record {
            Err(reason) => Outcome::Rejected(reason.clone()),
            Ok(record) if careful => {
                let mark = search.len();
                let counted = known.names.tally.clone();
                match conn.transaction(|c| {
                    let rendered = item.rendered.clone();
                    apply(
                        c,
                        &ctx,
                        &mut p,
                        &mut known,
                        &mut search,
                        record,
                        rendered,
                        true,
                    )
                }) {
                    Ok(o) => o,
                    Err(e) => {
                        // Rolled back: its article is not there to be found or counted.
                        search.truncate(mark);
                        known.names.tally = counted;
                        Outcome::Rejected(reason_of(&e))
                    }
                }
            }
            Ok(record) => {
                match apply(
                    conn,
                    &ctx,
                    &mut p,
                    &mut known,
                    &mut search,
                    record,
                    item.rendered.clone(),
                    false,
                ) {
                    Ok(o) => o,
                    Err(_) => return Err(AppError::Internal(RETRY.into())),
                }
            }
        };
        outcomes.push((item.line, item.kind.clone(), outcome));
    }
    if write_waiting(conn, &mut known, &mut search).is_err() {
        return Err(AppError::Internal(RETRY.into()));
    }
    let entries: Vec<_> = search
        .iter()
        .map(|e| (e.id, &*e.title, &*e.summary, &*e.body))
        .collect();
    crate::db::dialect::fts_insert_many(conn, &entries)?;
    if let Some(tally) = known.names.tally.as_mut() {
        tally.write(conn)?;
    }
    p.line = last;
    save_progress(conn, key, &p)?;
    Ok((p, outcomes))
}

fn save_progress(conn: &mut DbConn, key: &str, p: &Progress) -> AppResult<()> {
    let value = serde_json::to_string(p)
        .map_err(|e| AppError::Internal(format!("import progress: {e}")))?;
    diesel::delete(settings::table.filter(settings::key.eq(key))).execute(conn)?;
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .execute(conn)?;
    Ok(())
}

/// An uploaded image's file, as the source had it.
enum File {
    /// Not an upload.
    None,
    /// An upload whose file the source carried.
    Imported,
    /// An upload whose file the source left out.
    Missing,
}

enum Outcome {
    Imported { file: File },
    Matched,
    Skipped,
    Rejected(String),
}

struct Prepared {
    line: usize,
    kind: String,
    record: Result<Value, String>,
    rendered: Option<Rendered>,
}

/// Up to `records` lines, ending with the line that reaches `max_bytes` of text (so at
/// least one line, however long); empty at the end.
fn next_batch(
    lines: &mut impl Iterator<Item = Line>,
    records: usize,
    max_bytes: usize,
) -> Vec<Line> {
    let mut batch = Vec::with_capacity(records.min(BATCH_SQLITE));
    let mut bytes = 0;
    while batch.len() < records && bytes < max_bytes {
        let Some(line) = lines.next() else { break };
        bytes += line.1.len();
        batch.push(line);
    }
    batch
}

/// Parses each line and renders each article's body, on the cores the writer leaves.
fn prepare(batch: Vec<Line>) -> Vec<Prepared> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.saturating_sub(1).max(1);
    if threads == 1 {
        return batch.iter().map(prepare_one).collect();
    }
    let chunk = batch.len().div_ceil(threads).max(1);
    let mut out: Vec<Prepared> = Vec::with_capacity(batch.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|lines| s.spawn(move || lines.iter().map(prepare_one).collect::<Vec<_>>()))
            .collect();
        for h in handles {
            // A panic while preparing is a bug: it stops the import, losing nothing.
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    out
}

fn prepare_one((line, text): &Line) -> Prepared {
    let record = serde_json::from_str::<Value>(text)
        .map_err(|e| format!("not a JSON object: {e}"))
        .and_then(|v| match v {
            Value::Object(_) => Ok(v),
            _ => Err("not a JSON object".to_owned()),
        });
    let kind = record
        .as_ref()
        .ok()
        .and_then(|r| r["type"].as_str())
        .unwrap_or("record")
        .to_owned();
    let rendered = match (&record, kind.as_str()) {
        (Ok(r), "article") => r["data"]["body"]
            .as_str()
            .and_then(|b| prerender(&Input::Value(b.to_owned()))),
        _ => None,
    };
    Prepared {
        line: *line,
        kind,
        record,
        rendered,
    }
}

/// The reason a record was refused, with each field at fault.
fn reason_of(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::invalid(field, message)
}

fn timestamp(record: &Value, field: &str) -> AppResult<Option<chrono::NaiveDateTime>> {
    match &record[field] {
        Value::Null => Ok(None),
        Value::String(s) => Timestamp::parse(s)
            .map(|t| Some(t.0))
            .ok_or_else(|| invalid(field, "must be an RFC 3339 time")),
        _ => Err(invalid(field, "must be an RFC 3339 time")),
    }
}

/// `data` as the create body of its kind.
fn body<T: serde::de::DeserializeOwned>(record: &Value) -> AppResult<T> {
    let data = match &record["data"] {
        Value::Object(_) => record["data"].clone(),
        _ => return Err(invalid("data", "must be an object")),
    };
    serde_json::from_value(data).map_err(|e| invalid("data", e.to_string()))
}

/// Replaces a media key in `data.field` by the id it was given here.
fn map_media(record: &mut Value, field: &str, p: &Progress) -> AppResult<()> {
    let key = match &record["data"][field] {
        Value::Null => return Ok(()),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid(field, "must be a media key")),
    };
    let id = p
        .media
        .get(&key)
        .ok_or_else(|| invalid(field, format!("media {key} is not in this import")))?;
    record["data"][field] = Value::from(*id);
    Ok(())
}

fn slug_of(record: &Value) -> Option<String> {
    record["data"]["slug"].as_str().map(str::to_owned)
}

/// Writes one record (`careful`: in a savepoint of its own, so nothing may wait).
#[allow(clippy::too_many_arguments)]
fn apply(
    conn: &mut DbConn,
    ctx: &Context,
    p: &mut Progress,
    known: &mut Looked,
    search: &mut Vec<SearchEntry>,
    record: &Value,
    rendered: Option<Rendered>,
    careful: bool,
) -> AppResult<Outcome> {
    let kind = record["type"].as_str().unwrap_or_default();
    let imported = Outcome::Imported { file: File::None };
    let languages = &ctx.languages;
    match kind {
        super::FORMAT => {
            if record["version"].as_i64() != Some(super::VERSION) {
                return Err(invalid(
                    "version",
                    format!("this build reads version {} exports", super::VERSION),
                ));
            }
            Ok(Outcome::Skipped)
        }
        "user" => user(conn, record),
        "media" => media_(conn, ctx, p, record),
        "author" => {
            let mut record = record.clone();
            if ctx.merge && exists(conn, "author", slug_of(&record))? {
                return Ok(Outcome::Matched);
            }
            map_media(&mut record, "avatar_media_id", p)?;
            let made = crate::domain::authors::create(conn, body(&record)?, languages)?
                .within_a_write_of_everything();
            stamp(conn, "author", made.id, &record)?;
            redirects(conn, "author", made.id, &made.slug, &record)?;
            Ok(imported)
        }
        "tag" => {
            if ctx.merge && exists(conn, "tag", slug_of(record))? {
                return Ok(Outcome::Matched);
            }
            let made = crate::domain::tags::create(conn, body(record)?, languages)?
                .within_a_write_of_everything();
            stamp(conn, "tag", made.id, record)?;
            redirects(conn, "tag", made.id, &made.slug, record)?;
            Ok(imported)
        }
        "region" => {
            if ctx.merge && exists(conn, "region", slug_of(record))? {
                return Ok(Outcome::Matched);
            }
            let made = crate::domain::regions::create(conn, body(record)?, languages)?
                .within_a_write_of_everything();
            stamp(conn, "region", made.id, record)?;
            redirects(conn, "region", made.id, &made.slug, record)?;
            Ok(imported)
        }
        "section" => {
            if ctx.merge && exists(conn, "section", slug_of(record))? {
                return Ok(Outcome::Matched);
            }
            let made = crate::domain::sections::create(conn, body(record)?, languages)?
                .within_a_write_of_everything();
            stamp(conn, "section", made.id, record)?;
            redirects(conn, "section", made.id, &made.slug, record)?;
            Ok(imported)
        }
        "article" => article(conn, ctx, p, known, search, record, rendered, careful),
        "correction" => correction(conn, record),
        "revision" => revision(conn, known, record),
        "collection" => {
            let mut record = record.clone();
            if ctx.merge && exists(conn, "collection", slug_of(&record))? {
                return Ok(Outcome::Matched);
            }
            map_media(&mut record, "hero_media_id", p)?;
            let made =
                crate::domain::collections::create(conn, ctx.admin, body(&record)?, languages)?
                    .within_a_write_of_everything();
            stamp(conn, "collection", made.id, &record)?;
            redirects(conn, "collection", made.id, &made.slug, &record)?;
            Ok(imported)
        }
        "breaking" => {
            let made = crate::domain::breaking::create(conn, body(record)?, languages)?
                .within_a_write_of_everything();
            stamp(conn, "breaking", made.id, record)?;
            Ok(imported)
        }
        "" => Err(invalid("type", "is missing")),
        other => Err(invalid(
            "type",
            format!("{other:?} is not a kind of record"),
        )),
    }
}

/// Whether a resource of `kind` holds `slug` already.
fn exists(conn: &mut DbConn, kind: &str, slug: Option<String>) -> AppResult<bool> {
    let Some(slug) = slug else { return Ok(false) };
    let n: i64 = match kind {
        "author" => authors::table
            .filter(authors::slug.eq(&slug))
            .count()
            .get_result(conn)?,
        "tag" => tags::table
            .filter(tags::slug.eq(&slug))
            .count()
            .get_result(conn)?,
        "region" => regions::table
            .filter(regions::slug.eq(&slug))
            .count()
            .get_result(conn)?,
        "section" => sections::table
            .filter(sections::slug.eq(&slug))
            .count()
            .get_result(conn)?,
        "collection" => collections::table
            .filter(collections::slug.eq(&slug))
            .count()
            .get_result(conn)?,
        _ => articles::table
            .filter(articles::slug.eq(&slug))
            .count()
            .get_result(conn)?,
    };
    Ok(n > 0)
}

/// The record's `created_at` and `updated_at` (its creation time when it has no
/// update time), if it has them.
fn times(record: &Value) -> AppResult<Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)>> {
    let created = timestamp(record, "created_at")?;
    let updated = timestamp(record, "updated_at")?.or(created);
    Ok(created.zip(updated))
}

/// Keeps the record's `created_at` and `updated_at` (articles take them as they are
/// created).
fn stamp(conn: &mut DbConn, kind: &str, id: i32, record: &Value) -> AppResult<()> {
    let Some((created, updated)) = times(record)? else {
        return Ok(());
    };
    macro_rules! set {
        ($table:ident) => {
            crate::on_backend!(conn, |c| diesel::update($table::table.find(id))
                .set((
                    $table::created_at.eq(created),
                    $table::updated_at.eq(updated),
                ))
                .execute(c)?)
        };
    }
    match kind {
        "author" => set!(authors),
        "tag" => set!(tags),
        "region" => set!(regions),
        "section" => set!(sections),
        "collection" => set!(collections),
        "breaking" => set!(breaking_items),
        "media" => set!(media),
        "user" => set!(users),
        _ => 0,
    };
    Ok(())
}

/// The record's former slugs keep redirecting.
fn redirects(conn: &mut DbConn, kind: &str, id: i32, slug: &str, record: &Value) -> AppResult<()> {
    for old in record["old_slugs"].as_array().into_iter().flatten() {
        let Some(old) = old.as_str() else {
            return Err(invalid("old_slugs", "must be a list of slugs"));
        };
        if !crate::domain::slug::is_valid(old) {
            return Err(invalid("old_slugs", format!("{old:?} is not a slug")));
        }
        crate::domain::old_slugs::take(conn, kind, slug, id, Some(old))?;
    }
    Ok(())
}

fn user(conn: &mut DbConn, record: &Value) -> AppResult<Outcome> {
    let email = record["data"]["email"].as_str().unwrap_or_default();
    if crate::domain::users::find_by_email(conn, email)?.is_some() {
        return Ok(Outcome::Matched);
    }
    // The account's fields are checked as a create's; the password is not the file's
    // to give: the hash it carries (with --with-credentials), or none, so the account
    // cannot sign in until `newsdesk user set-password`.
    let mut data = record["data"].clone();
    if let Value::Object(m) = &mut data {
        m.insert(
            "password".into(),
            Value::from(crate::auth::secrets::random_token("")),
        );
    }
    let create: crate::domain::users::UserCreate =
        serde_json::from_value(data).map_err(|e| invalid("data", e.to_string()))?;
    let new = crate::domain::users::validate_create(create)?;
    let hash = match record["password_hash"].as_str() {
        Some(h) if argon2::PasswordHash::new(h).is_ok() => h.to_owned(),
        Some(_) => return Err(invalid("password_hash", "is not a password hash")),
        None => NO_PASSWORD.to_owned(),
    };
    let made = crate::domain::users::insert(conn, &new, &hash)?;
    stamp(conn, "user", made.id, record)?;
    Ok(Outcome::Imported { file: File::None })
}

/// The stored hash of an account imported without credentials: it matches no password.
pub const NO_PASSWORD: &str = "!imported-without-a-password";

const MEDIA_TEXT: TextRule = TextRule::block(5_000);

fn media_(
    conn: &mut DbConn,
    ctx: &Context,
    p: &mut Progress,
    record: &Value,
) -> AppResult<Outcome> {
    let key = match &record["key"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid("key", "is missing")),
    };
    let stored = &record["stored"];
    let mut file = File::None;
    let id = if stored.is_object() {
        // An uploaded image: its metadata as stored, and its file when the source
        // carries it.
        let sha = stored["sha256"].as_str().unwrap_or_default();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("stored.sha256", "must be 64 hex digits"));
        }
        let data = &record["data"];
        for field in ["caption", "credit", "alt_text"] {
            if let Some(text) = data[field].as_str() {
                MEDIA_TEXT
                    .check(text)
                    .map_err(|m| invalid(&format!("data.{field}"), m))?;
            }
        }
        let mime = data["mime_type"].as_str().unwrap_or("image/jpeg");
        let ext = crate::files::ext_of(mime)
            .ok_or_else(|| invalid("data.mime_type", "is not a type newsdesk stores"))?;
        match record["file"].as_str() {
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| invalid("file", format!("is not base64: {e}")))?;
                if hex_sha256(&bytes) != sha {
                    return Err(invalid("file", "does not match stored.sha256"));
                }
                if let (Some(files), Some(rt)) = (&ctx.files, &ctx.runtime) {
                    rt.block_on(files.put(&FileName::original(sha, ext), bytes.into()))
                        .map_err(|e| AppError::Internal(format!("cannot store the file: {e}")))?;
                }
                file = File::Imported;
            }
            None => file = File::Missing,
        }
        let focal = &data["focal_point"];
        // The file's address here: the same name under this instance's files URL
        // (renditions moved along with it).
        let name = FileName::original(sha, ext);
        let old_url = data["url"].as_str().unwrap_or_default().to_owned();
        let (url, renditions) = match &ctx.files {
            Some(files) => {
                let new_url = files.url(&name);
                let old_base = old_url.strip_suffix(&name.key()).unwrap_or_default();
                let new_base = new_url.strip_suffix(&name.key()).unwrap_or_default();
                let mut renditions = stored["renditions"].clone();
                for r in renditions.as_array_mut().into_iter().flatten() {
                    if let Some(u) = r["url"].as_str()
                        && !old_base.is_empty()
                        && let Some(rest) = u.strip_prefix(old_base)
                    {
                        r["url"] = Value::from(format!("{new_base}{rest}"));
                    }
                }
                (new_url, renditions)
            }
            None => (old_url, stored["renditions"].clone()),
        };
        let renditions = match renditions {
            Value::Array(_) => renditions.to_string(),
            _ => "[]".to_owned(),
        };
        let language = data["language"]
            .as_str()
            .filter(|l| ctx.languages.iter().any(|c| c == l))
            .or(ctx.languages.first().map(String::as_str))
            .unwrap_or("en")
            .to_owned();
        let localized = match &data["localized"] {
            Value::Object(_) => data["localized"].to_string(),
            _ => "{}".to_owned(),
        };
        let now = Timestamp::now().0;
        crate::on_backend!(conn, |c| diesel::insert_into(media::table)
            .values((
                media::kind.eq("image"),
                media::url.eq(&url),
                media::mime_type.eq(mime),
                media::width.eq(data["width"].as_i64().map(|w| w as i32)),
                media::height.eq(data["height"].as_i64().map(|h| h as i32)),
                media::caption.eq(data["caption"].as_str()),
                media::credit.eq(data["credit"].as_str()),
                media::alt_text.eq(data["alt_text"].as_str()),
                media::language.eq(language),
                media::created_at.eq(now),
                media::updated_at.eq(now),
                media::localized.eq(localized),
                media::bytes.eq(stored["bytes"].as_i64()),
                media::sha256.eq(sha),
                media::focal_x.eq(focal["x"].as_f64()),
                media::focal_y.eq(focal["y"].as_f64()),
                media::dominant_color.eq(stored["dominant_color"].as_str()),
                media::placeholder.eq(stored["placeholder"].as_str()),
                media::renditions.eq(renditions),
            ))
            .returning(media::id)
            .get_result::<i32>(c)?)
    } else {
        crate::domain::media::create(conn, body(record)?, &ctx.languages)?
            .within_a_write_of_everything()
            .id
    };
    stamp(conn, "media", id, record)?;
    p.media.insert(key, id);
    Ok(Outcome::Imported { file })
}

/// What one attempt at a batch has looked up: the names its articles gave
/// ([`Known`], with the counts they moved) and the ids of the staff accounts that
/// created them, by email; and its articles checked but not yet written.
struct Looked {
    names: Known,
    users: HashMap<String, i32>,
    /// Written together ([`write_waiting`]) before anything may look for them.
    waiting: Vec<Unwritten>,
}

/// Writes the articles waiting (in a few statements of many rows on PostgreSQL), their
/// search entries to `search`.
fn write_waiting(
    conn: &mut DbConn,
    known: &mut Looked,
    search: &mut Vec<SearchEntry>,
) -> AppResult<()> {
    if !known.waiting.is_empty() {
        let waiting = std::mem::take(&mut known.waiting);
        write_now(conn, known, search, waiting)?;
    }
    Ok(())
}

/// Writes `new` articles; their search entries go to `search`.
fn write_now(
    conn: &mut DbConn,
    known: &mut Looked,
    search: &mut Vec<SearchEntry>,
    new: Vec<Unwritten>,
) -> AppResult<Vec<NewArticle>> {
    let made = crate::domain::articles::write::create_many(conn, &mut known.names, new)?
        .within_a_write_of_everything();
    Ok(made
        .into_iter()
        .map(|(made, entry)| {
            search.push(entry);
            made
        })
        .collect())
}

fn user_id(conn: &mut DbConn, known: &mut Looked, email: Option<&str>) -> AppResult<Option<i32>> {
    let Some(email) = email else { return Ok(None) };
    if let Some(id) = known.users.get(email) {
        return Ok(Some(*id));
    }
    let id = crate::domain::users::find_by_email(conn, email)?.map(|u| u.id);
    if let Some(id) = id {
        known.users.insert(email.to_owned(), id);
    }
    Ok(id)
}

/// An article, checked as the API's create checks it, then written with the batch's
/// others (each one a statement or more of its own was most of an import's time on
/// PostgreSQL); its search entry goes to `search`, written with the batch's others at
/// its end (one at a time, each was a segment of the search index of its own, merged
/// again and again). Written at once when the batch is done record by record
/// (`careful`), or when it has more to be done with it: a trashed article (which gets
/// no search entry, as the API's trash takes it out of the index) or one with former
/// slugs.
#[allow(clippy::too_many_arguments)]
fn article(
    conn: &mut DbConn,
    ctx: &Context,
    p: &mut Progress,
    known: &mut Looked,
    search: &mut Vec<SearchEntry>,
    record: &Value,
    rendered: Option<Rendered>,
    careful: bool,
) -> AppResult<Outcome> {
    let mut record = record.clone();
    if ctx.merge && exists(conn, "article", slug_of(&record))? {
        return Ok(Outcome::Matched);
    }
    map_media(&mut record, "hero_media_id", p)?;
    if !record["data"]["translation_of"].is_null() {
        // Joins the group of an article that may be waiting.
        write_waiting(conn, known, search)?;
    }
    let creator = user_id(conn, known, record["created_by"].as_str())?;
    // The creator is recorded as such; the import itself may write any article.
    let actor = Actor {
        id: creator.unwrap_or(ctx.admin.id),
        role: Role::Admin,
        scopes: Scopes::ALL,
        api_token: None,
    };
    let new = crate::domain::articles::write::check_new(
        conn,
        &mut known.names,
        actor,
        body(&record)?,
        &ctx.languages,
        Given {
            rendered,
            times: times(&record)?,
        },
    )?;
    let no_old_slugs = match &record["old_slugs"] {
        Value::Null => true,
        Value::Array(olds) => olds.is_empty(),
        _ => false,
    };
    let later = record["deleted_at"].is_null() && no_old_slugs;
    if later && !careful {
        known.waiting.push(new);
        return Ok(Outcome::Imported { file: File::None });
    }
    write_waiting(conn, known, search)?;
    let mark = search.len();
    let made = write_now(conn, known, search, vec![new])?;
    let Some(made) = made.first() else {
        return Err(AppError::Internal(
            "an imported article was not written".into(),
        ));
    };
    redirects(conn, "article", made.id, &made.slug, &record)?;
    if let Some(deleted) = timestamp(&record, "deleted_at")? {
        search.truncate(mark);
        crate::domain::articles::safety::trash(conn, actor, &crate::domain::Key::Id(made.id))?
            .within_a_write_of_everything();
        diesel::update(articles::table.find(made.id))
            .set(articles::deleted_at.eq(Some(deleted)))
            .execute(conn)?;
    }
    Ok(Outcome::Imported { file: File::None })
}

fn article_id(conn: &mut DbConn, record: &Value) -> AppResult<i32> {
    let slug = record["article"]
        .as_str()
        .ok_or_else(|| invalid("article", "is missing"))?;
    articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| invalid("article", format!("no article {slug:?} in this import")))
}

fn correction(conn: &mut DbConn, record: &Value) -> AppResult<Outcome> {
    let article = article_id(conn, record)?;
    let text = record["data"]["text"]
        .as_str()
        .ok_or_else(|| invalid("data.text", "is missing"))?;
    crate::domain::articles::safety::CORRECTION
        .check(text)
        .map_err(|m| invalid("data.text", m))?;
    let at = timestamp(record, "created_at")?.unwrap_or_else(|| Timestamp::now().0);
    diesel::insert_into(article_corrections::table)
        .values((
            article_corrections::article_id.eq(article),
            article_corrections::text.eq(text),
            article_corrections::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(Outcome::Imported { file: File::None })
}

/// A revision as stored (its `fields` name relations by slug; a restore checks them
/// like any edit). The first revision of an article replaces the one its import made.
fn revision(conn: &mut DbConn, known: &mut Looked, record: &Value) -> AppResult<Outcome> {
    let article = article_id(conn, record)?;
    let number = record["number"]
        .as_i64()
        .filter(|n| (1..=i64::from(i32::MAX)).contains(n))
        .ok_or_else(|| invalid("number", "must be a revision number"))? as i32;
    if number == 1 {
        diesel::delete(article_revisions::table.filter(article_revisions::article_id.eq(article)))
            .execute(conn)?;
    }
    let fields = match &record["fields"] {
        Value::Object(_) => record["fields"].to_string(),
        _ => return Err(invalid("fields", "must be an object")),
    };
    let body = match record["body"].as_str() {
        Some(b64) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| invalid("body", format!("is not base64: {e}")))?,
        ),
        None => None,
    };
    let summary = record["summary"].as_str().unwrap_or_default();
    crate::domain::text::TextRule::line(0, 1_000)
        .check(summary)
        .map_err(|m| invalid("summary", m))?;
    let at = timestamp(record, "created_at")?.unwrap_or_else(|| Timestamp::now().0);
    let author = user_id(conn, known, record["author"].as_str())?;
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(article),
            article_revisions::number.eq(number),
            article_revisions::created_at.eq(at),
            article_revisions::author_id.eq(author),
            article_revisions::author_name.eq(record["author_name"].as_str()),
            article_revisions::summary.eq(summary),
            article_revisions::fields.eq(fields),
            article_revisions::body.eq(body),
        ))
        .execute(conn)?;
    Ok(Outcome::Imported { file: File::None })
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(lengths: &[usize]) -> Vec<Line> {
        (1..)
            .zip(lengths)
            .map(|(n, l)| (n, "x".repeat(*l)))
            .collect()
    }

    fn numbers(batch: &[Line]) -> Vec<usize> {
        batch.iter().map(|(n, _)| *n).collect()
    }

    #[test]
    fn a_batch_ends_at_its_records_or_at_the_line_that_reaches_its_bytes() {
        // By count: 3, 3, then the last 1.
        let mut all = lines(&[1; 7]).into_iter();
        assert_eq!(numbers(&next_batch(&mut all, 3, 100)), [1, 2, 3]);
        assert_eq!(numbers(&next_batch(&mut all, 3, 100)), [4, 5, 6]);
        assert_eq!(numbers(&next_batch(&mut all, 3, 100)), [7]);
        assert!(next_batch(&mut all, 3, 100).is_empty());
        // By text: 4 + 4 + 4 reaches 10 at the third line; a line longer than the whole
        // limit still goes in, and ends its batch; then what is left.
        let mut all = lines(&[4, 4, 4, 4, 25, 1, 1]).into_iter();
        assert_eq!(numbers(&next_batch(&mut all, 100, 10)), [1, 2, 3]);
        assert_eq!(numbers(&next_batch(&mut all, 100, 10)), [4, 5]);
        assert_eq!(numbers(&next_batch(&mut all, 100, 10)), [6, 7]);
        assert!(next_batch(&mut all, 100, 10).is_empty());
    }
}
