//! Link fields, field by field: every URL a frontend may render as a link (author
//! `links`, media `url`, breaking `url`) is an absolute http or https URL with a host
//! and no credentials, stored and shown in its normalised form; anything else is a 422
//! naming the field.
//!
//! OWASP API Top 10: API10:2023 Unsafe Consumption of APIs, for the injection and
//! stored XSS it names among the consequences (`javascript:` and `data:` links reach a
//! reader's browser through every frontend that trusts our data); and API8:2023
//! Security Misconfiguration (credentials in a stored URL leak to every reader).

use serde_json::{Value, json};

use crate::common::{self, Resp};
use crate::text::{field_of, with_field};

/// A URL field: its collection, a valid create body, and the field's name in bodies
/// and errors.
struct UrlField {
    path: &'static str,
    base: fn() -> Value,
    field: &'static str,
}

const URL_FIELDS: &[UrlField] = &[
    UrlField {
        path: "/api/v1/authors",
        base: || json!({"name": "Leila Haddad"}),
        field: "links.x",
    },
    UrlField {
        path: "/api/v1/media",
        base: || json!({"kind": "image", "url": "https://cdn.example.com/x.jpg"}),
        field: "url",
    },
    UrlField {
        path: "/api/v1/breaking",
        base: || json!({"text": "Ceasefire talks resume"}),
        field: "url",
    },
];

fn bad_urls() -> Vec<String> {
    let mut bad: Vec<String> = [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://files.example.com/a.jpg",
        "mailto:desk@example.com",
        "//evil.example/x.jpg",
        "/relative/x.jpg",
        "x.jpg",
        "https://",
        "http:///",
        "https://user:secret@example.com/x.jpg",
        "https://user@example.com/x.jpg",
        "https://example.com/a\nb",
        "",
    ]
    .map(str::to_owned)
    .into();
    bad.push(format!("https://example.com/{}", "a".repeat(2_000)));
    bad
}

#[actix_web::test]
async fn every_url_field_refuses_what_is_not_an_absolute_http_url() {
    let t = common::app().await;
    let admin = t.admin().await;
    for f in URL_FIELDS {
        let item = t
            .post(&admin, f.path, (f.base)())
            .await
            .expect(201)
            .header("location")
            .expect("a Location header");
        for bad in bad_urls() {
            let shown = &bad[..bad.len().min(60)];
            let p = t
                .post(&admin, f.path, with_field((f.base)(), f.field, &bad))
                .await
                .problem(422, "validation_failed");
            assert_eq!(
                Resp::error_fields(&p),
                [f.field],
                "POST {} {shown:?}",
                f.path
            );
            let message = p["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.starts_with("must be an absolute http or https URL"),
                "{shown:?}: {message}"
            );
            if bad.starts_with("https://user") {
                assert!(message.contains("password"), "{shown:?}: {message}");
            }
            let p = t
                .patch(&admin, &item, with_field(json!({}), f.field, &bad))
                .await
                .problem(422, "validation_failed");
            assert_eq!(Resp::error_fields(&p), [f.field], "PATCH {item} {shown:?}");
        }
    }
}

#[actix_web::test]
async fn url_fields_store_the_normalised_url() {
    let t = common::app().await;
    let admin = t.admin().await;
    for f in URL_FIELDS {
        let sent = "HTTPS://Example.COM/a b?q=1 2#top";
        let normal = "https://example.com/a%20b?q=1%202#top";
        let created = t
            .post(&admin, f.path, with_field((f.base)(), f.field, sent))
            .await
            .expect(201);
        let item = created.header("location").unwrap();
        assert_eq!(field_of(&created.json(), f.field), normal, "{item}");
        let read = t.get_as(&admin, &item).await.expect(200).json();
        assert_eq!(field_of(&read, f.field), normal, "{item}");

        let changed = t
            .patch(
                &admin,
                &item,
                with_field(json!({}), f.field, "http://Bücher.example"),
            )
            .await
            .expect(200)
            .json();
        assert_eq!(
            field_of(&changed, f.field),
            "http://xn--bcher-kva.example/",
            "{item}"
        );
    }
}

#[actix_web::test]
async fn clearing_an_optional_url_still_works() {
    let t = common::app().await;
    let editor = t.editor().await;
    let item = t
        .post(
            &editor,
            "/api/v1/breaking",
            json!({"text": "Storm warning", "url": "https://example.com/storm"}),
        )
        .await
        .expect(201)
        .header("location")
        .unwrap();
    let cleared = t
        .patch(&editor, &item, json!({"url": null}))
        .await
        .expect(200)
        .json();
    assert_eq!(cleared["url"], Value::Null);
    let author = t
        .post(
            &editor,
            "/api/v1/authors",
            json!({"name": "Omar Said", "links": {"x": "https://x.com/omar"}}),
        )
        .await
        .expect(201)
        .header("location")
        .unwrap();
    let cleared = t
        .patch(&editor, &author, json!({"links": null}))
        .await
        .expect(200)
        .json();
    assert_eq!(cleared["links"], json!({}));
}
