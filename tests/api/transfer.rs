//! `newsdesk export` and `newsdesk import`: a populated SQLite newsroom exported and
//! imported into a fresh database of the suite's backend (PostgreSQL when the suite
//! runs there) reads the same through every API read; refused lines are reported with
//! their reasons; an interrupted import carries on; WordPress and Ghost exports come in
//! with their structure.

use indicatif::ProgressBar;
use newsdesk::domain::users;
use newsdesk::transfer::{export, import};
use serde_json::{Value, json};

use crate::common;

/// Exports the app's database to NDJSON lines.
async fn export_of(db: &newsdesk::db::Db, options: export::ExportOptions) -> String {
    db.read_blocking(move |conn| {
        let mut out = Vec::new();
        export::export(conn, &mut out, options, None, &ProgressBar::hidden())?;
        Ok(String::from_utf8(out).expect("UTF-8"))
    })
    .unwrap()
}

/// Imports `text` (NDJSON lines) into the app's database under the source name `source`.
fn import_into(
    state: &newsdesk::http::state::AppState,
    source: &str,
    lines: Vec<(usize, String)>,
    merge: bool,
) -> newsdesk::error::AppResult<import::Report> {
    let admin = state
        .db
        .read_blocking(users::first_active_admin)
        .unwrap()
        .expect("an admin");
    import::import(
        &state.db,
        source,
        &mut lines.into_iter(),
        import::ImportOptions {
            merge,
            ..Default::default()
        },
        state.config.languages.clone(),
        admin,
        None,
        &ProgressBar::hidden(),
    )
}

fn numbered(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

/// The same read with what an import renumbers taken out: ids, cursors, ETags.
fn without_ids(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| k != "id" && !k.ends_with("_id") && k != "next_cursor");
            map.values_mut().for_each(without_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(without_ids),
        _ => {}
    }
}

#[actix_web::test]
async fn an_exported_sqlite_newsroom_reads_the_same_after_import() {
    let from = common::sqlite_app().await;
    let admin = from.admin().await;
    let languages = from.state.config.languages.clone();
    let site = newsdesk::domain::feeds::Site::of(&from.state.config);
    from.state
        .db
        .write(move |conn| {
            let admin = users::first_active_admin(conn)?.expect("an admin");
            newsdesk::seed::demo::seed(conn, admin, &languages, &site)
        })
        .await
        .unwrap();
    // A history, a correction, a renamed tag, a trashed story.
    let slugs = from.slugs("/api/v1/articles?per_page=5").await;
    let edited = &slugs[0];
    from.patch(
        &admin,
        &format!("/api/v1/articles/{edited}"),
        json!({"title": "A new headline", "body": "Rewritten.\n\nTwice."}),
    )
    .await
    .expect(200);
    from.post(
        &admin,
        &format!("/api/v1/articles/{edited}/corrections"),
        json!({"text": "An earlier version misspelt a name."}),
    )
    .await
    .expect(201);
    let tag = from.slugs("/api/v1/tags").await[0].clone();
    from.patch(
        &admin,
        &format!("/api/v1/tags/{tag}"),
        json!({"slug": "renamed-topic"}),
    )
    .await
    .expect(200);
    from.delete(&admin, &format!("/api/v1/articles/{}", slugs[1]))
        .await
        .expect(204);

    let text = export_of(&from.state.db, export::ExportOptions::default()).await;
    assert!(
        !text.contains("$argon2"),
        "no password hash without --with-credentials"
    );
    let to = common::app().await;
    let to_admin = to.admin().await;
    let report = import_into(&to.state, "test-export", numbered(&text), false).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    if common::on_postgres() {
        // The import ends with a vacuum: the imported rows' pages are all-visible.
        let (pages, visible) = to
            .state
            .db
            .read(|conn| {
                use diesel::RunQueryDsl;
                #[derive(diesel::QueryableByName)]
                struct Pages {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    pages: i64,
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    visible: i64,
                }
                let p: Pages = diesel::sql_query(
                    "SELECT relpages::bigint AS pages, relallvisible::bigint AS visible \
                     FROM pg_class WHERE relname = 'articles'",
                )
                .get_result(conn)?;
                Ok((p.pages, p.visible))
            })
            .await
            .unwrap();
        assert!(pages > 0, "the vacuum counted the imported table's pages");
        assert_eq!(
            visible, pages,
            "every page of the imported table is all-visible"
        );
    }
    // Every record but the header went in.
    assert_eq!(
        report.total() as usize,
        text.lines().count() - 1,
        "{report:?}"
    );

    let mut reads: Vec<(String, bool)> = [
        "/api/v1/articles?per_page=100",
        "/api/v1/articles?per_page=100&lang=ar",
        "/api/v1/articles?per_page=100&tag=renamed-topic",
        "/api/v1/tags?per_page=100",
        "/api/v1/authors?per_page=100",
        "/api/v1/regions?per_page=100",
        "/api/v1/sections?tree=true",
        "/api/v1/collections",
        "/api/v1/breaking",
        "/api/v1/media?per_page=100",
    ]
    .into_iter()
    .map(|p| (p.to_owned(), false))
    .collect();
    for staff in [
        "/api/v1/articles?status=all&per_page=100",
        "/api/v1/trash",
        &format!("/api/v1/articles/{edited}/revisions"),
        &format!("/api/v1/articles/{edited}/revisions/1"),
    ] {
        reads.push((staff.to_owned(), true));
    }
    // Searches find the same stories in both (an import writes its search entries in
    // bulk at the end of each batch): a word of each of twenty titles, public and staff,
    // and the edited headline.
    let listed = from
        .get("/api/v1/articles?per_page=20")
        .await
        .expect(200)
        .json();
    let mut words: Vec<String> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let title = a["title"].as_str().unwrap();
            let word = title.split(' ').max_by_key(|w| w.chars().count()).unwrap();
            word.bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect()
        })
        .collect();
    words.push("headline".to_owned());
    for word in &words {
        let search = format!("/api/v1/articles?q={word}&sort=-published_at&per_page=100");
        let found = from.get(&search).await.expect(200).json();
        assert!(
            found["meta"]["total"].as_i64().unwrap() > 0,
            "{search} finds nothing in the source"
        );
        reads.push((search.clone(), false));
        reads.push((format!("{search}&status=all"), true));
    }
    let all = from
        .get_as(&admin, "/api/v1/articles?status=all&per_page=100")
        .await
        .expect(200)
        .json();
    for item in all["data"].as_array().unwrap() {
        let slug = item["slug"].as_str().unwrap();
        reads.push((format!("/api/v1/articles/{slug}"), true));
        reads.push((format!("/api/v1/articles/{slug}?include=related"), false));
    }
    let collections = from.slugs("/api/v1/collections").await;
    reads.extend(
        collections
            .iter()
            .map(|c| (format!("/api/v1/collections/{c}"), false)),
    );
    assert!(reads.len() > 120, "{} reads", reads.len());
    for (path, staff) in &reads {
        let (before, after) = if *staff {
            (
                from.get_as(&admin, path).await,
                to.get_as(&to_admin, path).await,
            )
        } else {
            (from.get(path).await, to.get(path).await)
        };
        assert_eq!(before.status, after.status, "{path}");
        if before.status != 200 {
            continue;
        }
        let (mut a, mut b) = (before.json(), after.json());
        without_ids(&mut a);
        without_ids(&mut b);
        if path.contains("q=") {
            // The same stories in the same order. Relevance depends on the index's
            // statistics, which count the entries an edit replaced in the source: ranks
            // within 1% on SQLite; PostgreSQL ranks and marks matches its own way.
            for (x, y) in a["data"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .zip(b["data"].as_array_mut().unwrap())
            {
                let (rx, ry) = (
                    x["search"]["rank"].take().as_f64().unwrap(),
                    y["search"]["rank"].take().as_f64().unwrap(),
                );
                if common::on_postgres() {
                    x["search"].take();
                    y["search"].take();
                } else {
                    assert!(
                        (rx - ry).abs() <= 0.01 * rx.max(ry),
                        "{path}: rank {rx} vs {ry}"
                    );
                }
            }
        }
        assert_eq!(a, b, "{path} reads differently after the import");
    }
    // Old slugs still redirect; the sitemap lists the same pages.
    let redirect = to.get(&format!("/api/v1/tags/{tag}")).await;
    assert_eq!(redirect.status, 308);
    assert_eq!(from.sitemaps().await, to.sitemaps().await);
}

#[actix_web::test]
async fn users_come_without_passwords_unless_asked_and_bad_lines_are_reported() {
    let from = common::sqlite_app().await;
    let admin = from.admin().await;
    from.post(
        &admin,
        "/api/v1/users",
        json!({"email": "desk@example.com", "name": "Desk", "role": "editor",
               "password": "a long passphrase"}),
    )
    .await
    .expect(201);
    from.newsroom(&admin).await;
    let plain = export_of(&from.state.db, export::ExportOptions::default()).await;
    let with = export_of(
        &from.state.db,
        export::ExportOptions {
            with_credentials: true,
            with_files: false,
        },
    )
    .await;
    let sign_in = json!({"email": "desk@example.com", "password": "a long passphrase"});

    // Without credentials: the account exists and cannot sign in.
    let to = common::app().await;
    to.admin().await;
    let mut lines = numbered(&plain);
    let last = lines.len();
    lines.push((last + 1, "{not json".to_owned()));
    lines.push((
        last + 2,
        json!({"type": "tag", "data": {"name": "Bad\u{0}name"}}).to_string(),
    ));
    lines.push((
        last + 3,
        json!({"type": "article", "data": {"title": "Orphan", "tags": ["no-such-tag"]}})
            .to_string(),
    ));
    lines.push((last + 4, json!({"type": "planet"}).to_string()));
    // Two live stories of a tag, the second refused once it is made (its trash time is
    // not a time): neither it nor its counts stay.
    let story =
        |slug: &str| json!({"title": slug, "slug": slug, "status": "published", "tags": ["gaza"]});
    lines.push((
        last + 5,
        json!({"type": "article", "data": story("kept")}).to_string(),
    ));
    lines.push((
        last + 6,
        json!({"type": "article", "data": story("undone"), "deleted_at": "yesterday"}).to_string(),
    ));
    let report = import_into(&to.state, "plain", lines, false).unwrap();
    let rejected: Vec<usize> = report.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        rejected,
        [last + 1, last + 2, last + 3, last + 4, last + 6],
        "{report:?}"
    );
    let reasons: Vec<&str> = report.rejected.iter().map(|(_, r)| r.as_str()).collect();
    assert!(reasons[0].contains("JSON"), "{reasons:?}");
    assert!(reasons[1].starts_with("name:"), "{reasons:?}");
    assert!(reasons[2].contains("tags"), "{reasons:?}");
    assert!(reasons[3].contains("planet"), "{reasons:?}");
    assert!(reasons[4].contains("deleted_at"), "{reasons:?}");
    // The good records all went in, and the lists count the story that stayed.
    assert_eq!(to.slugs("/api/v1/tags").await.len(), 3);
    assert_eq!(to.slugs("/api/v1/articles?tag=gaza").await, ["kept"]);
    for list in ["/api/v1/articles", "/api/v1/articles?tag=gaza"] {
        let page = to.get(list).await.expect(200).json();
        assert_eq!(page["meta"]["total"], 1, "{list}");
    }
    let gaza = to.get("/api/v1/tags/gaza").await.expect(200).json();
    assert_eq!(gaza["article_count"], 1);
    let refused = to.json("POST", "/api/v1/auth/token", None, &sign_in).await;
    assert_eq!(refused.status, 401);

    // With credentials: the same password works.
    let to = common::app().await;
    to.admin().await;
    let report = import_into(&to.state, "with", numbered(&with), false).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    to.json("POST", "/api/v1/auth/token", None, &sign_in)
        .await
        .expect(200);

    // A second import into the same (now full) database is refused, unless merged.
    let again = import_into(&to.state, "again", numbered(&with), false);
    assert!(again.is_err(), "a non-empty database is refused");
    let merged = import_into(&to.state, "merged", numbered(&with), true).unwrap();
    assert_eq!(
        merged.total(),
        1,
        "only the media item has no slug: {merged:?}"
    );
    assert!(merged.matched.iter().any(|(k, n)| k == "tag" && *n == 3));
}

#[actix_web::test]
async fn an_interrupted_import_carries_on_where_it_stopped() {
    // Small batches, so that the stories fill more than one.
    const PER_BATCH: usize = 60;
    let from = common::sqlite_app().await;
    let admin = from.admin().await;
    from.newsroom(&admin).await;
    for i in 0..(PER_BATCH + 20) {
        from.post(
            &admin,
            "/api/v1/articles",
            json!({"title": format!("Story {i}"), "tags": ["gaza"], "status": "published"}),
        )
        .await
        .expect(201);
    }
    let text = export_of(&from.state.db, export::ExportOptions::default()).await;
    let lines = numbered(&text);
    let to = common::app().await;
    to.admin().await;
    // The first run dies while reading its second batch, as a killed process would:
    // its first batch is committed with the position it reached.
    let state = to.state.clone();
    let dying = lines.clone();
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let admin = state
            .db
            .read_blocking(users::first_active_admin)
            .unwrap()
            .unwrap();
        let mut lines = dying.into_iter().inspect(|(n, _)| {
            assert!(*n <= PER_BATCH + 10, "killed");
        });
        import::import(
            &state.db,
            "resumable",
            &mut lines,
            import::ImportOptions {
                merge: false,
                batch: Some(PER_BATCH),
            },
            state.config.languages.clone(),
            admin,
            None,
            &ProgressBar::hidden(),
        )
    }));
    assert!(died.is_err(), "the first run was cut short");
    let committed = to
        .state
        .db
        .read_blocking(|c| newsdesk::domain::settings::get(c, "import:resumable"))
        .unwrap()
        .expect("the first batch's progress is committed");
    assert!(
        committed.contains(&format!("\"line\":{}", PER_BATCH)),
        "{committed}"
    );
    // Run again with the whole file: it carries on after the committed batch, and
    // every story is there once.
    let report = import_into(&to.state, "resumable", lines.clone(), false).unwrap();
    assert_eq!(report.resumed_after, Some(PER_BATCH));
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let count = |body: Value| body["meta"]["total"].as_i64().unwrap();
    assert_eq!(
        count(
            to.get("/api/v1/articles?per_page=1")
                .await
                .expect(200)
                .json()
        ),
        count(
            from.get("/api/v1/articles?per_page=1")
                .await
                .expect(200)
                .json()
        ),
    );
    assert_eq!(
        count(
            to.get("/api/v1/articles?per_page=1")
                .await
                .expect(200)
                .json()
        ),
        (PER_BATCH + 20) as i64
    );
    let forgotten = to
        .state
        .db
        .read_blocking(|c| newsdesk::domain::settings::get(c, "import:resumable"))
        .unwrap();
    assert!(
        forgotten.is_none(),
        "a finished import forgets its progress"
    );
}

/// An import writes a batch's stories together: a slug given twice in one batch still
/// refuses only its second story, a translation, a correction and a revision of a story
/// of the same batch find it, and a webhook hears of each live story once.
#[actix_web::test]
async fn stories_of_one_batch_find_each_other_and_a_slug_given_twice_is_refused_once() {
    let to = common::app_configured(|c| c.webhooks.allow_private = true).await;
    let admin = to.admin().await;
    let hook = to
        .post(
            &admin,
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["article.published"]}),
        )
        .await
        .expect(201)
        .json()["id"]
        .clone();
    let story = |title: &str, slug: &str| {
        json!({"type": "article", "data": {"title": title, "slug": slug, "status": "published",
                                           "body": format!("{title} was imported.")}})
    };
    let mut arabic = story("Arabic edition", "same-ar");
    arabic["data"]["language"] = json!("ar");
    arabic["data"]["translation_of"] = json!("same");
    let records = vec![
        story("First", "same"),
        story("Other", "other"),
        arabic,
        json!({"type": "correction", "article": "other",
               "data": {"text": "An earlier version misnamed the town."}}),
        story("Last", "last"),
        json!({"type": "revision", "article": "last", "number": 2, "summary": "retitled",
               "fields": {"title": "Last, retitled"}}),
        json!({"type": "article", "data": {"title": "Draft", "body": "Draft was imported."}}),
    ];
    let report = import_into(&to.state, "batch", records_as_lines(records), false).unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    let page = to.get("/api/v1/articles").await.expect(200).json();
    assert_eq!(page["meta"]["total"], 4);
    let all = to
        .get_as(&admin, "/api/v1/articles?status=all")
        .await
        .expect(200)
        .json();
    assert_eq!(all["meta"]["total"], 5);
    let heard = to
        .get_as(&admin, &format!("/api/v1/webhooks/{hook}/deliveries"))
        .await
        .expect(200)
        .json();
    assert_eq!(heard["meta"]["total"], 4, "one event a live story: {heard}");
    let first = to.get("/api/v1/articles/same").await.expect(200).json();
    assert_eq!(first["title"], "First");
    assert_eq!(first["translations"][0]["slug"], "same-ar");
    let other = to.get("/api/v1/articles/other").await.expect(200).json();
    assert_eq!(
        other["corrections"][0]["text"],
        "An earlier version misnamed the town."
    );
    let revisions = to
        .get_as(&admin, "/api/v1/articles/last/revisions")
        .await
        .expect(200)
        .json();
    let numbers: Vec<i64> = revisions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    // Found by search once imported, each story once.
    let found = to
        .get("/api/v1/articles?q=imported")
        .await
        .expect(200)
        .json();
    assert_eq!(found["meta"]["total"], 4, "{found}");

    // The same slug twice in a batch: the second story alone is refused.
    let to = common::app().await;
    to.admin().await;
    let records = vec![
        story("First", "same"),
        story("Second", "same"),
        story("Other", "other"),
    ];
    let report = import_into(&to.state, "twice", records_as_lines(records), false).unwrap();
    let rejected: Vec<usize> = report.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(rejected, [2], "{report:?}");
    assert!(report.rejected[0].1.contains("slug"), "{report:?}");
    assert_eq!(to.slugs("/api/v1/articles").await, ["other", "same"]);
    let first = to.get("/api/v1/articles/same").await.expect(200).json();
    assert_eq!(first["title"], "First");
    let found = to
        .get("/api/v1/articles?q=imported")
        .await
        .expect(200)
        .json();
    assert_eq!(found["meta"]["total"], 2, "{found}");
}

fn records_as_lines(records: Vec<Value>) -> Vec<(usize, String)> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r.to_string()))
        .collect()
}

/// A WordPress export as Tools → Export writes it (WXR 1.2), small but complete.
const WXR: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
	xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
	<title>The Daily Example</title>
	<link>https://daily.example.com</link>
	<language>en-US</language>
	<wp:wxr_version>1.2</wp:wxr_version>
	<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[leila]]></wp:author_login><wp:author_email><![CDATA[leila@daily.example.com]]></wp:author_email><wp:author_display_name><![CDATA[Leila Haddad]]></wp:author_display_name></wp:author>
	<wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[omar]]></wp:author_login><wp:author_display_name><![CDATA[Omar Said]]></wp:author_display_name></wp:author>
	<wp:category><wp:term_id>2</wp:term_id><wp:category_nicename><![CDATA[politics]]></wp:category_nicename><wp:category_parent><![CDATA[news]]></wp:category_parent><wp:cat_name><![CDATA[Politics]]></wp:cat_name></wp:category>
	<wp:category><wp:term_id>1</wp:term_id><wp:category_nicename><![CDATA[news]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name><wp:category_description><![CDATA[All the news]]></wp:category_description></wp:category>
	<wp:tag><wp:term_id>5</wp:term_id><wp:tag_slug><![CDATA[gaza]]></wp:tag_slug><wp:tag_name><![CDATA[Gaza]]></wp:tag_name></wp:tag>
	<item>
		<title>Boats at dawn</title>
		<link>https://daily.example.com/boats/</link>
		<dc:creator><![CDATA[leila]]></dc:creator>
		<guid isPermaLink="false">https://daily.example.com/wp-content/uploads/2024/03/boats.jpg</guid>
		<excerpt:encoded><![CDATA[Fishing boats return to the harbour at dawn.]]></excerpt:encoded>
		<wp:post_id>34</wp:post_id>
		<wp:post_date_gmt><![CDATA[2024-03-01 06:00:00]]></wp:post_date_gmt>
		<wp:post_type><![CDATA[attachment]]></wp:post_type>
		<wp:post_mime_type><![CDATA[image/jpeg]]></wp:post_mime_type>
		<wp:attachment_url><![CDATA[https://daily.example.com/wp-content/uploads/2024/03/boats.jpg]]></wp:attachment_url>
		<wp:postmeta><wp:meta_key><![CDATA[_wp_attachment_image_alt]]></wp:meta_key><wp:meta_value><![CDATA[Boats in a harbour]]></wp:meta_value></wp:postmeta>
	</item>
	<item>
		<title>Talks resume in Cairo &amp; Doha</title>
		<dc:creator><![CDATA[leila]]></dc:creator>
		<content:encoded><![CDATA[<p>Negotiators met <strong>again</strong> on Monday.</p>
<script>alert("x")</script>
<p>More to follow.</p>]]></content:encoded>
		<excerpt:encoded><![CDATA[A new round of talks.]]></excerpt:encoded>
		<wp:post_id>12</wp:post_id>
		<wp:post_date_gmt><![CDATA[2024-03-01 09:30:00]]></wp:post_date_gmt>
		<wp:post_modified_gmt><![CDATA[2024-03-02 10:00:00]]></wp:post_modified_gmt>
		<wp:post_name><![CDATA[talks-resume-in-cairo]]></wp:post_name>
		<wp:status><![CDATA[publish]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
		<category domain="category" nicename="politics"><![CDATA[Politics]]></category>
		<category domain="post_tag" nicename="gaza"><![CDATA[Gaza]]></category>
		<category domain="post_tag" nicename="diplomacy"><![CDATA[Diplomacy]]></category>
		<wp:postmeta><wp:meta_key><![CDATA[_thumbnail_id]]></wp:meta_key><wp:meta_value><![CDATA[34]]></wp:meta_value></wp:postmeta>
	</item>
	<item>
		<title>Notes for a later story</title>
		<dc:creator><![CDATA[omar]]></dc:creator>
		<content:encoded><![CDATA[Work in progress.]]></content:encoded>
		<wp:post_id>13</wp:post_id>
		<wp:post_date_gmt><![CDATA[0000-00-00 00:00:00]]></wp:post_date_gmt>
		<wp:post_name><![CDATA[]]></wp:post_name>
		<wp:status><![CDATA[draft]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
		<category domain="category" nicename="news"><![CDATA[News]]></category>
	</item>
	<item>
		<title>Election day preview</title>
		<dc:creator><![CDATA[omar]]></dc:creator>
		<content:encoded><![CDATA[<p>Polls open at eight.</p>]]></content:encoded>
		<wp:post_id>14</wp:post_id>
		<wp:post_date_gmt><![CDATA[2099-06-01 06:00:00]]></wp:post_date_gmt>
		<wp:post_name><![CDATA[election-day-preview]]></wp:post_name>
		<wp:status><![CDATA[future]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
	</item>
	<item>
		<title>About us</title>
		<content:encoded><![CDATA[A page.]]></content:encoded>
		<wp:post_id>2</wp:post_id>
		<wp:post_name><![CDATA[about]]></wp:post_name>
		<wp:status><![CDATA[publish]]></wp:status>
		<wp:post_type><![CDATA[page]]></wp:post_type>
	</item>
</channel>
</rss>
"#;

#[actix_web::test]
async fn a_wordpress_export_comes_in_with_its_structure() {
    let t = common::app().await;
    let admin = t.admin().await;
    let records =
        newsdesk::transfer::wordpress::records(WXR.as_bytes(), &t.state.config.languages).unwrap();
    let report = import_into(&t.state, "wordpress", records_as_lines(records), false).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    // Categories are sections with their hierarchy.
    let politics = t.get("/api/v1/sections/politics").await.expect(200).json();
    assert_eq!(politics["parent"]["slug"], "news", "{politics}");
    assert_eq!(
        t.get("/api/v1/sections/news").await.expect(200).json()["description"],
        "All the news"
    );
    // The published post: slug, time, section, tags (one not listed in the header),
    // byline, featured image with caption and alt text, HTML sanitized.
    let a = t
        .get("/api/v1/articles/talks-resume-in-cairo")
        .await
        .expect(200)
        .json();
    assert_eq!(a["title"], "Talks resume in Cairo & Doha");
    assert_eq!(a["published_at"], "2024-03-01T09:30:00Z");
    assert_eq!(a["updated_at"], "2024-03-02T10:00:00Z");
    assert_eq!(a["summary"], "A new round of talks.");
    assert_eq!(a["section"]["slug"], "politics");
    let tags: Vec<&str> = a["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["gaza", "diplomacy"]);
    assert_eq!(a["authors"][0]["name"], "Leila Haddad");
    let hero = &a["hero_media"];
    assert_eq!(
        hero["url"], "https://daily.example.com/wp-content/uploads/2024/03/boats.jpg",
        "{a}"
    );
    assert_eq!(
        hero["caption"],
        "Fishing boats return to the harbour at dawn."
    );
    assert_eq!(hero["alt_text"], "Boats in a harbour");
    let html = a["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>again</strong>"), "{html}");
    assert!(!html.contains("script"), "{html}");
    // The draft stays a draft (staff only), the future post is scheduled, pages stay out.
    let all = t
        .get_as(&admin, "/api/v1/articles?status=all&per_page=10")
        .await
        .expect(200)
        .json();
    let by_title = |title: &str| {
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["title"] == title)
            .cloned()
            .unwrap_or_else(|| panic!("{title} was not imported: {all}"))
    };
    assert_eq!(by_title("Notes for a later story")["status"], "draft");
    assert_eq!(by_title("Election day preview")["status"], "scheduled");
    assert_eq!(all["meta"]["total"], 3, "the page is not an article");
    assert_eq!(t.slugs("/api/v1/articles").await, ["talks-resume-in-cairo"]);
    // A file that is not WXR says so.
    let err = newsdesk::transfer::wordpress::records(b"<rss><channel/></rss>", &[]).unwrap_err();
    assert!(err.contains("not a WordPress export"), "{err}");
}

/// A Ghost export as Settings → Import/Export writes it (Ghost 5), small but complete.
fn ghost_export() -> Value {
    json!({"db": [{
        "meta": {"exported_on": 1709280000000u64, "version": "5.80.0"},
        "data": {
            "posts": [
                {"id": "p1", "title": "Ceasefire talks resume", "slug": "ceasefire-talks-resume",
                 "html": "<p>Talks <em>resumed</em> today.</p><iframe src=\"https://evil.example\"></iframe>",
                 "feature_image": "https://ghost.example.com/content/images/talks.jpg",
                 "featured": true, "type": "post", "status": "published",
                 "custom_excerpt": "Negotiators are back.",
                 "created_at": "2024-03-01T08:00:00.000Z", "updated_at": "2024-03-01T10:00:00.000Z",
                 "published_at": "2024-03-01T09:00:00.000Z"},
                {"id": "p2", "title": "A draft", "slug": "a-draft", "html": "<p>Soon.</p>",
                 "type": "post", "status": "draft", "featured": false,
                 "created_at": "2024-03-02T08:00:00.000Z", "updated_at": "2024-03-02T08:00:00.000Z",
                 "published_at": null},
                {"id": "p3", "title": "Polls open", "slug": "polls-open", "html": "<p>Later.</p>",
                 "type": "post", "status": "scheduled", "featured": false,
                 "created_at": "2024-03-02T08:00:00.000Z", "updated_at": "2024-03-02T08:00:00.000Z",
                 "published_at": "2099-01-01T06:00:00.000Z"},
                {"id": "p4", "title": "Contact", "slug": "contact", "html": "<p>Page</p>",
                 "type": "page", "status": "published"}
            ],
            "posts_meta": [
                {"post_id": "p1", "feature_image_alt": "Delegates at a table",
                 "feature_image_caption": "Photo by <a href=\"https://x.example\">Amina Rahman</a>"}
            ],
            "tags": [
                {"id": "t1", "name": "Diplomacy", "slug": "diplomacy", "description": "Talks and treaties"},
                {"id": "t2", "name": "Middle East", "slug": "middle-east"},
                {"id": "t3", "name": "#newsletter", "slug": "hash-newsletter", "visibility": "internal"}
            ],
            "posts_tags": [
                {"post_id": "p1", "tag_id": "t2", "sort_order": 1},
                {"post_id": "p1", "tag_id": "t1", "sort_order": 0},
                {"post_id": "p1", "tag_id": "t3", "sort_order": 2}
            ],
            "users": [
                {"id": "u1", "name": "Amina Rahman", "slug": "amina", "bio": "Diplomatic correspondent"},
                {"id": "u2", "name": "Jonas Costa", "slug": "jonas"}
            ],
            "posts_authors": [
                {"post_id": "p1", "author_id": "u2", "sort_order": 1},
                {"post_id": "p1", "author_id": "u1", "sort_order": 0}
            ]
        }
    }]})
}

#[actix_web::test]
async fn a_ghost_export_comes_in_with_its_structure() {
    let t = common::app().await;
    let admin = t.admin().await;
    let bytes = serde_json::to_vec(&ghost_export()).unwrap();
    let records = newsdesk::transfer::ghost::records(&bytes, &t.state.config.languages).unwrap();
    let report = import_into(&t.state, "ghost", records_as_lines(records), false).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let a = t
        .get("/api/v1/articles/ceasefire-talks-resume")
        .await
        .expect(200)
        .json();
    assert_eq!(a["published_at"], "2024-03-01T09:00:00Z");
    assert_eq!(a["created_at"], "2024-03-01T08:00:00Z");
    assert_eq!(a["summary"], "Negotiators are back.");
    assert_eq!(a["featured"], true);
    let tags: Vec<&str> = a["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        ["diplomacy", "middle-east"],
        "in order, internal tags left out"
    );
    let authors: Vec<&str> = a["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["Amina Rahman", "Jonas Costa"]);
    assert_eq!(a["hero_media"]["caption"], "Photo by Amina Rahman", "{a}");
    assert_eq!(a["hero_media"]["alt_text"], "Delegates at a table");
    let html = a["body_html"].as_str().unwrap();
    assert!(
        html.contains("<em>resumed</em>") && !html.contains("iframe"),
        "{html}"
    );
    assert_eq!(
        t.get("/api/v1/authors/amina").await.expect(200).json()["bio"],
        "Diplomatic correspondent"
    );
    let all = t
        .get_as(&admin, "/api/v1/articles?status=all")
        .await
        .expect(200)
        .json();
    let statuses: Vec<(&str, &str)> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["slug"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses.len(),
        3,
        "the page is not an article: {statuses:?}"
    );
    assert!(statuses.contains(&("a-draft", "draft")));
    assert!(statuses.contains(&("polls-open", "scheduled")));
    let err = newsdesk::transfer::ghost::records(b"{\"hello\": 1}", &[]).unwrap_err();
    assert!(err.contains("not a Ghost export"), "{err}");
}

#[actix_web::test]
async fn uploaded_images_move_with_their_files_when_asked() {
    let from = common::sqlite_app().await;
    let admin = from.admin().await;
    let photo = crate::uploads::jpeg(640, 480);
    let made = crate::uploads::upload(
        &from,
        Some(&admin),
        &[
            ("file", Some("harbour.jpg"), &photo),
            ("caption", None, b"The harbour at dawn."),
        ],
    )
    .await
    .expect(201)
    .json();
    let sha = made["sha256"].as_str().unwrap().to_owned();
    let files = from.state.files.clone();
    let text = from
        .state
        .db
        .read_blocking(move |conn| {
            let mut out = Vec::new();
            export::export(
                conn,
                &mut out,
                export::ExportOptions {
                    with_files: true,
                    with_credentials: false,
                },
                Some(&files),
                &ProgressBar::hidden(),
            )?;
            Ok(String::from_utf8(out).unwrap())
        })
        .unwrap();
    let without = export_of(&from.state.db, export::ExportOptions::default()).await;
    assert!(
        text.len() > without.len() + photo.len(),
        "the file is in the export"
    );

    let to = common::app_configured(|c| {
        c.media_public_url = "https://cdn.example.com/files".into();
    })
    .await;
    to.admin().await;
    let admin_actor = to
        .state
        .db
        .read_blocking(users::first_active_admin)
        .unwrap()
        .unwrap();
    // As the command runs it: on a thread of its own, outside any async runtime (the
    // import stores files through a runtime of its own).
    let state = to.state.clone();
    let lines = numbered(&text);
    let report = std::thread::spawn(move || {
        import::import(
            &state.db,
            "with-files",
            &mut lines.into_iter(),
            import::ImportOptions::default(),
            state.config.languages.clone(),
            admin_actor,
            Some(state.files.clone()),
            &ProgressBar::hidden(),
        )
    })
    .join()
    .unwrap()
    .unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.files_imported, 1);
    let media = to
        .get_as(&to.admin().await, "/api/v1/media")
        .await
        .expect(200)
        .json();
    let item = &media["data"][0];
    assert_eq!(item["sha256"], sha);
    assert_eq!(item["caption"], "The harbour at dawn.");
    let url = item["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://cdn.example.com/files/") && url.ends_with(".jpg"),
        "{url}"
    );
    let served = to.get(&format!("/files/{sha}.jpg")).await.expect(200);
    assert_eq!(served.body.len(), {
        let original = from.get(&format!("/files/{sha}.jpg")).await.expect(200);
        original.body.len()
    });
    // A file that does not match its hash is refused.
    let tampered = text.replace(
        &format!("\"sha256\":\"{sha}\""),
        &format!("\"sha256\":\"{}\"", "0".repeat(64)),
    );
    assert_ne!(tampered, text);
    let again = common::app().await;
    again.admin().await;
    let report = import_into(&again.state, "tampered", numbered(&tampered), false).unwrap();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert!(
        report.rejected[0].1.contains("sha256"),
        "{:?}",
        report.rejected
    );
}

/// Stories of one import whose slugs come from one title take `-2`, `-4`... in file
/// order, around a slug another story of the same batch gives; a story giving a slug
/// already taken is refused alone.
#[actix_web::test]
async fn an_imports_stories_of_one_title_get_numbered_slugs_around_a_given_one() {
    let to = common::app().await;
    to.admin().await;
    let title = "Harbour reopens";
    let line = |n: usize, data: Value| (n, json!({"type": "article", "data": data}).to_string());
    let lines = vec![
        line(1, json!({"title": title, "status": "published"})),
        line(2, json!({"title": title, "status": "published"})),
        line(
            3,
            json!({"title": "Ferries resume", "slug": "harbour-reopens-3", "status": "published"}),
        ),
        line(4, json!({"title": title, "status": "published"})),
        line(
            5,
            json!({"title": "A copy", "slug": "harbour-reopens", "status": "published"}),
        ),
    ];
    let report = import_into(&to.state, "titles", lines, false).unwrap();
    let rejected: Vec<usize> = report.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(rejected, [5], "{report:?}");
    assert!(report.rejected[0].1.contains("slug"), "{report:?}");
    for (slug, expected) in [
        ("harbour-reopens", title),
        ("harbour-reopens-2", title),
        ("harbour-reopens-3", "Ferries resume"),
        ("harbour-reopens-4", title),
    ] {
        let story = to
            .get(&format!("/api/v1/articles/{slug}"))
            .await
            .expect(200)
            .json();
        assert_eq!(story["title"], expected, "{slug}");
    }
    let page = to.get("/api/v1/articles").await.expect(200).json();
    assert_eq!(page["meta"]["total"], 4);
}
