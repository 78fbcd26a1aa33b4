//! Documents, on every operation, the HTTP behaviour that the middleware layer gives
//! every route (see `http::conditional`, `http::precondition`, `http::idempotency`):
//! validators and 304 on reads, `If-Match` and 412 on changes, `Idempotency-Key` on
//! creates. Described here once, as the middleware implements it once.

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
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

fn add_param(op: &mut Operation, param: Parameter) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    let exists = params
        .iter()
        .any(|p| matches!(p, RefOr::T(existing) if existing.name == param.name));
    if !exists {
        params.push(RefOr::T(param));
    }
}

fn add_response(op: &mut Operation, status: &str, component: &str) {
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

/// Adds the conditional-request, caching and idempotency parts to every operation.
pub fn describe(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let is_object = path.ends_with('}');
        if let Some(op) = item.get.as_mut() {
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
            if is_object {
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
        {
            add_param(
                op,
                header_param(
                    "Idempotency-Key",
                    "Up to 255 visible ASCII characters. A retry with the same key and body \\
                     within 24 hours replays the first answer; the same key with another body \\
                     is 422; while the first is still running, 409 with Retry-After",
                ),
            );
            add_response(op, "409", "Conflict");
            add_response(op, "422", "ValidationFailed");
            add_headers(op, "201", &[ETAG]);
        }
    }
}
