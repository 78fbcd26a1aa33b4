//! API tokens for scripts and services: scoped, bounded by their owner's role, stored
//! only as a SHA-256, shown once, revocable at once (every request looks the token up).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::scopes::{Scope, Scopes};
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::{Actor, Role};
use crate::db::kept;
use crate::db::{DbConn, Written};
use crate::domain::audit::{self, Action};
use crate::domain::input::{Checker, Input, TextRule, UnknownFields};
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::schema::{api_tokens, users};
use crate::vocab::ClosedSet;

/// What every API token starts with.
pub const PREFIX: &str = "nd_";

/// How stale `last_used_at` may be before a use is written again: a token used all
/// day costs one write a minute, not one per request.
pub const LAST_USED_EVERY: chrono::Duration = chrono::Duration::seconds(60);

const NAME: TextRule = TextRule::line(1, 100);

/// An API token as listed (never the secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    #[schema(example = 4)]
    pub id: i32,
    /// Whose token it is: requests made with it act as this user.
    #[schema(example = 2)]
    pub user_id: i32,
    #[schema(example = "static site rebuild")]
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    /// When it stops working; `null`: when revoked.
    pub expires_at: Option<Timestamp>,
    /// Its last use, to the minute; `null`: never used.
    pub last_used_at: Option<Timestamp>,
}

/// A token just made: the listing fields and, this once, the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Send as `Authorization: Bearer <token>`. Shown once: only its hash is kept.
    #[schema(example = "nd_q7XbV2dYd0O8kzM0vC5bB0wq8m8l1Ue6mQyJc3kH9aA")]
    pub token: String,
    #[serde(flatten)]
    pub details: ApiToken,
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenCreate {
    /// What the token is for (1–100 characters).
    #[serde(default)]
    #[schema(value_type = String, example = "static site rebuild")]
    pub name: Input<String>,
    /// At least one scope; each must be one the owner's role may hold.
    #[serde(default)]
    #[schema(value_type = Vec<Scope>, min_items = 1)]
    pub scopes: Input<Vec<String>>,
    /// When it stops working (in the future); absent or `null`: when revoked.
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub expires_at: Input<Timestamp>,
    /// Whose token it is (admins only, for someone else; default: the caller).
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub user_id: Input<i32>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

type Row = (
    i32,
    i32,
    String,
    String,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
);

const COLUMNS: (
    api_tokens::id,
    api_tokens::user_id,
    api_tokens::name,
    api_tokens::scopes,
    api_tokens::created_at,
    api_tokens::expires_at,
    api_tokens::last_used_at,
) = (
    api_tokens::id,
    api_tokens::user_id,
    api_tokens::name,
    api_tokens::scopes,
    api_tokens::created_at,
    api_tokens::expires_at,
    api_tokens::last_used_at,
);

fn from_row((id, user_id, name, scopes, created_at, expires_at, last_used_at): Row) -> ApiToken {
    ApiToken {
        id,
        user_id,
        name,
        scopes: Scopes::parse_words(&scopes)
            .unwrap_or_default()
            .iter()
            .collect(),
        created_at: created_at.into(),
        expires_at: expires_at.map(Into::into),
        last_used_at: last_used_at.map(Into::into),
    }
}

fn role_of(conn: &mut DbConn, user: i32) -> AppResult<Option<Role>> {
    let role: Option<String> = crate::on_backend!(conn, |c| users::table
        .find(user)
        .select(users::role)
        .get_result(c)
        .optional()?);
    Ok(role.map(|r| Role::parse(&r).unwrap_or(Role::Writer)))
}

/// Makes a token for the caller (or, for admins, for `user_id`).
pub fn create(
    conn: &mut DbConn,
    actor: Actor,
    body: TokenCreate,
) -> AppResult<Written<CreatedToken>> {
    let mut c = Checker::new();
    c.extra_fields(
        &body.unknown,
        &["id", "token", "created_at", "last_used_at"],
    );
    let name = c.required("name", body.name);
    if let Some(n) = &name {
        if n.trim().is_empty() {
            c.fail("name", "must not be empty");
        } else {
            c.text("name", n, NAME);
        }
    }
    let words = c.required("scopes", body.scopes);
    let mut scopes = Scopes::NONE;
    match &words {
        Some(list) if list.is_empty() => c.fail("scopes", "must name at least one scope"),
        Some(list) => {
            for (i, w) in list.iter().enumerate() {
                match Scope::parse(w) {
                    Some(s) => scopes = Scopes::from_iter(scopes.iter().chain([s])),
                    None => c.fail(
                        format!("scopes[{i}]"),
                        format!("must be one of {}", Scope::words()),
                    ),
                }
            }
        }
        None => {}
    }
    let now = Timestamp::now().0;
    let expires_at = c.optional("expires_at", body.expires_at);
    if expires_at.is_some_and(|t| t.0 <= now) {
        c.fail("expires_at", "must be in the future");
    }
    let owner = c.optional("user_id", body.user_id).unwrap_or(actor.id);
    c.finish()?;
    if owner != actor.id && !actor.may(Scope::UsersAdmin) {
        return Err(if actor.is_admin() {
            AppError::InsufficientScope(vec![Scope::UsersAdmin])
        } else {
            AppError::Forbidden("only admins make tokens for someone else".into())
        });
    }
    // A token made with a token never holds more than the token making it.
    let missing = actor.scopes.missing(scopes);
    if !missing.is_empty() {
        return Err(AppError::InsufficientScope(missing));
    }
    let role = role_of(conn, owner)?.ok_or_else(|| AppError::invalid("user_id", "no such user"))?;
    let beyond: Vec<&str> = scopes
        .iter()
        .filter(|s| !role.includes(s.least_role()))
        .map(Scope::as_str)
        .collect();
    if !beyond.is_empty() {
        return Err(AppError::Forbidden(format!(
            "a token never exceeds its owner's role: the {} role cannot hold {}",
            role.as_str(),
            beyond.join(", ")
        )));
    }
    let name = name.unwrap_or_default();
    let token = random_token(PREFIX);
    let id: i32 = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(owner),
            api_tokens::name.eq(&name),
            api_tokens::scopes.eq(scopes.to_words()),
            api_tokens::token_hash.eq(sha256_hex(&token)),
            api_tokens::created_at.eq(now),
            api_tokens::expires_at.eq(expires_at.map(|t| t.0)),
            api_tokens::created_by.eq(Some(actor.id)),
        ))
        .returning(api_tokens::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Create,
        "api_token",
        Some(id),
        &format!(
            "made API token \"{name}\" for user {owner} with {}",
            scopes.to_words()
        ),
    )?;
    let details = ApiToken {
        id,
        user_id: owner,
        name,
        scopes: scopes.iter().collect(),
        created_at: now.into(),
        expires_at,
        last_used_at: None,
    };
    Ok(Written::unseen(CreatedToken { token, details }))
}

/// The tokens of `user` (the caller's own, or anyone's for admins), newest first.
pub fn list(conn: &mut DbConn, actor: Actor, user: Option<i32>) -> AppResult<Vec<ApiToken>> {
    let user = user.unwrap_or(actor.id);
    if user != actor.id && !actor.may(Scope::UsersAdmin) {
        return Err(AppError::Forbidden(
            "only admins list someone else's tokens".into(),
        ));
    }
    let rows: Vec<Row> = crate::on_backend!(conn, |c| api_tokens::table
        .filter(api_tokens::user_id.eq(user))
        .order(api_tokens::id.desc())
        .select(COLUMNS)
        .load(c)?);
    Ok(rows.into_iter().map(from_row).collect())
}

/// Revokes a token: the caller's own, or anyone's for admins. Someone else's token is a
/// 404 to everyone else.
pub fn revoke(conn: &mut DbConn, actor: Actor, id: i32) -> AppResult<Written<()>> {
    let row: Option<(i32, String)> = crate::on_backend!(conn, |c| api_tokens::table
        .find(id)
        .select((api_tokens::user_id, api_tokens::name))
        .get_result(c)
        .optional()?);
    let Some((owner, name)) = row.filter(|(o, _)| *o == actor.id || actor.may(Scope::UsersAdmin))
    else {
        return Err(AppError::not_found("token"));
    };
    diesel::delete(api_tokens::table.find(id)).execute(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Delete,
        "api_token",
        Some(id),
        &format!("revoked API token \"{name}\" of user {owner}"),
    )?;
    Ok(Written::unseen(()))
}

/// What authenticating a token reads: the token's id, owner, scopes, expiry and last
/// use, and the owner's role and state.
type AuthRow = (
    i32,
    i32,
    String,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    String,
    bool,
);

/// The actor behind an API token, and whether its `last_used_at` is due for a write:
/// the token exists, has not expired, and its owner is not disabled. Scopes are cut
/// to what the owner's current role allows.
pub fn authenticate(conn: &mut DbConn, token: &str) -> AppResult<(Actor, bool)> {
    let now = Timestamp::now().0;
    let row: Option<AuthRow> = crate::on_backend!(conn, |c| api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(sha256_hex(token)))
        .select((
            api_tokens::id,
            api_tokens::user_id,
            api_tokens::scopes,
            api_tokens::expires_at,
            api_tokens::last_used_at,
            users::role,
            users::disabled,
        ))
        .get_result(c)
        .optional()?);
    let Some((id, user, scopes, expires_at, last_used, role, disabled)) = row else {
        return Err(AppError::Unauthorized("the token is not valid".into()));
    };
    if disabled {
        return Err(AppError::Unauthorized(
            "the token's account is disabled".into(),
        ));
    }
    if expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::Unauthorized("the token has expired".into()));
    }
    let role = Role::parse(&role).unwrap_or(Role::Writer);
    let scopes = Scopes::parse_words(&scopes)
        .unwrap_or_default()
        .and(Scopes::of_role(role));
    let due = last_used.is_none_or(|t| now - t >= LAST_USED_EVERY);
    Ok((
        Actor {
            id: user,
            role,
            scopes,
            api_token: Some(id),
        },
        due,
    ))
}

/// Writes `last_used_at` for tokens used since the last write (a batch, off the
/// request path).
pub fn touch(conn: &mut DbConn, used: &[(i32, chrono::NaiveDateTime)]) -> AppResult<()> {
    for (id, at) in used {
        kept::update(
            api_tokens::table,
            api_tokens::last_used_at.eq(*at),
            api_tokens::id.eq(*id),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Uses of API tokens not yet written to `last_used_at`; flushed with the view counts.
#[derive(Debug, Default)]
pub struct TokenUses(std::sync::Mutex<std::collections::HashMap<i32, chrono::NaiveDateTime>>);

impl TokenUses {
    /// A token was used now.
    pub fn record(&self, id: i32) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(id, Timestamp::now().0);
    }

    /// Takes the uses recorded so far.
    pub fn take(&self) -> Vec<(i32, chrono::NaiveDateTime)> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.drain().collect()
    }
}
