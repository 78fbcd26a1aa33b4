//! Online backup: a consistent copy of a live database, taken while writes go on, holds
//! every story acknowledged before it started and serves the same content.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::Connection;
use newsdesk::db::sqlite;
use newsdesk::seed;
use serde_json::json;

use crate::common;

/// Articles loaded first, so that the copy takes long enough for writes to land while
/// it runs.
const CORPUS: usize = 1500;
/// Stories written before the backup is asked to start.
const LEAD: usize = 5;
/// Copies attempted before giving up on seeing a write land during one.
const ATTEMPTS: usize = 5;

/// One acknowledged create, and where it fell relative to the copy.
struct Acked {
    slug: String,
    /// Acknowledged before the backup thread said it was starting.
    before_start: bool,
    /// Sent after the backup started and acknowledged before it returned.
    during: bool,
}

#[actix_web::test]
async fn a_backup_taken_while_writing_holds_every_story_acknowledged_before_it() {
    let t = common::sqlite_app().await;
    let editor = t.editor().await;
    let db = t.state.db.clone();
    newsdesk::db::run_blocking(move || seed::bulk::seed(&db, CORPUS, None))
        .await
        .unwrap();
    let source = t.state.db.path().unwrap().to_string_lossy().into_owned();
    let mut written = 0;
    let (copy, acked) = 'attempt: {
        for attempt in 0..ATTEMPTS {
            let copy = t.dir.path().join(format!("copy-{attempt}.db"));
            let started = Arc::new(AtomicBool::new(false));
            let done = Arc::new(AtomicBool::new(false));
            let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
            let backup = {
                let (source, target) = (source.clone(), copy.clone());
                let (started, done) = (started.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut conn = diesel::SqliteConnection::establish(&source).unwrap();
                    sqlite::ConnectionSetup::apply(&mut conn).unwrap();
                    wait_for_go.recv().unwrap();
                    started.store(true, Ordering::SeqCst);
                    let result = sqlite::backup_into(&mut conn, &target);
                    done.store(true, Ordering::SeqCst);
                    result.unwrap();
                })
            };
            // Write, start the copy while writing goes on, stop once it has returned.
            let mut acked = Vec::new();
            loop {
                if acked.len() == LEAD {
                    go.send(()).unwrap();
                }
                let sent_after_start = started.load(Ordering::SeqCst);
                let slug = t
                    .article(
                        &editor,
                        json!({"title": format!("Story {written}"), "status": "published"}),
                    )
                    .await["slug"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                written += 1;
                acked.push(Acked {
                    slug,
                    before_start: !started.load(Ordering::SeqCst),
                    during: sent_after_start && !done.load(Ordering::SeqCst),
                });
                if acked.len() > LEAD && backup.is_finished() {
                    break;
                }
            }
            backup.join().unwrap();
            if acked.iter().any(|a| a.during) {
                break 'attempt (copy, acked);
            }
        }
        panic!("no write landed during any of {ATTEMPTS} copies");
    };
    let before = acked.iter().filter(|a| a.before_start).count();
    assert!(before >= LEAD, "the copy started after the lead writes");

    // Refused rather than overwritten.
    let mut conn = diesel::SqliteConnection::establish(&source).unwrap();
    assert!(sqlite::backup_into(&mut conn, &copy).is_err());

    let mut check = diesel::SqliteConnection::establish(&copy.to_string_lossy()).unwrap();
    assert_eq!(sqlite::integrity_check(&mut check).unwrap(), "ok");
    // The copy opens as a newsdesk database and holds a consistent prefix of the writes.
    let config = newsdesk::config::Config::for_database(copy);
    let restored = common::app_with(t.dir.clone(), config).await;
    let total = |list: serde_json::Value| list["meta"]["total"].as_u64().unwrap() as usize;
    let n = total(restored.get("/api/v1/articles").await.expect(200).json());
    let (first, last) = (written - acked.len(), written);
    assert!(
        (CORPUS + first + before..=CORPUS + last).contains(&n),
        "the copy holds {n} articles: between {} and {}",
        CORPUS + first + before,
        CORPUS + last
    );
    let mut in_copy = Vec::new();
    for a in &acked {
        let copied = restored.get(&format!("/api/v1/articles/{}", a.slug)).await;
        if a.before_start {
            assert_eq!(copied.status, 200, "{} was acknowledged first", a.slug);
        }
        in_copy.push(copied.status == 200);
        if copied.status == 200 {
            let live = t
                .get(&format!("/api/v1/articles/{}", a.slug))
                .await
                .expect(200);
            assert_eq!(copied.json(), live.json(), "{}", a.slug);
        }
    }
    assert!(
        in_copy.windows(2).all(|w| w[0] || !w[1]),
        "the copy holds a prefix of the writes: {in_copy:?}"
    );
}
