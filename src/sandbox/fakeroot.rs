//! The fakeroot database as it travels in deltas.
//!
//! Debian's `fakeroot -i DB -s DB` keys its database on (device, inode), which mean
//! nothing in the next task's freshly layered copy and differ from run to run. Between
//! tasks the database is therefore kept keyed by path (relative to TMPDIR), sorted:
//! `<path> mode=…,uid=…,gid=…,nlink=…,rdev=…`. Before a `[fakeroot]` task the helper
//! turns it into fakeroot's form for the files now on disk; after the task, back.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// Reads the database, refusing anything but a regular file: the helper runs outside
/// the task's root, where a link left by the task would lead to the host.
fn read_db(db: &Path) -> Result<String> {
    let md = fs::symlink_metadata(db).with_context(|| format!("reading {}", db.display()))?;
    if !md.is_file() {
        bail!(
            "{}: the fakeroot database is not a regular file",
            db.display()
        );
    }
    fs::read_to_string(db).with_context(|| format!("reading {}", db.display()))
}

/// Rewrites the path-keyed database at `db` into fakeroot's (device, inode) form for
/// the tree under `tmpdir`; entries whose path is gone are dropped.
pub fn to_inodes(db: &Path, tmpdir: &Path) -> Result<()> {
    let text = read_db(db)?;
    let mut out = String::new();
    for line in text.lines() {
        let Some((path, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(md) = fs::symlink_metadata(tmpdir.join(path)) else {
            continue;
        };
        out.push_str(&format!("dev={:x},ino={},{rest}\n", md.dev(), md.ino()));
    }
    fs::write(db, out)?;
    Ok(())
}

/// Rewrites fakeroot's (device, inode) database at `db` keyed by path under `tmpdir`,
/// sorted; entries of files that no longer exist are dropped.
pub fn to_paths(db: &Path, tmpdir: &Path) -> Result<()> {
    let text = read_db(db)?;
    let mut by_inode: BTreeMap<(u64, u64), String> = BTreeMap::new();
    for item in walkdir::WalkDir::new(tmpdir)
        .min_depth(1)
        .sort_by_file_name()
    {
        let item = item?;
        let md = item.metadata()?;
        let rel = item
            .path()
            .strip_prefix(tmpdir)?
            .to_string_lossy()
            .into_owned();
        if !rel.contains(' ') && !rel.contains('\n') {
            by_inode.entry((md.dev(), md.ino())).or_insert(rel);
        }
    }
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut fields = line.splitn(3, ',');
        let (Some(dev), Some(ino), Some(rest)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let dev = dev
            .strip_prefix("dev=")
            .and_then(|d| u64::from_str_radix(d, 16).ok());
        let ino = ino.strip_prefix("ino=").and_then(|i| i.parse().ok());
        if let (Some(dev), Some(ino)) = (dev, ino) {
            if let Some(path) = by_inode.get(&(dev, ino)) {
                lines.push(format!("{path} {rest}\n"));
            }
        }
    }
    lines.sort();
    fs::write(db, lines.concat())?;
    Ok(())
}
