//! Integrations: scoped API tokens, sessions with refresh tokens, signed webhooks with
//! retries, and `/metrics`. Webhooks are received by a real HTTP server the test
//! starts on loopback (with `WEBHOOK_ALLOW_PRIVATE` on), which verifies every
//! signature with the Standard Webhooks algorithm.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use newsdesk::auth::Role;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{self, PASSWORD, Resp, equals, eventually, in_seconds};

const WITHIN: Duration = Duration::from_secs(5);

// --- A webhook receiver ------------------------------------------------------------

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    at: std::time::Instant,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }

    /// Verifies the signature as a receiver would: the base64 key after `whsec_`,
    /// HMAC-SHA256 over `id.timestamp.body`, compared with every `v1,` signature.
    fn verified_with(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

/// How the receiver answers its next requests (then 200).
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    Slow(Duration),
    Redirect,
}

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<VecDeque<Reply>>>,
    always: Arc<Mutex<Option<Reply>>>,
    url: String,
}

impl Receiver {
    /// Starts an actix-web server on a free loopback port, on its own thread.
    fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            ..Default::default()
        };
        let shared = r.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = actix_web::HttpServer::new(move || {
                    let shared = shared.clone();
                    actix_web::App::new().default_service(actix_web::web::to(
                        move |req: actix_web::HttpRequest, body: actix_web::web::Bytes| {
                            let shared = shared.clone();
                            async move { shared.answer(req, body).await }
                        },
                    ))
                })
                .workers(2)
                .listen(listener)
                .unwrap()
                .run();
                let _ = server.await;
            });
        });
        r
    }

    async fn answer(
        &self,
        req: actix_web::HttpRequest,
        body: actix_web::web::Bytes,
    ) -> actix_web::HttpResponse {
        let header = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        if req.path() == "/elsewhere" {
            self.seen.lock().unwrap().push(Received {
                id: "followed-a-redirect".into(),
                timestamp: String::new(),
                signature: String::new(),
                body: "{}".into(),
                at: std::time::Instant::now(),
            });
            return actix_web::HttpResponse::Ok().finish();
        }
        self.seen.lock().unwrap().push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
            at: std::time::Instant::now(),
        });
        let reply = self
            .plan
            .lock()
            .unwrap()
            .pop_front()
            .or(*self.always.lock().unwrap());
        match reply {
            Some(Reply::Status(s)) => {
                actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(s).unwrap())
                    .finish()
            }
            Some(Reply::Slow(d)) => {
                actix_web::rt::time::sleep(d).await;
                actix_web::HttpResponse::Ok().finish()
            }
            Some(Reply::Redirect) => actix_web::HttpResponse::Found()
                .insert_header(("location", "/elsewhere"))
                .finish(),
            None => actix_web::HttpResponse::NoContent().finish(),
        }
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

async fn webhooks_app() -> common::TestApp<
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
> {
    common::app_configured(|c| {
        c.webhooks.allow_private = true;
        c.webhooks.first_retry = Duration::from_millis(200);
    })
    .await
}

// --- API tokens -----------------------------------------------------------------------

/// Makes an API token as `owner` with `scopes`, and returns the secret.
async fn api_token<S, B>(app: &common::TestApp<S>, owner: &str, scopes: Value) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    app.post(
        owner,
        "/api/v1/tokens",
        json!({"name": "made by a test", "scopes": scopes}),
    )
    .await
    .expect(201)
    .json()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn api_tokens_are_scoped_shown_once_stored_hashed_and_revoked_at_once() {
    let app = common::app().await;
    let admin = app.admin().await;
    let editor = app.editor().await;
    let made = app
        .post(
            &editor,
            "/api/v1/tokens",
            json!({"name": "site rebuild", "scopes": ["content:write"]}),
        )
        .await
        .expect(201);
    assert_eq!(made.header("cache-control").as_deref(), Some("no-store"));
    let made = made.json();
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("nd_") && token.len() > 40, "{token}");
    assert_eq!(made["scopes"], json!(["content:write"]));
    assert!(made["last_used_at"].is_null() && made["expires_at"].is_null());

    // It writes within its scope, as its owner ...
    let created = app
        .post(
            &token,
            "/api/v1/articles",
            json!({"title": "By token", "status": "published"}),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(created["slug"], "by-token");
    // ... and nothing outside: breaking items, media, the trash need other scopes.
    let refused = app
        .post(
            &token,
            "/api/v1/breaking",
            json!({"text": "Nope", "language": "en"}),
        )
        .await;
    assert_eq!(
        refused.header("www-authenticate").as_deref(),
        Some("Bearer error=\"insufficient_scope\", scope=\"breaking:write\"")
    );
    let p = refused.problem(403, "insufficient_scope");
    assert!(
        p["detail"].as_str().unwrap().contains("breaking:write"),
        "{p}"
    );
    app.get_as(&token, "/api/v1/trash")
        .await
        .problem(403, "insufficient_scope");
    // Without content:read it reads as an anonymous reader: drafts stay hidden.
    app.article(&editor, json!({"title": "Secret draft"})).await;
    app.get_as(&token, "/api/v1/articles/secret-draft")
        .await
        .expect(404);
    let all = app
        .get_as(&token, "/api/v1/articles?lang=en")
        .await
        .expect(200);
    assert_eq!(common::slugs_of(&all.json()), ["by-token"]);

    // Listed without the secret; the database holds only a hash.
    let list = app.get_as(&editor, "/api/v1/tokens").await.expect(200);
    assert!(!list.text().contains(&token));
    assert_eq!(list.json()["data"][0]["name"], "site rebuild");
    let mut conn = common::connect(&app.state.config);
    let stored: Vec<String> = {
        use diesel::prelude::*;
        use newsdesk::schema::api_tokens;
        newsdesk::on_backend!(&mut conn, |c| api_tokens::table
            .select(api_tokens::token_hash)
            .load(c)
            .unwrap())
    };
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token[3..]) && stored[0].len() == 64);

    // Someone else's token is not theirs to revoke; the owner's revocation is at once.
    let id = made["id"].as_i64().unwrap();
    let writer = app.writer().await;
    app.delete(&writer, &format!("/api/v1/tokens/{id}"))
        .await
        .expect(404);
    app.delete(&editor, &format!("/api/v1/tokens/{id}"))
        .await
        .expect(204);
    app.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
    // Admins list and revoke anyone's.
    let other = app
        .post(
            &editor,
            "/api/v1/tokens",
            json!({"name": "b", "scopes": ["content:read"]}),
        )
        .await
        .expect(201)
        .json();
    let owner = other["user_id"].as_i64().unwrap();
    let seen = app
        .get_as(&admin, &format!("/api/v1/tokens?user_id={owner}"))
        .await
        .expect(200)
        .json();
    assert_eq!(seen["meta"]["count"], 1);
    app.delete(&admin, &format!("/api/v1/tokens/{}", other["id"]))
        .await
        .expect(204);
}

#[actix_web::test]
async fn a_token_never_exceeds_its_owners_role() {
    let app = common::app().await;
    let admin = app.admin().await;
    let writer_id = app.user("w@example.com", Role::Writer).await;
    let writer = app.token_of(writer_id).await;
    // A writer cannot hold breaking:write or users:admin.
    let p = app
        .post(
            &writer,
            "/api/v1/tokens",
            json!({"name": "x", "scopes": ["content:write", "breaking:write"]}),
        )
        .await
        .problem(403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("breaking:write"));
    // Nor can an admin give one to a writer.
    app.post(
        &admin,
        "/api/v1/tokens",
        json!({"name": "x", "scopes": ["users:admin"], "user_id": writer_id}),
    )
    .await
    .problem(403, "forbidden");
    // A writer's content:write token still cannot publish or delete.
    let token = api_token(&app, &writer, json!(["content:write", "content:read"])).await;
    app.post(
        &token,
        "/api/v1/articles",
        json!({"title": "T", "status": "published"}),
    )
    .await
    .problem(403, "forbidden");
    app.post(&token, "/api/v1/articles", json!({"title": "Draft"}))
        .await
        .expect(201);
    // Bad requests name their field.
    for (body, field) in [
        (json!({"scopes": ["content:read"]}), "name"),
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "x", "scopes": ["everything"]}), "scopes[0]"),
        (
            json!({"name": "x", "scopes": ["content:read"], "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let p = app
            .post(&admin, "/api/v1/tokens", body)
            .await
            .problem(422, "validation_failed");
        assert_eq!(Resp::error_fields(&p), [field]);
    }
    // A token made with a token holds no more than it.
    let narrow = api_token(&app, &admin, json!(["content:read"])).await;
    app.post(
        &narrow,
        "/api/v1/tokens",
        json!({"name": "m", "scopes": ["content:write"]}),
    )
    .await
    .problem(403, "insufficient_scope");
    // Demoting the owner cuts the token at once; disabling ends it.
    let editor_id = app.user("e@example.com", Role::Editor).await;
    let editor = app.token_of(editor_id).await;
    let breaking = api_token(&app, &editor, json!(["breaking:write"])).await;
    app.post(
        &breaking,
        "/api/v1/breaking",
        json!({"text": "Now", "language": "en"}),
    )
    .await
    .expect(201);
    app.patch(
        &admin,
        &format!("/api/v1/users/{editor_id}"),
        json!({"role": "writer"}),
    )
    .await
    .expect(200);
    app.post(
        &breaking,
        "/api/v1/breaking",
        json!({"text": "Again", "language": "en"}),
    )
    .await
    .problem(403, "forbidden");
    app.patch(
        &admin,
        &format!("/api/v1/users/{editor_id}"),
        json!({"disabled": true}),
    )
    .await
    .expect(200);
    app.get_as(&breaking, "/api/v1/auth/me").await.expect(401);
}

#[actix_web::test]
async fn tokens_expire_and_record_their_last_use_without_a_write_per_request() {
    let app = common::app().await;
    let admin = app.admin().await;
    let made = app
        .post(
            &admin,
            "/api/v1/tokens",
            json!({"name": "short", "scopes": ["content:read"], "expires_at": in_seconds(3)}),
        )
        .await
        .expect(201)
        .json();
    let token = made["token"].as_str().unwrap().to_owned();
    for _ in 0..20 {
        app.get_as(&token, "/api/v1/articles?status=all")
            .await
            .expect(200);
    }
    let first = eventually(WITHIN, || async {
        let list = app.get_as(&admin, "/api/v1/tokens").await.json();
        let used = list["data"][0]["last_used_at"].clone();
        if used.is_null() { Err(list) } else { Ok(used) }
    })
    .await;
    // More uses within the minute leave it as it was.
    for _ in 0..5 {
        app.get_as(&token, "/api/v1/articles?status=all")
            .await
            .expect(200);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let list = app.get_as(&admin, "/api/v1/tokens").await.json();
    assert_eq!(list["data"][0]["last_used_at"], first);
    eventually(WITHIN, || async {
        equals(
            app.get_as(&token, "/api/v1/articles?status=all")
                .await
                .status,
            401,
        )
    })
    .await;
}

#[actix_web::test]
async fn the_document_declares_each_operations_scopes_and_roles() {
    let doc = newsdesk::openapi::document();
    let doc = serde_json::to_value(&doc).unwrap();
    let scopes = [
        "content:read",
        "content:write",
        "media:write",
        "breaking:write",
        "users:admin",
        "webhooks:admin",
    ];
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(security) = op["security"].as_array() else {
                continue;
            };
            // Public operations, and those that read no token at all (`[]`).
            if security.is_empty()
                || security
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            {
                continue;
            }
            for req in security {
                for s in req["bearer"].as_array().unwrap() {
                    assert!(
                        scopes.contains(&s.as_str().unwrap()),
                        "{method} {path}: {s}"
                    );
                }
            }
            assert!(
                op["description"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("**Role:**"),
                "{method} {path} says which role it needs"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
    assert_eq!(
        doc["paths"]["/api/v1/breaking"]["post"]["security"],
        json!([{"bearer": ["breaking:write"]}])
    );
    assert_eq!(
        doc["paths"]["/api/v1/articles"]["get"]["security"],
        json!([{}, {"bearer": []}])
    );
}

// --- Sessions -------------------------------------------------------------------------

async fn sign_in<S, B>(app: &common::TestApp<S>, email: &str) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    app.json(
        "POST",
        "/api/v1/auth/token",
        None,
        &json!({"email": email, "password": PASSWORD}),
    )
    .await
    .expect(200)
    .json()
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session() {
    let app = common::app().await;
    app.user("desk@example.com", Role::Editor).await;
    let first = sign_in(&app, "desk@example.com").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    assert!(r1.starts_with("ndr_"));
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.json(
                "POST",
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": token}),
            )
            .await
        }
    };
    let second = refresh(r1.clone()).await.expect(200).json();
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    let a2 = second["access_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    app.get_as(&a2, "/api/v1/auth/me").await.expect(200);
    // The spent token again at once (a lost response): the same pair.
    let again = refresh(r1.clone()).await.expect(200).json();
    assert_eq!(again["refresh_token"], second["refresh_token"]);
    assert_eq!(again["access_token"], second["access_token"]);
    // Rotate on; then the first token, two generations old, is a reuse: the session ends.
    let third = refresh(r2.clone()).await.expect(200).json();
    let a3 = third["access_token"].as_str().unwrap().to_owned();
    let r3 = third["refresh_token"].as_str().unwrap().to_owned();
    let p = refresh(r1).await.problem(401, "unauthorized");
    assert!(
        p["detail"].as_str().unwrap().contains("already used"),
        "{p}"
    );
    refresh(r3).await.expect(401);
    app.get_as(&a3, "/api/v1/auth/me").await.expect(401);
    app.get_as(first["access_token"].as_str().unwrap(), "/api/v1/auth/me")
        .await
        .expect(401);
    // Garbage is a 401 too, and a missing field a 422.
    refresh("ndr_1.1.AAAA".into()).await.expect(401);
    app.json("POST", "/api/v1/auth/refresh", None, &json!({}))
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn logout_and_password_changes_end_sessions() {
    let app = common::app().await;
    let id = app.user("desk@example.com", Role::Writer).await;
    let s = sign_in(&app, "desk@example.com").await;
    let access = s["access_token"].as_str().unwrap().to_owned();
    let renewal = s["refresh_token"].as_str().unwrap().to_owned();
    app.send(
        TestRequest::post()
            .uri("/api/v1/auth/logout")
            .insert_header(("authorization", format!("Bearer {access}"))),
    )
    .await
    .expect(204);
    app.get_as(&access, "/api/v1/auth/me").await.expect(401);
    app.json(
        "POST",
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": renewal}),
    )
    .await
    .expect(401);
    // Logout by refresh token alone (an expired access token).
    let s = sign_in(&app, "desk@example.com").await;
    app.json(
        "POST",
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": s["refresh_token"]}),
    )
    .await
    .expect(204);
    app.get_as(s["access_token"].as_str().unwrap(), "/api/v1/auth/me")
        .await
        .expect(401);
    app.json("POST", "/api/v1/auth/logout", None, &json!({}))
        .await
        .expect(401);
    // A password change ends the sessions before it.
    let s = sign_in(&app, "desk@example.com").await;
    let access = s["access_token"].as_str().unwrap().to_owned();
    app.patch(
        &access,
        &format!("/api/v1/users/{id}"),
        json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
    )
    .await
    .expect(200);
    app.json(
        "POST",
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": s["refresh_token"]}),
    )
    .await
    .expect(401);
}

// --- Webhooks -------------------------------------------------------------------------

async fn register<S, B>(
    app: &common::TestApp<S>,
    admin: &str,
    url: &str,
    events: Value,
) -> (i64, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let made = app
        .post(
            admin,
            "/api/v1/webhooks",
            json!({"url": url, "events": events}),
        )
        .await
        .expect(201)
        .json();
    (
        made["id"].as_i64().unwrap(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn webhooks_deliver_signed_events_in_order_for_every_kind_of_change() {
    let app = webhooks_app().await;
    let rx = Receiver::start();
    let admin = app.admin().await;
    let editor = app.editor().await;
    let (hook, secret) = register(&app, &admin, &rx.url, json!(["*"])).await;
    assert!(secret.starts_with("whsec_"));
    let listed = app.get_as(&admin, "/api/v1/webhooks").await.expect(200);
    assert!(!listed.text().contains(&secret), "the secret is shown once");

    // A draft says nothing; publishing, an edit, a take-down and the trash do.
    app.article(&editor, json!({"slug": "quiet", "title": "Quiet"}))
        .await;
    for n in 0..5 {
        app.article(
            &editor,
            json!({"slug": format!("s{n}"), "title": format!("Story {n}"), "status": "published"}),
        )
        .await;
    }
    app.patch(
        &editor,
        "/api/v1/articles/s0",
        json!({"title": "Story zero"}),
    )
    .await
    .expect(200);
    app.patch(&editor, "/api/v1/articles/s1", json!({"status": "draft"}))
        .await
        .expect(200);
    app.delete(&editor, "/api/v1/articles/s2").await.expect(204);
    app.post(
        &editor,
        "/api/v1/breaking",
        json!({"text": "Live", "language": "en"}),
    )
    .await
    .expect(201);
    app.post(
        &editor,
        "/api/v1/media",
        json!({"kind": "image", "url": "https://cdn.example.com/a.jpg", "caption": "A"}),
    )
    .await
    .expect(201);
    let want = [
        "article.published",
        "article.published",
        "article.published",
        "article.published",
        "article.published",
        "article.updated",
        "article.unpublished",
        "article.deleted",
        "breaking.created",
        "media.created",
    ];
    let got = eventually(WITHIN, || async {
        let kinds: Vec<String> = rx.seen().iter().map(Received::kind).collect();
        if kinds.len() >= want.len() {
            Ok(kinds)
        } else {
            Err(kinds)
        }
    })
    .await;
    assert_eq!(got, want, "first attempts leave in commit order");
    let seen = rx.seen();
    for r in &seen {
        assert!(r.verified_with(&secret), "signature of {}", r.body);
        assert!(r.id.starts_with("msg_"));
        let body = r.json();
        assert!(
            body["timestamp"].is_string() && body["data"].is_object(),
            "{body}"
        );
    }
    let published: Vec<String> = seen[..5]
        .iter()
        .map(|r| r.json()["data"]["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(published, ["s0", "s1", "s2", "s3", "s4"]);
    assert_eq!(seen[5].json()["data"]["title"], "Story zero");
    // The delivery log shows each, succeeded (the outcome is stored just after the
    // receiver answered, so it may lag the request by a moment).
    let log = eventually(WITHIN, || async {
        let log = app
            .get_as(&admin, &format!("/api/v1/webhooks/{hook}/deliveries"))
            .await
            .expect(200)
            .json();
        match log["data"][0]["state"] == "succeeded" {
            true => Ok(log),
            false => Err(log["data"][0]["state"].clone()),
        }
    })
    .await;
    assert_eq!(log["meta"]["total"], 10);
    assert_eq!(log["data"][0]["state"], "succeeded");
    assert_eq!(log["data"][0]["attempt_log"][0]["status"], 204);
}

#[actix_web::test]
async fn failed_deliveries_retry_with_the_same_id_and_can_be_retried_by_hand() {
    let app = webhooks_app().await;
    let rx = Receiver::start();
    rx.plan
        .lock()
        .unwrap()
        .extend([Reply::Status(500), Reply::Status(503)]);
    let admin = app.admin().await;
    let (hook, secret) = register(&app, &admin, &rx.url, json!(["breaking.created"])).await;
    app.post(
        &admin,
        "/api/v1/breaking",
        json!({"text": "Retry me", "language": "en"}),
    )
    .await
    .expect(201);
    let attempts = eventually(Duration::from_secs(15), || async {
        let seen = rx.seen();
        if seen.len() >= 3 {
            Ok(seen)
        } else {
            Err(seen.len())
        }
    })
    .await;
    assert_eq!(
        attempts.len(),
        3,
        "two failures, then a success, then nothing"
    );
    assert!(
        attempts
            .iter()
            .all(|r| r.id == attempts[0].id && r.verified_with(&secret))
    );
    assert!(attempts[1].at - attempts[0].at >= Duration::from_millis(100));
    // The third attempt's outcome is stored just after the receiver answered.
    let log = eventually(WITHIN, || async {
        let log = app
            .get_as(&admin, &format!("/api/v1/webhooks/{hook}/deliveries"))
            .await
            .json();
        match log["data"][0]["state"] == "succeeded" {
            true => Ok(log),
            false => Err(log["data"][0]["state"].clone()),
        }
    })
    .await;
    let d = &log["data"][0];
    assert_eq!(d["attempts"], 3);
    let statuses: Vec<i64> = d["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 204]);
    assert!(d["attempt_log"][0]["duration_ms"].is_u64());
    // A manual retry: 202, and one more attempt with the same id.
    let id = d["id"].as_i64().unwrap();
    app.send(
        TestRequest::post()
            .uri(&format!("/api/v1/webhooks/{hook}/deliveries/{id}/retry"))
            .insert_header(("authorization", format!("Bearer {admin}"))),
    )
    .await
    .expect(202);
    let again = eventually(WITHIN, || async {
        let seen = rx.seen();
        if seen.len() == 4 {
            Ok(seen)
        } else {
            Err(seen.len())
        }
    })
    .await;
    assert_eq!(again[3].id, attempts[0].id);
    app.send(
        TestRequest::post()
            .uri(&format!("/api/v1/webhooks/{hook}/deliveries/999999/retry"))
            .insert_header(("authorization", format!("Bearer {admin}"))),
    )
    .await
    .expect(404);
}

#[actix_web::test]
async fn a_slow_endpoint_times_out_without_delaying_the_others() {
    let app = webhooks_app().await;
    let slow = Receiver::start();
    *slow.always.lock().unwrap() = Some(Reply::Slow(Duration::from_secs(12)));
    let fast = Receiver::start();
    let admin = app.admin().await;
    let (slow_hook, _) = register(&app, &admin, &slow.url, json!(["breaking.created"])).await;
    register(&app, &admin, &fast.url, json!(["breaking.created"])).await;
    let started = std::time::Instant::now();
    for n in 0..3 {
        app.post(
            &admin,
            "/api/v1/breaking",
            json!({"text": format!("Item {n}"), "language": "en"}),
        )
        .await
        .expect(201);
    }
    eventually(WITHIN, || async { equals(fast.seen().len(), 3) }).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the fast endpoint waited"
    );
    // The slow one's attempts end at the 10-second timeout, logged as such.
    let log = eventually(Duration::from_secs(20), || async {
        let log = app
            .get_as(&admin, &format!("/api/v1/webhooks/{slow_hook}/deliveries"))
            .await
            .json();
        let tried = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["attempts"].as_i64().unwrap_or(0) >= 1)
            .cloned();
        tried.ok_or(log)
    })
    .await;
    let attempt = &log["attempt_log"][0];
    assert!(attempt["status"].is_null());
    assert!(
        attempt["error"].as_str().unwrap().contains("10 s"),
        "{attempt}"
    );
    assert!(attempt["duration_ms"].as_u64().unwrap() >= 9_900);
}

#[actix_web::test]
async fn an_endpoint_failing_for_the_whole_period_is_disabled_with_the_reason() {
    let app = common::app_configured(|c| {
        c.webhooks.allow_private = true;
        c.webhooks.first_retry = Duration::from_millis(100);
        c.webhooks.disable_after = chrono::Duration::seconds(2);
    })
    .await;
    let rx = Receiver::start();
    *rx.always.lock().unwrap() = Some(Reply::Status(500));
    let admin = app.admin().await;
    let (hook, _) = register(&app, &admin, &rx.url, json!(["*"])).await;
    app.post(
        &admin,
        "/api/v1/breaking",
        json!({"text": "Doomed", "language": "en"}),
    )
    .await
    .expect(201);
    let disabled = eventually(Duration::from_secs(15), || async {
        let h = app
            .get_as(&admin, &format!("/api/v1/webhooks/{hook}"))
            .await
            .json();
        if h["active"] == false { Ok(h) } else { Err(h) }
    })
    .await;
    let reason = disabled["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("HTTP 500"), "{reason}");
    // Enabled again by hand: the reason goes.
    let h = app
        .patch(
            &admin,
            &format!("/api/v1/webhooks/{hook}"),
            json!({"active": true}),
        )
        .await
        .expect(200)
        .json();
    assert!(h["active"] == true && h["disabled_reason"].is_null());
}

#[actix_web::test]
async fn redirects_are_not_followed_and_private_targets_are_refused() {
    let strict = common::app().await;
    let admin = strict.admin().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/x",
        "http://10.0.0.7/x",
    ] {
        let p = strict
            .post(
                &admin,
                "/api/v1/webhooks",
                json!({"url": url, "events": ["*"]}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(Resp::error_fields(&p), ["url"], "{url}");
    }
    let app = webhooks_app().await;
    let admin = app.admin().await;
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x",
        "ftp://127.0.0.1/",
        "nope",
    ] {
        app.post(
            &admin,
            "/api/v1/webhooks",
            json!({"url": url, "events": ["*"]}),
        )
        .await
        .problem(422, "validation_failed");
    }
    let p = app
        .post(
            &admin,
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/", "events": ["article.nonsense"]}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), ["events[0]"]);
    let editor = app.editor().await;
    app.post(
        &editor,
        "/api/v1/webhooks",
        json!({"url": "http://127.0.0.1:9/", "events": ["*"]}),
    )
    .await
    .problem(403, "forbidden");

    let rx = Receiver::start();
    rx.plan.lock().unwrap().push_back(Reply::Redirect);
    let (hook, _) = register(&app, &admin, &rx.url, json!(["media.created"])).await;
    app.post(
        &admin,
        "/api/v1/media",
        json!({"kind": "image", "url": "https://cdn.example.com/b.jpg"}),
    )
    .await
    .expect(201);
    let log = eventually(WITHIN, || async {
        let log = app
            .get_as(&admin, &format!("/api/v1/webhooks/{hook}/deliveries"))
            .await
            .json();
        if log["data"][0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            Ok(log)
        } else {
            Err(log)
        }
    })
    .await;
    assert_eq!(log["data"][0]["attempt_log"][0]["status"], 302);
    assert!(rx.seen().iter().all(|r| r.id != "followed-a-redirect"));
}

#[actix_web::test]
async fn scheduled_publication_and_embargo_fire_at_their_time() {
    let app = webhooks_app().await;
    let rx = Receiver::start();
    let admin = app.admin().await;
    let editor = app.editor().await;
    register(
        &app,
        &admin,
        &rx.url,
        json!(["article.published", "article.unpublished"]),
    )
    .await;
    app.article(
        &editor,
        json!({"slug": "later", "title": "Later", "status": "published", "published_at": in_seconds(common::SCHEDULE_AHEAD)}),
    )
    .await;
    app.article(
        &editor,
        json!({"slug": "brief", "title": "Brief", "status": "published", "unpublish_at": in_seconds(common::SCHEDULE_AHEAD)}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let now: Vec<String> = rx
        .seen()
        .iter()
        .map(|r| r.json()["data"]["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(now, ["brief"], "only the live one so far");
    let kinds = eventually(common::due_by(common::SCHEDULE_AHEAD), || async {
        let seen: Vec<(String, String)> = rx
            .seen()
            .iter()
            .map(|r| {
                (
                    r.kind(),
                    r.json()["data"]["slug"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if seen.len() >= 3 { Ok(seen) } else { Err(seen) }
    })
    .await;
    let mut later: Vec<(String, String)> = kinds[1..].to_vec();
    later.sort();
    assert_eq!(
        later,
        [
            ("article.published".to_owned(), "later".to_owned()),
            ("article.unpublished".to_owned(), "brief".to_owned()),
        ]
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rx.seen().len(), 3, "each announced once");
}

#[actix_web::test]
async fn a_rolled_back_write_queues_nothing() {
    let app = webhooks_app().await;
    let rx = Receiver::start();
    let admin = app.admin().await;
    register(&app, &admin, &rx.url, json!(["*"])).await;
    let failed = app
        .state
        .db
        .write(|conn| {
            newsdesk::webhooks::emit(
                conn,
                newsdesk::webhooks::EventType::MediaCreated,
                json!({"id": 1}),
            )?;
            Err::<(), _>(newsdesk::error::AppError::bad_request("changed my mind"))
        })
        .await;
    assert!(failed.is_err());
    // A write refused by validation, after a good one.
    app.post(
        &admin,
        "/api/v1/breaking",
        json!({"text": "", "language": "en"}),
    )
    .await
    .expect(422);
    app.post(
        &admin,
        "/api/v1/breaking",
        json!({"text": "Kept", "language": "en"}),
    )
    .await
    .expect(201);
    eventually(WITHIN, || async { equals(rx.seen().len(), 1) }).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind(), "breaking.created");
}

#[actix_web::test]
async fn two_instances_deliver_each_event_once() {
    let a = webhooks_app().await;
    let b = common::app_with(a.dir.clone(), (*a.state.config).clone()).await;
    let rx = Receiver::start();
    let admin = a.admin().await;
    register(&a, &admin, &rx.url, json!(["breaking.created"])).await;
    for n in 0..20 {
        let app_is_a = n % 2 == 0;
        let body = json!({"text": format!("Item {n}"), "language": "en"});
        if app_is_a {
            a.post(&admin, "/api/v1/breaking", body).await.expect(201);
        } else {
            b.post(&admin, "/api/v1/breaking", body).await.expect(201);
        }
    }
    eventually(Duration::from_secs(10), || async {
        equals(rx.seen().len() >= 20, true)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = rx.seen();
    let mut ids: Vec<&str> = seen.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert_eq!(seen.len(), 20, "no event delivered twice");
}

// --- Metrics --------------------------------------------------------------------------

#[actix_web::test]
async fn metrics_are_prometheus_text_labelled_by_route_template() {
    let app = common::app().await;
    let editor = app.editor().await;
    app.article(
        &editor,
        json!({"slug": "counted", "title": "Counted", "status": "published"}),
    )
    .await;
    for _ in 0..3 {
        app.get("/api/v1/articles/counted").await.expect(200);
    }
    app.get("/no/such/path/at/all").await.expect(404);
    let res = app.get("/metrics").await.expect(200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text();
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("an OpenMetrics parser reads it ({e:?}):\n{text}"));
    let route = "/api/v1/articles/{id_or_slug}";
    let family = &parsed.families["newsdesk_http_requests"];
    let mut counted = 0.0;
    for sample in family.iter_samples() {
        let labels = sample.get_labelset().unwrap();
        if labels.get_label_value("route") == Some(route)
            && labels.get_label_value("method") == Some("GET")
            && labels.get_label_value("status") == Some("200")
            && let openmetrics_parser::OpenMetricsValue::Counter(c) = &sample.value
        {
            counted += c.value.as_f64();
        }
        let seen = labels.get_label_value("route").unwrap();
        assert!(seen.starts_with('/') || seen == "unmatched", "{seen}");
        assert!(
            !seen.contains("counted") && !seen.contains("no/such"),
            "no raw paths: {seen}"
        );
    }
    assert!(counted >= 3.0, "{counted}");
    for name in [
        "newsdesk_http_request_duration_seconds",
        "newsdesk_cache_hits",
        "newsdesk_db_jobs",
        "newsdesk_breaking_streams_open",
        "newsdesk_webhook_attempts",
    ] {
        assert!(parsed.families.contains_key(name), "{name}");
    }

    let head = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/metrics"),
        )
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("cache-control").as_deref(), Some("no-store"));

    let guarded = common::app_configured(|c| {
        c.metrics_token = Some(newsdesk::config::Secret::new("scrape-me-please"));
    })
    .await;
    guarded.get("/metrics").await.problem(401, "unauthorized");
    guarded.get_as("wrong", "/metrics").await.expect(401);
    guarded
        .get_as("scrape-me-please", "/metrics")
        .await
        .expect(200);
}
