//! Creating, changing and deleting articles, with the roles' rules: writers create
//! drafts and edit only their own drafts; editors and admins do everything.

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ArticleHead, ArticleStatus, StoredStatus, find_head, get};
use crate::auth::Actor;
use crate::db::sqlite;
use crate::db::{DbConn, Scope, Written};
use crate::domain::input::{Change, Checker, Input, TextRule, UnknownFields};
use crate::domain::time::Timestamp;
use crate::domain::{
    Key, authors, breaking, markdown, media, regions, resolve_slugs, search, sections, tags,
};
use crate::error::{AppError, AppResult};
use crate::schema::{article_authors, article_regions, article_tags, articles};

const TITLE: TextRule = TextRule::line(1, 300);
const SUMMARY: TextRule = TextRule::block(1_000);
const SOURCE: TextRule = TextRule::line(1, 200);
/// Longest body, in bytes of Markdown.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_TAGS: usize = 30;
const MAX_AUTHORS: usize = 20;
const MAX_REGIONS: usize = 20;
const READ_ONLY: &[&str] = &[
    "id",
    "dir",
    "body_html",
    "word_count",
    "reading_time_minutes",
    "hero_media",
    "created_by",
    "created_at",
    "updated_at",
    "translations",
    "search",
];

/// Body of `POST /articles`.
#[derive(Debug, Default, Deserialize, ToSchema)]
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
    /// Slug of another edition of the story; `null` takes this one out of its group.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub translation_of: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// A body rendered for storage: sanitized HTML, words and reading time.
#[derive(Debug, Clone)]
pub struct Rendered {
    source: String,
    html: String,
    /// The text a reader reads, normalised for the search index.
    indexed: String,
    words: i32,
    minutes: i32,
}

fn render(body: &str) -> Rendered {
    let plain = markdown::plain_text(body);
    let words = markdown::word_count(&plain);
    Rendered {
        source: body.to_owned(),
        html: markdown::to_safe_html(body),
        indexed: search::normalize(&plain),
        words: i32::try_from(words).unwrap_or(i32::MAX),
        minutes: i32::try_from(markdown::reading_minutes(words)).unwrap_or(i32::MAX),
    }
}

/// Puts an article's current title, summary and body text in the search index.
fn index(
    conn: &mut DbConn,
    id: i32,
    title: &str,
    summary: Option<&str>,
    body: &Rendered,
) -> AppResult<()> {
    sqlite::fts_put(
        conn,
        id,
        &search::normalize(title),
        &search::normalize(summary.unwrap_or("")),
        &body.indexed,
    )
}

/// The edition group `translation_of` names, checked: the article exists and `actor`
/// may see it (one they may not see is answered exactly as one that does not exist, so
/// nobody joins, or learns of, another writer's draft), is not the one being written,
/// and its group has no other edition in `language` (409).
fn join_group(
    c: &mut Checker,
    conn: &mut DbConn,
    actor: Actor,
    of: &str,
    me: Option<i32>,
    language: &str,
) -> AppResult<Option<i32>> {
    let target: Option<ArticleHead> = articles::table
        .filter(articles::slug.eq(of))
        .select(ArticleHead::as_select())
        .get_result(conn)
        .optional()?;
    let now = Timestamp::now().0;
    let Some(target) = target.filter(|t| t.visible_to(Some(actor), now)) else {
        c.fail("translation_of", format!("no article with slug {of:?}"));
        return Ok(None);
    };
    let (target_id, target_group) = (target.id, target.translation_group);
    if Some(target_id) == me {
        c.fail(
            "translation_of",
            "an article cannot be a translation of itself",
        );
        return Ok(None);
    }
    let group = target_group.unwrap_or(target_id);
    check_language_free(conn, actor, group, language, me)?;
    if target_group.is_none() {
        diesel::update(articles::table.find(target_id))
            .set(articles::translation_group.eq(Some(group)))
            .execute(conn)?;
    }
    Ok(Some(group))
}

/// 409 when another edition of `group` is already in `language`. The detail names that
/// edition only to those who may see it.
fn check_language_free(
    conn: &mut DbConn,
    actor: Actor,
    group: i32,
    language: &str,
    me: Option<i32>,
) -> AppResult<()> {
    let taken: Option<ArticleHead> = articles::table
        .filter(articles::translation_group.eq(group))
        .filter(articles::language.eq(language))
        .filter(articles::id.ne(me.unwrap_or(0)))
        .select(ArticleHead::as_select())
        .get_result(conn)
        .optional()?;
    let Some(taken) = taken else {
        return Ok(());
    };
    let detail = if taken.visible_to(Some(actor), Timestamp::now().0) {
        format!(
            "{:?} is already this story's {language} edition",
            taken.slug
        )
    } else {
        format!("this story already has its {language} edition")
    };
    Err(AppError::Conflict {
        code: "translation_exists",
        detail,
    })
}

/// Renders a request's body ahead of its write, so that the Markdown and sanitizing
/// work happens outside the write transaction. `None` when there is nothing valid to
/// render (validation reports that inside the write).
pub fn prerender(body: &Input<String>) -> Option<Rendered> {
    match body {
        Input::Value(text) if text.len() <= MAX_BODY_BYTES => Some(render(text)),
        _ => None,
    }
}

/// The rendering of `text`: the one made ahead if it is of the same text.
fn rendered(text: &str, ahead: Option<Rendered>) -> Rendered {
    match ahead {
        Some(r) if r.source == text => r,
        _ => render(text),
    }
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

fn resolve_section(c: &mut Checker, conn: &mut DbConn, slug: &str) -> AppResult<Option<i32>> {
    let id = sections::id_of(conn, &Key::Slug(slug.to_owned()))?;
    if id.is_none() {
        c.fail("section", format!("no section with slug {slug:?}"));
    }
    Ok(id)
}

fn check_hero(c: &mut Checker, conn: &mut DbConn, id: i32) -> AppResult<()> {
    if !media::exists(conn, id)? {
        c.fail("hero_media_id", format!("no media with id {id}"));
    }
    Ok(())
}

/// The three ordered relation lists, resolved to ids.
#[derive(Debug, Default)]
struct RelationIds {
    tags: Option<Vec<i32>>,
    authors: Option<Vec<i32>>,
    regions: Option<Vec<i32>>,
}

fn resolve_relations(
    c: &mut Checker,
    conn: &mut DbConn,
    tag_slugs: Option<Vec<String>>,
    author_slugs: Option<Vec<String>>,
    region_slugs: Option<Vec<String>>,
) -> AppResult<RelationIds> {
    let mut ids = RelationIds::default();
    if let Some(slugs) = tag_slugs {
        let found = tags::ids_by_slug(conn, &slugs)?;
        ids.tags = Some(resolve_slugs(c, "tags", &slugs, MAX_TAGS, &found));
    }
    if let Some(slugs) = author_slugs {
        let found = authors::ids_by_slug(conn, &slugs)?;
        ids.authors = Some(resolve_slugs(c, "authors", &slugs, MAX_AUTHORS, &found));
    }
    if let Some(slugs) = region_slugs {
        let found = regions::ids_by_slug(conn, &slugs)?;
        ids.regions = Some(resolve_slugs(c, "regions", &slugs, MAX_REGIONS, &found));
    }
    Ok(ids)
}

/// Replaces an article's rows in one join table with `ids`, in order. A new article has
/// none to delete. Rows go in one at a time: a one-row INSERT is a statement SQLite
/// parses once and keeps, where a multi-row one is parsed anew for every length.
macro_rules! replace_links {
    ($conn:expr, $table:ident, $column:ident, $article:expr, $ids:expr, $new:expr) => {{
        if !$new {
            diesel::delete($table::table.filter($table::article_id.eq($article))).execute($conn)?;
        }
        for (position, id) in (0..).zip($ids) {
            diesel::insert_into($table::table)
                .values((
                    $table::article_id.eq($article),
                    $table::$column.eq(*id),
                    $table::position.eq(position),
                ))
                .execute($conn)?;
        }
    }};
}

fn save_relations(
    conn: &mut DbConn,
    article_id: i32,
    ids: &RelationIds,
    new_article: bool,
) -> AppResult<()> {
    if let Some(tag_ids) = &ids.tags {
        replace_links!(conn, article_tags, tag_id, article_id, tag_ids, new_article);
    }
    if let Some(author_ids) = &ids.authors {
        replace_links!(
            conn,
            article_authors,
            author_id,
            article_id,
            author_ids,
            new_article
        );
    }
    if let Some(region_ids) = &ids.regions {
        replace_links!(
            conn,
            article_regions,
            region_id,
            article_id,
            region_ids,
            new_article
        );
    }
    Ok(())
}

fn writers_cannot_publish() -> AppError {
    AppError::Forbidden("writers create and edit drafts; an editor publishes".into())
}

/// Creates an article for `actor` (inside the caller's write transaction).
pub fn create(
    conn: &mut DbConn,
    actor: Actor,
    body: ArticleCreate,
    languages: &[String],
    ahead: Option<Rendered>,
) -> AppResult<Written<super::Article>> {
    let mut c = Checker::new();
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
    let hero = c.optional("hero_media_id", body.hero_media_id);
    let featured = c.optional("featured", body.featured).unwrap_or(false);
    let status = c.optional("status", body.status);
    let published_at = c.optional("published_at", body.published_at);
    let tag_slugs = c.optional("tags", body.tags);
    let author_slugs = c.optional("authors", body.authors);
    let region_slugs = c.optional("regions", body.regions);
    let translation_of = c.optional("translation_of", body.translation_of);

    if publishes(status.as_deref()) && !actor.is_editor() {
        return Err(writers_cannot_publish());
    }
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    c.language("language", &language, languages);
    let group = match &translation_of {
        Some(of) => join_group(&mut c, conn, actor, of, None, &language)?,
        None => None,
    };
    if let Some(t) = &title {
        c.text("title", t, TITLE);
    }
    c.text_opt("summary", summary.as_deref(), SUMMARY);
    c.text_opt("source", source.as_deref(), SOURCE);
    check_body(&mut c, &text);
    let status = status.map_or(StoredStatus::Draft, |s| check_status(&mut c, &s));
    let section_id = match &section {
        Some(s) => resolve_section(&mut c, conn, s)?,
        None => None,
    };
    if let Some(id) = hero {
        check_hero(&mut c, conn, id)?;
    }
    let relations = resolve_relations(&mut c, conn, tag_slugs, author_slugs, region_slugs)?;
    c.finish()?;

    let title = title.unwrap_or_default();
    let slug = super::choose_slug(conn, slug, &title)?;
    let now = Timestamp::now();
    let published_at = match (published_at, status) {
        (Some(t), _) => Some(t.0),
        (None, StoredStatus::Published) => Some(now.0),
        (None, StoredStatus::Draft) => None,
    };
    let rendered = rendered(&text, ahead);
    let id: i32 = diesel::insert_into(articles::table)
        .values((
            articles::slug.eq(&slug),
            articles::language.eq(&language),
            articles::title.eq(&title),
            articles::summary.eq(&summary),
            articles::section_id.eq(section_id),
            articles::source.eq(&source),
            articles::hero_media_id.eq(hero),
            articles::featured.eq(featured),
            articles::status.eq(status),
            articles::published_at.eq(published_at),
            articles::word_count.eq(rendered.words),
            articles::reading_time_minutes.eq(rendered.minutes),
            articles::created_by.eq(Some(actor.id)),
            articles::created_at.eq(now.0),
            articles::updated_at.eq(now.0),
            articles::body_html.eq(&rendered.html),
            articles::body.eq(&text),
            articles::translation_group.eq(group),
        ))
        .returning(articles::id)
        .get_result(conn)?;
    save_relations(conn, id, &relations, true)?;
    index(conn, id, &title, summary.as_deref(), &rendered)?;
    let article = get(conn, &Key::Id(id), Some(actor))?;
    // Joining a translation group changes the other editions' pages too.
    let scope = if article.translations.as_ref().is_some_and(|t| !t.is_empty()) {
        Scope::All
    } else {
        Scope::ArticleCreated(article.facts())
    };
    Ok(Written::content(article, scope))
}

/// Whether `actor` may edit `head`: editors always; writers only their own drafts.
fn check_may_edit(actor: Actor, head: &ArticleHead) -> AppResult<()> {
    if actor.is_editor()
        || (head.status == StoredStatus::Draft && head.created_by == Some(actor.id))
    {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "writers may edit only the drafts they created".into(),
        ))
    }
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = articles)]
struct ArticleChanges {
    slug: Option<String>,
    language: Option<String>,
    title: Option<String>,
    summary: Option<Option<String>>,
    section_id: Option<Option<i32>>,
    source: Option<Option<String>>,
    hero_media_id: Option<Option<i32>>,
    featured: Option<bool>,
    status: Option<StoredStatus>,
    published_at: Option<Option<chrono::NaiveDateTime>>,
    word_count: Option<i32>,
    reading_time_minutes: Option<i32>,
    updated_at: Option<chrono::NaiveDateTime>,
    body_html: Option<String>,
    body: Option<String>,
    translation_group: Option<Option<i32>>,
}

/// Applies a PATCH as `actor` (inside the caller's write transaction).
pub fn update(
    conn: &mut DbConn,
    actor: Actor,
    key: &Key,
    body: ArticlePatch,
    languages: &[String],
    ahead: Option<Rendered>,
) -> AppResult<Written<super::Article>> {
    let head = find_head(conn, key, Some(actor))?;
    check_may_edit(actor, &head)?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.patch("slug", body.slug).into_option();
    let language = c.patch("language", body.language).into_option();
    let title = c.patch("title", body.title).into_option();
    let summary = c.patch_nullable("summary", body.summary).into_option();
    let text = c
        .patch_nullable("body", body.body)
        .into_option()
        .map(Option::unwrap_or_default);
    let section = c.patch_nullable("section", body.section);
    let source = c.patch_nullable("source", body.source).into_option();
    let hero = c.patch_nullable("hero_media_id", body.hero_media_id);
    let featured = c.patch("featured", body.featured).into_option();
    let status = c.patch("status", body.status).into_option();
    let published_at = c.patch_nullable("published_at", body.published_at);
    let tag_slugs = c.patch_nullable("tags", body.tags).into_option();
    let author_slugs = c.patch_nullable("authors", body.authors).into_option();
    let region_slugs = c.patch_nullable("regions", body.regions).into_option();
    let translation_of = c.patch_nullable("translation_of", body.translation_of);

    if publishes(status.as_deref()) && !actor.is_editor() {
        return Err(writers_cannot_publish());
    }
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(l) = &language {
        c.language("language", l, languages);
    }
    let final_language = language.clone().unwrap_or_else(|| head.language.clone());
    let group = match translation_of {
        Change::Keep => {
            // Changing language within a group must not clash with another edition.
            if let (Some(g), Some(_)) = (head.translation_group, &language) {
                check_language_free(conn, actor, g, &final_language, Some(head.id))?;
            }
            None
        }
        Change::Set(None) => Some(None),
        Change::Set(Some(of)) => {
            join_group(&mut c, conn, actor, &of, Some(head.id), &final_language)?.map(Some)
        }
    };
    if let Some(t) = &title {
        c.text("title", t, TITLE);
    }
    if let Some(Some(s)) = &summary {
        c.text("summary", s, SUMMARY);
    }
    if let Some(Some(s)) = &source {
        c.text("source", s, SOURCE);
    }
    if let Some(t) = &text {
        check_body(&mut c, t);
    }
    let status = status.map(|s| check_status(&mut c, &s));
    let section_id = match section {
        Change::Keep => None,
        Change::Set(None) => Some(None),
        Change::Set(Some(s)) => resolve_section(&mut c, conn, &s)?.map(Some),
    };
    if let Change::Set(Some(id)) = hero {
        check_hero(&mut c, conn, id)?;
    }
    let relations = resolve_relations(
        &mut c,
        conn,
        tag_slugs.map(Option::unwrap_or_default),
        author_slugs.map(Option::unwrap_or_default),
        region_slugs.map(Option::unwrap_or_default),
    )?;
    c.finish()?;
    if let Some(s) = &slug {
        super::ensure_slug_free(conn, s, Some(head.id))?;
    }

    let now = Timestamp::now().0;
    let new_status = status.unwrap_or(head.status);
    let published_at = match published_at {
        Change::Set(t) => Some(t.map(|t| t.0)),
        // Publishing without a time publishes now.
        Change::Keep if new_status == StoredStatus::Published && head.published_at.is_none() => {
            Some(Some(now))
        }
        Change::Keep => None,
    };
    if new_status == StoredStatus::Published && published_at == Some(None) {
        return Err(AppError::invalid(
            "published_at",
            "a published article needs published_at; leave it out to publish now",
        ));
    }
    let rendered = text.as_deref().map(|t| rendered(t, ahead));
    let reindex = rendered.is_some() || title.is_some() || summary.is_some();
    let index_title = title.clone().unwrap_or_else(|| head.title.clone());
    let index_summary = match &summary {
        Some(s) => s.clone(),
        None => head.summary.clone(),
    };
    let index_body = match &rendered {
        Some(r) => r.clone(),
        None if reindex => {
            let stored: String = articles::table
                .find(head.id)
                .select(articles::body)
                .get_result(conn)?;
            render(&stored)
        }
        None => render(""),
    };
    let changes = ArticleChanges {
        slug,
        language,
        title,
        summary,
        section_id,
        source,
        hero_media_id: hero.into_option(),
        featured,
        status,
        published_at,
        word_count: rendered.as_ref().map(|r| r.words),
        reading_time_minutes: rendered.as_ref().map(|r| r.minutes),
        updated_at: Some(now),
        body_html: rendered.map(|r| r.html),
        body: text,
        translation_group: group,
    };
    diesel::update(articles::table.find(head.id))
        .set(&changes)
        .execute(conn)?;
    save_relations(conn, head.id, &relations, false)?;
    if reindex {
        index(
            conn,
            head.id,
            &index_title,
            index_summary.as_deref(),
            &index_body,
        )?;
    }
    let article = get(conn, &Key::Id(head.id), Some(actor))?;
    if head.is_public(now) && article.status != ArticleStatus::Published {
        let items = breaking::linking_to(conn, head.id)?;
        breaking::article_withdrawn(conn, &items, now)?;
    }
    Ok(Written::content(article, Scope::All))
}

/// Deletes an article with its relations (editors; checked at the route).
pub fn delete(conn: &mut DbConn, actor: Actor, key: &Key) -> AppResult<Written<()>> {
    let head = find_head(conn, key, Some(actor))?;
    // Read before the delete unlinks them.
    let items = breaking::linking_to(conn, head.id)?;
    diesel::delete(articles::table.find(head.id)).execute(conn)?;
    sqlite::fts_remove(conn, head.id)?;
    let now = Timestamp::now().0;
    if head.is_public(now) {
        breaking::article_withdrawn(conn, &items, now)?;
    }
    Ok(Written::content((), Scope::All))
}
