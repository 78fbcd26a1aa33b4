//! Regions: where a story happens ("MENA", "Latin America").

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::input::{Checker, Input, TextRule, UnknownFields};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::Params;
use super::time::Timestamp;
use super::{Key, Ref};
use crate::db::{DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{article_regions, regions};

const NAME: TextRule = TextRule::line(1, 100);
const READ_ONLY: &[&str] = &["id"];

/// Body of `POST /regions`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RegionCreate {
    /// Made from `name` when left out.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "mena")]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "MENA")]
    pub name: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /regions/{id_or_slug}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RegionPatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub name: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

slug_queries!(regions, "region");

/// Reads one region.
pub fn get(conn: &mut DbConn, key: &Key) -> AppResult<Ref> {
    let id = require_id(conn, key)?;
    Ok(regions::table
        .find(id)
        .select((regions::id, regions::slug, regions::name))
        .get_result(conn)?)
}

/// Reads one region with the time it last changed (for `Last-Modified`).
pub fn get_dated(conn: &mut DbConn, key: &Key) -> AppResult<(Ref, Timestamp)> {
    let id = require_id(conn, key)?;
    let (region, updated_at): (Ref, chrono::NaiveDateTime) = regions::table
        .find(id)
        .select((
            (regions::id, regions::slug, regions::name),
            regions::updated_at,
        ))
        .get_result(conn)?;
    Ok((region, updated_at.into()))
}

/// Creates a region.
pub fn create(conn: &mut DbConn, body: RegionCreate) -> AppResult<Written<Ref>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.optional("slug", body.slug);
    let name = c.required("name", body.name);
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    c.finish()?;
    let name = name.unwrap_or_default();
    let slug = choose_slug(conn, slug, &name)?;
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(regions::table)
        .values((
            regions::slug.eq(&slug),
            regions::name.eq(&name),
            regions::created_at.eq(now),
            regions::updated_at.eq(now),
        ))
        .returning(regions::id)
        .get_result(conn)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::Created))
}

/// Applies a PATCH.
pub fn update(conn: &mut DbConn, key: &Key, body: RegionPatch) -> AppResult<Written<Ref>> {
    let id = require_id(conn, key)?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.patch("slug", body.slug).into_option();
    let name = c.patch("name", body.name).into_option();
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    c.finish()?;
    if let Some(s) = &slug {
        ensure_slug_free(conn, s, Some(id))?;
    }
    diesel::update(regions::table.find(id))
        .set((
            slug.map(|s| regions::slug.eq(s)),
            name.map(|n| regions::name.eq(n)),
            regions::updated_at.eq(Timestamp::now().0),
        ))
        .execute(conn)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::All))
}

/// Deletes a region; one that articles use is `409 in_use`.
pub fn delete(conn: &mut DbConn, key: &Key) -> AppResult<Written<()>> {
    let id = require_id(conn, key)?;
    let uses: i64 = article_regions::table
        .filter(article_regions::region_id.eq(id))
        .count()
        .get_result(conn)?;
    if uses > 0 {
        return Err(AppError::InUse(format!(
            "{uses} article(s) are filed under this region; remove it from them first"
        )));
    }
    diesel::delete(regions::table.find(id)).execute(conn)?;
    Ok(Written::content((), Scope::All))
}

/// A parsed `GET /regions` request (by name).
#[derive(Debug, Clone)]
pub struct RegionQuery {
    pub page: PageRequest,
}

impl RegionQuery {
    /// Reads the query string of `GET /regions`.
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let page = PageRequest::from_params(&mut params, codec, "name")?;
        params.finish()?;
        Ok(Self { page })
    }
}

/// Lists regions by name.
pub fn list(
    conn: &mut DbConn,
    q: &RegionQuery,
    codec: &CursorCodec,
) -> AppResult<ListResponse<Ref>> {
    let mut query = regions::table
        .select((regions::id, regions::slug, regions::name))
        .into_boxed();
    if let Some(after) = q.page.after() {
        let (k, last) = (after.text(0)?.to_owned(), after.last_id()?);
        query = keyset_after!(query, regions::name, regions::id, k, last, asc);
    }
    let rows: Vec<Ref> = query
        .order((regions::name.asc(), regions::id.asc()))
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(regions::table.count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    Ok(paging::finish_page(
        rows,
        &q.page,
        "name",
        codec,
        total,
        |r| {
            vec![
                KeyValue::Text(r.name.clone()),
                KeyValue::Int(i64::from(r.id)),
            ]
        },
        |r| r,
    ))
}
