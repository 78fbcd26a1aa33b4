//! The representation cache never serves a stale, draft or not-yet-due page.

use serde_json::json;

use crate::common::{self, in_seconds};

#[actix_web::test]
async fn a_cached_list_is_never_stale_after_a_write() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "First", "status": "published"}))
        .await;
    assert_eq!(t.slugs("/api/v1/articles").await, ["first"]);
    assert_eq!(
        t.slugs("/api/v1/articles").await,
        ["first"],
        "served from the cache"
    );
    t.article(&editor, json!({"title": "Second", "status": "published"}))
        .await;
    assert_eq!(t.slugs("/api/v1/articles").await, ["second", "first"]);
    t.article(&editor, json!({"title": "A draft"})).await;
    assert_eq!(
        t.slugs("/api/v1/articles").await,
        ["second", "first"],
        "drafts never show"
    );
    t.delete(&editor, "/api/v1/articles/second")
        .await
        .expect(204);
    assert_eq!(t.slugs("/api/v1/articles").await, ["first"]);
}

#[actix_web::test]
async fn an_article_page_follows_edits_to_it_and_to_what_it_embeds() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Gaza"}))
        .await
        .expect(201);
    t.article(
        &editor,
        json!({"title": "Story", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    let first = t.get("/api/v1/articles/story").await.expect(200);
    assert_eq!(t.get("/api/v1/articles/story").await.body, first.body);
    t.patch(&editor, "/api/v1/tags/gaza", json!({"name": "Gaza Strip"}))
        .await
        .expect(200);
    assert_eq!(
        t.get("/api/v1/articles/story").await.json()["tags"][0]["name"],
        "Gaza Strip"
    );
    t.patch(
        &editor,
        "/api/v1/articles/story",
        json!({"title": "Story, updated"}),
    )
    .await
    .expect(200);
    assert_eq!(
        t.get("/api/v1/articles/story").await.json()["title"],
        "Story, updated"
    );
    t.patch(
        &editor,
        "/api/v1/articles/story",
        json!({"status": "draft"}),
    )
    .await
    .expect(200);
    t.get("/api/v1/articles/story")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn creating_something_else_keeps_article_pages_but_refreshes_counts() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Gaza"}))
        .await
        .expect(201);
    t.article(
        &editor,
        json!({"title": "One", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    assert_eq!(t.get("/api/v1/tags/gaza").await.json()["article_count"], 1);
    t.article(
        &editor,
        json!({"title": "Two", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    assert_eq!(t.get("/api/v1/tags/gaza").await.json()["article_count"], 2);
}

#[actix_web::test]
async fn a_scheduled_article_appears_on_time_even_with_a_cached_list() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "Now", "status": "published"}))
        .await;
    t.article(
        &editor,
        json!({"title": "Soon", "status": "published", "published_at": in_seconds(1)}),
    )
    .await;
    assert_eq!(t.slugs("/api/v1/articles").await, ["now"]);
    assert_eq!(t.slugs("/api/v1/articles").await, ["now"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(t.slugs("/api/v1/articles").await, ["soon", "now"]);
}

#[actix_web::test]
async fn writes_by_another_process_are_noticed() {
    let (dir, config) = common::fresh_config();
    let a = common::app_with(dir.clone(), config.clone()).await;
    let editor = a.editor().await;
    a.article(&editor, json!({"title": "Old", "status": "published"}))
        .await;
    assert_eq!(a.get("/api/v1/articles/old").await.json()["title"], "Old");
    // A second process on the same database file writes.
    let b = common::app_with(dir, config).await;
    let other_editor = b.editor().await;
    b.patch(
        &other_editor,
        "/api/v1/articles/old",
        json!({"title": "Old, edited elsewhere"}),
    )
    .await
    .expect(200);
    // The freshness poll (every 250 ms in a server) picks the change up.
    a.state.cache.refresh(&a.state.db).unwrap();
    assert_eq!(
        a.get("/api/v1/articles/old").await.json()["title"],
        "Old, edited elsewhere"
    );
}

#[actix_web::test]
async fn a_new_article_refreshes_exactly_the_lists_it_belongs_to() {
    let t = common::app().await;
    let editor = t.editor().await;
    for name in ["Gaza", "Climate"] {
        t.post(&editor, "/api/v1/tags", json!({"name": name}))
            .await
            .expect(201);
    }
    t.article(
        &editor,
        json!({"title": "Old gaza", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    t.article(
        &editor,
        json!({"title": "Old climate", "tags": ["climate"], "status": "published"}),
    )
    .await;
    let gaza = t.get("/api/v1/articles?tag=gaza").await.expect(200);
    let climate = t.get("/api/v1/articles?tag=climate").await.expect(200);
    t.article(
        &editor,
        json!({"title": "New gaza", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    assert_eq!(
        t.slugs("/api/v1/articles?tag=gaza").await,
        ["new-gaza", "old-gaza"]
    );
    assert_eq!(
        t.get("/api/v1/articles?tag=climate").await.body,
        climate.body,
        "untouched"
    );
    assert_ne!(t.get("/api/v1/articles?tag=gaza").await.body, gaza.body);
    assert_eq!(
        t.slugs("/api/v1/articles").await.len(),
        3,
        "the front page takes every new story"
    );
    // A draft leaves every public list as it was.
    let front = t.get("/api/v1/articles").await.body;
    t.article(&editor, json!({"title": "Draft gaza", "tags": ["gaza"]}))
        .await;
    assert_eq!(t.get("/api/v1/articles").await.body, front);
}

#[actix_web::test]
async fn remembered_totals_stay_exact_through_creates_and_deletes() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Gaza"}))
        .await
        .expect(201);
    let total = |list: serde_json::Value| list["meta"]["total"].as_i64().unwrap();
    t.article(
        &editor,
        json!({"title": "One", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    assert_eq!(total(t.get("/api/v1/articles?tag=gaza").await.json()), 1);
    for i in 0..3 {
        t.article(
            &editor,
            json!({"title": format!("More {i}"), "tags": ["gaza"], "status": "published"}),
        )
        .await;
        // A second page shares the remembered total; its first read counts anew only once.
        let page2 = t
            .get("/api/v1/articles?tag=gaza&per_page=1&page=2")
            .await
            .json();
        assert_eq!(total(page2), 2 + i);
    }
    t.article(
        &editor,
        json!({"title": "Unrelated", "status": "published"}),
    )
    .await;
    t.article(&editor, json!({"title": "Hidden", "tags": ["gaza"]}))
        .await;
    assert_eq!(total(t.get("/api/v1/articles?tag=gaza").await.json()), 4);
    t.delete(&editor, "/api/v1/articles/one").await.expect(204);
    assert_eq!(total(t.get("/api/v1/articles?tag=gaza").await.json()), 3);
    assert_eq!(total(t.get("/api/v1/articles").await.json()), 4);
}
