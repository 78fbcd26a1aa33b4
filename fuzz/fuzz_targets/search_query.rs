//! Search input: any text normalises, splits into terms and becomes a match expression
//! made only of quoted words on both backends (so nothing a reader types is FTS5 or
//! tsquery syntax), and snippets are built without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::search;

fuzz_target!(|data: (&str, &str)| {
    let (query, text) = data;
    let terms = search::terms(query);
    if let Some(search) = search::Fts5Search::prefixed(&terms) {
        for part in search.expression.split(' ') {
            let word = part.trim_end_matches('*');
            assert!(
                word.len() >= 2 && word.starts_with('"') && word.ends_with('"'),
                "{}",
                search.expression
            );
            assert!(!word[1..word.len() - 1].contains('"'), "{}", search.expression);
        }
    }
    if let Some(tsquery) = search::tsquery(&terms) {
        for part in tsquery.split(" & ") {
            let word = part.trim_end_matches(":*");
            assert!(
                word.len() >= 2 && word.starts_with('\'') && word.ends_with('\''),
                "{tsquery}"
            );
            assert!(!word[1..word.len() - 1].contains('\''), "{tsquery}");
        }
    }
    let snippet = search::snippet(&[text], &terms);
    assert!(!snippet.contains("<script"), "{snippet}");
});
