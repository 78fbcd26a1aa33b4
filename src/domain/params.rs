//! Strict query-string reading: every parameter is taken by name, and whatever is
//! left over at the end is an unknown parameter (a 400 that names it).

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

    /// Takes a value as sent, empty or not (numbers, booleans and fixed words, for
    /// which an empty value is an error).
    fn take_raw(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.swap_remove(i).1)
    }

    /// Takes a whole number within `min..=max`.
    pub fn take_int(&mut self, name: &str, min: i64, max: i64) -> AppResult<Option<i64>> {
        let Some(raw) = self.take_raw(name) else {
            return Ok(None);
        };
        match raw.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(AppError::bad_param(
                name,
                format!("{name} must be a whole number from {min} to {max}"),
            )),
        }
    }

    /// Takes `true` or `false`.
    pub fn take_bool(&mut self, name: &str) -> AppResult<Option<bool>> {
        match self.take_raw(name).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(AppError::bad_param(
                name,
                format!("{name} must be true or false"),
            )),
        }
    }

    /// Takes one of a fixed set of words.
    pub fn take_choice(&mut self, name: &str, allowed: &[&str]) -> AppResult<Option<String>> {
        match self.take_raw(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
            Some(_) => Err(AppError::bad_param(
                name,
                format!("{name} must be one of: {}", allowed.join(", ")),
            )),
        }
    }

    /// Takes an RFC 3339 date-time or a `YYYY-MM-DD` date.
    pub fn take_time(&mut self, name: &str) -> AppResult<Option<Timestamp>> {
        match self.take(name)? {
            None => Ok(None),
            Some(v) => Timestamp::parse(&v).map(Some).ok_or_else(|| {
                AppError::bad_param(
                    name,
                    format!("{name} must be an RFC 3339 date-time or a YYYY-MM-DD date"),
                )
            }),
        }
    }

    /// Takes a slug, or a comma-separated list of slugs (at most `max`). A value that
    /// cannot be a slug is refused; a well-formed slug that names nothing is kept (it
    /// simply matches nothing).
    pub fn take_slugs(&mut self, name: &str, max: usize) -> AppResult<Option<Vec<String>>> {
        let Some(raw) = self.take(name)? else {
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

    /// Takes a language code; it must be one of the configured languages.
    pub fn take_language(&mut self, name: &str, languages: &[String]) -> AppResult<Option<String>> {
        match self.take(name)? {
            None => Ok(None),
            Some(v) if languages.contains(&v) => Ok(Some(v)),
            Some(_) => Err(AppError::bad_param(
                name,
                format!("{name} must be one of: {}", languages.join(", ")),
            )),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: AppError) -> String {
        match err {
            AppError::BadRequest { field, .. } => field.unwrap_or_default(),
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn unknown_parameters_are_named() {
        let mut p = Params::parse("page=2&colour=red").unwrap();
        assert_eq!(p.take_int("page", 1, 10).unwrap(), Some(2));
        assert_eq!(field_of(p.finish().unwrap_err()), "colour");
    }

    #[test]
    fn bad_values_are_named() {
        let mut p = Params::parse("per_page=500").unwrap();
        assert_eq!(
            field_of(p.take_int("per_page", 1, 100).unwrap_err()),
            "per_page"
        );
        let mut p = Params::parse("featured=yes").unwrap();
        assert_eq!(field_of(p.take_bool("featured").unwrap_err()), "featured");
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(field_of(Params::parse("tag=a&tag=b").unwrap_err()), "tag");
    }

    #[test]
    fn percent_encoding_is_decoded() {
        let mut p = Params::parse("q=%D8%BA%D8%B2%D8%A9+now").unwrap();
        assert_eq!(p.take("q").unwrap().unwrap(), "غزة now");
    }

    #[test]
    fn slug_lists() {
        let mut p = Params::parse("tag=gaza,ceasefire").unwrap();
        assert_eq!(
            p.take_slugs("tag", 10).unwrap().unwrap(),
            ["gaza", "ceasefire"]
        );
        let mut p = Params::parse("tag=a,,b").unwrap();
        assert!(p.take_slugs("tag", 10).is_err());
    }

    #[test]
    fn empty_text_is_absent_but_empty_numbers_and_words_are_errors() {
        let mut p = Params::parse("lang=&q=&per_page=&featured=&sort=").unwrap();
        assert_eq!(p.take("lang").unwrap(), None);
        assert_eq!(p.take("q").unwrap(), None);
        assert_eq!(
            field_of(p.take_int("per_page", 1, 100).unwrap_err()),
            "per_page"
        );
        assert_eq!(field_of(p.take_bool("featured").unwrap_err()), "featured");
        assert_eq!(
            field_of(p.take_choice("sort", &["name"]).unwrap_err()),
            "sort"
        );
        p.finish().unwrap();
    }

    #[test]
    fn oversized_query_strings_are_refused() {
        assert!(Params::parse(&"a=1&".repeat(2000)).is_err());
    }
}
