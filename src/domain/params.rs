//! Strict query-string reading. A route's query parameters are declared once, as a
//! struct that derives both `IntoParams` (its OpenAPI parameters) and `Deserialize`;
//! [`Params::read`] reads exactly what that description says (names, integer bounds,
//! enum words, text lengths), so the document cannot disagree with the parser. Every
//! parameter is taken by name, a repeated one is refused, and whatever is left over at
//! the end is an unknown parameter (a 400 that names it). Checks that need more than
//! the description (slugs, configured languages, dates) are the functions below.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::IntoParams;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{Schema, SchemaType, Type};

use crate::error::{AppError, AppResult};

use super::time::Timestamp;

/// Longest accepted query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Most parameters one request may carry.
const MAX_PARAMS: usize = 32;

/// The parameters of one request, consumed one by one.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Splits and percent-decodes a raw query string; repeated names are refused.
    pub fn parse(query: &str) -> AppResult<Self> {
        if query.len() > MAX_QUERY_BYTES {
            return Err(AppError::bad_request(format!(
                "the query string is longer than {MAX_QUERY_BYTES} bytes"
            )));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(AppError::bad_param(
                    name.into_owned(),
                    "is given more than once",
                ));
            }
            if pairs.len() == MAX_PARAMS {
                return Err(AppError::bad_request("too many query parameters"));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// Takes a text parameter's value. An empty value (`lang=`, as an HTML form sends
    /// an empty field) is the same as leaving the parameter out.
    pub fn take(&mut self, name: &str) -> AppResult<Option<String>> {
        Ok(self.take_raw(name).filter(|v| !v.is_empty()))
    }

    /// Takes a value as sent, empty or not.
    fn take_raw(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.swap_remove(i).1)
    }

    /// Takes every query parameter `T` documents, checked against its description:
    /// whole numbers within their `minimum`..`maximum`, `true`/`false`, one of an enum's
    /// words, text within its `maxLength` characters. An empty text value is the same
    /// as leaving the parameter out; an empty number, boolean or word is an error.
    pub fn read<T: IntoParams + DeserializeOwned + 'static>(&mut self) -> AppResult<T> {
        let mut values = Map::new();
        for spec in specs::<T>().iter() {
            let Some(raw) = self.take_raw(&spec.name) else {
                continue;
            };
            if let Some(value) = spec.accepts.read(&spec.name, raw)? {
                values.insert(spec.name.clone(), value);
            }
        }
        deserialize(values)
    }

    /// Ends reading: any parameter not taken is unknown.
    pub fn finish(self) -> AppResult<()> {
        match self.pairs.into_iter().next() {
            None => Ok(()),
            Some((name, _)) => Err(AppError::bad_param(
                name.clone(),
                format!("unknown query parameter {name:?}"),
            )),
        }
    }
}

/// Fills `T` from checked values. A value the description let through that `T` still
/// refuses (an enum given by reference) is named by trying the values one at a time.
fn deserialize<T: DeserializeOwned>(values: Map<String, Value>) -> AppResult<T> {
    let values = Value::Object(values);
    T::deserialize(&values).map_err(|e| {
        for (name, value) in values.as_object().into_iter().flatten() {
            let alone = Value::Object(Map::from_iter([(name.clone(), value.clone())]));
            if let Err(e) = T::deserialize(&alone) {
                return AppError::bad_param(name.clone(), format!("{name}: {e}"));
            }
        }
        AppError::bad_request(e.to_string())
    })
}

/// One documented query parameter: its name and what it accepts.
#[derive(Debug)]
struct Spec {
    name: String,
    accepts: Accepts,
}

/// What a parameter accepts, as its OpenAPI schema says.
#[derive(Debug, PartialEq)]
enum Accepts {
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    Word(Vec<String>),
    Text {
        max_chars: Option<usize>,
    },
    /// A schema given by reference: the value goes to the type as it is.
    Other,
}

/// The query parameters `T` documents, worked out once per type.
fn specs<T: IntoParams + 'static>() -> Arc<[Spec]> {
    static SPECS: OnceLock<RwLock<HashMap<TypeId, Arc<[Spec]>>>> = OnceLock::new();
    let specs = SPECS.get_or_init(Default::default);
    let id = TypeId::of::<T>();
    if let Some(found) = specs.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return found.clone();
    }
    let made: Arc<[Spec]> = T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .filter(|p| p.parameter_in == ParameterIn::Query)
        .map(|p| Spec {
            accepts: Accepts::of(p.schema.as_ref()),
            name: p.name,
        })
        .collect();
    specs
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, made.clone());
    made
}

impl Accepts {
    fn of(schema: Option<&RefOr<Schema>>) -> Self {
        let Some(RefOr::T(Schema::Object(o))) = schema else {
            return Accepts::Other;
        };
        if let Some(words) = &o.enum_values {
            return Accepts::Word(
                words
                    .iter()
                    .filter_map(|w| w.as_str().map(str::to_owned))
                    .collect(),
            );
        }
        let bound = |n: &Option<utoipa::Number>, or: i64| match n {
            Some(utoipa::Number::Int(n)) => i64::try_from(*n).unwrap_or(or),
            Some(utoipa::Number::UInt(n)) => i64::try_from(*n).unwrap_or(or),
            Some(utoipa::Number::Float(n)) => *n as i64,
            None => or,
        };
        match &o.schema_type {
            SchemaType::Type(Type::Integer) => Accepts::Int {
                min: bound(&o.minimum, i64::MIN),
                max: bound(&o.maximum, i64::MAX),
            },
            SchemaType::Type(Type::Boolean) => Accepts::Bool,
            SchemaType::Type(Type::String) => Accepts::Text {
                max_chars: o.max_length,
            },
            _ => Accepts::Other,
        }
    }

    /// The value of `raw` as JSON, `None` for an empty text, or the 400 naming `name`.
    fn read(&self, name: &str, raw: String) -> AppResult<Option<Value>> {
        match self {
            Accepts::Int { min, max } => match raw.parse::<i64>() {
                Ok(n) if (*min..=*max).contains(&n) => Ok(Some(n.into())),
                _ => Err(AppError::bad_param(
                    name,
                    format!("{name} must be a whole number from {min} to {max}"),
                )),
            },
            Accepts::Bool => match raw.as_str() {
                "true" => Ok(Some(true.into())),
                "false" => Ok(Some(false.into())),
                _ => Err(AppError::bad_param(
                    name,
                    format!("{name} must be true or false"),
                )),
            },
            Accepts::Word(words) if words.contains(&raw) => Ok(Some(raw.into())),
            Accepts::Word(words) => Err(AppError::bad_param(
                name,
                format!("{name} must be one of: {}", words.join(", ")),
            )),
            Accepts::Text { .. } if raw.is_empty() => Ok(None),
            Accepts::Text {
                max_chars: Some(max),
            } if raw.chars().count() > *max => Err(AppError::bad_param(
                name,
                format!("{name} must be at most {max} characters"),
            )),
            Accepts::Text { .. } | Accepts::Other => Ok(Some(raw.into())),
        }
    }
}

/// `lang`, the language filter of collections and the breaking stream.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangParams {
    /// Only this language (one of `LANGUAGES`).
    pub lang: Option<String>,
}

impl LangParams {
    /// Reads a query string of only `lang`, a configured language.
    pub fn parse(query: &str, languages: &[String]) -> AppResult<Option<String>> {
        let mut params = Params::parse(query)?;
        let LangParams { lang } = params.read()?;
        let lang = language("lang", lang, languages)?;
        params.finish()?;
        Ok(lang)
    }
}

/// Checks a language code: it must be one of the configured languages.
pub fn language(
    name: &str,
    value: Option<String>,
    languages: &[String],
) -> AppResult<Option<String>> {
    match value {
        Some(v) if !languages.contains(&v) => Err(AppError::bad_param(
            name,
            format!("{name} must be one of: {}", languages.join(", ")),
        )),
        value => Ok(value),
    }
}

/// Reads an RFC 3339 date-time or a `YYYY-MM-DD` date.
pub fn time(name: &str, value: Option<String>) -> AppResult<Option<Timestamp>> {
    value
        .map(|v| {
            Timestamp::parse(&v).ok_or_else(|| {
                AppError::bad_param(
                    name,
                    format!("{name} must be an RFC 3339 date-time or a YYYY-MM-DD date"),
                )
            })
        })
        .transpose()
}

/// Reads one slug. A value that cannot be a slug is refused; a well-formed slug that
/// names nothing is kept (it simply matches nothing).
pub fn slug(name: &str, value: Option<String>) -> AppResult<Option<String>> {
    Ok(slugs(name, value, 1)?.and_then(|mut v| v.pop()))
}

/// Reads a slug, or a comma-separated list of slugs (at most `max`).
pub fn slugs(name: &str, value: Option<String>, max: usize) -> AppResult<Option<Vec<String>>> {
    let Some(raw) = value else {
        return Ok(None);
    };
    let slugs: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
    if slugs.len() > max {
        return Err(AppError::bad_param(
            name,
            format!("{name} takes at most {max} values"),
        ));
    }
    if slugs
        .iter()
        .any(|s| s.is_empty() || s.len() > super::slug::MAX_SLUG_LEN)
    {
        return Err(AppError::bad_param(
            name,
            format!("{name} must be a slug or a comma-separated list of slugs"),
        ));
    }
    Ok(Some(slugs))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::closed_set! {
        /// Orders.
        enum Order {
            Name = "name",
            NameDesc = "-name",
        }
    }

    /// A query as routes declare them.
    #[derive(Debug, Default, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    struct Sample {
        #[param(minimum = 1, maximum = 100)]
        per_page: Option<i64>,
        featured: Option<bool>,
        #[param(max_length = 5)]
        q: Option<String>,
        lang: Option<String>,
        #[param(inline)]
        sort: Option<Order>,
        /// By reference: checked by the type.
        order: Option<Order>,
    }

    fn field_of(err: AppError) -> String {
        match err {
            AppError::BadRequest { field, .. } => field.unwrap_or_default(),
            other => panic!("expected 400, got {other:?}"),
        }
    }

    fn read(query: &str) -> AppResult<Sample> {
        let mut p = Params::parse(query)?;
        let s = p.read::<Sample>()?;
        p.finish()?;
        Ok(s)
    }

    #[test]
    fn the_description_is_the_parser() {
        let s = read("per_page=100&featured=false&q=abcde&lang=ar&sort=-name&order=name").unwrap();
        assert_eq!(s.per_page, Some(100));
        assert_eq!(s.featured, Some(false));
        assert_eq!(s.q.as_deref(), Some("abcde"));
        assert_eq!(s.lang.as_deref(), Some("ar"));
        assert_eq!(s.sort, Order::parse("-name"));
        assert_eq!(s.order, Some(Order::Name));
        let s = read("").unwrap();
        assert_eq!((s.per_page, s.sort, s.q), (None, None, None));
    }

    #[test]
    fn unknown_parameters_are_named() {
        assert_eq!(
            field_of(read("per_page=2&colour=red").unwrap_err()),
            "colour"
        );
    }

    #[test]
    fn bad_values_are_named() {
        for (query, field) in [
            ("per_page=500", "per_page"),
            ("per_page=0", "per_page"),
            ("per_page=x", "per_page"),
            ("featured=yes", "featured"),
            ("q=abcdef", "q"),
            ("sort=title", "sort"),
            ("order=title", "order"),
        ] {
            assert_eq!(field_of(read(query).unwrap_err()), field, "{query}");
        }
        let Err(AppError::BadRequest { detail, .. }) = read("sort=x") else {
            panic!()
        };
        assert_eq!(detail, "sort must be one of: name, -name");
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(field_of(Params::parse("tag=a&tag=b").unwrap_err()), "tag");
    }

    #[test]
    fn percent_encoding_is_decoded() {
        let s = read("lang=%D8%BA%D8%B2%D8%A9+now").unwrap();
        assert_eq!(s.lang.unwrap(), "غزة now");
    }

    #[test]
    fn slug_lists() {
        assert_eq!(
            slugs("tag", Some("gaza,ceasefire".into()), 10)
                .unwrap()
                .unwrap(),
            ["gaza", "ceasefire"]
        );
        assert!(slugs("tag", Some("a,,b".into()), 10).is_err());
        assert!(slug("section", Some("a,b".into())).is_err());
    }

    #[test]
    fn empty_text_is_absent_but_empty_numbers_and_words_are_errors() {
        let s = read("lang=&q=").unwrap();
        assert_eq!((s.lang, s.q), (None, None));
        for query in ["per_page=", "featured=", "sort="] {
            let field = query.trim_end_matches('=');
            assert_eq!(field_of(read(query).unwrap_err()), field);
        }
    }

    #[test]
    fn oversized_query_strings_are_refused() {
        assert!(Params::parse(&"a=1&".repeat(2000)).is_err());
    }
}
