//! Cold-start time to compute core-image-minimal's task graph with bitzel's own
//! evaluator, evaluation and graph timed apart, next to real BitBake measured in the
//! same run when asked.
//!
//! `cargo bench --bench graph` with BITZEL_POKY (a scarthgap checkout; its `bb` is
//! imported) and BITZEL_POKY_BUILD (a build directory of it made by oe-init-build-env).
//! Steps, each timed: the embedded Python's start and the configuration, the parse of
//! every recipe (`parse_all` on BITZEL_BENCH_JOBS threads, default 2), the recipe facts
//! (`recipe_infos`, `GraphConfig::from_store`), the graph of BITZEL_BENCH_TARGET
//! (default core-image-minimal) and the graph of every task (`generate_all_tasks`, what
//! `bitzel gen` renders).
//!
//! With BITZEL_POKY_RECIPEINFO (bb_recipeinfo.py's dump of that build's cache), the two
//! graphs are also timed from BitBake's own recipe facts.
//!
//! Reference: with BITZEL_BENCH_ORACLE (the path of /work/shared/tools/bitbake-oracle),
//! the same target through real BitBake in the same run: `bitbake-oracle POKY OUT --
//! parse graph TARGET` (a cold `bitbake -p`, then `bitbake -g` on its cache), its
//! parse time from OUT/parse.txt and its wall time in all.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use bitzel::eval::collection::Collection;
use bitzel::eval::config::{parse_configuration, ConfigOptions};
use bitzel::eval::python::{PythonBridge, PythonConfig};
use bitzel::eval::recipe::parse_all;
use bitzel::graph::{generate, generate_all_tasks, recipe_infos, GraphConfig};

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    let (Some(poky), Some(build)) = (
        std::env::var_os("BITZEL_POKY").map(PathBuf::from),
        std::env::var_os("BITZEL_POKY_BUILD").map(PathBuf::from),
    ) else {
        eprintln!("graph bench: set BITZEL_POKY and BITZEL_POKY_BUILD (nothing measured)");
        return;
    };
    let jobs: usize = std::env::var("BITZEL_BENCH_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(2);
    let target =
        std::env::var("BITZEL_BENCH_TARGET").unwrap_or_else(|_| "core-image-minimal".into());

    let start = Instant::now();
    let bridge = std::sync::Arc::new(
        PythonBridge::start(&PythonConfig {
            python_path: vec![poky.join("bitbake/lib")],
        })
        .expect("the Python bridge starts"),
    );
    let config = parse_configuration(
        &ConfigOptions {
            build_dir: build,
            env: std::env::vars().collect(),
            multiconfig: None,
            ..Default::default()
        },
        Some(&bridge),
    );
    let configured = start.elapsed();
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = Collection::collect(&base);
    let t = Instant::now();
    let parsed = parse_all(&config, &collection, Some(&bridge), jobs);
    let parse = t.elapsed();
    let t = Instant::now();
    let recipes = recipe_infos(&parsed, &collection);
    let graph_config = GraphConfig::from_store(&config.recipe_store(Some(&bridge)));
    let facts = t.elapsed();
    let evaluation = start.elapsed();
    let t = Instant::now();
    let graph = generate(&recipes, &graph_config, std::slice::from_ref(&target));
    let one = t.elapsed();
    let t = Instant::now();
    let all = generate_all_tasks(&recipes, &graph_config);
    let every = t.elapsed();

    println!(
        "bitzel, {} recipe files, {} variants, {jobs} threads:",
        collection.recipes.len(),
        recipes.len()
    );
    println!(
        "  configuration (Python start included)  {}",
        secs(configured)
    );
    println!("  parse of every recipe                  {}", secs(parse));
    println!("  recipe facts                           {}", secs(facts));
    println!(
        "  evaluation in all                      {}",
        secs(evaluation)
    );
    match &graph {
        Ok(g) => println!(
            "  graph of {target} ({} tasks)   {}",
            g.tree.tdepends.len(),
            secs(one)
        ),
        Err(e) => println!("  graph of {target}: failed after {} ({e})", secs(one)),
    }
    match &all {
        Ok(g) => println!(
            "  graph of every task ({} tasks)     {}",
            g.tree.tdepends.len(),
            secs(every)
        ),
        Err(e) => println!("  graph of every task: failed after {} ({e})", secs(every)),
    }
    // The graph alone on facts known to be right: BitBake's own cache, when given.
    if let Ok(info) = std::env::var("BITZEL_POKY_RECIPEINFO") {
        let text = std::fs::read_to_string(&info).expect("recipe-info dump readable");
        let dump = bitzel::graph::RecipeInfoDump::from_json(&text).expect("dump parses");
        let t = Instant::now();
        let g = generate(&dump.recipes, &dump.config, std::slice::from_ref(&target));
        let d = t.elapsed();
        let t = Instant::now();
        let a = generate_all_tasks(&dump.recipes, &dump.config);
        println!(
            "  from BitBake's cache facts: {target} {} ({} tasks), every task {} ({} tasks)",
            secs(d),
            g.map(|g| g.tree.tdepends.len()).unwrap_or(0),
            secs(t.elapsed()),
            a.map(|g| g.tree.tdepends.len()).unwrap_or(0)
        );
    }
    let bitzel_total = evaluation + one;
    println!(
        "  cold start to {target}'s graph     {}",
        secs(bitzel_total)
    );

    let Some(oracle) = std::env::var_os("BITZEL_BENCH_ORACLE") else {
        println!("reference: set BITZEL_BENCH_ORACLE to time real BitBake in the same run");
        return;
    };
    let out = std::env::temp_dir().join(format!("bitzel-graph-bench-{}", std::process::id()));
    let t = Instant::now();
    let status = Command::new(&oracle)
        .arg(&poky)
        .arg(&out)
        .args(["--", "parse", "graph", &target])
        .status()
        .expect("bitbake-oracle runs");
    let wall = t.elapsed();
    let parse_txt = std::fs::read_to_string(out.join("parse.txt")).unwrap_or_default();
    let bitbake_parse: Option<f64> = parse_txt
        .lines()
        .find_map(|l| l.strip_prefix("cold parse seconds: "))
        .and_then(|v| v.trim().parse().ok());
    println!(
        "real BitBake ({}): the oracle's run (copy of Poky, cold parse, -g {target}) {} in all",
        if status.success() { "ok" } else { "failed" },
        secs(wall),
    );
    if let Some(p) = bitbake_parse {
        println!(
            "  BitBake's cold parse {p:.2} s; bitzel's evaluation {}: ratio {:.1}",
            secs(evaluation),
            p / evaluation.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
