//! Article write bodies and their rules, checked without the database (every problem at once).

use serde::Deserialize;
use utoipa::ToSchema;

use super::{ArticleStatus, StoredStatus};
use crate::auth::Actor;
use crate::domain::input::{Change, Checker, Input, Mark, TextRule, UnknownFields};
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};

const TITLE: TextRule = TextRule::line(1, 300);
const SUMMARY: TextRule = TextRule::block(1_000);
const SOURCE: TextRule = TextRule::line(1, 200);
/// Longest body, in bytes of Markdown.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const READ_ONLY: &[&str] = &[
    "id",
    "dir",
    "body_html",
    "word_count",
    "reading_time_minutes",
    "hero_media",
    "created_by",
    "created_at",
    "corrections",
    "updated_at",
    "translations",
    "search",
];

/// Body of `POST /articles`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ArticleCreate {
    /// Made from `title` when left out.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "ceasefire-talks-resume-in-cairo")]
    pub slug: Input<String>,
    /// One of the configured languages; defaults to the first.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "en")]
    pub language: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "Ceasefire talks resume in Cairo")]
    pub title: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub summary: Input<String>,
    /// Markdown, at most 1 MiB.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub body: Input<String>,
    /// Section slug.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "politics")]
    pub section: Input<String>,
    /// Region slugs.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, example = json!(["mena"]))]
    pub regions: Input<Vec<String>>,
    /// Tag slugs.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, example = json!(["ceasefire-talks"]))]
    pub tags: Input<Vec<String>>,
    /// Author slugs in byline order.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, example = json!(["leila-haddad"]))]
    pub authors: Input<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Agencies")]
    pub source: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub hero_media_id: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub featured: Input<bool>,
    /// `draft` (default) or `published`; writers may only create drafts.
    #[serde(default)]
    #[schema(value_type = Option<StoredStatus>)]
    pub status: Input<String>,
    /// Defaults to now when published; a future time schedules the article.
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub published_at: Input<Timestamp>,
    /// When readers stop seeing it (an embargo's end); after `published_at`.
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub unpublish_at: Input<Timestamp>,
    /// Slug of another edition of the same story (in another language).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "ceasefire-talks-resume-in-cairo")]
    pub translation_of: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /articles/{id_or_slug}`: only the fields to change; `null` clears an
/// optional field (and empties a list).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ArticlePatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub language: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub title: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub summary: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub body: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub section: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub regions: Input<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Input<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub authors: Input<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub source: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub hero_media_id: Input<i32>,
    #[serde(default)]
    #[schema(value_type = bool)]
    pub featured: Input<bool>,
    /// `draft` or `published` (editors only).
    #[serde(default)]
    #[schema(value_type = StoredStatus)]
    pub status: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub published_at: Input<Timestamp>,
    /// When readers stop seeing it; `null` lifts the embargo.
    #[serde(default)]
    #[schema(value_type = Option<Timestamp>)]
    pub unpublish_at: Input<Timestamp>,
    /// Slug of another edition of the story; `null` takes this one out of its group.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub translation_of: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// A create body that passed every rule the database is not needed for; the names it
/// holds (section, tags, translation...) are still to be resolved.
#[derive(Debug)]
pub struct ArticleDraft {
    pub slug: Option<String>,
    pub language: String,
    /// Empty only when missing, which the checker has recorded.
    pub title: String,
    pub summary: Option<String>,
    pub body: String,
    pub section: Option<String>,
    pub source: Option<String>,
    pub hero_media_id: Option<i32>,
    pub featured: bool,
    pub status: StoredStatus,
    pub published_at: Option<Timestamp>,
    pub unpublish_at: Option<Timestamp>,
    pub tags: Option<Vec<String>>,
    pub authors: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub translation_of: Option<String>,
    /// Where a problem with `translation_of` is listed.
    pub translation_at: Mark,
}

/// A PATCH body that passed every rule the database is not needed for: each field as
/// the change it asks for. A `null` body is an empty one and a `null` list an empty list.
#[derive(Debug)]
pub struct ArticleEdit {
    pub slug: Change<String>,
    pub language: Change<String>,
    pub title: Change<String>,
    pub summary: Change<Option<String>>,
    pub body: Change<String>,
    pub section: Change<Option<String>>,
    pub source: Change<Option<String>>,
    pub hero_media_id: Change<Option<i32>>,
    pub featured: Change<bool>,
    pub status: Change<StoredStatus>,
    pub published_at: Change<Option<Timestamp>>,
    pub unpublish_at: Change<Option<Timestamp>>,
    pub tags: Change<Vec<String>>,
    pub authors: Change<Vec<String>>,
    pub regions: Change<Vec<String>>,
    pub translation_of: Change<Option<String>>,
    /// Where a problem with `translation_of` is listed.
    pub translation_at: Mark,
}

/// Checks a create body as `actor`, recording every problem in `c`; a writer asking to
/// publish is refused at once (403).
pub fn check_create(
    c: &mut Checker,
    actor: Actor,
    body: ArticleCreate,
    languages: &[String],
) -> AppResult<ArticleDraft> {
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.optional("slug", body.slug);
    let language = c
        .optional("language", body.language)
        .unwrap_or_else(|| languages[0].clone());
    let title = c.required("title", body.title);
    let summary = c.optional("summary", body.summary);
    let text = c.optional("body", body.body).unwrap_or_default();
    let section = c.optional("section", body.section);
    let source = c.optional("source", body.source);
    let hero_media_id = c.optional("hero_media_id", body.hero_media_id);
    let featured = c.optional("featured", body.featured).unwrap_or(false);
    let status = c.optional("status", body.status);
    let published_at = c.optional("published_at", body.published_at);
    let unpublish_at = c.optional("unpublish_at", body.unpublish_at);
    let tags = c.optional("tags", body.tags);
    let authors = c.optional("authors", body.authors);
    let regions = c.optional("regions", body.regions);
    let translation_of = c.optional("translation_of", body.translation_of);

    if publishes(status.as_deref()) && !actor.is_editor() {
        return Err(writers_cannot_publish());
    }
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    c.language("language", &language, languages);
    let translation_at = c.mark();
    if let Some(t) = &title {
        c.text("title", t, TITLE);
    }
    c.text_opt("summary", summary.as_deref(), SUMMARY);
    c.text_opt("source", source.as_deref(), SOURCE);
    check_body(c, &text);
    let status = status.map_or(StoredStatus::Draft, |s| check_status(c, &s));
    if let (Some(p), Some(u)) = (&published_at, &unpublish_at)
        && u.0 <= p.0
    {
        c.fail("unpublish_at", "must be after published_at");
    }
    Ok(ArticleDraft {
        slug,
        language,
        title: title.unwrap_or_default(),
        summary,
        body: text,
        section,
        source,
        hero_media_id,
        featured,
        status,
        published_at,
        unpublish_at,
        tags,
        authors,
        regions,
        translation_of,
        translation_at,
    })
}

/// Checks a PATCH body as `actor`, recording every problem in `c`; a writer asking to
/// publish is refused at once (403).
pub fn check_patch(
    c: &mut Checker,
    actor: Actor,
    body: ArticlePatch,
    languages: &[String],
) -> AppResult<ArticleEdit> {
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.patch("slug", body.slug);
    let language = c.patch("language", body.language);
    let title = c.patch("title", body.title);
    let summary = c.patch_nullable("summary", body.summary);
    let text = c
        .patch_nullable("body", body.body)
        .map(Option::unwrap_or_default);
    let section = c.patch_nullable("section", body.section);
    let source = c.patch_nullable("source", body.source);
    let hero_media_id = c.patch_nullable("hero_media_id", body.hero_media_id);
    let featured = c.patch("featured", body.featured);
    let status = c.patch("status", body.status);
    let published_at = c.patch_nullable("published_at", body.published_at);
    let unpublish_at = c.patch_nullable("unpublish_at", body.unpublish_at);
    let tags = c.patch_nullable("tags", body.tags);
    let authors = c.patch_nullable("authors", body.authors);
    let regions = c.patch_nullable("regions", body.regions);
    let translation_of = c.patch_nullable("translation_of", body.translation_of);

    if let Change::Set(s) = &status
        && publishes(Some(s))
        && !actor.is_editor()
    {
        return Err(writers_cannot_publish());
    }
    if let Change::Set(s) = &slug {
        c.slug("slug", s);
    }
    if let Change::Set(l) = &language {
        c.language("language", l, languages);
    }
    let translation_at = c.mark();
    if let Change::Set(t) = &title {
        c.text("title", t, TITLE);
    }
    if let Change::Set(Some(s)) = &summary {
        c.text("summary", s, SUMMARY);
    }
    if let Change::Set(Some(s)) = &source {
        c.text("source", s, SOURCE);
    }
    if let Change::Set(t) = &text {
        check_body(c, t);
    }
    let status = status.map(|s| check_status(c, &s));
    Ok(ArticleEdit {
        slug,
        language,
        title,
        summary,
        body: text,
        section,
        source,
        hero_media_id,
        featured,
        status,
        published_at,
        unpublish_at,
        tags: tags.map(Option::unwrap_or_default),
        authors: authors.map(Option::unwrap_or_default),
        regions: regions.map(Option::unwrap_or_default),
        translation_of,
        translation_at,
    })
}

/// The `published_at` an edit writes (`None` leaves the column as it is), given the
/// status the article will have and the time it had: publishing without a time
/// publishes now, and a published article cannot lose its time (422).
pub fn publication_time(
    asked: Change<Option<Timestamp>>,
    new_status: StoredStatus,
    had: Option<chrono::NaiveDateTime>,
    now: chrono::NaiveDateTime,
) -> AppResult<Option<Option<chrono::NaiveDateTime>>> {
    let published = new_status == StoredStatus::Published;
    let time = match asked {
        Change::Set(t) => Some(t.map(|t| t.0)),
        Change::Keep if published && had.is_none() => Some(Some(now)),
        Change::Keep => None,
    };
    if published && time == Some(None) {
        return Err(AppError::invalid(
            "published_at",
            "a published article needs published_at; leave it out to publish now",
        ));
    }
    Ok(time)
}

/// The stored status `status` names. Anything else is recorded in `c` (and reads as a
/// draft, which `c.finish()` never lets through).
fn check_status(c: &mut Checker, status: &str) -> StoredStatus {
    if let Some(stored) = StoredStatus::parse(status) {
        return stored;
    }
    if ArticleStatus::parse(status) == Some(ArticleStatus::Scheduled) {
        c.fail(
            "status",
            format!(
                "{status} is shown, not set: send {} with a future published_at",
                StoredStatus::Published
            ),
        );
    } else {
        c.fail(
            "status",
            format!("must be {}", StoredStatus::WORDS.join(" or ")),
        );
    }
    StoredStatus::Draft
}

/// True when `status` asks to publish.
fn publishes(status: Option<&str>) -> bool {
    status.and_then(StoredStatus::parse) == Some(StoredStatus::Published)
}

/// The body's size is counted in bytes; its characters follow the rule of every
/// multi-line text (the character limit can never be the one that fails).
fn check_body(c: &mut Checker, body: &str) {
    const BODY: TextRule = TextRule::block(MAX_BODY_BYTES);
    if body.len() > MAX_BODY_BYTES {
        c.fail("body", format!("must be at most {MAX_BODY_BYTES} bytes"));
    } else {
        c.text("body", body, BODY);
    }
}

fn writers_cannot_publish() -> AppError {
    AppError::Forbidden("writers create and edit drafts; an editor publishes".into())
}

#[cfg(test)]
mod tests;
