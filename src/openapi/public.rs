//! Gives every operation an explicit security requirement, so that generators and lint
//! rules never fall back to a guess:
//!
//! - reads of the API that anyone may make declare `[{}, {"bearer": []}]` (anonymous,
//!   or a token, which widens what staff see), and their description says so;
//! - the service endpoints, feeds, sitemaps and the sign-in exchanges declare `[]`:
//!   they never read a bearer token.

use utoipa::openapi::OpenApi;
use utoipa::openapi::security::SecurityRequirement;

use super::BEARER;
use super::scopes::operations;

/// Routes under the API prefix that never read a bearer token.
const TOKENLESS_API: &[&str] = &[
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/openapi.json",
];

/// The line every public operation's description carries.
const PUBLIC_LINE: &str = "**Public:** no token needed. A bearer token is accepted too \
    (with `content:read`, staff see what readers cannot, such as drafts); a bad or \
    expired one is a 401.";

/// Sets the security of every operation that has none, and describes public ones.
pub fn describe(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let reads_token = path.starts_with("/api/v1/") && !TOKENLESS_API.contains(&path.as_str());
        for (_, op) in operations(item) {
            if op.security.is_none() {
                op.security = Some(if reads_token {
                    vec![
                        SecurityRequirement::default(),
                        SecurityRequirement::new(BEARER, Vec::<String>::new()),
                    ]
                } else {
                    Vec::new()
                });
            }
            let public = op
                .security
                .as_deref()
                .is_some_and(|alternatives| alternatives.contains(&SecurityRequirement::default()));
            if public {
                op.description = Some(match op.description.take() {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{PUBLIC_LINE}"),
                    _ => PUBLIC_LINE.to_owned(),
                });
            }
        }
    }
}
