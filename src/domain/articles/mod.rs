//! Articles: the stories. Status and schedule are decided at read time: an article is
//! public when it is `published`, its `published_at` has come and its `unpublish_at`
//! (an embargo's end of life) has not, so a scheduled story appears and an expired one
//! goes on time on every instance with no background job. A trashed article
//! (`deleted_at`) is seen by no one outside the trash.

pub mod facts;
pub mod fields;
pub mod form;
pub mod list;
mod one;
pub mod query;
pub mod related;
mod resolve;
pub mod revisions;
pub mod safety;
pub mod write;

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable};
use serde::Serialize;
use utoipa::ToSchema;

use super::feeds::Site;
use super::media::{self, Media};
use super::search::SearchHit;
use super::time::Timestamp;
use super::{Key, NamedRef, Ref};
use crate::auth::Actor;
use crate::db::DbConn;
use crate::db::id_set::IdSet;
use crate::error::{AppError, AppResult};
use crate::schema::{
    self, article_authors, article_regions, article_tags, articles, authors, regions, tags,
};

pub use crate::db::columns::StoredStatus;

/// Articles readers may see at `now`: published, `published_at` has come, no
/// `unpublish_at` or not yet, and not in the trash.
#[diesel::dsl::auto_type]
pub fn visible_to_readers(now: chrono::NaiveDateTime) -> _ {
    let published: StoredStatus = StoredStatus::Published;
    articles::status
        .eq(published)
        .and(articles::published_at.le(now).assume_not_null())
        .and(
            articles::unpublish_at
                .is_null()
                .or(articles::unpublish_at.gt(now).assume_not_null()),
        )
        .and(articles::deleted_at.is_null())
}

/// An article's columns except the two large text columns.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleHead {
    pub id: i32,
    pub slug: String,
    pub language: String,
    pub title: String,
    pub summary: Option<String>,
    pub section_id: Option<i32>,
    pub source: Option<String>,
    pub hero_media_id: Option<i32>,
    pub featured: bool,
    pub status: StoredStatus,
    pub published_at: Option<chrono::NaiveDateTime>,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub created_by: Option<i32>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub translation_group: Option<i32>,
    pub unpublish_at: Option<chrono::NaiveDateTime>,
    pub deleted_at: Option<chrono::NaiveDateTime>,
    pub deleted_by: Option<i32>,
}

impl ArticleHead {
    /// True when readers can see it at `now`.
    pub fn is_public(&self, now: chrono::NaiveDateTime) -> bool {
        self.status == StoredStatus::Published
            && self.published_at.is_some_and(|p| p <= now)
            && !self.is_expired(now)
            && self.deleted_at.is_none()
    }

    /// True when its `unpublish_at` has come.
    pub fn is_expired(&self, now: chrono::NaiveDateTime) -> bool {
        self.status == StoredStatus::Published && self.unpublish_at.is_some_and(|u| u <= now)
    }

    /// Whether `viewer` may see this article at all: no one sees a trashed article
    /// (outside `/trash`); everyone sees public articles; editors and admins see
    /// everything else; writers everything but other people's drafts.
    pub fn visible_to(&self, viewer: Option<Actor>, now: chrono::NaiveDateTime) -> bool {
        if self.deleted_at.is_some() {
            return false;
        }
        if self.is_public(now) {
            return true;
        }
        match viewer {
            None => false,
            Some(actor) => {
                actor.is_editor()
                    || self.status == StoredStatus::Published
                    || self.created_by == Some(actor.id)
            }
        }
    }

    /// The status as shown: `scheduled` is published with a future `published_at`,
    /// `expired` published with an `unpublish_at` that has come.
    pub fn shown_status(&self, now: chrono::NaiveDateTime) -> ArticleStatus {
        match self.status {
            StoredStatus::Draft => ArticleStatus::Draft,
            StoredStatus::Published if self.is_expired(now) => ArticleStatus::Expired,
            StoredStatus::Published if self.is_public(now) => ArticleStatus::Published,
            StoredStatus::Published => ArticleStatus::Scheduled,
        }
    }
}

crate::closed_set! {
    /// An article's status as the API shows it.
    pub enum ArticleStatus {
        Draft = "draft",
        /// Published with a `published_at` still in the future.
        Scheduled = "scheduled",
        Published = "published",
        /// Published, and its `unpublish_at` has come: readers no longer see it.
        Expired = "expired",
    }
}

crate::closed_set! {
    /// Text direction of the article's language, for laying it out.
    pub enum TextDirection {
        Ltr = "ltr",
        Rtl = "rtl",
    }
}

impl TextDirection {
    /// `rtl` for Arabic, Persian, Urdu, Hebrew and friends; `ltr` otherwise.
    pub fn of(language: &str) -> Self {
        match language {
            "ar" | "fa" | "ur" | "he" | "ps" | "sd" | "ug" | "yi" | "dv" | "ckb" => Self::Rtl,
            _ => Self::Ltr,
        }
    }
}

/// An article as the API shows it. List items leave out `body` and `body_html`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Article {
    #[schema(example = 42)]
    pub id: i32,
    #[schema(example = "ceasefire-talks-resume-in-cairo")]
    pub slug: String,
    #[schema(example = "en")]
    pub language: String,
    /// `rtl` for Arabic; `ltr` otherwise.
    pub dir: TextDirection,
    #[schema(example = "Ceasefire talks resume in Cairo")]
    pub title: String,
    /// The standfirst.
    pub summary: Option<String>,
    /// Markdown source (single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Sanitized HTML rendered from `body` (single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    /// The public URL, from `ARTICLE_URL_TEMPLATE`.
    #[schema(example = "https://news.example.com/en/politics/ceasefire-talks-resume-in-cairo")]
    pub url: String,
    /// The section, named in the article's language.
    pub section: Option<Ref>,
    /// Named in the article's language.
    pub regions: Vec<Ref>,
    /// Named in the article's language.
    pub tags: Vec<Ref>,
    /// The byline, in order, named in the article's language.
    pub authors: Vec<Byline>,
    #[schema(example = "Agencies")]
    pub source: Option<String>,
    /// The hero image with its caption and credit in the article's language.
    pub hero_media: Option<Media>,
    pub featured: bool,
    pub status: ArticleStatus,
    pub published_at: Option<Timestamp>,
    /// When readers stop seeing the article (an embargo's end), or `null`.
    pub unpublish_at: Option<Timestamp>,
    #[schema(example = 5)]
    pub reading_time_minutes: i32,
    #[schema(example = 930)]
    pub word_count: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Public corrections, oldest first (single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrections: Option<Vec<safety::Correction>>,
    /// The other published editions of this story (single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translations: Option<Vec<Translation>>,
    /// How the article matched a search (`q`), on search results only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchHit>,
    /// The items of `/related` (5), with `include=related` on a single read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub related: Option<Vec<Article>>,
    /// The items of `/next` (5), with `include=next` on a single read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub next: Option<Vec<Article>>,
}

/// An author in a byline, named in the article's language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Byline {
    #[schema(example = 3)]
    pub id: i32,
    #[schema(example = "leila-haddad")]
    pub slug: String,
    #[schema(example = "Leila Haddad")]
    pub name: String,
    /// The author's avatar, or `null`.
    pub avatar: Option<Media>,
}

/// Another edition of the same story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Translation {
    #[schema(example = 57)]
    pub id: i32,
    #[schema(example = "ar")]
    pub language: String,
    #[schema(example = "astynaf-mhadthat-wqf-itlaq-al-nar-fy-al-qahra")]
    pub slug: String,
    #[schema(example = "استئناف محادثات وقف إطلاق النار في القاهرة")]
    pub title: String,
    /// The edition's public URL, from `ARTICLE_URL_TEMPLATE`.
    pub url: String,
}

impl Article {
    /// What lists need to know of this article to tell whether they show it.
    pub fn facts(&self) -> crate::db::ArticleFacts {
        let ids = |refs: &[Ref]| refs.iter().map(|r| r.id).collect();
        crate::db::ArticleFacts {
            public: self.status == ArticleStatus::Published,
            language: self.language.clone(),
            section_id: self.section.as_ref().map(|s| s.id),
            tag_ids: ids(&self.tags),
            author_ids: self.authors.iter().map(|a| a.id).collect(),
            region_ids: ids(&self.regions),
            featured: self.featured,
            published_at: self.published_at.map(|t| t.0),
        }
    }
}

/// One row of the linked query: `(id, slug, name, localized, avatar)`.
type Linked = (i32, String, String, String, Option<i32>);

/// The embedded relations of a set of articles, loaded in a fixed number of queries,
/// each named in its article's language.
#[derive(Debug)]
pub struct Relations<'a> {
    site: &'a Site,
    /// Each article's links, by its id.
    links: HashMap<i32, Arc<Links>>,
}

/// What a list shows of one article besides its own row: its section, hero image,
/// tags, bylines with their avatars, and regions, the names already in its language.
#[derive(Debug, Default)]
pub struct Links {
    /// The article's fields these were read for: they serve only while the article's
    /// row still has them.
    read_for: LinksKey,
    section: Option<Arc<NamedRef>>,
    /// The hero image and the avatars.
    media: Vec<Arc<Media>>,
    tags: Vec<Ref>,
    authors: Vec<(Ref, Option<i32>)>,
    regions: Vec<Ref>,
}

/// An article's fields that decide its [`Links`]: its section, hero image and language,
/// and when it was last changed (every edit of its tags, bylines or regions sets that).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct LinksKey {
    section_id: Option<i32>,
    hero_media_id: Option<i32>,
    language: String,
    updated_at: chrono::NaiveDateTime,
}

impl LinksKey {
    fn of(head: &ArticleHead) -> Self {
        Self {
            section_id: head.section_id,
            hero_media_id: head.hero_media_id,
            language: head.language.clone(),
            updated_at: head.updated_at,
        }
    }
}

/// Keeps articles' [`Links`] between anonymous list reads. What it hands out must be
/// exactly what a read would find now: any change to what an article embeds (an edit,
/// a rename, a delete, another process's write) must retire everything kept. Creating
/// something changes no existing article's links, so it retires nothing.
pub trait LinksMemo: Send + Sync {
    /// A ticket for links read from now on, and the links kept of each of `ids`
    /// (`None` where nothing exact is kept).
    fn kept_links(&self, ids: &[i32]) -> (u64, Vec<Option<Arc<Links>>>);
    /// Counts `n` kept links that served (`kept_links` hands out some that the
    /// article's row then refuses, if it changed since they were read).
    fn links_used(&self, n: usize);
    /// A ticket for links read from now on, with nothing looked up: a create takes one
    /// before its write, and keeps its story's links with it once the write is done.
    fn links_ticket(&self) -> u64;
    /// Keeps links read after [`LinksMemo::kept_links`] or [`LinksMemo::links_ticket`]
    /// gave `ticket`.
    fn keep_links(&self, ticket: u64, links: Vec<(i32, Arc<Links>)>);
}

/// The union of an article set's tags, bylines and regions, filtered by
/// `article_id.$op($arg)`, and their sections, filtered by `$sections` (a section row
/// carries its own id where the others carry their article's).
macro_rules! linked_query {
    ($op:ident($arg:expr), $sections:expr) => {
        article_tags::table
            .inner_join(tags::table)
            .filter(article_tags::article_id.$op($arg))
            .select((
                TAG.into_sql::<Integer>(),
                article_tags::article_id,
                article_tags::position,
                (
                    tags::id,
                    tags::slug,
                    tags::name,
                    tags::localized,
                    None::<i32>.into_sql::<Nullable<Integer>>(),
                ),
            ))
            .union_all(
                article_authors::table
                    .inner_join(authors::table)
                    .filter(article_authors::article_id.$op($arg))
                    .select((
                        AUTHOR.into_sql::<Integer>(),
                        article_authors::article_id,
                        article_authors::position,
                        (
                            authors::id,
                            authors::slug,
                            authors::name,
                            authors::localized,
                            authors::avatar_media_id,
                        ),
                    )),
            )
            .union_all(
                article_regions::table
                    .inner_join(regions::table)
                    .filter(article_regions::article_id.$op($arg))
                    .select((
                        REGION.into_sql::<Integer>(),
                        article_regions::article_id,
                        article_regions::position,
                        (
                            regions::id,
                            regions::slug,
                            regions::name,
                            regions::localized,
                            None::<i32>.into_sql::<Nullable<Integer>>(),
                        ),
                    )),
            )
            .union_all(schema::sections::table.filter($sections).select((
                SECTION.into_sql::<Integer>(),
                schema::sections::id,
                0.into_sql::<Integer>(),
                (
                    schema::sections::id,
                    schema::sections::slug,
                    schema::sections::name,
                    schema::sections::localized,
                    None::<i32>.into_sql::<Nullable<Integer>>(),
                ),
            )))
    };
}

const TAG: i32 = 0;
const AUTHOR: i32 = 1;
const REGION: i32 = 2;
const SECTION: i32 = 3;

/// Groups `(article, position, item)` rows by article, in position order.
fn group<T>(mut rows: Vec<(i32, i32, T)>) -> HashMap<i32, Vec<T>> {
    rows.sort_by_key(|(article, position, _)| (*article, *position));
    let mut grouped: HashMap<i32, Vec<T>> = HashMap::new();
    for (article_id, _, r) in rows {
        grouped.entry(article_id).or_default().push(r);
    }
    grouped
}

/// Tags, bylines and regions as read, `(article, position, reference)`, before they
/// are grouped by article; the avatars the bylines name; the sections and media read.
#[derive(Default)]
struct Sorted {
    tags: Vec<(i32, i32, Ref)>,
    authors: Vec<(i32, i32, (Ref, Option<i32>))>,
    regions: Vec<(i32, i32, Ref)>,
    avatars: Vec<i32>,
    /// Sections by id.
    sections: HashMap<i32, Arc<NamedRef>>,
    /// Media read so far, by id.
    media: HashMap<i32, Arc<Media>>,
}

impl Sorted {
    /// Adds a linked row of `kind` (not a section), named in `lang`.
    fn add(&mut self, kind: i32, article: i32, position: i32, row: Linked, lang: Option<&str>) {
        match kind {
            TAG => self.tags.push((article, position, named(row, lang))),
            AUTHOR => {
                let avatar = row.4;
                self.avatars.extend(avatar);
                self.authors
                    .push((article, position, (named(row, lang), avatar)));
            }
            _ => self.regions.push((article, position, named(row, lang))),
        }
    }
}

/// A linked row as a reference named in `lang`.
fn named((id, slug, name, localized, _): Linked, lang: Option<&str>) -> Ref {
    let name = if localized == "{}" {
        name
    } else {
        super::localized::Localized::parse(&localized).pick(lang, "name", name)
    };
    Ref { id, slug, name }
}

impl<'a> Relations<'a> {
    /// Loads sections, hero media, avatars, tags, authors and regions of `heads`: two
    /// queries whatever the number of articles. `site` makes their public URLs.
    pub fn load(conn: &mut DbConn, heads: &[ArticleHead], site: &'a Site) -> AppResult<Self> {
        Self::load_of(conn, &heads.iter().collect::<Vec<_>>(), site)
    }

    /// [`Relations::load`], taking what `memo` kept of each article from an earlier
    /// read and keeping what it had to read. A list page recomputed after a create
    /// shows the new story and nineteen it showed before: only the new one is read.
    pub fn load_kept(
        conn: &mut DbConn,
        heads: &[ArticleHead],
        site: &'a Site,
        memo: Option<&dyn LinksMemo>,
    ) -> AppResult<Self> {
        let Some(memo) = memo else {
            return Self::load(conn, heads, site);
        };
        let ids: Vec<i32> = heads.iter().map(|h| h.id).collect();
        let (ticket, kept) = memo.kept_links(&ids);
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for (head, kept) in heads.iter().zip(kept) {
            match kept {
                Some(links) if links.read_for == LinksKey::of(head) => found.push((head.id, links)),
                _ => missing.push(head),
            }
        }
        memo.links_used(found.len());
        let mut relations = Self::load_of(conn, &missing, site)?;
        if !missing.is_empty() {
            let read = relations
                .links
                .iter()
                .map(|(id, links)| (*id, links.clone()))
                .collect();
            memo.keep_links(ticket, read);
        }
        relations.links.extend(found);
        Ok(relations)
    }

    /// [`Relations::load`] of the heads given by reference.
    fn load_of(conn: &mut DbConn, heads: &[&ArticleHead], site: &'a Site) -> AppResult<Self> {
        if heads.is_empty() {
            return Ok(Self {
                site,
                links: HashMap::new(),
            });
        }
        let ids: Vec<i32> = heads.iter().map(|h| h.id).collect();
        let language: HashMap<i32, &str> =
            heads.iter().map(|h| (h.id, h.language.as_str())).collect();
        let mut section_ids: Vec<i32> = heads.iter().filter_map(|h| h.section_id).collect();
        section_ids.sort_unstable();
        section_ids.dedup();
        let media_ids: Vec<i32> = heads.iter().filter_map(|h| h.hero_media_id).collect();
        // Tags, bylines, regions and sections in one statement: (kind, article,
        // position, ref); every statement more was a round trip more on PostgreSQL. One
        // article gets `= ?` (its section `= NULL` when it has none, which matches
        // nothing), a statement SQLite parses once and keeps; a page gets `IN (...)`,
        // whose length varies.
        let linked: Vec<(i32, i32, i32, Linked)> = match ids.as_slice() {
            [id] => {
                let section = heads[0].section_id;
                crate::on_backend!(conn, |c| linked_query!(
                    eq(*id),
                    schema::sections::id.nullable().eq(section)
                )
                .load(c)?)
            }
            _ => crate::on_backend!(conn, |c| linked_query!(
                id_in(&ids),
                schema::sections::id.id_in(&section_ids)
            )
            .load(c)?),
        };
        let mut sorted = Sorted::default();
        for (kind, article_id, position, row) in linked {
            if kind == SECTION {
                let (id, slug, name, localized, _) = row;
                let section = NamedRef::from_row((id, slug, name, localized));
                sorted.sections.insert(id, Arc::new(section));
            } else {
                let lang = language.get(&article_id).copied();
                sorted.add(kind, article_id, position, row, lang);
            }
        }
        Self::file(conn, heads, sorted, media_ids, site)
    }

    /// The relations of the one article [`get`] read with them in its statement: its
    /// section and hero image as joined, its tags, bylines and regions from
    /// [`one::LinkedJson`]'s array. A byline's avatar (other than the hero image) takes
    /// one statement more.
    fn of_one(
        conn: &mut DbConn,
        head: &ArticleHead,
        section: Option<(i32, String, String, String)>,
        hero: Option<media::MediaRow>,
        linked: &str,
        site: &'a Site,
    ) -> AppResult<Self> {
        let mut sorted = Sorted::default();
        if let Some(row) = section {
            sorted
                .sections
                .insert(row.0, Arc::new(NamedRef::from_row(row)));
        }
        if let Some(row) = hero {
            sorted.media.insert(row.id, Arc::new(Media::from(row)));
        }
        let lang = Some(head.language.as_str());
        for (kind, position, id, slug, name, localized, avatar) in
            one::parse(linked).map_err(AppError::internal)?
        {
            sorted.add(
                kind,
                head.id,
                position,
                (id, slug, name, localized, avatar),
                lang,
            );
        }
        Self::file(conn, &[head], sorted, Vec::new(), site)
    }

    /// Files what `sorted` holds by article, as each of `heads` shows it, reading the
    /// media of `media_ids` and of the bylines' avatars that are not read yet.
    fn file(
        conn: &mut DbConn,
        heads: &[&ArticleHead],
        sorted: Sorted,
        mut media_ids: Vec<i32>,
        site: &'a Site,
    ) -> AppResult<Self> {
        let Sorted {
            tags,
            authors,
            regions,
            avatars,
            sections,
            mut media,
        } = sorted;
        media_ids.extend(avatars);
        media_ids.retain(|m| !media.contains_key(m));
        media_ids.sort_unstable();
        media_ids.dedup();
        media.extend(
            media::by_ids(conn, &media_ids)?
                .into_iter()
                .map(|(id, m)| (id, Arc::new(m))),
        );
        let (mut tags, mut authors, mut regions) = (group(tags), group(authors), group(regions));
        let mut links = HashMap::with_capacity(heads.len());
        for head in heads {
            links.entry(head.id).or_insert_with(|| {
                let authors = authors.remove(&head.id).unwrap_or_default();
                let media = head
                    .hero_media_id
                    .iter()
                    .chain(authors.iter().filter_map(|(_, avatar)| avatar.as_ref()))
                    .filter_map(|id| media.get(id).cloned())
                    .collect();
                Arc::new(Links {
                    read_for: LinksKey::of(head),
                    section: head.section_id.and_then(|s| sections.get(&s).cloned()),
                    media,
                    tags: tags.remove(&head.id).unwrap_or_default(),
                    authors,
                    regions: regions.remove(&head.id).unwrap_or_default(),
                })
            });
        }
        Ok(Self { site, links })
    }

    /// The view of one article; `body` is `(markdown, html)` for single reads.
    pub fn view(
        &self,
        head: ArticleHead,
        body: Option<(String, String)>,
        now: chrono::NaiveDateTime,
    ) -> Article {
        let status = head.shown_status(now);
        let (body, body_html) = match body {
            Some((md, html)) => (Some(md), Some(html)),
            None => (None, None),
        };
        let lang = head.language.as_str();
        let none = Links::default();
        let links = self.links.get(&head.id).map_or(&none, |l| l.as_ref());
        // A media item named in the article's language.
        let media_in = |id: Option<i32>| {
            let id = id?;
            let m = links.media.iter().find(|m| m.id == id)?;
            Some(Media::clone(m).localize(Some(lang)))
        };
        let section = links.section.as_ref().map(|s| s.in_lang(Some(lang)));
        let authors = links
            .authors
            .iter()
            .map(|(r, avatar)| Byline {
                id: r.id,
                slug: r.slug.clone(),
                name: r.name.clone(),
                avatar: media_in(*avatar),
            })
            .collect();
        Article {
            dir: TextDirection::of(lang),
            url: self.site.article_url(
                lang,
                section.as_ref().map(|s| s.slug.as_str()),
                &head.slug,
                head.id,
                head.published_at.unwrap_or(head.created_at),
            ),
            section,
            hero_media: media_in(head.hero_media_id),
            tags: links.tags.clone(),
            authors,
            regions: links.regions.clone(),
            id: head.id,
            slug: head.slug,
            language: head.language,
            title: head.title,
            summary: head.summary,
            body,
            body_html,
            source: head.source,
            featured: head.featured,
            status,
            published_at: head.published_at.map(Into::into),
            unpublish_at: head.unpublish_at.map(Into::into),
            reading_time_minutes: head.reading_time_minutes,
            word_count: head.word_count,
            created_at: head.created_at.into(),
            updated_at: head.updated_at.into(),
            corrections: None,
            translations: None,
            search: None,
            related: None,
            next: None,
        }
    }
}

/// The other editions of `head`'s story that `viewer` may see, by language.
pub fn translations_of(
    conn: &mut DbConn,
    head: &ArticleHead,
    viewer: Option<Actor>,
    site: &Site,
) -> AppResult<Vec<Translation>> {
    let Some(group) = head.translation_group else {
        return Ok(Vec::new());
    };
    let now = Timestamp::now().0;
    // Each edition with its section's slug, for its URL, in one statement.
    let editions: Vec<(ArticleHead, Option<String>)> =
        crate::on_backend!(conn, |c| articles::table
            .left_join(crate::schema::sections::table)
            .filter(articles::translation_group.eq(group))
            .filter(articles::id.ne(head.id))
            .order(articles::language.asc())
            .select((
                ArticleHead::as_select(),
                crate::schema::sections::slug.nullable()
            ))
            .load(c)?);
    Ok(editions
        .into_iter()
        .filter(|(e, _)| e.visible_to(viewer, now))
        .map(|(e, section)| Translation {
            url: site.article_url(
                &e.language,
                section.as_deref(),
                &e.slug,
                e.id,
                e.published_at.unwrap_or(e.created_at),
            ),
            id: e.id,
            language: e.language,
            slug: e.slug,
            title: e.title,
        })
        .collect())
}

slug_queries!(articles, "article");

/// Reads an article's head by id or slug, if `viewer` may see it (404 otherwise: a
/// draft is never a 403, so its existence does not leak).
pub fn find_head(conn: &mut DbConn, key: &Key, viewer: Option<Actor>) -> AppResult<ArticleHead> {
    let query = articles::table
        .select(ArticleHead::as_select())
        .into_boxed();
    let query = match key {
        Key::Id(id) => query.filter(articles::id.eq(*id)),
        Key::Slug(s) => query.filter(articles::slug.eq(s.clone())),
    };
    let now = Timestamp::now().0;
    match query.get_result(conn).optional()? {
        Some(head) if head.visible_to(viewer, now) => Ok(head),
        _ => Err(AppError::not_found("article")),
    }
}

/// Reads one article, body included, as `viewer` may see it: the row with whether it
/// has corrections, its section, hero image, tags, bylines and regions; then its other
/// editions if it has any, and its corrections if the row says there are some.
///
/// On PostgreSQL the row and its relations are one statement ([`one::LinkedJson`]),
/// each statement less being a round trip less. SQLite has no round trips, and there
/// the three statements of [`whole`] (the row, the linked rows, the media) cost less
/// CPU than writing and reading the JSON (bench/RESULTS.md).
pub fn get(conn: &mut DbConn, key: &Key, viewer: Option<Actor>, site: &Site) -> AppResult<Article> {
    get_with_links(conn, key, viewer, site).map(|(article, _)| article)
}

/// [`get`], with the [`Links`] the article was read with: a create hands its new
/// story's to a [`LinksMemo`] once it has committed, so that the list pages it
/// retires do not read them again.
pub fn get_with_links(
    conn: &mut DbConn,
    key: &Key,
    viewer: Option<Actor>,
    site: &Site,
) -> AppResult<(Article, Option<Arc<Links>>)> {
    use crate::schema::{article_corrections, media as media_table, sections};
    // The row, its body and whether it has corrections (most stories have none, so that
    // comes with the row), then `$extra`; on the backend's own connection `$c`: through
    // the enum, Diesel builds each statement's SQL text again on every call, which cost
    // a third more CPU per uncached read (bench/ab.py).
    macro_rules! read {
        ($c:expr, $from:expr, $filter:expr $(, $extra:expr)*) => {
            $from
                .filter($filter)
                .select((
                    ArticleHead::as_select(),
                    articles::body,
                    articles::body_html,
                    diesel::dsl::exists(
                        article_corrections::table
                            .filter(article_corrections::article_id.eq(articles::id)),
                    ),
                    $($extra),*
                ))
                .get_result($c)
                .optional()?
        };
    }
    let c = match conn {
        DbConn::Postgres(c) => c,
        DbConn::Sqlite(c) => {
            let row: Option<(ArticleHead, String, String, bool)> = match key {
                Key::Id(id) => read!(c, articles::table, articles::id.eq(*id)),
                Key::Slug(s) => read!(c, articles::table, articles::slug.eq(s)),
            };
            let now = Timestamp::now().0;
            let (head, body, html, corrected) = match row {
                Some(row) if row.0.visible_to(viewer, now) => row,
                _ => return Err(AppError::not_found("article")),
            };
            let relations = Relations::load(conn, std::slice::from_ref(&head), site)?;
            return completed(conn, relations, head, (body, html), corrected, viewer, now);
        }
    };
    let joined = || {
        articles::table
            .left_join(media_table::table)
            .left_join(sections::table)
    };
    macro_rules! one_read {
        ($filter:expr) => {
            read!(
                c,
                joined(),
                $filter,
                Option::<media::MediaRow>::as_select(),
                (
                    sections::id,
                    sections::slug,
                    sections::name,
                    sections::localized,
                )
                    .nullable(),
                one::LinkedJson
            )
        };
    }
    type One = (
        ArticleHead,
        String,
        String,
        bool,
        Option<media::MediaRow>,
        Option<(i32, String, String, String)>,
        String,
    );
    let row: Option<One> = match key {
        Key::Id(id) => one_read!(articles::id.eq(*id)),
        Key::Slug(s) => one_read!(articles::slug.eq(s)),
    };
    let now = Timestamp::now().0;
    let (head, body, html, corrected, hero, section, linked) = match row {
        Some(row) if row.0.visible_to(viewer, now) => row,
        _ => return Err(AppError::not_found("article")),
    };
    let relations = Relations::of_one(conn, &head, section, hero, &linked, site)?;
    completed(conn, relations, head, (body, html), corrected, viewer, now)
}

/// The single read of an article whose row was read and whose visibility was decided:
/// its relations, the editions `viewer` may see, and its corrections (read only when
/// `corrected` says there are some).
pub fn whole(
    conn: &mut DbConn,
    head: ArticleHead,
    body: (String, String),
    corrected: bool,
    viewer: Option<Actor>,
    site: &Site,
    now: chrono::NaiveDateTime,
) -> AppResult<Article> {
    let relations = Relations::load(conn, std::slice::from_ref(&head), site)?;
    completed(conn, relations, head, body, corrected, viewer, now).map(|(article, _)| article)
}

/// [`whole`] once the relations are read, with the article's [`Links`] among them.
fn completed(
    conn: &mut DbConn,
    relations: Relations<'_>,
    head: ArticleHead,
    body: (String, String),
    corrected: bool,
    viewer: Option<Actor>,
    now: chrono::NaiveDateTime,
) -> AppResult<(Article, Option<Arc<Links>>)> {
    let translations = translations_of(conn, &head, viewer, relations.site)?;
    let corrections = match corrected {
        true => safety::corrections_of(conn, head.id)?,
        false => Vec::new(),
    };
    let links = relations.links.get(&head.id).cloned();
    let mut article = relations.view(head, Some(body), now);
    article.translations = Some(translations);
    article.corrections = Some(corrections);
    Ok((article, links))
}
