//! Maintained counts: a list's `meta.total` and a tag's `article_count` always equal the
//! stories a reader can actually page through, through edits, moves between tags and
//! sections, take-downs, the trash, deleted tags, and what time alone changes (a
//! scheduled story going live, an embargo ending), before and after the scheduler
//! folds the counts.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{self, SCHEDULE_AHEAD, due_by, in_seconds};

/// The lists whose totals the counts keep.
const LISTS: &[&str] = &[
    "",
    "tag=gaza",
    "tag=elections",
    "tag=climate",
    "section=news",
    "section=politics",
    "section=sports",
    "author=leila-haddad",
    "author=omar-said",
    "region=mena",
    "region=europe",
    "featured=true",
    "featured=false",
    "featured=true&section=politics",
    "featured=false&section=news",
    "featured=true&tag=gaza",
    "featured=false&tag=elections",
    "featured=true&tag=climate",
    "featured=true&author=omar-said",
    "featured=false&author=leila-haddad",
    "featured=true&region=mena",
    "featured=false&region=europe",
];

/// Per list: `(meta.total, the slugs a reader pages through)`, and per tag its
/// `article_count` from the tag and from the tag list.
async fn seen<S, B>(t: &common::TestApp<S>) -> Vec<(String, i64, usize)>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut out = Vec::new();
    // Date windows: around now (whole days inside, part-days at the ends, or less than
    // a day), and around a story moved back to 2023-01-15 10:00.
    let at = |secs: i64| in_seconds(secs).replace('+', "%2B");
    let day = 86_400;
    let windows = [
        format!("published_after={}", at(-3 * day)),
        format!("published_before={}", at(3 * day)),
        format!(
            "published_after={}&published_before={}",
            at(-3 * day),
            at(3 * day)
        ),
        format!("published_after={}&published_before={}", at(-600), at(600)),
        "published_after=2023-01-01T00:00:00Z&published_before=2023-02-01T00:00:00Z".into(),
        "published_before=2023-01-15T12:00:00Z".into(),
        "published_after=2023-01-15T09:00:00Z&published_before=2024-01-01T00:00:00Z".into(),
        "published_after=2023-01-15T11:00:00Z".into(),
    ];
    let lists = LISTS.iter().map(|l| l.to_string()).chain(windows);
    // Each list in every language and in each one (an edition's lists).
    for filter in lists {
        for lang in ["", "&lang=en", "&lang=ar", "&lang=es"] {
            let page = t
                .get(&format!("/api/v1/articles?per_page=100&{filter}{lang}"))
                .await
                .expect(200)
                .json();
            let total = page["meta"]["total"].as_i64().unwrap();
            let listed = page["data"].as_array().unwrap().len();
            out.push((format!("articles?{filter}{lang}"), total, listed));
        }
    }
    let tags = t.get("/api/v1/tags?per_page=100").await.expect(200).json();
    for tag in tags["data"].as_array().unwrap() {
        let slug = tag["slug"].as_str().unwrap();
        let listed = t
            .get(&format!("/api/v1/articles?per_page=100&tag={slug}"))
            .await
            .expect(200)
            .json()["data"]
            .as_array()
            .unwrap()
            .len();
        let one: Value = t
            .get(&format!("/api/v1/tags/{slug}"))
            .await
            .expect(200)
            .json();
        out.push((
            format!("tags list: {slug}"),
            tag["article_count"].as_i64().unwrap(),
            listed,
        ));
        out.push((
            format!("tag {slug}"),
            one["article_count"].as_i64().unwrap(),
            listed,
        ));
    }
    // Tag, author and region pages walk the links by their copy of the story's time
    // (and a tag's by its language): every link carries its story's.
    let out_of_step = t
        .state
        .db
        .read(|conn| {
            #[derive(diesel::QueryableByName)]
            struct Stray {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let sql = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (
                     SELECT l.article_id FROM article_tags l JOIN articles a ON a.id = l.article_id
                     WHERE l.published_at IS DISTINCT FROM a.published_at
                         OR l.language IS DISTINCT FROM a.language
                     UNION ALL
                     SELECT l.article_id FROM article_authors l JOIN articles a ON a.id = l.article_id
                     WHERE l.published_at IS DISTINCT FROM a.published_at
                     UNION ALL
                     SELECT l.article_id FROM article_regions l JOIN articles a ON a.id = l.article_id
                     WHERE l.published_at IS DISTINCT FROM a.published_at) AS strays";
            let stray: Stray = diesel::sql_query(sql).get_result(conn)?;
            Ok(stray.n)
        })
        .await
        .expect("compare the links with their stories");
    out.push(("links out of step with their story".into(), out_of_step, 0));
    out
}

/// Every count equals what is listed.
fn wrong(seen: &[(String, i64, usize)]) -> Vec<String> {
    seen.iter()
        .filter(|(_, n, listed)| *n != *listed as i64)
        .map(|(what, n, listed)| format!("{what}: says {n}, lists {listed}"))
        .collect()
}

macro_rules! check {
    ($t:expr, $when:expr) => {{
        let seen = seen(&$t).await;
        let wrong = wrong(&seen);
        assert!(wrong.is_empty(), "{}: {wrong:?}", $when);
        seen
    }};
}

#[actix_web::test]
async fn totals_and_tag_counts_equal_what_readers_can_list_through_every_change() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let a = t
        .article(
            &editor,
            json!({"title": "A", "status": "published", "tags": ["gaza", "elections"],
                "section": "politics", "authors": ["leila-haddad"], "regions": ["mena"],
                "language": "ar"}),
        )
        .await;
    let b = t
        .article(
            &editor,
            json!({"title": "B", "status": "published", "tags": ["gaza"], "featured": true,
                "section": "news", "authors": ["omar-said"], "regions": ["europe"]}),
        )
        .await;
    let c = t
        .article(
            &editor,
            json!({"title": "C", "tags": ["gaza"], "section": "sports", "language": "es"}),
        )
        .await;
    let seen = check!(t, "after the first stories");
    assert!(
        seen.contains(&("articles?tag=gaza".into(), 2, 2)),
        "a draft is not counted: {seen:?}"
    );
    assert!(
        seen.contains(&("articles?tag=gaza&lang=ar".into(), 1, 1)),
        "each language counts its own: {seen:?}"
    );
    assert!(
        seen.contains(&("articles?section=news".into(), 2, 2)),
        "a section counts its children's stories: {seen:?}"
    );

    // Moves between tags, sections, bylines and regions.
    let path_a = format!("/api/v1/articles/{}", a["id"]);
    t.patch(
        &editor,
        &path_a,
        json!({"tags": ["climate"], "section": "sports", "authors": ["omar-said"],
            "regions": ["europe", "mena"]}),
    )
    .await
    .expect(200);
    check!(t, "after moving A");
    t.patch(&editor, &path_a, json!({"featured": true}))
        .await
        .expect(200);
    let seen = check!(t, "after featuring A");
    assert!(
        seen.contains(&("articles?featured=true".into(), 2, 2))
            && seen.contains(&("articles?featured=true&lang=ar".into(), 1, 1)),
        "A and B are featured: {seen:?}"
    );
    assert!(
        seen.contains(&("articles?featured=true&author=omar-said".into(), 2, 2))
            && seen.contains(&("articles?featured=true&region=mena&lang=ar".into(), 1, 1))
            && seen.contains(&("articles?featured=true&tag=climate".into(), 1, 1)),
        "A and B, both by Omar Said, featured; A in MENA, tagged climate: {seen:?}"
    );
    t.patch(&editor, &path_a, json!({"language": "es"}))
        .await
        .expect(200);
    check!(t, "after moving A to the Spanish edition");
    // A story moved back in time leaves today's count for its new day's.
    let path_b = format!("/api/v1/articles/{}", b["id"]);
    t.patch(
        &editor,
        &path_b,
        json!({"published_at": "2023-01-15T10:00:00Z"}),
    )
    .await
    .expect(200);
    let seen = check!(t, "after moving B back to 2023");
    for window in [
        "published_after=2023-01-01T00:00:00Z&published_before=2023-02-01T00:00:00Z",
        "published_before=2023-01-15T12:00:00Z",
    ] {
        assert!(
            seen.contains(&(format!("articles?{window}"), 1, 1))
                && seen.contains(&(format!("articles?{window}&lang=en"), 1, 1)),
            "B is in {window}: {seen:?}"
        );
    }
    assert!(
        seen.contains(&("articles?published_after=2023-01-15T11:00:00Z".into(), 1, 1)),
        "only A after B's hour: {seen:?}"
    );
    // Take-down, publication, trash and restore.
    t.patch(&editor, &path_b, json!({"status": "draft"}))
        .await
        .expect(200);
    check!(t, "after taking B down");
    let path_c = format!("/api/v1/articles/{}", c["id"]);
    t.patch(&editor, &path_c, json!({"status": "published"}))
        .await
        .expect(200);
    check!(t, "after publishing C");
    t.delete(&editor, &path_a).await.expect(204);
    check!(t, "after trashing A");
    t.post(
        &editor,
        &format!("/api/v1/trash/{}/restore", a["id"]),
        json!({}),
    )
    .await
    .expect(200);
    check!(t, "after restoring A");
    t.delete(&editor, "/api/v1/tags/climate").await.expect(204);
    let seen = check!(t, "after deleting the tag climate");
    assert!(
        seen.contains(&("articles?".into(), 2, 2)),
        "A and C are live: {seen:?}"
    );

    // What time alone changes: a story going live and one whose embargo ends.
    t.article(
        &editor,
        json!({"title": "D", "status": "published", "published_at": in_seconds(SCHEDULE_AHEAD),
            "tags": ["elections"], "section": "politics", "authors": ["leila-haddad"],
            "language": "ar", "featured": true}),
    )
    .await;
    t.article(
        &editor,
        json!({"title": "E", "status": "published", "unpublish_at": in_seconds(SCHEDULE_AHEAD),
            "tags": ["gaza"], "section": "news", "regions": ["mena"], "language": "es"}),
    )
    .await;
    check!(t, "with D scheduled and E under embargo");
    common::eventually(due_by(SCHEDULE_AHEAD), || async {
        let titles: Vec<String> = t.get("/api/v1/articles?per_page=100").await.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_owned())
            .collect();
        common::equals(
            titles.contains(&"D".to_owned()) && !titles.contains(&"E".to_owned()),
            true,
        )
    })
    .await;
    check!(t, "right after D went live and E expired");
    // Once the scheduler has announced both and folded the counts, the same again.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let seen = check!(t, "after the scheduler folded the counts");
    assert!(
        seen.contains(&("articles?".into(), 3, 3)),
        "A, C and D are live: {seen:?}"
    );
    // Folded, the counts stay put: one row per key, and later folds, with nothing
    // written in between, leave the table as it is.
    let table = || async {
        t.state
            .db
            .read(|conn| {
                use newsdesk::schema::article_counts as c;
                let rows: Vec<(i64, i32, i32)> =
                    c::table.select((c::id, c::kind, c::ref_id)).load(conn)?;
                let keys: std::collections::BTreeSet<(i32, i32)> =
                    rows.iter().map(|r| (r.1, r.2)).collect();
                let last = rows.iter().map(|r| r.0).max();
                Ok((rows.len(), keys.len(), last))
            })
            .await
            .expect("read the counts table")
    };
    let folded = table().await;
    assert_eq!(folded.0, folded.1, "one row per key: {folded:?}");
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(table().await, folded, "the folds since changed nothing");

    // The migration that brought the counts per language fills them, from the stories
    // as they stand, as the writes kept them.
    let per_language = || async {
        t.state
            .db
            .read(|conn| {
                use newsdesk::schema::article_counts as c;
                let rows: Vec<(i32, i32, i64)> = c::table
                    .filter(
                        c::kind
                            .ge(8)
                            .or(c::kind.eq(newsdesk::domain::counts::FEATURED))
                            .or(c::kind.eq(newsdesk::domain::counts::DAY))
                            .or(c::ref_id.lt(0)),
                    )
                    .filter(c::n.ne(0))
                    .select((c::kind, c::ref_id, c::n))
                    .order((c::kind, c::ref_id))
                    .load(conn)?;
                Ok(rows)
            })
            .await
            .expect("read the counts per language")
    };
    let kept = per_language().await;
    // A and C live in Spanish ("es": kind 4,144 for all of them), D in Arabic (3,896).
    assert!(kept.contains(&(4144, 0, 2)), "{kept:?}");
    assert!(kept.contains(&(3896, 0, 1)), "{kept:?}");
    // A and D are the featured stories live: kind 6, and 4,150 in Spanish, 3,902 in
    // Arabic.
    assert!(
        kept.contains(&(6, 0, 2)) && kept.contains(&(4150, 0, 1)) && kept.contains(&(3902, 0, 1)),
        "{kept:?}"
    );
    // And the ones that brought the featured counts, the counts per day and the
    // featured of each section, tag, author and region.
    let backfill = match common::on_postgres() {
        true => [
            include_str!("../../migrations_pg/2026-12-03-000013_language_counts/up.sql"),
            include_str!("../../migrations_pg/2026-12-04-000015_featured_counts/up.sql"),
            include_str!("../../migrations_pg/2026-12-04-000016_day_counts/up.sql"),
            include_str!("../../migrations_pg/2026-12-04-000017_featured_link_counts/up.sql"),
        ],
        false => [
            include_str!("../../migrations/2026-12-03-000013_language_counts/up.sql"),
            include_str!("../../migrations/2026-12-04-000015_featured_counts/up.sql"),
            include_str!("../../migrations/2026-12-04-000016_day_counts/up.sql"),
            include_str!("../../migrations/2026-12-04-000017_featured_link_counts/up.sql"),
        ],
    };
    t.state
        .db
        .write(move |conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(
                "DELETE FROM article_counts WHERE kind >= 8 OR kind IN (6, 7) OR ref_id < 0",
            )?;
            for sql in backfill {
                conn.batch_execute(sql)?;
            }
            Ok(())
        })
        .await
        .expect("run the migration's backfill again");
    assert_eq!(per_language().await, kept);

    // And the one that brought the blocks' change times: a block with live stories gets
    // the latest of their edits and publications (what the writes since keep raising).
    let times = || async {
        t.state
            .db
            .read(|conn| {
                use newsdesk::schema::sitemap_blocks as b;
                let rows: Vec<(i32, i64)> = b::table
                    .select((b::block, b::changed_at))
                    .order(b::block)
                    .load(conn)?;
                Ok(rows)
            })
            .await
            .expect("read the block times")
    };
    let written = times().await;
    let migration = match common::on_postgres() {
        true => include_str!("../../migrations_pg/2026-12-05-000019_sitemap_block_times/up.sql"),
        false => include_str!("../../migrations/2026-12-05-000019_sitemap_block_times/up.sql"),
    };
    t.state
        .db
        .write_content(move |conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("DROP TABLE sitemap_blocks")?;
            conn.batch_execute(migration)?;
            Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
        })
        .await
        .expect("run the block times' migration again");
    let live = t
        .get("/api/v1/articles?per_page=100")
        .await
        .expect(200)
        .json();
    let latest = live["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| [&a["updated_at"], &a["published_at"]])
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t.as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .max()
        .unwrap();
    let filled = times().await;
    assert_eq!(
        filled,
        [(0, latest)],
        "written by the stories' writes: {written:?}"
    );
    assert!(written[0].1 >= latest, "{written:?}");

    // Counts gone wrong outside the writes that keep them (rows edited by hand) are
    // rebuilt by `newsdesk recount`, every key as the writes had it.
    let keys = || async {
        t.state
            .db
            .read(|conn| {
                use newsdesk::schema::article_counts as c;
                let rows: Vec<(i32, i32, i64)> = c::table
                    .group_by((c::kind, c::ref_id))
                    .select((
                        c::kind,
                        c::ref_id,
                        diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(SUM(n) AS BIGINT)"),
                    ))
                    .order((c::kind, c::ref_id))
                    .load(conn)?;
                Ok(rows.into_iter().filter(|r| r.2 != 0).collect::<Vec<_>>())
            })
            .await
            .expect("read the counts")
    };
    let right = keys().await;
    t.state
        .db
        .write_content(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(
                "DELETE FROM article_counts WHERE kind = 2;
                 UPDATE article_counts SET n = n + 5 WHERE kind = 0;
                 DELETE FROM sitemap_blocks;
                 UPDATE article_tags SET published_at = NULL, language = 'fr';
                 UPDATE article_authors SET published_at = NULL;
                 UPDATE article_regions SET published_at = '2001-01-01 00:00:00';",
            )?;
            Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
        })
        .await
        .expect("spoil the counts");
    let spoiled = wrong(&self::seen(&t).await);
    assert!(
        spoiled.contains(&"articles?: says 8, lists 3".to_owned()),
        "{spoiled:?}"
    );
    assert!(
        spoiled
            .iter()
            .any(|w| w.starts_with("links out of step with their story: says ")),
        "{spoiled:?}"
    );
    let rebuilt = t
        .state
        .db
        .write_content(|conn| {
            newsdesk::domain::counts::recount(conn)
                .map(|n| newsdesk::db::Written::content(n, newsdesk::db::Scope::All))
        })
        .await
        .expect("recount");
    assert_eq!(keys().await, right);
    assert!(rebuilt as usize >= right.len(), "{rebuilt} keys");
    check!(t, "after a recount");
    // The sitemap index's child has its time again (the helper checks each has one).
    assert_eq!(t.sitemap_children().await, ["/sitemaps/articles-1.xml"]);
}

/// The migration that rebuilt the tag, byline and region links (on SQLite, tables without
/// rowid; on both backends, without their (other id, article_id) indexes), undone and run
/// again on a newsroom with links: every link is kept, every list, count and article reads
/// as before, and a story moved in time or language afterwards moves its links with it.
#[actix_web::test]
async fn the_link_tables_rebuilt_keep_every_link_and_follow_their_stories() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let mut stories = Vec::new();
    for (title, fields) in [
        (
            "A",
            json!({"tags": ["gaza", "elections"], "authors": ["leila-haddad", "omar-said"],
                "regions": ["mena"], "language": "ar", "section": "politics"}),
        ),
        (
            "B",
            json!({"tags": ["climate", "gaza"], "authors": ["omar-said"],
                "regions": ["europe", "mena"], "featured": true, "section": "news"}),
        ),
        (
            "C",
            json!({"tags": ["elections"], "authors": ["leila-haddad"], "regions": ["europe"],
                "language": "es", "section": "sports"}),
        ),
    ] {
        let mut body = fields;
        body["title"] = json!(title);
        body["status"] = json!("published");
        stories.push(t.article(&editor, body).await);
    }
    let pages = || async {
        let mut out = Vec::new();
        for s in &stories {
            out.push(
                t.get(&format!(
                    "/api/v1/articles/{}?include=related",
                    s["slug"].as_str().unwrap()
                ))
                .await
                .expect(200)
                .json(),
            );
        }
        out
    };
    let lists = check!(t, "before the rebuild");
    let articles = pages().await;
    {
        let read = || async {
            t.state
                .db
                .read(|conn| {
                    use newsdesk::schema::{
                        article_authors as b, article_regions as r, article_tags as g,
                    };
                    let mut all: Vec<(i32, i32, i32)> = g::table
                        .select((g::article_id, g::tag_id, g::position))
                        .load(conn)?;
                    all.extend(
                        b::table
                            .select((b::article_id, b::author_id + 1000, b::position))
                            .load::<(i32, i32, i32)>(conn)?,
                    );
                    all.extend(
                        r::table
                            .select((r::article_id, r::region_id + 2000, r::position))
                            .load::<(i32, i32, i32)>(conn)?,
                    );
                    all.sort_unstable();
                    Ok(all)
                })
                .await
                .expect("read the links")
        };
        let before = read().await;
        // Three stories: A two tags, two authors, one region; B two, one, two; C one each.
        assert_eq!(before.len(), 5 + 4 + 4, "{before:?}");
        let migration = match common::on_postgres() {
            true => [
                include_str!("../../migrations_pg/2026-12-07-000026_link_indexes_by_time/down.sql"),
                include_str!("../../migrations_pg/2026-12-07-000026_link_indexes_by_time/up.sql"),
            ],
            false => [
                include_str!(
                    "../../migrations/2026-12-07-000026_link_tables_without_rowid/down.sql"
                ),
                include_str!("../../migrations/2026-12-07-000026_link_tables_without_rowid/up.sql"),
            ],
        };
        t.state
            .db
            .write_content(move |conn| {
                use diesel::connection::SimpleConnection;
                for sql in migration {
                    conn.batch_execute(sql)?;
                }
                Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
            })
            .await
            .expect("undo the rebuild and run it again");
        assert_eq!(read().await, before);
    }
    // The date windows' names hold the time they were asked at; their counts line up.
    let counted = |seen: Vec<(String, i64, usize)>| -> Vec<(i64, usize)> {
        seen.into_iter().map(|(_, n, listed)| (n, listed)).collect()
    };
    assert_eq!(counted(check!(t, "after the rebuild")), counted(lists));
    assert_eq!(pages().await, articles);

    // The triggers that move a story's links came back: a story's time and language
    // changed in its row alone (as by hand) leave no link out of step.
    let id = stories[1]["id"].as_i64().unwrap() as i32;
    t.state
        .db
        .write_content(move |conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(&format!(
                "UPDATE articles SET published_at = '2023-01-15 10:00:00', language = 'es' \
                 WHERE id = {id}"
            ))?;
            Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
        })
        .await
        .expect("move B by hand");
    let seen = seen(&t).await;
    assert_eq!(
        seen.last().unwrap(),
        &("links out of step with their story".to_owned(), 0, 0),
        "{seen:?}"
    );
    // And an edit through the API does the same, with every count kept.
    let path_c = format!("/api/v1/articles/{}", stories[2]["id"]);
    t.patch(
        &editor,
        &path_c,
        json!({"published_at": "2024-03-01T08:00:00Z", "language": "en", "tags": ["climate"]}),
    )
    .await
    .expect(200);
    let moved = t
        .get("/api/v1/articles?tag=climate&per_page=100")
        .await
        .expect(200)
        .json();
    let titles: Vec<&str> = moved["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    // C (2024) is newer than B (2023).
    assert_eq!(titles, ["C", "B"], "{moved}");
}

/// What time alone will change, asked of the counts for moments ahead (the scheduler
/// works at the real time, so nothing here races it): a scheduled story is pending
/// from its time on, an embargoed one from its end, and a draft, a story in the trash
/// or one whose embargo ends before it goes live never is.
#[actix_web::test]
async fn the_stories_pending_at_a_moment_are_those_time_makes_live_or_takes_down() {
    use newsdesk::domain::counts::Pending;
    let t = common::app().await;
    let editor = t.editor().await;
    let id = |a: &Value| i32::try_from(a["id"].as_i64().expect("an id")).unwrap();
    let live = t
        .article(&editor, json!({"title": "Live", "status": "published"}))
        .await;
    let scheduled = t
        .article(
            &editor,
            json!({"title": "Scheduled", "status": "published", "published_at": in_seconds(600)}),
        )
        .await;
    let embargoed = t
        .article(
            &editor,
            json!({"title": "Embargoed", "status": "published", "unpublish_at": in_seconds(1200)}),
        )
        .await;
    t.article(
        &editor,
        json!({"title": "Never live", "status": "published", "published_at": in_seconds(600),
            "unpublish_at": in_seconds(700)}),
    )
    .await;
    t.article(
        &editor,
        json!({"title": "Draft", "status": "draft", "published_at": in_seconds(600)}),
    )
    .await;
    let trashed = t
        .article(
            &editor,
            json!({"title": "Trashed", "status": "published", "published_at": in_seconds(600)}),
        )
        .await;
    t.delete(&editor, &format!("/api/v1/articles/{}", trashed["id"]))
        .await
        .expect(204);
    let pending_in = |secs: i64| {
        let at = chrono::Utc::now().naive_utc() + chrono::Duration::seconds(secs);
        t.state.db.read(move |conn| Pending::at(conn, at))
    };
    let expect = |gained: Vec<i32>, lost: Vec<i32>| Pending { gained, lost };

    assert_eq!(pending_in(0).await.unwrap(), expect(vec![], vec![]), "now");
    assert_eq!(
        pending_in(300).await.unwrap(),
        expect(vec![], vec![]),
        "before anything is due"
    );
    assert_eq!(
        pending_in(900).await.unwrap(),
        expect(vec![id(&scheduled)], vec![]),
        "once the scheduled story is due"
    );
    assert_eq!(
        pending_in(1500).await.unwrap(),
        expect(vec![id(&scheduled)], vec![id(&embargoed)]),
        "once the embargo has ended too"
    );
    // The live story, read as a reader would, is counted already.
    assert!(!pending_in(1500).await.unwrap().gained.contains(&id(&live)));
}
