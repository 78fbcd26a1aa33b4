//! The query-string parsers of the article list, most-read and breaking routes: any
//! query string is parsed or refused with a 400, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::articles::list::ArticleQuery;
use newsdesk::domain::breaking::BreakingQuery;
use newsdesk::domain::paging::CursorCodec;
use newsdesk::domain::views::MostReadQuery;

fuzz_target!(|query: &str| {
    let codec = CursorCodec::new(b"a fuzzing secret that is long enough");
    let languages = vec!["en".to_owned(), "ar".to_owned(), "es".to_owned()];
    for staff in [false, true] {
        if let Err(e) = ArticleQuery::parse(query, &codec, &languages, staff) {
            assert_eq!(e.status(), 400, "{e}");
        }
        if let Err(e) = BreakingQuery::parse(query, &codec, &languages, staff) {
            assert_eq!(e.status(), 400, "{e}");
        }
    }
    if let Err(e) = MostReadQuery::parse(query, &languages) {
        assert_eq!(e.status(), 400, "{e}");
    }
});
