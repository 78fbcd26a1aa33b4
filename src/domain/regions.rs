//! Regions: where a story happens ("MENA", "Latin America").

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::input::{Checker, Input, TextRule, UnknownFields};
use super::localized::{Field, LocaleParams, Localized, LocalizedRegion};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::Params;
use super::time::Timestamp;
use super::{Key, NamedRef};
use crate::db::{DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{article_regions, regions};

const NAME: TextRule = TextRule::line(1, 100);
const READ_ONLY: &[&str] = &["id"];
/// What `localized` holds for a region.
pub const LOCALIZED: &[Field] = &[Field {
    name: "name",
    rule: NAME,
}];

/// A region as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Region {
    #[schema(example = 6)]
    pub id: i32,
    #[schema(example = "mena")]
    pub slug: String,
    #[schema(example = "MENA")]
    pub name: String,
    /// `name` in the other configured languages.
    #[schema(value_type = std::collections::HashMap<String, LocalizedRegion>)]
    pub localized: Localized,
}

impl Region {
    fn of(row: NamedRef, lang: Option<&str>) -> Self {
        Self {
            name: row.localized.pick(lang, "name", row.name),
            id: row.id,
            slug: row.slug,
            localized: row.localized,
        }
    }
}

/// The columns a region is read from.
const COLUMNS: (
    regions::id,
    regions::slug,
    regions::name,
    regions::localized,
) = (
    regions::id,
    regions::slug,
    regions::name,
    regions::localized,
);

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
    /// `name` in other configured languages; in a PATCH, merged into the stored ones
    /// (`{"ar": null}` drops a language).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::HashMap<String, LocalizedRegion>>)]
    pub localized: Input<serde_json::Value>,
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
    /// `name` in other configured languages; in a PATCH, merged into the stored ones
    /// (`{"ar": null}` drops a language).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::HashMap<String, LocalizedRegion>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

slug_queries!(regions, "region");

fn find_row(conn: &mut DbConn, key: &Key) -> AppResult<(NamedRef, chrono::NaiveDateTime)> {
    let id = require_id(conn, key)?;
    let (row, updated_at) = regions::table
        .find(id)
        .select((COLUMNS, regions::updated_at))
        .get_result(conn)?;
    Ok((NamedRef::from_row(row), updated_at))
}

/// Reads one region in its base language.
pub fn get(conn: &mut DbConn, key: &Key) -> AppResult<Region> {
    Ok(Region::of(find_row(conn, key)?.0, None))
}

/// Reads one region, localized to `lang`.
pub fn get_in(conn: &mut DbConn, key: &Key, lang: Option<&str>) -> AppResult<Region> {
    Ok(Region::of(find_row(conn, key)?.0, lang))
}

/// Reads one region, localized to `lang`, with the time it last changed (for
/// `Last-Modified`).
pub fn get_dated(
    conn: &mut DbConn,
    key: &Key,
    lang: Option<&str>,
) -> AppResult<(Region, Timestamp)> {
    let (row, updated_at) = find_row(conn, key)?;
    Ok((Region::of(row, lang), updated_at.into()))
}

/// Creates a region.
pub fn create(
    conn: &mut DbConn,
    body: RegionCreate,
    languages: &[String],
) -> AppResult<Written<Region>> {
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
    let names = Localized::check_create(&mut c, body.localized, LOCALIZED, languages);
    names.check_base(&mut c, &languages[0]);
    c.finish()?;
    let name = name.unwrap_or_default();
    let slug = choose_slug(conn, slug, &name)?;
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(regions::table)
        .values((
            regions::slug.eq(&slug),
            regions::name.eq(&name),
            regions::localized.eq(names.to_stored()),
            regions::created_at.eq(now),
            regions::updated_at.eq(now),
        ))
        .returning(regions::id)
        .get_result(conn)?;
    super::old_slugs::take(conn, KIND, &slug, id, None)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::Created))
}

/// Applies a PATCH.
pub fn update(
    conn: &mut DbConn,
    key: &Key,
    body: RegionPatch,
    languages: &[String],
) -> AppResult<Written<Region>> {
    let (current, _) = find_row(conn, key)?;
    let id = current.id;
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
    let names = Localized::check_patch(
        &mut c,
        body.localized,
        &current.localized,
        LOCALIZED,
        languages,
    );
    if let Some(n) = &names {
        n.check_base(&mut c, &languages[0]);
    }
    c.finish()?;
    if let Some(s) = &slug {
        ensure_slug_free(conn, s, Some(id))?;
        super::old_slugs::take(conn, KIND, s, id, Some(&current.slug))?;
    }
    diesel::update(regions::table.find(id))
        .set((
            slug.map(|s| regions::slug.eq(s)),
            name.map(|n| regions::name.eq(n)),
            names.map(|n| regions::localized.eq(n.to_stored())),
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
    super::old_slugs::forget(conn, KIND, id)?;
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
        let _: LocaleParams = params.read()?;
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
    lang: Option<&str>,
) -> AppResult<ListResponse<Region>> {
    let mut query = regions::table.select(COLUMNS).into_boxed();
    if let Some(after) = q.page.after() {
        let (k, last) = (after.text(0)?.to_owned(), after.last_id()?);
        query = keyset_after!(query, regions::name, regions::id, k, last, asc);
    }
    let rows: Vec<(i32, String, String, String)> = query
        .order((regions::name.asc(), regions::id.asc()))
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(regions::table.count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    let rows: Vec<NamedRef> = rows.into_iter().map(NamedRef::from_row).collect();
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
        |r| Region::of(r, lang),
    ))
}
