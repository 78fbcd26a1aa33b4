//! The newsroom's resources and their rules, one module per resource: rows as stored,
//! write forms, API views, validation and queries. Nothing here knows about HTTP.

pub mod authors;
pub mod input;
pub mod media;
pub mod paging;
pub mod params;
pub mod settings;
pub mod slug;
pub mod time;
pub mod users;

use serde::Serialize;

/// How a path addresses a resource: `/authors/42` or `/authors/jane-doe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A path segment of digits.
    Id(i32),
    /// Anything else; it matches only if it is some resource's slug.
    Slug(String),
}

impl Key {
    /// Reads a path segment. Digits too large for an id address nothing (id 0).
    pub fn parse(segment: &str) -> Self {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            Key::Id(segment.parse().unwrap_or(0))
        } else {
            Key::Slug(segment.to_owned())
        }
    }
}

/// The serialized form of a view, as sent to clients; ETags are computed from it.
pub fn to_json<T: Serialize>(view: &T) -> crate::error::AppResult<Vec<u8>> {
    serde_json::to_vec(view).map_err(crate::error::AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::Key;

    #[test]
    fn digits_are_ids_and_the_rest_slugs() {
        assert_eq!(Key::parse("42"), Key::Id(42));
        assert_eq!(Key::parse("jane-doe"), Key::Slug("jane-doe".into()));
        assert_eq!(Key::parse("99999999999999999999"), Key::Id(0));
        assert_eq!(Key::parse("4a"), Key::Slug("4a".into()));
    }
}
