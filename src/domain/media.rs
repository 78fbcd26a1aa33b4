//! Media: images, video, audio and embeds with captions and credits.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::time::Timestamp;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::schema::media;

/// A media row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i32,
    pub kind: String,
    pub url: String,
    pub mime_type: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_seconds: Option<i32>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub alt_text: Option<String>,
    pub language: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// A media item as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Media {
    #[schema(example = 12)]
    pub id: i32,
    /// `image`, `video`, `audio` or `embed`.
    #[schema(example = "image")]
    pub kind: String,
    /// Absolute http(s) URL of the file or embed.
    #[schema(example = "https://cdn.example.com/2024/05/harbour.jpg")]
    pub url: String,
    #[schema(example = "image/jpeg")]
    pub mime_type: Option<String>,
    #[schema(example = 1600)]
    pub width: Option<i32>,
    #[schema(example = 900)]
    pub height: Option<i32>,
    pub duration_seconds: Option<i32>,
    #[schema(example = "Fishing boats return to the harbour at dawn.")]
    pub caption: Option<String>,
    #[schema(example = "AP")]
    pub credit: Option<String>,
    #[schema(example = "Boats in a harbour")]
    pub alt_text: Option<String>,
    #[schema(example = "en")]
    pub language: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<MediaRow> for Media {
    fn from(r: MediaRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            url: r.url,
            mime_type: r.mime_type,
            width: r.width,
            height: r.height,
            duration_seconds: r.duration_seconds,
            caption: r.caption,
            credit: r.credit,
            alt_text: r.alt_text,
            language: r.language,
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
        }
    }
}

/// True when a media item with this id exists.
pub fn exists(conn: &mut DbConn, id: i32) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(media::table.find(id))).get_result(conn)?)
}

/// Loads media by id in one query, for embedding in other views.
pub fn by_ids(conn: &mut DbConn, ids: &[i32]) -> AppResult<HashMap<i32, Media>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<MediaRow> = media::table
        .filter(media::id.eq_any(ids))
        .select(MediaRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, Media::from(r))).collect())
}
