//! The last pass over the document, on its JSON, for what client generators need and
//! utoipa does not say by itself:
//!
//! - `servers: [{"url": "/"}]`, so generated clients and the docs page call the host
//!   they were given (behind a proxy's path prefix too);
//! - list envelopes named for what they hold (`ArticlePage`, `TagPage`, `ArticleList`)
//!   and holding their items by reference, so a list item is the same type everywhere;
//!   articles have two: `ArticleListItem` (no `body`) in lists and `Article` (with
//!   `body` and `body_html` required) from a single read;
//! - PATCH bodies as `application/merge-patch+json` (which they are);
//! - the breaking stream as `text/event-stream` with one schema per event (OpenAPI 3.1
//!   has no item schema: the `schema` of an event stream describes one event, its
//!   `data` a JSON text whose shape `contentSchema` gives).

use serde_json::{Map, Value, json};

/// Fields only a single read of an article carries.
const SINGLE_READ_ONLY: &[&str] = &["body", "body_html", "corrections", "translations"];

/// Fields a single read of an article always carries.
const SINGLE_READ_ALWAYS: &[&str] = &["body", "body_html"];

/// Applies every change above to the document.
pub fn polish(doc: &mut Value) {
    if let Some(root) = doc.as_object_mut() {
        root.insert("servers".to_owned(), json!([{"url": "/"}]));
    }
    let renames = envelopes(doc);
    rename_refs(doc, &renames);
    describe_article_reads(doc);
    articles_inside_are_list_items(doc);
    merge_patch(doc);
    event_stream(doc);
}

fn schemas(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    doc.pointer_mut("/components/schemas")?.as_object_mut()
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// Names each envelope for what it holds and moves inline items into components.
/// Returns the envelopes' old and new names.
fn envelopes(doc: &mut Value) -> Vec<(String, String)> {
    let Some(schemas) = schemas(doc) else {
        return Vec::new();
    };
    let mut renames = Vec::new();
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let (held, new_name) = if let Some(held) = name.strip_prefix("ListResponse_") {
            (held.to_owned(), format!("{held}Page"))
        } else if let Some(held) = name.strip_prefix("Listing_") {
            (held.to_owned(), format!("{held}List"))
        } else {
            continue;
        };
        let Some(mut envelope) = schemas.remove(&name) else {
            continue;
        };
        if let Some(items) = envelope.pointer_mut("/properties/data/items")
            && items.get("$ref").is_none()
        {
            let item = std::mem::replace(items, Value::Null);
            let item_name = if held == "Article" {
                "ArticleListItem".to_owned()
            } else {
                match schemas.get(&held) {
                    Some(existing) if *existing != item => format!("{held}ListItem"),
                    _ => held.clone(),
                }
            };
            schemas.entry(item_name.clone()).or_insert(item);
            *items = reference(&item_name);
        }
        schemas.insert(new_name.clone(), envelope);
        renames.push((name, new_name));
    }
    renames
}

/// Rewrites every `$ref` (and the names in descriptions) from old to new names.
fn rename_refs(value: &mut Value, renames: &[(String, String)]) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "$ref" || key == "description" => {
                        for (old, new) in renames {
                            if key == "$ref" {
                                if s.rsplit('/').next() == Some(old.as_str()) {
                                    *s = format!("#/components/schemas/{new}");
                                }
                            } else if s.contains(old.as_str()) {
                                *s = s.replace(&format!("`{old}`"), &format!("`{new}`"));
                            }
                        }
                    }
                    _ => rename_refs(v, renames),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renames)),
        _ => {}
    }
}

/// `Article` is what a single read answers: `body` and `body_html` always there.
/// `ArticleListItem` is a list's item: without the single-read fields.
fn describe_article_reads(doc: &mut Value) {
    let Some(schemas) = schemas(doc) else {
        return;
    };
    if let Some(item) = schemas.get_mut("ArticleListItem") {
        if let Some(props) = item.get_mut("properties").and_then(Value::as_object_mut) {
            for field in SINGLE_READ_ONLY {
                props.remove(*field);
            }
        }
        item["description"] = json!(
            "An article as lists show it: everything but `body`, `body_html`, \
             `corrections` and `translations`, which a single read adds (`Article`)."
        );
    }
    if let Some(article) = schemas.get_mut("Article") {
        if let Some(props) = article.get_mut("properties").and_then(Value::as_object_mut) {
            for field in SINGLE_READ_ALWAYS {
                if let Some(prop) = props.get_mut(*field) {
                    prop["type"] = json!("string");
                    if let Some(d) = prop.get("description").and_then(Value::as_str) {
                        prop["description"] = json!(d.replace(" (single reads only)", ""));
                    }
                }
            }
        }
        if let Some(required) = article.get_mut("required").and_then(Value::as_array_mut) {
            for field in SINGLE_READ_ALWAYS {
                if !required.iter().any(|r| r == field) {
                    required.push(json!(field));
                }
            }
        }
        article["description"] = json!(
            "An article as a single read answers it, with its `body` (Markdown) and \
             `body_html`. Lists carry `ArticleListItem`s."
        );
    }
}

/// An article inside another schema (a collection's stories, a search hit, a trash
/// entry, `include=related`) is a list item: only responses of a single read (in
/// `paths`) are the full `Article`.
fn articles_inside_are_list_items(doc: &mut Value) {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if key == "$ref" && v == "#/components/schemas/Article" {
                        *v = json!("#/components/schemas/ArticleListItem");
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(schemas) = schemas(doc) {
        schemas.values_mut().for_each(walk);
    }
}

/// Every PATCH body is a JSON merge patch (RFC 7396), documented as such: one media
/// type, so generators make the body one required type (two would make it optional).
/// `application/json` is accepted too, as the description says.
fn merge_patch(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(request) = item.pointer_mut("/patch/requestBody") else {
            continue;
        };
        let Some(content) = request.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(body) = content.remove("application/json") {
            content.insert("application/merge-patch+json".to_owned(), body);
            request["description"] = json!(
                "A JSON merge patch (RFC 7396): the fields to change, `null` to clear one. \
                 Sent as `application/merge-patch+json` or `application/json`."
            );
        }
    }
}

/// The breaking stream's 200: one schema per event.
fn event_stream(doc: &mut Value) {
    let event = |name: &str, description: &str, data: Value| {
        json!({
            "type": "object",
            "title": name,
            "description": description,
            "required": ["event", "data"],
            "properties": {
                "event": {
                    "type": "string",
                    "enum": events(name),
                    "x-enum-varnames": events(name)
                        .as_array()
                        .map(|names| names
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_uppercase)
                            .collect::<Vec<_>>())
                        .unwrap_or_default()
                },
                "id": {
                    "type": "string",
                    "description": "The event's id, to send back as `Last-Event-ID`; none on a resumed snapshot."
                },
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": data
                }
            }
        })
    };
    let Some(schemas) = schemas(doc) else {
        return;
    };
    schemas.insert(
        "BreakingSnapshotEvent".to_owned(),
        event(
            "BreakingSnapshotEvent",
            "First on every stream: the live items, as `GET /api/v1/breaking` orders them.",
            json!({"type": "array", "items": reference("BreakingItem")}),
        ),
    );
    schemas.insert(
        "BreakingChangeEvent".to_owned(),
        event(
            "BreakingChangeEvent",
            "An item went live (`created`, also at a scheduled time), changed (`updated`) \
             or reached its expiry (`expired`); `data` is the item.",
            reference("BreakingItem"),
        ),
    );
    schemas.insert(
        "BreakingDeletedEvent".to_owned(),
        event(
            "BreakingDeletedEvent",
            "An item was deleted; `data` names it.",
            json!({
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer", "format": "int32"}}
            }),
        ),
    );
    schemas.insert(
        "BreakingStreamEvent".to_owned(),
        json!({
            "description": "One Server-Sent Event of `GET /api/v1/breaking/stream`, as its \
                            fields: `event`, `id` and `data` (a JSON text).",
            "oneOf": [
                reference("BreakingSnapshotEvent"),
                reference("BreakingChangeEvent"),
                reference("BreakingDeletedEvent")
            ]
        }),
    );
    if let Some(response) = doc.pointer_mut("/paths/~1api~1v1~1breaking~1stream/get/responses/200")
    {
        response["description"] = json!(
            "An endless `text/event-stream`; each event is a `BreakingStreamEvent`. \
             Read it with an EventSource (or a streaming read), not as one response."
        );
        response["content"] = json!({
            "text/event-stream": {"schema": reference("BreakingStreamEvent")}
        });
    }
}

fn events(name: &str) -> Value {
    match name {
        "BreakingSnapshotEvent" => json!(["snapshot"]),
        "BreakingChangeEvent" => json!(["created", "updated", "expired"]),
        _ => json!(["deleted"]),
    }
}
