//! The `unpack` builtin: BitBake's `do_unpack` (`bb.fetch2.Fetch.unpack`) for the files
//! the rules stage as `--source`s. A plain file is copied natively into the unpack
//! directory under the path the SRC_URI gave it (and `subdir=`); an archive is
//! extracted with the commands BitBake's fetcher uses (`tar x --no-same-owner`,
//! `gzip -dc`, …), run like a shell task inside the task's namespaces, so that an
//! archive's `..` members or links land in the sandbox and are refused by the delta,
//! never on the host. Formats without a command here (zip, rpm, deb, 7z, …) fail with
//! "not supported yet" instead of being copied silently.
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
                            // BitBake: an absolute subdir must lie in the unpack root
                            // ("subdir argument isn't a subdirectory of unpack root").
                            let rel = if dir.starts_with('/') {
                                let root = unpackdir
                                    .as_ref()
                                    .ok_or_else(|| err(n, "`unpackdir` must come first".into()))?
                                    .absolute();
                                let root = root.to_string_lossy();
                                dir.strip_prefix(root.as_ref())
                                    .filter(|r| r.is_empty() || r.starts_with('/'))
                                    .ok_or_else(|| {
                                        err(
                                            n,
                                            format!(
                                                "subdir={dir}: the subdir argument isn't a \
                                                 subdirectory of the unpack root {root}"
                                            ),
                                        )
                                    })?
                            } else {
                                dir
                            };
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
            Some(kind @ ("git" | "crate")) => {
                return Err(UsageError(format!(
                    "not supported yet: unpacking a {kind} source ({})",
                    line.split_whitespace().nth(1).unwrap_or_default()
                )))
            }
            Some(other) => return Err(err(n, format!("unknown directive {other:?}"))),
            None => {}
        }
    }
    let unpackdir =
        unpackdir.ok_or_else(|| UsageError("unpack data: no `unpackdir` line".into()))?;
    Ok(UnpackPlan { unpackdir, files })
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

    #[test]
    fn git_and_crate_sources_are_not_supported_yet() {
        for line in [
            "git downloads/git2/example.com.repo.git repo",
            "crate downloads/x-1.0.crate x-1.0.crate",
        ] {
            let e = parse(&format!("unpackdir /bitzel/tmp/w\n{line}\n"), &[]).unwrap_err();
            assert!(e.0.starts_with("not supported yet: unpacking a "), "{e}");
        }
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
