//! Findings of the black-box security probe that are about who is asking and how much
//! they may cost: client addresses behind proxies, the search budget and bounds,
//! ranks that know only visible content, token times, the Idempotency-Key store and slow
//! bodies. Each test names its OWASP API Security Top 10 (2023) risk.

use actix_web::test::TestRequest;
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::config::TrustedProxies;
use newsdesk::domain::time::Timestamp;
use serde_json::json;

use crate::common::{self, PASSWORD};

fn sign_in(peer: &str, forwarded_for: Option<&str>, password: &str) -> TestRequest {
    let mut req = TestRequest::post()
        .uri("/api/v1/auth/token")
        .peer_addr(peer.parse().unwrap())
        .insert_header(("content-type", "application/json"))
        .set_payload(json!({"email": "desk@example.com", "password": password}).to_string());
    if let Some(xff) = forwarded_for {
        req = req.insert_header(("x-forwarded-for", xff));
    }
    req
}

// API4/API6: every per-address rule counts the real client, and only a configured
// proxy is believed about who that is.

#[actix_web::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let t = common::app().await;
    t.user("desk@example.com", Role::Editor).await;
    // A client that makes up a new X-Forwarded-For for every guess is still one address.
    let mut statuses = Vec::new();
    for i in 0..7 {
        let forged = format!("192.0.2.{i}");
        let resp = t
            .send(sign_in("203.0.113.5:4000", Some(&forged), "wrong guess"))
            .await;
        statuses.push(resp.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_address_counts() {
    let t = common::app_configured(|c| {
        c.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
    })
    .await;
    t.user("desk@example.com", Role::Editor).await;
    // The proxy appends the address it saw; the client forges entries on the left.
    let mut statuses = Vec::new();
    for i in 0..7 {
        let chain = format!("192.0.2.{i}, 198.51.100.7");
        let resp = t
            .send(sign_in("10.1.2.3:4000", Some(&chain), "wrong guess"))
            .await;
        statuses.push(resp.status);
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429],
        "forged left-most entries are not a new address"
    );
    // Another client behind the same proxy has its own budget.
    t.send(sign_in("10.1.2.3:4000", Some("198.51.100.8"), PASSWORD))
        .await
        .expect(200);
}

// API4:2023 Unrestricted Resource Consumption: searches.

#[actix_web::test]
async fn uncached_anonymous_searches_have_a_budget_per_address() {
    let t = common::app_configured(|c| {
        c.search_burst = 3;
        c.search_rate = 1;
    })
    .await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"title": "Ceasefire talks", "status": "published"}),
    )
    .await;
    let search = |q: &str, peer: &str| {
        TestRequest::get()
            .uri(&format!("/api/v1/articles?q={q}"))
            .peer_addr(peer.parse().unwrap())
    };
    for q in ["ceasefire", "talks", "cease"] {
        t.send(search(q, "203.0.113.1:1")).await.expect(200);
    }
    let limited = t
        .send(search("ceasefire&per_page=7", "203.0.113.1:1"))
        .await;
    assert!(limited.header("retry-after").is_some());
    limited.problem(429, "rate_limited");
    // What the cache answers costs nothing.
    let before = t.state.cache.stats();
    t.send(search("ceasefire", "203.0.113.1:1"))
        .await
        .expect(200);
    assert_eq!(t.cache_use_since(before), common::HIT);
    // Another address, and any caller with a token, are not held back.
    t.send(search("talk", "203.0.113.2:1")).await.expect(200);
    let staff = t
        .send(
            search("ceasefire&per_page=9", "203.0.113.1:1")
                .insert_header(("authorization", format!("Bearer {editor}"))),
        )
        .await;
    assert_eq!(staff.status, 200);
}

#[actix_web::test]
async fn repeated_and_common_words_cost_one_word_and_find_the_same() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "gaza-aid", "title": "Aid reaches Gaza", "status": "published"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "other", "title": "The capital of the region", "status": "published"}),
    )
    .await;
    let once = t.slugs("/api/v1/articles?q=gaza").await;
    assert_eq!(once, ["gaza-aid"]);
    let repeated = vec!["gaza"; 40].join("%20");
    assert_eq!(
        t.slugs(&format!("/api/v1/articles?q={repeated}")).await,
        once
    );
    assert_eq!(
        t.slugs("/api/v1/articles?q=the%20of%20the%20gaza").await,
        once
    );
    // A query of nothing but the commonest words finds nothing, at no cost.
    let list = t
        .get("/api/v1/articles?q=the%20of%20the%20and")
        .await
        .expect(200)
        .json();
    assert_eq!(list["data"], json!([]));
    assert_eq!(list["meta"]["total"], 0);
}

// API3:2023 Broken Object Property Level Authorization: ranks and counts of a search
// are computed from what the caller can see.

#[actix_web::test]
async fn search_ranks_and_totals_ignore_what_the_reader_cannot_see() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "public-one", "title": "Budget vote",
               "body": "The budget passed.", "status": "published"}),
    )
    .await;
    let before = t.get("/api/v1/articles?q=budget").await.expect(200).json();
    // A draft and a scheduled story that match far better.
    t.article(
        &editor,
        json!({"slug": "hidden-draft", "title": "Budget budget budget",
               "summary": "budget budget", "body": "budget budget budget"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "hidden-scheduled", "title": "Budget budget budget",
               "summary": "budget", "status": "published",
               "published_at": common::in_seconds(3600)}),
    )
    .await;
    let after = t
        .get("/api/v1/articles?q=budget&per_page=19")
        .await
        .expect(200)
        .json();
    assert_eq!(after["meta"]["total"], 1);
    assert_eq!(after["data"][0]["slug"], "public-one");
    assert_eq!(after["data"][0]["search"]["rank"], 1.0);
    assert_eq!(
        after["data"][0]["search"], before["data"][0]["search"],
        "nothing about the hidden matches shows"
    );
    // Staff see every match, ranked among all of them.
    let staff = t
        .get_as(&editor, "/api/v1/articles?q=budget&status=all")
        .await
        .expect(200)
        .json();
    assert_eq!(staff["meta"]["total"], 3);
}

// API2:2023 Broken Authentication: tokens from the future.

#[actix_web::test]
async fn tokens_issued_in_the_future_are_refused() {
    let t = common::app().await;
    let id = t.user("desk@example.com", Role::Editor).await;
    let now = Timestamp::now().unix();
    let within_leeway = t.state.tokens.issue(id, 0, now + 30).unwrap();
    t.get_as(&within_leeway, "/api/v1/auth/me")
        .await
        .expect(200);
    let ahead = t.state.tokens.issue(id, 0, now + 3600).unwrap();
    t.get_as(&ahead, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
}

// API4/API2: the Idempotency-Key store takes only valid accounts, and a bounded number
// of keys from each.

fn stored_keys(t_db: &newsdesk::db::Db) -> i64 {
    t_db.read_blocking(|conn| {
        Ok(newsdesk::schema::idempotency_keys::table
            .count()
            .get_result::<i64>(conn)?)
    })
    .unwrap()
}

#[actix_web::test]
async fn a_disabled_users_old_token_stores_no_idempotency_key() {
    let t = common::app().await;
    let admin = t.admin().await;
    let id = t.user("gone@example.com", Role::Editor).await;
    let old = t.token_of(id).await;
    t.patch(
        &admin,
        &format!("/api/v1/users/{id}"),
        json!({"disabled": true}),
    )
    .await
    .expect(200);
    let before = stored_keys(&t.state.db);
    let resp = t
        .send(
            TestRequest::post()
                .uri("/api/v1/tags")
                .insert_header(("authorization", format!("Bearer {old}")))
                .insert_header(("idempotency-key", "key-1"))
                .insert_header(("content-type", "application/json"))
                .set_payload(json!({"name": "Elections"}).to_string()),
        )
        .await;
    resp.problem(401, "unauthorized");
    assert_eq!(stored_keys(&t.state.db), before, "nothing was stored");
}

#[actix_web::test]
async fn one_user_holds_a_bounded_number_of_idempotency_keys() {
    let t = common::app().await;
    let id = t.user("busy@example.com", Role::Editor).await;
    let token = t.token_of(id).await;
    let max = newsdesk::domain::idempotency::MAX_KEYS_PER_USER;
    t.state
        .db
        .write_blocking(move |conn| {
            use newsdesk::schema::idempotency_keys as k;
            let now = Timestamp::now().0;
            for i in 0..max {
                diesel::insert_into(k::table)
                    .values((
                        k::user_id.eq(id),
                        k::key.eq(format!("old-{i}")),
                        k::fingerprint.eq("x"),
                        k::created_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .unwrap();
    let post = |key: &str| {
        TestRequest::post()
            .uri("/api/v1/tags")
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", key.to_owned()))
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"name": "Elections"}).to_string())
    };
    let full = t.send(post("one-more")).await;
    assert!(full.header("retry-after").is_some());
    full.problem(429, "rate_limited");
    assert_eq!(stored_keys(&t.state.db), max);
    // Another user is not affected.
    let other = t.editor().await;
    t.send(
        TestRequest::post()
            .uri("/api/v1/tags")
            .insert_header(("authorization", format!("Bearer {other}")))
            .insert_header(("idempotency-key", "one-more"))
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"name": "Elections"}).to_string()),
    )
    .await
    .expect(201);
}

// API4:2023: a request body that trickles in is cut off.

#[actix_web::test]
async fn a_stalled_request_body_gets_408_and_the_connection_closes() {
    let t = common::app().await;
    let editor = t.editor().await;
    let (mut sender, payload) = actix_http::h1::Payload::create(false);
    sender.feed_data(actix_web::web::Bytes::from_static(b"{\"name\": \"Sl"));
    let req = TestRequest::post()
        .uri("/api/v1/tags")
        .insert_header(("authorization", format!("Bearer {editor}")))
        .insert_header(("content-type", "application/json"))
        .to_request();
    let (req, _) = req.replace_payload(actix_http::Payload::from(payload));
    // The clock is paused: the runtime jumps ahead to the deadline instead of waiting.
    tokio::time::pause();
    let res = actix_web::test::call_service(&t.svc, req).await;
    tokio::time::resume();
    assert_eq!(res.status().as_u16(), 408);
    assert_eq!(
        res.response().head().connection_type(),
        actix_http::ConnectionType::Close,
        "the connection is closed, not kept alive"
    );
    assert_eq!(
        res.headers()
            .get("connection")
            .and_then(|v| v.to_str().ok()),
        Some("close")
    );
    let body = actix_web::test::read_body(res).await;
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "request_timeout");
    drop(sender);
    // Nothing was created.
    let tags = t.get("/api/v1/tags").await.expect(200).json();
    assert_eq!(tags["meta"]["total"], 0);
}
