//! The database half of checking an article write: the names a body gives, looked up.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::ArticleHead;
use super::form::{ArticleDraft, ArticleEdit};
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::input::{Change, Checker, Mark};
use crate::domain::time::Timestamp;
use crate::domain::{Key, authors, media, regions, resolve_slugs, sections, tags};
use crate::error::{AppError, AppResult};
use crate::schema::articles;

const MAX_TAGS: usize = 30;
const MAX_AUTHORS: usize = 20;
const MAX_REGIONS: usize = 20;

/// The edition group `translation_of` names, checked: the article exists and `actor`
/// may see it (one they may not see is answered exactly as one that does not exist, so
/// nobody joins, or learns of, another writer's draft), is not the one being written,
/// and its group has no other edition in `language` (409).
fn join_group(
    c: &mut Checker,
    at: Mark,
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
        c.fail_at(at, "translation_of", format!("no article with slug {of:?}"));
        return Ok(None);
    };
    let (target_id, target_group) = (target.id, target.translation_group);
    if Some(target_id) == me {
        c.fail_at(
            at,
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

/// What the article writes of one transaction have already looked up: the ids of the
/// section, tag, author and region slugs they named, the media they found, and the
/// writers' names. An import's batch keeps one for all its articles, which name the
/// same few again and again (on PostgreSQL each look-up is a round trip); a single
/// write starts with an empty one. Only what exists is kept, and only for one
/// transaction: nothing in it can have been deleted or renamed since it was read.
///
/// The one a bulk writer keeps also sums the counts its creates move
/// ([`Known::tallying`]), for the writer to write before its transaction ends.
#[derive(Debug, Default)]
pub struct Known {
    ids: HashMap<(&'static str, String), i32>,
    media: HashSet<i32>,
    names: HashMap<i32, Option<String>>,
    hooks: Option<crate::webhooks::Hooks>,
    /// Article slugs found free ([`Known::expect_slugs`]), each given out once.
    free_slugs: HashSet<String>,
    /// `None`: each create writes its own counts.
    pub tally: Option<crate::domain::counts::Tally>,
}

/// Looks up the ids of a list of slugs of one kind.
type SlugLookup = fn(&mut DbConn, &[String]) -> AppResult<Vec<(String, i32)>>;

impl Known {
    /// One whose creates sum their counts in [`Known::tally`] instead of writing them.
    pub fn tallying() -> Self {
        Self {
            tally: Some(Default::default()),
            ..Default::default()
        }
    }

    /// `(slug, id)` of those of `slugs` that exist, asking the database only for the
    /// ones not met before.
    fn ids_by_slug(
        &mut self,
        conn: &mut DbConn,
        kind: &'static str,
        slugs: &[String],
        lookup: SlugLookup,
    ) -> AppResult<Vec<(String, i32)>> {
        let unknown: Vec<String> = slugs
            .iter()
            .filter(|s| !self.ids.contains_key(&(kind, (*s).clone())))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            for (slug, id) in lookup(conn, &unknown)? {
                self.ids.insert((kind, slug), id);
            }
        }
        Ok(slugs
            .iter()
            .filter_map(|s| {
                let id = self.ids.get(&(kind, s.clone()))?;
                Some((s.clone(), *id))
            })
            .collect())
    }

    fn section(&mut self, conn: &mut DbConn, slug: &str) -> AppResult<Option<i32>> {
        let key = (sections::KIND, slug.to_owned());
        if let Some(id) = self.ids.get(&key) {
            return Ok(Some(*id));
        }
        let id = sections::id_of(conn, &Key::Slug(slug.to_owned()))?;
        if let Some(id) = id {
            self.ids.insert(key, id);
        }
        Ok(id)
    }

    fn media_exists(&mut self, conn: &mut DbConn, id: i32) -> AppResult<bool> {
        if self.media.contains(&id) {
            return Ok(true);
        }
        let exists = media::exists(conn, id)?;
        if exists {
            self.media.insert(id);
        }
        Ok(exists)
    }

    /// Looks up at once which of the slugs that new articles will give are free, so
    /// that each one's check asks nothing (one round trip for a batch on PostgreSQL).
    pub fn expect_slugs(&mut self, conn: &mut DbConn, slugs: Vec<String>) -> AppResult<()> {
        let slugs = &slugs[..slugs.len().min(crate::domain::MAX_SLUG_LOOKUPS)];
        let taken: HashSet<String> = super::ids_by_slug(conn, slugs)?
            .into_iter()
            .map(|(slug, _)| slug)
            .collect();
        self.free_slugs
            .extend(slugs.iter().filter(|s| !taken.contains(*s)).cloned());
        Ok(())
    }

    /// A new article's slug ([`super::choose_slug`]): a given one, or the one made from
    /// the title, found free earlier is not asked for again, and is given out once (a
    /// later article of the same write that gives it is asked for it, and refused).
    fn choose_slug(
        &mut self,
        conn: &mut DbConn,
        given: Option<String>,
        title: &str,
    ) -> AppResult<String> {
        match given {
            Some(slug) if self.free_slugs.remove(&slug) => Ok(slug),
            None => {
                let base = super::base_slug(title);
                if self.free_slugs.remove(&base) {
                    Ok(base)
                } else {
                    super::choose_slug(conn, None, title)
                }
            }
            given => super::choose_slug(conn, given, title),
        }
    }

    /// The active webhooks, read once.
    pub(super) fn hooks(&mut self, conn: &mut DbConn) -> AppResult<crate::webhooks::Hooks> {
        if self.hooks.is_none() {
            self.hooks = Some(crate::webhooks::active(conn)?);
        }
        Ok(self.hooks.clone().unwrap_or_default())
    }

    /// On PostgreSQL, looks up in one statement what a new article's checks would
    /// otherwise ask for one at a time: its section, tags, authors and regions by
    /// slug, whether its own slug (given, or made from its title) is free, the
    /// writer's name and the active webhooks. Each is a round trip there, made while
    /// the write lock is held; what is found is kept as the single look-ups keep it,
    /// and those then ask nothing (what is not found, they ask again, and report).
    /// SQLite asks each itself, with no round trip to save.
    fn look_up_together(
        &mut self,
        conn: &mut DbConn,
        actor: Actor,
        slug: String,
        section: Option<&str>,
        lists: [Option<&[String]>; 3],
    ) -> AppResult<()> {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            kind: i32,
            #[diesel(sql_type = diesel::sql_types::Text)]
            text: String,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            id: i32,
        }
        let DbConn::Postgres(pg) = conn else {
            return Ok(());
        };
        let kinds = [sections::KIND, tags::KIND, authors::KIND, regions::KIND];
        let unknown = |kind: &'static str, slugs: &[String]| -> Vec<String> {
            slugs[..slugs.len().min(crate::domain::MAX_SLUG_LOOKUPS)]
                .iter()
                .filter(|s| !self.ids.contains_key(&(kind, (*s).clone())))
                .cloned()
                .collect()
        };
        let section: Vec<String> = section
            .map(|s| unknown(kinds[0], std::slice::from_ref(&s.to_owned())))
            .unwrap_or_default();
        let [tag_slugs, author_slugs, region_slugs] = [(1, lists[0]), (2, lists[1]), (3, lists[2])]
            .map(|(k, slugs)| slugs.map(|s| unknown(kinds[k], s)).unwrap_or_default());
        let slug = (!self.free_slugs.contains(&slug)).then_some(slug);
        let name = !self.names.contains_key(&actor.id);
        let hooks = self.hooks.is_none();
        if slug.is_none()
            && section.is_empty()
            && tag_slugs.is_empty()
            && author_slugs.is_empty()
            && region_slugs.is_empty()
            && !name
            && !hooks
        {
            return Ok(());
        }
        use diesel::sql_types::{Array, Bool, Integer, Nullable, Text};
        let rows: Vec<Found> = crate::db::kept::sql(
            "SELECT 0 AS kind, slug AS text, id FROM sections WHERE slug = ANY(?) \
             UNION ALL SELECT 1, slug, id FROM tags WHERE slug = ANY(?) \
             UNION ALL SELECT 2, slug, id FROM authors WHERE slug = ANY(?) \
             UNION ALL SELECT 3, slug, id FROM regions WHERE slug = ANY(?) \
             UNION ALL SELECT 4, name, id FROM users WHERE id = ? AND ? \
             UNION ALL SELECT 5, events, id FROM webhooks WHERE active AND ? \
             UNION ALL SELECT 6, slug, id FROM articles WHERE slug = ?",
        )
        .bind::<Array<Text>, _>(section)
        .bind::<Array<Text>, _>(tag_slugs)
        .bind::<Array<Text>, _>(author_slugs)
        .bind::<Array<Text>, _>(region_slugs)
        .bind::<Integer, _>(actor.id)
        .bind::<Bool, _>(name)
        .bind::<Bool, _>(hooks)
        .bind::<Nullable<Text>, _>(slug.clone())
        .load(pg)?;
        if name {
            self.names.insert(actor.id, None);
        }
        let mut active = Vec::new();
        let mut slug_taken = false;
        for Found { kind, text, id } in rows {
            match usize::try_from(kind) {
                Ok(k @ 0..=3) => {
                    self.ids.insert((kinds[k], text), id);
                }
                Ok(4) => {
                    self.names.insert(id, Some(text));
                }
                Ok(5) => active.push((id, text)),
                _ => slug_taken = true,
            }
        }
        // Free now, and still free when the slug is chosen: the write lock is held, and
        // a later article of the same write that takes it takes it from this set.
        if let Some(slug) = slug.filter(|_| !slug_taken) {
            self.free_slugs.insert(slug);
        }
        if hooks {
            self.hooks = Some(active);
        }
        Ok(())
    }

    /// The name `actor` writes under ([`crate::domain::audit::name_of`]).
    pub(super) fn name_of(&mut self, conn: &mut DbConn, actor: Actor) -> AppResult<Option<String>> {
        if let Some(name) = self.names.get(&actor.id) {
            return Ok(name.clone());
        }
        let name = crate::domain::audit::name_of(conn, actor)?;
        self.names.insert(actor.id, name.clone());
        Ok(name)
    }
}

fn resolve_section(
    c: &mut Checker,
    conn: &mut DbConn,
    known: &mut Known,
    slug: &str,
) -> AppResult<Option<i32>> {
    let id = known.section(conn, slug)?;
    if id.is_none() {
        c.fail("section", format!("no section with slug {slug:?}"));
    }
    Ok(id)
}

fn check_hero(c: &mut Checker, conn: &mut DbConn, known: &mut Known, id: i32) -> AppResult<()> {
    if !known.media_exists(conn, id)? {
        c.fail("hero_media_id", format!("no media with id {id}"));
    }
    Ok(())
}

/// The three ordered relation lists, resolved to ids.
#[derive(Debug, Default)]
pub(super) struct RelationIds {
    pub(super) tags: Option<Vec<i32>>,
    pub(super) authors: Option<Vec<i32>>,
    pub(super) regions: Option<Vec<i32>>,
}

fn resolve_relations(
    c: &mut Checker,
    conn: &mut DbConn,
    known: &mut Known,
    tag_slugs: Option<&[String]>,
    author_slugs: Option<&[String]>,
    region_slugs: Option<&[String]>,
) -> AppResult<RelationIds> {
    let mut ids = RelationIds::default();
    if let Some(slugs) = tag_slugs {
        let found = known.ids_by_slug(conn, tags::KIND, slugs, tags::ids_by_slug)?;
        ids.tags = Some(resolve_slugs(c, "tags", slugs, MAX_TAGS, &found));
    }
    if let Some(slugs) = author_slugs {
        let found = known.ids_by_slug(conn, authors::KIND, slugs, authors::ids_by_slug)?;
        ids.authors = Some(resolve_slugs(c, "authors", slugs, MAX_AUTHORS, &found));
    }
    if let Some(slugs) = region_slugs {
        let found = known.ids_by_slug(conn, regions::KIND, slugs, regions::ids_by_slug)?;
        ids.regions = Some(resolve_slugs(c, "regions", slugs, MAX_REGIONS, &found));
    }
    Ok(ids)
}

/// The rows a create body names, resolved, and the slug it will have.
pub(super) struct DraftRefs {
    pub(super) slug: String,
    pub(super) section_id: Option<i32>,
    pub(super) group: Option<i32>,
    pub(super) relations: RelationIds,
}

/// The rows a PATCH names, resolved: `None` leaves a column or relation as it is.
pub(super) struct EditRefs {
    pub(super) section_id: Option<Option<i32>>,
    pub(super) group: Option<Option<i32>>,
    pub(super) relations: RelationIds,
}

/// Resolves what a draft names, adding unknown names to `c`'s problems, then ends the
/// checks (422 with every problem) and picks the slug (409 when a given one is taken).
pub(super) fn resolve_draft(
    mut c: Checker,
    conn: &mut DbConn,
    known: &mut Known,
    actor: Actor,
    d: &ArticleDraft,
) -> AppResult<DraftRefs> {
    known.look_up_together(
        conn,
        actor,
        d.slug.clone().unwrap_or_else(|| super::base_slug(&d.title)),
        d.section.as_deref(),
        [
            d.tags.as_deref(),
            d.authors.as_deref(),
            d.regions.as_deref(),
        ],
    )?;
    let group = match &d.translation_of {
        Some(of) => join_group(&mut c, d.translation_at, conn, actor, of, None, &d.language)?,
        None => None,
    };
    let section_id = match &d.section {
        Some(s) => resolve_section(&mut c, conn, known, s)?,
        None => None,
    };
    if let Some(id) = d.hero_media_id {
        check_hero(&mut c, conn, known, id)?;
    }
    let relations = resolve_relations(
        &mut c,
        conn,
        known,
        d.tags.as_deref(),
        d.authors.as_deref(),
        d.regions.as_deref(),
    )?;
    c.finish()?;
    let slug = known.choose_slug(conn, d.slug.clone(), &d.title)?;
    Ok(DraftRefs {
        slug,
        section_id,
        group,
        relations,
    })
}

/// The slugs of a list a PATCH sets.
fn listed(change: &Change<Vec<String>>) -> Option<&[String]> {
    change.as_ref().into_option().map(Vec::as_slice)
}

/// Resolves what an edit names, adding unknown names to `c`'s problems, then ends the
/// checks (422 with every problem) and checks a new slug is free (409).
pub(super) fn resolve_edit(
    mut c: Checker,
    conn: &mut DbConn,
    actor: Actor,
    head: &ArticleHead,
    e: &ArticleEdit,
) -> AppResult<EditRefs> {
    let mut known = Known::default();
    let language = match &e.language {
        Change::Set(l) => l,
        Change::Keep => &head.language,
    };
    let group = match &e.translation_of {
        Change::Keep => {
            // Changing language within a group must not clash with another edition.
            if let (Some(g), Change::Set(_)) = (head.translation_group, &e.language) {
                check_language_free(conn, actor, g, language, Some(head.id))?;
            }
            None
        }
        Change::Set(None) => Some(None),
        Change::Set(Some(of)) => {
            let at = e.translation_at;
            join_group(&mut c, at, conn, actor, of, Some(head.id), language)?.map(Some)
        }
    };
    let section_id = match &e.section {
        Change::Keep => None,
        Change::Set(None) => Some(None),
        Change::Set(Some(s)) => resolve_section(&mut c, conn, &mut known, s)?.map(Some),
    };
    if let Change::Set(Some(id)) = e.hero_media_id {
        check_hero(&mut c, conn, &mut known, id)?;
    }
    let relations = resolve_relations(
        &mut c,
        conn,
        &mut known,
        listed(&e.tags),
        listed(&e.authors),
        listed(&e.regions),
    )?;
    c.finish()?;
    if let Change::Set(s) = &e.slug {
        super::ensure_slug_free(conn, s, Some(head.id))?;
    }
    Ok(EditRefs {
        section_id,
        group,
        relations,
    })
}
