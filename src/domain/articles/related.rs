//! What an article page shows around the story: its other editions, related stories
//! and what to read next.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::facts::{self, article_facts};
use super::{Article, ArticleHead, Relations, Translation, find_head, visible_to_readers};
use crate::auth::Actor;
use crate::db::DbConn;
use crate::db::id_set::IdSet;
use crate::domain::Key;
use crate::domain::feeds::Site;
use crate::domain::params::Params;
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::{article_tags, articles};

/// Items `related` and `next` return by default.
pub const DEFAULT_LIMIT: i64 = 5;
/// Newest candidates looked at per shared tag, and in the same section.
const CANDIDATES: i64 = 100;
/// Tags of the article that are looked at (its first ones, in byline order).
const MAX_TAGS: usize = 10;

/// `limit` of the short lists around an article.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitParams {
    /// Items to return, 1 to 20 (default 5).
    #[param(minimum = 1, maximum = 20)]
    pub limit: Option<i64>,
}

/// Reads the `limit` of a related or next request.
pub fn parse_limit(query: &str) -> AppResult<i64> {
    let mut params = Params::parse(query)?;
    let LimitParams { limit } = params.read()?;
    params.finish()?;
    Ok(limit.unwrap_or(DEFAULT_LIMIT))
}

/// The other editions of an article's story that `viewer` may see, by language.
pub fn translations(
    conn: &mut DbConn,
    key: &Key,
    viewer: Option<Actor>,
    site: &Site,
) -> AppResult<Vec<Translation>> {
    let head = find_head(conn, key, viewer)?;
    super::translations_of(conn, &head, viewer, site)
}

/// `(id, section, published_at)` of a candidate.
type Candidate = (i32, Option<i32>, Option<chrono::NaiveDateTime>);

/// Published articles in the same language as the article, ranked by the number of
/// tags they share with it, then being in the same section, then recency; never the
/// article itself. With the article's language (where a new story may join them).
pub fn related(
    conn: &mut DbConn,
    key: &Key,
    viewer: Option<Actor>,
    limit: i64,
    site: &Site,
) -> AppResult<(Vec<Article>, String)> {
    let head = find_head(conn, key, viewer)?;
    let ranked = related_ids(conn, &head, limit)?;
    Ok((
        articles_in_order(conn, &ranked.related, site)?,
        head.language,
    ))
}

/// What ranking related stories found: their ids, best first, and the newest
/// [`CANDIDATES`] stories of the article's section in its language (none without a
/// section), which "read next" takes its items from.
struct Ranked {
    related: Vec<i32>,
    section_newest: Vec<i32>,
}

fn related_ids(conn: &mut DbConn, head: &ArticleHead, limit: i64) -> AppResult<Ranked> {
    let now = Timestamp::now().0;
    let tags: Vec<i32> = article_tags::table
        .filter(article_tags::article_id.eq(head.id))
        .order(article_tags::position.asc())
        .select(article_tags::tag_id)
        .load(conn)?;
    let tags: Vec<i32> = tags.into_iter().take(MAX_TAGS).collect();
    let mut shared: HashMap<i32, i64> = HashMap::new();
    let mut facts: HashMap<i32, Candidate> = HashMap::new();
    for tag in tags {
        let found = newest_of_tag(conn, head, tag, now)?;
        for c in found {
            *shared.entry(c.0).or_insert(0) += 1;
            facts.insert(c.0, c);
        }
    }
    let mut section_newest = Vec::new();
    if let Some(section) = head.section_id {
        for c in same_section(conn, head, section, CANDIDATES)? {
            section_newest.push(c.0);
            facts.entry(c.0).or_insert(c);
        }
    }
    let mut candidates: Vec<Candidate> = facts.into_values().collect();
    candidates.sort_by(|a, b| {
        let score = |c: &Candidate| {
            (
                shared.get(&c.0).copied().unwrap_or(0),
                head.section_id.is_some() && c.1 == head.section_id,
            )
        };
        score(b)
            .cmp(&score(a))
            .then(b.2.cmp(&a.2))
            .then(b.0.cmp(&a.0))
    });
    Ok(Ranked {
        related: candidates
            .into_iter()
            .take(limit as usize)
            .map(|c| c.0)
            .collect(),
        section_newest,
    })
}

/// The newest [`CANDIDATES`] stories readers see in the article's language with `tag`,
/// found by walking the tag's links in that language newest first (each carries its story's
/// `language` and `published_at`, written with the link and kept equal by the database's
/// triggers; the order is the same as the stories' own `(published_at, id)`), so the tag's
/// stories in other languages are never passed over. Each candidate's visibility comes from
/// [`article_facts`], not its row.
fn newest_of_tag(
    conn: &mut DbConn,
    head: &ArticleHead,
    tag: i32,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<Candidate>> {
    Ok(article_tags::table
        .inner_join(article_facts::table.on(article_facts::id.eq(article_tags::article_id)))
        .filter(article_tags::tag_id.eq(tag))
        .filter(article_tags::language.eq(&head.language))
        .filter(article_tags::published_at.le(now))
        .filter(article_facts::id.ne(head.id))
        .filter(facts::visible(now))
        .order((
            article_tags::published_at.desc(),
            article_tags::article_id.desc(),
        ))
        .limit(CANDIDATES)
        .select((
            article_facts::id,
            article_facts::section_id,
            article_facts::published_at,
        ))
        .load(conn)?)
}

/// The newest `limit` stories readers see in `section` and the article's language:
/// the section's stories newest first from its index (which holds what decides
/// visibility), each one's language from [`article_facts`].
fn same_section(
    conn: &mut DbConn,
    head: &ArticleHead,
    section: i32,
    limit: i64,
) -> AppResult<Vec<Candidate>> {
    Ok(articles::table
        .inner_join(article_facts::table.on(article_facts::id.eq(articles::id)))
        .filter(articles::section_id.eq(section))
        .filter(article_facts::language.eq(&head.language))
        .filter(articles::id.ne(head.id))
        .filter(visible_to_readers(Timestamp::now().0))
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select((articles::id, articles::section_id, articles::published_at))
        .load(conn)?)
}

/// The newest published articles in the article's section and language (its language
/// alone when it has no section), leaving out the article and the `limit` articles
/// `related` gives for it. With the article's language.
pub fn next(
    conn: &mut DbConn,
    key: &Key,
    viewer: Option<Actor>,
    limit: i64,
    site: &Site,
) -> AppResult<(Vec<Article>, String)> {
    let head = find_head(conn, key, viewer)?;
    let ranked = related_ids(conn, &head, limit)?;
    let ids = next_ids(conn, &head, &ranked, limit)?;
    Ok((articles_in_order(conn, &ids, site)?, head.language))
}

/// The lists `include` adds: `related` and `next`, each when asked for.
pub type Around = (Option<Vec<Article>>, Option<Vec<Article>>);

/// `related` and `next` of one article at once (for `include`), the related ranking
/// worked out once for both. Only the lists asked for are read.
pub fn around(
    conn: &mut DbConn,
    head: &ArticleHead,
    limit: i64,
    (want_related, want_next): (bool, bool),
    site: &Site,
) -> AppResult<Around> {
    let ranked = related_ids(conn, head, limit)?;
    let next = match want_next {
        true => Some(next_ids(conn, head, &ranked, limit)?),
        false => None,
    };
    let related = ranked.related;
    let mut wanted: Vec<i32> = Vec::new();
    if want_related {
        wanted.extend(&related);
    }
    wanted.extend(next.iter().flatten());
    // One load for both lists, then split.
    let views: HashMap<i32, Article> = articles_in_order(conn, &wanted, site)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let pick = |ids: &[i32]| -> Vec<Article> {
        ids.iter().filter_map(|id| views.get(id).cloned()).collect()
    };
    let related = want_related.then(|| pick(&related));
    let next = next.map(|ids| pick(&ids));
    Ok((related, next))
}

/// The ids of "read next": the newest in the section (or language), without the
/// article and its related ones. A section's are those `ranked` already read (at most
/// 20 related and 20 next, within [`CANDIDATES`]).
fn next_ids(
    conn: &mut DbConn,
    head: &ArticleHead,
    ranked: &Ranked,
    limit: i64,
) -> AppResult<Vec<i32>> {
    let excluded: HashSet<i32> = ranked.related.iter().copied().collect();
    let fetch = limit + excluded.len() as i64;
    // A story without a section reads the language's index alone, ids only.
    let newest: Vec<i32> = match head.section_id {
        // All the section's stories, or at least the `fetch` newest of them.
        Some(_) if (ranked.section_newest.len() as i64) < CANDIDATES || fetch <= CANDIDATES => {
            ranked.section_newest.clone()
        }
        Some(section) => same_section(conn, head, section, fetch)?
            .into_iter()
            .map(|c| c.0)
            .collect(),
        None => articles::table
            .filter(articles::language.eq(&head.language))
            .filter(articles::id.ne(head.id))
            .filter(visible_to_readers(Timestamp::now().0))
            .order((articles::published_at.desc(), articles::id.desc()))
            .limit(fetch)
            .select(articles::id)
            .load(conn)?,
    };
    Ok(newest
        .into_iter()
        .filter(|id| !excluded.contains(id))
        .take(limit as usize)
        .collect())
}

/// List views of these articles, in this order.
fn articles_in_order(conn: &mut DbConn, ids: &[i32], site: &Site) -> AppResult<Vec<Article>> {
    let mut heads: HashMap<i32, ArticleHead> = articles::table
        .filter(articles::id.id_in(ids))
        .select(ArticleHead::as_select())
        .load::<ArticleHead>(conn)?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let ordered: Vec<ArticleHead> = ids.iter().filter_map(|id| heads.remove(id)).collect();
    let relations = Relations::load(conn, &ordered, site)?;
    let now = Timestamp::now().0;
    Ok(ordered
        .into_iter()
        .map(|h| relations.view(h, None, now))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(parse_limit("").unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit("limit=20").unwrap(), 20);
        assert!(parse_limit("limit=0").is_err());
        assert!(parse_limit("limit=21").is_err());
        assert!(parse_limit("per_page=3").is_err());
    }
}
