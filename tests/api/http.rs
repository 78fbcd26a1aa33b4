//! HTTP semantics: validators, caching headers, lost-update protection, idempotent
//! retries, CORS, compression, throttled sign-in, limits.

use std::io::Read;

use actix_web::test::TestRequest;
use newsdesk::auth::Role;
use serde_json::json;

use crate::common::{self, PASSWORD, Resp};

fn etag(resp: &Resp) -> String {
    resp.header("etag").expect("an ETag")
}

#[actix_web::test]
async fn an_object_revalidates_to_304_with_the_same_validators() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/authors", json!({"name": "Leila"}))
        .await
        .expect(201);
    let first = t.get("/api/v1/authors/leila").await.expect(200);
    let tag = etag(&first);
    assert!(
        tag.starts_with('"') && !tag.starts_with("W/"),
        "strong: {tag}"
    );
    let modified = first.header("last-modified").expect("Last-Modified");
    assert_eq!(
        first.header("cache-control").as_deref(),
        Some("public, max-age=60, stale-while-revalidate=300")
    );
    let vary = first.header("vary").unwrap();
    for h in ["Accept-Encoding", "Authorization", "Origin"] {
        assert!(vary.contains(h), "{vary}");
    }
    for inm in [
        tag.clone(),
        format!("\"nope\", {tag}"),
        "*".to_owned(),
        format!("W/{tag}"),
    ] {
        let resp = t
            .send(
                TestRequest::get()
                    .uri("/api/v1/authors/leila")
                    .insert_header(("if-none-match", inm.as_str())),
            )
            .await;
        assert_eq!(resp.status, 304, "{inm}");
        assert!(resp.body.is_empty());
        assert_eq!(etag(&resp), tag);
        assert_eq!(
            resp.header("last-modified").as_deref(),
            Some(modified.as_str())
        );
        assert!(resp.header("cache-control").is_some());
    }
    let other = t
        .send(
            TestRequest::get()
                .uri("/api/v1/authors/leila")
                .insert_header(("if-none-match", "\"other\"")),
        )
        .await;
    assert_eq!(other.status, 200);
    let since = t
        .send(
            TestRequest::get()
                .uri("/api/v1/authors/leila")
                .insert_header(("if-modified-since", modified.as_str())),
        )
        .await;
    assert_eq!(since.status, 304);
    let before = t
        .send(
            TestRequest::get()
                .uri("/api/v1/authors/leila")
                .insert_header(("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")),
        )
        .await;
    assert_eq!(before.status, 200);
}

#[actix_web::test]
async fn a_list_revalidates_and_its_etag_changes_when_an_item_changes() {
    let t = common::app().await;
    let editor = t.editor().await;
    for name in ["A", "B"] {
        t.post(&editor, "/api/v1/tags", json!({"name": name}))
            .await
            .expect(201);
    }
    let list = t.get("/api/v1/tags").await.expect(200);
    let tag = etag(&list);
    assert!(
        list.header("last-modified").is_none(),
        "lists carry only an ETag"
    );
    let again = t
        .send(
            TestRequest::get()
                .uri("/api/v1/tags")
                .insert_header(("if-none-match", tag.as_str())),
        )
        .await;
    assert_eq!(again.status, 304);
    t.patch(&editor, "/api/v1/tags/b", json!({"description": "changed"}))
        .await
        .expect(200);
    let changed = t
        .send(
            TestRequest::get()
                .uri("/api/v1/tags")
                .insert_header(("if-none-match", tag.as_str())),
        )
        .await
        .expect(200);
    assert_ne!(etag(&changed), tag);
}

#[actix_web::test]
async fn token_answers_and_writes_are_private() {
    let t = common::app().await;
    let editor = t.editor().await;
    let read = t.get_as(&editor, "/api/v1/tags").await.expect(200);
    assert_eq!(
        read.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    assert!(read.header("etag").is_some());
    let write = t
        .post(&editor, "/api/v1/tags", json!({"name": "New"}))
        .await
        .expect(201);
    assert_eq!(
        write.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    assert!(
        write.header("etag").is_some(),
        "a create carries the new representation's ETag"
    );
    let missing = t.get("/api/v1/tags/none").await;
    assert_eq!(
        missing.header("cache-control").as_deref(),
        Some("private, no-store")
    );
}

#[actix_web::test]
async fn if_match_protects_against_lost_updates() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "Story", "status": "published"}))
        .await;
    let read = t.get("/api/v1/articles/story").await.expect(200);
    let original = etag(&read);
    let with = |method: TestRequest, tag: &str| {
        method
            .insert_header(("authorization", format!("Bearer {editor}")))
            .insert_header(("if-match", tag.to_owned()))
    };
    let updated = t
        .send(
            with(
                TestRequest::patch().uri("/api/v1/articles/story"),
                &original,
            )
            .insert_header(("content-type", "application/json"))
            .set_payload(r#"{"summary": "first edit"}"#),
        )
        .await
        .expect(200);
    let new_tag = etag(&updated);
    assert_ne!(new_tag, original);
    assert_eq!(
        etag(&t.get("/api/v1/articles/story").await),
        new_tag,
        "the PATCH answer's ETag is the GET's"
    );
    t.send(
        with(
            TestRequest::patch().uri("/api/v1/articles/story"),
            &original,
        )
        .insert_header(("content-type", "application/json"))
        .set_payload(r#"{"summary": "second edit"}"#),
    )
    .await
    .problem(412, "precondition_failed");
    assert_eq!(
        t.get("/api/v1/articles/story").await.json()["summary"],
        "first edit"
    );
    // A bad body is answered as such whatever the tag; a stale tag with a good body
    // undoes nothing but its own change.
    t.send(
        with(
            TestRequest::patch().uri("/api/v1/articles/story"),
            &original,
        )
        .insert_header(("content-type", "application/json"))
        .set_payload(r#"{"summary": 42}"#),
    )
    .await
    .problem(422, "validation_failed");
    // An empty If-Match states no condition.
    t.send(
        with(TestRequest::patch().uri("/api/v1/articles/story"), "")
            .insert_header(("content-type", "application/json"))
            .set_payload(r#"{"summary": "first edit"}"#),
    )
    .await
    .expect(200);
    let new_tag = etag(&t.get("/api/v1/articles/story").await);
    t.send(with(
        TestRequest::delete().uri("/api/v1/articles/story"),
        &original,
    ))
    .await
    .problem(412, "precondition_failed");
    t.send(with(
        TestRequest::delete().uri("/api/v1/articles/story"),
        &format!("W/{new_tag}"),
    ))
    .await
    .problem(412, "precondition_failed");
    t.send(with(
        TestRequest::delete().uri("/api/v1/articles/story"),
        &new_tag,
    ))
    .await
    .expect(204);
}

#[actix_web::test]
async fn two_editors_racing_with_the_same_etag_cannot_both_win() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/authors", json!({"name": "Shared"}))
        .await
        .expect(201);
    let tag = etag(&t.get("/api/v1/authors/shared").await);
    let edit = |bio: &str| {
        TestRequest::patch()
            .uri("/api/v1/authors/shared")
            .insert_header(("authorization", format!("Bearer {editor}")))
            .insert_header(("if-match", tag.clone()))
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"bio": bio}).to_string())
    };
    let (a, b) = futures_util::future::join(t.send(edit("first")), t.send(edit("second"))).await;
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let winner = if a.status == 200 { "first" } else { "second" };
    assert_eq!(t.get("/api/v1/authors/shared").await.json()["bio"], winner);
}

fn idempotent_post(token: &str, key: &str, body: serde_json::Value) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/tags")
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header(("content-type", "application/json"))
        .insert_header(("idempotency-key", key.to_owned()))
        .set_payload(body.to_string())
}

#[actix_web::test]
async fn an_idempotent_retry_replays_the_first_answer_and_creates_one_row() {
    let (dir, config) = common::fresh_config();
    let (token, first) = {
        let t = common::app_with(dir.clone(), config.clone()).await;
        let token = t.editor().await;
        let first = t
            .send(idempotent_post(
                &token,
                "create-tag-1",
                json!({"name": "Once"}),
            ))
            .await
            .expect(201);
        let retry = t
            .send(idempotent_post(
                &token,
                "create-tag-1",
                json!({"name": "Once"}),
            ))
            .await
            .expect(201);
        assert_eq!(retry.body, first.body);
        assert_eq!(retry.header("location"), first.header("location"));
        assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(t.get("/api/v1/tags").await.json()["meta"]["total"], 1);
        let p = t
            .send(idempotent_post(
                &token,
                "create-tag-1",
                json!({"name": "Different"}),
            ))
            .await
            .problem(422, "validation_failed");
        assert_eq!(Resp::error_fields(&p), ["Idempotency-Key"]);
        (token, first)
    };
    // The keys are in the database: a retry after a restart still replays.
    let t = common::app_with(dir, config).await;
    let after_restart = t
        .send(idempotent_post(
            &token,
            "create-tag-1",
            json!({"name": "Once"}),
        ))
        .await
        .expect(201);
    assert_eq!(after_restart.body, first.body);
    assert_eq!(t.get("/api/v1/tags").await.json()["meta"]["total"], 1);
    // Another user's key space is separate: the same key creates their own tag.
    let other = t.editor().await;
    t.send(idempotent_post(
        &other,
        "create-tag-1",
        json!({"name": "Once"}),
    ))
    .await
    .expect(201);
    assert_eq!(t.get("/api/v1/tags").await.json()["meta"]["total"], 2);
    t.send(idempotent_post(&other, "", json!({"name": "X"})))
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn cors_lets_any_origin_read_and_only_listed_origins_write() {
    let t =
        common::app_configured(|c| c.cors_allowed_origins = vec!["https://cms.example.com".into()])
            .await;
    let preflight = |origin: &str, method: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/articles")
            .insert_header(("origin", origin.to_owned()))
            .insert_header(("access-control-request-method", method.to_owned()))
            .insert_header((
                "access-control-request-headers",
                "authorization, content-type, if-match",
            ))
    };
    let read = t.send(preflight("https://reader.example.org", "GET")).await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.header("access-control-allow-origin").as_deref(),
        Some("https://reader.example.org")
    );
    let write = t.send(preflight("https://cms.example.com", "POST")).await;
    assert_eq!(write.status, 200);
    assert!(
        write
            .header("access-control-allow-methods")
            .unwrap()
            .contains("PATCH")
    );
    let refused = t.send(preflight("https://evil.example.net", "POST")).await;
    assert!(refused.header("access-control-allow-origin").is_none());
    assert!(refused.status >= 400);
    let actual = t
        .send(
            TestRequest::get()
                .uri("/api/v1/articles")
                .insert_header(("origin", "https://reader.example.org")),
        )
        .await
        .expect(200);
    let exposed = actual
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for h in ["etag", "location", "x-request-id"] {
        assert!(exposed.contains(h), "{exposed}");
    }
}

#[actix_web::test]
async fn large_bodies_are_gzipped_on_request_and_small_ones_are_not() {
    let t = common::app().await;
    let editor = t.editor().await;
    for i in 0..20 {
        t.post(
            &editor,
            "/api/v1/tags",
            json!({"name": format!("Topic number {i}"), "description": "x".repeat(50)}),
        )
        .await
        .expect(201);
    }
    let plain = t.get("/api/v1/tags").await.expect(200);
    assert!(plain.body.len() > 1024);
    let gz = t
        .send(
            TestRequest::get()
                .uri("/api/v1/tags")
                .insert_header(("accept-encoding", "gzip")),
        )
        .await
        .expect(200);
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain.body.to_vec());
    assert_eq!(etag(&gz), etag(&plain));
    let br = t
        .send(
            TestRequest::get()
                .uri("/api/v1/tags")
                .insert_header(("accept-encoding", "br, gzip;q=0.5")),
        )
        .await
        .expect(200);
    assert_eq!(br.header("content-encoding").as_deref(), Some("br"));
    let small = t
        .send(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("accept-encoding", "gzip")),
        )
        .await
        .expect(200);
    assert!(small.header("content-encoding").is_none());
    let not_modified = t
        .send(
            TestRequest::get()
                .uri("/api/v1/tags")
                .insert_header(("accept-encoding", "gzip"))
                .insert_header(("if-none-match", etag(&plain))),
        )
        .await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.header("content-encoding").is_none());
}

#[actix_web::test]
async fn repeated_failed_logins_are_throttled_with_retry_after() {
    let t = common::app().await;
    t.user("desk@example.com", Role::Editor).await;
    let attempt = |password: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .peer_addr("203.0.113.7:5000".parse().unwrap())
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"email": "desk@example.com", "password": password}).to_string())
    };
    for _ in 0..5 {
        t.send(attempt("wrong password"))
            .await
            .problem(401, "unauthorized");
    }
    let limited = t.send(attempt("wrong password")).await;
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(limited.header("x-request-id").is_some());
    limited.problem(429, "rate_limited");
    // Even the right password waits, from the address that spent the budget.
    t.send(attempt(PASSWORD)).await.problem(429, "rate_limited");
    // Another account from another address is not affected.
    t.user("other@example.com", Role::Writer).await;
    t.send(
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .peer_addr("198.51.100.9:5000".parse().unwrap())
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"email": "other@example.com", "password": PASSWORD}).to_string()),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn an_overlong_query_string_is_refused_before_any_work() {
    let t = common::app().await;
    let p = t
        .get(&format!("/api/v1/articles/x?pad={}", "a".repeat(5000)))
        .await
        .problem(400, "bad_request");
    assert!(p["detail"].as_str().unwrap().contains("4096"));
}

#[actix_web::test]
async fn head_is_answered_like_get() {
    let t = common::app().await;
    let resp = t
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/healthz"),
        )
        .await;
    assert_eq!(resp.status, 200);
    assert!(resp.header("etag").is_some());
}

#[actix_web::test]
async fn a_key_still_being_handled_answers_409_and_an_abandoned_one_is_taken_over() {
    use diesel::prelude::*;
    use newsdesk::domain::idempotency::{self, Claim};
    use newsdesk::http::idempotency::fingerprint;
    let t = common::app().await;
    let token = t.editor().await;
    let user_id = t.get_as(&token, "/api/v1/auth/me").await.json()["id"]
        .as_i64()
        .unwrap() as i32;
    let body = json!({"name": "Busy"});
    // Another worker has claimed the key for this very request and not answered yet.
    let print = fingerprint("POST", "/api/v1/tags", body.to_string().as_bytes());
    let claim = t
        .state
        .db
        .write(move |conn| idempotency::claim(conn, user_id, "slow-key", &print))
        .await
        .unwrap();
    assert_eq!(claim, Claim::Fresh);
    let resp = t
        .send(idempotent_post(&token, "slow-key", body.clone()))
        .await;
    assert_eq!(resp.header("retry-after").as_deref(), Some("1"));
    resp.problem(409, "idempotency_in_progress");
    // A claim left unanswered for minutes belongs to a process that died: a retry runs.
    t.state
        .db
        .write(move |conn| {
            use newsdesk::schema::idempotency_keys as k;
            let long_ago = newsdesk::domain::time::Timestamp::from_unix(
                newsdesk::domain::time::Timestamp::now().unix() - 600,
            )
            .unwrap();
            diesel::update(k::table)
                .set(k::created_at.eq(long_ago.0))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    t.send(idempotent_post(&token, "slow-key", body))
        .await
        .expect(201);
}
