//! The configuration against real BitBake: `bitbake -e` without a recipe (the global
//! environment) on fixture build directories, compared variable by variable (and shell
//! function by shell function) with what bitzel computes for the same directory.
//!
//! The oracle (tests/oracle/bitbake_oracle.py) copies the fixture's build directory into
//! a fixed work directory (`--workdir`) and bitzel then reads that very copy, so paths
//! (TOPDIR, BBPATH, BBINCLUDED, FILE...) are the same on both sides and need no mapping.
//! bitzel's output is made by the code behind `bitzel env` and parsed by the same parser
//! as BitBake's.
//!
//! BitBake is Poky's (BITZEL_POKY) when set, else the `bb` installed for BITZEL_PYTHON
//! (default `python3`); bitzel's embedded Python imports the same `bb`. These tests fail,
//! never skip, when the oracle cannot run.

use bitzel::eval::config::{parse_configuration, ConfigOptions, PRESERVED_ENVVARS_EXPORTED};
use bitzel::eval::python::{PythonBridge, PythonConfig};
use bitzel::eval::Location;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("BITZEL_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn poky() -> Option<PathBuf> {
    std::env::var_os("BITZEL_POKY")
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
}

/// Where `bb` comes from: Poky's bitbake/lib, else the oracle Python's installed one.
fn bitbake_lib() -> PathBuf {
    if let Some(p) = poky() {
        return p.join("bitbake/lib");
    }
    let out = Command::new(python())
        .args([
            "-c",
            "import os, sys, types\n\
             sys.modules.setdefault('hashserv', types.ModuleType('hashserv'))\n\
             import bb\nprint(os.path.dirname(os.path.dirname(bb.__file__)))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (set BITZEL_PYTHON): {e}", python()));
    assert!(
        out.status.success(),
        "{} cannot import BitBake's bb (pip install bitbake-setup): {}",
        python(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn bridge() -> &'static Arc<PythonBridge> {
    static BRIDGE: OnceLock<Arc<PythonBridge>> = OnceLock::new();
    BRIDGE.get_or_init(|| {
        Arc::new(
            PythonBridge::start(&PythonConfig {
                python_path: vec![bitbake_lib()],
            })
            .unwrap_or_else(|e| panic!("the Python bridge does not start: {e}")),
        )
    })
}

/// What the oracle left for one case: BitBake's stdout, its exit status, and the build
/// directory it ran in.
struct OracleRun {
    stdout: String,
    stderr: String,
    success: bool,
    build_dir: PathBuf,
}

/// Runs `bitbake -e` (no target) on tests/data/eval/<case>/build in a fixed work
/// directory.
fn oracle(case: &str) -> OracleRun {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("eval-config-{case}"));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).expect("old scratch directory removed");
    }
    std::fs::create_dir_all(&scratch).expect("scratch directory created");
    let workdir = scratch.join("wd");
    let output = Command::new(python())
        .arg(repo().join("tests/oracle/bitbake_oracle.py"))
        .arg("--pycache")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracle-pycache"))
        .arg("--workdir")
        .arg(&workdir)
        .arg(repo().join("tests/data/eval").join(case).join("build"))
        .arg("--")
        .arg("-e")
        .current_dir(&scratch)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} for the BitBake oracle: {e} (set BITZEL_PYTHON, or run `make test`)",
                python()
            )
        });
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
    assert!(
        stderr.contains("bitbake-oracle: BitBake "),
        "the oracle did not run BitBake:\n{stderr}"
    );
    OracleRun {
        stdout,
        stderr,
        success: output.status.success(),
        build_dir: workdir.join("build"),
    }
}

/// Which BitBake the oracle ran ("2.8.1", "2.19.0").
fn oracle_version(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("bitbake-oracle: BitBake "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_string()
}

/// What `bitzel env --build-dir DIR` prints, with an empty environment.
fn bitzel_env(build_dir: &Path) -> (String, bitzel::eval::config::Configuration) {
    let options = ConfigOptions {
        build_dir: build_dir.to_path_buf(),
        env: Vec::new(),
        multiconfig: None,
    };
    let config = parse_configuration(&options, Some(bridge()));
    let mut store = config.recipe_store(Some(bridge()));
    store
        .expand_keys(&Location::new("showEnvironment", 0))
        .expect("expandKeys");
    bridge()
        .run_anonymous(&mut store)
        .expect("anonymous functions run");
    let mut out = Vec::new();
    bitzel::eval::dump::show_environment(&store, &mut out).expect("printed");
    (String::from_utf8(out).expect("utf-8"), config)
}

/// `bitbake -e` output as entries: `NAME` → the printed line(s) of a variable
/// (`export ` kept, so the export flag is compared too), `NAME()` → a shell function
/// with its `# line:` comment, `python NAME` → a Python function. History comments are
/// left out.
fn parse_env(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut comment_line: Option<&str> = None;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.starts_with("# line: ") {
            comment_line = Some(line);
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("python ") {
            if let Some(name) = rest.strip_suffix(" () {") {
                let mut body = Vec::new();
                while i < lines.len() && lines[i] != "}" {
                    body.push(lines[i]);
                    i += 1;
                }
                i += 1;
                out.insert(format!("python {name}"), body.join("\n"));
                continue;
            }
        }
        if let Some(name) = line.strip_suffix("() {") {
            let mut body = vec![comment_line.take().unwrap_or("")];
            while i < lines.len() && lines[i] != "}" {
                body.push(lines[i]);
                i += 1;
            }
            i += 1;
            out.insert(format!("{name}()"), body.join("\n"));
            continue;
        }
        if let Some(name) = line.strip_prefix("unset ") {
            out.insert(name.to_string(), line.to_string());
            continue;
        }
        let bare = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, _)) = bare.split_once("=\"") else {
            out.insert(format!("<unparsed> {line}"), line.to_string());
            continue;
        };
        let mut value = line.to_string();
        // A value ends at a line ending in an unescaped quote; ` \` continues it.
        while !(value.ends_with('"')
            && value[..value.len() - 1]
                .chars()
                .rev()
                .take_while(|c| *c == '\\')
                .count()
                % 2
                == 0
            && value.len() > line.find("=\"").unwrap() + 2)
            && i < lines.len()
        {
            value.push('\n');
            value.push_str(lines[i]);
            i += 1;
        }
        out.insert(name.to_string(), value);
    }
    out
}

/// Variables that legitimately differ between the oracle's run and bitzel's, with why.
fn excluded(name: &str, bitbake_version: &str) -> Option<&'static str> {
    if PRESERVED_ENVVARS_EXPORTED.contains(&name) {
        return Some("taken from BitBake's process environment (bitzel gets an empty one here)");
    }
    match name {
        "BB_ORIGENV" => Some("BitBake prints the address of a DataSmart object"),
        "BB_CMDLINE" => Some("BitBake's own command line, set by its UI"),
        "BB_CURRENT_MC" if bitbake_version != "2.8.1" => {
            Some("BitBake 2.19 sets \"\", scarthgap's 2.8.1 (bitzel's target) \"default\"")
        }
        _ => None,
    }
}

/// Compares `bitbake -e` with bitzel on one case; panics listing every difference.
/// Returns (equal, compared).
fn compare_case(case: &str) -> (usize, usize) {
    let run = oracle(case);
    assert!(
        run.success,
        "bitbake -e failed on {case}:\n{}\n{}",
        run.stdout, run.stderr
    );
    let version = oracle_version(&run.stderr);
    let (text, config) = bitzel_env(&run.build_dir);
    assert!(
        !config.has_errors(),
        "bitzel found errors in {case}:\n{}",
        config.rendered_diagnostics
    );
    let expected = parse_env(&run.stdout);
    let actual = parse_env(&text);
    let mut names: Vec<&String> = expected.keys().chain(actual.keys()).collect();
    names.sort();
    names.dedup();
    let mut equal = 0;
    let mut compared = 0;
    let mut differences = Vec::new();
    let mut exclusions = Vec::new();
    for name in names {
        if let Some(reason) = excluded(name, &version) {
            exclusions.push(format!("{name}: {reason}"));
            continue;
        }
        compared += 1;
        match (expected.get(name), actual.get(name)) {
            (Some(e), Some(a)) if e == a => equal += 1,
            (e, a) => differences.push(format!(
                "{name}:\n  bitbake: {}\n  bitzel:  {}",
                e.map(String::as_str).unwrap_or("<absent>"),
                a.map(String::as_str).unwrap_or("<absent>")
            )),
        }
    }
    eprintln!(
        "{case}: {equal}/{compared} entries equal to BitBake {version}; excluded: {}",
        exclusions.join("; ")
    );
    assert!(
        differences.is_empty(),
        "{case}: {} of {compared} entries differ from BitBake {version}:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(
        compared > 10,
        "{case}: too few entries compared: {compared}"
    );
    (equal, compared)
}

#[test]
fn global_environment_of_the_minimal_fixture_equals_bitbake() {
    compare_case("minimal");
}

#[test]
fn conf_search_order_layer_conf_and_operators_equal_bitbake() {
    compare_case("conf-search");
}

#[test]
fn configuration_classes_functions_and_tasks_equal_bitbake() {
    compare_case("classes");
}

#[test]
fn require_of_a_missing_file_is_an_error_naming_the_requiring_file_and_line() {
    let run = oracle("require-missing");
    let local_conf = run.build_dir.join("conf/local.conf");
    let local_conf = local_conf.to_string_lossy();
    assert!(!run.success, "BitBake accepted the missing require");
    let message = "Could not include required file conf/absent.conf";
    assert!(
        run.stdout
            .contains(&format!("ParseError at {local_conf}:3: {message}")),
        "BitBake's error changed:\n{}",
        run.stdout
    );
    let (_, config) = bitzel_env(&run.build_dir);
    assert!(config.has_errors());
    let rendered = &config.rendered_diagnostics;
    assert!(
        rendered.contains(&format!("{local_conf}:3:1: error: {message}")),
        "{rendered}"
    );
    assert!(rendered.contains("require conf/absent.conf"), "{rendered}");
}

#[test]
fn env_parser_reads_continued_values_functions_and_exports() {
    let text = "#\n# $A\nA=\"x \\\ny\"\nexport B=\"\\\"q\\\"\"\n# line: 3, file: f\nf() {\n\tbody\n}\n\n\npython g () {\n    pass\n}\n";
    let env = parse_env(text);
    assert_eq!(env["A"], "A=\"x \\\ny\"");
    assert_eq!(env["B"], "export B=\"\\\"q\\\"\"");
    assert_eq!(env["f()"], "# line: 3, file: f\n\tbody");
    assert_eq!(env["python g"], "    pass");
}
