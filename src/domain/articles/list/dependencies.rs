//! What a public article list depends on, so a cache knows which new articles change it.

use crate::db::ArticleFacts;
use crate::domain::articles::LinksMemo;

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

/// The matches of one anonymous search, best (or newest, or oldest) first: article ids
/// with their relevance.
pub type Matches = std::sync::Arc<[(i32, f64)]>;

/// What a [`KeptMatches`] memo hands out with a miss, to be handed back with the
/// matches found: the memo's state when the search began.
pub type MatchesTicket = (u64, u64);

/// Remembers the full-text matches of anonymous searches between requests, so that the
/// next page of the same words, another page size, or the same words with a language
/// or a section, does not rank the newest matches again. The memo answers only while
/// nothing a reader could find has changed: a published article created, any edit or
/// delete, and any scheduled change (a story falling due or expiring) retire every kept
/// set; a new draft, or a story scheduled for later, does not until it is due.
pub trait KeptMatches: Send + Sync {
    /// The matches kept under `key`, if still exact; otherwise a ticket to hand back
    /// to [`KeptMatches::put_matches`] with the matches found.
    fn matches(&self, key: &str) -> Result<Matches, MatchesTicket>;
    /// Keeps `matches`, found after `matches` gave `ticket`.
    fn put_matches(&self, key: String, matches: Matches, ticket: MatchesTicket);
}

/// What a list handler may remember between requests: totals, search matches and
/// articles' links.
pub trait ListMemo: Totals + KeptMatches + LinksMemo {}

impl<T: Totals + KeptMatches + LinksMemo> ListMemo for T {}
