//! What a public article list depends on, so a cache knows which new articles change it.

use crate::db::ArticleFacts;

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
