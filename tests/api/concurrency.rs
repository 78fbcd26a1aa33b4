//! Many writers and readers at once: nothing acknowledged is lost, nothing answers 5xx.

use std::time::{Duration, Instant};

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
    let deadline = Instant::now() + Duration::from_secs(3);
    let writer = |n: usize| {
        let t = &t;
        let editor = editor.clone();
        async move {
            let mut acknowledged = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                i += 1;
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
            acknowledged
        }
    };
    let reader = |n: usize| {
        let t = &t;
        async move {
            let mut reads = 0;
            while Instant::now() < deadline {
                let path = match (reads + n) % 3 {
                    0 => "/api/v1/articles?per_page=50",
                    1 => "/api/v1/articles?tag=live",
                    _ => "/api/v1/tags",
                };
                let resp = t.send(TestRequest::get().uri(path)).await;
                assert!(resp.status < 500, "a read answered {}", resp.status);
                reads += 1;
            }
            reads
        }
    };
    let writers = futures_util::future::join_all((0..8).map(writer));
    let readers = futures_util::future::join_all((0..4).map(reader));
    let (written, reads) = futures_util::future::join(writers, readers).await;
    let acknowledged: Vec<String> = written.into_iter().flatten().collect();
    assert!(
        acknowledged.len() > 50,
        "only {} writes went through",
        acknowledged.len()
    );
    assert!(reads.iter().sum::<usize>() > 50);
    for slug in &acknowledged {
        t.get(&format!("/api/v1/articles/{slug}")).await.expect(200);
    }
    let total = t.get("/api/v1/articles?tag=live").await.json()["meta"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(total as usize, acknowledged.len());
}
