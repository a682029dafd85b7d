//! The `populate_sysroot` builtin: BitBake's `do_populate_sysroot` (staging.bbclass
//! `sysroot_stage_all`): the SYSROOT_DIRS of `${D}` are copied into SYSROOT_DESTDIR,
//! links and modes kept, then the SYSROOT_PREPROCESS_FUNCS run there. The helper turns
//! SYSROOT_DESTDIR into the `--sysroot-out` component afterwards, as sstate takes it out
//! of the work directory.
//!
//! The builtin's data (the `--script` file), one directive per line (blank lines and `#`
//! comments ignored) up to an optional `preprocess:` line:
//!
//! ```text
//! d /bitzel/tmp/work/core2-64-poky-linux/hello/1.0/image
//! destdir /bitzel/tmp/work/core2-64-poky-linux/hello/1.0/sysroot-destdir
//! dir /usr/include
//! dir /usr/lib
//! preprocess:
//! hello_sysroot_preprocess() { rm -f ${SYSROOT_DESTDIR}/usr/lib/*.la; }
//! hello_sysroot_preprocess
//! ```
//!
//! `d` is `${D}`, `destdir` SYSROOT_DESTDIR (both under `/bitzel/tmp`), each `dir` one
//! word of SYSROOT_DIRS (absolute, normalised; duplicates are copied once, in sorted
//! order, as `sysroot_stage_dirs` walks a set). What follows `preprocess:` is shell: the
//! SYSROOT_PREPROCESS_FUNCS and the calls to them, run after the copy like any shell task.
//! The copy itself runs as a shell script inside the task's namespaces, so a link in
//! `${D}` is copied as a link and never followed on the host.

use std::collections::BTreeSet;

use super::args::UsageError;
use super::layout::{check_tree_path, VirtualPath};

/// Quotes a string for the shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Reads the populate_sysroot data into the shell script that does the task.
pub fn script(text: &str) -> Result<String, UsageError> {
    let err =
        |n: usize, m: String| UsageError(format!("populate_sysroot data, line {}: {m}", n + 1));
    let mut image = None;
    let mut destdir = None;
    let mut dirs = BTreeSet::new();
    let mut preprocess = None;
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line == "preprocess:" {
            preprocess = Some(lines[n + 1..].join("\n"));
            break;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let directive = words.next().unwrap_or_default();
        let value = words
            .next()
            .ok_or_else(|| err(n, format!("{directive} needs a path")))?;
        if let Some(extra) = words.next() {
            return Err(err(n, format!("unexpected {extra:?}")));
        }
        match directive {
            "d" => image = Some(VirtualPath::parse_absolute(value).map_err(|e| err(n, e))?),
            "destdir" => destdir = Some(VirtualPath::parse_absolute(value).map_err(|e| err(n, e))?),
            "dir" => {
                let rel = value.strip_prefix('/').ok_or_else(|| {
                    err(n, format!("SYSROOT_DIRS entry {value:?} is not absolute"))
                })?;
                let rel = check_tree_path(rel.trim_end_matches('/')).map_err(|e| err(n, e))?;
                dirs.insert(rel.to_owned());
            }
            other => return Err(err(n, format!("unknown directive {other:?}"))),
        }
    }
    let image = image.ok_or_else(|| UsageError("populate_sysroot data: no `d` line".into()))?;
    let destdir =
        destdir.ok_or_else(|| UsageError("populate_sysroot data: no `destdir` line".into()))?;
    let mut out = String::new();
    for dir in &dirs {
        let from = quote(&image.absolute().join(dir).display().to_string());
        let to = quote(&destdir.absolute().join(dir).display().to_string());
        out.push_str(&format!(
            "if [ -d {from} ]; then\n\techo populate_sysroot: /{dir}\n\tmkdir -p {to}\n\tcp -PR --preserve=mode,links {from}/. {to}/\nfi\n"
        ));
    }
    if let Some(pre) = preprocess {
        out.push_str(&format!(
            "mkdir -p {0}\ncd {0}\n",
            quote(&destdir.absolute().display().to_string())
        ));
        out.push_str(&pre);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysroot_dirs_are_copied_once_in_order_then_preprocess_runs() {
        let s = script(
            "d /bitzel/tmp/w/image\ndestdir /bitzel/tmp/w/sysroot-destdir\ndir /usr/lib\ndir /usr/include\ndir /usr/lib/\npreprocess:\nf() { :; }\nf\n",
        )
        .unwrap();
        let include = s.find("/usr/include'").unwrap();
        let lib = s.find("/usr/lib'").unwrap();
        assert!(include < lib, "{s}");
        assert_eq!(s.matches("cp -PR").count(), 2, "{s}");
        assert!(
            s.ends_with("cd '/bitzel/tmp/w/sysroot-destdir'\nf() { :; }\nf\n"),
            "{s}"
        );
    }

    #[test]
    fn bad_populate_data_is_refused() {
        assert!(script("destdir /bitzel/tmp/w/s\n").is_err(), "no d");
        assert!(script("d /bitzel/tmp/w/i\n").is_err(), "no destdir");
        let base = "d /bitzel/tmp/w/i\ndestdir /bitzel/tmp/w/s\n";
        assert!(script(&format!("{base}dir /usr/../../etc\n")).is_err());
        assert!(script(&format!("{base}dir usr/lib\n")).is_err());
        assert!(script("d /etc\ndestdir /bitzel/tmp/w/s\n").is_err());
    }
}
