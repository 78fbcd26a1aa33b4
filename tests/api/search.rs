//! Full-text search: `q=` on article lists, in English, Arabic and Spanish.

use serde_json::{Value, json};

use crate::common::{self, slugs_of};

fn enc(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

#[actix_web::test]
async fn ranking_puts_title_matches_first_and_snippets_mark_the_words() {
    let t = common::app().await;
    let editor = t.editor().await;
    for (slug, title, summary, body) in [
        (
            "in-body",
            "Markets open higher",
            "Traders were calm.",
            "Later, the harbour authority spoke about fishing quotas.",
        ),
        (
            "in-title",
            "Harbour reopens after storm",
            "Boats return.",
            "The port was closed for two days.",
        ),
        (
            "in-summary",
            "Town council meets",
            "The harbour budget is on the agenda.",
            "Councillors argued.",
        ),
        (
            "unrelated",
            "Football final tonight",
            "Fans gather.",
            "Kick-off is at eight.",
        ),
    ] {
        t.article(&editor, json!({"slug": slug, "title": title, "summary": summary, "body": body, "status": "published"}))
            .await;
    }
    let found = t.get("/api/v1/articles?q=harbour").await.expect(200).json();
    assert_eq!(slugs_of(&found), ["in-title", "in-summary", "in-body"]);
    let ranks: Vec<f64> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["search"]["rank"].as_f64().unwrap())
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] > w[1]),
        "ranks descend: {ranks:?}"
    );
    assert_eq!(ranks[0], 1.0, "the best match has rank 1");
    let snippet = found["data"][2]["search"]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>harbour</mark>"), "{snippet}");
    assert!(
        found["data"][0].get("body").is_none(),
        "lists never carry bodies"
    );
    // Newest first on request, same matches.
    let by_date = t
        .slugs("/api/v1/articles?q=harbour&sort=-published_at")
        .await;
    assert_eq!(by_date.len(), 3);
    assert!(!by_date.contains(&"unrelated".to_owned()));
    // Relevance without q is a 400.
    t.get("/api/v1/articles?sort=relevance")
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn arabic_is_normalised_in_the_index_and_the_query() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "hamza", "language": "ar", "status": "published",
        "title": "محادثات بين إسرائيل وحماس", "body": "استؤنفت المحادثات في القاهرة."}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "plain-alef", "language": "ar", "status": "published",
        "title": "زيارة الى اسرائيل", "body": "وصل الوفد صباحاً إلى المدينة."}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "ta-marbuta", "language": "ar", "status": "published",
        "title": "أخبار المدينة", "body": "افتتحت مكتبةٌ جديدة في الحيّ القديم."}),
    )
    .await;
    // Typed without hamza: finds both spellings.
    let mut found = t
        .slugs(&format!("/api/v1/articles?q={}", enc("اسرائيل")))
        .await;
    found.sort();
    assert_eq!(found, ["hamza", "plain-alef"]);
    // Typed with hamza: the same.
    let mut found = t
        .slugs(&format!("/api/v1/articles?q={}", enc("إسرائيل")))
        .await;
    found.sort();
    assert_eq!(found, ["hamza", "plain-alef"]);
    // ة typed as ه, harakat and tatweel ignored.
    assert_eq!(
        t.slugs(&format!("/api/v1/articles?q={}", enc("مكتبه")))
            .await,
        ["ta-marbuta"]
    );
    assert_eq!(
        t.slugs(&format!("/api/v1/articles?q={}", enc("مـكـتـبـةٌ")))
            .await,
        ["ta-marbuta"]
    );
    // ى and ي are one letter: "الى" finds "إلى".
    let found = t
        .slugs(&format!(
            "/api/v1/articles?q={}&lang=ar",
            enc("الى المدينة")
        ))
        .await;
    assert_eq!(found, ["plain-alef"]);
}

#[actix_web::test]
async fn spanish_accents_and_case_fold_and_the_last_word_is_a_prefix() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "educacion", "language": "es", "status": "published",
        "title": "Reforma de la Educación", "body": "El ministerio presentó el plan."}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "economia", "language": "es", "status": "published",
        "title": "La economía crece", "body": "Datos del trimestre."}),
    )
    .await;
    assert_eq!(t.slugs("/api/v1/articles?q=educacion").await, ["educacion"]);
    assert_eq!(
        t.slugs(&format!("/api/v1/articles?q={}", enc("EDUCACIÓN")))
            .await,
        ["educacion"]
    );
    // As the reader types: "reforma edu" already finds it.
    assert_eq!(
        t.slugs("/api/v1/articles?q=reforma%20edu").await,
        ["educacion"]
    );
    assert_eq!(t.slugs("/api/v1/articles?q=econ").await, ["economia"]);
    // Every word must match.
    assert!(
        t.slugs("/api/v1/articles?q=reforma%20economia")
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn a_prefix_of_several_words_finds_each_and_no_hidden_story() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "climate", "status": "published", "title": "Climate levy passes",
        "body": "The levy funds flood defences."}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "climatico", "language": "es", "status": "published",
        "title": "Impuesto climático aprobado", "body": "El impuesto financia defensas."}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "climbing", "status": "published", "title": "Climbing season opens",
        "body": "Guides expect a busy levy-free summer."}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "draft", "title": "Climatology leak", "body": "Not yet."}),
    )
    .await;
    // Several indexed words start with "clim" (one only in a draft): each public
    // story is found, the draft is not, and ranks stay within 0 to 1.
    let found = t.get("/api/v1/articles?q=clim").await.expect(200).json();
    let mut slugs: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["climate", "climatico", "climbing"]);
    assert_eq!(found["meta"]["total"], 3);
    for article in found["data"].as_array().unwrap() {
        let rank = article["search"]["rank"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&rank), "{rank}");
    }
    // With another word before it, every word must still match.
    assert_eq!(
        t.slugs("/api/v1/articles?q=flood%20clim").await,
        ["climate"]
    );
    assert_eq!(
        t.slugs("/api/v1/articles?q=levy%20climb").await,
        ["climbing"]
    );
    // The ranking's own notation typed by a reader is only words.
    assert_eq!(
        t.slugs(&format!("/api/v1/articles?q={}", enc("\"clim\"*=2")))
            .await,
        Vec::<String>::new()
    );
}

#[actix_web::test]
async fn anonymous_searches_never_surface_drafts_or_scheduled_articles() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "public", "title": "Secret talks revealed", "status": "published"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "draft", "title": "Secret talks draft"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "later", "title": "Secret talks later", "status": "published",
        "published_at": common::in_seconds(3600)}),
    )
    .await;
    assert_eq!(t.slugs("/api/v1/articles?q=secret").await, ["public"]);
    let mut staff = t
        .slugs_as(&editor, "/api/v1/articles?q=secret&status=all")
        .await;
    staff.sort();
    assert_eq!(staff, ["draft", "later", "public"]);
}

#[actix_web::test]
async fn a_published_story_without_a_publication_time_stays_out_of_searches_as_of_lists() {
    // Only ever written by hand: a published row whose `published_at` is empty. Lists
    // hide it; an anonymous search, which keeps the full-text statement's matches
    // without looking them up again when it has no filter, must hide it too.
    let t = common::app().await;
    let editor = t.editor().await;
    for slug in ["kept", "emptied"] {
        t.article(
            &editor,
            json!({"slug": slug, "title": format!("Lighthouse keepers {slug}"),
                "status": "published", "published_at": common::in_seconds(-60)}),
        )
        .await;
    }
    t.state
        .db
        .write_content(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("UPDATE articles SET published_at = NULL WHERE slug = 'emptied'")
                .execute(conn)?;
            Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
        })
        .await
        .expect("empty the publication time");
    assert_eq!(t.slugs("/api/v1/articles?q=lighthouse").await, ["kept"]);
    for filter in ["", "&lang=en", "&sort=-published_at", "&featured=false"] {
        let url = format!("/api/v1/articles?q=lighthouse%20keepers{filter}");
        assert_eq!(t.slugs(&url).await, ["kept"], "{url}");
    }
    assert_eq!(t.slugs("/api/v1/articles").await, ["kept"]);
}

#[actix_web::test]
async fn a_writer_searching_finds_their_own_drafts_and_no_one_elses() {
    let t = common::app().await;
    let editor = t.editor().await;
    let (ana, ben) = (t.writer().await, t.writer().await);
    t.article(
        &editor,
        json!({"slug": "public", "title": "Harbour fees rise", "status": "published"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "editors", "title": "Harbour fees draft"}),
    )
    .await;
    t.article(
        &ana,
        json!({"slug": "anas", "title": "Harbour fees, Ana's notes"}),
    )
    .await;
    t.article(
        &ben,
        json!({"slug": "bens", "title": "Harbour fees, Ben's notes"}),
    )
    .await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let path = "/api/v1/articles?q=harbour%20fe&status=all";
    assert_eq!(sorted(t.slugs_as(&ana, path).await), ["anas", "public"]);
    assert_eq!(sorted(t.slugs_as(&ben, path).await), ["bens", "public"]);
    assert_eq!(
        sorted(t.slugs_as(&editor, path).await),
        ["anas", "bens", "editors", "public"]
    );
    assert_eq!(t.slugs("/api/v1/articles?q=harbour%20fe").await, ["public"]);
}

#[actix_web::test]
async fn the_index_follows_edits_and_deletes() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "story", "title": "Drought hits farms", "status": "published"}),
    )
    .await;
    assert_eq!(t.slugs("/api/v1/articles?q=drought").await, ["story"]);
    t.patch(
        &editor,
        "/api/v1/articles/story",
        json!({"title": "Floods hit farms"}),
    )
    .await
    .expect(200);
    assert!(t.slugs("/api/v1/articles?q=drought").await.is_empty());
    assert_eq!(t.slugs("/api/v1/articles?q=floods").await, ["story"]);
    t.patch(
        &editor,
        "/api/v1/articles/story",
        json!({"body": "Rivers burst their banks near Valencia."}),
    )
    .await
    .expect(200);
    assert_eq!(t.slugs("/api/v1/articles?q=valencia").await, ["story"]);
    t.delete(&editor, "/api/v1/articles/story")
        .await
        .expect(204);
    assert!(t.slugs("/api/v1/articles?q=floods").await.is_empty());
}

#[actix_web::test]
async fn search_combines_with_filters_and_pages_by_cursor() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    for i in 0..5 {
        t.article(&editor, json!({"slug": format!("gaza-{i}"), "title": format!("Aid convoy {i} reaches Gaza"),
            "tags": ["gaza"], "status": "published", "published_at": common::in_seconds(-100 * (i + 1))}))
            .await;
    }
    t.article(
        &editor,
        json!({"slug": "other", "title": "Aid convoy in Europe", "status": "published"}),
    )
    .await;
    let tagged = t
        .slugs("/api/v1/articles?q=convoy&tag=gaza&sort=-published_at")
        .await;
    assert_eq!(tagged, ["gaza-0", "gaza-1", "gaza-2", "gaza-3", "gaza-4"]);
    let first = t
        .get("/api/v1/articles?q=convoy&per_page=2")
        .await
        .expect(200)
        .json();
    assert_eq!(first["meta"]["total"], 6);
    let mut seen = slugs_of(&first);
    let mut next = first["meta"]["next_cursor"].as_str().map(str::to_owned);
    while let Some(cursor) = next {
        let page: Value = t
            .get(&format!(
                "/api/v1/articles?q=convoy&per_page=2&cursor={cursor}"
            ))
            .await
            .expect(200)
            .json();
        seen.extend(slugs_of(&page));
        next = page["meta"]["next_cursor"].as_str().map(str::to_owned);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "every match once: {seen:?}");
}

/// A search by date pages by cursor in that date's order, newest or oldest first, with
/// stories published in the same second kept in one order (the newer written first when
/// newest first), each once, in every page size; a later-published story outranks an
/// earlier one whatever their ids.
#[actix_web::test]
async fn searches_by_date_page_by_cursor_in_publication_order() {
    let t = common::app().await;
    let editor = t.editor().await;
    for (slug, at) in [
        ("tide-b", "2024-05-02T09:00:00Z"),
        ("tide-d", "2024-05-04T09:00:00Z"),
        ("tide-c1", "2024-05-03T09:00:00Z"),
        ("tide-c2", "2024-05-03T09:00:00Z"),
        ("tide-a", "2024-05-01T09:00:00Z"),
        ("tide-c3", "2024-05-03T09:00:00Z"),
    ] {
        t.article(
            &editor,
            json!({"slug": slug, "title": format!("Spring tide {slug}"),
                "status": "published", "published_at": at}),
        )
        .await;
    }
    let newest = [
        "tide-d", "tide-c3", "tide-c2", "tide-c1", "tide-b", "tide-a",
    ];
    let oldest = [
        "tide-a", "tide-b", "tide-c1", "tide-c2", "tide-c3", "tide-d",
    ];
    for (sort, want) in [("-published_at", newest), ("published_at", oldest)] {
        for per_page in [1, 2, 4, 6] {
            let path = format!("/api/v1/articles?q=tide&sort={sort}&per_page={per_page}");
            let first: Value = t.get(&path).await.expect(200).json();
            let mut seen = slugs_of(&first);
            let mut next = first["meta"]["next_cursor"].as_str().map(str::to_owned);
            while let Some(cursor) = next {
                let page: Value = t
                    .get(&format!("{path}&cursor={cursor}"))
                    .await
                    .expect(200)
                    .json();
                seen.extend(slugs_of(&page));
                next = page["meta"]["next_cursor"].as_str().map(str::to_owned);
            }
            assert_eq!(seen, want, "{path}");
        }
    }
}

#[actix_web::test]
async fn hostile_search_syntax_is_read_as_plain_words() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "quotes", "title": "Rates near zero", "status": "published"}),
    )
    .await;
    for q in [
        "\"unbalanced",
        "rates\"",
        "title:rates",
        "rates AND OR NOT",
        "NEAR(rates zero)",
        "rates*",
        "(((",
        "^rates",
        "{title body}: rates",
        "rates -zero",
        "'; DROP TABLE articles; --",
        "\u{0}rates",
        "*",
        "\"\"",
    ] {
        let resp = t.get(&format!("/api/v1/articles?q={}", enc(q))).await;
        assert_eq!(
            resp.status,
            200,
            "q={q:?}: {}",
            String::from_utf8_lossy(&resp.body)
        );
    }
    assert_eq!(
        t.slugs(&format!("/api/v1/articles?q={}", enc("\"rates")))
            .await,
        ["quotes"]
    );
    assert_eq!(
        t.slugs(&format!("/api/v1/articles?q={}", enc("rates OR nothing")))
            .await,
        Vec::<String>::new(),
        "OR is not an operator: as one, this would find the article"
    );
    // A blank search box lists everything.
    assert_eq!(t.slugs("/api/v1/articles?q=%20%20").await, ["quotes"]);
    let long = "a".repeat(201);
    t.get(&format!("/api/v1/articles?q={long}"))
        .await
        .problem(400, "bad_request");
}

/// A word in more articles than a search ranks (`MAX_SEARCH_HITS`) still finds the
/// newest of them first when sorted by date, however weakly it matches.
#[actix_web::test]
async fn date_sorted_searches_keep_the_newest_matches() {
    let t = common::app().await;
    let editor = t.editor().await;
    let db = t.state.db.clone();
    newsdesk::db::run_blocking(move || newsdesk::seed::bulk::seed(&db, 3_300, None))
        .await
        .unwrap();
    let ranked = t.get("/api/v1/articles?q=water").await.expect(200).json();
    assert_eq!(
        ranked["meta"]["total"],
        newsdesk::domain::articles::list::MAX_SEARCH_HITS,
        "the corpus must have more matches than a search ranks"
    );
    // One mention in a long body: a weak match by relevance.
    let long_body = format!(
        "{} water.",
        "Filler words about nothing in particular. ".repeat(3_000)
    );
    t.article(
        &editor,
        json!({"slug": "latest-water", "title": "Latest update",
        "body": long_body, "status": "published"}),
    )
    .await;
    let newest = t
        .slugs("/api/v1/articles?q=water&sort=-published_at&per_page=3")
        .await;
    assert_eq!(newest[0], "latest-water", "{newest:?}");
}

/// A search's matches keep the list's language, section (with its children), date
/// window and `featured` flag, in every order, for readers and for staff without a
/// status: what readers see, never a draft, a scheduled, an expired or a trashed match.
#[actix_web::test]
async fn searches_keep_the_language_section_window_and_links_of_the_list() {
    // More uncached anonymous searches than one reader's budget allows at once.
    let t = common::app_configured(|c| c.search_burst = 1_000).await;
    let editor = t.editor().await;
    t.newsroom(&editor).await;
    for (slug, lang, section, at) in [
        ("h-en-pol-23", "en", "politics", "2023-03-01T08:00:00Z"),
        ("h-es-pol-23", "es", "politics", "2023-06-01T08:00:00Z"),
        ("h-en-spo-24", "en", "sports", "2024-03-01T08:00:00Z"),
        ("h-es-spo-24", "es", "sports", "2024-06-01T08:00:00Z"),
        ("h-en-none-25", "en", "", "2025-03-01T08:00:00Z"),
    ] {
        let mut body = json!({"slug": slug, "title": format!("Harbour {slug}"),
            "language": lang, "status": "published", "published_at": at});
        if !section.is_empty() {
            body["section"] = json!(section);
        }
        if ["h-es-spo-24", "h-en-pol-23"].contains(&slug) {
            body["featured"] = json!(true);
        }
        let (tags, authors, regions) = match slug {
            "h-en-pol-23" => (json!(["gaza"]), json!(["leila-haddad"]), json!(["mena"])),
            "h-es-pol-23" => (json!(["elections"]), json!([]), json!([])),
            "h-en-spo-24" => (
                json!(["gaza", "climate"]),
                json!(["omar-said"]),
                json!(["europe"]),
            ),
            "h-es-spo-24" => (json!(["climate"]), json!(["leila-haddad"]), json!(["mena"])),
            _ => (json!(["gaza"]), json!(["omar-said"]), json!([])),
        };
        body["tags"] = tags;
        body["authors"] = authors;
        body["regions"] = regions;
        t.article(&editor, body).await;
    }
    // Featured and linked too, so that `featured=true` and the links are checked
    // against them.
    t.hidden_stories(
        &editor,
        "h-",
        json!({"title": "Harbour", "section": "politics", "featured": true,
            "tags": ["gaza", "climate", "elections"], "authors": ["leila-haddad", "omar-said"],
            "regions": ["mena", "europe"]}),
    )
    .await;
    let window = "&published_after=2023-05-01T00:00:00Z&published_before=2024-05-01T00:00:00Z";
    let in_politics = format!("{window}&section=politics");
    let window_plain = format!("{window}&featured=false");
    let tag_window = format!("{window}&tag=gaza");
    for (filter, want) in [
        (
            "",
            vec![
                "h-en-none-25",
                "h-es-spo-24",
                "h-en-spo-24",
                "h-es-pol-23",
                "h-en-pol-23",
            ],
        ),
        ("&lang=es", vec!["h-es-spo-24", "h-es-pol-23"]),
        ("&section=news", vec!["h-es-pol-23", "h-en-pol-23"]),
        ("&section=sports&lang=en", vec!["h-en-spo-24"]),
        (window, vec!["h-en-spo-24", "h-es-pol-23"]),
        (in_politics.as_str(), vec!["h-es-pol-23"]),
        ("&featured=true", vec!["h-es-spo-24", "h-en-pol-23"]),
        (
            "&featured=false",
            vec!["h-en-none-25", "h-en-spo-24", "h-es-pol-23"],
        ),
        ("&featured=false&lang=es", vec!["h-es-pol-23"]),
        ("&featured=true&section=sports", vec!["h-es-spo-24"]),
        (window_plain.as_str(), vec!["h-en-spo-24", "h-es-pol-23"]),
        (
            "&tag=gaza",
            vec!["h-en-none-25", "h-en-spo-24", "h-en-pol-23"],
        ),
        (
            "&tag=climate,elections",
            vec!["h-es-spo-24", "h-en-spo-24", "h-es-pol-23"],
        ),
        ("&author=leila-haddad", vec!["h-es-spo-24", "h-en-pol-23"]),
        ("&region=mena", vec!["h-es-spo-24", "h-en-pol-23"]),
        (
            "&tag=gaza&lang=en&author=omar-said",
            vec!["h-en-none-25", "h-en-spo-24"],
        ),
        (tag_window.as_str(), vec!["h-en-spo-24"]),
        ("&region=europe&featured=false", vec!["h-en-spo-24"]),
        ("&tag=gaza&section=news", vec!["h-en-pol-23"]),
        ("&author=omar-said&region=mena", vec![]),
    ] {
        for sort in [
            "",
            "&sort=-published_at",
            "&sort=published_at",
            "&sort=title",
        ] {
            let path = format!("/api/v1/articles?q=harbour{filter}{sort}&per_page=50");
            for viewer in [None, Some(editor.as_str())] {
                let page = match viewer {
                    None => t.get(&path).await,
                    Some(token) => t.get_as(token, &path).await,
                }
                .expect(200)
                .json();
                let mut got = slugs_of(&page);
                assert_eq!(page["meta"]["total"], want.len(), "{path}");
                match sort {
                    "&sort=-published_at" => assert_eq!(got, want, "{path}"),
                    "&sort=published_at" => {
                        got.reverse();
                        assert_eq!(got, want, "{path}");
                    }
                    _ => {
                        got.sort();
                        let mut want = want.clone();
                        want.sort();
                        assert_eq!(got, want, "{path}");
                    }
                }
            }
        }
    }
    // The flag as an edit leaves it: one story no longer featured, another now so.
    for (slug, featured) in [("h-es-spo-24", false), ("h-en-none-25", true)] {
        t.patch(
            &editor,
            &format!("/api/v1/articles/{slug}"),
            json!({ "featured": featured }),
        )
        .await
        .expect(200);
    }
    for (filter, want) in [
        ("&featured=true", vec!["h-en-none-25", "h-en-pol-23"]),
        (
            "&featured=false",
            vec!["h-en-spo-24", "h-es-pol-23", "h-es-spo-24"],
        ),
    ] {
        let mut got = t
            .slugs(&format!("/api/v1/articles?q=harbour{filter}&per_page=50"))
            .await;
        got.sort();
        assert_eq!(got, want, "{filter}");
    }
}

#[actix_web::test]
async fn a_prefix_finds_the_words_each_write_adds_or_takes_away() {
    let t = common::app().await;
    let editor = t.editor().await;
    t.article(
        &editor,
        json!({"slug": "zebrafish", "status": "published", "title": "Zebrafish study",
        "body": "Researchers tracked the fish."}),
    )
    .await;
    // Pages of several sizes (each its own response, not one kept page), so that the
    // readers have the prefix's words at hand before the writes below.
    for per_page in 1..=12 {
        assert_eq!(
            t.slugs(&format!("/api/v1/articles?q=zebr&per_page={per_page}"))
                .await,
            ["zebrafish"]
        );
    }
    // A new word that starts with the prefix.
    t.article(
        &editor,
        json!({"slug": "crossing", "status": "published", "title": "A zebra crossing",
        "body": "The council paints it."}),
    )
    .await;
    let mut found = t.slugs("/api/v1/articles?q=zebr&per_page=5").await;
    found.sort();
    assert_eq!(found, ["crossing", "zebrafish"]);
    // A word gone from the index with the edit that removed it.
    t.patch(
        &editor,
        "/api/v1/articles/zebrafish",
        json!({"title": "Fish study"}),
    )
    .await
    .expect(200);
    assert_eq!(
        t.slugs("/api/v1/articles?q=zebr&per_page=5").await,
        ["crossing"]
    );
    // More words than are looked up one by one: the prefix is searched as one.
    let many: Vec<String> = ('a'..='t').map(|c| format!("zebr{c}x")).collect();
    t.article(
        &editor,
        json!({"slug": "many", "status": "published", "title": "Word list",
        "body": many.join(" ")}),
    )
    .await;
    let mut found = t.slugs("/api/v1/articles?q=zebr&per_page=5").await;
    found.sort();
    assert_eq!(found, ["crossing", "many"]);
    assert_eq!(t.slugs("/api/v1/articles?q=zebrq").await, ["many"]);
}

#[actix_web::test]
async fn searches_find_the_same_matches_whether_the_newest_ids_hold_them_or_not() {
    // On PostgreSQL a search ranked or sorted newest first looks among the newest
    // 50,000 ids first, then below them for what it still needs. Stories 100,000 ids
    // apart put the older ones beyond that; each search must still find every story, in
    // order, on either backend.
    use newsdesk::db::dialect::fts_match;
    use newsdesk::db::sqlite::{FtsOrder, FtsVisibility};
    let t = common::app().await;
    let editor = t.editor().await;
    let story = |slug: &str, status: &str, ago: i64| {
        json!({"slug": slug, "title": format!("Zebra crossing {slug}"), "status": status,
            "published_at": common::in_seconds(-ago)})
    };
    let mut ids = Vec::new();
    for (slug, ago) in [("old-one", 900), ("old-two", 800)] {
        ids.push(
            t.article(&editor, story(slug, "published", ago)).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let on_postgres = common::on_postgres();
    t.state
        .db
        .write_content(move |conn| {
            use diesel::RunQueryDsl;
            let jump = if on_postgres {
                "SELECT setval(pg_get_serial_sequence('articles', 'id'), 100000)"
            } else {
                "UPDATE sqlite_sequence SET seq = 100000 WHERE name = 'articles'"
            };
            diesel::sql_query(jump).execute(conn)?;
            Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
        })
        .await
        .expect("move the ids on");
    for (slug, ago) in [("new-one", 300), ("new-two", 200), ("new-three", 100)] {
        ids.push(
            t.article(&editor, story(slug, "published", ago)).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    t.article(&editor, story("new-draft", "draft", 50)).await;
    assert!(ids[2] > 100_000, "the ids moved on: {ids:?}");

    let all = ["new-three", "new-two", "new-one", "old-two", "old-one"];
    assert_eq!(
        t.slugs("/api/v1/articles?q=zebra&sort=-published_at").await,
        all
    );
    let mut ranked = t.slugs("/api/v1/articles?q=zebra").await;
    ranked.sort();
    let mut expected = all.to_vec();
    expected.sort();
    assert_eq!(ranked, expected);
    let everyone = t.get_as(
        &editor,
        "/api/v1/articles?q=zebra&status=all&sort=-published_at",
    );
    assert_eq!(
        slugs_of(&everyone.await.expect(200).json()),
        [
            "new-draft",
            "new-three",
            "new-two",
            "new-one",
            "old-two",
            "old-one"
        ]
    );

    // A search that needs no more than the newest ids hold, and one that needs more,
    // on a reader's connection.
    let now = chrono::Utc::now().naive_utc();
    let searches = [
        (FtsOrder::Newest, 2),
        (FtsOrder::Newest, 4),
        (FtsOrder::Relevance { window: 3 }, 10),
        (FtsOrder::Relevance { window: 3 }, 1),
        (FtsOrder::Relevance { window: 4 }, 10),
        (FtsOrder::Oldest, 2),
    ];
    let found = t
        .state
        .db
        .read(move |conn| {
            let terms = ["zebra".to_owned()];
            let mut found = Vec::new();
            for (order, limit) in searches {
                let hits = fts_match(conn, &terms, FtsVisibility::Public(now), order, limit)?;
                let mut ids: Vec<i64> = hits.into_iter().map(|(id, _)| i64::from(id)).collect();
                ids.sort_unstable();
                found.push(ids);
            }
            Ok(found)
        })
        .await
        .expect("search");
    assert_eq!(found[0], ids[3..]);
    assert_eq!(found[1], ids[1..]);
    assert_eq!(found[2], ids[2..]);
    assert_eq!(found[3].len(), 1);
    assert_eq!(found[4], ids[1..]);
    assert_eq!(found[5], ids[..2]);
}

/// An anonymous search keeps its ranked matches for the next request of the same words
/// (another page size, a cursor, a language), and a reader still finds exactly what is
/// there after each kind of change: a story created, edited, taken down, or falling
/// due. Staff searches are never answered from kept matches.
#[actix_web::test]
async fn kept_matches_serve_the_same_words_again_until_anything_a_reader_finds_changes() {
    let t = common::app().await;
    let editor = t.editor().await;
    for (slug, title) in [
        ("quay", "Harbour quay repaired"),
        ("fees", "Harbour fees rise"),
        ("ferry", "Ferry strike ends"),
    ] {
        t.article(
            &editor,
            json!({"slug": slug, "title": title, "status": "published"}),
        )
        .await;
    }
    let reused = || t.state.cache.stats().matches_reused;
    // Each URL is new to the response cache (its page size differs), so each reaches
    // the search; the sorted slugs say what a reader finds, whatever the ranking.
    let mut size = 10;
    let mut found = |extra: &'static str| {
        size += 1;
        let path = format!("/api/v1/articles?q=harbour&per_page={size}{extra}");
        let t = &t;
        async move {
            let mut slugs = t.slugs(&path).await;
            slugs.sort();
            slugs
        }
    };
    let at_start = reused();
    assert_eq!(found("").await, ["fees", "quay"]);
    assert_eq!(reused(), at_start, "the first search ranks");
    assert_eq!(found("").await, ["fees", "quay"]);
    assert_eq!(found("&lang=en").await, ["fees", "quay"]);
    assert_eq!(
        reused(),
        at_start + 2,
        "the same words again reuse the matches"
    );
    // Another order is another search.
    let newest = t
        .slugs("/api/v1/articles?q=harbour&sort=-published_at")
        .await;
    assert_eq!(newest, ["fees", "quay"]);
    assert_eq!(reused(), at_start + 2);

    // A new story is found at once; a draft is not.
    t.article(
        &editor,
        json!({"slug": "pilot", "title": "Harbour pilot retires", "status": "published"}),
    )
    .await;
    t.article(
        &editor,
        json!({"slug": "plan", "title": "Harbour plan, unpublished"}),
    )
    .await;
    assert_eq!(found("").await, ["fees", "pilot", "quay"]);
    // Staff see the draft, and never from kept matches.
    let before_staff = reused();
    let mut staff = t
        .slugs_as(&editor, "/api/v1/articles?q=harbour&status=all&per_page=30")
        .await;
    staff.sort();
    assert_eq!(staff, ["fees", "pilot", "plan", "quay"]);
    t.slugs_as(&editor, "/api/v1/articles?q=harbour&status=all&per_page=31")
        .await;
    assert_eq!(reused(), before_staff, "staff searches are not kept");

    // An edit that takes the word away, and a story taken down.
    assert_eq!(found("").await, ["fees", "pilot", "quay"]);
    t.patch(
        &editor,
        "/api/v1/articles/fees",
        json!({"title": "Port fees rise"}),
    )
    .await
    .expect(200);
    assert_eq!(found("").await, ["pilot", "quay"]);
    t.delete(&editor, "/api/v1/articles/quay").await.expect(204);
    assert_eq!(found("").await, ["pilot"]);

    // A scheduled story: hidden while kept matches are served, then found once due,
    // with no write in between.
    t.article(
        &editor,
        json!({"slug": "later", "title": "Harbour festival opens", "status": "published",
            "published_at": common::in_seconds(common::SCHEDULE_AHEAD)}),
    )
    .await;
    assert_eq!(found("").await, ["pilot"]);
    let before_due = reused();
    assert_eq!(found("").await, ["pilot"]);
    assert_eq!(reused(), before_due + 1, "kept until the story falls due");
    common::eventually(common::due_by(common::SCHEDULE_AHEAD), || async {
        let path = "/api/v1/articles?q=harbour&per_page=50&sort=relevance";
        let mut slugs = t.slugs(path).await;
        slugs.sort();
        common::equals(slugs, vec!["later".to_owned(), "pilot".to_owned()])
    })
    .await;
    assert_eq!(found("").await, ["later", "pilot"]);
}

#[actix_web::test]
async fn stories_readers_cannot_see_never_move_the_ranks_readers_see() {
    // Two newsrooms with the same published stories; one also holds drafts, a
    // scheduled story and an expired one full of a searched word, and edits a draft
    // (every edit adds the story to the index again). Readers of both get the same
    // ranks, to the digit. On SQLite, three such drafts made the two published
    // stories below swap places (BM25 counts the stories that hold each word).
    let seen = common::app().await;
    let fuller = common::app().await;
    let mut editors = Vec::new();
    for t in [&seen, &fuller] {
        let editor = t.editor().await;
        for i in 0..10 {
            t.article(
                &editor,
                json!({"slug": format!("market-{i}"), "title": format!("Market report {i}"),
                    "body": "Prices moved today in the city.", "status": "published"}),
            )
            .await;
        }
        t.article(
            &editor,
            json!({"slug": "a", "title": "Zephyr storms the coast",
                "body": "The harbour was closed.", "status": "published"}),
        )
        .await;
        t.article(
            &editor,
            json!({"slug": "b", "title": "Harbour reopens",
                "body": "A zephyr passed by the harbour wall and the harbour.",
                "status": "published"}),
        )
        .await;
        editors.push(editor);
    }
    let ranks = |page: &Value| -> Vec<(String, f64)> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["slug"].as_str().unwrap().to_owned(),
                    a["search"]["rank"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let editor = &editors[1];
    for i in 0..3 {
        fuller
            .article(
                editor,
                json!({"slug": format!("plan-{i}"), "title": format!("Secret zephyr plan {i}"),
                    "body": "zephyr zephyr zephyr", "status": "draft"}),
            )
            .await;
    }
    fuller
        .article(
            editor,
            json!({"slug": "later", "title": "Zephyr season", "body": "zephyr harbour zephyr",
                "status": "published", "published_at": common::in_seconds(3_600)}),
        )
        .await;
    fuller
        .article(
            editor,
            json!({"slug": "gone", "title": "Zephyr warning", "body": "zephyr",
                "status": "published", "published_at": "2023-06-01T08:00:00Z",
                "unpublish_at": common::in_seconds(-60)}),
        )
        .await;
    for body in [
        "zephyr zephyr harbour",
        "a much longer draft about the zephyr and the wind",
    ] {
        fuller
            .patch(editor, "/api/v1/articles/plan-0", json!({ "body": body }))
            .await
            .expect(200);
    }
    // The same public change in both (it retires every cached search).
    for (t, editor) in [(&seen, &editors[0]), (&fuller, &editors[1])] {
        t.article(
            editor,
            json!({"slug": "weather", "title": "Weather today", "body": "Sunny.",
                "status": "published"}),
        )
        .await;
    }
    for path in [
        "/api/v1/articles?q=zephyr%20harbour",
        "/api/v1/articles?q=zephyr%20harbour&per_page=5",
        "/api/v1/articles?q=harbour%20zeph",
        "/api/v1/articles?q=zephyr",
    ] {
        let want = ranks(&seen.get(path).await.expect(200).json());
        assert_eq!(want.len(), 2, "{path}: {want:?}");
        let got = ranks(&fuller.get(path).await.expect(200).json());
        assert_eq!(got, want, "{path}");
        // Staff searching what readers see get the same ranks too.
        let staff = ranks(
            &fuller
                .get_as(editor, &format!("{path}&status=published"))
                .await
                .expect(200)
                .json(),
        );
        assert_eq!(staff, want, "{path}, as staff");
    }
    // A story scheduled a moment ahead, in both: `fuller` searches while it is hidden
    // (and keeps the hidden stories it read), `seen` does not; once it is due (no
    // write but the scheduler's own announcement of it), both rank it alike.
    let due = common::in_seconds(2);
    for (t, editor) in [(&seen, &editors[0]), (&fuller, &editors[1])] {
        t.article(
            editor,
            json!({"slug": "soon", "title": "Zephyr over the harbour",
                "body": "zephyr zephyr harbour", "status": "published", "published_at": due}),
        )
        .await;
    }
    let early = ranks(
        &fuller
            .get("/api/v1/articles?q=zephyr%20harbour&per_page=6")
            .await
            .expect(200)
            .json(),
    );
    assert_eq!(early.len(), 2, "not yet due: {early:?}");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2_600)).await;
    let path = "/api/v1/articles?q=zephyr%20harbour&per_page=7";
    let want = ranks(&seen.get(path).await.expect(200).json());
    assert_eq!(want.len(), 3, "due: {want:?}");
    assert_eq!(ranks(&fuller.get(path).await.expect(200).json()), want);
    // The totals are the index's own (SQLite; PostgreSQL's ranking reads none): spoiled
    // by hand they move the ranks, and `newsdesk recount` counts them again.
    if !fuller.state.db.is_postgres() {
        let path = "/api/v1/articles?q=zephyr%20harbour&per_page=3";
        let want = ranks(&seen.get(path).await.expect(200).json());
        fuller
            .state
            .db
            .write_content(|conn| {
                use diesel::connection::SimpleConnection;
                conn.batch_execute("UPDATE search_totals SET rows = 14, tokens = 20")?;
                Ok(newsdesk::db::Written::content((), newsdesk::db::Scope::All))
            })
            .await
            .expect("spoil the totals");
        let spoiled = ranks(&fuller.get(path).await.expect(200).json());
        assert_ne!(spoiled, want, "the ranking reads the totals");
        fuller
            .state
            .db
            .write_content(|conn| {
                newsdesk::domain::counts::recount(conn)
                    .map(|n| newsdesk::db::Written::content(n, newsdesk::db::Scope::All))
            })
            .await
            .expect("recount");
        let path = "/api/v1/articles?q=zephyr%20harbour&per_page=4";
        let want = ranks(&seen.get(path).await.expect(200).json());
        assert_eq!(ranks(&fuller.get(path).await.expect(200).json()), want);
    }
}
