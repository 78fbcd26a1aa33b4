//! `/users`: staff accounts. Admins manage them; everyone may read themselves and
//! change their own name and password.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::password;
use crate::db::{DbConn, Written, run_blocking};
use crate::domain::paging::ListResponse;
use crate::domain::users::{self, User, UserCreate, UserPatch, UserQuery};
use crate::error::{AppError, AppResult};
use crate::http::client::client_address;
use crate::http::conditional::object;
use crate::http::extract::{Admin, JsonBody, Staff};
use crate::http::precondition::{IfMatch, Target};
use crate::http::state::AppState;
use crate::http::{created, params};

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
    security(("bearer" = ["admin"])),
    params(params::PageParams, ("role" = Option<crate::auth::Role>, Query, description = "Only accounts with this role")),
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
    security(("bearer" = ["admin"])),
    request_body = UserCreate,
    responses(
        (status = 201, description = "The new account", body = User,
            headers(("Location" = String, description = "URL of the new account"))),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    _admin: Staff<Admin>,
    JsonBody(body): JsonBody<UserCreate>,
) -> AppResult<HttpResponse> {
    let new = users::validate_create(body)?;
    let pw = new.password.clone();
    let hash = run_blocking(move || password::hash(&pw)).await?;
    let user = state
        .db
        .write(move |conn| users::insert(conn, &new, &hash))
        .await?;
    Ok(created(format!("/api/v1/users/{}", user.id), &user))
}

/// Reads an account: admins read any, others only their own.
#[utoipa::path(
    tag = "Users",
    security(("bearer" = ["writer"])),
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
    security(("bearer" = ["writer"])),
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
    let new_hash = match change.password.clone() {
        None => None,
        Some(new_password) => {
            let current = state.db.read(move |conn| users::find(conn, id)).await?;
            let own = staff.actor.id == id;
            // Guessing a password through `current_password` is throttled like
            // signing in, on the same account-and-address budget.
            let address = client_address(&req, &state.config.trusted_proxies);
            let attempt = if own {
                Some(state.throttles.password_check(&address, &current.email)?)
            } else {
                None
            };
            let given = change.current_password.clone();
            let hash = run_blocking(move || {
                if own && !password::verify(given.as_deref().unwrap_or(""), &current.password_hash)
                {
                    return Ok(None);
                }
                password::hash(&new_password).map(Some)
            })
            .await?;
            match (hash, attempt) {
                (None, _) => return Err(AppError::invalid("current_password", "is not correct")),
                (Some(hash), attempt) => {
                    if let Some(attempt) = attempt {
                        attempt.succeeded();
                    }
                    Some(hash)
                }
            }
        }
    };
    let current = |conn: &mut DbConn, id: &i32| Ok(User::from(users::find(conn, *id)?));
    let apply =
        // Staff accounts appear on no cached page.
        move |conn: &mut DbConn, id: &i32| {
            users::apply_change(conn, *id, &change, new_hash).map(Written::unseen)
        };
    Target::new(id, if_match)
        .update(&state.db, current, apply)
        .await
}

/// Deletes an account; its tokens stop working at once. The last active admin
/// cannot be deleted (409).
#[utoipa::path(
    tag = "Users",
    security(("bearer" = ["admin"])),
    params(("id" = i32, Path, description = "The account's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/users/{id}")]
pub async fn delete_user(
    state: web::Data<AppState>,
    _admin: Staff<Admin>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let id = user_id(&path)?;
    let current = |conn: &mut DbConn, id: &i32| Ok(User::from(users::find(conn, *id)?));
    let remove = |conn: &mut DbConn, id: &i32| users::delete(conn, *id).map(Written::unseen);
    Target::new(id, if_match)
        .delete(&state.db, current, remove)
        .await
}
