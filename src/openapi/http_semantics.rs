//! Documents, on every operation, the HTTP behaviour that the middleware layer gives
//! every route (see `http::conditional`, `http::precondition`, `http::idempotency`):
//! validators and 304 on reads, `If-Match` and 412 on changes, `Idempotency-Key` on
//! creates. Described here once, as the middleware implements it once. Also marks every
//! request body as closed (`additionalProperties: false`): the input layer answers an
//! unknown field with 422 rather than dropping it.

use std::collections::BTreeSet;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};

use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{HeaderBuilder, OpenApi, Ref, RefOr, Required};

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn header_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(string()))
        .build()
}

fn idempotency_key(description: &str) -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            string()
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[!-~]+$")),
        ))
        .build()
}

fn add_param(op: &mut Operation, param: Parameter) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    let exists = params
        .iter()
        .any(|p| matches!(p, RefOr::T(existing) if existing.name == param.name));
    if !exists {
        params.push(RefOr::T(param));
    }
}

/// Adds a response that cites a shared component, unless the route wrote its own.
pub(super) fn add_response(op: &mut Operation, status: &str, component: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(component)));
}

fn add_headers(op: &mut Operation, status: &str, headers: &[(&str, &str)]) {
    if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
        for (name, description) in headers {
            response.headers.insert(
                (*name).to_owned(),
                RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(string()))
                        .description(Some(*description))
                        .build(),
                ),
            );
        }
    }
}

const ETAG: (&str, &str) = (
    "ETag",
    "Strong entity tag of this representation; changes exactly when the body does",
);
const CACHE_CONTROL: (&str, &str) = (
    "Cache-Control",
    "`public, max-age=CACHE_MAX_AGE_SECONDS, stale-while-revalidate=5×max-age` for anonymous reads; `private, no-store` with a token and on writes",
);
const LAST_MODIFIED: (&str, &str) = ("Last-Modified", "When the object last changed");

/// Feeds that are not objects but carry `Last-Modified`: the sitemap index (the latest
/// change of any child) and each child (as the index's `<lastmod>` for it says).
const DATED_FEEDS: [&str; 2] = ["/sitemap.xml", "/sitemaps/articles-{n}.xml"];

/// Adds the conditional-request, caching and idempotency parts to every operation.
pub fn describe(doc: &mut OpenApi) {
    let mut bodies = BTreeSet::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        let is_object = path.ends_with('}');
        for op in [item.post.as_ref(), item.patch.as_ref()]
            .into_iter()
            .flatten()
        {
            let bodies_of = op.request_body.iter().filter_map(|b| match b {
                RefOr::T(body) => Some(body),
                RefOr::Ref(_) => None,
            });
            for content in bodies_of.flat_map(|b| b.content.values()) {
                if let RefOr::T(content) = content
                    && let Some(RefOr::Ref(r)) = &content.schema
                {
                    bodies.insert(r.ref_location.rsplit('/').next().unwrap_or("").to_owned());
                }
            }
        }
        // An event stream is never a conditional read.
        let streams = path.ends_with("/stream");
        if let Some(op) = item.get.as_mut().filter(|_| !streams) {
            add_param(
                op,
                header_param(
                    "If-None-Match",
                    "Entity tags (or `*`) of copies the client holds; a match answers 304",
                ),
            );
            add_param(
                op,
                header_param(
                    "If-Modified-Since",
                    "An HTTP date; used when If-None-Match is absent",
                ),
            );
            add_response(op, "304", "NotModified");
            let mut headers = vec![ETAG, CACHE_CONTROL];
            if is_object || DATED_FEEDS.contains(&path.as_str()) {
                headers.push(LAST_MODIFIED);
            }
            add_headers(op, "200", &headers);
        }
        for op in [item.patch.as_mut(), item.delete.as_mut()]
            .into_iter()
            .flatten()
        {
            add_param(
                op,
                header_param(
                    "If-Match",
                    "Entity tag from a previous read: the change happens only if it is still current",
                ),
            );
            add_response(op, "412", "PreconditionFailed");
        }
        if let Some(op) = item.patch.as_mut() {
            add_headers(op, "200", &[ETAG]);
        }
        if let Some(op) = item.post.as_mut()
            && op.security.as_ref().is_some_and(|s| !s.is_empty())
            && !crate::http::idempotency::NOT_REPLAYED.contains(&path.as_str())
        {
            add_param(
                op,
                idempotency_key(
                    "Up to 255 visible ASCII characters. A retry with the same key and body \
                     within 24 hours replays the first answer; the same key with another body \
                     is 422; while the first is still running, 409 with Retry-After",
                ),
            );
            add_response(op, "409", "Conflict");
            add_response(op, "422", "ValidationFailed");
            add_headers(op, "201", &[ETAG]);
        }
    }
    close_bodies(doc, &bodies);
}

/// Marks the named component schemas as allowing no other properties.
fn close_bodies(doc: &mut OpenApi, names: &BTreeSet<String>) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in names {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}
