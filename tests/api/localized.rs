//! Localized names and page-ready reads: `localized` on sections, tags, regions,
//! collections, authors and media; `locale` and `Accept-Language`; names in the
//! article's own language wherever an article embeds them; public URLs; `include`,
//! `fields`, the menu tree and redirects from old slugs.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common;

/// A newsroom whose names exist in Arabic (and partly in Spanish): section
/// `politics` under `news`, tag `ceasefire`, region `mena`, author `leila` with an
/// avatar, and a captioned hero image. Returns the hero image's id.
async fn arabic_newsroom<S, B>(t: &common::TestApp<S>, editor: &str) -> i64
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    t.post(
        editor,
        "/api/v1/sections",
        json!({"name": "News", "slug": "news",
        "localized": {"ar": {"name": "أخبار"}, "es": {"name": "Noticias"}}}),
    )
    .await
    .expect(201);
    t.post(
        editor,
        "/api/v1/sections",
        json!({"name": "Politics", "slug": "politics",
        "parent": "news", "description": "Power and policy",
        "localized": {"ar": {"name": "سياسة", "description": "السلطة والسياسات"},
                      "es": {"name": "Política"}}}),
    )
    .await
    .expect(201);
    t.post(
        editor,
        "/api/v1/tags",
        json!({"name": "Ceasefire talks", "slug": "ceasefire",
        "localized": {"ar": {"name": "محادثات وقف إطلاق النار"}}}),
    )
    .await
    .expect(201);
    t.post(editor, "/api/v1/regions", json!({"name": "MENA", "slug": "mena",
        "localized": {"ar": {"name": "الشرق الأوسط وشمال أفريقيا"}, "es": {"name": "Oriente Medio"}}}))
        .await
        .expect(201);
    let avatar = t
        .post(
            editor,
            "/api/v1/media",
            json!({"kind": "image",
            "url": "https://cdn.example.com/leila.jpg", "caption": "Leila Haddad",
            "localized": {"ar": {"caption": "ليلى حداد"}}}),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    t.post(
        editor,
        "/api/v1/authors",
        json!({"name": "Leila Haddad", "slug": "leila",
        "avatar_media_id": avatar, "bio": "Covers the Gulf.",
        "localized": {"ar": {"name": "ليلى حداد", "bio": "تغطي شؤون الخليج."}}}),
    )
    .await
    .expect(201);
    t.post(
        editor,
        "/api/v1/media",
        json!({"kind": "image",
        "url": "https://cdn.example.com/boats.jpg", "caption": "Boats return at dawn.",
        "credit": "AP", "alt_text": "Boats",
        "localized": {"ar": {"caption": "قوارب تعود عند الفجر.", "credit": "أسوشيتد برس"},
                      "es": {"caption": "Barcos al amanecer."}}}),
    )
    .await
    .expect(201)
    .json()["id"]
        .as_i64()
        .unwrap()
}

/// A published article in `lang` using every localized thing of [`arabic_newsroom`].
fn story(lang: &str, title: &str, hero: i64) -> Value {
    json!({"title": title, "language": lang, "status": "published",
        "section": "politics", "tags": ["ceasefire"], "regions": ["mena"],
        "authors": ["leila"], "hero_media_id": hero, "summary": "Talks resume.",
        "body": "Negotiators met in Cairo."})
}

#[actix_web::test]
async fn locale_and_accept_language_choose_names_with_fallback_both_ways() {
    let t = common::app().await;
    let editor = t.editor().await;
    arabic_newsroom(&t, &editor).await;

    // No language asked: the base values, in the first configured language.
    let base = t.get("/api/v1/sections/politics").await.expect(200);
    assert_eq!(base.json()["name"], "Politics");
    assert_eq!(base.header("content-language").as_deref(), Some("en"));
    assert!(
        base.header("vary").unwrap().contains("Accept-Language"),
        "{:?}",
        base.header("vary")
    );
    // `localized` reads back whole, whatever the language asked.
    assert_eq!(
        base.json()["localized"],
        json!({"ar": {"name": "سياسة", "description": "السلطة والسياسات"},
               "es": {"name": "Política"}})
    );

    // Arabic has both fields.
    let ar = t
        .get("/api/v1/sections/politics?locale=ar")
        .await
        .expect(200);
    assert_eq!(ar.json()["name"], "سياسة");
    assert_eq!(ar.json()["description"], "السلطة والسياسات");
    assert_eq!(ar.header("content-language").as_deref(), Some("ar"));
    assert_eq!(ar.json()["parent"]["name"], "أخبار");
    // Spanish has a name but no description: the description falls back to the base.
    let es = t
        .get("/api/v1/sections/politics?locale=es")
        .await
        .expect(200);
    assert_eq!(es.json()["name"], "Política");
    assert_eq!(es.json()["description"], "Power and policy");
    // A tag with no Spanish at all: the base name.
    let tag = t.get("/api/v1/tags/ceasefire?locale=es").await.expect(200);
    assert_eq!(tag.json()["name"], "Ceasefire talks");

    // Accept-Language with quality values: French is not configured, Arabic (0.8)
    // beats Spanish (0.5).
    let neg = t
        .get_with(
            "/api/v1/regions/mena",
            ("accept-language", "fr-FR, es;q=0.5, ar;q=0.8"),
        )
        .await;
    assert_eq!(neg.expect(200).json()["name"], "الشرق الأوسط وشمال أفريقيا");
    let neg = t
        .get_with(
            "/api/v1/regions/mena",
            ("accept-language", "ar;q=0, es-MX;q=0.3"),
        )
        .await;
    assert_eq!(neg.json()["name"], "Oriente Medio");
    assert_eq!(neg.header("content-language").as_deref(), Some("es"));
    // Nothing acceptable is configured: base values.
    let neg = t
        .get_with("/api/v1/regions/mena", ("accept-language", "de, fr;q=0.9"))
        .await;
    assert_eq!(neg.json()["name"], "MENA");
    // `locale` wins over Accept-Language.
    let both = t
        .get_with("/api/v1/regions/mena?locale=es", ("accept-language", "ar"))
        .await;
    assert_eq!(both.json()["name"], "Oriente Medio");

    // Lists too.
    let list = t.get("/api/v1/tags?locale=ar").await.expect(200).json();
    assert_eq!(list["data"][0]["name"], "محادثات وقف إطلاق النار");
    let authors = t
        .get_with("/api/v1/authors", ("accept-language", "ar"))
        .await
        .expect(200)
        .json();
    assert_eq!(authors["data"][0]["name"], "ليلى حداد");
    assert_eq!(authors["data"][0]["bio"], "تغطي شؤون الخليج.");
    assert_eq!(authors["data"][0]["avatar"]["caption"], "ليلى حداد");

    // An unknown locale is a 400 naming it.
    let p = t
        .get("/api/v1/tags/ceasefire?locale=fr")
        .await
        .problem(400, "bad_request");
    assert_eq!(common::Resp::error_fields(&p), ["locale"]);
    t.get("/api/v1/tags?locale=xx")
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn cached_reads_follow_accept_language() {
    let t = common::app().await;
    let editor = t.editor().await;
    arabic_newsroom(&t, &editor).await;
    for _ in 0..2 {
        let en = t
            .get_with("/api/v1/tags/ceasefire", ("accept-language", "en"))
            .await
            .expect(200);
        assert_eq!(en.json()["name"], "Ceasefire talks");
        let ar = t
            .get_with(
                "/api/v1/tags/ceasefire",
                ("accept-language", "ar-EG,ar;q=0.9"),
            )
            .await
            .expect(200);
        assert_eq!(ar.json()["name"], "محادثات وقف إطلاق النار");
        assert_ne!(en.header("etag"), ar.header("etag"));
        assert_eq!(ar.header("content-language").as_deref(), Some("ar"));
    }
}

#[actix_web::test]
async fn localized_input_is_checked_and_merged() {
    let t = common::app().await;
    let editor = t.editor().await;
    let p = t
        .post(
            &editor,
            "/api/v1/tags",
            json!({"name": "Gaza",
            "localized": {"fr": {"name": "Gaza"}, "en": {"name": "Gaza"},
                          "ar": {"title": "غزة", "name": 7}, "es": "Gaza"}}),
        )
        .await
        .problem(422, "validation_failed");
    let mut fields = common::Resp::error_fields(&p);
    fields.sort();
    assert_eq!(
        fields,
        [
            "localized.ar.name",
            "localized.ar.title",
            "localized.en",
            "localized.es",
            "localized.fr"
        ]
    );
    t.post(
        &editor,
        "/api/v1/media",
        json!({"kind": "image",
        "url": "https://cdn.example.com/a.jpg", "language": "ar",
        "localized": {"ar": {"caption": "x"}}}),
    )
    .await
    .problem(422, "validation_failed");
    t.post(
        &editor,
        "/api/v1/regions",
        json!({"name": "Gulf",
        "localized": {"ar": {"description": "x"}}}),
    )
    .await
    .problem(422, "validation_failed");

    t.post(
        &editor,
        "/api/v1/tags",
        json!({"name": "Gaza", "description": "The strip",
        "localized": {"ar": {"name": "غزة", "description": "القطاع"}, "es": {"name": "Gaza ES"}}}),
    )
    .await
    .expect(201);
    // Merge patch: a field dropped, a language dropped, a field added.
    let tag = t
        .patch(
            &editor,
            "/api/v1/tags/gaza",
            json!({"localized":
            {"ar": {"description": null}, "es": null}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(tag["localized"], json!({"ar": {"name": "غزة"}}));
    let tag = t
        .patch(
            &editor,
            "/api/v1/tags/gaza",
            json!({"localized": {"es": {"name": "Franja"}}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        tag["localized"],
        json!({"ar": {"name": "غزة"}, "es": {"name": "Franja"}})
    );
    // Clearing all of it.
    let tag = t
        .patch(&editor, "/api/v1/tags/gaza", json!({"localized": null}))
        .await
        .expect(200)
        .json();
    assert_eq!(tag["localized"], json!({}));
    // Arabic text round-trips byte for byte.
    let name = "غزة\u{200F} (القطاع)";
    let tag = t
        .patch(
            &editor,
            "/api/v1/tags/gaza",
            json!({"localized": {"ar": {"name": name}}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(tag["localized"]["ar"]["name"], name);
}

#[actix_web::test]
async fn articles_embed_names_in_their_own_language_everywhere() {
    let t = common::app().await;
    let editor = t.editor().await;
    let hero = arabic_newsroom(&t, &editor).await;
    let ar = t
        .article(&editor, story("ar", "استئناف المحادثات في القاهرة", hero))
        .await;
    let en = t
        .article(&editor, story("en", "Talks resume in Cairo", hero))
        .await;
    let es = t
        .article(&editor, story("es", "Se reanudan las conversaciones", hero))
        .await;

    let check_ar = |a: &Value| {
        assert_eq!(a["section"]["name"], "سياسة", "{a}");
        assert_eq!(a["tags"][0]["name"], "محادثات وقف إطلاق النار", "{a}");
        assert_eq!(a["regions"][0]["name"], "الشرق الأوسط وشمال أفريقيا", "{a}");
        assert_eq!(a["authors"][0]["name"], "ليلى حداد", "{a}");
        assert_eq!(a["authors"][0]["avatar"]["caption"], "ليلى حداد", "{a}");
        assert_eq!(a["hero_media"]["caption"], "قوارب تعود عند الفجر.", "{a}");
        assert_eq!(a["hero_media"]["credit"], "أسوشيتد برس", "{a}");
        // Alt text has no Arabic: the base value.
        assert_eq!(a["hero_media"]["alt_text"], "Boats", "{a}");
    };
    // The answer to the create, the single read and the list.
    check_ar(&ar);
    let slug = ar["slug"].as_str().unwrap();
    let single = t.get(&format!("/api/v1/articles/{slug}")).await.expect(200);
    assert_eq!(single.header("content-language").as_deref(), Some("ar"));
    check_ar(&single.json());
    let list = t.get("/api/v1/articles?lang=ar").await.expect(200).json();
    check_ar(&list["data"][0]);
    // Search results.
    let found = t
        .get("/api/v1/articles?q=%D8%A7%D9%84%D9%82%D8%A7%D9%87%D8%B1%D8%A9")
        .await
        .expect(200)
        .json();
    check_ar(&found["data"][0]);
    // A collection's items, each in its own language.
    t.post(
        &editor,
        "/api/v1/collections",
        json!({"name": "Talks", "slug": "talks",
        "articles": [ar["slug"], en["slug"]], "hero_media_id": hero,
        "localized": {"ar": {"name": "المحادثات"}}}),
    )
    .await
    .expect(201);
    let hub = t.get("/api/v1/collections/talks").await.expect(200).json();
    check_ar(&hub["articles"][0]);
    assert_eq!(hub["articles"][1]["section"]["name"], "Politics");
    assert_eq!(hub["hero_media"]["caption"], "Boats return at dawn.");
    let hub = t
        .get("/api/v1/collections/talks?locale=ar")
        .await
        .expect(200)
        .json();
    assert_eq!(hub["name"], "المحادثات");
    assert_eq!(hub["hero_media"]["caption"], "قوارب تعود عند الفجر.");
    // Related and read-next lists embed the same way.
    let related = t
        .get(&format!(
            "/api/v1/articles/{}/related",
            es["slug"].as_str().unwrap()
        ))
        .await
        .expect(200)
        .json();
    assert!(
        related["data"].as_array().unwrap().is_empty() || related["data"][0]["language"] == "es"
    );

    // English and Spanish editions: English names, Spanish where there are some.
    let en = t
        .get(&format!(
            "/api/v1/articles/{}",
            en["slug"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(en["section"]["name"], "Politics");
    assert_eq!(en["tags"][0]["name"], "Ceasefire talks");
    assert_eq!(en["hero_media"]["caption"], "Boats return at dawn.");
    assert_eq!(es["section"]["name"], "Política");
    assert_eq!(es["regions"][0]["name"], "Oriente Medio");
    assert_eq!(es["tags"][0]["name"], "Ceasefire talks");
    assert_eq!(es["hero_media"]["caption"], "Barcos al amanecer.");

    // The Arabic feeds name the section, the tags and the caption in Arabic.
    for path in [
        "/feeds/ar.xml",
        "/feeds/ar/sections/politics.xml",
        "/feeds/ar/tags/ceasefire.xml",
    ] {
        let xml = t.get(path).await.expect(200);
        let text = String::from_utf8(xml.body.to_vec()).unwrap();
        assert!(
            text.contains("<category>سياسة</category>"),
            "{path}: {text}"
        );
        assert!(text.contains("محادثات وقف إطلاق النار"), "{path}");
        assert!(text.contains("قوارب تعود عند الفجر."), "{path}");
        assert!(
            text.contains("<dc:creator>ليلى حداد</dc:creator>"),
            "{path}"
        );
        assert!(!text.contains("Ceasefire talks"), "{path}");
    }
    let feed = t.get("/feeds/ar/sections/politics.xml").await;
    let text = String::from_utf8(feed.body.to_vec()).unwrap();
    assert!(text.contains(": سياسة</title>"), "{text}");
}

#[actix_web::test]
async fn articles_carry_public_urls_and_their_editions_too() {
    let t = common::app_configured(|c| {
        c.public_base_url = "https://news.example".into();
        c.article_url_template = "{base}/{lang}/{section}/{yyyy}/{mm}/{dd}/{slug}".into();
    })
    .await;
    let editor = t.editor().await;
    let hero = arabic_newsroom(&t, &editor).await;
    let mut en = story("en", "Talks resume", hero);
    en["published_at"] = json!("2024-03-09T23:30:00+00:00");
    let en = t.article(&editor, en).await;
    assert_eq!(
        en["url"],
        "https://news.example/en/politics/2024/03/09/talks-resume"
    );
    let mut ar = story("ar", "استئناف المحادثات", hero);
    ar["translation_of"] = en["slug"].clone();
    ar["section"] = Value::Null;
    ar["published_at"] = json!("2024-03-10T01:00:00Z");
    let ar = t.article(&editor, ar).await;
    let ar_url = ar["url"].as_str().unwrap();
    assert!(
        ar_url.starts_with("https://news.example/ar/2024/03/10/"),
        "no section: its segment is dropped: {ar_url}"
    );
    let read = t
        .get("/api/v1/articles/talks-resume")
        .await
        .expect(200)
        .json();
    assert_eq!(
        read["translations"],
        json!([{"id": ar["id"], "language": "ar", "slug": ar["slug"], "title": ar["title"],
                "url": ar_url}])
    );
    let list = t.get("/api/v1/articles").await.json();
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["url"].is_string())
    );
    // The child sitemap names the same addresses, dated by each story's last change.
    let child = t.get("/sitemaps/articles-1.xml").await.expect(200);
    let xml = String::from_utf8(child.body.to_vec()).unwrap();
    for slug in [en["slug"].as_str().unwrap(), ar["slug"].as_str().unwrap()] {
        let a = t
            .get(&format!("/api/v1/articles/{slug}"))
            .await
            .expect(200)
            .json();
        let entry = format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod>",
            a["url"].as_str().unwrap(),
            a["updated_at"].as_str().unwrap()
        );
        assert!(xml.contains(&entry), "{entry} in {xml}");
    }
}

#[actix_web::test]
async fn include_and_fields_shape_article_reads() {
    let t = common::app().await;
    let editor = t.editor().await;
    let hero = arabic_newsroom(&t, &editor).await;
    for i in 0..8 {
        t.article(&editor, story("en", &format!("Story {i}"), hero))
            .await;
    }
    let plain = t.get("/api/v1/articles/story-0").await.expect(200).json();
    let related = t.get("/api/v1/articles/story-0/related").await.json();
    let next = t.get("/api/v1/articles/story-0/next").await.json();
    let full = t
        .get("/api/v1/articles/story-0?include=related,next")
        .await
        .expect(200);
    let etag = full.header("etag").unwrap();
    let body = full.json();
    assert_eq!(body["related"], related["data"]);
    assert_eq!(body["next"], next["data"]);
    assert_eq!(body["related"].as_array().unwrap().len(), 5);
    assert_eq!(body["title"], plain["title"]);
    // One representation, one ETag: a revalidation answers 304.
    let again = t
        .send(
            TestRequest::get()
                .uri("/api/v1/articles/story-0?include=related,next")
                .insert_header(("if-none-match", etag.as_str())),
        )
        .await;
    assert_eq!(again.status, 304);
    let only_next = t.get("/api/v1/articles/story-0?include=next").await.json();
    assert!(only_next.get("related").is_none() && only_next["next"].is_array());

    // Sparse fields: `id` always, the included arrays whatever `fields` says.
    let sparse = t
        .get("/api/v1/articles/story-0?fields=title,url,body&include=related")
        .await
        .expect(200)
        .json();
    let mut keys: Vec<&str> = sparse
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["body", "id", "related", "title", "url"]);
    let list = t
        .get("/api/v1/articles?fields=title,published_at&per_page=3")
        .await
        .expect(200)
        .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    for item in list["data"].as_array().unwrap() {
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["id", "published_at", "title"]);
    }
    assert!(list["meta"]["next_cursor"].is_string() && list["meta"]["total"] == 8);

    // Bad names are 400s that name the parameter.
    for path in [
        "/api/v1/articles?fields=title,body",
        "/api/v1/articles?fields=titel",
        "/api/v1/articles/story-0?fields=title,nope",
        "/api/v1/articles/story-0?include=related,author",
        "/api/v1/articles/story-0?include=fields",
        "/api/v1/articles/story-0?utm_source=x",
    ] {
        let p = t.get(path).await.problem(400, "bad_request");
        let named = common::Resp::error_fields(&p);
        assert_eq!(named.len(), 1, "{path}: {p}");
        assert!(path.contains(&format!("{}=", named[0])), "{path}: {p}");
    }
}

#[actix_web::test]
async fn the_menu_comes_nested_in_position_order_and_localized() {
    let t = common::app().await;
    let editor = t.editor().await;
    for body in [
        json!({"name": "Videos", "position": 3, "localized": {"ar": {"name": "فيديو"}}}),
        json!({"name": "News", "position": 1, "localized": {"ar": {"name": "أخبار"}}}),
        json!({"name": "Sports", "parent": "news", "position": 2}),
        json!({"name": "Politics", "parent": "news", "position": 1,
               "localized": {"ar": {"name": "سياسة"}}}),
        json!({"name": "Explainers", "parent": "videos", "position": 1}),
        json!({"name": "Elections", "parent": "politics", "position": 1}),
    ] {
        t.post(&editor, "/api/v1/sections", body).await.expect(201);
    }
    let tree = t.get("/api/v1/sections?tree=true").await.expect(200).json();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&tree["data"]), ["News", "Videos"]);
    assert_eq!(names(&tree["data"][0]["children"]), ["Politics", "Sports"]);
    assert_eq!(
        names(&tree["data"][0]["children"][0]["children"]),
        ["Elections"]
    );
    assert_eq!(names(&tree["data"][1]["children"]), ["Explainers"]);
    assert_eq!(tree["meta"]["count"], 6);
    let ar = t
        .get("/api/v1/sections?tree=true&locale=ar")
        .await
        .expect(200)
        .json();
    assert_eq!(names(&ar["data"]), ["أخبار", "فيديو"]);
    assert_eq!(names(&ar["data"][0]["children"]), ["سياسة", "Sports"]);
    // The flat list is unchanged; paging does not apply to the tree.
    let flat = t.get("/api/v1/sections").await.expect(200).json();
    assert_eq!(flat["meta"]["total"], 6);
    assert!(flat["data"][0].get("children").is_none());
    t.get("/api/v1/sections?tree=true&page=2")
        .await
        .problem(400, "bad_request");
    t.get("/api/v1/sections?tree=maybe")
        .await
        .problem(400, "bad_request");
}

#[actix_web::test]
async fn old_slugs_redirect_to_the_current_one() {
    let t = common::app().await;
    let editor = t.editor().await;
    let hero = arabic_newsroom(&t, &editor).await;
    t.article(&editor, story("en", "First headline", hero))
        .await;
    t.patch(
        &editor,
        "/api/v1/articles/first-headline",
        json!({"slug": "second-headline"}),
    )
    .await
    .expect(200);
    t.patch(
        &editor,
        "/api/v1/articles/second-headline",
        json!({"slug": "final-headline"}),
    )
    .await
    .expect(200);
    // Both old slugs lead straight to the current one, the query kept.
    for old in ["first-headline", "second-headline"] {
        let r = t
            .get(&format!("/api/v1/articles/{old}?include=related"))
            .await;
        assert_eq!(r.status, 308, "{old}");
        assert_eq!(
            r.header("location").as_deref(),
            Some("/api/v1/articles/final-headline?include=related")
        );
        let r = t.get(&format!("/api/v1/articles/{old}/translations")).await;
        assert_eq!(r.status, 308);
        assert_eq!(
            r.header("location").as_deref(),
            Some("/api/v1/articles/final-headline/translations")
        );
    }
    let head = t
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/api/v1/articles/first-headline"),
        )
        .await;
    assert_eq!(head.status, 308);
    t.get("/api/v1/articles/final-headline").await.expect(200);
    // Filters take current slugs only.
    assert!(
        t.slugs("/api/v1/articles?tag=ceasefire")
            .await
            .contains(&"final-headline".to_owned())
    );

    // Every resource with a slug.
    for (path, new) in [
        ("/api/v1/tags/ceasefire", "truce-talks"),
        ("/api/v1/sections/politics", "politics-and-power"),
        ("/api/v1/regions/mena", "middle-east"),
        ("/api/v1/authors/leila", "leila-haddad"),
    ] {
        t.patch(&editor, path, json!({"slug": new}))
            .await
            .expect(200);
        let r = t.get(&format!("{path}?locale=ar")).await;
        assert_eq!(r.status, 308, "{path}");
        let base = path.rsplit_once('/').unwrap().0;
        assert_eq!(
            r.header("location"),
            Some(format!("{base}/{new}?locale=ar"))
        );
    }
    t.post(
        &editor,
        "/api/v1/collections",
        json!({"name": "Hub", "slug": "hub"}),
    )
    .await
    .expect(201);
    t.patch(
        &editor,
        "/api/v1/collections/hub",
        json!({"slug": "big-hub"}),
    )
    .await
    .expect(200);
    assert_eq!(t.get("/api/v1/collections/hub").await.status, 308);

    // A new tag taking the freed slug ends the redirect.
    t.post(
        &editor,
        "/api/v1/tags",
        json!({"name": "Other", "slug": "ceasefire"}),
    )
    .await
    .expect(201);
    let now = t.get("/api/v1/tags/ceasefire").await.expect(200).json();
    assert_eq!(now["name"], "Other");
    // Deleting a resource ends its redirects.
    t.delete(&editor, "/api/v1/collections/big-hub")
        .await
        .expect(204);
    t.get("/api/v1/collections/hub")
        .await
        .problem(404, "not_found");

    // A renamed draft: readers learn nothing from its old slug; staff are redirected.
    t.article(&editor, json!({"title": "Secret plan"})).await;
    t.patch(
        &editor,
        "/api/v1/articles/secret-plan",
        json!({"slug": "secret-plan-2"}),
    )
    .await
    .expect(200);
    t.get("/api/v1/articles/secret-plan")
        .await
        .problem(404, "not_found");
    assert_eq!(
        t.get_as(&editor, "/api/v1/articles/secret-plan")
            .await
            .status,
        308
    );
}

#[actix_web::test]
async fn a_localized_edit_changes_every_cached_representation_at_once() {
    let t = common::app().await;
    let editor = t.editor().await;
    let hero = arabic_newsroom(&t, &editor).await;
    let ar = t.article(&editor, story("ar", "المحادثات", hero)).await;
    let path = format!("/api/v1/articles/{}", ar["slug"].as_str().unwrap());
    let views = [
        path.clone(),
        "/api/v1/articles?lang=ar".to_owned(),
        "/api/v1/tags/ceasefire?locale=ar".to_owned(),
        "/feeds/ar.xml".to_owned(),
    ];
    let mut before = Vec::new();
    for v in &views {
        // Twice, so the second comes from the cache.
        t.get(v).await.expect(200);
        before.push(t.get(v).await.expect(200));
    }
    t.patch(
        &editor,
        "/api/v1/tags/ceasefire",
        json!({"localized": {"ar": {"name": "مفاوضات الهدنة"}}}),
    )
    .await
    .expect(200);
    for (v, old) in views.iter().zip(before) {
        let now = t.get(v).await.expect(200);
        assert_ne!(now.header("etag"), old.header("etag"), "{v}");
        let text = String::from_utf8(now.body.to_vec()).unwrap();
        assert!(text.contains("مفاوضات الهدنة"), "{v}: {text}");
    }
    // The English edition's representation names the tag as before.
    let list = t.get("/api/v1/tags/ceasefire").await.json();
    assert_eq!(list["name"], "Ceasefire talks");
}
