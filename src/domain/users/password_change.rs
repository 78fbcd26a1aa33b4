//! New passwords, hashed before the write (Argon2 is slow) and applied only if still current.

use super::{UserChange, UserRow};
use crate::auth::{Actor, password};
use crate::error::{AppError, AppResult};

/// A new password that passed the rules, hashed: for one's own account the current
/// password was checked against the hash of the account as read at `read_version`.
/// Argon2 takes a tenth of a second, so this is made on a blocking thread before the
/// write; the write then applies it only if the account is still as it was read.
#[derive(Debug, Clone)]
pub struct NewPassword {
    pub(super) hash: String,
    pub(super) read_version: i32,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

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
        Actor::session(id, role)
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
