//! The virtual layout every task sees (`/bitzel/tmp` = TMPDIR, `/bitzel/downloads` =
//! DL_DIR, `/bitzel/layers`), and the paths naming places in it.
//!
//! A [`VirtualPath`] is checked once, when it is read: relative to `/bitzel`, made of
//! normal components only, so that joining it to the scratch root can never leave it.

use std::fmt;
use std::path::{Path, PathBuf};

/// The virtual root every script path starts with.
pub const ROOT: &str = "/bitzel";

/// A path under the virtual root `/bitzel`, kept relative to it (`tmp/work/x/1.0`):
/// no `..`, no `.`, no empty component, never absolute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VirtualPath(String);

impl VirtualPath {
    /// Reads a relative virtual path (`--workdir`, a `--source`'s VIRTUAL).
    pub fn parse_relative(text: &str) -> Result<Self, String> {
        if text.starts_with('/') {
            return Err(format!("{text:?} must be relative"));
        }
        let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
        if parts.is_empty() {
            return Err(format!("{text:?} is empty"));
        }
        if let Some(bad) = parts.iter().find(|p| **p == ".." || **p == ".") {
            return Err(format!(
                "{text:?} contains {bad:?}: paths may not leave {ROOT}"
            ));
        }
        if text.contains('\0') {
            return Err(format!("{text:?} contains a NUL byte"));
        }
        Ok(VirtualPath(parts.join("/")))
    }

    /// Reads an absolute virtual path (`--dirs`, `--cleandirs`): it must lie in the
    /// writable part of the layout, `/bitzel/tmp`.
    pub fn parse_absolute(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix(ROOT)
            .filter(|r| r.starts_with('/'))
            .ok_or_else(|| format!("{text:?} is outside the virtual root {ROOT}"))?;
        let path = Self::parse_relative(rest.trim_start_matches('/'))?;
        if path.components().next() != Some("tmp") {
            return Err(format!(
                "{text:?} is outside {ROOT}/tmp, the task's writable TMPDIR"
            ));
        }
        Ok(path)
    }

    /// The path as text, relative to `/bitzel`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its components, outermost first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The path as the task sees it (`/bitzel/tmp/…`).
    pub fn absolute(&self) -> PathBuf {
        Path::new(ROOT).join(&self.0)
    }

    /// The same place under a directory that stands for `/bitzel`.
    pub fn under(&self, root: &Path) -> PathBuf {
        root.join(&self.0)
    }

    /// `tmp/` + a path relative to TMPDIR (the workdir is given that way).
    pub fn in_tmpdir(relative: &VirtualPath) -> Self {
        VirtualPath(format!("tmp/{}", relative.0))
    }

    /// The path relative to TMPDIR when it lies under `tmp/`.
    pub fn relative_to_tmpdir(&self) -> Option<&str> {
        self.0.strip_prefix("tmp/")
    }
}

impl fmt::Display for VirtualPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ROOT}/{}", self.0)
    }
}

/// Checks a path read from a tree's `meta` or found under its `files/`: relative, normal
/// components only, so that it stays inside the tree it describes.
pub fn check_tree_path(text: &str) -> Result<&str, String> {
    if text.is_empty() || text.starts_with('/') || text.contains('\0') {
        return Err(format!("{text:?} is not a relative path"));
    }
    if text
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(format!("{text:?} leaves its tree or is not normalised"));
    }
    Ok(text)
}

/// Whether a symbolic link at `link` (relative to TMPDIR) with target `target` resolves
/// inside TMPDIR, lexically: absolute targets must lie under `/bitzel/tmp`, relative
/// ones may not climb above TMPDIR's root.
pub fn link_stays_inside(link: &str, target: &str) -> bool {
    let mut depth: Vec<&str> = if let Some(rest) = target.strip_prefix('/') {
        let Some(inner) = rest.strip_prefix("bitzel/tmp") else {
            return false;
        };
        if !(inner.is_empty() || inner.starts_with('/')) {
            return false;
        }
        return climb(Vec::new(), inner);
    } else {
        link.split('/').collect()
    };
    depth.pop(); // the link's own name
    climb(depth, target)
}

fn climb<'a>(mut stack: Vec<&'a str>, path: &'a str) -> bool {
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    return false;
                }
            }
            p => stack.push(p),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_virtual_path_is_kept_relative_to_the_root() {
        let p = VirtualPath::parse_absolute("/bitzel/tmp/work/x//1.0/").unwrap();
        assert_eq!(p.as_str(), "tmp/work/x/1.0");
        assert_eq!(p.to_string(), "/bitzel/tmp/work/x/1.0");
        assert_eq!(p.relative_to_tmpdir(), Some("work/x/1.0"));
    }

    #[test]
    fn paths_leaving_the_root_are_refused() {
        assert!(VirtualPath::parse_absolute("/bitzelx/tmp").is_err());
        assert!(VirtualPath::parse_absolute("/bitzel/tmp/a/../../..").is_err());
        assert!(VirtualPath::parse_absolute("/bitzel/downloads/x").is_err());
        assert!(VirtualPath::parse_relative("/abs").is_err());
        assert!(VirtualPath::parse_relative("a/./b").is_err());
    }

    #[test]
    fn tree_paths_must_be_normal_and_relative() {
        assert!(check_tree_path("work/a/b").is_ok());
        for bad in ["", "/etc", "a/../b", "a//b", "./a"] {
            assert!(check_tree_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_inside_tmpdir_are_accepted_and_escaping_ones_refused() {
        assert!(link_stays_inside("work/a/lib.so", "lib.so.1"));
        assert!(link_stays_inside("work/a/b/l", "../../c"));
        assert!(link_stays_inside("work/a/l", "/bitzel/tmp/work/b"));
        assert!(!link_stays_inside("work/l", "../../etc/passwd"));
        assert!(!link_stays_inside("work/l", "/etc/passwd"));
        assert!(!link_stays_inside("work/l", "/bitzel/tmpx"));
        assert!(!link_stays_inside("work/l", "/bitzel/tmp/../../etc"));
    }
}
