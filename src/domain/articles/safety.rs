//! Editorial safety around an article: public corrections, preview links for
//! unpublished stories, and the trash.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Article, ArticleHead, Relations, find_head};
use crate::auth::Actor;
use crate::db::{DbBackend, DbConn, Scope, Written};
use crate::domain::audit::{self, Action};
use crate::domain::feeds::Site;
use crate::domain::input::{Checker, Input, TextRule, UnknownFields};
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::time::Timestamp;
use crate::domain::{Key, breaking};
use crate::error::{AppError, AppResult};
use crate::schema::{article_corrections, articles, preview_links, users};

// --- Corrections -----------------------------------------------------------------

/// A public correction of an article.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Correction {
    #[schema(example = 3)]
    pub id: i32,
    #[schema(example = "An earlier version of this story misstated the date of the talks.")]
    pub text: String,
    pub created_at: Timestamp,
}

/// Body of `POST /articles/{id_or_slug}/corrections`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CorrectionCreate {
    /// The correction as readers see it (1–2,000 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub text: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

pub const CORRECTION: TextRule = TextRule::block(2000);

/// The corrections of an article, oldest first.
pub fn corrections_of(conn: &mut DbConn, article: i32) -> AppResult<Vec<Correction>> {
    let rows: Vec<(i32, String, chrono::NaiveDateTime)> = crate::on_backend!(conn, |c| {
        article_corrections::table
            .filter(article_corrections::article_id.eq(article))
            .order(article_corrections::id.asc())
            .select((
                article_corrections::id,
                article_corrections::text,
                article_corrections::created_at,
            ))
            .load(c)?
    });
    Ok(rows
        .into_iter()
        .map(|(id, text, at)| Correction {
            id,
            text,
            created_at: at.into(),
        })
        .collect())
}

/// Appends a correction (editors; checked at the route). The article's `updated_at`
/// moves, so feeds and caches show it changed.
pub fn add_correction(
    conn: &mut DbConn,
    actor: Actor,
    key: &Key,
    body: CorrectionCreate,
) -> AppResult<Written<Correction>> {
    let head = find_head(conn, key, Some(actor))?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, &["id", "created_at"]);
    let text = c.required("text", body.text);
    match &text {
        Some(t) if t.trim().is_empty() => c.fail("text", "must not be empty"),
        Some(t) => {
            c.text("text", t, CORRECTION);
        }
        None => {}
    }
    c.finish()?;
    let text = text.unwrap_or_default();
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(article_corrections::table)
        .values((
            article_corrections::article_id.eq(head.id),
            article_corrections::text.eq(&text),
            article_corrections::created_by.eq(Some(actor.id)),
            article_corrections::created_at.eq(now),
        ))
        .returning(article_corrections::id)
        .get_result(conn)?;
    diesel::update(articles::table.find(head.id))
        .set(articles::updated_at.eq(now))
        .execute(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Create,
        "correction",
        Some(id),
        &format!("corrected article {} \"{}\"", head.id, head.title),
    )?;
    let correction = Correction {
        id,
        text,
        created_at: now.into(),
    };
    Ok(Written::content(correction, Scope::All))
}

// --- Preview links -----------------------------------------------------------------

/// Longest a preview link lasts.
pub const MAX_PREVIEW: chrono::Duration = chrono::Duration::days(7);
/// How long a preview link lasts when the request does not say.
pub const DEFAULT_PREVIEW: chrono::Duration = chrono::Duration::hours(24);

/// Body of `POST /articles/{id_or_slug}/preview-links` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PreviewCreate {
    /// When the link stops working: in the future, at most 7 days away (default: 24
    /// hours from now).
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub expires_at: Input<Timestamp>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// A preview link: whoever holds it reads the article, whatever its status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewLink {
    /// The article's read with the token, to hand to a frontend.
    #[schema(example = "https://news.example.com/api/v1/articles/42?preview=ndp_3q2-7Xc")]
    pub url: String,
    /// The token alone, for `?preview=` (shown once; only its hash is kept).
    #[schema(example = "ndp_3q2-7Xc")]
    pub token: String,
    pub expires_at: Timestamp,
}

/// What a preview token starts with, so it is recognised in a log or a leak scan.
const PREVIEW_PREFIX: &str = "ndp_";

fn hash_token(token: &str) -> String {
    crate::auth::secrets::sha256_hex(token)
}

fn new_token() -> String {
    crate::auth::secrets::random_token(PREVIEW_PREFIX)
}

/// Makes a preview link of the article `key` names (staff who may see it).
pub fn create_preview(
    conn: &mut DbConn,
    actor: Actor,
    key: &Key,
    body: PreviewCreate,
    base_url: &str,
) -> AppResult<Written<PreviewLink>> {
    let head = find_head(conn, key, Some(actor))?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, &["url", "token"]);
    let asked = c.optional("expires_at", body.expires_at);
    let now = Timestamp::now().0;
    let expires_at = match asked {
        Some(t) if t.0 <= now => {
            c.fail("expires_at", "must be in the future");
            now
        }
        Some(t) if t.0 > now + MAX_PREVIEW => {
            c.fail("expires_at", "must be at most 7 days from now");
            now
        }
        Some(t) => t.0,
        None => now + DEFAULT_PREVIEW,
    };
    c.finish()?;
    let token = new_token();
    let id: i32 = diesel::insert_into(preview_links::table)
        .values((
            preview_links::article_id.eq(head.id),
            preview_links::token_hash.eq(hash_token(&token)),
            preview_links::expires_at.eq(expires_at),
            preview_links::created_by.eq(Some(actor.id)),
            preview_links::created_at.eq(now),
        ))
        .returning(preview_links::id)
        .get_result(conn)?;
    // Links long expired go when new ones are made.
    diesel::delete(preview_links::table.filter(preview_links::expires_at.lt(now))).execute(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Create,
        "preview_link",
        Some(id),
        &format!("shared a preview of article {} \"{}\"", head.id, head.title),
    )?;
    let link = PreviewLink {
        url: format!(
            "{}/api/v1/articles/{}?preview={token}",
            base_url.trim_end_matches('/'),
            head.id
        ),
        token,
        expires_at: expires_at.into(),
    };
    Ok(Written::unseen(link))
}

/// Revokes every preview link of the article `key` names.
pub fn revoke_previews(conn: &mut DbConn, actor: Actor, key: &Key) -> AppResult<Written<()>> {
    let head = find_head(conn, key, Some(actor))?;
    let n = diesel::delete(preview_links::table.filter(preview_links::article_id.eq(head.id)))
        .execute(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Delete,
        "preview_link",
        None,
        &format!(
            "revoked {n} preview link(s) of article {} \"{}\"",
            head.id, head.title
        ),
    )?;
    Ok(Written::unseen(()))
}

/// The article `key` names, read with a preview `token` made for it: any status but
/// trashed. Anything else (another article's token, an expired or revoked one) is the
/// same 404 as an article that does not exist.
pub fn preview(
    conn: &mut DbConn,
    key: &Key,
    token: &str,
    site: &Site,
) -> AppResult<(Article, ArticleHead)> {
    let not_found = || AppError::not_found("article");
    if !token.starts_with(PREVIEW_PREFIX) || token.len() > 100 {
        return Err(not_found());
    }
    let now = Timestamp::now().0;
    let article: Option<i32> = preview_links::table
        .filter(preview_links::token_hash.eq(hash_token(token)))
        .filter(preview_links::expires_at.gt(now))
        .select(preview_links::article_id)
        .first(conn)
        .optional()?;
    let Some(article) = article else {
        return Err(not_found());
    };
    let query = articles::table
        .select((
            ArticleHead::as_select(),
            articles::body,
            articles::body_html,
        ))
        .into_boxed::<DbBackend>();
    let query = match key {
        Key::Id(id) => query.filter(articles::id.eq(*id)),
        Key::Slug(s) => query.filter(articles::slug.eq(s.clone())),
    };
    let row: Option<(ArticleHead, String, String)> = query.first(conn).optional()?;
    let (head, body, html) = match row {
        Some(r) if r.0.id == article && r.0.deleted_at.is_none() => r,
        _ => return Err(not_found()),
    };
    let article = super::whole(conn, head.clone(), (body, html), true, None, site, now)?;
    Ok((article, head))
}

// --- The trash ---------------------------------------------------------------------

/// Moves an article to the trash (editors; checked at the route): readers and staff
/// lose it at once, its slug stays reserved, its links stay for a restore.
pub fn trash(conn: &mut DbConn, actor: Actor, key: &Key) -> AppResult<Written<()>> {
    let head = find_head(conn, key, Some(actor))?;
    let items = breaking::linking_to(conn, head.id)?;
    let now = Timestamp::now().0;
    diesel::update(articles::table.find(head.id))
        .set((
            articles::deleted_at.eq(Some(now)),
            articles::deleted_by.eq(Some(actor.id)),
        ))
        .execute(conn)?;
    crate::db::dialect::fts_remove(conn, head.id)?;
    if head.is_public(now) {
        breaking::article_withdrawn(conn, &items, now)?;
    }
    audit::record(
        conn,
        Some(actor),
        Action::Delete,
        "article",
        Some(head.id),
        &format!("moved article \"{}\" to the trash", head.title),
    )?;
    crate::webhooks::lifecycle::article_written(
        conn,
        head.id,
        crate::webhooks::lifecycle::Change::Trashed,
    )?;
    Ok(Written::content((), Scope::All))
}

/// The head of a trashed article, or 404.
fn trashed_head(conn: &mut DbConn, id: i32) -> AppResult<ArticleHead> {
    articles::table
        .find(id)
        .filter(articles::deleted_at.is_not_null())
        .select(ArticleHead::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("trashed article"))
}

/// Takes an article out of the trash as it was, relations included (editors).
pub fn restore(
    conn: &mut DbConn,
    actor: Actor,
    id: i32,
    site: &Site,
) -> AppResult<Written<Article>> {
    let head = trashed_head(conn, id)?;
    diesel::update(articles::table.find(head.id))
        .set((
            articles::deleted_at.eq(None::<chrono::NaiveDateTime>),
            articles::deleted_by.eq(None::<i32>),
        ))
        .execute(conn)?;
    let (body,): (String,) = articles::table
        .find(head.id)
        .select((articles::body,))
        .first(conn)?;
    super::write::reindex(conn, head.id, &head.title, head.summary.as_deref(), &body)?;
    audit::record(
        conn,
        Some(actor),
        Action::Restore,
        "article",
        Some(head.id),
        &format!("restored article \"{}\" from the trash", head.title),
    )?;
    crate::webhooks::lifecycle::article_written(
        conn,
        head.id,
        crate::webhooks::lifecycle::Change::Saved,
    )?;
    let article = super::get(conn, &Key::Id(head.id), Some(actor), site)?;
    Ok(Written::content(article, Scope::All))
}

/// Removes a trashed article for good (editors), or the trash emptying it.
pub fn purge(conn: &mut DbConn, actor: Option<Actor>, id: i32) -> AppResult<Written<()>> {
    let head = trashed_head(conn, id)?;
    diesel::delete(articles::table.find(head.id)).execute(conn)?;
    crate::db::dialect::fts_remove(conn, head.id)?;
    crate::domain::old_slugs::forget(conn, super::KIND, head.id)?;
    let why = match actor {
        Some(_) => "removed",
        None => "the trash's retention removed",
    };
    audit::record(
        conn,
        actor,
        Action::Delete,
        "article",
        Some(head.id),
        &format!("{why} article \"{}\" for good", head.title),
    )?;
    // Nothing public shows a trashed article: no cached page changes.
    Ok(Written::unseen(()))
}

/// Trashed articles older than `retention`, oldest first (at most `limit`).
pub fn expired_in_trash(
    conn: &mut DbConn,
    retention: chrono::Duration,
    limit: i64,
) -> AppResult<Vec<i32>> {
    let cutoff = Timestamp::now().0 - retention;
    Ok(articles::table
        .filter(articles::deleted_at.is_not_null())
        .filter(articles::deleted_at.le(cutoff).assume_not_null())
        .order((articles::deleted_at.asc(), articles::id.asc()))
        .select(articles::id)
        .limit(limit)
        .load(conn)?)
}

/// Who moved an article to the trash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedBy {
    #[schema(example = 2)]
    pub id: i32,
    #[schema(example = "Omar Khalil")]
    pub name: String,
}

/// A trashed article: the list item of the article, and when and by whom it went.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrashedArticle {
    #[serde(flatten)]
    pub article: Article,
    pub deleted_at: Timestamp,
    pub deleted_by: Option<DeletedBy>,
}

/// The one order of the trash: most recently trashed first.
const TRASH_SORT: &str = "-deleted_at";

/// A page of the trash.
pub fn list_trash(
    conn: &mut DbConn,
    page: &PageRequest,
    codec: &CursorCodec,
    site: &Site,
) -> AppResult<ListResponse<TrashedArticle>> {
    let mut query = articles::table
        .filter(articles::deleted_at.is_not_null())
        .select(ArticleHead::as_select())
        .into_boxed::<DbBackend>();
    if let Some(after) = page.after() {
        let (k, last) = (after.time(0)?, after.last_id()?);
        query = query.filter(
            articles::deleted_at
                .lt(k)
                .or(articles::deleted_at.eq(k).and(articles::id.lt(last)))
                .assume_not_null(),
        );
    }
    let heads: Vec<ArticleHead> = query
        .order((articles::deleted_at.desc(), articles::id.desc()))
        .limit(page.fetch_limit())
        .offset(page.offset())
        .load(conn)?;
    let total = match page.after() {
        None => Some(
            articles::table
                .filter(articles::deleted_at.is_not_null())
                .count()
                .get_result::<i64>(conn)?,
        ),
        Some(_) => None,
    };
    let by_ids: Vec<i32> = heads.iter().filter_map(|h| h.deleted_by).collect();
    let names: Vec<(i32, String)> = users::table
        .filter(users::id.eq_any(&by_ids))
        .select((users::id, users::name))
        .load(conn)?;
    let relations = Relations::load(conn, &heads, site)?;
    let now = Timestamp::now().0;
    Ok(paging::finish_page(
        heads,
        page,
        TRASH_SORT,
        codec,
        total,
        |h| {
            vec![
                KeyValue::Int(Timestamp::from(h.deleted_at.unwrap_or(h.updated_at)).unix()),
                KeyValue::Int(i64::from(h.id)),
            ]
        },
        |h| {
            let deleted_at = h.deleted_at.unwrap_or(h.updated_at).into();
            let deleted_by = h.deleted_by.and_then(|id| {
                names
                    .iter()
                    .find(|(u, _)| *u == id)
                    .map(|(id, name)| DeletedBy {
                        id: *id,
                        name: name.clone(),
                    })
            });
            TrashedArticle {
                article: relations.view(h, None, now),
                deleted_at,
                deleted_by,
            }
        },
    ))
}

/// The sort name a trash cursor is made for.
pub fn trash_sort() -> &'static str {
    TRASH_SORT
}
