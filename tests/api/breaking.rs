//! The breaking-news ticker.

use serde_json::json;

use crate::common::{self, Resp, in_seconds};

fn texts(list: &serde_json::Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn only_live_items_show_by_priority_then_newest() {
    let t = common::app().await;
    let editor = t.editor().await;
    for body in [
        json!({"text": "Old low", "published_at": in_seconds(-300)}),
        json!({"text": "New low", "published_at": in_seconds(-100)}),
        json!({"text": "Urgent", "priority": 10, "published_at": in_seconds(-600)}),
        json!({"text": "Expired", "priority": 99, "published_at": in_seconds(-600), "expires_at": in_seconds(-60)}),
        json!({"text": "Future", "priority": 99, "published_at": in_seconds(600)}),
        json!({"text": "Arabic", "language": "ar"}),
    ] {
        t.post(&editor, "/api/v1/breaking", body).await.expect(201);
    }
    let live = t.get("/api/v1/breaking?lang=en").await.expect(200).json();
    assert_eq!(texts(&live), ["Urgent", "New low", "Old low"]);
    assert_eq!(
        texts(&t.get("/api/v1/breaking?lang=ar").await.expect(200).json()),
        ["Arabic"]
    );
    let all = t
        .get_as(&editor, "/api/v1/breaking?status=all")
        .await
        .expect(200)
        .json();
    assert_eq!(all["meta"]["total"], 6);
    t.get("/api/v1/breaking?status=all")
        .await
        .problem(400, "bad_request");
    // A non-live item is a 404 for readers but visible to staff.
    t.get("/api/v1/breaking/4").await.problem(404, "not_found");
    t.get_as(&editor, "/api/v1/breaking/4").await.expect(200);
    // Cursor walk over the live items.
    let first = t
        .get("/api/v1/breaking?lang=en&per_page=2")
        .await
        .expect(200)
        .json();
    let cursor = first["meta"]["next_cursor"].as_str().unwrap();
    let rest = t
        .get(&format!(
            "/api/v1/breaking?lang=en&per_page=2&cursor={cursor}"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(texts(&rest), ["Old low"]);
}

#[actix_web::test]
async fn breaking_items_are_validated() {
    let t = common::app().await;
    let editor = t.editor().await;
    let p = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "", "priority": 5000, "url": "not a url", "article": "missing",
                   "published_at": "2024-01-02T00:00:00Z", "expires_at": "2024-01-01T00:00:00Z"}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["article", "expires_at", "priority", "text", "url"]);
    t.post(
        &editor,
        "/api/v1/breaking",
        json!({"text": "x".repeat(501)}),
    )
    .await
    .problem(422, "validation_failed");
    let writer = t.writer().await;
    t.post(&writer, "/api/v1/breaking", json!({"text": "Hi"}))
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn a_breaking_item_links_its_article_only_once_published() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "Developing story"}))
        .await;
    let item = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Developing", "article": "developing-story"}),
        )
        .await
        .expect(201)
        .json();
    assert!(item["article"].is_null(), "a draft is not linked: {item}");
    t.patch(
        &editor,
        "/api/v1/articles/developing-story",
        json!({"status": "published"}),
    )
    .await
    .expect(200);
    let item = t.get("/api/v1/breaking/1").await.expect(200).json();
    assert_eq!(item["article"]["slug"], "developing-story");
    let cleared = t
        .patch(
            &editor,
            "/api/v1/breaking/1",
            json!({"article": null, "expires_at": in_seconds(60)}),
        )
        .await
        .expect(200)
        .json();
    assert!(cleared["article"].is_null() && cleared["expires_at"].is_string());
    t.delete(&editor, "/api/v1/breaking/1").await.expect(204);
    t.get("/api/v1/breaking/1").await.problem(404, "not_found");
}
