//! Editorial safety: revisions with restore, the trash, corrections, embargo, preview
//! links and the audit log (API.md "Editorial safety").

use serde_json::{Value, json};

use crate::common::{self, PASSWORD, in_seconds};
use newsdesk::auth::Role;

/// The fields of an article a revision holds, as the article shows them (but its
/// status and times).
const EDITABLE: [&str; 12] = [
    "title",
    "summary",
    "body",
    "section",
    "tags",
    "authors",
    "regions",
    "source",
    "featured",
    "slug",
    "language",
    "hero_media",
];

/// The fields a revision's `diff` lists, in its order.
fn changed(revision: &Value) -> Vec<&str> {
    revision["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect()
}

fn titles(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_edit_is_a_revision_and_each_restores_to_exactly_its_fields() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let a = t
        .article(
            &editor,
            json!({"title": "Talks v0", "body": "Line one.\nLine two.\n", "tags": ["gaza"],
                "section": "politics", "summary": "First"}),
        )
        .await;
    let path = format!("/api/v1/articles/{}", a["id"]);
    // N edits, each changing something different.
    let edits = [
        json!({"title": "Talks v1"}),
        json!({"body": "Line one.\nLine 2, corrected.\n"}),
        json!({"tags": ["gaza", "elections"], "summary": null}),
        json!({"featured": true, "source": "Agencies"}),
        json!({"status": "published"}),
    ];
    let mut states = vec![t.get_as(&editor, &path).await.expect(200).json()];
    for e in &edits {
        t.patch(&editor, &path, e.clone()).await.expect(200);
        states.push(t.get_as(&editor, &path).await.expect(200).json());
    }
    let list = t
        .get_as(&editor, &format!("{path}/revisions"))
        .await
        .expect(200)
        .json();
    let numbers: Vec<i64> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(
        numbers,
        vec![6, 5, 4, 3, 2, 1],
        "one per edit, newest first"
    );
    assert_eq!(list["data"][5]["summary"], "created");
    assert_eq!(list["data"][4]["summary"], "changed title");
    assert_eq!(list["data"][0]["author"]["name"], "editor user");
    assert!(list["data"][0]["author"]["id"].is_i64());

    // The body's diff is readable: before, after and a unified diff by line.
    let r3 = t
        .get_as(&editor, &format!("{path}/revisions/3"))
        .await
        .expect(200)
        .json();
    assert_eq!(r3["diff"].as_array().unwrap().len(), 1, "{r3}");
    assert_eq!(r3["diff"][0]["field"], "body");
    assert_eq!(r3["diff"][0]["before"], "Line one.\nLine two.\n");
    let patch = r3["diff"][0]["patch"].as_str().unwrap();
    assert!(
        patch.contains("-Line two.") && patch.contains("+Line 2, corrected."),
        "{patch}"
    );
    assert_eq!(r3["fields"]["body"], "Line one.\nLine 2, corrected.\n");
    let r4 = t
        .get_as(&editor, &format!("{path}/revisions/4"))
        .await
        .expect(200)
        .json();
    assert_eq!(changed(&r4), vec!["summary", "tags"]);

    // Restoring revision n gives exactly the editable fields the article had then.
    for n in [1usize, 3, 4, 2] {
        let restored = t
            .post(&editor, &format!("{path}/revisions/{n}/restore"), json!({}))
            .await
            .expect(200)
            .json();
        for field in EDITABLE {
            assert_eq!(
                restored[field],
                states[n - 1][field],
                "revision {n}: {field}"
            );
        }
    }
    // A restore is itself a revision, and says so.
    let list = t
        .get_as(&editor, &format!("{path}/revisions"))
        .await
        .expect(200)
        .json();
    assert_eq!(list["data"][0]["number"], 10);
    assert_eq!(list["data"][0]["summary"], "restored revision 2");
    // Restoring revision 1 took the story back to a draft: readers lose it.
    t.get(&path).await.expect(404);

    // Errors: a revision that does not exist; readers never see revisions.
    t.get_as(&editor, &format!("{path}/revisions/99"))
        .await
        .problem(404, "not_found");
    t.get(&format!("{path}/revisions")).await.expect(401);
    t.get_as(&editor, &format!("{path}/revisions/x"))
        .await
        .expect(404);
}

#[actix_web::test]
async fn the_first_revision_holds_every_field_the_story_was_created_with() {
    let t = common::app().await;
    let editor = t.editor().await;
    let media = t.newsroom(&editor).await;
    // Every editable field set, the byline and tags out of alphabetical order.
    let made = t
        .article(
            &editor,
            json!({"title": "Harbour reopens", "slug": "harbour-reopens", "language": "es",
                "summary": "Boats are back.", "body": "First line.\n\nSecond line.\n",
                "section": "politics", "tags": ["elections", "gaza"],
                "authors": ["omar-said", "leila-haddad"], "regions": ["mena", "europe"],
                "source": "Agencies", "hero_media_id": media, "featured": true,
                "status": "published", "published_at": "2024-05-01T09:30:00Z",
                "unpublish_at": "2031-01-01T00:00:00Z"}),
        )
        .await;
    let path = "/api/v1/articles/harbour-reopens";
    let first = t
        .get_as(&editor, &format!("{path}/revisions/1"))
        .await
        .expect(200)
        .json();
    let f = &first["fields"];
    assert_eq!(f["slug"], "harbour-reopens");
    assert_eq!(f["language"], "es");
    assert_eq!(f["title"], "Harbour reopens");
    assert_eq!(f["summary"], "Boats are back.");
    assert_eq!(f["body"], "First line.\n\nSecond line.\n");
    assert_eq!(f["section"], "politics");
    assert_eq!(f["tags"], json!(["elections", "gaza"]));
    assert_eq!(f["authors"], json!(["omar-said", "leila-haddad"]));
    assert_eq!(f["regions"], json!(["mena", "europe"]));
    assert_eq!(f["source"], "Agencies");
    assert_eq!(f["hero_media_id"], media);
    assert_eq!(f["featured"], true);
    assert_eq!(f["status"], "published");
    assert_eq!(f["published_at"], made["published_at"]);
    assert_eq!(f["unpublish_at"], made["unpublish_at"]);
    // The next revision differs from it only in what the edit changed.
    t.patch(&editor, path, json!({"title": "Harbour reopens fully"}))
        .await
        .expect(200);
    let second = t
        .get_as(&editor, &format!("{path}/revisions/2"))
        .await
        .expect(200)
        .json();
    assert_eq!(changed(&second), vec!["title"], "{second}");
    // Restored after more edits, the story is again exactly as it was created.
    t.patch(
        &editor,
        path,
        json!({"authors": ["agencies"], "tags": [], "regions": null, "featured": false,
            "hero_media_id": null, "published_at": "2024-06-01T00:00:00Z"}),
    )
    .await
    .expect(200);
    let restored = t
        .post(&editor, &format!("{path}/revisions/1/restore"), json!({}))
        .await
        .expect(200)
        .json();
    let times = ["status", "published_at", "unpublish_at"];
    for field in EDITABLE.iter().chain(&times) {
        assert_eq!(restored[field], made[field], "{field}");
    }
}

#[actix_web::test]
async fn a_restore_that_names_a_deleted_tag_is_a_409_and_writers_restore_only_their_drafts() {
    let t = common::app().await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    t.newsroom(&editor).await;
    t.post(&editor, "/api/v1/tags", json!({"name": "Short lived"}))
        .await
        .expect(201);
    let a = t
        .article(&editor, json!({"title": "Tagged", "tags": ["short-lived"]}))
        .await;
    let path = format!("/api/v1/articles/{}", a["id"]);
    t.patch(&editor, &path, json!({"tags": []}))
        .await
        .expect(200);
    t.delete(&editor, "/api/v1/tags/short-lived")
        .await
        .expect(204);
    let p = t
        .post(&editor, &format!("{path}/revisions/1/restore"), json!({}))
        .await
        .problem(409, "revision_refers_to_deleted");
    assert!(
        p["detail"].as_str().unwrap().contains("tag short-lived"),
        "{p}"
    );
    assert_eq!(
        t.get_as(&editor, &path).await.expect(200).json()["tags"],
        json!([])
    );

    // A writer restores their own draft, not someone else's article.
    let own = t.article(&writer, json!({"title": "Mine v1"})).await;
    let own = format!("/api/v1/articles/{}", own["id"]);
    t.patch(&writer, &own, json!({"title": "Mine v2"}))
        .await
        .expect(200);
    let back = t
        .post(&writer, &format!("{own}/revisions/1/restore"), json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(back["title"], "Mine v1");
    // Someone else's draft is not there for a writer; a published story is refused.
    t.get_as(&writer, &format!("{path}/revisions"))
        .await
        .problem(404, "not_found");
    t.patch(&editor, &path, json!({"status": "published"}))
        .await
        .expect(200);
    t.get_as(&writer, &format!("{path}/revisions"))
        .await
        .problem(403, "forbidden");
    t.post(&writer, &format!("{path}/revisions/1/restore"), json!({}))
        .await
        .problem(403, "forbidden");
}

#[actix_web::test]
async fn a_trashed_story_leaves_every_reader_route_at_once_and_comes_back_whole() {
    let t = common::app().await;
    let editor = t.editor().await;
    let hero = t.newsroom(&editor).await;
    let story = |title: &str, slug: &str| {
        json!({"title": title, "slug": slug, "body": "Zebra crossing talks.",
            "section": "politics", "tags": ["gaza"], "regions": ["mena"],
            "authors": ["leila-haddad"], "hero_media_id": hero, "status": "published",
            "published_at": in_seconds(-60)})
    };
    let a = t
        .article(&editor, story("Crossing talks", "crossing-talks"))
        .await;
    let mut es = story("Conversaciones", "conversaciones");
    es["language"] = json!("es");
    es["translation_of"] = json!("crossing-talks");
    t.article(&editor, es).await;
    t.post(
        &editor,
        "/api/v1/collections",
        json!({"name": "Hub", "slug": "hub", "articles": ["crossing-talks"], "pinned": ["crossing-talks"]}),
    )
    .await
    .expect(201);
    let before = t
        .get_as(&editor, "/api/v1/articles/crossing-talks")
        .await
        .expect(200)
        .json();

    // Every reader route, read (and cached) before the trash.
    let id = a["id"].as_i64().unwrap();
    let shows = || {
        let t = &t;
        async move {
            let single = t.get("/api/v1/articles/crossing-talks").await.status == 200;
            let list = t
                .slugs("/api/v1/articles")
                .await
                .contains(&"crossing-talks".into());
            let search = t
                .slugs("/api/v1/articles?q=zebra")
                .await
                .contains(&"crossing-talks".into());
            // The Spanish edition is tagged too.
            let tag = t.get("/api/v1/tags/gaza").await.json()["article_count"] == 2;
            let feed = String::from_utf8_lossy(&t.get("/feeds/en.xml").await.body)
                .contains("crossing-talks");
            let sitemap = t.sitemaps().await.contains("crossing-talks");
            let hub = t.get("/api/v1/collections/hub").await.json()["pinned"]
                == json!(["crossing-talks"]);
            let translation = t
                .get("/api/v1/articles/conversaciones/translations")
                .await
                .json()["meta"]["count"]
                == 1;
            [single, list, search, tag, feed, sitemap, hub, translation]
        }
    };
    assert_eq!(shows().await, [true; 8]);
    assert_eq!(shows().await, [true; 8]);

    t.delete(&editor, "/api/v1/articles/crossing-talks")
        .await
        .expect(204);
    assert_eq!(
        shows().await,
        [false; 8],
        "gone from every reader route at once"
    );
    // Staff lose it too, outside the trash; its slug stays taken.
    t.get_as(&editor, "/api/v1/articles/crossing-talks")
        .await
        .problem(404, "not_found");
    t.get_as(&editor, &format!("/api/v1/articles/{id}"))
        .await
        .expect(404);
    assert!(
        !t.slugs_as(&editor, "/api/v1/articles?status=all")
            .await
            .contains(&"crossing-talks".into())
    );
    t.post(
        &editor,
        "/api/v1/articles",
        json!({"title": "Squatter", "slug": "crossing-talks"}),
    )
    .await
    .expect(409);
    // What it uses stays in use: its hero image cannot be deleted.
    t.delete(&editor, &format!("/api/v1/media/{hero}"))
        .await
        .expect(409);

    let trash = t.get_as(&editor, "/api/v1/trash").await.expect(200).json();
    assert_eq!(trash["meta"]["total"], 1);
    assert_eq!(trash["data"][0]["id"], id);
    assert_eq!(trash["data"][0]["deleted_by"]["name"], "editor user");
    assert!(trash["data"][0]["deleted_at"].is_string());
    let writer = t.writer().await;
    t.get_as(&writer, "/api/v1/trash")
        .await
        .problem(403, "forbidden");
    t.get("/api/v1/trash").await.expect(401);

    // Restored as it was: relations, collection place, translation group, hero image.
    let restored = t
        .post(&editor, &format!("/api/v1/trash/{id}/restore"), json!({}))
        .await
        .expect(200)
        .json();
    for field in [
        "title",
        "slug",
        "body",
        "section",
        "tags",
        "regions",
        "authors",
        "hero_media",
        "status",
        "published_at",
        "translations",
    ] {
        assert_eq!(restored[field], before[field], "{field}");
    }
    assert_eq!(shows().await, [true; 8], "back on every reader route");
    t.post(&editor, &format!("/api/v1/trash/{id}/restore"), json!({}))
        .await
        .problem(404, "not_found");

    // Purge: gone for good, slug free.
    t.delete(&editor, "/api/v1/articles/crossing-talks")
        .await
        .expect(204);
    t.delete(&editor, &format!("/api/v1/trash/{id}"))
        .await
        .expect(204);
    assert_eq!(
        t.get_as(&editor, "/api/v1/trash").await.json()["meta"]["total"],
        0
    );
    t.delete(&editor, &format!("/api/v1/trash/{id}"))
        .await
        .expect(404);
    t.post(
        &editor,
        "/api/v1/articles",
        json!({"title": "New tenant", "slug": "crossing-talks"}),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn the_trash_empties_itself_after_the_retention_period() {
    let t = common::app_configured(|c| c.trash_retention = chrono::Duration::zero()).await;
    let editor = t.editor().await;
    let a = t.article(&editor, json!({"title": "Short stay"})).await;
    let id = a["id"].as_i64().unwrap();
    t.delete(&editor, &format!("/api/v1/articles/{id}"))
        .await
        .expect(204);
    common::eventually(common::VISIBLE_WITHIN, || async {
        common::equals(
            t.get_as(&editor, "/api/v1/trash").await.json()["meta"]["total"].clone(),
            json!(0),
        )
    })
    .await;
    t.post(&editor, &format!("/api/v1/trash/{id}/restore"), json!({}))
        .await
        .expect(404);
    // The log says the retention removed it.
    let admin = t.admin().await;
    let log = t
        .get_as(&admin, "/api/v1/audit?resource=article&action=delete")
        .await
        .expect(200)
        .json();
    assert!(
        log["data"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("retention"),
        "{log}"
    );
    assert!(log["data"][0]["actor"].is_null());
}

#[actix_web::test]
async fn corrections_are_public_append_only_and_mark_the_feed_item_updated() {
    let t = common::app().await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    let a = t
        .article(
            &editor,
            json!({"title": "Budget vote", "status": "published", "published_at": in_seconds(-3600)}),
        )
        .await;
    let path = format!("/api/v1/articles/{}", a["id"]);
    let before = t.get(&path).await.expect(200).json();
    assert_eq!(before["corrections"], json!([]));
    let feed_before = String::from_utf8_lossy(&t.get("/feeds/en.xml").await.body).into_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let c1 = t
        .post(
            &editor,
            &format!("{path}/corrections"),
            json!({"text": "The vote was on Tuesday, not Monday."}),
        )
        .await
        .expect(201)
        .json();
    assert!(c1["id"].is_i64() && c1["created_at"].is_string());
    t.post(
        &editor,
        &format!("{path}/corrections"),
        json!({"text": "A name was misspelt."}),
    )
    .await
    .expect(201);
    let after = t.get(&path).await.expect(200).json();
    let texts: Vec<&str> = after["corrections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        vec![
            "The vote was on Tuesday, not Monday.",
            "A name was misspelt."
        ]
    );
    assert_ne!(after["updated_at"], before["updated_at"]);
    let feed_after = String::from_utf8_lossy(&t.get("/feeds/en.xml").await.body).into_owned();
    let updated = |feed: &str| {
        feed.split("<atom:updated>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .map(str::to_owned)
    };
    assert!(updated(&feed_before).is_some());
    assert_ne!(
        updated(&feed_after),
        updated(&feed_before),
        "the feed item is updated"
    );
    assert_eq!(
        updated(&feed_after).as_deref(),
        after["updated_at"].as_str()
    );

    // Append-only: no route edits or deletes a correction; bad input names the field.
    let c = format!("{path}/corrections/{}", c1["id"]);
    assert!(matches!(
        t.patch(&editor, &c, json!({"text": "x"})).await.status,
        404 | 405
    ));
    assert!(matches!(t.delete(&editor, &c).await.status, 404 | 405));
    let p = t
        .post(&editor, &format!("{path}/corrections"), json!({"text": ""}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(common::Resp::error_fields(&p), vec!["text"]);
    let p = t
        .post(
            &editor,
            &format!("{path}/corrections"),
            json!({"text": "ok", "by": "me"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(common::Resp::error_fields(&p), vec!["by"]);
    t.post(
        &writer,
        &format!("{path}/corrections"),
        json!({"text": "Mine"}),
    )
    .await
    .problem(403, "forbidden");
    assert_eq!(
        t.get(&path).await.json()["corrections"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[actix_web::test]
async fn an_embargoed_story_leaves_every_reader_route_at_its_time_with_no_write() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let ahead = common::SCHEDULE_AHEAD;
    let a = t
        .article(
            &editor,
            json!({"title": "Short lived zebra", "slug": "short-lived", "tags": ["gaza"],
                "status": "published", "published_at": in_seconds(-600),
                "unpublish_at": in_seconds(ahead)}),
        )
        .await;
    assert_eq!(a["status"], "published");
    assert!(a["unpublish_at"].is_string());
    let shows = || {
        let t = &t;
        async move {
            let single = t.get("/api/v1/articles/short-lived").await.status == 200;
            let list = t
                .slugs("/api/v1/articles")
                .await
                .contains(&"short-lived".into());
            let search = t
                .slugs("/api/v1/articles?q=zebra")
                .await
                .contains(&"short-lived".into());
            let tag = t.get("/api/v1/tags/gaza").await.json()["article_count"] == 1;
            let feed =
                String::from_utf8_lossy(&t.get("/feeds/en.xml").await.body).contains("short-lived");
            let sitemap = t.sitemaps().await.contains("short-lived");
            [single, list, search, tag, feed, sitemap]
        }
    };
    assert_eq!(shows().await, [true; 6], "public until its time");
    common::eventually(common::due_by(ahead), || async {
        common::equals(shows().await, [false; 6])
    })
    .await;
    // Staff still see it, as expired, and can filter for it.
    let seen = t
        .get_as(&editor, "/api/v1/articles/short-lived")
        .await
        .expect(200)
        .json();
    assert_eq!(seen["status"], "expired");
    assert_eq!(
        t.slugs_as(&editor, "/api/v1/articles?status=expired").await,
        vec!["short-lived"]
    );
    assert!(
        !t.slugs_as(&editor, "/api/v1/articles?status=published")
            .await
            .contains(&"short-lived".into())
    );
    // Lifting the embargo puts it back.
    t.patch(
        &editor,
        "/api/v1/articles/short-lived",
        json!({"unpublish_at": null}),
    )
    .await
    .expect(200);
    assert_eq!(shows().await, [true; 6]);

    // unpublish_at comes after published_at.
    let p = t
        .post(
            &editor,
            "/api/v1/articles",
            json!({"title": "Backwards", "status": "published", "published_at": in_seconds(60),
                "unpublish_at": in_seconds(30)}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(common::Resp::error_fields(&p), vec!["unpublish_at"]);
    t.patch(
        &editor,
        "/api/v1/articles/short-lived",
        json!({"unpublish_at": in_seconds(-7200)}),
    )
    .await
    .problem(422, "validation_failed");
    t.patch(
        &editor,
        "/api/v1/articles/short-lived",
        json!({"unpublish_at": "soon"}),
    )
    .await
    .problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_preview_link_reads_its_draft_and_nothing_else_until_expiry_or_revocation() {
    let t = common::app().await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    let draft = t
        .article(
            &writer,
            json!({"title": "Unpublished scoop", "body": "Scoop."}),
        )
        .await;
    let other = t.article(&writer, json!({"title": "Other draft"})).await;
    let path = format!("/api/v1/articles/{}", draft["id"]);
    let link = t
        .post(&writer, &format!("{path}/preview-links"), json!({}))
        .await
        .expect(201)
        .json();
    let token = link["token"].as_str().unwrap().to_owned();
    assert!(
        link["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{path}?preview={token}"))
    );
    let expires =
        chrono::DateTime::parse_from_rfc3339(link["expires_at"].as_str().unwrap()).unwrap();
    let hours = (expires.timestamp() - chrono::Utc::now().timestamp()) as f64 / 3600.0;
    assert!((23.9..=24.01).contains(&hours), "default 24 h: {hours}");

    // Anyone with the token reads the draft, privately.
    let read = t.get(&format!("{path}?preview={token}")).await.expect(200);
    assert_eq!(read.json()["title"], "Unpublished scoop");
    assert_eq!(read.json()["status"], "draft");
    assert_eq!(
        read.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let again = t.get(&format!("{path}?preview={token}")).await.expect(200);
    assert_eq!(
        again.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    // Without it, or for another article, or a made-up one: 404 as if nothing were there.
    t.get(&path).await.problem(404, "not_found");
    t.get(&format!("/api/v1/articles/{}?preview={token}", other["id"]))
        .await
        .problem(404, "not_found");
    t.get(&format!("{path}?preview=ndp_madeup"))
        .await
        .problem(404, "not_found");
    // Never a key to writes or to lists.
    let patch = t
        .json(
            "PATCH",
            &format!("{path}?preview={token}"),
            None,
            &json!({"title": "Hijacked"}),
        )
        .await;
    assert!(matches!(patch.status, 400 | 401), "{}", patch.status);
    t.get(&format!("/api/v1/articles?preview={token}"))
        .await
        .expect(400);
    assert_eq!(
        t.get_as(&editor, &path).await.json()["title"],
        "Unpublished scoop"
    );

    // The body's rules: in the future, at most 7 days.
    for bad in [
        in_seconds(-10),
        in_seconds(8 * 86_400),
        "tomorrow".to_owned(),
    ] {
        let p = t
            .post(
                &writer,
                &format!("{path}/preview-links"),
                json!({"expires_at": bad}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(common::Resp::error_fields(&p), vec!["expires_at"]);
    }
    // A short link stops at its time.
    let short = t
        .post(
            &writer,
            &format!("{path}/preview-links"),
            json!({"expires_at": in_seconds(2)}),
        )
        .await
        .expect(201)
        .json();
    let short = short["token"].as_str().unwrap().to_owned();
    t.get(&format!("{path}?preview={short}")).await.expect(200);
    common::eventually(common::due_by(2), || async {
        common::equals(t.get(&format!("{path}?preview={short}")).await.status, 404)
    })
    .await;

    // Revoking ends every link of the article at once.
    t.delete(&writer, &format!("{path}/preview-links"))
        .await
        .expect(204);
    t.get(&format!("{path}?preview={token}"))
        .await
        .problem(404, "not_found");
    t.post(&editor, &format!("{path}/preview-links"), json!({}))
        .await
        .expect(201);
    // Anonymous callers cannot make one.
    t.json("POST", &format!("{path}/preview-links"), None, &json!({}))
        .await
        .expect(401);
}

async fn audit_total<S, B>(t: &common::TestApp<S>, admin: &str) -> i64
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    t.get_as(admin, "/api/v1/audit?per_page=1")
        .await
        .expect(200)
        .json()["meta"]["total"]
        .as_i64()
        .unwrap()
}

#[actix_web::test]
async fn every_write_leaves_exactly_one_audit_entry_and_a_failed_write_none() {
    let t = common::app().await;
    let admin = t.admin().await;
    let editor = t.editor().await;
    let media = t.newsroom(&editor).await;
    let a = t.article(&editor, json!({"title": "Audited"})).await;
    let art = format!("/api/v1/articles/{}", a["id"]);
    let item = t
        .post(&editor, "/api/v1/breaking", json!({"text": "Ticker"}))
        .await
        .expect(201)
        .json()["id"]
        .clone();
    let user = t.user("audited@example.com", Role::Writer).await;
    // (method, path, body, status, action, resource)
    let writes: Vec<(&str, String, Value, u16, &str, &str)> = vec![
        (
            "POST",
            "/api/v1/articles".into(),
            json!({"title": "Second"}),
            201,
            "create",
            "article",
        ),
        (
            "PATCH",
            art.clone(),
            json!({"title": "Audited twice"}),
            200,
            "update",
            "article",
        ),
        (
            "PATCH",
            art.clone(),
            json!({"status": "published"}),
            200,
            "publish",
            "article",
        ),
        (
            "POST",
            format!("{art}/revisions/1/restore"),
            json!({}),
            200,
            "restore",
            "article",
        ),
        (
            "POST",
            format!("{art}/corrections"),
            json!({"text": "Fixed."}),
            201,
            "create",
            "correction",
        ),
        (
            "POST",
            format!("{art}/preview-links"),
            json!({}),
            201,
            "create",
            "preview_link",
        ),
        (
            "DELETE",
            format!("{art}/preview-links"),
            Value::Null,
            204,
            "delete",
            "preview_link",
        ),
        ("DELETE", art.clone(), Value::Null, 204, "delete", "article"),
        (
            "POST",
            format!("/api/v1/trash/{}/restore", a["id"]),
            json!({}),
            200,
            "restore",
            "article",
        ),
        (
            "POST",
            "/api/v1/tags".into(),
            json!({"name": "Audit tag"}),
            201,
            "create",
            "tag",
        ),
        (
            "PATCH",
            "/api/v1/tags/audit-tag".into(),
            json!({"name": "Audit tag 2"}),
            200,
            "update",
            "tag",
        ),
        (
            "DELETE",
            "/api/v1/tags/audit-tag".into(),
            Value::Null,
            204,
            "delete",
            "tag",
        ),
        (
            "POST",
            "/api/v1/authors".into(),
            json!({"name": "Audit author"}),
            201,
            "create",
            "author",
        ),
        (
            "PATCH",
            "/api/v1/authors/audit-author".into(),
            json!({"bio": "b"}),
            200,
            "update",
            "author",
        ),
        (
            "DELETE",
            "/api/v1/authors/audit-author".into(),
            Value::Null,
            204,
            "delete",
            "author",
        ),
        (
            "POST",
            "/api/v1/sections".into(),
            json!({"name": "Audit section"}),
            201,
            "create",
            "section",
        ),
        (
            "PATCH",
            "/api/v1/sections/audit-section".into(),
            json!({"position": 3}),
            200,
            "update",
            "section",
        ),
        (
            "DELETE",
            "/api/v1/sections/audit-section".into(),
            Value::Null,
            204,
            "delete",
            "section",
        ),
        (
            "POST",
            "/api/v1/regions".into(),
            json!({"name": "Audit region"}),
            201,
            "create",
            "region",
        ),
        (
            "PATCH",
            "/api/v1/regions/audit-region".into(),
            json!({"name": "Audit region 2"}),
            200,
            "update",
            "region",
        ),
        (
            "DELETE",
            "/api/v1/regions/audit-region".into(),
            Value::Null,
            204,
            "delete",
            "region",
        ),
        (
            "PATCH",
            format!("/api/v1/media/{media}"),
            json!({"credit": "AFP"}),
            200,
            "update",
            "media",
        ),
        (
            "POST",
            "/api/v1/media".into(),
            json!({"kind": "image", "url": "https://cdn.example.com/x.jpg"}),
            201,
            "create",
            "media",
        ),
        (
            "PATCH",
            format!("/api/v1/breaking/{item}"),
            json!({"text": "Ticker 2"}),
            200,
            "update",
            "breaking_item",
        ),
        (
            "DELETE",
            format!("/api/v1/breaking/{item}"),
            Value::Null,
            204,
            "delete",
            "breaking_item",
        ),
        (
            "POST",
            "/api/v1/breaking".into(),
            json!({"text": "Another"}),
            201,
            "create",
            "breaking_item",
        ),
        (
            "POST",
            "/api/v1/collections".into(),
            json!({"name": "Audit hub"}),
            201,
            "create",
            "collection",
        ),
        (
            "PATCH",
            "/api/v1/collections/audit-hub".into(),
            json!({"description": "d"}),
            200,
            "update",
            "collection",
        ),
        (
            "DELETE",
            "/api/v1/collections/audit-hub".into(),
            Value::Null,
            204,
            "delete",
            "collection",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"email": "new@example.com", "name": "New", "role": "writer", "password": "a long enough passphrase"}),
            201,
            "create",
            "user",
        ),
        (
            "PATCH",
            format!("/api/v1/users/{user}"),
            json!({"name": "Renamed"}),
            200,
            "update",
            "user",
        ),
        (
            "DELETE",
            format!("/api/v1/users/{user}"),
            Value::Null,
            204,
            "delete",
            "user",
        ),
    ];
    for (method, path, body, status, action, resource) in writes {
        let token = if resource == "user" { &admin } else { &editor };
        let before = audit_total(&t, &admin).await;
        t.json(method, &path, Some(token), &body)
            .await
            .expect(status);
        assert_eq!(audit_total(&t, &admin).await, before + 1, "{method} {path}");
        let last = t.get_as(&admin, "/api/v1/audit?per_page=1").await.json()["data"][0].clone();
        assert_eq!(last["action"], action, "{method} {path}: {last}");
        assert_eq!(last["resource"], resource, "{method} {path}: {last}");
        assert!(last["actor"]["name"].is_string(), "{last}");
        assert!(last["summary"].as_str().is_some_and(|s| !s.is_empty()));
    }

    // Failed writes leave nothing: a bad body, a stale ETag, a refusal.
    let before = audit_total(&t, &admin).await;
    t.post(&editor, "/api/v1/articles", json!({"title": ""}))
        .await
        .expect(422);
    let resp = t
        .send(
            actix_web::test::TestRequest::patch()
                .uri(&art)
                .insert_header(("authorization", format!("Bearer {editor}")))
                .insert_header(("if-match", "\"stale\""))
                .set_json(json!({"title": "Never"})),
        )
        .await;
    assert_eq!(resp.status, 412);
    t.delete(&editor, "/api/v1/tags/no-such-tag")
        .await
        .expect(404);
    let writer = t.writer().await;
    t.delete(&writer, &art).await.expect(403);
    assert_eq!(
        audit_total(&t, &admin).await,
        before,
        "failed writes leave no entry"
    );
}

#[actix_web::test]
async fn sign_ins_are_logged_failures_grouped_and_no_secret_is_ever_kept() {
    let t = common::app().await;
    let admin = t.admin().await;
    t.user("reporter@example.com", Role::Writer).await;
    let sign_in = |email: &str, password: &str| {
        let body = json!({"email": email, "password": password});
        let t = &t;
        async move { t.json("POST", "/api/v1/auth/token", None, &body).await }
    };
    sign_in("reporter@example.com", PASSWORD).await.expect(200);
    for _ in 0..3 {
        sign_in("reporter@example.com", "hunter2-wrong-secret")
            .await
            .expect(401);
    }
    sign_in("nobody@example.com", "another-wrong-secret")
        .await
        .expect(401);

    let log = t
        .get_as(&admin, "/api/v1/audit?action=sign_in_failed")
        .await
        .expect(200)
        .json();
    let entries = log["data"].as_array().unwrap();
    // One entry per account, address and minute: the three failures are one entry
    // counting three, or two if a minute ended between them (a slow machine).
    let of = |known: bool| -> Vec<i64> {
        entries
            .iter()
            .filter(|e| match known {
                true => e["actor"]["name"] == "writer user",
                false => e["actor"].is_null(),
            })
            .map(|e| e["count"].as_i64().unwrap())
            .collect()
    };
    let reporter = of(true);
    assert!(
        matches!(reporter.as_slice(), [3] | [1, 2] | [2, 1]),
        "one entry per account and address: {log}"
    );
    assert_eq!(of(false), [1], "{log}");
    assert_eq!(entries.len(), reporter.len() + 1, "{log}");
    let ok = t
        .get_as(&admin, "/api/v1/audit?action=sign_in")
        .await
        .expect(200)
        .json();
    assert_eq!(ok["meta"]["total"], 1);

    // A password change, a new account and a sign-in: no secret anywhere in the log.
    let id = t.user("second@example.com", Role::Editor).await;
    t.patch(
        &admin,
        &format!("/api/v1/users/{id}"),
        json!({"password": "brand new secret phrase"}),
    )
    .await
    .expect(200);
    let everything = t
        .get_as(&admin, "/api/v1/audit?per_page=100")
        .await
        .expect(200);
    let text = String::from_utf8_lossy(&everything.body).into_owned();
    for secret in [
        PASSWORD,
        "hunter2-wrong-secret",
        "another-wrong-secret",
        "brand new secret phrase",
        "$argon2",
    ] {
        assert!(!text.contains(secret), "the log holds {secret}");
    }
    assert!(!text.contains(&admin), "the log holds a token");
}

#[actix_web::test]
async fn the_audit_log_is_for_admins_with_filters_and_cursors() {
    let t = common::app().await;
    let admin = t.admin().await;
    let editor = t.editor().await;
    for n in 0..7 {
        t.post(&editor, "/api/v1/tags", json!({"name": format!("Tag {n}")}))
            .await
            .expect(201);
    }
    t.article(&editor, json!({"title": "One story"})).await;
    t.get_as(&editor, "/api/v1/audit")
        .await
        .problem(403, "forbidden");
    t.get("/api/v1/audit").await.expect(401);

    let tags = t
        .get_as(&admin, "/api/v1/audit?resource=tag")
        .await
        .expect(200)
        .json();
    assert_eq!(tags["meta"]["total"], 7);
    assert_eq!(
        tags["data"][0]["summary"], "created tag \"Tag 6\"",
        "newest first"
    );
    let editor_id = tags["data"][0]["actor"]["id"].clone();
    let by_editor = t
        .get_as(&admin, &format!("/api/v1/audit?actor={editor_id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(by_editor["meta"]["total"], 8);
    let created = t
        .get_as(&admin, "/api/v1/audit?action=create&resource=article")
        .await
        .json();
    assert_eq!(titles(&json!({"data": []})).len(), 0);
    assert_eq!(created["meta"]["total"], 1);
    assert_eq!(
        t.get_as(&admin, &format!("/api/v1/audit?after={}", in_seconds(60)))
            .await
            .json()["meta"]["total"],
        0
    );
    assert_eq!(
        t.get_as(&admin, &format!("/api/v1/audit?before={}", in_seconds(60)))
            .await
            .json()["meta"]["total"],
        8
    );

    // Cursors walk the whole log without repeats.
    let mut seen = Vec::new();
    let mut next = "/api/v1/audit?resource=tag&per_page=3".to_owned();
    loop {
        let page = t.get_as(&admin, &next).await.expect(200).json();
        for e in page["data"].as_array().unwrap() {
            seen.push(e["id"].as_i64().unwrap());
        }
        match page["meta"]["next_cursor"].as_str() {
            Some(c) => next = format!("/api/v1/audit?resource=tag&per_page=3&cursor={c}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 7);

    // Bad filters are 400s naming the parameter.
    for (q, name) in [
        ("action=explode", "action"),
        ("after=yesterday", "after"),
        ("actor=x", "actor"),
        ("colour=red", "colour"),
    ] {
        let p = t
            .get_as(&admin, &format!("/api/v1/audit?{q}"))
            .await
            .problem(400, "bad_request");
        assert!(p.to_string().contains(name), "{q}: {p}");
    }
}
