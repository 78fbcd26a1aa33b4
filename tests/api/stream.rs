//! The live breaking stream: Server-Sent Events in order, resumable, capped.

use std::time::Duration;

use serde_json::json;

use crate::common;

const SOON: Duration = Duration::from_secs(3);

#[actix_web::test]
async fn clients_get_a_snapshot_then_every_change_in_order() {
    let t = common::app().await;
    let editor = t.editor().await;
    let first = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Polls close", "priority": 5}),
        )
        .await
        .expect(201)
        .json();
    let (status, headers, mut stream) = t.stream("/api/v1/breaking/stream?lang=en", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "text/event-stream");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    let snapshot = stream.next(SOON).await.expect("a snapshot first");
    assert_eq!(snapshot.event, "snapshot");
    let items = snapshot.json();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["id"], first["id"]);
    let mut last_id: i64 = snapshot
        .id
        .expect("the snapshot has an id")
        .parse()
        .unwrap();

    let mut expect = |kind: &'static str, event: common::SseEvent| {
        assert_eq!(event.event, kind, "{event:?}");
        let id: i64 = event
            .id
            .as_deref()
            .expect("events have ids")
            .parse()
            .unwrap();
        assert!(id > last_id, "ids increase: {id} after {last_id}");
        last_id = id;
        event.json()
    };
    let created = t
        .post(&editor, "/api/v1/breaking", json!({"text": "Count begins"}))
        .await
        .expect(201)
        .json();
    let id = created["id"].clone();
    // Another language's item is not for this stream.
    t.post(
        &editor,
        "/api/v1/breaking",
        json!({"text": "بدء الفرز", "language": "ar"}),
    )
    .await
    .expect(201);
    let data = expect("created", stream.next(SOON).await.expect("created"));
    assert_eq!(
        (data["id"].clone(), data["text"].clone()),
        (id.clone(), json!("Count begins"))
    );
    t.patch(
        &editor,
        &format!("/api/v1/breaking/{id}"),
        json!({"text": "Count under way"}),
    )
    .await
    .expect(200);
    let data = expect("updated", stream.next(SOON).await.expect("updated"));
    assert_eq!(data["text"], "Count under way");
    t.delete(&editor, &format!("/api/v1/breaking/{id}"))
        .await
        .expect(204);
    let data = expect("deleted", stream.next(SOON).await.expect("deleted"));
    assert_eq!(data, json!({"id": id}));

    // Scheduled items arrive when they go live; expiry is pushed at its time.
    let scheduled = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Results expected",
            "published_at": common::in_seconds(1), "expires_at": common::in_seconds(2)}),
        )
        .await
        .expect(201)
        .json();
    let data = expect("created", stream.next(SOON).await.expect("went live"));
    assert_eq!(data["id"], scheduled["id"]);
    let data = expect("expired", stream.next(SOON).await.expect("expired"));
    assert_eq!(data["id"], scheduled["id"]);
    // Nothing else is pending: the Arabic item never came.
    assert!(stream.next(Duration::from_millis(300)).await.is_none());
}

#[actix_web::test]
async fn a_reconnect_with_last_event_id_resumes_without_gaps() {
    let t = common::app().await;
    let editor = t.editor().await;
    let (_, _, mut stream) = t.stream("/api/v1/breaking/stream", None).await;
    let snapshot = stream.next(SOON).await.unwrap();
    t.post(&editor, "/api/v1/breaking", json!({"text": "First"}))
        .await
        .expect(201);
    let seen = stream.next(SOON).await.unwrap();
    assert_eq!(seen.event, "created");
    let last = seen.id.clone().unwrap();
    drop(stream);

    // While the client is away.
    let second = t
        .post(&editor, "/api/v1/breaking", json!({"text": "Second"}))
        .await
        .expect(201)
        .json();
    t.patch(
        &editor,
        &format!("/api/v1/breaking/{}", second["id"]),
        json!({"priority": 9}),
    )
    .await
    .expect(200);

    let (status, _, mut resumed) = t.stream("/api/v1/breaking/stream", Some(&last)).await;
    assert_eq!(status, 200);
    let again = resumed.next(SOON).await.unwrap();
    assert_eq!(again.event, "snapshot");
    assert!(
        again.id.is_none(),
        "a resumed snapshot keeps the client's last id"
    );
    assert_eq!(again.json().as_array().unwrap().len(), 2);
    let missed: Vec<(String, String)> = vec![
        resumed.next(SOON).await.unwrap(),
        resumed.next(SOON).await.unwrap(),
    ]
    .into_iter()
    .map(|e| {
        let text = e.json()["text"].as_str().unwrap().to_owned();
        (e.event, text)
    })
    .collect();
    assert_eq!(
        missed,
        [
            ("created".to_owned(), "Second".to_owned()),
            ("updated".to_owned(), "Second".to_owned())
        ]
    );
    // And live again.
    t.post(&editor, "/api/v1/breaking", json!({"text": "Third"}))
        .await
        .expect(201);
    assert_eq!(resumed.next(SOON).await.unwrap().json()["text"], "Third");

    // An id this server never issued gets a fresh snapshot with an id.
    let (_, _, mut fresh) = t.stream("/api/v1/breaking/stream", Some("999999")).await;
    let snap = fresh.next(SOON).await.unwrap();
    assert_eq!(snap.event, "snapshot");
    assert!(snap.id.is_some());
    assert_eq!(snap.json().as_array().unwrap().len(), 3);
    let _ = snapshot;
}

#[actix_web::test]
async fn streams_are_capped_and_bad_parameters_refused() {
    let t = common::app_configured(|c| c.stream_max_connections = 1).await;
    let (status, _, first) = t.stream("/api/v1/breaking/stream", None).await;
    assert_eq!(status, 200);
    let (status, headers, _) = t.stream("/api/v1/breaking/stream", None).await;
    assert_eq!(status, 503);
    assert!(headers.get("retry-after").is_some());
    drop(first);
    let (status, _, _) = t.stream("/api/v1/breaking/stream", None).await;
    assert_eq!(status, 200, "a closed stream frees its slot");
    t.get("/api/v1/breaking/stream?lang=xx")
        .await
        .problem(400, "bad_request");
    t.get("/api/v1/breaking/stream?page=2")
        .await
        .problem(400, "bad_request");
}
