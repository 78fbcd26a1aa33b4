//! The OpenAPI 3.1 document, generated from the registered routes.
//!
//! Routes are registered through utoipa-actix-web, which collects each handler's
//! `#[utoipa::path]` as it is mounted; building the app's routes once into a throwaway
//! `App` therefore yields exactly the document of the routes the server serves.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::http::responses::{
    BadRequest, Conflict, Forbidden, Moved, NotFound, NotModified, PayloadTooLarge,
    PreconditionFailed, RateLimited, ServerError, Unauthorized, Unavailable, UnsupportedMediaType,
    ValidationFailed,
};

mod common_errors;
mod generators;
mod http_semantics;
mod public;
pub mod scopes;
mod sparse;

/// Where the committed copy of the document lives, relative to the repository root.
pub const COMMITTED_PATH: &str = "openapi/openapi.json";

/// Name of the bearer security scheme; its scopes in an operation's security
/// requirement are what an API token needs for it (see [`scopes`]).
pub const BEARER: &str = "bearer";

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from POST /api/v1/auth/token (a JWT, for people), \
                         or an API token from POST /api/v1/tokens (`nd_…`, for scripts and \
                         services). The scopes listed on an operation are those an API \
                         token needs for it (an access token holds every scope its role \
                         allows); the role an operation needs is in its description. A \
                         token without a scope an operation needs gets 403 \
                         `insufficient_scope`; on public reads, a token without \
                         `content:read` reads as an anonymous reader.",
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
        schemas(
            crate::error::Problem,
            crate::error::FieldError,
            crate::domain::sections::SectionNode
        ),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed,
            PayloadTooLarge, UnsupportedMediaType, ValidationFailed, RateLimited, Unavailable,
            ServerError, NotModified, Moved
        )
    ),
    tags(
        (name = "Service", description = "Health and the API description"),
        (name = "Auth", description = "Sign-in sessions with refresh tokens, and scoped API tokens for scripts and services"),
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
        (name = "Editorial safety", description = "Revisions with restore, the trash, public corrections, preview links for unpublished stories, and the audit log"),
        (name = "Webhooks", description = "Signed deliveries of changes to your endpoints (Standard Webhooks), with retries and a delivery log"),
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
    scopes::describe(&mut doc);
    public::describe(&mut doc);
    http_semantics::describe(&mut doc);
    common_errors::describe(&mut doc);
    sparse::describe(&mut doc);
    doc
}

/// The document as pretty JSON with a final newline: the committed file's exact bytes.
pub fn document_json() -> String {
    let mut value = serde_json::to_value(document())
        .unwrap_or_else(|e| unreachable!("the OpenAPI document always serializes: {e}"));
    generators::polish(&mut value);
    let mut json = serde_json::to_string_pretty(&value)
        .unwrap_or_else(|e| unreachable!("a JSON value always serializes: {e}"));
    json.push('\n');
    json
}
