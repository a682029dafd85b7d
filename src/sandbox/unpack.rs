//! The `unpack` builtin: BitBake's `do_unpack` (`bb.fetch2.Fetch.unpack`) for the files
//! the rules stage as `--source`s. A plain file is copied natively into the unpack
//! directory under the path the SRC_URI gave it (and `subdir=`); an archive is
//! extracted with the commands BitBake's fetcher uses (`tar x --no-same-owner`,
//! `gzip -dc`, …), run like a shell task inside the task's namespaces, so that an
//! archive's `..` members or links land in the sandbox and are refused by the delta,
//! never on the host. Formats without a command here (rpm, 7z) fail with "not
//! supported yet" instead of being copied silently. git and gitsm checkouts (from
//! rules_bitbake's `bitbake_git_repository` bundles) and crates are made the same way,
//! by the commands of `bb.fetch2.git`/`gitsm`/`crate` (see [`parse`]'s `git`,
//! `gitsm` and `crate` lines).
//!
//! The builtin's data (the `--script` file) is one directive per line; blank lines and
//! `#` comments are ignored:
//!
//! ```text
//! unpackdir /bitzel/tmp/work/core2-64-poky-linux/hello/1.0
//! file layers/meta-test/recipes-test/hello/files/hello.h hello.h subdir=hello-1.0
//! file downloads/hello-1.0.tar.gz hello-1.0.tar.gz striplevel=1 subdir=hello-1.0
//! file downloads/data.tar.gz data.tar.gz unpack=0
//! ```
//!
//! `unpackdir` (once, first) is BitBake's UNPACKDIR; each `file` names a `--source`'s
//! VIRTUAL, the path under the unpack directory (SRC_URI's path, `foo/bar.c` for
//! `file://foo/bar.c`) and optionally `subdir=DIR`, `unpack=0|1`, `striplevel=N`.
//!
//! ```text
//! git downloads/git2/host.path rev=SRCREV branch=main destsuffix=src url=https://host/path
//! gitsm downloads/git2/host.path rev=SRCREV branch=main url=https://host/path
//! crate downloads/foo-1.0.crate foo-1.0.crate name=foo-1.0 bp=app-2.0
//! ```

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};

use super::args::{Source, UsageError};
use super::layout::{check_tree_path, VirtualPath};
use super::state;

/// One `file` line: a source and where it lands, relative to the unpack directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackFile {
    /// The `--source` it copies (its file, relative to the action's directory).
    pub source: Source,
    /// Where it lands, relative to the unpack directory (subdir included).
    pub dest: String,
    /// How: copied, or extracted by a command.
    pub how: How,
}

/// How a source is unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// Copied as it is (a plain file, or `unpack=0`).
    Copy,
    /// Extracted in `dir` (relative to the unpack directory, `subdir=`) by a shell
    /// command that reads the archive from `$ARCHIVE`.
    Extract {
        /// The directory the command runs in.
        dir: String,
        /// The command (BitBake's fetcher's).
        command: String,
    },
}

/// The commands of `bb.fetch2.FetchMethod.unpack` by file name ending; `{out}` is the
/// decompressed file's name for single-file compressors, `{dos}` the `-a` of `dos=1`.
/// The longest matching ending wins (`.tar.gz` before `.gz`), as BitBake's order of
/// tests does. The tools come from the host's /usr, as BitBake's HOSTTOOLS.
const EXTRACTORS: &[(&str, &str)] = &[
    (".tar", "tar x --no-same-owner -f \"$ARCHIVE\""),
    (".tar.gz", "tar xz --no-same-owner -f \"$ARCHIVE\""),
    (".tgz", "tar xz --no-same-owner -f \"$ARCHIVE\""),
    (".tar.Z", "tar xz --no-same-owner -f \"$ARCHIVE\""),
    (".taz", "tar xz --no-same-owner -f \"$ARCHIVE\""),
    (".tar.bz2", "bzip2 -dc \"$ARCHIVE\" | tar x --no-same-owner -f -"),
    (".tbz", "bzip2 -dc \"$ARCHIVE\" | tar x --no-same-owner -f -"),
    (".tbz2", "bzip2 -dc \"$ARCHIVE\" | tar x --no-same-owner -f -"),
    (".tb2", "bzip2 -dc \"$ARCHIVE\" | tar x --no-same-owner -f -"),
    (".tar.xz", "xz -dc \"$ARCHIVE\" | tar x --no-same-owner -f -"),
    (".txz", "xz -dc \"$ARCHIVE\" | tar x --no-same-owner -f -"),
    (".tar.lz", "lzip -dc \"$ARCHIVE\" | tar x --no-same-owner -f -"),
    (
        ".tar.zst",
        "zstd --decompress --stdout \"$ARCHIVE\" | tar x --no-same-owner -f -",
    ),
    (
        ".tzst",
        "zstd --decompress --stdout \"$ARCHIVE\" | tar x --no-same-owner -f -",
    ),
    (".gz", "gzip -dc \"$ARCHIVE\" > {out}"),
    (".Z", "gzip -dc \"$ARCHIVE\" > {out}"),
    (".z", "gzip -dc \"$ARCHIVE\" > {out}"),
    (".bz2", "bzip2 -dc \"$ARCHIVE\" > {out}"),
    (".xz", "xz -dc \"$ARCHIVE\" > {out}"),
    (".lz", "lzip -dc \"$ARCHIVE\" > {out}"),
    (".zst", "zstd --decompress --stdout \"$ARCHIVE\" > {out}"),
    (".zip", "unzip -q -o{dos} \"$ARCHIVE\""),
    (".jar", "unzip -q -o{dos} \"$ARCHIVE\""),
    (
        ".deb",
        "datafile=$(ar -t \"$ARCHIVE\" | grep '^data\\.tar\\.' | head -n 1) && \\
         { [ -n \"$datafile\" ] || { echo \"unable to unpack deb/ipk package - does not contain data.tar.* file\"; exit 1; }; } && \\
         ar x \"$ARCHIVE\" \"$datafile\" && tar x --no-same-owner -p -f \"$datafile\" && rm \"$datafile\"",
    ),
    (
        ".ipk",
        "datafile=$(ar -t \"$ARCHIVE\" | grep '^data\\.tar\\.' | head -n 1) && \\
         { [ -n \"$datafile\" ] || { echo \"unable to unpack deb/ipk package - does not contain data.tar.* file\"; exit 1; }; } && \\
         ar x \"$ARCHIVE\" \"$datafile\" && tar x --no-same-owner -p -f \"$datafile\" && rm \"$datafile\"",
    ),
];

/// Where single-file compressors write: UNPACKDIR itself, whatever `subdir=` says
/// (BitBake's `efile` is `rootdir/basename`).
const SINGLE_FILE: &[&str] = &[".gz", ".Z", ".z", ".bz2", ".xz", ".lz", ".zst"];

/// What a do_unpack does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackPlan {
    /// UNPACKDIR, under `/bitzel/tmp`.
    pub unpackdir: VirtualPath,
    /// The files, in the data's order.
    pub files: Vec<UnpackFile>,
}

/// Archive formats BitBake unpacks that the helper cannot yet (their tools, 7-Zip and
/// rpm2cpio.sh, are not host tools here).
const UNSUPPORTED: &[&str] = &[".rpm", ".srpm", ".7z"];

/// Quotes a string for the shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Reads the unpack data; `sources` are the task's `--source`s, the only files a line
/// may name. An error is a usage error (exit 2), an archive to extract says "not
/// supported yet".
pub fn parse(text: &str, sources: &[Source]) -> Result<UnpackPlan, UsageError> {
    let err = |n: usize, m: String| UsageError(format!("unpack data, line {}: {m}", n + 1));
    let mut unpackdir = None;
    let mut files = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next() {
            Some("unpackdir") => {
                let dir = words
                    .next()
                    .ok_or_else(|| err(n, "unpackdir needs a path".into()))?;
                unpackdir = Some(VirtualPath::parse_absolute(dir).map_err(|e| err(n, e))?);
            }
            Some("file") => {
                let (Some(virt), Some(path)) = (words.next(), words.next()) else {
                    return Err(err(
                        n,
                        "expected `file VIRTUAL PATH [subdir=DIR] [unpack=0|1]`".into(),
                    ));
                };
                let source = sources
                    .iter()
                    .find(|s| s.virtual_path.as_str() == virt)
                    .ok_or_else(|| err(n, format!("{virt} is not one of the task's --source")))?;
                let mut dest = check_tree_path(path).map_err(|e| err(n, e))?.to_owned();
                let mut extract = true;
                let mut subdir = String::new();
                let mut strip = None;
                let mut dos = false;
                for param in words {
                    match param.split_once('=') {
                        Some(("striplevel", v)) => {
                            strip =
                                Some(v.parse::<u32>().map_err(|_| {
                                    err(n, format!("striplevel={v} is not a number"))
                                })?)
                        }
                        Some(("subdir", dir)) => {
                            let rel = in_unpack_root(unpackdir.as_ref(), "subdir", dir)
                                .map_err(|e| err(n, e))?;
                            let rel = rel.trim_matches('/');
                            if !rel.is_empty() {
                                let rel = check_tree_path(rel).map_err(|e| err(n, e))?;
                                dest = format!("{rel}/{dest}");
                                subdir = rel.to_owned();
                            }
                        }
                        Some(("unpack", v)) => extract = !matches!(v, "0" | "false" | "no"),
                        Some(("dos", v)) => dos = matches!(v, "1" | "true" | "yes" | "y"),
                        _ => return Err(err(n, format!("unknown parameter {param:?}"))),
                    }
                }
                let mut how = How::Copy;
                if extract {
                    // The longest matching ending: `.tar.gz` before `.gz`.
                    let found = EXTRACTORS
                        .iter()
                        .filter(|(ext, _)| path.ends_with(ext))
                        .max_by_key(|(ext, _)| ext.len());
                    if found.is_none() && UNSUPPORTED.iter().any(|ext| path.ends_with(ext)) {
                        return Err(UsageError(format!(
                            "not supported yet: extracting the archive {path} (unpack=0 copies it)"
                        )));
                    }
                    if let Some((ext, command)) = found {
                        let name = path.rsplit('/').next().unwrap_or(path);
                        let out = quote(name.strip_suffix(ext).unwrap_or(name));
                        let mut command = command
                            .replace("{out}", &out)
                            .replace("{dos}", if dos { " -a" } else { "" });
                        if let Some(n) = strip.filter(|_| command.contains("tar x")) {
                            command = command.replacen(
                                "--no-same-owner",
                                &format!("--no-same-owner --strip-components={n}"),
                                1,
                            );
                        }
                        // Single-file compressors write into UNPACKDIR, as BitBake's do.
                        let dir = if SINGLE_FILE.contains(ext) {
                            String::new()
                        } else {
                            subdir.clone()
                        };
                        how = How::Extract { dir, command };
                    }
                }
                files.push(UnpackFile {
                    source: source.clone(),
                    dest,
                    how,
                });
            }
            Some(kind @ ("git" | "gitsm" | "crate")) => {
                let virt = words
                    .next()
                    .ok_or_else(|| err(n, format!("expected `{kind} VIRTUAL ...`")))?;
                let source = sources
                    .iter()
                    .find(|s| s.virtual_path.as_str() == virt)
                    .ok_or_else(|| err(n, format!("{virt} is not one of the task's --source")))?;
                let file = match kind {
                    "crate" => crate_line(source, words),
                    _ => git_line(unpackdir.as_ref(), source, words, kind == "gitsm"),
                };
                files.push(file.map_err(|e| err(n, e))?);
            }
            Some(other) => return Err(err(n, format!("unknown directive {other:?}"))),
            None => {}
        }
    }
    let unpackdir =
        unpackdir.ok_or_else(|| UsageError("unpack data: no `unpackdir` line".into()))?;
    Ok(UnpackPlan { unpackdir, files })
}

/// BitBake's rule for an absolute `subdir=` (and, for git, `destsuffix=`): it must lie
/// in the unpack root ("subdir argument isn't a subdirectory of unpack root"), and is
/// then taken relative to it; a relative one is returned as it is.
fn in_unpack_root<'a>(
    unpackdir: Option<&VirtualPath>,
    what: &str,
    dir: &'a str,
) -> Result<&'a str, String> {
    if !dir.starts_with('/') {
        return Ok(dir);
    }
    let root = unpackdir
        .ok_or_else(|| "`unpackdir` must come first".to_string())?
        .absolute();
    let root = root.to_string_lossy();
    dir.strip_prefix(root.as_ref())
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .ok_or_else(|| {
            format!(
                "{what}={dir}: the subdir argument isn't a subdirectory of the unpack root {root}"
            )
        })
}

/// The `name=value` words of a `git` or `crate` line, each name once and known.
fn line_params<'a>(
    words: impl Iterator<Item = &'a str>,
    known: &[&str],
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut params: Vec<(&str, &str)> = Vec::new();
    for word in words {
        let Some((k, v)) = word.split_once('=') else {
            return Err(format!("expected NAME=VALUE, got {word:?}"));
        };
        if !known.contains(&k) {
            return Err(format!("unknown parameter {word:?}"));
        }
        if params.iter().any(|(n, _)| *n == k) {
            return Err(format!("{k}= given twice"));
        }
        params.push((k, v));
    }
    Ok(params)
}

/// BitBake's FETCHCMD_git, for the helper's git commands.
const GIT: &str = "git -c gc.autoDetach=false -c core.pager=cat -c safe.bareRepository=all";

/// What git reads besides its arguments, pinned: no system configuration (HOME is the
/// helper's empty one), a fixed identity and date for the reflogs the clone writes, and
/// no LFS smudging (tasks have no network).
const GIT_ENV: &str = "export GIT_CONFIG_NOSYSTEM=1 GIT_COMMITTER_NAME=bitzel-sandbox \
GIT_COMMITTER_EMAIL=bitzel-sandbox@localhost GIT_COMMITTER_DATE='@0 +0000' \
GIT_AUTHOR_NAME=bitzel-sandbox GIT_AUTHOR_EMAIL=bitzel-sandbox@localhost \
GIT_AUTHOR_DATE='@0 +0000' GIT_LFS_SKIP_SMUDGE=1 GIT_TERMINAL_PROMPT=0";

/// A `git VIRTUAL rev=… [branch=…] [subdir=…] [subpath=…] [destsuffix=…]
/// [nocheckout=1] url=…` line: `bb.fetch2.git.Git.unpack` from the bundle that
/// `bitbake_git_repository` made. The checkout lands at UNPACKDIR/[subdir/]destsuffix
/// (default `git/`, `<basename of subpath>/` with subpath=, none with subdir=); it is
/// made by `git clone -n` of the bundle (objects copied, as BB_GIT_NOSHARED=1 makes
/// BitBake do: later tasks have no DL_DIR to borrow them from), origin set to the
/// remote's URL, then `checkout -B BRANCH REV` and its upstream (or a detached
/// checkout with nobranch=1, or `read-tree REV:SUBPATH` + `checkout-index` with
/// subpath=). The index is rewritten by `read-tree` at the end: the same entries
/// without stat data, so that the delta does not depend on inode numbers and times.
///
/// `gitsm` (bb.fetch2.gitsm's unpack): the source is a tar of bundles (rules_bitbake's
/// git.bzl), extracted in the task's /tmp; after the checkout, each submodule of
/// modules.txt (BitBake's order, nested ones after their parent) is cloned bare
/// (`--mirror`) into its parent's git directory under `modules/<name>`, its origin set
/// to its remote, `submodule.<name>.url` of the parent set to its clone directory under
/// `/bitzel/downloads/git2` (BitBake sets DL_DIR's), `core.bare false`; then
/// `git submodule update --recursive --no-fetch` checks them out, and each index is
/// rewritten without stat data.
fn git_line<'a>(
    unpackdir: Option<&VirtualPath>,
    source: &Source,
    words: impl Iterator<Item = &'a str>,
    submodules: bool,
) -> Result<UnpackFile, String> {
    let params = line_params(
        words,
        &[
            "rev",
            "branch",
            "subdir",
            "subpath",
            "destsuffix",
            "nocheckout",
            "url",
        ],
    )?;
    let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let rev = get("rev").ok_or("a git line needs rev=")?;
    if rev.len() != 40 || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("rev={rev} is not a commit id"));
    }
    let url = get("url").ok_or("a git line needs url=")?;
    // Never an option of the git commands they are given to.
    if !url.contains("://") || url.starts_with('-') {
        return Err(format!("url={url} is not PROTOCOL://HOST/PATH"));
    }
    if let Some(b) = get("branch").filter(|b| b.is_empty() || b.starts_with('-')) {
        return Err(format!("branch={b:?} is not a branch name"));
    }
    let subpath = get("subpath")
        .map(|p| check_tree_path(p.trim_end_matches('/')).map(str::to_owned))
        .transpose()
        .map_err(|e| format!("subpath: {e}"))?;
    let mut def_destsuffix = match &subpath {
        Some(p) => p.rsplit('/').next().unwrap_or(p).to_owned(),
        None => "git".to_owned(),
    };
    let mut base = String::new();
    if let Some(dir) = get("subdir") {
        let rel = in_unpack_root(unpackdir, "subdir", dir)?.trim_matches('/');
        if !rel.is_empty() {
            base = check_tree_path(rel)
                .map_err(|e| format!("subdir: {e}"))?
                .to_owned();
        }
        def_destsuffix = String::new();
    }
    let destsuffix = get("destsuffix").unwrap_or(&def_destsuffix);
    // os.path.join(destdir, destsuffix): an absolute destsuffix replaces the base.
    let dest = if destsuffix.starts_with('/') {
        in_unpack_root(unpackdir, "destsuffix", destsuffix)?
            .trim_matches('/')
            .to_owned()
    } else {
        let suffix = destsuffix.trim_end_matches('/');
        match (base.is_empty(), suffix.is_empty()) {
            (_, true) => base,
            (true, false) => suffix.to_owned(),
            (false, false) => format!("{base}/{suffix}"),
        }
    };
    if dest.is_empty() {
        return Err(
            "not supported yet: a git checkout into UNPACKDIR itself (BitBake would empty it first)"
                .into(),
        );
    }
    let dest = check_tree_path(&dest)
        .map_err(|e| format!("destsuffix: {e}"))?
        .to_owned();

    if submodules && (subpath.is_some() || get("nocheckout") == Some("1")) {
        return Err("not supported yet: gitsm with subpath= or nocheckout=1".into());
    }
    let q = quote;
    let mut steps = vec![GIT_ENV.to_owned(), format!("rm -rf {}", q(&dest))];
    let bundle = if submodules {
        steps.push("GITSM=$(mktemp -d /tmp/gitsm.XXXXXX)".into());
        steps.push("tar -xf \"$ARCHIVE\" -C \"$GITSM\"".into());
        "\"$GITSM/git.bundle\""
    } else {
        "\"$ARCHIVE\""
    };
    steps.extend([
        format!("{GIT} clone -q -n --template= {bundle} {}", q(&dest)),
        format!("cd {}", q(&dest)),
        format!("{GIT} remote set-url origin {}", q(url)),
    ]);
    if get("nocheckout") != Some("1") {
        if let Some(p) = &subpath {
            let spec = q(&format!("{rev}:{p}"));
            steps.push(format!("{GIT} read-tree {spec}"));
            steps.push(format!("{GIT} checkout-index -q -f -a"));
            steps.push(format!("{GIT} read-tree {spec}"));
        } else {
            match get("branch") {
                Some(b) => {
                    steps.push(format!("{GIT} checkout -q -B {} {rev}", q(b)));
                    steps.push(format!(
                        "{GIT} branch -q {} --set-upstream-to {}",
                        q(b),
                        q(&format!("origin/{b}"))
                    ));
                }
                None => steps.push(format!("{GIT} checkout -q {rev}")),
            }
            steps.push(format!("{GIT} read-tree {rev}"));
        }
    }
    if submodules {
        // modules.txt: key, name, path, remote, clone directory (tab-separated).
        steps.push(format!(
            "while IFS=\"$(printf '\\t')\" read -r key name path remote clone; do \
             gitdir=\".git/modules/$key\"; parent=\"${{gitdir%/modules/*}}\"; \
             {GIT} clone -q --mirror --template= \"$GITSM/modules/$key.bundle\" \"$gitdir\" && \
             {GIT} --git-dir=\"$gitdir\" remote set-url origin \"$remote\" && \
             {GIT} --git-dir=\"$parent\" config \"submodule.$name.url\" \"/bitzel/downloads/git2/$clone\" && \
             {GIT} --git-dir=\"$gitdir\" config core.bare false || exit 1; \
             done < \"$GITSM/modules.txt\""
        ));
        steps.push(format!("{GIT} submodule update -q --recursive --no-fetch"));
        steps.push(format!(
            "{GIT} submodule foreach -q --recursive '{GIT} read-tree HEAD'"
        ));
        steps.push(format!("{GIT} read-tree {rev}"));
        steps.push("rm -rf \"$GITSM\"".into());
    }
    Ok(UnpackFile {
        source: source.clone(),
        dest,
        how: How::Extract {
            dir: String::new(),
            command: steps.join(" && "),
        },
    })
}

/// A `crate VIRTUAL FILE name=NAME bp=BP` line: `bb.fetch2.crate.Crate._crate_unpack`.
/// When the crate's `name=` (NAME-VERSION by default) is BP, it is extracted in
/// UNPACKDIR; else in UNPACKDIR/cargo_home/bitbake, with
/// `<FILE without .crate>/.cargo-checksum.json` written as BitBake's `json.dump`
/// writes `{"files": {}, "package": <sha256 of the .crate>}`.
fn crate_line<'a>(
    source: &Source,
    mut words: impl Iterator<Item = &'a str>,
) -> Result<UnpackFile, String> {
    let file = words.next().ok_or("expected `crate VIRTUAL FILE ...`")?;
    let file = check_tree_path(file)?;
    if file.contains('/') {
        return Err(format!("{file:?} is not a file name"));
    }
    let params = line_params(words, &["name", "bp"])?;
    let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let name = get("name").ok_or("a crate line needs name=")?;
    let tar = "tar -xz --no-same-owner -f \"$ARCHIVE\"";
    if get("bp") == Some(name) {
        return Ok(UnpackFile {
            source: source.clone(),
            dest: String::new(),
            how: How::Extract {
                dir: String::new(),
                command: tar.to_owned(),
            },
        });
    }
    // os.path.splitext: the last extension off.
    let stem = match file.rfind('.') {
        Some(i) if i > 0 => &file[..i],
        _ => file,
    };
    let checksum = quote(&format!("{stem}/.cargo-checksum.json"));
    Ok(UnpackFile {
        source: source.clone(),
        dest: "cargo_home/bitbake".to_owned(),
        how: How::Extract {
            dir: "cargo_home/bitbake".to_owned(),
            command: format!(
                "{tar} && sum=$(sha256sum < \"$ARCHIVE\") && \
                 printf '{{\"files\": {{}}, \"package\": \"%s\"}}' \"${{sum%% *}}\" > {checksum}"
            ),
        },
    })
}

/// Copies the files into the layered TMPDIR `tmpdir`, never through a link; returns
/// the log's lines.
pub fn apply(plan: &UnpackPlan, tmpdir: &Path) -> Result<String> {
    let base = plan.unpackdir.relative_to_tmpdir().unwrap_or("");
    let mut log = String::new();
    for f in plan.files.iter().filter(|f| f.how == How::Copy) {
        let rel = if base.is_empty() {
            f.dest.clone()
        } else {
            format!("{base}/{}", f.dest)
        };
        let (parent, name) = rel.rsplit_once('/').unwrap_or(("", &rel));
        let dir = if parent.is_empty() {
            tmpdir.to_path_buf()
        } else {
            state::ensure_dir(tmpdir, parent)?
        };
        let target = dir.join(name);
        if fs::symlink_metadata(&target).is_ok() {
            state::remove_any(&target)?;
        }
        fs::copy(&f.source.file, &target)
            .with_context(|| format!("copying {}", f.source.file.display()))?;
        let exec = fs::metadata(&f.source.file)?.permissions().mode() & 0o111 != 0;
        fs::set_permissions(
            &target,
            fs::Permissions::from_mode(if exec { 0o755 } else { 0o644 }),
        )?;
        log.push_str(&format!(
            "unpack: {} -> {}\n",
            f.source.virtual_path,
            plan.unpackdir.absolute().join(&f.dest).display()
        ));
    }
    Ok(log)
}

/// The shell script that extracts the plan's archives inside the task's root (run
/// with `sh -e` like a shell task), or None when there is nothing to extract.
pub fn extract_script(plan: &UnpackPlan) -> Option<String> {
    let mut script = String::new();
    for f in &plan.files {
        if let How::Extract { dir, command } = &f.how {
            let dir = if dir.is_empty() {
                plan.unpackdir.absolute()
            } else {
                plan.unpackdir.absolute().join(dir)
            };
            let dir = quote(&dir.display().to_string());
            let archive = quote(&f.source.virtual_path.to_string());
            script.push_str(&format!(
                "echo unpack: {archive}\nmkdir -p {dir}\n(cd {dir} && ARCHIVE={archive} && {command})\n"
            ));
        }
    }
    (!script.is_empty()).then_some(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(virt: &str) -> Source {
        Source {
            file: "f".into(),
            virtual_path: VirtualPath::parse_relative(virt).unwrap(),
        }
    }

    #[test]
    fn file_lines_land_under_unpackdir_and_subdir() {
        let s = [source("layers/l/files/a.c"), source("downloads/x.tar.gz")];
        let plan = parse(
            "# data\nunpackdir /bitzel/tmp/work/p/1.0\nfile layers/l/files/a.c src/a.c subdir=p-1.0/\nfile downloads/x.tar.gz x.tar.gz unpack=0\n",
            &s,
        )
        .unwrap();
        assert_eq!(plan.unpackdir.as_str(), "tmp/work/p/1.0");
        assert_eq!(plan.files[0].dest, "p-1.0/src/a.c");
        assert_eq!(plan.files[1].dest, "x.tar.gz");
    }

    #[test]
    fn archives_are_extracted_with_bitbakes_commands() {
        let s = [
            source("downloads/x-1.0.tar.gz"),
            source("downloads/d.txt.xz"),
        ];
        let plan = parse(
            "unpackdir /bitzel/tmp/w\nfile downloads/x-1.0.tar.gz x-1.0.tar.gz striplevel=1 subdir=x\nfile downloads/d.txt.xz d.txt.xz subdir=s\n",
            &s,
        )
        .unwrap();
        let script = extract_script(&plan).unwrap();
        assert!(script.contains("(cd '/bitzel/tmp/w/x' && ARCHIVE='/bitzel/downloads/x-1.0.tar.gz' && tar xz --no-same-owner --strip-components=1 -f \"$ARCHIVE\")"), "{script}");
        assert!(script.contains("(cd '/bitzel/tmp/w' && ARCHIVE='/bitzel/downloads/d.txt.xz' && xz -dc \"$ARCHIVE\" > 'd.txt')"), "{script}");
    }

    #[test]
    fn every_format_bitbake_unpacks_with_host_tools_has_its_command() {
        let names = [
            "a.tar.zst",
            "b.zip",
            "c.deb",
            "d.tar.lz",
            "e.lz",
            "f.Z",
            "g.tar.bz2",
            "h.zst",
        ];
        let s: Vec<Source> = names
            .iter()
            .map(|n| source(&format!("downloads/{n}")))
            .collect();
        let mut data = "unpackdir /bitzel/tmp/w\n".to_string();
        for n in names {
            data.push_str(&format!("file downloads/{n} {n} subdir=s dos=1\n"));
        }
        let script = extract_script(&parse(&data, &s).unwrap()).unwrap();
        for expected in [
            "(cd '/bitzel/tmp/w/s' && ARCHIVE='/bitzel/downloads/a.tar.zst' && zstd --decompress --stdout \"$ARCHIVE\" | tar x --no-same-owner -f -)",
            "(cd '/bitzel/tmp/w/s' && ARCHIVE='/bitzel/downloads/b.zip' && unzip -q -o -a \"$ARCHIVE\")",
            "ar x \"$ARCHIVE\" \"$datafile\" && tar x --no-same-owner -p -f \"$datafile\"",
            "ARCHIVE='/bitzel/downloads/d.tar.lz' && lzip -dc \"$ARCHIVE\" | tar x --no-same-owner -f -)",
            "(cd '/bitzel/tmp/w' && ARCHIVE='/bitzel/downloads/e.lz' && lzip -dc \"$ARCHIVE\" > 'e')",
            "(cd '/bitzel/tmp/w' && ARCHIVE='/bitzel/downloads/f.Z' && gzip -dc \"$ARCHIVE\" > 'f')",
            "ARCHIVE='/bitzel/downloads/g.tar.bz2' && bzip2 -dc \"$ARCHIVE\" | tar x --no-same-owner -f -)",
            "(cd '/bitzel/tmp/w' && ARCHIVE='/bitzel/downloads/h.zst' && zstd --decompress --stdout \"$ARCHIVE\" > 'h')",
        ] {
            assert!(script.contains(expected), "{expected}\nnot in:\n{script}");
        }
    }

    const REV: &str = "0123456789abcdef0123456789abcdef01234567";

    fn git_plan(params: &str) -> Result<UnpackPlan, UsageError> {
        let s = [source("downloads/git2/host.repo.git")];
        parse(
            &format!(
                "unpackdir /bitzel/tmp/w\ngit downloads/git2/host.repo.git rev={REV} {params} url=https://host/repo.git\n"
            ),
            &s,
        )
    }

    #[test]
    fn git_lines_that_leave_unpackdir_or_are_malformed_are_refused() {
        for (params, message) in [
            ("destsuffix=../../x", "leaves its tree"),
            ("destsuffix=a/../../b", "leaves its tree"),
            (
                "destsuffix=/etc/x",
                "isn't a subdirectory of the unpack root",
            ),
            (
                "subdir=/bitzel/tmp",
                "isn't a subdirectory of the unpack root",
            ),
            ("subdir=../..", "leaves its tree"),
            ("subpath=../..", "leaves its tree"),
            ("subpath=/abs", "not a relative path"),
            ("subdir=s destsuffix=../..", "leaves its tree"),
            ("destsuffix=/bitzel/tmp/w", "UNPACKDIR itself"),
            ("branch=main branch=dev", "given twice"),
            ("depth=1", "unknown parameter"),
            ("branch=-D", "not a branch name"),
        ] {
            let e = git_plan(params).unwrap_err();
            assert!(e.0.contains(message), "{params}: {e}");
        }
        let s = [source("downloads/git2/host.repo.git")];
        for line in [
            "git downloads/git2/host.repo.git rev=HEAD url=x",
            "git downloads/git2/host.repo.git url=x",
            &format!("git downloads/git2/host.repo.git rev={REV} url=--upload-pack=x"),
            &format!("git downloads/git2/host.repo.git rev={REV}"),
            &format!("git downloads/git2/other.git rev={REV} url=x"),
        ] {
            assert!(
                parse(&format!("unpackdir /bitzel/tmp/w\n{line}\n"), &s).is_err(),
                "{line}"
            );
        }
    }

    #[test]
    fn git_destinations_stay_inside_unpackdir() {
        // Where each lands is compared with BitBake's own unpack in tests/e2e_git.rs;
        // here: every accepted destination is a clean path under UNPACKDIR, and an
        // absolute one inside it is taken relative to it.
        for params in [
            "branch=main",
            "subpath=a/b/",
            "subdir=s",
            "subdir=s destsuffix=d/",
            "destsuffix=/bitzel/tmp/w/abs/",
            "subdir=/bitzel/tmp/w/s",
            "nocheckout=1",
        ] {
            let plan = git_plan(params).unwrap();
            let dest = &plan.files[0].dest;
            check_tree_path(dest).unwrap_or_else(|e| panic!("{params}: {e}"));
            let How::Extract { dir, command } = &plan.files[0].how else {
                panic!("{params}: not run by a command")
            };
            assert!(dir.is_empty(), "{params}: runs in UNPACKDIR");
            assert!(
                command.contains(&format!(
                    "clone -q -n --template= \"$ARCHIVE\" {}",
                    quote(dest)
                )),
                "{params}: {command}"
            );
        }
        assert_eq!(
            git_plan("destsuffix=/bitzel/tmp/w/abs/").unwrap().files[0].dest,
            git_plan("destsuffix=abs").unwrap().files[0].dest
        );
    }

    #[test]
    fn gitsm_lines_extract_the_tar_and_set_up_submodules_after_the_checkout() {
        let s = [source("downloads/git2/host.repo.git")];
        let line = |params: &str| {
            parse(
                &format!(
                    "unpackdir /bitzel/tmp/w\ngitsm downloads/git2/host.repo.git rev={REV} {params} url=https://host/repo.git\n"
                ),
                &s,
            )
        };
        let plan = line("branch=main").unwrap();
        let How::Extract { command, .. } = &plan.files[0].how else {
            panic!("not a command")
        };
        let order = [
            "tar -xf \"$ARCHIVE\"",
            "clone -q -n --template= \"$GITSM/git.bundle\" 'git'",
            "checkout -q -B 'main'",
            "clone -q --mirror --template= \"$GITSM/modules/$key.bundle\"",
            "submodule update -q --recursive --no-fetch",
            "submodule foreach -q --recursive",
            "rm -rf \"$GITSM\"",
        ];
        let places: Vec<usize> = order
            .iter()
            .map(|o| {
                command
                    .find(o)
                    .unwrap_or_else(|| panic!("{o} not in {command}"))
            })
            .collect();
        assert!(places.windows(2).all(|w| w[0] < w[1]), "{command}");
        for params in ["subpath=a", "nocheckout=1"] {
            let e = line(params).unwrap_err();
            assert!(e.0.contains("not supported yet"), "{params}: {e}");
        }
    }

    /// Runs `git` (the host's) in `dir` with a fixed identity, for the fixtures.
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs a plan's command for its first line in `dir`, as extract_script does.
    fn run_command(plan: &UnpackPlan, dir: &Path, archive: &Path) {
        let How::Extract { command, .. } = &plan.files[0].how else {
            panic!("not a command")
        };
        let out = std::process::Command::new("sh")
            .arg("-ec")
            .arg(command)
            .current_dir(dir)
            .env("ARCHIVE", archive)
            .env("HOME", dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Every file under `root` with its content (links as their target), sorted.
    fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
            .into_iter()
            .flatten()
            .filter(|e| !e.file_type().is_dir())
            .map(|e| {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                let content = if e.path_is_symlink() {
                    fs::read_link(e.path())
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes()
                } else {
                    fs::read(e.path()).unwrap()
                };
                (rel, content)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_git_checkout_is_at_srcrev_and_its_git_directory_is_reproducible() {
        let dir = std::env::temp_dir().join(format!("bitzel-unpack-git-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let up = dir.join("up");
        fs::create_dir_all(up.join("d")).unwrap();
        git(&up, &["init", "-q", "-b", "main"]);
        fs::write(up.join("a"), "one\n").unwrap();
        fs::write(up.join("d/b"), "b\n").unwrap();
        std::os::unix::fs::symlink("a", up.join("lnk")).unwrap();
        git(&up, &["add", "-A"]);
        git(&up, &["commit", "-q", "-m", "one"]);
        git(&up, &["tag", "-a", "v1.0", "-m", "v1.0"]);
        fs::write(up.join("a"), "two\n").unwrap();
        git(&up, &["commit", "-q", "-am", "two"]);
        let rev = git(&up, &["rev-parse", "HEAD"]);
        fs::write(up.join("a"), "three\n").unwrap();
        git(&up, &["commit", "-q", "-am", "three"]);
        let bundle = dir.join("repo.bundle");
        git(
            &up,
            &[
                "bundle",
                "create",
                bundle.to_str().unwrap(),
                "HEAD",
                "main",
                "--tags",
            ],
        );
        let s = [source("downloads/git2/repo")];
        let plan = |params: &str| {
            parse(
                &format!("unpackdir /bitzel/tmp/w\ngit downloads/git2/repo rev={rev} {params} url=file:///remote\n"),
                &s,
            )
            .unwrap()
        };
        let mut trees = Vec::new();
        for n in 0..2 {
            let w = dir.join(format!("w{n}"));
            fs::create_dir_all(&w).unwrap();
            run_command(&plan("branch=main"), &w, &bundle);
            let checkout = w.join("git");
            // Before any git command that may refresh the index.
            trees.push(tree(&checkout));
            assert_eq!(git(&checkout, &["rev-parse", "HEAD"]), rev);
            assert_eq!(git(&checkout, &["symbolic-ref", "HEAD"]), "refs/heads/main");
            assert_eq!(fs::read_to_string(checkout.join("a")).unwrap(), "two\n");
            assert_eq!(
                git(&checkout, &["config", "remote.origin.url"]),
                "file:///remote"
            );
            assert_eq!(git(&checkout, &["status", "--porcelain"]), "");
            // Another second: times differ, the bytes must not.
            std::thread::sleep(std::time::Duration::from_millis(1100));
        }
        let differ: Vec<&String> = trees[0]
            .iter()
            .zip(&trees[1])
            .filter(|(a, b)| a != b)
            .map(|(a, _)| &a.0)
            .collect();
        assert!(differ.is_empty(), "differ between two runs: {differ:?}");
        assert_eq!(trees[0].len(), trees[1].len());
        assert!(trees[0].iter().any(|(p, _)| p == ".git/index"));

        // subpath=: only that tree, in its base name's directory.
        let w = dir.join("sub");
        fs::create_dir_all(&w).unwrap();
        run_command(&plan("subpath=d"), &w, &bundle);
        assert_eq!(fs::read_to_string(w.join("d/b")).unwrap(), "b\n");
        assert!(!w.join("d/a").exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn crates_land_in_place_when_named_as_bp_else_in_cargo_home() {
        let s = [source("downloads/foo-1.0.crate")];
        let plan = |params: &str| {
            parse(
                &format!("unpackdir /bitzel/tmp/w\ncrate downloads/foo-1.0.crate foo-1.0.crate {params}\n"),
                &s,
            )
        };
        let inplace = plan("name=foo-1.0 bp=foo-1.0").unwrap();
        assert_eq!(
            inplace.files[0].how,
            How::Extract {
                dir: String::new(),
                command: "tar -xz --no-same-owner -f \"$ARCHIVE\"".into()
            }
        );
        let vendored = plan("name=foo-1.0 bp=app-2.0").unwrap();
        let How::Extract { dir: into, .. } = &vendored.files[0].how else {
            panic!()
        };
        assert_eq!(into, "cargo_home/bitbake");
        assert!(plan("bp=x").is_err(), "name= is required");
        assert!(plan("name=a bp=b x=1").is_err());

        // The checksum file holds the .crate's sha256 (BitBake's content is compared
        // in tests/e2e_git.rs).
        let dir = std::env::temp_dir().join(format!("bitzel-unpack-crate-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src/foo-1.0")).unwrap();
        fs::write(dir.join("src/foo-1.0/lib.rs"), "pub fn f() {}\n").unwrap();
        let status = std::process::Command::new("tar")
            .args(["czf", "foo-1.0.crate", "-C", "src", "foo-1.0"])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        let w = dir.join("w/cargo_home/bitbake");
        fs::create_dir_all(&w).unwrap();
        run_command(&vendored, &w, &dir.join("foo-1.0.crate"));
        let json: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(w.join("foo-1.0/.cargo-checksum.json")).unwrap(),
        )
        .unwrap();
        use sha2::Digest;
        let digest = sha2::Sha256::digest(fs::read(dir.join("foo-1.0.crate")).unwrap());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(json["package"], hex.as_str());
        assert_eq!(json["files"], serde_json::json!({}));
        assert!(w.join("foo-1.0/lib.rs").is_file());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn archives_without_a_command_are_not_supported_yet() {
        let s = [source("downloads/x.rpm")];
        let e = parse("unpackdir /bitzel/tmp/w\nfile downloads/x.rpm x.rpm\n", &s).unwrap_err();
        assert!(e.0.starts_with("not supported yet"), "{e}");
    }

    #[test]
    fn undeclared_sources_and_escaping_paths_are_refused() {
        let s = [source("layers/l/a.c")];
        assert!(parse("unpackdir /bitzel/tmp/w\nfile layers/l/b.c b.c\n", &s).is_err());
        assert!(parse("unpackdir /bitzel/tmp/w\nfile layers/l/a.c ../a.c\n", &s).is_err());
        assert!(parse(
            "unpackdir /bitzel/tmp/w\nfile layers/l/a.c a.c subdir=../..\n",
            &s
        )
        .is_err());
        assert!(parse("unpackdir /etc\n", &s).is_err());
        let e = parse(
            "unpackdir /bitzel/tmp/w\nfile layers/l/a.c a.c subdir=/etc\n",
            &s,
        )
        .unwrap_err();
        assert!(
            e.0.contains("isn't a subdirectory of the unpack root"),
            "{e}"
        );
        let plan = parse(
            "unpackdir /bitzel/tmp/w\nfile layers/l/a.c a.c subdir=/bitzel/tmp/w/src/\n",
            &s,
        )
        .unwrap();
        assert_eq!(
            plan.files[0].dest, "src/a.c",
            "an absolute subdir inside the root"
        );
        assert!(
            parse("file layers/l/a.c a.c\n", &s).is_err(),
            "no unpackdir"
        );
    }
}
