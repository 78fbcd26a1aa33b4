//! Collection write bodies and their checks, the article list and hero image looked up.

use std::collections::HashSet;

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::MAX_ARTICLES;
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::articles::{self, ArticleHead};
use crate::domain::input::{Checker, Input, TextRule, UnknownFields};
use crate::domain::media;
use crate::domain::resolve_slugs;
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::articles as articles_t;

pub(super) const NAME: TextRule = TextRule::line(1, 200);
pub(super) const DESCRIPTION: TextRule = TextRule::block(5_000);
/// What `localized` holds for a collection.
pub const LOCALIZED: &[crate::domain::localized::Field] = &[
    crate::domain::localized::Field {
        name: "name",
        rule: NAME,
    },
    crate::domain::localized::Field {
        name: "description",
        rule: DESCRIPTION,
    },
];
pub(super) const READ_ONLY: &[&str] = &[
    "id",
    "hero_media",
    "created_at",
    "updated_at",
    "next_cursor",
];

/// Body of `POST /collections`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CollectionCreate {
    /// Made from `name` when left out.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "war-in-gaza")]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "War in Gaza")]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Input<String>,
    /// Defaults to the first configured language.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "en")]
    pub language: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub hero_media_id: Input<i32>,
    /// Article slugs, in the collection's order (at most 1,000).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub articles: Input<Vec<String>>,
    /// Slugs among `articles` to show first.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub pinned: Input<Vec<String>>,
    /// `name` and `description` in other configured languages (not the collection's
    /// own `language`); in a PATCH, merged into the stored ones (`{"ar": null}` drops a
    /// language).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::HashMap<String, crate::domain::localized::LocalizedName>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /collections/{id_or_slug}`; `articles` replaces the whole list.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CollectionPatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub language: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub hero_media_id: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub articles: Input<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub pinned: Input<Vec<String>>,
    /// `name` and `description` in other configured languages (not the collection's
    /// own `language`); in a PATCH, merged into the stored ones (`{"ar": null}` drops a
    /// language).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::HashMap<String, crate::domain::localized::LocalizedName>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Checks the article list and the pinned subset; returns `(article id, pinned)` in order.
/// An article `actor` may not see is answered as one that does not exist.
pub(super) fn resolve_entries(
    c: &mut Checker,
    conn: &mut DbConn,
    actor: Actor,
    slugs: &[String],
    pinned: &[String],
) -> AppResult<Vec<(i32, bool)>> {
    let mut found: Vec<(String, i32)> = articles::ids_by_slug(conn, slugs)?;
    let ids: Vec<i32> = found.iter().map(|(_, id)| *id).collect();
    let now = Timestamp::now().0;
    let seen: HashSet<i32> = articles_t::table
        .filter(articles_t::id.eq_any(&ids))
        .select(ArticleHead::as_select())
        .load::<ArticleHead>(conn)?
        .into_iter()
        .filter(|h| h.visible_to(Some(actor), now))
        .map(|h| h.id)
        .collect();
    found.retain(|(_, id)| seen.contains(id));
    let ids = resolve_slugs(c, "articles", slugs, MAX_ARTICLES, &found);
    for (i, p) in pinned.iter().enumerate() {
        if !slugs.contains(p) {
            c.fail(
                format!("pinned[{i}]"),
                format!("{p:?} is not among articles"),
            );
        }
    }
    Ok(slugs
        .iter()
        .zip(ids)
        .map(|(slug, id)| (id, pinned.contains(slug)))
        .collect())
}

pub(super) fn check_hero(c: &mut Checker, conn: &mut DbConn, id: i32) -> AppResult<()> {
    if !media::exists(conn, id)? {
        c.fail("hero_media_id", format!("no media with id {id}"));
    }
    Ok(())
}
