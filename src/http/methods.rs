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

    /// The methods a concrete path accepts, or nothing when no route matches it. When
    /// several templates match (`/articles/most-read` and `/articles/{id_or_slug}`), the
    /// one with the most literal segments is the route actix picks, and the only one
    /// that counts.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        let segments = split(path);
        let mut best: Option<(usize, &Vec<Method>)> = None;
        for (template, methods) in &self.routes {
            if template.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let matches = template.iter().zip(&segments).all(|(t, s)| {
                if t == s {
                    literal += 1;
                    true
                } else {
                    segment_matches(t, s)
                }
            });
            if matches && best.is_none_or(|(most, _)| literal > most) {
                best = Some((literal, methods));
            }
        }
        best.map(|(_, methods)| methods.clone()).unwrap_or_default()
    }
}

/// Whether a template segment with a parameter (`{id}`, `{lang}.xml`) matches.
fn segment_matches(template: &str, segment: &str) -> bool {
    match template.strip_prefix('{').and_then(|t| t.split_once('}')) {
        Some((_, suffix)) => segment.len() > suffix.len() && segment.ends_with(suffix),
        None => false,
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> MethodTable {
        MethodTable {
            routes: vec![
                (
                    split("/api/v1/articles/{id_or_slug}"),
                    vec![Method::GET, Method::PATCH, Method::DELETE],
                ),
                (split("/api/v1/articles/most-read"), vec![Method::GET]),
                (split("/feeds/{lang}.xml"), vec![Method::GET]),
            ],
        }
    }

    #[test]
    fn the_most_literal_template_decides() {
        let t = table();
        assert_eq!(t.allowed("/api/v1/articles/most-read"), vec![Method::GET]);
        assert_eq!(
            t.allowed("/api/v1/articles/some-story"),
            vec![Method::GET, Method::PATCH, Method::DELETE]
        );
    }

    #[test]
    fn parameters_with_a_suffix_match_only_that_suffix() {
        let t = table();
        assert_eq!(t.allowed("/feeds/en.xml"), vec![Method::GET]);
        assert!(t.allowed("/feeds/en.json").is_empty());
        assert!(t.allowed("/feeds/.xml").is_empty());
        assert!(t.allowed("/nowhere").is_empty());
    }
}
