//! Sign-in, sessions (`POST /auth/token`, `/auth/refresh`, `/auth/logout`) and
//! `GET /auth/me`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::password;
use crate::db::run_blocking;
use crate::domain::audit::{self, Action};
use crate::domain::input::{Checker, Input, UnknownFields};
use crate::domain::sessions::{self, Refreshed};
use crate::domain::users::{self, User};
use crate::error::{AppError, AppResult};
use crate::http::client::client_address;
use crate::http::extract::{JsonBody, OptionalJsonBody, Staff};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(token)
        .service(refresh)
        .service(logout)
        .service(me);
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
    /// Exchanged at `POST /api/v1/auth/refresh` for a new pair when the access token
    /// expires (valid for `REFRESH_TOKEN_TTL`, 30 days by default; once).
    #[schema(example = "ndr_12.1.kq3LZ0m2b6yq0z7I8pQ1nT5cV9xR4wE2aS6dF8gH0jK")]
    pub refresh_token: String,
    pub user: User,
}

/// Body of `POST /auth/refresh`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshRequest {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub refresh_token: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `POST /auth/logout` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// Ends this refresh token's session (for a client whose access token expired).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub refresh_token: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// A new pair of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    #[schema(example = 3600)]
    pub expires_in: u64,
    pub refresh_token: String,
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
    let actor = crate::auth::Actor::session(
        id,
        crate::auth::Role::parse(&user.role).unwrap_or(crate::auth::Role::Writer),
    );
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
    let version = user.token_version;
    let (pair, nonce) = state
        .db
        .write(move |conn| sessions::start(conn, id, version))
        .await?;
    let (access_token, refresh_token) = issue_pair(&state, &pair, &nonce)?;
    let user = state.db.read(move |conn| users::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl_seconds(),
        refresh_token,
        user: user.into(),
    }))
}

fn issue_pair(state: &AppState, pair: &sessions::Pair, nonce: &str) -> AppResult<(String, String)> {
    let access = state.tokens.issue_for_session(
        pair.user_id,
        pair.token_version,
        Some(pair.session),
        pair.issued_at,
    )?;
    let renewal = sessions::refresh_token(state.tokens.refresh_key(), pair, nonce);
    Ok((access, renewal))
}

/// Exchanges a refresh token for a new pair. The refresh token given stops working: it
/// is spent. Sent again within 30 seconds (a response lost on the way), it gets the
/// same new pair; sent later, it ends the whole session (someone else may hold it),
/// and every token of that session stops working. Disabling the account or changing
/// its password ends its sessions too.
#[utoipa::path(
    tag = "Auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = RefreshResponse),
        (status = 401, response = crate::http::responses::Unauthorized),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, &[]);
    let presented = c.required("refresh_token", body.refresh_token);
    c.finish()?;
    let presented = presented.unwrap_or_default();
    let key = state.tokens.refresh_key().to_vec();
    let ttl = state.config.refresh_token_ttl;
    let outcome = state
        .db
        .write(move |conn| sessions::refresh(conn, &key, &presented, ttl))
        .await?;
    match outcome {
        Refreshed::Pair(pair, nonce) => {
            let (access_token, refresh_token) = issue_pair(&state, &pair, &nonce)?;
            Ok(HttpResponse::Ok()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .json(RefreshResponse {
                    access_token,
                    token_type: "Bearer".into(),
                    expires_in: state.tokens.ttl_seconds(),
                    refresh_token,
                }))
        }
        Refreshed::Reused => Err(AppError::Unauthorized(
            "this refresh token was already used, so the session has ended; sign in again".into(),
        )),
        Refreshed::Invalid(why) => Err(AppError::Unauthorized(why.into())),
    }
}

/// Ends a session: its refresh token and every access token it issued stop working at
/// once, on every instance. Send the session's access token, or its refresh token in
/// the body (for a client whose access token expired); either is enough. API tokens
/// are revoked at `DELETE /api/v1/tokens/{id}` instead.
#[utoipa::path(
    tag = "Auth",
    security((), ("bearer" = [])),
    request_body(content = Option<LogoutRequest>, content_type = "application/json"),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, response = crate::http::responses::Unauthorized),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    OptionalJsonBody(body): OptionalJsonBody<LogoutRequest>,
) -> AppResult<HttpResponse> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, &[]);
    let given_refresh = c.optional("refresh_token", body.refresh_token);
    c.finish()?;
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let mut session = None;
    if let Some(access) = bearer.filter(|t| !t.starts_with(crate::domain::api_tokens::PREFIX)) {
        // The token must still be good: a stale one cannot end anything.
        crate::http::extract::actor_for_token(&state, &access).await?;
        session = state.tokens.verify(&access)?.sid;
    }
    if session.is_none()
        && let Some(renewal) = given_refresh
    {
        let key = state.tokens.refresh_key().to_vec();
        session = state
            .db
            .read(move |conn| sessions::session_of(&key, conn, &renewal))
            .await?;
    }
    let Some(session) = session else {
        return Err(AppError::Unauthorized(
            "send the session's access token or its refresh token".into(),
        ));
    };
    state
        .db
        .write(move |conn| sessions::end(conn, session))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in staff member.
#[utoipa::path(
    tag = "Auth",
    security(("bearer" = ["role:writer"])),
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
