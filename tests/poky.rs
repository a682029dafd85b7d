//! Sanity check on a real Poky checkout: every BitBake file of its core layers parses
//! without errors and round-trips. Runs only when BITZEL_POKY names a checkout
//! (e.g. `BITZEL_POKY=/work/poky/scarthgap cargo test --release --test poky -- --nocapture`).

use bitzel::diagnostic::Severity;
use bitzel::syntax::{parse, FileKind};
use std::path::PathBuf;
use std::time::Instant;

const LAYERS: [&str; 4] = ["meta", "meta-poky", "meta-yocto-bsp", "meta-skeleton"];

#[test]
fn poky_core_layers_parse_without_errors() {
    let Some(root) = std::env::var_os("BITZEL_POKY").map(PathBuf::from) else {
        eprintln!("BITZEL_POKY is not set: skipping the Poky check");
        return;
    };
    let mut files = Vec::new();
    for layer in LAYERS {
        for entry in walkdir::WalkDir::new(root.join(layer))
            .into_iter()
            .filter_map(Result::ok)
        {
            let path = entry.into_path();
            // BitBake reads .conf files from conf/ folders only; others (xorg.conf...)
            // are data files of recipes.
            let is_conf = path.extension().is_some_and(|e| e == "conf");
            let in_conf_dir = path.components().any(|c| c.as_os_str() == "conf");
            // meta/conf/ccache.conf is ccache's configuration, not BitBake's.
            let not_bitbake = path.ends_with("meta/conf/ccache.conf");
            if (is_conf && !in_conf_dir) || not_bitbake {
                continue;
            }
            if let Some(kind) = FileKind::from_path(&path) {
                // Poky keeps a few non-UTF-8 or template files; BitBake reads UTF-8.
                if let Ok(text) = std::fs::read_to_string(&path) {
                    files.push((path, kind, text));
                }
            }
        }
    }
    let bytes: usize = files.iter().map(|f| f.2.len()).sum();
    let start = Instant::now();
    let parses: Vec<_> = files
        .iter()
        .map(|(_, kind, text)| parse(text, *kind))
        .collect();
    let elapsed = start.elapsed();
    let mut problems = Vec::new();
    let mut warnings = 0;
    for ((path, _, text), p) in files.iter().zip(&parses) {
        if p.syntax().to_string() != *text {
            problems.push(format!("{}: does not round-trip", path.display()));
        }
        for e in p.errors() {
            if e.severity == Severity::Warning {
                // BitBake warns too (tabs in Python functions of kernel-grub.bbclass).
                warnings += 1;
                continue;
            }
            let line = text[..e.range.start].matches('\n').count() + 1;
            problems.push(format!(
                "{}:{}: {:?}: {}",
                path.display(),
                line,
                e.severity,
                e.message
            ));
        }
    }
    eprintln!(
        "parsed {} files ({} bytes) in {:.3} s; {} errors, {} warnings",
        files.len(),
        bytes,
        elapsed.as_secs_f64(),
        problems.len(),
        warnings
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
