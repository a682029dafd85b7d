//! rules_bitbake under real Bazel: the hand-written workspace in
//! `tests/data/bazel/two_recipes` (shaped like `bitzel gen` output: a native tool, a
//! library built with it, a program that DEPENDS on the library) is analysed, built with
//! the helper's test double, rebuilt as a no-op, queried, and its analysis tests run.
//!
//! Bazel is required: without it this test fails (`make test` installs Debian's
//! bazel-bootstrap 4.2.3). The workspace is copied to a temporary directory with its own
//! output user root, and the Bazel server is shut down at the end.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;

/// One Bazel workspace with a private output user root; shuts its server down on drop.
struct Workspace {
    dir: PathBuf,
    output_user_root: PathBuf,
}

/// What one Bazel command printed, and how long it took.
struct Run {
    stderr: String,
    stdout: String,
    wall: Duration,
}

impl Workspace {
    /// Copies the test workspace `case` into a fresh temporary directory `name`.
    fn copy_of(case: &str, name: &str) -> Workspace {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/bazel")
            .join(case);
        let root = temp_root().join(name);
        if root.exists() {
            // A previous run's server may still own it.
            let _ = Workspace {
                dir: root.join("ws"),
                output_user_root: root.join("out"),
            }
            .bazel(&["shutdown"]);
            make_writable(&root);
            fs::remove_dir_all(&root).expect("remove the previous run's directory");
        }
        copy_tree(&src, &root.join("ws"));
        Workspace {
            dir: root.join("ws"),
            output_user_root: root.join("out"),
        }
    }

    /// Runs `bazel <args>` in the workspace; returns what it printed (not checked).
    fn bazel(&self, args: &[&str]) -> (bool, Run) {
        let mut command = common::bazel_command(&self.output_user_root);
        command.args(args).current_dir(&self.dir);
        if let Some(&verb) = args.first() {
            if verb != "shutdown" && verb != "info" {
                // The checkout's rules_bitbake, wherever the copy lives.
                command.arg(format!(
                    "--override_repository=rules_bitbake={}",
                    env!("CARGO_MANIFEST_DIR")
                ));
            }
        }
        let start = Instant::now();
        let output = match command.output() {
            Ok(output) => output,
            Err(e) => panic!(
                "bazel cannot be run ({e}): these tests need Bazel; `make test` installs \
                 Debian's bazel-bootstrap (apt-get install -y bazel-bootstrap)"
            ),
        };
        let run = Run {
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            wall: start.elapsed(),
        };
        (output.status.success(), run)
    }

    /// Runs `bazel <args>` and fails the test, with Bazel's output, if it fails.
    fn ok(&self, args: &[&str]) -> Run {
        let (success, run) = self.bazel(args);
        assert!(
            success,
            "bazel {} failed:\n{}\n{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        run
    }

    fn bin(&self) -> PathBuf {
        self.dir.join("bazel-bin")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = self.bazel(&["shutdown"]);
    }
}

fn temp_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bazel_rules")
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).expect("create directory");
    for entry in fs::read_dir(src).expect("read test workspace") {
        let entry = entry.expect("directory entry");
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            continue; // bazel-* convenience links of a run in place
        }
        if kind.is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).expect("copy file");
        }
    }
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

/// The processes Bazel ran that were not internal, from its `INFO: N processes: ...` line
/// (`1 internal, 18 linux-sandbox`); `0 processes.` counts as none.
fn spawned_processes(stderr: &str) -> usize {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("INFO:") && (l.contains(" processes") || l.contains(" process")))
        .unwrap_or_else(|| panic!("no process summary in Bazel's output:\n{stderr}"));
    let Some((_, kinds)) = line
        .split_once(':')
        .and_then(|(_, rest)| rest.split_once(':'))
    else {
        return 0; // "INFO: 0 processes."
    };
    kinds
        .trim_end_matches('.')
        .split(',')
        .map(str::trim)
        .filter(|kind| !kind.ends_with(" internal"))
        .map(|kind| {
            kind.split_whitespace()
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("unreadable process summary: {line}"))
        })
        .sum()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn two_recipes_build_stage_sysroots_rebuild_nothing_and_share_a_cache() {
    let ws = Workspace::copy_of("two_recipes", "first");
    let disk_cache = temp_root().join("disk-cache");
    if disk_cache.exists() {
        fs::remove_dir_all(&disk_cache).expect("remove the previous run's disk cache");
    }
    let disk_cache_flag = format!("--disk_cache={}", disk_cache.display());

    // Analysis: the server's start is in the first command's time.
    let analysis = ws.ok(&["build", "--nobuild", "//..."]);
    // A changed --define discards the analysis cache: analysis again, on a warm server.
    let analysis_again = ws.ok(&["build", "--nobuild", "--define=reanalyse=1", "//..."]);

    let build = ws.ok(&["build", &disk_cache_flag, "//..."]);
    let tasks = spawned_processes(&build.stderr);
    assert_eq!(
        tasks, 18,
        "6 tasks that run per recipe, 3 recipes:\n{}",
        build.stderr
    );

    // greet's do_compile saw hello's do_populate_sysroot in recipe-sysroot, and nothing
    // in recipe-sysroot-native: hello's build tool (stamper-native) is hello's alone.
    let greet_build = ws
        .bin()
        .join("recipes/greet/do_compile.delta/files/work/core2-64-poky-linux/greet/1.0/build");
    assert_eq!(
        read(&greet_build.join("sysroot-target.txt")),
        "./usr/include/hello.h\n./usr/lib/libhello.a\n"
    );
    assert_eq!(read(&greet_build.join("sysroot-native.txt")), "");
    let greet = read(&greet_build.join("greet"));
    assert!(
        greet.contains("printf(HELLO)"),
        "greet's do_patch applied: {greet}"
    );
    assert!(
        greet.contains("stamped by stamper 1.0: hello.h") && greet.contains("\"hello, world\""),
        "hello was built with the native tool from its native sysroot, after its own patch: {greet}"
    );

    // Deltas stay proportional to what a task changed: do_compile hands on its build
    // directory, not the unpacked sources it read.
    assert_eq!(
        files_under(&ws.bin().join("recipes/hello/do_compile.delta")),
        [
            "files/work/core2-64-poky-linux/hello/1.0/build/hello.h",
            "files/work/core2-64-poky-linux/hello/1.0/build/libhello.a",
            "meta",
        ]
    );
    // do_populate_sysroot's SYSROOT_DESTDIR is its sysroot component, not part of its delta.
    assert_eq!(
        files_under(&ws.bin().join("recipes/hello/do_populate_sysroot.sysroot")),
        [
            "files/usr/include/hello.h",
            "files/usr/lib/libhello.a",
            "meta"
        ]
    );
    assert_eq!(
        read(
            &ws.bin()
                .join("recipes/greet/do_prepare_recipe_sysroot.manifest")
        ),
        "target bazel-out/k8-fastbuild/bin/recipes/hello/do_populate_sysroot.sysroot\n"
    );
    for task in ["do_unpack", "do_compile", "do_populate_sysroot"] {
        let stamp = read(&ws.bin().join(format!("recipes/greet/{task}.stamp")));
        assert_eq!(
            stamp.trim().len(),
            64,
            "{task}'s stamp is a sha256: {stamp}"
        );
    }

    let noop = ws.ok(&["build", "//..."]);
    assert_eq!(
        spawned_processes(&noop.stderr),
        0,
        "a second build runs nothing:\n{}",
        noop.stderr
    );

    // A script edit that leaves do_compile's output as it was reruns do_compile only:
    // do_install's inputs (the deltas) are byte-identical, so its action key is too.
    let compile = ws.dir.join("recipes/greet/run.do_compile");
    let mut script = read(&compile);
    script.push_str("# a comment changes the script, not what it makes\n");
    fs::write(&compile, script).unwrap();
    let edited = ws.ok(&["build", "//..."]);
    assert_eq!(spawned_processes(&edited.stderr), 1, "{}", edited.stderr);

    // A changed source of the library reruns the library's chain (6 tasks) and the
    // program's tasks that stage its sysroot (configure, compile, install,
    // populate_sysroot), nothing of the native tool and not the program's unpack/patch.
    let header = ws.dir.join("recipes/hello/files/hello.h");
    fs::write(&header, "#define HELLO \"hello\"\n#define BYE \"bye\"\n").unwrap();
    let changed = ws.ok(&["build", "//..."]);
    assert_eq!(spawned_processes(&changed.stderr), 10, "{}", changed.stderr);
    assert!(read(&greet_build.join("greet")).contains("BYE"));

    let query = ws.ok(&[
        "query",
        "deps(//recipes/greet:do_build)",
        "--output=graph",
        "--nograph:factored",
    ]);
    for (from, to) in [
        ("greet:do_build", "greet:do_populate_sysroot"),
        ("greet:do_populate_sysroot", "greet:do_install"),
        ("greet:do_install", "greet:do_compile"),
        ("greet:do_compile", "greet:do_configure"),
        ("greet:do_configure", "greet:do_patch"),
        ("greet:do_configure", "greet:do_prepare_recipe_sysroot"),
        ("greet:do_patch", "greet:do_unpack"),
        ("greet:do_unpack", "greet:do_fetch"),
        (
            "greet:do_prepare_recipe_sysroot",
            "hello:do_populate_sysroot",
        ),
        (
            "hello:do_prepare_recipe_sysroot",
            "stamper-native:do_populate_sysroot",
        ),
    ] {
        let edge = format!("\"//recipes/{from}\" -> \"//recipes/{to}\"");
        assert!(
            query.stdout.contains(&edge),
            "missing {edge} in:\n{}",
            query.stdout
        );
    }
    assert!(
        !query.stdout.contains(
            "\"//recipes/greet:do_prepare_recipe_sysroot\" -> \"//recipes/stamper-native"
        ),
        "greet does not DEPEND on stamper-native:\n{}",
        query.stdout
    );

    let analysis_tests = ws.ok(&["test", "//analysis:all"]);
    assert!(
        analysis_tests.stdout.contains("9 tests pass")
            || analysis_tests.stderr.contains("9 tests pass"),
        "{}\n{}",
        analysis_tests.stdout,
        analysis_tests.stderr
    );

    drop(ws);

    // Nothing of the machine is in an action key: a copy of the workspace at another
    // path, with its own output base, takes every task from the first one's cache.
    let elsewhere = Workspace::copy_of("two_recipes", "second-copy");
    let cached = elsewhere.ok(&["build", &disk_cache_flag, "//..."]);
    let summary = cached
        .stderr
        .lines()
        .find(|l| l.contains(" processes:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        summary.contains("18 remote cache hit") && !summary.contains("sandbox"),
        "{}",
        cached.stderr
    );

    println!(
        "bazel: analysis {:.2?} (cold server) / {:.2?} (warm server), build {:.2?}, \
         no-op rebuild {:.2?}, one-script rebuild {:.2?}, library source change {:.2?}, \
         analysis tests {:.2?}, build from another copy's cache {:.2?}",
        analysis.wall,
        analysis_again.wall,
        build.wall,
        noop.wall,
        edited.wall,
        changed.wall,
        analysis_tests.wall,
        cached.wall
    );
}

/// The same workspace built through the real helper (`bitzel-sandbox`, this crate's
/// binary) instead of the test double: every script really runs in its namespaces, inside
/// Bazel's linux-sandbox, and the double's expectations still hold.
#[test]
fn two_recipes_build_with_the_real_helper() {
    let ws = Workspace::copy_of("two_recipes", "real-helper");
    let helper = format!(
        "--repo_env=BITZEL_SANDBOX={}",
        env!("CARGO_BIN_EXE_bitzel-sandbox")
    );
    // Analysis first, so that the build's time is the tasks' (as in the test above).
    ws.ok(&["build", "--nobuild", &helper, "//..."]);
    let build = ws.ok(&["build", &helper, "//..."]);
    assert_eq!(spawned_processes(&build.stderr), 18, "{}", build.stderr);
    assert!(build.stderr.contains("linux-sandbox"), "{}", build.stderr);

    let greet_build = ws
        .bin()
        .join("recipes/greet/do_compile.delta/files/work/core2-64-poky-linux/greet/1.0/build");
    assert_eq!(
        read(&greet_build.join("sysroot-target.txt")),
        "./usr/include/hello.h\n./usr/lib/libhello.a\n"
    );
    assert_eq!(read(&greet_build.join("sysroot-native.txt")), "");
    let greet = read(&greet_build.join("greet"));
    assert!(greet.contains("printf(HELLO)"), "{greet}");
    assert!(
        greet.contains("stamped by stamper 1.0: hello.h") && greet.contains("\"hello, world\""),
        "{greet}"
    );
    assert_eq!(
        files_under(&ws.bin().join("recipes/hello/do_compile.delta")),
        [
            "files/work/core2-64-poky-linux/hello/1.0/build/hello.h",
            "files/work/core2-64-poky-linux/hello/1.0/build/libhello.a",
            "meta",
        ]
    );
    assert_eq!(
        files_under(&ws.bin().join("recipes/hello/do_populate_sysroot.sysroot")),
        [
            "files/usr/include/hello.h",
            "files/usr/lib/libhello.a",
            "meta"
        ]
    );
    // do_install is [fakeroot]: its database travels in the delta, keyed by path.
    let db = read(&ws.bin().join(
        "recipes/hello/do_install.delta/files/work/core2-64-poky-linux/hello/1.0/fakeroot.db",
    ));
    assert!(!db.contains("ino="), "{db}");

    let noop = ws.ok(&["build", &helper, "//..."]);
    assert_eq!(spawned_processes(&noop.stderr), 0, "{}", noop.stderr);
    println!(
        "bazel with the real helper: build {:.2?} (18 tasks), no-op rebuild {:.2?}",
        build.wall, noop.wall
    );
}
