//! The OWASP API Security Top 10 (2023), risk by risk, against the real app.

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use newsdesk::auth::Role;
use newsdesk::domain::time::Timestamp;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{self, PASSWORD, Resp};

// API1:2023 Broken Object Level Authorization
// Hidden stories and media across every anonymous read: see tests/api/visibility.rs.

#[actix_web::test]
async fn api1_a_writer_cannot_read_or_edit_another_writers_draft_by_id() {
    let t = common::app().await;
    let alice = t.writer().await;
    let bob = t.writer().await;
    let draft = t.article(&alice, json!({"title": "Alice's scoop"})).await;
    let id = draft["id"].as_i64().unwrap();
    let by_id = format!("/api/v1/articles/{id}");
    t.get_as(&bob, &by_id).await.problem(404, "not_found");
    t.patch(&bob, &by_id, json!({"title": "Bob's now"}))
        .await
        .problem(404, "not_found");
    t.delete(&bob, &by_id).await.problem(403, "forbidden");
    t.get(&by_id).await.problem(404, "not_found");
    let list = t.get_as(&bob, "/api/v1/articles?status=all").await.json();
    assert_eq!(list["meta"]["total"], 0, "not even listed");
    assert_eq!(
        t.get_as(&alice, &by_id).await.expect(200).json()["title"],
        "Alice's scoop"
    );
}

// API2:2023 Broken Authentication

fn sign(secret: &[u8], header: &Value, claims: &Value) -> String {
    let head = URL_SAFE_NO_PAD.encode(header.to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{head}.{body}");
    let sig = match header["alg"].as_str() {
        Some("HS384") => {
            let mut mac = <Hmac<sha2::Sha384> as KeyInit>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Some("HS512") => {
            let mut mac = <Hmac<sha2::Sha512> as KeyInit>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The server's signing secret in these tests, so a forged token can use the real key
/// and fail only for the reason the test names.
const SECRET: &str = "the-test-servers-signing-secret-0123456789";

#[actix_web::test]
async fn api2_forged_expired_and_revoked_tokens_are_refused() {
    let t = common::app_configured(|c| {
        c.jwt_secret = Some(newsdesk::config::Secret::new(SECRET));
    })
    .await;
    let id = t.user("desk@example.com", Role::Admin).await;
    let now = Timestamp::now().unix();
    let claims = json!({"sub": id.to_string(), "iat": now, "exp": now + 600, "ver": 0});
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // The forging helper is right: HS256 with the real secret is accepted.
    let genuine = sign(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
    );
    t.get_as(&genuine, "/api/v1/auth/me").await.expect(200);
    // Algorithm confusion: the real secret, under another HMAC algorithm than the
    // pinned one, or an RSA algorithm named over an HMAC; and a secret the attacker
    // chose.
    let hs384 = sign(
        SECRET.as_bytes(),
        &json!({"alg": "HS384", "typ": "JWT"}),
        &claims,
    );
    let hs512 = sign(
        SECRET.as_bytes(),
        &json!({"alg": "HS512", "typ": "JWT"}),
        &claims,
    );
    let rs_named = sign(
        SECRET.as_bytes(),
        &json!({"alg": "RS256", "typ": "JWT"}),
        &claims,
    );
    let wrong_key = sign(
        b"not the server's secret at all....",
        &json!({"alg": "HS256"}),
        &claims,
    );
    // Times: expired, not valid yet, issued in the future (beyond the 60 s leeway).
    let expired = t.state.tokens.issue(id, 0, now - 7200).unwrap();
    let not_yet = sign(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": id.to_string(), "iat": now, "nbf": now + 600, "exp": now + 1200, "ver": 0}),
    );
    let future_iat = sign(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": id.to_string(), "iat": now + 600, "exp": now + 1200, "ver": 0}),
    );
    for token in [
        unsigned,
        hs384,
        hs512,
        rs_named,
        wrong_key,
        not_yet,
        future_iat,
        expired,
        "garbage".into(),
    ] {
        t.get_as(&token, "/api/v1/auth/me")
            .await
            .problem(401, "unauthorized");
    }
    // Revocation: disabling, a password change and deletion end every token at once.
    let writer_id = t.user("w@example.com", Role::Writer).await;
    let token = t.token_of(writer_id).await;
    let admin = t.token_of(id).await;
    t.patch(
        &admin,
        &format!("/api/v1/users/{writer_id}"),
        json!({"password": "another passphrase"}),
    )
    .await
    .expect(200);
    t.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
    let token = t.token_of(writer_id).await;
    t.patch(
        &admin,
        &format!("/api/v1/users/{writer_id}"),
        json!({"disabled": true}),
    )
    .await
    .expect(200);
    t.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
    // A token in the query string is never read.
    let good = t.token_of(id).await;
    t.get(&format!("/api/v1/auth/me?token={good}"))
        .await
        .problem(401, "unauthorized");
    t.get(&format!("/api/v1/auth/me?access_token={good}"))
        .await
        .problem(401, "unauthorized");
}

// API3:2023 Broken Object Property Level Authorization
// Properties that name hidden content (pinned, links, counts): tests/api/visibility.rs.
// Deleted and corrected breaking text never replayed by the stream: tests/api/stream.rs.

#[actix_web::test]
async fn api3_mass_assignment_is_refused_and_secrets_never_leave() {
    let t = common::app().await;
    let writer_id = t.user("w@example.com", Role::Writer).await;
    let writer = t.token_of(writer_id).await;
    // Read-only and server-owned fields in a body are 422, not silently dropped.
    let p = t
        .post(
            &writer,
            "/api/v1/articles",
            json!({"title": "X", "created_by": 1, "id": 99, "word_count": 1, "body_html": "<b>x</b>"}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["body_html", "created_by", "id", "word_count"]);
    // Status is a property only editors may set.
    t.post(
        &writer,
        "/api/v1/articles",
        json!({"title": "X", "status": "published"}),
    )
    .await
    .problem(403, "forbidden");
    // A writer cannot raise their own role, enable themselves or change their email.
    let me = format!("/api/v1/users/{writer_id}");
    for body in [
        json!({"role": "admin"}),
        json!({"disabled": false}),
        json!({"email": "x@example.com"}),
    ] {
        t.patch(&writer, &me, body).await.problem(403, "forbidden");
    }
    assert_eq!(t.get_as(&writer, &me).await.json()["role"], "writer");
    // No response carries a password hash.
    let login = t
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            &json!({"email": "w@example.com", "password": PASSWORD}),
        )
        .await
        .expect(200);
    let text = String::from_utf8_lossy(&login.body);
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
}

// API4:2023 Unrestricted Resource Consumption
// The breaking stream's replay bounds and per-address share: tests/api/stream.rs.

#[actix_web::test]
async fn api4_every_request_is_bounded() {
    let t = common::app_configured(|c| c.max_body_bytes = 64 * 1024).await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "x".repeat(70_000)}))
        .await
        .problem(413, "payload_too_large");
    t.get(&format!("/api/v1/articles?q={}", "a".repeat(5000)))
        .await
        .problem(400, "bad_request");
    t.get("/api/v1/articles?per_page=1000")
        .await
        .problem(400, "bad_request");
    t.get("/api/v1/articles?page=100000")
        .await
        .problem(400, "bad_request");
    let many = (0..40)
        .map(|i| format!("p{i}=1"))
        .collect::<Vec<_>>()
        .join("&");
    t.get(&format!("/api/v1/articles?{many}"))
        .await
        .problem(400, "bad_request");
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let resp = t
        .send(
            TestRequest::post()
                .uri("/api/v1/tags")
                .insert_header(("authorization", format!("Bearer {editor}")))
                .insert_header(("content-type", "application/json"))
                .set_payload(deep),
        )
        .await;
    resp.problem(400, "bad_request");
    t.user("desk@example.com", Role::Editor).await;
    let mut last = 0;
    for _ in 0..8 {
        last = t
            .json(
                "POST",
                "/api/v1/auth/token",
                None,
                &json!({"email": "desk@example.com", "password": "nope nope nope"}),
            )
            .await
            .status;
    }
    assert_eq!(last, 429, "sign-in attempts are throttled");
}

// API5:2023 Broken Function Level Authorization

fn rank(role: &str) -> u8 {
    match role {
        "writer" => 1,
        "editor" => 2,
        "admin" => 3,
        _ => 0,
    }
}

#[actix_web::test]
async fn api5_every_protected_operation_refuses_anonymous_and_lesser_roles() {
    let t = common::app().await;
    let tokens = [
        ("writer", t.writer().await),
        ("editor", t.editor().await),
        ("admin", t.admin().await),
    ];
    let doc: Value = serde_json::from_str(&newsdesk::openapi::document_json()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // The role an operation needs, from its bearer scopes (none: public).
            let Some(needed) = op["security"]
                .as_array()
                .and_then(|reqs| reqs.iter().find_map(|r| r["bearer"].as_array()))
                .and_then(|scopes| scopes.first())
                .and_then(|s| s.as_str())
            else {
                continue;
            };
            if op["security"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            {
                continue; // token optional
            }
            let concrete = path
                .replace("{id_or_slug}", "1")
                .replace("{id}", "1")
                .replace("{slug}", "x");
            let request = |token: Option<&str>| {
                let mut req = TestRequest::default()
                    .method(method.to_uppercase().parse().unwrap())
                    .uri(&concrete)
                    .insert_header(("content-type", "application/json"))
                    .set_payload("{}");
                if let Some(tk) = token {
                    req = req.insert_header(("authorization", format!("Bearer {tk}")));
                }
                req
            };
            let anon = t.send(request(None)).await;
            assert_eq!(anon.status, 401, "{method} {path} without a token");
            for (role, token) in &tokens {
                if rank(role) < rank(needed) {
                    let resp = t.send(request(Some(token))).await;
                    assert_eq!(
                        resp.status, 403,
                        "{method} {path} as {role} (needs {needed})"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} protected operations found");
}

// API6:2023 Unrestricted Access to Sensitive Business Flows

#[actix_web::test]
async fn api6_guessing_passwords_is_slowed_per_account_and_per_address() {
    let t = common::app().await;
    t.user("desk@example.com", Role::Admin).await;
    let attempt = |addr: &str, email: &str, password: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .peer_addr(addr.parse().unwrap())
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"email": email, "password": password}).to_string())
    };
    // One address guessing one account: 5 failures, then 429 with Retry-After.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            t.send(attempt(
                "198.51.100.1:1000",
                "desk@example.com",
                "guess guess",
            ))
            .await
            .status,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    // Spreading guesses over accounts does not get past the per-address limit.
    let mut statuses = Vec::new();
    for i in 0..25 {
        statuses.push(
            t.send(attempt(
                "203.0.113.9:1000",
                &format!("u{i}@example.com"),
                "guess guess",
            ))
            .await
            .status,
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
}

/// Nobody can lock a staff member out: failures from other addresses, and the
/// per-address refusals they earn, never spend the budget of the member's own address.
#[actix_web::test]
async fn api6_someone_elses_failures_never_lock_a_staff_member_out() {
    let t = common::app().await;
    t.user("desk@example.com", Role::Editor).await;
    let attempt = |addr: &str, password: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .peer_addr(addr.parse().unwrap())
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"email": "desk@example.com", "password": password}).to_string())
    };
    // An attacker on many addresses, well past every limit of theirs.
    for i in 0..40 {
        let addr = format!("198.51.100.{}:1000", i % 8);
        let status = t.send(attempt(&addr, "wrong guess")).await.status;
        assert!(status == 401 || status == 429, "{status}");
    }
    // The editor, from their own address, with the right password: in at once, every
    // time (successes cost nothing).
    for _ in 0..10 {
        t.send(attempt("192.0.2.44:1000", PASSWORD))
            .await
            .expect(200);
    }
    // A mistyped password or two from the editor's address still leaves them in.
    t.send(attempt("192.0.2.44:1000", "typo")).await.expect(401);
    t.send(attempt("192.0.2.44:1000", PASSWORD))
        .await
        .expect(200);
}

/// `current_password` on `PATCH /users/{id}` is a password check like signing in, on the
/// same account-and-address budget.
#[actix_web::test]
async fn api6_current_password_guesses_are_throttled_like_sign_in() {
    let t = common::app().await;
    let id = t.user("desk@example.com", Role::Writer).await;
    let token = t.token_of(id).await;
    let change = |current: &str| {
        TestRequest::patch()
            .uri(&format!("/api/v1/users/{id}"))
            .peer_addr("198.51.100.20:1000".parse().unwrap())
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("content-type", "application/json"))
            .set_payload(
                json!({"password": "a brand new passphrase", "current_password": current})
                    .to_string(),
            )
    };
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(t.send(change("not my password")).await.status);
    }
    assert_eq!(statuses, [422, 422, 422, 422, 422, 429, 429]);
    // The budget is the one sign-ins use: that address cannot sign in as them either.
    t.send(
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .peer_addr("198.51.100.20:1000".parse().unwrap())
            .insert_header(("content-type", "application/json"))
            .set_payload(json!({"email": "desk@example.com", "password": PASSWORD}).to_string()),
    )
    .await
    .problem(429, "rate_limited");
}

// API7:2023 Server Side Request Forgery

#[actix_web::test]
async fn api7_media_urls_are_stored_not_fetched_and_only_http() {
    let t = common::app().await;
    let writer = t.writer().await;
    for url in [
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "/relative.jpg",
    ] {
        let p = t
            .post(
                &writer,
                "/api/v1/media",
                json!({"kind": "image", "url": url}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(Resp::error_fields(&p), ["url"], "{url}");
    }
    // An internal address is accepted as data (newsdesk never requests media URLs).
    t.post(
        &writer,
        "/api/v1/media",
        json!({"kind": "image", "url": "http://169.254.169.254/latest"}),
    )
    .await
    .expect(201);
}

// API8:2023 Security Misconfiguration
// See also text.rs: every text field refuses C0 controls and noncharacters (422, field
// named); urls.rs: stored links carry no credentials.

#[actix_web::test]
async fn api8_security_headers_on_every_response_and_no_internals_in_errors() {
    let t = common::app().await;
    for path in [
        "/healthz",
        "/api/v1/articles",
        "/api/v1/nowhere",
        "/docs/",
        "/api/v1/openapi.json",
    ] {
        let resp = t.get(path).await;
        assert_eq!(
            resp.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            resp.header("x-frame-options").as_deref(),
            Some("DENY"),
            "{path}"
        );
        let csp = resp.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(
            resp.header("server").is_none(),
            "{path} names its server software"
        );
    }
    let docs = t.get("/docs/").await;
    let csp = docs.header("content-security-policy").unwrap();
    assert!(!csp.contains("unsafe-eval") && !csp.contains("*"), "{csp}");
    let broken = t
        .get("/api/v1/articles?sort=%27%3BDROP%20TABLE%20articles%3B--")
        .await;
    let text = String::from_utf8_lossy(&broken.body);
    assert!(
        !text.contains("diesel") && !text.contains("sqlite") && !text.contains("src/"),
        "{text}"
    );
}

// API9:2023 Improper Inventory Management

#[actix_web::test]
async fn api9_every_served_route_is_in_the_published_document() {
    let t = common::app().await;
    let doc: Value = t.get("/api/v1/openapi.json").await.json();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for known in [
        "/api/v1/articles",
        "/api/v1/articles/{id_or_slug}",
        "/api/v1/users",
        "/healthz",
    ] {
        assert!(
            paths.iter().any(|p| *p == known),
            "{known} is not documented"
        );
    }
    // What the document does not list does not answer.
    for path in [
        "/api/v2/articles",
        "/api/v1/admin",
        "/api/v1/debug",
        "/.env",
        "/api/v1/users/1/password_hash",
    ] {
        t.get(path).await.problem(404, "not_found");
    }
}

// API10:2023 Unsafe Consumption of APIs — and injection and XSS, which the list
// names among the consequences of trusting input.
// See also text.rs: feeds and sitemaps stay well-formed XML whatever is stored;
// urls.rs: every link field takes only absolute http(s) URLs (no javascript:, data:).

#[actix_web::test]
async fn api10_input_never_reaches_sql_or_html_as_code() {
    let t = common::app().await;
    let editor = t.editor().await;
    // The media probes run over a populated table, with captions and credits next to
    // the probe strings: a query that matched every row, or broke, would show.
    let mut media = Vec::new();
    for (caption, credit) in [
        ("Boats return at dawn.", "AP"),
        ("Crowds gathered') outside the court", "Reuters"),
        ("Vote split OR 1=1 in the chamber", "AFP"),
        ("Turnout up 5% in the north", "staff_photographer"),
        ("The note read ') OR 1=1-- and nothing else", "Court files"),
    ] {
        let m = t
            .post(
                &editor,
                "/api/v1/media",
                json!({"kind": "image", "url": "https://cdn.example.com/x.jpg",
                    "caption": caption, "credit": credit}),
            )
            .await
            .expect(201)
            .json();
        media.push(m["id"].as_i64().unwrap());
    }
    // Readers see what live stories use: the first and the last item.
    t.article(
        &editor,
        json!({"title": "Safe", "status": "published", "hero_media_id": media[0]}),
    )
    .await;
    t.article(
        &editor,
        json!({"title": "Probe", "status": "published", "hero_media_id": media[4]}),
    )
    .await;
    for query in [
        "tag=x'%20OR%20'1'='1",
        "section=news;DROP%20TABLE%20articles",
        "author=%22%20OR%201=1--",
        "lang=en'--",
        "sort=title;DELETE",
        "published_after=2024-01-01'%20OR%201=1",
    ] {
        let resp = t.get(&format!("/api/v1/articles?{query}")).await;
        assert!(
            resp.status == 400 || (resp.status == 200 && resp.json()["data"] == json!([])),
            "{query}: {}",
            resp.status
        );
    }
    assert_eq!(
        t.get("/api/v1/articles").await.json()["meta"]["total"],
        2,
        "nothing was dropped"
    );
    let ids = |list: Value| -> Vec<i64> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect()
    };
    // Each probe finds exactly the items that hold it as text.
    for (q, found) in [
        ("%27%29%20OR%201%3D1--", vec![media[4]]),
        ("%27%20OR%20%271%27%3D%271", vec![]),
        ("%25", vec![media[3]]),
        ("_", vec![media[3]]),
        ("%5C", vec![]),
        ("OR%201%3D1", vec![media[4], media[2]]),
    ] {
        let path = format!("/api/v1/media?q={q}");
        let staff = t.get_as(&editor, &path).await.expect(200).json();
        assert_eq!(ids(staff), found, "staff, q={q}");
        let public: Vec<i64> = found
            .iter()
            .copied()
            .filter(|id| [media[0], media[4]].contains(id))
            .collect();
        assert_eq!(
            ids(t.get(&path).await.expect(200).json()),
            public,
            "anonymous, q={q}"
        );
    }
    assert_eq!(
        t.get_as(&editor, "/api/v1/media").await.json()["meta"]["total"],
        5,
        "no media was dropped"
    );
    // Stored XSS: what the Markdown carries is sanitized into body_html.
    let a = t
        .article(
            &editor,
            json!({"title": "XSS", "body": "<img src=x onerror=alert(1)><svg onload=alert(1)><iframe src=\"javascript:alert(1)\"></iframe><a href=\"javascript:alert(1)\">x</a><script>alert(1)</script><style>*{}</style>"}),
        )
        .await;
    let html = a["body_html"].as_str().unwrap().to_lowercase();
    for bad in [
        "onerror",
        "onload",
        "<script",
        "<iframe",
        "javascript:",
        "<style",
        "<svg",
    ] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
}
