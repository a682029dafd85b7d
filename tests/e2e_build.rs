//! The demo world (`examples/`) really built with Bazel: every task of
//! `//recipes/...` runs in the sandbox helper (`bitzel-sandbox`) inside Bazel's
//! linux-sandbox, compiling with the host's C compiler.
//!
//! One Bazel server and output base serve the cases that follow each other: the build
//! (the program runs and prints through the library, fakeroot's owners are recorded),
//! the no-op rebuild (0 actions), a change to one source file of the library (exactly the
//! tasks that BitBake's graph puts after it rerun), the tasks that try to leave their
//! sandbox (refused with a clear message, nothing written outside). Then a second output
//! base, in a copy of the workspace elsewhere, fills from a real HTTP cache server (nginx
//! with WebDAV, Debian's) started on loopback by the test, with no task executed.
//!
//! Bazel and nginx are required: without them this test fails (`make test` installs
//! Debian's bazel-bootstrap 4.2.3 and nginx). The workspace is `bitzel gen`'s, from a copy
//! of examples/ beside it.

use std::collections::BTreeSet;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

/// A demo tree: a copy of examples/ and the workspace beside it (`ws/` reaches the
/// layer as `../examples/meta-demo`), with its own Bazel output user root.
struct Demo {
    root: PathBuf,
    ws: PathBuf,
}

/// What one Bazel command printed.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    wall: Duration,
}

impl Demo {
    /// A fresh demo tree named `name` under the test's temporary directory.
    fn new(name: &str) -> Demo {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("e2e_build")
            .join(name);
        let demo = Demo {
            ws: root.join("ws"),
            root,
        };
        if demo.root.exists() {
            // A previous run's server may still own it.
            demo.bazel(&["shutdown"]);
            make_writable(&demo.root);
            fs::remove_dir_all(&demo.root).expect("remove the previous run's directory");
        }
        copy_tree(&repo().join("examples"), &demo.root.join("examples"));
        demo.generate();
        demo
    }

    /// Writes (or refreshes, after the layers changed) the workspace of the examples'
    /// build directory with `bitzel gen`, and points it at this build's helper.
    fn generate(&self) {
        let out = Command::new(env!("CARGO_BIN_EXE_bitzel"))
            .arg("gen")
            .arg("--build-dir")
            .arg(self.root.join("examples/build"))
            .arg("--bitbake-lib")
            .arg(bitbake_lib())
            .arg("--out")
            .arg(&self.ws)
            .output()
            .expect("bitzel gen runs");
        assert!(
            out.status.success(),
            "bitzel gen:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        fs::write(
            self.ws.join("user.bazelrc"),
            format!(
                "build --repo_env=BITZEL_SANDBOX={}\n",
                env!("CARGO_BIN_EXE_bitzel-sandbox")
            ),
        )
        .unwrap();
    }

    /// Runs `bazel <args>` in the workspace with the checkout's rules_bitbake and helper.
    fn bazel(&self, args: &[&str]) -> Run {
        let mut command = bazel_command(&self.root.join("bazel"));
        command.args(args);
        if args.first().is_some_and(|v| *v != "shutdown") {
            command
                .arg(format!(
                    "--override_repository=rules_bitbake={}",
                    repo().display()
                ))
                .arg(format!(
                    "--repo_env=BITZEL_SANDBOX={}",
                    env!("CARGO_BIN_EXE_bitzel-sandbox")
                ));
        }
        if !self.ws.exists() {
            return Run {
                ok: true,
                stdout: String::new(),
                stderr: String::new(),
                wall: Duration::ZERO,
            };
        }
        let start = Instant::now();
        let output = command.current_dir(&self.ws).output().unwrap_or_else(|e| {
            panic!(
                "bazel cannot be run ({e}): this test needs Bazel; `make test` installs \
                     Debian's bazel-bootstrap (apt-get install -y bazel-bootstrap)"
            )
        });
        Run {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            wall: start.elapsed(),
        }
    }

    /// Runs `bazel <args>` and fails the test, with Bazel's output, if it fails.
    fn ok(&self, args: &[&str]) -> Run {
        let run = self.bazel(args);
        assert!(
            run.ok,
            "bazel {} failed:\n{}\n{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        run
    }

    /// A file of the recipe's task outputs in bazel-bin.
    fn out(&self, recipe: &str, rest: &str) -> PathBuf {
        self.ws.join("bazel-bin/recipes").join(recipe).join(rest)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.bazel(&["shutdown"]);
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.expect("readable tree");
        let rel = entry.path().strip_prefix(src).unwrap();
        let to = dst.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&to).unwrap();
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// Bazel leaves read-only directories in its output base.
fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.file_type().is_dir() {
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o755));
        }
    }
}

/// The actions Bazel ran (not taken from a cache), from its execution log, as
/// `recipe:task` (their progress messages are `BitBake <recipe>:<task>`), and how many
/// spawns it recorded in all.
fn executed(log: &Path) -> (BTreeSet<String>, usize) {
    let text = fs::read_to_string(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let mut ran = BTreeSet::new();
    let mut spawns = 0;
    let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
    while let Some(Ok(spawn)) = stream.next() {
        spawns += 1;
        if spawn["remoteCacheHit"].as_bool() == Some(true) {
            continue;
        }
        let message = spawn["progressMessage"].as_str().unwrap_or_default();
        ran.insert(message.trim_start_matches("BitBake ").to_string());
    }
    (ran, spawns)
}

/// A build with an execution log; returns what ran.
fn build(demo: &Demo, name: &str, extra: &[&str]) -> (Run, BTreeSet<String>, usize) {
    let log = demo.root.join(format!("{name}.exec.json"));
    let flag = format!("--execution_log_json_file={}", log.display());
    let mut args = vec!["build", flag.as_str()];
    args.extend_from_slice(extra);
    args.push("//recipes/...");
    let run = demo.ok(&args);
    let (ran, spawns) = executed(&log);
    (run, ran, spawns)
}

/// What real BitBake says of the demo (through the oracle): the task graph of
/// `bitbake -g greet` as edges `recipe:task -> recipe:task`, and greet's variables
/// (`bitbake -e greet`).
struct BitBake {
    graph: Vec<(String, String)>,
    greet: std::collections::BTreeMap<String, String>,
}

impl BitBake {
    /// A variable of greet's `bitbake -e`, its value unquoted.
    fn var(&self, name: &str) -> String {
        let line = self
            .greet
            .get(name)
            .unwrap_or_else(|| panic!("bitbake -e greet has no {name}"));
        let value = line.split_once("=\"").map_or("", |(_, v)| v);
        value.strip_suffix('"').unwrap_or(value).to_string()
    }

    /// A path variable of greet relative to TMPDIR, as the virtual layout places it.
    fn in_tmpdir(&self, name: &str) -> String {
        let tmpdir = format!("{}/", self.var("TMPDIR"));
        self.var(name)
            .strip_prefix(&tmpdir)
            .unwrap_or_else(|| panic!("{name} is not under TMPDIR"))
            .to_string()
    }
}

fn bitbake() -> BitBake {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e_build/oracle");
    if scratch.exists() {
        fs::remove_dir_all(&scratch).unwrap();
    }
    let template = scratch.join("template/conf");
    fs::create_dir_all(&template).unwrap();
    for name in ["bblayers.conf", "local.conf"] {
        let text = fs::read_to_string(repo().join("examples/build/conf").join(name)).unwrap();
        // The oracle copies the build directory: the layers by its placeholder.
        fs::write(
            template.join(name),
            text.replace("${TOPDIR}/..", "@LAYERS@"),
        )
        .unwrap();
    }
    let output = Command::new(python())
        .arg(repo().join("tests/oracle/bitbake_oracle.py"))
        .arg("--layers")
        .arg(repo().join("examples"))
        .arg("--outdir")
        .arg(scratch.join("out"))
        .arg(scratch.join("template"))
        .args(["--", "-g", "greet", "--", "-e", "greet"])
        .output()
        .expect("the BitBake oracle runs");
    assert!(
        output.status.success(),
        "bitbake -g greet, -e greet:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dot = fs::read_to_string(scratch.join("out/1/task-depends.dot")).unwrap();
    let graph = dot
        .lines()
        .filter_map(|l| {
            let (from, to) = l.trim().split_once(" -> ")?;
            let name = |s: &str| s.trim_matches('"').replacen(".do_", ":do_", 1);
            Some((name(from), name(to)))
        })
        .collect();
    let greet = parse_env(&fs::read_to_string(scratch.join("out/2/stdout")).unwrap());
    BitBake { graph, greet }
}

/// Every task that depends, directly or not, on `task` in BitBake's graph, and itself.
fn dependents(graph: &[(String, String)], task: &str) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = [task.to_string()].into();
    loop {
        let more: Vec<String> = graph
            .iter()
            .filter(|(from, to)| found.contains(to) && !found.contains(from))
            .map(|(from, _)| from.clone())
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

/// nginx serving a WebDAV directory on a loopback port: Bazel's HTTP remote cache
/// (`--remote_cache=http://…`, GET and PUT of /ac/ and /cas/ entries).
struct CacheServer {
    child: Child,
    port: u16,
}

impl CacheServer {
    fn start(dir: &Path) -> CacheServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let store = dir.join("store");
        fs::create_dir_all(&store).unwrap();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log {d}/access.log;\n  \
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
             scgi_temp_path {d}/scgi;\n  server {{\n    listen 127.0.0.1:{port};\n    \
             root {d}/store;\n    client_max_body_size 0;\n    location / {{\n      \
             dav_methods PUT;\n      create_full_put_path on;\n    }}\n  }}\n}}\n"
        );
        fs::write(dir.join("nginx.conf"), conf).unwrap();
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|p| Command::new(p).arg("-v").output().is_ok())
            .unwrap_or_else(|| {
                panic!("nginx cannot be run: `make test` installs it (apt-get install -y nginx)")
            });
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on port {port}: {}",
                fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        CacheServer { child, port }
    }

    fn flag(&self) -> String {
        format!("--remote_cache=http://127.0.0.1:{}", self.port)
    }
}

impl Drop for CacheServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs a program the build made and returns what it printed.
fn run_program(path: &Path) -> String {
    let output = Command::new(path)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(output.status.success(), "{}", path.display());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The fakeroot database line of `path` (relative to TMPDIR).
fn fakeroot_entry(db: &str, path: &str) -> String {
    db.lines()
        .find_map(|l| l.strip_prefix(path).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{path} not in the fakeroot database:\n{db}"))
        .to_string()
}

#[test]
fn the_demo_builds_rebuilds_what_changed_shares_a_cache_and_refuses_escapes() {
    let cache_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e_build/cache");
    if cache_dir.exists() {
        fs::remove_dir_all(&cache_dir).unwrap();
    }
    let cache = CacheServer::start(&cache_dir);
    let demo = Demo::new("first");

    // The build: every task that runs is one action (noexec tasks and
    // do_prepare_recipe_sysroot are none), each run by the helper.
    let (first, all_tasks, _) = build(&demo, "build", &[&cache.flag()]);
    assert!(first.stderr.contains("linux-sandbox"), "{}", first.stderr);
    let recipes = ["greet", "libgreet", "mkgreeting", "mkgreeting-native"];
    for recipe in recipes {
        for task in [
            "do_unpack",
            "do_patch",
            "do_configure",
            "do_compile",
            "do_install",
            "do_populate_sysroot",
        ] {
            assert!(
                all_tasks.contains(&format!("{recipe}:{task}")),
                "{recipe}:{task} did not run: {all_tasks:?}"
            );
        }
    }
    assert_eq!(all_tasks.len(), 24, "{all_tasks:?}");

    // The program, linked against libgreet from its sysroot, prints the library's
    // greeting (made by mkgreeting-native from greeting.txt, then patched) and the
    // bbappend's GREET_WHO.
    let bitbake = bitbake();
    let image = bitbake.in_tmpdir("D");
    let workdir = bitbake.in_tmpdir("WORKDIR");
    let who = bitbake.var("GREET_WHO");
    let greet_bin = demo.out(
        "greet",
        &format!("do_install.delta/files/{image}/usr/bin/greet"),
    );
    let greeting = read(
        &demo
            .root
            .join("examples/meta-demo/recipes-demo/libgreet/files/greeting.txt"),
    );
    assert_eq!(
        run_program(&greet_bin),
        format!("{}, {who}!\n", greeting.trim())
    );
    // The library's sysroot component is what its SYSROOT_DIRS select of ${D}.
    let component = demo.out("libgreet", "do_populate_sysroot.sysroot/files");
    assert_eq!(
        read(&component.join("usr/include/greet.h")),
        read(
            &demo
                .root
                .join("examples/meta-demo/recipes-demo/libgreet/files/greet.h")
        )
    );
    assert!(component.join("usr/lib/libgreet.a").is_file());
    // Modes travel in meta (Bazel's outputs are all r-x): the header and the archive
    // were installed 0644 and have no M line, the native tool 0755 has one.
    let libgreet_meta = read(&demo.out("libgreet", "do_populate_sysroot.sysroot/meta"));
    assert!(!libgreet_meta.contains("M usr/"), "{libgreet_meta}");
    assert!(
        read(&demo.out("mkgreeting-native", "do_populate_sysroot.sysroot/meta"))
            .lines()
            .any(|l| l == "M usr/bin/mkgreeting 0755")
    );
    // The native tool went to the native sysroot of libgreet only.
    assert!(demo
        .out(
            "mkgreeting-native",
            "do_populate_sysroot.sysroot/files/usr/bin/mkgreeting"
        )
        .is_file());
    assert!(!demo
        .out("mkgreeting", "do_populate_sysroot.sysroot/files/usr/bin")
        .exists());
    // fakeroot's owners: recorded in the database that travels in the delta, by path.
    let db = read(&demo.out(
        "greet",
        &format!("do_install.delta/files/{workdir}/fakeroot.db"),
    ));
    assert!(
        fakeroot_entry(&db, &format!("{image}/usr/bin/greet")).contains("uid=0,gid=0"),
        "{db}"
    );
    assert!(
        fakeroot_entry(&db, &format!("{image}/var/lib/greet")).contains("uid=42,gid=42"),
        "{db}"
    );
    // The empty directory is in the delta's meta, not lost in the tree artifact.
    assert!(read(&demo.out("greet", "do_install.delta/meta"))
        .lines()
        .any(|l| l == format!("E {image}/var/lib/greet")));

    // A second build executes nothing.
    let (noop, ran, _) = build(&demo, "noop", &[]);
    assert!(
        ran.is_empty(),
        "a no-op build ran {ran:?}:\n{}",
        noop.stderr
    );

    // One source file of the library changes: what reruns is what BitBake's graph puts
    // after libgreet's do_unpack (the first task that reads it), among the tasks that
    // are actions; nothing of the native tool, not greet's unpack or patch.
    let expected: BTreeSet<String> = dependents(&bitbake.graph, "libgreet:do_unpack")
        .intersection(&all_tasks)
        .cloned()
        .collect();
    fs::write(
        demo.root
            .join("examples/meta-demo/recipes-demo/libgreet/files/greeting.txt"),
        "Howdy\n",
    )
    .unwrap();
    demo.generate();
    let (changed, ran, _) = build(&demo, "changed", &[]);
    assert_eq!(ran, expected, "{}", changed.stderr);
    assert_eq!(run_program(&greet_bin), format!("Howdy, {who}!\n"));

    // Tasks that try to leave their sandbox fail, each with a clear message.
    let hostile = demo.ws.join("hostile");
    copy_tree(&repo().join("tests/data/e2e/hostile"), &hostile);
    let network = hostile.join("run.network");
    let script = read(&network).replace("HOSTILE_PORT", &cache.port.to_string());
    fs::write(&network, script).unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg("mkdir -p evil && ln -s ../../../../../../../../../tmp evil/up && tar cf evil.tar evil && rm -r evil")
        .current_dir(&hostile)
        .status()
        .expect("tar runs");
    assert!(status.success());
    let refused = demo.bazel(&["build", "--keep_going", "//hostile:all"]);
    assert!(!refused.ok, "{}", refused.stderr);
    for (target, message) in [
        ("unpack_subdir_escape", "leaves its tree"),
        (
            "unpack_absolute_subdir",
            "isn't a subdirectory of the unpack root",
        ),
        ("patchdir_escape", "leaves its tree"),
        ("unpack_link_escape", "leads outside its tree"),
        ("patch_escape", "Ignoring potentially dangerous file name"),
        ("link_escape", "leads outside its tree"),
        ("write_outside", "Read-only file system"),
        ("network", "Network is unreachable"),
        ("do_package", "not supported yet: hostile do_package"),
    ] {
        // Bazel's report of the target's failure, up to the next one.
        let report = refused
            .stderr
            .split("ERROR: ")
            .find(|r| r.contains(&format!("BitBake hostile:{target} failed")))
            .unwrap_or_else(|| panic!("//hostile:{target} did not fail:\n{}", refused.stderr));
        assert!(
            report.contains(message),
            "//hostile:{target} should fail with {message:?}:\n{report}"
        );
    }
    assert!(
        refused.stderr.contains("the whole log is"),
        "{}",
        refused.stderr
    );
    for escaped in ["escaped-by-patch", "escaped-by-task"] {
        let found: Vec<PathBuf> = walkdir::WalkDir::new(&demo.root)
            .into_iter()
            .flatten()
            .filter(|e| e.file_name() == escaped)
            .map(|e| e.path().to_path_buf())
            .collect();
        assert!(found.is_empty(), "written outside: {found:?}");
        assert!(!Path::new("/").join(escaped).exists());
        assert!(!Path::new("/usr").join(escaped).exists());
    }
    drop(demo);

    // Another copy elsewhere, with its own output base, fills from the cache server:
    // every task a remote cache hit, nothing executed.
    let second = Demo::new("second");
    let (cached, ran, spawns) = build(&second, "cached", &[&cache.flag()]);
    assert_eq!(spawns, 24, "{}", cached.stderr);
    assert!(
        ran.is_empty(),
        "ran {ran:?} instead of taking them from the cache"
    );
    assert!(
        cached.stderr.contains("24 remote cache hit") && !cached.stderr.contains("linux-sandbox"),
        "{}",
        cached.stderr
    );
    println!(
        "e2e: build {:.2?} (24 tasks), no-op {:.2?}, one library source {:.2?} ({} tasks), \
         from the HTTP cache {:.2?}",
        first.wall,
        noop.wall,
        changed.wall,
        expected.len(),
        cached.wall
    );
}
