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

/// A resource's id (digits) or slug.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdOrSlug {
    /// The id (`42`) or slug (`leila-haddad`).
    id_or_slug: String,
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
