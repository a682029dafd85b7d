//! Golden tests of the BitBake parser: every input under tests/data/parse has its printed
//! tree and diagnostics stored beside it as an insta snapshot (`<case>.<ext>.snap`).

use bitzel::diagnostic::{Diagnostic, LineIndex};
use bitzel::syntax::{parse, FileKind};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The parser's output for one file, as stored in its snapshot: the tree, then each
/// diagnostic rendered as `bitzel check` shows it.
fn render(path: &Path, text: &str) -> String {
    let kind = FileKind::from_path(path).expect("a BitBake file");
    let parse = parse(text, kind);
    let mut out = parse.debug_tree();
    let index = LineIndex::new(text);
    let name = path.file_name().unwrap().to_string_lossy();
    for e in parse.errors() {
        let d = Diagnostic {
            severity: e.severity,
            message: e.message.clone(),
            path: name.to_string(),
            range: e.range.clone(),
        };
        out.push('\n');
        out.push_str(&d.render(text, &index));
    }
    out
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.is_file() && FileKind::from_path(p).is_some())
        .collect();
    files.sort();
    files
}

#[test]
fn golden_trees_match_their_snapshots() {
    let dir = data_dir().join("parse");
    let files = inputs(&dir);
    assert!(!files.is_empty(), "no inputs under {}", dir.display());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let out = render(&path, &text);
        insta::with_settings!({
            snapshot_path => path.parent().unwrap(),
            prepend_module_to_snapshot => false,
            input_file => &path,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, out);
        });
    }
}

#[test]
fn every_test_file_round_trips() {
    for path in inputs(&data_dir()) {
        // Invalid UTF-8 (a check fixture has some) is decoded lossily, as `bitzel check`
        // does after reporting it.
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let kind = FileKind::from_path(&path).unwrap();
        let parse = parse(&text, kind);
        assert_eq!(parse.syntax().to_string(), text, "{}", path.display());
        for e in parse.errors() {
            assert!(e.range.start <= e.range.end && e.range.end <= text.len());
        }
    }
}
