//! Editorial safety: an article's revisions, corrections and preview links, the trash,
//! and the audit log.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::Key;
use crate::domain::articles::revisions::{self, Revision, RevisionSummary};
use crate::domain::articles::safety::{
    self, Correction, CorrectionCreate, PreviewCreate, PreviewLink, TrashedArticle,
};
use crate::domain::articles::write::Why;
use crate::domain::articles::{self, Article};
use crate::domain::audit::{self, AuditEntry, AuditParams, AuditQuery};
use crate::domain::paging::{ListResponse, Listing, PageParams, PageRequest};
use crate::domain::params::Params;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Admin, Editor, JsonBody, OptionalJsonBody, Staff};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_revisions)
        .service(get_revision)
        .service(restore_revision)
        .service(add_correction)
        .service(create_preview)
        .service(revoke_previews)
        .service(list_trash)
        .service(restore_trashed)
        .service(purge_trashed)
        .service(list_audit);
}

/// The article `key` names, as `actor` may see it, and whether `actor` may read its
/// revisions: editors always; writers their own drafts.
fn revision_reader(
    conn: &mut crate::db::DbConn,
    key: &Key,
    actor: crate::auth::Actor,
) -> AppResult<i32> {
    let head = articles::find_head(conn, key, Some(actor))?;
    if actor.is_editor()
        || (head.status == articles::StoredStatus::Draft && head.created_by == Some(actor.id))
    {
        Ok(head.id)
    } else {
        Err(AppError::Forbidden(
            "writers read the revisions of their own drafts only".into(),
        ))
    }
}

/// An article's revisions, newest first: number, time, author and a summary of what
/// changed. Editors and admins; writers for their own drafts.
#[utoipa::path(
    tag = "Editorial safety",
    params(Key),
    security(("bearer" = ["content:read", "role:writer"])),
    responses(
        (status = 200, description = "The revisions, newest first", body = Listing<RevisionSummary>),
    )
)]
#[get("/articles/{id_or_slug}/revisions")]
pub async fn list_revisions(
    state: web::Data<AppState>,
    staff: Staff,
    key: Key,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    Params::parse(req.query_string())?.finish()?;
    let actor = staff.actor;
    let list = state
        .db
        .read(move |conn| {
            let id = revision_reader(conn, &key, actor)?;
            revisions::list(conn, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Listing::of(list)))
}

/// The path of one revision.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RevisionPath {
    /// The article's id or slug.
    pub id_or_slug: String,
    /// The revision's number (1 is the create).
    #[param(minimum = 1)]
    pub number: i32,
}

fn revision_target(path: &RevisionPath) -> AppResult<(Key, i32)> {
    let key = Key::parse(&path.id_or_slug);
    // Revisions are numbered from 1: any other number names none.
    if path.number < 1 {
        return Err(AppError::not_found("revision"));
    }
    Ok((key, path.number))
}

/// One revision: the editable fields as it stored them, and `diff`, the fields that
/// changed from the revision before (`before`, `after`; the body also as a unified diff
/// by line in `patch`).
#[utoipa::path(
    tag = "Editorial safety",
    params(RevisionPath),
    security(("bearer" = ["content:read", "role:writer"])),
    responses(
        (status = 200, description = "The revision", body = Revision),
    )
)]
#[get("/articles/{id_or_slug}/revisions/{number}")]
pub async fn get_revision(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<RevisionPath>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    Params::parse(req.query_string())?.finish()?;
    let (key, number) = revision_target(&path)?;
    let actor = staff.actor;
    let revision = state
        .db
        .read(move |conn| {
            let id = revision_reader(conn, &key, actor)?;
            revisions::get(conn, id, number)
        })
        .await?;
    Ok(HttpResponse::Ok().json(revision))
}

/// Makes a revision's fields current again; the restore is itself a new revision.
/// 409 `revision_refers_to_deleted` when a tag, section, author, region or hero image
/// it names is gone. Editors; writers for their own drafts.
#[utoipa::path(
    tag = "Editorial safety",
    params(RevisionPath),
    security(("bearer" = ["content:write", "role:writer"])),
    responses(
        (status = 200, description = "The article as restored", body = Article),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("/articles/{id_or_slug}/revisions/{number}/restore")]
pub async fn restore_revision(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<RevisionPath>,
) -> AppResult<HttpResponse> {
    let (key, number) = revision_target(&path)?;
    let actor = staff.actor;
    let languages = state.config.languages.clone();
    let site = state.site.clone();
    let article = state
        .db
        .write_content(move |conn| {
            let id = revision_reader(conn, &key, actor)?;
            let Some((_, fields)) = revisions::fields_of(conn, id, number)? else {
                return Err(AppError::not_found("revision"));
            };
            revisions::check_restorable(conn, &fields)?;
            articles::write::update_for(
                conn,
                actor,
                &Key::Id(id),
                fields.as_patch(),
                &languages,
                None,
                &site,
                Why::Restore(number),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(article))
}

/// Appends a public correction. The article carries its corrections (`corrections`,
/// oldest first) and its `updated_at` moves, so feeds show the item updated.
/// Corrections are never edited or deleted. Editors and admins.
#[utoipa::path(
    tag = "Editorial safety",
    params(Key),
    security(("bearer" = ["content:write", "role:editor"])),
    request_body = CorrectionCreate,
    responses(
        (status = 201, description = "The correction", body = Correction),
    )
)]
#[post("/articles/{id_or_slug}/corrections")]
pub async fn add_correction(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    key: Key,
    JsonBody(body): JsonBody<CorrectionCreate>,
) -> AppResult<HttpResponse> {
    let actor = editor.actor;
    let correction = state
        .db
        .write_content(move |conn| safety::add_correction(conn, actor, &key, body))
        .await?;
    Ok(HttpResponse::Created().json(correction))
}

/// Makes a link that shows this article, whatever its status, to whoever holds it:
/// `GET /api/v1/articles/{id}?preview=<token>`, answered `private, no-store`. It reads
/// that one article and nothing else, and ends at `expires_at` (default 24 hours, at
/// most 7 days) or when the article's links are revoked. The body is optional. Staff
/// who may see the article.
#[utoipa::path(
    tag = "Editorial safety",
    params(Key),
    security(("bearer" = ["content:write", "role:writer"])),
    request_body(content = Option<PreviewCreate>, content_type = "application/json"),
    responses(
        (status = 201, description = "The link", body = PreviewLink),
    )
)]
#[post("/articles/{id_or_slug}/preview-links")]
pub async fn create_preview(
    state: web::Data<AppState>,
    staff: Staff,
    key: Key,
    OptionalJsonBody(body): OptionalJsonBody<PreviewCreate>,
) -> AppResult<HttpResponse> {
    let actor = staff.actor;
    let base = state.config.public_base_url.clone();
    let link = state
        .db
        .write_content(move |conn| safety::create_preview(conn, actor, &key, body, &base))
        .await?;
    Ok(HttpResponse::Created().json(link))
}

/// Revokes every preview link of this article at once. Staff who may see it.
#[utoipa::path(
    tag = "Editorial safety",
    params(Key),
    security(("bearer" = ["content:write", "role:writer"])),
    responses(
        (status = 204, description = "Revoked"),
    )
)]
#[delete("/articles/{id_or_slug}/preview-links")]
pub async fn revoke_previews(
    state: web::Data<AppState>,
    staff: Staff,
    key: Key,
) -> AppResult<HttpResponse> {
    let actor = staff.actor;
    state
        .db
        .write_content(move |conn| safety::revoke_previews(conn, actor, &key))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Trashed articles, most recently trashed first, with `deleted_at` and `deleted_by`.
/// A trashed article is a 404 everywhere else; after `TRASH_RETENTION_DAYS` (30) it is
/// removed for good. Editors and admins.
#[utoipa::path(
    tag = "Editorial safety",
    params(PageParams),
    security(("bearer" = ["content:read", "role:editor"])),
    responses(
        (status = 200, description = "A page of the trash", body = ListResponse<TrashedArticle>),
    )
)]
#[get("/trash")]
pub async fn list_trash(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let mut params = Params::parse(req.query_string())?;
    let page = PageRequest::from_params(&mut params, &state.cursors, safety::trash_sort())?;
    params.finish()?;
    let codec = state.cursors.clone();
    let site = state.site.clone();
    let list = state
        .db
        .read(move |conn| safety::list_trash(conn, &page, &codec, &site))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The id of a trashed article.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TrashPath {
    /// The trashed article's id.
    #[param(minimum = 1)]
    pub id: i32,
}

/// Takes an article out of the trash as it was: tags, bylines, regions, section, hero
/// image, collection places and translation group included. Editors and admins.
#[utoipa::path(
    tag = "Editorial safety",
    params(TrashPath),
    security(("bearer" = ["content:write", "role:editor"])),
    responses(
        (status = 200, description = "The restored article", body = Article),
    )
)]
#[post("/trash/{id}/restore")]
pub async fn restore_trashed(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    path: web::Path<TrashPath>,
) -> AppResult<HttpResponse> {
    let (actor, id) = (editor.actor, path.id);
    let site = state.site.clone();
    let article = state
        .db
        .write_content(move |conn| safety::restore(conn, actor, id, &site))
        .await?;
    Ok(HttpResponse::Ok().json(article))
}

/// Removes a trashed article for good, with its revisions and corrections; its slug is
/// free again. Editors and admins.
#[utoipa::path(
    tag = "Editorial safety",
    params(TrashPath),
    security(("bearer" = ["content:write", "role:editor"])),
    responses(
        (status = 204, description = "Removed for good"),
    )
)]
#[delete("/trash/{id}")]
pub async fn purge_trashed(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    path: web::Path<TrashPath>,
) -> AppResult<HttpResponse> {
    let (actor, id) = (editor.actor, path.id);
    state
        .db
        .write_content(move |conn| safety::purge(conn, Some(actor), id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every write, newest first: who (`actor`), what (`action`, `resource`,
/// `resource_id`) and a `summary`; sign-ins and failed sign-ins (grouped per account,
/// address and minute, with a `count`) too. Never a password or a token. Admins.
#[utoipa::path(
    tag = "Editorial safety",
    params(PageParams, AuditParams),
    security(("bearer" = ["content:read", "role:admin"])),
    responses(
        (status = 200, description = "A page of the log", body = ListResponse<AuditEntry>),
    )
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    _admin: Staff<Admin>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = AuditQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let list = state
        .db
        .read(move |conn| audit::list(conn, &query, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
