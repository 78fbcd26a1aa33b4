//! `newsdesk seed`: the demo newsroom and the bulk corpus.

use newsdesk::domain::users;
use newsdesk::seed;

use serde_json::json;

use crate::common;

#[actix_web::test]
async fn the_demo_fills_a_believable_newsroom() {
    let t = common::app().await;
    let editor = t.admin().await;
    let languages = t.state.config.languages.clone();
    let site = newsdesk::domain::feeds::Site::of(&t.state.config);
    let summary = t
        .state
        .db
        .write(move |conn| {
            let admin = users::first_active_admin(conn)?.expect("an admin");
            seed::demo::seed(conn, admin, &languages, &site)
        })
        .await
        .unwrap();
    assert_eq!(summary.articles, 60);
    let all = t
        .get_as(&editor, "/api/v1/articles?status=all&per_page=100")
        .await
        .expect(200)
        .json();
    assert_eq!(all["meta"]["total"], 60);
    for (status, min) in [("draft", 1), ("scheduled", 1), ("published", 40)] {
        let n = t
            .get_as(&editor, &format!("/api/v1/articles?status={status}"))
            .await
            .expect(200)
            .json()["meta"]["total"]
            .as_i64()
            .unwrap();
        assert!(n >= min, "{status}: {n}");
    }
    for lang in ["en", "ar", "es"] {
        let list = t
            .get(&format!("/api/v1/articles?lang={lang}"))
            .await
            .expect(200)
            .json();
        assert!(list["meta"]["total"].as_i64().unwrap() >= 15, "{lang}");
        let first = &list["data"][0];
        assert!(first["hero_media"]["credit"].is_string());
        assert!(!first["authors"].as_array().unwrap().is_empty());
    }
    let news = t
        .get("/api/v1/articles?section=news")
        .await
        .expect(200)
        .json();
    assert!(
        news["meta"]["total"].as_i64().unwrap() > 10,
        "children of News are included"
    );
    let breaking = t.get("/api/v1/breaking").await.expect(200).json();
    assert_eq!(breaking["meta"]["total"], 4, "four live items, one expired");
    let house = t.get("/api/v1/authors/agencies").await.expect(200).json();
    assert_eq!(house["name"], "Agencies");
    let sections = t
        .get("/api/v1/sections?per_page=100")
        .await
        .expect(200)
        .json();
    assert_eq!(sections["meta"]["total"], 22);
    // A second run refuses to pile a second demo on top.
    let languages = t.state.config.languages.clone();
    let site = newsdesk::domain::feeds::Site::of(&t.state.config);
    let again = t
        .state
        .db
        .write(move |conn| {
            let admin = users::first_active_admin(conn)?.expect("an admin");
            seed::demo::seed(conn, admin, &languages, &site)
        })
        .await;
    assert!(again.is_err());
}

#[actix_web::test]
async fn the_bulk_corpus_has_the_promised_shape() {
    let t = common::app().await;
    let db = t.state.db.clone();
    let summary = newsdesk::db::run_blocking(move || seed::bulk::seed(&db, 300, None))
        .await
        .unwrap();
    assert_eq!(summary.articles, 300);
    let list = t
        .get("/api/v1/articles?per_page=100")
        .await
        .expect(200)
        .json();
    assert_eq!(list["meta"]["total"], 300);
    for item in list["data"].as_array().unwrap() {
        assert_eq!(item["tags"].as_array().unwrap().len(), 3);
        let authors = item["authors"].as_array().unwrap().len();
        assert!((1..=2).contains(&authors));
        assert!(item["section"].is_object() && item["hero_media"].is_object());
        assert_eq!(item["regions"].as_array().unwrap().len(), 1);
    }
    for lang in ["ar", "es"] {
        let n = t
            .get(&format!("/api/v1/articles?lang={lang}"))
            .await
            .expect(200)
            .json()["meta"]["total"]
            .as_i64()
            .unwrap();
        assert_eq!(n, 100, "{lang}");
    }
    let slug = list["data"][0]["slug"].as_str().unwrap().to_owned();
    let one = t
        .get(&format!("/api/v1/articles/{slug}"))
        .await
        .expect(200)
        .json();
    let body_len = one["body"].as_str().unwrap().len();
    assert!((1_500..=6_000).contains(&body_len), "{body_len}");
    assert_eq!(
        t.get("/api/v1/authors").await.expect(200).json()["meta"]["total"],
        50
    );
    assert_eq!(
        t.get("/api/v1/tags").await.expect(200).json()["meta"]["total"],
        30
    );
}

/// `seed --articles N --body-words 80` writes short archive stories, and the bulk
/// seed keeps the maintained counts: every tag's `article_count` and every list total
/// equal what a reader pages through.
#[actix_web::test]
async fn a_short_body_archive_comes_with_exact_counts() {
    let t = common::app().await;
    let db = t.state.db.clone();
    newsdesk::db::run_blocking(move || seed::bulk::seed_with_history(&db, 240, 0, Some(80), None))
        .await
        .unwrap();
    let list = t
        .get("/api/v1/articles?per_page=100")
        .await
        .expect(200)
        .json();
    assert_eq!(list["meta"]["total"], 240);
    for item in list["data"].as_array().unwrap() {
        let words = item["word_count"].as_i64().unwrap();
        assert!((80..=200).contains(&words), "{words} words");
    }
    let tags = t.get("/api/v1/tags?per_page=100").await.expect(200).json();
    let counts: Vec<(String, i64)> = tags["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["slug"].as_str().unwrap().to_owned(),
                t["article_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 240 * 3);
    for (slug, count) in counts.iter().take(5) {
        let mut seen = 0;
        let mut next = format!("/api/v1/articles?per_page=7&tag={slug}");
        let first = t.get(&next).await.expect(200).json();
        assert_eq!(first["meta"]["total"].as_i64(), Some(*count), "{slug}");
        loop {
            let page = t.get(&next).await.expect(200).json();
            seen += page["data"].as_array().unwrap().len() as i64;
            match page["meta"]["next_cursor"].as_str() {
                Some(c) => next = format!("/api/v1/articles?per_page=7&tag={slug}&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, *count, "{slug}: the pages hold what the count says");
    }
}

/// `seed --articles N --revisions R` gives each article a history that reads and
/// restores like one made by edits.
#[actix_web::test]
async fn a_bulk_history_reads_and_restores_like_edits() {
    let t = common::app().await;
    let editor = t.editor().await;
    let db = t.state.db.clone();
    newsdesk::db::run_blocking(move || seed::bulk::seed_with_history(&db, 6, 7, None, None))
        .await
        .unwrap();
    let slug = t.slugs("/api/v1/articles").await[0].clone();
    let path = format!("/api/v1/articles/{slug}");
    let list = t
        .get_as(&editor, &format!("{path}/revisions"))
        .await
        .expect(200)
        .json();
    let summaries: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "changed summary",
            "changed body",
            "changed title",
            "changed summary",
            "changed body",
            "changed title",
            "created"
        ]
    );
    let current = t.get(&path).await.expect(200).json();
    let sixth = t
        .get_as(&editor, &format!("{path}/revisions/6"))
        .await
        .expect(200)
        .json();
    assert_eq!(sixth["diff"][0]["field"], "body");
    let body = sixth["fields"]["body"].as_str().unwrap();
    assert!(body.starts_with(current["body"].as_str().unwrap()));
    assert!(body.contains("**Update 3:**") && body.contains("**Update 6:**"));
    let restored = t
        .post(&editor, &format!("{path}/revisions/6/restore"), json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(restored["body"], body);
    assert_eq!(restored["tags"], current["tags"]);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// After a bulk load the planner has per-index averages and no per-value samples: with
/// samples, this SQLite build re-prepares a statement for every new slug, which halved
/// the rate of uncached article reads. On PostgreSQL the loaded table is vacuumed: every
/// page is marked all-visible, so index-only scans over the newest stories need not
/// read the table.
#[actix_web::test]
async fn a_bulk_load_leaves_planner_averages_without_samples() {
    use diesel::RunQueryDsl;
    let t = common::app().await;
    let db = t.state.db.clone();
    newsdesk::db::run_blocking(move || seed::bulk::seed(&db, 300, None))
        .await
        .unwrap();
    let count = |sql: &'static str| {
        let db = t.state.db.clone();
        async move {
            db.read(move |conn| Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n))
                .await
                .unwrap()
        }
    };
    if common::on_postgres() {
        // PostgreSQL keeps no per-value samples to avoid; the load leaves statistics.
        let analysed =
            count("SELECT COUNT(*) AS n FROM pg_stats WHERE tablename = 'articles'").await;
        assert!(analysed > 0, "the articles table has statistics");
        let pages =
            count("SELECT relpages::bigint AS n FROM pg_class WHERE relname = 'articles'").await;
        let visible =
            count("SELECT relallvisible::bigint AS n FROM pg_class WHERE relname = 'articles'")
                .await;
        assert!(pages > 0, "the vacuum counted the table's pages");
        assert_eq!(
            visible, pages,
            "every page of the loaded table is all-visible"
        );
        return;
    }
    let averages = count("SELECT COUNT(*) AS n FROM sqlite_stat1 WHERE tbl = 'articles'").await;
    assert!(averages > 0, "the articles table has statistics");
    let samples = count(
        "SELECT COUNT(*) AS n FROM sqlite_schema s WHERE s.name = 'sqlite_stat4' \
         AND EXISTS (SELECT 1 FROM sqlite_stat4)",
    )
    .await;
    assert_eq!(samples, 0, "no per-value samples are kept");
}

/// FTS5's merge settings of a bulk run on SQLite.
fn fts_settings(config: &newsdesk::config::Config) -> Vec<(String, i64)> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        k: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        v: i64,
    }
    let mut conn = common::connect(config);
    diesel::sql_query(
        "SELECT k, CAST(v AS INTEGER) AS v FROM articles_fts_config \
         WHERE k IN ('automerge', 'hashsize') ORDER BY k",
    )
    .load::<Setting>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|s| (s.k, s.v))
    .collect()
}

/// A bulk seed on SQLite loads the search index with merging held back, then gives it
/// its usual settings: every story is found by a word of its title, and a story written
/// afterwards is found too. A seed cut short leaves the held-back settings, which the
/// next start restores.
#[actix_web::test]
async fn a_bulk_seed_leaves_a_searchable_index_with_its_usual_settings() {
    let t = common::sqlite_app().await;
    let editor = t.editor().await;
    let db = t.state.db.clone();
    newsdesk::db::run_blocking(move || seed::bulk::seed_with_history(&db, 600, 0, Some(80), None))
        .await
        .unwrap();
    let defaults = vec![
        ("automerge".to_owned(), 4),
        ("hashsize".to_owned(), 1_048_576),
    ];
    assert_eq!(fts_settings(&t.state.config), defaults);
    // The newest seeded stories are each found by a word of their title.
    let list = t
        .get("/api/v1/articles?per_page=100")
        .await
        .expect(200)
        .json();
    for item in list["data"].as_array().unwrap().iter().take(20) {
        let slug = item["slug"].as_str().unwrap();
        // Its longest word (short ones may be stop words of its language).
        let title = item["title"].as_str().unwrap();
        let word = title.split(' ').max_by_key(|w| w.chars().count()).unwrap();
        let first = format!("/api/v1/articles?q={}&per_page=100", url_encode(word));
        let mut found = false;
        let mut next = Some(first.clone());
        while let Some(path) = next {
            let page = t.get(&path).await.expect(200).json();
            found |= page["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["slug"] == slug);
            next = page["meta"]["next_cursor"]
                .as_str()
                .filter(|_| !found)
                .map(|c| format!("{first}&cursor={c}"));
        }
        assert!(found, "{slug} not found by {word:?}");
    }
    t.article(
        &editor,
        json!({"slug": "after-the-seed", "title": "Quokka census after the seed",
        "status": "published"}),
    )
    .await;
    assert_eq!(
        t.slugs("/api/v1/articles?q=quokka").await,
        ["after-the-seed"]
    );

    // Cut short: the held-back settings are left in the file; a restart restores them.
    let config = t.state.config.clone();
    let mut conn = common::connect(&config);
    let newsdesk::db::DbConn::Sqlite(c) = &mut conn else {
        unreachable!("a SQLite app")
    };
    // The app's own workers may be writing: wait for the lock as they do.
    newsdesk::db::sqlite::ConnectionSetup::apply(c).unwrap();
    newsdesk::db::sqlite::fts_bulk_begin(c).unwrap();
    assert_ne!(fts_settings(&config), defaults);
    drop(conn);
    let again = common::app_with(t.dir.clone(), (*config).clone()).await;
    assert_eq!(fts_settings(&again.state.config), defaults);
    assert_eq!(
        again.slugs("/api/v1/articles?q=quokka").await,
        ["after-the-seed"]
    );
}

fn url_encode(word: &str) -> String {
    word.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
