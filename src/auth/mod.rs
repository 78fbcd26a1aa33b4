//! Staff identity: roles, password hashing and access tokens. No HTTP here; the
//! extractors that put these to work on a request are in `http::extract`.

pub mod password;
pub mod scopes;
pub mod secrets;
pub mod token;

use scopes::{Scope, Scopes};

crate::closed_set! {
    /// A staff account's role. Each role can do everything the roles below it can.
    #[stored_as_text]
    pub enum Role {
        /// Creates drafts, edits only their own drafts; creates media, tags and authors.
        Writer = "writer",
        /// Every content write, including publishing and deleting.
        Editor = "editor",
        /// Everything, and the only role that manages staff accounts.
        Admin = "admin",
    }
}

impl Role {
    /// True when this role includes everything `required` may do.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

/// The staff member making a request, as checked against the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The user id.
    pub id: i32,
    /// The user's current role.
    pub role: Role,
    /// What the credential allows beyond the role: every scope for a session, the
    /// token's own for an API token.
    pub scopes: Scopes,
    /// The API token used, if any (for tokens made by tokens).
    pub api_token: Option<i32>,
}

impl Actor {
    /// A signed-in session of a user with `role`: every scope.
    pub const fn session(id: i32, role: Role) -> Self {
        Self {
            id,
            role,
            scopes: Scopes::ALL,
            api_token: None,
        }
    }

    /// True when the credential holds `scope` and the role allows it.
    pub fn may(self, scope: Scope) -> bool {
        self.scopes.has(scope) && self.role.includes(scope.least_role())
    }

    /// True for editors and admins: every content write.
    pub fn is_editor(self) -> bool {
        self.role.includes(Role::Editor)
    }

    /// True for admins.
    pub fn is_admin(self) -> bool {
        self.role == Role::Admin
    }
}

/// Longest accepted email address (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// A plain syntactic check of an email address: `local@domain.tld`, no spaces.
pub fn check_email(email: &str) -> Result<(), String> {
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!("must be at most {MAX_EMAIL_LEN} characters"));
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("must be an email address such as name@example.com".into());
    };
    let domain_ok = !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && (domain.contains('.') || domain == "localhost")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    let local_ok = !local.is_empty() && !local.chars().any(|c| c.is_whitespace() || c == '@');
    if !domain_ok || !local_ok {
        return Err("must be an email address such as name@example.com".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.includes(Role::Editor));
        assert!(Role::Editor.includes(Role::Writer));
        assert!(!Role::Writer.includes(Role::Editor));
        assert!(!Role::Editor.includes(Role::Admin));
    }

    #[test]
    fn emails_are_checked() {
        assert!(check_email("desk@example.com").is_ok());
        assert!(check_email("admin@localhost").is_ok());
        assert!(check_email("no-at-sign").is_err());
        assert!(check_email("a b@example.com").is_err());
        assert!(check_email("a@.com").is_err());
        assert!(check_email("a@example").is_err());
    }
}
