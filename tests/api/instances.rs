//! Two instances on one database, as behind a load balancer: what one writes, the other
//! serves, streams and honours. On PostgreSQL the second instance learns of the first's
//! writes by notification; on SQLite (two processes on one file) by the database's
//! counter. Either way within the tests' generous deadline.

use std::time::Duration;

use actix_web::test::TestRequest;
use newsdesk::auth::Role;
use serde_json::json;

use crate::common::{self, PASSWORD, equals, eventually, slugs_of};

/// Far more than the 100 ms (cache) and 1 s (stream) the benchmarks measure.
const WITHIN: Duration = Duration::from_secs(5);

#[actix_web::test]
async fn a_second_instance_serves_streams_and_honours_what_the_first_writes() {
    let a = common::app().await;
    let b = common::app_with(a.dir.clone(), (*a.state.config).clone()).await;
    let editor = a.editor().await;

    // A token signed by one instance is accepted by the other (the secret was
    // generated once and kept in the database).
    b.get_as(&editor, "/api/v1/auth/me").await.expect(200);
    a.user("desk@example.com", Role::Editor).await;
    let signed_in = b
        .json(
            "POST",
            "/api/v1/auth/token",
            None,
            &json!({"email": "desk@example.com", "password": PASSWORD}),
        )
        .await
        .expect(200)
        .json();
    let desk = signed_in["access_token"].as_str().unwrap().to_owned();
    a.get_as(&desk, "/api/v1/auth/me").await.expect(200);

    // B keeps its front page and an article page in its cache ...
    a.article(
        &editor,
        json!({"slug": "first", "title": "First", "status": "published"}),
    )
    .await;
    let front = "/api/v1/articles?lang=en";
    eventually(WITHIN, || async {
        equals(b.slugs(front).await, vec!["first".to_owned()])
    })
    .await;
    b.get("/api/v1/articles/first").await.expect(200);
    b.get("/api/v1/articles/first").await.expect(200);
    let (_, _, mut stream) = b.stream("/api/v1/breaking/stream?lang=en", None).await;
    assert_eq!(
        stream.next(WITHIN).await.expect("a snapshot").event,
        "snapshot"
    );

    // ... and A writes: a new story, an edit, a breaking item.
    a.article(
        &editor,
        json!({"slug": "second", "title": "Second", "status": "published"}),
    )
    .await;
    a.patch(
        &editor,
        "/api/v1/articles/first",
        json!({"title": "First, corrected"}),
    )
    .await
    .expect(200);
    let item = a
        .post(&editor, "/api/v1/breaking", json!({"text": "Polls close"}))
        .await
        .expect(201)
        .json();

    eventually(WITHIN, || async {
        equals(
            b.slugs(front).await,
            vec!["second".to_owned(), "first".to_owned()],
        )
    })
    .await;
    eventually(WITHIN, || async {
        equals(
            b.get("/api/v1/articles/first").await.expect(200).json()["title"].clone(),
            json!("First, corrected"),
        )
    })
    .await;
    let event = stream
        .next(WITHIN)
        .await
        .expect("the other instance's breaking item reaches this stream");
    assert_eq!(event.event, "created", "{event:?}");
    assert_eq!(event.json()["id"], item["id"]);
}

#[actix_web::test]
async fn disabling_a_user_on_one_instance_ends_its_tokens_on_the_other_at_once() {
    let a = common::app().await;
    let b = common::app_with(a.dir.clone(), (*a.state.config).clone()).await;
    let admin = a.admin().await;
    let id = a.user("writer@example.com", Role::Writer).await;
    let token = a.token_of(id).await;
    b.get_as(&token, "/api/v1/auth/me").await.expect(200);
    a.patch(
        &admin,
        &format!("/api/v1/users/{id}"),
        json!({"disabled": true}),
    )
    .await
    .expect(200);
    b.get_as(&token, "/api/v1/auth/me")
        .await
        .problem(401, "unauthorized");
}

#[actix_web::test]
async fn views_counted_on_two_instances_add_up() {
    let a = common::app().await;
    let b = common::app_with(a.dir.clone(), (*a.state.config).clone()).await;
    let editor = a.editor().await;
    for slug in ["one", "two"] {
        a.article(
            &editor,
            json!({"slug": slug, "title": slug, "status": "published"}),
        )
        .await;
    }
    let view = |on_a: bool, slug: &'static str| {
        let (a, b) = (&a, &b);
        async move {
            let req = TestRequest::post().uri(&format!("/api/v1/articles/{slug}/views"));
            let status = if on_a {
                a.send(req).await.status
            } else {
                b.send(req).await.status
            };
            assert_eq!(status, 204);
        }
    };
    // "two" gets 2 + 2 views, "one" 3 on A only: only the sum ranks "two" first.
    for _ in 0..2 {
        view(true, "two").await;
        view(false, "two").await;
    }
    for _ in 0..3 {
        view(true, "one").await;
    }
    a.state.flush_views().unwrap();
    b.state.flush_views().unwrap();
    let ranked = eventually(WITHIN, || async {
        let ranked = b.get("/api/v1/articles/most-read").await.expect(200).json();
        equals(slugs_of(&ranked), vec!["two".to_owned(), "one".to_owned()]).map(|_| ranked)
    })
    .await;
    let views: Vec<i64> = ranked["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["views"].as_i64().unwrap())
        .collect();
    assert_eq!(views, [4, 3]);
}

#[actix_web::test]
async fn an_instance_stops_and_starts_while_the_other_serves() {
    let a = common::app().await;
    let b = common::app_with(a.dir.clone(), (*a.state.config).clone()).await;
    let editor = a.editor().await;
    a.article(
        &editor,
        json!({"slug": "before", "title": "Before", "status": "published"}),
    )
    .await;
    a.state.shutdown();
    // B goes on reading and writing alone ...
    b.get("/api/v1/articles/before").await.expect(200);
    b.article(
        &editor,
        json!({"slug": "while-down", "title": "While A was down", "status": "published"}),
    )
    .await;
    // ... and a fresh A serves everything at once, with the same tokens.
    let again = common::app_with(a.dir.clone(), (*a.state.config).clone()).await;
    again.get_as(&editor, "/api/v1/auth/me").await.expect(200);
    assert_eq!(
        again.slugs("/api/v1/articles?lang=en").await,
        ["while-down", "before"]
    );
}
