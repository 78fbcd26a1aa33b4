//! The cursor decoder: any string is decoded or refused with a 400, never a panic, and
//! what the codec encodes decodes back to the same position.
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
    let decoded = codec.decode(&encoded, sort).expect("a cursor we issued decodes");
    assert_eq!(decoded, pos);
});
