//! The representation cache never serves a stale, draft or not-yet-due page; its
//! counters show it really answers repeated anonymous reads.

use serde_json::{Value, json};

use crate::common::{self, HIT, MISS, UNTOUCHED, in_seconds, slugs_of};

#[actix_web::test]
async fn a_cached_list_is_never_stale_after_a_write() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "First", "status": "published"}))
        .await;
    let list = || {
        let t = &t;
        async move {
            let (resp, used) = t.get_counted("/api/v1/articles").await;
            (common::slugs_of(&resp.expect(200).json()), used)
        }
    };
    assert_eq!(list().await, (vec!["first".into()], MISS));
    assert_eq!(
        list().await,
        (vec!["first".into()], HIT),
        "served from the cache"
    );
    t.article(&editor, json!({"title": "Second", "status": "published"}))
        .await;
    assert_eq!(
        list().await,
        (vec!["second".into(), "first".into()], MISS),
        "recomputed after the write"
    );
    assert_eq!(list().await.1, HIT, "then served from the cache again");
    t.article(&editor, json!({"title": "A draft"})).await;
    assert_eq!(list().await.0, ["second", "first"], "drafts never show");
    t.delete(&editor, "/api/v1/articles/second")
        .await
        .expect(204);
    assert_eq!(list().await, (vec!["first".into()], MISS));
}

#[actix_web::test]
async fn requests_with_a_token_never_touch_the_cache() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "Story", "status": "published"}))
        .await;
    for path in ["/api/v1/articles", "/api/v1/articles/story"] {
        assert_eq!(t.get_counted(path).await.1, MISS, "{path}");
        let before = t.state.cache.stats();
        for _ in 0..3 {
            let staff = t.get_as(&editor, path).await.expect(200);
            assert_eq!(
                staff.header("cache-control").as_deref(),
                Some("private, no-store")
            );
        }
        assert_eq!(t.cache_use_since(before), UNTOUCHED, "{path}");
        assert_eq!(t.get_counted(path).await.1, HIT, "{path}");
    }
}

#[actix_web::test]
async fn an_article_page_follows_edits_to_it_and_to_what_it_embeds() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Gaza"}))
        .await
        .expect(201);
    t.article(
        &editor,
        json!({"title": "Story", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    let (first, used) = t.get_counted("/api/v1/articles/story").await;
    assert_eq!(used, MISS);
    let (again, used) = t.get_counted("/api/v1/articles/story").await;
    assert_eq!((again.body, used), (first.body, HIT));
    t.patch(&editor, "/api/v1/tags/gaza", json!({"name": "Gaza Strip"}))
        .await
        .expect(200);
    let (edited, used) = t.get_counted("/api/v1/articles/story").await;
    assert_eq!(edited.json()["tags"][0]["name"], "Gaza Strip");
    assert_eq!(used, MISS, "an edit to what the page embeds retires it");
    t.patch(
        &editor,
        "/api/v1/articles/story",
        json!({"title": "Story, updated"}),
    )
    .await
    .expect(200);
    assert_eq!(
        t.get("/api/v1/articles/story").await.json()["title"],
        "Story, updated"
    );
    t.patch(
        &editor,
        "/api/v1/articles/story",
        json!({"status": "draft"}),
    )
    .await
    .expect(200);
    t.get("/api/v1/articles/story")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn creating_something_else_keeps_article_pages_but_refreshes_counts() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Gaza"}))
        .await
        .expect(201);
    t.article(
        &editor,
        json!({"title": "One", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    assert_eq!(t.get_counted("/api/v1/articles/one").await.1, MISS);
    assert_eq!(t.get("/api/v1/tags/gaza").await.json()["article_count"], 1);
    t.post(&editor, "/api/v1/tags", json!({"name": "Climate"}))
        .await
        .expect(201);
    assert_eq!(
        t.get_counted("/api/v1/articles/one").await.1,
        HIT,
        "a new tag leaves article pages cached"
    );
    t.article(
        &editor,
        json!({"title": "Two", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    assert_eq!(
        t.get_counted("/api/v1/articles/one").await.1,
        HIT,
        "so does a new article"
    );
    let (tag, used) = t.get_counted("/api/v1/tags/gaza").await;
    assert_eq!(tag.json()["article_count"], 2);
    assert_eq!(used, MISS, "counts are recomputed");
}

/// An article read with `include=related,next` embeds other stories, so a new story in
/// its language must show in it at once; a story in another language, which it never
/// shows, and a draft leave it cached.
#[actix_web::test]
async fn an_article_page_with_related_stories_takes_in_new_stories() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let story = |slug: &str, language: &str, tags: Value, status: &str| {
        json!({"slug": slug, "title": format!("Story {slug}"), "language": language,
               "tags": tags, "section": "politics", "status": status})
    };
    t.article(&editor, story("main", "en", json!(["gaza"]), "published"))
        .await;
    const PAGE: &str = "/api/v1/articles/main?include=related,next";
    let slugs = |resp: &common::Resp, key: &str| -> Vec<String> {
        resp.json()[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = t.get(PAGE).await.expect(200);
    assert_eq!(slugs(&first, "related"), Vec::<String>::new());
    assert_eq!(slugs(&first, "next"), Vec::<String>::new());
    assert_eq!(t.get_counted(PAGE).await.1, HIT);

    t.article(
        &editor,
        story("spanish", "es", json!(["gaza"]), "published"),
    )
    .await;
    t.article(&editor, story("draft", "en", json!(["gaza"]), "draft"))
        .await;
    let (resp, used) = t.get_counted(PAGE).await;
    assert_eq!(resp.body, first.body, "nothing it shows has changed");
    assert_eq!(used, HIT, "so it stays cached");

    t.article(&editor, story("sequel", "en", json!(["gaza"]), "published"))
        .await;
    let (resp, used) = t.get_counted(PAGE).await;
    assert_eq!(slugs(&resp, "related"), ["sequel"], "a new related story");
    assert_eq!(used, MISS);
    assert_ne!(resp.header("etag"), first.header("etag"));
    let next = t
        .get("/api/v1/articles/main?include=next")
        .await
        .expect(200);
    assert_eq!(
        slugs(&next, "next"),
        Vec::<String>::new(),
        "related, not next"
    );
}

/// `/related` and `/next` change only when a public story of their article's language
/// is created (or something is edited): a draft, a story in another language or a new
/// tag leaves them cached.
#[actix_web::test]
async fn related_and_next_stay_cached_until_a_story_of_their_language() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let story = |slug: &str, language: &str, status: &str| {
        json!({"slug": slug, "title": format!("Story {slug}"), "language": language,
               "tags": ["gaza"], "section": "politics", "status": status})
    };
    t.article(&editor, story("main", "en", "published")).await;
    const PAGES: [&str; 2] = [
        "/api/v1/articles/main/related",
        "/api/v1/articles/main/next",
    ];
    let mut first = Vec::new();
    for page in PAGES {
        let resp = t.get(page).await.expect(200);
        assert_eq!(common::slugs_of(&resp.json()), Vec::<String>::new());
        assert_eq!(t.get_counted(page).await.1, HIT, "{page}");
        first.push(resp);
    }

    t.article(&editor, story("spanish", "es", "published"))
        .await;
    t.article(&editor, story("draft", "en", "draft")).await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Floods"}))
        .await
        .expect(201);
    for (page, before) in PAGES.iter().zip(&first) {
        let (resp, used) = t.get_counted(page).await;
        assert_eq!(
            resp.body, before.body,
            "{page}: nothing it shows has changed"
        );
        assert_eq!(used, HIT, "{page}: so it stays cached");
    }

    t.article(&editor, story("sequel", "en", "published")).await;
    let (related, used) = t.get_counted(PAGES[0]).await;
    assert_eq!(common::slugs_of(&related.json()), ["sequel"]);
    assert_eq!(used, MISS);
    assert_eq!(
        t.get_counted(PAGES[1]).await.1,
        MISS,
        "read next was asked again"
    );
}

/// A section's page lists its subsections' stories too, so a subsection created after
/// the page was cached, and a story in it, must show on it at once.
#[actix_web::test]
async fn a_section_page_takes_in_stories_of_a_new_subsection() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/sections", json!({"name": "News"}))
        .await
        .expect(201);
    t.article(
        &editor,
        json!({"slug": "old", "title": "Old", "section": "news", "status": "published"}),
    )
    .await;
    const PAGE: &str = "/api/v1/articles?section=news";
    assert_eq!(
        common::slugs_of(&t.get(PAGE).await.expect(200).json()),
        ["old"]
    );
    t.post(
        &editor,
        "/api/v1/sections",
        json!({"name": "World", "parent": "news"}),
    )
    .await
    .expect(201);
    t.article(
        &editor,
        json!({"slug": "abroad", "title": "Abroad", "section": "world", "status": "published"}),
    )
    .await;
    let page = t.get(PAGE).await.expect(200).json();
    assert_eq!(common::slugs_of(&page), ["abroad", "old"]);
    assert_eq!(page["meta"]["total"], 2);
}

#[actix_web::test]
async fn a_scheduled_article_appears_on_time_even_with_a_cached_list() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "Now", "status": "published"}))
        .await;
    t.article(
        &editor,
        json!({"title": "Soon", "status": "published",
            "published_at": in_seconds(common::SCHEDULE_AHEAD)}),
    )
    .await;
    assert_eq!(t.slugs("/api/v1/articles").await, ["now"]);
    let (cached, used) = t.get_counted("/api/v1/articles").await;
    assert_eq!(common::slugs_of(&cached.json()), ["now"]);
    assert_eq!(used, HIT, "the list is cached before the story falls due");
    common::eventually(common::due_by(common::SCHEDULE_AHEAD), || async {
        common::equals(
            t.slugs("/api/v1/articles").await,
            vec!["soon".into(), "now".into()],
        )
    })
    .await;
}

#[actix_web::test]
async fn writes_by_another_process_are_noticed() {
    let (dir, config) = common::fresh_config();
    let a = common::app_with(dir.clone(), config.clone()).await;
    let editor = a.editor().await;
    a.article(&editor, json!({"title": "Old", "status": "published"}))
        .await;
    assert_eq!(a.get("/api/v1/articles/old").await.json()["title"], "Old");
    // A second process on the same database file writes.
    let b = common::app_with(dir, config).await;
    let other_editor = b.editor().await;
    b.patch(
        &other_editor,
        "/api/v1/articles/old",
        json!({"title": "Old, edited elsewhere"}),
    )
    .await
    .expect(200);
    // The freshness poll (every 250 ms in a server) picks the change up.
    a.state.cache.refresh(&a.state.db).unwrap();
    let (fresh, used) = a.get_counted("/api/v1/articles/old").await;
    assert_eq!(fresh.json()["title"], "Old, edited elsewhere");
    assert_eq!(used, MISS);
}

#[actix_web::test]
async fn a_new_article_refreshes_exactly_the_lists_it_belongs_to() {
    let t = common::app().await;
    let editor = t.editor().await;
    for name in ["Gaza", "Climate"] {
        t.post(&editor, "/api/v1/tags", json!({"name": name}))
            .await
            .expect(201);
    }
    t.article(
        &editor,
        json!({"title": "Old gaza", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    t.article(
        &editor,
        json!({"title": "Old climate", "tags": ["climate"], "status": "published"}),
    )
    .await;
    let gaza = t.get("/api/v1/articles?tag=gaza").await.expect(200);
    let climate = t.get("/api/v1/articles?tag=climate").await.expect(200);
    let front = t.get("/api/v1/articles").await.expect(200);
    t.article(
        &editor,
        json!({"title": "New gaza", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    let (gaza_now, used) = t.get_counted("/api/v1/articles?tag=gaza").await;
    assert_eq!(common::slugs_of(&gaza_now.json()), ["new-gaza", "old-gaza"]);
    assert_eq!(used, MISS);
    assert_ne!(gaza_now.body, gaza.body);
    let (climate_now, used) = t.get_counted("/api/v1/articles?tag=climate").await;
    assert_eq!(climate_now.body, climate.body, "untouched");
    assert_eq!(used, HIT, "and still served from the cache");
    let (front_now, used) = t.get_counted("/api/v1/articles").await;
    assert_eq!(
        common::slugs_of(&front_now.json()).len(),
        3,
        "the front page takes every new story"
    );
    assert_ne!(front_now.body, front.body);
    assert_eq!(used, MISS);
    // A draft leaves every public list as it was, cached.
    t.article(&editor, json!({"title": "Draft gaza", "tags": ["gaza"]}))
        .await;
    for (path, body) in [
        ("/api/v1/articles", &front_now.body),
        ("/api/v1/articles?tag=gaza", &gaza_now.body),
    ] {
        let (resp, used) = t.get_counted(path).await;
        assert_eq!(&resp.body, body, "{path}");
        assert_eq!(used, HIT, "{path}");
    }
}

#[actix_web::test]
async fn remembered_totals_stay_exact_through_creates_and_deletes() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Gaza"}))
        .await
        .expect(201);
    let total = |list: serde_json::Value| list["meta"]["total"].as_i64().unwrap();
    t.article(
        &editor,
        json!({"title": "One", "tags": ["gaza"], "status": "published"}),
    )
    .await;
    assert_eq!(total(t.get("/api/v1/articles?tag=gaza").await.json()), 1);
    for i in 0..3 {
        t.article(
            &editor,
            json!({"title": format!("More {i}"), "tags": ["gaza"], "status": "published"}),
        )
        .await;
        // A second page shares the remembered total; its first read counts anew only once.
        let page2 = t
            .get("/api/v1/articles?tag=gaza&per_page=1&page=2")
            .await
            .json();
        assert_eq!(total(page2), 2 + i);
    }
    t.article(
        &editor,
        json!({"title": "Unrelated", "status": "published"}),
    )
    .await;
    t.article(&editor, json!({"title": "Hidden", "tags": ["gaza"]}))
        .await;
    assert_eq!(total(t.get("/api/v1/articles?tag=gaza").await.json()), 4);
    t.delete(&editor, "/api/v1/articles/one").await.expect(204);
    assert_eq!(total(t.get("/api/v1/articles?tag=gaza").await.json()), 3);
    assert_eq!(total(t.get("/api/v1/articles").await.json()), 4);
}

/// A list page recomputed after a create reads no story's tags, bylines, regions,
/// section or image: it takes the others' from the page before and the new story's
/// from its create; any edit of what a story embeds makes every story's links be read
/// again.
#[actix_web::test]
async fn a_recomputed_list_reads_only_the_new_storys_links() {
    let t = common::app().await;
    let editor = t.editor().await;
    let image = t.newsroom(&editor).await;
    t.patch(
        &editor,
        "/api/v1/authors/omar-said",
        json!({"avatar_media_id": image}),
    )
    .await
    .expect(200);
    for i in 0..3 {
        t.article(
            &editor,
            json!({"title": format!("Story {i}"), "status": "published", "section": "politics",
                   "tags": ["gaza", "elections"], "regions": ["mena"],
                   "authors": ["omar-said", "leila-haddad"], "hero_media_id": image}),
        )
        .await;
    }
    let front = || {
        let t = &t;
        async move {
            let before = t.state.cache.stats().links_reused;
            let page = t.get("/api/v1/articles").await.expect(200).json();
            (page, t.state.cache.stats().links_reused - before)
        }
    };
    assert_eq!(front().await.1, 3, "each story's links, kept by its create");
    // A draft and a scheduled story are on no public page: their creates keep nothing.
    let kept = t.state.cache.stats().links_kept;
    t.article(&editor, json!({"title": "Draft", "tags": ["gaza"]}))
        .await;
    t.article(
        &editor,
        json!({"title": "Later", "status": "published", "published_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(t.state.cache.stats().links_kept, kept);
    t.article(
        &editor,
        json!({"title": "Story 3", "status": "published", "tags": ["gaza"]}),
    )
    .await;
    let (page, kept) = front().await;
    assert_eq!(slugs_of(&page)[0], "story-3");
    assert_eq!(
        kept, 4,
        "the three stories shown before, and the new one's kept by its create"
    );
    let fresh = t.get_as(&editor, "/api/v1/articles").await.json();
    assert_eq!(page["data"], fresh["data"], "as a fresh read shows them");
    assert_eq!(page["data"][1]["authors"][0]["avatar"]["id"], image);

    t.patch(&editor, "/api/v1/tags/gaza", json!({"name": "Gaza Strip"}))
        .await
        .expect(200);
    let (page, kept) = front().await;
    assert_eq!(kept, 0, "a rename retires every story's links");
    for story in page["data"].as_array().unwrap() {
        assert_eq!(story["tags"][0]["name"], "Gaza Strip", "{}", story["slug"]);
    }
    t.patch(
        &editor,
        &format!("/api/v1/media/{image}"),
        json!({"alt_text": "Boats at dawn"}),
    )
    .await
    .expect(200);
    t.article(&editor, json!({"title": "Story 4", "status": "published"}))
        .await;
    let (page, kept) = front().await;
    assert_eq!(
        kept, 1,
        "the image changed since the others were read: only story 4's, kept by its create"
    );
    assert_eq!(
        page["data"][1]["hero_media"],
        Value::Null,
        "story 3 has none"
    );
    assert_eq!(page["data"][2]["hero_media"]["alt_text"], "Boats at dawn");
    assert_eq!(
        page["data"][2]["authors"][0]["avatar"]["alt_text"],
        "Boats at dawn"
    );
    t.patch(
        &editor,
        "/api/v1/articles/story-2",
        json!({"tags": ["climate"], "section": "sports"}),
    )
    .await
    .expect(200);
    assert_eq!(front().await.1, 0, "an edit of a story retires them too");
    t.article(&editor, json!({"title": "Story 5", "status": "published"}))
        .await;
    let (page, kept) = front().await;
    assert_eq!(kept, 6, "all six, the new story's kept by its create");
    let edited = &page["data"][3];
    assert_eq!(edited["slug"], "story-2");
    assert_eq!(edited["tags"][0]["slug"], "climate");
    assert_eq!(edited["section"]["slug"], "sports");
    let fresh = t.get_as(&editor, "/api/v1/articles").await.json();
    assert_eq!(page["data"], fresh["data"]);

    // A create's links are named in its story's language, as a read of the list finds
    // them.
    t.patch(
        &editor,
        "/api/v1/tags/climate",
        json!({"localized": {"ar": {"name": "المناخ"}}}),
    )
    .await
    .expect(200);
    t.article(
        &editor,
        json!({"title": "قصة", "slug": "qissa", "language": "ar", "status": "published",
               "tags": ["climate"], "section": "politics"}),
    )
    .await;
    let before = t.state.cache.stats().links_reused;
    let page = t
        .get("/api/v1/articles?tag=climate")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs_of(&page), ["qissa", "story-2"]);
    assert_eq!(
        t.state.cache.stats().links_reused - before,
        1,
        "the new story's"
    );
    assert_eq!(page["data"][0]["tags"][0]["name"], "المناخ");
    assert_eq!(page["data"][1]["tags"][0]["name"], "Climate");
    let fresh = t
        .get_as(&editor, "/api/v1/articles?tag=climate")
        .await
        .json();
    assert_eq!(page["data"], fresh["data"]);
}
