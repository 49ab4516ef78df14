//! Arbitrary text as a page token (for lists keyed by several shapes) and
//! as an etag: refused with a violation naming the field, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reserve_core::request::Etag;
use reserve_store::page;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = page::decode::<(i64, String)>(text, "");
    let _ = page::decode::<(String, i64, String)>(text, "filters");
    let _ = page::decode::<i64>(text, "");
    let _ = Etag::parse_optional(text);
});
