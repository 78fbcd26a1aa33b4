//! The Markdown renderer: any input renders without panicking, to HTML whose tags
//! carry no script, no event handler and no `javascript:` link. Text that merely reads
//! like an attribute ("| onerror=") is escaped text, so the checks look inside tags
//! only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::markdown;

/// Every start tag of serialized HTML as (name, [(attribute, value)]). The serializer
/// escapes `<` in text and `"` in attribute values, and always quotes values with `"`,
/// so a tag ends at the first `>` outside quotes.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        let mut attributes = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if rest.is_empty() || rest.starts_with('>') {
                rest = rest.get(1..).unwrap_or("");
                break;
            }
            let attr_end = rest
                .find(|c: char| c.is_whitespace() || c == '=' || c == '>')
                .unwrap_or(rest.len());
            let attr = rest[..attr_end].to_ascii_lowercase();
            rest = &rest[attr_end..];
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix("=\"") {
                let close = after.find('"').expect("attribute values are closed");
                value = after[..close].to_owned();
                rest = &after[close + 1..];
            }
            attributes.push((attr, value));
        }
        found.push((name, attributes));
    }
    found
}

fuzz_target!(|input: &str| {
    let html = markdown::to_safe_html(input);
    for (name, attributes) in tags(&html) {
        assert!(
            !matches!(name.as_str(), "script" | "iframe" | "object" | "embed" | "style"),
            "<{name}> survived: {html}"
        );
        for (attr, value) in attributes {
            assert!(!attr.starts_with("on"), "event handler {attr} survived: {html}");
            let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(
                !value.to_ascii_lowercase().starts_with("javascript:"),
                "javascript: {attr} survived: {html}"
            );
        }
    }
    let text = markdown::plain_text(input);
    let _ = markdown::word_count(&text);
});
