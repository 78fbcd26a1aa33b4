//! What an article page shows around the story: editions, most read, related, read
//! next and coverage collections.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::{self, slugs_of};

fn languages_of(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["language"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn translations_link_a_whole_group_both_ways() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "talks-en", "title": "Talks resume", "status": "published"}),
    )
    .await;
    let ar = t
        .article(
            &editor,
            json!({"slug": "talks-ar", "language": "ar", "title": "استئناف المحادثات",
            "status": "published", "translation_of": "talks-en"}),
        )
        .await;
    assert_eq!(ar["translations"][0]["slug"], "talks-en");
    // Joining through any edition joins the whole group.
    t.article(
        &editor,
        json!({"slug": "talks-es", "language": "es", "title": "Se reanudan las conversaciones",
        "status": "published", "translation_of": "talks-ar"}),
    )
    .await;
    let en = t.get("/api/v1/articles/talks-en").await.expect(200).json();
    let editions: Vec<(&str, &str)> = en["translations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["language"].as_str().unwrap(), e["slug"].as_str().unwrap()))
        .collect();
    assert_eq!(editions, [("ar", "talks-ar"), ("es", "talks-es")]);
    assert!(en["translations"][0]["title"].is_string() && en["translations"][0]["id"].is_number());
    let listed = t
        .get("/api/v1/articles/talks-es/translations")
        .await
        .expect(200)
        .json();
    assert_eq!(languages_of(&listed), ["ar", "en"]);
    assert_eq!(listed["meta"]["count"], 2);
    // One article per language in a group.
    let clash = t
        .post(
            &editor,
            "/api/v1/articles",
            json!({"title": "Another English edition", "translation_of": "talks-ar"}),
        )
        .await
        .problem(409, "translation_exists");
    assert!(clash["detail"].as_str().unwrap().contains("en"), "{clash}");
    t.get("/api/v1/articles/unknown/translations")
        .await
        .problem(404, "not_found");
    // Leaving the group: translation_of null.
    t.patch(
        &editor,
        "/api/v1/articles/talks-es",
        json!({"translation_of": null}),
    )
    .await
    .expect(200);
    let en = t.get("/api/v1/articles/talks-en").await.expect(200).json();
    assert_eq!(en["translations"].as_array().unwrap().len(), 1);
    let es = t.get("/api/v1/articles/talks-es").await.expect(200).json();
    assert_eq!(es["translations"], json!([]));
    // A draft edition is there for staff only.
    t.article(
        &editor,
        json!({"slug": "talks-es-draft", "language": "es", "title": "Borrador",
        "translation_of": "talks-en"}),
    )
    .await;
    let public = t
        .get("/api/v1/articles/talks-en/translations")
        .await
        .expect(200)
        .json();
    assert_eq!(languages_of(&public), ["ar"]);
    let staff = t
        .get_as(&editor, "/api/v1/articles/talks-en/translations")
        .await
        .expect(200)
        .json();
    assert_eq!(languages_of(&staff), ["ar", "es"]);
}

#[actix_web::test]
async fn most_read_ranks_by_views_in_the_window() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    for (slug, section, lang) in [
        ("a", "politics", "en"),
        ("b", "sports", "en"),
        ("c", "politics", "ar"),
        ("d", "news", "en"),
    ] {
        t.article(
            &editor,
            json!({"slug": slug, "title": format!("Story {slug}"), "section": section,
            "language": lang, "status": "published"}),
        )
        .await;
    }
    t.article(&editor, json!({"slug": "draft", "title": "Draft"}))
        .await;
    let view = |slug: &'static str| {
        let t = &t;
        async move {
            t.send(TestRequest::post().uri(&format!("/api/v1/articles/{slug}/views")))
                .await
        }
    };
    for (slug, n) in [("a", 2), ("b", 5), ("c", 3), ("d", 1)] {
        for _ in 0..n {
            let resp = view(slug).await;
            assert_eq!(resp.status, 204, "{}", String::from_utf8_lossy(&resp.body));
            assert!(resp.body.is_empty());
        }
    }
    // Drafts and unknown articles cannot be counted.
    assert_eq!(view("draft").await.status, 404);
    assert_eq!(view("nothing").await.status, 404);
    t.state.flush_views().unwrap();
    let ranked = t.get("/api/v1/articles/most-read").await.expect(200).json();
    assert_eq!(slugs_of(&ranked), ["b", "c", "a", "d"]);
    let views: Vec<i64> = ranked["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["views"].as_i64().unwrap())
        .collect();
    assert_eq!(views, [5, 3, 2, 1]);
    assert_eq!(ranked["meta"]["window"], "24h");
    assert_eq!(
        t.slugs("/api/v1/articles/most-read?lang=en&limit=2").await,
        ["b", "a"]
    );
    // A section includes its children (news > politics).
    assert_eq!(
        t.slugs("/api/v1/articles/most-read?section=news&lang=en")
            .await,
        ["a", "d"]
    );
    assert_eq!(
        t.slugs("/api/v1/articles/most-read?window=30d&section=sports")
            .await,
        ["b"]
    );
    t.get("/api/v1/articles/most-read?window=1y")
        .await
        .problem(400, "bad_request");
    t.get("/api/v1/articles/most-read?limit=500")
        .await
        .problem(400, "bad_request");
    // A new view counts after the next flush.
    view("d").await;
    view("d").await;
    view("d").await;
    t.state.flush_views().unwrap();
    assert_eq!(
        t.slugs("/api/v1/articles/most-read?lang=en").await,
        ["b", "d", "a"]
    );
}

#[actix_web::test]
async fn one_client_cannot_inflate_a_count_without_limit() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "popular", "title": "Popular", "status": "published"}),
    )
    .await;
    let mut counted = 0;
    let mut throttled = None;
    for _ in 0..100 {
        let resp = t
            .send(TestRequest::post().uri("/api/v1/articles/popular/views"))
            .await;
        match resp.status {
            204 => counted += 1,
            429 => {
                throttled = Some(resp);
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let throttled = throttled.expect("a flood of beacons is throttled");
    assert!(throttled.header("retry-after").is_some());
    assert!(
        counted <= 25,
        "{counted} views counted from one address at once"
    );
    t.state.flush_views().unwrap();
    let ranked = t.get("/api/v1/articles/most-read").await.expect(200).json();
    assert_eq!(ranked["data"][0]["views"].as_i64().unwrap(), counted);
}

/// A published story in `section` with `tags`, published `age` seconds ago.
fn story(slug: &str, tags: Value, section: &str, age: i64) -> Value {
    json!({"slug": slug, "title": format!("Story {slug}"), "tags": tags, "section": section,
           "status": "published", "published_at": common::in_seconds(-age)})
}

#[actix_web::test]
async fn related_ranks_shared_tags_then_section_and_next_leaves_them_out() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    t.article(
        &editor,
        story("main", json!(["gaza", "elections"]), "politics", 10),
    )
    .await;
    t.article(
        &editor,
        story("two-tags", json!(["gaza", "elections"]), "sports", 500),
    )
    .await;
    t.article(
        &editor,
        story("one-tag-same-section", json!(["gaza"]), "politics", 400),
    )
    .await;
    t.article(
        &editor,
        story("one-tag", json!(["elections"]), "sports", 300),
    )
    .await;
    t.article(
        &editor,
        story("section-only-old", json!([]), "politics", 900),
    )
    .await;
    t.article(
        &editor,
        story("section-only-new", json!([]), "politics", 50),
    )
    .await;
    t.article(
        &editor,
        story("nothing-shared", json!(["climate"]), "sports", 20),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "arabic", "language": "ar", "title": "قصة", "tags": ["gaza", "elections"],
        "section": "politics", "status": "published"}),
    )
    .await;
    t.article(&editor, json!({"slug": "draft", "title": "Draft", "tags": ["gaza", "elections"], "section": "politics"})).await;
    let related = t.slugs("/api/v1/articles/main/related?limit=10").await;
    assert_eq!(
        related,
        [
            "two-tags",
            "one-tag-same-section",
            "one-tag",
            "section-only-new",
            "section-only-old"
        ]
    );
    assert_eq!(
        t.slugs("/api/v1/articles/main/related?limit=2").await,
        ["two-tags", "one-tag-same-section"]
    );
    let body = t
        .get("/api/v1/articles/main/related")
        .await
        .expect(200)
        .json();
    assert!(body["meta"]["count"].as_u64().unwrap() <= 5);
    // Read next: newest in the section, without the article and its related ones.
    assert_eq!(
        t.slugs("/api/v1/articles/main/next?limit=2").await,
        ["section-only-new", "section-only-old"]
    );
    assert_eq!(
        t.slugs("/api/v1/articles/main/next?limit=5").await,
        Vec::<String>::new()
    );
    t.get("/api/v1/articles/main/related?limit=0")
        .await
        .problem(400, "bad_request");
    t.get("/api/v1/articles/draft/related")
        .await
        .problem(404, "not_found");
}

/// A small tag's stories are read from the tag itself and a large tag's by walking the
/// newest stories (the choice follows the tag's size against the archive's); related
/// ranks their union the same either way, with only what readers see.
#[actix_web::test]
async fn related_merges_a_small_tag_and_a_large_one_and_shows_only_live_stories() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    t.article(
        &editor,
        story("main", json!(["gaza", "climate"]), "politics", 10),
    )
    .await;
    // "gaza" is large: 26 stories of the 28 readers see.
    for i in 0..24 {
        t.article(
            &editor,
            story(
                &format!("gaza-{i:02}"),
                json!(["gaza"]),
                "sports",
                100 + i * 10,
            ),
        )
        .await;
    }
    t.article(
        &editor,
        story("both", json!(["gaza", "climate"]), "sports", 5_000),
    )
    .await;
    // "climate" is small: four stories readers see, and three they do not.
    t.article(
        &editor,
        story("climate-new", json!(["climate"]), "sports", 5),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "climate-arabic", "language": "ar", "title": "قصة", "tags": ["climate"],
               "section": "politics", "status": "published"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "climate-draft", "title": "Draft", "tags": ["climate"]}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "climate-scheduled", "title": "Later", "tags": ["climate"],
               "status": "published", "published_at": common::in_seconds(3_600)}),
    )
    .await;
    t.article(
        &editor,
        story("climate-trashed", json!(["climate"]), "politics", 1),
    )
    .await;
    t.delete(&editor, "/api/v1/articles/climate-trashed")
        .await
        .expect(204);

    let mut expected = vec!["both".to_owned(), "climate-new".to_owned()];
    expected.extend((0..18).map(|i| format!("gaza-{i:02}")));
    assert_eq!(
        t.slugs("/api/v1/articles/main/related?limit=20").await,
        expected
    );
    assert_eq!(
        t.slugs("/api/v1/articles/main/related?limit=3").await,
        ["both", "climate-new", "gaza-00"]
    );
    // From the small tag's side: "climate-new" shares its one tag with "main" and
    // "both", and its section with "both" only.
    assert_eq!(
        t.slugs("/api/v1/articles/climate-new/related?limit=2")
            .await,
        ["both", "main"]
    );
}

/// A large tag's newest stories are read by their publication time: a story moved in
/// time, unpublished, scheduled, created or retagged moves in related stories at once.
#[actix_web::test]
async fn related_follows_stories_moved_in_time_unpublished_scheduled_or_retagged() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    t.article(&editor, story("main", json!(["gaza"]), "politics", 10))
        .await;
    // Large against an archive of 17: more than 2.5 × √17 stories.
    for i in 0..16 {
        t.article(
            &editor,
            story(
                &format!("g-{i:02}"),
                json!(["gaza"]),
                "sports",
                100 + i * 10,
            ),
        )
        .await;
    }
    const RELATED: &str = "/api/v1/articles/main/related?limit=3";
    assert_eq!(t.slugs(RELATED).await, ["g-00", "g-01", "g-02"]);
    // The oldest story republished as the newest.
    t.patch(
        &editor,
        "/api/v1/articles/g-15",
        json!({"published_at": common::in_seconds(-20)}),
    )
    .await
    .expect(200);
    assert_eq!(t.slugs(RELATED).await, ["g-15", "g-00", "g-01"]);
    // Back to a draft: readers no longer see it anywhere.
    t.patch(&editor, "/api/v1/articles/g-15", json!({"status": "draft"}))
        .await
        .expect(200);
    assert_eq!(t.slugs(RELATED).await, ["g-00", "g-01", "g-02"]);
    // Scheduled for later: not before its time.
    t.patch(
        &editor,
        "/api/v1/articles/g-00",
        json!({"published_at": common::in_seconds(3_600)}),
    )
    .await
    .expect(200);
    assert_eq!(t.slugs(RELATED).await, ["g-01", "g-02", "g-03"]);
    // A new story with the tag, and one that leaves it.
    t.article(&editor, story("g-new", json!(["gaza"]), "sports", 15))
        .await;
    t.patch(
        &editor,
        "/api/v1/articles/g-01",
        json!({"tags": ["climate"]}),
    )
    .await
    .expect(200);
    assert_eq!(t.slugs(RELATED).await, ["g-new", "g-02", "g-03"]);
}

/// "Read next" and related stories take each candidate's language and visibility from
/// the stories' facts (read from an index, not the rows): stories in the section but in
/// another language, drafts, scheduled, expired and trashed ones never show, and a
/// story without a section reads the newest of its language.
#[actix_web::test]
async fn next_and_related_show_only_live_stories_in_the_language() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    t.article(&editor, story("main", json!(["gaza"]), "politics", 10))
        .await;
    for (slug, age) in [("live-1", 20), ("live-2", 30), ("live-3", 40)] {
        t.article(&editor, story(slug, json!(["gaza"]), "politics", age))
            .await;
    }
    for slug in ["expired", "scheduled", "trashed", "drafted"] {
        t.article(&editor, story(slug, json!(["gaza"]), "politics", 15))
            .await;
    }
    t.article(
        &editor,
        json!({"slug": "spanish", "language": "es", "title": "Historia", "tags": ["gaza"],
               "section": "politics", "status": "published", "published_at": common::in_seconds(-12)}),
    )
    .await;
    t.patch(
        &editor,
        "/api/v1/articles/expired",
        json!({"unpublish_at": common::in_seconds(-5)}),
    )
    .await
    .expect(200);
    t.patch(
        &editor,
        "/api/v1/articles/scheduled",
        json!({"published_at": common::in_seconds(3_600)}),
    )
    .await
    .expect(200);
    t.patch(
        &editor,
        "/api/v1/articles/drafted",
        json!({"status": "draft"}),
    )
    .await
    .expect(200);
    t.delete(&editor, "/api/v1/articles/trashed")
        .await
        .expect(204);

    assert_eq!(
        t.slugs("/api/v1/articles/main/related?limit=10").await,
        ["live-1", "live-2", "live-3"]
    );
    // Next leaves out the related ones: with one related story, the other two.
    assert_eq!(
        t.slugs("/api/v1/articles/main/next?limit=1").await,
        ["live-2"]
    );
    let page = t
        .get("/api/v1/articles/main?include=related,next")
        .await
        .expect(200)
        .json();
    let slugs = |key: &str| -> Vec<String> {
        page[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(slugs("related"), ["live-1", "live-2", "live-3"]);
    assert_eq!(slugs("next"), Vec::<String>::new());
    // The Spanish story's own edition: the English ones are never its related or next.
    assert_eq!(
        t.slugs("/api/v1/articles/spanish/related").await,
        Vec::<String>::new()
    );
    assert_eq!(
        t.slugs("/api/v1/articles/spanish/next").await,
        Vec::<String>::new()
    );
    // A story moved to English is related to the English ones at once, the newest
    // first, and leaves them when it moves back.
    for (language, related) in [
        ("en", vec!["spanish", "live-1", "live-2", "live-3"]),
        ("es", vec!["live-1", "live-2", "live-3"]),
    ] {
        t.patch(
            &editor,
            "/api/v1/articles/spanish",
            json!({"language": language}),
        )
        .await
        .expect(200);
        assert_eq!(
            t.slugs("/api/v1/articles/main/related?limit=10").await,
            related,
            "after moving to {language}"
        );
    }
    // Without a section, next is the newest of the language that readers see.
    t.article(
        &editor,
        json!({"slug": "loose", "title": "Loose", "status": "published",
               "published_at": common::in_seconds(-1)}),
    )
    .await;
    assert_eq!(
        t.slugs("/api/v1/articles/loose/next?limit=3").await,
        ["main", "live-1", "live-2"]
    );
}

#[actix_web::test]
async fn collections_list_pinned_articles_first_then_in_order() {
    let t = common::app().await;
    let editor = t.editor().await;
    let media = t.newsroom(&editor).await;
    for i in 1..=5 {
        t.article(
            &editor,
            json!({"slug": format!("s{i}"), "title": format!("Story {i}"), "status": "published"}),
        )
        .await;
    }
    t.article(&editor, json!({"slug": "draft", "title": "Draft"}))
        .await;
    let created = t
        .post(&editor, "/api/v1/collections", json!({"name": "War in Gaza", "description": "Running coverage.",
            "hero_media_id": media, "articles": ["s1", "s2", "draft", "s3", "s4", "s5"], "pinned": ["s4", "s2"]}))
        .await
        .expect(201);
    assert_eq!(
        created.header("location").as_deref(),
        Some("/api/v1/collections/war-in-gaza")
    );
    let c = created.json();
    assert_eq!(c["language"], "en");
    assert_eq!(c["hero_media"]["credit"], "AP");
    // Pinned in the collection's order, then the rest; the draft is not shown.
    let page = t
        .get("/api/v1/collections/war-in-gaza")
        .await
        .expect(200)
        .json();
    assert_eq!(
        slugs_of(&json!({"data": page["articles"]})),
        ["s2", "s4", "s1", "s3", "s5"]
    );
    assert_eq!(page["pinned"], json!(["s2", "s4"]));
    // By cursor.
    let first = t
        .get("/api/v1/collections/war-in-gaza?per_page=2")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs_of(&json!({"data": first["articles"]})), ["s2", "s4"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = t
        .get(&format!(
            "/api/v1/collections/war-in-gaza?per_page=2&cursor={cursor}"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(slugs_of(&json!({"data": second["articles"]})), ["s1", "s3"]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let last = t
        .get(&format!(
            "/api/v1/collections/war-in-gaza?per_page=2&cursor={cursor}"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(slugs_of(&json!({"data": last["articles"]})), ["s5"]);
    assert!(last["next_cursor"].is_null());
    // The article filter.
    let mut filtered = t.slugs("/api/v1/articles?collection=war-in-gaza").await;
    filtered.sort();
    assert_eq!(filtered, ["s1", "s2", "s3", "s4", "s5"]);
    // Reordering and unpinning.
    t.patch(
        &editor,
        "/api/v1/collections/war-in-gaza",
        json!({"articles": ["s5", "s1"], "pinned": []}),
    )
    .await
    .expect(200);
    let page = t
        .get("/api/v1/collections/war-in-gaza")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs_of(&json!({"data": page["articles"]})), ["s5", "s1"]);
    // Validation names the field.
    let bad = t
        .post(
            &editor,
            "/api/v1/collections",
            json!({"name": "X", "articles": ["s1"], "pinned": ["s2"], "language": "fr"}),
        )
        .await
        .problem(422, "validation_failed");
    let fields = common::Resp::error_fields(&bad);
    assert!(
        fields.contains(&"pinned[0]".to_owned()) && fields.contains(&"language".to_owned()),
        "{fields:?}"
    );
    t.post(
        &editor,
        "/api/v1/collections",
        json!({"name": "Y", "articles": ["nope"]}),
    )
    .await
    .problem(422, "validation_failed");
    // Writers cannot manage collections; anonymous readers can list them.
    let writer = t.writer().await;
    t.post(&writer, "/api/v1/collections", json!({"name": "Z"}))
        .await
        .problem(403, "forbidden");
    let listed = t.get("/api/v1/collections").await.expect(200).json();
    assert_eq!(listed["meta"]["total"], 1);
    assert!(listed["data"][0].get("articles").is_none());
    // The hero image is in use; deleting the collection frees it and keeps the articles.
    t.delete(&editor, &format!("/api/v1/media/{media}"))
        .await
        .problem(409, "in_use");
    t.delete(&editor, "/api/v1/collections/war-in-gaza")
        .await
        .expect(204);
    t.get("/api/v1/collections/war-in-gaza")
        .await
        .problem(404, "not_found");
    t.get("/api/v1/articles/s1").await.expect(200);
}

/// A collection may hold its documented 1,000 articles: every slug is looked up, not
/// only the first hundred.
#[actix_web::test]
async fn a_collection_takes_more_than_a_hundred_articles() {
    let t = common::app().await;
    let editor = t.editor().await;
    let db = t.state.db.clone();
    newsdesk::db::run_blocking(move || newsdesk::seed::bulk::seed(&db, 150, None))
        .await
        .unwrap();
    let mut slugs = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/articles?per_page=100&cursor={c}"),
            None => "/api/v1/articles?per_page=100".to_owned(),
        };
        let page = t.get(&path).await.expect(200).json();
        slugs.extend(common::slugs_of(&page));
        match page["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(slugs.len() >= 150, "{}", slugs.len());
    let created = t
        .post(
            &editor,
            "/api/v1/collections",
            json!({"name": "Archive", "articles": slugs[..150]}),
        )
        .await
        .expect(201)
        .json();
    assert_eq!(created["name"], "Archive");
    let page = t
        .get("/api/v1/collections/archive")
        .await
        .expect(200)
        .json();
    assert!(page["articles"].as_array().is_some_and(|a| !a.is_empty()));
}
