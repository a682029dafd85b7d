//! The `unpack` builtin, natively: BitBake's `do_unpack` (`bb.fetch2.Fetch.unpack`) for
//! `file://` sources, which are copied into the unpack directory under the path the
//! SRC_URI gave them (and `subdir=`). Archives are not extracted yet: an archive
//! without `unpack=0` fails with "not supported yet" rather than being copied silently.
//!
//! The builtin's data (the `--script` file) is one directive per line; blank lines and
//! `#` comments are ignored:
//!
//! ```text
//! unpackdir /bitzel/tmp/work/core2-64-poky-linux/hello/1.0
//! file layers/meta-test/recipes-test/hello/files/hello.h hello.h subdir=hello-1.0
//! file downloads/data.tar.gz data.tar.gz unpack=0
//! ```
//!
//! `unpackdir` (once, first) is BitBake's UNPACKDIR; each `file` names a `--source`'s
//! VIRTUAL, the path under the unpack directory (SRC_URI's path, `foo/bar.c` for
//! `file://foo/bar.c`) and optionally `subdir=DIR` and `unpack=0|1`.

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
}

/// What a do_unpack does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackPlan {
    /// UNPACKDIR, under `/bitzel/tmp`.
    pub unpackdir: VirtualPath,
    /// The files, in the data's order.
    pub files: Vec<UnpackFile>,
}

const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".zip", ".gz",
    ".bz2", ".xz", ".zst", ".deb", ".rpm", ".7z", ".lz", ".tar.lz",
];

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
                for param in words {
                    match param.split_once('=') {
                        Some(("subdir", dir)) => {
                            let dir =
                                check_tree_path(dir.trim_matches('/')).map_err(|e| err(n, e))?;
                            dest = format!("{dir}/{dest}");
                        }
                        Some(("unpack", v)) => extract = !matches!(v, "0" | "false" | "no"),
                        _ => return Err(err(n, format!("unknown parameter {param:?}"))),
                    }
                }
                if extract && ARCHIVES.iter().any(|ext| path.ends_with(ext)) {
                    return Err(UsageError(format!(
                        "not supported yet: extracting the archive {path} (unpack=0 copies it)"
                    )));
                }
                files.push(UnpackFile {
                    source: source.clone(),
                    dest,
                });
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
    for f in &plan.files {
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
    fn archives_to_extract_are_not_supported_yet() {
        let s = [source("downloads/x.tar.gz")];
        let e = parse(
            "unpackdir /bitzel/tmp/w\nfile downloads/x.tar.gz x.tar.gz\n",
            &s,
        )
        .unwrap_err();
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
        assert!(
            parse("file layers/l/a.c a.c\n", &s).is_err(),
            "no unpackdir"
        );
    }
}
