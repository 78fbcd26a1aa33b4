//! Staff accounts: who may sign in, with which role. Passwords are stored only as
//! Argon2id hashes and never leave this module in any view.

mod form;
mod list;
mod password_change;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::time::Timestamp;
use crate::auth::{Actor, Role, password};
use crate::error::{AppError, AppResult};
use crate::schema::users;
use crate::{config::AdminSeed, db::DbConn};

pub use form::{NewUser, UserChange, UserCreate, UserPatch, validate_create, validate_patch};
pub use list::{UserParams, UserQuery, list};
pub use password_change::{NewPassword, prepare_operator_password, prepare_password};

/// Email of the admin created when no `ADMIN_EMAIL` is configured.
pub const GENERATED_ADMIN_EMAIL: &str = "admin@localhost";

/// A user row as stored, password hash included: never serialize it.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub token_version: i32,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub last_login_at: Option<chrono::NaiveDateTime>,
}

impl UserRow {
    /// The role, read defensively (the column is constrained to the three names).
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Writer)
    }

    /// The actor this user is when signed in.
    pub fn actor(&self) -> Actor {
        Actor::session(self.id, self.role())
    }
}

/// A staff account as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    #[schema(example = 2)]
    pub id: i32,
    #[schema(example = "desk@example.com")]
    pub email: String,
    #[schema(example = "Omar Said")]
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            role: r.role(),
            email: r.email,
            name: r.name,
            disabled: r.disabled,
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
            last_login_at: r.last_login_at.map(Into::into),
        }
    }
}

/// Reads a user by id.
pub fn find(conn: &mut DbConn, id: i32) -> AppResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("user"))
}

/// Reads a user by email (emails are stored in lowercase).
pub fn find_by_email(conn: &mut DbConn, email: &str) -> AppResult<Option<UserRow>> {
    Ok(crate::on_backend!(conn, |c| users::table
        .filter(users::email.eq(email.to_lowercase()))
        .select(UserRow::as_select())
        .get_result(c)
        .optional()?))
}

/// The account behind a verified token, if it still may act: it exists, is not
/// disabled, and the token was issued at its current token version.
pub fn actor_for_token(conn: &mut DbConn, user_id: i32, version: i32) -> AppResult<Actor> {
    // On every signed-in request: on the backend's own connection (`on_backend!`).
    let row = crate::on_backend!(conn, |c| users::table
        .find(user_id)
        .select(UserRow::as_select())
        .get_result(c)
        .optional()?);
    match row {
        Some(u) if !u.disabled && u.token_version == version => Ok(u.actor()),
        _ => Err(AppError::Unauthorized(
            "the token is no longer valid; sign in again".into(),
        )),
    }
}

/// Records a successful sign-in.
pub fn touch_login(conn: &mut DbConn, id: i32) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(Timestamp::now().0))
        .execute(conn)?;
    Ok(())
}

fn email_in_use(conn: &mut DbConn, email: &str, except: Option<i32>) -> AppResult<bool> {
    let mut q = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(users::id.ne(id));
    }
    Ok(q.get_result::<i32>(conn).optional()?.is_some())
}

fn active_admins_other_than(conn: &mut DbConn, id: i32) -> AppResult<i64> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .filter(users::id.ne(id))
        .count()
        .get_result(conn)?)
}

/// Inserts a validated account with its password hash.
pub fn insert(conn: &mut DbConn, user: &NewUser, password_hash: &str) -> AppResult<User> {
    if email_in_use(conn, &user.email, None)? {
        return Err(AppError::Conflict {
            code: "email_taken",
            detail: format!("a user with email {} already exists", user.email),
        });
    }
    let now = Timestamp::now().0;
    let row: UserRow = crate::on_backend!(conn, |c| diesel::insert_into(users::table)
        .values((
            users::email.eq(&user.email),
            users::name.eq(&user.name),
            users::role.eq(user.role.as_str()),
            users::password_hash.eq(password_hash),
            users::disabled.eq(user.disabled),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(UserRow::as_returning())
        .get_result(c)?);
    Ok(row.into())
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
struct UserColumns {
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
    disabled: Option<bool>,
    password_hash: Option<String>,
    token_version: Option<i32>,
    updated_at: Option<chrono::NaiveDateTime>,
}

/// Applies a checked change in one write. A `new_password` prepared against an account
/// that has changed since (another password change, a disable) is refused with 409:
/// its `current_password` check no longer stands.
pub fn apply_change(
    conn: &mut DbConn,
    target_id: i32,
    change: &UserChange,
    new_password: Option<NewPassword>,
) -> AppResult<User> {
    let current = find(conn, target_id)?;
    if new_password
        .as_ref()
        .is_some_and(|p| p.read_version != current.token_version)
    {
        return Err(AppError::Conflict {
            code: "account_changed",
            detail: "the account changed while the password was being checked; retry".into(),
        });
    }
    let new_hash = new_password.map(|p| p.hash);
    let stays_active_admin = change.role.unwrap_or(current.role()) == Role::Admin
        && !change.disabled.unwrap_or(current.disabled);
    if current.role() == Role::Admin
        && !current.disabled
        && !stays_active_admin
        && active_admins_other_than(conn, current.id)? == 0
    {
        return Err(last_admin());
    }
    if let Some(email) = &change.email
        && email_in_use(conn, email, Some(current.id))?
    {
        return Err(AppError::Conflict {
            code: "email_taken",
            detail: format!("a user with email {email} already exists"),
        });
    }
    let ends_tokens = new_hash.is_some() || change.disabled == Some(true) && !current.disabled;
    let columns = UserColumns {
        email: change.email.clone(),
        name: change.name.clone(),
        role: change.role.map(|r| r.as_str().to_owned()),
        disabled: change.disabled,
        password_hash: new_hash,
        token_version: ends_tokens.then_some(current.token_version + 1),
        updated_at: Some(Timestamp::now().0),
    };
    diesel::update(users::table.find(current.id))
        .set(&columns)
        .execute(conn)?;
    Ok(find(conn, current.id)?.into())
}

fn last_admin() -> AppError {
    AppError::Conflict {
        code: "last_admin",
        detail: "this is the last active admin; make another admin first".into(),
    }
}

/// Deletes an account; the last active admin cannot be deleted.
pub fn delete(conn: &mut DbConn, id: i32) -> AppResult<()> {
    let current = find(conn, id)?;
    if current.role() == Role::Admin
        && !current.disabled
        && active_admins_other_than(conn, current.id)? == 0
    {
        return Err(last_admin());
    }
    diesel::delete(users::table.find(current.id)).execute(conn)?;
    Ok(())
}

/// The oldest active admin, if any.
pub fn first_active_admin(conn: &mut DbConn) -> AppResult<Option<Actor>> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(|u| u.actor()))
}

/// True when no account exists yet.
pub fn none_exist(conn: &mut DbConn) -> AppResult<bool> {
    let n: i64 = users::table.count().get_result(conn)?;
    Ok(n == 0)
}

/// The first admin's credentials when [`ensure_first_admin`] generated them.
#[derive(Clone)]
pub struct GeneratedAdmin {
    pub email: String,
    pub password: String,
}

/// The first admin to create on an empty database: from the configuration, or
/// `admin@localhost` with a random password (printed once by the caller).
pub fn first_admin(seed: Option<&AdminSeed>) -> (NewUser, Option<GeneratedAdmin>) {
    match seed {
        Some(seed) => (
            NewUser {
                email: seed.email.clone(),
                name: "Administrator".into(),
                role: Role::Admin,
                password: seed.password.expose().to_owned(),
                disabled: false,
            },
            None,
        ),
        None => {
            let pw = password::generate();
            (
                NewUser {
                    email: GENERATED_ADMIN_EMAIL.into(),
                    name: "Administrator".into(),
                    role: Role::Admin,
                    password: pw.clone(),
                    disabled: false,
                },
                Some(GeneratedAdmin {
                    email: GENERATED_ADMIN_EMAIL.into(),
                    password: pw,
                }),
            )
        }
    }
}
