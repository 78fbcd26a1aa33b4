//! Read counts for "Most Read": view beacons are added up in memory per article and
//! hour, and written in one transaction per flush (about once a second), not one per
//! view. The ranking sums the hours of a window.

use std::collections::HashMap;
use std::sync::Mutex;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::articles::{self, Article, ArticleHead, Relations};
use super::params::{self, Params};
use super::time::Timestamp;
use super::{Key, sections};
use crate::db::DbConn;
use crate::db::kept;
use crate::error::AppResult;
use crate::schema::{article_views, articles as articles_t};

/// Articles a most-read list returns by default.
pub const DEFAULT_LIMIT: i64 = 10;

crate::closed_set! {
    /// The windows of `GET /articles/most-read`.
    pub enum MostReadWindow {
        Day = "24h",
        Week = "7d",
        Month = "30d",
    }
}

impl MostReadWindow {
    /// The window's length in hours.
    pub fn hours(self) -> i64 {
        match self {
            MostReadWindow::Day => 24,
            MostReadWindow::Week => 24 * 7,
            MostReadWindow::Month => 24 * 30,
        }
    }
}

/// An article of a most-read list with its views in the window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankedArticle {
    #[serde(flatten)]
    pub article: Article,
    /// Views counted in the window.
    #[schema(example = 1520)]
    pub views: i64,
}

/// The body of `GET /articles/most-read`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MostRead {
    /// Most viewed first.
    pub data: Vec<RankedArticle>,
    pub meta: MostReadMeta,
}

/// The `meta` of a most-read list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MostReadMeta {
    /// The window counted.
    pub window: MostReadWindow,
    /// Views are counted from this time (the start of the window's first hour).
    pub since: Timestamp,
    /// Items in `data`.
    pub count: usize,
}

/// The hour a moment falls in: hours since the Unix epoch.
pub fn hour_of(t: Timestamp) -> i64 {
    t.unix().div_euclid(3600)
}

/// Views counted since the last flush, per `(article, hour)`.
#[derive(Debug, Default)]
pub struct ViewCounter {
    pending: Mutex<HashMap<(i32, i64), i32>>,
}

impl ViewCounter {
    /// Counts one view of an article now.
    pub fn add(&self, article_id: i32) {
        let hour = hour_of(Timestamp::now());
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let n = pending.entry((article_id, hour)).or_insert(0);
        *n = n.saturating_add(1);
    }

    /// Views waiting to be written.
    pub fn pending(&self) -> usize {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.values().map(|n| *n as usize).sum()
    }

    /// Takes what was counted so far, leaving the counter empty.
    pub fn take(&self) -> HashMap<(i32, i64), i32> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts back counts a failed flush took, so that none are lost.
    pub fn restore(&self, counts: HashMap<(i32, i64), i32>) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for (key, n) in counts {
            let total = pending.entry(key).or_insert(0);
            *total = total.saturating_add(n);
        }
    }
}

/// Adds counted views to the stored hourly counts (in the caller's write transaction,
/// which no other write interleaves, so an update that finds no row can insert it).
/// Counts of articles deleted meanwhile are dropped. Every instance adds its own counts.
pub fn store(conn: &mut DbConn, counts: &HashMap<(i32, i64), i32>) -> AppResult<()> {
    for (&(article_id, hour), &views) in counts {
        let exists = articles_t::table
            .find(article_id)
            .select(articles_t::id)
            .get_result::<i32>(conn)
            .optional()?
            .is_some();
        if !exists {
            continue;
        }
        let added = kept::update(
            article_views::table,
            article_views::views.eq(article_views::views + views),
            article_views::article_id
                .eq(article_id)
                .and(article_views::hour.eq(hour)),
        )
        .execute(conn)?;
        if added == 0 {
            diesel::insert_into(article_views::table)
                .values((
                    article_views::article_id.eq(article_id),
                    article_views::hour.eq(hour),
                    article_views::views.eq(views),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The query parameters of `GET /articles/most-read`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MostReadParams {
    /// The views counted: the last 24 hours (default), 7 days or 30 days, by the hour.
    #[param(inline)]
    pub window: Option<MostReadWindow>,
    /// Only this language (one of `LANGUAGES`).
    pub lang: Option<String>,
    /// Section slug; includes the section's descendants.
    pub section: Option<String>,
    /// Items to return, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// A parsed `GET /articles/most-read` request.
#[derive(Debug, Clone, PartialEq)]
pub struct MostReadQuery {
    pub window: MostReadWindow,
    pub lang: Option<String>,
    pub section: Option<String>,
    pub limit: i64,
}

impl MostReadQuery {
    /// Reads `window`, `lang`, `section` and `limit`.
    pub fn parse(query: &str, languages: &[String]) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let MostReadParams {
            window,
            lang,
            section,
            limit,
        } = params.read()?;
        let query = Self {
            window: window.unwrap_or(MostReadWindow::Day),
            lang: params::language("lang", lang, languages)?,
            section: params::slug("section", section)?,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
        };
        params.finish()?;
        Ok(query)
    }
}

/// The most viewed published articles of the window ending now, most viewed first
/// (ties: the higher id first). Each carries its views in the window as `views`.
pub fn most_read(
    conn: &mut DbConn,
    q: &MostReadQuery,
    site: &crate::domain::feeds::Site,
) -> AppResult<MostRead> {
    let now = Timestamp::now();
    // The current hour counts, so "24h" is the last 24 started hours.
    let from = hour_of(now) - q.window.hours() + 1;
    let meta = |count| MostReadMeta {
        window: q.window,
        since: Timestamp::from_unix(from * 3600).unwrap_or(now),
        count,
    };
    let sections = match &q.section {
        Some(slug) => match sections::id_of(conn, &Key::Slug(slug.clone()))? {
            Some(id) => Some(sections::with_descendants(conn, &[id])?),
            None => {
                return Ok(MostRead {
                    data: Vec::new(),
                    meta: meta(0),
                });
            }
        },
        None => None,
    };
    let total = diesel::dsl::sum(article_views::views);
    let mut query = article_views::table
        .inner_join(articles_t::table)
        .filter(article_views::hour.ge(from))
        .filter(articles::visible_to_readers(now.0))
        .group_by(article_views::article_id)
        .select((article_views::article_id, total))
        .into_boxed();
    if let Some(lang) = &q.lang {
        query = query.filter(articles_t::language.eq(lang.clone()));
    }
    if let Some(ids) = sections {
        query = query.filter(articles_t::section_id.eq_any(ids));
    }
    let ranked: Vec<(i32, Option<i64>)> = query
        .order((total.desc(), article_views::article_id.desc()))
        .limit(q.limit)
        .load(conn)?;
    let ids: Vec<i32> = ranked.iter().map(|(id, _)| *id).collect();
    let mut heads: HashMap<i32, ArticleHead> = articles_t::table
        .filter(articles_t::id.eq_any(&ids))
        .select(ArticleHead::as_select())
        .load::<ArticleHead>(conn)?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let ordered: Vec<(ArticleHead, i64)> = ranked
        .into_iter()
        .filter_map(|(id, views)| heads.remove(&id).map(|h| (h, views.unwrap_or(0))))
        .collect();
    let shown: Vec<ArticleHead> = ordered.iter().map(|(h, _)| h.clone()).collect();
    let relations = Relations::load(conn, &shown, site)?;
    let data: Vec<RankedArticle> = ordered
        .into_iter()
        .map(|(h, views)| RankedArticle {
            article: relations.view(h, None, now.0),
            views,
        })
        .collect();
    Ok(MostRead {
        meta: meta(data.len()),
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn languages() -> Vec<String> {
        vec!["en".into(), "ar".into()]
    }

    #[test]
    fn windows_limits_and_defaults() {
        let q = MostReadQuery::parse("", &languages()).unwrap();
        assert_eq!(
            (q.window.hours(), q.limit, q.lang, q.section),
            (24, 10, None, None)
        );
        let q =
            MostReadQuery::parse("window=7d&lang=ar&section=world&limit=3", &languages()).unwrap();
        assert_eq!(q.window.hours(), 168);
        assert_eq!(q.lang.as_deref(), Some("ar"));
        assert_eq!(q.section.as_deref(), Some("world"));
        assert_eq!(q.limit, 3);
        assert!(MostReadQuery::parse("window=1y", &languages()).is_err());
        assert!(MostReadQuery::parse("limit=51", &languages()).is_err());
        assert!(MostReadQuery::parse("lang=fr", &languages()).is_err());
        assert!(MostReadQuery::parse("page=2", &languages()).is_err());
    }

    #[test]
    fn counts_are_kept_until_taken_and_restored_after_a_failure() {
        let counter = ViewCounter::default();
        counter.add(7);
        counter.add(7);
        counter.add(9);
        assert_eq!(counter.pending(), 3);
        let taken = counter.take();
        assert_eq!(counter.pending(), 0);
        assert_eq!(taken.values().sum::<i32>(), 3);
        counter.add(7);
        counter.restore(taken);
        assert_eq!(counter.pending(), 4);
    }

    #[test]
    fn hours_count_from_the_epoch() {
        assert_eq!(hour_of(Timestamp::from_unix(0).unwrap()), 0);
        assert_eq!(hour_of(Timestamp::from_unix(7_199).unwrap()), 1);
    }
}
