//! `POST /auth/token` and `GET /auth/me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::password;
use crate::db::run_blocking;
use crate::domain::audit::{self, Action};
use crate::domain::input::{Checker, Input, UnknownFields};
use crate::domain::time::Timestamp;
use crate::domain::users::{self, User};
use crate::error::{AppError, AppResult};
use crate::http::client::client_address;
use crate::http::extract::{JsonBody, Staff};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(token).service(me);
}

/// Credentials for a token.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "admin@localhost")]
    pub email: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, format = Password, example = "the password")]
    pub password: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// An access token and who it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
    pub user: User,
}

fn wrong_credentials() -> AppError {
    AppError::Unauthorized("wrong email or password".into())
}

/// Exchanges email and password for a bearer token.
///
/// A wrong email and a wrong password get the same answer, in the same time. Failed
/// attempts are counted per account and client address (5 per 15 minutes by default)
/// and per client address (20 per 15 minutes); beyond either the answer is 429 with
/// `Retry-After`. A successful sign-in costs nothing, and failures from other addresses
/// never stop the right password from yours.
#[utoipa::path(
    tag = "Auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A token for the account", body = TokenResponse),
        (status = 401, response = crate::http::responses::Unauthorized),
        (status = 429, response = crate::http::responses::RateLimited),
    )
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody<TokenRequest>,
) -> AppResult<HttpResponse> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, &[]);
    let email = c.required("email", body.email);
    let pw = c.required("password", body.password);
    c.finish()?;
    let (email, pw) = (email.unwrap_or_default(), pw.unwrap_or_default());
    let address = client_address(&req, &state.config.trusted_proxies);
    let attempt = state.throttles.sign_in(&address, &email)?;

    let lookup = email.clone();
    let user = state
        .db
        .read(move |conn| users::find_by_email(conn, &lookup))
        .await?;
    let account = user.as_ref().map(|u| (u.id, u.name.clone()));
    let user = run_blocking(move || {
        Ok(match user {
            Some(u) if password::verify(&pw, &u.password_hash) => Some(u),
            Some(_) => None,
            None => {
                password::verify_dummy(&pw);
                None
            }
        })
    })
    .await?;
    let user = match user {
        Some(u) if !u.disabled => u,
        _ => {
            // One audit entry per account, address and minute, counting the attempts.
            let tried = email.clone();
            state
                .db
                .write(move |conn| audit::failed_sign_in(conn, account, &tried, &address))
                .await?;
            return Err(wrong_credentials());
        }
    };
    attempt.succeeded();
    let id = user.id;
    let actor = crate::auth::Actor {
        id,
        role: crate::auth::Role::parse(&user.role).unwrap_or(crate::auth::Role::Writer),
    };
    state
        .db
        .write(move |conn| {
            users::touch_login(conn, id)?;
            audit::record(
                conn,
                Some(actor),
                Action::SignIn,
                "user",
                Some(id),
                &format!("signed in from {address}"),
            )
        })
        .await?;
    let access_token = state
        .tokens
        .issue(user.id, user.token_version, Timestamp::now().unix())?;
    let user = state.db.read(move |conn| users::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl_seconds(),
        user: user.into(),
    }))
}

/// The signed-in staff member.
#[utoipa::path(
    tag = "Auth",
    security(("bearer" = ["writer"])),
    responses(
        (status = 200, description = "The caller's account", body = User),
    )
)]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, staff: Staff) -> AppResult<HttpResponse> {
    let id = staff.actor.id;
    let user = state.db.read(move |conn| users::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(User::from(user)))
}
