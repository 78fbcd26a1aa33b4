//! Database errors keep their meaning, and the background workers have one owner.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use newsdesk::error::AppError;
use newsdesk::schema::tags;
use serde_json::json;

use crate::common;

/// Two creates of one slug at once: one wins, the other is told the slug is taken.
#[actix_web::test]
async fn two_creates_of_one_slug_at_once_give_201_and_409_never_500() {
    let t = common::app().await;
    let editor = t.editor().await;
    for round in 0..5 {
        let body = json!({"name": format!("Race {round}"), "slug": format!("race-{round}")});
        let (a, b) = futures_util::join!(
            t.post(&editor, "/api/v1/tags", body.clone()),
            t.post(&editor, "/api/v1/tags", body.clone())
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}");
        let lost = if a.status == 409 { a } else { b };
        let problem = lost.problem(409, "slug_taken");
        assert_eq!(problem["errors"][0]["field"], "slug");
    }
    let list = t.get("/api/v1/tags?per_page=100").await.expect(200).json();
    assert_eq!(list["meta"]["total"], 5);
}

/// A unique value the database refuses, with no check in front of it, is a 409 that
/// names the field, not a 500: the safety net under every pre-check.
#[actix_web::test]
async fn a_unique_violation_the_code_did_not_foresee_is_a_409_naming_the_field() {
    let t = common::app().await;
    let insert = |conn: &mut newsdesk::db::DbConn| -> Result<usize, AppError> {
        let now = chrono::Utc::now().naive_utc();
        Ok(diesel::insert_into(tags::table)
            .values((
                tags::slug.eq("dup"),
                tags::name.eq("Dup"),
                tags::created_at.eq(now),
                tags::updated_at.eq(now),
            ))
            .execute(conn)?)
    };
    t.state.db.write(insert).await.expect("the first insert");
    let err = t.state.db.write(insert).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (409, "slug_taken"), "{err:?}");
    let problem = err.to_problem();
    assert_eq!(problem.errors.unwrap()[0].field, "slug");
}

/// `/healthz` names every background worker, and they all run in a test app as in
/// production.
#[actix_web::test]
async fn healthz_reports_every_background_worker() {
    let t = common::app().await;
    let health = t.get("/healthz").await.expect(200).json();
    assert_eq!(health["status"], "ok");
    for part in ["database", "writes", "workers"] {
        assert_eq!(health[part], "ok", "{part}: {health}");
    }
    let workers = health["worker_details"]
        .as_object()
        .expect("workers")
        .clone();
    let storage: &[&str] = if common::on_postgres() {
        &["db-conn-0", "db-write-0", "db-listen"]
    } else {
        &["db-writer", "db-reader-0", "db-checkpoint"]
    };
    for name in storage.iter().chain(&[
        "view-counter",
        "cache-freshness",
        "breaking-pump",
        "breaking-scheduler",
    ]) {
        assert_eq!(workers[*name], "ok", "{name}: {health}");
    }
}

/// Stopping the workers commits what was queued and counted first: view beacons counted
/// before the stop are in the database after it.
#[actix_web::test]
async fn stopping_writes_the_last_view_counts() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "counted", "title": "Counted", "status": "published"}),
    )
    .await;
    for _ in 0..3 {
        t.post(&editor, "/api/v1/articles/counted/views", json!({}))
            .await
            .expect(204);
    }
    t.state.shutdown();
    let mut conn = common::connect(&t.state.config);
    let views: i64 = diesel::sql_query("SELECT COALESCE(SUM(views), 0) AS n FROM article_views")
        .get_result::<Count>(&mut conn)
        .map(|c| c.n)
        .unwrap_or(-1);
    assert_eq!(views, 3);
}

#[derive(QueryableByName)]
struct Pages {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pages: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    visible: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `newsdesk copy --to postgres://…` moves a SQLite newsroom with its ids, its signing
/// secret and a rebuilt search index: the same reads, the same tokens, and new rows
/// continue after the copied ids. Needs a PostgreSQL server, so it runs in the suite's
/// PostgreSQL pass (`NEWSDESK_TEST_DATABASE_URL`).
#[actix_web::test]
async fn a_sqlite_newsroom_copied_to_postgres_reads_the_same() {
    let Some(server) = common::test_server() else {
        eprintln!("no PostgreSQL server named; this test runs in the PostgreSQL pass");
        return;
    };
    let old = common::sqlite_app().await;
    let editor = old.editor().await;
    old.newsroom(&editor).await;
    for (slug, title) in [
        ("talks", "Ceasefire talks in Cairo"),
        ("budget", "Budget passes"),
    ] {
        old.article(
            &editor,
            json!({"slug": slug, "title": title, "status": "published",
                   "section": "politics", "tags": ["gaza"], "authors": ["agencies"]}),
        )
        .await;
    }
    // Localized names and old slugs move too.
    old.patch(
        &editor,
        "/api/v1/tags/gaza",
        json!({"localized": {"ar": {"name": "غزة"}}}),
    )
    .await
    .expect(200);
    old.patch(
        &editor,
        "/api/v1/articles/budget",
        json!({"slug": "budget-2026"}),
    )
    .await
    .expect(200);
    // So do revisions (with their compressed bodies), corrections and the audit log.
    old.patch(
        &editor,
        "/api/v1/articles/talks",
        json!({"body": "Talks resumed in Cairo.\nBoth sides attended."}),
    )
    .await
    .expect(200);
    old.post(
        &editor,
        "/api/v1/articles/talks/corrections",
        json!({"text": "The talks were in Cairo."}),
    )
    .await
    .expect(201);
    // A draft, which no page below shows, with more tag links than one batch of the copy
    // moves (added below): the link tables, which have no rowid, go over in their key's
    // order, batch after batch.
    let linked = old
        .article(&editor, json!({"slug": "linked", "title": "Many tags"}))
        .await;
    let admin = old.admin().await;
    let revision_before = old
        .get_as(&editor, "/api/v1/articles/talks/revisions/2")
        .await
        .expect(200)
        .json();
    let audit_before = old.get_as(&admin, "/api/v1/audit").await.expect(200).json();
    let before = old.get("/api/v1/articles/talks").await.expect(200).json();
    let list_before = old
        .get("/api/v1/articles?per_page=10")
        .await
        .expect(200)
        .json();
    let lastmods = |index: String| -> Vec<String> {
        index
            .split("<lastmod>")
            .skip(1)
            .map(|rest| rest[..rest.find('<').unwrap()].to_owned())
            .collect()
    };
    let children_before = lastmods(old.get("/sitemap.xml").await.expect(200).text());
    assert_eq!(children_before.len(), 1);
    old.state.shutdown();
    let source = common::sqlite_path(&old.state.config);

    let url = common::pg::create_database(&server, old.dir.path());
    let mut from = diesel::SqliteConnection::establish(source.to_str().unwrap()).unwrap();
    {
        use diesel::connection::SimpleConnection;
        let draft = linked["id"].as_i64().unwrap();
        let mut sql = String::from("BEGIN;");
        for n in 0..1_234 {
            sql.push_str(&format!(
                "INSERT INTO tags (slug, name, created_at, updated_at, localized) \
                 VALUES ('many-{n}', 'Many {n}', '2026-01-01 00:00:00', \
                 '2026-01-01 00:00:00', '{{}}');
                 INSERT INTO article_tags (article_id, tag_id, position, language) \
                 VALUES ({draft}, last_insert_rowid(), {n}, 'en');"
            ));
        }
        sql.push_str("COMMIT;");
        from.batch_execute(&sql).unwrap();
    }
    let copied = newsdesk::db::copy::sqlite_to_postgres(&mut from, &url).unwrap();
    assert_eq!(copied.articles, 3);
    let links = |conn: &mut newsdesk::db::DbConn| -> Vec<(i32, i32, i32, Option<String>)> {
        use newsdesk::schema::article_tags as l;
        newsdesk::on_backend!(conn, |c| l::table
            .select((l::article_id, l::tag_id, l::position, l::language))
            .order((l::article_id, l::tag_id))
            .load(c)
            .unwrap())
    };
    let tag_links = links(&mut newsdesk::db::DbConn::Sqlite(
        diesel::SqliteConnection::establish(source.to_str().unwrap()).unwrap(),
    ));
    assert_eq!(tag_links.len(), 1_234 + 2);
    assert_eq!(
        links(&mut newsdesk::db::DbConn::Postgres(
            diesel::PgConnection::establish(&url).unwrap()
        )),
        tag_links
    );
    // The copy ends with a vacuum: the copied rows' pages are all-visible.
    let mut pg = diesel::PgConnection::establish(&url).unwrap();
    let (pages, visible): (i32, i32) = diesel::sql_query(
        "SELECT relpages AS pages, relallvisible AS visible FROM pg_class \
         WHERE relname = 'articles'",
    )
    .get_result::<Pages>(&mut pg)
    .map(|p| (p.pages, p.visible))
    .unwrap();
    assert!(pages > 0, "the vacuum counted the copied table's pages");
    assert_eq!(
        visible, pages,
        "every page of the copied table is all-visible"
    );
    let again = newsdesk::db::copy::sqlite_to_postgres(&mut from, &url);
    assert!(
        again.is_err(),
        "a second copy into a filled database is refused"
    );

    let mut config = newsdesk::config::Config::for_database_url(&url).unwrap();
    config.media_store = newsdesk::files::StoreConfig::Local(old.dir.path().join("media"));
    let new = common::app_with(old.dir.clone(), config).await;
    assert_eq!(
        new.get("/api/v1/articles/talks").await.expect(200).json(),
        before
    );
    assert_eq!(
        new.get("/api/v1/articles?per_page=10")
            .await
            .expect(200)
            .json(),
        list_before
    );
    assert_eq!(
        new.get("/api/v1/tags/gaza?locale=ar")
            .await
            .expect(200)
            .json()["name"],
        "غزة"
    );
    assert_eq!(
        lastmods(new.get("/sitemap.xml").await.expect(200).text()),
        children_before,
        "the sitemap index's child keeps the time it last changed"
    );
    let moved = new.get("/api/v1/articles/budget").await;
    assert_eq!(moved.status, 308);
    assert_eq!(
        moved.header("location").as_deref(),
        Some("/api/v1/articles/budget-2026")
    );
    assert_eq!(
        new.get_as(&editor, "/api/v1/articles/talks/revisions/2")
            .await
            .expect(200)
            .json(),
        revision_before
    );
    assert_eq!(
        new.get_as(&admin, "/api/v1/audit").await.expect(200).json(),
        audit_before
    );
    // The token signed before the copy still works; search finds the copied story.
    new.get_as(&editor, "/api/v1/auth/me").await.expect(200);
    assert_eq!(new.slugs("/api/v1/articles?q=cairo").await, ["talks"]);
    let created = new
        .article(
            &editor,
            json!({"title": "After the move", "status": "published"}),
        )
        .await;
    assert!(created["id"].as_i64().unwrap() > before["id"].as_i64().unwrap());
}

/// On PostgreSQL a write cancelled while it waits for the write lock (an operator's
/// `pg_cancel_backend`) fails alone, as a 503 to retry, and leaves no transaction open
/// on its pooled connection: every write and read after it succeeds.
#[actix_web::test]
async fn a_write_cancelled_while_it_waits_for_the_lock_leaves_its_connection_clean() {
    if !common::on_postgres() {
        return;
    }
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Before"}))
        .await
        .expect(201);
    let mut holder = common::connect(&t.state.config);
    let mut watcher = common::connect(&t.state.config);
    holder
        .batch_execute("BEGIN; SELECT version FROM content_state WHERE id = 1 FOR UPDATE")
        .unwrap();
    #[derive(QueryableByName)]
    struct Cancelled {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        cancelled: bool,
    }
    let cancel = async {
        for _ in 0..500 {
            let found: Vec<Cancelled> = diesel::sql_query(
                "SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock' \
                 AND query LIKE '%content_state%FOR UPDATE%'",
            )
            .load(&mut watcher)
            .unwrap();
            if found.iter().any(|c| c.cancelled) {
                holder.batch_execute("ROLLBACK").unwrap();
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    };
    let (waited, cancelled) = futures_util::join!(
        t.post(&editor, "/api/v1/tags", json!({"name": "Waiting"})),
        cancel
    );
    assert!(cancelled, "a write was seen waiting for the lock");
    waited.problem(503, "unavailable");
    // More writes and reads than the pool has connections, each of which may be the
    // one the cancelled write had.
    for i in 0..12 {
        t.post(
            &editor,
            "/api/v1/tags",
            json!({"name": format!("After {i}")}),
        )
        .await
        .expect(201);
        t.get_as(&editor, "/api/v1/tags?per_page=100")
            .await
            .expect(200);
    }
    let list = t.get("/api/v1/tags?per_page=100").await.expect(200).json();
    assert_eq!(
        list["meta"]["total"], 13,
        "Before and the twelve after, not Waiting"
    );
}
