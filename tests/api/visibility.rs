//! What anonymous readers can never learn: OWASP API1:2023 (object level authorization)
//! and API3:2023 (object property level authorization), for the whole API at once.
//!
//! Nothing an anonymous reader receives names, counts or ranks content that reader
//! cannot see: drafts, scheduled stories, stories taken back to draft, and media that
//! only such stories use. The crawl below asks every GET route of the OpenAPI document
//! (so a new route is crawled without anyone remembering to add it) before and after
//! hidden content is attached to every public object it can be attached to, and the
//! anonymous answers must not change at all.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use serde_json::{Value, json};

use crate::common::{self, TestApp, in_seconds};

const LANGUAGES: [&str; 3] = ["en", "ar", "es"];
/// The word every hidden slug, title, caption and URL carries.
const SECRET: &str = "zebra";

/// The public objects the crawl fills path parameters with.
struct Public {
    article_id: i64,
    media: Vec<i64>,
    collection_id: i64,
    breaking: Vec<i64>,
}

/// The hidden objects, which must answer 404 to anonymous readers.
#[derive(Default)]
struct Hidden {
    article_slugs: Vec<String>,
    article_ids: Vec<i64>,
    media: Vec<i64>,
}

/// Values for the path parameters of `path`: every public object of its resource.
fn path_values(path: &str, name: &str, p: &Public) -> Vec<String> {
    let resource = path
        .trim_start_matches("/api/v1/")
        .trim_start_matches("/feeds/{lang}/")
        .split('/')
        .next()
        .unwrap_or_default();
    match (name, resource) {
        ("lang", _) => LANGUAGES.iter().map(|l| l.to_string()).collect(),
        ("id_or_slug", "articles") => vec!["ceasefire-talks".into(), p.article_id.to_string()],
        ("id_or_slug", "authors") => vec!["leila-haddad".into()],
        ("id_or_slug", "tags") | ("slug", "tags") => vec!["gaza".into()],
        ("id_or_slug", "sections") | ("slug", "sections") => {
            vec!["news".into(), "politics".into()]
        }
        ("id_or_slug", "regions") => vec!["mena".into()],
        ("id_or_slug", "collections") => {
            vec!["war-coverage".into(), p.collection_id.to_string()]
        }
        ("id", "media") => p.media.iter().map(i64::to_string).collect(),
        ("id", "breaking") => p.breaking.iter().map(i64::to_string).collect(),
        ("id", "users") | ("id", "webhooks") => vec!["1".into()],
        // Files are addressed by their content hash (served to whoever holds the URL);
        // the crawl's newsroom uploads none, so these name nothing.
        ("name", _) => vec![format!("{}.jpg", "0".repeat(64))],
        ("sha256", _) => vec!["0".repeat(64)],
        ("rendition", _) => vec!["640.webp".into()],
        ("number", _) | ("n", _) => vec!["1".into(), "2".into()],
        _ => panic!("the crawl does not know how to fill {{{name}}} in {path}: teach it"),
    }
}

/// Values for the query parameters worth varying (the others keep their defaults).
fn query_values(name: &str) -> Vec<&'static str> {
    match name {
        "q" => vec![SECRET],
        "tag" => vec!["gaza"],
        "section" => vec!["news"],
        "author" => vec!["leila-haddad"],
        "region" => vec!["mena"],
        "collection" => vec!["war-coverage"],
        "lang" => LANGUAGES.to_vec(),
        "kind" => vec!["image"],
        "featured" => vec!["true"],
        "window" => vec!["30d"],
        "limit" => vec!["20"],
        "per_page" => vec!["100"],
        _ => Vec::new(),
    }
}

/// Every anonymous GET the OpenAPI document describes, with path parameters filled with
/// public objects and one request per interesting query parameter. The event stream is
/// read separately (it never ends).
fn crawl_urls(doc: &Value, p: &Public) -> Vec<String> {
    let mut urls = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("get") else { continue };
        // The stream never ends; /metrics names no content, only counts of requests
        // by route template, which every request (the crawl's own) moves.
        if path.ends_with("/stream") || path == "/metrics" {
            continue;
        }
        let params: Vec<(&str, &str)> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        let mut paths = vec![path.clone()];
        for (name, _) in params.iter().filter(|(_, at)| *at == "path") {
            let values = path_values(path, name, p);
            paths = paths
                .iter()
                .flat_map(|partial| {
                    values
                        .iter()
                        .map(move |v| partial.replace(&format!("{{{name}}}"), v))
                })
                .collect();
        }
        for concrete in paths {
            urls.push(concrete.clone());
            for (name, _) in params.iter().filter(|(_, at)| *at == "query") {
                for value in query_values(name) {
                    urls.push(format!("{concrete}?{name}={value}"));
                }
            }
        }
    }
    urls
}

/// The same JSON without the fields that only say when something last changed.
fn normalized(body: &[u8]) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("updated_at");
                map.remove("since");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            strip(&mut v);
            v
        }
        Err(_) => {
            let mut text = String::from_utf8_lossy(body).into_owned();
            // The sitemap index's times: a child's list changed while the withdrawn and
            // the trashed story were public (the feeds tests check that what readers
            // never saw leaves them alone).
            if text.contains("<sitemapindex") {
                while let (Some(from), Some(to)) = (text.find("<lastmod>"), text.find("</lastmod>"))
                {
                    text.replace_range(from..to + "</lastmod>".len(), "");
                }
            }
            Value::String(text)
        }
    }
}

#[track_caller]
fn assert_no_secret(what: &str, body: &[u8]) {
    let text = String::from_utf8_lossy(body).to_lowercase();
    assert!(
        !text.contains(SECRET),
        "{what} names hidden content: {text}"
    );
}

/// Every crawled URL's anonymous answer: status and body.
async fn crawl<S, B>(t: &TestApp<S>, urls: &[String]) -> BTreeMap<String, (u16, Value)>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut seen = BTreeMap::new();
    for url in urls {
        let resp = t.get(url).await;
        assert_no_secret(url, &resp.body);
        seen.insert(url.clone(), (resp.status, normalized(&resp.body)));
    }
    seen
}

/// The stream's first snapshot (per language), and every event a client resuming from
/// the start of the log gets.
async fn stream_views<S, B>(t: &TestApp<S>) -> (Vec<Value>, Vec<String>)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut snapshots = Vec::new();
    let mut replayed = Vec::new();
    let mut paths = vec!["/api/v1/breaking/stream".to_owned()];
    paths.extend(LANGUAGES.map(|l| format!("/api/v1/breaking/stream?lang={l}")));
    for path in paths {
        let (status, _, mut stream) = t.stream(&path, None).await;
        assert_eq!(status, 200);
        let snapshot = stream
            .next(Duration::from_secs(3))
            .await
            .expect("a snapshot first");
        assert_eq!(snapshot.event, "snapshot");
        assert_no_secret(&path, snapshot.data.as_bytes());
        snapshots.push(normalized(snapshot.data.as_bytes()));
        let (_, _, mut resumed) = t.stream(&path, Some("0")).await;
        while let Some(event) = resumed.next(Duration::from_millis(300)).await {
            assert_no_secret(&format!("{path} resumed"), event.data.as_bytes());
            replayed.push(event.data);
        }
    }
    (snapshots, replayed)
}

/// A newsroom with one public story and everything public around it.
async fn public_newsroom<S, B>(t: &TestApp<S>, editor: &str) -> Public
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let hero = t.newsroom(editor).await;
    let mut media = vec![hero];
    for (caption, url) in [
        ("Leila Haddad", "https://cdn.example.com/leila.jpg"),
        ("Coverage banner", "https://cdn.example.com/banner.jpg"),
    ] {
        let m = t
            .post(
                editor,
                "/api/v1/media",
                json!({"kind": "image", "url": url, "caption": caption}),
            )
            .await
            .expect(201)
            .json();
        media.push(m["id"].as_i64().unwrap());
    }
    t.patch(
        editor,
        "/api/v1/authors/leila-haddad",
        json!({"avatar_media_id": media[1]}),
    )
    .await
    .expect(200);
    let article = t
        .article(
            editor,
            json!({"title": "Ceasefire talks resume in Cairo", "slug": "ceasefire-talks",
                "summary": "Negotiators meet again.", "body": "Negotiators met in Cairo.",
                "section": "politics", "tags": ["gaza", "elections"], "authors": ["leila-haddad"],
                "regions": ["mena"], "hero_media_id": hero, "featured": true,
                "status": "published", "published_at": in_seconds(-3600)}),
        )
        .await;
    let collection = t
        .post(
            editor,
            "/api/v1/collections",
            json!({"name": "War coverage", "slug": "war-coverage", "hero_media_id": media[2],
                "articles": ["ceasefire-talks"], "pinned": ["ceasefire-talks"]}),
        )
        .await
        .expect(201)
        .json();
    let mut breaking = Vec::new();
    for text in ["Talks resume in Cairo", "Delegations arrive"] {
        let item = t
            .post(
                editor,
                "/api/v1/breaking",
                json!({"text": text, "published_at": in_seconds(-60)}),
            )
            .await
            .expect(201)
            .json();
        breaking.push(item["id"].as_i64().unwrap());
    }
    let article_id = article["id"].as_i64().unwrap();
    t.state.views.add(article_id as i32);
    t.state.flush_views().unwrap();
    Public {
        article_id,
        media,
        collection_id: collection["id"].as_i64().unwrap(),
        breaking,
    }
}

/// Attaches a draft, a scheduled story and a story taken back to draft everywhere a
/// public object can name them, each with a hero image nothing public uses.
async fn hide_everywhere<S, B>(t: &TestApp<S>, editor: &str, writer: &str, p: &Public) -> Hidden
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut hidden = Hidden::default();
    let hero = |token: &str, name: &str| {
        let (token, name) = (token.to_owned(), name.to_owned());
        async move {
            t.post(
                &token,
                "/api/v1/media",
                json!({"kind": "image", "url": format!("https://cdn.example.com/{name}.jpg"),
                    "caption": format!("{name} art"), "credit": "zebra agency"}),
            )
            .await
            .expect(201)
            .json()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let draft_hero = hero(writer, "secret-draft-zebra").await;
    let scheduled_hero = hero(editor, "embargoed-scheduled-zebra").await;
    let withdrawn_hero = hero(editor, "withdrawn-story-zebra").await;
    let unused = hero(editor, "unused-zebra").await;
    hidden.media = vec![draft_hero, scheduled_hero, withdrawn_hero, unused];
    let shared = |title: &str, slug: &str, hero: i64| {
        json!({"title": title, "slug": slug, "summary": "zebra summary", "body": "zebra body",
            "section": "politics", "tags": ["gaza", "elections"], "authors": ["leila-haddad"],
            "regions": ["mena"], "hero_media_id": hero, "featured": true})
    };
    let mut draft = shared("Secret draft zebra", "secret-draft-zebra", draft_hero);
    draft["language"] = json!("es");
    draft["translation_of"] = json!("ceasefire-talks");
    let mut scheduled = shared(
        "Embargoed scheduled zebra",
        "embargoed-scheduled-zebra",
        scheduled_hero,
    );
    scheduled["language"] = json!("ar");
    scheduled["translation_of"] = json!("ceasefire-talks");
    scheduled["status"] = json!("published");
    scheduled["published_at"] = json!(in_seconds(86_400));
    let mut withdrawn = shared(
        "Withdrawn story zebra",
        "withdrawn-story-zebra",
        withdrawn_hero,
    );
    withdrawn["status"] = json!("published");
    withdrawn["published_at"] = json!(in_seconds(-600));
    // Past its embargo's end, and in the trash: neither is seen by readers.
    let mut expired = shared("Expired story zebra", "expired-story-zebra", withdrawn_hero);
    expired["status"] = json!("published");
    expired["published_at"] = json!(in_seconds(-600));
    expired["unpublish_at"] = json!(in_seconds(-60));
    let mut trashed = shared("Trashed story zebra", "trashed-story-zebra", withdrawn_hero);
    trashed["status"] = json!("published");
    trashed["published_at"] = json!(in_seconds(-600));
    for (token, body) in [
        (writer, draft),
        (editor, scheduled),
        (editor, withdrawn),
        (editor, expired),
        (editor, trashed),
    ] {
        let a = t.article(token, body).await;
        hidden.article_ids.push(a["id"].as_i64().unwrap());
        hidden
            .article_slugs
            .push(a["slug"].as_str().unwrap().to_owned());
    }
    // While it is public, the story is linked from the ticker and read; the item is not
    // written again after the story is withdrawn.
    let item = format!("/api/v1/breaking/{}", p.breaking[0]);
    t.patch(editor, &item, json!({"article": "withdrawn-story-zebra"}))
        .await
        .expect(200);
    for id in &hidden.article_ids {
        for _ in 0..5 {
            t.state.views.add(*id as i32);
        }
    }
    t.state.flush_views().unwrap();
    t.patch(
        editor,
        "/api/v1/articles/withdrawn-story-zebra",
        json!({"status": "draft"}),
    )
    .await
    .expect(200);
    let other = format!("/api/v1/breaking/{}", p.breaking[1]);
    t.patch(
        editor,
        &other,
        json!({"article": "embargoed-scheduled-zebra"}),
    )
    .await
    .expect(200);
    t.patch(
        editor,
        "/api/v1/collections/war-coverage",
        json!({"articles": ["secret-draft-zebra", "embargoed-scheduled-zebra", "ceasefire-talks",
            "withdrawn-story-zebra", "expired-story-zebra", "trashed-story-zebra"],
            "pinned": ["secret-draft-zebra", "embargoed-scheduled-zebra", "withdrawn-story-zebra",
            "expired-story-zebra", "trashed-story-zebra", "ceasefire-talks"]}),
    )
    .await
    .expect(200);
    t.delete(editor, "/api/v1/articles/trashed-story-zebra")
        .await
        .expect(204);
    hidden
}

#[actix_web::test]
async fn no_anonymous_read_names_counts_or_ranks_hidden_content() {
    let (dir, config) = common::fresh_config();
    let t = common::app_with(dir.clone(), config.clone()).await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    let public = public_newsroom(&t, &editor).await;
    let doc = t.get("/api/v1/openapi.json").await.expect(200).json();
    let urls = crawl_urls(&doc, &public);
    assert!(urls.len() > 60, "the crawl covers the API: {}", urls.len());
    let before = crawl(&t, &urls).await;
    let (snapshots_before, _) = stream_views(&t).await;

    let hidden = hide_everywhere(&t, &editor, &writer, &public).await;

    // Answered by this instance (its cache must have let go of what changed) and by a
    // fresh instance over the same database (nothing cached at all).
    let fresh = common::app_with(dir.clone(), config).await;
    for after in [crawl(&t, &urls).await, crawl(&fresh, &urls).await] {
        for (url, seen) in &after {
            assert_eq!(
                seen, &before[url],
                "{url}: anonymous readers see a difference the hidden content made"
            );
        }
    }
    for app_snapshots in [stream_views(&t).await.0, stream_views(&fresh).await.0] {
        assert_eq!(app_snapshots, snapshots_before, "the stream's snapshot");
    }

    // Hidden objects are 404 (never 403) at every address.
    let mut probes = Vec::new();
    for key in hidden
        .article_slugs
        .iter()
        .cloned()
        .chain(hidden.article_ids.iter().map(i64::to_string))
    {
        for tail in ["", "/translations", "/related", "/next"] {
            probes.push(format!("/api/v1/articles/{key}{tail}"));
        }
    }
    probes.extend(hidden.media.iter().map(|id| format!("/api/v1/media/{id}")));
    for url in &probes {
        let resp = t.get(url).await;
        assert_no_secret(url, &resp.body);
        resp.problem(404, "not_found");
    }

    // The counts are those of the public story alone.
    let count = |url: &'static str, pointer: &'static str| {
        let t = &t;
        async move {
            t.get(url)
                .await
                .expect(200)
                .json()
                .pointer(pointer)
                .cloned()
        }
    };
    assert_eq!(
        count("/api/v1/articles", "/meta/total").await,
        Some(json!(1))
    );
    // Searches with each filter: those without one keep the full-text statement's
    // matches as they are, the others look them up by language, section and time.
    for filter in [
        "",
        "&lang=en",
        "&lang=es",
        "&lang=ar",
        "&section=politics",
        "&featured=true",
        "&featured=false",
        "&sort=-published_at",
        "&sort=published_at",
        "&published_after=2000-01-01T00:00:00Z",
        "&per_page=2&page=2",
    ] {
        let url = format!("/api/v1/articles?q=zebra{filter}");
        let page = t.get(&url).await.expect(200).json();
        assert_eq!(page["meta"]["total"], json!(0), "{url}: {page}");
        assert_eq!(page["data"], json!([]), "{url}");
    }
    assert_eq!(
        count("/api/v1/tags/gaza", "/article_count").await,
        Some(json!(1))
    );
    assert_eq!(count("/api/v1/media", "/meta/total").await, Some(json!(3)));
    assert_eq!(
        count("/api/v1/media?q=zebra", "/meta/total").await,
        Some(json!(0))
    );
    assert_eq!(
        count("/api/v1/articles/most-read?window=30d", "/meta/count").await,
        Some(json!(1))
    );
    assert_eq!(
        count(
            "/api/v1/articles/ceasefire-talks/translations",
            "/meta/count"
        )
        .await,
        Some(json!(0))
    );
    assert_eq!(
        count("/api/v1/collections/war-coverage", "/pinned").await,
        Some(json!(["ceasefire-talks"]))
    );
    let ticker = t.get("/api/v1/breaking").await.expect(200).json();
    let items = ticker["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["article"].is_null()), "{ticker}");
}

#[actix_web::test]
async fn staff_still_see_what_they_may_see() {
    let t = common::app().await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    let other_writer = t.writer().await;
    let public = public_newsroom(&t, &editor).await;
    let hidden = hide_everywhere(&t, &editor, &writer, &public).await;

    let pinned = |token: String| {
        let t = &t;
        async move {
            let c = t
                .get_as(&token, "/api/v1/collections/war-coverage")
                .await
                .expect(200)
                .json();
            let articles: Vec<String> = common::slugs_of(&json!({"data": c["articles"]}));
            (c["pinned"].clone(), articles)
        }
    };
    // Editors see every story of the collection but the trashed one; writers all but
    // other people's drafts. Pinned stories come in the collection's order.
    let everything = json!([
        "secret-draft-zebra",
        "embargoed-scheduled-zebra",
        "ceasefire-talks",
        "withdrawn-story-zebra",
        "expired-story-zebra"
    ]);
    assert_eq!(pinned(editor.clone()).await.0, everything);
    assert_eq!(pinned(editor.clone()).await.1.len(), 5);
    assert_eq!(
        pinned(writer.clone()).await.0,
        json!([
            "secret-draft-zebra",
            "embargoed-scheduled-zebra",
            "ceasefire-talks",
            "expired-story-zebra"
        ])
    );
    assert_eq!(
        pinned(other_writer.clone()).await.0,
        json!([
            "embargoed-scheduled-zebra",
            "ceasefire-talks",
            "expired-story-zebra"
        ])
    );
    let listed = t
        .get_as(&editor, "/api/v1/collections")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["data"][0]["pinned"], everything);

    // Any staff member reads every media item, used or not.
    for token in [&editor, &other_writer] {
        for id in &hidden.media {
            t.get_as(token, &format!("/api/v1/media/{id}"))
                .await
                .expect(200);
        }
        let all = t.get_as(token, "/api/v1/media").await.expect(200).json();
        assert_eq!(all["meta"]["total"], 7);
    }
    let editions = t
        .get_as(&editor, "/api/v1/articles/ceasefire-talks/translations")
        .await
        .expect(200)
        .json();
    assert_eq!(editions["meta"]["count"], 2);
}

#[actix_web::test]
async fn staff_views_never_reach_the_anonymous_cache() {
    let t = common::app().await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    let public = public_newsroom(&t, &editor).await;
    hide_everywhere(&t, &editor, &writer, &public).await;
    for path in [
        "/api/v1/collections/war-coverage",
        "/api/v1/collections",
        "/api/v1/media",
        &format!("/api/v1/media/{}", public.media[0]),
    ] {
        // Staff first, then anonymous, then staff again, then anonymous from the cache.
        let before = t.state.cache.stats();
        let staff = t.get_as(&editor, path).await.expect(200);
        assert_eq!(
            staff.header("cache-control").as_deref(),
            Some("private, no-store")
        );
        assert_eq!(t.cache_use_since(before), common::UNTOUCHED, "{path}");
        for round in [common::MISS, common::HIT] {
            let (anonymous, used) = t.get_counted(path).await;
            let anonymous = anonymous.expect(200);
            assert_eq!(used, round, "{path}");
            assert_no_secret(path, &anonymous.body);
            assert!(
                anonymous
                    .header("cache-control")
                    .unwrap()
                    .starts_with("public")
            );
            let before = t.state.cache.stats();
            let again = t.get_as(&editor, path).await.expect(200);
            assert_eq!(again.body, staff.body, "{path}: staff get their own view");
            assert_eq!(t.cache_use_since(before), common::UNTOUCHED, "{path}");
        }
    }
}

#[actix_web::test]
async fn a_scheduled_story_counts_once_its_time_comes() {
    let t = common::app().await;
    let editor = t.editor().await;
    public_newsroom(&t, &editor).await;
    let totals = || {
        let t = &t;
        async move {
            let list = t.get("/api/v1/articles?tag=gaza").await.expect(200).json();
            let tag = t.get("/api/v1/tags/gaza").await.expect(200).json();
            let collection = t
                .get("/api/v1/collections/war-coverage")
                .await
                .expect(200)
                .json();
            (
                list["meta"]["total"].as_i64().unwrap(),
                list["data"].as_array().unwrap().len(),
                tag["article_count"].as_i64().unwrap(),
                collection["pinned"].as_array().unwrap().len(),
            )
        }
    };
    assert_eq!(totals().await, (1, 1, 1, 1));
    t.article(
        &editor,
        json!({"title": "Due soon", "slug": "due-soon", "tags": ["gaza"], "status": "published",
            "published_at": in_seconds(common::SCHEDULE_AHEAD)}),
    )
    .await;
    t.patch(
        &editor,
        "/api/v1/collections/war-coverage",
        json!({"articles": ["ceasefire-talks", "due-soon"], "pinned": ["ceasefire-talks", "due-soon"]}),
    )
    .await
    .expect(200);
    assert_eq!(totals().await, (1, 1, 1, 1), "not before its time");
    // Once due, every count includes it.
    common::eventually(common::due_by(common::SCHEDULE_AHEAD), || async {
        common::equals(totals().await, (2, 2, 2, 2))
    })
    .await;
}

#[actix_web::test]
async fn a_writer_cannot_squat_a_language_slot_through_a_hidden_draft_or_learn_its_slug() {
    let t = common::app().await;
    let editor = t.editor().await;
    let alice = t.writer().await;
    let bob = t.writer().await;
    t.article(
        &editor,
        json!({"title": "Story", "slug": "story-en", "status": "published"}),
    )
    .await;
    t.article(
        &alice,
        json!({"title": "Secret draft zebra", "slug": "secret-draft-zebra", "language": "es",
            "translation_of": "story-en"}),
    )
    .await;

    // The Spanish slot is Alice's: Bob is told so without being told her draft's slug.
    let p = t
        .post(
            &bob,
            "/api/v1/articles",
            json!({"title": "Bob es", "language": "es", "translation_of": "story-en"}),
        )
        .await
        .problem(409, "translation_exists");
    assert_no_secret("the 409 detail", p.to_string().as_bytes());
    let mine = t
        .article(
            &bob,
            json!({"title": "Bob ar", "slug": "bob-ar", "language": "ar", "translation_of": "story-en"}),
        )
        .await;
    let p = t
        .patch(&bob, "/api/v1/articles/bob-ar", json!({"language": "es"}))
        .await
        .problem(409, "translation_exists");
    assert_no_secret(
        "the 409 detail of a language change",
        p.to_string().as_bytes(),
    );
    assert_eq!(mine["translations"].as_array().unwrap().len(), 1);

    // Alice's draft is, to Bob, an article that does not exist: on create and on update.
    let unknown_and_hidden = |body: fn(&str) -> Value, path: &'static str, method: &'static str| {
        let (t, bob) = (&t, &bob);
        async move {
            let answer = |slug: &'static str| async move {
                let resp = t.json(method, path, Some(bob), &body(slug)).await;
                let problem = resp.problem(422, "validation_failed");
                problem.to_string().replace(slug, "SLUG")
            };
            (
                answer("no-such-story").await,
                answer("secret-draft-zebra").await,
            )
        }
    };
    t.article(&bob, json!({"title": "Bob fr", "slug": "bob-draft"}))
        .await;
    for (path, method) in [
        ("/api/v1/articles", "POST"),
        ("/api/v1/articles/bob-draft", "PATCH"),
    ] {
        let (unknown, hidden) = unknown_and_hidden(
            |slug| json!({"title": "Bob's", "language": "ar", "translation_of": slug}),
            path,
            method,
        )
        .await;
        assert_eq!(unknown, hidden, "{method} {path}");
    }
    let alices = t
        .get_as(&alice, "/api/v1/articles/secret-draft-zebra/translations")
        .await
        .expect(200)
        .json();
    assert_eq!(
        common::slugs_of(&alices),
        ["story-en"],
        "Bob attached nothing"
    );

    // Editors see every edition, so their conflicts name the edition in the way.
    let p = t
        .post(
            &editor,
            "/api/v1/articles",
            json!({"title": "Editor es", "language": "es", "translation_of": "story-en"}),
        )
        .await
        .problem(409, "translation_exists");
    assert!(p["detail"].as_str().unwrap().contains("secret-draft-zebra"));
}
