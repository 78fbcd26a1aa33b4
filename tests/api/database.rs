//! Database errors keep their meaning, and the background workers have one owner.

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
        &["db-conn-0", "db-listen"]
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
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
