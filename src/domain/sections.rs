//! Sections: the site's menu ("News" > "Politics"), a tree without cycles.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::input::{Change, Checker, Input, TextRule, UnknownFields};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::Params;
use super::time::Timestamp;
use super::{Key, Ref};
use crate::db::{DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{articles, sections};

const NAME: TextRule = TextRule::line(1, 100);
const DESCRIPTION: TextRule = TextRule::block(2_000);
const READ_ONLY: &[&str] = &["id"];
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
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

slug_queries!(sections, "section");

fn views(conn: &mut DbConn, rows: Vec<SectionRow>) -> AppResult<Vec<Section>> {
    let parent_ids: Vec<i32> = rows.iter().filter_map(|r| r.parent_id).collect();
    let parents = refs_by_id(conn, &parent_ids)?;
    Ok(rows
        .into_iter()
        .map(|r| Section {
            parent: r.parent_id.and_then(|p| parents.get(&p).cloned()),
            id: r.id,
            slug: r.slug,
            name: r.name,
            position: r.position,
            description: r.description,
        })
        .collect())
}

/// `{id, slug, name}` of sections by id, in one query.
pub fn refs_by_id(conn: &mut DbConn, ids: &[i32]) -> AppResult<HashMap<i32, Ref>> {
    let rows: Vec<Ref> = match ids {
        [] => return Ok(HashMap::new()),
        // On an uncached article read: run on the backend's own connection (see
        // `on_backend!`), which skips building the SQL text again for each call.
        [id] => crate::on_backend!(conn, |c| sections::table
            .find(id)
            .select((sections::id, sections::slug, sections::name))
            .load(c)?),
        _ => crate::on_backend!(conn, |c| sections::table
            .filter(sections::id.eq_any(ids))
            .select((sections::id, sections::slug, sections::name))
            .load(c)?),
    };
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// Reads one section.
pub fn get(conn: &mut DbConn, key: &Key) -> AppResult<Section> {
    let id = require_id(conn, key)?;
    let row = sections::table
        .find(id)
        .select(SectionRow::as_select())
        .get_result(conn)?;
    Ok(views(conn, vec![row])?.remove(0))
}

/// Reads one section with the time it last changed (for `Last-Modified`).
pub fn get_dated(conn: &mut DbConn, key: &Key) -> AppResult<(Section, Timestamp)> {
    let section = get(conn, key)?;
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
pub fn create(conn: &mut DbConn, body: SectionCreate) -> AppResult<Written<Section>> {
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
            sections::created_at.eq(now),
            sections::updated_at.eq(now),
        ))
        .returning(sections::id)
        .get_result(conn)?;
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
    updated_at: chrono::NaiveDateTime,
}

/// Applies a PATCH; a parent that would create a cycle is a 422.
pub fn update(conn: &mut DbConn, key: &Key, body: SectionPatch) -> AppResult<Written<Section>> {
    let id = require_id(conn, key)?;
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
    c.finish()?;
    if let Some(s) = &slug {
        ensure_slug_free(conn, s, Some(id))?;
    }
    diesel::update(sections::table.find(id))
        .set(&SectionChanges {
            slug,
            name,
            parent_id,
            position,
            description,
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
    Ok(Written::content((), Scope::All))
}

/// A parsed `GET /sections` request.
#[derive(Debug, Clone)]
pub struct SectionQuery {
    pub page: PageRequest,
}

impl SectionQuery {
    /// Reads the query string of `GET /sections`.
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let page = PageRequest::from_params(&mut params, codec, "menu")?;
        params.finish()?;
        Ok(Self { page })
    }
}

/// Lists sections flat, ordered by parent (top level first) then position.
pub fn list(
    conn: &mut DbConn,
    q: &SectionQuery,
    codec: &CursorCodec,
) -> AppResult<ListResponse<Section>> {
    let parent_key = coalesce(sections::parent_id, 0);
    let mut query = sections::table.select(SectionRow::as_select()).into_boxed();
    if let Some(after) = q.page.after() {
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
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
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
    let views = views(conn, rows)?;
    Ok(paging::finish_page(
        views,
        &q.page,
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
