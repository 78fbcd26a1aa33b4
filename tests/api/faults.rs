//! Faults operators meet: the database file moved away, a full disk. Each test makes the
//! fault for real (a renamed file; a small filesystem mounted for the test) and checks
//! what clients and monitors see, and that nothing acknowledged is lost.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common;

/// Polls `check` every 100 ms until it is true or `within` has passed.
async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_database_file_moved_away_refuses_writes_and_says_so() {
    let t = common::sqlite_app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "before", "title": "Before", "status": "published"}),
    )
    .await;
    let path = common::sqlite_path(&t.state.config);
    let aside = path.with_extension("moved");
    std::fs::rename(&path, &aside).unwrap();

    let refused = t
        .post(&editor, "/api/v1/articles", json!({"title": "Lost?"}))
        .await;
    assert!(refused.header("retry-after").is_some());
    let problem = refused.problem(503, "unavailable");
    assert!(
        problem["detail"].as_str().unwrap().contains("moved away"),
        "{problem}"
    );
    let health = t.get("/healthz").await.expect(503).json();
    assert_eq!(health["status"], "unavailable");
    assert!(
        health["writes"].as_str().unwrap().contains("moved away"),
        "{health}"
    );
    let ready = t.get("/readyz").await.expect(503).json();
    assert!(ready["database"].as_str().unwrap().contains("moved away"));
    t.get("/livez").await.expect(200);

    // Put back, writes work again, and the refused one was never half-written.
    std::fs::rename(&aside, &path).unwrap();
    t.post(&editor, "/api/v1/articles", json!({"title": "After"}))
        .await
        .expect(201);
    // Health follows once the hold after the last refused write is over (2 s).
    assert!(
        eventually(Duration::from_secs(5), || async {
            t.get("/healthz").await.status == 200
        })
        .await,
        "health did not come back"
    );
    let all = t
        .get_as(&editor, "/api/v1/articles?status=all")
        .await
        .expect(200)
        .json();
    let titles: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Before") && titles.contains(&"After"));
    assert!(!titles.contains(&"Lost?"));
}

#[actix_web::test]
async fn a_start_over_a_write_ahead_log_without_its_database_is_refused() {
    let (dir, config) = common::fresh_sqlite_config();
    let path = common::sqlite_path(&config);
    std::fs::write(wal_of(&path), b"frames of a database that was removed").unwrap();
    let err = newsdesk::http::state::AppState::open(config).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("moved or removed"), "{message}");
    assert!(!path.exists(), "no new, empty database was created");
    drop(dir);
}

/// A tmpfs of `bytes` mounted at `dir` for the test's life.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, bytes: u64) -> Option<Self> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}")])
            .arg("tmpfs")
            .arg(dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        ok.then(|| Self {
            dir: dir.to_owned(),
        })
    }

    /// Fills what is left with a file, which is returned.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.dir.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[actix_web::test]
async fn writes_come_back_when_a_full_disk_is_freed_and_health_tells_the_truth() {
    let root = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(root.path(), 8 * 1024 * 1024) else {
        // Mounting needs root (CI runs as root); say so rather than pass quietly.
        eprintln!("SKIPPED: cannot mount a small filesystem here (needs root)");
        return;
    };
    let path = root.path().join("newsdesk.db");
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let config = newsdesk::config::Config::for_database(&path);
    let t = common::app_with(dir, config).await;
    let editor = t.editor().await;
    let mut acknowledged = Vec::new();
    for i in 0..5 {
        let a = t
            .article(
                &editor,
                json!({"title": format!("Kept {i}"), "status": "published"}),
            )
            .await;
        acknowledged.push(a["slug"].as_str().unwrap().to_owned());
    }
    let filler = disk.fill();
    // Writes fail, as 503 with Retry-After, never 500; reads go on.
    let body = "Words of a long story. ".repeat(4000);
    let mut refused = false;
    for i in 0..20 {
        let resp = t
            .post(
                &editor,
                "/api/v1/articles",
                json!({"title": format!("Full {i}"), "body": body}),
            )
            .await;
        assert!(resp.status == 201 || resp.status == 503, "{}", resp.status);
        if resp.status == 503 {
            assert!(resp.header("retry-after").is_some());
            refused = true;
            break;
        }
        acknowledged.push(resp.json()["slug"].as_str().unwrap().to_owned());
    }
    assert!(refused, "the disk never filled");
    // A background job with nothing to write commits even now; it proves nothing. Nor
    // does a small write right after the refusal, whether or not it commits.
    t.state.db.write(|_| Ok(())).await.unwrap();
    let small = t
        .post(&editor, "/api/v1/tags", json!({"name": "Small while full"}))
        .await
        .status;
    assert!(small == 201 || small == 503, "{small}");
    let health = t.get("/healthz").await.expect(503).json();
    assert_ne!(health["writes"], "ok", "{health}");
    t.get("/readyz").await.expect(200);
    t.get("/api/v1/articles").await.expect(200);

    // Free a little space: writes resume within seconds, and health says so.
    std::fs::remove_file(&filler).unwrap();
    let resumed = eventually(Duration::from_secs(10), || async {
        t.post(
            &editor,
            "/api/v1/tags",
            json!({"name": format!("Back {}", rand_suffix())}),
        )
        .await
        .status
            == 201
    })
    .await;
    assert!(resumed, "writes did not come back after space was freed");
    assert!(
        eventually(Duration::from_secs(5), || async {
            t.get("/healthz").await.status == 200
        })
        .await
    );
    for slug in &acknowledged {
        t.get_as(&editor, &format!("/api/v1/articles/{slug}"))
            .await
            .expect(200);
    }
    drop(t);
    drop(disk);
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The WAL file beside the SQLite database at `db`.
fn wal_of(db: &Path) -> PathBuf {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// The WAL header's checkpoint sequence, which SQLite bumps each time the WAL starts
/// over from its first frame (0 while the file is missing or shorter than a header).
fn wal_restarts(wal: &Path) -> u32 {
    match std::fs::read(wal) {
        Ok(bytes) if bytes.len() >= 32 => u32::from_be_bytes(bytes[12..16].try_into().unwrap()),
        _ => 0,
    }
}

/// Under a steady stream of writes the WAL starts over instead of growing without end.
/// SQLite starts it over only when a write begins after every frame was copied into the
/// database, a moment the checkpointer never sees while writes keep coming.
#[actix_web::test]
async fn the_write_ahead_log_starts_over_under_a_steady_stream_of_writes() {
    use diesel::prelude::*;
    use newsdesk::schema::tags;
    let t = common::sqlite_app().await;
    let wal = wal_of(&common::sqlite_path(&t.state.config));
    let before = wal_restarts(&wal);
    let writes = std::sync::atomic::AtomicUsize::new(0);
    let largest = std::sync::atomic::AtomicU64::new(0);
    let name = "A tag with a long name, so that each write fills pages. ".repeat(8);
    // More threads that never pause than the writer takes in one group, so that a write
    // is always waiting, until the WAL has started over twice or 20,000 writes of ten
    // rows were made.
    std::thread::scope(|s| {
        for w in 0..80 {
            let (db, wal, writes, largest, name) = (&t.state.db, &wal, &writes, &largest, &name);
            s.spawn(move || {
                use std::sync::atomic::Ordering::Relaxed;
                while writes.load(Relaxed) < 20_000 && wal_restarts(wal) < before + 2 {
                    let n = writes.fetch_add(1, Relaxed);
                    let now = chrono::Utc::now().naive_utc();
                    let rows: Vec<_> = (0..10)
                        .map(|r| {
                            (
                                tags::slug.eq(format!("steady-{w}-{n}-{r}")),
                                tags::name.eq(name.clone()),
                                tags::created_at.eq(now),
                                tags::updated_at.eq(now),
                            )
                        })
                        .collect();
                    db.write_blocking(move |conn| {
                        for row in rows {
                            diesel::insert_into(tags::table).values(row).execute(conn)?;
                        }
                        Ok(())
                    })
                    .expect("a write");
                    let size = std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
                    largest.fetch_max(size, Relaxed);
                }
            });
        }
    });
    let restarts = wal_restarts(&wal) - before;
    let largest = largest.into_inner();
    assert!(
        restarts >= 2,
        "the WAL started over {restarts} times in {} writes; it reached {largest} bytes",
        writes.into_inner()
    );
    // 4,096 frames of 4 KiB (16 MiB) before a restart is asked for, plus what came in
    // the checkpointer's half second: 21-23 MB here, and 43-46 MB when the WAL started
    // over only when the checkpointer happened to catch up.
    assert!(largest < 32 << 20, "the WAL reached {largest} bytes");
}

/// Once the writes pause, the WAL is emptied within a couple of seconds: an operator
/// sees its disk space come back, and readers read the database file alone again
/// (uncached reads right after a burst of creates were about a quarter slower while
/// the copied WAL was kept for ten seconds).
#[actix_web::test]
async fn the_write_ahead_log_is_emptied_soon_after_the_writes_pause() {
    use diesel::prelude::*;
    use newsdesk::schema::tags;
    let t = common::sqlite_app().await;
    let wal = wal_of(&common::sqlite_path(&t.state.config));
    let size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    for n in 0..50 {
        let now = chrono::Utc::now().naive_utc();
        t.state
            .db
            .write_blocking(move |conn| {
                diesel::insert_into(tags::table)
                    .values((
                        tags::slug.eq(format!("pause-{n}")),
                        tags::name.eq(format!("Pause {n}")),
                        tags::created_at.eq(now),
                        tags::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .expect("a write");
    }
    assert!(size() > 0, "the writes went through the WAL");
    let started = Instant::now();
    let emptied = eventually(Duration::from_secs(5), || async { size() == 0 }).await;
    assert!(
        emptied,
        "the WAL still held {} bytes {:?} after the last write",
        size(),
        started.elapsed()
    );
    // Everything written is still there, read through the API.
    let tag = t.get("/api/v1/tags/pause-49").await.expect(200).json();
    assert_eq!(tag["name"], "Pause 49");
}
