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
async fn an_uncached_article_read_costs_three_statements_and_one_more_for_corrections() {
    let t = common::app().await;
    let editor = t.editor().await;
    let image = t.newsroom(&editor).await;
    let a = t
        .article(
            &editor,
            json!({
                "title": "Budget vote",
                "section": "politics",
                "tags": ["gaza", "climate"],
                "authors": ["leila-haddad"],
                "regions": ["mena"],
                "hero_media_id": image,
                "status": "published"
            }),
        )
        .await;
    let key = newsdesk::domain::Key::Id(a["id"].as_i64().unwrap() as i32);
    let site = newsdesk::domain::feeds::Site::of(&t.state.config);
    let mut conn = common::connect(&t.state.config);
    let counter = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(counting(counter.clone()));
    let read = |conn: &mut newsdesk::db::DbConn| {
        counter.store(0, Ordering::SeqCst);
        let article = newsdesk::domain::articles::get(conn, &key, None, &site).unwrap();
        (counter.load(Ordering::SeqCst), article)
    };

    // The row (with whether it has corrections), tags + bylines + regions + section,
    // then media.
    let (statements, article) = read(&mut conn);
    assert_eq!(statements, 3);
    assert_eq!(
        article.section.as_ref().map(|s| s.slug.as_str()),
        Some("politics")
    );
    assert_eq!(article.tags.len(), 2);
    assert!(article.hero_media.is_some());
    assert_eq!(article.corrections.as_deref().map(<[_]>::len), Some(0));

    let path = format!("/api/v1/articles/{}/corrections", a["id"]);
    t.post(&editor, &path, json!({"text": "The vote was on Tuesday."}))
        .await
        .expect(201);
    let (statements, article) = read(&mut conn);
    assert_eq!(
        statements, 4,
        "the corrections are read when there are some"
    );
    let corrections = article.corrections.unwrap();
    assert_eq!(corrections.len(), 1);
    assert_eq!(corrections[0].text, "The vote was on Tuesday.");
}
