//! Tags, sections, regions and media: their rules, and what deleting them does.

use serde_json::json;

use crate::common::{self, Resp};

#[actix_web::test]
async fn deleting_what_articles_use_is_409_and_changes_nothing() {
    let t = common::app().await;
    let editor = t.editor().await;
    let image = t.newsroom(&editor).await;
    for i in 0..2 {
        t.article(
            &editor,
            json!({"title": format!("Story {i}"), "section": "politics", "regions": ["mena"],
                   "authors": ["leila-haddad"], "hero_media_id": image, "status": "published"}),
        )
        .await;
    }
    for path in [
        "/api/v1/authors/leila-haddad".to_owned(),
        "/api/v1/sections/politics".to_owned(),
        "/api/v1/regions/mena".to_owned(),
        format!("/api/v1/media/{image}"),
    ] {
        let p = t.delete(&editor, &path).await.problem(409, "in_use");
        assert!(p["detail"].as_str().unwrap().contains('2'), "{path}: {p}");
        t.get(&path).await.expect(200);
    }
    let a = t.get("/api/v1/articles/story-0").await.expect(200).json();
    assert_eq!(a["authors"][0]["slug"], "leila-haddad");
    assert_eq!(a["hero_media"]["id"], image);
    // A section with children is in use too.
    t.delete(&editor, "/api/v1/sections/news")
        .await
        .problem(409, "in_use");
}

#[actix_web::test]
async fn deleting_a_tag_detaches_it() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    t.article(
        &editor,
        json!({"title": "Tagged", "tags": ["gaza", "climate"], "status": "published"}),
    )
    .await;
    let tag = t.get("/api/v1/tags/gaza").await.expect(200).json();
    assert_eq!(tag["article_count"], 1);
    t.delete(&editor, "/api/v1/tags/gaza").await.expect(204);
    let a = t.get("/api/v1/articles/tagged").await.expect(200).json();
    assert_eq!(
        a["tags"],
        json!([{"id": 3, "slug": "climate", "name": "Climate"}])
    );
}

#[actix_web::test]
async fn article_count_counts_only_what_readers_see() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    t.article(
        &editor,
        json!({"title": "Live", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    t.article(&editor, json!({"title": "Draft", "tags": ["gaza"]}))
        .await;
    t.article(&editor, json!({"title": "Later", "tags": ["gaza"], "status": "published", "published_at": common::in_seconds(3600)})).await;
    let tags = t.get("/api/v1/tags").await.expect(200).json();
    let gaza = tags["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "gaza")
        .unwrap();
    assert_eq!(gaza["article_count"], 1);
}

#[actix_web::test]
async fn a_section_cannot_be_its_own_ancestor() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    t.post(
        &editor,
        "/api/v1/sections",
        json!({"name": "Elections", "parent": "politics"}),
    )
    .await
    .expect(201);
    for (path, parent) in [
        ("news", "elections"),
        ("news", "news"),
        ("politics", "elections"),
    ] {
        let p = t
            .patch(
                &editor,
                &format!("/api/v1/sections/{path}"),
                json!({"parent": parent}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(Resp::error_fields(&p), ["parent"]);
    }
    let moved = t
        .patch(
            &editor,
            "/api/v1/sections/elections",
            json!({"parent": null}),
        )
        .await
        .expect(200)
        .json();
    assert!(moved["parent"].is_null());
    t.post(
        &editor,
        "/api/v1/sections",
        json!({"name": "X", "parent": "nowhere"}),
    )
    .await
    .problem(422, "validation_failed");
}

#[actix_web::test]
async fn sections_list_flat_by_parent_then_position() {
    let t = common::app().await;
    let editor = t.editor().await;
    for body in [
        json!({"name": "Videos", "position": 3}),
        json!({"name": "News", "position": 1}),
        json!({"name": "Opinion", "position": 2}),
        json!({"name": "Economy", "parent": "news", "position": 2}),
        json!({"name": "Politics", "parent": "news", "position": 1}),
        json!({"name": "Explainers", "parent": "videos", "position": 1}),
    ] {
        t.post(&editor, "/api/v1/sections", body).await.expect(201);
    }
    assert_eq!(
        t.slugs("/api/v1/sections").await,
        [
            "news",
            "opinion",
            "videos",
            "explainers",
            "politics",
            "economy"
        ],
        "top level by position, then each parent's children (parents by id) by position"
    );
    let mut walked = Vec::new();
    let mut url = "/api/v1/sections?per_page=4".to_owned();
    loop {
        let page = t.get(&url).await.expect(200).json();
        walked.extend(common::slugs_of(&page));
        match page["meta"]["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/sections?per_page=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(walked.len(), 6);
}

#[actix_web::test]
async fn media_are_validated_and_searchable() {
    let t = common::app().await;
    let writer = t.writer().await;
    let p = t
        .post(
            &writer,
            "/api/v1/media",
            json!({"kind": "gif", "url": "ftp://files/x.gif", "width": -5, "mime_type": "JPEG", "language": "de"}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["kind", "language", "mime_type", "url", "width"]);
    for (caption, credit) in [
        ("Protesters in the square", "Reuters"),
        ("A quiet harbour", "AP"),
        ("100% turnout_", "AFP"),
    ] {
        t.post(&writer, "/api/v1/media", json!({"kind": "image", "url": "https://cdn.example.com/x.jpg", "caption": caption, "credit": credit}))
            .await
            .expect(201);
    }
    // Nothing public uses these yet, so only staff see them (readers: see visibility.rs).
    let found = t
        .get_as(&writer, "/api/v1/media?q=harbour")
        .await
        .expect(200)
        .json();
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(found["data"][0]["credit"], "AP");
    let by_credit = t
        .get_as(&writer, "/api/v1/media?q=reuters")
        .await
        .expect(200)
        .json();
    assert_eq!(
        by_credit["meta"]["total"], 1,
        "LIKE is case-insensitive for ASCII"
    );
    let wildcard = t
        .get_as(&writer, "/api/v1/media?q=%25")
        .await
        .expect(200)
        .json();
    assert_eq!(
        wildcard["meta"]["total"], 1,
        "a % in q is a literal percent sign"
    );
    assert_eq!(
        t.get_as(&writer, "/api/v1/media?kind=video")
            .await
            .expect(200)
            .json()["meta"]["total"],
        0
    );
    t.get("/api/v1/media?kind=gif")
        .await
        .problem(400, "bad_request");
    let editor = t.editor().await;
    let changed = t
        .patch(
            &editor,
            "/api/v1/media/1",
            json!({"caption": null, "width": 1600}),
        )
        .await
        .expect(200)
        .json();
    assert!(changed["caption"].is_null());
    assert_eq!(changed["width"], 1600);
    t.delete(&writer, "/api/v1/media/1")
        .await
        .problem(403, "forbidden");
    t.delete(&editor, "/api/v1/media/1").await.expect(204);
    t.get("/api/v1/media/1").await.problem(404, "not_found");
}

#[actix_web::test]
async fn unknown_relation_slugs_name_the_item() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let p = t
        .post(&editor, "/api/v1/articles", json!({"title": "X", "tags": ["gaza", "nope"], "regions": ["mars"], "authors": ["agencies", "ghost"]}))
        .await
        .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["authors[1]", "regions[0]", "tags[1]"]);
}

#[actix_web::test]
async fn regions_and_sections_are_for_editors() {
    let t = common::app().await;
    let writer = t.writer().await;
    t.post(&writer, "/api/v1/regions", json!({"name": "Asia"}))
        .await
        .problem(403, "forbidden");
    t.post(&writer, "/api/v1/sections", json!({"name": "Health"}))
        .await
        .problem(403, "forbidden");
    t.post(&writer, "/api/v1/tags", json!({"name": "Health"}))
        .await
        .expect(201);
    let editor = t.editor().await;
    let region = t
        .post(&editor, "/api/v1/regions", json!({"name": "Asia-Pacific"}))
        .await
        .expect(201)
        .json();
    assert_eq!(
        region,
        json!({"id": 1, "slug": "asia-pacific", "name": "Asia-Pacific", "localized": {}})
    );
    assert_eq!(
        t.get("/api/v1/regions").await.expect(200).json()["meta"]["total"],
        1
    );
}
