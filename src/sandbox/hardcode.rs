//! sstate's `sstate_hardcode_path` for a `--sysroot-out` component: the producer's own
//! sysroot paths in SYSROOT_DESTDIR's text files become the FIXMESTAGINGDIRHOST /
//! FIXMESTAGINGDIRTARGET placeholders, and the files changed are listed in `fixmepath`,
//! which staging (src/sandbox/staging.rs, `staging_processfixme`) reads to put each
//! consumer's own sysroots back. With the virtual layout a recipe's sysroots are
//! `/bitzel/tmp/<workdir>/recipe-sysroot(-native)`, different for every recipe, so a
//! libtool `.la` or a `*-config` script would otherwise point a consumer into the
//! producer's work directory.
//!
//! As sstate: the native path is replaced first (the target path is its prefix), text
//! files only (no NUL byte in the first 32 KiB, `grep -I`'s test), never through a
//! symbolic link. Poky scans every text file for native recipes
//! (SSTATE_SCAN_CMD_NATIVE) and only SSTATE_SCAN_FILES (`*.la *-config *_config
//! postinst-*`) for target ones; the helper does not know the recipe's class, so it scans
//! every text file (a superset: a target header that embeds the build's sysroot is
//! fixed too instead of left pointing nowhere).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::staging::replace;
use anyhow::{anyhow, Result};

/// The first bytes `grep -I` looks at to call a file binary.
const BINARY_PROBE: usize = 32 * 1024;

/// The component's placeholder list, at its root.
pub const FIXMEPATH: &str = "fixmepath";

/// What the first component of each `fixmepath` line stands for (the sysroot; staging
/// replaces it).
const FIXMEPATH_PREFIX: &str = "sysroot-destdir";

/// Replaces `native` by FIXMESTAGINGDIRHOST and `target` by FIXMESTAGINGDIRTARGET in
/// the text files under `destdir`, and writes `fixmepath` (merged with one the task
/// wrote, sorted) when any file changed. Returns how many files changed.
pub fn hardcode_paths(destdir: &Path, target: &str, native: &str) -> Result<usize> {
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let fixmepath = destdir.join(FIXMEPATH);
    if fs::symlink_metadata(&fixmepath).is_ok_and(|m| m.is_file()) {
        listed.extend(
            fs::read_to_string(&fixmepath)?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    }
    let mut changed = 0;
    for item in walkdir::WalkDir::new(destdir)
        .follow_links(false)
        .min_depth(1)
        .sort_by_file_name()
    {
        let item = item?;
        if !item.file_type().is_file() {
            continue;
        }
        let rel = item
            .path()
            .strip_prefix(destdir)?
            .to_str()
            .ok_or_else(|| anyhow!("{}: not UTF-8", item.path().display()))?
            .to_owned();
        if rel == FIXMEPATH || rel == "fixmepath.cmd" {
            continue;
        }
        let bytes = fs::read(item.path())?;
        if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
            continue;
        }
        let replaced = replace(
            &replace(&bytes, native.as_bytes(), b"FIXMESTAGINGDIRHOST"),
            target.as_bytes(),
            b"FIXMESTAGINGDIRTARGET",
        );
        if replaced != bytes {
            fs::write(item.path(), replaced)?;
            listed.insert(format!("{FIXMEPATH_PREFIX}/{rel}"));
            changed += 1;
        }
    }
    if changed > 0 {
        let mut text = String::new();
        for line in &listed {
            text.push_str(line);
            text.push('\n');
        }
        fs::write(&fixmepath, text)?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_path_first_text_files_only_and_a_sorted_list() {
        let dir = std::env::temp_dir().join(format!("bitzel-hardcode-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("usr/lib")).unwrap();
        let t = "/bitzel/tmp/w/recipe-sysroot";
        let n = "/bitzel/tmp/w/recipe-sysroot-native";
        fs::write(
            dir.join("usr/lib/b.la"),
            format!("-L{t}/usr/lib -L{n}/usr/lib\n"),
        )
        .unwrap();
        fs::write(dir.join("usr/lib/a-config"), format!("prefix={n}/usr\n")).unwrap();
        fs::write(dir.join("usr/lib/bin.so"), format!("\0{t}\n")).unwrap();
        fs::write(dir.join("usr/lib/plain.h"), "int x;\n").unwrap();
        assert_eq!(hardcode_paths(&dir, t, n).unwrap(), 2);
        assert_eq!(
            fs::read_to_string(dir.join("usr/lib/b.la")).unwrap(),
            "-LFIXMESTAGINGDIRTARGET/usr/lib -LFIXMESTAGINGDIRHOST/usr/lib\n"
        );
        assert_eq!(
            fs::read_to_string(dir.join(FIXMEPATH)).unwrap(),
            "sysroot-destdir/usr/lib/a-config\nsysroot-destdir/usr/lib/b.la\n"
        );
        assert_eq!(
            fs::read(dir.join("usr/lib/bin.so")).unwrap(),
            format!("\0{t}\n").as_bytes()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
