//! Differential tests of the graph layer (src/graph) against real BitBake.
//!
//! For each fixture build directory under tests/data/graph/<case>/build, one BitBake
//! session (tests/oracle/bb_recipeinfo.py) parses the layers, dumps BitBake's recipe
//! cache as JSON (the per-recipe facts src/graph takes) and runs `bitbake -g` on the
//! targets. bitzel then computes each graph twice, from the dump and from its own
//! evaluator's parse of the same build directory (`bitzel graph`'s path: parse_all,
//! `recipe_infos`, `GraphConfig::from_store`), and the tests compare both with BitBake's:
//! task-depends.dot edge by edge (and byte for byte), pn-buildlist as a set (BitBake's
//! order is Python set order), and the "Nothing PROVIDES" errors.
//!
//! BitBake comes from BITZEL_PYTHON (default `python3`), or from BITZEL_POKY's checkout
//! when that is set. The tests fail, never skip, when BitBake cannot run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bitzel::eval::collection::Collection;
use bitzel::eval::config::{parse_configuration, ConfigOptions};
use bitzel::eval::recipe::parse_all;
use bitzel::graph::{
    generate, generate_all_tasks, provider_of, recipe_infos, Graph, GraphConfig, GraphFailure,
    ProviderEvent, RecipeInfo, RecipeInfoDump,
};

mod common;

use common::{environment_of, python, repo};

/// What one BitBake session left for a fixture: the dump, and per `-g` command its
/// outputs and the errors BitBake printed.
struct Session {
    dump: RecipeInfoDump,
    /// The same recipes and configuration by bitzel's evaluator.
    evaluated: (Vec<RecipeInfo>, GraphConfig),
    /// The `-g` command that asked for every task of every PN (its index, its targets).
    all_tasks: Option<(usize, Vec<String>)>,
    /// The `-e NAME` commands: NAME and the command's index.
    env_commands: Vec<(String, usize)>,
    outdir: PathBuf,
    /// stderr of the whole session, split per command (the oracle logs each command's
    /// end as `bitbake-oracle: bitbake ARGS: exit N`).
    stderr_by_command: Vec<String>,
}

/// Runs the oracle once per case (all its `-g` commands in one server session).
/// With `all_tasks`, one more `-g` command asks for every task of every PN's preferred
/// variant (the list computed from bitzel's evaluation with the process environment);
/// then one `-e NAME` command per `env_targets` entry.
fn session(case: &str, targets: &[&[&str]], all_tasks: bool, env_targets: &[&str]) -> Session {
    let all_tasks = all_tasks.then(|| {
        let (recipes, config) = evaluate(case, std::env::vars().collect());
        (targets.len() + 3, all_task_targets(&recipes, &config))
    });
    let outdir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("graph-{case}"));
    if outdir.exists() {
        std::fs::remove_dir_all(&outdir).expect("old scratch directory removed");
    }
    let mut command = Command::new(python());
    command
        .arg(repo().join("tests/oracle/bb_recipeinfo.py"))
        .arg("--outdir")
        .arg(&outdir)
        .arg(repo().join("tests/data/graph").join(case).join("build"));
    for t in targets {
        command.arg("--").arg("-g").args(*t);
    }
    if let Some((_, all)) = &all_tasks {
        command.arg("--").arg("-g").args(all);
    }
    let first_env = targets.len() + 3 + usize::from(all_tasks.is_some());
    for t in env_targets {
        command.arg("--").arg("-e").arg(t);
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!(
            "cannot start {} for the BitBake oracle: {e} (set BITZEL_PYTHON, or run `make test`)",
            python()
        )
    });
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = std::fs::read_to_string(outdir.join("recipeinfo.json")).unwrap_or_else(|e| {
        panic!(
            "the recipe-info oracle wrote no recipeinfo.json ({e}, {}):\n{stderr}",
            output.status
        )
    });
    let dump = RecipeInfoDump::from_json(&json).expect("recipeinfo.json parses");
    let mut stderr_by_command = Vec::new();
    let mut current = String::new();
    for line in stderr.lines() {
        if line.starts_with("bitbake-oracle: bitbake ") && line.contains(": exit ") {
            if !line.contains("--kill-server") {
                stderr_by_command.push(std::mem::take(&mut current));
            }
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    assert_eq!(
        stderr_by_command.len(),
        targets.len() + 2 + usize::from(all_tasks.is_some()) + env_targets.len(),
        "one section per command:\n{stderr}"
    );
    let evaluated = evaluate(
        case,
        environment_of(&read(&outdir.join("2").join("stdout"))),
    );
    let env_commands = env_targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), first_env + i))
        .collect();
    Session {
        dump,
        evaluated,
        all_tasks,
        env_commands,
        outdir,
        stderr_by_command,
    }
}

/// bitzel's evaluator on a copy of the case's build directory (`@LAYERS@` replaced as
/// the oracle replaces it, so that recipe paths are the ones BitBake saw), with
/// environment `env` (the one BitBake's `-e` output says it let in): every recipe
/// variant's facts and the configuration the graph reads, as `bitzel graph` computes them.
fn evaluate(case: &str, env: Vec<(String, String)>) -> (Vec<RecipeInfo>, GraphConfig) {
    let layers = repo().join("tests/data/graph").join(case);
    let build = build_dir(case);
    copy_template(&layers.join("build"), &build, &layers);
    let options = ConfigOptions {
        build_dir: build,
        env,
        multiconfig: None,
        ..Default::default()
    };
    let config = parse_configuration(&options, Some(common::bridge()));
    assert!(!config.has_errors(), "{}", config.rendered_diagnostics);
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = Collection::collect(&base);
    let parsed = parse_all(&config, &collection, Some(common::bridge()), 2);
    for p in &parsed {
        assert!(p.diagnostics.is_empty(), "{}", p.rendered_diagnostics);
        for v in &p.variants {
            assert!(v.errors.is_empty(), "{} {}: {:?}", p.file, v.name, v.errors);
        }
    }
    let store = config.recipe_store(Some(common::bridge()));
    (
        recipe_infos(&parsed, &collection),
        GraphConfig::from_store(&store),
    )
}

/// Where [`evaluate`] copies the case's build directory.
fn build_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("graph-{case}-build"))
}

/// `PN:task` for every task of every PN's preferred variant (the variant `bitbake PN`
/// builds), PNs sorted: what `generate_all_tasks` covers, as targets for `bitbake -g`.
fn all_task_targets(recipes: &[RecipeInfo], config: &GraphConfig) -> Vec<String> {
    let pns: BTreeSet<&str> = recipes
        .iter()
        .filter(|r| r.skipreason.is_none())
        .map(|r| r.pn.as_str())
        .collect();
    let mut out = Vec::new();
    for pn in pns {
        let recipe = provider_of(recipes, config, pn).expect("a PN has a provider");
        out.extend(recipe.tasks.iter().map(|t| format!("{pn}:{t}")));
    }
    out
}

/// Copies a build directory template, `@LAYERS@` in its files replaced by `layers`.
fn copy_template(src: &Path, dst: &Path, layers: &Path) {
    std::fs::create_dir_all(dst).expect("build directory created");
    for entry in std::fs::read_dir(src).expect("template readable").flatten() {
        let to = dst.join(entry.file_name());
        if entry.path().is_dir() {
            copy_template(&entry.path(), &to, layers);
        } else {
            let text = read(&entry.path()).replace("@LAYERS@", &layers.to_string_lossy());
            std::fs::write(&to, text).expect("template file written");
        }
    }
}

/// Where the per-recipe facts come from: BitBake's recipe cache, or bitzel's evaluator.
#[derive(Clone, Copy, Debug)]
enum Source {
    BitBakeCache,
    Evaluator,
}

const SOURCES: [Source; 2] = [Source::BitBakeCache, Source::Evaluator];

impl Session {
    /// The recipes and configuration of one source.
    fn facts(&self, source: Source) -> (&[RecipeInfo], &GraphConfig) {
        match source {
            Source::BitBakeCache => (&self.dump.recipes, &self.dump.config),
            Source::Evaluator => (&self.evaluated.0, &self.evaluated.1),
        }
    }

    /// `generate` fed by one source.
    fn generate(&self, source: Source, targets: &[String]) -> Result<Graph, GraphFailure> {
        let (recipes, config) = self.facts(source);
        generate(recipes, config, targets)
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One of BitBake's output files. Scarthgap's BitBake (2.8) writes both files, empty,
/// when a target has nothing to do or no provider; BitBake 2.19 writes fewer files
/// then, so under 2.19 a missing file counts as an empty one.
fn bitbake_output(session: &Session, dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    if !path.exists() && !session.dump.bitbake.starts_with("2.8") {
        return match name {
            "task-depends.dot" => "digraph depends {\n}\n".to_string(),
            _ => String::new(),
        };
    }
    read(&path)
}

/// Nodes and edges of a task-depends.dot.
fn edges(dot: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for line in dot.lines() {
        if let Some((from, to)) = line.split_once(" -> ") {
            edges.insert((
                from.trim_matches('"').to_string(),
                to.trim_matches('"').to_string(),
            ));
        } else if let Some(rest) = line.strip_prefix('"') {
            if let Some((node, _)) = rest.split_once('"') {
                nodes.insert(node.to_string());
            }
        }
    }
    (nodes, edges)
}

/// Compares bitzel's graph for command `index` (3, 4, ...: after `-p` and `-e`) with
/// BitBake's; returns the errors bitzel reported.
fn check_graph(session: &Session, index: usize, targets: &[&str]) -> Vec<String> {
    let mut errors = Vec::new();
    for source in SOURCES {
        errors = check_graph_from(session, source, index, targets);
    }
    errors
}

/// [`check_graph`] with the recipes of one source.
fn check_graph_from(
    session: &Session,
    source: Source,
    index: usize,
    targets: &[&str],
) -> Vec<String> {
    let dir = session.outdir.join(index.to_string());
    let targets: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
    let graph = session
        .generate(source, &targets)
        .unwrap_or_else(|e| panic!("{source:?}: bitzel failed on {targets:?}: {e}"));
    let bitbake_dot = bitbake_output(session, &dir, "task-depends.dot");
    let ours = graph.tree.task_depends_dot();
    let (bn, be) = edges(&bitbake_dot);
    let (on, oe) = edges(&ours);
    let missing: Vec<_> = be.difference(&oe).collect();
    let extra: Vec<_> = oe.difference(&be).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && bn == on,
        "{source:?} {targets:?}: edges BitBake has and bitzel lacks: {missing:#?}\nedges bitzel has and BitBake lacks: {extra:#?}\nnodes only in BitBake: {:?}\nnodes only in bitzel: {:?}",
        bn.difference(&on).collect::<Vec<_>>(),
        on.difference(&bn).collect::<Vec<_>>()
    );
    assert_eq!(
        ours, bitbake_dot,
        "{source:?} {targets:?}: task-depends.dot differs in bytes"
    );
    let set = |s: &str| s.lines().map(str::to_string).collect::<BTreeSet<_>>();
    assert_eq!(
        set(&graph.tree.pn_buildlist()),
        set(&bitbake_output(session, &dir, "pn-buildlist")),
        "{source:?} {targets:?}: pn-buildlist"
    );
    let errors: Vec<String> = graph
        .events
        .iter()
        .filter(|e| matches!(e, ProviderEvent::NoProvider { .. }))
        .map(|e| format!("ERROR: {e}"))
        .collect();
    // Every error bitzel reports is one BitBake printed, and the other way round.
    let bitbake_errors = &session.stderr_by_command[index - 1];
    for e in &errors {
        assert!(
            bitbake_errors.contains(e.as_str()),
            "{targets:?}: BitBake did not report\n{e}\n--- BitBake said\n{bitbake_errors}"
        );
    }
    let ours_count = errors
        .iter()
        .map(|e| e.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let theirs: BTreeSet<&str> = bitbake_errors
        .lines()
        .filter(|l| l.starts_with("ERROR: Nothing "))
        .collect();
    assert_eq!(
        ours_count,
        theirs.len(),
        "{targets:?}: BitBake reported {theirs:#?}, bitzel {errors:#?}"
    );
    errors
}

const PROVIDERS: &[&[&str]] = &[
    &["graph-image"],
    &["app"],
    &["libfoo-native"],
    &["virtual/libc"],
    &["tool:do_compile"],
    &["app", "extra:do_install"],
    &["libfoo"],
    &["tool-native"],
    &["mix"],
    &["virtual/shell"],
];

/// `bitbake -e` targets of the providers fixture: provider names, a native variant.
const PROVIDERS_ENV: &[&str] = &[
    "virtual/libc",
    "libfoo-native",
    "libfoo",
    "virtual/shell",
    "tool",
];

fn providers() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| session("providers", PROVIDERS, true, PROVIDERS_ENV))
}

const MISSING: &[&[&str]] = &[
    &["wants-broken"],
    &["broken"],
    &["libnothere"],
    &["app"],
    &["wants-skippy"],
    &["wants-rt"],
    &["skippy"],
    &["hostperl-native"],
    &["editor"],
    &["libfoo-natve"],
];

/// `bitbake -e` targets of the missing fixture: no provider, a skipped one.
const MISSING_ENV: &[&str] = &["libnothere", "virtual/skippy"];

fn missing() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| session("missing", MISSING, false, MISSING_ENV))
}

/// A target BitBake gives up on: no task-depends.dot, the same errors, and (in
/// scarthgap's BitBake, which bitzel follows) the same fatal message. BitBake 2.19 stops
/// earlier, at "Required build target ... has no buildable providers".
fn check_failure(session: &Session, index: usize, targets: &[&str]) -> Vec<String> {
    let mut errors = Vec::new();
    for source in SOURCES {
        errors = check_failure_from(session, source, index, targets);
    }
    errors
}

/// [`check_failure`] with the recipes of one source.
fn check_failure_from(
    session: &Session,
    source: Source,
    index: usize,
    targets: &[&str],
) -> Vec<String> {
    let dir = session.outdir.join(index.to_string());
    let targets: Vec<String> = targets.iter().map(|s| s.to_string()).collect();
    let failure = match session.generate(source, &targets) {
        Ok(_) => panic!("{source:?} {targets:?}: bitzel wrote a graph; BitBake gave up"),
        Err(f) => f,
    };
    assert!(
        !dir.join("task-depends.dot").exists(),
        "{targets:?}: BitBake wrote a graph, bitzel failed with {failure}"
    );
    let bitbake_errors = &session.stderr_by_command[index - 1];
    let errors: Vec<String> = failure
        .events
        .iter()
        .filter(|e| matches!(e, ProviderEvent::NoProvider { .. }))
        .map(|e| format!("ERROR: {e}"))
        .collect();
    for e in &errors {
        assert!(
            bitbake_errors.contains(e.as_str()),
            "{targets:?}: BitBake did not report\n{e}\n--- BitBake said\n{bitbake_errors}"
        );
    }
    if session.dump.bitbake.starts_with("2.8") {
        let fatal = format!("ERROR: {failure}");
        assert!(
            bitbake_errors.contains(&fatal),
            "{targets:?}: BitBake did not say\n{fatal}\n--- BitBake said\n{bitbake_errors}"
        );
    }
    errors
}

/// `generate_all_tasks` (what `bitzel gen` renders) is BitBake's graph for every task of
/// every PN's preferred variant asked at once; the list of targets is the same whether
/// computed from BitBake's recipe cache or from bitzel's evaluator.
#[test]
fn all_tasks_graph_is_bitbakes_for_every_task_of_every_pn() {
    let s = providers();
    let (index, targets) = s.all_tasks.as_ref().expect("the all-tasks command ran");
    assert_eq!(&all_task_targets(&s.dump.recipes, &s.dump.config), targets);
    let dir = s.outdir.join(index.to_string());
    for source in SOURCES {
        let (recipes, config) = s.facts(source);
        let graph =
            generate_all_tasks(recipes, config).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        assert_eq!(
            graph.tree.task_depends_dot(),
            bitbake_output(s, &dir, "task-depends.dot"),
            "{source:?}"
        );
        let set = |s: &str| s.lines().map(str::to_string).collect::<BTreeSet<_>>();
        assert_eq!(
            set(&graph.tree.pn_buildlist()),
            set(&bitbake_output(s, &dir, "pn-buildlist")),
            "{source:?}"
        );
    }
    check_graph(
        s,
        *index,
        &targets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

/// The facts bitzel's evaluator gives the graph for each recipe variant are the ones
/// BitBake's recipe cache holds (`CoreRecipeInfo`), `_task_deps` included.
#[test]
fn evaluated_recipe_facts_equal_bitbakes_cache() {
    for s in [providers(), missing()] {
        let ours: Vec<(&str, &RecipeInfo)> =
            s.evaluated.0.iter().map(|r| (r.file.as_str(), r)).collect();
        let mut theirs: Vec<(&str, &RecipeInfo)> = s
            .dump
            .recipes
            .iter()
            .map(|r| (r.file.as_str(), r))
            .collect();
        let mut ours = ours;
        ours.sort_by_key(|r| r.0);
        theirs.sort_by_key(|r| r.0);
        assert_eq!(
            ours.iter().map(|r| r.0).collect::<Vec<_>>(),
            theirs.iter().map(|r| r.0).collect::<Vec<_>>()
        );
        for ((file, a), (_, b)) in ours.iter().zip(&theirs) {
            // `CoreRecipeInfo.add_cacheData` extends `self.rprovides` in place
            // (`rprovides = self.rprovides; rprovides += ...`) before the cache is saved:
            // the dump's RPROVIDES holds every package's RPROVIDES:<pkg> too.
            let mut a = (*a).clone();
            if a.skipreason.is_none() {
                for p in &a.packages {
                    a.rprovides.extend(a.rprovides_pkg[p].iter().cloned());
                }
            }
            // BitBake 2.19 (not scarthgap's 2.8, which bitzel follows) rewrites every
            // task's [depends] while finalising (`handleVirtRecipeProviders`: the words
            // joined by one space, "" when there are none).
            let mut b = (*b).clone();
            if !s.dump.bitbake.starts_with("2.8") {
                let words = |v: &str| v.split_whitespace().collect::<Vec<_>>().join(" ");
                if let Some(depends) = a.task_flags.get_mut("depends") {
                    depends.values_mut().for_each(|v| *v = words(v));
                }
                if let Some(depends) = b.task_flags.get_mut("depends") {
                    depends
                        .retain(|task, v| !v.is_empty() || a.task_flag("depends", task).is_some());
                }
            }
            assert_eq!(a, b, "{file}");
        }
    }
}

/// `bitzel env NAME` shows the recipe `bitbake -e NAME` shows, for provider names,
/// variants and PNs (through the fast path or the whole parse), and fails with BitBake's
/// message when nothing provides NAME.
#[test]
fn env_resolves_names_as_bitbake_e_does() {
    for (case, s) in [("providers", providers()), ("missing", missing())] {
        for (name, index) in &s.env_commands {
            let output = Command::new(env!("CARGO_BIN_EXE_bitzel"))
                .args(["env", "--build-dir"])
                .arg(build_dir(case))
                .arg("--bitbake-lib")
                .arg(common::bitbake_lib())
                .args([name.as_str(), "FILE", "PN", "PV"])
                .output()
                .expect("bitzel runs");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let bitbake_stdout = read(&s.outdir.join(index.to_string()).join("stdout"));
            let bitbake_errors = &s.stderr_by_command[index - 1];
            let theirs = common::parse_env(&bitbake_stdout);
            if theirs.contains_key("FILE") {
                assert!(output.status.success(), "{name}: {stderr}");
                for var in ["FILE", "PN", "PV"] {
                    let line = &theirs[var];
                    assert!(
                        stdout.lines().any(|l| l == line),
                        "{name}: BitBake printed {line}\n--- bitzel printed\n{stdout}{stderr}"
                    );
                }
            } else {
                assert_eq!(output.status.code(), Some(1), "{name}: {stdout}{stderr}");
                let error = stderr
                    .lines()
                    .position(|l| l.starts_with("ERROR: Nothing "))
                    .map(|i| stderr.lines().skip(i).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_else(|| panic!("{name}: no error from bitzel:\n{stderr}"));
                assert!(
                    bitbake_errors.contains(error.trim_end()),
                    "{name}: bitzel said\n{error}\n--- BitBake said\n{bitbake_errors}"
                );
            }
        }
    }
}

#[test]
fn image_recrdeptask_reaches_every_runtime_dependency() {
    check_graph(providers(), 3, PROVIDERS[0]);
}

#[test]
fn deptask_and_rdeptask_follow_preferred_providers() {
    check_graph(providers(), 4, PROVIDERS[1]);
}

#[test]
fn native_variant_keeps_the_newest_version_and_assume_provided() {
    check_graph(providers(), 5, PROVIDERS[2]);
}

#[test]
fn virtual_target_resolves_through_preferred_provider() {
    check_graph(providers(), 6, PROVIDERS[3]);
}

#[test]
fn explicit_task_target_and_higher_layer_priority() {
    check_graph(providers(), 7, PROVIDERS[4]);
}

#[test]
fn several_targets_with_addtask_before() {
    check_graph(providers(), 8, PROVIDERS[5]);
}

#[test]
fn preferred_version_picks_the_older_recipe() {
    check_graph(providers(), 9, PROVIDERS[6]);
    let dot = read(&providers().outdir.join("9").join("task-depends.dot"));
    assert!(dot.contains("libfoo do_build\\n:1.0-r0"), "{dot}");
}

#[test]
fn native_target_by_name() {
    check_graph(providers(), 10, PROVIDERS[7]);
}

#[test]
fn missing_provider_reports_the_dependee_chain() {
    let errors = check_graph(missing(), 3, MISSING[0]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Nothing PROVIDES 'libnothere'")),
        "{errors:?}"
    );
}

#[test]
fn missing_provider_of_a_direct_target() {
    let errors = check_graph(missing(), 4, MISSING[1]);
    assert!(!errors.is_empty());
}

#[test]
fn missing_target_itself() {
    let s = missing();
    for source in SOURCES {
        let graph = s
            .generate(source, &["libnothere".to_string()])
            .expect("graph");
        let bitbake_errors = &s.stderr_by_command[4];
        let e = format!("ERROR: {}", graph.events[0]);
        assert!(
            bitbake_errors.contains(&e),
            "{source:?}: {e}\n--- BitBake said\n{bitbake_errors}"
        );
    }
}

#[test]
fn unrelated_target_is_unaffected_by_a_missing_provider() {
    check_graph(missing(), 6, MISSING[3]);
}

#[test]
fn multiple_providers_without_preference_default_preference_and_version_prefix() {
    check_graph(providers(), 11, PROVIDERS[8]);
    let dot = read(&providers().outdir.join("11").join("task-depends.dot"));
    assert!(
        dot.contains("libbaz do_populate_sysroot\\n:1.0-r0"),
        "{dot}"
    );
    assert!(
        dot.contains("libqux do_populate_sysroot\\n:1.2.3-r0"),
        "{dot}"
    );
    assert!(dot.contains("\"ed-b.do_packagedata\""), "{dot}");
}

#[test]
fn virtual_target_with_two_unpreferred_providers() {
    let s = providers();
    for source in SOURCES {
        let graph = s
            .generate(source, &["virtual/shell".to_string()])
            .expect("graph");
        let note = graph
            .events
            .iter()
            .find(|e| matches!(e, ProviderEvent::MultipleProviders { item, .. } if item == "virtual/shell"))
            .map(|e| format!("NOTE: {e}"))
            .expect("a multiple-providers note");
        let stdout = read(&s.outdir.join("12").join("stdout"));
        assert!(
            stdout.contains(&note),
            "{source:?}: BitBake did not say\n{note}\n---\n{stdout}"
        );
    }
    check_graph(s, 12, PROVIDERS[9]);
}

#[test]
fn skipped_provider_is_named_in_the_error_each_round() {
    let errors = check_graph(missing(), 7, MISSING[4]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("skippy PROVIDES virtual/skippy but was skipped")),
        "{errors:?}"
    );
}

#[test]
fn missing_runtime_provider_fails_its_dependees() {
    let s = missing();
    let errors = check_failure(s, 8, MISSING[5]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Nothing RPROVIDES 'nope-rt'")),
        "{errors:?}"
    );
    // The chains that asked, as BitBake's notes give them.
    for source in SOURCES {
        missing_runtime_notes(s, source);
    }
}

fn missing_runtime_notes(s: &Session, source: Source) {
    let failure = s
        .generate(source, &["wants-rt".to_string()])
        .expect_err("BitBake gives up");
    let notes: BTreeSet<String> = failure
        .events
        .iter()
        .filter(|e| matches!(e, ProviderEvent::Unbuildable { runtime: true, .. }))
        .map(|e| format!("NOTE: {e}"))
        .collect();
    let stdout = read(&s.outdir.join("8").join("stdout"));
    let lines: Vec<&str> = stdout.lines().collect();
    let theirs: BTreeSet<String> = lines
        .windows(2)
        .filter(|w| w[0].contains("is unbuildable, removing"))
        .map(|w| format!("{}\n{}", w[0], w[1]))
        .collect();
    // BitBake 2.19 stops at the first failed external target; scarthgap's goes on.
    if s.dump.bitbake.starts_with("2.8") {
        assert_eq!(notes, theirs);
    } else {
        assert!(theirs.is_subset(&notes), "{theirs:#?}\n{notes:#?}");
    }
    assert!(notes.contains(
        "NOTE: Runtime target 'wants-rt' is unbuildable, removing...\n\
         Missing or unbuildable dependency chain was: ['wants-rt', 'rt-broken', 'nope-rt']"
    ));
}

#[test]
fn skipped_target_says_why() {
    let errors = check_graph(missing(), 9, MISSING[6]);
    assert!(
        errors.iter().any(|e| e.contains("skippy was skipped")),
        "{errors:?}"
    );
}

#[test]
fn assume_provided_target_has_nothing_to_do() {
    check_graph(missing(), 10, MISSING[7]);
}

#[test]
fn runtime_name_as_build_target_suggests_its_rproviders() {
    let errors = check_graph(missing(), 11, MISSING[8]);
    assert!(
        errors.iter().any(|e| e.contains("ed-a RPROVIDES editor")),
        "{errors:?}"
    );
}

#[test]
fn misspelt_target_gets_close_matches() {
    let errors = check_graph(missing(), 12, MISSING[9]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Close matches:\n  libfoo-native")),
        "{errors:?}"
    );
}

/// scarthgap Poky, locally (`cargo test --test graph -- --ignored`): BITZEL_POKY_RECIPEINFO
/// is bb_recipeinfo.py's dump of a parsed Poky build (`--from-cache`), BITZEL_POKY_GRAPHS
/// a folder of `graph-<target>/` folders with what `bitbake -g <target>` wrote for that
/// build (/work/shared/tools/bitbake-oracle's layout). Prints precision and recall of the
/// edges per target and requires both files equal.
#[test]
#[ignore = "needs a parsed Poky build: BITZEL_POKY_RECIPEINFO and BITZEL_POKY_GRAPHS"]
fn poky_graphs_match_bitbake() {
    let info = std::env::var("BITZEL_POKY_RECIPEINFO").expect("BITZEL_POKY_RECIPEINFO");
    let graphs = PathBuf::from(std::env::var("BITZEL_POKY_GRAPHS").expect("BITZEL_POKY_GRAPHS"));
    let dump = RecipeInfoDump::from_json(&read(Path::new(&info))).expect("dump parses");
    let mut dirs: Vec<(String, PathBuf)> = Vec::new();
    for entry in walk_graph_dirs(&graphs) {
        let rel = entry
            .strip_prefix(&graphs)
            .expect("under graphs")
            .to_string_lossy()
            .into_owned();
        let target = rel
            .strip_prefix("graph-")
            .expect("graph- prefix")
            .to_string();
        dirs.push((target, entry));
    }
    assert!(
        !dirs.is_empty(),
        "no graph-*/task-depends.dot under {}",
        graphs.display()
    );
    let mut failures = Vec::new();
    for (target, dir) in dirs {
        let graph = generate(&dump.recipes, &dump.config, std::slice::from_ref(&target))
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        let theirs = read(&dir.join("task-depends.dot"));
        let ours = graph.tree.task_depends_dot();
        let (_, be) = edges(&theirs);
        let (_, oe) = edges(&ours);
        let common = be.intersection(&oe).count();
        let set = |s: &str| s.lines().map(str::to_string).collect::<BTreeSet<_>>();
        let pn_equal = set(&graph.tree.pn_buildlist()) == set(&read(&dir.join("pn-buildlist")));
        eprintln!(
            "{target}: {} edges in BitBake, {} in bitzel, precision {:.4}, recall {:.4}, pn-buildlist equal: {pn_equal}, bytes equal: {}",
            be.len(),
            oe.len(),
            common as f64 / oe.len().max(1) as f64,
            common as f64 / be.len().max(1) as f64,
            ours == theirs
        );
        if ours != theirs || !pn_equal {
            failures.push(target);
        }
    }
    assert!(failures.is_empty(), "differ from BitBake: {failures:?}");
}

/// scarthgap Poky through bitzel's own evaluator (`cargo test --test graph --
/// --ignored`, with BITZEL_POKY, BITZEL_POKY_BUILD, a build directory of that Poky made
/// by oe-init-build-env, and BITZEL_POKY_GRAPHS, the `graph-<target>/` folders of
/// `bitbake -g` for that build): parses every recipe as `bitzel graph` does and compares
/// each target's graph with BitBake's (precision and recall of the edges, pn-buildlist
/// as a set); with BITZEL_POKY_RECIPEINFO (bb_recipeinfo.py's dump of that build's
/// cache) it also counts the recipe variants whose facts equal BitBake's.
#[test]
#[ignore = "needs Poky: BITZEL_POKY, BITZEL_POKY_BUILD and BITZEL_POKY_GRAPHS"]
fn poky_graphs_from_the_evaluator_match_bitbake() {
    let build = PathBuf::from(std::env::var("BITZEL_POKY_BUILD").expect("BITZEL_POKY_BUILD"));
    let graphs = PathBuf::from(std::env::var("BITZEL_POKY_GRAPHS").expect("BITZEL_POKY_GRAPHS"));
    assert!(common::poky().is_some(), "BITZEL_POKY");
    let options = ConfigOptions {
        build_dir: build,
        env: std::env::vars().collect(),
        multiconfig: None,
        ..Default::default()
    };
    let config = parse_configuration(&options, Some(common::bridge()));
    let base = bitzel::eval::DataStore::from_snapshot(config.snapshot.clone());
    let collection = Collection::collect(&base);
    let parsed = parse_all(&config, &collection, Some(common::bridge()), 2);
    let recipes = recipe_infos(&parsed, &collection);
    let graph_config = GraphConfig::from_store(&config.recipe_store(Some(common::bridge())));
    let errors: usize = parsed
        .iter()
        .flat_map(|p| &p.variants)
        .map(|v| v.errors.len())
        .sum();
    eprintln!(
        "{} recipe variants, {errors} evaluation errors",
        recipes.len()
    );
    if let Ok(info) = std::env::var("BITZEL_POKY_RECIPEINFO") {
        let dump = RecipeInfoDump::from_json(&read(Path::new(&info))).expect("dump parses");
        let theirs: std::collections::HashMap<&str, &RecipeInfo> =
            dump.recipes.iter().map(|r| (r.file.as_str(), r)).collect();
        let mut equal = 0;
        let mut differing: std::collections::BTreeMap<String, usize> = Default::default();
        for r in &recipes {
            let Some(b) = theirs.get(r.file.as_str()) else {
                *differing.entry("missing from BitBake".into()).or_default() += 1;
                continue;
            };
            let mut a = r.clone();
            if a.skipreason.is_none() {
                for p in &a.packages {
                    a.rprovides.extend(a.rprovides_pkg[p].iter().cloned());
                }
            }
            if &a == *b {
                equal += 1;
                continue;
            }
            let fields = [
                (
                    "pn/pe/pv/pr",
                    (&a.pn, &a.pe, &a.pv, &a.pr) != (&b.pn, &b.pe, &b.pv, &b.pr),
                ),
                (
                    "provides",
                    a.provides != b.provides || a.rprovides != b.rprovides,
                ),
                ("depends", a.depends != b.depends),
                ("packages", a.packages != b.packages),
                (
                    "rdepends",
                    a.rdepends_pkg != b.rdepends_pkg || a.rrecommends_pkg != b.rrecommends_pkg,
                ),
                (
                    "tasks",
                    a.tasks != b.tasks || a.parents != b.parents || a.task_flags != b.task_flags,
                ),
                ("skipped", a.skipreason != b.skipreason),
                ("priority", a.priority != b.priority),
                (
                    "default_preference",
                    a.default_preference != b.default_preference,
                ),
                ("packages_dynamic", a.packages_dynamic != b.packages_dynamic),
                ("rprovides_pkg", a.rprovides_pkg != b.rprovides_pkg),
            ];
            let kind = r
                .file
                .strip_prefix("virtual:")
                .and_then(|v| v.split(':').next())
                .unwrap_or("recipe");
            for (name, differs) in fields {
                if differs {
                    *differing.entry(format!("{name} ({kind})")).or_default() += 1;
                    if differing.len() < 40
                        && kind != "nativesdk"
                        && !r.pn.starts_with("nativesdk-")
                    {
                        eprintln!("{name} differs: {}", r.file);
                    }
                }
            }
        }
        eprintln!(
            "facts equal to BitBake's cache: {equal} of {} variants; differing fields: {differing:?}",
            recipes.len()
        );
    }
    let mut failures = Vec::new();
    for dir in walk_graph_dirs(&graphs) {
        let target = dir
            .strip_prefix(&graphs)
            .expect("under graphs")
            .to_string_lossy()
            .strip_prefix("graph-")
            .expect("graph- prefix")
            .to_string();
        let theirs = read(&dir.join("task-depends.dot"));
        let (_, be) = edges(&theirs);
        let set = |s: &str| s.lines().map(str::to_string).collect::<BTreeSet<_>>();
        match generate(&recipes, &graph_config, std::slice::from_ref(&target)) {
            Ok(graph) => {
                let ours = graph.tree.task_depends_dot();
                let (_, oe) = edges(&ours);
                let common = be.intersection(&oe).count();
                let pn_equal =
                    set(&graph.tree.pn_buildlist()) == set(&read(&dir.join("pn-buildlist")));
                eprintln!(
                    "{target}: {} edges in BitBake, {} in bitzel, precision {:.4}, recall {:.4}, pn-buildlist equal: {pn_equal}, bytes equal: {}",
                    be.len(),
                    oe.len(),
                    common as f64 / oe.len().max(1) as f64,
                    common as f64 / be.len().max(1) as f64,
                    ours == theirs
                );
                if ours != theirs || !pn_equal {
                    failures.push(target);
                }
            }
            Err(failure) => {
                eprintln!("{target}: bitzel gave up: {failure}");
                failures.push(target);
            }
        }
    }
    assert!(failures.is_empty(), "differ from BitBake: {failures:?}");
}

/// Folders under `root` named `graph-*` (at any depth below one, for targets with a `/`)
/// that hold a task-depends.dot.
fn walk_graph_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let under_graph = path
                .strip_prefix(root)
                .is_ok_and(|rel| rel.to_string_lossy().starts_with("graph-"));
            if under_graph && path.join("task-depends.dot").exists() {
                out.push(path.clone());
            }
            if dir == root || under_graph {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `bitzel graph --build-dir`: the evaluator's path end to end, files and errors as
/// BitBake's `-g` wrote and printed them.
#[test]
fn graph_command_from_the_evaluator() {
    for (case, s, targets, index) in [
        ("providers", providers(), PROVIDERS[5], 8),
        ("missing", missing(), MISSING[0], 3),
    ] {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("graph-cli-{case}"));
        let output = Command::new(env!("CARGO_BIN_EXE_bitzel"))
            .args(["graph", "--build-dir"])
            .arg(build_dir(case))
            .arg("--bitbake-lib")
            .arg(common::bitbake_lib())
            .arg("--outdir")
            .arg(&out)
            .args(targets)
            .output()
            .expect("bitzel runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let dir = s.outdir.join(index.to_string());
        assert_eq!(
            read(&out.join("task-depends.dot")),
            bitbake_output(s, &dir, "task-depends.dot"),
            "{case} {targets:?}"
        );
        let set = |s: String| s.lines().map(str::to_string).collect::<BTreeSet<_>>();
        assert_eq!(
            set(read(&out.join("pn-buildlist"))),
            set(bitbake_output(s, &dir, "pn-buildlist"))
        );
        let bitbake_errors = &s.stderr_by_command[index - 1];
        let ours: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("ERROR: Nothing "))
            .collect();
        let theirs: Vec<&str> = bitbake_errors
            .lines()
            .filter(|l| l.starts_with("ERROR: Nothing "))
            .collect();
        assert_eq!(ours, theirs, "{case} {targets:?}: {stderr}");
        let code = if theirs.is_empty() { 0 } else { 1 };
        assert_eq!(output.status.code(), Some(code), "{case}: {stderr}");
    }
}

#[test]
fn graph_command_writes_bitbakes_files() {
    let s = providers();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("graph-cli");
    let status = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("graph")
        .arg("--recipe-info")
        .arg(s.outdir.join("recipeinfo.json"))
        .arg("--outdir")
        .arg(&out)
        .arg(PROVIDERS[0][0])
        .status()
        .expect("bitzel runs");
    assert!(status.success());
    let dir = s.outdir.join("3");
    assert_eq!(
        read(&out.join("task-depends.dot")),
        read(&dir.join("task-depends.dot"))
    );
    let set = |s: String| s.lines().map(str::to_string).collect::<BTreeSet<_>>();
    assert_eq!(
        set(read(&out.join("pn-buildlist"))),
        set(read(&dir.join("pn-buildlist")))
    );
}

/// `bitzel graph PATH_TO_POKY zlib` on the command line (`cargo test --test graph --
/// --ignored`, with BITZEL_POKY and BITZEL_POKY_GRAPHS): the configuration that
/// oe-init-build-env would set up in that checkout, read in memory, gives the same
/// task-depends.dot as real `bitbake -g zlib` in the oracle's build directory, and no
/// build directory is made.
#[test]
#[ignore = "needs Poky: BITZEL_POKY and BITZEL_POKY_GRAPHS"]
fn graph_command_reads_a_poky_checkout_without_a_build_directory() {
    let poky = common::poky().expect("BITZEL_POKY");
    let graphs = PathBuf::from(std::env::var("BITZEL_POKY_GRAPHS").expect("BITZEL_POKY_GRAPHS"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("graph-poky-checkout");
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("graph")
        .arg(&poky)
        .arg("zlib")
        .arg("--outdir")
        .arg(&out)
        .output()
        .expect("bitzel runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ours = read(&out.join("task-depends.dot"));
    let theirs = read(&graphs.join("graph-zlib/task-depends.dot"));
    // The oracle's checkout is elsewhere: its root, found from zlib's recipe file in
    // both graphs (the common suffix stripped), is replaced by this one.
    let file_of = |dot: &str| {
        dot.lines()
            .find(|l| l.starts_with("\"zlib.do_build\" [label="))
            .and_then(|l| l.rsplit("\\n").next())
            .map(|f| f.trim_end_matches("\"]").to_string())
            .expect("zlib.do_build labelled")
    };
    let (our_file, their_file) = (file_of(&ours), file_of(&theirs));
    let common = our_file
        .chars()
        .rev()
        .zip(their_file.chars().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let their_root = &their_file[..their_file.len() - common];
    let our_root = &our_file[..our_file.len() - common];
    let theirs = theirs.replace(their_root, our_root);
    let (_, oe) = edges(&ours);
    let (_, be) = edges(&theirs);
    assert_eq!(oe.len(), be.len(), "edge counts");
    assert!(
        ours == theirs,
        "task-depends.dot differs from bitbake -g zlib"
    );
    assert!(!poky.join("build").exists(), "a build directory was made");
}
