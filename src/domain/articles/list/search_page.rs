//! The `q` half of `GET /articles`: FTS5 ranks, the list filters, the page is cut in memory.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use super::{KeptMatches, Matches, Purpose, Resolved, empty, filtered};
use crate::auth::Actor;
use crate::db::DbBackend;
use crate::db::DbConn;
use crate::db::dialect::{UnixColumn, unix_seconds};
use crate::db::id_set::IdSet;
use crate::db::sqlite::{FtsOrder, FtsVisibility};
use crate::domain::articles::facts::{self, article_facts, featured_articles, search_facts};
use crate::domain::articles::query::{ArticleQuery, ArticleSort};
use crate::domain::articles::{ArticleHead, Relations};
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse};
use crate::domain::search;
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::articles;
/// Matches of one query that are filtered and sorted: the most relevant ones, or, when
/// sorted by date, the most recently written. More specific words narrow a search.
pub const MAX_SEARCH_HITS: i64 = 1_000;
/// Matches ranked by relevance: the newest this many. Bounds a search's work whatever
/// the size of the archive.
pub const SEARCH_WINDOW: i64 = 5_000;

/// The sort key of a search match: relevance, or a column. A relevance (never negative)
/// is keyed by its bits, which order non-negative floats exactly as their values.
fn search_key(sort: ArticleSort, row: &SearchRow, score: f64) -> Vec<KeyValue> {
    let first = match sort {
        ArticleSort::Relevance => KeyValue::Int(score.max(0.0).to_bits() as i64),
        ArticleSort::Title => KeyValue::Text(row.2.clone()),
        ArticleSort::UpdatedAtDesc => KeyValue::Int(Timestamp::from(row.3).unix()),
        ArticleSort::PublishedAtDesc | ArticleSort::PublishedAt => {
            row.1.map(KeyValue::Int).unwrap_or(KeyValue::Null)
        }
    };
    vec![first, KeyValue::Int(i64::from(row.0))]
}

/// Orders cursor keys: `Null` before numbers before text, as SQLite orders them.
fn compare_keys(a: &[KeyValue], b: &[KeyValue]) -> std::cmp::Ordering {
    fn class(k: &KeyValue) -> u8 {
        match k {
            KeyValue::Null => 0,
            KeyValue::Int(_) => 1,
            KeyValue::Text(_) => 2,
        }
    }
    for (x, y) in a.iter().zip(b) {
        let ord = match (x, y) {
            (KeyValue::Int(x), KeyValue::Int(y)) => x.cmp(y),
            (KeyValue::Text(x), KeyValue::Text(y)) => x.cmp(y),
            _ => class(x).cmp(&class(y)),
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// `(id, published_at, title, updated_at)` of a search match, its publication time in
/// whole seconds since the Unix epoch as the database works it out (the cursor's key
/// for the orders by date, as lists key them): up to [`MAX_SEARCH_HITS`] matches are
/// read, and a chrono parse of each one's text on SQLite was 3% of a search's CPU.
type SearchRow = (i32, Option<i64>, String, chrono::NaiveDateTime);

/// Whether a search's matches can be kept from [`facts`] and the links alone: what
/// readers see, by language, section, date and `featured`, then by tag, author and
/// region ([`linked_only`]), ordered by relevance or publication (no collection; the
/// facts hold neither a title nor an update time).
fn from_facts(q: &ArticleQuery, r: &Resolved) -> bool {
    // `walks_by_date` leaves collections out.
    super::walks_by_date(q, r)
}

/// The rows among `rows` that carry any of the search's tags, its author and its
/// region, read from each link table's own index (a probe per match, the index alone)
/// instead of the stories' rows: a search keeps up to [`MAX_SEARCH_HITS`] matches, and
/// each story's row holds its body. The link rows' copies of their story's time are
/// not needed: the date window was applied to the story's own ([`matches_from_facts`]).
fn linked_only(
    conn: &mut DbConn,
    r: &Resolved,
    mut rows: Vec<SearchRow>,
) -> AppResult<Vec<SearchRow>> {
    use crate::schema::{article_authors, article_regions, article_tags};
    macro_rules! keep_linked {
        ($link:ident, $matching:expr) => {{
            let ids: Vec<i32> = rows.iter().map(|row| row.0).collect();
            let linked: std::collections::HashSet<i32> = $link::table
                .filter($matching)
                .filter($link::article_id.id_in(&ids))
                .select($link::article_id)
                .into_boxed::<DbBackend>()
                .load::<i32>(conn)?
                .into_iter()
                .collect();
            rows.retain(|row| linked.contains(&row.0));
        }};
    }
    if let Some(tags) = &r.tags {
        keep_linked!(article_tags, article_tags::tag_id.eq_any(tags.clone()));
    }
    if let Some(id) = r.author {
        keep_linked!(article_authors, article_authors::author_id.eq(id));
    }
    if let Some(id) = r.region {
        keep_linked!(article_regions, article_regions::region_id.eq(id));
    }
    Ok(rows)
}

/// The matches among `ids` that the list's language, section, date window and
/// `featured` keep, among those readers see, read from narrow indexes instead of the
/// stories' rows: a search keeps up to [`MAX_SEARCH_HITS`] matches, and the columns
/// that hide a story (`unpublish_at`, `deleted_at`) lie after its body in the row, so
/// each look-up there read the body's pages too. The title and the update time, which
/// only their own orders use (see [`from_facts`]), are left empty, and so is the
/// publication time when the matches are ranked by relevance.
///
/// For anonymous readers the full-text statement has already kept only what readers
/// see ([`FtsVisibility::Public`], the same rule as [`facts::visible`]), so the matches
/// are looked up in [`search_facts`], an index of the filters alone, a quarter of the
/// sitemap index's size; ranked by relevance with none of those filters, they are not
/// looked up at all. Staff's matches include drafts and are checked against the
/// sitemap index ([`article_facts`]).
fn matches_from_facts(
    conn: &mut DbConn,
    q: &ArticleQuery,
    r: &Resolved,
    ids: &[i32],
    visible: FtsVisibility,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<SearchRow>> {
    let unfiltered = r.sections.is_none()
        && q.lang.is_none()
        && q.published_after.is_none()
        && q.published_before.is_none()
        && q.featured.is_none();
    let relevance = matches!(q.sort, ArticleSort::Relevance);
    let published = unix_seconds::<Nullable<BigInt>>(conn, UnixColumn::PublishedAt);
    // The filters, the same on either view.
    macro_rules! narrowed {
        ($query:expr, $view:ident) => {{
            let mut query = $query;
            match r.sections.as_deref() {
                Some([id]) => query = query.filter($view::section_id.eq(*id)),
                Some(ids) => query = query.filter($view::section_id.id_in(ids)),
                None => {}
            }
            if let Some(lang) = &q.lang {
                query = query.filter($view::language.eq(lang.clone()));
            }
            if let Some(t) = q.published_after {
                query = query.filter($view::published_at.gt(t.0));
            }
            if let Some(t) = q.published_before {
                query = query.filter($view::published_at.lt(t.0));
            }
            // The flag is in neither index: each match is looked up among the featured
            // stories' ids, a small index, rather than in its row.
            if let Some(featured) = q.featured {
                let marked = diesel::dsl::exists(
                    featured_articles::table.filter(featured_articles::id.eq($view::id)),
                );
                query = match featured {
                    true => query.filter(marked),
                    false => query.filter(diesel::dsl::not(marked)),
                };
            }
            // Ranked by relevance, a match's key is its score: its date is not read.
            let rows: Vec<(i32, Option<i64>)> = match relevance {
                true => query
                    .select($view::id)
                    .load::<i32>(conn)?
                    .into_iter()
                    .map(|id| (id, None))
                    .collect(),
                false => query.select(($view::id, published)).load(conn)?,
            };
            rows
        }};
    }
    let rows = match visible {
        FtsVisibility::Public(_) if relevance && unfiltered => {
            ids.iter().map(|id| (*id, None)).collect()
        }
        FtsVisibility::Public(_) => narrowed!(
            search_facts::table
                .filter(search_facts::id.id_in(ids))
                .into_boxed::<DbBackend>(),
            search_facts
        ),
        FtsVisibility::Writer(_) | FtsVisibility::All => narrowed!(
            article_facts::table
                .filter(article_facts::id.id_in(ids))
                .filter(facts::visible(now))
                .into_boxed::<DbBackend>(),
            article_facts
        ),
    };
    Ok(rows
        .into_iter()
        .map(|(id, published)| (id, published, String::new(), chrono::NaiveDateTime::MIN))
        .collect())
}

/// The key of an anonymous search's matches in a [`KeptMatches`] memo: the order and
/// the words, which are all the full-text statement is given besides the visibility
/// (every anonymous reader's) and the limit (always [`MAX_SEARCH_HITS`]).
fn matches_key(terms: &[String], order: FtsOrder) -> String {
    let order = match order {
        FtsOrder::Relevance { window } => format!("relevance {window}"),
        FtsOrder::Newest => "newest".to_owned(),
        FtsOrder::Oldest => "oldest".to_owned(),
    };
    // Words hold no control characters (see `search::terms`), so the separator is not
    // one of their letters.
    format!("{order}\u{1f}{}", terms.join("\u{1f}"))
}

/// The full-text matches of a search: for anonymous readers kept in `memo` between
/// requests while nothing a reader could find changes; staff, whose matches include
/// drafts and who expect to find what they have just written, always search afresh.
fn full_text_matches(
    conn: &mut DbConn,
    terms: &[String],
    visible: FtsVisibility,
    order: FtsOrder,
    memo: Option<&dyn KeptMatches>,
) -> AppResult<Matches> {
    let search = |conn: &mut DbConn| -> AppResult<Matches> {
        let hits = crate::db::dialect::fts_match(conn, terms, visible, order, MAX_SEARCH_HITS)?;
        Ok(hits.into())
    };
    let (FtsVisibility::Public(_), Some(memo)) = (visible, memo) else {
        return search(conn);
    };
    let key = matches_key(terms, order);
    match memo.matches(&key) {
        Ok(kept) => Ok(kept),
        Err(ticket) => {
            let found = search(conn)?;
            memo.put_matches(key, found.clone(), ticket);
            Ok(found)
        }
    }
}

/// A page of search results: FTS5 finds and ranks the matches, the database keeps those
/// that pass the other filters and the caller's visibility, and the page is cut from
/// them in the requested order; each result carries its rank and a snippet.
#[allow(clippy::too_many_arguments)]
pub(super) fn search_page(
    conn: &mut DbConn,
    q: &ArticleQuery,
    words: &str,
    resolved: &Resolved,
    viewer: Option<Actor>,
    codec: &CursorCodec,
    site: &crate::domain::feeds::Site,
    memo: Option<&dyn KeptMatches>,
    links: Option<&dyn crate::domain::articles::LinksMemo>,
) -> AppResult<ListResponse<crate::domain::articles::Article>> {
    let terms = search::terms(words);
    if terms.is_empty() {
        return Ok(empty(q));
    }
    let order = match q.sort {
        ArticleSort::PublishedAtDesc | ArticleSort::UpdatedAtDesc => FtsOrder::Newest,
        ArticleSort::PublishedAt => FtsOrder::Oldest,
        ArticleSort::Title | ArticleSort::Relevance => FtsOrder::Relevance {
            window: SEARCH_WINDOW,
        },
    };
    let now = Timestamp::now().0;
    let visible = match viewer {
        None => FtsVisibility::Public(now),
        Some(actor) if actor.is_editor() => FtsVisibility::All,
        Some(actor) => FtsVisibility::Writer(actor.id),
    };
    let hits = full_text_matches(conn, &terms, visible, order, memo)?;
    if hits.is_empty() {
        return Ok(empty(q));
    }
    let scores: std::collections::HashMap<i32, f64> = hits.iter().copied().collect();
    let ids: Vec<i32> = hits.iter().map(|(id, _)| *id).collect();
    let rows: Vec<SearchRow> = match from_facts(q, resolved) {
        true => {
            let rows = matches_from_facts(conn, q, resolved, &ids, visible, now)?;
            linked_only(conn, resolved, rows)?
        }
        false => filtered(
            articles::table.into_boxed(),
            q,
            resolved,
            viewer,
            now,
            Purpose::Page(Default::default()),
        )
        .filter(articles::id.id_in(&ids))
        .select((
            articles::id,
            unix_seconds::<Nullable<BigInt>>(conn, UnixColumn::PublishedAt),
            articles::title,
            articles::updated_at,
        ))
        .load(conn)?,
    };
    // Ranks are relative to the best match this caller gets, so they say nothing about
    // matches it cannot see.
    let best = rows
        .iter()
        .filter_map(|row| scores.get(&row.0).copied())
        .fold(f64::MIN_POSITIVE, f64::max);
    let ascending = q.sort.ascending();
    let mut keyed: Vec<(Vec<KeyValue>, i32)> = rows
        .iter()
        .map(|row| {
            let score = scores.get(&row.0).copied().unwrap_or(0.0);
            (search_key(q.sort, row, score), row.0)
        })
        .collect();
    keyed.sort_by(|a, b| {
        let ord = compare_keys(&a.0, &b.0);
        if ascending { ord } else { ord.reverse() }
    });
    let total = keyed.len() as i64;
    let after: Vec<(Vec<KeyValue>, i32)> = match q.page.after() {
        Some(pos) => keyed
            .into_iter()
            .filter(|(key, _)| {
                let ord = compare_keys(key, &pos.key);
                if ascending { ord.is_gt() } else { ord.is_lt() }
            })
            .collect(),
        None => keyed.into_iter().skip(q.page.offset() as usize).collect(),
    };
    let window: Vec<(Vec<KeyValue>, i32)> = after
        .into_iter()
        .take(q.page.fetch_limit() as usize)
        .collect();
    let page_ids: Vec<i32> = window.iter().map(|(_, id)| *id).collect();
    let mut heads: Vec<ArticleHead> = articles::table
        .filter(articles::id.id_in(&page_ids))
        .select(ArticleHead::as_select())
        .load(conn)?;
    heads.sort_by_key(|h| page_ids.iter().position(|id| *id == h.id));
    let texts: Vec<(i32, Option<String>, String)> = articles::table
        .filter(articles::id.id_in(&page_ids))
        .select((articles::id, articles::summary, articles::body))
        .load(conn)?;
    let shown = &heads[..heads.len().min(q.page.per_page as usize)];
    let relations = Relations::load_kept(conn, shown, site, links)?;
    let keys: std::collections::HashMap<i32, Vec<KeyValue>> =
        window.into_iter().map(|(k, id)| (id, k)).collect();
    let total = q.page.after().is_none().then_some(total);
    Ok(paging::finish_page(
        heads,
        &q.page,
        q.sort.as_str(),
        codec,
        total,
        |h| keys.get(&h.id).cloned().unwrap_or_default(),
        |h| {
            let score = scores.get(&h.id).copied().unwrap_or(0.0);
            let (summary, body) = texts
                .iter()
                .find(|(id, _, _)| *id == h.id)
                .map(|(_, s, b)| {
                    (
                        s.clone().unwrap_or_default(),
                        crate::domain::markdown::plain_text(b),
                    )
                })
                .unwrap_or_default();
            let snippet = search::snippet(&[&h.title, &summary, &body], &terms);
            let mut view = relations.view(h, None, now);
            view.search = Some(search::SearchHit {
                rank: ((score / best).clamp(0.0, 1.0) * 1e4).round() / 1e4,
                snippet,
            });
            view
        },
    ))
}
