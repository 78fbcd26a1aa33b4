//! Coverage collections: a hub page (a running war coverage, an election) with an
//! ordered list of articles, pinned ones first.

mod form;
mod list;

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::Key;
use super::articles::{Article, ArticleHead, Relations};
use super::feeds::Site;
use super::input::Checker;
use super::localized::{Localized, LocalizedName};
use super::media::{self, Media};
use super::paging::{self, CursorCodec, KeyValue, PageRequest};
use super::time::Timestamp;
use crate::auth::Actor;
use crate::db::{DbConn, Scope, Written};
use crate::error::AppResult;
use crate::schema::{articles as articles_t, collection_articles, collections};

pub use form::{CollectionCreate, CollectionPatch};
use form::{DESCRIPTION, LOCALIZED, NAME, READ_ONLY, check_hero, resolve_entries};
pub use list::{CollectionQuery, CursorParams, article_page, list};

/// Most articles in one collection.
pub const MAX_ARTICLES: usize = 1_000;
/// The order of a collection's articles, for cursors.
const ORDER: &str = "collection";

/// A collection row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = collections)]
pub struct CollectionRow {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub language: String,
    pub hero_media_id: Option<i32>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub localized: String,
}

/// A collection as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Collection {
    #[schema(example = 3)]
    pub id: i32,
    #[schema(example = "war-in-gaza")]
    pub slug: String,
    #[schema(example = "War in Gaza")]
    pub name: String,
    pub description: Option<String>,
    #[schema(example = "en")]
    pub language: String,
    /// `name` and `description` in the other configured languages.
    #[schema(value_type = HashMap<String, LocalizedName>)]
    pub localized: Localized,
    /// The hero image, its caption in the language read (`locale`, else the
    /// collection's own).
    pub hero_media: Option<Media>,
    /// The articles the caller may see (readers: published ones whose time has come),
    /// pinned first, then in the collection's order (single reads only, a page at a
    /// time: see `next_cursor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub articles: Option<Vec<Article>>,
    /// Slugs of the pinned articles the caller may see, in order.
    pub pinned: Vec<String>,
    /// Pass as `cursor` to read the next page of `articles`; `null` on the last page
    /// (single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Option<String>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

slug_queries!(collections, "collection");

fn find_row(conn: &mut DbConn, key: &Key) -> AppResult<CollectionRow> {
    let id = require_id(conn, key)?;
    Ok(collections::table
        .find(id)
        .select(CollectionRow::as_select())
        .get_result(conn)?)
}

/// One article of a collection, with its place.
struct Entry {
    head: ArticleHead,
    pinned: bool,
    position: i32,
}

impl Entry {
    /// The entry's place in the collection: pinned ones first, then by position.
    fn order(&self) -> i64 {
        i64::from(!self.pinned) * 1_000_000 + i64::from(self.position)
    }
}

/// Every entry of a collection, in order, whoever may see it (for writes).
fn entries(conn: &mut DbConn, collection: i32) -> AppResult<Vec<Entry>> {
    let rows: Vec<(ArticleHead, bool, i32)> = collection_articles::table
        .inner_join(articles_t::table)
        .filter(collection_articles::collection_id.eq(collection))
        .select((
            ArticleHead::as_select(),
            collection_articles::pinned,
            collection_articles::position,
        ))
        .load(conn)?;
    let mut entries: Vec<Entry> = rows
        .into_iter()
        .map(|(head, pinned, position)| Entry {
            head,
            pinned,
            position,
        })
        .collect();
    entries.sort_by_key(Entry::order);
    Ok(entries)
}

/// The entries `viewer` may see: a reader is never told of a draft or a scheduled
/// story, not even by its slug in `pinned`.
fn visible_entries(
    conn: &mut DbConn,
    collection: i32,
    viewer: Option<Actor>,
    now: chrono::NaiveDateTime,
) -> AppResult<Vec<Entry>> {
    let mut all = entries(conn, collection)?;
    all.retain(|e| e.head.visible_to(viewer, now));
    Ok(all)
}

fn pinned_slugs(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.pinned)
        .map(|e| e.head.slug.clone())
        .collect()
}

fn view(
    row: CollectionRow,
    hero: Option<Media>,
    pinned: Vec<String>,
    lang: Option<&str>,
) -> Collection {
    let localized = Localized::parse(&row.localized);
    let in_lang = lang.unwrap_or(&row.language);
    Collection {
        id: row.id,
        slug: row.slug,
        name: localized.pick(lang, "name", row.name),
        description: localized.pick_opt(lang, "description", row.description),
        hero_media: hero.map(|m| m.localize(Some(in_lang))),
        language: row.language,
        localized,
        articles: None,
        pinned,
        next_cursor: None,
        created_at: row.created_at.into(),
        updated_at: row.updated_at.into(),
    }
}

/// Reads a collection with a page of the articles `viewer` may see (pinned first).
pub fn get(
    conn: &mut DbConn,
    key: &Key,
    page: &PageRequest,
    codec: &CursorCodec,
    viewer: Option<Actor>,
    site: &Site,
    lang: Option<&str>,
) -> AppResult<Collection> {
    let row = find_row(conn, key)?;
    let now = Timestamp::now().0;
    let shown = visible_entries(conn, row.id, viewer, now)?;
    let pinned = pinned_slugs(&shown);
    let start = match page.after() {
        Some(pos) => pos.int(0)?,
        None => -1,
    };
    // One more than a page, so that finish_page knows whether another follows.
    let visible: Vec<(i64, ArticleHead)> = shown
        .into_iter()
        .filter(|e| e.order() > start)
        .take(page.fetch_limit() as usize)
        .map(|e| (e.order(), e.head))
        .collect();
    let orders: HashMap<i32, i64> = visible.iter().map(|(o, h)| (h.id, *o)).collect();
    let page_heads: Vec<ArticleHead> = visible.into_iter().map(|(_, h)| h).collect();
    let relations = Relations::load(conn, &page_heads, site)?;
    let listed = paging::finish_page(
        page_heads,
        page,
        ORDER,
        codec,
        None,
        |h| vec![KeyValue::Int(orders.get(&h.id).copied().unwrap_or(0))],
        |h| relations.view(h, None, now),
    );
    let hero = match row.hero_media_id {
        Some(id) => media::by_ids(conn, &[id])?.remove(&id),
        None => None,
    };
    let mut collection = view(row, hero, pinned, lang);
    collection.articles = Some(listed.data);
    collection.next_cursor = Some(listed.meta.next_cursor);
    Ok(collection)
}

/// Reads a collection without its articles, as `viewer` may see it.
pub fn get_plain(
    conn: &mut DbConn,
    key: &Key,
    viewer: Option<Actor>,
    lang: Option<&str>,
) -> AppResult<Collection> {
    let row = find_row(conn, key)?;
    let now = Timestamp::now().0;
    let pinned = pinned_slugs(&visible_entries(conn, row.id, viewer, now)?);
    let hero = match row.hero_media_id {
        Some(id) => media::by_ids(conn, &[id])?.remove(&id),
        None => None,
    };
    Ok(view(row, hero, pinned, lang))
}

fn save_entries(conn: &mut DbConn, collection: i32, entries: &[(i32, bool)]) -> AppResult<()> {
    diesel::delete(
        collection_articles::table.filter(collection_articles::collection_id.eq(collection)),
    )
    .execute(conn)?;
    for (position, (article, pinned)) in (0..).zip(entries) {
        diesel::insert_into(collection_articles::table)
            .values((
                collection_articles::collection_id.eq(collection),
                collection_articles::article_id.eq(article),
                collection_articles::position.eq(position),
                collection_articles::pinned.eq(pinned),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Creates a collection as `actor`.
pub fn create(
    conn: &mut DbConn,
    actor: Actor,
    body: CollectionCreate,
    languages: &[String],
) -> AppResult<Written<Collection>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.optional("slug", body.slug);
    let name = c.required("name", body.name);
    let description = c.optional("description", body.description);
    let language = c
        .optional("language", body.language)
        .unwrap_or_else(|| languages[0].clone());
    let hero = c.optional("hero_media_id", body.hero_media_id);
    let list = c.optional("articles", body.articles).unwrap_or_default();
    let pinned = c.optional("pinned", body.pinned).unwrap_or_default();
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    c.text_opt("description", description.as_deref(), DESCRIPTION);
    c.language("language", &language, languages);
    if let Some(id) = hero {
        check_hero(&mut c, conn, id)?;
    }
    let resolved = resolve_entries(&mut c, conn, actor, &list, &pinned)?;
    let names = Localized::check_create(&mut c, body.localized, LOCALIZED, languages);
    names.check_base(&mut c, &language);
    c.finish()?;
    let name = name.unwrap_or_default();
    let slug = choose_slug(conn, slug, &name)?;
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(collections::table)
        .values((
            collections::slug.eq(&slug),
            collections::name.eq(&name),
            collections::description.eq(&description),
            collections::language.eq(&language),
            collections::hero_media_id.eq(hero),
            collections::localized.eq(names.to_stored()),
            collections::created_at.eq(now),
            collections::updated_at.eq(now),
        ))
        .returning(collections::id)
        .get_result(conn)?;
    super::old_slugs::take(conn, KIND, &slug, id, None)?;
    save_entries(conn, id, &resolved)?;
    Ok(Written::content(
        get_plain(conn, &Key::Id(id), Some(actor), None)?,
        Scope::All,
    ))
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = collections)]
struct CollectionChanges {
    slug: Option<String>,
    name: Option<String>,
    description: Option<Option<String>>,
    language: Option<String>,
    hero_media_id: Option<Option<i32>>,
    localized: Option<String>,
    updated_at: chrono::NaiveDateTime,
}

/// Applies a PATCH as `actor`; `articles` (and `pinned`) replace the whole list when
/// given.
pub fn update(
    conn: &mut DbConn,
    actor: Actor,
    key: &Key,
    body: CollectionPatch,
    languages: &[String],
) -> AppResult<Written<Collection>> {
    let row = find_row(conn, key)?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.patch("slug", body.slug).into_option();
    let name = c.patch("name", body.name).into_option();
    let description = c
        .patch_nullable("description", body.description)
        .into_option();
    let language = c.patch("language", body.language).into_option();
    let hero = c
        .patch_nullable("hero_media_id", body.hero_media_id)
        .into_option();
    let list = c.patch_nullable("articles", body.articles).into_option();
    let pinned = c.patch_nullable("pinned", body.pinned).into_option();
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    if let Some(Some(d)) = &description {
        c.text("description", d, DESCRIPTION);
    }
    if let Some(l) = &language {
        c.language("language", l, languages);
    }
    if let Some(Some(id)) = hero {
        check_hero(&mut c, conn, id)?;
    }
    let entries_now = entries(conn, row.id)?;
    let resolved = if list.is_some() || pinned.is_some() {
        let list = match list {
            Some(l) => l.unwrap_or_default(),
            None => entries_now.iter().map(|e| e.head.slug.clone()).collect(),
        };
        let pinned = match pinned {
            Some(p) => p.unwrap_or_default(),
            None => pinned_slugs(&entries_now),
        };
        Some(resolve_entries(&mut c, conn, actor, &list, &pinned)?)
    } else {
        None
    };
    let current = Localized::parse(&row.localized);
    let names = Localized::check_patch(&mut c, body.localized, &current, LOCALIZED, languages);
    let base = language.as_deref().unwrap_or(&row.language);
    names.as_ref().unwrap_or(&current).check_base(&mut c, base);
    c.finish()?;
    if let Some(s) = &slug {
        ensure_slug_free(conn, s, Some(row.id))?;
        super::old_slugs::take(conn, KIND, s, row.id, Some(&row.slug))?;
    }
    diesel::update(collections::table.find(row.id))
        .set(&CollectionChanges {
            slug,
            name,
            description,
            language,
            hero_media_id: hero,
            localized: names.map(|n| n.to_stored()),
            updated_at: Timestamp::now().0,
        })
        .execute(conn)?;
    if let Some(resolved) = resolved {
        save_entries(conn, row.id, &resolved)?;
    }
    Ok(Written::content(
        get_plain(conn, &Key::Id(row.id), Some(actor), None)?,
        Scope::All,
    ))
}

/// Deletes a collection (its articles stay).
pub fn delete(conn: &mut DbConn, key: &Key) -> AppResult<Written<()>> {
    let id = require_id(conn, key)?;
    diesel::delete(collections::table.find(id)).execute(conn)?;
    super::old_slugs::forget(conn, KIND, id)?;
    Ok(Written::content((), Scope::All))
}
