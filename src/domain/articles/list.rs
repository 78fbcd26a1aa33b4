//! `GET /articles`: filters, sorts, and pages of articles with their relations embedded,
//! in a fixed number of queries whatever the page size.

mod dependencies;
mod search_page;

use diesel::dsl::exists;
use diesel::prelude::*;

pub use super::query::{ArticleParams, ArticleQuery, ArticleSort, StatusFilter};
use super::{ArticleHead, Relations, StoredStatus, visible_to_readers};
use crate::auth::Actor;
use crate::db::{DbBackend, DbConn};
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::time::Timestamp;
use crate::domain::{authors, collections, counts, regions, sections, tags};
use crate::error::AppResult;
use crate::schema::{
    article_authors, article_regions, article_tags, articles, collection_articles,
};
pub use dependencies::{Dependencies, KeptMatches, ListMemo, Matches, MatchesTicket, Totals};
use search_page::search_page;
pub use search_page::{MAX_SEARCH_HITS, SEARCH_WINDOW};

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
            .filter(articles::deleted_at.is_null())
            .filter(articles::status.eq(StoredStatus::Published))
            .filter(articles::published_at.gt(now))
            .filter(
                articles::unpublish_at
                    .is_null()
                    .or(articles::unpublish_at.gt(now).assume_not_null()),
            ),
        Some(StatusFilter::Expired) => query
            .filter(articles::deleted_at.is_null())
            .filter(articles::status.eq(StoredStatus::Published))
            .filter(articles::unpublish_at.le(now).assume_not_null()),
        Some(StatusFilter::Draft) => {
            let query = query
                .filter(articles::deleted_at.is_null())
                .filter(articles::status.eq(StoredStatus::Draft));
            match writer {
                Some(me) => query.filter(articles::created_by.eq(me)),
                None => query,
            }
        }
        Some(StatusFilter::All) => match writer {
            Some(me) => query.filter(articles::deleted_at.is_null()).filter(
                articles::status
                    .eq(StoredStatus::Published)
                    .or(articles::created_by.eq(me).assume_not_null()),
            ),
            None => query.filter(articles::deleted_at.is_null()),
        },
    }
}

/// What a query is for: the rows of a page, or the total. They differ in how a tag,
/// author, region or collection filter is written: an `EXISTS` probe for a page (SQLite
/// walks the date index and stops after a page) unless the filter names few articles
/// ([`Whole`]), but always an `IN` set for a count (SQLite starts from the filter's
/// index entries instead of visiting every article).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Page(Whole),
    Count,
}

/// The filters of a page whose articles are few enough to be read whole (see
/// [`whole`]): `IN` the filter's rows rather than an `EXISTS` probe per article walked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Whole {
    tags: bool,
    author: bool,
    region: bool,
    collection: bool,
    /// The page walks its edition (`lang=`, by `articles_language_idx`) and checks each
    /// story's section, rather than walking the section's index (see [`edition_first`]).
    section_checked: bool,
}

/// Which of a page's tag, author, region and collection filters name few enough
/// articles to be read whole (see [`counts::read_whole_limit`]).
///
/// A page walks the articles newest first and probes each for the filter, stopping
/// when the page is full: cheap for a tag of many stories, but for a tag of five
/// stories at 1,000,000 articles the walk read the whole archive (0.3–2.5 s). Read
/// whole, such a page costs a lookup per article of the tag. A readers' page asks the
/// maintained counts; a staff list (drafts, scheduled, everything), whose rows the
/// counts do not know, and a collection, which has none, count the filter's rows up to
/// one more than the bound.
///
/// The link the page walks (`walked`, see [`link_walk`]) is never read whole.
fn whole(
    conn: &mut DbConn,
    q: &ArticleQuery,
    r: &Resolved,
    walked: Option<Walk>,
) -> AppResult<Whole> {
    let tags = r
        .tags
        .as_deref()
        .filter(|_| !matches!(walked, Some(Walk::Tag(_))));
    let author = r
        .author
        .filter(|_| !matches!(walked, Some(Walk::Author(_))));
    let region = r
        .region
        .filter(|_| !matches!(walked, Some(Walk::Region(_))));
    if tags.is_none() && author.is_none() && region.is_none() && r.collection.is_none() {
        return Ok(Whole::default());
    }
    let limit = counts::read_whole_limit(counts::stored_sum(conn, counts::ALL, &[0])?);
    // Whether the link's matching rows are at most `limit`, reading no more than one
    // beyond it.
    macro_rules! fits {
        ($link:ident, $matching:expr) => {{
            let rows: Vec<i32> = $link::table
                .filter($matching)
                .select($link::article_id)
                .limit(limit + 1)
                .load(conn)?;
            rows.len() as i64 <= limit
        }};
    }
    let collection = match r.collection {
        Some(id) => fits!(
            collection_articles,
            collection_articles::collection_id.eq(id)
        ),
        None => false,
    };
    if !matches!(q.status, None | Some(StatusFilter::Published)) {
        return Ok(Whole {
            tags: match tags {
                Some(ids) => fits!(article_tags, article_tags::tag_id.eq_any(ids.to_vec())),
                None => false,
            },
            author: match author {
                Some(id) => fits!(article_authors, article_authors::author_id.eq(id)),
                None => false,
            },
            region: match region {
                Some(id) => fits!(article_regions, article_regions::region_id.eq(id)),
                None => false,
            },
            collection,
            section_checked: false,
        });
    }
    let mut small = |kind: i32, refs: Option<&[i32]>| -> AppResult<bool> {
        match refs {
            Some(refs) => Ok(counts::stored_sum(conn, kind, refs)? <= limit),
            None => Ok(false),
        }
    };
    Ok(Whole {
        tags: small(counts::TAG, tags)?,
        author: small(counts::AUTHOR, author.as_ref().map(std::slice::from_ref))?,
        region: small(counts::REGION, region.as_ref().map(std::slice::from_ref))?,
        collection,
        section_checked: false,
    })
}

/// Articles linked through `$link` (a table of `article_id` and `$matching`): `IN` the
/// link's matching rows when `$whole`, else an `EXISTS` probe for each article walked.
///
/// With `$q`, the link's own copy of its story's `published_at` (written with the link,
/// kept equal by triggers) takes the list's date bounds too, so that a set read whole holds
/// only the window's rows (`article_tags_time_idx` and its kin): a count of a tag's January
/// two years back read all the tag's rows and probed each story.
macro_rules! linked {
    ($query:expr, $whole:expr, $link:ident, $matching:expr, $q:expr) => {
        match $whole {
            true => match ($q.published_after, $q.published_before) {
                (None, None) => linked!($query, true, $link, $matching),
                (Some(a), None) => {
                    linked!(
                        $query,
                        true,
                        $link,
                        $matching.and($link::published_at.gt(a.0))
                    )
                }
                (None, Some(b)) => {
                    linked!(
                        $query,
                        true,
                        $link,
                        $matching.and($link::published_at.lt(b.0))
                    )
                }
                (Some(a), Some(b)) => linked!(
                    $query,
                    true,
                    $link,
                    $matching
                        .and($link::published_at.gt(a.0))
                        .and($link::published_at.lt(b.0))
                ),
            },
            false => linked!($query, false, $link, $matching),
        }
    };
    ($query:expr, $whole:expr, $link:ident, $matching:expr) => {
        match $whole {
            true => $query.filter(
                articles::id.eq_any($link::table.filter($matching).select($link::article_id)),
            ),
            false => $query.filter(exists(
                $link::table
                    .filter($link::article_id.eq(articles::id))
                    .filter($matching),
            )),
        }
    };
}

/// One of the page's link filters (`tags`, `collection`, `author`, `region`), if the
/// page has it, added to `$query` with [`linked!`].
macro_rules! link_filter {
    // A filter by one id (`Option<i32>`) in `$link::$column`, and the date bounds of
    // `$q` on the link's rows (see [`linked!`]).
    (@id $query:expr, $id:expr, $whole:expr, $link:ident, $column:ident, $q:expr) => {
        match $id {
            Some(id) => linked!($query, $whole, $link, $link::$column.eq(id), $q),
            None => $query,
        }
    };
    ($query:expr, $q:expr, $r:expr, $whole:expr, $count:expr, tags) => {
        match &$r.tags {
            Some(ids) => linked!(
                $query,
                $whole.tags || $count,
                article_tags,
                article_tags::tag_id.eq_any(ids.clone()),
                $q
            ),
            None => $query,
        }
    };
    // A collection's rows carry no time.
    ($query:expr, $q:expr, $r:expr, $whole:expr, $count:expr, collection) => {
        match $r.collection {
            Some(id) => linked!(
                $query,
                $whole.collection || $count,
                collection_articles,
                collection_articles::collection_id.eq(id)
            ),
            None => $query,
        }
    };
    ($query:expr, $q:expr, $r:expr, $whole:expr, $count:expr, author) => {
        link_filter!(@id $query, $r.author, $whole.author || $count, article_authors,
            author_id, $q)
    };
    ($query:expr, $q:expr, $r:expr, $whole:expr, $count:expr, region) => {
        link_filter!(@id $query, $r.region, $whole.region || $count, article_regions,
            region_id, $q)
    };
}

/// The list's filters other than visibility, added to `$query` (a query of articles,
/// or of one link's rows joined to their articles: see [`link_walk`]): the link
/// filters named in `[...]` (a walk leaves out its own link, whose table is already in
/// the query) and the rest. `$at` is the `published_at` column the date bounds use
/// (the link's, on a link walk, so that they narrow its index range). A macro, as the
/// queries' types differ.
macro_rules! narrowed {
    ($query:expr, $q:expr, $r:expr, $whole:expr, $count:expr, $at:expr, [$($link:ident),*]) => {{
        let (q, r, whole, count) = ($q, $r, $whole, $count);
        let mut query = $query;
        // One section as `=`: PostgreSQL 15 reads `= ANY(array)` from an index without
        // its order, so a section page walked every story newest first for its own.
        match (r.sections.as_deref(), whole.section_checked) {
            // `section_id + 0`: a condition no index answers, so that the planner walks
            // the edition's index and checks the section on each story.
            (Some(ids), true) => {
                query = query.filter((articles::section_id + 0).eq_any(ids.to_vec()))
            }
            (Some([id]), false) => query = query.filter(articles::section_id.eq(*id)),
            (Some(ids), false) => {
                query = query.filter(articles::section_id.eq_any(ids.to_vec()))
            }
            (None, _) => {}
        }
        $(query = link_filter!(query, q, r, whole, count, $link);)*
        if let Some(lang) = &q.lang {
            query = query.filter(articles::language.eq(lang.clone()));
        }
        if let Some(t) = q.published_after {
            query = query.filter($at.gt(t.0));
        }
        if let Some(t) = q.published_before {
            query = query.filter($at.lt(t.0));
        }
        // The flag itself, not `featured = ?`: a planner can match a bare column, never a
        // bound value, to the index of the featured stories (`articles_featured_idx`).
        match q.featured {
            Some(true) => query = query.filter(articles::featured),
            Some(false) => query = query.filter(diesel::dsl::not(articles::featured)),
            None => {}
        }
        query
    }};
}

/// The list's filters added to `query` (all articles, or a cursor's conditions that
/// must stay first in the statement: see [`after_cursor`]).
fn filtered<'a>(
    query: Boxed<'a>,
    q: &'a ArticleQuery,
    r: &'a Resolved,
    viewer: Option<Actor>,
    now: chrono::NaiveDateTime,
    purpose: Purpose,
) -> Boxed<'a> {
    // Given two bounds on `published_at` on the same side, SQLite starts its index range
    // at the first one in the statement and filters by the other (see [`after_cursor`]).
    // A date bound tighter than what the status allows goes first: with "published by
    // now" first, a month of an archive's past read every story published since (a
    // January two years back, 230 ms at a million articles). The list's filters repeat
    // it below, a second term with the same value.
    let query = match (q.status, q.published_before, q.published_after) {
        (None | Some(StatusFilter::Published), Some(before), _) if before.0 <= now => {
            query.filter(articles::published_at.lt(before.0))
        }
        (Some(StatusFilter::Scheduled), _, Some(after)) if after.0 > now => {
            query.filter(articles::published_at.gt(after.0))
        }
        _ => query,
    };
    let query = visibility(query, q.status, viewer, now);
    let (whole, count) = match purpose {
        Purpose::Page(whole) => (whole, false),
        Purpose::Count => (Whole::default(), true),
    };
    // A count reads the filters' rows (a probe per article would visit every article
    // of the statuses asked for); a page does when the filter names few articles (see
    // [`whole`]).
    narrowed!(
        query,
        q,
        r,
        whole,
        count,
        articles::published_at,
        [tags, collection, author, region]
    )
}

/// The one link a readers' page by date walks ([`link_walk`]): its tag, author or
/// region, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Tag(i32),
    Author(i32),
    Region(i32),
}

/// Whether the page is a readers' page by date (or relevance) with no collection: the
/// pages that may walk one link ([`walked_link`]) or their edition ([`edition_first`]),
/// and the searches that may keep their matches from the sitemap index
/// (`search_page::from_facts`).
fn walks_by_date(q: &ArticleQuery, r: &Resolved) -> bool {
    matches!(q.status, None | Some(StatusFilter::Published))
        && matches!(
            q.sort,
            ArticleSort::PublishedAtDesc | ArticleSort::PublishedAt | ArticleSort::Relevance
        )
        && r.collection.is_none()
}

/// The link a readers' page by date walks in publication order ([`link_walk`]): with
/// no collection, sorted by `published_at`, the page's one tag, its author or its
/// region, whichever holds the fewest stories (by the maintained counts), unless the
/// section (with its children) the page also filters by holds fewer, or, for
/// `featured=true` on PostgreSQL, the featured stories are fewer, or, for a page in
/// one language, that language's stories are fewer than an author's or a region's
/// (of all languages): a walk ends when
/// it has found a page, and the smallest set holds one soonest. Otherwise (several
/// tags only, or a smaller section, or a staff list) the page walks the articles by
/// date, or the section's index, as before.
fn walked_link(conn: &mut DbConn, q: &ArticleQuery, r: &Resolved) -> AppResult<Option<Walk>> {
    if !walks_by_date(q, r) {
        return Ok(None);
    }
    let mut links: Vec<(Walk, i32, i32)> = Vec::new();
    if let Some(&[tag]) = r.tags.as_deref() {
        links.push((Walk::Tag(tag), counts::TAG, tag));
    }
    if let Some(id) = r.author {
        links.push((Walk::Author(id), counts::AUTHOR, id));
    }
    if let Some(id) = r.region {
        links.push((Walk::Region(id), counts::REGION, id));
    }
    // PostgreSQL has the featured stories in an index of their own
    // (`articles_featured_idx`): a featured rail of a tag, author or region walks them
    // newest first and checks each one's link, when they are fewer than the link's.
    let featured_first = q.featured == Some(true) && matches!(conn, DbConn::Postgres(_));
    // A page in one language (`lang=`): a tag's walk reads that language's links only
    // (they carry it), an author's or a region's reads all of theirs, and the edition's
    // own walk (`articles_language_idx`) reads that language's stories only, checking
    // each one's link. An Arabic page of a region the English edition fills walked
    // dozens of English stories for each Arabic one.
    let in_lang = |kind| q.lang.as_deref().and_then(|l| counts::in_language(kind, l));
    let alone = match links.as_slice() {
        [(Walk::Tag(_), _, _)] => true,
        [_] => q.lang.is_none(),
        _ => false,
    };
    if let (true, None, false) = (alone, &r.sections, featured_first) {
        return Ok(Some(links[0].0));
    }
    let mut best: Option<(Walk, i64)> = None;
    for (walk, kind, id) in links {
        let walked = match (walk, in_lang(kind)) {
            (Walk::Tag(_), Some(tag_in_lang)) => tag_in_lang,
            _ => kind,
        };
        let size = counts::stored_sum(conn, walked, &[id])?;
        if best.is_none_or(|(_, least)| size < least) {
            best = Some((walk, size));
        }
    }
    let Some((walk, size)) = best else {
        return Ok(None);
    };
    if featured_first && counts::stored_sum(conn, counts::FEATURED, &[0])? < size {
        return Ok(None);
    }
    if !matches!(walk, Walk::Tag(_))
        && let Some(edition) = in_lang(counts::ALL)
        && counts::stored_sum(conn, edition, &[0])? < size
    {
        return Ok(None);
    }
    if let Some(ids) = &r.sections
        && counts::stored_sum(conn, counts::SECTION, ids)? < size
    {
        return Ok(None);
    }
    Ok(Some(walk))
}

/// Whether a readers' page in one language (`lang=`) of a section, which walks no link
/// ([`walked_link`]), walks its edition (`articles_language_idx`) and checks each
/// story's section: when the edition holds fewer stories than the section (with its
/// children) in all languages. The section's index has no language, so an Arabic page
/// of a section the English edition fills read a row for every English story on the
/// way (33 ms a page with the file's pages not yet in memory, 2.7 ms once they were).
fn edition_first(
    conn: &mut DbConn,
    q: &ArticleQuery,
    r: &Resolved,
    walked: Option<Walk>,
) -> AppResult<bool> {
    let (Some(sections), Some(edition), None, true) = (
        &r.sections,
        q.lang
            .as_deref()
            .and_then(|l| counts::in_language(counts::ALL, l)),
        walked,
        walks_by_date(q, r),
    ) else {
        return Ok(false);
    };
    // A featured rail keeps the featured stories' own index on PostgreSQL.
    if q.featured == Some(true) {
        return Ok(false);
    }
    Ok(counts::stored_sum(conn, edition, &[0])?
        < counts::stored_sum(conn, counts::SECTION, sections)?)
}

/// The rows of a readers' page of one tag, author or region ([`walked_link`]), walked from
/// the link's rows in publication order (`article_tags_time_idx`,
/// `article_authors_time_idx`, `article_regions_time_idx`: a link carries its story's
/// `published_at`, written with it and kept equal by triggers) and joined to their
/// articles, instead of walking every article by date and probing each for the link: one
/// whose stories are all old made that walk read the newer archive first. Same order and
/// cursor as the article walk; the page's other filters are checked on each story.
fn link_walk(
    conn: &mut DbConn,
    q: &ArticleQuery,
    r: &Resolved,
    walk: Walk,
    whole: Whole,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<ArticleHead>> {
    // `$others`: the page's link filters other than the walked one (a walked page has
    // no collection).
    //
    // `language`: the link's rows carry their story's language (tag links only), so a
    // page in one language reads the range of that language only
    // (`article_tags_language_time_idx`); by the story's language alone, a Spanish page
    // of a tag the English edition fills walked every newer English story first.
    macro_rules! walk {
        (@lang $query:expr, $q:expr, $link:ident language) => {
            match &$q.lang {
                Some(lang) => $query.filter($link::language.eq(lang.clone())),
                None => $query,
            }
        };
        (@lang $query:expr, $q:expr, $link:ident) => {
            $query
        };
        ($link:ident, $column:ident, $id:expr, $others:tt $(, $language:ident)?) => {{
            let oldest_first = q.sort == ArticleSort::PublishedAt;
            let mut query = $link::table
                .inner_join(articles::table)
                .into_boxed::<DbBackend>();
            // The cursor's bound first (see [`after_cursor`]); a cursor without a time (a
            // draft's, which readers never see) leaves nothing before the first dated
            // row when oldest first, and nothing after it when newest first.
            if let Some(after) = q.page.after() {
                let last = after.last_id()?;
                query = match (after.opt_int(0)?, oldest_first) {
                    (Some(_), false) => {
                        let k = after.time(0)?;
                        keyset_after!(
                            query,
                            $link::published_at.assume_not_null(),
                            $link::article_id,
                            k,
                            last,
                            desc
                        )
                    }
                    (Some(_), true) => {
                        let k = after.time(0)?;
                        keyset_after!(
                            query,
                            $link::published_at.assume_not_null(),
                            $link::article_id,
                            k,
                            last,
                            asc
                        )
                    }
                    (None, false) => return Ok(Vec::new()),
                    (None, true) => query,
                };
            }
            // The tighter of "published by now" and the list's `published_before`
            // bounds the link's index range (see [`filtered`]).
            let query = query.filter($link::$column.eq($id));
            let query = match q.published_before {
                Some(before) if before.0 <= now => query.filter($link::published_at.lt(before.0)),
                _ => query.filter($link::published_at.le(now)),
            };
            let query = query.filter(visible_to_readers(now));
            let query = walk!(@lang query, q, $link $($language)?);
            let query = narrowed!(query, q, r, whole, false, $link::published_at, $others);
            let query = match oldest_first {
                true => query.order(($link::published_at.asc(), $link::article_id.asc())),
                false => query.order(($link::published_at.desc(), $link::article_id.desc())),
            };
            query
                .select(ArticleHead::as_select())
                .limit(q.page.fetch_limit())
                .offset(q.page.offset())
                .load(conn)?
        }};
    }
    Ok(match walk {
        Walk::Tag(id) => walk!(article_tags, tag_id, id, [author, region], language),
        Walk::Author(id) => walk!(article_authors, author_id, id, [tags, region]),
        Walk::Region(id) => walk!(article_regions, region_id, id, [tags, author]),
    })
}

/// Adds "after the cursor" for the list's sort (see [`ordered`]).
///
/// The cursor's conditions go first in the statement, before what readers may see:
/// given two upper bounds on `published_at` (the cursor's and "published by now"),
/// SQLite starts its index range at the first one in the statement and filters by the
/// other, so with "now" first a page 400,000 rows deep read those 400,000 rows (about
/// 40 ms at a million articles), and with the cursor's first it reads one page.
fn after_cursor<'a>(
    mut query: Boxed<'a>,
    sort: ArticleSort,
    page: &PageRequest,
    undated: bool,
) -> AppResult<Boxed<'a>> {
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
                // Undated drafts come after every dated row.
                Some(_) if undated => {
                    let k = after.time(0)?;
                    query.filter(
                        articles::published_at
                            .lt(k)
                            .or(articles::published_at.eq(k).and(articles::id.lt(last)))
                            .or(articles::published_at.is_null()),
                    )
                }
                Some(_) => {
                    let k = after.time(0)?;
                    keyset_after!(query, articles::published_at, articles::id, k, last, desc)
                }
                None => query
                    .filter(articles::published_at.is_null())
                    .filter(articles::id.lt(last)),
            },
            ArticleSort::PublishedAt => match after.opt_int(0)? {
                Some(_) => {
                    let k = after.time(0)?;
                    keyset_after!(query, articles::published_at, articles::id, k, last, asc)
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
    Ok(query)
}

/// The order for the list's sort.
///
/// A draft may have no `published_at`; such rows come last in `-published_at` and first
/// in `published_at`, and the cursor carries the NULL explicitly. SQLite orders NULL
/// before every value and PostgreSQL after, so where drafts may be listed (`undated`)
/// the order says where NULLs go; elsewhere it stays the plain index order.
/// `relevance` needs `q`, whose pages [`search_page()`] cuts; here it falls back to
/// newest first.
fn ordered(query: Boxed<'_>, sort: ArticleSort, undated: bool) -> Boxed<'_> {
    match sort {
        ArticleSort::PublishedAt if undated => query.order((
            articles::published_at.is_not_null().asc(),
            articles::published_at.asc(),
            articles::id.asc(),
        )),
        ArticleSort::PublishedAtDesc | ArticleSort::Relevance if undated => query.order((
            articles::published_at.is_null().asc(),
            articles::published_at.desc(),
            articles::id.desc(),
        )),
        ArticleSort::PublishedAt => query.order((articles::published_at.asc(), articles::id.asc())),
        ArticleSort::Title => query.order((articles::title.asc(), articles::id.asc())),
        ArticleSort::UpdatedAtDesc => {
            query.order((articles::updated_at.desc(), articles::id.desc()))
        }
        ArticleSort::PublishedAtDesc | ArticleSort::Relevance => {
            query.order((articles::published_at.desc(), articles::id.desc()))
        }
    }
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

/// The list's total from the maintained counts, when its filters are ones the counts
/// keep: what readers see, everything or one section (with its children), one tag, one
/// author or one region, in every language or one, and nothing else, each also with
/// `featured` (the featured stories, or all but them).
fn counted_total(
    conn: &mut DbConn,
    q: &ArticleQuery,
    r: &Resolved,
    now: chrono::NaiveDateTime,
) -> AppResult<Option<i64>> {
    let narrowed = !matches!(q.status, None | Some(StatusFilter::Published))
        || q.q.is_some()
        || r.collection.is_some();
    if narrowed {
        return Ok(None);
    }
    if q.published_after.is_some() || q.published_before.is_some() {
        let linked = r.sections.is_some()
            || r.tags.is_some()
            || r.author.is_some()
            || r.region.is_some()
            || q.featured.is_some();
        return match linked {
            true => Ok(None),
            false => window_total(conn, q, now),
        };
    }
    let mut keys: Vec<(i32, Vec<i32>)> = Vec::new();
    if let Some(ids) = &r.sections {
        keys.push((counts::SECTION, ids.clone()));
    }
    if let Some(ids) = &r.tags {
        if ids.len() != 1 {
            return Ok(None);
        }
        keys.push((counts::TAG, ids.clone()));
    }
    if let Some(id) = r.author {
        keys.push((counts::AUTHOR, vec![id]));
    }
    if let Some(id) = r.region {
        keys.push((counts::REGION, vec![id]));
    }
    let (kind, refs) = match keys.len() {
        0 => (counts::ALL, vec![0]),
        1 => keys.remove(0),
        _ => return Ok(None),
    };
    // The kind in the list's language, if it has one.
    let in_lang = |kind: i32| match &q.lang {
        Some(lang) => counts::in_language(kind, lang),
        None => Some(kind),
    };
    let Some(counted) = in_lang(kind) else {
        return Ok(None);
    };
    match q.featured {
        None => Ok(Some(counts::visible_sum(conn, counted, &refs, now)?)),
        // The featured are counted in the whole archive and in each edition; the others
        // are all but them.
        Some(featured) if kind == counts::ALL => {
            let Some(kind) = in_lang(counts::FEATURED) else {
                return Ok(None);
            };
            let n = counts::visible_sum(conn, kind, &[0], now)?;
            Ok(Some(match featured {
                true => n,
                false => counts::visible_sum(conn, counted, &[0], now)? - n,
            }))
        }
        // With a section, tag, author or region: its featured key, or all but it.
        Some(featured) => {
            let marked: Vec<i32> = refs.iter().map(|r| counts::featured_ref(*r)).collect();
            let n = counts::visible_sum(conn, counted, &marked, now)?;
            Ok(Some(match featured {
                true => n,
                false => counts::visible_sum(conn, counted, &refs, now)? - n,
            }))
        }
    }
}

/// The total of a date window, in every language or one, and nothing else: the whole
/// days inside it from the maintained counts per day ([`counts::DAY`]), and the
/// stories of the part-days at its ends counted (at most a day's at each end). `None`
/// for a language the counts do not keep.
fn window_total(
    conn: &mut DbConn,
    q: &ArticleQuery,
    now: chrono::NaiveDateTime,
) -> AppResult<Option<i64>> {
    let Some(kind) = (match &q.lang {
        Some(lang) => counts::in_language(counts::DAY, lang),
        None => Some(counts::DAY),
    }) else {
        return Ok(None);
    };
    let after = q.published_after.map(|t| t.0);
    let before = q.published_before.map(|t| t.0);
    // The whole days: after the day `after` falls in, before the one `before` does.
    let first = after.map_or(i32::MIN, |t| counts::day_of(t) + 1);
    let last = before.map_or(i32::MAX, |t| counts::day_of(t) - 1);
    if first > last {
        return Ok(None);
    }
    let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN);
    // The stories readers see in a part-day: after `from` (or from it, when
    // `inclusive`) and before `to`. The window's bounds go first (see [`filtered`]).
    let part = |conn: &mut DbConn,
                from: chrono::NaiveDateTime,
                inclusive: bool,
                to: chrono::NaiveDateTime| {
        let query = articles::table
            .into_boxed::<DbBackend>()
            .filter(articles::published_at.lt(to));
        let query = match inclusive {
            true => query.filter(articles::published_at.ge(from)),
            false => query.filter(articles::published_at.gt(from)),
        };
        let mut query = query.filter(visible_to_readers(now));
        if let Some(lang) = &q.lang {
            query = query.filter(articles::language.eq(lang.clone()));
        }
        query.count().get_result::<i64>(conn)
    };
    let mut total = counts::visible_range_sum(conn, kind, first, last, now)?;
    if let Some(after) = after {
        let Some(next) = after.date().succ_opt() else {
            return Ok(None);
        };
        total += part(conn, after, false, midnight(next))?;
    }
    if let Some(before) = before {
        total += part(conn, midnight(before.date()), true, before)?;
    }
    Ok(Some(total))
}

/// The list's total: from the maintained counts when they keep it, else from the memo
/// when it can answer, else counted (together with the content counter, in one read
/// transaction, so the memo knows what the count saw).
fn total(
    conn: &mut DbConn,
    q: &ArticleQuery,
    resolved: &Resolved,
    viewer: Option<Actor>,
    now: chrono::NaiveDateTime,
    dependencies: &Dependencies,
    totals: Option<&dyn Totals>,
) -> AppResult<i64> {
    if let Some(known) = counted_total(conn, q, resolved, now)? {
        return Ok(known);
    }
    let memo = totals.filter(|_| matches!(dependencies, Dependencies::Filters { .. }));
    let ticket = match memo.map(|m| m.get(dependencies)) {
        Some(Ok(known)) => return Ok(known),
        Some(Err(ticket)) => Some(ticket),
        None => None,
    };
    let (version, counted) = conn.transaction(|conn| {
        let version = crate::db::freshness::version(conn)?;
        let counted: i64 = filtered(
            articles::table.into_boxed(),
            q,
            resolved,
            viewer,
            now,
            Purpose::Count,
        )
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
    site: &crate::domain::feeds::Site,
) -> AppResult<ListResponse<super::Article>> {
    list_with_dependencies(conn, q, viewer, codec, None, site).map(|(page, _)| page)
}

/// [`list`], and what the page depends on; `memo` remembers list totals and the
/// matches of anonymous searches.
pub fn list_with_dependencies(
    conn: &mut DbConn,
    q: &ArticleQuery,
    viewer: Option<Actor>,
    codec: &CursorCodec,
    memo: Option<&dyn ListMemo>,
    site: &crate::domain::feeds::Site,
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
    // Anonymous pages only: what a token's holder reads is never taken from memory.
    let links = memo
        .filter(|_| viewer.is_none())
        .map(|m| m as &dyn super::LinksMemo);
    if let Some(words) = &q.q {
        let kept = memo.map(|m| m as &dyn KeptMatches);
        let page = search_page(conn, q, words, &resolved, viewer, codec, site, kept, links)?;
        return Ok((page, dependencies));
    }
    let now = Timestamp::now().0;
    let undated = matches!(q.status, Some(StatusFilter::Draft | StatusFilter::All));
    let walked = walked_link(conn, q, &resolved)?;
    let whole = Whole {
        section_checked: edition_first(conn, q, &resolved, walked)?,
        ..whole(conn, q, &resolved, walked)?
    };
    let rows: Vec<ArticleHead> = match walked {
        Some(walk) => link_walk(conn, q, &resolved, walk, whole, now)?,
        None => {
            let start = after_cursor(articles::table.into_boxed(), q.sort, &q.page, undated)?;
            ordered(
                filtered(start, q, &resolved, viewer, now, Purpose::Page(whole)),
                q.sort,
                undated,
            )
            .select(ArticleHead::as_select())
            .limit(q.page.fetch_limit())
            .offset(q.page.offset())
            .load(conn)?
        }
    };
    let total = match q.page.after() {
        None => Some(total(
            conn,
            q,
            &resolved,
            viewer,
            now,
            &dependencies,
            memo.map(|m| m as &dyn Totals),
        )?),
        Some(_) => None,
    };
    let page_rows = &rows[..rows.len().min(q.page.per_page as usize)];
    let relations = Relations::load_kept(conn, page_rows, site, links)?;
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
