//! Reading request bodies strictly, reporting every bad field at once.
//!
//! Request structs declare each field as an [`Input<T>`], which never fails to
//! deserialize: a value of the wrong JSON type is kept as [`Input::Invalid`] with its
//! reason, and fields the struct does not know are collected in a flattened map. A
//! [`Checker`] then walks the fields, applies the resource's rules and gathers every
//! problem into one 422, so a typo never silently drops data and a client sees all of
//! its mistakes in one round trip.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::{AppError, AppResult, FieldError};

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
}

/// How free text may look.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// Shortest length in characters (after ignoring surrounding whitespace for "empty").
    pub min: usize,
    /// Longest length in characters.
    pub max: usize,
    /// Whether line breaks and tabs are allowed.
    pub multiline: bool,
}

impl TextRule {
    /// A one-line text of `min..=max` characters.
    pub const fn line(min: usize, max: usize) -> Self {
        Self {
            min,
            max,
            multiline: false,
        }
    }

    /// A multi-line text of at most `max` characters.
    pub const fn block(max: usize) -> Self {
        Self {
            min: 0,
            max,
            multiline: true,
        }
    }

    /// Checks `s`; the message says which rule failed.
    ///
    /// Every rule refuses C0 controls other than tab, newline and carriage return and
    /// Unicode noncharacters ([`is_refused_char`]): one character of them makes an XML
    /// feed unreadable. One-line texts also refuse tab, newline, carriage return, DEL
    /// and C1 controls; multi-line texts refuse DEL and C1. Bidi and joiner marks
    /// (U+061C, U+200C-U+200F, U+2066-U+2069) are text and pass. Nothing is stripped.
    pub fn check(&self, s: &str) -> Result<(), String> {
        let chars = s.chars().count();
        if self.min > 0 && s.trim().is_empty() {
            return Err("must not be empty".into());
        }
        if chars < self.min {
            return Err(format!("must be at least {} characters", self.min));
        }
        if chars > self.max {
            return Err(format!("must be at most {} characters", self.max));
        }
        if let Some(c) = s.chars().find(|&c| is_noncharacter(c)) {
            return Err(format!(
                "must not contain Unicode noncharacters (found U+{:04X})",
                u32::from(c)
            ));
        }
        let bad_control = s
            .chars()
            .find(|&c| c.is_control() && !(self.multiline && matches!(c, '\n' | '\r' | '\t')));
        if let Some(c) = bad_control {
            let code = u32::from(c);
            return Err(if self.multiline {
                format!("must not contain control characters (found U+{code:04X})")
            } else {
                format!("must be a single line without control characters (found U+{code:04X})")
            });
        }
        Ok(())
    }
}

/// True for a Unicode noncharacter: U+FDD0-U+FDEF and the last two code points of
/// every plane (U+FFFE, U+FFFF, U+1FFFE, U+1FFFF ... U+10FFFF).
pub fn is_noncharacter(c: char) -> bool {
    let n = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE
}

/// True for a character no text field accepts, whatever its rule: a C0 control other
/// than tab, newline and carriage return (XML 1.0 forbids them), or a noncharacter
/// (XML forbids U+FFFE and U+FFFF and discourages the rest).
pub fn is_refused_char(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0B' | '\x0C' | '\x0E'..='\x1F') || is_noncharacter(c)
}

/// `s` ready for an XML document: each [`is_refused_char`] character (stored before
/// the rule existed, or written to the database directly) becomes U+FFFD, so a
/// document is well-formed whatever is stored. Borrows when nothing changes.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_refused_char) {
        Cow::Owned(
            s.chars()
                .map(|c| if is_refused_char(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// Longest URL a link field holds.
pub const MAX_URL_CHARS: usize = 2_000;
const URL_MESSAGE: &str = "must be an absolute http or https URL";

/// The rule of [`Checker::url`]: the normalised URL, or why it is refused.
pub fn normalise_url(value: &str) -> Result<String, String> {
    if value.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "{URL_MESSAGE} of at most {MAX_URL_CHARS} characters"
        ));
    }
    // The parser would silently drop tabs and newlines: refuse them, as every other
    // control character and noncharacter, instead.
    if TextRule::line(1, MAX_URL_CHARS).check(value).is_err() {
        return Err(URL_MESSAGE.into());
    }
    let url = url::Url::parse(value).map_err(|_| URL_MESSAGE.to_owned())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(URL_MESSAGE.into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{URL_MESSAGE} without a user name or password"));
    }
    let normalised = String::from(url);
    if normalised.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "{URL_MESSAGE} of at most {MAX_URL_CHARS} characters"
        ));
    }
    Ok(normalised)
}

/// Collects every problem of one request body.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    /// A checker with no problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with a field.
    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
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

    #[test]
    fn text_rules() {
        let title = TextRule::line(1, 5);
        assert!(title.check("hello").is_ok());
        assert!(title.check("   ").is_err());
        assert!(title.check("toolong").is_err());
        assert!(title.check("a\nb").is_err());
        assert!(TextRule::block(10).check("a\nb").is_ok());
        assert!(TextRule::line(1, 10).check("مرحبا").is_ok());
    }

    /// Characters every rule refuses, one-line or multi-line.
    const REFUSED: &[char] = &[
        '\0',
        '\u{1}',
        '\u{8}',
        '\u{B}',
        '\u{C}',
        '\u{E}',
        '\u{1F}',
        '\u{FFFE}',
        '\u{FFFF}',
        '\u{FDD0}',
        '\u{FDEF}',
        '\u{1FFFE}',
        '\u{1FFFF}',
        '\u{10FFFE}',
        '\u{10FFFF}',
    ];
    /// Bidi and joiner marks: text, accepted everywhere.
    const MARKS: &[char] = &[
        '\u{61C}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}',
    ];

    #[test]
    fn controls_and_noncharacters_are_refused_by_every_rule() {
        for rule in [TextRule::line(1, 50), TextRule::block(50)] {
            for &c in REFUSED {
                let text = format!("a{c}b");
                assert!(
                    rule.check(&text).is_err(),
                    "{rule:?} accepted U+{:04X}",
                    c as u32
                );
                assert!(is_refused_char(c), "U+{:04X}", c as u32);
            }
        }
        let message = TextRule::block(50).check("a\u{FFFF}").unwrap_err();
        assert!(message.contains("U+FFFF"), "{message}");
        let message = TextRule::line(1, 50).check("a\u{1}").unwrap_err();
        assert!(message.contains("U+0001"), "{message}");
    }

    #[test]
    fn bidi_and_joiner_marks_are_text() {
        for rule in [TextRule::line(1, 50), TextRule::block(50)] {
            for &c in MARKS {
                assert!(rule.check(&format!("a{c}b")).is_ok(), "U+{:04X}", c as u32);
                assert!(!is_refused_char(c));
            }
        }
        // Neighbours of the noncharacter ranges are ordinary characters.
        for c in ['\u{FDCF}', '\u{FDF0}', '\u{FFFD}', '\u{1FFFD}', '\u{10000}'] {
            assert!(
                TextRule::line(1, 5).check(&format!("a{c}")).is_ok(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn line_breaks_only_in_multi_line_text_and_del_c1_in_neither() {
        for c in ['\t', '\n', '\r'] {
            assert!(TextRule::block(5).check(&format!("a{c}b")).is_ok());
            assert!(TextRule::line(1, 5).check(&format!("a{c}b")).is_err());
            assert!(!is_refused_char(c));
        }
        for c in ['\u{7F}', '\u{80}', '\u{85}', '\u{9F}'] {
            assert!(TextRule::block(5).check(&format!("a{c}b")).is_err());
            assert!(TextRule::line(1, 5).check(&format!("a{c}b")).is_err());
        }
    }

    #[test]
    fn the_xml_form_replaces_exactly_the_refused_characters() {
        assert!(matches!(xml_safe("plain \u{200F}text\n"), Cow::Borrowed(_)));
        assert_eq!(
            xml_safe("a\u{FFFF}b\u{1}c\u{10FFFE}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        for c in '\0'..=char::MAX {
            let out = xml_safe(c.encode_utf8(&mut [0; 4])).chars().next();
            let out = out.unwrap_or_default();
            let xml_char = matches!(out, '\t' | '\n' | '\r' | ' '..='\u{D7FF}'
                | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
            assert!(xml_char && !is_noncharacter(out), "U+{:04X}", c as u32);
            assert_eq!(out != c, is_refused_char(c), "U+{:04X}", c as u32);
            // What XML output would replace, no text rule lets in.
            if is_refused_char(c) {
                let one = c.encode_utf8(&mut [0; 4]).to_owned();
                assert!(TextRule::block(5).check(&one).is_err());
                assert!(TextRule::line(0, 5).check(&one).is_err());
            }
        }
    }

    #[test]
    fn urls_are_absolute_http_and_come_back_normalised() {
        assert_eq!(
            normalise_url("HTTPS://Example.COM/a b").as_deref(),
            Ok("https://example.com/a%20b")
        );
        assert_eq!(
            normalise_url("http://example.com").as_deref(),
            Ok("http://example.com/")
        );
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://example.com/x",
            "mailto:desk@example.com",
            "//evil.example/x",
            "/relative/path",
            "relative",
            "http://",
            "https://user:pass@example.com/",
            "https://user@example.com/",
            "https://exa\tmple.com/",
            "https://example.com/\n",
            "https://example.com/\u{FFFF}",
            "",
        ] {
            let message = normalise_url(bad).unwrap_err();
            assert!(
                message.starts_with("must be an absolute http or https URL"),
                "{bad}: {message}"
            );
        }
        assert!(
            normalise_url("https://u:p@example.com/")
                .unwrap_err()
                .contains("password")
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert!(normalise_url(&long).unwrap_err().contains("2000"));
        // Within the limit as sent, over it once percent-encoded.
        let spaces = format!("https://example.com/{}x", " ".repeat(1_000));
        assert!(normalise_url(&spaces).is_err());
    }
}
