//! Roles and scopes in the document, and the scopes each route enforces.
//!
//! A handler's `#[utoipa::path]` lists, in its bearer requirement, the scopes an API
//! token needs and, as `role:<name>`, the least role that may call it. The role is not
//! an OAuth scope, so [`describe`] moves it into the operation's description; what is
//! left is the scopes, which [`required`] reads back from the finished document for
//! the extractor to enforce: the document and the server cannot disagree.

use std::collections::HashMap;
use std::sync::LazyLock;

use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi, PathItem};

use super::BEARER;
use crate::auth::scopes::{Scope, Scopes};

const ROLE: &str = "role:";

fn who(role: &str) -> &'static str {
    match role {
        "admin" => "admins only",
        "editor" => "editors and admins",
        _ => "any staff member (writers, editors and admins)",
    }
}

pub(super) fn operations(
    item: &mut PathItem,
) -> Vec<(&'static str, &mut utoipa::openapi::path::Operation)> {
    let mut ops = Vec::new();
    for (method, op) in [
        ("GET", item.get.as_mut()),
        ("POST", item.post.as_mut()),
        ("PUT", item.put.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("HEAD", item.head.as_mut()),
    ] {
        if let Some(op) = op {
            ops.push((method, op));
        }
    }
    ops
}

/// Moves each `role:` entry out of the bearer scopes into the description.
pub fn describe(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            let Some(requirements) = op.security.as_mut() else {
                continue;
            };
            let mut role = None;
            for req in requirements.iter_mut() {
                let Ok(serde_json::Value::Object(mut map)) = serde_json::to_value(&*req) else {
                    continue;
                };
                let Some(serde_json::Value::Array(scopes)) = map.get_mut(BEARER) else {
                    continue;
                };
                scopes.retain(|s| match s.as_str().and_then(|s| s.strip_prefix(ROLE)) {
                    Some(r) => {
                        role = Some(r.to_owned());
                        false
                    }
                    None => true,
                });
                if let Ok(cleaned) =
                    serde_json::from_value::<SecurityRequirement>(serde_json::Value::Object(map))
                {
                    *req = cleaned;
                }
            }
            if let Some(role) = role {
                let line = format!("**Role:** {}.", who(&role));
                op.description = Some(match op.description.take() {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{line}"),
                    _ => line,
                });
            }
        }
    }
}

/// Every operation's required scopes, by method and path template.
fn table() -> HashMap<(String, String), Scopes> {
    let mut doc = super::document();
    let mut map = HashMap::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            let Ok(serde_json::Value::Array(reqs)) = serde_json::to_value(&op.security) else {
                continue;
            };
            // Only operations that need a token have scopes to check; an optional token
            // on a public read is the reader's choice.
            if reqs
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            {
                continue;
            }
            let scopes = reqs
                .iter()
                .filter_map(|r| r.get(BEARER)?.as_array().cloned())
                .flatten()
                .filter_map(|s| Scope::parse(s.as_str()?))
                .collect::<Scopes>();
            map.insert((method.to_owned(), path.clone()), scopes);
        }
    }
    map
}

static TABLE: LazyLock<HashMap<(String, String), Scopes>> = LazyLock::new(table);

/// The scopes a request to `path` (a route template) with `method` needs; HEAD is
/// GET's.
pub fn required(method: &actix_web::http::Method, path: &str) -> Scopes {
    let method = if method == actix_web::http::Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    TABLE
        .get(&(method.to_owned(), path.to_owned()))
        .copied()
        .unwrap_or(Scopes::NONE)
}

/// Loads the table now (at start-up), so no request pays for building the document.
pub fn prepare() {
    LazyLock::force(&TABLE);
}
