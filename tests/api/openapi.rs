//! The OpenAPI document: committed, served, and complete.

use serde_json::Value;

use crate::common;

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    std::fs::read_to_string(path).expect("openapi/openapi.json is committed")
}

#[test]
fn the_committed_document_matches_the_code() {
    assert!(
        committed() == newsdesk::openapi::document_json(),
        "openapi/openapi.json is stale: run `cargo run -- openapi --write`"
    );
}

#[actix_web::test]
async fn the_served_document_is_the_committed_file_byte_for_byte() {
    let t = common::app().await;
    let resp = t.get("/api/v1/openapi.json").await.expect(200);
    assert!(
        resp.body == committed().as_bytes(),
        "GET /api/v1/openapi.json differs from openapi/openapi.json"
    );
    let doc = resp.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        doc["paths"]["/api/v1/authors"].is_object(),
        "paths are absolute"
    );
}

#[test]
fn every_write_operation_needs_a_token_and_every_response_is_described() {
    let doc: Value = serde_json::from_str(&newsdesk::openapi::document_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().map(|p| p["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                names.len(),
                unique.len(),
                "{method} {path} repeats a parameter"
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response.get("description").is_some() || response.get("$ref").is_some(),
                    "{method} {path} {status} has no description"
                );
            }
            // Sign-in, refresh and logout are authenticated by what their body carries.
            let public_write = path == "/api/v1/auth/token"
                || path == "/api/v1/auth/refresh"
                || path == "/api/v1/auth/logout"
                || path.ends_with("/views");
            if method != "get" && !public_write {
                assert!(
                    op["security"][0]["bearer"].is_array(),
                    "{method} {path} must declare the bearer scheme"
                );
            }
        }
    }
}

/// The statuses an operation's shape implies: a body can be malformed, too large, not
/// JSON or invalid; a path can name nothing; a required token can be missing or lack
/// the role; a token a public read accepts can be bad; anything can fail on the server.
fn implied_statuses(op: &Value) -> Vec<&'static str> {
    let mut statuses = vec!["5XX"];
    if op.get("requestBody").is_some() {
        statuses.extend(["400", "413", "415", "422"]);
    }
    let parameters = op["parameters"].as_array().cloned().unwrap_or_default();
    if parameters.iter().any(|p| p["in"] == "path") {
        statuses.push("404");
    }
    let alternatives = op["security"].as_array().cloned().unwrap_or_default();
    let public = alternatives
        .iter()
        .any(|a| a.as_object().is_some_and(|o| o.is_empty()));
    match (alternatives.is_empty(), public) {
        (true, _) => {}
        (false, true) => statuses.push("401"),
        (false, false) => statuses.extend(["401", "403"]),
    }
    statuses
}

#[test]
fn every_operation_documents_the_errors_its_shape_implies() {
    let doc: Value = serde_json::from_str(&newsdesk::openapi::document_json()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for status in implied_statuses(op) {
                if op["responses"].get(status).is_none() {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented responses: {missing:#?}");
    let server_error = &doc["components"]["responses"]["ServerError"];
    assert!(
        server_error["content"]["application/problem+json"].is_object(),
        "a 5XX is a problem"
    );
}

#[actix_web::test]
async fn the_docs_page_is_served_from_the_binary_with_a_strict_csp() {
    let t = common::app().await;
    let page = t.get("/docs/").await.expect(200);
    assert!(String::from_utf8_lossy(&page.body).contains("swagger"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    t.get("/docs/swagger-ui-bundle.js").await.expect(200);
    let redirect = t.get("/docs").await;
    assert_eq!(redirect.status, 307);
    // Relative, so the page works behind a proxy's path prefix.
    assert_eq!(redirect.header("location").as_deref(), Some("docs/"));
    let init = t.get("/docs/swagger-initializer.js").await.expect(200);
    let init = String::from_utf8_lossy(&init.body);
    assert!(
        init.contains("\"../api/v1/openapi.json\"") && !init.contains("\"/api/v1/openapi.json\""),
        "the docs page loads the document by a relative URL: {init}"
    );
}

#[test]
fn the_document_is_shaped_for_client_generators() {
    let doc: Value = serde_json::from_str(&newsdesk::openapi::document_json()).unwrap();
    assert_eq!(doc["servers"], serde_json::json!([{"url": "/"}]));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // Explicit security everywhere: `[]` where no token is read, and public
            // reads say in words that a token is accepted.
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares no security"));
            let public = security.iter().any(|a| a == &serde_json::json!({}));
            let description = op["description"].as_str().unwrap_or_default();
            assert_eq!(
                public,
                description.contains("**Public:**"),
                "{method} {path}: a public operation says so, and only one"
            );
            if public {
                assert_eq!(
                    security.len(),
                    2,
                    "{method} {path}: anonymous or a bearer token"
                );
            }
            // Merge patches are documented as what they are, under one media type.
            if method == "patch" {
                let content = op["requestBody"]["content"].as_object().unwrap();
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/merge-patch+json"],
                    "{method} {path}"
                );
            }
        }
    }
    // Envelopes hold their items by reference: one type per item wherever it appears.
    let mut envelopes = 0;
    for (name, schema) in schemas {
        if let Some(items) = schema.pointer("/properties/data/items") {
            envelopes += 1;
            assert!(items.get("$ref").is_some(), "{name} inlines its items");
            assert!(
                !name.contains('_'),
                "{name} is not a name a generator keeps"
            );
        }
    }
    assert!(envelopes >= 15, "found {envelopes} list envelopes");
    // A single read's article has its body; a list item has none.
    let article = &schemas["Article"];
    for field in ["body", "body_html"] {
        assert!(
            article["required"]
                .as_array()
                .unwrap()
                .contains(&Value::from(field))
        );
        assert_eq!(article["properties"][field]["type"], "string");
        assert!(
            schemas["ArticleListItem"]["properties"]
                .get(field)
                .is_none()
        );
    }
    assert_eq!(
        doc.pointer("/components/schemas/ArticlePage/properties/data/items/$ref"),
        Some(&Value::from("#/components/schemas/ArticleListItem"))
    );
    // Output and input statuses differ: `scheduled` and `expired` are never sent.
    let stored: Vec<&Value> = schemas["StoredStatus"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(stored, [&Value::from("draft"), &Value::from("published")]);
    assert!(
        schemas["ArticleStatus"]["enum"]
            .as_array()
            .unwrap()
            .contains(&Value::from("scheduled"))
    );
    // The stream is an event stream with a schema per event.
    let stream = &doc["paths"]["/api/v1/breaking/stream"]["get"]["responses"]["200"]["content"];
    assert_eq!(
        stream["text/event-stream"]["schema"]["$ref"],
        "#/components/schemas/BreakingStreamEvent"
    );
    assert_eq!(
        schemas["BreakingStreamEvent"]["oneOf"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// Every string enum in the document, with where it is.
fn string_enums<'a>(at: String, value: &'a Value, found: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(o) => {
            if o.contains_key("enum") && o.get("type").is_some_and(|t| t == "string") {
                found.push((at.clone(), value));
            }
            for (key, v) in o {
                string_enums(format!("{at}/{key}"), v, found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                string_enums(format!("{at}/{i}"), v, found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_enum_names_its_values_for_client_generators() {
    let doc: Value = serde_json::from_str(&newsdesk::openapi::document_json()).unwrap();
    let mut enums = Vec::new();
    string_enums(String::new(), &doc, &mut enums);
    assert!(enums.len() >= 10, "found only {} enums", enums.len());
    for (at, schema) in enums {
        let values = schema["enum"].as_array().unwrap();
        let names = schema["x-enum-varnames"]
            .as_array()
            .unwrap_or_else(|| panic!("{at} has no x-enum-varnames"));
        assert_eq!(names.len(), values.len(), "{at}: one name per value");
        for name in names {
            let name = name.as_str().unwrap();
            let mut chars = name.chars();
            assert!(
                chars.next().is_some_and(|c| c.is_ascii_uppercase())
                    && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{at}: {name:?} is not an identifier in SCREAMING_SNAKE_CASE"
            );
        }
        let mut unique = names.clone();
        unique.sort_by_key(|n| n.to_string());
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{at}: names repeat");
    }
}

#[test]
fn the_scopes_an_operation_asks_for_are_scopes() {
    let doc: Value = serde_json::from_str(&newsdesk::openapi::document_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for alternative in op["security"].as_array().into_iter().flatten() {
                for scope in alternative["bearer"].as_array().into_iter().flatten() {
                    let scope = scope.as_str().unwrap();
                    assert!(
                        newsdesk::auth::scopes::Scope::parse(scope).is_some(),
                        "{method} {path} asks for {scope:?}, which is not a scope"
                    );
                }
            }
        }
    }
}

/// A value of the right type for a documented query parameter.
fn sample_value(doc: &Value, schema: &Value) -> String {
    let schema = match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    if let Some(first) = schema["enum"][0].as_str() {
        return first.to_owned();
    }
    match schema["type"].as_str() {
        Some("integer") => schema["minimum"].as_i64().unwrap_or(1).to_string(),
        Some("boolean") => "true".to_owned(),
        _ => "x".to_owned(),
    }
}

#[actix_web::test]
async fn every_documented_query_parameter_is_read_and_no_other() {
    let t = common::app().await;
    let admin = t.admin().await;
    let doc: Value = serde_json::from_str(&newsdesk::openapi::document_json()).unwrap();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        if template.ends_with("/stream") {
            continue;
        }
        let path = template
            .replace("{id_or_slug}", "1")
            .replace("{id}", "1")
            .replace("{lang}", "en")
            .replace("{slug}", "x");
        let query: Vec<&Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .collect();
        for p in &query {
            let name = p["name"].as_str().unwrap();
            let value = sample_value(&doc, &p["schema"]);
            let resp = t.get_as(&admin, &format!("{path}?{name}={value}")).await;
            let body = String::from_utf8_lossy(&resp.body);
            assert!(
                !body.contains("unknown query parameter"),
                "GET {template} documents {name} but refuses it: {body}"
            );
        }
        if !query.is_empty() {
            let p = t
                .get_as(&admin, &format!("{path}?undocumented=1"))
                .await
                .problem(400, "bad_request");
            assert!(
                p["detail"].as_str().unwrap().contains("undocumented"),
                "GET {template}: {p}"
            );
        }
    }
}
