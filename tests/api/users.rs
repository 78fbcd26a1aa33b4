//! Staff accounts: who manages whom.

use newsdesk::auth::Role;
use serde_json::json;

use crate::common::{self, PASSWORD, Resp};

#[actix_web::test]
async fn a_writer_cannot_use_admin_routes() {
    let t = common::app().await;
    let writer = t.writer().await;
    t.get_as(&writer, "/api/v1/users")
        .await
        .problem(403, "forbidden");
    t.post(
        &writer,
        "/api/v1/users",
        json!({"email": "x@example.com", "name": "X", "role": "writer", "password": "long enough pw"}),
    )
    .await
    .problem(403, "forbidden");
    t.delete(&writer, "/api/v1/users/1")
        .await
        .problem(403, "forbidden");
    let editor = t.editor().await;
    t.get_as(&editor, "/api/v1/users")
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn an_admin_manages_accounts() {
    let t = common::app().await;
    let admin = t.admin().await;
    let created = t
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "Reporter@Example.com", "name": "Nadia", "role": "writer", "password": "a long passphrase"}),
        )
        .await
        .expect(201);
    let user = created.json();
    assert_eq!(user["email"], "reporter@example.com");
    assert_eq!(user["role"], "writer");
    assert_eq!(user["disabled"], false);
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    let id = user["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location").unwrap(),
        format!("/api/v1/users/{id}")
    );

    let list = t
        .get_as(&admin, "/api/v1/users?role=writer")
        .await
        .expect(200)
        .json();
    assert_eq!(list["meta"]["total"], 1);
    assert_eq!(list["data"][0]["id"], id);

    let changed = t
        .patch(
            &admin,
            &format!("/api/v1/users/{id}"),
            json!({"role": "editor", "name": "Nadia K."}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(changed["role"], "editor");
    assert_eq!(changed["name"], "Nadia K.");

    t.delete(&admin, &format!("/api/v1/users/{id}"))
        .await
        .expect(204);
    t.get_as(&admin, &format!("/api/v1/users/{id}"))
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn an_unknown_role_is_a_validation_error() {
    let t = common::app().await;
    let admin = t.admin().await;
    let p = t
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "bad", "name": "", "role": "overlord", "password": "short"}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(fields, ["email", "name", "password", "role"]);
}

#[actix_web::test]
async fn emails_are_unique() {
    let t = common::app().await;
    let admin = t.admin().await;
    t.user("taken@example.com", Role::Writer).await;
    t.post(
        &admin,
        "/api/v1/users",
        json!({"email": "TAKEN@example.com", "name": "Dup", "role": "writer", "password": "a long passphrase"}),
    )
    .await
    .problem(409, "email_taken");
}

#[actix_web::test]
async fn anyone_changes_their_own_name_and_password() {
    let t = common::app().await;
    let id = t.user("writer@example.com", Role::Writer).await;
    let token = t.token_of(id).await;
    let path = format!("/api/v1/users/{id}");
    let me = t
        .patch(&token, &path, json!({"name": "Sami"}))
        .await
        .expect(200)
        .json();
    assert_eq!(me["name"], "Sami");
    let p = t
        .patch(&token, &path, json!({"password": "a brand new passphrase"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), ["current_password"]);
    t.patch(
        &token,
        &path,
        json!({"password": "a brand new passphrase", "current_password": "wrong password"}),
    )
    .await
    .problem(422, "validation_failed");
    t.patch(
        &token,
        &path,
        json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn only_an_admin_changes_a_role() {
    let t = common::app().await;
    let id = t.user("writer@example.com", Role::Writer).await;
    let token = t.token_of(id).await;
    let path = format!("/api/v1/users/{id}");
    t.patch(&token, &path, json!({"role": "admin"}))
        .await
        .problem(403, "forbidden");
    t.patch(&token, &path, json!({"disabled": false}))
        .await
        .problem(403, "forbidden");
    let other = t.user("other@example.com", Role::Writer).await;
    t.patch(
        &token,
        &format!("/api/v1/users/{other}"),
        json!({"name": "X"}),
    )
    .await
    .problem(403, "forbidden");
    t.get_as(&token, &format!("/api/v1/users/{other}"))
        .await
        .problem(403, "forbidden");
    let me = t.get_as(&token, &path).await.expect(200).json();
    assert_eq!(me["role"], "writer");
}

#[actix_web::test]
async fn the_last_active_admin_cannot_be_removed() {
    let t = common::app().await;
    let id = t.user("chief@example.com", Role::Admin).await;
    let token = t.token_of(id).await;
    let path = format!("/api/v1/users/{id}");
    t.patch(&token, &path, json!({"disabled": true}))
        .await
        .problem(409, "last_admin");
    t.patch(&token, &path, json!({"role": "editor"}))
        .await
        .problem(409, "last_admin");
    t.delete(&token, &path).await.problem(409, "last_admin");
    // With a second admin, the first may step down.
    t.user("deputy@example.com", Role::Admin).await;
    t.patch(&token, &path, json!({"role": "editor"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn user_ids_that_are_not_numbers_are_404() {
    let t = common::app().await;
    let admin = t.admin().await;
    t.get_as(&admin, "/api/v1/users/someone")
        .await
        .problem(404, "not_found");
}
