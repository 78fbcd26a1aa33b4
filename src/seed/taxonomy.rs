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

/// A slug with its name in Arabic and in Spanish.
pub type Translated = (&'static str, &'static str, &'static str);

/// The names of the menu's sections in Arabic and Spanish, by slug (parallel to `MENU`).
pub const SECTION_NAMES: &[Translated] = &[
    ("news", "أخبار", "Noticias"),
    ("politics", "سياسة", "Política"),
    ("economy", "اقتصاد", "Economía"),
    ("sports", "رياضة", "Deportes"),
    ("arts-culture", "ثقافة وفنون", "Arte y cultura"),
    ("health", "صحة", "Salud"),
    ("miscellaneous", "منوعات", "Miscelánea"),
    ("technology", "تكنولوجيا", "Tecnología"),
    ("environment", "بيئة", "Medio ambiente"),
    ("articles", "مقالات", "Artículos"),
    ("opinion", "آراء", "Opinión"),
    ("analysis", "تحليلات", "Análisis"),
    ("blog", "مدونات", "Blog"),
    ("features", "تقارير", "Reportajes"),
    ("videos", "فيديو", "Vídeos"),
    ("newsfeed", "موجز الأخبار", "Noticias al minuto"),
    ("video-features", "تقارير مصورة", "Reportajes en vídeo"),
    ("explainers", "شروحات", "Claves"),
    ("tv", "تلفزيون", "Televisión"),
    ("digital-series", "سلاسل رقمية", "Series digitales"),
    ("infographs", "إنفوغراف", "Infografías"),
    ("in-pictures", "بالصور", "En imágenes"),
];

/// The names of the regions in Arabic and Spanish, by slug (parallel to `REGIONS`).
pub const REGION_NAMES: &[Translated] = &[
    ("africa", "أفريقيا", "África"),
    ("asia", "آسيا", "Asia"),
    ("asia-pacific", "آسيا والمحيط الهادئ", "Asia-Pacífico"),
    ("europe", "أوروبا", "Europa"),
    ("latin-america", "أميركا اللاتينية", "América Latina"),
    (
        "mena",
        "الشرق الأوسط وشمال أفريقيا",
        "Oriente Medio y norte de África",
    ),
    ("palestine", "فلسطين", "Palestina"),
    (
        "us-canada",
        "الولايات المتحدة وكندا",
        "Estados Unidos y Canadá",
    ),
];

/// The stored `localized` of the section or region `slug`: its Arabic and Spanish names.
fn localized_name(names: &[Translated], slug: &str) -> String {
    match names.iter().find(|(s, _, _)| *s == slug) {
        Some((_, ar, es)) => {
            serde_json::json!({"ar": {"name": ar}, "es": {"name": es}}).to_string()
        }
        None => "{}".to_owned(),
    }
}

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
            sections::localized.eq(localized_name(SECTION_NAMES, slug)),
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
                    regions::localized.eq(localized_name(REGION_NAMES, slug)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_and_region_has_arabic_and_spanish_names() {
        let slugs = MENU.iter().flat_map(|(slug, _, children)| {
            std::iter::once(*slug).chain(children.iter().map(|c| c.0))
        });
        for slug in slugs {
            assert!(SECTION_NAMES.iter().any(|n| n.0 == slug), "section {slug}");
        }
        assert_eq!(SECTION_NAMES.len(), 22);
        for (slug, _) in REGIONS {
            assert!(REGION_NAMES.iter().any(|n| n.0 == *slug), "region {slug}");
        }
        assert_eq!(REGION_NAMES.len(), REGIONS.len());
        let stored: serde_json::Value =
            serde_json::from_str(&localized_name(SECTION_NAMES, "politics")).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({"ar": {"name": "سياسة"}, "es": {"name": "Política"}})
        );
    }
}
