//! What `GET /articles` accepts: its query parameters, read strictly, and the sorts and
//! status filter they name.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::paging::{CursorCodec, PageRequest};
use crate::domain::params::{self, Params};
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};

/// Most tags one `tag=` filter may name.
const MAX_TAG_FILTER: usize = 10;

crate::closed_set! {
    /// Orders of an article list.
    pub enum ArticleSort {
        PublishedAtDesc = "-published_at",
        PublishedAt = "published_at",
        Title = "title",
        UpdatedAtDesc = "-updated_at",
        /// Best match first: only with `q`, where it is the default.
        Relevance = "relevance",
    }
}

impl ArticleSort {
    /// True when the list runs from the smallest sort key up.
    pub(super) fn ascending(self) -> bool {
        match self {
            ArticleSort::PublishedAt | ArticleSort::Title => true,
            ArticleSort::PublishedAtDesc | ArticleSort::UpdatedAtDesc | ArticleSort::Relevance => {
                false
            }
        }
    }
}

crate::closed_set! {
    /// The staff-only status filter.
    pub enum StatusFilter {
        Draft = "draft",
        Scheduled = "scheduled",
        Published = "published",
        /// Published, and its `unpublish_at` has come.
        Expired = "expired",
        All = "all",
    }
}

/// The query parameters of `GET /articles` (with
/// [`PageParams`](crate::domain::paging::PageParams)): what the OpenAPI document lists
/// and what [`ArticleQuery::parse`] reads.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleParams {
    /// Section slug; includes the section's descendants.
    pub section: Option<String>,
    /// Tag slug, or several separated by commas (any of them; at most 10).
    pub tag: Option<String>,
    /// Author slug.
    pub author: Option<String>,
    /// Region slug.
    pub region: Option<String>,
    /// Only this language (one of `LANGUAGES`).
    pub lang: Option<String>,
    /// Published strictly after this time (RFC 3339 or YYYY-MM-DD).
    pub published_after: Option<String>,
    /// Published strictly before this time (RFC 3339 or YYYY-MM-DD).
    pub published_before: Option<String>,
    /// Only featured (`true`) or only not featured (`false`) articles.
    pub featured: Option<bool>,
    /// Full-text search over title, summary and body (at most 200 characters), in every
    /// language: case, accents and Arabic letter forms are folded, the last word
    /// matches as a prefix, and search syntax is read as plain words. Results carry
    /// `search: {rank, snippet}` and are ranked by relevance unless `sort` says
    /// otherwise. A search considers at most 1,000 matches: the 1,000 most relevant of
    /// the 5,000 newest, or with `sort=-published_at` / `-updated_at` the 1,000 newest
    /// (oldest with `sort=published_at`), newest meaning most recently created, so an old
    /// story edited today is not preferred; filters and paging apply within them, and
    /// `meta.total` counts at most those. More specific words narrow a search. A blank
    /// `q` is no search.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only articles in this coverage collection (slug).
    pub collection: Option<String>,
    /// Staff only (with a token): `draft`, `scheduled`, `published` (the default),
    /// `expired` (past `unpublish_at`) or `all`. Writers never see other people's
    /// drafts; trashed articles are only in `/trash`.
    #[param(inline)]
    pub status: Option<StatusFilter>,
    /// Field to sort by; `-` for descending. Default `-published_at`.
    #[param(inline)]
    pub sort: Option<ArticleSort>,
    /// Top-level fields of each item to return, comma-separated (`id` always comes
    /// too): list-item fields only (`body` is a 400), for clients on slow networks.
    #[param(max_length = 400, example = "title,url,published_at")]
    pub fields: Option<String>,
}

/// A parsed `GET /articles` request.
#[derive(Debug, Clone)]
pub struct ArticleQuery {
    pub section: Option<String>,
    pub tags: Option<Vec<String>>,
    pub author: Option<String>,
    pub region: Option<String>,
    pub lang: Option<String>,
    pub published_after: Option<Timestamp>,
    pub published_before: Option<Timestamp>,
    pub featured: Option<bool>,
    pub status: Option<StatusFilter>,
    /// Full-text search words.
    pub q: Option<String>,
    /// Collection slug.
    pub collection: Option<String>,
    pub sort: ArticleSort,
    pub page: PageRequest,
    /// `fields=`: the item fields to keep.
    pub fields: Option<super::fields::FieldSet>,
}

impl ArticleQuery {
    /// Reads the query string of `GET /articles`. `status` needs a signed-in caller.
    pub fn parse(
        query: &str,
        codec: &CursorCodec,
        languages: &[String],
        staff: bool,
    ) -> AppResult<Self> {
        let mut p = Params::parse(query)?;
        let raw: ArticleParams = p.read()?;
        if raw.status.is_some() && !staff {
            return Err(AppError::bad_param(
                "status",
                "status is for signed-in staff; send a bearer token",
            ));
        }
        // A blank search box is no search.
        let q = raw.q.filter(|q| !q.trim().is_empty());
        let sort = match (raw.sort, &q) {
            (Some(ArticleSort::Relevance), None) => {
                return Err(AppError::bad_param(
                    "sort",
                    format!("sort={} needs q", ArticleSort::Relevance),
                ));
            }
            (Some(sort), _) => sort,
            (None, Some(_)) => ArticleSort::Relevance,
            (None, None) => ArticleSort::PublishedAtDesc,
        };
        let query = Self {
            section: params::slug("section", raw.section)?,
            tags: params::slugs("tag", raw.tag, MAX_TAG_FILTER)?,
            author: params::slug("author", raw.author)?,
            region: params::slug("region", raw.region)?,
            lang: params::language("lang", raw.lang, languages)?,
            published_after: params::time("published_after", raw.published_after)?,
            published_before: params::time("published_before", raw.published_before)?,
            featured: raw.featured,
            status: raw.status,
            q,
            collection: params::slug("collection", raw.collection)?,
            sort,
            page: PageRequest::from_params(&mut p, codec, sort.as_str())?,
            fields: super::fields::FieldSet::parse(
                raw.fields.as_deref(),
                super::fields::LIST_FIELDS,
            )?,
        };
        p.finish()?;
        Ok(query)
    }
}
