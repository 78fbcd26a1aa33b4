//! Names in the edition's own language: the `localized` object of sections, tags,
//! regions, collections, authors and media, and the choice of a language for a read.
//!
//! A resource's top-level fields hold its base value (the item's own `language` where it
//! has one, else the first configured language); `localized` holds the other configured
//! languages, each an object of the fields the resource localizes
//! (`{"ar": {"name": "سياسة"}}`). It is stored as that JSON text in a `localized` column
//! and read back whole. A read in a language puts that language's values at the top
//! level, field by field, falling back to the base value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::input::{Checker, Input, TextRule};
use crate::error::{AppError, AppResult};

/// The localized values of one item: language code → field → value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Localized(BTreeMap<String, BTreeMap<String, String>>);

/// A field a resource localizes, with the rule its base value follows.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub rule: TextRule,
}

impl Localized {
    /// Reads the stored column; text that is not the expected JSON reads as nothing
    /// localized (the column is only ever written from checked input).
    pub fn parse(stored: &str) -> Self {
        if stored == "{}" || stored.is_empty() {
            return Self::default();
        }
        serde_json::from_str(stored).unwrap_or_default()
    }

    /// The text to store.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }

    /// True when no language has a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `field` in `lang`, if one is stored.
    pub fn get(&self, lang: &str, field: &str) -> Option<&str> {
        self.0.get(lang)?.get(field).map(String::as_str)
    }

    /// `base` in `lang`: the localized value when there is one, else `base` itself.
    /// `lang` of `None` keeps the base value.
    pub fn pick(&self, lang: Option<&str>, field: &str, base: String) -> String {
        match lang.and_then(|l| self.get(l, field)) {
            Some(v) => v.to_owned(),
            None => base,
        }
    }

    /// [`Localized::pick`] for an optional field.
    pub fn pick_opt(
        &self,
        lang: Option<&str>,
        field: &str,
        base: Option<String>,
    ) -> Option<String> {
        match lang.and_then(|l| self.get(l, field)) {
            Some(v) => Some(v.to_owned()),
            None => base,
        }
    }

    /// Checks a create's `localized`: an object keyed by configured languages other than
    /// `base`, each an object of `fields`. Problems are recorded in `c`.
    pub fn check_create(
        c: &mut Checker,
        input: Input<Value>,
        fields: &[Field],
        languages: &[String],
    ) -> Self {
        Self::check_patch(c, input, &Self::default(), fields, languages).unwrap_or_default()
    }

    /// Applies a PATCH's `localized` to `current` as a JSON merge patch (`null` drops a
    /// language or a field; `"localized": null` drops them all). `None` when the body
    /// did not name `localized`.
    pub fn check_patch(
        c: &mut Checker,
        input: Input<Value>,
        current: &Self,
        fields: &[Field],
        languages: &[String],
    ) -> Option<Self> {
        let object = match input {
            Input::Absent => return None,
            Input::Null => return Some(Self::default()),
            Input::Invalid(reason) => {
                c.fail("localized", reason);
                return None;
            }
            Input::Value(Value::Object(o)) => o,
            Input::Value(_) => {
                c.fail("localized", "must be an object keyed by language code");
                return None;
            }
        };
        let mut next = current.clone();
        for (lang, entry) in object {
            let at = format!("localized.{lang}");
            if !languages.contains(&lang) {
                c.fail(
                    at,
                    format!(
                        "is not a configured language (one of: {})",
                        languages.join(", ")
                    ),
                );
                continue;
            }
            let entry = match entry {
                Value::Null => {
                    next.0.remove(&lang);
                    continue;
                }
                Value::Object(e) => e,
                _ => {
                    c.fail(at, "must be an object of localized fields");
                    continue;
                }
            };
            let values = next.0.entry(lang.clone()).or_default();
            for (name, value) in entry {
                let at = format!("localized.{lang}.{name}");
                let Some(field) = fields.iter().find(|f| f.name == name) else {
                    let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                    c.fail(
                        at,
                        format!("is not a localized field (one of: {})", known.join(", ")),
                    );
                    continue;
                };
                match value {
                    Value::Null => {
                        values.remove(&name);
                    }
                    Value::String(s) => {
                        if c.text(&at, &s, field.rule) {
                            values.insert(name, s);
                        }
                    }
                    _ => c.fail(at, "must be a string or null"),
                }
            }
            if values.is_empty() {
                next.0.remove(&lang);
            }
        }
        Some(next)
    }

    /// Records a problem when a language key is the item's base language, whose values
    /// belong in the top-level fields.
    pub fn check_base(&self, c: &mut Checker, base: &str) {
        if self.0.contains_key(base) {
            c.fail(
                format!("localized.{base}"),
                format!("{base} is the base language: set the top-level fields instead"),
            );
        }
    }
}

/// The language a read asks for: `locale=` when given (an unconfigured one is a 400),
/// else the best configured match of `Accept-Language`, else none (base values).
pub fn requested(
    locale: Option<&str>,
    accept_language: Option<&str>,
    languages: &[String],
) -> AppResult<Option<String>> {
    if let Some(code) = locale.filter(|l| !l.is_empty()) {
        return match languages.iter().find(|l| l.as_str() == code) {
            Some(l) => Ok(Some(l.clone())),
            None => Err(AppError::bad_param(
                "locale",
                format!(
                    "locale {code:?} is not a configured language (one of: {})",
                    languages.join(", ")
                ),
            )),
        };
    }
    Ok(accept_language.and_then(|h| negotiate(h, languages)))
}

/// The configured language an `Accept-Language` value prefers (RFC 9110 §12.5.4): the
/// highest quality first, the header's order among equals; a range matches a language
/// by its primary subtag (`ar-EG` is `ar`), `*` is the first configured language, and
/// `q=0` refuses. Malformed entries are skipped.
pub fn negotiate(header: &str, languages: &[String]) -> Option<String> {
    let mut best: Option<(u16, &String)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        if range.is_empty() {
            continue;
        }
        let mut quality = 1000u16;
        for param in parts {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("q") {
                quality = parse_quality(v.trim()).unwrap_or_default();
            }
        }
        if quality == 0 {
            continue;
        }
        let primary = range.split('-').next().unwrap_or("").to_ascii_lowercase();
        let found = if primary == "*" {
            languages.first()
        } else {
            languages.iter().find(|l| **l == primary)
        };
        if let Some(lang) = found
            && best.is_none_or(|(q, _)| quality > q)
        {
            best = Some((quality, lang));
        }
    }
    best.map(|(_, l)| l.clone())
}

/// A quality value in thousandths: `0`, `1`, `0.5`, `0.125`, `1.000`.
fn parse_quality(v: &str) -> Option<u16> {
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The `locale` query parameter of reads of localized resources.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocaleParams {
    /// Show names, descriptions, bios and captions in this configured language, falling
    /// back field by field to the base value. Wins over `Accept-Language`; a language
    /// that is not configured is a 400.
    #[param(max_length = 8, example = "ar")]
    pub locale: Option<String>,
}

/// Checks the query of a single read that takes only `locale`: anything else is an
/// unknown parameter (400).
pub fn only_locale(query: &str) -> AppResult<()> {
    let mut params = super::params::Params::parse(query)?;
    let _: LocaleParams = params.read()?;
    params.finish()
}

/// The `localized` of sections, tags and collections, as documented.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocalizedName {
    #[schema(example = "سياسة")]
    pub name: Option<String>,
    pub description: Option<String>,
}

/// The `localized` of regions, as documented.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocalizedRegion {
    #[schema(example = "الشرق الأوسط وشمال أفريقيا")]
    pub name: Option<String>,
}

/// The `localized` of authors, as documented.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocalizedAuthor {
    #[schema(example = "فريق التحرير")]
    pub name: Option<String>,
    pub bio: Option<String>,
}

/// The `localized` of media, as documented.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocalizedMedia {
    pub caption: Option<String>,
    pub alt_text: Option<String>,
    #[schema(example = "أسوشيتد برس")]
    pub credit: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Vec<String> {
        ["en", "ar", "es"].map(String::from).to_vec()
    }

    #[test]
    fn accept_language_follows_quality_then_order() {
        let l = langs();
        assert_eq!(negotiate("ar", &l).as_deref(), Some("ar"));
        assert_eq!(
            negotiate("fr, es;q=0.5, ar;q=0.8", &l).as_deref(),
            Some("ar")
        );
        assert_eq!(
            negotiate("es-MX;q=0.9, ar-EG;q=0.9", &l).as_deref(),
            Some("es")
        );
        assert_eq!(negotiate("ar;q=0, es;q=0.1", &l).as_deref(), Some("es"));
        assert_eq!(negotiate("fr, de", &l), None);
        assert_eq!(negotiate("*;q=0.5, fr", &l).as_deref(), Some("en"));
        assert_eq!(negotiate("ar;q=2, es;q=0.3", &l).as_deref(), Some("es"));
        assert_eq!(negotiate(",,;q=1, ES", &l).as_deref(), Some("es"));
    }

    #[test]
    fn locale_wins_and_must_be_configured() {
        let l = langs();
        assert_eq!(
            requested(Some("es"), Some("ar"), &l).unwrap().as_deref(),
            Some("es")
        );
        assert_eq!(
            requested(None, Some("ar"), &l).unwrap().as_deref(),
            Some("ar")
        );
        assert!(requested(Some("fr"), None, &l).is_err());
    }

    const FIELDS: &[Field] = &[
        Field {
            name: "name",
            rule: TextRule::line(1, 100),
        },
        Field {
            name: "description",
            rule: TextRule::block(2_000),
        },
    ];

    #[test]
    fn patches_merge_and_null_removes() {
        let l = langs();
        let mut c = Checker::new();
        let v = serde_json::json!({"ar": {"name": "سياسة", "description": "أخبار"}, "es": {"name": "Política"}});
        let first = Localized::check_create(&mut c, Input::Value(v), FIELDS, &l);
        assert!(c.is_clean());
        let v = serde_json::json!({"ar": {"description": null}, "es": null});
        let next = Localized::check_patch(&mut c, Input::Value(v), &first, FIELDS, &l).unwrap();
        assert!(c.is_clean());
        assert_eq!(next.to_stored(), r#"{"ar":{"name":"سياسة"}}"#);
        assert_eq!(Localized::parse(&next.to_stored()), next);
        assert_eq!(next.pick(Some("ar"), "name", "Politics".into()), "سياسة");
        assert_eq!(next.pick(Some("es"), "name", "Politics".into()), "Politics");
    }

    #[test]
    fn unknown_languages_and_fields_are_named() {
        let l = langs();
        let mut c = Checker::new();
        let v = serde_json::json!({"fr": {"name": "x"}, "ar": {"title": "x", "name": 3}});
        Localized::check_create(&mut c, Input::Value(v), FIELDS, &l);
        for field in ["localized.fr", "localized.ar.title", "localized.ar.name"] {
            assert!(c.has_error(field), "{field}");
        }
    }
}
