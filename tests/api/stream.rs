//! The live breaking stream: Server-Sent Events in order, resumable, capped.

use std::time::Duration;

use actix_web::HttpServer;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::test as atest;
use actix_web::web::Bytes;
use newsdesk::domain::breaking_events;
use newsdesk::http::state::AppState;
use serde_json::{Value, json};

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
    let data = expect(
        "created",
        stream.next(common::due_by(1)).await.expect("went live"),
    );
    assert_eq!(data["id"], scheduled["id"]);
    let data = expect(
        "expired",
        stream.next(common::due_by(2)).await.expect("expired"),
    );
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

/// The newest event id in the log.
async fn latest_event_id<S, B>(t: &common::TestApp<S>) -> i32
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    t.state
        .db
        .read(breaking_events::latest_id)
        .await
        .expect("the log")
}

/// Every event a stream opened with `Last-Event-ID: last` sends before it goes quiet.
async fn events_after<S, B>(t: &common::TestApp<S>, path: &str, last: &str) -> Vec<common::SseEvent>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, _, mut stream) = t.stream(path, Some(last)).await;
    assert_eq!(status, 200);
    let mut events = Vec::new();
    while let Some(event) = stream.next(Duration::from_millis(300)).await {
        events.push(event);
    }
    assert_eq!(events.first().map(|e| e.event.as_str()), Some("snapshot"));
    events
}

/// Every payload the stored event log holds.
async fn stored_payloads<S, B>(t: &common::TestApp<S>) -> Vec<String>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    use diesel::prelude::*;
    use newsdesk::schema::breaking_events as e;
    t.state
        .db
        .read(|conn| Ok(e::table.select(e::payload).load::<String>(conn)?))
        .await
        .unwrap()
}

// OWASP API3:2023 (data exposure): a deleted item's text is never served again.
#[actix_web::test]
async fn a_deleted_items_text_is_never_replayed_nor_kept_in_the_log() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/breaking", json!({"text": "Polls open"}))
        .await
        .expect(201);
    let mistake = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Posted by mistake: the source's name"}),
        )
        .await
        .expect(201)
        .json();
    let id = mistake["id"].clone();
    let had_it = latest_event_id(&t).await;
    t.patch(
        &editor,
        &format!("/api/v1/breaking/{id}"),
        json!({"priority": 3}),
    )
    .await
    .expect(200);
    t.delete(&editor, &format!("/api/v1/breaking/{id}"))
        .await
        .expect(204);

    for last in 0..=latest_event_id(&t).await {
        for event in events_after(&t, "/api/v1/breaking/stream", &last.to_string()).await {
            assert!(
                !event.data.contains("by mistake"),
                "resuming after {last} sent {event:?}"
            );
        }
    }
    // A client that had the item still learns that it went.
    let events = events_after(&t, "/api/v1/breaking/stream", &had_it.to_string()).await;
    let kinds: Vec<(&str, Value)> = events[1..]
        .iter()
        .map(|e| (e.event.as_str(), e.json()))
        .collect();
    assert_eq!(kinds, [("deleted", json!({"id": id}))]);
    assert!(
        stored_payloads(&t)
            .await
            .iter()
            .all(|p| !p.contains("by mistake")),
        "the log keeps no copy of the deleted text"
    );
}

// OWASP API3:2023 (data exposure): a correction or a withdrawal reaches replays too.
#[actix_web::test]
async fn replays_carry_the_current_text_and_nothing_that_is_not_live() {
    let t = common::app().await;
    let editor = t.editor().await;
    let fixed = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Minister resigns"}),
        )
        .await
        .expect(201)
        .json();
    t.patch(
        &editor,
        &format!("/api/v1/breaking/{}", fixed["id"]),
        json!({"text": "Minister stays"}),
    )
    .await
    .expect(200);
    // Live, then moved back under embargo with new wording.
    let withdrawn = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Talks collapse"}),
        )
        .await
        .expect(201)
        .json();
    t.patch(
        &editor,
        &format!("/api/v1/breaking/{}", withdrawn["id"]),
        json!({"text": "Embargoed: talks resume", "published_at": common::in_seconds(3600)}),
    )
    .await
    .expect(200);
    t.post(
        &editor,
        "/api/v1/breaking",
        json!({"text": "Scheduled: results at noon", "published_at": common::in_seconds(3600)}),
    )
    .await
    .expect(201);
    t.post(
        &editor,
        "/api/v1/breaking",
        json!({"text": "خبر عاجل", "language": "ar"}),
    )
    .await
    .expect(201);

    for last in 0..latest_event_id(&t).await {
        let events = events_after(&t, "/api/v1/breaking/stream", &last.to_string()).await;
        for event in &events {
            for gone in ["resigns", "Talks collapse", "Embargoed", "Scheduled"] {
                assert!(
                    !event.data.contains(gone),
                    "resuming after {last} sent {event:?}"
                );
            }
            if event.event != "snapshot" && event.json()["id"] == fixed["id"] {
                assert_eq!(event.json()["text"], "Minister stays", "{event:?}");
            }
        }
    }
    // The language filter holds on replay.
    let events = events_after(&t, "/api/v1/breaking/stream?lang=ar", "0").await;
    assert!(events.len() > 1, "{events:?}");
    for event in &events[1..] {
        assert_eq!(event.json()["language"], "ar", "{event:?}");
    }
    let stored = stored_payloads(&t).await;
    assert!(
        stored
            .iter()
            .all(|p| !p.contains("resigns") && !p.contains("Talks collapse")),
        "{stored:?}"
    );
}

// OWASP API4:2023 (resource consumption): a resume sends at most REPLAY_MAX_EVENTS events.
#[actix_web::test]
async fn a_client_further_behind_than_the_replay_cap_gets_a_fresh_snapshot() {
    let t = common::app().await;
    let editor = t.editor().await;
    let item = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Storm warning"}),
        )
        .await
        .expect(201)
        .json();
    let behind = latest_event_id(&t).await;
    for priority in 0..=breaking_events::REPLAY_MAX_EVENTS {
        t.patch(
            &editor,
            &format!("/api/v1/breaking/{}", item["id"]),
            json!({"priority": priority}),
        )
        .await
        .expect(200);
    }
    let latest = latest_event_id(&t).await;
    let events = events_after(&t, "/api/v1/breaking/stream", &behind.to_string()).await;
    assert_eq!(events.len(), 1, "a snapshot and no replay");
    assert_eq!(events[0].id, Some(latest.to_string()), "a fresh snapshot");
    assert_eq!(
        events[0].json()[0]["priority"],
        breaking_events::REPLAY_MAX_EVENTS
    );
    // Within the cap, the client resumes.
    let events = events_after(&t, "/api/v1/breaking/stream", &(latest - 3).to_string()).await;
    assert_eq!(events[0].id, None, "a resumed snapshot");
    assert_eq!(events.len(), 4);
}

// OWASP API4:2023 (resource consumption): a resume reaches back REPLAY_MAX_AGE_MINUTES at most.
#[actix_web::test]
async fn a_client_further_behind_than_the_replay_age_gets_a_fresh_snapshot() {
    use diesel::prelude::*;
    use newsdesk::domain::time::Timestamp;
    use newsdesk::schema::breaking_events as e;
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/breaking", json!({"text": "First"}))
        .await
        .expect(201);
    let behind = latest_event_id(&t).await;
    t.post(&editor, "/api/v1/breaking", json!({"text": "Second"}))
        .await
        .expect(201);
    let old = latest_event_id(&t).await;
    // Everything so far happened longer ago than a replay reaches.
    let minutes = breaking_events::REPLAY_MAX_AGE_MINUTES + 1;
    let long_ago = Timestamp::from_unix(Timestamp::now().unix() - minutes * 60).unwrap();
    t.state
        .db
        .write(move |conn| {
            diesel::update(e::table)
                .set(e::created_at.eq(long_ago.0))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    t.post(&editor, "/api/v1/breaking", json!({"text": "Third"}))
        .await
        .expect(201);
    let latest = latest_event_id(&t).await;

    for last in [behind.to_string(), "0".into()] {
        let events = events_after(&t, "/api/v1/breaking/stream", &last).await;
        assert_eq!(events.len(), 1, "after {last}: a snapshot and no replay");
        assert_eq!(events[0].id, Some(latest.to_string()), "a fresh snapshot");
        assert_eq!(events[0].json().as_array().unwrap().len(), 3);
    }
    // Missing only recent events, the client resumes.
    let events = events_after(&t, "/api/v1/breaking/stream", &old.to_string()).await;
    assert_eq!(events[0].id, None);
    assert_eq!(events[1..].len(), 1);
    assert_eq!(events[1].json()["text"], "Third");
    // Ids that are not ours (malformed, negative, from the future) get a fresh snapshot too.
    for last in ["abc", "-1", "99999999999", &(latest + 1).to_string()] {
        let events = events_after(&t, "/api/v1/breaking/stream", last).await;
        assert_eq!(events.len(), 1, "after {last}");
        assert_eq!(events[0].id, Some(latest.to_string()));
    }
}

/// Opens a stream as a client at `peer`; the response is the open stream (or the refusal).
async fn open_from<S, B>(t: &common::TestApp<S>, peer: &str) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = atest::TestRequest::get()
        .uri("/api/v1/breaking/stream")
        .peer_addr(peer.parse().expect("a socket address"))
        .to_request();
    atest::call_service(&t.svc, req).await
}

/// Asserts a refusal that also ends its connection; returns its problem body.
async fn refused<B: MessageBody>(res: ServiceResponse<B>, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(res.headers().get("connection").unwrap(), "close");
    assert_eq!(
        res.response().head().connection_type(),
        ConnectionType::Close,
        "the connection is closed, not kept alive"
    );
    let body = atest::read_body(res).await;
    serde_json::from_slice(&body).expect("a problem body")
}

// OWASP API4:2023 (resource consumption): one address cannot take every stream.
#[actix_web::test]
async fn one_address_gets_streams_per_address_and_no_more() {
    let t = common::app_configured(|c| {
        c.streams_per_address = 2;
        c.stream_max_connections = 3;
    })
    .await;
    let first = open_from(&t, "203.0.113.7:40001").await;
    assert_eq!(first.status(), 200);
    let second = open_from(&t, "203.0.113.7:40002").await;
    assert_eq!(second.status(), 200);
    let problem = refused(open_from(&t, "203.0.113.7:40003").await, 429).await;
    assert_eq!(problem["code"], "rate_limited");
    // Another address still gets one, until the instance's cap.
    let other = open_from(&t, "198.51.100.8:40001").await;
    assert_eq!(other.status(), 200);
    let problem = refused(open_from(&t, "192.0.2.1:40001").await, 503).await;
    assert_eq!(problem["code"], "unavailable");
    // A closed stream gives its address its slot back.
    drop(first);
    assert_eq!(open_from(&t, "203.0.113.7:40004").await.status(), 200);
    drop((second, other));
}

// OWASP API4:2023 (resource consumption): a refused stream does not keep its connection.
#[actix_web::test]
async fn a_refused_stream_closes_its_tcp_connection() {
    use std::io::{Read, Write};
    let (_dir, mut config) = common::fresh_config();
    config.streams_per_address = 1;
    let state = AppState::open(config).expect("the app state");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (handles, handle) = std::sync::mpsc::channel();
    let served = state.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let json = Bytes::from(newsdesk::openapi::document_json());
            let server = HttpServer::new(move || newsdesk::http::app(served.clone(), json.clone()))
                .workers(1)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
            handles.send(server.handle()).unwrap();
            let _ = server.await;
        })
    });
    let server = handle.recv().unwrap();
    let request = format!("GET /api/v1/breaking/stream HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut open = std::net::TcpStream::connect(addr).unwrap();
    open.write_all(request.as_bytes()).unwrap();
    open.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = [0u8; 12];
    open.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");

    let mut refused = std::net::TcpStream::connect(addr).unwrap();
    refused.write_all(request.as_bytes()).unwrap();
    refused
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut answer = Vec::new();
    let ended = refused.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 429"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    assert!(ended.is_ok(), "the server closed the connection: {ended:?}");

    state.hub.close();
    drop(open);
    server.stop(false).await;
}

#[actix_web::test]
async fn the_stream_path_is_never_taken_for_an_item() {
    let t = common::app().await;
    let editor = t.editor().await;
    for method in ["PATCH", "DELETE"] {
        let resp = t
            .json(
                method,
                "/api/v1/breaking/stream",
                Some(&editor),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(resp.status, 405, "{method}");
        let allow = resp.header("allow").unwrap_or_default();
        assert!(allow.contains("GET"), "{method}: Allow {allow:?}");
    }
}
