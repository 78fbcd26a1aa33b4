//! Online backup: a consistent copy of a live database serves the same content.

use diesel::Connection;
use newsdesk::db::{DbConn, sqlite};
use serde_json::json;

use crate::common;

#[actix_web::test]
async fn a_backup_taken_while_serving_serves_the_same_content() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Gaza"}))
        .await
        .expect(201);
    for i in 0..30 {
        t.article(
            &editor,
            json!({"title": format!("Story {i}"), "tags": ["gaza"], "status": "published"}),
        )
        .await;
    }
    let copy = t.dir.path().join("copy.db");
    let source = t.state.db.path().to_string_lossy().into_owned();
    let target = copy.clone();
    // Writes keep coming while the copy is made.
    let backup = std::thread::spawn(move || {
        let mut conn = DbConn::establish(&source).unwrap();
        sqlite::ConnectionSetup::apply(&mut conn).unwrap();
        sqlite::backup_into(&mut conn, &target).unwrap();
    });
    for i in 30..40 {
        t.article(
            &editor,
            json!({"title": format!("Story {i}"), "tags": ["gaza"], "status": "published"}),
        )
        .await;
    }
    backup.join().unwrap();
    // Refused rather than overwritten.
    let again = copy.clone();
    let source = t.state.db.path().to_string_lossy().into_owned();
    let mut conn = DbConn::establish(&source).unwrap();
    assert!(sqlite::backup_into(&mut conn, &again).is_err());

    let config = newsdesk::config::Config::for_database(copy);
    let restored = common::app_with(t.dir.clone(), config).await;
    let copied = restored
        .get("/api/v1/articles?per_page=100")
        .await
        .expect(200)
        .json();
    let n = copied["meta"]["total"].as_i64().unwrap();
    assert!(
        (30..=40).contains(&n),
        "the copy holds a consistent prefix: {n}"
    );
    let live = t
        .get(&format!(
            "/api/v1/articles?per_page=100&published_before={}",
            common::in_seconds(3600)
        ))
        .await
        .json();
    let live_slugs: Vec<_> = common::slugs_of(&live);
    for slug in common::slugs_of(&copied) {
        assert!(live_slugs.contains(&slug));
        let a = restored
            .get(&format!("/api/v1/articles/{slug}"))
            .await
            .expect(200)
            .json();
        let b = t
            .get(&format!("/api/v1/articles/{slug}"))
            .await
            .expect(200)
            .json();
        assert_eq!(a, b);
    }
    let mut check = DbConn::establish(&restored.state.db.path().to_string_lossy()).unwrap();
    assert_eq!(sqlite::integrity_check(&mut check).unwrap(), "ok");
}
