//! Parse benchmark: every BitBake file under a folder (default `$BITZEL_POKY/meta`), on one
//! thread, best of N runs; then, for reference, BitBake's own statement parser on the same
//! files in the same run (tests/oracle/bb_parse.py --time).
//!
//! ```text
//! BITZEL_POKY=/path/to/poky cargo bench --bench parse
//! cargo bench --bench parse -- /path/to/layer      # any folder
//! BITZEL_BENCH_RUNS=20 cargo bench --bench parse   # runs (default 10; BitBake gets 3)
//! ```
//!
//! The target is all of Poky's meta/ in under 0.15 s. Prints a note and exits 0 when it
//! has no folder, so that `cargo bench` works without Poky. Under `cargo test
//! --all-targets` it parses everything once, without timing BitBake.

use bitzel::syntax::{parse, FileKind};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The target for all of Poky's meta/.
const TARGET: Duration = Duration::from_millis(150);

fn main() {
    let poky = std::env::var_os("BITZEL_POKY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let root = match std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        Some(dir) => PathBuf::from(dir),
        None => match &poky {
            Some(poky) => poky.join("meta"),
            None => {
                println!("parse bench skipped: set BITZEL_POKY or pass a folder");
                return;
            }
        },
    };
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this once as a smoke test.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let runs: usize = match benchmarking {
        true => std::env::var("BITZEL_BENCH_RUNS").map_or(10, |r| r.parse().expect("runs")),
        false => 1,
    };

    let mut files = Vec::new();
    let mut skipped = 0;
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let path = entry.expect("cannot walk the folder").into_path();
        let Some(kind) = FileKind::from_path(&path).filter(|_| path.is_file()) else {
            continue;
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((path, text, kind)),
            Err(_) => skipped += 1,
        }
    }
    let bytes: usize = files.iter().map(|(_, text, _)| text.len()).sum();

    let mut times = Vec::with_capacity(runs);
    let mut errors = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        errors = 0;
        for (_, text, kind) in &files {
            let parse = black_box(parse(black_box(text), *kind));
            errors += parse.errors().len();
        }
        times.push(start.elapsed());
    }
    times.sort();
    let best = times[0];
    let median = times[times.len() / 2];
    let mb_per_s = bytes as f64 / 1e6 / best.as_secs_f64();
    println!("folder:  {}", root.display());
    println!(
        "files:   {} ({} bytes{})",
        files.len(),
        bytes,
        if skipped > 0 {
            format!(", {skipped} not UTF-8 left out")
        } else {
            String::new()
        }
    );
    println!(
        "bitzel:  best {:.4} s, median {:.4} s of {} runs, {:.1} MB/s, one thread, {} errors",
        best.as_secs_f64(),
        median.as_secs_f64(),
        times.len(),
        mb_per_s,
        errors
    );
    if root.ends_with("meta") {
        let verdict = if best < TARGET { "met" } else { "NOT met" };
        println!(
            "target:  all of meta/ in < {:.3} s: {verdict}",
            TARGET.as_secs_f64()
        );
    }

    if !benchmarking {
        println!("BitBake: not measured (a smoke run; `cargo bench --bench parse` measures)");
        return;
    }
    let paths: Vec<&Path> = files.iter().map(|(path, _, _)| path.as_path()).collect();
    match bitbake_seconds(&paths, poky.as_deref()) {
        Ok((version, seconds)) => println!(
            "BitBake: {version} statement parser, best {seconds:.4} s of 3 runs ({:.1}x bitzel's time)",
            seconds / best.as_secs_f64()
        ),
        Err(why) => println!("BitBake: not measured ({why})"),
    }
}

/// Best wall time of BitBake's own statement parser on `files` (driver: bb_parse.py --time).
fn bitbake_seconds(files: &[&Path], poky: Option<&Path>) -> Result<(String, f64), String> {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/bb_parse.py");
    let python = std::env::var("BITZEL_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let mut command = Command::new(&python);
    command
        .arg(driver)
        .args(["--time", "3", "--stdin"])
        .env("PYTHONUTF8", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(poky) = poky {
        command.env("PYTHONPATH", poky.join("bitbake/lib"));
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    writer.join().unwrap().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines = stdout.lines();
    let version = field(lines.next().unwrap_or(""), "bitbake").unwrap_or_default();
    let seconds = field(lines.next().unwrap_or(""), "best_seconds")
        .and_then(|s| s.parse().ok())
        .ok_or("no timing in the driver's output")?;
    Ok((format!("BitBake {version}"), seconds))
}

/// The value of `key` in a one-level JSON object line (enough for the driver's output).
fn field(line: &str, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    match value.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
