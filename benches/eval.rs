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
//! With more than one job the recipes are parsed by that many processes (the parent and
//! forked parser processes, `eval::parser_processes`): the CPU time counts the
//! children's, and the peak memory is given for the parent, for the largest child, and
//! as their bound for the whole run (parent + (jobs - 1) x largest child), pages shared
//! by copy-on-write counted in each.

use bitzel::eval::collection::Collection;
use bitzel::eval::config::{parse_configuration, ConfigOptions};
use bitzel::eval::python::{PythonBridge, PythonConfig};
use bitzel::eval::recipe::parse_all_map;
use bitzel::eval::DataStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// getrusage(who).
fn usage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    }
}

/// CPU time (user + system) of this process and of its children that ended, so far.
fn cpu_time() -> Duration {
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN]
        .into_iter()
        .map(|who| {
            let u = usage(who);
            tv(u.ru_utime) + tv(u.ru_stime)
        })
        .sum()
}

/// The peak resident set size of the largest child that ended (the parser processes),
/// in bytes.
fn peak_rss_of_children() -> u64 {
    usage(libc::RUSAGE_CHILDREN).ru_maxrss as u64 * 1024
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

    let reference = std::env::var_os("BITZEL_BENCH_ORACLE").and_then(|oracle| {
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

    // The first run is the cold one, as BitBake's cold parse: Python starts and the
    // configuration is read from nothing. Later runs reuse the interpreter and what the
    // process keeps of the configuration's files, so they are printed but never quoted.
    let mut cold: Option<(Duration, Duration)> = None;
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
        let collection = Collection::collect(&base);
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
        cold.get_or_insert((wall, cpu));
    }
    let (wall, cpu) = cold.expect("one run");
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let (parent, child) = (mib(peak_rss()), mib(peak_rss_of_children()));
    let bound = parent + (jobs.saturating_sub(1)) as f64 * child;
    println!(
        "bitzel: all of Poky ({} files, {} targets, {} skipped, {} errors) in {:.2} s wall, {:.2} s CPU, on {jobs} processes (the first, cold run of {runs}); peak RSS {parent:.0} MiB (parser processes: {child:.0} MiB each at most; the run: {bound:.0} MiB at most)",
        counts.files,
        counts.variants,
        counts.skipped,
        counts.errors,
        wall.as_secs_f64(),
        cpu.as_secs_f64()
    );
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
