//! Creating, changing and deleting articles, with the roles' rules: writers create
//! drafts and edit only their own drafts; editors and admins do everything.
//!
//! A write runs in three stages: the body is checked on its own ([`super::form`]), the
//! names it holds are resolved against the database into the same list of problems
//! (`articles/resolve.rs`), and only a write with none is persisted, here.

use std::sync::Arc;

use diesel::prelude::*;

use super::form::{ArticleDraft, ArticleEdit, check_create, check_patch, publication_time};
pub use super::resolve::Known;
use super::resolve::{DraftRefs, EditRefs, RelationIds, resolve_draft, resolve_edit};
use super::revisions::{self, RevisionFields};
use super::{ArticleHead, ArticleStatus, StoredStatus, find_head, get};
use crate::auth::Actor;
use crate::db::{DbConn, Scope, Written};
use crate::domain::audit::{self, Action};
use crate::domain::feeds::Site;
use crate::domain::input::{Checker, Input};
use crate::domain::time::Timestamp;
use crate::domain::{Key, breaking, counts, markdown, search};
use crate::error::{AppError, AppResult};
use crate::schema::{article_authors, article_regions, article_tags, articles};
use crate::webhooks::lifecycle::Created;

pub use super::form::{ArticleCreate, ArticlePatch, MAX_BODY_BYTES};

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

/// Puts an article's current title, summary and body text in the search index in place
/// of what was there.
fn index(
    conn: &mut DbConn,
    id: i32,
    title: &str,
    summary: Option<&str>,
    body: &Rendered,
) -> AppResult<()> {
    let (title, summary) = (
        search::normalize(title),
        search::normalize(summary.unwrap_or("")),
    );
    crate::db::dialect::fts_put(conn, id, &title, &summary, &body.indexed)
}

/// Puts a stored article in the search index from its Markdown body (a copy between
/// backends rebuilds the index this way).
pub fn reindex(
    conn: &mut DbConn,
    id: i32,
    title: &str,
    summary: Option<&str>,
    body: &str,
) -> AppResult<()> {
    index(conn, id, title, summary, &render(body))
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

/// Writes the rows of one join table for `links` (each article's id, its linked ids in
/// order, its publication time), replacing what an existing article had.
macro_rules! write_links {
    // Links carry their story's publication time, for the indexes of a tag's, an
    // author's and a region's stories by time, and tag links its language too. They
    // are written here, whole: the database moves them when a story's time or language
    // changes, but no longer fills them in on insert (`newsdesk recount` mends rows
    // written otherwise).
    ($conn:expr, $table:ident, $column:ident, $links:expr, $new:expr $(, $language:ident)?) => {{
        // Tag links hold their story's language too.
        let with_language = false $(|| !stringify!($language).is_empty())?;
        let mut rows = Vec::new();
        for (article, ids, time, language) in $links {
            if !$new {
                crate::on_backend!(&mut *$conn, |c| diesel::delete(
                    $table::table.filter($table::article_id.eq(article))
                )
                .execute(c)?);
            }
            rows.extend((0..).zip(ids).map(|(position, id)| {
                (article, *id, position, time, with_language.then_some(language))
            }));
        }
        match &mut *$conn {
            // On PostgreSQL every row in one statement of arrays, whatever their number:
            // one round trip, and a text the connection keeps prepared (a multi-row
            // `INSERT` is parsed and planned again for every number of rows).
            DbConn::Postgres(c) if !rows.is_empty() => {
                use diesel::sql_types::{Array, Integer, Nullable, Text, Timestamp};
                let mut articles = Vec::with_capacity(rows.len());
                let mut linked = Vec::with_capacity(rows.len());
                let mut positions = Vec::with_capacity(rows.len());
                let mut times = Vec::with_capacity(rows.len());
                let mut languages = Vec::with_capacity(rows.len());
                for row in &rows {
                    articles.push(row.0);
                    linked.push(row.1);
                    positions.push(row.2);
                    times.push(row.3);
                    languages.push(row.4);
                }
                let (language_column, language_value) = match with_language {
                    true => (", language", ", ?"),
                    false => ("", ""),
                };
                let text = format!(
                    "INSERT INTO {} (article_id, {}, position, published_at{language_column}) \
                     SELECT * FROM unnest(?, ?, ?, ?{language_value})",
                    stringify!($table),
                    stringify!($column),
                );
                let query = crate::db::kept::sql(&text)
                    .bind::<Array<Integer>, _>(articles)
                    .bind::<Array<Integer>, _>(linked)
                    .bind::<Array<Integer>, _>(positions)
                    .bind::<Array<Nullable<Timestamp>>, _>(times);
                match with_language {
                    true => query.bind::<Array<Nullable<Text>>, _>(languages),
                    false => query,
                }
                .execute(c)?;
            }
            conn => {
                for row in rows {
                    crate::on_backend!(&mut *conn, |c| diesel::insert_into($table::table)
                        .values((
                            $table::article_id.eq(row.0),
                            $table::$column.eq(row.1),
                            $table::position.eq(row.2),
                            $table::published_at.eq(row.3),
                            $($table::$language.eq(row.4),)?
                        ))
                        .execute(c)?);
                }
            }
        }
    }};
}

/// Writes the links of each of `articles` (its id, its resolved relations, and its
/// publication time and language once the write is done); `new_articles` have none to
/// replace. A relation left `None` is left as it is.
fn save_relations(
    conn: &mut DbConn,
    articles: &[(i32, &RelationIds, Option<chrono::NaiveDateTime>, &str)],
    new_articles: bool,
) -> AppResult<()> {
    let of = |pick: fn(&RelationIds) -> &Option<Vec<i32>>| {
        articles.iter().filter_map(move |(id, r, time, language)| {
            pick(r).as_ref().map(|ids| (*id, ids, *time, *language))
        })
    };
    write_links!(
        conn,
        article_tags,
        tag_id,
        of(|r| &r.tags),
        new_articles,
        language
    );
    write_links!(
        conn,
        article_authors,
        author_id,
        of(|r| &r.authors),
        new_articles
    );
    write_links!(
        conn,
        article_regions,
        region_id,
        of(|r| &r.regions),
        new_articles
    );
    Ok(())
}

/// Creates an article for `actor` (inside the caller's write transaction).
pub fn create(
    conn: &mut DbConn,
    actor: Actor,
    body: ArticleCreate,
    languages: &[String],
    ahead: Option<Rendered>,
    site: &Site,
) -> AppResult<Written<(super::Article, Option<Arc<super::Links>>)>> {
    let given = Given {
        rendered: ahead,
        times: None,
    };
    let known = &mut Known::default();
    let new = check_new(conn, known, actor, body, languages, given)?;
    let mut written = write_all(conn, known, vec![new])?;
    let Some((made, entry)) = written.pop() else {
        return Err(AppError::Internal("a create wrote no article".into()));
    };
    crate::db::dialect::fts_insert(conn, entry.id, &entry.title, &entry.summary, &entry.body)?;
    // Read back for the response; its links go to the list pages' memo once the write
    // has committed (`http::routes::articles::create_article`).
    let (article, links) = super::get_with_links(conn, &Key::Id(made.id), Some(actor), site)?;
    // Joining a translation group changes the other editions' pages too.
    let scope = if article.translations.as_ref().is_some_and(|t| !t.is_empty()) {
        Scope::All
    } else {
        Scope::ArticleCreated(article.facts())
    };
    Ok(Written::content((article, links), scope))
}

/// A new article's id and slug.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub id: i32,
    pub slug: String,
}

/// What the search index gets for an article: its id and normalised title, summary and
/// body text.
#[derive(Debug, Clone)]
pub struct SearchEntry {
    pub id: i32,
    pub title: String,
    pub summary: String,
    pub body: String,
}

/// What the writer of a new article may already have for it.
#[derive(Debug, Default)]
pub struct Given {
    /// Its body, rendered ahead of the write ([`prerender`]).
    pub rendered: Option<Rendered>,
    /// When it was created and last updated in the newsroom it comes from (an
    /// import); `None`: now.
    pub times: Option<(chrono::NaiveDateTime, chrono::NaiveDateTime)>,
}

/// A new article checked and resolved ([`check_new`]), with everything its rows will
/// hold, not yet written: [`create_many`] writes many in a few statements.
pub struct Unwritten {
    actor: Actor,
    /// The actor's name, for the revision and the audit entry.
    name: Option<String>,
    d: ArticleDraft,
    refs: DraftRefs,
    rendered: Rendered,
    created_at: chrono::NaiveDateTime,
    /// What webhooks and counts are told (its `id` is set once written).
    created: Created,
}

/// Checks a new article's body and resolves what it names, as [`create`] does, for
/// [`create_many`]: an error here is the create's own (422 or 409). Its slug is checked
/// against the stored articles only: two new ones of a [`create_many`] with the same
/// slug fail that write.
pub fn check_new(
    conn: &mut DbConn,
    known: &mut Known,
    actor: Actor,
    body: ArticleCreate,
    languages: &[String],
    given: Given,
) -> AppResult<Unwritten> {
    let mut c = Checker::new();
    let d = check_create(&mut c, actor, body, languages)?;
    let refs = resolve_draft(c, conn, known, actor, &d)?;
    let now = Timestamp::now();
    let (created_at, updated_at) = given.times.unwrap_or((now.0, now.0));
    let published_at = match (d.published_at, d.status) {
        (Some(t), _) => Some(t.0),
        (None, StoredStatus::Published) => Some(now.0),
        (None, StoredStatus::Draft) => None,
    };
    let rendered = rendered(&d.body, given.rendered);
    let created = Created {
        id: 0,
        slug: refs.slug.clone(),
        language: d.language.clone(),
        title: d.title.clone(),
        status: d.status.as_str(),
        published_at,
        unpublish_at: d.unpublish_at.map(|t| t.0),
        at: now.0,
        updated_at,
        section_id: refs.section_id,
        featured: d.featured,
        translation_group: refs.group,
    };
    let name = known.name_of(conn, actor)?;
    Ok(Unwritten {
        actor,
        name,
        d,
        refs,
        rendered,
        created_at,
        created,
    })
}

/// Writes checked new articles ([`check_new`]) with their relations, first revisions,
/// audit entries and announcements, each kind of row in as few statements as the
/// backend does best; returns each one's id and slug, in order, with its search entry
/// for the caller to write with those of many others
/// ([`crate::db::dialect::fts_insert_many`]) before its transaction ends (until then a
/// search does not find them). Nothing is read back: a bulk write is one of everything
/// ([`Written::within_a_write_of_everything`]).
pub fn create_many(
    conn: &mut DbConn,
    known: &mut Known,
    new: Vec<Unwritten>,
) -> AppResult<Written<Vec<(NewArticle, SearchEntry)>>> {
    Ok(Written::content(write_all(conn, known, new)?, Scope::All))
}

/// The rows of checked new articles, then everything that hangs on their ids.
fn write_all(
    conn: &mut DbConn,
    known: &mut Known,
    mut new: Vec<Unwritten>,
) -> AppResult<Vec<(NewArticle, SearchEntry)>> {
    let rows: Vec<_> = new
        .iter()
        .map(|n| {
            let (d, refs, created) = (&n.d, &n.refs, &n.created);
            (
                articles::slug.eq(&refs.slug),
                articles::language.eq(&d.language),
                articles::title.eq(&d.title),
                articles::summary.eq(&d.summary),
                articles::section_id.eq(refs.section_id),
                articles::source.eq(&d.source),
                articles::hero_media_id.eq(d.hero_media_id),
                articles::featured.eq(d.featured),
                articles::status.eq(d.status),
                articles::published_at.eq(created.published_at),
                articles::word_count.eq(n.rendered.words),
                articles::reading_time_minutes.eq(n.rendered.minutes),
                articles::created_by.eq(Some(n.actor.id)),
                articles::created_at.eq(n.created_at),
                articles::updated_at.eq(created.updated_at),
                articles::body_html.eq(&n.rendered.html),
                articles::body.eq(&d.body),
                articles::translation_group.eq(refs.group),
                articles::unpublish_at.eq(created.unpublish_at),
                articles::announced.eq(created.announced()),
            )
        })
        .collect();
    // On the backend's own connection: through the enum, Diesel would build the
    // statement's SQL text again on every create.
    let ids: Vec<i32> = match &mut *conn {
        // Many rows a statement, each row's id found by its slug (`RETURNING` promises
        // no order).
        DbConn::Postgres(c) if rows.len() > 1 => {
            let mut by_slug = std::collections::HashMap::with_capacity(rows.len());
            for chunk in rows.chunks(200) {
                let made: Vec<(String, i32)> = diesel::insert_into(articles::table)
                    .values(chunk)
                    .returning((articles::slug, articles::id))
                    .get_results(c)?;
                by_slug.extend(made);
            }
            new.iter()
                .map(|n| {
                    by_slug.get(&n.refs.slug).copied().ok_or_else(|| {
                        AppError::Internal("a new article's row was not returned".into())
                    })
                })
                .collect::<AppResult<_>>()?
        }
        DbConn::Postgres(c) => rows
            .into_iter()
            .map(|row| {
                diesel::insert_into(articles::table)
                    .values(row)
                    .returning(articles::id)
                    .get_result(c)
            })
            .collect::<Result<_, _>>()?,
        // One kept statement a row, and its id asked for after it (see `last_id`).
        DbConn::Sqlite(c) => {
            let mut ids = Vec::with_capacity(rows.len());
            for row in rows {
                diesel::insert_into(articles::table)
                    .values(row)
                    .execute(c)?;
                ids.push(crate::db::sqlite::last_id(c)?);
            }
            ids
        }
    };
    for (n, id) in new.iter_mut().zip(&ids) {
        n.created.id = *id;
    }
    let slugs: Vec<&str> = new.iter().map(|n| n.refs.slug.as_str()).collect();
    crate::domain::old_slugs::free(conn, super::KIND, &slugs)?;
    let links: Vec<_> = new
        .iter()
        .map(|n| {
            (
                n.created.id,
                &n.refs.relations,
                n.created.published_at,
                n.created.language.as_str(),
            )
        })
        .collect();
    save_relations(conn, &links, true)?;
    // Each story's fields move into its first revision (its body is not copied): the
    // search entry is made from them first.
    let mut firsts = Vec::with_capacity(new.len());
    let mut rest = Vec::with_capacity(new.len());
    for n in new {
        let Unwritten {
            actor,
            name,
            d,
            refs,
            rendered,
            created,
            ..
        } = n;
        let entry = SearchEntry {
            id: created.id,
            title: search::normalize(&d.title),
            summary: search::normalize(d.summary.as_deref().unwrap_or("")),
            body: rendered.indexed,
        };
        // The first revision holds the fields as written: the slugs named are those now
        // stored (each was resolved), in the order given, which is the byline's.
        firsts.push(RevisionFields {
            slug: refs.slug.clone(),
            language: d.language,
            title: d.title,
            summary: d.summary,
            body: Some(d.body),
            section: d.section,
            regions: d.regions.unwrap_or_default(),
            tags: d.tags.unwrap_or_default(),
            authors: d.authors.unwrap_or_default(),
            source: d.source,
            hero_media_id: d.hero_media_id,
            featured: d.featured,
            status: d.status,
            published_at: created.published_at.map(Timestamp),
            unpublish_at: d.unpublish_at,
        });
        rest.push((actor, name, created, refs, entry));
    }
    let revisions = firsts
        .iter()
        .zip(&rest)
        .map(|(fields, (actor, name, created, ..))| {
            (created.id, revisions::first(*actor, name.clone(), fields))
        })
        .collect();
    revisions::store_many(conn, revisions)?;
    let entries = firsts
        .iter()
        .zip(&rest)
        .map(|(fields, (actor, name, created, ..))| audit::Entry {
            actor: Some(*actor),
            name: name.clone(),
            action: Action::Create,
            resource: "article",
            resource_id: Some(created.id),
            summary: format!("created article \"{}\"", fields.title),
        })
        .collect();
    audit::record_many(conn, entries)?;
    let hooks = match rest.iter().any(|(_, _, created, ..)| created.is_live()) {
        true => known.hooks(conn)?,
        false => Vec::new(),
    };
    let mut made = Vec::with_capacity(rest.len());
    for (_, _, created, refs, entry) in rest {
        let keyed = |kind: i32, ids: &Option<Vec<i32>>| {
            ids.iter()
                .flatten()
                .map(move |id| (kind, *id))
                .collect::<Vec<_>>()
        };
        let r = &refs.relations;
        let mut keys = keyed(counts::TAG, &r.tags);
        keys.extend(keyed(counts::AUTHOR, &r.authors));
        keys.extend(keyed(counts::REGION, &r.regions));
        crate::webhooks::lifecycle::article_created(
            conn,
            &created,
            keys,
            known.tally.as_mut(),
            &hooks,
        )?;
        let id = created.id;
        made.push((
            NewArticle {
                id,
                slug: refs.slug,
            },
            entry,
        ));
    }
    Ok(made)
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
    unpublish_at: Option<Option<chrono::NaiveDateTime>>,
    word_count: Option<i32>,
    reading_time_minutes: Option<i32>,
    updated_at: Option<chrono::NaiveDateTime>,
    body_html: Option<String>,
    body: Option<String>,
    translation_group: Option<Option<i32>>,
}

/// Why an edit is made: a PATCH, or a revision made current again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Edit,
    Restore(i32),
}

/// Applies a PATCH as `actor` (inside the caller's write transaction).
pub fn update(
    conn: &mut DbConn,
    actor: Actor,
    key: &Key,
    body: ArticlePatch,
    languages: &[String],
    ahead: Option<Rendered>,
    site: &Site,
) -> AppResult<Written<super::Article>> {
    update_for(conn, actor, key, body, languages, ahead, site, Why::Edit)
}

/// Applies a PATCH as `actor`, recording `why` in the revision and the audit log.
#[allow(clippy::too_many_arguments)]
pub fn update_for(
    conn: &mut DbConn,
    actor: Actor,
    key: &Key,
    body: ArticlePatch,
    languages: &[String],
    ahead: Option<Rendered>,
    site: &Site,
    why: Why,
) -> AppResult<Written<super::Article>> {
    let head = find_head(conn, key, Some(actor))?;
    check_may_edit(actor, &head)?;
    let mut c = Checker::new();
    let edit = check_patch(&mut c, actor, body, languages)?;
    let refs = resolve_edit(c, conn, actor, &head, &edit)?;
    let before = get(conn, &Key::Id(head.id), Some(actor), site)?;
    let counted_as = crate::domain::counts::keys_of(
        conn,
        head.id,
        head.section_id,
        &head.language,
        head.featured,
        head.published_at,
    )?;
    let left_group = match refs.group {
        Some(group) if group != head.translation_group => head.translation_group,
        _ => None,
    };
    let written = save_edit(conn, actor, &head, edit, refs, ahead, site)?;
    written.and_then(|article| {
        let old = RevisionFields::of(&before);
        let new = RevisionFields::of(&article);
        let summary = match why {
            Why::Edit => None,
            Why::Restore(n) => Some(format!("restored revision {n}")),
        };
        let name = audit::name_of(conn, actor)?;
        let changes = revisions::record(
            conn,
            head.id,
            (actor, name.clone()),
            Some((&old, head.created_by, head.updated_at)),
            &new,
            summary.as_deref(),
        )?;
        let public_now = article.status == ArticleStatus::Published
            || article.status == ArticleStatus::Scheduled;
        let action = match why {
            Why::Restore(_) => Action::Restore,
            Why::Edit if old.status == StoredStatus::Draft && public_now => Action::Publish,
            Why::Edit => Action::Update,
        };
        let what = match (why, changes.is_empty()) {
            (Why::Restore(n), _) => format!("restored revision {n} of"),
            (Why::Edit, true) => "saved".to_owned(),
            (Why::Edit, false) => revisions::changed_summary(&changes),
        };
        let summary = match action {
            Action::Publish => format!("published article \"{}\"", article.title),
            _ => format!("{what} article \"{}\"", article.title),
        };
        audit::record_named(
            conn,
            Some(actor),
            name,
            action,
            "article",
            Some(head.id),
            &summary,
        )?;
        crate::webhooks::lifecycle::article_changed(
            conn,
            head.id,
            crate::webhooks::lifecycle::Change::Saved,
            Some(&counted_as),
            left_group,
        )?;
        Ok(article)
    })
}

/// Stores a checked and resolved edit: the row, its relations and search entry, and
/// the withdrawal of breaking items when the article stops being public.
fn save_edit(
    conn: &mut DbConn,
    actor: Actor,
    head: &ArticleHead,
    e: ArticleEdit,
    refs: EditRefs,
    ahead: Option<Rendered>,
    site: &Site,
) -> AppResult<Written<super::Article>> {
    let now = Timestamp::now().0;
    let status = e.status.into_option();
    let new_status = status.unwrap_or(head.status);
    let published_at = publication_time(e.published_at, new_status, head.published_at, now)?;
    let unpublish_at = e.unpublish_at.into_option().map(|t| t.map(|t| t.0));
    let final_published = published_at.unwrap_or(head.published_at);
    let final_unpublish = unpublish_at.unwrap_or(head.unpublish_at);
    if let (Some(p), Some(u)) = (final_published, final_unpublish)
        && u <= p
    {
        return Err(AppError::invalid(
            "unpublish_at",
            "must be after published_at",
        ));
    }
    let (title, summary, text) = (
        e.title.into_option(),
        e.summary.into_option(),
        e.body.into_option(),
    );
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
        slug: e.slug.into_option(),
        language: e.language.into_option(),
        title,
        summary,
        section_id: refs.section_id,
        source: e.source.into_option(),
        hero_media_id: e.hero_media_id.into_option(),
        featured: e.featured.into_option(),
        status,
        published_at,
        unpublish_at,
        word_count: rendered.as_ref().map(|r| r.words),
        reading_time_minutes: rendered.as_ref().map(|r| r.minutes),
        updated_at: Some(now),
        body_html: rendered.map(|r| r.html),
        body: text,
        translation_group: refs.group,
    };
    if let Some(slug) = &changes.slug {
        crate::domain::old_slugs::take(conn, super::KIND, slug, head.id, Some(&head.slug))?;
    }
    diesel::update(articles::table.find(head.id))
        .set(&changes)
        .execute(conn)?;
    let final_language = changes.language.as_deref().unwrap_or(&head.language);
    save_relations(
        conn,
        &[(head.id, &refs.relations, final_published, final_language)],
        false,
    )?;
    if reindex {
        index(
            conn,
            head.id,
            &index_title,
            index_summary.as_deref(),
            &index_body,
        )?;
    }
    let article = get(conn, &Key::Id(head.id), Some(actor), site)?;
    if head.is_public(now) && article.status != ArticleStatus::Published {
        let items = breaking::linking_to(conn, head.id)?;
        breaking::article_withdrawn(conn, &items, now)?;
    }
    Ok(Written::content(article, Scope::All))
}
