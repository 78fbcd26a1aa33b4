//! `GET /collections` by name, and the cursor paging of one collection's articles.

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Collection, CollectionRow, ORDER, view};
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::articles::ArticleHead;
use crate::domain::media;
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::params::{self, LangParams, Params};
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::schema::{articles as articles_t, collection_articles, collections};

/// A parsed `GET /collections` request (by name).
#[derive(Debug, Clone)]
pub struct CollectionQuery {
    pub lang: Option<String>,
    pub page: PageRequest,
}

impl CollectionQuery {
    /// Reads the query string of `GET /collections`.
    pub fn parse(query: &str, codec: &CursorCodec, languages: &[String]) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let LangParams { lang } = params.read()?;
        let _: crate::domain::localized::LocaleParams = params.read()?;
        let lang = params::language("lang", lang, languages)?;
        let page = PageRequest::from_params(&mut params, codec, "name")?;
        params.finish()?;
        Ok(Self { lang, page })
    }
}

/// The paging of a collection's articles: by cursor only.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorParams {
    /// Articles per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Reads the paging of a single collection read ([`CursorParams`]).
pub fn article_page(query: &str, codec: &CursorCodec) -> AppResult<PageRequest> {
    let mut params = Params::parse(query)?;
    if params.take("page")?.is_some() {
        return Err(AppError::bad_param(
            "page",
            "a collection's articles are paged with cursor",
        ));
    }
    let CursorParams { per_page, cursor } = params.read()?;
    let _: crate::domain::localized::LocaleParams = params.read()?;
    let page = PageRequest::new(None, per_page, cursor, codec, ORDER)?;
    params.finish()?;
    Ok(page)
}

/// Lists collections by name (without their articles); `pinned` names only what
/// `viewer` may see.
pub fn list(
    conn: &mut DbConn,
    q: &CollectionQuery,
    codec: &CursorCodec,
    viewer: Option<Actor>,
    locale: Option<&str>,
) -> AppResult<ListResponse<Collection>> {
    let filtered = || {
        let mut query = collections::table.into_boxed::<crate::db::DbBackend>();
        if let Some(lang) = &q.lang {
            query = query.filter(collections::language.eq(lang.clone()));
        }
        query
    };
    let mut query = filtered().select(CollectionRow::as_select());
    if let Some(after) = q.page.after() {
        let (k, last) = (after.text(0)?.to_owned(), after.last_id()?);
        query = keyset_after!(query, collections::name, collections::id, k, last, asc);
    }
    let rows: Vec<CollectionRow> = query
        .order((collections::name.asc(), collections::id.asc()))
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(filtered().count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let now = Timestamp::now().0;
    let pins: Vec<(i32, String)> = collection_articles::table
        .inner_join(articles_t::table)
        .filter(collection_articles::collection_id.eq_any(&ids))
        .filter(collection_articles::pinned.eq(true))
        .order(collection_articles::position.asc())
        .select((collection_articles::collection_id, ArticleHead::as_select()))
        .load::<(i32, ArticleHead)>(conn)?
        .into_iter()
        .filter(|(_, head)| head.visible_to(viewer, now))
        .map(|(collection, head)| (collection, head.slug))
        .collect();
    let hero_ids: Vec<i32> = rows.iter().filter_map(|r| r.hero_media_id).collect();
    let heroes = media::by_ids(conn, &hero_ids)?;
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
        |r| {
            let pinned = pins
                .iter()
                .filter(|(c, _)| *c == r.id)
                .map(|(_, s)| s.clone())
                .collect();
            let hero = r.hero_media_id.and_then(|id| heroes.get(&id).cloned());
            view(r, hero, pinned, locale)
        },
    ))
}
