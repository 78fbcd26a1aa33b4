//! Timestamps: stored as UTC `NaiveDateTime` in whole seconds, written as RFC 3339 with `Z`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A point in time in UTC, whole seconds: `2023-11-13T15:36:00Z` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub NaiveDateTime);

impl Timestamp {
    /// The current time, truncated to the second.
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }

    /// Truncates a UTC time to the second.
    pub fn from_utc(t: DateTime<Utc>) -> Self {
        let secs = t.timestamp();
        Self(DateTime::from_timestamp(secs, 0).unwrap_or(t).naive_utc())
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0.and_utc().timestamp()
    }

    /// From seconds since the Unix epoch; `None` when out of chrono's range.
    pub fn from_unix(secs: i64) -> Option<Self> {
        DateTime::from_timestamp(secs, 0).map(|t| Self(t.naive_utc()))
    }

    /// RFC 3339 in UTC with a `Z`, whole seconds.
    pub fn to_rfc3339(self) -> String {
        self.0.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// Parses RFC 3339 (any offset, optional fraction) or a bare `YYYY-MM-DD` (midnight
    /// UTC), normalising to UTC whole seconds.
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(Self::from_utc(t.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(Self)
    }

    /// The HTTP date form (`Last-Modified`).
    pub fn to_http_date(self) -> String {
        self.0
            .and_utc()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    }
}

impl From<NaiveDateTime> for Timestamp {
    fn from(t: NaiveDateTime) -> Self {
        Self(t)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).ok_or_else(|| {
            serde::de::Error::custom("must be an RFC 3339 date-time such as 2024-05-01T09:30:00Z")
        })
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(
                "RFC 3339 in UTC with whole seconds; input may carry an offset or a fraction",
            ))
            .examples(["2023-11-13T15:36:00Z"])
            .into()
    }
}

impl ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_fractions_are_normalised() {
        let t = Timestamp::parse("2023-11-13T17:36:00.750+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-11-13T15:36:00Z");
    }

    #[test]
    fn dates_mean_midnight_utc() {
        let t = Timestamp::parse("2024-02-29").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(Timestamp::parse("yesterday").is_none());
        assert!(Timestamp::parse("2024-13-01").is_none());
    }

    #[test]
    fn http_dates() {
        let t = Timestamp::parse("2023-11-13T15:36:00Z").unwrap();
        assert_eq!(t.to_http_date(), "Mon, 13 Nov 2023 15:36:00 GMT");
    }
}
