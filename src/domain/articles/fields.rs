//! `fields=` (sparse fieldsets) and `include=` on article reads, for clients on slow
//! networks and for the article page in one request.

use serde_json::Value;

use crate::error::{AppError, AppResult};

/// Top-level fields of a list item.
pub const LIST_FIELDS: &[&str] = &[
    "id",
    "slug",
    "language",
    "dir",
    "title",
    "summary",
    "url",
    "section",
    "regions",
    "tags",
    "authors",
    "source",
    "hero_media",
    "featured",
    "status",
    "published_at",
    "reading_time_minutes",
    "word_count",
    "created_at",
    "updated_at",
    "search",
];

/// Top-level fields of a single read: a list item's, the body and the editions.
pub const SINGLE_FIELDS: &[&str] = &[
    "id",
    "slug",
    "language",
    "dir",
    "title",
    "summary",
    "body",
    "body_html",
    "url",
    "section",
    "regions",
    "tags",
    "authors",
    "source",
    "hero_media",
    "featured",
    "status",
    "published_at",
    "reading_time_minutes",
    "word_count",
    "created_at",
    "updated_at",
    "translations",
];

/// What `include=` adds to a single read.
pub const INCLUDES: &[&str] = &["related", "next"];

/// How many articles each included list holds.
pub const INCLUDED_ITEMS: i64 = 5;

/// A sparse fieldset: the top-level names to keep (`id` always among them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSet(Vec<String>);

/// Splits a comma-separated list of names, each one of `allowed`; an unknown or
/// repeated name is a 400 naming `param`.
fn names(param: &str, raw: &str, allowed: &[&str]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in raw.split(',').map(str::trim) {
        if name.is_empty() {
            continue;
        }
        if !allowed.contains(&name) {
            return Err(AppError::bad_param(
                param,
                format!(
                    "{param}: unknown name {name:?} (one of: {})",
                    allowed.join(", ")
                ),
            ));
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

impl FieldSet {
    /// Reads `fields=` against the fields a route shows; empty means every field.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> AppResult<Option<Self>> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let mut list = names("fields", raw, allowed)?;
        if list.is_empty() {
            return Ok(None);
        }
        if !list.iter().any(|n| n == "id") {
            list.insert(0, "id".to_owned());
        }
        Ok(Some(Self(list)))
    }

    /// Keeps only the chosen fields of one object, and `keep` (the included arrays).
    pub fn apply(&self, value: &mut Value, keep: &[&str]) {
        if let Value::Object(map) = value {
            map.retain(|k, _| self.0.iter().any(|n| n == k) || keep.contains(&k.as_str()));
        }
    }

    /// Keeps only the chosen fields of each item of a list envelope's `data`.
    pub fn apply_to_list(&self, value: &mut Value) {
        if let Some(Value::Array(items)) = value.get_mut("data") {
            for item in items {
                self.apply(item, &[]);
            }
        }
    }
}

/// What `include=` asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Includes {
    pub related: bool,
    pub next: bool,
}

impl Includes {
    /// Reads `include=related,next`.
    pub fn parse(raw: Option<&str>) -> AppResult<Self> {
        let list = names("include", raw.unwrap_or(""), INCLUDES)?;
        Ok(Self {
            related: list.iter().any(|n| n == "related"),
            next: list.iter().any(|n| n == "next"),
        })
    }

    /// True when nothing is included.
    pub fn is_empty(&self) -> bool {
        !self.related && !self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_always_kept_and_unknown_names_are_refused() {
        let f = FieldSet::parse(Some("title,url"), LIST_FIELDS)
            .unwrap()
            .unwrap();
        let mut v = serde_json::json!({"id": 1, "title": "t", "url": "u", "summary": "s"});
        f.apply(&mut v, &[]);
        assert_eq!(v, serde_json::json!({"id": 1, "title": "t", "url": "u"}));
        assert!(FieldSet::parse(Some("title,body"), LIST_FIELDS).is_err());
        assert!(FieldSet::parse(Some("title,body"), SINGLE_FIELDS).is_ok());
        assert_eq!(FieldSet::parse(Some(""), LIST_FIELDS).unwrap(), None);
    }

    #[test]
    fn includes_name_related_and_next_only() {
        assert_eq!(
            Includes::parse(Some("next")).unwrap(),
            Includes {
                related: false,
                next: true
            }
        );
        assert!(Includes::parse(Some("related,author")).is_err());
        assert!(Includes::parse(None).unwrap().is_empty());
    }
}
