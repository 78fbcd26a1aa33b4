//! Search input: any text normalises, splits into terms and becomes a match expression
//! made only of quoted words (so nothing a reader types is FTS syntax), and snippets
//! are built without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::search;

fuzz_target!(|data: (&str, &str)| {
    let (query, text) = data;
    let terms = search::terms(query);
    if let Some(expression) = search::match_expression(&terms) {
        for part in expression.split(' ') {
            let word = part.trim_end_matches('*');
            assert!(word.len() >= 2 && word.starts_with('"') && word.ends_with('"'), "{expression}");
            assert!(!word[1..word.len() - 1].contains('"'), "{expression}");
        }
    }
    let snippet = search::snippet(&[text], &terms);
    assert!(!snippet.contains("<script"), "{snippet}");
});
