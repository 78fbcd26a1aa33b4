//! Sections: the site's menu ("News" > "Politics"), a tree without cycles.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::input::{Change, Checker, Input, TextRule, UnknownFields};
use super::localized::{self, Field, LocaleParams, Localized};
use super::paging::Listing;
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::Params;
use super::time::Timestamp;
use super::{Key, NamedRef, Ref};
use crate::db::{DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{articles, sections};

const NAME: TextRule = TextRule::line(1, 100);
const DESCRIPTION: TextRule = TextRule::block(2_000);
const READ_ONLY: &[&str] = &["id", "children"];
/// What `localized` holds for a section.
pub const LOCALIZED: &[Field] = &[
    Field {
        name: "name",
        rule: NAME,
    },
    Field {
        name: "description",
        rule: DESCRIPTION,
    },
];
/// Deepest nesting of sections.
const MAX_DEPTH: usize = 8;

diesel::define_sql_function! {
    /// SQL `COALESCE` for a nullable integer.
    fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::Integer>, y: diesel::sql_types::Integer) -> diesel::sql_types::Integer;
}

/// A section row as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sections)]
pub struct SectionRow {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<i32>,
    pub position: i32,
    pub description: Option<String>,
    pub localized: String,
}

/// A section as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Section {
    #[schema(example = 2)]
    pub id: i32,
    #[schema(example = "politics")]
    pub slug: String,
    #[schema(example = "Politics")]
    pub name: String,
    /// The parent section, or `null` at the top of the menu.
    pub parent: Option<Ref>,
    /// Menu order among siblings.
    #[schema(example = 1)]
    pub position: i32,
    pub description: Option<String>,
    /// `name` and `description` in the other configured languages.
    #[schema(value_type = HashMap<String, localized::LocalizedName>)]
    pub localized: Localized,
}

/// A section in the menu tree (`GET /sections?tree=true`), with its children in
/// position order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectionNode {
    #[serde(flatten)]
    pub section: Section,
    /// The child sections, in menu order.
    #[schema(no_recursion)]
    pub children: Vec<SectionNode>,
}

/// `GET /sections`: a page of the flat list, or with `tree=true` the whole menu nested.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SectionList {
    Flat(ListResponse<Section>),
    Tree(Listing<SectionNode>),
}

/// Body of `POST /sections`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SectionCreate {
    /// Made from `name` when left out.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "politics")]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "Politics")]
    pub name: Input<String>,
    /// Slug of the parent section.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "news")]
    pub parent: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, example = 1)]
    pub position: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Input<String>,
    /// `name` and `description` in other configured languages.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, localized::LocalizedName>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /sections/{id_or_slug}`; `parent: null` moves it to the top.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SectionPatch {
    #[serde(default)]
    #[schema(value_type = String)]
    pub slug: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub name: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub parent: Input<String>,
    #[serde(default)]
    #[schema(value_type = i32)]
    pub position: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Input<String>,
    /// Merged into the stored names: `{"ar": null}` drops a language.
    #[serde(default)]
    #[schema(value_type = Option<HashMap<String, localized::LocalizedName>>)]
    pub localized: Input<serde_json::Value>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

slug_queries!(sections, "section");

fn views(conn: &mut DbConn, rows: Vec<SectionRow>, lang: Option<&str>) -> AppResult<Vec<Section>> {
    let parent_ids: Vec<i32> = rows.iter().filter_map(|r| r.parent_id).collect();
    let parents = refs_by_id(conn, &parent_ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let localized = Localized::parse(&r.localized);
            Section {
                parent: r
                    .parent_id
                    .and_then(|p| parents.get(&p).map(|n| n.in_lang(lang))),
                id: r.id,
                slug: r.slug,
                name: localized.pick(lang, "name", r.name),
                position: r.position,
                description: localized.pick_opt(lang, "description", r.description),
                localized,
            }
        })
        .collect())
}

/// `{id, slug, name}` of sections by id with their localized names, in one query.
pub fn refs_by_id(conn: &mut DbConn, ids: &[i32]) -> AppResult<HashMap<i32, NamedRef>> {
    let columns = (
        sections::id,
        sections::slug,
        sections::name,
        sections::localized,
    );
    let rows: Vec<(i32, String, String, String)> = match ids {
        [] => return Ok(HashMap::new()),
        // On an uncached article read: run on the backend's own connection (see
        // `on_backend!`), which skips building the SQL text again for each call.
        [id] => crate::on_backend!(conn, |c| sections::table
            .find(id)
            .select(columns)
            .load(c)?),
        _ => crate::on_backend!(conn, |c| sections::table
            .filter(sections::id.eq_any(ids))
            .select(columns)
            .load(c)?),
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.0, NamedRef::from_row(r)))
        .collect())
}

fn find_row(conn: &mut DbConn, key: &Key) -> AppResult<SectionRow> {
    let id = require_id(conn, key)?;
    Ok(sections::table
        .find(id)
        .select(SectionRow::as_select())
        .get_result(conn)?)
}

/// Reads one section in its base language.
pub fn get(conn: &mut DbConn, key: &Key) -> AppResult<Section> {
    get_in(conn, key, None)
}

/// Reads one section, localized to `lang`.
pub fn get_in(conn: &mut DbConn, key: &Key, lang: Option<&str>) -> AppResult<Section> {
    let row = find_row(conn, key)?;
    Ok(views(conn, vec![row], lang)?.remove(0))
}

/// Reads one section with the time it last changed (for `Last-Modified`).
pub fn get_dated(
    conn: &mut DbConn,
    key: &Key,
    lang: Option<&str>,
) -> AppResult<(Section, Timestamp)> {
    let section = get_in(conn, key, lang)?;
    let updated_at: chrono::NaiveDateTime = sections::table
        .find(section.id)
        .select(sections::updated_at)
        .get_result(conn)?;
    Ok((section, updated_at.into()))
}

/// Every `(id, parent_id)` pair: the tree is small, walked in memory.
fn tree(conn: &mut DbConn) -> AppResult<Vec<(i32, Option<i32>)>> {
    Ok(sections::table
        .select((sections::id, sections::parent_id))
        .load(conn)?)
}

/// The given sections and all their descendants.
pub fn with_descendants(conn: &mut DbConn, roots: &[i32]) -> AppResult<Vec<i32>> {
    let tree = tree(conn)?;
    let mut found: Vec<i32> = roots.to_vec();
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        for (id, p) in &tree {
            if *p == Some(parent) && !found.contains(id) {
                found.push(*id);
            }
        }
        i += 1;
    }
    Ok(found)
}

/// Checks that `parent` may be the parent of `id` (no cycle, bounded depth).
fn check_parent(c: &mut Checker, conn: &mut DbConn, id: Option<i32>, parent: i32) -> AppResult<()> {
    let tree: HashMap<i32, Option<i32>> = tree(conn)?.into_iter().collect();
    let mut depth = 1;
    let mut at = Some(parent);
    while let Some(current) = at {
        if Some(current) == id {
            c.fail("parent", "would make the section its own ancestor");
            return Ok(());
        }
        depth += 1;
        if depth > MAX_DEPTH {
            c.fail("parent", format!("sections nest at most {MAX_DEPTH} deep"));
            return Ok(());
        }
        at = tree.get(&current).copied().flatten();
    }
    Ok(())
}

fn resolve_parent(c: &mut Checker, conn: &mut DbConn, slug: &str) -> AppResult<Option<i32>> {
    let found = id_of(conn, &Key::Slug(slug.to_owned()))?;
    if found.is_none() {
        c.fail("parent", format!("no section with slug {slug:?}"));
    }
    Ok(found)
}

/// Creates a section.
pub fn create(
    conn: &mut DbConn,
    body: SectionCreate,
    languages: &[String],
) -> AppResult<Written<Section>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.optional("slug", body.slug);
    let name = c.required("name", body.name);
    let parent = c.optional("parent", body.parent);
    let position = c.optional("position", body.position).unwrap_or(0);
    let description = c.optional("description", body.description);
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    c.text_opt("description", description.as_deref(), DESCRIPTION);
    let parent_id = match &parent {
        Some(p) => resolve_parent(&mut c, conn, p)?,
        None => None,
    };
    if let Some(p) = parent_id {
        check_parent(&mut c, conn, None, p)?;
    }
    let names = Localized::check_create(&mut c, body.localized, LOCALIZED, languages);
    names.check_base(&mut c, &languages[0]);
    c.finish()?;
    let name = name.unwrap_or_default();
    let slug = choose_slug(conn, slug, &name)?;
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(sections::table)
        .values((
            sections::slug.eq(&slug),
            sections::name.eq(&name),
            sections::parent_id.eq(parent_id),
            sections::position.eq(position),
            sections::description.eq(&description),
            sections::localized.eq(names.to_stored()),
            sections::created_at.eq(now),
            sections::updated_at.eq(now),
        ))
        .returning(sections::id)
        .get_result(conn)?;
    super::old_slugs::take(conn, KIND, &slug, id, None)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::All))
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = sections)]
struct SectionChanges {
    slug: Option<String>,
    name: Option<String>,
    parent_id: Option<Option<i32>>,
    position: Option<i32>,
    description: Option<Option<String>>,
    localized: Option<String>,
    updated_at: chrono::NaiveDateTime,
}

/// Applies a PATCH; a parent that would create a cycle is a 422.
pub fn update(
    conn: &mut DbConn,
    key: &Key,
    body: SectionPatch,
    languages: &[String],
) -> AppResult<Written<Section>> {
    let current = find_row(conn, key)?;
    let id = current.id;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let slug = c.patch("slug", body.slug).into_option();
    let name = c.patch("name", body.name).into_option();
    let parent = c.patch_nullable("parent", body.parent);
    let position = c.patch("position", body.position).into_option();
    let description = c
        .patch_nullable("description", body.description)
        .into_option();
    if let Some(s) = &slug {
        c.slug("slug", s);
    }
    if let Some(n) = &name {
        c.text("name", n, NAME);
    }
    if let Some(Some(d)) = &description {
        c.text("description", d, DESCRIPTION);
    }
    let parent_id = match parent {
        Change::Keep => None,
        Change::Set(None) => Some(None),
        Change::Set(Some(p)) => match resolve_parent(&mut c, conn, &p)? {
            Some(pid) => {
                check_parent(&mut c, conn, Some(id), pid)?;
                Some(Some(pid))
            }
            None => None,
        },
    };
    let names = Localized::check_patch(
        &mut c,
        body.localized,
        &Localized::parse(&current.localized),
        LOCALIZED,
        languages,
    );
    if let Some(n) = &names {
        n.check_base(&mut c, &languages[0]);
    }
    c.finish()?;
    if let Some(s) = &slug {
        ensure_slug_free(conn, s, Some(id))?;
        super::old_slugs::take(conn, KIND, s, id, Some(&current.slug))?;
        // Its stories' addresses may name it: every child sitemap may have changed.
        if *s != current.slug {
            super::counts::touch_every_block(conn, Timestamp::now().0)?;
        }
    }
    diesel::update(sections::table.find(id))
        .set(&SectionChanges {
            slug,
            name,
            parent_id,
            position,
            description,
            localized: names.map(|n| n.to_stored()),
            updated_at: Timestamp::now().0,
        })
        .execute(conn)?;
    Ok(Written::content(get(conn, &Key::Id(id))?, Scope::All))
}

/// Deletes a section; one that articles use, or that has child sections, is
/// `409 in_use` and nothing changes.
pub fn delete(conn: &mut DbConn, key: &Key) -> AppResult<Written<()>> {
    let id = require_id(conn, key)?;
    let uses: i64 = articles::table
        .filter(articles::section_id.eq(id))
        .count()
        .get_result(conn)?;
    if uses > 0 {
        return Err(AppError::InUse(format!(
            "{uses} article(s) are in this section; move them first"
        )));
    }
    let children: i64 = sections::table
        .filter(sections::parent_id.eq(id))
        .count()
        .get_result(conn)?;
    if children > 0 {
        return Err(AppError::InUse(format!(
            "{children} section(s) have this section as their parent; move them first"
        )));
    }
    diesel::delete(sections::table.find(id)).execute(conn)?;
    super::old_slugs::forget(conn, KIND, id)?;
    Ok(Written::content((), Scope::All))
}

/// The query parameters of `GET /sections` (with the paging ones).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SectionParams {
    /// `true`: the whole menu nested, each section with its `children` in position
    /// order, as `{"data": [...], "meta": {"count"}}` (no paging parameters then).
    pub tree: Option<bool>,
}

/// A parsed `GET /sections` request.
#[derive(Debug, Clone)]
pub struct SectionQuery {
    /// `None` for the nested menu.
    pub page: Option<PageRequest>,
}

impl SectionQuery {
    /// Reads the query string of `GET /sections`.
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let SectionParams { tree } = params.read()?;
        let _: LocaleParams = params.read()?;
        let page = if tree == Some(true) {
            None
        } else {
            Some(PageRequest::from_params(&mut params, codec, "menu")?)
        };
        params.finish()?;
        Ok(Self { page })
    }
}

/// `GET /sections`: the flat page, or the nested menu.
pub fn list_or_tree(
    conn: &mut DbConn,
    q: &SectionQuery,
    codec: &CursorCodec,
    lang: Option<&str>,
) -> AppResult<SectionList> {
    match &q.page {
        Some(page) => Ok(SectionList::Flat(list(conn, page, codec, lang)?)),
        None => Ok(SectionList::Tree(menu(conn, lang)?)),
    }
}

/// The whole menu, nested, in position order.
pub fn menu(conn: &mut DbConn, lang: Option<&str>) -> AppResult<Listing<SectionNode>> {
    let rows: Vec<SectionRow> = sections::table
        .select(SectionRow::as_select())
        .order((sections::position.asc(), sections::id.asc()))
        .load(conn)?;
    let count = rows.len();
    let mut children: HashMap<Option<i32>, Vec<Section>> = HashMap::new();
    let known: std::collections::HashSet<i32> = rows.iter().map(|r| r.id).collect();
    for section in views(conn, rows, lang)? {
        let parent = section
            .parent
            .as_ref()
            .map(|p| p.id)
            .filter(|p| known.contains(p));
        children.entry(parent).or_default().push(section);
    }
    fn nest(
        parent: Option<i32>,
        children: &mut HashMap<Option<i32>, Vec<Section>>,
    ) -> Vec<SectionNode> {
        children
            .remove(&parent)
            .unwrap_or_default()
            .into_iter()
            .map(|section| {
                let id = section.id;
                SectionNode {
                    section,
                    children: nest(Some(id), children),
                }
            })
            .collect()
    }
    let data = nest(None, &mut children);
    let mut listing = Listing::of(data);
    listing.meta.count = count;
    Ok(listing)
}

/// Lists sections flat, ordered by parent (top level first) then position.
pub fn list(
    conn: &mut DbConn,
    page: &PageRequest,
    codec: &CursorCodec,
    lang: Option<&str>,
) -> AppResult<ListResponse<Section>> {
    let parent_key = coalesce(sections::parent_id, 0);
    let mut query = sections::table.select(SectionRow::as_select()).into_boxed();
    if let Some(after) = page.after() {
        let parent = i32::try_from(after.int(0)?).unwrap_or(i32::MAX);
        let position = i32::try_from(after.int(1)?).unwrap_or(i32::MAX);
        let last = after.last_id()?;
        query = query.filter(
            parent_key.gt(parent).or(parent_key.eq(parent).and(
                sections::position
                    .gt(position)
                    .or(sections::position.eq(position).and(sections::id.gt(last))),
            )),
        );
    }
    let rows: Vec<SectionRow> = query
        .order((
            parent_key.asc(),
            sections::position.asc(),
            sections::id.asc(),
        ))
        .limit(page.fetch_limit())
        .offset(page.offset())
        .load(conn)?;
    let total = match page.after() {
        None => Some(sections::table.count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    let keys: Vec<(i32, Vec<KeyValue>)> = rows
        .iter()
        .map(|r| {
            (
                r.id,
                vec![
                    KeyValue::Int(i64::from(r.parent_id.unwrap_or(0))),
                    KeyValue::Int(i64::from(r.position)),
                    KeyValue::Int(i64::from(r.id)),
                ],
            )
        })
        .collect();
    let views = views(conn, rows, lang)?;
    Ok(paging::finish_page(
        views,
        page,
        "menu",
        codec,
        total,
        |s| {
            keys.iter()
                .find(|(id, _)| *id == s.id)
                .map(|(_, k)| k.clone())
                .unwrap_or_default()
        },
        |s| s,
    ))
}
