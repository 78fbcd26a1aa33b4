//! Account write bodies and their rules, checked without the database (every problem at once).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{self, Actor, Role, password};
use crate::domain::input::{Checker, Input, TextRule, UnknownFields};
use crate::error::{AppError, AppResult};

const NAME: TextRule = TextRule::line(1, 200);
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "last_login_at"];

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
/// this returns the validated parts and the caller hashes, then calls [`insert`](super::insert).
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused<T>(result: AppResult<T>) -> Vec<String> {
        match result {
            Err(AppError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("not a validation error: {other:?}"),
            Ok(_) => panic!("accepted"),
        }
    }

    fn patch(actor: Actor, target: i32, body: serde_json::Value) -> AppResult<UserChange> {
        validate_patch(actor, target, serde_json::from_value(body).unwrap())
    }

    const WRITER: Actor = Actor::session(7, Role::Writer);
    const ADMIN: Actor = Actor::session(1, Role::Admin);

    #[test]
    fn every_bad_field_of_a_new_account_is_reported_at_once() {
        let body = json!({"email": "nope", "name": " ", "role": "chief", "password": "short",
            "id": 4});
        let fields = refused(validate_create(serde_json::from_value(body).unwrap()));
        assert_eq!(fields, ["id", "role", "email", "name", "password"]);
    }

    #[test]
    fn a_new_accounts_email_is_kept_in_lowercase() {
        let body = json!({"email": "Desk@Example.COM", "name": "Desk", "role": "editor",
            "password": "a long passphrase"});
        let user = validate_create(serde_json::from_value(body).unwrap()).unwrap();
        assert_eq!(
            (user.email.as_str(), user.role, user.disabled),
            ("desk@example.com", Role::Editor, false)
        );
    }

    #[test]
    fn only_an_admin_changes_another_account() {
        let Err(err) = patch(WRITER, 8, json!({"name": "Other"})) else {
            panic!("accepted");
        };
        assert_eq!(err.status(), 403);
        assert!(patch(ADMIN, 8, json!({"name": "Other"})).is_ok());
    }

    #[test]
    fn ones_own_password_change_names_the_current_one() {
        let fields = refused(patch(WRITER, 7, json!({"password": "a new passphrase"})));
        assert_eq!(fields, ["current_password"]);
        // An admin changing someone else's password needs no current one.
        assert!(patch(ADMIN, 8, json!({"password": "a new passphrase"})).is_ok());
    }

    #[test]
    fn shape_problems_come_before_the_admin_only_fields() {
        let fields = refused(patch(WRITER, 7, json!({"role": "admin", "name": null})));
        assert_eq!(fields, ["name"]);
        let Err(AppError::Forbidden(detail)) =
            patch(WRITER, 7, json!({"role": "admin", "disabled": true}))
        else {
            panic!("not refused");
        };
        assert!(detail.contains("role, disabled"), "{detail}");
    }
}
