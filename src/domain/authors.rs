//! Authors: the bylines of articles. House bylines ("Newsroom Staff", "Agencies") are
//! authors too; authors are not staff accounts.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Key;
use super::input::{Change, Checker, Input, TextRule, UnknownFields};
use super::localized::{Field, LocaleParams, Localized, LocalizedAuthor};
use super::media::{self, Media};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::Params;
use super::time::Timestamp;
use crate::db::{DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{article_authors, authors};

const NAME: TextRule = TextRule::line(1, 200);
const BIO: TextRule = TextRule::block(5_000);
const MAX_LINKS: usize = 20;
const LINK_KEY_MAX: usize = 32;
/// What `localized` holds for an author.
pub const LOCALIZED: &[Field] = &[
    Field {
        name: "name",
        rule: NAME,
    },
    Field {
        name: "bio",
        rule: BIO,
    },
];

crate::closed_set! {
    /// Orders of an author list.
    pub enum AuthorSort {
        Name = "name",
        NameDesc = "-name",
        CreatedAt = "created_at",
        CreatedAtDesc = "-created_at",
    }
}

/// An author row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = authors)]
pub struct AuthorRow {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub bio: Option<String>,
    pub avatar_media_id: Option<i32>,
    pub links: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub localized: String,
}

/// An author as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Author {
    #[schema(example = 3)]
    pub id: i32,
    #[schema(example = "leila-haddad")]
    pub slug: String,
    #[schema(example = "Leila Haddad")]
    pub name: String,
    #[schema(example = "Covers the Gulf economies from Doha.")]
    pub bio: Option<String>,
    /// The avatar image, embedded.
    pub avatar: Option<Media>,
    /// Named links, e.g. `{"x": "https://x.com/leila", "website": "https://leila.example"}`.
    pub links: BTreeMap<String, String>,
    /// `name` and `bio` in the other configured languages.
    #[schema(value_type = std::collections::HashMap<String, LocalizedAuthor>)]
    pub localized: Localized,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Author {
    fn from_row(row: AuthorRow, avatar: Option<Media>, lang: Option<&str>) -> Self {
        let localized = Localized::parse(&row.localized);
        Self {
            id: row.id,
            slug: row.slug,
            name: localized.pick(lang, "name", row.name),
            bio: localized.pick_opt(lang, "bio", row.bio),
            avatar: avatar.map(|m| m.localize(lang)),
            localized,
            links: serde_json::from_str(&row.links).unwrap_or_default(),
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

/// Body of `POST /authors`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AuthorCreate {
    #[serde(default)]
    /// Made from `name` when left out.
    #[schema(value_type = Option<String>, example = "leila-haddad")]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "Leila Haddad")]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub bio: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub avatar_media_id: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub links: Input<BTreeMap<String, String>>,
    /// `name` and `bio` in other configured languages; in a PATCH, merged into the
    /// stored ones (`{"ar": null}` drops a language).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::HashMap<String, LocalizedAuthor>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /authors/{id_or_slug}`: only the fields to change; `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AuthorPatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub bio: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub avatar_media_id: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub links: Input<BTreeMap<String, String>>,
    /// `name` and `bio` in other configured languages; in a PATCH, merged into the
    /// stored ones (`{"ar": null}` drops a language).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::HashMap<String, LocalizedAuthor>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

const READ_ONLY: &[&str] = &["id", "avatar", "created_at", "updated_at"];

/// Checks the links; returns them with each URL normalised (see [`Checker::url`]).
fn check_links(c: &mut Checker, links: BTreeMap<String, String>) -> BTreeMap<String, String> {
    if links.len() > MAX_LINKS {
        c.fail("links", format!("must have at most {MAX_LINKS} entries"));
        return links;
    }
    let mut normalised = BTreeMap::new();
    for (key, value) in links {
        let key_ok = !key.is_empty()
            && key.len() <= LINK_KEY_MAX
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            c.fail(
                format!("links.{key}"),
                "link names are 1-32 lowercase letters, digits or underscores",
            );
        }
        // Frontends render links as `href`: only absolute http(s) URLs, never
        // `javascript:` or `data:`.
        if let Some(url) = c.url(&format!("links.{key}"), &value) {
            normalised.insert(key, url);
        }
    }
    normalised
}

fn check_avatar(c: &mut Checker, conn: &mut DbConn, id: Option<i32>) -> AppResult<()> {
    if let Some(id) = id
        && !media::exists(conn, id)?
    {
        c.fail("avatar_media_id", format!("no media with id {id}"));
    }
    Ok(())
}

fn links_json(links: &BTreeMap<String, String>) -> String {
    serde_json::to_string(links).unwrap_or_else(|_| "{}".to_owned())
}

/// Reads one author by id or slug.
pub fn find_row(conn: &mut DbConn, key: &Key) -> AppResult<AuthorRow> {
    let query = authors::table.select(AuthorRow::as_select()).into_boxed();
    let query = match key {
        Key::Id(id) => query.filter(authors::id.eq(*id)),
        Key::Slug(s) => query.filter(authors::slug.eq(s.as_str())),
    };
    query
        .get_result(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("author"))
}

/// Reads one author with its avatar, in the base language.
pub fn get(conn: &mut DbConn, key: &Key) -> AppResult<Author> {
    get_in(conn, key, None)
}

/// Reads one author localized to `lang`, with the time it last changed (for
/// `Last-Modified`).
pub fn get_dated(
    conn: &mut DbConn,
    key: &Key,
    lang: Option<&str>,
) -> AppResult<(Author, Timestamp)> {
    let author = get_in(conn, key, lang)?;
    let at = author.updated_at;
    Ok((author, at))
}

/// Reads one author with its avatar, localized to `lang`.
pub fn get_in(conn: &mut DbConn, key: &Key, lang: Option<&str>) -> AppResult<Author> {
    let row = find_row(conn, key)?;
    let avatar = match row.avatar_media_id {
        Some(id) => media::by_ids(conn, &[id])?.remove(&id),
        None => None,
    };
    Ok(Author::from_row(row, avatar, lang))
}

slug_queries!(authors, "author");

/// Creates an author (inside the caller's write transaction).
pub fn create(
    conn: &mut DbConn,
    body: AuthorCreate,
    languages: &[String],
) -> AppResult<Written<Author>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.optional("slug", body.slug);
    let name = c.required("name", body.name);
    let bio = c.optional("bio", body.bio);
    let avatar = c.optional("avatar_media_id", body.avatar_media_id);
    let links = c.optional("links", body.links).unwrap_or_default();
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    c.text_opt("bio", bio.as_deref(), BIO);
    let links = check_links(&mut c, links);
    check_avatar(&mut c, conn, avatar)?;
    let names = Localized::check_create(&mut c, body.localized, LOCALIZED, languages);
    names.check_base(&mut c, &languages[0]);
    c.finish()?;
    let name = name.unwrap_or_default();

    let slug = choose_slug(conn, slug, &name)?;
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(authors::table)
        .values((
            authors::slug.eq(&slug),
            authors::name.eq(&name),
            authors::bio.eq(&bio),
            authors::avatar_media_id.eq(avatar),
            authors::links.eq(links_json(&links)),
            authors::localized.eq(names.to_stored()),
            authors::created_at.eq(now),
            authors::updated_at.eq(now),
        ))
        .returning(authors::id)
        .get_result(conn)?;
    super::old_slugs::take(conn, KIND, &slug, id, None)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::Created))
}

/// The columns a PATCH changes.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = authors)]
struct AuthorChanges {
    slug: Option<String>,
    name: Option<String>,
    bio: Option<Option<String>>,
    avatar_media_id: Option<Option<i32>>,
    links: Option<String>,
    localized: Option<String>,
    updated_at: Option<chrono::NaiveDateTime>,
}

/// Applies a PATCH (inside the caller's write transaction).
pub fn update(
    conn: &mut DbConn,
    key: &Key,
    body: AuthorPatch,
    languages: &[String],
) -> AppResult<Written<Author>> {
    let current = find_row(conn, key)?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.patch("slug", body.slug).into_option();
    let name = c.patch("name", body.name).into_option();
    let bio = c.patch_nullable("bio", body.bio).into_option();
    let avatar = c.patch_nullable("avatar_media_id", body.avatar_media_id);
    let links = c.patch_nullable("links", body.links).into_option();
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    if let Some(Some(b)) = &bio {
        c.text("bio", b, BIO);
    }
    let links = match links {
        Some(Some(l)) => Some(Some(check_links(&mut c, l))),
        keep_or_clear => keep_or_clear,
    };
    if let Change::Set(Some(id)) = avatar {
        check_avatar(&mut c, conn, Some(id))?;
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
        ensure_slug_free(conn, s, Some(current.id))?;
        super::old_slugs::take(conn, KIND, s, current.id, Some(&current.slug))?;
    }
    let changes = AuthorChanges {
        slug,
        name,
        bio,
        avatar_media_id: avatar.into_option(),
        links: links.map(|l| links_json(&l.unwrap_or_default())),
        localized: names.map(|n| n.to_stored()),
        updated_at: Some(Timestamp::now().0),
    };
    diesel::update(authors::table.find(current.id))
        .set(&changes)
        .execute(conn)?;
    Ok(Written::content(
        get(conn, &Key::Id(current.id))?,
        Scope::All,
    ))
}

/// Deletes an author (inside the caller's write transaction); an author on any
/// article's byline is `409 in_use` and nothing changes.
pub fn delete(conn: &mut DbConn, key: &Key) -> AppResult<Written<()>> {
    let id = require_id(conn, key)?;
    let uses: i64 = article_authors::table
        .filter(article_authors::author_id.eq(id))
        .count()
        .get_result(conn)?;
    if uses > 0 {
        return Err(AppError::InUse(format!(
            "{uses} article(s) carry this author in their byline; change those bylines first"
        )));
    }
    diesel::delete(authors::table.find(id)).execute(conn)?;
    super::old_slugs::forget(conn, KIND, id)?;
    Ok(Written::content((), Scope::All))
}

/// The query parameters of `GET /authors` (with [`PageParams`](super::paging::PageParams)).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorParams {
    /// Field to sort by; `-` for descending. Default `name`.
    #[param(inline)]
    pub sort: Option<AuthorSort>,
}

/// A parsed `GET /authors` request.
#[derive(Debug, Clone)]
pub struct AuthorQuery {
    pub sort: AuthorSort,
    pub page: PageRequest,
}

impl AuthorQuery {
    /// Reads the query string of `GET /authors`.
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let AuthorParams { sort } = params.read()?;
        let _: LocaleParams = params.read()?;
        let sort = sort.unwrap_or(AuthorSort::Name);
        let page = PageRequest::from_params(&mut params, codec, sort.as_str())?;
        params.finish()?;
        Ok(Self { sort, page })
    }
}

fn cursor_key(sort: AuthorSort, row: &AuthorRow) -> Vec<KeyValue> {
    let first = match sort {
        AuthorSort::Name | AuthorSort::NameDesc => KeyValue::Text(row.name.clone()),
        AuthorSort::CreatedAt | AuthorSort::CreatedAtDesc => {
            KeyValue::Int(Timestamp::from(row.created_at).unix())
        }
    };
    vec![first, KeyValue::Int(i64::from(row.id))]
}

/// Lists authors, a page at a time.
pub fn list(
    conn: &mut DbConn,
    q: &AuthorQuery,
    codec: &CursorCodec,
    lang: Option<&str>,
) -> AppResult<ListResponse<Author>> {
    let mut query = authors::table.select(AuthorRow::as_select()).into_boxed();
    if let Some(after) = q.page.after() {
        let last = after.last_id()?;
        query = match q.sort {
            AuthorSort::Name => {
                let k = after.text(0)?.to_owned();
                keyset_after!(query, authors::name, authors::id, k, last, asc)
            }
            AuthorSort::NameDesc => {
                let k = after.text(0)?.to_owned();
                keyset_after!(query, authors::name, authors::id, k, last, desc)
            }
            AuthorSort::CreatedAt => {
                let k = after.time(0)?;
                keyset_after!(query, authors::created_at, authors::id, k, last, asc)
            }
            AuthorSort::CreatedAtDesc => {
                let k = after.time(0)?;
                keyset_after!(query, authors::created_at, authors::id, k, last, desc)
            }
        };
    }
    query = match q.sort {
        AuthorSort::Name => query.order((authors::name.asc(), authors::id.asc())),
        AuthorSort::NameDesc => query.order((authors::name.desc(), authors::id.desc())),
        AuthorSort::CreatedAt => query.order((authors::created_at.asc(), authors::id.asc())),
        AuthorSort::CreatedAtDesc => query.order((authors::created_at.desc(), authors::id.desc())),
    };
    let rows: Vec<AuthorRow> = query
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(authors::table.count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    let avatar_ids: Vec<i32> = rows.iter().filter_map(|r| r.avatar_media_id).collect();
    let avatars = media::by_ids(conn, &avatar_ids)?;
    Ok(paging::finish_page(
        rows,
        &q.page,
        q.sort.as_str(),
        codec,
        total,
        |r| cursor_key(q.sort, r),
        |r| {
            let avatar = r.avatar_media_id.and_then(|id| avatars.get(&id).cloned());
            Author::from_row(r, avatar, lang)
        },
    ))
}
