//! `article_facts`: what decides whether readers see a story and where it belongs, read
//! from the narrow sitemap index rather than the story's row (migration
//! `2026-12-04-000014_article_facts`). For walks that check many candidates one by one.

use diesel::prelude::*;

use crate::db::columns::StoredStatus;
use crate::schema::{article_tags, articles};

diesel::table! {
    /// A view over `articles`: its columns are the articles' own.
    article_facts (id) {
        id -> Integer,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        unpublish_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        language -> Text,
        section_id -> Nullable<Integer>,
    }
}

diesel::table! {
    /// A view of the featured stories' ids (migration `2026-12-05-000021_featured_ids`),
    /// read from a small index of its own on SQLite.
    featured_articles (id) {
        id -> Integer,
    }
}

diesel::table! {
    /// What a search's matches are filtered by once the full-text statement has kept
    /// those readers see (migration `2026-12-06-000023_search_facts`), read from an
    /// index of its own on SQLite: narrower than the sitemap index.
    search_facts (id) {
        id -> Integer,
        language -> Text,
        section_id -> Nullable<Integer>,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(search_facts, featured_articles);
diesel::allow_tables_to_appear_in_same_query!(article_facts, articles);
diesel::allow_tables_to_appear_in_same_query!(article_facts, featured_articles);
diesel::allow_tables_to_appear_in_same_query!(article_facts, article_tags);

/// Stories readers may see at `now`, as [`super::visible_to_readers`] says it of the
/// article rows.
#[diesel::dsl::auto_type]
pub fn visible(now: chrono::NaiveDateTime) -> _ {
    let published: StoredStatus = StoredStatus::Published;
    article_facts::status
        .eq(published)
        .and(article_facts::published_at.le(now).assume_not_null())
        .and(
            article_facts::unpublish_at
                .is_null()
                .or(article_facts::unpublish_at.gt(now).assume_not_null()),
        )
        .and(article_facts::deleted_at.is_null())
}
