//! The shared fixture: an app over a fresh database, staff tokens, request helpers.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::test as atest;
use actix_web::web::Bytes;
use newsdesk::auth::Role;
use newsdesk::config::Config;
use newsdesk::domain::time::Timestamp;
use newsdesk::domain::users::{self, NewUser};
use newsdesk::http::cache::CacheStats;
use newsdesk::http::state::AppState;
use serde_json::Value;

/// What the representation cache did for some requests: differences of its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUse {
    pub hits: u64,
    pub misses: u64,
    pub stores: u64,
}

/// One request answered from the cache.
pub const HIT: CacheUse = CacheUse {
    hits: 1,
    misses: 0,
    stores: 0,
};
/// One request the cache could not answer, computed and then kept.
pub const MISS: CacheUse = CacheUse {
    hits: 0,
    misses: 1,
    stores: 1,
};
/// Requests that never reached the cache.
pub const UNTOUCHED: CacheUse = CacheUse {
    hits: 0,
    misses: 0,
    stores: 0,
};

/// The password of every account the fixture creates.
pub const PASSWORD: &str = "correct horse battery staple";

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| newsdesk::auth::password::hash(PASSWORD).unwrap())
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts a problem+json error with this status and code; returns the problem.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Value {
        let resp = self.expect(status);
        assert_eq!(
            resp.header("content-type").as_deref(),
            Some("application/problem+json"),
            "errors are problem+json"
        );
        let p = resp.json();
        assert_eq!(p["code"], code, "problem: {p}");
        assert_eq!(p["status"], status);
        assert!(p["type"].is_string() && p["title"].is_string() && p["detail"].is_string());
        p
    }

    /// The fields named in a problem's `errors`.
    pub fn error_fields(problem: &Value) -> Vec<String> {
        problem["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An app over a fresh database in a temporary directory.
pub struct TestApp<S> {
    pub svc: S,
    pub state: AppState,
    pub dir: Arc<tempfile::TempDir>,
}

/// The PostgreSQL server the tests run on, when `NEWSDESK_TEST_DATABASE_URL` names one
/// (a URL whose user may create databases); unset, every test runs on SQLite.
pub fn test_server() -> Option<String> {
    std::env::var("NEWSDESK_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// True when the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    test_server().is_some()
}

/// A fresh temporary directory and a configuration over a fresh database: a file in
/// the directory, or a new PostgreSQL database (dropped when the directory's last
/// holder is done with it).
pub fn fresh_config() -> (Arc<tempfile::TempDir>, Config) {
    match test_server() {
        Some(server) => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = pg::create_database(&server, dir.path());
            let mut config = Config::for_database_url(&url).expect("a PostgreSQL test URL");
            // Uploaded files go to the test's own directory, as they do on SQLite.
            config.media_store = newsdesk::files::StoreConfig::Local(dir.path().join("media"));
            (Arc::new(dir), config)
        }
        None => fresh_sqlite_config(),
    }
}

/// A fresh directory and a configuration over a SQLite file in it, whichever backend
/// the suite runs on: for the tests of the SQLite file itself (backups, a moved file,
/// a full disk).
pub fn fresh_sqlite_config() -> (Arc<tempfile::TempDir>, Config) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = Config::for_database(dir.path().join("newsdesk.db"));
    (Arc::new(dir), config)
}

/// The SQLite file of a test app (for tests of the file itself).
pub fn sqlite_path(config: &Config) -> std::path::PathBuf {
    config
        .database
        .sqlite_path()
        .expect("a SQLite configuration")
        .to_owned()
}

pub mod pg {
    //! One PostgreSQL database per test, created from the server URL and dropped after.

    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    static NEXT: AtomicU64 = AtomicU64::new(0);
    /// Databases made by this process, by the temporary directory of their test.
    static MADE: Mutex<Vec<(std::path::PathBuf, String)>> = Mutex::new(Vec::new());

    fn with_database(server: &str, name: &str) -> String {
        let mut url = url::Url::parse(server).expect("NEWSDESK_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        url.to_string()
    }

    /// Creates a new empty database and returns its URL.
    pub fn create_database(server: &str, dir: &std::path::Path) -> String {
        let name = format!(
            "nd_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::establish(server).expect("connect to the test server");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop a leftover test database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        MADE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((dir.to_owned(), name.clone()));
        with_database(server, &name)
    }

    /// Drops the database made for the test whose directory is `dir`, if any.
    pub fn drop_database(dir: &std::path::Path) {
        let Some(server) = super::test_server() else {
            return;
        };
        let name = {
            let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
            let Some(i) = made.iter().position(|(d, _)| d == dir) else {
                return;
            };
            made.swap_remove(i).1
        };
        if let Ok(mut admin) = PgConnection::establish(&server) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl<S> Drop for TestApp<S> {
    fn drop(&mut self) {
        // The last app over a database drops it; an app sharing the directory with
        // another (a restart) leaves it to the other.
        if Arc::strong_count(&self.dir) == 1 && on_postgres() {
            self.state.shutdown();
            pg::drop_database(self.dir.path());
        }
    }
}

/// Builds the app over an existing directory and configuration.
pub async fn app_with(
    dir: Arc<tempfile::TempDir>,
    config: Config,
) -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let state = AppState::open(config).expect("open the app state");
    let json = Bytes::from(newsdesk::openapi::document_json());
    let svc = atest::init_service(newsdesk::http::app(state.clone(), json)).await;
    TestApp { svc, state, dir }
}

/// An app over a fresh database with the default settings.
pub async fn app() -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let (dir, config) = fresh_config();
    app_with(dir, config).await
}

/// An app over a fresh SQLite file, whichever backend the suite runs on (for tests of
/// the file itself).
pub async fn sqlite_app() -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let (dir, config) = fresh_sqlite_config();
    app_with(dir, config).await
}

/// A plain connection of the test's own to the app's database.
pub fn connect(config: &Config) -> newsdesk::db::DbConn {
    use diesel::Connection;
    match &config.database {
        newsdesk::config::Database::Sqlite(path) => newsdesk::db::DbConn::Sqlite(
            diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("open the file"),
        ),
        newsdesk::config::Database::Postgres(url) => newsdesk::db::DbConn::Postgres(
            diesel::PgConnection::establish(url.expose()).expect("connect to the database"),
        ),
    }
}

/// An app over a fresh database, with settings changed by `change`.
pub async fn app_configured(
    change: impl FnOnce(&mut Config),
) -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let (dir, mut config) = fresh_config();
    change(&mut config);
    app_with(dir, config).await
}

impl<S, B> TestApp<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// Sends a request and reads the whole response.
    pub async fn send(&self, req: atest::TestRequest) -> Resp {
        let res = atest::call_service(&self.svc, req.to_request()).await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = atest::read_body(res).await;
        Resp {
            status,
            headers,
            body,
        }
    }

    /// The paths of the child sitemaps `/sitemap.xml` names, in its order (each with
    /// the time it last changed).
    pub async fn sitemap_children(&self) -> Vec<String> {
        let index = self.get("/sitemap.xml").await.expect(200).text();
        assert_eq!(
            index.matches("<lastmod>").count(),
            index.matches("<loc>").count(),
            "every child has its lastmod: {index}"
        );
        index
            .split("<loc>")
            .skip(1)
            .map(|rest| {
                let loc = &rest[..rest.find("</loc>").expect("a closed loc")];
                let at = loc.find("/sitemaps/").expect("a child sitemap address");
                loc[at..].to_owned()
            })
            .collect()
    }

    /// Every child sitemap `/sitemap.xml` names, read anonymously, one after another.
    /// A child whose last story leaves between the index's read and its own (an embargo
    /// ending) answers 404 and is no longer in the index: the index is then read again.
    /// A child the index still names must answer 200.
    pub async fn sitemaps(&self) -> String {
        'read: loop {
            let mut all = String::new();
            for path in self.sitemap_children().await {
                let child = self.get(&path).await;
                if child.status == 404 && !self.sitemap_children().await.contains(&path) {
                    continue 'read;
                }
                all.push_str(&child.expect(200).text());
            }
            return all;
        }
    }

    /// `GET path`, anonymously.
    pub async fn get(&self, path: &str) -> Resp {
        self.send(atest::TestRequest::get().uri(path)).await
    }

    /// `GET path` anonymously with one request header (`Accept-Language`,
    /// `If-Modified-Since`, …).
    pub async fn get_with(&self, path: &str, header: (&str, &str)) -> Resp {
        self.send(atest::TestRequest::get().uri(path).insert_header(header))
            .await
    }

    /// `GET path` anonymously, and what the representation cache did for it.
    pub async fn get_counted(&self, path: &str) -> (Resp, CacheUse) {
        let before = self.state.cache.stats();
        let resp = self.get(path).await;
        (resp, self.cache_use_since(before))
    }

    /// What the representation cache has done since its counters read `before`.
    pub fn cache_use_since(&self, before: CacheStats) -> CacheUse {
        let now = self.state.cache.stats();
        CacheUse {
            hits: now.hits - before.hits,
            misses: now.misses - before.misses,
            stores: now.stores - before.stores,
        }
    }

    /// `GET path` with a token.
    pub async fn get_as(&self, token: &str, path: &str) -> Resp {
        self.send(
            atest::TestRequest::get()
                .uri(path)
                .insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await
    }

    /// A JSON request with an optional token.
    pub async fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Resp {
        let mut req = match method {
            "POST" => atest::TestRequest::post(),
            "PATCH" => atest::TestRequest::patch(),
            "PUT" => atest::TestRequest::put(),
            "DELETE" => atest::TestRequest::delete(),
            other => panic!("unsupported method {other}"),
        }
        .uri(path)
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string());
        if let Some(t) = token {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        self.send(req).await
    }

    /// `POST path` with a JSON body and a token.
    pub async fn post(&self, token: &str, path: &str, body: Value) -> Resp {
        self.json("POST", path, Some(token), &body).await
    }

    /// `PATCH path` with a JSON body and a token.
    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Resp {
        self.json("PATCH", path, Some(token), &body).await
    }

    /// `DELETE path` with a token.
    pub async fn delete(&self, token: &str, path: &str) -> Resp {
        self.send(
            atest::TestRequest::delete()
                .uri(path)
                .insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await
    }

    /// Creates an account with the fixture password and returns its id.
    pub async fn user(&self, email: &str, role: Role) -> i32 {
        let new = NewUser {
            email: email.to_owned(),
            name: format!("{} user", role.as_str()),
            role,
            password: PASSWORD.to_owned(),
            disabled: false,
        };
        let hash = password_hash().to_owned();
        self.state
            .db
            .write(move |conn| users::insert(conn, &new, &hash))
            .await
            .expect("create user")
            .id
    }

    /// A valid token for an account.
    pub async fn token_of(&self, id: i32) -> String {
        let row = self
            .state
            .db
            .read(move |conn| users::find(conn, id))
            .await
            .unwrap();
        self.state
            .tokens
            .issue(row.id, row.token_version, Timestamp::now().unix())
            .unwrap()
    }

    /// A new account with this role, and its token.
    pub async fn staff(&self, role: Role) -> String {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = self
            .user(&format!("{}{n}@example.com", role.as_str()), role)
            .await;
        self.token_of(id).await
    }

    /// An admin token.
    pub async fn admin(&self) -> String {
        self.staff(Role::Admin).await
    }

    /// An editor token.
    pub async fn editor(&self) -> String {
        self.staff(Role::Editor).await
    }

    /// A writer token.
    pub async fn writer(&self) -> String {
        self.staff(Role::Writer).await
    }
}

impl<S, B> TestApp<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// A small newsroom: sections news > politics and sports, tags, regions, authors
    /// and a captioned image (media id returned).
    pub async fn newsroom(&self, editor: &str) -> i64 {
        for body in [
            serde_json::json!({"name": "News"}),
            serde_json::json!({"name": "Politics", "parent": "news", "position": 1}),
            serde_json::json!({"name": "Sports", "position": 2}),
        ] {
            self.post(editor, "/api/v1/sections", body)
                .await
                .expect(201);
        }
        for name in ["Gaza", "Elections", "Climate"] {
            self.post(editor, "/api/v1/tags", serde_json::json!({"name": name}))
                .await
                .expect(201);
        }
        for name in ["MENA", "Europe"] {
            self.post(editor, "/api/v1/regions", serde_json::json!({"name": name}))
                .await
                .expect(201);
        }
        for name in ["Leila Haddad", "Omar Said", "Agencies"] {
            self.post(editor, "/api/v1/authors", serde_json::json!({"name": name}))
                .await
                .expect(201);
        }
        self.post(
            editor,
            "/api/v1/media",
            serde_json::json!({"kind": "image", "url": "https://cdn.example.com/boats.jpg",
                "caption": "Boats return at dawn.", "credit": "AP", "alt_text": "Boats"}),
        )
        .await
        .expect(201)
        .json()["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates an article with `fields` (title required) and returns it.
    pub async fn article(&self, token: &str, fields: Value) -> Value {
        self.post(token, "/api/v1/articles", fields)
            .await
            .expect(201)
            .json()
    }

    /// Four stories with `fields` that readers must never see: a draft, one scheduled
    /// an hour ahead, one expired a minute ago (published 2023-06-01) and one in the
    /// trash (published 2024-04-01), slugged `{prefix}draft`, `{prefix}later`,
    /// `{prefix}expired` and `{prefix}trashed`, each titled `fields`' title and its slug.
    pub async fn hidden_stories(&self, editor: &str, prefix: &str, fields: Value) {
        let title = fields["title"].as_str().unwrap_or("Hidden").to_owned();
        for (name, state) in [
            ("draft", serde_json::json!({"status": "draft"})),
            (
                "later",
                serde_json::json!({"status": "published", "published_at": in_seconds(3_600)}),
            ),
            (
                "expired",
                serde_json::json!({"status": "published",
                    "published_at": "2023-06-01T08:00:00Z", "unpublish_at": in_seconds(-60)}),
            ),
            (
                "trashed",
                serde_json::json!({"status": "published", "published_at": "2024-04-01T08:00:00Z"}),
            ),
        ] {
            let slug = format!("{prefix}{name}");
            let mut body = fields.clone();
            body["slug"] = serde_json::json!(slug);
            body["title"] = serde_json::json!(format!("{title} {slug}"));
            for (k, v) in state.as_object().unwrap() {
                body[k] = v.clone();
            }
            self.article(editor, body).await;
        }
        self.delete(editor, &format!("/api/v1/articles/{prefix}trashed"))
            .await
            .expect(204);
    }

    /// The slugs of a list response's items, in order.
    pub async fn slugs(&self, path: &str) -> Vec<String> {
        slugs_of(&self.get(path).await.expect(200).json())
    }

    /// The slugs of a list response's items, as seen with a token.
    pub async fn slugs_as(&self, token: &str, path: &str) -> Vec<String> {
        slugs_of(&self.get_as(token, path).await.expect(200).json())
    }

    /// Walks `/api/v1/articles?{query}` by `next_cursor`, `per_page` to a page, and
    /// returns the slugs in walk order.
    pub async fn walk(&self, query: &str, per_page: usize) -> Vec<String> {
        let mut seen = Vec::new();
        let mut url = format!("/api/v1/articles?{query}&per_page={per_page}");
        loop {
            let page = self.get(&url).await.expect(200).json();
            seen.extend(slugs_of(&page));
            match page["meta"]["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/articles?{query}&per_page={per_page}&cursor={c}"),
                None => return seen,
            }
        }
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl SseEvent {
    /// The data as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("data is not JSON ({e}): {}", self.data))
    }
}

/// An open event stream, read event by event.
pub struct EventStream<B> {
    body: std::pin::Pin<Box<B>>,
    buf: String,
}

impl<B: MessageBody> EventStream<B> {
    /// The next event (comments and `retry:` lines skipped), or `None` when nothing
    /// comes `within` or the stream ends.
    pub async fn next(&mut self, within: std::time::Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    event: "message".into(),
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.event = v.to_owned();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        event.data.push_str(v);
                        any = true;
                    }
                }
                if any {
                    return Some(event);
                }
            }
            let body = &mut self.body;
            let chunk = tokio::time::timeout_at(
                deadline,
                std::future::poll_fn(|cx| body.as_mut().poll_next(cx)),
            )
            .await
            .ok()??
            .ok()?;
            self.buf
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
        }
    }
}

impl<S, B> TestApp<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// Opens an event stream (with `Last-Event-ID` when given); the status and headers
    /// come back with it.
    pub async fn stream(
        &self,
        path: &str,
        last_event_id: Option<&str>,
    ) -> (u16, HeaderMap, EventStream<B>) {
        let mut req = atest::TestRequest::get().uri(path);
        if let Some(id) = last_event_id {
            req = req.insert_header(("Last-Event-ID", id));
        }
        let res = atest::call_service(&self.svc, req.to_request()).await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let stream = EventStream {
            body: Box::pin(res.into_body()),
            buf: String::new(),
        };
        (status, headers, stream)
    }
}

/// The `slug` of each item of a list body.
pub fn slugs_of(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// An RFC 3339 time `secs` seconds from now.
pub fn in_seconds(secs: i64) -> String {
    Timestamp::from_unix(Timestamp::now().unix() + secs)
        .unwrap()
        .to_rfc3339()
}

/// How long a time-driven change may take to show once it is due (API.md, "Tests and
/// time": poll up to 5 s).
pub const VISIBLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// How far ahead a test schedules something it first checks is not visible yet. Times
/// are whole seconds, so `in_seconds(n)` falls due between n-1 and n seconds from now:
/// with 3, the "not yet" check has two seconds even on a loaded machine.
pub const SCHEDULE_AHEAD: i64 = 3;

/// The deadline for something scheduled `in_seconds(secs)` from now to show.
pub fn due_by(secs: i64) -> std::time::Duration {
    std::time::Duration::from_secs(secs.max(0) as u64) + VISIBLE_WITHIN
}

/// Polls `check` every 50 ms until it gives `Ok`, and returns what it gave; panics with
/// the last `Err` once `within` has passed. Tests wait for a change this way rather
/// than sleeping a fixed time.
pub async fn eventually<T, E, F, Fut>(within: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        match check().await {
            Ok(seen) => return seen,
            Err(last) if std::time::Instant::now() >= deadline => {
                panic!("not so within {within:?}; last seen: {last:?}")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// `Ok(seen)` when it equals `want`, else `Err(seen)`: the usual check for [`eventually`].
pub fn equals<T: PartialEq + std::fmt::Debug>(seen: T, want: T) -> Result<T, T> {
    if seen == want { Ok(seen) } else { Err(seen) }
}
