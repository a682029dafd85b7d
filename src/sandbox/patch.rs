//! The `patch` builtin: BitBake's `do_patch` (patch.bbclass, `PATCHTOOL = "patch"`'s
//! `PatchTree`): each patch is tried with `--dry-run`, then applied with
//! `patch --no-backup-if-mismatch -p<striplevel>`, in order, in its patch directory.
//! The commands run like a shell task inside the task's namespaces (host `patch`), so a
//! patch that names `../` paths only reaches the sandbox.
//!
//! The builtin's data (the `--script` file), one directive per line (blank lines and
//! `#` comments ignored):
//!
//! ```text
//! patchdir /bitzel/tmp/work/core2-64-poky-linux/hello/1.0/hello-1.0
//! patch layers/meta-test/recipes-test/hello/files/fix.patch striplevel=1
//! patch downloads/extra.diff patchdir=src striplevel=0
//! ```
//!
//! `patchdir` (once, first) is S, where patches apply by default; each `patch` names a
//! `--source`'s VIRTUAL, with `striplevel=N` (default 1) and `patchdir=DIR` relative
//! to S, as SRC_URI's parameters say.

use super::args::{Source, UsageError};
use super::layout::{check_tree_path, VirtualPath};

/// Quotes a string for the shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Reads the patch data into the shell script that applies the patches.
pub fn script(text: &str, sources: &[Source]) -> Result<String, UsageError> {
    let err = |n: usize, m: String| UsageError(format!("patch data, line {}: {m}", n + 1));
    let mut base: Option<VirtualPath> = None;
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next() {
            Some("patchdir") => {
                let dir = words
                    .next()
                    .ok_or_else(|| err(n, "patchdir needs a path".into()))?;
                base = Some(VirtualPath::parse_absolute(dir).map_err(|e| err(n, e))?);
            }
            Some("patch") => {
                let base = base
                    .as_ref()
                    .ok_or_else(|| err(n, "`patchdir` must come first".into()))?;
                let virt = words
                    .next()
                    .ok_or_else(|| err(n, "patch needs a VIRTUAL".into()))?;
                let source = sources
                    .iter()
                    .find(|s| s.virtual_path.as_str() == virt)
                    .ok_or_else(|| err(n, format!("{virt} is not one of the task's --source")))?;
                let mut strip = 1u32;
                let mut dir = base.absolute();
                for param in words {
                    match param.split_once('=') {
                        Some(("striplevel", v)) => {
                            strip = v
                                .parse()
                                .map_err(|_| err(n, format!("striplevel={v} is not a number")))?
                        }
                        Some(("patchdir", d)) => {
                            let d = d.trim_matches('/');
                            if d != "." && !d.is_empty() {
                                dir = dir.join(check_tree_path(d).map_err(|e| err(n, e))?);
                            }
                        }
                        _ => return Err(err(n, format!("unknown parameter {param:?}"))),
                    }
                }
                let file = quote(&source.virtual_path.to_string());
                let dir = quote(&dir.display().to_string());
                let cmd = format!("patch --no-backup-if-mismatch -p{strip}");
                out.push_str(&format!(
                    "echo patch: {file}\n(cd {dir} && {cmd} --dry-run < {file} && {cmd} < {file})\n"
                ));
            }
            Some(other) => return Err(err(n, format!("unknown directive {other:?}"))),
            None => {}
        }
    }
    if base.is_none() {
        return Err(UsageError("patch data: no `patchdir` line".into()));
    }
    Ok(out)
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
    fn patches_apply_in_order_after_a_dry_run() {
        let s = [source("layers/l/a.patch"), source("layers/l/b.diff")];
        let script = script(
            "patchdir /bitzel/tmp/w/s\npatch layers/l/a.patch\npatch layers/l/b.diff patchdir=sub striplevel=0\n",
            &s,
        )
        .unwrap();
        assert_eq!(
            script,
            "echo patch: '/bitzel/layers/l/a.patch'\n\
             (cd '/bitzel/tmp/w/s' && patch --no-backup-if-mismatch -p1 --dry-run < '/bitzel/layers/l/a.patch' && patch --no-backup-if-mismatch -p1 < '/bitzel/layers/l/a.patch')\n\
             echo patch: '/bitzel/layers/l/b.diff'\n\
             (cd '/bitzel/tmp/w/s/sub' && patch --no-backup-if-mismatch -p0 --dry-run < '/bitzel/layers/l/b.diff' && patch --no-backup-if-mismatch -p0 < '/bitzel/layers/l/b.diff')\n"
        );
    }

    #[test]
    fn bad_patch_data_is_refused() {
        let s = [source("layers/l/a.patch")];
        assert!(
            script("patch layers/l/a.patch\n", &s).is_err(),
            "no patchdir"
        );
        assert!(script("patchdir /bitzel/tmp/s\npatch layers/l/x.patch\n", &s).is_err());
        assert!(script(
            "patchdir /bitzel/tmp/s\npatch layers/l/a.patch patchdir=../..\n",
            &s
        )
        .is_err());
        assert!(script("patchdir /etc\n", &s).is_err());
    }
}
