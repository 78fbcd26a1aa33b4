//! The cursor decoder: any string is decoded or refused with a 400, never a panic, and
//! every cursor the server can issue decodes back to the same position. The server's
//! text keys are titles and names (at most 300 characters, no control characters) and
//! its sort names are short.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsdesk::domain::paging::{CursorCodec, CursorPos, KeyValue};

fuzz_target!(|data: (&str, &str, i64, &str)| {
    let (cursor, sort, number, text) = data;
    let codec = CursorCodec::new(b"a fuzzing secret that is long enough");
    if let Err(e) = codec.decode(cursor, sort) {
        assert_eq!(e.status(), 400, "{e}");
    }
    let pos = CursorPos {
        sort: sort.to_owned(),
        key: vec![KeyValue::Text(text.to_owned()), KeyValue::Int(number), KeyValue::Null],
    };
    let encoded = codec.encode(&pos);
    match codec.decode(&encoded, sort) {
        Ok(decoded) => assert_eq!(decoded, pos),
        Err(e) => {
            let issuable = text.chars().count() <= 300
                && !text.chars().any(char::is_control)
                && sort.len() <= 16;
            assert!(!issuable, "a cursor we issued is refused: {e}");
            assert_eq!(e.status(), 400, "{e}");
        }
    }
});
