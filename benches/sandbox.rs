//! The sandbox helper's overhead per task: a trivial task (`true`) through
//! `bitzel-sandbox run` (namespaces, root, layering, delta, stamp) against the same
//! script run directly with `sh -e`, and a task that continues a work directory of
//! 2000 files (the cost of layering and of finding what changed).
//!
//! `cargo bench --bench sandbox` prints both; it builds the helper in release mode.
//! `cargo test --all-targets` runs it once, small, as a smoke test.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn time(runs: u32, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed() / runs
}

fn helper(dir: &Path, extra: &[&str]) {
    helper_with_scratch(dir, extra, &std::env::temp_dir());
}

fn helper_with_scratch(dir: &Path, extra: &[&str], scratch: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_bitzel-sandbox"))
        .env("TMPDIR", scratch)
        .args([
            "run",
            "--task",
            "do_x",
            "--pn",
            "bench",
            "--workdir",
            "work/bench/1.0",
            "--script",
            "s.sh",
        ])
        .args(extra)
        .args(["--delta-out", "d", "--stamp-out", "s", "--log-out", "l"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this once as a smoke test.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (runs, files) = if benchmarking { (50, 2000) } else { (1, 20) };
    let dir = std::env::temp_dir().join(format!("bitzel-sandbox-bench-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("s.sh"), "true\n").unwrap();

    let direct = time(runs, || {
        assert!(Command::new("/bin/sh")
            .args(["-e", "s.sh"])
            .current_dir(&dir)
            .status()
            .unwrap()
            .success());
    });
    let sandboxed = time(runs, || helper(&dir, &[]));

    // A work directory of small files, as one predecessor's delta.
    let state = dir.join("state");
    for i in 0..files {
        let f = state.join(format!("files/work/bench/1.0/src/d{}/f{i}.c", i % 40));
        fs::create_dir_all(f.parent().unwrap()).unwrap();
        fs::write(f, format!("int f{i};\n")).unwrap();
    }
    fs::write(state.join("meta"), "").unwrap();
    let layered = time(runs.div_ceil(5), || helper(&dir, &["--state-in", "state"]));
    let shm = Path::new("/dev/shm");
    let layered_shm = shm.is_dir().then(|| {
        time(runs.div_ceil(5), || {
            helper_with_scratch(&dir, &["--state-in", "state"], shm)
        })
    });

    println!("trivial task, sh -e directly:          {direct:>10.2?}");
    println!("trivial task, through bitzel-sandbox:  {sandboxed:>10.2?}");
    println!(
        "same, continuing {files} files of state:  {layered:>10.2?} (scratch in {})",
        std::env::temp_dir().display()
    );
    if let Some(t) = layered_shm {
        println!("same, scratch on tmpfs (/dev/shm):      {t:>10.2?}");
    }
    fs::remove_dir_all(&dir).unwrap();
}
