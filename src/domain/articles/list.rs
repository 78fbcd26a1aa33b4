//! `GET /articles`: filters, sorts, and pages of articles with their relations embedded,
//! in a fixed number of queries whatever the page size.

use diesel::dsl::exists;
use diesel::prelude::*;

pub use super::query::{ArticleParams, ArticleQuery, ArticleSort, StatusFilter};
use super::{ArticleHead, Relations, StoredStatus, visible_to_readers};
use crate::auth::Actor;
use crate::db::sqlite::{FtsOrder, FtsVisibility};
use crate::db::{ArticleFacts, DbBackend, DbConn};
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::time::Timestamp;
use crate::domain::{authors, collections, regions, search, sections, tags};
use crate::error::AppResult;
use crate::schema::{
    article_authors, article_regions, article_tags, articles, collection_articles,
};

/// Matches of one query that are filtered and sorted: the most relevant ones, or, when
/// sorted by date, the most recently written. More specific words narrow a search.
pub const MAX_SEARCH_HITS: i64 = 1_000;
/// Matches ranked by relevance: the newest this many. Bounds a search's work whatever
/// the size of the archive.
pub const SEARCH_WINDOW: i64 = 5_000;

/// Filter values resolved to ids; `None` from [`resolve`] means "matches nothing".
#[derive(Debug, Default)]
struct Resolved {
    sections: Option<Vec<i32>>,
    tags: Option<Vec<i32>>,
    author: Option<i32>,
    region: Option<i32>,
    collection: Option<i32>,
}

fn resolve(conn: &mut DbConn, q: &ArticleQuery) -> AppResult<Option<Resolved>> {
    let mut r = Resolved::default();
    if let Some(slug) = &q.collection {
        match collections::id_of(conn, &crate::domain::Key::Slug(slug.clone()))? {
            Some(id) => r.collection = Some(id),
            None => return Ok(None),
        }
    }
    if let Some(slug) = &q.section {
        match sections::id_of(conn, &crate::domain::Key::Slug(slug.clone()))? {
            Some(id) => r.sections = Some(sections::with_descendants(conn, &[id])?),
            None => return Ok(None),
        }
    }
    if let Some(slugs) = &q.tags {
        let ids: Vec<i32> = tags::ids_by_slug(conn, slugs)?
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        r.tags = Some(ids);
    }
    if let Some(slug) = &q.author {
        match authors::ids_by_slug(conn, std::slice::from_ref(slug))?.first() {
            Some((_, id)) => r.author = Some(*id),
            None => return Ok(None),
        }
    }
    if let Some(slug) = &q.region {
        match regions::ids_by_slug(conn, std::slice::from_ref(slug))?.first() {
            Some((_, id)) => r.region = Some(*id),
            None => return Ok(None),
        }
    }
    Ok(Some(r))
}

type Boxed<'a> = articles::BoxedQuery<'a, DbBackend>;

/// Which articles `viewer` may list with the `status` filter.
fn visibility<'a>(
    query: Boxed<'a>,
    status: Option<StatusFilter>,
    viewer: Option<Actor>,
    now: chrono::NaiveDateTime,
) -> Boxed<'a> {
    let writer = viewer.filter(|a| !a.is_editor()).map(|a| a.id);
    match status {
        None | Some(StatusFilter::Published) => query.filter(visible_to_readers(now)),
        Some(StatusFilter::Scheduled) => query
            .filter(articles::status.eq(StoredStatus::Published))
            .filter(articles::published_at.gt(now)),
        Some(StatusFilter::Draft) => {
            let query = query.filter(articles::status.eq(StoredStatus::Draft));
            match writer {
                Some(me) => query.filter(articles::created_by.eq(me)),
                None => query,
            }
        }
        Some(StatusFilter::All) => match writer {
            Some(me) => query.filter(
                articles::status
                    .eq(StoredStatus::Published)
                    .or(articles::created_by.eq(me).assume_not_null()),
            ),
            None => query,
        },
    }
}

/// What a query is for: the rows of a page, or the total. They differ in one place:
/// a tag filter is an `EXISTS` probe for a page (SQLite walks the date index and stops
/// after a page) but an `IN` set for a count (SQLite starts from the tag's index entries
/// instead of visiting every article).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Page,
    Count,
}

fn filtered<'a>(
    q: &'a ArticleQuery,
    r: &'a Resolved,
    viewer: Option<Actor>,
    now: chrono::NaiveDateTime,
    purpose: Purpose,
) -> Boxed<'a> {
    let mut query = visibility(articles::table.into_boxed(), q.status, viewer, now);
    if let Some(ids) = &r.sections {
        query = query.filter(articles::section_id.eq_any(ids.clone()));
    }
    if let Some(ids) = &r.tags {
        query = match purpose {
            Purpose::Page => query.filter(exists(
                article_tags::table
                    .filter(article_tags::article_id.eq(articles::id))
                    .filter(article_tags::tag_id.eq_any(ids.clone())),
            )),
            Purpose::Count => query.filter(
                articles::id.eq_any(
                    article_tags::table
                        .filter(article_tags::tag_id.eq_any(ids.clone()))
                        .select(article_tags::article_id),
                ),
            ),
        };
    }
    if let Some(id) = r.collection {
        query = query.filter(exists(
            collection_articles::table
                .filter(collection_articles::article_id.eq(articles::id))
                .filter(collection_articles::collection_id.eq(id)),
        ));
    }
    if let Some(id) = r.author {
        query = query.filter(exists(
            article_authors::table
                .filter(article_authors::article_id.eq(articles::id))
                .filter(article_authors::author_id.eq(id)),
        ));
    }
    if let Some(id) = r.region {
        query = query.filter(exists(
            article_regions::table
                .filter(article_regions::article_id.eq(articles::id))
                .filter(article_regions::region_id.eq(id)),
        ));
    }
    if let Some(lang) = &q.lang {
        query = query.filter(articles::language.eq(lang.clone()));
    }
    if let Some(t) = q.published_after {
        query = query.filter(articles::published_at.gt(t.0));
    }
    if let Some(t) = q.published_before {
        query = query.filter(articles::published_at.lt(t.0));
    }
    if let Some(f) = q.featured {
        query = query.filter(articles::featured.eq(f));
    }
    query
}

/// Adds "after the cursor" and the order for the list's sort.
///
/// A draft may have no `published_at`; SQLite orders NULL before every value, so such
/// rows come last in `-published_at` and first in `published_at`, and the cursor
/// carries the NULL explicitly. `relevance` needs `q`, whose pages [`search_page`]
/// cuts; here it falls back to newest first.
fn sorted<'a>(mut query: Boxed<'a>, sort: ArticleSort, page: &PageRequest) -> AppResult<Boxed<'a>> {
    if let Some(after) = page.after() {
        let last = after.last_id()?;
        query = match sort {
            ArticleSort::Title => {
                let k = after.text(0)?.to_owned();
                keyset_after!(query, articles::title, articles::id, k, last, asc)
            }
            ArticleSort::UpdatedAtDesc => {
                let k = after.time(0)?;
                keyset_after!(query, articles::updated_at, articles::id, k, last, desc)
            }
            ArticleSort::PublishedAtDesc | ArticleSort::Relevance => match after.opt_int(0)? {
                Some(_) => {
                    let k = after.time(0)?;
                    query.filter(
                        articles::published_at
                            .lt(k)
                            .or(articles::published_at.eq(k).and(articles::id.lt(last)))
                            .or(articles::published_at.is_null()),
                    )
                }
                None => query
                    .filter(articles::published_at.is_null())
                    .filter(articles::id.lt(last)),
            },
            ArticleSort::PublishedAt => match after.opt_int(0)? {
                Some(_) => {
                    let k = after.time(0)?;
                    query.filter(
                        articles::published_at
                            .gt(k)
                            .or(articles::published_at.eq(k).and(articles::id.gt(last))),
                    )
                }
                None => query.filter(
                    articles::published_at
                        .is_null()
                        .and(articles::id.gt(last))
                        .or(articles::published_at.is_not_null()),
                ),
            },
        };
    }
    Ok(match sort {
        ArticleSort::PublishedAt => query.order((articles::published_at.asc(), articles::id.asc())),
        ArticleSort::Title => query.order((articles::title.asc(), articles::id.asc())),
        ArticleSort::UpdatedAtDesc => {
            query.order((articles::updated_at.desc(), articles::id.desc()))
        }
        ArticleSort::PublishedAtDesc | ArticleSort::Relevance => {
            query.order((articles::published_at.desc(), articles::id.desc()))
        }
    })
}

/// A `published_at` as a cursor key: `Null` for a draft without one.
fn published_key(at: Option<chrono::NaiveDateTime>) -> KeyValue {
    at.map(|t| KeyValue::Int(Timestamp::from(t).unix()))
        .unwrap_or(KeyValue::Null)
}

fn cursor_key(sort: ArticleSort, head: &ArticleHead) -> Vec<KeyValue> {
    let first = match sort {
        ArticleSort::Title => KeyValue::Text(head.title.clone()),
        ArticleSort::UpdatedAtDesc => KeyValue::Int(Timestamp::from(head.updated_at).unix()),
        ArticleSort::PublishedAtDesc | ArticleSort::PublishedAt | ArticleSort::Relevance => {
            published_key(head.published_at)
        }
    };
    vec![first, KeyValue::Int(i64::from(head.id))]
}

/// An empty page, for filters that name nothing.
fn empty(q: &ArticleQuery) -> ListResponse<super::Article> {
    paging::finish_page(
        Vec::<ArticleHead>::new(),
        &q.page,
        q.sort.as_str(),
        &CursorCodec::new(b""),
        q.page.after().is_none().then_some(0),
        |_| Vec::new(),
        |_| unreachable!("no rows"),
    )
}

/// What a public page of an article list shows, for telling whether a newly created
/// article would change it (a cache keeps the page until one does).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dependencies {
    /// Any new article may change it (a filter value named nothing yet, or staff views).
    Any,
    /// Only new articles that pass these filters change it.
    Filters {
        sections: Option<Vec<i32>>,
        tags: Option<Vec<i32>>,
        author: Option<i32>,
        region: Option<i32>,
        lang: Option<String>,
        featured: Option<bool>,
        after: Option<chrono::NaiveDateTime>,
        before: Option<chrono::NaiveDateTime>,
    },
}

impl Dependencies {
    /// True when `article` would appear in (or change the total of) such a list.
    pub fn shows(&self, article: &ArticleFacts) -> bool {
        let Dependencies::Filters {
            sections,
            tags,
            author,
            region,
            lang,
            featured,
            after,
            before,
        } = self
        else {
            return article.public;
        };
        let any_of = |wanted: &Option<Vec<i32>>, have: &[i32]| {
            wanted
                .as_ref()
                .is_none_or(|w| w.iter().any(|id| have.contains(id)))
        };
        let one_of = |wanted: &Option<i32>, have: &[i32]| wanted.is_none_or(|w| have.contains(&w));
        article.public
            && sections
                .as_ref()
                .is_none_or(|s| article.section_id.is_some_and(|id| s.contains(&id)))
            && any_of(tags, &article.tag_ids)
            && one_of(author, &article.author_ids)
            && one_of(region, &article.region_ids)
            && lang.as_ref().is_none_or(|l| *l == article.language)
            && featured.is_none_or(|f| f == article.featured)
            && after.is_none_or(|a| article.published_at.is_some_and(|p| p > a))
            && before.is_none_or(|b| article.published_at.is_some_and(|p| p < b))
    }
}

/// Remembers the totals of public lists between requests, so that a page does not count
/// the whole list again. The memo answers only while it can stay exact: it adds the
/// articles created since it counted (it sees every create), and forgets everything at
/// any other change.
pub trait Totals: Send + Sync {
    /// The total of the list `deps` describes if remembered and still exact; otherwise
    /// a ticket to hand back to [`Totals::put`] with the count.
    fn get(&self, deps: &Dependencies) -> Result<i64, u64>;
    /// Remembers a total counted at freshness `version` (the content counter), after
    /// `get` gave `ticket`.
    fn put(&self, deps: &Dependencies, total: i64, version: i64, ticket: u64);
}

/// The list's total: from the memo when it can answer, else counted (together with the
/// content counter, in one read transaction, so the memo knows what the count saw).
fn total(
    conn: &mut DbConn,
    q: &ArticleQuery,
    resolved: &Resolved,
    viewer: Option<Actor>,
    now: chrono::NaiveDateTime,
    dependencies: &Dependencies,
    totals: Option<&dyn Totals>,
) -> AppResult<i64> {
    let memo = totals.filter(|_| matches!(dependencies, Dependencies::Filters { .. }));
    let ticket = match memo.map(|m| m.get(dependencies)) {
        Some(Ok(known)) => return Ok(known),
        Some(Err(ticket)) => Some(ticket),
        None => None,
    };
    let (version, counted) = conn.transaction(|conn| {
        let version = crate::db::freshness::version(conn)?;
        let counted: i64 = filtered(q, resolved, viewer, now, Purpose::Count)
            .count()
            .get_result(conn)?;
        Ok::<_, crate::error::AppError>((version, counted))
    })?;
    if let (Some(m), Some(ticket)) = (memo, ticket) {
        m.put(dependencies, counted, version, ticket);
    }
    Ok(counted)
}

/// Lists the articles `viewer` may see, a page at a time.
pub fn list(
    conn: &mut DbConn,
    q: &ArticleQuery,
    viewer: Option<Actor>,
    codec: &CursorCodec,
) -> AppResult<ListResponse<super::Article>> {
    list_with_dependencies(conn, q, viewer, codec, None).map(|(page, _)| page)
}

/// [`list`], and what the page depends on; `totals` remembers list totals.
pub fn list_with_dependencies(
    conn: &mut DbConn,
    q: &ArticleQuery,
    viewer: Option<Actor>,
    codec: &CursorCodec,
    totals: Option<&dyn Totals>,
) -> AppResult<(ListResponse<super::Article>, Dependencies)> {
    let Some(resolved) = resolve(conn, q)? else {
        return Ok((empty(q), Dependencies::Any));
    };
    let dependencies = match (q.status, viewer) {
        _ if q.q.is_some() || q.collection.is_some() => Dependencies::Any,
        (None, None) => Dependencies::Filters {
            sections: resolved.sections.clone(),
            tags: resolved.tags.clone(),
            author: resolved.author,
            region: resolved.region,
            lang: q.lang.clone(),
            featured: q.featured,
            after: q.published_after.map(|t| t.0),
            before: q.published_before.map(|t| t.0),
        },
        _ => Dependencies::Any,
    };
    if let Some(words) = &q.q {
        let page = search_page(conn, q, words, &resolved, viewer, codec)?;
        return Ok((page, dependencies));
    }
    let now = Timestamp::now().0;
    let rows: Vec<ArticleHead> = sorted(
        filtered(q, &resolved, viewer, now, Purpose::Page),
        q.sort,
        &q.page,
    )?
    .select(ArticleHead::as_select())
    .limit(q.page.fetch_limit())
    .offset(q.page.offset())
    .load(conn)?;
    let total = match q.page.after() {
        None => Some(total(
            conn,
            q,
            &resolved,
            viewer,
            now,
            &dependencies,
            totals,
        )?),
        Some(_) => None,
    };
    let page_rows = &rows[..rows.len().min(q.page.per_page as usize)];
    let relations = Relations::load(conn, page_rows)?;
    let page = paging::finish_page(
        rows,
        &q.page,
        q.sort.as_str(),
        codec,
        total,
        |h| cursor_key(q.sort, h),
        |h| relations.view(h, None, now),
    );
    Ok((page, dependencies))
}

/// The sort key of a search match: relevance, or a column. A relevance (never negative)
/// is keyed by its bits, which order non-negative floats exactly as their values.
fn search_key(sort: ArticleSort, row: &SearchRow, score: f64) -> Vec<KeyValue> {
    let first = match sort {
        ArticleSort::Relevance => KeyValue::Int(score.max(0.0).to_bits() as i64),
        ArticleSort::Title => KeyValue::Text(row.2.clone()),
        ArticleSort::UpdatedAtDesc => KeyValue::Int(Timestamp::from(row.3).unix()),
        ArticleSort::PublishedAtDesc | ArticleSort::PublishedAt => published_key(row.1),
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

/// `(id, published_at, title, updated_at)` of a search match.
type SearchRow = (
    i32,
    Option<chrono::NaiveDateTime>,
    String,
    chrono::NaiveDateTime,
);

/// A page of search results: FTS5 finds and ranks the matches, the database keeps those
/// that pass the other filters and the caller's visibility, and the page is cut from
/// them in the requested order; each result carries its rank and a snippet.
fn search_page(
    conn: &mut DbConn,
    q: &ArticleQuery,
    words: &str,
    resolved: &Resolved,
    viewer: Option<Actor>,
    codec: &CursorCodec,
) -> AppResult<ListResponse<super::Article>> {
    let terms = search::terms(words);
    let Some(expression) = search::match_expression(&terms) else {
        return Ok(empty(q));
    };
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
    let hits = crate::db::sqlite::fts_match(conn, &expression, visible, order, MAX_SEARCH_HITS)?;
    if hits.is_empty() {
        return Ok(empty(q));
    }
    let scores: std::collections::HashMap<i32, f64> = hits.iter().copied().collect();
    let ids: Vec<i32> = hits.iter().map(|(id, _)| *id).collect();
    let rows: Vec<SearchRow> = filtered(q, resolved, viewer, now, Purpose::Page)
        .filter(articles::id.eq_any(&ids))
        .select((
            articles::id,
            articles::published_at,
            articles::title,
            articles::updated_at,
        ))
        .load(conn)?;
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
        .filter(articles::id.eq_any(&page_ids))
        .select(ArticleHead::as_select())
        .load(conn)?;
    heads.sort_by_key(|h| page_ids.iter().position(|id| *id == h.id));
    let texts: Vec<(i32, Option<String>, String)> = articles::table
        .filter(articles::id.eq_any(&page_ids))
        .select((articles::id, articles::summary, articles::body))
        .load(conn)?;
    let shown = &heads[..heads.len().min(q.page.per_page as usize)];
    let relations = Relations::load(conn, shown)?;
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
                        super::super::markdown::plain_text(b),
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
