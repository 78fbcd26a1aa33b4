//! The text rule, field by field: every text field of every resource, on create and on
//! PATCH, refuses C0 controls other than tab, newline and carriage return and Unicode
//! noncharacters with a 422 naming the field; bidi and joiner marks are text, kept byte
//! for byte; and XML output stays well-formed whatever the database holds.
//!
//! OWASP API Top 10: refusing input that breaks every downstream reader is API8:2023
//! Security Misconfiguration (strict input at the edge); feeds that stay well-formed
//! whatever is stored are API10:2023 Unsafe Consumption of APIs (what we serve is safe
//! for the readers, aggregators and search engines that consume it).

use diesel::prelude::*;
use newsdesk::schema::{articles, authors, media, sections, tags};
use serde_json::{Map, Value, json};

use crate::common::{self, Resp};

/// One text field: where it sits in a body (`links.x` is the value of link `x`) and
/// what surrounds the character under test so the rest of the value is valid.
pub struct Field {
    pub name: &'static str,
    pub prefix: &'static str,
    pub suffix: &'static str,
    /// Whether marks read back as sent (not for URLs, which are percent-encoded).
    pub marks: bool,
}

const fn text(name: &'static str) -> Field {
    Field {
        name,
        prefix: "a",
        suffix: "b",
        marks: true,
    }
}

const fn link(name: &'static str) -> Field {
    Field {
        name,
        prefix: "https://example.com/a",
        suffix: "b",
        marks: false,
    }
}

/// A resource: its collection, a valid create body (`n` keeps names and emails
/// distinct) and its text fields.
pub struct Resource {
    pub path: &'static str,
    pub base: fn(usize) -> Value,
    pub fields: &'static [Field],
}

/// Every resource clients write, with every free-text field.
pub const RESOURCES: &[Resource] = &[
    Resource {
        path: "/api/v1/articles",
        base: |n| json!({"title": format!("Base {n}")}),
        fields: &[text("title"), text("summary"), text("body"), text("source")],
    },
    Resource {
        path: "/api/v1/authors",
        base: |n| json!({"name": format!("Base {n}")}),
        fields: &[text("name"), text("bio"), link("links.x")],
    },
    Resource {
        path: "/api/v1/tags",
        base: |n| json!({"name": format!("Base {n}")}),
        fields: &[text("name"), text("description")],
    },
    Resource {
        path: "/api/v1/sections",
        base: |n| json!({"name": format!("Base {n}")}),
        fields: &[text("name"), text("description")],
    },
    Resource {
        path: "/api/v1/regions",
        base: |n| json!({"name": format!("Base {n}")}),
        fields: &[text("name")],
    },
    Resource {
        path: "/api/v1/collections",
        base: |n| json!({"name": format!("Base {n}")}),
        fields: &[text("name"), text("description")],
    },
    Resource {
        path: "/api/v1/media",
        base: |_| json!({"kind": "image", "url": "https://cdn.example.com/x.jpg"}),
        fields: &[
            text("caption"),
            text("credit"),
            text("alt_text"),
            link("url"),
        ],
    },
    Resource {
        path: "/api/v1/breaking",
        base: |n| json!({"text": format!("Base {n}")}),
        fields: &[text("text"), link("url")],
    },
    Resource {
        path: "/api/v1/users",
        base: |n| {
            json!({"email": format!("base{n}@example.com"), "name": format!("Base {n}"),
                "role": "writer", "password": "a long passphrase"})
        },
        fields: &[
            text("name"),
            Field {
                name: "email",
                prefix: "a",
                suffix: "@example.com",
                marks: false,
            },
        ],
    },
];

/// `body` with `field` set to `value` (`links.x` sets link `x`).
pub fn with_field(mut body: Value, field: &str, value: &str) -> Value {
    match field.split_once('.') {
        Some((outer, inner)) => {
            let mut map = Map::new();
            map.insert(inner.to_owned(), json!(value));
            body[outer] = Value::Object(map);
        }
        None => body[field] = json!(value),
    }
    body
}

/// The value of `field` in a view (`links.x` reads link `x`).
pub fn field_of<'a>(view: &'a Value, field: &str) -> &'a Value {
    match field.split_once('.') {
        Some((outer, inner)) => &view[outer][inner],
        None => &view[field],
    }
}

/// Characters no text field accepts, sent raw or as JSON escapes (serde_json writes
/// C0 controls as `\u0001`).
const REFUSED: &[char] = &[
    '\u{FFFE}',
    '\u{FFFF}',
    '\u{FDD0}',
    '\u{1}',
    '\u{B}',
    '\0',
    '\u{10FFFF}',
];

/// Bidi and joiner marks, which are text.
const MARKS: &str = "\u{200F}\u{61C}\u{2066}\u{200C}\u{200D}\u{2069}\u{200E}";

#[actix_web::test]
async fn every_text_field_refuses_controls_and_noncharacters_on_create_and_patch() {
    let t = common::app().await;
    let admin = t.admin().await;
    for (r, resource) in RESOURCES.iter().enumerate() {
        let created = t
            .post(&admin, resource.path, (resource.base)(r * 100))
            .await
            .expect(201);
        let item = created.header("location").expect("a Location header");
        let before = t.get_as(&admin, &item).await.expect(200).json();
        for (f, field) in resource.fields.iter().enumerate() {
            for &c in REFUSED {
                let value = format!("{}{c}{}", field.prefix, field.suffix);
                let code = c as u32;
                let body = with_field((resource.base)(r * 100 + f + 1), field.name, &value);
                let p = t
                    .post(&admin, resource.path, body)
                    .await
                    .problem(422, "validation_failed");
                assert_eq!(
                    Resp::error_fields(&p),
                    [field.name],
                    "POST {} {} U+{code:04X}: {p}",
                    resource.path,
                    field.name
                );
                let p = t
                    .patch(&admin, &item, with_field(json!({}), field.name, &value))
                    .await
                    .problem(422, "validation_failed");
                assert_eq!(
                    Resp::error_fields(&p),
                    [field.name],
                    "PATCH {item} {} U+{code:04X}: {p}",
                    field.name
                );
            }
        }
        let after = t.get_as(&admin, &item).await.expect(200).json();
        assert_eq!(before, after, "{item}: a refused PATCH changed nothing");
    }
}

#[actix_web::test]
async fn json_escapes_of_refused_characters_are_refused_too() {
    let t = common::app().await;
    let editor = t.editor().await;
    for raw in [
        r#"{"title": "a\u0000b"}"#,
        r#"{"title": "a\u0001b"}"#,
        r#"{"title": "a\uFFFEb"}"#,
        r#"{"title": "a\uFFFFb"}"#,
        r#"{"title": "a\uDBFF\uDFFFb"}"#,
        r#"{"title": "ok", "body": "a\u0000b"}"#,
    ] {
        let resp = t
            .send(
                actix_web::test::TestRequest::post()
                    .uri("/api/v1/articles")
                    .insert_header(("authorization", format!("Bearer {editor}")))
                    .insert_header(("content-type", "application/json"))
                    .set_payload(raw),
            )
            .await;
        let p = resp.problem(422, "validation_failed");
        assert_eq!(Resp::error_fields(&p).len(), 1, "{raw}: {p}");
    }
    let list = t.get_as(&editor, "/api/v1/articles?status=all").await;
    assert_eq!(
        list.expect(200).json()["meta"]["total"],
        0,
        "nothing stored"
    );
}

#[actix_web::test]
async fn bidi_and_joiner_marks_are_kept_byte_for_byte() {
    let t = common::app().await;
    let admin = t.admin().await;
    for (r, resource) in RESOURCES.iter().enumerate() {
        for (f, field) in resource.fields.iter().filter(|f| f.marks).enumerate() {
            let sent = format!("{}{MARKS}{} {r}{f}", field.prefix, field.suffix);
            let body = with_field((resource.base)(r * 100 + f), field.name, &sent);
            let created = t.post(&admin, resource.path, body).await.expect(201);
            let item = created.header("location").expect("a Location header");
            assert_eq!(field_of(&created.json(), field.name), &json!(sent));
            let read = t.get_as(&admin, &item).await.expect(200).json();
            assert_eq!(
                field_of(&read, field.name),
                &json!(sent),
                "{item} {}",
                field.name
            );

            let changed = format!("{MARKS}{} changed", field.prefix);
            t.patch(&admin, &item, with_field(json!({}), field.name, &changed))
                .await
                .expect(200);
            let read = t.get_as(&admin, &item).await.expect(200).json();
            assert_eq!(
                field_of(&read, field.name),
                &json!(changed),
                "PATCH {item} {}",
                field.name
            );
        }
    }
}

/// True for a character an XML 1.0 document may carry and a reader accepts: an XML
/// `Char`, and not a noncharacter.
fn xml_char(c: char) -> bool {
    let n = c as u32;
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !(0xFDD0..=0xFDEF).contains(&n)
        && n & 0xFFFE != 0xFFFE
}

/// Reads a whole document to its end with quick-xml, panicking at the first
/// well-formedness error, and checks every character: of the document as sent, of each
/// attribute value and of each character reference. Returns the document.
fn assert_well_formed(path: &str, xml: &[u8]) -> String {
    use quick_xml::events::Event;
    let doc = std::str::from_utf8(xml).expect("UTF-8");
    let bad = |s: &str| s.chars().find(|&c| !xml_char(c)).map(|c| c as u32);
    assert_eq!(bad(doc), None, "{path}: a character XML forbids\n{doc}");
    let mut reader = quick_xml::Reader::from_str(doc);
    let mut open: Vec<String> = Vec::new();
    let mut elements = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("{path} is not well-formed XML: {e}\n{doc}"));
        let start = match &event {
            Event::Start(e) | Event::Empty(e) => Some(e),
            _ => None,
        };
        if let Some(e) = start {
            elements += 1;
            for a in e.attributes() {
                let a = a.unwrap_or_else(|e| panic!("{path}: bad attribute: {e}"));
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap_or_else(|e| panic!("{path}: bad attribute value: {e}"));
                assert_eq!(bad(&value), None, "{path}: attribute {value:?}");
            }
        }
        match event {
            Event::Start(e) => open.push(e.name().as_ref().to_owned()),
            Event::End(e) => {
                let name: String = e.name().as_ref().to_owned();
                assert_eq!(open.pop(), Some(name), "{path}: mismatched end tag");
            }
            Event::GeneralRef(r) => {
                let resolved = r
                    .resolve_char_ref()
                    .unwrap_or_else(|e| panic!("{path}: bad character reference: {e}"));
                match resolved {
                    Some(c) => assert!(xml_char(c), "{path}: &#{};", c as u32),
                    None => assert!(
                        matches!(&*r, "lt" | "gt" | "amp" | "quot" | "apos"),
                        "{path}: undeclared entity {}",
                        &*r
                    ),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "{path}: every element is closed");
    assert!(elements > 1, "{path}: a document with content");
    doc.to_owned()
}

/// Overwrites stored values the way data from before the text rule (or a direct
/// database edit) may look, bypassing the API.
async fn store_directly<S, B>(t: &common::TestApp<S>, article_id: i32, media_id: i32)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    t.state
        .db
        .write(move |conn| {
            diesel::update(articles::table.find(article_id))
                .set((
                    articles::title.eq("Bad\u{FFFF}title\u{1}end"),
                    articles::summary.eq(Some("Sum\u{FFFE}mary\u{B}")),
                    // PostgreSQL cannot store U+0000 at all; SQLite can.
                    articles::body_html.eq(if common::on_postgres() {
                        "<p>Body\u{FDD0}\u{1}</p>"
                    } else {
                        "<p>Body\u{FDD0}\u{0}</p>"
                    }),
                ))
                .execute(conn)?;
            diesel::update(tags::table.filter(tags::slug.eq("gaza")))
                .set(tags::name.eq("Gaza\u{10FFFF}"))
                .execute(conn)?;
            diesel::update(sections::table.filter(sections::slug.eq("politics")))
                .set(sections::name.eq("Politics\u{1F}"))
                .execute(conn)?;
            diesel::update(authors::table.filter(authors::slug.eq("leila-haddad")))
                .set(authors::name.eq("Leila\u{8}Haddad"))
                .execute(conn)?;
            diesel::update(media::table.find(media_id))
                .set((
                    media::url.eq("https://cdn.example.com/\u{FFFE}.jpg"),
                    media::caption.eq(Some("Cap\u{FFFF}tion")),
                    media::credit.eq(Some("AP\u{C}")),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("write directly");
}

#[actix_web::test]
async fn feeds_and_sitemaps_stay_well_formed_whatever_is_stored() {
    let t = common::app().await;
    let editor = t.editor().await;
    let media_id = t.newsroom(&editor).await;
    let article = t
        .article(
            &editor,
            json!({"title": "Fine title", "summary": "Fine", "body": "Fine body.",
                "status": "published", "section": "politics", "tags": ["gaza"],
                "authors": ["leila-haddad"], "hero_media_id": media_id}),
        )
        .await;
    // Markdown character references are decoded when the body is rendered: the
    // Markdown passes the rule, the HTML it gives may carry what XML forbids.
    t.article(
        &editor,
        json!({"title": "References", "body": "a &#xFFFF; b &#1; c &#xFDD0;",
            "status": "published", "section": "politics", "tags": ["gaza"]}),
    )
    .await;
    let id = article["id"].as_i64().unwrap() as i32;
    store_directly(&t, id, media_id as i32).await;

    for path in [
        "/feeds/en.xml",
        "/feeds/en/sections/politics.xml",
        "/feeds/en/tags/gaza.xml",
        "/sitemap.xml",
        "/sitemaps/articles-1.xml",
        "/sitemap-news.xml",
    ] {
        let resp = t.get(path).await.expect(200);
        let doc = assert_well_formed(path, &resp.body);
        if path != "/sitemap.xml" && path != "/sitemaps/articles-1.xml" {
            assert!(
                doc.contains("Bad\u{FFFD}title\u{FFFD}end"),
                "{path}: the title with U+FFFD in place of what XML forbids\n{doc}"
            );
        }
        if path.starts_with("/feeds/") {
            for expected in [
                "Sum\u{FFFD}mary\u{FFFD}",
                "Body\u{FFFD}\u{FFFD}",
                "Politics\u{FFFD}",
                "Leila\u{FFFD}Haddad",
                "https://cdn.example.com/\u{FFFD}.jpg",
                "Cap\u{FFFD}tion",
                "AP\u{FFFD}",
            ] {
                assert!(doc.contains(expected), "{path}: {expected:?}\n{doc}");
            }
        }
        if path == "/feeds/en/tags/gaza.xml" {
            assert!(doc.contains("Gaza\u{FFFD}"), "{path}\n{doc}");
        }
    }
}
