//! From an uploaded file to stored files: processing off the async workers, at most
//! [`PROCESSING_AT_ONCE`] images at a time (each uses every core and up to three times
//! its decoded size in memory), then the original and its renditions written to the
//! store under their content hash. The database row is written by the caller after the
//! files are in place, so a row never names a missing file; files whose row never comes
//! (a failed insert) or whose rows are gone are removed by [`sweep`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::picture::{self, Format, PictureError, Processed};
use super::{Rendition, RenditionFormat, Uploaded};
use crate::db::{Db, DbConn};
use crate::error::{AppError, AppResult, FieldError};
use crate::files::{FileName, Files, FilesError};
use crate::schema::media;

/// Images processed at once per instance.
pub const PROCESSING_AT_ONCE: usize = 2;

/// What an upload needs to know.
#[derive(Debug, Clone)]
pub struct Rules {
    pub max_pixels: u64,
    pub widths: Vec<u32>,
}

/// The processing queue of an instance.
#[derive(Debug, Clone)]
pub struct Processor {
    permits: Arc<tokio::sync::Semaphore>,
}

impl Default for Processor {
    fn default() -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(PROCESSING_AT_ONCE)),
        }
    }
}

impl From<PictureError> for AppError {
    fn from(e: PictureError) -> Self {
        AppError::Validation(vec![FieldError::new("file", e.to_string())])
    }
}

impl From<FilesError> for AppError {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::NotFound => AppError::not_found("file"),
            FilesError::Store(reason) => {
                AppError::Unavailable(format!("the file store is unavailable: {reason}"))
            }
        }
    }
}

/// The hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// The API's name of a rendition's format.
fn format_of(ext: &str) -> RenditionFormat {
    if ext == "webp" {
        RenditionFormat::Webp
    } else {
        RenditionFormat::Jpeg
    }
}

impl Processor {
    /// Waits for a turn, then reads the spooled upload, checks its type (from its
    /// bytes) and pixel count (from its header, before decoding), processes it and
    /// stores its files. 415 for a type newsdesk does not take, 422 (`file`) for too
    /// many pixels or a file that does not decode. Uploads waiting for a turn hold
    /// only their temporary file, not their bytes.
    pub async fn store(
        &self,
        files: &Files,
        mut spooled: std::fs::File,
        rules: &Rules,
    ) -> AppResult<Uploaded> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable("the server is stopping".into()))?;
        let widths = rules.widths.clone();
        let max_pixels = rules.max_pixels;
        let processed = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Seek};
            let mut bytes = Vec::new();
            spooled
                .rewind()
                .and_then(|()| spooled.read_to_end(&mut bytes))
                .map_err(|e| AppError::Internal(format!("cannot read the spooled upload: {e}")))?;
            let format = Format::sniff(&bytes).ok_or_else(|| {
                AppError::UnsupportedMediaType(
                    "file: the bytes are not a JPEG, PNG, WebP or GIF image (the name and the \
                     part's Content-Type are not trusted)"
                        .into(),
                )
            })?;
            // Refused at the header, before anything is decoded.
            picture::check_size(&bytes, format, max_pixels)?;
            Ok::<_, AppError>(picture::process(&bytes, format, &widths, max_pixels)?)
        })
        .await
        .map_err(|e| AppError::Internal(format!("image processing stopped: {e}")))??;
        put_all(files, processed).await
    }
}

/// Writes an image's original and renditions and says what the media row holds.
pub async fn put_all(files: &Files, processed: Processed) -> AppResult<Uploaded> {
    let Processed {
        format,
        stored,
        width,
        height,
        dominant_color,
        placeholder,
        renditions,
    } = processed;
    let sha256 = sha256_hex(&stored);
    let bytes = stored.len() as i64;
    let original = FileName::original(&sha256, format.ext());
    let made = put_renditions(files, &sha256, renditions).await?;
    // The original last: once it is there, everything it names is.
    files.put(&original, Bytes::from(stored)).await?;
    let size = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(Uploaded {
        url: files.url(&original),
        mime_type: format.mime().to_owned(),
        width: size(width),
        height: size(height),
        bytes,
        sha256,
        dominant_color,
        placeholder,
        renditions: made,
    })
}

async fn put_renditions(
    files: &Files,
    sha256: &str,
    renditions: Vec<picture::Rendition>,
) -> AppResult<Vec<Rendition>> {
    let mut made = Vec::with_capacity(renditions.len());
    for r in renditions {
        let name = FileName::rendition(sha256, r.width, r.ext);
        files.put(&name, Bytes::from(r.bytes)).await?;
        made.push(Rendition {
            width: r.width,
            height: r.height,
            format: format_of(r.ext),
            url: files.url(&name),
        });
    }
    Ok(made)
}

/// Makes every uploaded image's renditions again at the configured widths (after
/// `MEDIA_WIDTHS` changed), and points the rows at them; returns how many contents
/// (distinct files) were remade.
pub async fn rebuild(
    db: &Db,
    files: &Files,
    rules: &Rules,
    mut progress: impl FnMut(u64, u64),
) -> AppResult<u64> {
    let contents: Vec<(String, String)> = db
        .read(|conn| {
            Ok(media::table
                .filter(media::sha256.is_not_null())
                .select((
                    media::sha256.assume_not_null(),
                    media::mime_type.assume_not_null(),
                ))
                .distinct()
                .load(conn)?)
        })
        .await?;
    let total = contents.len() as u64;
    let mut done = 0;
    for (sha256, mime) in contents {
        let Some(ext) = crate::files::ext_of(&mime) else {
            continue;
        };
        let original = FileName::original(&sha256, ext);
        let stored = files.get(&original, None).await?;
        // The original's address too follows MEDIA_PUBLIC_URL as it is now.
        let url = files.url(&original);
        let widths = rules.widths.clone();
        let max_pixels = rules.max_pixels;
        let processed = tokio::task::spawn_blocking(move || {
            picture::remake(&stored.bytes, &widths, max_pixels)
        })
        .await
        .map_err(|e| AppError::Internal(format!("image processing stopped: {e}")))??;
        let made = put_renditions(files, &sha256, processed.renditions).await?;
        let listed = serde_json::to_string(&made).unwrap_or_else(|_| "[]".into());
        let (colour, hash) = (processed.dominant_color, processed.placeholder);
        db.write_content(move |conn| {
            diesel::update(media::table.filter(media::sha256.eq(&sha256)))
                .set((
                    media::url.eq(url),
                    media::renditions.eq(listed),
                    media::dominant_color.eq(colour),
                    media::placeholder.eq(hash),
                ))
                .execute(conn)?;
            Ok(crate::db::Written::content((), crate::db::Scope::All))
        })
        .await?;
        done += 1;
        progress(done, total);
    }
    Ok(done)
}

/// True when some media item holds this content.
pub fn is_held(conn: &mut DbConn, sha256: &str) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        media::table.filter(media::sha256.eq(sha256)),
    ))
    .get_result(conn)?)
}

/// Removes the stored files no media item names any more, once they are older than
/// `grace` (see [`crate::files::SWEEP_GRACE`]); returns how many files went. Renditions
/// of widths no longer configured go with the next rebuild's sweep only when their
/// content is gone: a rebuild leaves old widths in place for pages cached with them.
pub async fn sweep(files: &Files, db: &Db, grace: Duration) -> AppResult<u64> {
    let listed = files.list().await?;
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(grace).unwrap_or_else(|_| chrono::Duration::zero());
    let mut hashes: Vec<String> = listed
        .iter()
        .filter(|(_, _, at)| *at <= cutoff)
        .map(|(_, sha, _)| sha.clone())
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    if hashes.is_empty() {
        return Ok(0);
    }
    let mut held: Vec<String> = db
        .read(move |conn| {
            let mut held = Vec::new();
            for chunk in hashes.chunks(500) {
                let found: Vec<Option<String>> = media::table
                    .filter(media::sha256.eq_any(chunk))
                    .select(media::sha256)
                    .distinct()
                    .load(conn)?;
                held.extend(found.into_iter().flatten());
            }
            Ok(held)
        })
        .await?;
    held.sort_unstable();
    let mut removed = 0;
    for (key, sha, at) in listed {
        if at <= cutoff && held.binary_search(&sha).is_err() {
            files.delete(&key).await?;
            removed += 1;
        }
    }
    Ok(removed)
}
