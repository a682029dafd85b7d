//! The workspace `bitzel gen` writes, under real Bazel: the small fixture's workspace is
//! analysed (`bazel build --nobuild //recipes/...`, its download taken from the
//! fixture's DL_DIR as `--distdir`) and queried, and the dependency edges between task
//! targets equal the edges of bitzel's task graph (what `bitzel graph` computes); then
//! built through the real sandbox helper, and rebuilt as a no-op.
//!
//! Bazel is required: without it this test fails (`make test` installs Debian's
//! bazel-bootstrap 4.2.3). Each workspace gets its own output user root, and the Bazel
//! server is shut down at the end.

mod common;

use common::{bitbake_lib, bridge, repo};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("gen_bazel")
        .join(name);
    if dir.exists() {
        let _ = bazel(&dir.join("ws"), &dir.join("out"), &["shutdown"]);
        make_writable(&dir);
        fs::remove_dir_all(&dir).expect("remove the previous run's directory");
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bazel leaves read-only outputs; make a previous run's tree deletable.
fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_dir() {
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o755));
        }
    }
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

/// `bazel <args>` in workspace `ws` with output user root `out`: (success, stdout,
/// stderr, wall time).
fn bazel(ws: &Path, out: &Path, args: &[&str]) -> (bool, String, String, Duration) {
    let mut command = common::bazel_command(out);
    command.args(args).current_dir(ws);
    let start = Instant::now();
    let output = command.output().unwrap_or_else(|e| {
        panic!(
            "bazel cannot be run ({e}): this test needs Bazel; `make test` installs \
             Debian's bazel-bootstrap (apt-get install -y bazel-bootstrap)"
        )
    });
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        start.elapsed(),
    )
}

/// The task graph of the fixture as bitzel computes it, edges as `pn.task -> pn.task`.
fn graph_edges(build_dir: &Path) -> BTreeSet<String> {
    use bitzel::eval::config::{parse_configuration, ConfigOptions};
    let options = ConfigOptions {
        build_dir: build_dir.to_path_buf(),
        env: Vec::new(),
        multiconfig: None,
        ..Default::default()
    };
    let config = parse_configuration(&options, Some(bridge()));
    assert!(!config.has_errors(), "{}", config.rendered_diagnostics);
    let base = config.recipe_store(Some(bridge()));
    let collection = bitzel::eval::collection::Collection::collect(&base);
    let parsed = bitzel::eval::recipe::parse_all(&config, &collection, Some(bridge()), 2);
    let infos = bitzel::graph::recipe_infos(&parsed, &collection);
    let graph_config = bitzel::graph::GraphConfig::from_store(&base);
    let graph = bitzel::graph::generate_all_tasks(&infos, &graph_config)
        .unwrap_or_else(|e| panic!("the fixture's graph: {e}"));
    graph
        .tree
        .tdepends
        .iter()
        .flat_map(|(task, deps)| deps.iter().map(move |dep| format!("{task} -> {dep}")))
        .collect()
}

#[test]
fn generated_workspace_analyses_and_its_edges_are_the_task_graph() {
    let dir = scratch("small");
    let layers = dir.join("src");
    copy_tree(&repo().join("tests/data/gen/small"), &layers);
    let bblayers = layers.join("build/conf/bblayers.conf");
    let text = fs::read_to_string(&bblayers).unwrap();
    fs::write(
        &bblayers,
        text.replace("@LAYERS@", layers.to_str().unwrap()),
    )
    .unwrap();
    let build_dir = layers.join("build");
    let ws = dir.join("ws");
    let out = dir.join("out");

    let gen = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("gen")
        .arg("--build-dir")
        .arg(&build_dir)
        .arg("--bitbake-lib")
        .arg(bitbake_lib())
        .arg("--out")
        .arg(&ws)
        .output()
        .expect("bitzel runs");
    let gen_stderr = String::from_utf8_lossy(&gen.stderr);
    assert!(gen.status.success(), "{gen_stderr}");

    // The machine's settings go to user.bazelrc, which gen never writes: the helper and
    // BitBake's DL_DIR as the distdir (no network: the download must come from there).
    fs::write(
        ws.join("user.bazelrc"),
        format!(
            "common --repo_env=BITZEL_SANDBOX={}\ncommon --distdir={}\n",
            env!("CARGO_BIN_EXE_bitzel-sandbox"),
            build_dir.join("downloads").display()
        ),
    )
    .unwrap();

    let (ok, stdout, stderr, analysis) = bazel(&ws, &out, &["build", "--nobuild", "//recipes/..."]);
    assert!(ok, "bazel build --nobuild failed:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("Analyzed 36 targets"),
        "the 9 tasks of do_build's closure of the 4 recipes are analysed, their \
         do_devshell (tagged manual) is not:\n{stderr}"
    );

    let (ok, stdout, stderr, query) = bazel(
        &ws,
        &out,
        &[
            "query",
            // The task targets; the graph output shows the edges among them.
            "kind(\"bitbake_(task|sysroot) rule\", //recipes/...)",
            "--output=graph",
            "--nograph:factored",
        ],
    );
    assert!(ok, "bazel query failed:\n{stdout}\n{stderr}");
    // `"//recipes/hello:do_compile" -> "//recipes/hello:do_configure"`, between tasks.
    let task = |label: &str| -> Option<String> {
        let (pn, task) = label
            .trim_matches('"')
            .strip_prefix("//recipes/")?
            .split_once(':')?;
        Some(format!("{pn}.{task}"))
    };
    let bazel_edges: BTreeSet<String> = stdout
        .lines()
        .filter_map(|line| line.trim().split_once(" -> "))
        .filter_map(|(from, to)| Some(format!("{} -> {}", task(from)?, task(to)?)))
        .collect();
    let graph = graph_edges(&build_dir);
    assert!(!graph.is_empty());
    let missing: Vec<&String> = graph.difference(&bazel_edges).collect();
    let extra: Vec<&String> = bazel_edges.difference(&graph).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "edges of the graph missing in Bazel: {missing:#?}\nedges only in Bazel: {extra:#?}"
    );

    // And built: every task through the real sandbox helper inside Bazel's sandbox. The
    // program was compiled against the library's patched header, made by the native
    // tool from the library's native sysroot, from the downloaded tarball.
    let (ok, stdout, stderr, build) = bazel(&ws, &out, &["build", "//recipes/..."]);
    assert!(ok, "bazel build failed:\n{stdout}\n{stderr}");
    let program = ws.join(
        "bazel-bin/recipes/greet/do_install.delta/files/work/core2-64-poky-linux/greet/1.0/image/usr/bin/greet",
    );
    let run = Command::new(&program).output().expect("greet runs");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "HELLO, WORLD\n");
    let header = fs::read_to_string(ws.join(
        "bazel-bin/recipes/hello/do_compile.delta/files/work/core2-64-poky-linux/hello/1.0/build/hello.h",
    ))
    .unwrap();
    assert!(
        header.starts_with("/* stamped by stamper 1.0: "),
        "{header}"
    );
    let (ok, _, stderr, noop) = bazel(&ws, &out, &["build", "//recipes/..."]);
    // `INFO: 1 process: 1 internal.`: nothing but Bazel's own bookkeeping ran.
    let spawned = stderr
        .lines()
        .filter(|l| l.starts_with("INFO:") && l.contains(" process"))
        .any(|l| l.contains("sandbox") || l.contains("local") || l.contains("remote"));
    assert!(ok && !spawned, "a second build runs nothing:\n{stderr}");

    let _ = bazel(&ws, &out, &["shutdown"]);
    println!(
        "gen_bazel: {} task edges equal; analysis {analysis:.2?} (cold server), query \
         {query:.2?}, build {build:.2?}, no-op rebuild {noop:.2?}",
        graph.len()
    );
}
