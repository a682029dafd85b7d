//! What emitting task scripts costs: `emit::script::task_actions` for every task of some
//! recipes, against references measured in the same run on the same stores:
//!
//! - BitBake's own `bb.data.emit_func` run in the embedded Python on bitzel's store (the
//!   "all Python" way: every variable read crosses the bridge);
//! - parsing the same recipes (`parse_recipe`, all variants).
//!
//! bitzel's way writes the variables natively and asks Python only for
//! `ShellParser.parse_shell` of each distinct function body (memoised), so the first
//! pass ("cold") pays for the shell parser and later ones ("warm") do not.
//!
//! With BITZEL_POKY and BITZEL_POKY_BUILD set it runs on Poky's zlib, busybox and
//! base-files (with BITZEL_EMIT_BENCH_RECIPES=N, every N-th recipe file of Poky instead);
//! otherwise on the emit fixture (tests/data/emit). `cargo bench --bench emit`.

#[path = "../tests/common/mod.rs"]
mod common;

use bitzel::emit::layout::VirtualLayout;
use bitzel::emit::script::{task_actions, task_store, TaskKind};
use bitzel::eval::collection::Collection;
use bitzel::eval::config::{parse_configuration, ConfigOptions};
use bitzel::eval::recipe::{parse_recipe, RecipeOptions};
use bitzel::eval::DataStore;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn fixture_build() -> PathBuf {
    let repo = common::repo();
    let dir = repo.join("target/bench-emit/build/conf");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["bblayers.conf", "local.conf"] {
        let text =
            std::fs::read_to_string(repo.join("tests/data/emit/build/conf").join(f)).unwrap();
        let text = text.replace("@LAYERS@", repo.join("tests/data/emit").to_str().unwrap());
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir.parent().unwrap().to_path_buf()
}

const EMIT_FUNC: &str = "(lambda io: (lambda o: (bb.data.emit_func(d.getVar('__BITZEL_FUNC', False), o, d), o.getvalue())[1])(io.StringIO()))(__import__('io'))";

fn main() {
    let bridge = common::bridge();
    let (build, pns): (PathBuf, Vec<&str>) = match (
        common::poky(),
        std::env::var_os("BITZEL_POKY_BUILD").map(PathBuf::from),
    ) {
        (Some(_), Some(build)) => (build, vec!["zlib", "busybox", "base-files"]),
        _ => (fixture_build(), vec!["hello", "tool"]),
    };
    let config = parse_configuration(
        &ConfigOptions {
            build_dir: build.clone(),
            env: std::env::vars().collect(),
            multiconfig: None,
            ..Default::default()
        },
        Some(bridge),
    );
    let base = DataStore::from_snapshot(config.snapshot.clone());
    let collection = Collection::collect(&base);
    let layout = VirtualLayout::new(&config, &collection, Some(bridge));
    let mut stores = Vec::new();
    let started = Instant::now();
    // BITZEL_EMIT_BENCH_RECIPES=N: every N-th recipe file of the collection instead (all
    // its variants), a sample of the whole layer stack.
    let every: Option<usize> = std::env::var("BITZEL_EMIT_BENCH_RECIPES")
        .ok()
        .and_then(|n| n.parse().ok());
    for (i, file) in collection.recipes.iter().enumerate() {
        let name = file.rsplit('/').next().unwrap_or("");
        let wanted = match every {
            Some(n) => i % n.max(1) == 0,
            None => pns.iter().any(|pn| name.starts_with(&format!("{pn}_"))),
        };
        if !wanted {
            continue;
        }
        let parsed = parse_recipe(
            &config,
            &collection,
            file,
            &RecipeOptions::default(),
            Some(bridge),
        );
        for v in parsed.variants {
            if v.skipped.is_none() {
                let pn_v = v.store.get_var("PN", true).unwrap().unwrap().to_string();
                if every.is_some() || pns.contains(&pn_v.as_str()) {
                    stores.push((pn_v, v.store));
                }
            }
        }
    }
    let parse_time = started.elapsed();
    let tasks_of = |s: &DataStore| -> Vec<String> {
        s.get_var("__BBTASKS", false)
            .ok()
            .flatten()
            .map(|t| t.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let pass = |label: &str| -> (Duration, usize, usize) {
        let started = Instant::now();
        let (mut tasks, mut shell) = (0, 0);
        for (pn, store) in &stores {
            let (actions, _) = task_actions(store, pn, &tasks_of(store), &layout, Some(bridge));
            tasks += actions.len();
            shell += actions
                .iter()
                .filter(|a| matches!(a.kind, TaskKind::Shell(_)))
                .count();
        }
        let t = started.elapsed();
        println!(
            "{label}: {tasks} tasks ({shell} shell) in {t:.2?}, {:.2?} per shell task",
            t / shell.max(1) as u32
        );
        (t, tasks, shell)
    };
    let (cold, _, shell) = pass("bitzel task_actions, cold");
    let (warm, _, _) = pass("bitzel task_actions, warm");
    // Where bitzel's time goes: the shared store per recipe, each task's store.
    let (mut t_new, mut t_task, mut expanding, mut k) = (Duration::ZERO, Duration::ZERO, 0, 0);
    for (_, store) in &stores {
        let started = Instant::now();
        let mut ts = bitzel::emit::script::TaskStores::new(store);
        t_new += started.elapsed();
        expanding += ts.expands_keys() as usize;
        let started = Instant::now();
        for task in tasks_of(store) {
            let _ = ts.task(&task);
            k += 1;
        }
        t_task += started.elapsed();
    }
    println!(
        "bitzel TaskStores::new {:.2?} per recipe ({expanding} of {} expand keys per task), task store {:.2?} per task",
        t_new / stores.len().max(1) as u32,
        stores.len(),
        t_task / k.max(1) as u32
    );
    // Where bitzel's time goes, shell tasks only: the task's store, then its run file.
    let (mut t_store, mut t_run, mut m) = (Duration::ZERO, Duration::ZERO, 0);
    for (_, store) in &stores {
        for task in tasks_of(store) {
            let flag = |f: &str| store.get_var_flag(&task, f, false).ok().flatten();
            if flag("python").is_some_and(|v| !v.is_empty()) || flag("noexec").is_some() {
                continue;
            }
            let started = Instant::now();
            let ts = task_store(store, &task);
            t_store += started.elapsed();
            let started = Instant::now();
            let _ = bitzel::emit::script::raw_run_file(&ts, &task, Some(bridge));
            t_run += started.elapsed();
            m += 1;
        }
    }
    println!(
        "bitzel per shell task (warm): task store {:.2?}, run file {:.2?}",
        t_store / m.max(1) as u32,
        t_run / m.max(1) as u32
    );
    // BITZEL_EMIT_BENCH_NO_REFERENCE: skip the (slow) reference, for a run over all of Poky.
    if std::env::var_os("BITZEL_EMIT_BENCH_NO_REFERENCE").is_some() {
        println!(
            "reference: parsing the {} recipe variants: {parse_time:.2?}",
            stores.len()
        );
        return;
    }
    // Reference: BitBake's emit_func through the bridge, shell tasks only.
    let started = Instant::now();
    let mut n = 0;
    for (_, store) in &stores {
        for task in tasks_of(store) {
            let flag = |f: &str| store.get_var_flag(&task, f, false).ok().flatten();
            if flag("python").is_some_and(|v| !v.is_empty()) || flag("noexec").is_some() {
                continue;
            }
            let mut ts = task_store(store, &task);
            ts.set_var(
                "__BITZEL_FUNC",
                &task,
                &bitzel::eval::Location::new("bench", 0),
            );
            let text = bridge
                .eval_inline_in_python(EMIT_FUNC, None, &ts)
                .unwrap_or_else(|e| format!("error: {e}"));
            assert!(!text.is_empty());
            n += 1;
        }
    }
    let python = started.elapsed();
    println!(
        "reference: bb.data.emit_func through the bridge: {n} shell tasks in {python:.2?}, {:.2?} per task",
        python / n.max(1) as u32
    );
    println!(
        "reference: parsing the {} recipe variants: {parse_time:.2?}",
        stores.len()
    );
    println!(
        "ratios: emit_func / bitzel cold = {:.1}, emit_func / bitzel warm = {:.1}; bitzel cold / parse = {:.2}",
        python.as_secs_f64() / cold.as_secs_f64().max(1e-9) * shell as f64 / n.max(1) as f64,
        python.as_secs_f64() / warm.as_secs_f64().max(1e-9) * shell as f64 / n.max(1) as f64,
        cold.as_secs_f64() / parse_time.as_secs_f64().max(1e-9),
    );
}
