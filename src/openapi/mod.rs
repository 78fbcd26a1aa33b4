//! The OpenAPI 3.1 document, generated from the registered routes.
//!
//! Routes are registered through utoipa-actix-web, which collects each handler's
//! `#[utoipa::path]` as it is mounted; building the app's routes once into a throwaway
//! `App` therefore yields exactly the document of the routes the server serves.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_actix_web::AppExt;

use crate::error::Problem;

mod http_semantics;

/// Where the committed copy of the document lives, relative to the repository root.
pub const COMMITTED_PATH: &str = "openapi/openapi.json";

/// Name of the bearer security scheme; its scopes in an operation's security
/// requirement are the roles the operation needs (OpenAPI 3.1 allows role names).
pub const BEARER: &str = "bearer";

/// Malformed JSON, a bad query parameter or value (named in `errors`).
#[derive(ToResponse)]
#[response(
    description = "Malformed request: bad JSON, or a bad query parameter named in `errors`",
    content_type = "application/problem+json"
)]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// No token, a bad or expired token, or wrong credentials.
#[derive(ToResponse)]
#[response(
    description = "Missing, invalid or expired bearer token (`WWW-Authenticate: Bearer`)",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "Always `Bearer`"))
)]
pub struct Unauthorized(#[allow(dead_code)] Problem);

/// The caller's role does not allow this.
#[derive(ToResponse)]
#[response(
    description = "The caller's role does not allow this",
    content_type = "application/problem+json"
)]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// Nothing at this id or slug (or not visible to the caller).
#[derive(ToResponse)]
#[response(
    description = "No such resource, or not visible to the caller",
    content_type = "application/problem+json"
)]
pub struct NotFound(#[allow(dead_code)] Problem);

/// A slug or email already taken, or a delete of something still in use.
#[derive(ToResponse)]
#[response(
    description = "Conflict: `slug_taken`, `email_taken`, `in_use` (with the count in `detail`), `last_admin`",
    content_type = "application/problem+json"
)]
pub struct Conflict(#[allow(dead_code)] Problem);

/// The body is larger than `MAX_BODY_BYTES`.
#[derive(ToResponse)]
#[response(
    description = "The body is larger than the server accepts",
    content_type = "application/problem+json"
)]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// The body is not JSON.
#[derive(ToResponse)]
#[response(
    description = "The body is not `application/json`",
    content_type = "application/problem+json"
)]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// One or more fields are invalid; each is listed in `errors`.
#[derive(ToResponse)]
#[response(
    description = "Validation failed: every bad field is listed in `errors`",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:newsdesk:problem:validation_failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "2 fields are invalid",
        "code": "validation_failed",
        "errors": [
            {"field": "name", "message": "must not be empty"},
            {"field": "colour", "message": "is not a known field"}
        ]
    })
)]
pub struct ValidationFailed(#[allow(dead_code)] Problem);

/// Too many attempts.
#[derive(ToResponse)]
#[response(
    description = "Too many requests; retry after the given number of seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))
)]
pub struct RateLimited(#[allow(dead_code)] Problem);

/// The `If-Match` condition failed.
#[derive(ToResponse)]
#[response(
    description = "`If-Match` names a representation that is no longer current; nothing changed",
    content_type = "application/problem+json"
)]
pub struct PreconditionFailed(#[allow(dead_code)] Problem);

/// The cached copy is still current.
#[derive(ToResponse)]
#[response(
    description = "Not modified: the representation named by `If-None-Match` (or older than `If-Modified-Since`) is current. No body; the same validators.",
    headers(
        ("ETag" = String, description = "The current entity tag"),
        ("Cache-Control" = String, description = "As on a 200")
    )
)]
pub struct NotModified;

/// The database does not answer.
#[derive(ToResponse)]
#[response(
    description = "The service cannot answer right now",
    content_type = "application/problem+json"
)]
pub struct Unavailable(#[allow(dead_code)] Problem);

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A token from POST /api/v1/auth/token. The scopes listed on an \
                         operation are the roles that may call it.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk",
        version = "1",
        description = "A headless CMS for multilingual newsrooms. Reads are public; writes need a bearer token. Every error is `application/problem+json` with a stable `code`.",
        license(name = "MIT", identifier = "MIT")
    ),
    modifiers(&BearerScheme),
    components(
        schemas(crate::error::Problem, crate::error::FieldError),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
            PayloadTooLarge, UnsupportedMediaType, ValidationFailed, RateLimited, Unavailable,
            NotModified
        )
    ),
    tags(
        (name = "Service", description = "Health and the API description"),
        (name = "Auth", description = "Tokens for staff"),
        (name = "Users", description = "Staff accounts (admins manage them)"),
        (name = "Articles", description = "Stories: drafts, scheduled and published, in every language"),
        (name = "Authors", description = "Bylines, including house bylines such as Agencies"),
        (name = "Tags", description = "Topics"),
        (name = "Sections", description = "The site menu, a tree"),
        (name = "Regions", description = "Where stories happen"),
        (name = "Media", description = "Images, video, audio and embeds with captions and credits"),
        (name = "Breaking", description = "The BREAKING ticker and its live stream"),
        (name = "Collections", description = "Coverage hubs: an ordered list of articles, pinned ones first"),
        (name = "Feeds", description = "RSS 2.0 feeds and sitemaps, with absolute links to the public site"),
    )
)]
struct ApiDoc;

/// The whole document, as the server serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::http::routes::register)
        .split_for_parts();
    http_semantics::describe(&mut doc);
    doc
}

/// The document as pretty JSON with a final newline: the committed file's exact bytes.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .unwrap_or_else(|e| unreachable!("the OpenAPI document always serializes: {e}"));
    json.push('\n');
    json
}
