//! Every write route, one by one: a public page that shows what the write changes is
//! served from the cache before the write, and the very next read after it shows the
//! change. No handler picks what a write invalidates (the domain write declares it), so
//! this is the proof that none of them declares too little.

use serde_json::{Value, json};

use crate::common::{self, HIT};

/// One write and the public page that must show it at once.
struct Case {
    method: &'static str,
    /// The route template as the OpenAPI document names it.
    route: &'static str,
    path: String,
    body: Value,
    page: String,
    /// True when the page, read after the write, shows the change.
    shows: fn(&common::Resp) -> bool,
}

fn names(resp: &common::Resp, field: &str) -> Vec<String> {
    resp.json()["data"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i[field].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn every_write_route_is_seen_at_once_by_a_cached_public_read() {
    let t = common::app().await;
    let editor = t.editor().await;
    for (path, body) in [
        ("/api/v1/sections", json!({"name": "News"})),
        ("/api/v1/sections", json!({"name": "Spare section"})),
        ("/api/v1/tags", json!({"name": "Talks"})),
        ("/api/v1/tags", json!({"name": "Spare tag"})),
        ("/api/v1/authors", json!({"name": "Agencies"})),
        ("/api/v1/authors", json!({"name": "Spare author"})),
        ("/api/v1/regions", json!({"name": "MENA"})),
        ("/api/v1/regions", json!({"name": "Spare region"})),
    ] {
        t.post(&editor, path, body).await.expect(201);
    }
    let media = t
        .post(
            &editor,
            "/api/v1/media",
            json!({"kind": "image", "url": "https://img.example.com/a.jpg", "caption": "Old caption"}),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    let spare_media = t
        .post(
            &editor,
            "/api/v1/media",
            json!({"kind": "image", "url": "https://img.example.com/b.jpg"}),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    t.article(
        &editor,
        json!({"slug": "story", "title": "Old title", "status": "published", "section": "news",
               "tags": ["talks"], "authors": ["agencies"], "regions": ["mena"],
               "hero_media_id": media}),
    )
    .await;
    let doomed = t
        .article(
            &editor,
            json!({"slug": "doomed", "title": "Doomed", "status": "published"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    t.post(
        &editor,
        "/api/v1/collections",
        json!({"name": "Hub", "articles": ["story"]}),
    )
    .await
    .expect(201);
    t.post(&editor, "/api/v1/collections", json!({"name": "Spare hub"}))
        .await
        .expect(201);
    let item = t
        .post(&editor, "/api/v1/breaking", json!({"text": "Old ticker"}))
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    let spare_item = t
        .post(&editor, "/api/v1/breaking", json!({"text": "Spare ticker"}))
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();

    let cases = vec![
        Case {
            method: "POST",
            route: "/api/v1/articles",
            path: "/api/v1/articles".into(),
            body: json!({"slug": "fresh", "title": "Fresh", "status": "published"}),
            page: "/api/v1/articles?per_page=50".into(),
            shows: |r| names(r, "slug").contains(&"fresh".to_owned()),
        },
        Case {
            method: "PATCH",
            route: "/api/v1/articles/{id_or_slug}",
            path: "/api/v1/articles/story".into(),
            body: json!({"title": "New title"}),
            page: "/api/v1/articles/story".into(),
            shows: |r| r.json()["title"] == "New title",
        },
        Case {
            method: "DELETE",
            route: "/api/v1/articles/{id_or_slug}",
            path: "/api/v1/articles/doomed".into(),
            body: Value::Null,
            page: "/api/v1/articles/doomed".into(),
            shows: |r| r.status == 404,
        },
        Case {
            method: "POST",
            route: "/api/v1/tags",
            path: "/api/v1/tags".into(),
            body: json!({"name": "Fresh tag"}),
            page: "/api/v1/tags?per_page=50".into(),
            shows: |r| names(r, "slug").contains(&"fresh-tag".to_owned()),
        },
        Case {
            method: "PATCH",
            route: "/api/v1/tags/{id_or_slug}",
            path: "/api/v1/tags/talks".into(),
            body: json!({"name": "Renamed tag"}),
            page: "/api/v1/articles/story".into(),
            shows: |r| r.json()["tags"][0]["name"] == "Renamed tag",
        },
        Case {
            method: "DELETE",
            route: "/api/v1/tags/{id_or_slug}",
            path: "/api/v1/tags/spare-tag".into(),
            body: Value::Null,
            page: "/api/v1/tags?per_page=50".into(),
            shows: |r| !names(r, "slug").contains(&"spare-tag".to_owned()),
        },
        Case {
            method: "POST",
            route: "/api/v1/authors",
            path: "/api/v1/authors".into(),
            body: json!({"name": "Fresh author"}),
            page: "/api/v1/authors?per_page=50".into(),
            shows: |r| names(r, "slug").contains(&"fresh-author".to_owned()),
        },
        Case {
            method: "PATCH",
            route: "/api/v1/authors/{id_or_slug}",
            path: "/api/v1/authors/agencies".into(),
            body: json!({"name": "Wire services"}),
            page: "/api/v1/articles/story".into(),
            shows: |r| r.json()["authors"][0]["name"] == "Wire services",
        },
        Case {
            method: "DELETE",
            route: "/api/v1/authors/{id_or_slug}",
            path: "/api/v1/authors/spare-author".into(),
            body: Value::Null,
            page: "/api/v1/authors?per_page=50".into(),
            shows: |r| !names(r, "slug").contains(&"spare-author".to_owned()),
        },
        Case {
            method: "POST",
            route: "/api/v1/sections",
            path: "/api/v1/sections".into(),
            body: json!({"name": "Fresh section"}),
            page: "/api/v1/sections?per_page=50".into(),
            shows: |r| names(r, "slug").contains(&"fresh-section".to_owned()),
        },
        Case {
            method: "PATCH",
            route: "/api/v1/sections/{id_or_slug}",
            path: "/api/v1/sections/news".into(),
            body: json!({"name": "Headlines"}),
            page: "/api/v1/articles/story".into(),
            shows: |r| r.json()["section"]["name"] == "Headlines",
        },
        Case {
            method: "DELETE",
            route: "/api/v1/sections/{id_or_slug}",
            path: "/api/v1/sections/spare-section".into(),
            body: Value::Null,
            page: "/api/v1/sections?per_page=50".into(),
            shows: |r| !names(r, "slug").contains(&"spare-section".to_owned()),
        },
        Case {
            method: "POST",
            route: "/api/v1/regions",
            path: "/api/v1/regions".into(),
            body: json!({"name": "Fresh region"}),
            page: "/api/v1/regions?per_page=50".into(),
            shows: |r| names(r, "slug").contains(&"fresh-region".to_owned()),
        },
        Case {
            method: "PATCH",
            route: "/api/v1/regions/{id_or_slug}",
            path: "/api/v1/regions/mena".into(),
            body: json!({"name": "Middle East"}),
            page: "/api/v1/articles/story".into(),
            shows: |r| r.json()["regions"][0]["name"] == "Middle East",
        },
        Case {
            method: "DELETE",
            route: "/api/v1/regions/{id_or_slug}",
            path: "/api/v1/regions/spare-region".into(),
            body: Value::Null,
            page: "/api/v1/regions?per_page=50".into(),
            shows: |r| !names(r, "slug").contains(&"spare-region".to_owned()),
        },
        Case {
            // A new media item is used by nothing public: readers' media list keeps
            // its old answer, and must not show the new item.
            method: "POST",
            route: "/api/v1/media",
            path: "/api/v1/media".into(),
            body: json!({"kind": "image", "url": "https://img.example.com/new.jpg"}),
            page: "/api/v1/media?per_page=50".into(),
            shows: |r| r.status == 200 && r.json()["meta"]["total"] == 1,
        },
        Case {
            method: "PATCH",
            route: "/api/v1/media/{id}",
            path: format!("/api/v1/media/{media}"),
            body: json!({"caption": "New caption"}),
            page: "/api/v1/articles/story".into(),
            shows: |r| r.json()["hero_media"]["caption"] == "New caption",
        },
        Case {
            method: "DELETE",
            route: "/api/v1/media/{id}",
            path: format!("/api/v1/media/{spare_media}"),
            body: Value::Null,
            page: "/api/v1/media?per_page=50".into(),
            shows: |r| r.status == 200 && r.json()["meta"]["total"] == 1,
        },
        Case {
            method: "POST",
            route: "/api/v1/collections",
            path: "/api/v1/collections".into(),
            body: json!({"name": "Fresh hub"}),
            page: "/api/v1/collections?per_page=50".into(),
            shows: |r| names(r, "slug").contains(&"fresh-hub".to_owned()),
        },
        Case {
            method: "PATCH",
            route: "/api/v1/collections/{id_or_slug}",
            path: "/api/v1/collections/hub".into(),
            body: json!({"name": "Renamed hub"}),
            page: "/api/v1/collections/hub".into(),
            shows: |r| r.json()["name"] == "Renamed hub",
        },
        Case {
            method: "DELETE",
            route: "/api/v1/collections/{id_or_slug}",
            path: "/api/v1/collections/spare-hub".into(),
            body: Value::Null,
            page: "/api/v1/collections/spare-hub".into(),
            shows: |r| r.status == 404,
        },
        Case {
            method: "POST",
            route: "/api/v1/breaking",
            path: "/api/v1/breaking".into(),
            body: json!({"text": "Fresh ticker"}),
            page: "/api/v1/breaking".into(),
            shows: |r| names(r, "text").contains(&"Fresh ticker".to_owned()),
        },
        Case {
            method: "PATCH",
            route: "/api/v1/breaking/{id}",
            path: format!("/api/v1/breaking/{item}"),
            body: json!({"text": "New ticker"}),
            page: "/api/v1/breaking".into(),
            shows: |r| names(r, "text").contains(&"New ticker".to_owned()),
        },
        Case {
            method: "DELETE",
            route: "/api/v1/breaking/{id}",
            path: format!("/api/v1/breaking/{spare_item}"),
            body: Value::Null,
            page: "/api/v1/breaking".into(),
            shows: |r| !names(r, "text").contains(&"Spare ticker".to_owned()),
        },
        Case {
            method: "POST",
            route: "/api/v1/articles/{id_or_slug}/corrections",
            path: "/api/v1/articles/story/corrections".into(),
            body: json!({"text": "An earlier version misspelt a name."}),
            page: "/api/v1/articles/story".into(),
            shows: |r| {
                r.json()["corrections"]
                    .as_array()
                    .is_some_and(|c| c.len() == 1)
            },
        },
        Case {
            method: "POST",
            route: "/api/v1/articles/{id_or_slug}/revisions/{number}/restore",
            path: "/api/v1/articles/story/revisions/1/restore".into(),
            body: Value::Null,
            page: "/api/v1/articles/story".into(),
            shows: |r| r.json()["title"] == "Old title",
        },
        Case {
            method: "POST",
            route: "/api/v1/trash/{id}/restore",
            path: format!("/api/v1/trash/{doomed}/restore"),
            body: Value::Null,
            page: "/api/v1/articles?per_page=50".into(),
            shows: |r| names(r, "slug").contains(&"doomed".to_owned()),
        },
    ];

    // Writes no public page shows: staff accounts, sign-in, and view beacons (which
    // reach most-read within 5 seconds by design, tested in reader.rs).
    let not_public = [
        ("POST", "/api/v1/users"),
        ("PATCH", "/api/v1/users/{id}"),
        ("DELETE", "/api/v1/users/{id}"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/articles/{id_or_slug}/views"),
        // Preview links show nothing public; a purge removes what no public page shows
        // (a trashed article), tested in safety.rs.
        ("POST", "/api/v1/articles/{id_or_slug}/preview-links"),
        ("DELETE", "/api/v1/articles/{id_or_slug}/preview-links"),
        ("DELETE", "/api/v1/trash/{id}"),
        // Sessions, API tokens and webhooks are staff settings no public page shows.
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/{id}"),
        ("POST", "/api/v1/webhooks"),
        ("PATCH", "/api/v1/webhooks/{id}"),
        ("DELETE", "/api/v1/webhooks/{id}"),
        ("POST", "/api/v1/webhooks/{id}/deliveries/{delivery}/retry"),
    ];
    let doc = t.get("/api/v1/openapi.json").await.expect(200).json();
    let mut missing = Vec::new();
    for (route, ops) in doc["paths"].as_object().unwrap() {
        for method in ["post", "patch", "delete", "put"] {
            if ops.get(method).is_none() {
                continue;
            }
            let m = method.to_uppercase();
            let covered = cases.iter().any(|c| c.method == m && c.route == route)
                || not_public.iter().any(|(nm, nr)| *nm == m && nr == route);
            if !covered {
                missing.push(format!("{m} {route}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "write routes with no invalidation case: {missing:?}"
    );

    for case in &cases {
        // Warm the front page too: its stories' tags, bylines, regions, sections and
        // images are kept for the next recomputation.
        t.get(FRONT).await.expect(200);
        // Warm the page: the second read is served from the cache.
        t.get(&case.page).await;
        let (_, used) = t.get_counted(&case.page).await;
        assert_eq!(
            used, HIT,
            "{} {}: the page was not cached",
            case.method, case.path
        );
        let resp = t
            .json(case.method, &case.path, Some(&editor), &case.body)
            .await;
        assert!(
            (200..300).contains(&resp.status),
            "{} {}: {} {}",
            case.method,
            case.path,
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
        let before = t.state.cache.stats().links_reused;
        let after = t.get(&case.page).await;
        assert!(
            (case.shows)(&after),
            "{} {}: {} still shows the old state: {}",
            case.method,
            case.path,
            case.page,
            String::from_utf8_lossy(&after.body)
        );
        // After every write, a story on the public front page (recomputed with the
        // links kept from before wherever the write did not retire them) shows exactly
        // what a read with a token, which never takes anything from memory, shows.
        let front = t.get(FRONT).await.expect(200).json();
        let kept = t.state.cache.stats().links_reused - before;
        let fresh = t.get_as(&editor, FRONT).await.expect(200).json();
        for story in front["data"].as_array().unwrap() {
            let read = fresh["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == story["id"]);
            assert_eq!(
                Some(story),
                read,
                "{} {}: the public front page shows a story as it was",
                case.method,
                case.path
            );
        }
        assert!(
            case.method != "POST" || case.route != "/api/v1/articles" || kept > 0,
            "a new story leaves the others' links kept"
        );
    }
}

/// The front page, as anonymous readers get it.
const FRONT: &str = "/api/v1/articles?per_page=50";
