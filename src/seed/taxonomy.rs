//! The site's menu and regions, as the demo and the bulk corpus both use them.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::{regions, sections};

/// A section's slug and name.
pub type Named = (&'static str, &'static str);

/// Top-level sections and their children, in menu order.
pub const MENU: &[(&str, &str, &[Named])] = &[
    (
        "news",
        "News",
        &[
            ("politics", "Politics"),
            ("economy", "Economy"),
            ("sports", "Sports"),
            ("arts-culture", "Arts & Culture"),
            ("health", "Health"),
            ("miscellaneous", "Miscellaneous"),
            ("technology", "Technology"),
            ("environment", "Environment"),
        ],
    ),
    (
        "articles",
        "Articles",
        &[
            ("opinion", "Opinion"),
            ("analysis", "Analysis"),
            ("blog", "Blog"),
            ("features", "Features"),
        ],
    ),
    (
        "videos",
        "Videos",
        &[
            ("newsfeed", "NewsFeed"),
            ("video-features", "Video Features"),
            ("explainers", "Explainers"),
            ("tv", "TV"),
            ("digital-series", "Digital Series"),
        ],
    ),
    ("infographs", "Infographs", &[]),
    ("in-pictures", "In Pictures", &[]),
];

/// The regions of the site.
pub const REGIONS: &[Named] = &[
    ("africa", "Africa"),
    ("asia", "Asia"),
    ("asia-pacific", "Asia-Pacific"),
    ("europe", "Europe"),
    ("latin-america", "Latin America"),
    ("mena", "MENA"),
    ("palestine", "Palestine"),
    ("us-canada", "US & Canada"),
];

fn section_id(conn: &mut DbConn, slug: &str) -> AppResult<Option<i32>> {
    Ok(sections::table
        .filter(sections::slug.eq(slug))
        .select(sections::id)
        .first(conn)
        .optional()?)
}

fn ensure_section(
    conn: &mut DbConn,
    slug: &str,
    name: &str,
    parent: Option<i32>,
    position: i32,
) -> AppResult<i32> {
    if let Some(id) = section_id(conn, slug)? {
        return Ok(id);
    }
    let now = Timestamp::now().0;
    Ok(diesel::insert_into(sections::table)
        .values((
            sections::slug.eq(slug),
            sections::name.eq(name),
            sections::parent_id.eq(parent),
            sections::position.eq(position),
            sections::created_at.eq(now),
            sections::updated_at.eq(now),
        ))
        .returning(sections::id)
        .get_result(conn)?)
}

/// Creates the menu's sections and the regions that are missing; returns the ids of
/// the leaf sections (where articles are filed) and of the regions.
pub fn ensure_taxonomy(conn: &mut DbConn) -> AppResult<(Vec<i32>, Vec<i32>)> {
    let mut leaves = Vec::new();
    for (position, (slug, name, children)) in (1..).zip(MENU.iter()) {
        let parent = ensure_section(conn, slug, name, None, position)?;
        if children.is_empty() {
            leaves.push(parent);
        }
        for (child_position, (child_slug, child_name)) in (1..).zip(children.iter()) {
            leaves.push(ensure_section(
                conn,
                child_slug,
                child_name,
                Some(parent),
                child_position,
            )?);
        }
    }
    let mut region_ids = Vec::new();
    let now = Timestamp::now().0;
    for (slug, name) in REGIONS {
        let existing: Option<i32> = regions::table
            .filter(regions::slug.eq(slug))
            .select(regions::id)
            .first(conn)
            .optional()?;
        let id = match existing {
            Some(id) => id,
            None => diesel::insert_into(regions::table)
                .values((
                    regions::slug.eq(slug),
                    regions::name.eq(name),
                    regions::created_at.eq(now),
                    regions::updated_at.eq(now),
                ))
                .returning(regions::id)
                .get_result(conn)?,
        };
        region_ids.push(id);
    }
    Ok((leaves, region_ids))
}
