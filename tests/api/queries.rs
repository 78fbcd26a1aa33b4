//! No N+1: a list page loads its relations in a fixed number of SQL statements.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::Connection;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use newsdesk::domain::articles::list::{self, ArticleQuery};
use serde_json::json;

use crate::common;

/// Counts the statements a connection starts.
fn counting(counter: Arc<AtomicUsize>) -> impl Instrumentation {
    move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[actix_web::test]
async fn a_list_page_costs_the_same_number_of_queries_whatever_its_size() {
    let t = common::app().await;
    let editor = t.editor().await;
    let image = t.newsroom(&editor).await;
    for i in 0..110 {
        t.article(
            &editor,
            json!({
                "title": format!("Story {i}"),
                "section": if i % 2 == 0 { "politics" } else { "sports" },
                "tags": ["gaza", "climate"],
                "authors": ["leila-haddad", "agencies"],
                "regions": ["mena"],
                "hero_media_id": image,
                "status": "published"
            }),
        )
        .await;
    }
    let mut conn = common::connect(&t.state.config);
    let counter = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(counting(counter.clone()));

    let mut statements = Vec::new();
    for per_page in [1, 10, 100] {
        let query = ArticleQuery::parse(
            &format!("per_page={per_page}"),
            &t.state.cursors,
            &t.state.config.languages,
            false,
        )
        .unwrap();
        counter.store(0, Ordering::SeqCst);
        let page = list::list(
            &mut conn,
            &query,
            None,
            &t.state.cursors,
            &newsdesk::domain::feeds::Site::of(&t.state.config),
        )
        .unwrap();
        statements.push(counter.load(Ordering::SeqCst));
        assert_eq!(page.data.len(), per_page);
        let last = page.data.last().unwrap();
        assert_eq!(last.tags.len(), 2);
        assert_eq!(last.authors.len(), 2);
        assert_eq!(last.regions.len(), 1);
        assert!(last.section.is_some() && last.hero_media.is_some());
        // Every item has its own section, whichever of the two it is in.
        for (i, a) in page.data.iter().enumerate() {
            let n: i32 = a.title.trim_start_matches("Story ").parse().unwrap();
            let want = if n % 2 == 0 { "politics" } else { "sports" };
            assert_eq!(
                a.section.as_ref().map(|s| s.slug.as_str()),
                Some(want),
                "item {i}"
            );
        }
    }
    // The page; the total from the maintained counts (what is pending, the stored
    // count, what is pending again); tags + bylines + regions + sections in one; then
    // media (hero images and the bylines' avatars).
    assert_eq!(
        statements,
        [6, 6, 6],
        "statements per page of 1, 10 and 100 items"
    );
}

#[actix_web::test]
async fn an_uncached_article_read_is_one_statement_on_postgres_and_three_on_sqlite() {
    let t = common::app().await;
    let editor = t.editor().await;
    let image = t.newsroom(&editor).await;
    // Names in Arabic for the Arabic edition's read; a byline with a portrait.
    let patch = |path: &'static str, body| t.patch(&editor, path, body);
    patch(
        "/api/v1/sections/politics",
        json!({"localized": {"ar": {"name": "سياسة"}}}),
    )
    .await
    .expect(200);
    patch(
        "/api/v1/tags/climate",
        json!({"localized": {"ar": {"name": "المناخ"}}}),
    )
    .await
    .expect(200);
    let portrait = t
        .post(
            &editor,
            "/api/v1/media",
            json!({"kind": "image", "url": "https://cdn.example.com/omar.jpg",
                "alt_text": "Omar Said", "localized": {"ar": {"alt_text": "عمر سعيد"}}}),
        )
        .await
        .expect(201)
        .json()["id"]
        .clone();
    patch(
        "/api/v1/authors/omar-said",
        json!({"avatar_media_id": portrait, "localized": {"ar": {"name": "عمر سعيد"}}}),
    )
    .await
    .expect(200);
    let story = |title: &str, authors| {
        t.article(
            &editor,
            json!({
                "title": title,
                "language": "ar",
                "section": "politics",
                "tags": ["climate", "gaza"],
                "authors": authors,
                "regions": ["mena", "europe"],
                "hero_media_id": image,
                "status": "published"
            }),
        )
    };
    let a = story("تصويت الموازنة", json!(["leila-haddad", "agencies"])).await;
    let b = story("قمة المناخ", json!(["omar-said", "leila-haddad"])).await;
    let site = newsdesk::domain::feeds::Site::of(&t.state.config);
    let mut conn = common::connect(&t.state.config);
    let counter = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(counting(counter.clone()));
    let read = |conn: &mut newsdesk::db::DbConn, article: &serde_json::Value| {
        let key = newsdesk::domain::Key::Id(article["id"].as_i64().unwrap() as i32);
        counter.store(0, Ordering::SeqCst);
        let article = newsdesk::domain::articles::get(conn, &key, None, &site).unwrap();
        (counter.load(Ordering::SeqCst), article)
    };
    // PostgreSQL: one statement, a round trip, for the row and all it embeds; SQLite:
    // the row, the linked rows, the media, each cheaper there than the JSON.
    let pg = matches!(conn, newsdesk::db::DbConn::Postgres(_));
    let slugs = |refs: &[newsdesk::domain::Ref]| -> Vec<String> {
        refs.iter().map(|r| r.slug.clone()).collect()
    };

    // The row with whether it has corrections, its section, hero image, tags, bylines
    // and regions.
    let (statements, article) = read(&mut conn, &a);
    assert_eq!(statements, if pg { 1 } else { 3 });
    let section = article.section.as_ref().unwrap();
    assert_eq!(
        (section.slug.as_str(), section.name.as_str()),
        ("politics", "سياسة")
    );
    assert_eq!(
        slugs(&article.tags),
        ["climate", "gaza"],
        "in the order given"
    );
    assert_eq!(article.tags[0].name, "المناخ");
    assert_eq!(
        article.tags[1].name, "Gaza",
        "no Arabic name: the stored one"
    );
    let bylines: Vec<&str> = article.authors.iter().map(|b| b.slug.as_str()).collect();
    assert_eq!(bylines, ["leila-haddad", "agencies"]);
    assert!(article.authors.iter().all(|b| b.avatar.is_none()));
    assert_eq!(slugs(&article.regions), ["mena", "europe"]);
    assert_eq!(
        article.hero_media.as_ref().map(|m| m.id as i64),
        Some(image)
    );
    assert_eq!(article.corrections.as_deref().map(<[_]>::len), Some(0));
    assert_eq!(article.translations.as_deref().map(<[_]>::len), Some(0));

    // A byline's portrait: one statement more on PostgreSQL (on SQLite it comes with
    // the hero image).
    let (statements, article) = read(&mut conn, &b);
    assert_eq!(statements, if pg { 2 } else { 3 });
    assert_eq!(article.authors[0].name, "عمر سعيد");
    let avatar = article.authors[0].avatar.as_ref().expect("the portrait");
    assert_eq!(Some(avatar.id as i64), portrait.as_i64());
    assert_eq!(avatar.alt_text.as_deref(), Some("عمر سعيد"));
    assert!(article.authors[1].avatar.is_none());
    assert_eq!(
        article.hero_media.as_ref().map(|m| m.id as i64),
        Some(image)
    );

    let path = format!("/api/v1/articles/{}/corrections", a["id"]);
    t.post(&editor, &path, json!({"text": "The vote was on Tuesday."}))
        .await
        .expect(201);
    let (statements, article) = read(&mut conn, &a);
    assert_eq!(
        statements,
        if pg { 2 } else { 4 },
        "the corrections are read when there are some"
    );
    let corrections = article.corrections.unwrap();
    assert_eq!(corrections.len(), 1);
    assert_eq!(corrections[0].text, "The vote was on Tuesday.");
}
