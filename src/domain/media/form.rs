//! Media write bodies and the field rules create and patch share, checked without the database.

use utoipa::ToSchema;

use super::MediaKind;
use crate::domain::input::{Checker, Input, TextRule, UnknownFields};
use crate::domain::localized::Field;

const CAPTION: TextRule = TextRule::block(1_000);
const CREDIT: TextRule = TextRule::line(1, 200);
const ALT_TEXT: TextRule = TextRule::line(1, 500);
pub(super) const MAX_PIXELS_SIDE: i32 = 100_000;
pub(super) const MAX_DURATION_SECONDS: i32 = 7 * 24 * 3600;
pub(super) const READ_ONLY: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "bytes",
    "sha256",
    "dominant_color",
    "placeholder",
    "renditions",
];

/// Body of `POST /media`.
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
pub struct MediaCreate {
    #[serde(default)]
    #[schema(value_type = MediaKind, required = true)]
    pub kind: Input<MediaKind>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "https://cdn.example.com/2024/05/harbour.jpg")]
    pub url: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "image/jpeg")]
    pub mime_type: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub width: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub height: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub duration_seconds: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Fishing boats return to the harbour at dawn.")]
    pub caption: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "AP")]
    pub credit: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub alt_text: Input<String>,
    /// Defaults to the first configured language.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "en")]
    pub language: Input<String>,
    /// `caption`, `alt_text` and `credit` in other configured languages (not the
    /// item's own `language`).
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, crate::domain::localized::LocalizedMedia>>)]
    pub localized: Input<serde_json::Value>,
    /// Where the eye goes, `{"x", "y"}` from 0 to 1 each (`null` clears it).
    #[serde(default)]
    #[schema(value_type = Option<super::FocalPoint>)]
    pub focal_point: Input<super::FocalPoint>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /media/{id}`; `null` clears an optional field.
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
pub struct MediaPatch {
    #[serde(default)]
    #[schema(value_type = MediaKind)]
    pub kind: Input<MediaKind>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub url: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub mime_type: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub width: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub height: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub duration_seconds: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub caption: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub credit: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub alt_text: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub language: Input<String>,
    /// `caption`, `alt_text` and `credit` in other configured languages (not the
    /// item's own `language`).
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, crate::domain::localized::LocalizedMedia>>)]
    pub localized: Input<serde_json::Value>,
    /// Where the eye goes, `{"x", "y"}` from 0 to 1 each (`null` clears it).
    #[serde(default)]
    #[schema(value_type = Option<super::FocalPoint>)]
    pub focal_point: Input<super::FocalPoint>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

pub(super) fn check_mime(c: &mut Checker, mime: &str) {
    let ok = mime.len() <= 100
        && mime.split_once('/').is_some_and(|(t, s)| {
            !t.is_empty()
                && !s.is_empty()
                && t.bytes().all(|b| b.is_ascii_lowercase())
                && s.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-')
                })
        });
    if !ok {
        c.fail("mime_type", "must be a media type such as image/jpeg");
    }
}

pub(super) fn check_size(c: &mut Checker, field: &str, value: Option<i32>, max: i32) {
    if let Some(v) = value
        && !(0..=max).contains(&v)
    {
        c.fail(field, format!("must be between 0 and {max}"));
    }
}

/// The optional text fields of a media item, checked the same way on create and patch.
/// What `localized` holds for a media item.
pub const LOCALIZED: &[Field] = &[
    Field {
        name: "caption",
        rule: CAPTION,
    },
    Field {
        name: "alt_text",
        rule: ALT_TEXT,
    },
    Field {
        name: "credit",
        rule: CREDIT,
    },
];

pub(super) fn check_texts(
    c: &mut Checker,
    caption: Option<&str>,
    credit: Option<&str>,
    alt_text: Option<&str>,
) {
    c.text_opt("caption", caption, CAPTION);
    c.text_opt("credit", credit, CREDIT);
    c.text_opt("alt_text", alt_text, ALT_TEXT);
}
