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
