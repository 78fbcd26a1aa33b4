//! Signing in, and every way a token stops working.

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use newsdesk::auth::Role;
use newsdesk::auth::token::TokenKeys;
use newsdesk::domain::time::Timestamp;
use serde_json::json;

use crate::common::{self, PASSWORD};

#[actix_web::test]
async fn login_gives_a_token_that_identifies_the_caller() {
    let t = common::app().await;
    t.user("desk@example.com", Role::Editor).await;
    let body = t
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            &json!({"email": "Desk@Example.com", "password": PASSWORD}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["user"]["email"], "desk@example.com");
    assert!(body["user"]["last_login_at"].is_string());
    assert!(body["user"].get("password_hash").is_none());
    let token = body["access_token"].as_str().unwrap();
    let me = t.get_as(token, "/api/v1/auth/me").await.expect(200).json();
    assert_eq!(me["email"], "desk@example.com");
    assert_eq!(me["role"], "editor");
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let t = common::app().await;
    t.user("desk@example.com", Role::Editor).await;
    let wrong_pw = t
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            &json!({"email": "desk@example.com", "password": "not the password"}),
        )
        .await;
    let no_user = t
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            &json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    assert_eq!(
        wrong_pw.header("www-authenticate").as_deref(),
        Some("Bearer")
    );
    let a = wrong_pw.problem(401, "unauthorized");
    let b = no_user.problem(401, "unauthorized");
    assert_eq!(a, b);
}

#[actix_web::test]
async fn me_without_a_token_is_401() {
    let t = common::app().await;
    let resp = t.get("/api/v1/auth/me").await;
    assert_eq!(resp.header("www-authenticate").as_deref(), Some("Bearer"));
    resp.problem(401, "unauthorized");
}

#[actix_web::test]
async fn an_expired_token_is_401() {
    let t = common::app().await;
    let id = t.user("desk@example.com", Role::Editor).await;
    let token = t
        .state
        .tokens
        .issue(id, 0, Timestamp::now().unix() - 7200)
        .unwrap();
    let p = t
        .get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
    assert!(p["detail"].as_str().unwrap().contains("expired"));
}

fn forged(header: &str, claims: serde_json::Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

#[actix_web::test]
async fn a_token_with_alg_none_is_401() {
    let t = common::app().await;
    let id = t.user("desk@example.com", Role::Admin).await;
    let now = Timestamp::now().unix();
    let claims = json!({"sub": id.to_string(), "iat": now, "exp": now + 600, "ver": 0});
    let token = forged(r#"{"alg":"none","typ":"JWT"}"#, claims, "");
    t.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_token_signed_with_another_secret_is_401() {
    let t = common::app().await;
    let id = t.user("desk@example.com", Role::Admin).await;
    let other = TokenKeys::new(b"some other secret, also 32 bytes long", 3600).unwrap();
    let token = other.issue(id, 0, Timestamp::now().unix()).unwrap();
    t.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_disabled_users_token_stops_working_at_once() {
    let t = common::app().await;
    let admin = t.admin().await;
    let id = t.user("writer@example.com", Role::Writer).await;
    let token = t.token_of(id).await;
    t.get_as(&token, "/api/v1/auth/me").await.expect(200);
    t.patch(
        &admin,
        &format!("/api/v1/users/{id}"),
        json!({"disabled": true}),
    )
    .await
    .expect(200);
    t.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
    // A disabled account cannot sign in either.
    t.json(
        "POST",
        "/api/v1/auth/token",
        None,
        &json!({"email": "writer@example.com", "password": PASSWORD}),
    )
    .await
    .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_password_change_ends_older_tokens() {
    let t = common::app().await;
    let id = t.user("writer@example.com", Role::Writer).await;
    let token = t.token_of(id).await;
    t.patch(
        &token,
        &format!("/api/v1/users/{id}"),
        json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
    )
    .await
    .expect(200);
    t.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
    t.json(
        "POST",
        "/api/v1/auth/token",
        None,
        &json!({"email": "writer@example.com", "password": "a brand new passphrase"}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn a_deleted_users_token_stops_working() {
    let t = common::app().await;
    let admin = t.admin().await;
    let id = t.user("writer@example.com", Role::Writer).await;
    let token = t.token_of(id).await;
    t.delete(&admin, &format!("/api/v1/users/{id}"))
        .await
        .expect(204);
    t.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_token_in_the_query_string_is_ignored() {
    let t = common::app().await;
    let token = t.admin().await;
    t.get(&format!("/api/v1/auth/me?access_token={token}"))
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn a_malformed_authorization_header_is_401() {
    let t = common::app().await;
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "token"] {
        let resp = t
            .send(
                TestRequest::get()
                    .uri("/api/v1/auth/me")
                    .insert_header(("authorization", value)),
            )
            .await;
        resp.problem(401, "unauthorized");
    }
}

#[actix_web::test]
async fn login_body_is_validated() {
    let t = common::app().await;
    let p = t
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            &json!({"email": 5, "pasword": "x"}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = common::Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["email", "password", "pasword"]);
}
