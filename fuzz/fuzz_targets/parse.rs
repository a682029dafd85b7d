//! Fuzzes the BitBake parser: for any UTF-8 input and every file kind, parsing must not
//! panic, the tree's text must be the input, and every diagnostic must lie inside it.
//! Run with `cargo +nightly fuzz run parse` from the repository root.

#![no_main]

use bitzel::syntax::{parse, FileKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [FileKind::Recipe, FileKind::Config, FileKind::BaseConfig] {
        let p = parse(text, kind);
        assert_eq!(p.syntax().to_string(), text);
        for e in p.errors() {
            assert!(e.range.start <= e.range.end && e.range.end <= text.len());
        }
        for st in p.tree().statements() {
            let _ = st.start_line();
        }
    }
});
