//! RSS feeds and sitemaps: well-formed XML with the expected items, links and media.

use actix_web::test::TestRequest;
use quick_xml::events::Event;
use serde_json::json;

use crate::common;

/// An element met while reading a document: its path from the root, its attributes
/// and its text.
#[derive(Debug, Clone)]
struct Element {
    path: String,
    attrs: Vec<(String, String)>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a whole document (panicking when it is not well-formed XML) into its
/// elements in document order.
fn parse(xml: &[u8]) -> Vec<Element> {
    let text = std::str::from_utf8(xml).expect("UTF-8");
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<usize> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut out: Vec<Element> = Vec::new();
    let open =
        |e: &quick_xml::events::BytesStart, names: &mut Vec<String>, out: &mut Vec<Element>| {
            names.push(e.name().as_ref().to_owned());
            let attrs = e
                .attributes()
                .map(|a| {
                    let a = a.expect("well-formed attribute");
                    (
                        a.key.as_ref().to_owned(),
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("escaped value")
                            .into_owned(),
                    )
                })
                .collect();
            out.push(Element {
                path: names.join("/"),
                attrs,
                text: String::new(),
            });
            out.len() - 1
        };
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{text}"))
        {
            Event::Start(e) => {
                let i = open(&e, &mut names, &mut out);
                stack.push(i);
            }
            Event::Empty(e) => {
                open(&e, &mut names, &mut out);
                names.pop();
            }
            Event::End(_) => {
                stack.pop();
                names.pop();
            }
            Event::Text(t) => {
                if let Some(&i) = stack.last() {
                    let raw = t.xml10_content();
                    let unescaped = quick_xml::escape::unescape(&raw).expect("escaped text");
                    out[i].text.push_str(&unescaped);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(&i) = stack.last() {
                    let name = r.into_inner();
                    let entity = format!("&{name};");
                    let c = quick_xml::escape::unescape(&entity).expect("entity");
                    out[i].text.push_str(&c);
                }
            }
            Event::CData(c) => {
                if let Some(&i) = stack.last() {
                    out[i].text.push_str(&c.into_inner());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "every element is closed");
    out
}

fn all<'a>(doc: &'a [Element], path: &str) -> Vec<&'a Element> {
    doc.iter().filter(|e| e.path == path).collect()
}

fn texts(doc: &[Element], path: &str) -> Vec<String> {
    all(doc, path).into_iter().map(|e| e.text.clone()).collect()
}

#[actix_web::test]
async fn feeds_carry_items_links_bylines_and_media_credits() {
    let t = common::app_configured(|c| {
        c.public_base_url = "https://news.example".into();
        c.article_url_template = "{base}/{lang}/{section}/{slug}".into();
        c.publication_name = "Example Daily".into();
    })
    .await;
    let editor = t.editor().await;
    let media = t.newsroom(&editor).await;
    t.article(
        &editor,
        json!({"slug": "vote", "title": "Votes & seats: the count", "section": "politics",
        "tags": ["elections"], "authors": ["leila-haddad", "omar-said"], "hero_media_id": media,
        "summary": "Counting goes on.", "body": "**Turnout** rose <script>alert(1)</script>.",
        "status": "published", "published_at": common::in_seconds(-60)}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "match", "title": "Cup final", "section": "sports", "status": "published",
        "published_at": common::in_seconds(-120)}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "draft", "title": "Not yet", "section": "politics"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "arabic", "language": "ar", "title": "خبر", "status": "published"}),
    )
    .await;

    let resp = t.get("/feeds/en.xml").await.expect(200);
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    assert!(resp.header("etag").is_some());
    let doc = parse(&resp.body);
    assert_eq!(all(&doc, "rss")[0].attr("version"), Some("2.0"));
    assert_eq!(texts(&doc, "rss/channel/title"), ["Example Daily"]);
    assert_eq!(texts(&doc, "rss/channel/language"), ["en"]);
    let me = all(&doc, "rss/channel/atom:link")[0];
    assert_eq!(me.attr("rel"), Some("self"));
    assert_eq!(me.attr("href"), Some("https://news.example/feeds/en.xml"));
    assert_eq!(
        texts(&doc, "rss/channel/item/title"),
        ["Votes & seats: the count", "Cup final"]
    );
    assert_eq!(
        texts(&doc, "rss/channel/item/link"),
        [
            "https://news.example/en/politics/vote",
            "https://news.example/en/sports/match"
        ]
    );
    assert_eq!(
        texts(&doc, "rss/channel/item/dc:creator"),
        ["Leila Haddad", "Omar Said"]
    );
    let html = &texts(&doc, "rss/channel/item/content:encoded")[0];
    assert!(
        html.contains("<strong>Turnout</strong>") && !html.contains("<script"),
        "{html}"
    );
    let hero = all(&doc, "rss/channel/item/media:content");
    assert_eq!(hero.len(), 1);
    assert_eq!(
        hero[0].attr("url"),
        Some("https://cdn.example.com/boats.jpg")
    );
    assert_eq!(
        texts(&doc, "rss/channel/item/media:content/media:credit"),
        ["AP"]
    );
    assert_eq!(
        texts(&doc, "rss/channel/item/media:content/media:description"),
        ["Boats return at dawn."]
    );
    assert_eq!(all(&doc, "rss/channel/item/pubDate").len(), 2);

    // Per section (with its children) and per tag.
    let news = parse(&t.get("/feeds/en/sections/news.xml").await.expect(200).body);
    assert_eq!(
        texts(&news, "rss/channel/item/title"),
        ["Votes & seats: the count"]
    );
    assert_eq!(
        all(&news, "rss/channel/atom:link")[0].attr("href"),
        Some("https://news.example/feeds/en/sections/news.xml")
    );
    let tagged = parse(&t.get("/feeds/en/tags/elections.xml").await.expect(200).body);
    assert_eq!(
        texts(&tagged, "rss/channel/item/title"),
        ["Votes & seats: the count"]
    );
    let arabic = parse(&t.get("/feeds/ar.xml").await.expect(200).body);
    assert_eq!(texts(&arabic, "rss/channel/item/title"), ["خبر"]);
    assert!(
        all(&arabic, "rss/channel/item/link")[0]
            .text
            .ends_with("/ar/arabic"),
        "no section segment"
    );

    t.get("/feeds/fr.xml").await.problem(404, "not_found");
    t.get("/feeds/en/sections/nowhere.xml")
        .await
        .problem(404, "not_found");
    t.get("/feeds/en/tags/nothing.xml")
        .await
        .problem(404, "not_found");

    // Revalidation as elsewhere.
    let etag = resp.header("etag").unwrap();
    let again = t
        .send(
            TestRequest::get()
                .uri("/feeds/en.xml")
                .insert_header(("If-None-Match", etag)),
        )
        .await;
    assert_eq!(again.status, 304);
}

#[actix_web::test]
async fn sitemaps_list_published_articles_and_the_last_48_hours() {
    let t = common::app_configured(|c| {
        c.public_base_url = "https://news.example".into();
        c.publication_name = "Example Daily".into();
    })
    .await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "fresh", "title": "Fresh news", "status": "published",
        "published_at": common::in_seconds(-3600)}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "fresh-ar", "language": "ar", "title": "خبر جديد", "status": "published",
        "translation_of": "fresh", "published_at": common::in_seconds(-1800)}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "old", "title": "Old news", "status": "published",
        "published_at": common::in_seconds(-3 * 86_400)}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "later", "title": "Later", "status": "published",
        "published_at": common::in_seconds(3600)}),
    )
    .await;
    t.article(&editor, json!({"slug": "draft", "title": "Draft"}))
        .await;

    let resp = t.get("/sitemap.xml").await.expect(200);
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/xml; charset=utf-8")
    );
    let index = parse(&resp.body);
    assert_eq!(
        texts(&index, "sitemapindex/sitemap/loc"),
        ["https://news.example/sitemaps/articles-1.xml"],
        "a sitemap index with one child on the public site"
    );
    let resp = t.get("/sitemaps/articles-1.xml").await.expect(200);
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/xml; charset=utf-8")
    );
    let doc = parse(&resp.body);
    let locs = texts(&doc, "urlset/url/loc");
    assert_eq!(
        locs,
        [
            "https://news.example/en/fresh",
            "https://news.example/ar/fresh-ar",
            "https://news.example/en/old"
        ],
        "published stories only, by id"
    );
    assert_eq!(all(&doc, "urlset/url/lastmod").len(), 3);
    let alternates = all(&doc, "urlset/url/xhtml:link");
    assert_eq!(alternates.len(), 4, "each edition lists both editions");
    assert!(alternates.iter().any(|a| a.attr("hreflang") == Some("ar")
        && a.attr("href") == Some("https://news.example/ar/fresh-ar")));

    let news = parse(&t.get("/sitemap-news.xml").await.expect(200).body);
    assert_eq!(
        texts(&news, "urlset/url/loc"),
        [
            "https://news.example/ar/fresh-ar",
            "https://news.example/en/fresh"
        ]
    );
    assert_eq!(
        texts(&news, "urlset/url/news:news/news:title"),
        ["خبر جديد", "Fresh news"]
    );
    assert_eq!(
        texts(&news, "urlset/url/news:news/news:publication/news:name"),
        ["Example Daily", "Example Daily"]
    );
    assert_eq!(
        texts(&news, "urlset/url/news:news/news:publication/news:language"),
        ["ar", "en"]
    );
    assert!(texts(&news, "urlset/url/news:news/news:publication_date")[0].ends_with('Z'));
}

/// Sets the id the next article gets (as if that many stories had been written).
async fn next_article_id<S, B>(t: &common::TestApp<S>, next: i32)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    use diesel::RunQueryDsl;
    t.state
        .db
        .write(move |conn| {
            let sql = match conn {
                newsdesk::db::DbConn::Sqlite(_) => {
                    format!(
                        "UPDATE sqlite_sequence SET seq = {} WHERE name = 'articles'",
                        next - 1
                    )
                }
                newsdesk::db::DbConn::Postgres(_) => format!(
                    "SELECT setval(pg_get_serial_sequence('articles', 'id'), {})",
                    next - 1
                ),
            };
            diesel::sql_query(sql).execute(conn)?;
            Ok(())
        })
        .await
        .expect("set the next id");
}

#[actix_web::test]
async fn the_sitemap_index_names_one_child_per_block_of_two_thousand_five_hundred_ids_with_stories()
{
    let t = common::app_configured(|c| c.public_base_url = "https://news.example".into()).await;
    let editor = t.editor().await;
    let story = |slug: &str, status: &str| {
        json!({"slug": slug, "title": slug, "status": status,
            "published_at": common::in_seconds(-60)})
    };
    t.article(&editor, story("first-block", "published")).await;
    // Block 2 (ids 2,501 to 5,000) holds only a draft; block 3 two stories, one of
    // which is later taken down; block 5 one story, later trashed.
    next_article_id(&t, 2_501).await;
    t.article(&editor, story("draft-only", "draft")).await;
    next_article_id(&t, 6_250).await;
    t.article(&editor, story("third-block", "published")).await;
    let taken = t.article(&editor, story("taken-down", "published")).await;
    next_article_id(&t, 10_001).await;
    let trashed = t.article(&editor, story("fifth-block", "published")).await;

    let children = t.sitemap_children().await;
    assert_eq!(
        children,
        [
            "/sitemaps/articles-1.xml",
            "/sitemaps/articles-3.xml",
            "/sitemaps/articles-5.xml"
        ]
    );
    let locs = |path: &'static str| {
        let t = &t;
        async move {
            texts(
                &parse(&t.get(path).await.expect(200).body),
                "urlset/url/loc",
            )
        }
    };
    assert_eq!(
        locs("/sitemaps/articles-1.xml").await,
        ["https://news.example/en/first-block"]
    );
    assert_eq!(
        locs("/sitemaps/articles-3.xml").await,
        [
            "https://news.example/en/third-block",
            "https://news.example/en/taken-down"
        ]
    );
    for missing in [
        "/sitemaps/articles-2.xml",
        "/sitemaps/articles-4.xml",
        "/sitemaps/articles-0.xml",
        "/sitemaps/articles-01.xml",
        "/sitemaps/articles--1.xml",
        "/sitemaps/articles-x.xml",
        "/sitemaps/articles-99999999999.xml",
    ] {
        t.get(missing).await.problem(404, "not_found");
    }

    // Changes show at once in the index and the children.
    t.patch(
        &editor,
        &format!("/api/v1/articles/{}", taken["id"]),
        json!({"status": "draft"}),
    )
    .await
    .expect(200);
    t.delete(&editor, &format!("/api/v1/articles/{}", trashed["id"]))
        .await
        .expect(204);
    assert_eq!(
        t.sitemap_children().await,
        ["/sitemaps/articles-1.xml", "/sitemaps/articles-3.xml"]
    );
    assert_eq!(
        locs("/sitemaps/articles-3.xml").await,
        ["https://news.example/en/third-block"]
    );
    t.get("/sitemaps/articles-5.xml")
        .await
        .problem(404, "not_found");
}

/// `(child path, its <lastmod>)` for each child the sitemap index names, in its order.
/// Each child's `Last-Modified` is checked against it; a scheduled story the
/// scheduler publishes or takes down between the index's read and a child's changes
/// that child, so a pair that differs is read again, a few times at most.
async fn child_times<S, B>(t: &common::TestApp<S>) -> Vec<(String, String)>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut tries = 0;
    loop {
        tries += 1;
        let response = t.get("/sitemap.xml").await.expect(200);
        let index = parse(&response.body);
        let locs = texts(&index, "sitemapindex/sitemap/loc");
        let times = texts(&index, "sitemapindex/sitemap/lastmod");
        assert_eq!(
            locs.len(),
            times.len(),
            "every child has a lastmod: {index:?}"
        );
        let children: Vec<(String, String)> = locs
            .into_iter()
            .map(|l| l.replace("https://news.example", ""))
            .zip(times)
            .collect();
        // The same times over HTTP: each child's `Last-Modified` is its `<lastmod>`, and
        // the index's is no earlier than any of them.
        let index_changed = response
            .header("last-modified")
            .map(|d| http_date_seconds(&d));
        let mut differs = None;
        for (path, at) in &children {
            let child = t.get(path).await.expect(200);
            let said = child.header("last-modified").map(|d| http_date_seconds(&d));
            if said != Some(rfc3339_seconds(at)) {
                differs = Some(format!("{path}: {said:?}, the index says {at}"));
                break;
            }
            assert!(index_changed >= Some(rfc3339_seconds(at)), "{path}");
        }
        match differs {
            None => return children,
            Some(what) if tries >= 3 => panic!("{what}"),
            Some(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

fn http_date_seconds(date: &str) -> i64 {
    chrono::DateTime::parse_from_rfc2822(date)
        .unwrap_or_else(|e| panic!("{date}: {e}"))
        .timestamp()
}

fn rfc3339_seconds(at: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(at)
        .unwrap_or_else(|e| panic!("{at}: {e}"))
        .timestamp()
}

/// `GET path` with `If-Modified-Since: date`, as a crawler that keeps dates and not
/// entity tags asks.
async fn get_since<S, B>(t: &common::TestApp<S>, path: &str, date: &str) -> common::Resp
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    t.get_with(path, ("If-Modified-Since", date)).await
}

/// A crawler that sends `If-Modified-Since` with the index's and the children's
/// `Last-Modified` is answered `304` until what it fetched changed, and `200` with a
/// later date once it has, for the index too when a child leaves it.
#[actix_web::test]
async fn a_crawler_that_keeps_dates_refetches_only_what_changed() {
    let t = common::app_configured(|c| c.public_base_url = "https://news.example".into()).await;
    let editor = t.editor().await;
    let live = |slug: &str| {
        json!({"slug": slug, "title": slug, "status": "published",
            "published_at": common::in_seconds(-60)})
    };
    t.article(&editor, live("one")).await;
    next_article_id(&t, 2_501).await;
    let two = t.article(&editor, live("two")).await;
    let dated = |r: &common::Resp| r.header("last-modified").expect("a Last-Modified");
    let index = dated(&t.get("/sitemap.xml").await.expect(200));
    let one_at = dated(&t.get("/sitemaps/articles-1.xml").await.expect(200));
    let two_at = dated(&t.get("/sitemaps/articles-2.xml").await.expect(200));
    for (path, date) in [
        ("/sitemap.xml", &index),
        ("/sitemaps/articles-1.xml", &one_at),
        ("/sitemaps/articles-2.xml", &two_at),
    ] {
        let unchanged = get_since(&t, path, date).await.expect(304);
        assert!(unchanged.body.is_empty(), "{path}");
        assert_eq!(unchanged.header("last-modified").as_ref(), Some(date));
        // An entity tag, when sent, decides; a date that is not one is ignored.
        let other_tag = t
            .send(
                TestRequest::get()
                    .uri(path)
                    .insert_header(("If-None-Match", "\"elsewhere\""))
                    .insert_header(("If-Modified-Since", date.as_str())),
            )
            .await;
        other_tag.expect(200);
        get_since(&t, path, "yesterday").await.expect(200);
    }

    // "two" edited: its child and the index changed; "one"'s child did not.
    next_second().await;
    let path = format!("/api/v1/articles/{}", two["id"]);
    t.patch(&editor, &path, json!({"title": "Two, corrected"}))
        .await
        .expect(200);
    get_since(&t, "/sitemaps/articles-1.xml", &one_at)
        .await
        .expect(304);
    let two_now = get_since(&t, "/sitemaps/articles-2.xml", &two_at)
        .await
        .expect(200);
    assert!(two_now.text().contains("/two"));
    assert!(http_date_seconds(&dated(&two_now)) > http_date_seconds(&two_at));
    let index_now = get_since(&t, "/sitemap.xml", &index).await.expect(200);
    assert_eq!(dated(&index_now), dated(&two_now));

    // "two" taken down: its child leaves the index, which says it changed then,
    // though every child it still names is as it was.
    next_second().await;
    let down = t
        .patch(&editor, &path, json!({"status": "draft"}))
        .await
        .expect(200)
        .json();
    t.get("/sitemaps/articles-2.xml").await.expect(404);
    let index_after = get_since(&t, "/sitemap.xml", &dated(&index_now))
        .await
        .expect(200);
    assert!(!index_after.text().contains("articles-2.xml"));
    assert_eq!(
        http_date_seconds(&dated(&index_after)),
        rfc3339_seconds(down["updated_at"].as_str().unwrap())
    );
    get_since(&t, "/sitemaps/articles-1.xml", &one_at)
        .await
        .expect(304);
}

/// The time a crawler compares, on a whole second: lastmods move only between seconds.
async fn next_second() {
    let now = chrono::Utc::now();
    let wait = 1_000 - now.timestamp_subsec_millis().min(999) + 20;
    tokio::time::sleep(std::time::Duration::from_millis(wait.into())).await;
}

#[actix_web::test]
async fn the_sitemap_index_tells_when_each_child_last_changed() {
    let t = common::app_configured(|c| {
        c.public_base_url = "https://news.example".into();
        c.article_url_template = "{base}/{lang}/{section}/{slug}".into();
    })
    .await;
    let editor = t.editor().await;
    t.post(
        &editor,
        "/api/v1/sections",
        json!({"name": "World", "slug": "world"}),
    )
    .await
    .expect(201);
    let story = |slug: &str, status: &str| {
        json!({"slug": slug, "title": slug, "status": status,
            "published_at": common::in_seconds(-60)})
    };
    let one = t.article(&editor, story("one", "published")).await;
    next_article_id(&t, 2_501).await;
    let two = t.article(&editor, story("two", "published")).await;
    let two_b = t.article(&editor, story("two-b", "published")).await;
    next_article_id(&t, 5_001).await;
    let draft = t.article(&editor, story("three-draft", "draft")).await;
    let updated = |a: &serde_json::Value| a["updated_at"].as_str().unwrap().to_owned();

    // Each child as its last write left it: the time of that write, to the second.
    let first = child_times(&t).await;
    assert_eq!(
        first,
        [
            ("/sitemaps/articles-1.xml".to_owned(), updated(&one)),
            ("/sitemaps/articles-2.xml".to_owned(), updated(&two_b)),
        ]
    );

    // A draft's edits change no child; an edit of a live story changes its own only.
    next_second().await;
    let path = |a: &serde_json::Value| format!("/api/v1/articles/{}", a["id"]);
    t.patch(&editor, &path(&draft), json!({"title": "Still a draft"}))
        .await
        .expect(200);
    assert_eq!(child_times(&t).await, first, "a draft is in no child");
    for join in [
        json!({"language": "ar", "translation_of": "one"}),
        json!({"translation_of": null}),
    ] {
        t.patch(&editor, &path(&draft), join).await.expect(200);
        assert_eq!(
            child_times(&t).await,
            first,
            "nor is a draft among a story's editions"
        );
    }
    let edited = t
        .patch(&editor, &path(&two), json!({"title": "Two, corrected"}))
        .await
        .expect(200)
        .json();
    let after_edit = child_times(&t).await;
    assert_eq!(after_edit[0], first[0], "block 1 did not change");
    assert_eq!(after_edit[1].1, updated(&edited));
    assert!(
        after_edit[1].1 > first[1].1,
        "{after_edit:?} after {first:?}"
    );

    // An edition of "one" published in block 3: that child appears, and block 1's
    // child changes too (its entry for "one" now names the Spanish edition).
    next_second().await;
    let spanish = t
        .article(
            &editor,
            json!({"slug": "uno", "title": "Uno", "language": "es", "status": "published",
                "translation_of": "one", "published_at": common::in_seconds(-30)}),
        )
        .await;
    let with_edition = child_times(&t).await;
    assert_eq!(
        with_edition,
        [
            ("/sitemaps/articles-1.xml".to_owned(), updated(&spanish)),
            (
                "/sitemaps/articles-2.xml".to_owned(),
                after_edit[1].1.clone()
            ),
            ("/sitemaps/articles-3.xml".to_owned(), updated(&spanish)),
        ]
    );

    // Taken down: its child changes, though it still lists "two-b".
    next_second().await;
    let down = t
        .patch(&editor, &path(&two), json!({"status": "draft"}))
        .await
        .expect(200)
        .json();
    let after_down = child_times(&t).await;
    assert_eq!(after_down[1].1, updated(&down));
    assert_eq!(after_down[0], with_edition[0]);

    // A story scheduled in block 3 changes nothing until its moment, then its child
    // changed at that moment: before the scheduler announces it and after.
    let at = common::in_seconds(common::SCHEDULE_AHEAD);
    t.article(
        &editor,
        json!({"slug": "soon", "title": "Soon", "status": "published", "published_at": at}),
    )
    .await;
    assert_eq!(child_times(&t).await, after_down, "not live yet");
    let due = common::eventually(common::due_by(common::SCHEDULE_AHEAD), || async {
        let seen = child_times(&t).await;
        common::equals(seen[2].1 == at, true).map(|_| seen)
    })
    .await;
    assert_eq!(due[..2], after_down[..2]);
    // One in block 4 whose moment passed while no scheduler ran (the server was down
    // then): its child changed at that moment, read before the scheduler gets to it
    // and stored when it does.
    next_article_id(&t, 7_501).await;
    let late = t
        .article(
            &editor,
            json!({"slug": "late", "title": "Late", "status": "published",
                "published_at": common::in_seconds(3_600)}),
        )
        .await;
    assert_eq!(child_times(&t).await, due, "not live yet");
    let moment = common::in_seconds(-30);
    let (id, then) = (
        late["id"].as_i64().unwrap() as i32,
        newsdesk::domain::time::Timestamp::parse(&moment).unwrap().0,
    );
    t.state
        .db
        .write_content(move |conn| {
            use diesel::prelude::*;
            use newsdesk::schema::articles;
            diesel::update(articles::table.find(id))
                .set(articles::published_at.eq(Some(then)))
                .execute(conn)?;
            Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
        })
        .await
        .expect("move its moment back");
    let mut with_late = due.clone();
    with_late.push(("/sitemaps/articles-4.xml".to_owned(), moment));
    assert_eq!(child_times(&t).await, with_late);
    // Once the scheduler has announced it (and a draft's edit has retired the cached
    // index), the same.
    common::eventually(common::due_by(0), || async {
        let announced: i32 = t
            .state
            .db
            .read(move |conn| {
                use diesel::prelude::*;
                use newsdesk::schema::articles;
                Ok(articles::table
                    .find(id)
                    .select(articles::announced)
                    .get_result(conn)?)
            })
            .await
            .expect("read its mark");
        common::equals(announced, 1)
    })
    .await;
    t.patch(&editor, &path(&draft), json!({"title": "A draft again"}))
        .await
        .expect(200);
    assert_eq!(
        child_times(&t).await,
        with_late,
        "the scheduler stored the moment, not when it ran"
    );
    // A story whose embargo ends: its block changed when it was published, and again at
    // the embargo's end.
    let ends = common::in_seconds(common::SCHEDULE_AHEAD);
    let brief = t
        .article(
            &editor,
            json!({"slug": "brief", "title": "Brief", "status": "published",
                "published_at": common::in_seconds(-5), "unpublish_at": ends}),
        )
        .await;
    with_late[3].1 = updated(&brief);
    assert_eq!(child_times(&t).await, with_late);
    with_late[3].1 = ends;
    common::eventually(common::due_by(common::SCHEDULE_AHEAD), || async {
        common::equals(child_times(&t).await, with_late.clone())
    })
    .await;

    // The Spanish edition trashed: block 3's child changes (it still lists "soon"), and
    // block 1's, whose entry for "one" no longer names it.
    next_second().await;
    t.delete(&editor, &path(&spanish)).await.expect(204);
    let trashed = child_times(&t).await;
    assert_eq!(trashed.len(), 4, "{trashed:?}");
    assert!(
        trashed[0].1 > due[0].1 && trashed[2].1 > due[2].1,
        "{trashed:?} after {due:?}"
    );
    assert_eq!((&trashed[1], &trashed[3]), (&due[1], &with_late[3]));

    // A renamed section may be in every story's address: every child changed.
    next_second().await;
    t.patch(&editor, "/api/v1/sections/world", json!({"slug": "globe"}))
        .await
        .expect(200);
    let renamed = child_times(&t).await;
    assert!(
        renamed
            .iter()
            .zip(&trashed)
            .all(|(r, b)| r.0 == b.0 && r.1 > b.1),
        "{renamed:?} after {trashed:?}"
    );
    // Every time is a W3C datetime in UTC, as the protocol asks.
    for (_, at) in &renamed {
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.ends_with('Z'),
            "{at}"
        );
    }
}

/// A new `PUBLIC_BASE_URL` or `ARTICLE_URL_TEMPLATE` changes every address the children
/// list: at the next start every child's time moves; a start with the same settings
/// moves none.
#[actix_web::test]
async fn a_new_address_template_moves_every_child_at_the_next_start() {
    let (dir, mut config) = common::fresh_config();
    config.public_base_url = "https://news.example".into();
    config.article_url_template = "{base}/{lang}/{slug}".into();
    let first = common::app_with(dir.clone(), config.clone()).await;
    let editor = first.editor().await;
    first
        .article(
            &editor,
            json!({"slug": "one", "title": "One", "status": "published"}),
        )
        .await;
    let before = child_times(&first).await;
    first.state.shutdown();

    next_second().await;
    let same = common::app_with(dir.clone(), config.clone()).await;
    assert_eq!(child_times(&same).await, before, "the same addresses");
    same.state.shutdown();

    config.article_url_template = "{base}/{lang}/{section}/{slug}".into();
    let moved = common::app_with(dir.clone(), config).await;
    let after = child_times(&moved).await;
    assert_eq!(after.len(), 1);
    assert!(after[0].1 > before[0].1, "{after:?} after {before:?}");
}
