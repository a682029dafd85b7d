//! git and crate sources from `bitzel gen` to a real Bazel build, against real
//! BitBake's fetcher.
//!
//! The test makes an upstream git repository in its temporary directory (commits, an
//! annotated tag before SRCREV, a tag after it, a symlink, an executable), two crates,
//! and a layer beside a copy of examples/ whose recipe `gitdemo` fetches that repository
//! (`git://…;protocol=file;branch=main`, once whole and once with `subpath=`), another
//! with two names (`name=first,second;branch=main,dev`), and the crates (one named like BP, unpacked in place; one vendored under cargo_home). Then:
//!
//! - `bitzel gen` writes the workspace; `bazel build //recipes/gitdemo:do_compile`
//!   fetches the repository with rules_bitbake's `bitbake_git_repository` (the crates
//!   come from a repository cache seeded by the test: no network) and runs do_unpack,
//!   do_patch, do_configure and do_compile through the real helper;
//! - real BitBake's `bb.fetch2` downloads and unpacks the same SRC_URI
//!   (tests/oracle/bb_fetch.py); do_unpack's delta holds the same files, links and
//!   executable bits outside `.git`, the same `.cargo-checksum.json`, and git answers the
//!   same (`describe`, HEAD, branch, origin, upstream, status, tags, history) in BitBake's
//!   checkout and in do_compile's sandbox;
//! - a second output base fetches again, from BitBake's own DL_DIR clone this time
//!   (`--repo_env=BITZEL_DL_DIR`, the remote moved away): the same bundle bytes, the
//!   same do_unpack stamp (what another machine's cache would be keyed on);
//! - recipes whose destsuffix/subpath leave UNPACKDIR, or whose repository holds a link
//!   leading out, fail with their message and write nothing outside.
//!
//! Bazel is required: without it this test fails (`make test` installs Debian's
//! bazel-bootstrap 4.2.3).

mod common;

use common::{bitbake_lib, python, repo};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The facts of a checkout that recipes read from git, one command a line; the recipe's
/// do_compile runs them in the sandbox, the test on BitBake's checkout.
const FACTS: &str = "git describe --tags --long
git rev-parse HEAD
git symbolic-ref HEAD
git config remote.origin.url
git config branch.main.remote
git config branch.main.merge
git --no-optional-locks status --porcelain
git tag --merged HEAD
git log --format='%H %an %s'";

/// With several names (scarthgap's BitBake 2.8; 2.19 refuses them): the checkout is the
/// first name's, and the second's branch is at its SRCREV.
const MULTI_FACTS: &str = "
git -C ../multi rev-parse HEAD origin/dev
git -C ../multi symbolic-ref HEAD";

/// The same for a checkout with submodules (gitsm://).
const GITSM_FACTS: &str = "git submodule status --recursive
git --no-optional-locks status --porcelain
git -C lib/sub rev-parse HEAD
git -C lib/sub/deep log --format='%H %s'
git config submodule.lib/sub.url | sed 's,.*/git2/,git2/,'";

fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if entry.file_type().is_dir() {
            let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o755));
        }
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.expect("readable tree");
        let to = dst.join(entry.path().strip_prefix(src).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&to).unwrap();
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// `git ARGS` in `dir` with a fixed identity and no system or user configuration.
fn git(dir: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home)
        .env("GIT_AUTHOR_NAME", "Upstream")
        .env("GIT_AUTHOR_EMAIL", "up@example.com")
        .env("GIT_COMMITTER_NAME", "Upstream")
        .env("GIT_COMMITTER_EMAIL", "up@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bazel in workspace `ws` with output user root `out`: (success, stderr).
fn bazel(ws: &Path, out: &Path, args: &[&str]) -> (bool, String) {
    let output = common::bazel_command(out)
        .args(args)
        .current_dir(ws)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "bazel cannot be run ({e}): this test needs Bazel; `make test` installs \
                 Debian's bazel-bootstrap (apt-get install -y bazel-bootstrap)"
            )
        });
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// A tree as (path, what it is): `file <exec> <sha256>` or `link <target>`, for every
/// file and link outside `.git` directories.
fn real_tree(root: &Path) -> Vec<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut v = Vec::new();
    for e in walkdir::WalkDir::new(root).into_iter().flatten() {
        let rel = e.path().strip_prefix(root).unwrap().display().to_string();
        if rel.split('/').any(|c| c == ".git") || e.file_type().is_dir() {
            continue;
        }
        if e.path_is_symlink() {
            let target = fs::read_link(e.path()).unwrap();
            v.push((rel, format!("link {}", target.display())));
        } else {
            let exec = fs::metadata(e.path()).unwrap().permissions().mode() & 0o111 != 0;
            v.push((rel, format!("file {exec} {}", sha256(e.path()))));
        }
    }
    v.sort();
    v
}

/// The same for a helper delta (`files/` and `meta`) under `prefix` (relative to
/// TMPDIR): modes and links come from meta, as HELPER.md defines.
fn delta_tree(delta: &Path, prefix: &str) -> Vec<(String, String)> {
    let meta = fs::read_to_string(delta.join("meta")).unwrap();
    let mut modes = std::collections::BTreeMap::new();
    let mut v = Vec::new();
    for line in meta.lines() {
        let mut words = line.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("M"), Some(path), Some(mode)) => {
                modes.insert(path.to_string(), u32::from_str_radix(mode, 8).unwrap());
            }
            (Some("L"), Some(path), Some(target)) => {
                if let Some(rel) = path.strip_prefix(prefix) {
                    v.push((rel.to_string(), format!("link {target}")));
                }
            }
            _ => {}
        }
    }
    let root = delta.join("files");
    for e in walkdir::WalkDir::new(root.join(prefix))
        .into_iter()
        .flatten()
    {
        if !e.file_type().is_file() {
            continue;
        }
        let path = e.path().strip_prefix(&root).unwrap().display().to_string();
        let rel = path.strip_prefix(prefix).unwrap().to_string();
        if rel.split('/').any(|c| c == ".git") {
            continue;
        }
        let exec = modes.get(&path).copied().unwrap_or(0o644) & 0o111 != 0;
        v.push((rel, format!("file {exec} {}", sha256(e.path()))));
    }
    v.retain(|(p, _)| !p.split('/').any(|c| c == ".git"));
    v.sort();
    v
}

/// Where UNPACKDIR is in a delta: the `…/sources/` directory, relative to TMPDIR.
fn unpackdir_in(delta: &Path) -> String {
    let root = delta.join("files");
    walkdir::WalkDir::new(&root)
        .into_iter()
        .flatten()
        .find(|e| e.file_type().is_dir() && e.file_name() == "sources")
        .map(|e| format!("{}/", e.path().strip_prefix(&root).unwrap().display()))
        .unwrap_or_else(|| panic!("no sources/ in {}", delta.display()))
}

#[test]
fn git_and_crate_sources_build_in_bazel_as_bitbake_unpacks_them() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e_git");
    let ws = root.join("ws");
    let out = root.join("bazel");
    let out2 = root.join("bazel2");
    if root.exists() {
        for o in [&out, &out2] {
            if ws.exists() {
                let _ = bazel(&ws, o, &["shutdown"]);
            }
        }
        make_writable(&root);
        fs::remove_dir_all(&root).expect("remove the previous run's directory");
    }
    let home = root.join("home");
    fs::create_dir_all(&home).unwrap();

    // The upstream repository: SRCREV is the second of three commits.
    let up = root.join("up");
    fs::create_dir_all(up.join("d")).unwrap();
    git(&up, &home, &["init", "-q", "-b", "main"]);
    write(&up.join("a"), "one\n");
    write(&up.join("d/b"), "b\n");
    write(&up.join("tool.sh"), "#!/bin/sh\necho tool\n");
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(up.join("tool.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::os::unix::fs::symlink("a", up.join("lnk")).unwrap();
    git(&up, &home, &["add", "-A"]);
    git(&up, &home, &["commit", "-q", "-m", "one"]);
    git(&up, &home, &["tag", "-a", "v1.0", "-m", "release 1.0"]);
    write(&up.join("a"), "two\n");
    write(&up.join("d/c"), "c\n");
    git(&up, &home, &["add", "-A"]);
    git(&up, &home, &["commit", "-q", "-m", "two"]);
    let srcrev = git(&up, &home, &["rev-parse", "HEAD"]);
    write(&up.join("a"), "three\n");
    git(&up, &home, &["commit", "-q", "-am", "three"]);
    git(&up, &home, &["tag", "v2.0"]);

    // A repository fetched with two names (name=first,second;branch=main,dev).
    let multi = root.join("multi");
    fs::create_dir_all(&multi).unwrap();
    git(&multi, &home, &["init", "-q", "-b", "main"]);
    write(&multi.join("m.txt"), "main\n");
    git(&multi, &home, &["add", "-A"]);
    git(&multi, &home, &["commit", "-q", "-m", "main one"]);
    let multi_first = git(&multi, &home, &["rev-parse", "HEAD"]);
    git(&multi, &home, &["checkout", "-q", "-b", "dev"]);
    write(&multi.join("m.txt"), "dev\n");
    git(&multi, &home, &["commit", "-q", "-am", "dev one"]);
    let multi_second = git(&multi, &home, &["rev-parse", "HEAD"]);
    git(&multi, &home, &["checkout", "-q", "main"]);

    // A repository whose checkout holds a link leading out of the work directory.
    let evil = root.join("evil");
    fs::create_dir_all(&evil).unwrap();
    git(&evil, &home, &["init", "-q", "-b", "main"]);
    std::os::unix::fs::symlink("../../../../../../../../../../tmp", evil.join("up")).unwrap();
    git(&evil, &home, &["add", "-A"]);
    git(&evil, &home, &["commit", "-q", "-m", "link"]);
    let evilrev = git(&evil, &home, &["rev-parse", "HEAD"]);

    // A superproject with a submodule (an absolute path URL) that has its own (a
    // relative URL): gitsm://.
    let deep = root.join("deep");
    fs::create_dir_all(&deep).unwrap();
    git(&deep, &home, &["init", "-q", "-b", "main"]);
    write(&deep.join("deep.txt"), "deep\n");
    git(&deep, &home, &["add", "-A"]);
    git(&deep, &home, &["commit", "-q", "-m", "deep one"]);
    let sub = root.join("sub");
    fs::create_dir_all(&sub).unwrap();
    git(&sub, &home, &["init", "-q", "-b", "main"]);
    write(&sub.join("sub.txt"), "sub\n");
    let file_ok = ["-c", "protocol.file.allow=always"];
    git(
        &sub,
        &home,
        &[&file_ok[..], &["submodule", "add", "-q", "../deep", "deep"]].concat(),
    );
    git(&sub, &home, &["add", "-A"]);
    git(&sub, &home, &["commit", "-q", "-m", "sub one"]);
    let sup = root.join("sup");
    fs::create_dir_all(&sup).unwrap();
    git(&sup, &home, &["init", "-q", "-b", "main"]);
    write(&sup.join("top.txt"), "top\n");
    let sub_path = sub.display().to_string();
    git(
        &sup,
        &home,
        &[
            &file_ok[..],
            &["submodule", "add", "-q", &sub_path, "lib/sub"],
        ]
        .concat(),
    );
    git(&sup, &home, &["add", "-A"]);
    git(&sup, &home, &["commit", "-q", "-m", "top one"]);
    let suprev = git(&sup, &home, &["rev-parse", "HEAD"]);
    // Upstream moves on after SRCREV.
    write(&sub.join("sub.txt"), "sub two\n");
    git(&sub, &home, &["commit", "-q", "-am", "sub two"]);

    // Two crates: gitdemo-1.0 is the recipe's BP (unpacked in place), foo-1.0 is not.
    let crates = root.join("crates");
    write(
        &crates.join("src/foo-1.0/Cargo.toml"),
        "[package]\nname = \"foo\"\n",
    );
    write(&crates.join("src/foo-1.0/src/lib.rs"), "pub fn foo() {}\n");
    write(
        &crates.join("src/gitdemo-1.0/README"),
        "the recipe's own crate\n",
    );
    for name in ["foo-1.0", "gitdemo-1.0"] {
        let status = Command::new("tar")
            .args(["czf", &format!("{name}.crate"), "-C", "src", name])
            .current_dir(&crates)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let foo_sum = sha256(&crates.join("foo-1.0.crate"));
    let gd_sum = sha256(&crates.join("gitdemo-1.0.crate"));

    // The layers: a copy of examples/ and the test's layer beside meta-demo.
    let examples = root.join("examples");
    copy_tree(&repo().join("examples"), &examples);
    let layer = examples.join("meta-gittest");
    write(
        &layer.join("conf/layer.conf"),
        "BBPATH .= \":${LAYERDIR}\"\nBBFILES += \"${LAYERDIR}/recipes/*.bb\"\n\
         BBFILE_COLLECTIONS += \"gittest\"\nBBFILE_PATTERN_gittest = \"^${LAYERDIR}/\"\n\
         BBFILE_PRIORITY_gittest = \"5\"\nLAYERSERIES_COMPAT_gittest = \"scarthgap\"\n",
    );
    let up_url = format!("git://{};protocol=file;branch=main", up.display());
    let mut src_uri = vec![
        up_url.clone(),
        format!("{up_url};subpath=d;destsuffix=only-d"),
        "crate://crates.io/foo/1.0".to_string(),
        "crate://crates.io/gitdemo/1.0".to_string(),
    ];
    // Several names in one URL: scarthgap's BitBake (BITZEL_POKY) has them, PyPI's 2.19
    // refuses them ("no longer supports multiple name parameters").
    let with_names = common::poky().is_some();
    let facts_script = if with_names {
        src_uri.push(format!(
            "git://{};protocol=file;branch=main,dev;name=first,second;destsuffix=multi",
            multi.display()
        ));
        format!("{FACTS}{MULTI_FACTS}")
    } else {
        FACTS.to_string()
    };
    let compile: String = facts_script
        .lines()
        .map(|l| format!("\t{l} >> ${{WORKDIR}}/facts.txt\n"))
        .collect();
    write(
        &layer.join("recipes/gitdemo_1.0.bb"),
        &format!(
            "SUMMARY = \"A git checkout and two crates\"\nLICENSE = \"MIT\"\n\
             SRC_URI = \"{}\"\nSRCREV = \"{srcrev}\"\n\
             SRCREV_first = \"{multi_first}\"\nSRCREV_second = \"{multi_second}\"\n\
             SRC_URI[foo-1.0.sha256sum] = \"{foo_sum}\"\n\
             SRC_URI[gitdemo-1.0.sha256sum] = \"{gd_sum}\"\n\
             S = \"${{UNPACKDIR}}/git\"\n\
             do_compile() {{\n\trm -f ${{WORKDIR}}/facts.txt\n{compile}}}\n",
            src_uri.join(" \\\n    ")
        ),
    );
    let sm_url = format!("gitsm://{};protocol=file;branch=main", sup.display());
    let sm_compile: String = GITSM_FACTS
        .lines()
        .map(|l| format!("\t{l} >> ${{WORKDIR}}/facts.txt\n"))
        .collect();
    write(
        &layer.join("recipes/gitsmdemo_1.0.bb"),
        &format!(
            "LICENSE = \"MIT\"\nSRC_URI = \"{sm_url}\"\nSRCREV = \"{suprev}\"\n\
             S = \"${{UNPACKDIR}}/git\"\n\
             do_compile() {{\n\trm -f ${{WORKDIR}}/facts.txt\n{sm_compile}}}\n"
        ),
    );
    let hostile = [
        (
            "gitescape",
            format!("{up_url};destsuffix=../../../../../../escaped-by-git"),
            srcrev.clone(),
            "leaves its tree",
        ),
        (
            "gitabs",
            format!("{up_url};destsuffix=/tmp/escaped-by-git"),
            srcrev.clone(),
            "isn't a subdirectory of the unpack root",
        ),
        (
            "gitsubpath",
            format!("{up_url};subpath=../.."),
            srcrev.clone(),
            "leaves its tree",
        ),
        (
            "gitlink",
            format!("git://{};protocol=file;branch=main", evil.display()),
            evilrev.clone(),
            "leads outside its tree",
        ),
    ];
    // A remote that is not there: the repository rule's own error, not Starlark's.
    write(
        &layer.join("recipes/gitgone_1.0.bb"),
        &format!(
            "LICENSE = \"MIT\"\nSRC_URI = \"git://{}/no-such-repository;protocol=file;branch=main\"\nSRCREV = \"{srcrev}\"\n",
            root.display()
        ),
    );
    for (pn, url, rev, _) in &hostile {
        write(
            &layer.join(format!("recipes/{pn}_1.0.bb")),
            &format!("LICENSE = \"MIT\"\nSRC_URI = \"{url}\"\nSRCREV = \"{rev}\"\n"),
        );
    }
    let bblayers = examples.join("build/conf/bblayers.conf");
    let text = fs::read_to_string(&bblayers).unwrap();
    fs::write(
        &bblayers,
        format!("{text}BBLAYERS += \"${{TOPDIR}}/../meta-gittest\"\n"),
    )
    .unwrap();

    let gen = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("gen")
        .arg("--build-dir")
        .arg(examples.join("build"))
        .arg("--bitbake-lib")
        .arg(bitbake_lib())
        .arg("--out")
        .arg(&ws)
        .output()
        .expect("bitzel gen runs");
    let gen_err = String::from_utf8_lossy(&gen.stderr);
    assert!(gen.status.success(), "bitzel gen:\n{gen_err}");
    let sources_bzl = fs::read_to_string(ws.join("sources.bzl")).unwrap();
    assert!(
        sources_bzl.contains("bitbake_git_repository(") && sources_bzl.contains(&srcrev),
        "{sources_bzl}"
    );

    // The crates come from a repository cache (content-addressed by sha256), as they
    // would from a warm cache or a --distdir: the test has no network.
    let cache = root.join("repocache");
    for (name, sum) in [("foo-1.0", &foo_sum), ("gitdemo-1.0", &gd_sum)] {
        let dir = cache.join(format!("content_addressable/sha256/{sum}"));
        fs::create_dir_all(&dir).unwrap();
        fs::copy(crates.join(format!("{name}.crate")), dir.join("file")).unwrap();
    }
    fs::write(
        ws.join("user.bazelrc"),
        format!(
            "common --repo_env=BITZEL_SANDBOX={}\ncommon --repository_cache={}\n",
            env!("CARGO_BIN_EXE_bitzel-sandbox"),
            cache.display()
        ),
    )
    .unwrap();
    let (ok, log) = bazel(
        &ws,
        &out,
        &[
            "build",
            "//recipes/gitdemo:do_compile",
            "//recipes/gitsmdemo:do_compile",
        ],
    );
    assert!(ok, "bazel build //recipes/gitdemo:do_compile:\n{log}");

    // Real BitBake's fetcher on the same SRC_URI.
    let oracle = root.join("oracle");
    let bb_unpack = oracle.join("sources");
    let vars = serde_json::json!({
        "DL_DIR": oracle.join("downloads"),
        "SRCREV": srcrev,
        "SRCREV_first": multi_first,
        "SRCREV_second": multi_second,
        "PN": "gitdemo",
        "BP": "gitdemo-1.0",
        "WORKDIR": oracle,
        "FILESPATH": "",
        "PATH": std::env::var("PATH").unwrap_or_default(),
        "HOME": home,
        "BB_NO_NETWORK": "1",
        "SRC_URI[foo-1.0.sha256sum]": foo_sum,
        "SRC_URI[gitdemo-1.0.sha256sum]": gd_sum,
    });
    fs::create_dir_all(oracle.join("downloads")).unwrap();
    for name in ["foo-1.0", "gitdemo-1.0"] {
        fs::copy(
            crates.join(format!("{name}.crate")),
            oracle.join(format!("downloads/{name}.crate")),
        )
        .unwrap();
    }
    let request = serde_json::json!({
        "vars": vars,
        "urls": src_uri,
        "unpackdir": bb_unpack,
    });
    fs::write(oracle.join("request.json"), request.to_string()).unwrap();
    let fetched = Command::new(python())
        .arg(repo().join("tests/oracle/bb_fetch.py"))
        .arg(oracle.join("request.json"))
        .env("BITZEL_BITBAKE_LIB", bitbake_lib())
        .env("HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("the BitBake fetcher runs");
    assert!(
        fetched.status.success(),
        "bb.fetch2 on {src_uri:?}:\n{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    // The last line (git's progress comes before it).
    let bb_version = String::from_utf8_lossy(&fetched.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();

    // gitsm: the same with the submodules, recursively.
    let sm_unpack = oracle.join("sm-sources");
    let request = serde_json::json!({
        "vars": {
            "DL_DIR": oracle.join("downloads"),
            "SRCREV": suprev,
            "PN": "gitsmdemo",
            "BP": "gitsmdemo-1.0",
            "WORKDIR": oracle,
            "FILESPATH": "",
            "PATH": std::env::var("PATH").unwrap_or_default(),
            "HOME": home,
            "BB_NO_NETWORK": "1",
        },
        "urls": [sm_url],
        "unpackdir": sm_unpack,
    });
    fs::write(oracle.join("request-sm.json"), request.to_string()).unwrap();
    let fetched = Command::new(python())
        .arg(repo().join("tests/oracle/bb_fetch.py"))
        .arg(oracle.join("request-sm.json"))
        .env("BITZEL_BITBAKE_LIB", bitbake_lib())
        .env("HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("the BitBake fetcher runs");
    assert!(
        fetched.status.success(),
        "bb.fetch2 on {sm_url}:\n{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    let sm_bin = ws.join("bazel-bin/recipes/gitsmdemo");
    let sm_delta = sm_bin.join("do_unpack.delta");
    let sm_unpackdir = unpackdir_in(&sm_delta);
    let sm_theirs = real_tree(&sm_unpack);
    assert!(
        sm_theirs
            .iter()
            .any(|(p, _)| p == "git/lib/sub/deep/deep.txt"),
        "BitBake's gitsm unpack: {sm_theirs:#?}"
    );
    assert_eq!(
        delta_tree(&sm_delta, &sm_unpackdir),
        sm_theirs,
        "gitsm do_unpack's files against BitBake's"
    );
    let sm_facts = fs::read_to_string(
        sm_bin
            .join("do_compile.delta/files")
            .join(
                sm_unpackdir
                    .trim_end_matches('/')
                    .trim_end_matches("sources"),
            )
            .join("facts.txt"),
    )
    .unwrap();
    let bb_sm_facts = Command::new("sh")
        .arg("-ec")
        .arg(GITSM_FACTS)
        .current_dir(sm_unpack.join("git"))
        .env("HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(bb_sm_facts.status.success());
    assert_eq!(sm_facts, String::from_utf8_lossy(&bb_sm_facts.stdout));

    // Every file, link and executable bit outside .git, crates included, as BitBake's.
    let bin = ws.join("bazel-bin/recipes/gitdemo");
    let unpack_delta = bin.join("do_unpack.delta");
    let unpackdir = unpackdir_in(&unpack_delta);
    let ours = delta_tree(&unpack_delta, &unpackdir);
    let theirs = real_tree(&bb_unpack);
    assert!(
        theirs.iter().any(|(p, _)| p == "git/lnk")
            && theirs.iter().any(|(p, _)| p == "only-d/c")
            && theirs
                .iter()
                .any(|(p, _)| p == "cargo_home/bitbake/foo-1.0/.cargo-checksum.json")
            && theirs.iter().any(|(p, _)| p == "gitdemo-1.0/README"),
        "BitBake's unpack is not what the test expects to compare: {theirs:#?}"
    );
    assert_eq!(
        ours, theirs,
        "do_unpack's files against BitBake {bb_version}'s"
    );
    assert!(unpack_delta
        .join("files")
        .join(&unpackdir)
        .join("git/.git/index")
        .is_file());

    // What git says in do_compile's sandbox (from the delta's .git, no DL_DIR) is what
    // it says in BitBake's checkout.
    let workdir = unpackdir.trim_end_matches('/').trim_end_matches("sources");
    let facts = fs::read_to_string(
        bin.join("do_compile.delta/files")
            .join(workdir)
            .join("facts.txt"),
    )
    .unwrap();
    let bb_facts = Command::new("sh")
        .arg("-ec")
        .arg(&facts_script)
        .current_dir(bb_unpack.join("git"))
        .env("HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(bb_facts.status.success());
    assert_eq!(facts, String::from_utf8_lossy(&bb_facts.stdout));
    assert!(facts.starts_with("v1.0-1-g"), "{facts}");

    // Another output base fetches again: the same bundle and the same do_unpack stamp.
    let bundle = |o: &Path| -> String {
        let (ok, text) = bazel(&ws, o, &["info", "output_base"]);
        assert!(ok, "{text}");
        // stdout's one line (stderr follows it in `text`).
        let base = PathBuf::from(text.lines().next().unwrap().trim());
        let external = base.join("external");
        let repo_dir = fs::read_dir(&external)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().unwrap().to_string_lossy().starts_with("git_")
                    && p.join("file/git.bundle").exists()
            })
            .expect("the git repository in the output base");
        sha256(&repo_dir.join("file/git.bundle"))
    };
    let first_bundle = bundle(&out);
    let first_stamp = fs::read_to_string(bin.join("do_unpack.stamp")).unwrap();
    let (ok, log) = bazel(&ws, &out, &["shutdown"]);
    assert!(ok, "{log}");
    // This time from BitBake's own DL_DIR (the clone bb.fetch2 made above), the remote
    // gone: BITZEL_DL_DIR's git2/<clone> is tried first.
    let moved = root.join("up.moved");
    fs::rename(&up, &moved).unwrap();
    let dl_dir = format!(
        "--repo_env=BITZEL_DL_DIR={}",
        oracle.join("downloads").display()
    );
    let (ok, log) = bazel(
        &ws,
        &out2,
        &["build", &dl_dir, "//recipes/gitdemo:do_unpack"],
    );
    fs::rename(&moved, &up).unwrap();
    assert!(ok, "second output base, from BitBake's DL_DIR:\n{log}");
    assert_eq!(bundle(&out2), first_bundle);
    assert_eq!(
        fs::read_to_string(bin.join("do_unpack.stamp")).unwrap(),
        first_stamp
    );

    // Checkouts that would leave UNPACKDIR, and a link leading out, are refused.
    let labels: Vec<String> = hostile
        .iter()
        .map(|(pn, ..)| format!("//recipes/{pn}:do_unpack"))
        .collect();
    let mut args = vec!["build", "--keep_going", "//recipes/gitgone:do_unpack"];
    args.extend(labels.iter().map(String::as_str));
    let (ok, log) = bazel(&ws, &out2, &args);
    assert!(!ok, "{log}");
    assert!(
        log.contains("Fetcher failure: no place to fetch from answered"),
        "gitgone's missing remote should be reported by the repository rule:\n{log}"
    );
    for (pn, _, _, message) in &hostile {
        let report = log
            .split("ERROR: ")
            .find(|r| r.contains(&format!("BitBake {pn}:do_unpack failed")))
            .unwrap_or_else(|| panic!("{pn}:do_unpack did not fail:\n{log}"));
        assert!(
            report.contains(message),
            "{pn}:do_unpack should fail with {message:?}:\n{report}"
        );
    }
    let escaped: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_name() == "escaped-by-git")
        .map(|e| e.path().to_path_buf())
        .collect();
    assert!(escaped.is_empty(), "written outside: {escaped:?}");
    assert!(!Path::new("/tmp/escaped-by-git").exists());
    let _ = bazel(&ws, &out2, &["shutdown"]);
    println!(
        "e2e_git: do_unpack equals BitBake {bb_version}'s unpack ({} paths), git facts \
         equal, bundle {first_bundle} fetched twice",
        theirs.len()
    );
}

/// The files `bitzel gen` writes for git and crate sources (no fetching: the remote is
/// never reached), as insta snapshots: sources.bzl's `bitbake_git_repository` entries,
/// MODULE.bazel's `use_repo`, the recipe's do_unpack wiring and its unpack data.
#[test]
fn gen_of_git_and_crate_sources_matches_its_snapshots() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e_git_gen");
    if root.exists() {
        fs::remove_dir_all(&root).unwrap();
    }
    let examples = root.join("examples");
    copy_tree(&repo().join("examples"), &examples);
    let layer = examples.join("meta-gittest");
    write(
        &layer.join("conf/layer.conf"),
        "BBPATH .= \":${LAYERDIR}\"\nBBFILES += \"${LAYERDIR}/recipes/*.bb\"\n\
         BBFILE_COLLECTIONS += \"gittest\"\nBBFILE_PATTERN_gittest = \"^${LAYERDIR}/\"\n\
         BBFILE_PRIORITY_gittest = \"5\"\nLAYERSERIES_COMPAT_gittest = \"scarthgap\"\n",
    );
    write(
        &layer.join("recipes/gitgen_1.0.bb"),
        "LICENSE = \"MIT\"\n\
         SRC_URI = \"git://git.example.com/demo/app.git;protocol=https;branch=stable \\\n\
         git://git.example.com/demo/data.git;protocol=https;nobranch=1;name=data;subdir=extra;destsuffix=data/ \\\n\
         git://github.com/example/tool.git;branch=main;name=tool;subpath=src/tool \\\n\
         gitsm://git.example.com/demo/mods.git;protocol=https;branch=main;name=mods;destsuffix=mods \\\n\
         git://git.example.com/demo/kernel.git;protocol=https;branch=main,meta;name=machine,meta;destsuffix=kernel \\\n\
         crate://crates.io/serde/1.0.190 \\\n\
         \"\n\
         SRCREV = \"0123456789abcdef0123456789abcdef01234567\"\n\
         SRCREV_data = \"89abcdef0123456789abcdef0123456789abcdef\"\n\
         SRCREV_tool = \"fedcba9876543210fedcba9876543210fedcba98\"\n\
         SRCREV_mods = \"00112233445566778899aabbccddeeff00112233\"\n\
         SRCREV_machine = \"1111111111111111111111111111111111111111\"\n\
         SRCREV_meta = \"2222222222222222222222222222222222222222\"\n\
         SRC_URI[serde-1.0.190.sha256sum] = \"91d3c334ca1ee894a2c6f6ad698fe8c435b76d504b13d436f0685d648d6d96f7\"\n\
         S = \"${UNPACKDIR}/git\"\n",
    );
    let bblayers = examples.join("build/conf/bblayers.conf");
    let text = fs::read_to_string(&bblayers).unwrap();
    fs::write(
        &bblayers,
        format!("{text}BBLAYERS += \"${{TOPDIR}}/../meta-gittest\"\n"),
    )
    .unwrap();
    let ws = root.join("ws");
    let gen = Command::new(env!("CARGO_BIN_EXE_bitzel"))
        .arg("gen")
        .arg("--build-dir")
        .arg(examples.join("build"))
        .arg("--bitbake-lib")
        .arg(bitbake_lib())
        .arg("--out")
        .arg(&ws)
        .output()
        .expect("bitzel gen runs");
    let stderr = String::from_utf8_lossy(&gen.stderr);
    assert!(gen.status.success(), "{stderr}");
    for path in [
        "sources.bzl",
        "MODULE.bazel",
        "recipes/gitgen/BUILD.bazel",
        "recipes/gitgen/run.do_unpack",
    ] {
        let text = fs::read_to_string(ws.join(path)).unwrap();
        assert!(!text.contains(root.to_str().unwrap()), "{path}:\n{text}");
        let name = path.replace('/', "__");
        insta::with_settings!({snapshot_path => "data/gen/snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("git__{name}"), text);
        });
    }
}
