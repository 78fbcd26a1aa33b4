//! Articles: fields, rendering, visibility, roles.

use serde_json::json;

use crate::common::{self, Resp, in_seconds};

#[actix_web::test]
async fn relations_are_written_by_slug_and_read_back_embedded() {
    let t = common::app().await;
    let editor = t.editor().await;
    let image = t.newsroom(&editor).await;
    let a = t
        .article(
            &editor,
            json!({
                "title": "Ceasefire talks resume in Cairo",
                "summary": "Negotiators return after a week.",
                "body": "Talks resumed.",
                "section": "politics",
                "tags": ["gaza", "elections"],
                "regions": ["mena"],
                "authors": ["omar-said", "leila-haddad"],
                "hero_media_id": image,
                "source": "Agencies",
                "status": "published"
            }),
        )
        .await;
    assert_eq!(
        a["section"],
        json!({"id": 2, "slug": "politics", "name": "Politics"})
    );
    let names: Vec<&str> = a["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Omar Said", "Leila Haddad"], "byline order is kept");
    assert_eq!(a["tags"][0]["slug"], "gaza");
    assert_eq!(a["tags"][1]["slug"], "elections");
    assert_eq!(a["regions"][0]["name"], "MENA");
    assert_eq!(a["hero_media"]["caption"], "Boats return at dawn.");
    assert_eq!(a["hero_media"]["credit"], "AP");
    assert_eq!(a["source"], "Agencies");
    assert_eq!(a["status"], "published");
    assert_eq!(a["dir"], "ltr");
    let read = t
        .get("/api/v1/articles/ceasefire-talks-resume-in-cairo")
        .await
        .expect(200)
        .json();
    assert_eq!(read["authors"], a["authors"]);
    assert!(
        read.get("created_by").is_none(),
        "staff account ids are not shown"
    );
    let as_staff = t
        .get_as(&editor, "/api/v1/articles/ceasefire-talks-resume-in-cairo")
        .await
        .json();
    assert_eq!(
        read, as_staff,
        "readers and staff get the same representation"
    );

    let list = t.get("/api/v1/articles").await.expect(200).json();
    let item = &list["data"][0];
    assert_eq!(item["authors"], a["authors"]);
    assert!(item.get("body").is_none() && item.get("body_html").is_none());

    // Reordering the byline.
    let b = t
        .patch(
            &editor,
            "/api/v1/articles/ceasefire-talks-resume-in-cairo",
            json!({"authors": ["leila-haddad", "omar-said"]}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(b["authors"][0]["slug"], "leila-haddad");
    assert_eq!(b["tags"], a["tags"], "relations not sent are kept");
}

#[actix_web::test]
async fn body_html_is_sanitized_and_links_are_kept() {
    let t = common::app().await;
    let editor = t.editor().await;
    let a = t
        .article(
            &editor,
            json!({
                "title": "Sanitizing",
                "body": "## Read more\n\nSee [the report](https://example.com/report).\n\n<p onclick=\"steal()\">Hi <em>there</em></p>\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"
            }),
        )
        .await;
    let html = a["body_html"].as_str().unwrap();
    assert!(html.contains("<h2>Read more</h2>"), "{html}");
    assert!(
        html.contains("<a href=\"https://example.com/report\""),
        "{html}"
    );
    assert!(
        html.contains("<em>there</em>"),
        "safe raw HTML is kept: {html}"
    );
    assert!(
        !html.contains("onclick") && !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    assert!(
        !html.contains("&lt;em&gt;"),
        "raw HTML is sanitized, not escaped"
    );
}

#[actix_web::test]
async fn reading_time_comes_from_the_words_in_every_language() {
    let t = common::app().await;
    let editor = t.editor().await;
    let english = t
        .article(
            &editor,
            json!({"title": "Long read", "body": "word ".repeat(930)}),
        )
        .await;
    assert_eq!(english["word_count"], 930);
    assert_eq!(english["reading_time_minutes"], 5);
    let arabic = t
        .article(
            &editor,
            json!({"title": "قراءة", "language": "ar", "body": "استؤنفت المحادثات في القاهرة اليوم. ".repeat(100)}),
        )
        .await;
    assert_eq!(arabic["word_count"], 500);
    assert_eq!(arabic["reading_time_minutes"], 3);
    assert_eq!(arabic["dir"], "rtl");
    let empty = t.article(&editor, json!({"title": "Empty"})).await;
    assert_eq!(empty["word_count"], 0);
    assert_eq!(empty["reading_time_minutes"], 1);
}

#[actix_web::test]
async fn arabic_and_spanish_titles_round_trip_with_readable_ascii_slugs() {
    let t = common::app().await;
    let editor = t.editor().await;
    let title = "الحرب في غزة: المفاوضات مستمرة";
    let a = t
        .article(&editor, json!({"title": title, "language": "ar"}))
        .await;
    assert_eq!(a["title"], title);
    let slug = a["slug"].as_str().unwrap();
    assert!(slug.starts_with("al-") && slug.is_ascii(), "{slug}");
    let es = t
        .article(
            &editor,
            json!({"title": "La educación en España", "language": "es"}),
        )
        .await;
    assert_eq!(es["slug"], "la-educacion-en-espana");
    let again = t
        .article(
            &editor,
            json!({"title": "La educación en España", "language": "es"}),
        )
        .await;
    assert_eq!(again["slug"], "la-educacion-en-espana-2");
    let read = t
        .get_as(&editor, &format!("/api/v1/articles/{slug}"))
        .await
        .expect(200);
    assert!(
        read.body
            .windows(title.len())
            .any(|w| w == title.as_bytes())
    );
}

#[actix_web::test]
async fn drafts_and_scheduled_articles_are_404_for_readers_and_absent_from_lists() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(&editor, json!({"title": "A draft"})).await;
    let scheduled = t
        .article(
            &editor,
            json!({"title": "Scheduled", "status": "published", "published_at": in_seconds(3600)}),
        )
        .await;
    assert_eq!(scheduled["status"], "scheduled");
    t.article(&editor, json!({"title": "Live", "status": "published"}))
        .await;
    t.get("/api/v1/articles/a-draft")
        .await
        .problem(404, "not_found");
    t.get("/api/v1/articles/scheduled")
        .await
        .problem(404, "not_found");
    assert_eq!(t.slugs("/api/v1/articles").await, ["live"]);
    // Staff read them.
    t.get_as(&editor, "/api/v1/articles/a-draft")
        .await
        .expect(200);
}

#[actix_web::test]
async fn a_scheduled_article_appears_on_time_with_no_job() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"title": "Soon", "status": "published",
            "published_at": in_seconds(common::SCHEDULE_AHEAD)}),
    )
    .await;
    t.get("/api/v1/articles/soon")
        .await
        .problem(404, "not_found");
    assert_eq!(t.slugs("/api/v1/articles").await, Vec::<String>::new());
    let a = common::eventually(common::due_by(common::SCHEDULE_AHEAD), || async {
        let resp = t.get("/api/v1/articles/soon").await;
        match resp.status {
            200 => Ok(resp.json()),
            other => Err(other),
        }
    })
    .await;
    assert_eq!(a["status"], "published");
    assert_eq!(t.slugs("/api/v1/articles").await, ["soon"]);
}

#[actix_web::test]
async fn staff_filter_by_status_and_writers_never_see_others_drafts() {
    let t = common::app().await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    let other_writer = t.writer().await;
    t.article(&writer, json!({"title": "Mine"})).await;
    t.article(&other_writer, json!({"title": "Theirs"})).await;
    t.article(
        &editor,
        json!({"title": "Later", "status": "published", "published_at": in_seconds(3600)}),
    )
    .await;
    t.article(&editor, json!({"title": "Now", "status": "published"}))
        .await;

    let mut drafts = t.slugs_as(&editor, "/api/v1/articles?status=draft").await;
    drafts.sort();
    assert_eq!(drafts, ["mine", "theirs"]);
    assert_eq!(
        t.slugs_as(&writer, "/api/v1/articles?status=draft").await,
        ["mine"]
    );
    assert_eq!(
        t.slugs_as(&editor, "/api/v1/articles?status=scheduled")
            .await,
        ["later"]
    );
    assert_eq!(
        t.slugs_as(&editor, "/api/v1/articles?status=published")
            .await,
        ["now"]
    );
    assert_eq!(t.slugs_as(&editor, "/api/v1/articles").await, ["now"]);
    let mut all = t.slugs_as(&writer, "/api/v1/articles?status=all").await;
    all.sort();
    assert_eq!(all, ["later", "mine", "now"]);
    assert_eq!(
        t.slugs_as(&editor, "/api/v1/articles?status=all")
            .await
            .len(),
        4
    );
    t.get_as(&writer, "/api/v1/articles/theirs")
        .await
        .problem(404, "not_found");
    let p = t
        .get("/api/v1/articles?status=all")
        .await
        .problem(400, "bad_request");
    assert_eq!(Resp::error_fields(&p), ["status"]);
}

#[actix_web::test]
async fn writers_create_drafts_and_edit_only_their_own() {
    let t = common::app().await;
    let editor = t.editor().await;
    let writer = t.writer().await;
    let other = t.writer().await;
    t.post(
        &writer,
        "/api/v1/articles",
        json!({"title": "Scoop", "status": "published"}),
    )
    .await
    .problem(403, "forbidden");
    let mine = t.article(&writer, json!({"title": "Scoop"})).await;
    assert_eq!(mine["status"], "draft");
    t.patch(
        &writer,
        "/api/v1/articles/scoop",
        json!({"summary": "Better"}),
    )
    .await
    .expect(200);
    t.patch(
        &writer,
        "/api/v1/articles/scoop",
        json!({"status": "published"}),
    )
    .await
    .problem(403, "forbidden");
    t.patch(
        &other,
        "/api/v1/articles/scoop",
        json!({"summary": "Mine now"}),
    )
    .await
    .problem(404, "not_found");
    t.delete(&writer, "/api/v1/articles/scoop")
        .await
        .problem(403, "forbidden");
    // Once an editor publishes it, the writer can no longer change it.
    t.patch(
        &editor,
        "/api/v1/articles/scoop",
        json!({"status": "published"}),
    )
    .await
    .expect(200);
    t.patch(
        &writer,
        "/api/v1/articles/scoop",
        json!({"summary": "Sneaky"}),
    )
    .await
    .problem(403, "forbidden");
    t.delete(&editor, "/api/v1/articles/scoop")
        .await
        .expect(204);
    t.get_as(&editor, "/api/v1/articles/scoop")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn publishing_a_draft_sets_published_at_to_now() {
    let t = common::app().await;
    let editor = t.editor().await;
    let draft = t.article(&editor, json!({"title": "Draft"})).await;
    assert!(draft["published_at"].is_null());
    let published = t
        .patch(
            &editor,
            "/api/v1/articles/draft",
            json!({"status": "published"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());
    t.get("/api/v1/articles/draft").await.expect(200);
    let back = t
        .patch(
            &editor,
            "/api/v1/articles/draft",
            json!({"status": "draft"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(back["status"], "draft");
    t.get("/api/v1/articles/draft")
        .await
        .problem(404, "not_found");
}

#[actix_web::test]
async fn every_bad_field_of_an_article_is_reported() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let p = t
        .post(
            &editor,
            "/api/v1/articles",
            json!({
                "title": "x".repeat(301),
                "summary": "y".repeat(1001),
                "language": "fr",
                "section": "no-such-section",
                "tags": ["gaza", "nope", "gaza"],
                "authors": "leila-haddad",
                "hero_media_id": 9999,
                "status": "scheduled",
                "published_at": "tomorrow",
                "featured": "yes",
                "word_count": 5,
                "colour": "red"
            }),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = Resp::error_fields(&p);
    fields.sort();
    assert_eq!(
        fields,
        [
            "authors",
            "colour",
            "featured",
            "hero_media_id",
            "language",
            "published_at",
            "section",
            "status",
            "summary",
            "tags[1]",
            "tags[2]",
            "title",
            "word_count"
        ]
    );
}

#[actix_web::test]
async fn an_oversized_body_field_is_422() {
    let t = common::app_configured(|c| c.max_body_bytes = 4 * 1024 * 1024).await;
    let editor = t.editor().await;
    let p = t
        .post(
            &editor,
            "/api/v1/articles",
            json!({"title": "Huge", "body": "a".repeat(1024 * 1024 + 1)}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(Resp::error_fields(&p), ["body"]);
}
