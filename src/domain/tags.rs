//! Tags: the topics of articles ("gaza", "elections-2024"). Deleting a tag detaches it
//! from its articles.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Key;
use super::input::{Checker, Input, TextRule, UnknownFields};
use super::localized::{self, Field, LocaleParams, Localized};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::Params;
use super::time::Timestamp;
use crate::db::{DbConn, Scope, Written};
use crate::error::AppResult;
use crate::schema::{article_tags, tags};

const NAME: TextRule = TextRule::line(1, 100);
const DESCRIPTION: TextRule = TextRule::block(2_000);
/// What `localized` holds for a tag.
pub const LOCALIZED: &[Field] = &[
    Field {
        name: "name",
        rule: NAME,
    },
    Field {
        name: "description",
        rule: DESCRIPTION,
    },
];
const READ_ONLY: &[&str] = &["id", "article_count", "created_at", "updated_at"];

crate::closed_set! {
    /// Orders by name.
    pub enum TagSort {
        Name = "name",
        NameDesc = "-name",
    }
}

/// A tag row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tags)]
pub struct TagRow {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub localized: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// A tag as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tag {
    #[schema(example = 4)]
    pub id: i32,
    #[schema(example = "ceasefire-talks")]
    pub slug: String,
    #[schema(example = "Ceasefire talks")]
    pub name: String,
    pub description: Option<String>,
    /// `name` and `description` in the other configured languages.
    #[schema(value_type = HashMap<String, localized::LocalizedName>)]
    pub localized: Localized,
    /// Published articles with this tag that readers can see now.
    #[schema(example = 12)]
    pub article_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Tag {
    fn from_row(r: TagRow, article_count: i64, lang: Option<&str>) -> Self {
        let localized = Localized::parse(&r.localized);
        Self {
            id: r.id,
            slug: r.slug,
            name: localized.pick(lang, "name", r.name),
            description: localized.pick_opt(lang, "description", r.description),
            localized,
            article_count,
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
        }
    }
}

/// Body of `POST /tags`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TagCreate {
    /// Made from `name` when left out.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "ceasefire-talks")]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "Ceasefire talks")]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Input<String>,
    /// `name` and `description` in other configured languages.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, localized::LocalizedName>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /tags/{id_or_slug}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TagPatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Input<String>,
    /// `name` and `description` in other configured languages.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, localized::LocalizedName>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

slug_queries!(tags, "tag");

/// Visible published articles per tag, from the maintained counts.
fn article_counts(conn: &mut DbConn, ids: &[i32]) -> AppResult<HashMap<i32, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    super::counts::visible_per_ref(conn, super::counts::TAG, Some(ids), Timestamp::now().0)
}

fn find_row(conn: &mut DbConn, key: &Key) -> AppResult<TagRow> {
    let id = require_id(conn, key)?;
    Ok(tags::table
        .find(id)
        .select(TagRow::as_select())
        .get_result(conn)?)
}

/// Reads one tag with its article count, in its base language.
pub fn get(conn: &mut DbConn, key: &Key) -> AppResult<Tag> {
    get_in(conn, key, None)
}

/// Reads one tag localized to `lang`, with the time it last changed (for
/// `Last-Modified`).
pub fn get_dated(conn: &mut DbConn, key: &Key, lang: Option<&str>) -> AppResult<(Tag, Timestamp)> {
    let tag = get_in(conn, key, lang)?;
    let at = tag.updated_at;
    Ok((tag, at))
}

/// Reads one tag with its article count, localized to `lang`.
pub fn get_in(conn: &mut DbConn, key: &Key, lang: Option<&str>) -> AppResult<Tag> {
    let row = find_row(conn, key)?;
    let count = article_counts(conn, &[row.id])?
        .get(&row.id)
        .copied()
        .unwrap_or(0);
    Ok(Tag::from_row(row, count, lang))
}

/// Creates a tag.
pub fn create(conn: &mut DbConn, body: TagCreate, languages: &[String]) -> AppResult<Written<Tag>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.optional("slug", body.slug);
    let name = c.required("name", body.name);
    let description = c.optional("description", body.description);
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    c.text_opt("description", description.as_deref(), DESCRIPTION);
    let names = Localized::check_create(&mut c, body.localized, LOCALIZED, languages);
    names.check_base(&mut c, &languages[0]);
    c.finish()?;
    let name = name.unwrap_or_default();
    let slug = choose_slug(conn, slug, &name)?;
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(tags::table)
        .values((
            tags::slug.eq(&slug),
            tags::name.eq(&name),
            tags::description.eq(&description),
            tags::localized.eq(names.to_stored()),
            tags::created_at.eq(now),
            tags::updated_at.eq(now),
        ))
        .returning(tags::id)
        .get_result(conn)?;
    super::old_slugs::take(conn, KIND, &slug, id, None)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::Created))
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = tags)]
struct TagChanges {
    slug: Option<String>,
    name: Option<String>,
    description: Option<Option<String>>,
    localized: Option<String>,
    updated_at: chrono::NaiveDateTime,
}

/// Applies a PATCH.
pub fn update(
    conn: &mut DbConn,
    key: &Key,
    body: TagPatch,
    languages: &[String],
) -> AppResult<Written<Tag>> {
    let current = find_row(conn, key)?;
    let id = current.id;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.patch("slug", body.slug).into_option();
    let name = c.patch("name", body.name).into_option();
    let description = c
        .patch_nullable("description", body.description)
        .into_option();
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    if let Some(Some(d)) = &description {
        c.text("description", d, DESCRIPTION);
    }
    let names = Localized::check_patch(
        &mut c,
        body.localized,
        &Localized::parse(&current.localized),
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
    diesel::update(tags::table.find(id))
        .set(&TagChanges {
            slug,
            name,
            description,
            localized: names.map(|n| n.to_stored()),
            updated_at: Timestamp::now().0,
        })
        .execute(conn)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::All))
}

/// Deletes a tag and detaches it from every article (the articles stay).
pub fn delete(conn: &mut DbConn, key: &Key) -> AppResult<Written<()>> {
    let id = require_id(conn, key)?;
    diesel::delete(article_tags::table.filter(article_tags::tag_id.eq(id))).execute(conn)?;
    diesel::delete(tags::table.find(id)).execute(conn)?;
    super::counts::forget(conn, super::counts::TAG, id)?;
    super::old_slugs::forget(conn, KIND, id)?;
    Ok(Written::content((), Scope::All))
}

/// The query parameters of `GET /tags` (with [`PageParams`](super::paging::PageParams)).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TagParams {
    /// `name` (default) or `-name`.
    #[param(inline)]
    pub sort: Option<TagSort>,
}

/// A parsed `GET /tags` request.
#[derive(Debug, Clone)]
pub struct TagQuery {
    pub sort: TagSort,
    pub page: PageRequest,
}

impl TagQuery {
    /// Reads the query string of `GET /tags`.
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let TagParams { sort } = params.read()?;
        let _: LocaleParams = params.read()?;
        let sort = sort.unwrap_or(TagSort::Name);
        let page = PageRequest::from_params(&mut params, codec, sort.as_str())?;
        params.finish()?;
        Ok(Self { sort, page })
    }
}

/// Lists tags by name, with their article counts.
pub fn list(
    conn: &mut DbConn,
    q: &TagQuery,
    codec: &CursorCodec,
    lang: Option<&str>,
) -> AppResult<ListResponse<Tag>> {
    let mut query = tags::table.select(TagRow::as_select()).into_boxed();
    if let Some(after) = q.page.after() {
        let (k, last) = (after.text(0)?.to_owned(), after.last_id()?);
        query = match q.sort {
            TagSort::Name => keyset_after!(query, tags::name, tags::id, k, last, asc),
            TagSort::NameDesc => keyset_after!(query, tags::name, tags::id, k, last, desc),
        };
    }
    query = match q.sort {
        TagSort::Name => query.order((tags::name.asc(), tags::id.asc())),
        TagSort::NameDesc => query.order((tags::name.desc(), tags::id.desc())),
    };
    let rows: Vec<TagRow> = query
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(tags::table.count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let counts = article_counts(conn, &ids)?;
    Ok(paging::finish_page(
        rows,
        &q.page,
        q.sort.as_str(),
        codec,
        total,
        |r| {
            vec![
                KeyValue::Text(r.name.clone()),
                KeyValue::Int(i64::from(r.id)),
            ]
        },
        |r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            Tag::from_row(r, n, lang)
        },
    ))
}
