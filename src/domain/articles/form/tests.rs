//! The article rules checked without a database or HTTP.

use serde_json::json;

use super::*;
use crate::auth::Role;

fn languages() -> Vec<String> {
    vec!["en".into(), "ar".into()]
}

fn writer() -> Actor {
    Actor::session(7, Role::Writer)
}

fn editor() -> Actor {
    Actor::session(2, Role::Editor)
}

fn create(actor: Actor, body: serde_json::Value) -> (AppResult<ArticleDraft>, Checker) {
    let mut c = Checker::new();
    let body: ArticleCreate = serde_json::from_value(body).unwrap();
    (check_create(&mut c, actor, body, &languages()), c)
}

fn patch(actor: Actor, body: serde_json::Value) -> (AppResult<ArticleEdit>, Checker) {
    let mut c = Checker::new();
    let body: ArticlePatch = serde_json::from_value(body).unwrap();
    (check_patch(&mut c, actor, body, &languages()), c)
}

/// The fields `c` refuses, in the order a client sees them.
fn refused(c: Checker) -> Vec<(String, String)> {
    match c.finish() {
        Ok(()) => Vec::new(),
        Err(AppError::Validation(errors)) => {
            errors.into_iter().map(|e| (e.field, e.message)).collect()
        }
        Err(other) => panic!("not a validation error: {other:?}"),
    }
}

fn fields(c: Checker) -> Vec<String> {
    refused(c).into_iter().map(|(f, _)| f).collect()
}

#[test]
fn every_bad_field_of_a_create_is_reported_at_once() {
    let (draft, c) = create(
        editor(),
        json!({"title": "  ", "slug": "Not A Slug", "language": "xx", "body": "a\u{1}b"}),
    );
    assert!(draft.is_ok());
    assert_eq!(fields(c), ["slug", "language", "title", "body"]);
}

#[test]
fn every_bad_field_of_a_patch_is_reported_at_once() {
    let (edit, c) = patch(
        editor(),
        json!({"title": "a\nb", "slug": "-", "language": "fr", "summary": 5, "status": "gone"}),
    );
    assert!(edit.is_ok());
    assert_eq!(
        fields(c),
        ["summary", "slug", "language", "title", "status"]
    );
}

#[test]
fn unknown_and_read_only_fields_are_named_and_a_title_is_required() {
    let (_, c) = create(editor(), json!({"id": 3, "titel": "Typo"}));
    assert_eq!(
        refused(c),
        [
            ("id".to_owned(), "is read-only".to_owned()),
            ("titel".to_owned(), "is not a known field".to_owned()),
            ("title".to_owned(), "is required".to_owned()),
        ]
    );
}

#[test]
fn a_writer_asking_to_publish_is_refused() {
    let body = json!({"title": "Story", "status": "published"});
    let (draft, _) = create(writer(), body.clone());
    assert_eq!(draft.unwrap_err().status(), 403);
    let (edit, _) = patch(writer(), body);
    assert_eq!(edit.unwrap_err().status(), 403);
}

#[test]
fn an_editor_may_publish_and_a_create_defaults_to_a_draft() {
    let (draft, c) = create(editor(), json!({"title": "Story", "status": "published"}));
    assert_eq!(draft.unwrap().status, StoredStatus::Published);
    assert!(c.is_clean());
    let (draft, _) = create(writer(), json!({"title": "Story"}));
    let draft = draft.unwrap();
    assert_eq!(
        (draft.status, draft.language.as_str(), draft.featured),
        (StoredStatus::Draft, "en", false)
    );
}

#[test]
fn scheduled_is_shown_not_set() {
    let (_, c) = create(editor(), json!({"title": "Story", "status": "scheduled"}));
    let problems = refused(c);
    assert_eq!(problems[0].0, "status");
    assert!(
        problems[0].1.contains("future published_at"),
        "{problems:?}"
    );
}

#[test]
fn a_body_is_limited_in_bytes() {
    let big = "é".repeat(MAX_BODY_BYTES / 2 + 1);
    let (_, c) = create(editor(), json!({"title": "Story", "body": big}));
    assert_eq!(
        refused(c),
        [(
            "body".to_owned(),
            format!("must be at most {MAX_BODY_BYTES} bytes")
        )]
    );
}

#[test]
fn a_patch_tells_keep_from_clear() {
    let (edit, c) = patch(
        editor(),
        json!({"summary": null, "body": null, "tags": null, "title": null}),
    );
    let edit = edit.unwrap();
    assert_eq!(edit.summary, Change::Set(None));
    assert_eq!(edit.body, Change::Set(String::new()));
    assert_eq!(edit.tags, Change::Set(Vec::new()));
    assert_eq!(edit.authors, Change::Keep);
    assert_eq!(edit.title, Change::Keep);
    assert_eq!(
        refused(c),
        [("title".to_owned(), "must not be null".to_owned())]
    );
}

#[test]
fn a_translation_problem_is_listed_where_the_field_is_read() {
    let (draft, mut c) = create(
        editor(),
        json!({"slug": "Bad", "title": "", "translation_of": "elsewhere"}),
    );
    let draft = draft.unwrap();
    c.fail_at(draft.translation_at, "translation_of", "no article");
    assert_eq!(fields(c), ["slug", "translation_of", "title"]);
}

#[test]
fn a_published_article_cannot_lose_its_time() {
    let (edit, c) = patch(
        editor(),
        json!({"status": "published", "published_at": null}),
    );
    assert!(c.is_clean());
    let edit = edit.unwrap();
    let now = Timestamp::now().0;
    let Change::Set(status) = edit.status else {
        panic!("status is set");
    };
    let err = publication_time(edit.published_at, status, Some(now), now).unwrap_err();
    let AppError::Validation(errors) = err else {
        panic!("not a validation error: {err:?}");
    };
    assert_eq!(errors[0].field, "published_at");
    // A draft may lose it.
    let cleared = publication_time(Change::Set(None), StoredStatus::Draft, Some(now), now);
    assert_eq!(cleared.unwrap(), Some(None));
}

#[test]
fn publishing_without_a_time_publishes_now_once() {
    let now = Timestamp::now().0;
    let never = publication_time(Change::Keep, StoredStatus::Published, None, now);
    assert_eq!(never.unwrap(), Some(Some(now)));
    let already = publication_time(Change::Keep, StoredStatus::Published, Some(now), now);
    assert_eq!(already.unwrap(), None);
}
