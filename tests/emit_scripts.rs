//! Task scripts and sources against real BitBake, on the emit fixture
//! (tests/data/emit): tests/oracle/bb_emit.py makes BitBake write, for every task of
//! hello, tool and tool-native, the run file `exec_func_shell` would write (its own
//! `shell_trap_code`, `bb.data.emit_func`, the `cd`, the trailer), the task flags and,
//! for every SRC_URI entry, `bb.fetch2.decodeurl` and what `bb.fetch2.Fetch` resolves
//! (FILESPATH candidates, checksums, git revisions). bitzel's `script::raw_run_file` on
//! its own store must give the same bytes; its virtualized scripts must hold no path of
//! the machine and be the same for a copy of the fixture elsewhere.

mod common;
use common::*;

use bitzel::emit::layout::VirtualLayout;
use bitzel::emit::script::{raw_run_file, task_actions, task_store, TaskKind};
use bitzel::emit::sources::{decodeurl, recipe_sources, SourceKind};
use bitzel::eval::collection::Collection;
use bitzel::eval::config::{parse_configuration, ConfigOptions, Configuration};
use bitzel::eval::recipe::{parse_recipe, RecipeOptions};
use bitzel::eval::DataStore;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const PNS: [&str; 3] = ["hello", "tool", "tool-native"];

struct Oracle {
    build: PathBuf,
    recipes: Vec<Value>,
}

fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emit-scripts");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).expect("old scratch directory removed");
        }
        std::fs::create_dir_all(&scratch).expect("scratch directory created");
        let out = scratch.join("out");
        let output = Command::new(python())
            .arg(repo().join("tests/oracle/bb_emit.py"))
            .arg("--pycache")
            .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracle-pycache"))
            .arg("--workdir")
            .arg(scratch.join("wd"))
            .arg("--out")
            .arg(&out)
            .arg(repo().join("tests/data/emit/build"))
            .args(PNS)
            .current_dir(&scratch)
            .output()
            .unwrap_or_else(|e| panic!("cannot start {} for the BitBake oracle: {e}", python()));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "the emit oracle failed:\n{stderr}");
        let recipes = PNS
            .iter()
            .map(|pn| {
                let text = std::fs::read_to_string(out.join(format!("{pn}.json")))
                    .unwrap_or_else(|e| panic!("no oracle output for {pn} ({e}):\n{stderr}"));
                serde_json::from_str(&text).expect("oracle JSON")
            })
            .collect();
        Oracle {
            build: scratch.join("wd/build"),
            recipes,
        }
    })
}

fn env_of(recipe: &Value) -> Vec<(String, String)> {
    recipe["env"]
        .as_object()
        .expect("env")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect()
}

struct Ours {
    config: Configuration,
    layout: VirtualLayout,
    /// (PN, store) of every variant.
    variants: Vec<(String, DataStore)>,
}

fn ours(build: &Path, env: Vec<(String, String)>) -> Ours {
    let config = parse_configuration(
        &ConfigOptions {
            build_dir: build.to_path_buf(),
            env,
            multiconfig: None,
            ..Default::default()
        },
        Some(bridge()),
    );
    assert!(!config.has_errors(), "{}", config.rendered_diagnostics);
    let base = DataStore::from_snapshot(config.snapshot.clone());
    let collection = Collection::collect(&base);
    let layout = VirtualLayout::new(&config, &collection, Some(bridge()));
    let mut variants = Vec::new();
    for file in &collection.recipes {
        let parsed = parse_recipe(
            &config,
            &collection,
            file,
            &RecipeOptions::default(),
            Some(bridge()),
        );
        assert!(
            parsed.diagnostics.is_empty(),
            "{}",
            parsed.rendered_diagnostics
        );
        for v in parsed.variants {
            assert!(v.errors.is_empty(), "{:?}", v.errors);
            let pn = v.store.get_var("PN", true).unwrap().unwrap().to_string();
            variants.push((pn, v.store));
        }
    }
    Ours {
        config,
        layout,
        variants,
    }
}

fn ours_for_oracle() -> Ours {
    let o = oracle();
    ours(&o.build, env_of(&o.recipes[0]))
}

fn store_of<'a>(ours: &'a Ours, pn: &str) -> &'a DataStore {
    &ours
        .variants
        .iter()
        .find(|(p, _)| p == pn)
        .unwrap_or_else(|| panic!("bitzel has no {pn}"))
        .1
}

fn tasks_of(recipe: &Value) -> Vec<String> {
    let mut t: Vec<String> = recipe["tasks"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    t.sort();
    t
}

/// The worker's FIFO, `${T}/fifo.<pid>` (Poky's LOGFIFO), names the process that wrote
/// the run file: the one per-run value of a run file, compared without its digits.
fn without_pid(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("/fifo.") {
        out.push_str(&rest[..i + 6]);
        rest = rest[i + 6..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push_str("PID");
    }
    out.push_str(rest);
    out
}

/// A unified-diff-like first difference, for messages.
fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  bitzel:  {x}\n  bitbake: {y}", i + 1);
        }
    }
    format!(
        "lengths differ: bitzel {} lines, bitbake {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn shell_run_files_equal_bitbakes() {
    let o = oracle();
    let ours = &ours_for_oracle();
    let mut compared = 0;
    let mut failures = Vec::new();
    for recipe in &o.recipes {
        let pn = recipe["pn"].as_str().unwrap();
        let store = store_of(ours, pn);
        for task in tasks_of(recipe) {
            let rec = &recipe["tasks"][&task];
            let ts = task_store(store, &task);
            let mut expected: Vec<(String, &str)> = Vec::new();
            if let Some(run) = rec["run"].as_str() {
                expected.push((task.clone(), run));
            }
            for list in ["prefuncs", "postfuncs", "stage"] {
                for f in rec[list].as_array().into_iter().flatten() {
                    if let Some(run) = f["run"].as_str() {
                        expected.push((f["name"].as_str().unwrap().to_string(), run));
                    }
                }
            }
            for (func, run) in expected {
                compared += 1;
                match raw_run_file(&ts, &func, Some(bridge())) {
                    Ok(mine) if mine == run => {}
                    Ok(mine) => failures.push(format!(
                        "{pn}:{task} run.{func}: {}",
                        first_difference(&mine, run)
                    )),
                    Err(e) => failures.push(format!("{pn}:{task} run.{func}: {e}")),
                }
            }
        }
    }
    eprintln!("{compared} run files compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 15, "too few run files: {compared}");
}

#[test]
fn task_kinds_and_flags_follow_bitbake() {
    let o = oracle();
    let ours = &ours_for_oracle();
    for recipe in &o.recipes {
        let pn = recipe["pn"].as_str().unwrap();
        let store = store_of(ours, pn);
        let tasks = tasks_of(recipe);
        let (actions, _diags) = task_actions(store, pn, &tasks, &ours.layout, Some(bridge()));
        for a in &actions {
            let rec = &recipe["tasks"][&a.task];
            let words = |k: &str| -> Vec<String> {
                rec[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| ours.layout.virtualize(v.as_str().unwrap()))
                    .collect()
            };
            assert_eq!(a.dirs, words("dirs"), "{pn}:{} [dirs]", a.task);
            assert_eq!(
                a.cleandirs,
                words("cleandirs"),
                "{pn}:{} [cleandirs]",
                a.task
            );
            assert_eq!(
                a.noexec,
                rec["noexec"].as_bool().unwrap(),
                "{pn}:{}",
                a.task
            );
            assert_eq!(
                a.fakeroot,
                rec["fakeroot"].as_bool().unwrap(),
                "{pn}:{}",
                a.task
            );
            assert_eq!(
                a.nostamp,
                rec["nostamp"].as_bool().unwrap(),
                "{pn}:{}",
                a.task
            );
            let python = rec["python"].as_bool().unwrap();
            let expected_kind = match (a.noexec, python, a.task.as_str()) {
                (true, _, _) => "noexec",
                (false, false, _) => "shell",
                (false, true, "do_fetch") => "fetch",
                (false, true, "do_unpack" | "do_patch") => "builtin",
                (false, true, "do_prepare_recipe_sysroot") => "sysroot",
                (false, true, "do_populate_sysroot") => "shell",
                (false, true, _) => "unsupported",
            };
            let kind = match &a.kind {
                TaskKind::NoExec => "noexec",
                TaskKind::Shell(_) => "shell",
                TaskKind::Fetch => "fetch",
                TaskKind::Builtin { .. } => "builtin",
                TaskKind::Sysroot => "sysroot",
                TaskKind::Unsupported { .. } => "unsupported",
            };
            assert_eq!(kind, expected_kind, "{pn}:{}", a.task);
            if let TaskKind::Unsupported { reason } = &a.kind {
                assert_eq!(reason, &format!("not supported yet: {pn} {}", a.task));
            }
        }
    }
}

#[test]
fn sources_decode_and_resolve_as_bitbakes_fetcher() {
    let o = oracle();
    let ours = &ours_for_oracle();
    let mut checked = 0;
    for recipe in &o.recipes {
        let pn = recipe["pn"].as_str().unwrap();
        let store = store_of(ours, pn);
        let (sources, diags) = recipe_sources(store, pn, &ours.layout);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        for rec in recipe["sources"].as_array().unwrap() {
            let url = rec["url"].as_str().unwrap();
            // decodeurl, tuple for tuple
            let decoded = decodeurl(url).expect("decodes");
            let t = &rec["decoded"];
            assert_eq!(decoded.scheme, t[0].as_str().unwrap(), "{url}");
            assert_eq!(decoded.host, t[1].as_str().unwrap(), "{url}");
            // BitBake 2.19's decodeurl takes a `?query` off the path; scarthgap's keeps it.
            if !(url.contains('?') && recipe["bitbake"].as_str() != Some("2.8.1")) {
                assert_eq!(decoded.path, t[2].as_str().unwrap(), "{url}");
            }
            assert_eq!(decoded.user, t[3].as_str().unwrap(), "{url}");
            assert_eq!(decoded.pswd, t[4].as_str().unwrap(), "{url}");
            let params: Vec<(String, String)> = t[5]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
                .collect();
            assert_eq!(decoded.params, params, "{url}");
            let ty = rec["type"].as_str().unwrap_or("");
            let mine = sources.iter().find(|s| s.url == url);
            match ty {
                "file" => {
                    let s = mine.unwrap_or_else(|| panic!("{url} left out: {messages:?}"));
                    let SourceKind::Local { real, .. } = &s.kind else {
                        panic!("{url} is not local")
                    };
                    assert_eq!(
                        real.to_str().unwrap(),
                        rec["localpath"].as_str().unwrap(),
                        "{url}: FILESPATH"
                    );
                }
                "http" | "https" | "ftp" | "crate" => match rec["sha256_expected"].as_str() {
                    Some(sum) => {
                        let s = mine.unwrap_or_else(|| panic!("{url} left out: {messages:?}"));
                        let (SourceKind::Download { sha256, url: dl }
                        | SourceKind::Crate {
                            sha256, url: dl, ..
                        }) = &s.kind
                        else {
                            panic!("{url} is not a download")
                        };
                        assert_eq!(sha256, sum, "{url}");
                        // BitBake 2.19 downloads crates from static.crates.io; scarthgap
                        // from crates.io/api/v1/crates.
                        if ty != "crate" || recipe["bitbake"].as_str() == Some("2.8.1") {
                            assert_eq!(
                                dl,
                                rec["fetch_url"]
                                    .as_str()
                                    .unwrap()
                                    .split(';')
                                    .next()
                                    .unwrap(),
                                "{url}"
                            );
                        }
                        let local = rec["localpath"].as_str().unwrap();
                        let file = Path::new(local).file_name().unwrap().to_str().unwrap();
                        assert_eq!(s.virtual_path, format!("downloads/{file}"), "{url}");
                    }
                    None => {
                        assert!(mine.is_none(), "{url} has no checksum in BitBake");
                        assert!(
                            messages.iter().any(|m| m.contains(pn)
                                && m.contains(url)
                                && m.contains(rec["sha256_name"].as_str().unwrap())),
                            "no diagnostic naming {pn} and {url}: {messages:?}"
                        );
                    }
                },
                "git" | "gitsm" => {
                    let s = mine.unwrap_or_else(|| panic!("{url} left out: {messages:?}"));
                    let SourceKind::Git {
                        rev,
                        branch,
                        remote,
                        submodules,
                        ..
                    } = &s.kind
                    else {
                        panic!("{url} is not git")
                    };
                    assert_eq!(*submodules, ty == "gitsm", "{url}");
                    assert_eq!(Some(rev.as_str()), rec["revision"].as_str(), "{url}");
                    assert_eq!(
                        branch.as_deref(),
                        rec["branch"].as_str().filter(|b| !b.is_empty()),
                        "{url}"
                    );
                    assert!(
                        remote.starts_with(&format!("{}://", rec["proto"].as_str().unwrap())),
                        "{url}"
                    );
                    assert_eq!(
                        s.virtual_path,
                        format!("downloads/git2/{}", rec["clonedir"].as_str().unwrap()),
                        "{url}"
                    );
                }
                _ => {
                    assert!(mine.is_none(), "{url}");
                    assert!(
                        messages
                            .iter()
                            .any(|m| m.contains("not supported yet") && m.contains(url)),
                        "no diagnostic for {url}: {messages:?}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked}");
}

#[test]
fn scripts_are_virtual_and_the_same_for_a_copy_elsewhere() {
    let o = oracle();
    let first = &ours_for_oracle();
    // A copy of the fixture and of the build directory at other paths.
    let other = Path::new(env!("CARGO_TARGET_TMPDIR")).join("emit-scripts-copy/some/where-else");
    if other.exists() {
        std::fs::remove_dir_all(&other).unwrap();
    }
    let copy = |from: &Path, to: &Path| {
        let st = Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(st.success());
    };
    std::fs::create_dir_all(&other).unwrap();
    for l in ["meta-emit", "meta-emit-extra"] {
        copy(&repo().join("tests/data/emit").join(l), &other.join(l));
    }
    std::fs::create_dir_all(other.join("build/conf")).unwrap();
    for f in ["bblayers.conf", "local.conf"] {
        let text =
            std::fs::read_to_string(repo().join("tests/data/emit/build/conf").join(f)).unwrap();
        std::fs::write(
            other.join("build/conf").join(f),
            text.replace("@LAYERS@", other.to_str().unwrap()),
        )
        .unwrap();
    }
    let mut env = env_of(&o.recipes[0]);
    for (k, v) in env.iter_mut() {
        if k == "HOME" {
            *v = "/home/somebody-else".into();
        }
        if k == "PWD" {
            *v = other.join("build").to_str().unwrap().into();
        }
    }
    let second = ours(&other.join("build"), env);
    let real_roots = [
        repo().to_str().unwrap().to_string(),
        o.build.to_str().unwrap().to_string(),
        other.to_str().unwrap().to_string(),
        "/root".to_string(),
        "/home/somebody-else".to_string(),
    ];
    for pn in PNS {
        let tasks: Vec<String> = tasks_of(&o.recipes[PNS.iter().position(|p| *p == pn).unwrap()]);
        let (a, _) = task_actions(
            store_of(first, pn),
            pn,
            &tasks,
            &first.layout,
            Some(bridge()),
        );
        let (b, _) = task_actions(
            store_of(&second, pn),
            pn,
            &tasks,
            &second.layout,
            Some(bridge()),
        );
        assert_eq!(a, b, "{pn}: the actions depend on where the fixture is");
        for action in &a {
            let text = match &action.kind {
                TaskKind::Shell(s) => s.clone(),
                TaskKind::Builtin { data, .. } => data.clone(),
                _ => continue,
            };
            for root in &real_roots {
                assert!(
                    !names_root(&text, root),
                    "{pn}:{} holds {root}:\n{text}",
                    action.task
                );
            }
            if let TaskKind::Shell(script) = &action.kind {
                // The shell accepts it (`sh -n`: parsed, not run).
                let file = other.join(format!("{pn}.{}.sh", action.task));
                std::fs::write(&file, script).unwrap();
                let out = Command::new("sh").arg("-n").arg(&file).output().unwrap();
                assert!(
                    out.status.success(),
                    "{pn}:{}: {}",
                    action.task,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    drop(first.config.snapshot.clone());
}

/// Poky scarthgap: every shell run file of zlib (and its native and nativesdk variants),
/// base-files and busybox against real BitBake 2.8.1's, from the output of
/// `tests/oracle/bb_emit.py --workdir DIR/wd --out DIR/out POKY_BUILD zlib zlib-native
/// nativesdk-zlib base-files busybox` run as a non-root user (Poky's sanity checks refuse
/// root) with BITZEL_POKY set; BITZEL_POKY_EMIT names DIR.
#[test]
fn poky_shell_run_files_equal_bitbakes() {
    let (Some(_), Some(dir)) = (
        poky(),
        std::env::var_os("BITZEL_POKY_EMIT").map(PathBuf::from),
    ) else {
        eprintln!(
            "BITZEL_POKY and BITZEL_POKY_EMIT not both set: Poky's run files are not compared"
        );
        return;
    };
    let mut recipes: Vec<Value> = std::fs::read_dir(dir.join("out"))
        .expect("BITZEL_POKY_EMIT/out")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    recipes.sort_by_key(|r| r["pn"].as_str().unwrap().to_string());
    assert!(!recipes.is_empty());
    let build = dir.join("wd/build");
    let config = parse_configuration(
        &ConfigOptions {
            build_dir: build.clone(),
            env: env_of(&recipes[0]),
            multiconfig: None,
            ..Default::default()
        },
        Some(bridge()),
    );
    let base = DataStore::from_snapshot(config.snapshot.clone());
    let collection = Collection::collect(&base);
    let layout = VirtualLayout::new(&config, &collection, Some(bridge()));
    let (mut equal, mut total, mut tasks_timed) = (0, 0, 0);
    let (mut sources_checked, mut patches_checked) = (0, 0);
    let mut failures = Vec::new();
    let mut emit_time = std::time::Duration::ZERO;
    for recipe in &recipes {
        let pn = recipe["pn"].as_str().unwrap();
        let file = recipe["file"].as_str().unwrap();
        let parsed = parse_recipe(
            &config,
            &collection,
            file,
            &RecipeOptions::default(),
            Some(bridge()),
        );
        let Some(variant) = parsed
            .variants
            .into_iter()
            .find(|v| v.store.get_var("PN", true).ok().flatten().as_deref() == Some(pn))
        else {
            failures.push(format!("bitzel has no {pn}"));
            continue;
        };
        let store = &variant.store;
        let tasks = tasks_of(recipe);
        let started = std::time::Instant::now();
        let (actions, diags) = task_actions(store, pn, &tasks, &layout, Some(bridge()));
        emit_time += started.elapsed();
        tasks_timed += actions.len();
        for d in &diags {
            eprintln!("{pn}: {:?}: {}", d.severity, d.message);
        }
        for task in &tasks {
            let rec = &recipe["tasks"][task];
            let ts = task_store(store, task);
            let mut expected: Vec<(String, &str)> = Vec::new();
            if let Some(run) = rec["run"].as_str() {
                expected.push((task.clone(), run));
            }
            for list in ["prefuncs", "postfuncs", "stage"] {
                for f in rec[list].as_array().into_iter().flatten() {
                    if let Some(run) = f["run"].as_str() {
                        expected.push((f["name"].as_str().unwrap().to_string(), run));
                    }
                }
            }
            for (func, run) in expected {
                total += 1;
                match raw_run_file(&ts, &func, Some(bridge())) {
                    Ok(mine) if without_pid(&mine) == without_pid(run) => equal += 1,
                    Ok(mine) => failures.push(format!(
                        "{pn}:{task} run.{func}: {}",
                        first_difference(&mine, run)
                    )),
                    Err(e) => failures.push(format!("{pn}:{task} run.{func}: {e}")),
                }
            }
        }
        // SRC_URI: FILESPATH resolution and checksums as bb.fetch2's, patches as
        // oe.patch.src_patches picks them.
        let (sources, _) = recipe_sources(store, pn, &layout);
        for rec in recipe["sources"].as_array().unwrap() {
            let url = rec["url"].as_str().unwrap();
            let mine = sources.iter().find(|s| s.url == url);
            match (rec["type"].as_str(), mine.map(|s| &s.kind)) {
                (Some("file"), Some(SourceKind::Local { real, .. })) => {
                    sources_checked += 1;
                    assert_eq!(real.to_str(), rec["localpath"].as_str(), "{pn}: {url}");
                }
                (Some("http" | "https" | "ftp"), Some(SourceKind::Download { sha256, .. })) => {
                    sources_checked += 1;
                    assert_eq!(
                        Some(sha256.as_str()),
                        rec["sha256_expected"].as_str(),
                        "{pn}: {url}"
                    );
                }
                (ty, kind) => {
                    failures.push(format!("{pn}: {url}: BitBake {ty:?}, bitzel {kind:?}"))
                }
            }
        }
        if let Some(patches) = recipe["patches"].as_array() {
            let expected: Vec<String> = patches
                .iter()
                .map(|p| {
                    let d = decodeurl(p.as_str().unwrap()).unwrap();
                    let mut line = format!(
                        "patch {} striplevel={}",
                        layout
                            .layer_path(Path::new(&d.path))
                            .unwrap_or(d.path.clone()),
                        d.param("striplevel").unwrap_or("?")
                    );
                    if let Some(pd) = d.param("patchdir") {
                        line.push_str(&format!(" patchdir={pd}"));
                    }
                    line
                })
                .collect();
            let mine: Vec<String> = actions
                .iter()
                .find(|a| a.task == "do_patch")
                .and_then(|a| match &a.kind {
                    TaskKind::Builtin { data, .. } => Some(data.clone()),
                    _ => None,
                })
                .map(|d| {
                    d.lines()
                        .filter(|l| l.starts_with("patch "))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            patches_checked += expected.len();
            assert_eq!(mine, expected, "{pn}: the patches of do_patch");
        }
        // BITZEL_EMIT_DUMP=DIR: the virtual scripts and data, for reading.
        if let Some(dump) = std::env::var_os("BITZEL_EMIT_DUMP").map(PathBuf::from) {
            let d = dump.join(pn);
            std::fs::create_dir_all(&d).unwrap();
            for a in &actions {
                let text = match &a.kind {
                    TaskKind::Shell(s) => s.clone(),
                    TaskKind::Builtin { data, .. } => data.clone(),
                    other => format!("{other:?}\n"),
                };
                std::fs::write(d.join(format!("run.{}", a.task)), text).unwrap();
            }
        }
        for a in &actions {
            if let TaskKind::Shell(s) = &a.kind {
                assert!(
                    layout.holds_real_path(s).is_none(),
                    "{pn}:{} holds {:?}",
                    a.task,
                    layout.holds_real_path(s)
                );
            }
        }
    }
    eprintln!(
        "poky: {equal} of {total} run files equal to BitBake's; {sources_checked} SRC_URI entries and {patches_checked} patches as BitBake's; task_actions for {tasks_timed} tasks took {emit_time:.2?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `decodeurl` on awkward URLs, against `bb.fetch2.decodeurl` run by the oracle's Python.
#[test]
fn decodeurl_equals_bitbakes_on_awkward_urls() {
    let urls = [
        "https://example.com/a/b-1.0.tar.gz;name=x;subdir=y",
        "git://user@host.example/path/repo.git;protocol=ssh;branch=b",
        "git://user:secret@host.example/r.git;nobranch=1",
        "http://u:p@host/path@with/at",
        "file://dir/file%20name.txt;apply=no",
        "file://user@notreally/x.patch",
        "https://host",
        "https://host/;",
        "ftp://host/a;b=1;;c=2;b=3",
        "crate://crates.io/serde/1.0.190",
        "npmsw://host/x;param=a=b",
        "https://host/x;novalue",
        "noscheme",
        "https://;x=1",
    ];
    let script = format!(
        "import json, sys, types\n\
         sys.modules.setdefault('hashserv', types.ModuleType('hashserv'))\n\
         sys.path.insert(0, {lib:?})\n\
         import bb.fetch2\n\
         out = []\n\
         for u in {urls:?}:\n\
         \x20   try:\n\
         \x20       t = bb.fetch2.decodeurl(u)\n\
         \x20       out.append([t[0], t[1], t[2], t[3], t[4], [[k, v] for k, v in t[5].items()]])\n\
         \x20   except Exception as e:\n\
         \x20       out.append(type(e).__name__)\n\
         print(json.dumps({{'version': bb.__version__, 'out': out}}))\n",
        lib = bitbake_lib().to_str().unwrap(),
        urls = urls.to_vec(),
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let scarthgap = answer["version"].as_str() == Some("2.8.1");
    let expected = answer["out"].as_array().unwrap();
    for (url, want) in urls.iter().zip(expected) {
        // BitBake 2.12+ rewrote decodeurl on urllib: it keeps `user@` in a file:// path
        // and accepts a parameter without `=`, a URL without `://` or without a location,
        // which scarthgap's (bitzel's rule) takes apart differently or refuses. Those are
        // compared when BITZEL_POKY supplies scarthgap's BitBake.
        let newer_differs = (url.starts_with("file://") && url.contains('@'))
            || !url.contains("://")
            || url.contains("://;")
            || url
                .split(';')
                .skip(1)
                .any(|p| !p.is_empty() && !p.contains('='));
        if !scarthgap && newer_differs {
            continue;
        }
        let mine = decodeurl(url);
        match (want, mine) {
            (Value::String(_), Err(_)) => {}
            (Value::Array(t), Ok(d)) => {
                let params: Vec<Value> = d
                    .params
                    .iter()
                    .map(|(k, v)| Value::from(vec![k.clone(), v.clone()]))
                    .collect();
                let got = vec![
                    Value::from(d.scheme),
                    Value::from(d.host),
                    Value::from(d.path),
                    Value::from(d.user),
                    Value::from(d.pswd),
                    Value::from(params),
                ];
                // 2.19 takes a ?query off the path (see above); none here has one.
                assert_eq!(&got, t, "{url}");
            }
            (want, mine) => panic!("{url}: BitBake {want}, bitzel {mine:?}"),
        }
    }
}

/// Each way a path of the machine reached Poky's scripts, reproduced in the fixture:
/// COREBASE set by inline Python (its `scripts/`, also after WORKDIR), an absolute
/// `patchdir=`, the target's `/root` next to a build run as root, the interpreter
/// running BitBake (`PYTHON = "${@sys.executable}"`). The run files are BitBake's
/// (`shell_run_files_equal_bitbakes`); here: what virtualizing them leaves holds no
/// directory of the machine, found by scanning for every root of it.
#[test]
fn every_cause_of_a_machine_path_is_virtual() {
    let ours = ours_for_oracle();
    let o = oracle();
    let layout = &ours.layout;
    let hello = &o.recipes[0];
    let (actions, _) = task_actions(
        store_of(&ours, "hello"),
        "hello",
        &tasks_of(hello),
        layout,
        Some(bridge()),
    );
    let exe = store_of(&ours, "hello")
        .get_var("PYTHON", true)
        .unwrap()
        .unwrap()
        .to_string();
    let exe_dir = Path::new(&exe)
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let mut roots = vec![
        repo().to_str().unwrap().to_string(),
        o.build.to_str().unwrap().to_string(),
        std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
    ];
    if !["/usr/bin", "/bin"].contains(&exe_dir.as_str()) {
        roots.push(exe_dir.clone());
        assert_eq!(layout.virtualize(&exe), "/usr/bin/python3");
    }
    let text = |task: &str| -> String {
        match &actions.iter().find(|a| a.task == task).unwrap().kind {
            TaskKind::Shell(s) => s.clone(),
            TaskKind::Builtin { data, .. } => data.clone(),
            k => panic!("{task}: {k:?}"),
        }
    };
    let install = text("do_install");
    assert!(
        install.contains("/bitzel/corebase/scripts/wrapper.h"),
        "{install}"
    );
    // The target's ROOT_HOME and a path that merely ends in /root stay as they are.
    assert!(install.contains("s#ROOTHOME#/home/root#"), "{install}");
    let patch = text("do_patch");
    assert!(patch.contains(" patchdir=/bitzel/tmp/"), "{patch}");
    for a in &actions {
        let t = match &a.kind {
            TaskKind::Shell(s) => s,
            TaskKind::Builtin { data, .. } => data,
            _ => continue,
        };
        assert_eq!(layout.holds_real_path(t), None, "{}", a.task);
        for root in &roots {
            assert!(!names_root(t, root), "{}: holds {root}:\n{t}", a.task);
        }
    }
}

/// Whether `text` names the machine directory `root`: anywhere for a path of several
/// components; for a one-component one (HOME `/root`) only where a path starts with it,
/// not inside a target path (`/home/root`, ROOT_HOME under `${D}`).
fn names_root(text: &str, root: &str) -> bool {
    if root.matches('/').count() > 1 {
        return text.contains(root);
    }
    text.match_indices(root).any(|(at, _)| {
        let end = at + root.len();
        let starts = at == 0
            || !matches!(text.as_bytes()[at - 1], b'/' | b'.' | b'-' | b'_')
                && !text.as_bytes()[at - 1].is_ascii_alphanumeric();
        starts
            && text
                .as_bytes()
                .get(end)
                .is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}
