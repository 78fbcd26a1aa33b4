//! `/users`: staff accounts. Admins manage them; everyone may read themselves and
//! change their own name and password.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::password;
use crate::db::{DbConn, Written, run_blocking};
use crate::domain::audit::{self, Action};
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::users::{self, User, UserCreate, UserParams, UserPatch, UserQuery};
use crate::error::{AppError, AppResult};
use crate::http::client::client_address;
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{Admin, JsonBody, Staff};
use crate::http::precondition::{AuditBy, IfMatch, Target};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user)
        .service(delete_user);
}

fn user_id(segment: &str) -> AppResult<i32> {
    segment
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::not_found("user"))
}

/// Lists staff accounts by id.
#[utoipa::path(
    tag = "Users",
    security(("bearer" = ["users:admin", "role:admin"])),
    params(PageParams, UserParams),
    responses(
        (status = 200, description = "A page of accounts", body = ListResponse<User>),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: Staff<Admin>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = UserQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let page = state
        .db
        .read(move |conn| users::list(conn, &query, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a staff account.
#[utoipa::path(
    tag = "Users",
    security(("bearer" = ["users:admin", "role:admin"])),
    request_body = UserCreate,
    responses(
        (status = 201, description = "The new account", body = User,
            headers(("Location" = String, description = "URL of the new account"))),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    who: Staff<Admin>,
    JsonBody(body): JsonBody<UserCreate>,
) -> AppResult<HttpResponse> {
    let new = users::validate_create(body)?;
    let pw = new.password.clone();
    let hash = run_blocking(move || password::hash(&pw)).await?;
    let user = state
        .db
        .write(move |conn| {
            let user = users::insert(conn, &new, &hash)?;
            audit::wrote(conn, who.actor, Action::Create, &user)?;
            Ok(user)
        })
        .await?;
    Ok(created(format!("/api/v1/users/{}", user.id), &user))
}

/// Reads an account: admins read any, others only their own.
#[utoipa::path(
    tag = "Users",
    security(("bearer" = ["users:admin", "role:writer"])),
    params(("id" = i32, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account", body = User),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = user_id(&path)?;
    if !staff.actor.is_admin() && staff.actor.id != id {
        return Err(AppError::Forbidden(
            "only an admin can read other accounts".into(),
        ));
    }
    let user = User::from(state.db.read(move |conn| users::find(conn, id)).await?);
    Ok(object(&user, user.updated_at))
}

/// Changes an account. Anyone may change their own `name`, and their own `password`
/// with `current_password`; only admins change `email`, `role` and `disabled`, or
/// other people's accounts. A new password or `disabled: true` ends the account's
/// tokens at once. The last active admin cannot be demoted or disabled (409). Wrong
/// `current_password` guesses share the sign-in throttle's per-account-and-address
/// budget (429 with `Retry-After` beyond it).
#[utoipa::path(
    tag = "Users",
    security(("bearer" = ["users:admin", "role:writer"])),
    params(("id" = i32, Path, description = "The account's id")),
    request_body(content = UserPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed account", body = User),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 429, response = crate::http::responses::RateLimited),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    if_match: IfMatch,
    req: HttpRequest,
    JsonBody(body): JsonBody<UserPatch>,
) -> AppResult<HttpResponse> {
    let id = user_id(&path)?;
    let change = users::validate_patch(staff.actor, id, body)?;
    let new_password = match change.password {
        None => None,
        Some(_) => {
            let account = state.db.read(move |conn| users::find(conn, id)).await?;
            // Guessing a password through `current_password` is throttled like
            // signing in, on the same account-and-address budget.
            let attempt = if staff.actor.id == id {
                let address = client_address(&req, &state.config.trusted_proxies);
                Some(state.throttles.password_check(&address, &account.email)?)
            } else {
                None
            };
            let (actor, checked) = (staff.actor, change.clone());
            let prepared =
                run_blocking(move || users::prepare_password(actor, &account, &checked)).await?;
            if let Some(attempt) = attempt {
                attempt.succeeded();
            }
            prepared
        }
    };
    let current = |conn: &mut DbConn, id: &i32| Ok(User::from(users::find(conn, *id)?));
    let apply =
        // Staff accounts appear on no cached page.
        move |conn: &mut DbConn, id: &i32| {
            users::apply_change(conn, *id, &change, new_password).map(Written::unseen)
        };
    Target::new(id, if_match)
        .update(&state.db, AuditBy::Actor(staff.actor), current, apply)
        .await
}

/// Deletes an account; its tokens stop working at once. The last active admin
/// cannot be deleted (409).
#[utoipa::path(
    tag = "Users",
    security(("bearer" = ["users:admin", "role:admin"])),
    params(("id" = i32, Path, description = "The account's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/users/{id}")]
pub async fn delete_user(
    state: web::Data<AppState>,
    who: Staff<Admin>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let id = user_id(&path)?;
    let current = |conn: &mut DbConn, id: &i32| Ok(User::from(users::find(conn, *id)?));
    let remove = |conn: &mut DbConn, id: &i32| users::delete(conn, *id).map(Written::unseen);
    Target::new(id, if_match)
        .delete(&state.db, AuditBy::Actor(who.actor), current, remove)
        .await
}
