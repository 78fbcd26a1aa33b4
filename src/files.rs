//! Where uploaded files live: a local directory (`MEDIA_DIR`) or an S3-compatible bucket
//! (`MEDIA_STORE_URL=s3://bucket/prefix`), behind one [`Files`] interface.
//!
//! Files are addressed by the SHA-256 of their bytes, so the same bytes are one file
//! however often they are uploaded, and a name never changes what it holds:
//!
//! - the original: `<sha256>.<ext>` (`ext` one of `jpg`, `png`, `webp`, `gif`);
//! - a rendition: `<sha256>/<width>.<format>` (`format` `webp` or `jpg`).
//!
//! Public addresses are `MEDIA_PUBLIC_URL/<name>` when that is set (a CDN or the
//! bucket's own address), else `PUBLIC_BASE_URL/files/<name>`, served by this process.
//! A file no longer named by any media item is removed by the scheduler's sweep once it
//! is older than [`SWEEP_GRACE`] (so an upload in flight, whose row is not written yet,
//! is never swept).

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::path::Path as StorePath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};

/// A file younger than this is never swept, referenced or not.
pub const SWEEP_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Where files are kept, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A directory on this machine.
    Local(PathBuf),
    /// An S3-compatible bucket: `s3://bucket[/prefix]` and the builder's options
    /// (`aws_endpoint`, `aws_access_key_id`, ... from the `AWS_*` settings).
    S3 {
        url: String,
        options: Vec<(String, String)>,
    },
}

/// The file store of a running newsdesk.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
    /// The directory, when the store is local (served with `actix-files`).
    local_dir: Option<PathBuf>,
    /// Base of public addresses, without a trailing slash.
    public_base: String,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files")
            .field("local_dir", &self.local_dir)
            .field("public_base", &self.public_base)
            .finish_non_exhaustive()
    }
}

/// A file the store could not give or take.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("no such file")]
    NotFound,
    #[error("file store: {0}")]
    Store(String),
}

impl From<object_store::Error> for FilesError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => FilesError::NotFound,
            // The message names the store and the key, never a credential.
            other => FilesError::Store(other.to_string()),
        }
    }
}

/// What a file name says: the content hash, the rendition width (none for the
/// original) and the extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub sha256: String,
    pub width: Option<u32>,
    pub ext: &'static str,
}

/// Extensions of originals and renditions, with their media types.
pub const TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("webp", "image/webp"),
    ("gif", "image/gif"),
];

/// The extension of a media type, when it is one newsdesk stores.
pub fn ext_of(mime: &str) -> Option<&'static str> {
    TYPES.iter().find(|(_, m)| *m == mime).map(|(e, _)| *e)
}

/// The media type of a stored file's extension.
pub fn mime_of(ext: &str) -> &'static str {
    TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map_or("application/octet-stream", |(_, m)| *m)
}

impl FileName {
    /// The original file of this content.
    pub fn original(sha256: &str, ext: &'static str) -> Self {
        Self {
            sha256: sha256.to_owned(),
            width: None,
            ext,
        }
    }

    /// A rendition of this content.
    pub fn rendition(sha256: &str, width: u32, ext: &'static str) -> Self {
        Self {
            sha256: sha256.to_owned(),
            width: Some(width),
            ext,
        }
    }

    /// Reads a name from a `/files/…` path (without the prefix). Anything that is not
    /// exactly a name newsdesk makes is `None`: no listing, no `..`, no other files.
    pub fn parse(name: &str) -> Option<Self> {
        let (sha, rest) = name.split_at_checked(64)?;
        if !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let ext_named = |e: &str| TYPES.iter().map(|(x, _)| *x).find(|x| *x == e);
        if let Some(ext) = rest.strip_prefix('.') {
            return Some(Self::original(sha, ext_named(ext)?));
        }
        let (width, ext) = rest.strip_prefix('/')?.split_once('.')?;
        let ok_width = !width.is_empty()
            && width.len() <= 5
            && width.bytes().all(|b| b.is_ascii_digit())
            && !width.starts_with('0');
        let ext = ext_named(ext).filter(|e| matches!(*e, "webp" | "jpg"))?;
        let width = width.parse().ok().filter(|_| ok_width)?;
        Some(Self::rendition(sha, width, ext))
    }

    /// The name inside the store (and after `/files/`).
    pub fn key(&self) -> String {
        match self.width {
            None => format!("{}.{}", self.sha256, self.ext),
            Some(w) => format!("{}/{w}.{}", self.sha256, self.ext),
        }
    }

    /// A strong validator: the name says what the bytes are.
    pub fn etag(&self) -> String {
        match self.width {
            None => format!("\"{}\"", self.sha256),
            Some(w) => format!("\"{}-{w}-{}\"", self.sha256, self.ext),
        }
    }
}

/// A file read from the store, whole or in part.
pub struct Fetched {
    pub bytes: Bytes,
    /// The whole file's length.
    pub total: u64,
}

impl Files {
    /// Opens the configured store; `public_base` is `MEDIA_PUBLIC_URL`, or the public
    /// base URL with `/files`.
    pub fn open(config: &StoreConfig, public_base: &str) -> Result<Self, FilesError> {
        let public_base = public_base.trim_end_matches('/').to_owned();
        match config {
            StoreConfig::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    FilesError::Store(format!("cannot create {}: {e}", dir.display()))
                })?;
                let dir = dir
                    .canonicalize()
                    .map_err(|e| FilesError::Store(format!("{}: {e}", dir.display())))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)?
                    .with_automatic_cleanup(true);
                Ok(Self {
                    store: Arc::new(store),
                    local_dir: Some(dir),
                    public_base,
                })
            }
            StoreConfig::S3 { url, options } => {
                let mut builder = object_store::aws::AmazonS3Builder::new().with_url(url.clone());
                // `AWS_*` settings the store does not know (AWS_PROFILE...) are other
                // tools' business.
                for (key, value) in options {
                    if let Ok(key) = key.parse() {
                        builder = builder.with_config(key, value.clone());
                    }
                }
                let store = builder.build()?;
                // `s3://bucket/prefix`: the part after the bucket prefixes every key.
                let prefix = url::Url::parse(url)
                    .ok()
                    .map(|u| u.path().trim_matches('/').to_owned())
                    .unwrap_or_default();
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(store)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(
                        store,
                        prefix.as_str(),
                    ))
                };
                Ok(Self {
                    store,
                    local_dir: None,
                    public_base,
                })
            }
        }
    }

    /// The public address of a file.
    pub fn url(&self, name: &FileName) -> String {
        format!("{}/{}", self.public_base, name.key())
    }

    /// The file on this machine's disk, when the store is a local directory.
    pub fn local_path(&self, name: &FileName) -> Option<PathBuf> {
        self.local_dir.as_ref().map(|d| d.join(name.key()))
    }

    /// True when the file is stored.
    pub async fn exists(&self, name: &FileName) -> Result<bool, FilesError> {
        match self.store.head(&StorePath::from(name.key())).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a file (atomically: readers see the old state or the whole file).
    pub async fn put(&self, name: &FileName, bytes: Bytes) -> Result<(), FilesError> {
        self.store
            .put(&StorePath::from(name.key()), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// Reads a file, or the byte range `start..end` of it.
    pub async fn get(
        &self,
        name: &FileName,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<Fetched, FilesError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = self
            .store
            .get_opts(&StorePath::from(name.key()), options)
            .await?;
        let total = got.meta.size;
        Ok(Fetched {
            bytes: got.bytes().await?,
            total,
        })
    }

    /// The size of a stored file.
    pub async fn size(&self, name: &FileName) -> Result<u64, FilesError> {
        Ok(self.store.head(&StorePath::from(name.key())).await?.size)
    }

    /// Removes a file; one already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), FilesError> {
        match self.store.delete(&StorePath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every stored file: its name in the store, the content hash it belongs to, and
    /// when it was last written.
    pub async fn list(
        &self,
    ) -> Result<Vec<(String, String, chrono::DateTime<chrono::Utc>)>, FilesError> {
        let mut out = Vec::new();
        let mut listing = self.store.list(None);
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            let key = meta.location.to_string();
            let sha: String = key.chars().take(64).collect();
            if FileName::parse(&key).is_some() {
                out.push((key, sha, meta.last_modified));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7";

    #[test]
    fn names_round_trip_and_nothing_else_is_a_name() {
        for name in [
            FileName::original(SHA, "jpg"),
            FileName::original(SHA, "gif"),
            FileName::rendition(SHA, 640, "webp"),
            FileName::rendition(SHA, 2400, "jpg"),
        ] {
            assert_eq!(FileName::parse(&name.key()), Some(name.clone()));
        }
        for bad in [
            "",
            "..",
            "../newsdesk.db",
            SHA,
            &format!("{SHA}.exe"),
            &format!("{SHA}.JPG"),
            &format!("{SHA}/"),
            &format!("{SHA}/640.png"),
            &format!("{SHA}/0640.webp"),
            &format!("{SHA}/640.webp/x"),
            &format!("{SHA}/../x.jpg"),
            &format!("{}.jpg", SHA.to_uppercase()),
            &format!("{}.jpg", &SHA[1..]),
        ] {
            assert_eq!(FileName::parse(bad), None, "{bad:?}");
        }
    }
}
