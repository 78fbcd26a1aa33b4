//! Closed vocabularies: the fixed sets of words that the API, the database and the
//! command line accept (sorts, statuses, event kinds, roles). Each is an enum declared
//! once with [`closed_set!`](crate::closed_set), which derives from that one declaration
//! everything that would otherwise spell the words a second time: the word of each value,
//! parsing, serde, a `clap` value parser, and an OpenAPI schema that lists the words and
//! names them for client generators (`x-enum-varnames`), so that `-published_at` becomes
//! `PUBLISHED_AT_DESC` in generated Swift, Kotlin or Python, not `VALUE_0`.
//! A set the database keeps is marked `#[stored_as_text]` and gets Diesel's text-column
//! conversions, with the words unchanged on disk.

use std::fmt;
use std::marker::PhantomData;

use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// The OpenAPI extension that names each value of an enum for client generators.
pub const VARNAMES: &str = "x-enum-varnames";

/// A closed set of words, declared with [`closed_set!`](crate::closed_set).
pub trait ClosedSet: Copy + Eq + Send + Sync + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// Every value's word, in declaration order.
    const WORDS: &'static [&'static str];
    /// The value's word, on the wire and in the database.
    fn as_str(self) -> &'static str;
    /// The value's name in Rust (`PublishedAtDesc`).
    fn rust_name(self) -> &'static str;

    /// The value whose word is `word`.
    fn parse(word: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == word)
    }

    /// The words for people: `draft, published`.
    fn words() -> String {
        Self::WORDS.join(", ")
    }
}

/// The name a client generator gives a value: `PublishedAtDesc` → `PUBLISHED_AT_DESC`.
pub fn varname(rust_name: &str) -> String {
    let mut name = String::with_capacity(rust_name.len() + 4);
    for (i, c) in rust_name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.extend(c.to_uppercase());
    }
    name
}

/// The description a doc comment gives, as utoipa's derives make it: trailing spaces
/// trimmed, the common indentation removed, lines joined.
fn description(docs: &[&str]) -> String {
    let lines: Vec<&str> = docs.iter().map(|l| l.trim_end()).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The OpenAPI schema of a closed set: a string that is one of the words, each named
/// in `x-enum-varnames`; `docs` are the enum's doc-comment lines.
pub fn schema<T: ClosedSet>(docs: &[&str]) -> RefOr<Schema> {
    let description = description(docs);
    let names: Vec<String> = T::ALL.iter().map(|v| varname(v.rust_name())).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description((!description.is_empty()).then_some(description))
        .enum_values(Some(T::WORDS.iter().copied()))
        .extensions(Some(
            ExtensionsBuilder::new()
                .add(VARNAMES, serde_json::json!(names))
                .build(),
        ))
        .into()
}

/// Reads a value by its word; anything else is serde's "unknown variant" error, which
/// lists the words.
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: ClosedSet,
{
    struct Words<T>(PhantomData<T>);

    impl<T: ClosedSet> serde::de::Visitor<'_> for Words<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "one of: {}", T::words())
        }

        fn visit_str<E: serde::de::Error>(self, word: &str) -> Result<T, E> {
            T::parse(word).ok_or_else(|| E::unknown_variant(word, T::WORDS))
        }
    }

    deserializer.deserialize_str(Words(PhantomData))
}

/// Declares a closed set: an enum whose every value has a word.
///
/// ```ignore
/// closed_set! {
///     /// Orders of a tag list.
///     pub enum TagSort {
///         Name = "name",
///         NameDesc = "-name",
///     }
/// }
/// ```
///
/// The enum gets `ALL`, `as_str`, `parse`, [`ClosedSet`], `Display`, serde as its
/// words, `clap::ValueEnum`, and `utoipa::ToSchema` (see [`schema`]). With
/// `#[stored_as_text]` after the doc comment it is also a Diesel `Text` value
/// (`AsExpression`, `FromSqlRow`, `ToSql`, `FromSql`), stored as its word.
#[macro_export]
macro_rules! closed_set {
    (
        $(#[doc = $doc:literal])*
        #[stored_as_text]
        $vis:vis enum $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        $crate::closed_set! {
            @define [
                #[derive(::diesel::expression::AsExpression, ::diesel::deserialize::FromSqlRow)]
                #[diesel(sql_type = ::diesel::sql_types::Text)]
            ]
            $(#[doc = $doc])*
            $vis enum $name { $( $(#[doc = $vdoc])* $variant = $word ),+ }
        }

        impl<DB> ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            str: ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, DB>,
            ) -> ::diesel::serialize::Result {
                <str as ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl<DB> ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            String: ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                let word = <String as ::diesel::deserialize::FromSql<
                    ::diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                Self::parse(&word).ok_or_else(|| {
                    format!("{word:?} is not a {}", stringify!($name)).into()
                })
            }
        }
    };
    (
        $(#[doc = $doc:literal])*
        $vis:vis enum $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        $crate::closed_set! {
            @define []
            $(#[doc = $doc])*
            $vis enum $name { $( $(#[doc = $vdoc])* $variant = $word ),+ }
        }
    };
    (
        @define [$($derive:tt)*]
        $(#[doc = $doc:literal])*
        $vis:vis enum $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $word:literal ),+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $($derive)*
        $vis enum $name {
            $( $(#[doc = $vdoc])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// Every value's word, in declaration order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The value's word, on the wire and in the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }

            /// The value whose word is `word`.
            pub fn parse(word: &str) -> Option<Self> {
                <Self as $crate::vocab::ClosedSet>::parse(word)
            }
        }

        impl $crate::vocab::ClosedSet for $name {
            const ALL: &'static [Self] = $name::ALL;
            const WORDS: &'static [&'static str] = $name::WORDS;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }

            fn rust_name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant)),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::vocab::deserialize(d)
            }
        }

        impl ::clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }

            fn to_possible_value(&self) -> Option<::clap::builder::PossibleValue> {
                Some(::clap::builder::PossibleValue::new(self.as_str()))
            }
        }

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::vocab::schema::<Self>(&[$($doc),*])
            }
        }

        impl ::utoipa::ToSchema for $name {}
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::closed_set! {
        /// A test set.
        ///   Indented line.
        enum Sample {
            /// The first.
            PublishedAtDesc = "-published_at",
            Title = "title",
        }
    }

    #[test]
    fn words_round_trip() {
        for v in Sample::ALL {
            assert_eq!(Sample::parse(v.as_str()), Some(*v));
        }
        assert_eq!(Sample::parse("nope"), None);
        assert_eq!(Sample::PublishedAtDesc.to_string(), "-published_at");
    }

    #[test]
    fn serde_uses_the_words() {
        assert_eq!(serde_json::to_string(&Sample::Title).unwrap(), r#""title""#);
        let v: Sample = serde_json::from_str(r#""-published_at""#).unwrap();
        assert_eq!(v, Sample::PublishedAtDesc);
        let e = serde_json::from_str::<Sample>(r#""x""#).unwrap_err();
        assert!(e.to_string().contains("`-published_at` or `title`"), "{e}");
    }

    #[test]
    fn values_are_named_for_client_generators() {
        assert_eq!(varname("PublishedAtDesc"), "PUBLISHED_AT_DESC");
        assert_eq!(varname("Draft"), "DRAFT");
        let json = serde_json::to_value(<Sample as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(json["enum"], serde_json::json!(["-published_at", "title"]));
        assert_eq!(
            json[VARNAMES],
            serde_json::json!(["PUBLISHED_AT_DESC", "TITLE"])
        );
        assert_eq!(json["description"], "A test set.\n  Indented line.");
    }
}
