//! The demo world in `examples/` against real BitBake: `bitbake -e` of every recipe
//! variant, `bitbake -g greet` and `bitbake -s` succeed on it (it is valid BitBake
//! metadata, with its own bitbake.conf and classes), and bitzel's `env RECIPE` and
//! `recipes` commands print what BitBake prints.
//!
//! The build directory `examples/build` finds its layer from TOPDIR (`${TOPDIR}/..`);
//! the oracle copies build directories elsewhere, so its copy names the layers by
//! `@LAYERS@` (the oracle's placeholder for the examples folder) instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::*;

/// The recipe variants of the demo, as BitBake's parse lists them.
const VARIANTS: [&str; 4] = ["greet", "libgreet", "mkgreeting", "mkgreeting-native"];

/// Runs the oracle on a copy of examples/build: `-e` for each variant, `-g greet`, `-s`.
/// Returns the outputs folder, the oracle's stderr and the build directory it kept.
fn oracle() -> (PathBuf, String, PathBuf) {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-example-oracle");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).expect("old scratch directory removed");
    }
    let template = scratch.join("template");
    std::fs::create_dir_all(template.join("conf")).unwrap();
    for name in ["bblayers.conf", "local.conf"] {
        let text = std::fs::read_to_string(repo().join("examples/build/conf").join(name))
            .expect("examples/build/conf");
        std::fs::write(
            template.join("conf").join(name),
            text.replace("${TOPDIR}/..", "@LAYERS@"),
        )
        .unwrap();
    }
    let mut command = Command::new(python());
    command
        .arg(repo().join("tests/oracle/bitbake_oracle.py"))
        .arg("--pycache")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracle-pycache"))
        .arg("--layers")
        .arg(repo().join("examples"))
        .arg("--workdir")
        .arg(scratch.join("wd"))
        .arg("--outdir")
        .arg(scratch.join("out"))
        .arg(&template);
    for v in VARIANTS {
        command.arg("--").arg("-e").arg(v);
    }
    command.args(["--", "-g", "greet", "--", "-s"]);
    let output = command
        .current_dir(&scratch)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {} for the BitBake oracle: {e}", python()));
    let stderr = String::from_utf8(output.stderr).expect("utf-8 stderr");
    assert!(
        stderr.contains("bitbake-oracle: BitBake "),
        "the oracle did not run BitBake:\n{stderr}"
    );
    (
        scratch.join("out"),
        stderr,
        scratch.join("wd").join("build"),
    )
}

/// Runs bitzel with the environment BitBake let in, from the build directory.
fn bitzel(build_dir: &Path, env: &[(String, String)], args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .args(args)
        .arg("--build-dir")
        .arg(build_dir)
        .arg("--bitbake-lib")
        .arg(bitbake_lib())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PWD", build_dir)
        .current_dir(build_dir)
        .output()
        .expect("bitzel runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_demo_world_is_valid_bitbake_and_bitzel_agrees() {
    let (out, stderr, build_dir) = oracle();
    let version = oracle_version(&stderr);
    let stdout_of = |n: usize| std::fs::read_to_string(out.join(n.to_string()).join("stdout"));
    for v in VARIANTS {
        assert!(
            stderr.contains(&format!("bitbake -e {v}: exit 0")),
            "bitbake -e {v}:\n{stderr}"
        );
    }
    assert!(stderr.contains("bitbake -g greet: exit 0"), "{stderr}");
    assert!(stderr.contains("bitbake -s: exit 0"), "{stderr}");
    // BitBake's graph: greet's sysroot gets libgreet's, libgreet's gets the native tool's.
    let graph = std::fs::read_to_string(out.join("5/task-depends.dot")).expect("bitbake -g");
    for edge in [
        "\"greet.do_prepare_recipe_sysroot\" -> \"libgreet.do_populate_sysroot\"",
        "\"libgreet.do_prepare_recipe_sysroot\" -> \"mkgreeting-native.do_populate_sysroot\"",
    ] {
        assert!(graph.contains(edge), "{edge} not in:\n{graph}");
    }

    // `bitzel recipes` lists the variants and versions `bitbake -s` lists.
    let first = stdout_of(1).expect("bitbake -e greet's output");
    let env = environment_of(&first);
    let (ok, listed, err) = bitzel(&build_dir, &env, &["recipes"]);
    assert!(ok, "{err}");
    let ours: Vec<(String, String)> = listed
        .lines()
        .map(|l| {
            let mut parts = l.split(' ');
            let pn = parts.next().unwrap_or_default().to_string();
            (pn, parts.next().unwrap_or_default().to_string())
        })
        .collect();
    let theirs: Vec<(String, String)> = stdout_of(6)
        .expect("bitbake -s output")
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let pn = parts.next()?;
            let version = parts.next()?.strip_prefix(':')?;
            let pv = version.rsplit_once('-').map_or(version, |(pv, _)| pv);
            Some((pn.to_string(), pv.to_string()))
        })
        .collect();
    assert_eq!(ours, theirs, "bitzel recipes vs bitbake -s");

    // `bitzel env RECIPE` prints what `bitbake -e RECIPE` prints, entry by entry.
    for (i, v) in VARIANTS.iter().enumerate() {
        let expected = parse_env(&stdout_of(i + 1).expect("bitbake -e output"));
        let (ok, printed, err) = bitzel(&build_dir, &env, &["env", v]);
        assert!(ok, "bitzel env {v}: {err}");
        let actual = parse_env(&printed);
        let excluded = |n: &str| {
            n.starts_with("history ")
                || n.starts_with("<unparsed>")
                // An object's address, and BitBake's own command line.
                || matches!(n, "BB_ORIGENV" | "BB_CMDLINE")
                // As in tests/eval_recipe.rs: BitBake 2.19 (PyPI) differs from scarthgap's
                // 2.8.1 there.
                || (matches!(n, "BB_CURRENT_MC" | "_task_deps") && version != "2.8.1")
        };
        let names: BTreeMap<&String, ()> = expected
            .keys()
            .chain(actual.keys())
            .filter(|n| !excluded(n))
            .map(|n| (n, ()))
            .collect();
        let diff: Vec<String> = names
            .keys()
            .filter(|n| expected.get(**n) != actual.get(**n))
            .map(|n| {
                format!(
                    "{n}:\n  bitbake: {:?}\n  bitzel:  {:?}",
                    expected.get(*n),
                    actual.get(*n)
                )
            })
            .collect();
        assert!(
            diff.is_empty(),
            "bitzel env {v} differs from BitBake {version}:\n{}",
            diff.join("\n")
        );
        eprintln!(
            "{v}: {} entries equal to BitBake {version}",
            names.len() - diff.len()
        );
    }
}
