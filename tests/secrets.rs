//! Passwords, tokens and hashes never reach the logs.
//!
//! A test binary of its own: it installs the process-wide log subscriber, which no
//! other test may race with.

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::test::TestRequest;
use newsdesk::auth::Role;
use serde_json::json;

#[path = "api/common.rs"]
mod common;

use common::PASSWORD;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn no_secret_reaches_the_log() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let t = common::app().await;
    let id = t.user("desk@example.com", Role::Admin).await;
    let login = t
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            &json!({"email": "desk@example.com", "password": PASSWORD}),
        )
        .await
        .expect(200)
        .json();
    let token = login["access_token"].as_str().unwrap().to_owned();
    t.json(
        "POST",
        "/api/v1/auth/token",
        None,
        &json!({"email": "desk@example.com", "password": "a wrong guess!"}),
    )
    .await
    .expect(401);
    let new_password = "the replacement passphrase";
    t.post(
        &token,
        "/api/v1/users",
        json!({"email": "new@example.com", "name": "New", "role": "writer", "password": "first passphrase!"}),
    )
    .await
    .expect(201);
    t.patch(
        &token,
        &format!("/api/v1/users/{id}"),
        json!({"password": new_password, "current_password": PASSWORD}),
    )
    .await
    .expect(200);
    // A token sent where it does not belong, and a bad one.
    t.send(TestRequest::get().uri(&format!("/api/v1/auth/me?access_token={token}")))
        .await;
    t.get_as("eyJhbGciOiJIUzI1NiJ9.bogus.signature", "/api/v1/auth/me")
        .await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("request"),
        "the access log was captured: {log}"
    );
    for secret in [
        PASSWORD,
        "a wrong guess!",
        "first passphrase!",
        new_password,
        &token,
        "$argon2",
        "bogus.signature",
    ] {
        assert!(!log.contains(secret), "{secret:?} appears in the log");
    }
}
