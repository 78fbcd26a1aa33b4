//! Staff accounts: who may sign in, with which role. Passwords are stored only as
//! Argon2id hashes and never leave this module in any view.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::input::{Checker, Input, TextRule, UnknownFields};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::Params;
use super::time::Timestamp;
use crate::auth::{self, Actor, Role, password};
use crate::error::{AppError, AppResult};
use crate::schema::users;
use crate::{config::AdminSeed, db::DbConn};

const NAME: TextRule = TextRule::line(1, 200);
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "last_login_at"];
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
        Actor {
            id: self.id,
            role: self.role(),
        }
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

/// Body of `POST /users`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UserCreate {
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "desk@example.com")]
    pub email: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "Omar Said")]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Role, required = true)]
    pub role: Input<Role>,
    #[serde(default)]
    /// At least 10 characters; write-only.
    #[schema(value_type = String, required = true, format = Password, example = "a long passphrase")]
    pub password: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub disabled: Input<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /users/{id}`. Anyone may change their own `name` and `password`
/// (with `current_password`); only an admin changes `email`, `role` or `disabled`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub email: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Role)]
    pub role: Input<Role>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub disabled: Input<bool>,
    #[serde(default)]
    /// The new password; ends every token of the account.
    #[schema(value_type = String, format = Password)]
    pub password: Input<String>,
    #[serde(default)]
    /// Required when changing one's own password.
    #[schema(value_type = String, format = Password)]
    pub current_password: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
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
    Ok(users::table
        .filter(users::email.eq(email.to_lowercase()))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The account behind a verified token, if it still may act: it exists, is not
/// disabled, and the token was issued at its current token version.
pub fn actor_for_token(conn: &mut DbConn, user_id: i32, version: i32) -> AppResult<Actor> {
    let row = users::table
        .find(user_id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?;
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

fn check_email_field(c: &mut Checker, email: &str) {
    // The address's own shape first; then the characters every text field refuses.
    const EMAIL: TextRule = TextRule::line(1, auth::MAX_EMAIL_LEN);
    if let Err(message) = auth::check_email(email).and_then(|()| EMAIL.check(email)) {
        c.fail("email", message);
    }
}

fn check_password_field(c: &mut Checker, field: &str, pw: &str) {
    if let Err(message) = password::check_strength(pw) {
        c.fail(field, message);
    }
}

/// Checks a create body. Hashing is slow, so it happens outside the transaction:
/// this returns the validated parts and the caller hashes, then calls [`insert`].
pub fn validate_create(body: UserCreate) -> AppResult<NewUser> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let email = c.required("email", body.email);
    let name = c.required("name", body.name);
    let role = c.required("role", body.role);
    let pw = c.required("password", body.password);
    let disabled = c.optional("disabled", body.disabled).unwrap_or(false);
    if let Some(e) = &email {
        check_email_field(&mut c, e);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    if let Some(p) = &pw {
        check_password_field(&mut c, "password", p);
    }
    c.finish()?;
    Ok(NewUser {
        email: email.unwrap_or_default().to_lowercase(),
        name: name.unwrap_or_default(),
        role: role.unwrap_or(Role::Writer),
        password: pw.unwrap_or_default(),
        disabled,
    })
}

/// A validated new account, password still in clear until hashed.
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub disabled: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
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
    let row: UserRow = diesel::insert_into(users::table)
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
        .get_result(conn)?;
    Ok(row.into())
}

/// A checked PATCH, password (if any) still in clear until hashed.
#[derive(Clone, Default)]
pub struct UserChange {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
    pub current_password: Option<String>,
}

/// Checks a PATCH body's shape and the caller's right to each field.
pub fn validate_patch(actor: Actor, target_id: i32, body: UserPatch) -> AppResult<UserChange> {
    if !actor.is_admin() && actor.id != target_id {
        return Err(AppError::Forbidden(
            "only an admin can change another user's account".into(),
        ));
    }
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let change = UserChange {
        email: c.patch("email", body.email).into_option(),
        name: c.patch("name", body.name).into_option(),
        role: c.patch("role", body.role).into_option(),
        disabled: c.patch("disabled", body.disabled).into_option(),
        password: c.patch("password", body.password).into_option(),
        current_password: c
            .patch("current_password", body.current_password)
            .into_option(),
    };
    if let Some(e) = &change.email {
        check_email_field(&mut c, e);
    }
    if let Some(n) = &change.name {
        c.text("name", n, NAME);
    }
    if let Some(p) = &change.password {
        check_password_field(&mut c, "password", p);
        if actor.id == target_id && change.current_password.is_none() {
            c.fail(
                "current_password",
                "is required to change your own password",
            );
        }
    }
    c.finish()?;
    if !actor.is_admin() {
        let admin_only: Vec<&str> = [
            ("email", change.email.is_some()),
            ("role", change.role.is_some()),
            ("disabled", change.disabled.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, set)| set.then_some(f))
        .collect();
        if !admin_only.is_empty() {
            return Err(AppError::Forbidden(format!(
                "only an admin can change {}",
                admin_only.join(", ")
            )));
        }
    }
    Ok(UserChange {
        email: change.email.map(|e| e.to_lowercase()),
        ..change
    })
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

/// A new password that passed the rules, hashed: for one's own account the current
/// password was checked against the hash of the account as read at `read_version`.
/// Argon2 takes a tenth of a second, so this is made on a blocking thread before the
/// write; the write then applies it only if the account is still as it was read.
#[derive(Debug, Clone)]
pub struct NewPassword {
    hash: String,
    read_version: i32,
}

/// The password rule of a PATCH: `None` when the change sets no password; otherwise the
/// new hash, after checking `current_password` when callers change their own password
/// (a wrong one is a 422 on `current_password`). Blocking (Argon2): run it off the async
/// workers, never inside a write.
pub fn prepare_password(
    actor: Actor,
    account: &UserRow,
    change: &UserChange,
) -> AppResult<Option<NewPassword>> {
    let Some(new_password) = &change.password else {
        return Ok(None);
    };
    if actor.id == account.id {
        let given = change.current_password.as_deref().unwrap_or("");
        if !password::verify(given, &account.password_hash) {
            return Err(AppError::invalid("current_password", "is not correct"));
        }
    }
    Ok(Some(NewPassword {
        hash: password::hash(new_password)?,
        read_version: account.token_version,
    }))
}

/// A new password set by the operator at the machine (`newsdesk user set-password`),
/// who needs no current password. Blocking (Argon2).
pub fn prepare_operator_password(account: &UserRow, new_password: &str) -> AppResult<NewPassword> {
    Ok(NewPassword {
        hash: password::hash(new_password)?,
        read_version: account.token_version,
    })
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

/// The query parameters of `GET /users` (with [`PageParams`](super::paging::PageParams)).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserParams {
    /// Only accounts with this role
    pub role: Option<Role>,
}

/// A parsed `GET /users` request.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub page: PageRequest,
    pub role: Option<Role>,
}

impl UserQuery {
    /// Reads the query string of `GET /users` (sorted by id).
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let UserParams { role } = params.read()?;
        let page = PageRequest::from_params(&mut params, codec, "id")?;
        params.finish()?;
        Ok(Self { page, role })
    }
}

/// Lists accounts by id.
pub fn list(
    conn: &mut DbConn,
    q: &UserQuery,
    codec: &CursorCodec,
) -> AppResult<ListResponse<User>> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    let mut count = users::table.into_boxed();
    if let Some(role) = q.role {
        query = query.filter(users::role.eq(role));
        count = count.filter(users::role.eq(role));
    }
    if let Some(after) = q.page.after() {
        query = query.filter(users::id.gt(after.last_id()?));
    }
    let rows: Vec<UserRow> = query
        .order(users::id.asc())
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(count.count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    Ok(paging::finish_page(
        rows,
        &q.page,
        "id",
        codec,
        total,
        |r| vec![KeyValue::Int(i64::from(r.id))],
        User::from,
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: i32, password: &str) -> UserRow {
        let now = chrono::Utc::now().naive_utc();
        UserRow {
            id,
            email: "desk@example.com".into(),
            name: "Desk".into(),
            role: Role::Writer.as_str().into(),
            password_hash: password::hash(password).unwrap(),
            disabled: false,
            token_version: 3,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        }
    }

    fn actor(id: i32, role: Role) -> Actor {
        Actor { id, role }
    }

    #[test]
    fn ones_own_password_needs_the_current_one_and_an_admin_does_not() {
        let row = account(7, "the old passphrase");
        let change = |current: Option<&str>| UserChange {
            password: Some("a new passphrase".into()),
            current_password: current.map(str::to_owned),
            ..Default::default()
        };
        let own = actor(7, Role::Writer);
        let wrong = prepare_password(own, &row, &change(Some("a guess"))).unwrap_err();
        assert_eq!(wrong.status(), 422);
        let right = prepare_password(own, &row, &change(Some("the old passphrase")))
            .unwrap()
            .unwrap();
        assert_eq!(right.read_version, 3);
        assert!(password::verify("a new passphrase", &right.hash));
        let admin = actor(1, Role::Admin);
        assert!(
            prepare_password(admin, &row, &change(None))
                .unwrap()
                .is_some()
        );
        let no_password = UserChange::default();
        assert!(prepare_password(own, &row, &no_password).unwrap().is_none());
    }
}
