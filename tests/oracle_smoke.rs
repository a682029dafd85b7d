//! The BitBake oracle (tests/oracle/bitbake_oracle.py) runs real BitBake on the minimal
//! fixture (tests/data/eval/minimal) and leaves what BitBake printed and wrote. Later
//! differential tests take their expected values from it, so these tests fail, never skip,
//! when it cannot run.
//!
//! BitBake comes from the Python in BITZEL_PYTHON (default `python3`, with PyPI's
//! bitbake-setup installed); when BITZEL_POKY names a Poky checkout, its BitBake is checked
//! too. One oracle call per BitBake runs all the commands in one server session.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("BITZEL_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// A fresh directory under cargo's scratch space for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("old scratch directory removed");
    }
    std::fs::create_dir_all(&dir).expect("scratch directory created");
    dir
}

#[derive(Clone, Copy)]
enum Bitbake {
    /// The `bb` package installed for BITZEL_PYTHON (PyPI's bitbake-setup).
    Installed,
    /// $BITZEL_POKY/bitbake.
    Poky,
}

/// `bitbake_oracle.py [--outdir OUTDIR] BUILDDIR -- ARGS` in `cwd`; panics unless it succeeds.
/// Returns (stdout, stderr).
fn oracle(bitbake: Bitbake, cwd: &Path, outdir: Option<&Path>, args: &[&str]) -> (String, String) {
    let mut command = Command::new(python());
    command
        .arg(repo().join("tests/oracle/bitbake_oracle.py"))
        .arg("--pycache")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracle-pycache"));
    if let Some(outdir) = outdir {
        command.arg("--outdir").arg(outdir);
    }
    command
        .arg(repo().join("tests/data/eval/minimal/build"))
        .arg("--")
        .args(args)
        .current_dir(cwd);
    if let Bitbake::Installed = bitbake {
        command.env_remove("BITZEL_POKY");
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!(
            "cannot start {} for the BitBake oracle: {e} (set BITZEL_PYTHON, or run `make test`)",
            python()
        )
    });
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
    assert!(
        output.status.success(),
        "the BitBake oracle failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

/// What one session of commands left: stdout of each command and the files it wrote.
struct Session {
    outdir: PathBuf,
    stderr: String,
}

impl Session {
    fn file(&self, command: usize, name: &str) -> String {
        let path = self.outdir.join(command.to_string()).join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}\n--- oracle stderr\n{}",
                path.display(),
                self.stderr
            )
        })
    }
}

const ENV_HELLO: usize = 1;
const ENV_LIBGREET_NATIVE: usize = 2;
const SHOW_VERSIONS: usize = 3;
const GRAPH: usize = 4;
const PARSE_ONLY: usize = 5;

fn session(bitbake: Bitbake) -> &'static Session {
    static INSTALLED: OnceLock<Session> = OnceLock::new();
    static POKY: OnceLock<Session> = OnceLock::new();
    let (cell, name) = match bitbake {
        Bitbake::Installed => (&INSTALLED, "oracle-smoke-installed"),
        Bitbake::Poky => (&POKY, "oracle-smoke-poky"),
    };
    cell.get_or_init(|| {
        let outdir = scratch(name);
        let (_, stderr) = oracle(
            bitbake,
            &outdir,
            Some(&outdir),
            &[
                "-e",
                "hello",
                "--",
                "-e",
                "libgreet-native",
                "--",
                "-s",
                "--",
                "-g",
                "hello",
                "--",
                "-p",
            ],
        );
        Session { outdir, stderr }
    })
}

/// The value of `NAME="..."` in `bitbake -e` output.
fn env_value<'a>(env: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}=\"");
    env.lines().find_map(|line| {
        let line = line.strip_prefix("export ").unwrap_or(line);
        line.strip_prefix(&prefix)?.strip_suffix('"')
    })
}

/// Rows of `bitbake -s`: recipe name, latest version, preferred version ("" if none).
fn show_versions(stdout: &str) -> Vec<(String, String, String)> {
    let table = stdout
        .split_once("===========")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no table in bitbake -s output:\n{stdout}"));
    table
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let word = |i: usize| words.get(i).copied().unwrap_or("").to_string();
            (word(0), word(1), word(2))
        })
        .collect()
}

fn check_env(s: &Session) {
    let env = s.file(ENV_HELLO, "stdout");
    assert_eq!(env_value(&env, "PN"), Some("hello"), "{env}");
    // From meta-extra's hello_%.bbappend.
    assert_eq!(env_value(&env, "HELLO_APPENDED"), Some("yes"), "{env}");
    let greeting = env_value(&env, "GREETING").expect("GREETING in bitbake -e hello");
    assert!(
        greeting.ends_with(" (appended by meta-extra)"),
        "{greeting}"
    );
    // The anonymous python function adds libgreet-native because local.conf sets HELLO_TOOLS.
    let depends: Vec<&str> = env_value(&env, "DEPENDS")
        .expect("DEPENDS")
        .split_whitespace()
        .collect();
    assert!(
        depends.contains(&"libgreet") && depends.contains(&"libgreet-native"),
        "{depends:?}"
    );

    // The native variant: BitBake renames PN, native.bbclass sets the class override, and
    // the target's PREFERRED_VERSION does not apply, so the newest version (2.0) is used.
    let native = s.file(ENV_LIBGREET_NATIVE, "stdout");
    assert_eq!(
        env_value(&native, "PN"),
        Some("libgreet-native"),
        "{native}"
    );
    assert_eq!(env_value(&native, "BPN"), Some("libgreet"), "{native}");
    assert_eq!(env_value(&native, "PV"), Some("2.0"), "{native}");
    // The inline ${@...} of libgreet.inc.
    assert_eq!(
        env_value(&native, "GREET_SONAME"),
        Some("libgreet.so.2"),
        "{native}"
    );
    let overrides = env_value(&native, "OVERRIDES").expect("OVERRIDES");
    assert!(
        overrides.split(':').any(|o| o == "class-native"),
        "{overrides}"
    );
}

fn check_show_versions(s: &Session) {
    let stdout = s.file(SHOW_VERSIONS, "stdout");
    let rows = show_versions(&stdout);
    let row = |pn: &str| {
        rows.iter()
            .find(|(name, _, _)| name == pn)
            .unwrap_or_else(|| panic!("{pn} missing from bitbake -s:\n{stdout}"))
    };
    row("hello");
    // PREFERRED_VERSION_libgreet = "1.0" against the newest, 2.0.
    let (_, latest, preferred) = row("libgreet");
    assert!(
        latest.ends_with(":2.0-r0") && preferred.ends_with(":1.0-r0"),
        "{stdout}"
    );
    row("libgreet-native");
}

fn check_graph(s: &Session) {
    let dot = s.file(GRAPH, "task-depends.dot");
    for edge in [
        // do_build[deptask] = "do_build" over DEPENDS.
        r#""hello.do_build" -> "libgreet.do_build""#,
        // The dependency the anonymous python function added.
        r#""hello.do_build" -> "libgreet-native.do_build""#,
        // do_compile[deptask] = "do_install".
        r#""hello.do_compile" -> "libgreet.do_install""#,
        // addtask install after do_compile.
        r#""hello.do_install" -> "hello.do_compile""#,
    ] {
        assert!(
            dot.lines().any(|line| line == edge),
            "no {edge} in task-depends.dot:\n{dot}"
        );
    }
    let buildlist = s.file(GRAPH, "pn-buildlist");
    let mut pns: Vec<&str> = buildlist.lines().collect();
    pns.sort();
    assert_eq!(pns, ["hello", "libgreet", "libgreet-native"], "{buildlist}");
}

fn check_parse_only(s: &Session) {
    let stdout = s.file(PARSE_ONLY, "stdout");
    assert!(
        stdout.contains("Parsing recipes") || stdout.contains("Loading cache"),
        "{stdout}"
    );
    assert!(!stdout.contains("ERROR"), "{stdout}");
}

/// "BitBake X.Y.Z (bb from DIR)" on stderr.
fn check_version(s: &Session, bitbake: Bitbake) {
    let line = s
        .stderr
        .lines()
        .find(|line| line.starts_with("bitbake-oracle: BitBake "))
        .unwrap_or_else(|| panic!("no BitBake version on stderr:\n{}", s.stderr));
    if let Bitbake::Poky = bitbake {
        let poky = std::env::var("BITZEL_POKY").expect("BITZEL_POKY");
        let poky = std::fs::canonicalize(poky).expect("BITZEL_POKY exists");
        assert!(line.contains(&*poky.to_string_lossy()), "{line}");
    }
}

fn check_all(bitbake: Bitbake) {
    let s = session(bitbake);
    check_version(s, bitbake);
    check_env(s);
    check_show_versions(s);
    check_graph(s);
    check_parse_only(s);
}

#[test]
fn installed_bitbake_answers_env_versions_graph_and_parse() {
    check_all(Bitbake::Installed);
}

#[test]
fn poky_bitbake_answers_env_versions_graph_and_parse() {
    if std::env::var_os("BITZEL_POKY").is_none() {
        eprintln!("BITZEL_POKY is not set: Poky's BitBake is not checked");
        return;
    }
    check_all(Bitbake::Poky);
}

/// One command: stdout is BitBake's own, and -g leaves its files in the current directory.
#[test]
fn a_single_graph_command_writes_its_files_to_the_current_directory() {
    let cwd = scratch("oracle-smoke-single");
    let (stdout, _) = oracle(Bitbake::Installed, &cwd, None, &["-g", "libgreet"]);
    assert!(stdout.contains("task-depends.dot"), "{stdout}");
    let dot = std::fs::read_to_string(cwd.join("task-depends.dot")).expect("task-depends.dot");
    assert!(
        dot.contains(r#""libgreet.do_build" -> "libgreet.do_install""#),
        "{dot}"
    );
    assert!(
        !dot.contains("hello."),
        "libgreet does not depend on hello:\n{dot}"
    );
    assert!(cwd.join("pn-buildlist").is_file());
}
