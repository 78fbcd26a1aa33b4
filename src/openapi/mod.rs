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
mod http_semantics;
mod sparse;

/// Where the committed copy of the document lives, relative to the repository root.
pub const COMMITTED_PATH: &str = "openapi/openapi.json";

/// Name of the bearer security scheme; its scopes in an operation's security
/// requirement are the roles the operation needs (OpenAPI 3.1 allows role names).
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
        (name = "Editorial safety", description = "Revisions with restore, the trash, public corrections, preview links for unpublished stories, and the audit log"),
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
    common_errors::describe(&mut doc);
    sparse::describe(&mut doc);
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
