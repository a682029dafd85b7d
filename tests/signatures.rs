//! An action's key changes exactly when BitBake's task signature does (PRODUCT.md, "How
//! tasks become Bazel actions"): a differential test on the demo world of `examples/`.
//!
//! Each scenario is a small edit to a copy of the demo's layers or build directory (a new
//! variable in local.conf, an edit to a function one task calls, ...). Both sides see
//! the world before and after the edit:
//!
//! - BitBake (the oracle, `bitbake -S none greet mkgreeting` with the `basichash`
//!   handler) writes one `<pv>-<pr>.do_<task>.sigdata.<taskhash>` per task under
//!   `${STAMPS_DIR}`; the task hash is transitive over the task's dependencies, so the
//!   tasks BitBake would rerun are those whose hash changed;
//! - bitzel (`bitzel gen`): a task target's own inputs are its attributes in
//!   `recipes/<PN>/BUILD.bazel` (with the file's constants), its `script` file (run file
//!   or builtin data) and its `srcs` files; a task reruns when its own inputs change or a
//!   task it depends on (`after`, `depends`, `deps`) reruns.
//!
//! The two sets must be equal, apart from the differences listed, with their reasons, in
//! tests/data/signatures/known-differences.txt: the test fails on a difference that is not
//! listed and on a listed one that is gone. Every expected set comes from BitBake in the
//! same run. The oracle's layers, build and TMPDIR paths are the same for every run
//! (BitBake's signatures cover paths: FILE, TMPDIR), so runs are sequential.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

mod common;
use common::{bitbake_lib, python, repo};

/// A task: (PN, task).
type Task = (String, String);

/// A small edit to the fixture, by path under the scratch directory (`layers/...` or
/// `template/conf/local.conf`).
#[derive(Clone, Copy)]
enum Edit {
    /// Text added at the end of the file.
    Append(&'static str, &'static str),
    /// Text added at the start of the file.
    Prepend(&'static str, &'static str),
    /// The only occurrence of the first text replaced by the second.
    Replace(&'static str, &'static str, &'static str),
}

const LOCAL_CONF: &str = "template/conf/local.conf";
const BASE_CLASS: &str = "layers/meta-demo/classes/base.bbclass";
const GREET_APPEND: &str = "layers/meta-demo/recipes-demo/greet/greet_%.bbappend";
const LIBGREET_C: &str = "layers/meta-demo/recipes-demo/libgreet/files/greet.c";

/// A scenario: the world before (the demo plus `base`) against the world after (plus
/// `base` and `edits`).
struct Scenario {
    name: &'static str,
    base: &'static [Edit],
    edits: &'static [Edit],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "new-unrelated-variable",
        base: &[],
        edits: &[Edit::Append(LOCAL_CONF, "BITZEL_UNRELATED = \"1\"\n")],
    },
    Scenario {
        // local.conf's GREETING: no recipe reads it.
        name: "changed-unused-variable",
        base: &[],
        edits: &[Edit::Replace(
            LOCAL_CONF,
            "GREETING = \"Hello\"",
            "GREETING = \"Hi\"",
        )],
    },
    Scenario {
        // GREET_WHO reaches greet's do_compile through EXTRA_OEMAKE and oe_runmake.
        name: "changed-variable-one-task-uses",
        base: &[],
        edits: &[Edit::Replace(
            GREET_APPEND,
            "GREET_WHO = \"Bazel\"",
            "GREET_WHO = \"BitBake\"",
        )],
    },
    Scenario {
        name: "new-unused-function-at-class-end",
        base: &[],
        edits: &[Edit::Append(
            BASE_CLASS,
            "\nbitzel_unused() {\n\techo unused\n}\n",
        )],
    },
    Scenario {
        name: "new-unused-function-at-class-start",
        base: &[],
        edits: &[Edit::Prepend(
            BASE_CLASS,
            "bitzel_unused() {\n\techo unused\n}\n\n",
        )],
    },
    Scenario {
        // oe_runmake: called by every recipe's do_compile.
        name: "edited-called-shell-function",
        base: &[],
        edits: &[Edit::Replace(
            BASE_CLASS,
            "die \"oe_runmake failed\"",
            "die \"make failed\"",
        )],
    },
    Scenario {
        // sysroot_stage_dir: called (through sysroot_stage_all) by do_populate_sysroot.
        name: "edited-function-of-a-python-task",
        base: &[],
        edits: &[Edit::Replace(
            BASE_CLASS,
            "cp -PR --preserve=mode,links",
            "cp -PR --preserve=mode,links,timestamps",
        )],
    },
    Scenario {
        // base_do_patch: the helper's `patch` builtin does its work natively.
        name: "edited-python-task-body",
        base: &[],
        edits: &[Edit::Replace(
            BASE_CLASS,
            "cmd = \"patch --no-backup-if-mismatch -p%s -i %s\"",
            "cmd = \"patch --no-backup-if-mismatch -p%s -i  %s\"",
        )],
    },
    Scenario {
        name: "changed-exported-variable",
        base: &[],
        edits: &[Edit::Append(LOCAL_CONF, "CFLAGS = \"-O1\"\n")],
    },
    Scenario {
        name: "new-exported-variable",
        base: &[],
        edits: &[Edit::Append(LOCAL_CONF, "export BITZEL_NEW = \"1\"\n")],
    },
    Scenario {
        name: "changed-source-file",
        base: &[],
        edits: &[Edit::Replace(LIBGREET_C, "%s, %s.", "%s; %s.")],
    },
    Scenario {
        // Poky's bitbake.conf lists PARALLEL_MAKE in BB_BASEHASH_IGNORE_VARS.
        name: "changed-ignored-variable-parallel-make",
        base: &[Edit::Append(
            LOCAL_CONF,
            "BB_BASEHASH_IGNORE_VARS = \"PARALLEL_MAKE\"\n",
        )],
        edits: &[Edit::Append(LOCAL_CONF, "PARALLEL_MAKE = \"-j 3\"\n")],
    },
    Scenario {
        // glibc.inc's EGLIBCPARALLELISM: PARALLEL_MAKE's value taken at parse time, kept
        // out of the signature by [vardepsexclude].
        name: "changed-ignored-variable-taken-at-parse-time",
        base: &[
            Edit::Append(LOCAL_CONF, "BB_BASEHASH_IGNORE_VARS = \"PARALLEL_MAKE\"\n"),
            Edit::Append(
                GREET_APPEND,
                "GREET_JOBS := \"${PARALLEL_MAKE}\"\n\
                 EXTRA_OEMAKE[vardepsexclude] += \"GREET_JOBS\"\n\
                 EXTRA_OEMAKE += \"GREET_JOBS='${GREET_JOBS}'\"\n",
            ),
        ],
        edits: &[Edit::Append(LOCAL_CONF, "PARALLEL_MAKE = \"-j 3\"\n")],
    },
    Scenario {
        name: "changed-ignored-exported-variable",
        base: &[Edit::Append(
            LOCAL_CONF,
            "BB_BASEHASH_IGNORE_VARS = \"CFLAGS\"\n",
        )],
        edits: &[Edit::Append(LOCAL_CONF, "CFLAGS = \"-O1\"\n")],
    },
    Scenario {
        name: "changed-vardepsexclude-variable",
        base: &[Edit::Append(
            GREET_APPEND,
            "EXTRA_OEMAKE[vardepsexclude] = \"GREET_WHO\"\n",
        )],
        edits: &[Edit::Replace(
            GREET_APPEND,
            "GREET_WHO = \"Bazel\"",
            "GREET_WHO = \"BitBake\"",
        )],
    },
    Scenario {
        name: "changed-vardepvalue-variable",
        base: &[Edit::Append(
            GREET_APPEND,
            "GREET_WHO[vardepvalue] = \"someone\"\n",
        )],
        edits: &[Edit::Replace(
            GREET_APPEND,
            "GREET_WHO = \"Bazel\"",
            "GREET_WHO = \"BitBake\"",
        )],
    },
];

/// What each side says about one state of the world.
struct State {
    /// BitBake's task hash of every task.
    taskhash: BTreeMap<Task, String>,
    /// bitzel's workspace.
    ws: Workspace,
}

/// The task targets of a generated workspace.
struct Workspace {
    /// The digest (SHA-256) of every task target's own inputs.
    inputs: BTreeMap<Task, Vec<u8>>,
    /// The task targets each target depends on.
    deps: BTreeMap<Task, BTreeSet<Task>>,
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

fn apply(dir: &Path, edit: &Edit) {
    let (rel, f): (&str, Box<dyn Fn(String) -> String>) = match *edit {
        Edit::Append(rel, text) => (rel, Box::new(move |t| t + text)),
        Edit::Prepend(rel, text) => (rel, Box::new(move |t| format!("{text}{t}"))),
        Edit::Replace(rel, from, to) => (
            rel,
            Box::new(move |t: String| {
                assert_eq!(t.matches(from).count(), 1, "{from:?} once in {rel}");
                t.replace(from, to)
            }),
        ),
    };
    let path = dir.join(rel);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    fs::write(&path, f(text)).unwrap();
}

/// Lays out the demo with `edits` under `dir` (always the same paths), runs the oracle
/// and `bitzel gen` on it.
fn state(dir: &Path, edits: &[Edit]) -> State {
    for sub in ["layers", "template", "wd", "tmp", "ws"] {
        let p = dir.join(sub);
        if p.exists() {
            fs::remove_dir_all(&p).unwrap();
        }
    }
    copy_tree(
        &repo().join("examples/meta-demo"),
        &dir.join("layers/meta-demo"),
    );
    let conf = dir.join("template/conf");
    fs::create_dir_all(&conf).unwrap();
    let build = repo().join("examples/build/conf");
    let bblayers = fs::read_to_string(build.join("bblayers.conf")).unwrap();
    fs::write(
        conf.join("bblayers.conf"),
        bblayers.replace("${TOPDIR}/../", "@LAYERS@/"),
    )
    .unwrap();
    let local = fs::read_to_string(build.join("local.conf")).unwrap();
    fs::write(
        conf.join("local.conf"),
        format!(
            "{local}BB_SIGNATURE_HANDLER = \"basichash\"\nTMPDIR = \"{}\"\n",
            dir.join("tmp").display()
        ),
    )
    .unwrap();
    for edit in edits {
        apply(dir, edit);
    }

    let output = Command::new(python())
        .arg(repo().join("tests/oracle/bitbake_oracle.py"))
        .arg("--pycache")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracle-pycache"))
        .arg("--layers")
        .arg(dir.join("layers"))
        .arg("--workdir")
        .arg(dir.join("wd"))
        .arg(dir.join("template"))
        .args(["--", "-S", "none", "greet", "mkgreeting"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {} for the BitBake oracle: {e}", python()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.contains("bitbake -S none greet mkgreeting: exit 0"),
        "bitbake -S none failed:\n{}\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    let taskhash = stamps(&dir.join("tmp/stamps"));

    let build_dir = dir.join("wd/build");
    let ws = dir.join("ws");
    let output = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("gen")
        .arg("--build-dir")
        .arg(&build_dir)
        .arg("--bitbake-lib")
        .arg(bitbake_lib())
        .arg("--out")
        .arg(&ws)
        .current_dir(&build_dir)
        .output()
        .expect("bitzel runs");
    assert!(
        output.status.success(),
        "bitzel gen failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    State {
        taskhash,
        ws: workspace_tasks(&ws),
    }
}

/// The task hashes in BitBake's sigdata file names: `<sys>/<pn>/<pv>-<pr>.<task>.sigdata.<hash>`.
fn stamps(root: &Path) -> BTreeMap<Task, String> {
    let mut hashes = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).into_iter().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((stem, hash)) = name.split_once(".sigdata.") else {
            continue;
        };
        let task = stem.rsplit_once('.').map(|(_, t)| t).unwrap_or(stem);
        let pn = entry
            .path()
            .parent()
            .and_then(Path::file_name)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let key = (pn, task.to_string());
        assert!(
            hashes.insert(key.clone(), hash.to_string()).is_none(),
            "two sigdata files for {key:?}"
        );
    }
    assert!(!hashes.is_empty(), "no sigdata under {}", root.display());
    hashes
}

/// Every quoted string of a line.
fn strings(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

/// The task targets of a generated workspace: each one's own inputs (its attributes, the
/// BUILD file's constants, its script and srcs files) and the targets it depends on.
fn workspace_tasks(ws: &Path) -> Workspace {
    let mut inputs = BTreeMap::new();
    let mut deps = BTreeMap::new();
    let recipes = ws.join("recipes");
    let read = |p: &Path| fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    for entry in fs::read_dir(&recipes).unwrap() {
        let pn = entry.unwrap().file_name().to_string_lossy().into_owned();
        let dir = recipes.join(&pn);
        let build = String::from_utf8(read(&dir.join("BUILD.bazel"))).unwrap();
        let mut constants = String::new();
        let mut block: Option<Vec<&str>> = None;
        let mut blocks = Vec::new();
        for line in build.lines() {
            match block.as_mut() {
                Some(lines) => {
                    lines.push(line);
                    if line == ")" {
                        blocks.push(block.take().unwrap());
                    }
                }
                None if line.starts_with("bitbake_") && line.ends_with('(') => {
                    block = Some(vec![line])
                }
                None if line.contains(" = ") && !line.starts_with('#') => {
                    constants.push_str(line);
                    constants.push('\n');
                }
                None => {}
            }
        }
        for lines in blocks {
            let name = lines
                .iter()
                .find_map(|l| l.trim().strip_prefix("name = "))
                .map(|n| n.trim_end_matches(',').trim_matches('"').to_string())
                .unwrap_or_else(|| panic!("a target without a name in recipes/{pn}"));
            let mut own = Sha256::new();
            own.update(format!("{constants}{}\n", lines.join("\n")));
            let mut edges = BTreeSet::new();
            for line in &lines {
                let script = line.trim().starts_with("script = ");
                for s in strings(line) {
                    if script {
                        own.update(read(&dir.join(s)));
                    } else if let Some(rest) = s.strip_prefix("//layers/") {
                        let (layer, path) = rest.split_once(':').unwrap();
                        own.update(read(&ws.join("layers").join(layer).join(path)));
                    } else if let Some(task) = s.strip_prefix(':').filter(|t| t.starts_with("do_"))
                    {
                        edges.insert((pn.clone(), task.to_string()));
                    } else if let Some((other, task)) =
                        s.strip_prefix("//recipes/").and_then(|r| r.split_once(':'))
                    {
                        edges.insert((other.to_string(), task.to_string()));
                    }
                }
            }
            inputs.insert((pn.clone(), name.clone()), own.finalize().to_vec());
            deps.insert((pn.clone(), name), edges);
        }
    }
    Workspace { inputs, deps }
}

/// The tasks whose own inputs changed from `before` to `after`.
fn own_changes(before: &Workspace, after: &Workspace) -> BTreeSet<Task> {
    after
        .inputs
        .iter()
        .filter(|(t, own)| before.inputs.get(*t) != Some(*own))
        .map(|(t, _)| t.clone())
        .collect()
}

/// The tasks bitzel reruns from `before` to `after`: those whose own inputs changed,
/// closed over the dependency edges.
fn bitzel_reruns(before: &Workspace, after: &Workspace) -> BTreeSet<Task> {
    let mut reruns = own_changes(before, after);
    loop {
        let more: Vec<Task> = after
            .deps
            .iter()
            .filter(|(t, ds)| !reruns.contains(*t) && ds.iter().any(|d| reruns.contains(d)))
            .map(|(t, _)| t.clone())
            .collect();
        if more.is_empty() {
            return reruns;
        }
        reruns.extend(more);
    }
}

/// The tasks whose BitBake task hash changed.
fn bitbake_reruns(before: &State, after: &State) -> BTreeSet<Task> {
    after
        .taskhash
        .iter()
        .filter(|(t, h)| before.taskhash.get(*t) != Some(*h))
        .map(|(t, _)| t.clone())
        .collect()
}

fn names(tasks: &BTreeSet<Task>) -> String {
    tasks
        .iter()
        .map(|(pn, t)| format!("{pn}:{t}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The listed differences: `<scenario> <bitbake-only|bitzel-only> <pn:task>...  # reason`.
fn known_differences() -> BTreeSet<String> {
    let path = repo().join("tests/data/signatures/known-differences.txt");
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split_once('#').map_or(l, |(before, _)| before).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn action_keys_change_when_bitbake_task_signatures_do() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("signatures");
    fs::create_dir_all(&dir).unwrap();
    let demo = state(&dir, &[]);

    // Both sides know the same tasks.
    let bitbake_tasks: BTreeSet<&Task> = demo.taskhash.keys().collect();
    let bitzel_tasks: BTreeSet<&Task> = demo.ws.inputs.keys().collect();
    assert_eq!(
        bitbake_tasks, bitzel_tasks,
        "BitBake's tasks vs bitzel's targets"
    );

    let mut bases: BTreeMap<&str, State> = BTreeMap::new();
    let mut found = BTreeSet::new();
    let mut report = Vec::new();
    let mut some_change = false;
    for s in SCENARIOS {
        let key = s.name;
        if !s.base.is_empty() {
            bases.insert(key, state(&dir, s.base));
        }
        let before = bases.get(key).unwrap_or(&demo);
        let edits: Vec<Edit> = s.base.iter().chain(s.edits).copied().collect();
        let after = state(&dir, &edits);
        let theirs = bitbake_reruns(before, &after);
        let ours = bitzel_reruns(&before.ws, &after.ws);
        some_change |= !theirs.is_empty();
        report.push(format!(
            "{}: BitBake reruns {} of {} tasks, bitzel {}",
            s.name,
            theirs.len(),
            after.taskhash.len(),
            ours.len()
        ));
        for (side, tasks) in [
            ("bitbake-only", theirs.difference(&ours).cloned().collect()),
            ("bitzel-only", ours.difference(&theirs).cloned().collect()),
        ] {
            if !BTreeSet::is_empty(&tasks) {
                let line = format!("{} {side} {}", s.name, names(&tasks));
                found.insert(line);
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(some_change, "no scenario changed a BitBake task hash");

    let known = known_differences();
    let new: Vec<&String> = found.difference(&known).collect();
    let gone: Vec<&String> = known.difference(&found).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "differences between BitBake's signatures and bitzel's action inputs\n\
         not listed in tests/data/signatures/known-differences.txt:\n{}\n\
         listed but gone (delete the line):\n{}",
        new.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        gone.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

/// The measure on a big world (real Poky): how many task targets' inputs change between
/// two workspaces that `bitzel gen` made before and after an edit (BITZEL_SIGS_BEFORE,
/// BITZEL_SIGS_AFTER); BitBake is not run. Prints the counts.
#[test]
#[ignore = "measures two workspaces named by BITZEL_SIGS_BEFORE and BITZEL_SIGS_AFTER"]
fn count_changed_targets_between_two_workspaces() {
    let dir = |v: &str| {
        std::env::var_os(v)
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| panic!("set {v} to a workspace bitzel gen wrote"))
    };
    let before = workspace_tasks(&dir("BITZEL_SIGS_BEFORE"));
    let after = workspace_tasks(&dir("BITZEL_SIGS_AFTER"));
    let own = own_changes(&before, &after);
    let reruns = bitzel_reruns(&before, &after);
    let by_task = |set: &BTreeSet<Task>| {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, t) in set {
            *counts.entry(t.as_str()).or_default() += 1;
        }
        format!("{counts:?}")
    };
    println!(
        "{} task targets before, {} after; own inputs changed: {} {}; reruns: {} {}",
        before.inputs.len(),
        after.inputs.len(),
        own.len(),
        by_task(&own),
        reruns.len(),
        by_task(&reruns)
    );
    for (pn, t) in own.iter().take(20) {
        println!("  {pn}:{t}");
    }
}
