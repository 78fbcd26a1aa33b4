//! Reading request bodies strictly, reporting every bad field at once.
//!
//! Request structs declare each field as an [`Input<T>`], which never fails to
//! deserialize: a value of the wrong JSON type is kept as [`Input::Invalid`] with its
//! reason, and fields the struct does not know are collected in a flattened map. A
//! [`Checker`] then walks the fields, applies the resource's rules and gathers every
//! problem into one 422, so a typo never silently drops data and a client sees all of
//! its mistakes in one round trip.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::{AppError, AppResult, FieldError};

pub use super::text::{
    MAX_URL_CHARS, TextRule, is_noncharacter, is_refused_char, normalise_url, xml_safe,
};

/// Fields a request body carried that its type does not know.
pub type UnknownFields = BTreeMap<String, serde_json::Value>;

/// One field of a request body as the client sent it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Input<T> {
    /// The field was not in the body.
    #[default]
    Absent,
    /// The field was `null` (clears an optional field in a PATCH).
    Null,
    /// The field had a value of the right type.
    Value(T),
    /// The field had a value of the wrong type; the reason says what was expected.
    Invalid(String),
}

impl<T> Input<T> {
    /// The value, when the field had one of the right type.
    pub fn value(&self) -> Option<&T> {
        match self {
            Input::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Input<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.is_null() {
            return Ok(Input::Null);
        }
        Ok(match serde_json::from_value::<T>(value) {
            Ok(v) => Input::Value(v),
            Err(e) => Input::Invalid(clean_serde_message(&e.to_string())),
        })
    }
}

impl<T> Input<T> {
    /// True when the field was sent at all (a value, `null` or something invalid).
    pub fn is_present(&self) -> bool {
        !matches!(self, Input::Absent)
    }
}

/// Serde's messages end with " at line 1 column 9" for some errors; the field name is
/// reported separately, so that position is noise.
fn clean_serde_message(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// What a PATCH asks of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    /// Leave it as it is.
    Keep,
    /// Set it to this value (`None` clears an optional field).
    Set(T),
}

impl<T> Change<T> {
    /// The new value, if the field changes.
    pub fn into_option(self) -> Option<T> {
        match self {
            Change::Keep => None,
            Change::Set(v) => Some(v),
        }
    }

    /// The change with its new value borrowed.
    pub fn as_ref(&self) -> Change<&T> {
        match self {
            Change::Keep => Change::Keep,
            Change::Set(v) => Change::Set(v),
        }
    }

    /// The change with `f` applied to its new value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Change<U> {
        match self {
            Change::Keep => Change::Keep,
            Change::Set(v) => Change::Set(f(v)),
        }
    }
}

/// Collects every problem of one request body.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

/// A place in a [`Checker`]'s list, kept for a field whose check needs the database:
/// its problem is recorded later with [`Checker::fail_at`] yet listed where the field
/// is read, so the order a client sees does not depend on when a rule can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark(usize);

impl Checker {
    /// A checker with no problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with a field.
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// The place the next problem would take.
    pub fn mark(&self) -> Mark {
        Mark(self.errors.len())
    }

    /// Records a problem at `at`, ahead of those recorded after the mark was taken (one
    /// problem per mark, and marks used latest first).
    pub fn fail_at(&mut self, at: Mark, field: impl Into<String>, message: impl Into<String>) {
        let at = at.0.min(self.errors.len());
        self.errors.insert(at, FieldError::new(field, message));
    }

    /// True when nothing has failed so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// True when a problem was already recorded for `field`.
    pub fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// Reports every field the request type does not know; fields the resource shows
    /// but clients cannot write (`id`, `created_at`, ...) are called read-only.
    pub fn extra_fields(&mut self, unknown: &UnknownFields, read_only: &[&str]) {
        for name in unknown.keys() {
            if read_only.contains(&name.as_str()) {
                self.fail(name.clone(), "is read-only");
            } else {
                self.fail(name.clone(), "is not a known field");
            }
        }
    }

    /// A field that must be sent, with a non-null value of the right type.
    pub fn required<T>(&mut self, field: &str, input: Input<T>) -> Option<T> {
        match input {
            Input::Value(v) => Some(v),
            Input::Absent => {
                self.fail(field, "is required");
                None
            }
            Input::Null => {
                self.fail(field, "must not be null");
                None
            }
            Input::Invalid(reason) => {
                self.fail(field, reason);
                None
            }
        }
    }

    /// A field that may be left out or `null` on create.
    pub fn optional<T>(&mut self, field: &str, input: Input<T>) -> Option<T> {
        match input {
            Input::Value(v) => Some(v),
            Input::Absent | Input::Null => None,
            Input::Invalid(reason) => {
                self.fail(field, reason);
                None
            }
        }
    }

    /// A PATCH of a field that cannot be cleared: `null` is refused.
    pub fn patch<T>(&mut self, field: &str, input: Input<T>) -> Change<T> {
        match input {
            Input::Absent => Change::Keep,
            Input::Value(v) => Change::Set(v),
            Input::Null => {
                self.fail(field, "must not be null");
                Change::Keep
            }
            Input::Invalid(reason) => {
                self.fail(field, reason);
                Change::Keep
            }
        }
    }

    /// A PATCH of an optional field: `null` clears it.
    pub fn patch_nullable<T>(&mut self, field: &str, input: Input<T>) -> Change<Option<T>> {
        match input {
            Input::Absent => Change::Keep,
            Input::Null => Change::Set(None),
            Input::Value(v) => Change::Set(Some(v)),
            Input::Invalid(reason) => {
                self.fail(field, reason);
                Change::Keep
            }
        }
    }

    /// Checks a text value against its rule, recording the problem.
    pub fn text(&mut self, field: &str, value: &str, rule: TextRule) -> bool {
        match rule.check(value) {
            Ok(()) => true,
            Err(message) => {
                self.fail(field, message);
                false
            }
        }
    }

    /// Checks an optional text value.
    pub fn text_opt(&mut self, field: &str, value: Option<&str>, rule: TextRule) {
        if let Some(v) = value {
            self.text(field, v, rule);
        }
    }

    /// Checks a language code against the configured set.
    pub fn language(&mut self, field: &str, value: &str, languages: &[String]) -> bool {
        if languages.iter().any(|l| l == value) {
            true
        } else {
            self.fail(field, format!("must be one of: {}", languages.join(", ")));
            false
        }
    }

    /// Checks a client-supplied slug's shape.
    pub fn slug(&mut self, field: &str, value: &str) -> bool {
        match super::slug::problem(value) {
            None => true,
            Some(message) => {
                self.fail(field, message);
                false
            }
        }
    }

    /// Checks a link: an absolute http or https URL with a host and no user name or
    /// password, at most [`MAX_URL_CHARS`] characters before and after normalisation.
    /// Returns the normalised form to store (scheme and host in lowercase, spaces and
    /// other unsafe characters percent-encoded, an empty path as `/`), so a frontend
    /// can put it in an `href` as it is.
    pub fn url(&mut self, field: &str, value: &str) -> Option<String> {
        match normalise_url(value) {
            Ok(url) => Some(url),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    /// Ends the checks: `Ok` when nothing failed, otherwise one 422 listing everything.
    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(default)]
    struct Body {
        title: Input<String>,
        count: Input<i32>,
        #[serde(flatten)]
        unknown: UnknownFields,
    }

    impl Default for Body {
        fn default() -> Self {
            Self {
                title: Input::Absent,
                count: Input::Absent,
                unknown: UnknownFields::new(),
            }
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let body: Body =
            serde_json::from_str(r#"{"title": 5, "count": "x", "titel": "typo"}"#).unwrap();
        let mut c = Checker::new();
        c.extra_fields(&body.unknown, &[]);
        c.required("title", body.title);
        c.required("count", body.count);
        let Err(AppError::Validation(errors)) = c.finish() else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["titel", "title", "count"]);
    }

    #[test]
    fn absent_null_and_value_are_told_apart() {
        let body: Body = serde_json::from_str(r#"{"title": null}"#).unwrap();
        assert_eq!(body.title, Input::Null);
        assert_eq!(body.count, Input::Absent);
        let mut c = Checker::new();
        assert_eq!(c.patch_nullable("title", body.title), Change::Set(None));
        assert_eq!(c.patch("count", body.count), Change::Keep);
        assert!(c.finish().is_ok());
    }
}
