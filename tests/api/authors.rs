//! Authors end to end: the pattern every resource follows.

use serde_json::json;

use crate::common::{self, Resp};

#[actix_web::test]
async fn authors_crud() {
    let t = common::app().await;
    let editor = t.editor().await;
    let created = t
        .post(
            &editor,
            "/api/v1/authors",
            json!({"name": "Leila Haddad", "bio": "Gulf economies.", "links": {"x": "https://x.com/leila"}}),
        )
        .await
        .expect(201);
    assert_eq!(
        created.header("location").as_deref(),
        Some("/api/v1/authors/leila-haddad")
    );
    let author = created.json();
    assert_eq!(author["slug"], "leila-haddad");
    assert_eq!(author["links"]["x"], "https://x.com/leila");
    assert!(author["avatar"].is_null());
    let id = author["id"].as_i64().unwrap();

    let by_id = t
        .get(&format!("/api/v1/authors/{id}"))
        .await
        .expect(200)
        .json();
    let by_slug = t
        .get("/api/v1/authors/leila-haddad")
        .await
        .expect(200)
        .json();
    assert_eq!(by_id, by_slug);
    assert_eq!(
        by_id["created_at"].as_str().unwrap().len(),
        "2024-01-01T00:00:00Z".len()
    );

    let changed = t
        .patch(
            &editor,
            "/api/v1/authors/leila-haddad",
            json!({"name": "Leila H. Haddad"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(changed["name"], "Leila H. Haddad");
    assert_eq!(changed["slug"], "leila-haddad", "a rename keeps the slug");
    assert_eq!(
        changed["bio"], "Gulf economies.",
        "fields not sent are kept"
    );

    t.delete(&editor, &format!("/api/v1/authors/{id}"))
        .await
        .expect(204);
    t.get("/api/v1/authors/leila-haddad")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn arabic_names_round_trip_and_get_readable_ascii_slugs() {
    let t = common::app().await;
    let writer = t.writer().await;
    let name = "مراسل الجزيرة في غزة";
    let author = t
        .post(&writer, "/api/v1/authors", json!({"name": name}))
        .await
        .expect(201)
        .json();
    assert_eq!(author["name"], name);
    let slug = author["slug"].as_str().unwrap();
    assert!(slug.is_ascii() && !slug.is_empty(), "{slug}");
    assert!(
        slug.contains("al-"),
        "the Arabic article reads as al-: {slug}"
    );
    let again = t.get(&format!("/api/v1/authors/{slug}")).await.expect(200);
    assert!(
        again.body.windows(name.len()).any(|w| w == name.as_bytes()),
        "byte-for-byte"
    );

    let spanish = t
        .post(&writer, "/api/v1/authors", json!({"name": "José Núñez"}))
        .await
        .expect(201)
        .json();
    assert_eq!(spanish["slug"], "jose-nunez");
}

#[actix_web::test]
async fn generated_slugs_avoid_collisions_and_given_ones_conflict() {
    let t = common::app().await;
    let writer = t.writer().await;
    for expected in ["agencies", "agencies-2", "agencies-3"] {
        let a = t
            .post(&writer, "/api/v1/authors", json!({"name": "Agencies"}))
            .await
            .expect(201)
            .json();
        assert_eq!(a["slug"], expected);
    }
    let p = t
        .post(
            &writer,
            "/api/v1/authors",
            json!({"name": "Other", "slug": "agencies"}),
        )
        .await
        .problem(409, "slug_taken");
    assert_eq!(Resp::error_fields(&p), ["slug"]);
    let editor = t.editor().await;
    t.patch(
        &editor,
        "/api/v1/authors/agencies-2",
        json!({"slug": "agencies"}),
    )
    .await
    .problem(409, "slug_taken");
}

#[actix_web::test]
async fn patch_with_null_clears_an_optional_field() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(
        &editor,
        "/api/v1/authors",
        json!({"name": "Omar", "bio": "Sports desk"}),
    )
    .await
    .expect(201);
    let a = t
        .patch(
            &editor,
            "/api/v1/authors/omar",
            json!({"bio": null, "links": null}),
        )
        .await
        .expect(200)
        .json();
    assert!(a["bio"].is_null());
    assert_eq!(a["links"], json!({}));
    let p = t
        .patch(&editor, "/api/v1/authors/omar", json!({"name": null}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), ["name"]);
}

#[actix_web::test]
async fn every_bad_field_is_reported_at_once() {
    let t = common::app().await;
    let writer = t.writer().await;
    let p = t
        .post(
            &writer,
            "/api/v1/authors",
            json!({
                "name": "   ",
                "slug": "Not A Slug",
                "bio": 7,
                "avatar_media_id": 999,
                "links": {"X": "https://x.com"},
                "nickname": "typo",
                "id": 5
            }),
        )
        .await
        .problem(422, "validation_failed");
    let errors = p["errors"].as_array().unwrap();
    let message = |f: &str| {
        errors
            .iter()
            .find(|e| e["field"] == f)
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no error for {f}: {p}"))
    };
    assert_eq!(message("name"), "must not be empty");
    assert!(message("slug").contains("lowercase"));
    assert!(message("bio").contains("expected a string"));
    assert!(message("avatar_media_id").contains("999"));
    assert!(message("links.X").contains("lowercase"));
    assert_eq!(message("nickname"), "is not a known field");
    assert_eq!(message("id"), "is read-only");
    assert_eq!(errors.len(), 7);
}

#[actix_web::test]
async fn all_digit_slugs_are_refused() {
    let t = common::app().await;
    let writer = t.writer().await;
    let p = t
        .post(
            &writer,
            "/api/v1/authors",
            json!({"name": "Num", "slug": "2024"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), ["slug"]);
    let a = t
        .post(&writer, "/api/v1/authors", json!({"name": "2024"}))
        .await
        .expect(201)
        .json();
    assert_eq!(a["slug"], "author-2024");
}

#[actix_web::test]
async fn roles_on_authors() {
    let t = common::app().await;
    let writer = t.writer().await;
    t.json("POST", "/api/v1/authors", None, &json!({"name": "Anon"}))
        .await
        .problem(401, "unauthorized");
    t.post(&writer, "/api/v1/authors", json!({"name": "Agencies"}))
        .await
        .expect(201);
    t.patch(&writer, "/api/v1/authors/agencies", json!({"name": "AFP"}))
        .await
        .problem(403, "forbidden");
    t.delete(&writer, "/api/v1/authors/agencies")
        .await
        .problem(403, "forbidden");
    t.get("/api/v1/authors/agencies").await.expect(200);
}

#[actix_web::test]
async fn lists_page_and_walk_by_cursor() {
    let t = common::app().await;
    let writer = t.writer().await;
    for i in 0..25 {
        t.post(
            &writer,
            "/api/v1/authors",
            json!({"name": format!("Author {i:02}")}),
        )
        .await
        .expect(201);
    }
    let first = t
        .get("/api/v1/authors?per_page=10")
        .await
        .expect(200)
        .json();
    assert_eq!(first["meta"]["total"], 25);
    assert_eq!(first["meta"]["total_pages"], 3);
    assert_eq!(first["meta"]["page"], 1);
    assert_eq!(first["data"][0]["name"], "Author 00");
    let third = t
        .get("/api/v1/authors?per_page=10&page=3")
        .await
        .expect(200)
        .json();
    assert_eq!(third["data"].as_array().unwrap().len(), 5);
    assert!(third["meta"]["next_cursor"].is_null());

    let mut seen = Vec::new();
    let mut url = "/api/v1/authors?per_page=7&sort=-name".to_owned();
    loop {
        let page = t.get(&url).await.expect(200).json();
        if url.contains("cursor=") {
            assert!(
                page["meta"].get("total").is_none(),
                "cursor pages carry no total"
            );
        }
        for a in page["data"].as_array().unwrap() {
            seen.push(a["name"].as_str().unwrap().to_owned());
        }
        match page["meta"]["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/authors?per_page=7&sort=-name&cursor={c}"),
            None => break,
        }
    }
    let mut expected: Vec<String> = (0..25).map(|i| format!("Author {i:02}")).collect();
    expected.reverse();
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn a_cursor_for_another_sort_or_tampered_is_400() {
    let t = common::app().await;
    let writer = t.writer().await;
    for name in ["A", "B", "C"] {
        t.post(&writer, "/api/v1/authors", json!({"name": name}))
            .await
            .expect(201);
    }
    let page = t.get("/api/v1/authors?per_page=1").await.expect(200).json();
    let cursor = page["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let p = t
        .get(&format!(
            "/api/v1/authors?per_page=1&sort=-created_at&cursor={cursor}"
        ))
        .await
        .problem(400, "bad_request");
    assert_eq!(Resp::error_fields(&p), ["cursor"]);
    let mut tampered = cursor.clone();
    tampered.insert(3, 'x');
    t.get(&format!("/api/v1/authors?cursor={tampered}"))
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn data_survives_a_restart() {
    let (dir, config) = common::fresh_config();
    {
        let t = common::app_with(dir.clone(), config.clone()).await;
        let writer = t.writer().await;
        t.post(&writer, "/api/v1/authors", json!({"name": "عمر المختار"}))
            .await
            .expect(201);
    }
    let t = common::app_with(dir, config).await;
    let list = t.get("/api/v1/authors").await.expect(200).json();
    assert_eq!(list["data"][0]["name"], "عمر المختار");
}
