//! All of Poky evaluated, as BitBake's cold parse does (`bitbake -p`): the configuration,
//! every recipe file with all its BBCLASSEXTEND variants, finalised (events, anonymous
//! functions, task flags). Prints the wall time, the CPU time and the peak memory (RSS)
//! of bitzel, and, when asked, real BitBake's cold parse of the same checkout measured in
//! the same run, with the ratio.
//!
//! ```text
//! BITZEL_POKY=/work/poky/scarthgap [BITZEL_POKY_BUILD=<build dir>] \
//!   [BITZEL_BENCH_ORACLE=/work/shared/tools/bitbake-oracle] [BITZEL_BENCH_JOBS=2] \
//!   [BITZEL_BENCH_RUNS=3] cargo bench --bench eval
//! ```
//!
//! The configuration is BITZEL_POKY_BUILD's when set, else what `oe-init-build-env`
//! would set up in BITZEL_POKY (in memory). The oracle (about a minute on 2 cores) runs
//! first, alone, so that the two never share the cores; it copies the checkout and
//! builds nothing. Without BITZEL_POKY the benchmark says so and does nothing.
//!
//! With BITZEL_BENCH_PROCESSES=N (N > 1) it also measures what N worker processes
//! would give against the GIL: N copies of this benchmark, started together, each
//! reading the configuration and parsing every N-th recipe file; the wall time of the
//! slowest is printed next to the one process's. That bounds what forking workers
//! would reach (a fork would share the configuration, but would have to send the
//! stores back).

use bitzel::eval::collection::Collection;
use bitzel::eval::config::{parse_configuration, ConfigOptions};
use bitzel::eval::python::{PythonBridge, PythonConfig};
use bitzel::eval::recipe::parse_all_map;
use bitzel::eval::DataStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// CPU time (user + system) of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The peak resident set size of this process so far, in bytes (VmHWM).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Real BitBake's cold parse of `poky` by the oracle script: its wall time in seconds
/// and its summary line.
fn bitbake_cold_parse(oracle: &Path, poky: &Path) -> Option<(f64, String)> {
    let out = std::env::temp_dir().join(format!("bitzel-bench-eval-{}", std::process::id()));
    let status = std::process::Command::new(oracle)
        .arg(poky)
        .arg(&out)
        .args(["--", "parse"])
        .status()
        .ok()?;
    let text = std::fs::read_to_string(out.join("parse.txt")).ok();
    let _ = std::fs::remove_dir_all(&out);
    if !status.success() {
        eprintln!("bench eval: the oracle failed ({status})");
        return None;
    }
    let text = text?;
    let seconds = text
        .lines()
        .find_map(|l| l.strip_prefix("cold parse seconds: "))?
        .trim()
        .parse()
        .ok()?;
    let summary = text
        .lines()
        .find(|l| l.starts_with("Parsing of"))
        .unwrap_or("")
        .to_string();
    Some((seconds, summary))
}

/// Counts of one parse: files, variants, skipped variants, errors.
#[derive(Default, PartialEq, Debug)]
struct Counts {
    files: usize,
    variants: usize,
    skipped: usize,
    errors: usize,
}

fn main() {
    // A worker of the BITZEL_BENCH_PROCESSES measurement: "k/n".
    let part: Option<(usize, usize)> = std::env::var("BITZEL_BENCH_PART").ok().and_then(|p| {
        let (k, n) = p.split_once('/')?;
        Some((k.parse().ok()?, n.parse().ok()?))
    });
    let Some(poky) = std::env::var_os("BITZEL_POKY").map(PathBuf::from) else {
        eprintln!("bench eval: BITZEL_POKY is not set: nothing measured");
        return;
    };
    let jobs: usize = std::env::var("BITZEL_BENCH_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
    let runs: usize = std::env::var("BITZEL_BENCH_RUNS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(1)
        .max(1);

    let reference = std::env::var_os("BITZEL_BENCH_ORACLE")
        .filter(|_| part.is_none())
        .and_then(|oracle| {
            eprintln!(
                "bench eval: real BitBake's cold parse of {} ...",
                poky.display()
            );
            bitbake_cold_parse(Path::new(&oracle), &poky)
        });

    let env: Vec<(String, String)> = std::env::vars().collect();
    let options = match std::env::var_os("BITZEL_POKY_BUILD") {
        Some(build) => ConfigOptions::from_build_dir(PathBuf::from(build), env),
        None => ConfigOptions::init_build_env(&poky, None, env).expect("Poky's templates"),
    };

    let mut best: Option<(Duration, Duration)> = None;
    let mut counts = Counts::default();
    for run in 0..runs {
        let started = Instant::now();
        let cpu_started = cpu_time();
        // The interpreter starts once per process: later runs reuse it (and its imports).
        let python = Arc::new(
            PythonBridge::start(&PythonConfig {
                python_path: vec![poky.join("bitbake/lib")],
            })
            .expect("BitBake's bb imports"),
        );
        let config = parse_configuration(&options, Some(&python));
        assert!(!config.has_errors(), "{}", config.rendered_diagnostics);
        let configured = started.elapsed();
        let base = DataStore::from_snapshot(config.snapshot.clone());
        let mut collection = Collection::collect(&base);
        if let Some((k, n)) = part {
            collection.recipes = collection
                .recipes
                .iter()
                .enumerate()
                .filter(|(i, _)| i % n == k)
                .map(|(_, f)| f.clone())
                .collect();
        }
        let per_file = parse_all_map(&config, &collection, Some(&python), jobs, |recipe| {
            let skipped = recipe
                .variants
                .iter()
                .filter(|v| v.skipped.is_some())
                .count();
            let errors = recipe
                .variants
                .iter()
                .map(|v| v.errors.len())
                .sum::<usize>();
            (recipe.variants.len(), skipped, errors)
        });
        let wall = started.elapsed();
        let cpu = cpu_time() - cpu_started;
        counts = Counts {
            files: per_file.len(),
            variants: per_file.iter().map(|c| c.0).sum(),
            skipped: per_file.iter().map(|c| c.1).sum(),
            errors: per_file.iter().map(|c| c.2).sum(),
        };
        eprintln!(
            "bench eval: run {}: {:.2} s wall ({:.2} s CPU; configuration {:.2} s), {counts:?}",
            run + 1,
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            configured.as_secs_f64()
        );
        if best.is_none_or(|(w, _)| wall < w) {
            best = Some((wall, cpu));
        }
    }
    let (wall, cpu) = best.expect("one run");
    let rss = peak_rss() as f64 / (1024.0 * 1024.0);
    if part.is_some() {
        println!("part {:.3} {:.3}", wall.as_secs_f64(), cpu.as_secs_f64());
        return;
    }
    let processes: usize = std::env::var("BITZEL_BENCH_PROCESSES")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(1);
    let split = (processes > 1).then(|| {
        let started = Instant::now();
        let children: Vec<_> = (0..processes)
            .map(|k| {
                std::process::Command::new(std::env::current_exe().expect("this benchmark"))
                    .env("BITZEL_BENCH_PART", format!("{k}/{processes}"))
                    .env("BITZEL_BENCH_JOBS", "1")
                    .env("BITZEL_BENCH_RUNS", "1")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("a worker")
            })
            .collect();
        let mut cpu_total = 0.0;
        for child in children {
            let out = child.wait_with_output().expect("a worker's output");
            let text = String::from_utf8_lossy(&out.stdout);
            cpu_total += text
                .split_whitespace()
                .nth(2)
                .and_then(|c| c.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
        }
        (started.elapsed(), cpu_total)
    });
    println!(
        "bitzel: all of Poky ({} files, {} targets, {} skipped, {} errors) in {:.2} s wall, {:.2} s CPU, on {jobs} threads (best of {runs}); peak RSS {rss:.0} MiB",
        counts.files,
        counts.variants,
        counts.skipped,
        counts.errors,
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    );
    if let Some((split_wall, split_cpu)) = split {
        println!(
            "{processes} worker processes (each its own configuration, every {processes}th file): {:.2} s wall, {split_cpu:.2} s CPU in all; {:.2}x the one process's wall time",
            split_wall.as_secs_f64(),
            wall.as_secs_f64() / split_wall.as_secs_f64()
        );
    }
    match reference {
        Some((seconds, summary)) => println!(
            "BitBake: cold parse {seconds:.2} s wall ({summary}); bitzel is {:.1}x faster (wall)",
            seconds / wall.as_secs_f64()
        ),
        None => println!(
            "BitBake: not measured (set BITZEL_BENCH_ORACLE=/work/shared/tools/bitbake-oracle)"
        ),
    }
}
