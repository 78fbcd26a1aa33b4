//! Article lists: every filter, every sort, pages and cursors.

use serde_json::json;

use crate::common::{self, Resp, in_seconds, slugs_of};

#[actix_web::test]
async fn every_filter_narrows_the_list() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    let articles = [
        json!({"title": "Politics one", "section": "politics", "tags": ["gaza"], "authors": ["leila-haddad"], "regions": ["mena"], "featured": true, "published_at": "2024-03-01T10:00:00Z"}),
        json!({"title": "News one", "section": "news", "tags": ["elections"], "authors": ["omar-said"], "regions": ["europe"], "published_at": "2024-03-02T10:00:00Z"}),
        json!({"title": "Sports one", "section": "sports", "tags": ["climate"], "authors": ["agencies"], "language": "es", "published_at": "2024-03-03T10:00:00Z"}),
    ];
    for mut a in articles {
        a["status"] = json!("published");
        t.article(&editor, a).await;
    }
    let q = |query: &str| format!("/api/v1/articles?{query}");
    assert_eq!(
        t.slugs(&q("section=news")).await,
        ["news-one", "politics-one"],
        "section includes its children"
    );
    assert_eq!(t.slugs(&q("section=politics")).await, ["politics-one"]);
    assert_eq!(
        t.slugs(&q("tag=gaza,climate")).await,
        ["sports-one", "politics-one"],
        "several tags mean any"
    );
    assert_eq!(t.slugs(&q("author=omar-said")).await, ["news-one"]);
    assert_eq!(t.slugs(&q("region=mena")).await, ["politics-one"]);
    assert_eq!(t.slugs(&q("lang=es")).await, ["sports-one"]);
    assert_eq!(t.slugs(&q("featured=true")).await, ["politics-one"]);
    assert_eq!(t.slugs(&q("featured=false")).await.len(), 2);
    assert_eq!(
        t.slugs(&q("published_after=2024-03-01T12:00:00Z")).await,
        ["sports-one", "news-one"]
    );
    assert_eq!(
        t.slugs(&q("published_before=2024-03-02")).await,
        ["politics-one"]
    );
    assert_eq!(
        t.slugs(&q("section=news&tag=elections&lang=en")).await,
        ["news-one"]
    );
    // A value that names nothing is an empty list, not an error.
    for query in [
        "section=opinion",
        "tag=unknown",
        "author=nobody",
        "region=antarctica",
    ] {
        let list = t.get(&q(query)).await.expect(200).json();
        assert_eq!(list["data"], json!([]), "{query}");
        assert_eq!(list["meta"]["total"], 0);
    }
    // A badly formed value names its parameter.
    for (query, field) in [
        ("featured=maybe", "featured"),
        ("lang=fr", "lang"),
        ("published_after=last-week", "published_after"),
        ("sort=-title", "sort"),
        ("tag=a,b,c,d,e,f,g,h,i,j,k", "tag"),
        ("section=news,sports", "section"),
        ("color=red", "color"),
    ] {
        let p = t.get(&q(query)).await.problem(400, "bad_request");
        assert_eq!(Resp::error_fields(&p), [field], "{query}");
    }
}

#[actix_web::test]
async fn every_sort_orders_the_list() {
    let t = common::app().await;
    let editor = t.editor().await;
    for (title, at) in [
        ("Banana", "2024-01-02T00:00:00Z"),
        ("Apple", "2024-01-03T00:00:00Z"),
        ("Cherry", "2024-01-01T00:00:00Z"),
    ] {
        t.article(
            &editor,
            json!({"title": title, "status": "published", "published_at": at}),
        )
        .await;
    }
    t.patch(
        &editor,
        "/api/v1/articles/cherry",
        json!({"summary": "touched"}),
    )
    .await
    .expect(200);
    assert_eq!(
        t.slugs("/api/v1/articles").await,
        ["apple", "banana", "cherry"]
    );
    assert_eq!(
        t.slugs("/api/v1/articles?sort=published_at").await,
        ["cherry", "banana", "apple"]
    );
    assert_eq!(
        t.slugs("/api/v1/articles?sort=title").await,
        ["apple", "banana", "cherry"]
    );
    assert_eq!(
        t.slugs("/api/v1/articles?sort=-updated_at").await[0],
        "cherry"
    );
}

#[actix_web::test]
async fn pages_carry_totals() {
    let t = common::app().await;
    let editor = t.editor().await;
    for i in 0..7 {
        t.article(
            &editor,
            json!({"title": format!("Story {i}"), "status": "published"}),
        )
        .await;
    }
    let page = t
        .get("/api/v1/articles?per_page=3&page=3")
        .await
        .expect(200)
        .json();
    assert_eq!(page["meta"]["page"], 3);
    assert_eq!(page["meta"]["per_page"], 3);
    assert_eq!(page["meta"]["total"], 7);
    assert_eq!(page["meta"]["total_pages"], 3);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let beyond = t
        .get("/api/v1/articles?per_page=3&page=9")
        .await
        .expect(200)
        .json();
    assert_eq!(beyond["data"], json!([]));
}

#[actix_web::test]
async fn a_cursor_walk_has_no_duplicates_or_gaps_while_articles_are_published() {
    let t = common::app().await;
    let editor = t.editor().await;
    let mut expected = Vec::new();
    for i in 0..25 {
        let at = format!("2024-05-01T{:02}:{:02}:00Z", 8 + i / 60, i % 60);
        // Pairs share a timestamp, so the id breaks ties.
        let at = if i % 2 == 1 { expected_time(i - 1) } else { at };
        let a = t
            .article(
                &editor,
                json!({"title": format!("Walk {i:02}"), "status": "published", "published_at": at}),
            )
            .await;
        expected.push(a["slug"].as_str().unwrap().to_owned());
    }
    expected.reverse();
    let mut seen: Vec<String> = Vec::new();
    let mut url = "/api/v1/articles?per_page=4".to_owned();
    let mut pages = 0;
    loop {
        let page = t.get(&url).await.expect(200).json();
        seen.extend(slugs_of(&page));
        pages += 1;
        // Breaking news lands mid-walk: it is newer than the walk, so it never shows up.
        t.article(
            &editor,
            json!({"title": format!("Breaking {pages}"), "status": "published"}),
        )
        .await;
        match page["meta"]["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/articles?per_page=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 7);
}

#[actix_web::test]
async fn cursor_walks_in_every_sort_and_filter_match_the_single_page() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    for i in 0..14 {
        // Threes share a publication time and pairs a title, so every sort has ties
        // for the id to break; half are in a tag and a section, some in both.
        let at = format!("2024-06-01T10:{:02}:00Z", i / 3);
        let mut body = json!({
            "title": format!("Tied {}", i / 2),
            "status": "published",
            "published_at": at,
        });
        if i % 2 == 0 {
            body["tags"] = json!(["gaza"]);
        }
        if i % 3 != 1 {
            body["section"] = json!("politics");
        }
        t.article(&editor, body).await;
    }
    for filter in [
        "",
        "&tag=gaza",
        "&section=politics",
        "&tag=gaza&section=politics",
    ] {
        for sort in ["-published_at", "published_at", "title", "-updated_at"] {
            let query = format!("sort={sort}{filter}");
            let whole = t
                .slugs(&format!("/api/v1/articles?{query}&per_page=100"))
                .await;
            assert!(whole.len() >= 4, "{query}: {whole:?}");
            for per_page in [1, 2, 3] {
                assert_eq!(
                    t.walk(&query, per_page).await,
                    whole,
                    "{query}, {per_page} a page"
                );
            }
        }
    }
}

fn expected_time(i: i32) -> String {
    format!("2024-05-01T{:02}:{:02}:00Z", 8 + i / 60, i % 60)
}

#[actix_web::test]
async fn staff_cursor_walks_include_drafts_without_a_date() {
    let t = common::app().await;
    let editor = t.editor().await;
    for i in 0..3 {
        t.article(&editor, json!({"title": format!("Draft {i}")}))
            .await;
        t.article(&editor, json!({"title": format!("Pub {i}"), "status": "published", "published_at": in_seconds(-100 * (i + 1))})).await;
    }
    for sort in ["-published_at", "published_at"] {
        let mut seen = Vec::new();
        let mut url = format!("/api/v1/articles?status=all&per_page=2&sort={sort}");
        loop {
            let page = t.get_as(&editor, &url).await.expect(200).json();
            seen.extend(slugs_of(&page));
            match page["meta"]["next_cursor"].as_str() {
                Some(c) => {
                    url = format!("/api/v1/articles?status=all&per_page=2&sort={sort}&cursor={c}")
                }
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 6, "{sort}: {seen:?}");
        let drafts_at_end = sort == "-published_at";
        let first_draft = seen.iter().position(|s| s.starts_with("draft")).unwrap();
        if drafts_at_end {
            assert_eq!(first_draft, 3, "{seen:?}");
        } else {
            assert_eq!(first_draft, 0, "{seen:?}");
        }
    }
}

#[actix_web::test]
async fn tampered_and_foreign_cursors_are_400() {
    let t = common::app().await;
    let editor = t.editor().await;
    for i in 0..3 {
        t.article(
            &editor,
            json!({"title": format!("S{i}"), "status": "published"}),
        )
        .await;
    }
    let page = t
        .get("/api/v1/articles?per_page=1")
        .await
        .expect(200)
        .json();
    let cursor = page["meta"]["next_cursor"].as_str().unwrap();
    let (payload, tag) = cursor.split_once('.').unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut decoded: serde_json::Value =
        serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
    decoded["k"][1] = json!(999);
    let forged = format!("{}.{tag}", b64.encode(decoded.to_string()));
    for bad in [
        forged.as_str(),
        "not-a-cursor",
        "eyJzIjoiLXB1Ymxpc2hlZF9hdCJ9.AAAA",
    ] {
        let p = t
            .get(&format!("/api/v1/articles?cursor={bad}"))
            .await
            .problem(400, "bad_request");
        assert_eq!(Resp::error_fields(&p), ["cursor"]);
    }
    t.get(&format!("/api/v1/articles?sort=title&cursor={cursor}"))
        .await
        .problem(400, "bad_request");
}

/// A page filtered by a tag, an author, a region or a collection of few stories reads
/// that filter's rows whole (at a million articles, walking the archive for a five-story tag took
/// seconds); a large one is walked newest first. Either way a page shows only what
/// readers see, newest first, and a cursor walk gives the same list as one page.
#[actix_web::test]
async fn small_and_large_tags_authors_regions_and_collections_list_the_same_stories_either_way() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    // Thirty stories, a minute apart, the newest first; "gaza" holds most of them (more
    // than the maintained counts let a page read whole), the others only the oldest.
    let mut expected: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for i in 0..30 {
        let slug = format!("story-{i:02}");
        let mut body = json!({
            "slug": slug,
            "title": format!("Story {i}"),
            "status": "published",
            "published_at": format!("2024-06-01T10:{i:02}:00Z"),
            "tags": if i % 5 == 0 { json!([]) } else { json!(["gaza"]) },
        });
        if i < 3 {
            body["tags"] = json!(["gaza", "climate"]);
            body["authors"] = json!(["agencies"]);
            body["regions"] = json!(["europe"]);
            body["language"] = json!(if i == 1 { "ar" } else { "en" });
            expected.entry("climate").or_default().push(slug.clone());
        }
        if i % 5 != 0 || i < 3 {
            expected.entry("gaza").or_default().push(slug.clone());
        }
        t.article(&editor, body).await;
    }
    // What readers never see: a draft, a story scheduled for later and a trashed one,
    // each with the small tag, author and region.
    let hidden = json!({"tags": ["climate"], "authors": ["agencies"], "regions": ["europe"]});
    let mut draft = hidden.clone();
    draft["title"] = json!("Draft");
    t.article(&editor, draft).await;
    let mut scheduled = hidden.clone();
    scheduled["title"] = json!("Scheduled");
    scheduled["status"] = json!("published");
    scheduled["published_at"] = json!(common::in_seconds(3600));
    t.article(&editor, scheduled).await;
    let mut trashed = hidden.clone();
    trashed["title"] = json!("Trashed");
    trashed["status"] = json!("published");
    trashed["slug"] = json!("trashed");
    t.article(&editor, trashed).await;
    t.delete(&editor, "/api/v1/articles/trashed")
        .await
        .expect(204);

    // Coverage collections: one of the small tag's stories, one of the large tag's.
    for (name, tag) in [("Small hub", "climate"), ("Large hub", "gaza")] {
        t.post(
            &editor,
            "/api/v1/collections",
            json!({"name": name, "articles": expected[tag]}),
        )
        .await
        .expect(201);
    }
    let newest_first = |mut slugs: Vec<String>| {
        slugs.reverse();
        slugs
    };
    let climate = newest_first(expected["climate"].clone());
    let gaza = newest_first(expected["gaza"].clone());
    assert_eq!(gaza.len(), 25);
    // In one language: the Arabic edition (one story) is smaller than the byline or the
    // region, so its pages walk the edition; the English one is larger, so they walk
    // the link; a tag's walk reads its links in that language.
    let arabic = vec!["story-01".to_owned()];
    let english: Vec<String> = climate
        .iter()
        .filter(|s| *s != "story-01")
        .cloned()
        .collect();
    for (filter, want) in [
        ("region=europe&lang=ar", &arabic),
        ("author=agencies&lang=ar", &arabic),
        ("tag=gaza&region=europe&lang=ar", &arabic),
        ("author=agencies&region=europe&lang=ar", &arabic),
        ("region=europe&lang=en", &english),
        ("author=agencies&lang=en", &english),
        ("tag=climate&lang=en", &english),
        ("collection=small-hub", &climate),
        ("collection=large-hub", &gaza),
        ("collection=large-hub&region=europe", &climate),
        ("tag=climate", &climate),
        ("author=agencies", &climate),
        ("region=europe", &climate),
        ("tag=climate&author=agencies", &climate),
        ("tag=gaza", &gaza),
        ("tag=gaza&region=europe", &climate),
    ] {
        let page = t
            .get(&format!("/api/v1/articles?{filter}&per_page=100"))
            .await
            .expect(200)
            .json();
        assert_eq!(&common::slugs_of(&page), want, "{filter}");
        assert_eq!(page["meta"]["total"], want.len(), "{filter}");
        for per_page in [1, 2, 5] {
            assert_eq!(
                &t.walk(filter, per_page).await,
                want,
                "{filter}, {per_page} a page"
            );
        }
        let oldest: Vec<String> = want.iter().rev().cloned().collect();
        assert_eq!(
            t.slugs(&format!(
                "/api/v1/articles?{filter}&sort=published_at&per_page=100"
            ))
            .await,
            oldest,
            "{filter}, oldest first"
        );
    }
    // Staff find the draft and the scheduled story too, never the trashed one, through
    // every small filter, with the same totals.
    let drafts = t
        .get_as(&editor, "/api/v1/articles?status=draft&tag=climate")
        .await
        .expect(200)
        .json();
    assert_eq!(drafts["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(drafts["data"][0]["title"], "Draft");
    let mut staff_sees: Vec<String> = climate.clone();
    staff_sees.extend(["draft".to_owned(), "scheduled".to_owned()]);
    staff_sees.sort();
    for filter in [
        "tag=climate",
        "author=agencies",
        "region=europe",
        "collection=small-hub&tag=climate",
    ] {
        let page = t
            .get_as(
                &editor,
                &format!("/api/v1/articles?status=all&{filter}&per_page=100"),
            )
            .await
            .expect(200)
            .json();
        let mut slugs = common::slugs_of(&page);
        slugs.sort();
        let want = match filter.starts_with("collection") {
            true => {
                let mut w = climate.clone();
                w.sort();
                w
            }
            false => staff_sees.clone(),
        };
        assert_eq!(slugs, want, "{filter}");
        assert_eq!(page["meta"]["total"], want.len(), "{filter}");
    }
}

/// A readers' page of one tag walks the tag's links by their stories' publication
/// time. Its order, cursor and total follow a story moved in time, unpublished,
/// scheduled, expired or retagged; the tag's stories, all older than the rest of the
/// archive, fill its pages; and with a section or author filter too the page is the
/// same whether it walks the tag (the smaller set) or the section.
#[actix_web::test]
async fn a_tag_page_follows_its_stories_through_time_visibility_and_retagging() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    // Eight old stories in "climate" ("t-0" the oldest; the even ones in Politics, the
    // odd ones in Sports, the first three by Agencies), then twelve newer ones in
    // "gaza" and Politics.
    for i in 0..8 {
        let mut body = json!({
            "slug": format!("t-{i}"),
            "title": format!("Old {i}"),
            "status": "published",
            "published_at": format!("2020-01-01T10:{i:02}:00Z"),
            "tags": ["climate"],
            "section": if i % 2 == 0 { "politics" } else { "sports" },
        });
        if i < 3 {
            body["authors"] = json!(["agencies"]);
        }
        t.article(&editor, body).await;
    }
    for i in 0..12 {
        t.article(
            &editor,
            json!({
                "slug": format!("n-{i:02}"),
                "title": format!("New {i}"),
                "status": "published",
                "published_at": format!("2024-06-01T10:{i:02}:00Z"),
                "tags": ["gaza"],
                "section": "politics",
            }),
        )
        .await;
    }
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let before = names(&["t-7", "t-6", "t-5", "t-4", "t-3", "t-2", "t-1", "t-0"]);
    assert_eq!(t.walk("tag=climate", 3).await, before);

    // "t-0" republished as the newest story, "t-1" back to a draft, "t-2" scheduled
    // for later, "t-3" past its unpublish time, and "t-5" moved to "gaza".
    for (slug, change) in [
        ("t-0", json!({"published_at": common::in_seconds(-20)})),
        ("t-1", json!({"status": "draft"})),
        ("t-2", json!({"published_at": common::in_seconds(3_600)})),
        ("t-3", json!({"unpublish_at": common::in_seconds(-60)})),
        ("t-5", json!({"tags": ["gaza"]})),
    ] {
        t.patch(&editor, &format!("/api/v1/articles/{slug}"), change)
            .await
            .expect(200);
    }
    let mut gaza: Vec<String> = (0..12).rev().map(|i| format!("n-{i:02}")).collect();
    let politics_gaza = gaza.clone();
    gaza.push("t-5".to_owned());
    for (filter, want) in [
        ("tag=climate", names(&["t-0", "t-7", "t-6", "t-4"])),
        (
            "tag=climate&section=politics",
            names(&["t-0", "t-6", "t-4"]),
        ),
        ("tag=climate&section=news", names(&["t-0", "t-6", "t-4"])),
        ("tag=climate&section=sports", names(&["t-7"])),
        ("tag=climate&author=agencies", names(&["t-0"])),
        (
            "tag=climate&published_before=2021-01-01T00:00:00Z",
            names(&["t-7", "t-6", "t-4"]),
        ),
        ("tag=gaza", gaza.clone()),
        ("tag=gaza&section=politics", politics_gaza.clone()),
        ("tag=gaza&section=sports", names(&["t-5"])),
        ("tag=gaza&lang=ar", Vec::new()),
    ] {
        pages_hold(&t, filter, &want).await;
    }
    // A tag page in one language walks that language's links only: "n-03" moved to
    // Spanish leaves the English page and is the Spanish page, and back again. A
    // section's page in Spanish, the smaller edition, walks the edition and checks
    // each story's section ("t-6", Politics, moved too); in English, the section.
    let without = |list: &[String], gone: &[&str]| {
        let mut left = list.to_vec();
        left.retain(|s| !gone.contains(&s.as_str()));
        left
    };
    let mut politics = names(&["t-0"]);
    politics.extend((0..12).rev().map(|i| format!("n-{i:02}")));
    politics.extend(names(&["t-6", "t-4"]));
    pages_hold(&t, "section=politics", &politics).await;
    for language in ["es", "en"] {
        for slug in ["n-03", "t-6"] {
            t.patch(
                &editor,
                &format!("/api/v1/articles/{slug}"),
                json!({"language": language}),
            )
            .await
            .expect(200);
        }
        if language == "en" {
            pages_hold(&t, "tag=gaza&lang=es", &[]).await;
            pages_hold(&t, "section=politics&lang=es", &[]).await;
            pages_hold(&t, "tag=gaza&lang=en", &gaza).await;
            pages_hold(&t, "section=politics&lang=en", &politics).await;
            break;
        }
        pages_hold(&t, "tag=gaza&lang=es", &names(&["n-03"])).await;
        pages_hold(&t, "tag=gaza&lang=en", &without(&gaza, &["n-03"])).await;
        pages_hold(&t, "tag=gaza", &gaza).await;
        for filter in ["section=politics&lang=es", "section=news&lang=es"] {
            pages_hold(&t, filter, &names(&["n-03", "t-6"])).await;
        }
        pages_hold(&t, "section=sports&lang=es", &[]).await;
        pages_hold(&t, "section=politics&tag=gaza&lang=es", &names(&["n-03"])).await;
        pages_hold(
            &t,
            "section=politics&lang=en",
            &without(&politics, &["n-03", "t-6"]),
        )
        .await;
    }
    // Staff asking for every status see the draft and the scheduled story in the tag.
    let mut staff = t
        .slugs_as(
            &editor,
            "/api/v1/articles?status=all&tag=climate&per_page=100",
        )
        .await;
    staff.sort();
    assert_eq!(
        staff,
        names(&["t-0", "t-1", "t-2", "t-3", "t-4", "t-6", "t-7"])
    );
}

/// Checks that the readers' list `filter` holds `want`, newest first: as one page with
/// its total, walked by cursor one and two to a page, and oldest first.
async fn pages_hold<S, B>(t: &common::TestApp<S>, filter: &str, want: &[String])
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let page = t
        .get(&format!("/api/v1/articles?{filter}&per_page=100"))
        .await
        .expect(200)
        .json();
    assert_eq!(common::slugs_of(&page), want, "{filter}");
    assert_eq!(page["meta"]["total"], want.len(), "{filter}");
    for per_page in [1, 2] {
        assert_eq!(
            t.walk(filter, per_page).await,
            want,
            "{filter}, {per_page} a page"
        );
    }
    let oldest: Vec<String> = want.iter().rev().cloned().collect();
    assert_eq!(
        t.walk(&format!("{filter}&sort=published_at"), 2).await,
        oldest,
        "{filter}, oldest first"
    );
}

/// A readers' page of one author or one region walks that link's rows by their
/// stories' publication time, as a tag page does. Its order, cursor and total follow a
/// story moved in time, unpublished, scheduled, expired or given another byline and
/// region; the old stories fill their pages; and with a section, a tag or the other
/// link filter too the page is the same whichever set it walks.
#[actix_web::test]
async fn author_and_region_pages_follow_their_stories_through_time_and_moves() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    // Eight old stories by Omar Said in MENA ("o-0" the oldest; the even ones in
    // Politics, the odd ones in Sports; the first three tagged "climate", the last four
    // "gaza"), then twelve newer ones by Leila Haddad in Europe, in Politics, "gaza".
    for i in 0..8 {
        t.article(
            &editor,
            json!({
                "slug": format!("o-{i}"),
                "title": format!("Old {i}"),
                "status": "published",
                "published_at": format!("2019-03-01T08:{i:02}:00Z"),
                "authors": ["omar-said"],
                "regions": ["mena"],
                "tags": if i < 3 { ["climate"] } else if i >= 4 { ["gaza"] } else { ["elections"] },
                "section": if i % 2 == 0 { "politics" } else { "sports" },
            }),
        )
        .await;
    }
    for i in 0..12 {
        t.article(
            &editor,
            json!({
                "slug": format!("n-{i:02}"),
                "title": format!("New {i}"),
                "status": "published",
                "published_at": format!("2024-06-01T10:{i:02}:00Z"),
                "authors": ["leila-haddad"],
                "regions": ["europe"],
                "tags": ["gaza"],
                "section": "politics",
            }),
        )
        .await;
    }
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let before = names(&["o-7", "o-6", "o-5", "o-4", "o-3", "o-2", "o-1", "o-0"]);
    assert_eq!(t.walk("author=omar-said", 3).await, before);
    assert_eq!(t.walk("region=mena", 3).await, before);

    // "o-0" republished as the newest story, "o-1" back to a draft, "o-2" scheduled
    // for later, "o-3" past its unpublish time, and "o-5" given Leila Haddad's byline
    // and Europe.
    for (slug, change) in [
        ("o-0", json!({"published_at": common::in_seconds(-20)})),
        ("o-1", json!({"status": "draft"})),
        ("o-2", json!({"published_at": common::in_seconds(3_600)})),
        ("o-3", json!({"unpublish_at": common::in_seconds(-60)})),
        (
            "o-5",
            json!({"authors": ["leila-haddad"], "regions": ["europe"]}),
        ),
    ] {
        t.patch(&editor, &format!("/api/v1/articles/{slug}"), change)
            .await
            .expect(200);
    }
    let newer: Vec<String> = (0..12).rev().map(|i| format!("n-{i:02}")).collect();
    let mut leila = newer.clone();
    leila.push("o-5".to_owned());
    for (old, new) in [
        ("author=omar-said", "author=leila-haddad"),
        ("region=mena", "region=europe"),
    ] {
        for (filter, want) in [
            (old.to_owned(), names(&["o-0", "o-7", "o-6", "o-4"])),
            (
                format!("{old}&section=politics"),
                names(&["o-0", "o-6", "o-4"]),
            ),
            (format!("{old}&section=news"), names(&["o-0", "o-6", "o-4"])),
            (format!("{old}&section=sports"), names(&["o-7"])),
            // The tag is larger than the link ("gaza"), or smaller ("climate").
            (format!("{old}&tag=gaza"), names(&["o-7", "o-6", "o-4"])),
            (format!("{old}&tag=climate"), names(&["o-0"])),
            (
                format!("{old}&published_before=2020-01-01T00:00:00Z"),
                names(&["o-7", "o-6", "o-4"]),
            ),
            (
                format!("{old}&published_after=2019-03-01T08:05:00Z&featured=false"),
                names(&["o-0", "o-7", "o-6"]),
            ),
            (
                "author=omar-said&region=mena&section=news".to_owned(),
                names(&["o-0", "o-6", "o-4"]),
            ),
            (new.to_owned(), leila.clone()),
            (format!("{new}&section=politics"), newer.clone()),
            (format!("{new}&section=sports"), names(&["o-5"])),
            (format!("{new}&tag=gaza&section=sports"), names(&["o-5"])),
            (format!("{new}&lang=ar"), Vec::new()),
            ("author=leila-haddad&region=mena".to_owned(), Vec::new()),
        ] {
            pages_hold(&t, &filter, &want).await;
        }
    }
    // Staff asking for every status see the draft and the scheduled story.
    for filter in ["author=omar-said", "region=mena"] {
        let mut staff = t
            .slugs_as(
                &editor,
                &format!("/api/v1/articles?status=all&{filter}&per_page=100"),
            )
            .await;
        staff.sort();
        assert_eq!(
            staff,
            names(&["o-0", "o-1", "o-2", "o-3", "o-4", "o-6", "o-7"]),
            "{filter}"
        );
    }
}

/// Date windows over an archive's past and future: a month long ago holds its own
/// stories with their total whatever is newer, a window reaching past now stops at what
/// readers see, and staff's scheduled list takes a lower bound beyond now.
#[actix_web::test]
async fn date_windows_hold_their_own_stories_wherever_they_lie() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    for (slug, at, section, lang, tag, author, region) in [
        (
            "jan-10",
            "2023-01-10T08:00:00Z",
            "politics",
            "en",
            "gaza",
            "omar-said",
            "europe",
        ),
        (
            "jan-20",
            "2023-01-20T08:00:00Z",
            "sports",
            "es",
            "gaza",
            "agencies",
            "mena",
        ),
        (
            "jan-31",
            "2023-01-31T23:59:59Z",
            "politics",
            "en",
            "elections",
            "omar-said",
            "europe",
        ),
        (
            "feb-01",
            "2023-02-01T00:00:00Z",
            "politics",
            "en",
            "gaza",
            "agencies",
            "mena",
        ),
        (
            "jun-01",
            "2024-06-01T08:00:00Z",
            "sports",
            "en",
            "climate",
            "agencies",
            "europe",
        ),
        (
            "recent",
            "2026-01-05T08:00:00Z",
            "politics",
            "en",
            "gaza",
            "omar-said",
            "mena",
        ),
    ] {
        t.article(
            &editor,
            json!({"title": slug, "slug": slug, "status": "published", "published_at": at,
                   "section": section, "language": lang, "tags": [tag], "authors": [author],
                   "regions": [region]}),
        )
        .await;
    }
    for (slug, secs) in [("next-day", 86_400), ("next-week", 7 * 86_400)] {
        t.article(
            &editor,
            json!({"title": slug, "slug": slug, "status": "published",
                   "published_at": in_seconds(secs)}),
        )
        .await;
    }
    t.article(
        &editor,
        json!({"title": "gone", "slug": "gone", "status": "published",
               "published_at": "2023-01-15T08:00:00Z", "unpublish_at": in_seconds(-60),
               "tags": ["gaza"], "authors": ["omar-said"]}),
    )
    .await;
    let names = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let january = "published_after=2023-01-01T00:00:00Z&published_before=2023-02-01T00:00:00Z";
    pages_hold(&t, january, &names(&["jan-31", "jan-20", "jan-10"])).await;
    pages_hold(
        &t,
        &format!("{january}&section=politics"),
        &names(&["jan-31", "jan-10"]),
    )
    .await;
    pages_hold(&t, &format!("{january}&lang=es"), &names(&["jan-20"])).await;
    pages_hold(
        &t,
        "published_before=2023-02-01T00:00:01Z",
        &names(&["feb-01", "jan-31", "jan-20", "jan-10"]),
    )
    .await;
    pages_hold(
        &t,
        "published_after=2023-01-20T08:00:00Z&published_before=2025-01-01T00:00:00Z",
        &names(&["jun-01", "feb-01", "jan-31"]),
    )
    .await;
    pages_hold(
        &t,
        "published_after=2020-01-01T00:00:00Z&published_before=2022-01-01T00:00:00Z",
        &[],
    )
    .await;
    // One link, several tags, a link with a section or the other links, each over a
    // window: walked by the link's time, or read whole, the same stories.
    pages_hold(
        &t,
        &format!("{january}&tag=gaza"),
        &names(&["jan-20", "jan-10"]),
    )
    .await;
    pages_hold(
        &t,
        &format!("{january}&tag=gaza,elections"),
        &names(&["jan-31", "jan-20", "jan-10"]),
    )
    .await;
    pages_hold(
        &t,
        "author=omar-said&published_before=2023-02-01T00:00:00Z",
        &names(&["jan-31", "jan-10"]),
    )
    .await;
    pages_hold(
        &t,
        "region=mena&published_after=2023-01-25T00:00:00Z&published_before=2025-01-01T00:00:00Z",
        &names(&["feb-01"]),
    )
    .await;
    pages_hold(
        &t,
        "tag=gaza&section=politics&published_before=2023-06-01T00:00:00Z",
        &names(&["feb-01", "jan-10"]),
    )
    .await;
    pages_hold(
        &t,
        "tag=gaza&author=agencies&region=mena&published_before=2024-01-01T00:00:00Z",
        &names(&["feb-01", "jan-20"]),
    )
    .await;
    // A story moved into the window by an edit is found there by its link too.
    t.patch(
        &editor,
        "/api/v1/articles/jun-01",
        json!({"published_at": "2023-01-05T08:00:00Z"}),
    )
    .await
    .expect(200);
    pages_hold(&t, &format!("{january}&tag=climate"), &names(&["jun-01"])).await;
    pages_hold(
        &t,
        &format!("{january}&tag=climate,elections&region=europe"),
        &names(&["jan-31", "jun-01"]),
    )
    .await;
    pages_hold(
        &t,
        "published_after=2024-01-01T00:00:00Z&published_before=2025-01-01T00:00:00Z&tag=climate",
        &[],
    )
    .await;
    let expired = format!("/api/v1/articles?status=expired&{january}&tag=gaza");
    assert_eq!(t.slugs_as(&editor, &expired).await, ["gone"]);
    // Up to a time beyond now: what readers see, the scheduled stories not yet.
    let live = names(&["recent", "feb-01", "jan-31", "jan-20", "jan-10", "jun-01"]);
    pages_hold(&t, "published_before=2100-01-01T00:00:00Z", &live).await;
    pages_hold(
        &t,
        "published_after=2025-12-01T00:00:00Z&published_before=2100-01-01T00:00:00Z",
        &names(&["recent"]),
    )
    .await;
    let ahead = format!("published_after={}", in_seconds(3_600).replace('+', "%2B"));
    pages_hold(&t, &ahead, &[]).await;
    // Staff's scheduled stories after a time beyond now, and after one in the past.
    let scheduled = |after: &str| {
        format!("/api/v1/articles?status=scheduled&published_after={after}&per_page=100")
    };
    assert_eq!(
        t.slugs_as(
            &editor,
            &scheduled(&in_seconds(2 * 86_400).replace('+', "%2B"))
        )
        .await,
        ["next-week"]
    );
    assert_eq!(
        t.slugs_as(&editor, &scheduled("2023-01-01T00:00:00Z"))
            .await,
        ["next-week", "next-day"]
    );
    let page = t
        .get_as(
            &editor,
            &scheduled(&in_seconds(2 * 86_400).replace('+', "%2B")),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(page["meta"]["total"], 1);
}

/// A featured rail (`featured=true`, alone or with a section, its parent or a
/// language) and its complement hold exactly the live featured stories, newest first,
/// through featuring, unfeaturing, a move to another section, and stories that are not
/// or no longer live; staff see drafts among the featured too.
#[actix_web::test]
async fn featured_rails_hold_their_stories_through_every_change() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    // f-0 the oldest; the even ones featured; f-0..f-3 in Politics (under News), the
    // rest in Sports; f-4 and f-5 in Arabic; all tagged "gaza" by "agencies", f-0..f-5
    // in MENA.
    for i in 0..8 {
        t.article(
            &editor,
            json!({"title": format!("f-{i}"), "slug": format!("f-{i}"), "status": "published",
                   "published_at": format!("2024-05-0{}T08:00:00Z", i + 1),
                   "section": if i < 4 { "politics" } else { "sports" },
                   "language": if i == 4 || i == 5 { "ar" } else { "en" },
                   "tags": ["gaza"], "authors": ["agencies"],
                   "regions": if i < 6 { json!(["mena"]) } else { json!([]) },
                   "featured": i % 2 == 0}),
        )
        .await;
    }
    // Featured stories readers must never see in a rail: a draft, a scheduled story,
    // an expired one and a trashed one, all in Politics.
    t.hidden_stories(
        &editor,
        "",
        json!({"title": "Hidden", "section": "politics", "tags": ["gaza"],
               "authors": ["agencies"], "regions": ["mena"], "featured": true}),
    )
    .await;
    let names = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (filter, want) in [
        ("featured=true", names(&["f-6", "f-4", "f-2", "f-0"])),
        ("featured=true&section=politics", names(&["f-2", "f-0"])),
        ("featured=true&section=news", names(&["f-2", "f-0"])),
        ("featured=true&section=sports", names(&["f-6", "f-4"])),
        ("featured=true&lang=ar", names(&["f-4"])),
        ("featured=true&section=sports&lang=en", names(&["f-6"])),
        ("featured=false&section=politics", names(&["f-3", "f-1"])),
        ("featured=false&lang=en", names(&["f-7", "f-3", "f-1"])),
        ("section=politics", names(&["f-3", "f-2", "f-1", "f-0"])),
        (
            "featured=true&tag=gaza",
            names(&["f-6", "f-4", "f-2", "f-0"]),
        ),
        ("featured=true&region=mena", names(&["f-4", "f-2", "f-0"])),
        (
            "featured=true&author=agencies&lang=en",
            names(&["f-6", "f-2", "f-0"]),
        ),
        (
            "featured=true&tag=gaza&section=sports",
            names(&["f-6", "f-4"]),
        ),
        (
            "featured=false&tag=gaza",
            names(&["f-7", "f-5", "f-3", "f-1"]),
        ),
    ] {
        pages_hold(&t, filter, &want).await;
    }
    // f-2 unfeatured, f-3 featured, f-6 moved to Politics.
    for (slug, change) in [
        ("f-2", json!({"featured": false})),
        ("f-3", json!({"featured": true})),
        ("f-6", json!({"section": "politics"})),
    ] {
        t.patch(&editor, &format!("/api/v1/articles/{slug}"), change)
            .await
            .expect(200);
    }
    for (filter, want) in [
        ("featured=true", names(&["f-6", "f-4", "f-3", "f-0"])),
        (
            "featured=true&section=politics",
            names(&["f-6", "f-3", "f-0"]),
        ),
        (
            "featured=true&section=news&lang=en",
            names(&["f-6", "f-3", "f-0"]),
        ),
        ("featured=true&section=sports", names(&["f-4"])),
        ("featured=false&section=politics", names(&["f-2", "f-1"])),
        ("section=sports", names(&["f-7", "f-5", "f-4"])),
        (
            "featured=true&tag=gaza",
            names(&["f-6", "f-4", "f-3", "f-0"]),
        ),
        ("featured=true&region=mena&lang=en", names(&["f-3", "f-0"])),
        (
            "featured=true&author=agencies&section=politics",
            names(&["f-6", "f-3", "f-0"]),
        ),
    ] {
        pages_hold(&t, filter, &want).await;
    }
    let staff = t
        .slugs_as(
            &editor,
            "/api/v1/articles?status=all&featured=true&section=politics&per_page=100",
        )
        .await;
    for slug in ["draft", "later", "expired", "f-6", "f-3", "f-0"] {
        assert!(staff.iter().any(|s| s == slug), "{slug} in {staff:?}");
    }
    assert!(!staff.iter().any(|s| s == "f-2"), "{staff:?}");
}
