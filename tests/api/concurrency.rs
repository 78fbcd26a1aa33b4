//! Many writers and readers at once: nothing acknowledged is lost, nothing answers 5xx.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common;

#[actix_web::test]
async fn eight_writers_and_four_readers_lose_nothing() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Live"}))
        .await
        .expect(201);
    // A fixed amount of work, not a time budget: the suite shares the machine.
    const WRITES_EACH: usize = 15;
    let writing = std::cell::Cell::new(8usize);
    let writer = |n: usize| {
        let t = &t;
        let writing = &writing;
        let editor = editor.clone();
        async move {
            let mut acknowledged = Vec::new();
            for i in 1..=WRITES_EACH {
                let resp = t
                    .post(
                        &editor,
                        "/api/v1/articles",
                        json!({"title": format!("Writer {n} story {i}"), "tags": ["live"], "status": "published",
                               "body": "Words ".repeat(200)}),
                    )
                    .await;
                assert!(resp.status < 500, "a write answered {}", resp.status);
                if resp.status == 201 {
                    acknowledged.push(resp.json()["slug"].as_str().unwrap().to_owned());
                }
            }
            writing.set(writing.get() - 1);
            acknowledged
        }
    };
    let reader = |n: usize| {
        let t = &t;
        let writing = &writing;
        async move {
            let mut reads = 0;
            while writing.get() > 0 || reads < 10 {
                let path = match (reads + n) % 3 {
                    0 => "/api/v1/articles?per_page=50",
                    1 => "/api/v1/articles?tag=live",
                    _ => "/api/v1/tags",
                };
                let resp = t.send(TestRequest::get().uri(path)).await;
                assert!(resp.status < 500, "a read answered {}", resp.status);
                reads += 1;
                // A read served from memory completes without waiting: let the writers run.
                tokio::task::yield_now().await;
            }
            reads
        }
    };
    let writers = futures_util::future::join_all((0..8).map(writer));
    let readers = futures_util::future::join_all((0..4).map(reader));
    let (written, reads) = futures_util::future::join(writers, readers).await;
    let acknowledged: Vec<String> = written.into_iter().flatten().collect();
    assert_eq!(
        acknowledged.len(),
        8 * WRITES_EACH,
        "every write was acknowledged"
    );
    assert!(reads.iter().all(|r| *r >= 10));
    for slug in &acknowledged {
        t.get(&format!("/api/v1/articles/{slug}")).await.expect(200);
    }
    let total = t.get("/api/v1/articles?tag=live").await.json()["meta"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(total as usize, acknowledged.len());
}

/// Creates sent together, some refused (an unknown tag, a slug another of them takes):
/// each answer is the create's own, and the stories kept are exactly those answered
/// 201, each once, in every list and count. The server writes such a group in one
/// transaction, and runs it again if one of them fails.
#[actix_web::test]
async fn creates_sent_together_keep_exactly_those_answered_201() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Wire"}))
        .await
        .expect(201);
    let mut accepted = Vec::new();
    for round in 0..6 {
        // Twelve creates: three name a tag that does not exist, two pairs share a slug,
        // five stand alone.
        let bodies: Vec<(serde_json::Value, &str)> = (0..12)
            .map(|i| {
                let title = format!("Round {round} story {i}");
                match i {
                    2 | 6 | 10 => (
                        json!({"title": title, "tags": ["wire", "no-such-tag"], "status": "published"}),
                        "unknown tag",
                    ),
                    3 | 4 => (
                        json!({"title": title, "slug": format!("shared-a-{round}"), "tags": ["wire"], "status": "published"}),
                        "shared",
                    ),
                    7 | 8 => (
                        json!({"title": title, "slug": format!("shared-b-{round}"), "tags": ["wire"], "status": "published"}),
                        "shared",
                    ),
                    _ => (
                        json!({"title": title, "tags": ["wire"], "status": "published", "body": "Words ".repeat(50)}),
                        "alone",
                    ),
                }
            })
            .collect();
        let answers = futures_util::future::join_all(
            bodies
                .iter()
                .map(|(body, _)| t.post(&editor, "/api/v1/articles", body.clone())),
        )
        .await;
        let mut shared_wins = 0;
        for ((body, kind), resp) in bodies.iter().zip(answers) {
            match *kind {
                "unknown tag" => {
                    let problem = resp.problem(422, "validation_failed");
                    assert_eq!(problem["errors"][0]["field"], "tags[1]", "{problem}");
                }
                "shared" if resp.status == 409 => {
                    let problem = resp.problem(409, "slug_taken");
                    assert_eq!(problem["errors"][0]["field"], "slug");
                }
                _ => {
                    assert_eq!(resp.status, 201, "{kind}: {}", resp.text());
                    let story = resp.json();
                    assert_eq!(story["title"], body["title"]);
                    if *kind == "shared" {
                        shared_wins += 1;
                        assert_eq!(story["slug"], body["slug"]);
                    }
                    accepted.push(story["slug"].as_str().unwrap().to_owned());
                }
            }
        }
        assert_eq!(
            shared_wins, 2,
            "round {round}: one create of each shared slug wins"
        );
    }
    assert_eq!(accepted.len(), 6 * 7);
    for slug in &accepted {
        let story = t
            .get(&format!("/api/v1/articles/{slug}"))
            .await
            .expect(200)
            .json();
        assert_eq!(story["tags"][0]["slug"], "wire");
    }
    let mut listed: Vec<String> = Vec::new();
    let mut page = 1;
    loop {
        let list = t
            .get(&format!(
                "/api/v1/articles?tag=wire&per_page=20&page={page}"
            ))
            .await
            .expect(200)
            .json();
        assert_eq!(list["meta"]["total"], accepted.len());
        let data = list["data"].as_array().unwrap();
        if data.is_empty() {
            break;
        }
        listed.extend(data.iter().map(|a| a["slug"].as_str().unwrap().to_owned()));
        page += 1;
    }
    listed.sort();
    accepted.sort();
    assert_eq!(
        listed, accepted,
        "each accepted story listed once, nothing else"
    );
    let tag = t.get("/api/v1/tags/wire").await.expect(200).json();
    assert_eq!(tag["article_count"], accepted.len());
}
