//! Documentation of the query and path parameters shared by many routes. The parsing
//! itself is strict and lives with each resource (`domain::*::…Query::parse`).

#![allow(dead_code)]

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// `page`, `per_page` and `cursor`, on every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number from 1 (not together with `cursor`). Pages reach at most 10,000
    /// items deep; follow `meta.next_cursor` beyond that.
    #[param(minimum = 1, maximum = 2147483647)]
    page: Option<i64>,
    /// Items per page, 1 to 100 (default 20). Outside that range is a 400.
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
    /// The `meta.next_cursor` of the previous page, to continue after it in the same sort.
    cursor: Option<String>,
}

/// Orders of an author list.
#[derive(Debug, Deserialize, ToSchema)]
pub enum AuthorSortField {
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

/// `sort` of `GET /authors`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorSort {
    /// Field to sort by; `-` for descending. Default `name`.
    #[param(inline)]
    sort: Option<AuthorSortField>,
}

/// Orders by name.
#[derive(Debug, Deserialize, ToSchema)]
pub enum NameSortField {
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
}

/// `sort` of lists ordered by name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NameSort {
    /// `name` (default) or `-name`.
    #[param(inline)]
    sort: Option<NameSortField>,
}

/// Filters of `GET /media`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaFilters {
    /// Only this kind.
    #[param(inline)]
    kind: Option<crate::domain::media::MediaKind>,
    /// Words in the caption, credit or alt text (at most 200 characters).
    #[param(max_length = 200)]
    q: Option<String>,
    /// Only this language (one of `LANGUAGES`).
    lang: Option<String>,
    /// `-created_at` (default, newest first) or `created_at`.
    #[param(inline)]
    sort: Option<CreatedSortField>,
}

/// Orders by creation time.
#[derive(Debug, Deserialize, ToSchema)]
pub enum CreatedSortField {
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
}

/// Filters of `GET /breaking`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakingFilters {
    /// Only this language (one of `LANGUAGES`).
    lang: Option<String>,
    /// Staff only: `all` lists every item, live or not; `live` (the default) only live ones.
    #[param(inline)]
    status: Option<BreakingStatus>,
}

/// Which breaking items to list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BreakingStatus {
    Live,
    All,
}

/// Filters and sort of `GET /articles`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleFilters {
    /// Section slug; includes the section's descendants.
    section: Option<String>,
    /// Tag slug, or several separated by commas (any of them; at most 10).
    tag: Option<String>,
    /// Author slug.
    author: Option<String>,
    /// Region slug.
    region: Option<String>,
    /// Only this language (one of `LANGUAGES`).
    lang: Option<String>,
    /// Published strictly after this time (RFC 3339 or YYYY-MM-DD).
    published_after: Option<String>,
    /// Published strictly before this time (RFC 3339 or YYYY-MM-DD).
    published_before: Option<String>,
    /// Only featured (`true`) or only not featured (`false`) articles.
    featured: Option<bool>,
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
    q: Option<String>,
    /// Only articles in this coverage collection (slug).
    collection: Option<String>,
    /// Staff only (with a token): `draft`, `scheduled`, `published` (the default) or
    /// `all`. Writers never see other people's drafts.
    #[param(inline)]
    status: Option<ArticleStatusFilter>,
    /// Field to sort by; `-` for descending. Default `-published_at`.
    #[param(inline)]
    sort: Option<ArticleSortField>,
}

/// The staff-only status filter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatusFilter {
    Draft,
    Scheduled,
    Published,
    All,
}

/// Orders of an article list.
#[derive(Debug, Deserialize, ToSchema)]
pub enum ArticleSortField {
    #[serde(rename = "-published_at")]
    PublishedAtDesc,
    #[serde(rename = "published_at")]
    PublishedAt,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-updated_at")]
    UpdatedAtDesc,
    /// Best match first: only with `q`, where it is the default.
    #[serde(rename = "relevance")]
    Relevance,
}

/// `limit` of the short lists around an article.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitParam {
    /// Items to return, 1 to 20 (default 5).
    #[param(minimum = 1, maximum = 20)]
    limit: Option<i64>,
}

/// The windows of `GET /articles/most-read`.
#[derive(Debug, Deserialize, ToSchema)]
pub enum MostReadWindow {
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

/// Filters of `GET /articles/most-read`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MostReadParams {
    /// The views counted: the last 24 hours (default), 7 days or 30 days, by the hour.
    #[param(inline)]
    window: Option<MostReadWindow>,
    /// Only this language (one of `LANGUAGES`).
    lang: Option<String>,
    /// Section slug; includes the section's descendants.
    section: Option<String>,
    /// Items to return, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<i64>,
}

/// Paging of a collection's articles.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorParams {
    /// Articles per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The language filter of collections and the breaking stream.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangFilter {
    /// Only this language (one of `LANGUAGES`).
    lang: Option<String>,
}

/// `{id_or_slug}`, on every route of one object that has a slug (the handler takes it
/// as a `Key`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdOrSlug {
    /// The id (`42`) or the slug
    id_or_slug: String,
}
