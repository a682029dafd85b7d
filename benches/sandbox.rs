//! The sandbox helper's overhead per task: a trivial task (`true`) through
//! `bitzel-sandbox run` (namespaces, root, layering, delta, stamp) against the same
//! script run directly with `sh -e`, and a task that continues a work directory of
//! 2000 files (the cost of layering and of finding what changed).
//!
//! Then, with real Bazel (Debian's bazel-bootstrap 4.2.3), the same comparison where it
//! matters: N trivial tasks through `bitbake_task` (Bazel's linux-sandbox, then the
//! helper inside it) against N trivial genrules (linux-sandbox and bash only), built in
//! the same run and server, so that the helper's share of a sandboxed action's cost is
//! measured against Bazel's own; and the no-op rebuild of the demo (examples/, the
//! workspace `bitzel gen` writes for it).
//!
//! `cargo bench --bench sandbox` prints all of it; it builds the helper in release mode.
//! `cargo test --all-targets` runs the helper part once, small, as a smoke test, and
//! leaves Bazel out.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// CPU time (user + system) of the waited-for children so far: on a shared machine
/// this stays put when wall time does not.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the zeroed struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn time(runs: u32, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed() / runs
}

fn helper(dir: &Path, extra: &[&str]) {
    helper_with_scratch(dir, extra, &std::env::temp_dir());
}

fn helper_with_scratch(dir: &Path, extra: &[&str], scratch: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_bitzel-sandbox"))
        .env("TMPDIR", scratch)
        .args([
            "run",
            "--task",
            "do_x",
            "--pn",
            "bench",
            "--workdir",
            "work/bench/1.0",
            "--script",
            "s.sh",
        ])
        .args(extra)
        .args(["--delta-out", "d", "--stamp-out", "s", "--log-out", "l"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this once as a smoke test.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (runs, files) = if benchmarking { (50, 2000) } else { (1, 20) };
    let dir = std::env::temp_dir().join(format!("bitzel-sandbox-bench-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("s.sh"), "true\n").unwrap();

    let direct = time(runs, || {
        assert!(Command::new("/bin/sh")
            .args(["-e", "s.sh"])
            .current_dir(&dir)
            .status()
            .unwrap()
            .success());
    });
    let cpu_before = children_cpu();
    let sandboxed = time(runs, || helper(&dir, &[]));
    let sandboxed_cpu = (children_cpu() - cpu_before) / (runs + 1);

    // A work directory of small files, as one predecessor's delta.
    let state = dir.join("state");
    for i in 0..files {
        let f = state.join(format!("files/work/bench/1.0/src/d{}/f{i}.c", i % 40));
        fs::create_dir_all(f.parent().unwrap()).unwrap();
        fs::write(f, format!("int f{i};\n")).unwrap();
    }
    fs::write(state.join("meta"), "").unwrap();
    let layered = time(runs.div_ceil(5), || helper(&dir, &["--state-in", "state"]));
    let shm = Path::new("/dev/shm");
    let layered_shm = shm.is_dir().then(|| {
        time(runs.div_ceil(5), || {
            helper_with_scratch(&dir, &["--state-in", "state"], shm)
        })
    });

    println!("trivial task, sh -e directly:          {direct:>10.2?}");
    println!("trivial task, through bitzel-sandbox:  {sandboxed:>10.2?} ({sandboxed_cpu:.2?} CPU)");
    println!(
        "same, continuing {files} files of state:  {layered:>10.2?} (scratch in {})",
        std::env::temp_dir().display()
    );
    if let Some(t) = layered_shm {
        println!("same, scratch on tmpfs (/dev/shm):      {t:>10.2?}");
    }
    fs::remove_dir_all(&dir).unwrap();
    if benchmarking {
        bazel_figures();
    }
}

/// A Bazel workspace with a private output user root, for the Bazel figures.
struct Bazel {
    ws: PathBuf,
    root: PathBuf,
}

impl Bazel {
    fn run(&self, args: &[&str]) -> Duration {
        let mut command = Command::new("bazel");
        command.arg("--nosystem_rc").arg("--nohome_rc").arg(format!(
            "--output_user_root={}",
            self.root.join("out").display()
        ));
        if Path::new("/usr/share/bazel/A-server.jar").exists() {
            command
                .arg("--install_base=/usr/share/bazel")
                .arg("--trust_install_base");
        }
        command.args(args);
        if args.first().is_some_and(|a| *a == "build") {
            command
                .arg(format!(
                    "--override_repository=rules_bitbake={}",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .arg(format!(
                    "--repo_env=BITZEL_SANDBOX={}",
                    env!("CARGO_BIN_EXE_bitzel-sandbox")
                ));
        }
        let start = Instant::now();
        let out = command
            .current_dir(&self.ws)
            .output()
            .expect("bazel runs (Debian's bazel-bootstrap; `make test` installs it)");
        let wall = start.elapsed();
        assert!(
            out.status.success(),
            "bazel {}:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        wall
    }
}

impl Drop for Bazel {
    fn drop(&mut self) {
        let _ = self.run(&["shutdown"]);
        let _ = Command::new("chmod")
            .args(["-R", "u+w"])
            .arg(&self.root)
            .status();
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    let status = Command::new("cp")
        .arg("-R")
        .arg(src)
        .arg(dst)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Where BitBake's `bb` is, for `bitzel gen`: the oracle Python's (BITZEL_PYTHON, which
/// `make test` sets), else python3's.
fn bitbake_lib() -> PathBuf {
    let python = std::env::var("BITZEL_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args([
            "-c",
            "import os, sys, types\n\
             sys.modules.setdefault('hashserv', types.ModuleType('hashserv'))\n\
             import bb\nprint(os.path.dirname(os.path.dirname(bb.__file__)))",
        ])
        .output()
        .expect("the oracle Python runs (set BITZEL_PYTHON)");
    assert!(out.status.success(), "{python} cannot import bb");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Per-action cost of a trivial task through the helper against a trivial genrule, both
/// in Bazel's linux-sandbox, and the demo's no-op rebuild.
fn bazel_figures() {
    const N: usize = 40;
    const REPS: usize = 3;
    let root = std::env::temp_dir().join(format!("bitzel-bazel-bench-{}", std::process::id()));
    let ws = root.join("ws");
    fs::create_dir_all(&ws).unwrap();
    fs::write(
        ws.join("WORKSPACE"),
        "workspace(name = \"bench\")\n\
         local_repository(name = \"rules_bitbake\", path = \"/nonexistent\")\n\
         load(\"@rules_bitbake//rules_bitbake:defs.bzl\", \"bitzel_sandbox_repository\")\n\
         bitzel_sandbox_repository(name = \"bitzel_sandbox\")\n",
    )
    .unwrap();
    let mut build =
        String::from("load(\"@rules_bitbake//rules_bitbake:defs.bzl\", \"bitbake_task\")\n");
    for i in 0..N {
        fs::write(ws.join(format!("s{i}.sh")), format!("echo {i}\n")).unwrap();
        build.push_str(&format!(
            "bitbake_task(name = \"t{i}\", script = \"s{i}.sh\", workdir = \"work/b/{i}\")\n\
             genrule(name = \"g{i}\", srcs = [\"s{i}.sh\"], outs = [\"g{i}.out\"], cmd = \"sh -e $< > $@\")\n"
        ));
    }
    let list = |p: &str| {
        (0..N)
            .map(|i| format!("\":{p}{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    build.push_str(&format!(
        "filegroup(name = \"tasks\", srcs = [{}])\nfilegroup(name = \"genrules\", srcs = [{}])\n",
        list("t"),
        list("g")
    ));
    fs::write(ws.join("BUILD.bazel"), build).unwrap();
    let bazel = Bazel {
        ws,
        root: root.clone(),
    };
    let best = |target: &str| {
        (0..REPS)
            .map(|_| {
                bazel.run(&["clean"]);
                bazel.run(&["build", "--nobuild", target]);
                bazel.run(&["build", target])
            })
            .min()
            .unwrap()
            / N as u32
    };
    let genrule = best("//:genrules");
    let task = best("//:tasks");
    drop(bazel);

    // The demo: built once, then rebuilt with nothing changed.
    let demo_root = std::env::temp_dir().join(format!("bitzel-demo-bench-{}", std::process::id()));
    fs::create_dir_all(&demo_root).unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_tree(&manifest.join("examples"), &demo_root.join("examples"));
    let out = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("gen")
        .arg("--build-dir")
        .arg(demo_root.join("examples/build"))
        .arg("--bitbake-lib")
        .arg(bitbake_lib())
        .arg("--out")
        .arg(demo_root.join("ws"))
        .output()
        .expect("bitzel gen runs");
    assert!(
        out.status.success(),
        "bitzel gen:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let demo = Bazel {
        ws: demo_root.join("ws"),
        root: demo_root,
    };
    let full = demo.run(&["build", "//recipes/..."]);
    let noop = (0..5)
        .map(|_| demo.run(&["build", "//recipes/..."]))
        .min()
        .unwrap();

    println!("bazel, trivial genrule per action ({N} actions, best of {REPS}): {genrule:>10.2?}");
    println!("bazel, trivial task through the helper, per action:       {task:>10.2?}");
    println!(
        "  the helper adds {:.2?} per action ({:.1}x the genrule's cost)",
        task.saturating_sub(genrule),
        task.as_secs_f64() / genrule.as_secs_f64()
    );
    println!("demo (24 tasks): full build {full:.2?}, no-op rebuild {noop:.2?} (best of 5)");
}
