//! Breaking items as stored and as shown, and the reads of them. Both the ticker's
//! writes (`breaking`) and the stream's event log (`breaking_events`) build on this
//! module; it imports neither, so the two depend on it and not on each other.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::articles;
use super::time::Timestamp;
use crate::db::{DbBackend, DbConn};
use crate::error::{AppError, AppResult};
use crate::schema::{articles as articles_t, breaking_items};

/// A breaking item row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = breaking_items)]
pub struct BreakingRow {
    pub id: i32,
    pub text: String,
    pub language: String,
    pub article_id: Option<i32>,
    pub url: Option<String>,
    pub priority: i32,
    pub published_at: chrono::NaiveDateTime,
    pub expires_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// The article a breaking item points to.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, Queryable)]
pub struct ArticleLink {
    #[schema(example = 42)]
    pub id: i32,
    #[schema(example = "ceasefire-talks-resume-in-cairo")]
    pub slug: String,
    #[schema(example = "Ceasefire talks resume in Cairo")]
    pub title: String,
}

/// A breaking item as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakingItem {
    #[schema(example = 9)]
    pub id: i32,
    #[schema(example = "Ceasefire talks resume in Cairo")]
    pub text: String,
    #[schema(example = "en")]
    pub language: String,
    /// The linked article, when it is published; `null` otherwise.
    pub article: Option<ArticleLink>,
    pub url: Option<String>,
    /// Higher comes first.
    #[schema(example = 10)]
    pub priority: i32,
    pub published_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Items readers see now: published and not expired.
pub fn live_now(
    now: chrono::NaiveDateTime,
) -> Box<dyn BoxableExpression<breaking_items::table, DbBackend, SqlType = diesel::sql_types::Bool>>
{
    Box::new(
        breaking_items::published_at.le(now).and(
            breaking_items::expires_at
                .is_null()
                .or(breaking_items::expires_at.gt(now))
                .assume_not_null(),
        ),
    )
}

fn article_links(conn: &mut DbConn, ids: &[i32]) -> AppResult<HashMap<i32, ArticleLink>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<ArticleLink> = articles_t::table
        .filter(articles_t::id.eq_any(ids))
        .filter(articles::visible_to_readers(Timestamp::now().0))
        .select((articles_t::id, articles_t::slug, articles_t::title))
        .load(conn)?;
    Ok(rows.into_iter().map(|a| (a.id, a)).collect())
}

/// The API views of stored rows, with their linked articles (when readers see them).
pub(super) fn views(conn: &mut DbConn, rows: Vec<BreakingRow>) -> AppResult<Vec<BreakingItem>> {
    let ids: Vec<i32> = rows.iter().filter_map(|r| r.article_id).collect();
    let links = article_links(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| BreakingItem {
            article: r.article_id.and_then(|a| links.get(&a).cloned()),
            id: r.id,
            text: r.text,
            language: r.language,
            url: r.url,
            priority: r.priority,
            published_at: r.published_at.into(),
            expires_at: r.expires_at.map(Into::into),
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
        })
        .collect())
}

/// The stored row of an item; 404 when there is none.
pub(super) fn find_row(conn: &mut DbConn, id: i32) -> AppResult<BreakingRow> {
    breaking_items::table
        .find(id)
        .select(BreakingRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("breaking item"))
}

/// Reads one item.
pub fn get(conn: &mut DbConn, id: i32) -> AppResult<BreakingItem> {
    let row = find_row(conn, id)?;
    Ok(views(conn, vec![row])?.remove(0))
}

/// Reads one item as a reader (`staff == false`: only live items exist) or as staff.
pub fn get_for(conn: &mut DbConn, id: i32, staff: bool) -> AppResult<BreakingItem> {
    let row = find_row(conn, id)?;
    let now = Timestamp::now().0;
    let live = row.published_at <= now && row.expires_at.is_none_or(|e| e > now);
    if !staff && !live {
        return Err(AppError::not_found("breaking item"));
    }
    Ok(views(conn, vec![row])?.remove(0))
}

/// Every live item (of one language), as `GET /breaking` orders them: the stream's
/// snapshot.
pub fn live_items(conn: &mut DbConn, lang: Option<&str>) -> AppResult<Vec<BreakingItem>> {
    let mut query = breaking_items::table
        .filter(live_now(Timestamp::now().0))
        .select(BreakingRow::as_select())
        .into_boxed();
    if let Some(lang) = lang {
        query = query.filter(breaking_items::language.eq(lang.to_owned()));
    }
    let rows: Vec<BreakingRow> = query
        .order((
            breaking_items::priority.desc(),
            breaking_items::published_at.desc(),
            breaking_items::id.desc(),
        ))
        .load(conn)?;
    views(conn, rows)
}
