//! Times the parser on BitBake files: `cargo run --release --example parse_bench FILES`.
//! Reads every file first, then parses them all (one core), several rounds, and prints
//! the best round.

use bitzel::syntax::{parse, FileKind};
use std::time::Instant;

fn main() {
    let files: Vec<(FileKind, String)> = std::env::args()
        .skip(1)
        .filter_map(|p| {
            let kind = FileKind::from_path(std::path::Path::new(&p))?;
            Some((kind, std::fs::read_to_string(&p).ok()?))
        })
        .collect();
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();
    let mut best = f64::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        let mut errors = 0;
        for (kind, text) in &files {
            errors += parse(text, *kind).errors().len();
        }
        best = best.min(start.elapsed().as_secs_f64());
        std::hint::black_box(errors);
    }
    println!(
        "{} files, {} bytes: best of 10 rounds {:.1} ms ({:.0} MB/s)",
        files.len(),
        bytes,
        best * 1000.0,
        bytes as f64 / best / 1e6
    );
}
