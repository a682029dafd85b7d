//! Fuzz target: the parser never panics, gives its input back unchanged and points its
//! errors inside the text, for every kind of file BitBake reads.
//!
//! Any bytes are accepted: they are decoded lossily (`bitzel check` decodes a non-UTF-8 file
//! lossily too, after reporting it). Seeds: corpus/parse/ (the conformance fixtures and the
//! parser's golden inputs). See fuzz/README.md for how to run it.

#![no_main]

use bitzel::syntax::{ast, parse, FileKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for kind in [FileKind::Recipe, FileKind::Config, FileKind::BaseConfig] {
        let parse = parse(&text, kind);
        assert_eq!(parse.syntax().to_string(), text, "the tree lost or changed text");
        for error in parse.errors() {
            let range = &error.range;
            assert!(range.start <= range.end && range.end <= text.len(), "{range:?} out of bounds");
            assert!(
                text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
                "{range:?} splits a character"
            );
        }
        for statement in parse.tree().statements() {
            let _ = statement.start_line();
            if let ast::Statement::Assignment(assignment) = statement {
                let _ = (assignment.name(), assignment.flag(), assignment.op(), assignment.value());
            }
        }
    }
});
