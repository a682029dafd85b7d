//! `bitzel check` end to end: which files of a layer it reads and what it prints.

use std::path::Path;
use std::process::Command;

/// Runs `bitzel check` in `tests/data/check` on `args`; returns (exit code, stdout).
fn bitzel_check(args: &[&str]) -> (i32, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/check");
    let output = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("check")
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("bitzel runs");
    let code = output.status.code().expect("bitzel exits normally");
    (
        code,
        String::from_utf8(output.stdout).expect("utf-8 output"),
    )
}

#[test]
fn layer_errors_are_reported_with_file_line_and_snippet() {
    let (code, stdout) = bitzel_check(&["layer_with_errors"]);
    assert_eq!(code, 1, "an error makes the exit status 1");
    insta::with_settings!({
        snapshot_path => "data/check",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("layer_with_errors", stdout);
    });
}

#[test]
fn data_files_beside_recipes_are_not_parsed() {
    let (_, stdout) = bitzel_check(&["layer_with_errors"]);
    assert!(!stdout.contains("data.inc"), "{stdout}");
}

#[test]
fn a_clean_file_exits_zero() {
    let (code, stdout) = bitzel_check(&["layer_with_errors/recipes-app/lib/lib_2.0.bb"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stdout,
        "bitzel check: 1 file checked, 0 errors, 0 warnings\n"
    );
}

#[test]
fn a_path_that_is_not_metadata_is_refused() {
    let (code, _) = bitzel_check(&["does-not-exist"]);
    assert_eq!(code, 2);
}
