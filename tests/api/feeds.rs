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
