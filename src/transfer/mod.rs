//! Moving a newsroom in and out: `newsdesk export` writes every resource as NDJSON,
//! `newsdesk import` loads such a file (or a WordPress or Ghost export) into an empty
//! database of either backend.
//!
//! The file is one JSON object per line. The first line is a header
//! (`{"type": "newsdesk-export", "version": 1, "export_id", "exported_at", ...}`); every
//! other line is a record `{"type": KIND, "data": {...}, ...}` whose `data` is exactly
//! the body that `POST` of that resource takes (relations by slug, localized names
//! included), so an import checks each record as the API would, renders every body
//! again and never trusts HTML. What a create body cannot carry travels beside `data`:
//! `created_at` and `updated_at` (kept on import), an article's `created_by` (an email),
//! `deleted_at` (trashed) and `old_slugs`; a media item's `key` (media have no slug;
//! `hero_media_id` and `avatar_media_id` name keys) and, for uploaded images, `stored`
//! (hash, size, renditions) and with `--with-files` the file itself in `file` (base64).
//! Parents come before children: users, media, authors, regions, tags, sections
//! (parents first), articles (editions after the one they translate), their
//! corrections and revisions, collections, breaking items.

pub mod export;
pub mod ghost;
pub mod import;
pub mod wordpress;

/// The header line's `type`.
pub const FORMAT: &str = "newsdesk-export";
/// The version of the format this build writes and reads.
pub const VERSION: i64 = 1;

/// The kinds of record, in the order an export writes them.
pub const KINDS: &[&str] = &[
    "user",
    "media",
    "author",
    "region",
    "tag",
    "section",
    "article",
    "correction",
    "revision",
    "collection",
    "breaking",
];
