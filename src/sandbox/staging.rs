//! Staging sysroot components into `${WORKDIR}/recipe-sysroot` and
//! `recipe-sysroot-native`, as staging.bbclass's `extend_recipe_sysroot` does: every
//! component's files and links, a path two components both provide is an error, and
//! the files a component lists in its `fixmepath` get the FIXMESTAGINGDIRTARGET /
//! FIXMESTAGINGDIRHOST placeholders replaced by this consumer's sysroots
//! (`staging_processfixme`). `fixmepath` and `fixmepath.cmd` themselves are not staged.
//!
//! Not done yet: the sysroot postinst scripts (`postinst-*`) are staged but not run,
//! SSTATE_ALLOW_OVERLAP_FILES is not known to the helper, and the `FIXME_<VAR>`
//! placeholders (HOSTTOOLS_DIR, PKGDATA_DIR, …) are left as they are.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::layout::check_tree_path;
use super::state::{self, MetaEntry};

/// What the placeholders of a component stand for in this consumer (virtual paths).
pub struct Placeholders {
    /// FIXMESTAGINGDIRTARGET: the consumer's `recipe-sysroot`.
    pub target: String,
    /// FIXMESTAGINGDIRHOST: the consumer's `recipe-sysroot-native`.
    pub native: String,
}

/// The component files that describe it rather than belong in the sysroot.
const FIXME_FILES: [&str; 2] = ["fixmepath", "fixmepath.cmd"];

/// Stages `components` into `dest` (created).
pub fn stage(components: &[PathBuf], dest: &Path, places: &Placeholders) -> Result<()> {
    fs::create_dir_all(dest)?;
    let mut owner: BTreeMap<String, &Path> = BTreeMap::new();
    for c in components {
        let mut provided: Vec<String> = Vec::new();
        let files = c.join("files");
        if files.exists() {
            for item in walkdir::WalkDir::new(&files)
                .follow_links(true)
                .min_depth(1)
            {
                let item = item?;
                let rel = item
                    .path()
                    .strip_prefix(&files)?
                    .to_string_lossy()
                    .into_owned();
                if !item.file_type().is_dir() && !FIXME_FILES.contains(&rel.as_str()) {
                    provided.push(rel);
                }
            }
        }
        for e in state::read_meta(c)? {
            if let MetaEntry::Link(p, _) = e {
                provided.push(p);
            }
        }
        for p in provided {
            if let Some(first) = owner.insert(p.clone(), c) {
                bail!(
                    "sysroot components {} and {} both provide {p}",
                    first.display(),
                    c.display()
                );
            }
        }
        state::apply_tree(c, dest).with_context(|| format!("staging {}", c.display()))?;
        process_fixme(dest, places).with_context(|| format!("staging {}", c.display()))?;
    }
    Ok(())
}

/// Replaces the placeholders in the files the just-staged `fixmepath` lists (each line
/// is a path whose first component stands for the sysroot), then removes the lists.
fn process_fixme(dest: &Path, places: &Placeholders) -> Result<()> {
    let list = dest.join("fixmepath");
    let text = match fs::symlink_metadata(&list) {
        Ok(md) if md.is_file() => fs::read_to_string(&list)?,
        _ => return Ok(()),
    };
    for name in FIXME_FILES {
        let p = dest.join(name);
        if fs::symlink_metadata(&p).is_ok() {
            state::remove_any(&p)?;
        }
    }
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let rel = line
            .split_once('/')
            .map(|(_, rest)| rest)
            .ok_or_else(|| anyhow!("fixmepath: {line:?} has no sysroot prefix"))?;
        let rel = check_tree_path(rel).map_err(|e| anyhow!("fixmepath: {e}"))?;
        let Some(path) = state::existing_without_links(dest, rel)? else {
            bail!("fixmepath lists {rel}, which the component does not provide");
        };
        if !fs::symlink_metadata(&path)?.is_file() {
            continue;
        }
        let bytes = fs::read(&path)?;
        let replaced = replace(
            &replace(&bytes, b"FIXMESTAGINGDIRTARGET", places.target.as_bytes()),
            b"FIXMESTAGINGDIRHOST",
            places.native.as_bytes(),
        );
        if replaced != bytes {
            fs::write(&path, replaced)?;
        }
    }
    Ok(())
}

/// `haystack` with every `from` replaced by `to` (an empty `from` replaces nothing).
pub(crate) fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_everywhere_in_a_file() {
        assert_eq!(
            replace(
                b"-I FIXMESTAGINGDIRTARGET/usr -L FIXMESTAGINGDIRTARGET/lib",
                b"FIXMESTAGINGDIRTARGET",
                b"/s"
            ),
            b"-I /s/usr -L /s/lib"
        );
        assert_eq!(replace(b"nothing", b"X", b"Y"), b"nothing");
    }
}
