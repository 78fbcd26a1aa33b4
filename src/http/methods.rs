//! `405 Method Not Allowed` with an `Allow` header, from the route table itself.
//!
//! actix routes a wrong method on a known path to the default service, which alone
//! would say 404. The OpenAPI document collected from the routes knows every path
//! template and its methods, so the default service asks it.

use actix_web::http::Method;

/// Path templates (`/api/v1/authors/{id_or_slug}`) and the methods each accepts.
#[derive(Debug, Clone, Default)]
pub struct MethodTable {
    routes: Vec<(Vec<String>, Vec<Method>)>,
}

impl MethodTable {
    /// Reads the table from the document of the registered routes.
    pub fn from_doc(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let mut methods = Vec::new();
                let candidates = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                for (method, present) in candidates {
                    if present {
                        methods.push(method);
                    }
                }
                (split(template), methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods a concrete path accepts, or nothing when no route matches it.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        let segments = split(path);
        let mut allowed: Vec<Method> = Vec::new();
        for (template, methods) in &self.routes {
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')));
            if matches {
                for m in methods {
                    if !allowed.contains(m) {
                        allowed.push(m.clone());
                    }
                }
            }
        }
        allowed
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
