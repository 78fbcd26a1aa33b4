//! Every error status of the contract, as problem+json.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{self, Resp};

#[actix_web::test]
async fn malformed_json_is_400() {
    let t = common::app().await;
    let writer = t.writer().await;
    let resp = t
        .send(
            TestRequest::post()
                .uri("/api/v1/authors")
                .insert_header(("authorization", format!("Bearer {writer}")))
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"name\": \"Leila"),
        )
        .await;
    let p = resp.problem(400, "bad_request");
    assert_eq!(Resp::error_fields(&p), ["body"]);
}

#[actix_web::test]
async fn a_body_that_is_not_an_object_is_400() {
    let t = common::app().await;
    let writer = t.writer().await;
    for body in [json!([1, 2]), json!("name"), json!(null)] {
        t.post(&writer, "/api/v1/authors", body)
            .await
            .problem(400, "bad_request");
    }
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_415() {
    let t = common::app().await;
    let writer = t.writer().await;
    let resp = t
        .send(
            TestRequest::post()
                .uri("/api/v1/authors")
                .insert_header(("authorization", format!("Bearer {writer}")))
                .insert_header(("content-type", "text/plain"))
                .set_payload("name=Leila"),
        )
        .await;
    resp.problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn merge_patch_json_is_accepted() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/authors", json!({"name": "Omar"}))
        .await
        .expect(201);
    let resp = t
        .send(
            TestRequest::patch()
                .uri("/api/v1/authors/omar")
                .insert_header(("authorization", format!("Bearer {editor}")))
                .insert_header(("content-type", "application/merge-patch+json"))
                .set_payload(r#"{"bio": "Sports"}"#),
        )
        .await
        .expect(200);
    assert_eq!(resp.json()["bio"], "Sports");
}

#[actix_web::test]
async fn an_oversized_body_is_413() {
    let t = common::app_configured(|c| c.max_body_bytes = 4096).await;
    let writer = t.writer().await;
    let p = t
        .post(
            &writer,
            "/api/v1/authors",
            json!({"name": "x", "bio": "y".repeat(5000)}),
        )
        .await
        .problem(413, "payload_too_large");
    assert!(p["detail"].as_str().unwrap().contains("4096"));
}

#[actix_web::test]
async fn unknown_routes_are_404_problems() {
    let t = common::app().await;
    t.get("/api/v1/nothing-here")
        .await
        .problem(404, "not_found");
    t.get("/api/v1/authors/no-such-author")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn bad_query_parameters_are_400_and_named() {
    let t = common::app().await;
    for (query, field) in [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=ten", "per_page"),
        ("page=0", "page"),
        ("sort=colour", "sort"),
        ("colour=red", "colour"),
        ("page=1&page=2", "page"),
        ("cursor=abc", "cursor"),
    ] {
        let p = t
            .get(&format!("/api/v1/authors?{query}"))
            .await
            .problem(400, "bad_request");
        assert_eq!(Resp::error_fields(&p), [field], "{query}");
    }
}

#[actix_web::test]
async fn hostile_bodies_never_cause_a_500() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/authors", json!({"name": "Target"}))
        .await
        .expect(201);
    let bodies: Vec<String> = vec![
        "".into(),
        "{".into(),
        "[".repeat(10_000),
        "{\"name\": \"\\ud800\"}".into(),
        "{\"name\": 1e999}".into(),
        "{\"links\": {\"a\": {\"b\": 1}}}".into(),
        "{\"avatar_media_id\": 99999999999}".into(),
        "{\"avatar_media_id\": -1}".into(),
        "{\"name\": \"\u{0}\"}".into(),
        format!("{{\"name\": \"{}\"}}", "x".repeat(100_000)),
        "\u{feff}{}".into(),
    ];
    for body in bodies {
        for (method, path) in [
            ("POST", "/api/v1/authors"),
            ("PATCH", "/api/v1/authors/target"),
        ] {
            let req = match method {
                "POST" => TestRequest::post(),
                _ => TestRequest::patch(),
            };
            let resp = t
                .send(
                    req.uri(path)
                        .insert_header(("authorization", format!("Bearer {editor}")))
                        .insert_header(("content-type", "application/json"))
                        .set_payload(body.clone()),
                )
                .await;
            assert!(
                resp.status < 500,
                "{method} {path} with {:?} gave {}",
                &body[..body.len().min(40)],
                resp.status
            );
            if resp.status >= 400 {
                assert_eq!(
                    resp.header("content-type").as_deref(),
                    Some("application/problem+json")
                );
            }
        }
    }
}

#[actix_web::test]
async fn healthz_readyz_and_livez_answer() {
    let t = common::app().await;
    let body = t.get("/healthz").await.expect(200).json();
    for part in ["status", "database", "writes", "workers"] {
        assert_eq!(body[part], "ok", "{part}: {body}");
    }
    // How far the checkpoints lag moves with every write, drafts' too: it is for
    // operators, in `/metrics`, not for anyone who reads `/healthz`.
    assert!(body.get("checkpoint_backlog_pages").is_none(), "{body}");
    let metrics = t.get("/metrics").await.expect(200).text();
    let backlog = metrics
        .lines()
        .find_map(|l| l.strip_prefix("newsdesk_checkpoint_backlog_pages "))
        .and_then(|n| n.trim().parse::<i64>().ok());
    assert!(backlog.is_some_and(|n| n >= 0), "{metrics}");
    let ready = t.get("/readyz").await.expect(200);
    assert_eq!(ready.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(ready.json()["database"], "ok");
    assert_eq!(t.get("/livez").await.expect(200).json()["status"], "ok");
}

#[actix_web::test]
async fn every_response_has_a_request_id_and_nosniff() {
    let t = common::app().await;
    let resp = t.get("/api/v1/nothing").await;
    assert_eq!(resp.status, 404);
    assert!(resp.header("x-request-id").is_some_and(|id| id.len() >= 16));
    assert_eq!(
        resp.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let resp = t
        .send(
            TestRequest::get()
                .uri("/healthz")
                .insert_header(("x-request-id", "edge-42")),
        )
        .await;
    assert_eq!(resp.header("x-request-id").as_deref(), Some("edge-42"));
}

#[actix_web::test]
async fn a_wrong_method_on_a_known_path_is_405_with_allow() {
    let t = common::app().await;
    let editor = t.editor().await;
    let resp = t
        .json("PUT", "/api/v1/authors/someone", Some(&editor), &json!({}))
        .await;
    assert_eq!(resp.header("allow").as_deref(), Some("GET, PATCH, DELETE"));
    resp.problem(405, "method_not_allowed");
    let resp = t
        .json("DELETE", "/api/v1/authors", Some(&editor), &json!({}))
        .await;
    assert_eq!(resp.header("allow").as_deref(), Some("GET, POST"));
}
