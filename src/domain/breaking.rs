//! The BREAKING ticker: short one-line items, live between `published_at` and
//! `expires_at`, highest priority first.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::breaking_events;
use super::breaking_items::{BreakingRow, find_row, live_now, views};
use super::input::{Change, Checker, Input, TextRule, UnknownFields};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::{self, Params};
use super::time::Timestamp;
use crate::db::{DbBackend, DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{articles as articles_t, breaking_items};

// The items and their reads live below both this module and the event log it writes
// to; they are part of the ticker's face, so callers find them here too.
pub use super::breaking_items::{ArticleLink, BreakingItem, get, get_for};

const TEXT: TextRule = TextRule::line(1, 500);
const PRIORITY_RANGE: std::ops::RangeInclusive<i32> = -1000..=1000;
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// Body of `POST /breaking`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct BreakingCreate {
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "Ceasefire talks resume in Cairo")]
    pub text: Input<String>,
    /// Defaults to the first configured language.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "en")]
    pub language: Input<String>,
    /// Slug of the article the item links to.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub article: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub url: Input<String>,
    /// -1000 to 1000, default 0; higher comes first.
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = -1000, maximum = 1000)]
    pub priority: Input<i32>,
    /// Defaults to now.
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub published_at: Input<Timestamp>,
    /// Must be after `published_at`.
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub expires_at: Input<Timestamp>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /breaking/{id}`; `null` clears `article`, `url` or `expires_at`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct BreakingPatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub text: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub language: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub article: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub url: Input<String>,
    #[serde(default)]
    #[schema(value_type = i32, minimum = -1000, maximum = 1000)]
    pub priority: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Timestamp)]
    pub published_at: Input<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub expires_at: Input<Timestamp>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

fn resolve_article(c: &mut Checker, conn: &mut DbConn, slug: &str) -> AppResult<Option<i32>> {
    let found = articles_t::table
        .filter(articles_t::slug.eq(slug))
        .select(articles_t::id)
        .get_result::<i32>(conn)
        .optional()?;
    if found.is_none() {
        c.fail("article", format!("no article with slug {slug:?}"));
    }
    Ok(found)
}

fn check_window(
    c: &mut Checker,
    published: chrono::NaiveDateTime,
    expires: Option<chrono::NaiveDateTime>,
) {
    if expires.is_some_and(|e| e <= published) {
        c.fail("expires_at", "must be after published_at");
    }
}

/// Creates an item.
pub fn create(
    conn: &mut DbConn,
    body: BreakingCreate,
    languages: &[String],
) -> AppResult<Written<BreakingItem>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let text = c.required("text", body.text);
    let language = c
        .optional("language", body.language)
        .unwrap_or_else(|| languages[0].clone());
    let article = c.optional("article", body.article);
    let url = c.optional("url", body.url);
    let priority = c.optional("priority", body.priority).unwrap_or(0);
    let now = Timestamp::now();
    let published_at = c
        .optional("published_at", body.published_at)
        .unwrap_or(now)
        .0;
    let expires_at = c.optional("expires_at", body.expires_at).map(|t| t.0);
    if let Some(t) = &text {
        c.text("text", t, TEXT);
    }
    c.language("language", &language, languages);
    let url = url.and_then(|u| c.url("url", &u));
    if !PRIORITY_RANGE.contains(&priority) {
        c.fail("priority", "must be between -1000 and 1000");
    }
    check_window(&mut c, published_at, expires_at);
    let article_id = match &article {
        Some(slug) => resolve_article(&mut c, conn, slug)?,
        None => None,
    };
    c.finish()?;
    let id: i32 = diesel::insert_into(breaking_items::table)
        .values((
            breaking_items::text.eq(text.unwrap_or_default()),
            breaking_items::language.eq(language),
            breaking_items::article_id.eq(article_id),
            breaking_items::url.eq(url),
            breaking_items::priority.eq(priority),
            breaking_items::published_at.eq(published_at),
            breaking_items::expires_at.eq(expires_at),
            breaking_items::created_at.eq(now.0),
            breaking_items::updated_at.eq(now.0),
        ))
        .returning(breaking_items::id)
        .get_result(conn)?;
    let row = find_row(conn, id)?;
    breaking_events::record_write(conn, None, Some(&row), now.0)?;
    Ok(Written::content(get(conn, id)?, Scope::Created))
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = breaking_items)]
struct BreakingChanges {
    text: Option<String>,
    language: Option<String>,
    article_id: Option<Option<i32>>,
    url: Option<Option<String>>,
    priority: Option<i32>,
    published_at: Option<chrono::NaiveDateTime>,
    expires_at: Option<Option<chrono::NaiveDateTime>>,
    updated_at: chrono::NaiveDateTime,
}

/// Applies a PATCH.
pub fn update(
    conn: &mut DbConn,
    id: i32,
    body: BreakingPatch,
    languages: &[String],
) -> AppResult<Written<BreakingItem>> {
    let current = find_row(conn, id)?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let text = c.patch("text", body.text).into_option();
    let language = c.patch("language", body.language).into_option();
    let article = c.patch_nullable("article", body.article);
    let url = c.patch_nullable("url", body.url).into_option();
    let priority = c.patch("priority", body.priority).into_option();
    let published_at = c
        .patch("published_at", body.published_at)
        .into_option()
        .map(|t| t.0);
    let expires_at = c
        .patch_nullable("expires_at", body.expires_at)
        .into_option()
        .map(|e| e.map(|t| t.0));
    if let Some(t) = &text {
        c.text("text", t, TEXT);
    }
    if let Some(l) = &language {
        c.language("language", l, languages);
    }
    let url = match url {
        Some(Some(u)) => c.url("url", &u).map(Some),
        keep_or_clear => keep_or_clear,
    };
    if priority.is_some_and(|p| !PRIORITY_RANGE.contains(&p)) {
        c.fail("priority", "must be between -1000 and 1000");
    }
    check_window(
        &mut c,
        published_at.unwrap_or(current.published_at),
        expires_at.unwrap_or(current.expires_at),
    );
    let article_id = match article {
        Change::Keep => None,
        Change::Set(None) => Some(None),
        Change::Set(Some(slug)) => resolve_article(&mut c, conn, &slug)?.map(Some),
    };
    c.finish()?;
    let at = Timestamp::now().0;
    diesel::update(breaking_items::table.find(id))
        .set(&BreakingChanges {
            text,
            language,
            article_id,
            url,
            priority,
            published_at,
            expires_at,
            updated_at: at,
        })
        .execute(conn)?;
    let row = find_row(conn, id)?;
    breaking_events::record_write(conn, Some(&current), Some(&row), at)?;
    Ok(Written::content(get(conn, id)?, Scope::Created))
}

/// The ids of the items that link to an article.
pub fn linking_to(conn: &mut DbConn, article_id: i32) -> AppResult<Vec<i32>> {
    Ok(breaking_items::table
        .filter(breaking_items::article_id.eq(article_id))
        .select(breaking_items::id)
        .load(conn)?)
}

/// After an article left readers' view (back to draft, moved into the future,
/// deleted): `items`, which linked to it, are recorded as changed for the stream, as
/// readers now see them (without the link). Recording rewrites the items' earlier
/// events too, so that no stream, live or resumed, names the article any more.
pub fn article_withdrawn(
    conn: &mut DbConn,
    items: &[i32],
    at: chrono::NaiveDateTime,
) -> AppResult<()> {
    let rows: Vec<BreakingRow> = breaking_items::table
        .filter(breaking_items::id.eq_any(items))
        .select(BreakingRow::as_select())
        .load(conn)?;
    for row in &rows {
        breaking_events::record_write(conn, Some(row), Some(row), at)?;
    }
    Ok(())
}

/// Deletes an item.
pub fn delete(conn: &mut DbConn, id: i32) -> AppResult<Written<()>> {
    let row = find_row(conn, id)?;
    diesel::delete(breaking_items::table.find(id)).execute(conn)?;
    breaking_events::record_write(conn, Some(&row), None, Timestamp::now().0)?;
    Ok(Written::content((), Scope::Created))
}

crate::closed_set! {
    /// Which breaking items to list.
    pub enum BreakingStatus {
        Live = "live",
        All = "all",
    }
}

/// The query parameters of `GET /breaking` (with [`PageParams`](super::paging::PageParams)).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakingParams {
    /// Only this language (one of `LANGUAGES`).
    pub lang: Option<String>,
    /// Staff only: `all` lists every item, live or not; `live` (the default) only live ones.
    #[param(inline)]
    pub status: Option<BreakingStatus>,
}

/// A parsed `GET /breaking` request.
#[derive(Debug, Clone)]
pub struct BreakingQuery {
    pub lang: Option<String>,
    pub status: BreakingStatus,
    pub page: PageRequest,
}

const ORDER: &str = "-priority,-published_at";

impl BreakingQuery {
    /// Reads the query string of `GET /breaking`; `status` needs a signed-in caller.
    pub fn parse(
        query: &str,
        codec: &CursorCodec,
        languages: &[String],
        staff: bool,
    ) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let BreakingParams { lang, status } = params.read()?;
        let lang = params::language("lang", lang, languages)?;
        if status.is_some() && !staff {
            return Err(AppError::bad_param(
                "status",
                "status is for signed-in staff; send a bearer token",
            ));
        }
        let page = PageRequest::from_params(&mut params, codec, ORDER)?;
        params.finish()?;
        Ok(Self {
            lang,
            status: status.unwrap_or(BreakingStatus::Live),
            page,
        })
    }
}

/// The live items now (or every item with `status=all`), by priority then newest.
pub fn list(
    conn: &mut DbConn,
    q: &BreakingQuery,
    codec: &CursorCodec,
) -> AppResult<ListResponse<BreakingItem>> {
    let now = Timestamp::now().0;
    let filtered = || {
        let mut query = breaking_items::table.into_boxed::<DbBackend>();
        match q.status {
            BreakingStatus::Live => query = query.filter(live_now(now)),
            BreakingStatus::All => {}
        }
        if let Some(lang) = &q.lang {
            query = query.filter(breaking_items::language.eq(lang.clone()));
        }
        query
    };
    let mut query = filtered().select(BreakingRow::as_select());
    if let Some(after) = q.page.after() {
        let priority = i32::try_from(after.int(0)?).unwrap_or(i32::MIN);
        let published = after.time(1)?;
        let last = after.last_id()?;
        query = query.filter(
            breaking_items::priority
                .lt(priority)
                .or(breaking_items::priority.eq(priority).and(
                    breaking_items::published_at
                        .lt(published)
                        .or(breaking_items::published_at
                            .eq(published)
                            .and(breaking_items::id.lt(last))),
                )),
        );
    }
    let rows: Vec<BreakingRow> = query
        .order((
            breaking_items::priority.desc(),
            breaking_items::published_at.desc(),
            breaking_items::id.desc(),
        ))
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(filtered().count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    let keys: HashMap<i32, Vec<KeyValue>> = rows
        .iter()
        .map(|r| {
            (
                r.id,
                vec![
                    KeyValue::Int(i64::from(r.priority)),
                    KeyValue::Int(Timestamp::from(r.published_at).unix()),
                    KeyValue::Int(i64::from(r.id)),
                ],
            )
        })
        .collect();
    let items = views(conn, rows)?;
    Ok(paging::finish_page(
        items,
        &q.page,
        ORDER,
        codec,
        total,
        |item| keys.get(&item.id).cloned().unwrap_or_default(),
        |item| item,
    ))
}
