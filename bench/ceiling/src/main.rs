//! A bare actix-web + Diesel + SQLite service over a newsdesk database: the ceiling the
//! benchmark compares newsdesk with. Plain queries, batch-loaded relations, no
//! validation, no middleware, no caching.
//!
//! Usage: ceiling <database file> <listen address>

use std::collections::HashMap;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use serde::Serialize;

diesel::table! {
    articles (id) {
        id -> Integer,
        slug -> Text,
        language -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        section_id -> Nullable<Integer>,
        source -> Nullable<Text>,
        hero_media_id -> Nullable<Integer>,
        featured -> Bool,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        word_count -> Integer,
        reading_time_minutes -> Integer,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        body_html -> Text,
        body -> Text,
    }
}
diesel::table! { authors (id) { id -> Integer, slug -> Text, name -> Text, } }
diesel::table! { tags (id) { id -> Integer, slug -> Text, name -> Text, } }
diesel::table! { sections (id) { id -> Integer, slug -> Text, parent_id -> Nullable<Integer>, } }
diesel::table! { article_tags (article_id, tag_id) { article_id -> Integer, tag_id -> Integer, position -> Integer, } }
diesel::table! { article_authors (article_id, author_id) { article_id -> Integer, author_id -> Integer, position -> Integer, } }
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(article_authors -> authors (author_id));
diesel::allow_tables_to_appear_in_same_query!(articles, authors, tags, sections, article_tags, article_authors);

type DbPool = Pool<ConnectionManager<SqliteConnection>>;

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

#[derive(Queryable, Selectable, Serialize)]
#[diesel(table_name = articles)]
struct FullArticle {
    id: i32,
    slug: String,
    language: String,
    title: String,
    summary: Option<String>,
    section_id: Option<i32>,
    source: Option<String>,
    hero_media_id: Option<i32>,
    featured: bool,
    status: String,
    published_at: Option<NaiveDateTime>,
    word_count: i32,
    reading_time_minutes: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    body_html: String,
    body: String,
}

#[derive(Queryable, Selectable, Serialize)]
#[diesel(table_name = articles)]
struct ListArticle {
    id: i32,
    slug: String,
    language: String,
    title: String,
    summary: Option<String>,
    section_id: Option<i32>,
    published_at: Option<NaiveDateTime>,
    reading_time_minutes: i32,
}

#[derive(Queryable, Serialize, Clone)]
struct Named {
    id: i32,
    slug: String,
    name: String,
}

#[derive(Serialize)]
struct Item {
    #[serde(flatten)]
    article: ListArticle,
    authors: Vec<Named>,
    tags: Vec<Named>,
}

#[derive(Serialize)]
struct Page {
    data: Vec<Item>,
}

type Boxed = articles::BoxedQuery<'static, diesel::sqlite::Sqlite>;

fn published(now: NaiveDateTime) -> Boxed {
    articles::table
        .filter(articles::status.eq("published"))
        .filter(articles::published_at.le(now))
        .into_boxed()
}

fn page(conn: &mut SqliteConnection, query: Boxed) -> QueryResult<Page> {
    let rows: Vec<ListArticle> = query
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(20)
        .select(ListArticle::as_select())
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|a| a.id).collect();
    let tag_rows: Vec<(i32, Named)> = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq_any(&ids))
        .order((article_tags::article_id, article_tags::position))
        .select((article_tags::article_id, (tags::id, tags::slug, tags::name)))
        .load(conn)?;
    let author_rows: Vec<(i32, Named)> = article_authors::table
        .inner_join(authors::table)
        .filter(article_authors::article_id.eq_any(&ids))
        .order((article_authors::article_id, article_authors::position))
        .select((article_authors::article_id, (authors::id, authors::slug, authors::name)))
        .load(conn)?;
    let mut tag_map: HashMap<i32, Vec<Named>> = HashMap::new();
    for (id, t) in tag_rows {
        tag_map.entry(id).or_default().push(t);
    }
    let mut author_map: HashMap<i32, Vec<Named>> = HashMap::new();
    for (id, a) in author_rows {
        author_map.entry(id).or_default().push(a);
    }
    Ok(Page {
        data: rows
            .into_iter()
            .map(|article| Item {
                authors: author_map.remove(&article.id).unwrap_or_default(),
                tags: tag_map.remove(&article.id).unwrap_or_default(),
                article,
            })
            .collect(),
    })
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

async fn run<T: Serialize + Send + 'static>(
    pool: web::Data<DbPool>,
    work: impl FnOnce(&mut SqliteConnection) -> QueryResult<Option<T>> + Send + 'static,
) -> HttpResponse {
    let result = web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        work(&mut conn).map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(Some(value))) => HttpResponse::Ok().json(value),
        Ok(Ok(None)) => HttpResponse::NotFound().finish(),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

#[get("/articles/{slug}")]
async fn by_slug(pool: web::Data<DbPool>, slug: web::Path<String>) -> HttpResponse {
    let slug = slug.into_inner();
    run(pool, move |conn| {
        articles::table
            .filter(articles::slug.eq(slug))
            .select(FullArticle::as_select())
            .first(conn)
            .optional()
    })
    .await
}

#[get("/articles")]
async fn newest(pool: web::Data<DbPool>) -> HttpResponse {
    run(pool, |conn| page(conn, published(now())).map(Some)).await
}

#[get("/tags/{slug}/articles")]
async fn by_tag(pool: web::Data<DbPool>, slug: web::Path<String>) -> HttpResponse {
    let slug = slug.into_inner();
    run(pool, move |conn| {
        let tag: i32 = tags::table
            .filter(tags::slug.eq(slug))
            .select(tags::id)
            .first(conn)?;
        let query = published(now()).filter(diesel::dsl::exists(
            article_tags::table
                .filter(article_tags::article_id.eq(articles::id))
                .filter(article_tags::tag_id.eq(tag)),
        ));
        page(conn, query).map(Some)
    })
    .await
}

#[get("/sections/{slug}/articles")]
async fn by_section(pool: web::Data<DbPool>, slug: web::Path<String>) -> HttpResponse {
    let slug = slug.into_inner();
    run(pool, move |conn| {
        let root: i32 = sections::table
            .filter(sections::slug.eq(slug))
            .select(sections::id)
            .first(conn)?;
        let mut ids: Vec<i32> = sections::table
            .filter(sections::parent_id.eq(root))
            .select(sections::id)
            .load(conn)?;
        ids.push(root);
        page(conn, published(now()).filter(articles::section_id.eq_any(ids))).map(Some)
    })
    .await
}

/// A fixed 2 KB JSON document.
fn static_document() -> String {
    let items: Vec<String> = (0..40)
        .map(|i| format!("{{\"id\":{i},\"label\":\"static item number {i:02}\"}}"))
        .collect();
    format!("{{\"data\":[{}]}}", items.join(","))
}

#[get("/static")]
async fn static_json(doc: web::Data<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.get_ref().clone())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: ceiling <database> <address>");
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let pool = Pool::builder()
        .max_size(8)
        .connection_customizer(Box::new(Pragmas))
        .build(ConnectionManager::<SqliteConnection>::new(db))
        .expect("open the database");
    let doc = static_document();
    let files_dir = std::env::var("CEILING_FILES_DIR").unwrap_or_else(|_| ".".to_owned());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(pool.clone()))
                .app_data(web::Data::new(doc.clone()))
                .service(by_slug)
                .service(newest)
                .service(by_tag)
                .service(by_section)
                .service(static_json)
                // The static file route newsdesk's `/files/` is measured against: the
                // directory named by CEILING_FILES_DIR, served by actix-files.
                .service(actix_files::Files::new("/files", files_dir.clone()))
        })
        .bind(addr)?
        .run()
        .await
    })
}
