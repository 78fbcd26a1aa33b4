//! What an API token may do: its scopes, and the scopes each role may hold.
//!
//! A session (a password sign-in) holds every scope its role allows; an API token holds
//! the scopes it was made with. Role and scopes are both checked on every request: a
//! route's role is in its handler's signature, its scopes in its OpenAPI operation
//! (see [`crate::openapi::scopes`]), and the request needs both.

use super::Role;

crate::closed_set! {
    /// One thing an API token may be allowed to do.
    pub enum Scope {
        /// Staff reads: drafts, scheduled articles, the trash, revisions, the audit log.
        ContentRead = "content:read",
        /// Writes of articles, tags, sections, regions, authors, collections,
        /// corrections, preview links and restores.
        ContentWrite = "content:write",
        /// Media: uploads, captions, deletions.
        MediaWrite = "media:write",
        /// Breaking items.
        BreakingWrite = "breaking:write",
        /// Staff accounts, and other people's API tokens.
        UsersAdmin = "users:admin",
        /// Webhooks and their deliveries.
        WebhooksAdmin = "webhooks:admin",
    }
}

impl Scope {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The least role that may hold this scope.
    pub fn least_role(self) -> Role {
        match self {
            Scope::ContentRead | Scope::ContentWrite | Scope::MediaWrite => Role::Writer,
            Scope::BreakingWrite => Role::Editor,
            Scope::UsersAdmin | Scope::WebhooksAdmin => Role::Admin,
        }
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// No scope at all.
    pub const NONE: Scopes = Scopes(0);

    /// Every scope there is (what a session holds, bounded by its role).
    pub const ALL: Scopes = Scopes((1 << Scope::ALL.len()) - 1);

    /// [`Scopes::ALL`], for call sites that read better with a function.
    pub fn all() -> Scopes {
        Self::ALL
    }

    /// Every scope `role` may hold.
    pub fn of_role(role: Role) -> Scopes {
        Self::from_iter(
            Scope::ALL
                .iter()
                .copied()
                .filter(|s| role.includes(s.least_role())),
        )
    }

    /// True when `scope` is in the set.
    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// True when every scope of `other` is in this set.
    pub fn covers(self, other: Scopes) -> bool {
        self.0 & other.0 == other.0
    }

    /// The scopes in both sets.
    pub fn and(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    /// The scopes of `other` that this set lacks.
    pub fn missing(self, other: Scopes) -> Vec<Scope> {
        other.iter().filter(|s| !self.has(*s)).collect()
    }

    /// The scopes, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.iter().copied().filter(move |s| self.has(*s))
    }

    /// The words, space-separated (as stored, and as OAuth writes scopes).
    pub fn to_words(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }

    /// Parses space-separated words; `None` when one is unknown.
    pub fn parse_words(words: &str) -> Option<Scopes> {
        words
            .split_whitespace()
            .map(Scope::parse)
            .collect::<Option<Vec<_>>>()
            .map(Scopes::from_iter)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_bound_scopes() {
        let writer = Scopes::of_role(Role::Writer);
        assert!(writer.has(Scope::ContentWrite));
        assert!(!writer.has(Scope::BreakingWrite));
        assert!(!writer.has(Scope::UsersAdmin));
        let editor = Scopes::of_role(Role::Editor);
        assert!(editor.has(Scope::BreakingWrite));
        assert!(!editor.has(Scope::WebhooksAdmin));
        assert_eq!(Scopes::of_role(Role::Admin), Scopes::all());
        assert_eq!(Scopes::ALL, Scopes::from_iter(Scope::ALL.iter().copied()));
    }

    #[test]
    fn words_round_trip() {
        let s = Scopes::parse_words("media:write content:read").unwrap();
        assert_eq!(s.to_words(), "content:read media:write");
        assert!(Scopes::parse_words("content:read everything").is_none());
        assert_eq!(Scope::WORDS.len(), 6);
        assert_eq!(
            Scopes::parse_words("content:read").unwrap().missing(s),
            vec![Scope::MediaWrite]
        );
    }
}
