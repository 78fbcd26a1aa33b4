//! Documents what `fields=` answers: an article (or a list of them) trimmed to the
//! fields named. The full `Article` keeps its required fields; `ArticleFields` is the
//! same object with only `id` required, and the two reads that take `fields` answer
//! either (`anyOf`).

use utoipa::openapi::schema::{AnyOfBuilder, ArrayItems, Schema};
use utoipa::openapi::{OpenApi, Ref, RefOr};

/// The reads that take `fields`, with their full and trimmed answers.
const READS: &[(&str, &str, &str)] = &[
    ("/api/v1/articles/{id_or_slug}", "Article", "ArticleFields"),
    (
        "/api/v1/articles",
        "ListResponse_Article",
        "ListResponse_ArticleFields",
    ),
];

/// Adds `ArticleFields` and `ListResponse_ArticleFields`, and lets the two reads answer
/// them.
pub fn describe(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(mut article))) = components.schemas.get("Article").cloned()
    else {
        return;
    };
    article.required = vec!["id".to_owned()];
    article.description = Some(
        "An article trimmed by `fields`: `id`, the fields named, and the arrays `include` \
         adds."
            .to_owned(),
    );
    components.schemas.insert(
        "ArticleFields".to_owned(),
        RefOr::T(Schema::Object(article)),
    );
    if let Some(RefOr::T(Schema::Object(mut list))) =
        components.schemas.get("ListResponse_Article").cloned()
    {
        if let Some(RefOr::T(Schema::Array(data))) = list.properties.get_mut("data") {
            data.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(
                "ArticleFields",
            ))));
        }
        list.description = Some("A page of articles trimmed by `fields`.".to_owned());
        components.schemas.insert(
            "ListResponse_ArticleFields".to_owned(),
            RefOr::T(Schema::Object(list)),
        );
    }
    for (path, full, trimmed) in READS {
        let content = doc
            .paths
            .paths
            .get_mut(*path)
            .and_then(|item| item.get.as_mut())
            .and_then(|op| op.responses.responses.get_mut("200"))
            .and_then(|r| match r {
                RefOr::T(response) => response.content.get_mut("application/json"),
                RefOr::Ref(_) => None,
            });
        if let Some(RefOr::T(content)) = content {
            content.schema = Some(RefOr::T(Schema::AnyOf(
                AnyOfBuilder::new()
                    .item(Ref::from_schema_name(*full))
                    .item(Ref::from_schema_name(*trimmed))
                    .description(Some(format!("`{full}`, or with `fields` `{trimmed}`")))
                    .build(),
            )));
        }
    }
}
