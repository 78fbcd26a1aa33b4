//! Maintained counts of the articles readers see, so that a list's `total`, a tag's
//! `article_count` and the sitemap index never count rows on a read.
//!
//! The counts follow `articles.announced` (see `webhooks::lifecycle`): an article is
//! counted while it is announced as live. Each write that changes what readers see
//! records its change in `article_counts`, per key, in its own transaction. On
//! PostgreSQL it appends rows of +1 or -1 and never updates a shared row, so writers on
//! several instances never wait on one another; the scheduler folds each key's rows
//! into one ([`fold`]). SQLite has a single writer, so there the change goes straight
//! into the key's row.
//!
//! What time alone changed since the scheduler last ran (a scheduled story whose
//! moment came, an embargo that ended) is not in the rows yet: [`Pending`] finds those
//! few articles from two small partial indexes, and a read adds or takes them away, so
//! a count is exact at every moment.

use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Timestamp};

use crate::db::DbConn;
use crate::db::kept;
use crate::error::AppResult;
use crate::schema::{article_authors, article_counts, article_regions, article_tags, articles};

/// Every article readers see (one key, `ref_id` 0).
pub const ALL: i32 = 0;
/// Per section (the section's own articles, not its children's).
pub const SECTION: i32 = 1;
/// Per tag.
pub const TAG: i32 = 2;
/// Per author (byline).
pub const AUTHOR: i32 = 3;
/// Per region.
pub const REGION: i32 = 4;
/// Per block of [`BLOCK_SIZE`] ids: the sitemap's children.
pub const BLOCK: i32 = 5;
/// The featured stories (one key, `ref_id` 0): `featured=true` lists, and with
/// [`ALL`] `featured=false` ones.
pub const FEATURED: i32 = 6;
/// Per day of publication (UTC), `ref_id` the day's Julian day number ([`day_of`]):
/// date windows (`published_after`, `published_before`) sum their whole days.
pub const DAY: i32 = 7;

/// The ref under which a section, tag, author or region kind counts the featured
/// stories of `id` (`featured=true` with that filter): `-id - 1`, beside `id`'s own key
/// of all its stories (ids are positive, so no key is both).
pub fn featured_ref(id: i32) -> i32 {
    -id - 1
}

/// Julian day number of the day (UTC) that holds `at`: 2,440,588 for 1970-01-01, as
/// SQLite's `julianday(date(t)) + 0.5` and PostgreSQL's `to_char(t, 'J')` give it.
pub fn day_of(at: chrono::NaiveDateTime) -> i32 {
    use chrono::Datelike;
    at.date().num_days_from_ce() + 1_721_425
}

/// Ids per block (and so the most URLs a child sitemap lists): small enough that a
/// child read cold is served in a few milliseconds, large enough that an index of the
/// protocol's 50,000 children covers 125,000,000 ids.
pub const BLOCK_SIZE: i32 = 2_500;

/// A counted key: `(kind, ref_id)`.
pub type Key = (i32, i32);

/// Kinds below this are counted in every language together; [`in_language`] gives each
/// language its own kinds above it.
const LANGUAGE_STRIDE: i32 = 8;

/// The kind counting `kind` (all, section, tag, author or region; not blocks) in one
/// language only, so that an edition's lists (`lang=ar`, alone or with one of those
/// filters) have their totals kept too: `kind + 8 × n`, where `n` spells the code's
/// two or three lowercase letters in base 27 (a = 1; "en" is 383), the same whatever
/// languages are configured, now or later. `None` for any other code (no stored
/// article has one: a language is checked on every write).
pub fn in_language(kind: i32, language: &str) -> Option<i32> {
    let bytes = language.as_bytes();
    if !(2..=3).contains(&bytes.len()) || !bytes.iter().all(u8::is_ascii_lowercase) {
        return None;
    }
    let n = bytes
        .iter()
        .rev()
        .fold(0, |n, b| n * 27 + i32::from(b - b'a' + 1));
    Some(kind + LANGUAGE_STRIDE * n)
}

/// The block holding article `id`.
pub fn block_of(id: i32) -> i32 {
    (id - 1).max(0) / BLOCK_SIZE
}

/// The keys article `id` counts towards, sorted (with `section`, its section,
/// `language`, its language, whether it is `featured`, and when it was `published`):
/// each also in its language, but the block.
pub fn keys_of(
    conn: &mut DbConn,
    id: i32,
    section: Option<i32>,
    language: &str,
    featured: bool,
    published: Option<chrono::NaiveDateTime>,
) -> AppResult<Vec<Key>> {
    let keys: Vec<Key> = crate::on_backend!(conn, |c| article_tags::table
        .filter(article_tags::article_id.eq(id))
        .select((TAG.into_sql::<Integer>(), article_tags::tag_id))
        .union_all(
            article_authors::table
                .filter(article_authors::article_id.eq(id))
                .select((AUTHOR.into_sql::<Integer>(), article_authors::author_id)),
        )
        .union_all(
            article_regions::table
                .filter(article_regions::article_id.eq(id))
                .select((REGION.into_sql::<Integer>(), article_regions::region_id)),
        )
        .load(c)?);
    Ok(keys_with(keys, id, section, language, featured, published))
}

/// [`keys_of`] for an article whose tag, author and region keys are `keys` (for
/// writers that hold them already, as the bulk seed does).
pub fn keys_with(
    mut keys: Vec<Key>,
    id: i32,
    section: Option<i32>,
    language: &str,
    featured: bool,
    published: Option<chrono::NaiveDateTime>,
) -> Vec<Key> {
    keys.push((ALL, 0));
    if featured {
        keys.push((FEATURED, 0));
    }
    if let Some(s) = section {
        keys.push((SECTION, s));
    }
    if featured {
        let marked: Vec<Key> = keys
            .iter()
            .filter(|(kind, _)| matches!(*kind, SECTION | TAG | AUTHOR | REGION))
            .map(|&(kind, r)| (kind, featured_ref(r)))
            .collect();
        keys.extend(marked);
    }
    if let Some(at) = published {
        keys.push((DAY, day_of(at)));
    }
    keys.extend(
        keys.clone()
            .into_iter()
            .filter_map(|(kind, r)| in_language(kind, language).map(|k| (k, r))),
    );
    keys.push((BLOCK, block_of(id)));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Adds `delta` to each key (inside the caller's write).
///
/// On PostgreSQL each key gets a new row, all in one statement (a create appends about
/// eight; each statement is a round trip made while the write holds the freshness
/// row's lock), so instances never wait on one another's rows. SQLite has one writer:
/// there the delta goes into the key's first row, and a row is appended only for a key
/// that has none. Appending made every create write about seven pages of the table and
/// its index as rows piled up between folds; updating keeps both at a page or two.
/// While this thread holds counts back ([`hold`]), SQLite's delta is summed there.
pub fn add(conn: &mut DbConn, keys: &[Key], delta: i64) -> AppResult<()> {
    if let DbConn::Sqlite(c) = conn {
        if held(|tally| tally.add(keys.iter().copied(), delta)) {
            return Ok(());
        }
        return add_in_place(c, keys.iter().map(|key| (*key, delta)));
    }
    if let DbConn::Postgres(c) = conn
        && !keys.is_empty()
    {
        // One statement of arrays, whatever the number of keys: its text stays the same,
        // so the connection keeps it prepared (a multi-row `INSERT` is parsed and
        // planned again for every number of rows).
        let kinds: Vec<i32> = keys.iter().map(|(kind, _)| *kind).collect();
        let refs: Vec<i32> = keys.iter().map(|(_, ref_id)| *ref_id).collect();
        kept::sql(
            "INSERT INTO article_counts (kind, ref_id, n) \
             SELECT kind, ref_id, ? FROM unnest(?, ?) AS moved (kind, ref_id)",
        )
        .bind::<BigInt, _>(delta)
        .bind::<diesel::sql_types::Array<Integer>, _>(kinds)
        .bind::<diesel::sql_types::Array<Integer>, _>(refs)
        .execute(c)?;
    }
    Ok(())
}

/// Adds each delta to its key's first row on SQLite, appending a row only for a key
/// that has none (see [`add`]).
fn add_in_place(
    c: &mut diesel::SqliteConnection,
    moved: impl IntoIterator<Item = (Key, i64)>,
) -> AppResult<()> {
    // Written out: built from Diesel's expressions, the statement's text was written
    // again at each call to find it among the kept ones, a quarter of the time this
    // function took on a create.
    const ADD: &str = "UPDATE article_counts SET n = n + ? WHERE id = \
        (SELECT min(other.id) FROM article_counts AS other \
         WHERE other.kind = ? AND other.ref_id = ?)";
    for ((kind, ref_id), delta) in moved {
        let updated = kept::sql(ADD)
            .bind::<BigInt, _>(delta)
            .bind::<Integer, _>(kind)
            .bind::<Integer, _>(ref_id)
            .execute(c)?;
        if updated == 0 {
            diesel::insert_into(article_counts::table)
                .values((
                    article_counts::kind.eq(kind),
                    article_counts::ref_id.eq(ref_id),
                    article_counts::n.eq(delta),
                ))
                .execute(c)?;
        }
    }
    Ok(())
}

thread_local! {
    /// What [`add`] and [`touch_blocks`] hold back on this thread while a [`Held`] is
    /// alive (SQLite's writer, for one group).
    static HELD: std::cell::RefCell<Option<Tally>> = const { std::cell::RefCell::new(None) };
}

/// Gives the held tally to `hold`, if this thread holds one; false when it does not.
fn held(hold: impl FnOnce(&mut Tally)) -> bool {
    HELD.with(|held| match held.borrow_mut().as_mut() {
        Some(tally) => {
            hold(tally);
            true
        }
        None => false,
    })
}

/// Counts and block times held back on this thread ([`hold`]) until [`Held::write`].
/// Dropped unwritten (its transaction rolled back), it forgets them.
#[must_use = "held counts are forgotten unless written"]
pub struct Held(());

/// From now until the [`Held`] returned is written or dropped, [`add`] and
/// [`touch_blocks`] on SQLite hold back what they would write on this thread, summed per
/// key (and the latest time per block), so that each is written once.
///
/// For SQLite's writer, whose groups of creates share one transaction: the creates of a
/// group count towards many of the same keys (the archive and its edition, the day, the
/// block, often the section), and a create's statements on the counts and their index
/// were about a seventh of the writer's work. Nothing may read the counts while they
/// are held: they are those from before the group until written.
pub fn hold() -> Held {
    HELD.with(|held| *held.borrow_mut() = Some(Tally::default()));
    Held(())
}

impl Held {
    /// Writes what was held, in the caller's transaction, and stops holding.
    pub fn write(self, conn: &mut DbConn) -> AppResult<()> {
        let tally = HELD
            .with(|held| held.borrow_mut().take())
            .unwrap_or_default();
        let touched: Vec<(i32, i64)> = tally.touched.into_iter().collect();
        touch_blocks(conn, &touched)?;
        if let DbConn::Sqlite(c) = conn {
            add_in_place(c, tally.moved.into_iter().filter(|(_, n)| *n != 0))?;
        }
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.with(|held| held.borrow_mut().take());
    }
}

/// Counts moved by many writes of one transaction, summed per key, for bulk work (a
/// seed's or an import's batch): written once ([`Tally::write`]) as one row per key
/// that moved, where each article's own [`add`] was a round trip on PostgreSQL and a
/// statement per key on SQLite. Nothing may read the counts of the transaction before
/// it is written.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    moved: std::collections::BTreeMap<Key, i64>,
    /// Blocks whose child sitemap changed, with the latest time (Unix seconds).
    touched: std::collections::BTreeMap<i32, i64>,
}

impl Tally {
    /// Adds `delta` to each of `keys`.
    pub fn add(&mut self, keys: impl IntoIterator<Item = Key>, delta: i64) {
        for key in keys {
            *self.moved.entry(key).or_default() += delta;
        }
    }

    /// Notes that the child sitemap of article `id`'s block changed at `at` (see
    /// [`touch_blocks`]).
    pub fn touch(&mut self, id: i32, at: chrono::NaiveDateTime) {
        self.touch_block(block_of(id), at.and_utc().timestamp());
    }

    /// Notes that the child sitemap of `block` changed at `at` (Unix seconds).
    fn touch_block(&mut self, block: i32, at: i64) {
        let latest = self.touched.entry(block).or_insert(at);
        *latest = (*latest).max(at);
    }

    /// Appends a row for each key that moved (folded later like any other), in
    /// statements of at most a thousand rows, raises the change times of the blocks
    /// touched, and starts again from nothing.
    pub fn write(&mut self, conn: &mut DbConn) -> AppResult<()> {
        let touched: Vec<(i32, i64)> = std::mem::take(&mut self.touched).into_iter().collect();
        touch_blocks(conn, &touched)?;
        let rows: Vec<_> = std::mem::take(&mut self.moved)
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((kind, ref_id), n)| {
                (
                    article_counts::kind.eq(kind),
                    article_counts::ref_id.eq(ref_id),
                    article_counts::n.eq(n),
                )
            })
            .collect();
        for chunk in rows.chunks(1_000) {
            crate::on_backend!(conn, |c| diesel::insert_into(article_counts::table)
                .values(chunk)
                .execute(c)?);
        }
        Ok(())
    }
}

/// Raises the time each of `touched`'s blocks last changed (`(block, Unix seconds)`)
/// to the time given, where it was earlier: the sitemap index's `<lastmod>` for the
/// block's child. Inside the caller's write; on PostgreSQL every write holds the lock
/// all writes take first, so instances never wait on a block's row for long.
pub fn touch_blocks(conn: &mut DbConn, touched: &[(i32, i64)]) -> AppResult<()> {
    // Written out and kept prepared ([`kept::sql`]): Diesel never keeps an upsert
    // prepared (its `DO UPDATE` marks the statement unsafe to cache), nor written-out
    // SQL, and this runs on every create and edit of a live story.
    const UPSERT: &str = "INSERT INTO sitemap_blocks (block, changed_at) VALUES (?, ?) \
        ON CONFLICT (block) DO UPDATE SET changed_at = excluded.changed_at \
        WHERE excluded.changed_at > sitemap_blocks.changed_at";
    if matches!(conn, DbConn::Sqlite(_))
        && held(|tally| {
            for &(block, at) in touched {
                tally.touch_block(block, at);
            }
        })
    {
        return Ok(());
    }
    for &(block, at) in touched {
        crate::on_backend!(conn, |c| kept::sql(UPSERT)
            .bind::<Integer, _>(block)
            .bind::<BigInt, _>(at)
            .execute(c)?);
    }
    Ok(())
}

/// Raises the change time of every block to `at` (a renamed section: the addresses of
/// its stories, wherever they are, changed).
pub fn touch_every_block(conn: &mut DbConn, at: chrono::NaiveDateTime) -> AppResult<()> {
    use crate::schema::sitemap_blocks;
    let at = at.and_utc().timestamp();
    crate::on_backend!(conn, |c| diesel::update(
        sitemap_blocks::table.filter(sitemap_blocks::changed_at.lt(at))
    )
    .set(sitemap_blocks::changed_at.eq(at))
    .execute(c)?);
    Ok(())
}

/// The blocks whose child sitemap lists a story, each with the time its list last
/// changed, and the latest such time of any block, listed or not.
#[derive(Debug, Default)]
pub struct SitemapBlocks {
    /// Each listed block and the time its list last changed (Unix seconds; `None`
    /// where no write recorded one), in block order.
    pub listed: Vec<(i32, Option<i64>)>,
    /// The latest change of any block, including those that no longer list a story:
    /// when the index itself last changed (a child added, dropped or changed).
    pub latest: Option<i64>,
}

/// [`SitemapBlocks`] exact at `now`, read as one consistent picture: the stored counts
/// and times, and for a story whose standing time alone changed since the scheduler
/// last ran, its count and the moment it went live or expired (the time the scheduler
/// stores for it when it gets there).
pub fn sitemap_blocks(conn: &mut DbConn, now: chrono::NaiveDateTime) -> AppResult<SitemapBlocks> {
    use crate::schema::sitemap_blocks;
    let ((mut counts, stored), pending) = consistent(conn, now, |c| {
        let counts = stored_per_ref(c, BLOCK, None)?;
        let times: Vec<(i32, i64)> = sitemap_blocks::table
            .select((sitemap_blocks::block, sitemap_blocks::changed_at))
            .load(c)?;
        Ok((counts, times))
    })?;
    let mut changed: HashMap<i32, i64> = stored.into_iter().collect();
    if !pending.is_empty() {
        for (block, delta) in pending.per_ref(conn, BLOCK, None)? {
            *counts.entry(block).or_default() += delta;
        }
    }
    for (block, at) in pending_moments(conn, &pending, now)? {
        let latest = changed.entry(block).or_insert(at);
        *latest = (*latest).max(at);
    }
    let mut listed: Vec<(i32, Option<i64>)> = counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(block, _)| (block, changed.get(&block).copied()))
        .collect();
    listed.sort_unstable();
    Ok(SitemapBlocks {
        listed,
        latest: changed.into_values().max(),
    })
}

/// The time block `block`'s child sitemap last changed, as [`sitemap_blocks`] tells it,
/// exact at `now` (one row and the pending stories, not every block).
pub fn block_changed(
    conn: &mut DbConn,
    block: i32,
    now: chrono::NaiveDateTime,
) -> AppResult<Option<i64>> {
    use crate::schema::sitemap_blocks;
    // The pending stories first, then the stored time: a story the scheduler stores in
    // between is in both, and counts once in a latest time, as it would not in a count.
    let pending = Pending::at(conn, now)?;
    let stored: Option<i64> = sitemap_blocks::table
        .find(block)
        .select(sitemap_blocks::changed_at)
        .first(conn)
        .optional()?;
    Ok(pending_moments(conn, &pending, now)?
        .into_iter()
        .filter(|(b, _)| *b == block)
        .map(|(_, at)| at)
        .chain(stored)
        .max())
}

/// For each pending story, its block and the moment (Unix seconds, at most `now`) it
/// went live or expired.
fn pending_moments(
    conn: &mut DbConn,
    pending: &Pending,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<(i32, i64)>> {
    let mut moments = Vec::new();
    for id in pending.gained.iter().chain(&pending.lost) {
        let (published, unpublish): (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>) =
            articles::table
                .find(id)
                .select((articles::published_at, articles::unpublish_at))
                .get_result(conn)?;
        let moment = match pending.lost.binary_search(id) {
            Ok(_) => unpublish,
            Err(_) => published,
        };
        if let Some(at) = moment {
            moments.push((block_of(*id), at.min(now).and_utc().timestamp()));
        }
    }
    Ok(moments)
}

/// Forgets every count of a key (a deleted tag, say), of all its stories and of its
/// featured ones, in every language.
pub fn forget(conn: &mut DbConn, kind: i32, ref_id: i32) -> AppResult<()> {
    diesel::delete(
        article_counts::table
            .filter(article_counts::ref_id.eq_any([ref_id, featured_ref(ref_id)]))
            .filter(
                article_counts::kind.eq(kind).or(article_counts::kind
                    .ge(LANGUAGE_STRIDE)
                    .and(sql::<Bool>(&format!("kind % {LANGUAGE_STRIDE} = {kind}")))),
            ),
    )
    .execute(conn)?;
    Ok(())
}

/// `SUM(n)` as a BIGINT on both backends (PostgreSQL sums BIGINTs as NUMERIC), in a
/// statement kept prepared (Diesel's own literal made every count be parsed and planned
/// again: a twelfth of the readers' work recomputing list pages).
fn summed() -> kept::Expr<Nullable<BigInt>> {
    kept::expr("CAST(SUM(n) AS BIGINT)")
}

/// The counted articles of `kind` over `refs` (summed), as the rows say.
pub fn stored_sum(conn: &mut DbConn, kind: i32, refs: &[i32]) -> AppResult<i64> {
    use crate::db::id_set::IdSet;
    let of_kind = article_counts::table
        .filter(article_counts::kind.eq(kind))
        .select(summed());
    // One ref (most calls) is `= ?`; a set is one bound value. Both are kept prepared.
    let total: Option<i64> = match refs {
        [one] => of_kind
            .filter(article_counts::ref_id.eq(*one))
            .get_result(conn)?,
        _ => of_kind
            .filter(article_counts::ref_id.id_in(refs))
            .get_result(conn)?,
    };
    Ok(total.unwrap_or(0))
}

/// The most articles a tag (or an author, a region) may hold for its newest stories to
/// be found from its own rows, given the number of articles readers see in all.
///
/// A large tag's newest stories are found by walking the articles newest first and
/// keeping the tagged ones: about `wanted × archive ÷ tag` steps, and more when the
/// tag's stories are old. A small tag is cheaper read whole, one lookup per article it
/// holds, and sorted. Measured through the server at 1,000,000 articles, a step costs
/// about 0.9 µs and a lookup about 5 µs, so for the related stories' 100 newest in one
/// language (a third of the archive) the two meet near `2.5 × √archive` (a tag of 2,000
/// stories: 15 ms walked, 10 ms read whole). The walk took 54–470 ms for a tag of five
/// stories there, and grows with the archive; reading that tag whole takes 0.05 ms. A
/// list page (20 newest in any language) meets at about the same size. Related stories
/// and readers' pages of one tag, author or region no longer use it: they walk the
/// link's rows by publication time (`article_tags_time_idx` and its like), whatever
/// the link's size.
pub fn read_whole_limit(archive: i64) -> i64 {
    ((archive.max(0) as f64) * 6.25).sqrt() as i64
}

/// The counted articles of `kind` per ref (only refs with rows), as the rows say; every
/// ref of the kind when `refs` is `None`.
pub fn stored_per_ref(
    conn: &mut DbConn,
    kind: i32,
    refs: Option<&[i32]>,
) -> AppResult<HashMap<i32, i64>> {
    let mut query = article_counts::table
        .filter(article_counts::kind.eq(kind))
        .group_by(article_counts::ref_id)
        .select((article_counts::ref_id, summed()))
        .into_boxed();
    if let Some(refs) = refs {
        query = query.filter(article_counts::ref_id.eq_any(refs.to_vec()));
    }
    let rows: Vec<(i32, Option<i64>)> = query.load(conn)?;
    Ok(rows.into_iter().map(|(r, n)| (r, n.unwrap_or(0))).collect())
}

/// What decides a pending article's keys: section, language, featured, published.
type Fact = (Option<i32>, String, bool, Option<chrono::NaiveDateTime>);

#[derive(QueryableByName)]
struct PendingRow {
    #[diesel(sql_type = Integer)]
    delta: i32,
    #[diesel(sql_type = Integer)]
    id: i32,
}

/// Runs `$query!(connection, uncounted, expiring)`, a statement over the two partial
/// indexes of what time changes, where `uncounted` and `expiring` follow `FROM articles`
/// in its two branches: on SQLite they name `articles_uncounted_idx` and
/// `articles_announced_expiry_idx` (its planner would otherwise walk the index of every
/// published article by date), on PostgreSQL nothing.
macro_rules! on_partial_indexes {
    ($conn:expr, $query:ident) => {
        match $conn {
            DbConn::Sqlite(c) => $query!(
                c,
                " INDEXED BY articles_uncounted_idx",
                " INDEXED BY articles_announced_expiry_idx"
            ),
            DbConn::Postgres(c) => $query!(c, "", ""),
        }
    };
}

/// Articles whose standing for readers changed with time since the scheduler last
/// announced: `gained` went live (counted by no row yet), `lost` expired (still
/// counted). Usually both are empty; each comes from a small partial index.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub gained: Vec<i32>,
    pub lost: Vec<i32>,
}

impl Pending {
    /// The pending articles at `now`: usually none, told by one statement without a
    /// bound value that reads the first entry of each of the two small partial indexes;
    /// otherwise one statement reading them up to `now` (SQLite is told to use them, as
    /// its planner would otherwise walk the index of every published article by date).
    pub fn at(conn: &mut DbConn, now: chrono::NaiveDateTime) -> AppResult<Self> {
        if !Self::may_be_due(conn, now)? {
            return Ok(Self::default());
        }
        // Written out, so Diesel keeps it prepared on both backends, with the literal
        // conditions of the partial indexes each branch walks (`articles_uncounted_idx`,
        // `articles_announced_expiry_idx`); SQLite is told so by name. PostgreSQL plans
        // it again at every run: for any bound time, its plan expects a third of the
        // table before that time, and reads the second branch through
        // `articles_published_idx` (cost 398 at 10,000 stories, against 12 for a plan
        // made for the time at hand), so it never keeps that plan. Hence
        // [`Pending::may_be_due`] first.
        macro_rules! pending {
            ($c:expr, $uncounted:literal, $expiring:literal) => {
                crate::db::kept::sql(concat!(
                    "SELECT 1 AS delta, id FROM articles",
                    $uncounted,
                    " WHERE announced = 0 AND status = 'published' AND deleted_at IS NULL \
                     AND published_at <= ? AND (unpublish_at IS NULL OR unpublish_at > ?) \
                     UNION ALL \
                     SELECT -1 AS delta, id FROM articles",
                    $expiring,
                    " WHERE announced = 1 AND unpublish_at IS NOT NULL AND unpublish_at <= ?",
                ))
                .bind::<Timestamp, _>(now)
                .bind::<Timestamp, _>(now)
                .bind::<Timestamp, _>(now)
                .load::<PendingRow>($c)?
            };
        }
        let rows: Vec<PendingRow> = on_partial_indexes!(conn, pending);
        let rows = rows.into_iter().map(|r| (r.delta, r.id));
        let mut pending = Self::default();
        for (delta, id) in rows {
            if delta > 0 {
                pending.gained.push(id);
            } else {
                pending.lost.push(id);
            }
        }
        pending.gained.sort_unstable();
        pending.lost.sort_unstable();
        Ok(pending)
    }

    /// False when nothing can be pending at `now`: the earliest time at which a story
    /// not yet counted goes live, and the earliest expiry of a counted one, are both
    /// after `now`. The statement binds nothing, so PostgreSQL plans it once per
    /// connection (the first entry of each partial index); list totals read it twice.
    fn may_be_due(conn: &mut DbConn, now: chrono::NaiveDateTime) -> AppResult<bool> {
        #[derive(QueryableByName)]
        struct Earliest {
            #[diesel(sql_type = Nullable<Timestamp>)]
            due: Option<chrono::NaiveDateTime>,
            #[diesel(sql_type = Nullable<Timestamp>)]
            expiry: Option<chrono::NaiveDateTime>,
        }
        macro_rules! earliest {
            ($c:expr, $uncounted:literal, $expiring:literal) => {
                crate::db::kept::sql(concat!(
                    "SELECT (SELECT published_at FROM articles",
                    $uncounted,
                    " WHERE announced = 0 AND status = 'published' AND deleted_at IS NULL \
                     ORDER BY published_at LIMIT 1) AS due, \
                     (SELECT unpublish_at FROM articles",
                    $expiring,
                    " WHERE announced = 1 AND unpublish_at IS NOT NULL \
                     ORDER BY unpublish_at LIMIT 1) AS expiry",
                ))
                .get_result::<Earliest>($c)?
            };
        }
        let first = on_partial_indexes!(conn, earliest);
        Ok([first.due, first.expiry]
            .into_iter()
            .flatten()
            .any(|at| at <= now))
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty() && self.lost.is_empty()
    }

    /// The pending change per key of `kind` over `refs` (every ref when `None`).
    pub fn per_ref(
        &self,
        conn: &mut DbConn,
        kind: i32,
        refs: Option<&[i32]>,
    ) -> AppResult<HashMap<i32, i64>> {
        let mut out: HashMap<i32, i64> = HashMap::new();
        for (ids, delta) in [(&self.gained, 1), (&self.lost, -1)] {
            for id in ids {
                let (section, language, featured, published): Fact = articles::table
                    .find(id)
                    .select((
                        articles::section_id,
                        articles::language,
                        articles::featured,
                        articles::published_at,
                    ))
                    .get_result(conn)?;
                for (k, r) in keys_of(conn, *id, section, &language, featured, published)? {
                    if k == kind && refs.is_none_or(|refs| refs.contains(&r)) {
                        *out.entry(r).or_default() += delta;
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The stored counts read by `read`, with what is pending at `now`, as one consistent
/// picture: the pending set is read before and after, and the whole is read again if
/// the scheduler announced something in between (its announcement moves an article
/// from pending into the rows in one commit). Reads need no transaction of their own.
fn consistent<T>(
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
    mut read: impl FnMut(&mut DbConn) -> AppResult<T>,
) -> AppResult<(T, Pending)> {
    let mut attempts = 0;
    loop {
        let before = Pending::at(conn, now)?;
        let stored = read(conn)?;
        attempts += 1;
        if attempts == 5 || Pending::at(conn, now)? == before {
            return Ok((stored, before));
        }
    }
}

/// The number of articles readers see, of `kind` over `refs` (summed: sections are
/// disjoint, so a section and its children add up), exact at `now`.
pub fn visible_sum(
    conn: &mut DbConn,
    kind: i32,
    refs: &[i32],
    now: chrono::NaiveDateTime,
) -> AppResult<i64> {
    let (stored, pending) = consistent(conn, now, |c| stored_sum(c, kind, refs))?;
    if pending.is_empty() {
        return Ok(stored);
    }
    let change: i64 = pending.per_ref(conn, kind, Some(refs))?.values().sum();
    Ok(stored + change)
}

/// The number of articles readers see of `kind` over the refs `first..=last` (days:
/// [`DAY`]), exact at `now`.
pub fn visible_range_sum(
    conn: &mut DbConn,
    kind: i32,
    first: i32,
    last: i32,
    now: chrono::NaiveDateTime,
) -> AppResult<i64> {
    let (stored, pending) = consistent(conn, now, |c| {
        let total: Option<i64> = article_counts::table
            .filter(article_counts::kind.eq(kind))
            .filter(article_counts::ref_id.between(first, last))
            .select(summed())
            .get_result(c)?;
        Ok(total.unwrap_or(0))
    })?;
    if pending.is_empty() {
        return Ok(stored);
    }
    let change: i64 = pending
        .per_ref(conn, kind, None)?
        .into_iter()
        .filter(|(r, _)| (first..=last).contains(r))
        .map(|(_, d)| d)
        .sum();
    Ok(stored + change)
}

/// The number of articles readers see per ref of `kind` (every ref when `refs` is
/// `None`; refs with none are left out), exact at `now`.
pub fn visible_per_ref(
    conn: &mut DbConn,
    kind: i32,
    refs: Option<&[i32]>,
    now: chrono::NaiveDateTime,
) -> AppResult<HashMap<i32, i64>> {
    let (mut counts, pending) = consistent(conn, now, |c| stored_per_ref(c, kind, refs))?;
    if !pending.is_empty() {
        for (r, d) in pending.per_ref(conn, kind, refs)? {
            *counts.entry(r).or_default() += d;
        }
    }
    counts.retain(|_, n| *n > 0);
    Ok(counts)
}

/// Folds the rows each key gained after row `after` into one row per key, and returns
/// the last row folded (where the next fold starts). Any number of instances may fold
/// at once: on PostgreSQL each key is one statement that deletes the rows it sums, so
/// rows another fold took are not summed twice; on SQLite the writer runs one fold at a
/// time.
pub fn fold(conn: &mut DbConn, after: i64) -> AppResult<i64> {
    let last: Option<i64> = article_counts::table
        .select(diesel::dsl::max(article_counts::id))
        .get_result(conn)?;
    let Some(last) = last.filter(|l| *l > after) else {
        return Ok(after);
    };
    let keys: Vec<Key> = article_counts::table
        .filter(article_counts::id.gt(after))
        .filter(article_counts::id.le(last))
        .select((article_counts::kind, article_counts::ref_id))
        .distinct()
        .load(conn)?;
    for (kind, ref_id) in keys {
        // A key already down to one row is left alone: rewriting it would give it a new
        // row after `last`, and the next fold would find the key again, every time.
        let rows: i64 = article_counts::table
            .filter(article_counts::kind.eq(kind))
            .filter(article_counts::ref_id.eq(ref_id))
            .filter(article_counts::id.le(last))
            .count()
            .get_result(conn)?;
        if rows < 2 {
            continue;
        }
        match conn {
            DbConn::Postgres(c) => {
                diesel::sql_query(
                    "WITH gone AS (DELETE FROM article_counts \
                     WHERE kind = $1 AND ref_id = $2 AND id <= $3 RETURNING n) \
                     INSERT INTO article_counts (kind, ref_id, n) \
                     SELECT $1, $2, sum(n) FROM gone HAVING count(*) > 0",
                )
                .bind::<Integer, _>(kind)
                .bind::<Integer, _>(ref_id)
                .bind::<BigInt, _>(last)
                .execute(c)?;
            }
            DbConn::Sqlite(_) => {
                let rows = article_counts::table
                    .filter(article_counts::kind.eq(kind))
                    .filter(article_counts::ref_id.eq(ref_id))
                    .filter(article_counts::id.le(last));
                let n: i64 = stored_sum_of(conn, kind, ref_id, last)?;
                let removed = diesel::delete(rows).execute(conn)?;
                if removed > 0 && n != 0 {
                    add(conn, &[(kind, ref_id)], n)?;
                }
            }
        }
    }
    Ok(last)
}

/// Rebuilds every maintained count from the stories as they stand (`newsdesk
/// recount`), as the migrations first filled them: from the articles announced as
/// live, per key, in all languages and in each; and raises each block's change time to
/// its live stories' latest edit or publication where it was earlier. First sets each
/// tag, byline and region link's copy of its story's time (and a tag link's language)
/// where it differs: list pages walk the links by those. For counts that
/// went wrong outside the writes that keep them: rows edited by hand, or an instance of
/// an older release that kept fewer kinds writing after a newer one migrated. Run inside a write (which on
/// PostgreSQL holds the lock every write takes first), so no write lands between the
/// delete and the sums. Returns the number of keys counted.
pub fn recount(conn: &mut DbConn) -> AppResult<i64> {
    use diesel::connection::SimpleConnection;
    // Each language's step above the kinds counted in all languages (see
    // [`in_language`]), for the codes it spells.
    let languages = match conn {
        DbConn::Sqlite(_) => {
            "INSERT INTO recount_languages (language, kind_step)
                 SELECT language, 8 * ((unicode(substr(language, 1, 1)) - 96)
                     + 27 * (unicode(substr(language, 2, 1)) - 96)
                     + 729 * coalesce(unicode(substr(language, 3, 1)) - 96, 0))
                 FROM (SELECT DISTINCT language FROM articles)
                 WHERE language GLOB '[a-z][a-z]' OR language GLOB '[a-z][a-z][a-z]';"
        }
        DbConn::Postgres(_) => {
            "INSERT INTO recount_languages (language, kind_step)
                 SELECT language, 8 * ((ascii(substr(language, 1, 1)) - 96)
                     + 27 * (ascii(substr(language, 2, 1)) - 96)
                     + 729 * greatest(ascii(substr(language, 3, 1)) - 96, 0))
                 FROM (SELECT DISTINCT language FROM articles) AS used
                 WHERE language ~ '^[a-z]{2,3}$';"
        }
    };
    // A story's day (see [`day_of`]).
    let day = match conn {
        DbConn::Sqlite(_) => "CAST(julianday(date(a.published_at)) + 0.5 AS INTEGER)",
        DbConn::Postgres(_) => "CAST(to_char(a.published_at, 'J') AS INTEGER)",
    };
    // Links first: each carries its story's time (a tag link its language too), which
    // the writers set and triggers move, but a row written by hand or by an older
    // release may not (the same statement on both backends). The stories' facts come
    // from the sitemap index (`article_facts`), not their rows: at a million stories,
    // reading each link's story from the table took 48 s, from the index 4.4 s.
    let mut script = String::new();
    for (link, language) in [
        ("article_tags", true),
        ("article_authors", false),
        ("article_regions", false),
    ] {
        let (set, differs) = match language {
            true => (
                ", language = a.language",
                " OR l.language IS DISTINCT FROM a.language",
            ),
            false => ("", ""),
        };
        script.push_str(&format!(
            "UPDATE {link} AS l SET published_at = a.published_at{set} FROM article_facts AS a
                 WHERE a.id = l.article_id
                 AND (l.published_at IS DISTINCT FROM a.published_at{differs});"
        ));
    }
    script.push_str(&format!(
        "DELETE FROM article_counts;
         CREATE TEMPORARY TABLE recount_languages
             (language TEXT PRIMARY KEY NOT NULL, kind_step INTEGER NOT NULL);
         {languages}
         INSERT INTO article_counts (kind, ref_id, n)
             SELECT {BLOCK}, (a.id - 1) / {BLOCK_SIZE}, count(*) FROM articles a
             WHERE a.announced = 1 GROUP BY (a.id - 1) / {BLOCK_SIZE};"
    ));
    // Per kind: the rows it counts, the ref they count towards, and which of them.
    let kinds = [
        (ALL, "articles a", "0", ""),
        (FEATURED, "articles a", "0", "AND a.featured"),
        (SECTION, "articles a", "a.section_id", ""),
        (DAY, "articles a", day, ""),
        (SECTION, "articles a", "-a.section_id - 1", "AND a.featured"),
        (
            TAG,
            "article_tags l JOIN articles a ON a.id = l.article_id",
            "l.tag_id",
            "",
        ),
        (
            AUTHOR,
            "article_authors l JOIN articles a ON a.id = l.article_id",
            "l.author_id",
            "",
        ),
        (
            REGION,
            "article_regions l JOIN articles a ON a.id = l.article_id",
            "l.region_id",
            "",
        ),
        (
            TAG,
            "article_tags l JOIN articles a ON a.id = l.article_id",
            "-l.tag_id - 1",
            "AND a.featured",
        ),
        (
            AUTHOR,
            "article_authors l JOIN articles a ON a.id = l.article_id",
            "-l.author_id - 1",
            "AND a.featured",
        ),
        (
            REGION,
            "article_regions l JOIN articles a ON a.id = l.article_id",
            "-l.region_id - 1",
            "AND a.featured",
        ),
    ];
    for (kind, rows, of, only) in kinds {
        // The keys of all and of the featured have one row each (there even at 0).
        let (by, and_by) = match of {
            "0" => (String::new(), String::new()),
            _ => (format!("GROUP BY {of}"), format!(", {of}")),
        };
        script.push_str(&format!(
            "INSERT INTO article_counts (kind, ref_id, n)
                 SELECT {kind}, {of}, count(*) FROM {rows}
                 WHERE a.announced = 1 AND {of} IS NOT NULL {only} {by};
             INSERT INTO article_counts (kind, ref_id, n)
                 SELECT {kind} + g.kind_step, {of}, count(*) FROM {rows}
                 JOIN recount_languages g ON g.language = a.language
                 WHERE a.announced = 1 AND {of} IS NOT NULL {only}
                 GROUP BY g.kind_step{and_by};"
        ));
    }
    script.push_str("DROP TABLE recount_languages;");
    // Each block's change time, raised to what its live stories say where it was
    // earlier or missing (a write of an older release leaves it alone).
    let latest = match conn {
        DbConn::Sqlite(_) => {
            "max(max(unixepoch(updated_at), coalesce(unixepoch(published_at), 0)))"
        }
        DbConn::Postgres(_) => {
            "CAST(floor(extract(epoch FROM max(greatest(updated_at, published_at)))) AS BIGINT)"
        }
    };
    script.push_str(&format!(
        "INSERT INTO sitemap_blocks (block, changed_at)
             SELECT (id - 1) / {BLOCK_SIZE}, {latest} FROM articles
             WHERE announced = 1 GROUP BY (id - 1) / {BLOCK_SIZE}
         ON CONFLICT (block) DO UPDATE SET changed_at = excluded.changed_at
             WHERE excluded.changed_at > sitemap_blocks.changed_at;"
    ));
    conn.batch_execute(&script)?;
    // The search index's totals, for the ranking (SQLite; see `fts_rank`).
    if let DbConn::Sqlite(c) = conn {
        crate::db::sqlite::recount_search_totals(c)?;
    }
    let keys: i64 = article_counts::table.count().get_result(conn)?;
    Ok(keys)
}

fn stored_sum_of(conn: &mut DbConn, kind: i32, ref_id: i32, last: i64) -> AppResult<i64> {
    let total: Option<i64> = article_counts::table
        .filter(article_counts::kind.eq(kind))
        .filter(article_counts::ref_id.eq(ref_id))
        .filter(article_counts::id.le(last))
        .select(summed())
        .get_result(conn)?;
    Ok(total.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_counts_under_kinds_of_its_own() {
        // What the migration's SQL computes for the same codes.
        assert_eq!(in_language(ALL, "en"), Some(3064));
        assert_eq!(in_language(REGION, "fil"), Some(71980));
        // The featured in Spanish and in Arabic (migration 000015's figures).
        assert_eq!(in_language(FEATURED, "es"), Some(4150));
        assert_eq!(in_language(FEATURED, "ar"), Some(3902));
        let codes = ["en", "ar", "es", "fr", "zz", "aaa", "fil", "zzz"];
        let mut kinds: Vec<i32> = Vec::new();
        for code in codes {
            for kind in [ALL, SECTION, TAG, AUTHOR, REGION, FEATURED, DAY] {
                let k = in_language(kind, code).unwrap();
                assert!(k >= LANGUAGE_STRIDE, "{code}: {k}");
                assert_eq!(k % LANGUAGE_STRIDE, kind, "{code}");
                kinds.push(k);
            }
        }
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), codes.len() * 7, "no two share a kind");
        for bad in ["", "e", "EN", "en-GB", "engl", "é", "e1"] {
            assert_eq!(in_language(ALL, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sums_of_counts_are_kept_prepared() {
        use diesel::connection::SimpleConnection;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE article_counts (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,
                 ref_id INTEGER NOT NULL, n BIGINT NOT NULL);
             INSERT INTO article_counts (kind, ref_id, n) VALUES
                 (2, 7, 5), (2, 7, -1), (2, 8, 10), (3, 7, 100), (2, 9, 1000);",
        )
        .unwrap();
        let cached = Arc::new(AtomicUsize::new(0));
        conn.set_instrumentation(crate::db::kept::Cached(cached.clone()));
        let mut conn = DbConn::Sqlite(conn);
        for _ in 0..3 {
            assert_eq!(stored_sum(&mut conn, 2, &[7]).unwrap(), 4);
            assert_eq!(stored_sum(&mut conn, 2, &[8, 7, 6]).unwrap(), 14);
            assert_eq!(stored_sum(&mut conn, 3, &[]).unwrap(), 0);
            assert_eq!(stored_sum_of(&mut conn, 2, 7, 1).unwrap(), 5);
        }
        assert_eq!(
            cached.load(Ordering::Relaxed),
            3,
            "one statement for a ref, one for a set of refs, one up to a row"
        );
    }

    #[test]
    fn held_counts_are_written_once_summed_or_forgotten() {
        use crate::schema::sitemap_blocks;
        let dir = tempfile::tempdir().unwrap();
        let workers = crate::workers::Workers::new();
        let db = crate::db::Db::open_file(&dir.path().join("c.db"), &workers).unwrap();
        let changed_at = |conn: &mut DbConn| -> AppResult<Option<i64>> {
            Ok(sitemap_blocks::table
                .find(3)
                .select(sitemap_blocks::changed_at)
                .get_result(conn)
                .optional()?)
        };
        let sums = |conn: &mut DbConn| -> AppResult<(i64, i64)> {
            Ok((stored_sum(conn, ALL, &[0])?, stored_sum(conn, TAG, &[7])?))
        };
        let seen = db
            .write_blocking(move |conn| {
                let held = hold();
                add(conn, &[(ALL, 0), (TAG, 7)], 1)?;
                add(conn, &[(ALL, 0), (TAG, 7)], 1)?;
                add(conn, &[(TAG, 7)], -1)?;
                touch_blocks(conn, &[(3, 100)])?;
                touch_blocks(conn, &[(3, 50)])?;
                let while_held = (sums(conn)?, changed_at(conn)?);
                held.write(conn)?;
                let written = (sums(conn)?, changed_at(conn)?);
                {
                    let _forgotten = hold();
                    add(conn, &[(TAG, 7)], 5)?;
                    touch_blocks(conn, &[(3, 500)])?;
                }
                add(conn, &[(TAG, 7)], 10)?;
                Ok((while_held, written, (sums(conn)?, changed_at(conn)?)))
            })
            .unwrap();
        assert_eq!(seen.0, ((0, 0), None), "nothing is written while held");
        assert_eq!(seen.1, ((2, 1), Some(100)), "summed, the latest time kept");
        assert_eq!(seen.2, ((2, 11), Some(100)), "a dropped hold forgets");
    }

    #[test]
    fn a_day_is_its_julian_day_number() {
        let at =
            |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
        // What SQLite's `julianday(date(t)) + 0.5` and PostgreSQL's `to_char(t, 'J')` give.
        assert_eq!(day_of(at("1970-01-01 00:00:00")), 2_440_588);
        assert_eq!(day_of(at("1970-01-01 23:59:59.999999")), 2_440_588);
        assert_eq!(day_of(at("1850-03-01 12:00:00")), 2_396_818);
        assert_eq!(day_of(at("2026-01-31 23:59:59")), 2_461_072);
        assert_eq!(day_of(at("2026-02-01 00:00:00")), 2_461_073);
    }
}
