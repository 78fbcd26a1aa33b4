//! The newsroom's resources and their rules, one module per resource: rows as stored,
//! write forms, API views, validation and queries. Nothing here knows about HTTP.

use serde::Serialize;
use utoipa::{PartialSchema, ToSchema};

/// The slug queries every slugged table needs, generated for `$table`.
macro_rules! slug_queries {
    ($table:ident, $kind:literal) => {
        /// The id of the row a path key names, if any.
        pub fn id_of(
            conn: &mut $crate::db::DbConn,
            key: &$crate::domain::Key,
        ) -> $crate::error::AppResult<Option<i32>> {
            use diesel::prelude::*;
            use $crate::schema::$table;
            // These lookups run on every write that names a resource: on the
            // backend's own connection (`on_backend!`), where Diesel keeps the
            // statement without building its SQL text again.
            Ok(match key {
                $crate::domain::Key::Id(id) => $crate::on_backend!(conn, |c| $table::table
                    .find(*id)
                    .select($table::id)
                    .get_result::<i32>(c)
                    .optional()?),
                $crate::domain::Key::Slug(s) => $crate::on_backend!(conn, |c| $table::table
                    .filter($table::slug.eq(s))
                    .select($table::id)
                    .get_result::<i32>(c)
                    .optional()?),
            })
        }

        /// The id a path key names, or 404.
        pub fn require_id(
            conn: &mut $crate::db::DbConn,
            key: &$crate::domain::Key,
        ) -> $crate::error::AppResult<i32> {
            id_of(conn, key)?.ok_or_else(|| $crate::error::AppError::not_found($kind))
        }

        /// `(slug, id)` of the rows with these slugs; unknown slugs are left out.
        pub fn ids_by_slug(
            conn: &mut $crate::db::DbConn,
            slugs: &[String],
        ) -> $crate::error::AppResult<Vec<(String, i32)>> {
            use diesel::prelude::*;
            use $crate::schema::$table;
            // At most as many as the longest list a body may name (a collection's
            // 1,000 articles); longer lists are refused by their own check.
            let slugs = &slugs[..slugs.len().min($crate::domain::MAX_SLUG_LOOKUPS)];
            match conn {
                // PostgreSQL takes the list as one array (`slug = ANY($1)`), a statement
                // it keeps whatever the list's length: one round trip for them all.
                $crate::db::DbConn::Postgres(c) => Ok($table::table
                    .filter($table::slug.eq_any(slugs))
                    .select(($table::slug, $table::id))
                    .load(c)?),
                // On SQLite one kept statement per slug beats parsing an `IN (...)` of
                // each length.
                $crate::db::DbConn::Sqlite(c) => {
                    let mut found = Vec::with_capacity(slugs.len());
                    for slug in slugs {
                        if let Some(id) = $table::table
                            .filter($table::slug.eq(slug))
                            .select($table::id)
                            .get_result::<i32>(c)
                            .optional()?
                        {
                            found.push((slug.clone(), id));
                        }
                    }
                    Ok(found)
                }
            }
        }

        /// The slug a new row's `text` makes, before any `-2` ([`choose_slug`]).
        pub fn base_slug(text: &str) -> String {
            $crate::domain::slug::slugify(text, $kind)
        }

        /// The slug of a new row: the given one (409 when taken), or one made from
        /// `text` with `-2`, `-3`... on a collision.
        pub fn choose_slug(
            conn: &mut $crate::db::DbConn,
            given: Option<String>,
            text: &str,
        ) -> $crate::error::AppResult<String> {
            use diesel::prelude::*;
            use $crate::schema::$table;
            match given {
                Some(slug) => {
                    ensure_slug_free(conn, &slug, None)?;
                    Ok(slug)
                }
                None => {
                    let base = base_slug(text);
                    // Most new rows' slugs are free: one look-up of `base` alone. The
                    // range below is planned again at every run on PostgreSQL (its plan
                    // for any bounds reads about fifty rows, against one for the bounds
                    // at hand), under the write lock of a create.
                    if id_of(conn, &$crate::domain::Key::Slug(base.clone()))?.is_none() {
                        return Ok(base);
                    }
                    // `base` itself and everything that starts with `base-`: a range on
                    // the unique index ('.' is the character after '-'), where a LIKE
                    // would scan the whole table.
                    let taken: Vec<String> = $crate::on_backend!(conn, |c| $table::table
                        .filter(
                            $table::slug.eq(&base).or($table::slug
                                .gt(format!("{base}-"))
                                .and($table::slug.lt(format!("{base}.")))),
                        )
                        .select($table::slug)
                        .load(c)?);
                    Ok($crate::domain::slug::first_free(&base, &taken))
                }
            }
        }

        /// The resource type, as old slugs record it.
        pub const KIND: &str = $kind;

        /// The current slug of `id`.
        pub fn slug_of(
            conn: &mut $crate::db::DbConn,
            id: i32,
        ) -> $crate::error::AppResult<Option<String>> {
            use diesel::prelude::*;
            use $crate::schema::$table;
            Ok($table::table
                .find(id)
                .select($table::slug)
                .get_result(conn)
                .optional()?)
        }

        /// 409 `slug_taken` when another row (not `except`) has this slug.
        pub fn ensure_slug_free(
            conn: &mut $crate::db::DbConn,
            slug: &str,
            except: Option<i32>,
        ) -> $crate::error::AppResult<()> {
            use diesel::prelude::*;
            use $crate::schema::$table;
            let holder: Option<i32> = $crate::on_backend!(conn, |c| $table::table
                .filter($table::slug.eq(slug))
                .select($table::id)
                .get_result(c)
                .optional()?);
            match holder {
                Some(id) if Some(id) != except => Err($crate::error::AppError::SlugTaken {
                    slug: slug.to_owned(),
                }),
                _ => Ok(()),
            }
        }
    };
}

/// Keyset condition "after (k, id)" for a `(column, id)` order, ascending or descending.
/// The plain bound on the column (`column >= k` / `column <= k`) says nothing the rest
/// does not, but it is what lets an index on `(…, column, id)` start at the cursor: from
/// the `OR` alone PostgreSQL scanned the index from the list's first row, so the page
/// 400,000 rows deep read those 400,000 rows first.
macro_rules! keyset_after {
    ($query:expr, $col:expr, $id:expr, $k:expr, $last:expr, asc) => {
        $query
            .filter($col.ge($k.clone()))
            .filter($col.gt($k.clone()).or($col.eq($k).and($id.gt($last))))
    };
    ($query:expr, $col:expr, $id:expr, $k:expr, $last:expr, desc) => {
        $query
            .filter($col.le($k.clone()))
            .filter($col.lt($k.clone()).or($col.eq($k).and($id.lt($last))))
    };
}

pub mod api_tokens;
pub mod articles;
pub mod audit;
pub mod authors;
pub mod breaking;
pub mod breaking_events;
pub mod breaking_items;
pub mod collections;
pub mod counts;
pub mod feeds;
pub mod idempotency;
pub mod input;
pub mod localized;
pub mod markdown;
pub mod media;
pub mod old_slugs;
pub mod paging;
pub mod params;
pub mod regions;
pub mod search;
pub mod sections;
pub mod sessions;
pub mod settings;
pub mod slug;
pub mod tags;
pub mod text;
pub mod time;
pub mod users;
pub mod views;

/// How a path addresses a resource: `/authors/42` or `/authors/jane-doe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A path segment of digits.
    Id(i32),
    /// Anything else; it matches only if it is some resource's slug.
    Slug(String),
}

/// The path parameter a [`Key`] is read from, as the OpenAPI document names it.
impl utoipa::IntoParams for Key {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        vec![
            ParameterBuilder::new()
                .name(Key::PATH_PARAMETER)
                .parameter_in(ParameterIn::Path)
                .description(Some("The id (`42`) or the slug"))
                .required(utoipa::openapi::Required::True)
                .schema(Some(String::schema()))
                .build(),
        ]
    }
}

impl Key {
    /// The name of the path segment a key is read from: `/articles/{id_or_slug}`.
    pub const PATH_PARAMETER: &str = "id_or_slug";

    /// Reads a path segment. Digits too large for an id address nothing (id 0).
    pub fn parse(segment: &str) -> Self {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            Key::Id(segment.parse().unwrap_or(0))
        } else {
            Key::Slug(segment.to_owned())
        }
    }
}

/// A compact reference to a related resource, as embedded in another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, diesel::Queryable)]
pub struct Ref {
    #[schema(example = 7)]
    pub id: i32,
    #[schema(example = "politics")]
    pub slug: String,
    #[schema(example = "Politics")]
    pub name: String,
}

/// A [`Ref`] as loaded, with its names in the other languages; shown in one of them.
#[derive(Debug, Clone)]
pub struct NamedRef {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub localized: localized::Localized,
}

impl NamedRef {
    /// Reads `(id, slug, name, localized)` as stored.
    pub fn from_row((id, slug, name, localized): (i32, String, String, String)) -> Self {
        Self {
            id,
            slug,
            name,
            localized: localized::Localized::parse(&localized),
        }
    }

    /// The reference with its name in `lang` (the base name when there is none).
    pub fn in_lang(&self, lang: Option<&str>) -> Ref {
        Ref {
            id: self.id,
            slug: self.slug.clone(),
            name: self.localized.pick(lang, "name", self.name.clone()),
        }
    }
}

/// The serialized form of a view, as sent to clients; ETags are computed from it.
pub fn to_json<T: Serialize>(view: &T) -> crate::error::AppResult<Vec<u8>> {
    serde_json::to_vec(view).map_err(crate::error::AppError::internal)
}

/// Most slugs one request looks up: the longest list any body may carry (a
/// collection's articles).
pub const MAX_SLUG_LOOKUPS: usize = 1_000;

/// Checks a list of relation slugs (`tags`, `regions`, `authors`): no more than `max`,
/// no repeats, each well formed and existing. Problems are reported per item
/// (`tags[1]`); the ids come back in the given order.
pub fn resolve_slugs(
    c: &mut input::Checker,
    field: &str,
    slugs: &[String],
    max: usize,
    found: &[(String, i32)],
) -> Vec<i32> {
    if slugs.len() > max {
        c.fail(field, format!("must have at most {max} entries"));
        return Vec::new();
    }
    let mut ids = Vec::with_capacity(slugs.len());
    for (i, s) in slugs.iter().enumerate() {
        let item = format!("{field}[{i}]");
        if slugs[..i].contains(s) {
            c.fail(item, format!("{s:?} is listed twice"));
            continue;
        }
        match found.iter().find(|(slug, _)| slug == s) {
            Some((_, id)) => ids.push(*id),
            None => c.fail(item, format!("no {} with slug {s:?}", singular(field))),
        }
    }
    ids
}

fn singular(field: &str) -> &str {
    field.strip_suffix('s').unwrap_or(field)
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
