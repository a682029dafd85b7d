//! Work-directory state as trees: layering `--state-in` deltas into a scratch TMPDIR,
//! staging sysroot components, and computing what a task changed (`--delta-out`), in
//! the tree format of `rules_bitbake/HELPER.md` (`files/` + `meta`), plus the stamp.
//!
//! The helper copies the layers (std's copy uses `copy_file_range`, so reflinks where
//! the filesystem has them): Bazel's inputs are often symlinks into its execroot, which
//! overlayfs cannot take as lower directories, and the layered tree must be writable
//! without ever touching an input. A file that the task did not touch is recognised by
//! its unchanged inode metadata; one that was rewritten is compared byte for byte with
//! the input it came from, so rewriting a file with equal content changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

use super::layout::{check_tree_path, link_stays_inside};

/// One line of a tree's `meta` file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetaEntry {
    /// `D <path>`: deleted, hides the path of earlier layers.
    Deleted(String),
    /// `L <path> <target>`: a symbolic link, target verbatim.
    Link(String, String),
    /// `E <path>`: an empty directory.
    EmptyDir(String),
    /// `M <path> <octal>`: a mode other than the default.
    Mode(String, u32),
}

impl MetaEntry {
    /// The path the entry is about.
    pub fn path(&self) -> &str {
        match self {
            MetaEntry::Deleted(p)
            | MetaEntry::Link(p, _)
            | MetaEntry::EmptyDir(p)
            | MetaEntry::Mode(p, _) => p,
        }
    }

    fn tag(&self) -> char {
        match self {
            MetaEntry::Deleted(_) => 'D',
            MetaEntry::Link(..) => 'L',
            MetaEntry::EmptyDir(_) => 'E',
            MetaEntry::Mode(..) => 'M',
        }
    }

    /// The entry as one `meta` line (without the newline).
    pub fn to_line(&self) -> String {
        let p = escape(self.path());
        match self {
            MetaEntry::Deleted(_) | MetaEntry::EmptyDir(_) => format!("{} {p}", self.tag()),
            MetaEntry::Link(_, t) => format!("L {p} {}", escape(t)),
            MetaEntry::Mode(_, m) => format!("M {p} {m:04o}"),
        }
    }

    /// Reads one `meta` line.
    pub fn parse_line(line: &str) -> Result<Self, String> {
        let mut parts = line.split(' ');
        let tag = parts.next().unwrap_or_default();
        let path = unescape(parts.next().ok_or_else(|| format!("{line:?}: no path"))?)?;
        check_tree_path(&path)?;
        let arg = parts.next();
        if parts.next().is_some() {
            return Err(format!("{line:?}: too many fields"));
        }
        let entry = match (tag, arg) {
            ("D", None) => MetaEntry::Deleted(path),
            ("E", None) => MetaEntry::EmptyDir(path),
            ("L", Some(t)) => MetaEntry::Link(path, unescape(t)?),
            ("M", Some(m)) => MetaEntry::Mode(
                path,
                u32::from_str_radix(m, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| format!("{line:?}: bad mode"))?,
            ),
            _ => return Err(format!("{line:?}: not a meta entry")),
        };
        Ok(entry)
    }
}

/// Paths in `meta` escape the bytes that would break a line into fields: backslash,
/// space, tab and newline become `\\`, `\040`, `\011`, `\012` (as in /proc/mounts).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some(d) => {
                let oct: String = [Some(d), chars.next(), chars.next()]
                    .into_iter()
                    .flatten()
                    .collect();
                let v = u8::from_str_radix(&oct, 8).map_err(|_| format!("{s:?}: bad escape"))?;
                out.push(v as char);
            }
            None => return Err(format!("{s:?}: dangling backslash")),
        }
    }
    Ok(out)
}

/// Reads a tree's `meta` file.
pub fn read_meta(tree: &Path) -> Result<Vec<MetaEntry>> {
    let path = tree.join("meta");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| MetaEntry::parse_line(l).map_err(|e| anyhow!("{}: {e}", path.display())))
        .collect()
}

/// The default mode of a regular file in a tree: executable or not.
fn default_file_mode(mode: u32) -> u32 {
    if mode & 0o111 != 0 {
        0o755
    } else {
        0o644
    }
}

/// What a path of the layered TMPDIR was before the task ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file: its identity and mode, to notice the task touching it.
    File {
        ino: u64,
        size: u64,
        mtime: (i64, i64),
        ctime: (i64, i64),
        mode: u32,
    },
    /// A directory and its mode.
    Dir { mode: u32 },
    /// A symbolic link and its target.
    Link { target: String },
}

/// Every path under a root (relative, `/`-separated), as [`Entry`]s, minus excluded
/// subtrees.
pub type Snapshot = BTreeMap<String, Entry>;

/// Records the tree under `root`, without following symbolic links; `exclude` lists
/// relative paths whose subtrees are left out (the staged sysroots, `${T}`).
pub fn snapshot(root: &Path, exclude: &BTreeSet<String>) -> Result<Snapshot> {
    let mut out = Snapshot::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rel)
        };
        for item in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let item = item?;
            let name = item.file_name();
            let name = name.to_str().ok_or_else(|| {
                anyhow!("{}: a file name that is not UTF-8", item.path().display())
            })?;
            let path = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            if exclude.contains(&path) {
                continue;
            }
            let md = fs::symlink_metadata(item.path())?;
            let ft = md.file_type();
            let entry = if ft.is_dir() {
                stack.push(path.clone());
                Entry::Dir {
                    mode: md.mode() & 0o7777,
                }
            } else if ft.is_symlink() {
                let target = fs::read_link(item.path())?;
                let target = target
                    .to_str()
                    .ok_or_else(|| {
                        anyhow!("{}: a link target that is not UTF-8", item.path().display())
                    })?
                    .to_owned();
                Entry::Link { target }
            } else if ft.is_file() {
                Entry::File {
                    ino: md.ino(),
                    size: md.size(),
                    mtime: (md.mtime(), md.mtime_nsec()),
                    ctime: (md.ctime(), md.ctime_nsec()),
                    mode: md.mode() & 0o7777,
                }
            } else {
                bail!(
                    "{}: a device, socket or FIFO cannot be part of a task's state",
                    item.path().display()
                );
            };
            out.insert(path, entry);
        }
    }
    Ok(out)
}

/// The layered TMPDIR: a scratch directory plus, for each regular file, the input file
/// it was copied from (to compare with when the task rewrote it).
pub struct Layered {
    /// The directory standing for `/bitzel/tmp`.
    pub root: PathBuf,
    origins: BTreeMap<String, PathBuf>,
}

impl Layered {
    /// An empty TMPDIR at `root` (created).
    pub fn new(root: PathBuf) -> Result<Self> {
        fs::create_dir_all(&root)?;
        Ok(Layered {
            root,
            origins: BTreeMap::new(),
        })
    }

    /// Applies one tree over the current state: its `files/`, then its `meta`
    /// (HELPER.md's layering). The input is only read.
    pub fn apply(&mut self, tree: &Path) -> Result<()> {
        let origins =
            apply_tree(tree, &self.root).with_context(|| format!("layering {}", tree.display()))?;
        for entry in read_meta(tree)? {
            if let MetaEntry::Deleted(p) | MetaEntry::Link(p, _) = &entry {
                self.forget(p);
            }
        }
        self.origins.extend(origins);
        Ok(())
    }

    fn forget(&mut self, path: &str) {
        forget_subtree(&mut self.origins, path);
    }

    /// The input file a path was copied from, if it still is that copy's place.
    pub fn origin(&self, path: &str) -> Option<&Path> {
        self.origins.get(path).map(PathBuf::as_path)
    }
}

/// Drops `path` and everything below it from a path-keyed map: the subtree is one
/// contiguous range of keys, so this costs its size, not the map's.
fn forget_subtree<V>(map: &mut BTreeMap<String, V>, path: &str) {
    map.remove(path);
    let prefix = format!("{path}/");
    let below: Vec<String> = map
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for k in below {
        map.remove(&k);
    }
}

/// Writes a tree (`files/` then `meta`) over `dest`, never following a symbolic link in
/// `dest`; returns, for each file written, where it came from.
pub fn apply_tree(tree: &Path, dest: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let files = tree.join("files");
    let mut origins = BTreeMap::new();
    // Directories this walk already made sure of: a file's parents are checked once per
    // directory, not once per file (the walk is the only writer meanwhile).
    let mut ensured: BTreeSet<String> = BTreeSet::new();
    if files.exists() {
        for item in walkdir::WalkDir::new(&files)
            .follow_links(true)
            .min_depth(1)
            .sort_by_file_name()
        {
            let item = item?;
            let rel = item
                .path()
                .strip_prefix(&files)?
                .to_str()
                .ok_or_else(|| anyhow!("{}: not UTF-8", item.path().display()))?
                .to_owned();
            check_tree_path(&rel).map_err(|e| anyhow!(e))?;
            if item.file_type().is_dir() {
                ensure_dir(dest, &rel)?;
                ensured.insert(rel);
            } else if item.file_type().is_file() {
                let (parent_rel, name) = rel.rsplit_once('/').unwrap_or(("", &rel));
                let parent = if parent_rel.is_empty() || ensured.contains(parent_rel) {
                    dest.join(parent_rel)
                } else {
                    let p = ensure_dir(dest, parent_rel)?;
                    ensured.insert(parent_rel.to_owned());
                    p
                };
                // The input's own mode says nothing (Bazel makes every output r-x):
                // 0644 unless an `M` line, applied below, says otherwise. Created with
                // it (the helper's umask is 022), so one inode update, not three.
                copy_new_file(item.path(), &parent.join(name))
                    .with_context(|| format!("copying {}", item.path().display()))?;
                origins.insert(rel, item.path().to_path_buf());
            } else {
                bail!(
                    "{}: only regular files belong in files/",
                    item.path().display()
                );
            }
        }
    }
    let mut entries = read_meta(tree)?;
    // Modes last: a later entry may create what an `M` line is about.
    entries.sort_by_key(|e| matches!(e, MetaEntry::Mode(..)));
    for entry in entries {
        match &entry {
            MetaEntry::Deleted(p) => {
                if let Some(path) = existing_without_links(dest, p)? {
                    remove_any(&path)?;
                }
                forget_subtree(&mut origins, p);
            }
            MetaEntry::EmptyDir(p) => {
                ensure_dir(dest, p)?;
            }
            MetaEntry::Link(p, target) => {
                if !target.starts_with('/') && !link_stays_inside(p, target) {
                    bail!(
                        "{}: the link {p} -> {target} leads outside the tree",
                        tree.display()
                    );
                }
                let leaf = prepare_leaf(dest, p)?;
                std::os::unix::fs::symlink(target, &leaf)?;
            }
            MetaEntry::Mode(p, mode) => {
                let path = existing_without_links(dest, p)?
                    .ok_or_else(|| anyhow!("{}: M {p}: no such path", tree.display()))?;
                if fs::symlink_metadata(&path)?.file_type().is_symlink() {
                    bail!("{}: M {p}: a symbolic link has no mode", tree.display());
                }
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode))?;
            }
        }
    }
    Ok(origins)
}

/// Copies `src` to a new file `dest` with mode 0644, replacing what an earlier layer
/// left at `dest` (a file, a link: never written through).
fn copy_new_file(src: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let create = || {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(dest)
    };
    let mut out = match create() {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            remove_any(dest)?;
            create()?
        }
        Err(e) => return Err(e).with_context(|| format!("creating {}", dest.display())),
    };
    let mut input = fs::File::open(src)?;
    io::copy(&mut input, &mut out)?;
    Ok(())
}

/// Makes `root/rel` a directory, replacing whatever non-directory (file or link) is in
/// the way at any level: nothing is ever created through a symbolic link.
pub fn ensure_dir(root: &Path, rel: &str) -> Result<PathBuf> {
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(md) if md.is_dir() => {}
            Ok(_) => {
                fs::remove_file(&path)?;
                fs::create_dir(&path)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(path)
}

/// Readies `root/rel` to receive a new file or link: its parents are directories and
/// nothing is left at its place.
fn prepare_leaf(root: &Path, rel: &str) -> Result<PathBuf> {
    let parent = match rel.rsplit_once('/') {
        Some((parent, _)) => ensure_dir(root, parent)?,
        None => root.to_path_buf(),
    };
    let leaf = parent.join(rel.rsplit('/').next().unwrap_or(rel));
    if fs::symlink_metadata(&leaf).is_ok() {
        remove_any(&leaf)?;
    }
    Ok(leaf)
}

/// `root/rel` if it exists and no component above it is a symbolic link (or a file).
pub fn existing_without_links(root: &Path, rel: &str) -> Result<Option<PathBuf>> {
    let mut path = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(md) if i + 1 == parts.len() || md.is_dir() => {}
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(path))
}

/// Removes a file, link or whole directory (never following links).
pub fn remove_any(path: &Path) -> Result<()> {
    let md = fs::symlink_metadata(path)?;
    if md.is_dir() {
        make_dirs_writable(path);
        fs::remove_dir_all(path).with_context(|| format!("removing {}", path.display()))?;
    } else {
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

/// Gives the owner write and search permission on every directory below `path` (tasks
/// leave read-only directories, which would make removal fail).
pub fn make_dirs_writable(path: &Path) {
    for item in walkdir::WalkDir::new(path).into_iter().flatten() {
        if item.file_type().is_dir() {
            if let Ok(md) = item.metadata() {
                let mode = md.mode() | 0o700;
                let _ = fs::set_permissions(item.path(), fs::Permissions::from_mode(mode));
            }
        }
    }
}

/// Whether two files hold the same bytes.
fn same_content(a: &Path, b: &Path) -> Result<bool> {
    let (ma, mb) = (fs::metadata(a)?, fs::metadata(b)?);
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let (mut fa, mut fb) = (fs::File::open(a)?, fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        let m = read_full(&mut fb, &mut bb)?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Writes the tree (`files/`, `meta`) of what differs between `before` and the state
/// now under `root` into `out`. With an empty `before` it exports the whole tree (a
/// sysroot component). `origin` names, for a file of `before`, the input holding its
/// content. Fails on a relative link that climbs out of `root`.
pub fn write_delta(
    root: &Path,
    before: &Snapshot,
    after: &Snapshot,
    origin: &dyn Fn(&str) -> Option<PathBuf>,
    out: &Path,
) -> Result<()> {
    let files = out.join("files");
    fs::create_dir_all(&files)?;
    let mut meta: Vec<MetaEntry> = Vec::new();
    let parent_of = |p: &str| p.rsplit_once('/').map(|(d, _)| d.to_owned());
    for (path, now) in after {
        let was = before.get(path);
        match now {
            Entry::File { mode, .. } => {
                let changed = match was {
                    Some(w @ Entry::File { mode: old_mode, .. }) => {
                        w != now
                            && (old_mode != mode
                                || match origin(path) {
                                    Some(o) => !same_content(&o, &root.join(path))?,
                                    None => true,
                                })
                    }
                    _ => true,
                };
                if changed {
                    let target = files.join(path);
                    if let Some(parent) = target.parent() {
                        fs::create_dir_all(parent)?;
                    }
                    fs::copy(root.join(path), &target)?;
                    fs::set_permissions(
                        &target,
                        fs::Permissions::from_mode(default_file_mode(*mode)),
                    )?;
                    // Every mode but 0644 is in `meta`: the file's own bits do not
                    // survive Bazel's outputs (all r-x) nor its remote cache.
                    if *mode != 0o644 {
                        meta.push(MetaEntry::Mode(path.clone(), *mode));
                    }
                }
            }
            Entry::Dir { mode } => {
                let is_new = !matches!(was, Some(Entry::Dir { .. }));
                let prefix = format!("{path}/");
                let empty = after
                    .range(prefix.clone()..)
                    .next()
                    .is_none_or(|(k, _)| !k.starts_with(&prefix));
                if is_new && empty {
                    meta.push(MetaEntry::EmptyDir(path.clone()));
                }
                let old_mode = match was {
                    Some(Entry::Dir { mode }) => *mode,
                    _ => 0o755,
                };
                if *mode != old_mode || (is_new && *mode != 0o755) {
                    meta.push(MetaEntry::Mode(path.clone(), *mode));
                }
            }
            Entry::Link { target } => {
                if !target.starts_with('/') && !link_stays_inside(path, target) {
                    bail!("the task made a link {path} -> {target} that leads outside its tree");
                }
                if was != Some(now) {
                    meta.push(MetaEntry::Link(path.clone(), target.clone()));
                }
            }
        }
    }
    for path in before.keys() {
        if after.contains_key(path) {
            continue;
        }
        let covered = parent_of(path).is_some_and(|parent| match after.get(&parent) {
            Some(Entry::Dir { .. }) => false,
            Some(_) => true,
            None => before.contains_key(&parent),
        });
        if !covered {
            meta.push(MetaEntry::Deleted(path.clone()));
        }
    }
    meta.sort_by(|a, b| (a.path(), a.tag()).cmp(&(b.path(), b.tag())));
    let mut text = String::new();
    for e in &meta {
        text.push_str(&e.to_line());
        text.push('\n');
    }
    fs::write(out.join("meta"), text)?;
    Ok(())
}

/// Lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of a file's content, in hex.
pub fn file_digest(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    io::copy(&mut f, &mut HashWriter(&mut h))?;
    Ok(hex(&h.finalize()))
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The stamp: sha256 over the sorted (path, content digest) pairs of every file of the
/// output trees, each tree's paths prefixed by its name; lowercase hex.
pub fn stamp(trees: &[(&str, &Path)]) -> Result<String> {
    let mut pairs = Vec::new();
    for (name, tree) in trees {
        for item in walkdir::WalkDir::new(tree).min_depth(1) {
            let item = item?;
            if item.file_type().is_file() {
                let rel = item
                    .path()
                    .strip_prefix(tree)?
                    .to_string_lossy()
                    .into_owned();
                pairs.push((format!("{name}/{rel}"), file_digest(item.path())?));
            }
        }
    }
    pairs.sort();
    let mut h = Sha256::new();
    for (path, digest) in pairs {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(digest.as_bytes());
        h.update(b"\n");
    }
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bitzel-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn tree(root: &Path, files: &[(&str, &str)], meta: &str) -> PathBuf {
        for (p, c) in files {
            let f = root.join("files").join(p);
            fs::create_dir_all(f.parent().unwrap()).unwrap();
            fs::write(f, c).unwrap();
        }
        fs::create_dir_all(root.join("files")).unwrap();
        fs::write(root.join("meta"), meta).unwrap();
        root.to_path_buf()
    }

    #[test]
    fn meta_lines_round_trip_with_escaped_blanks() {
        for e in [
            MetaEntry::Deleted("a b/c".into()),
            MetaEntry::Link("l".into(), "../x y".into()),
            MetaEntry::EmptyDir("e\\d".into()),
            MetaEntry::Mode("f".into(), 0o600),
        ] {
            assert_eq!(MetaEntry::parse_line(&e.to_line()).unwrap(), e);
        }
        assert_eq!(MetaEntry::Mode("f".into(), 0o4755).to_line(), "M f 4755");
    }

    #[test]
    fn meta_paths_leaving_the_tree_are_refused() {
        assert!(MetaEntry::parse_line("D ../x").is_err());
        assert!(MetaEntry::parse_line("E /etc").is_err());
        assert!(MetaEntry::parse_line("X a").is_err());
    }

    #[test]
    fn later_layers_override_and_delete_earlier_ones() {
        let d = scratch("layers");
        let a = tree(&d.join("a"), &[("w/x", "1"), ("w/y", "1")], "L w/l y\n");
        let b = tree(
            &d.join("b"),
            &[("w/x", "2")],
            "D w/y\nE w/empty\nM w/x 0600\n",
        );
        let mut l = Layered::new(d.join("tmp")).unwrap();
        l.apply(&a).unwrap();
        l.apply(&b).unwrap();
        assert_eq!(fs::read_to_string(d.join("tmp/w/x")).unwrap(), "2");
        assert!(!d.join("tmp/w/y").exists());
        assert!(d.join("tmp/w/empty").is_dir());
        assert_eq!(
            fs::read_link(d.join("tmp/w/l")).unwrap(),
            PathBuf::from("y")
        );
        assert_eq!(
            fs::metadata(d.join("tmp/w/x")).unwrap().mode() & 0o7777,
            0o600
        );
        assert_eq!(l.origin("w/x"), Some(d.join("b/files/w/x").as_path()));
        assert_eq!(
            fs::read_to_string(d.join("a/files/w/y")).unwrap(),
            "1",
            "inputs untouched"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_layer_never_writes_through_a_link() {
        let d = scratch("through");
        fs::create_dir_all(d.join("outside")).unwrap();
        let a = tree(
            &d.join("a"),
            &[],
            &format!("L w {}\n", d.join("outside").display()),
        );
        let b = tree(&d.join("b"), &[("w/evil", "x")], "");
        let mut l = Layered::new(d.join("tmp")).unwrap();
        l.apply(&a).unwrap();
        l.apply(&b).unwrap();
        assert!(!d.join("outside/evil").exists());
        assert!(d.join("tmp/w/evil").is_file());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn relative_link_climbing_out_of_the_tree_is_refused() {
        let d = scratch("climb");
        let a = tree(&d.join("a"), &[], "L w/l ../../etc/passwd\n");
        let mut l = Layered::new(d.join("tmp")).unwrap();
        let err = format!("{:#}", l.apply(&a).unwrap_err());
        assert!(err.contains("leads outside"), "{err}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn delta_holds_only_changes_deletions_and_new_empty_dirs() {
        let d = scratch("delta");
        let a = tree(
            &d.join("a"),
            &[
                ("w/keep", "k"),
                ("w/change", "1"),
                ("w/same", "s"),
                ("w/gone/f", "g"),
            ],
            "",
        );
        let mut l = Layered::new(d.join("tmp")).unwrap();
        l.apply(&a).unwrap();
        let none = BTreeSet::new();
        let before = snapshot(&l.root, &none).unwrap();
        let t = &l.root;
        fs::write(t.join("w/change"), "2").unwrap();
        fs::remove_file(t.join("w/same")).unwrap();
        fs::write(t.join("w/same"), "s").unwrap(); // rewritten, equal content
        fs::remove_dir_all(t.join("w/gone")).unwrap();
        fs::create_dir_all(t.join("w/new/empty")).unwrap();
        fs::write(t.join("w/new/tool"), "#!/bin/sh").unwrap();
        fs::set_permissions(t.join("w/new/tool"), fs::Permissions::from_mode(0o750)).unwrap();
        let after = snapshot(&l.root, &none).unwrap();
        let out = d.join("out");
        write_delta(
            &l.root,
            &before,
            &after,
            &|p| l.origin(p).map(Path::to_path_buf),
            &out,
        )
        .unwrap();
        let files: Vec<_> = walkdir::WalkDir::new(out.join("files"))
            .sort_by_file_name()
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(out.join("files"))
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(files, ["w/change", "w/new/tool"]);
        assert_eq!(
            fs::read_to_string(out.join("meta")).unwrap(),
            "D w/gone\nE w/new/empty\nM w/new/tool 0750\n"
        );
        assert_eq!(
            fs::metadata(out.join("files/w/new/tool")).unwrap().mode() & 0o777,
            0o755
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn equal_trees_give_equal_stamps() {
        let d = scratch("stamp");
        let a = tree(&d.join("a"), &[("x", "1")], "E e\n");
        let b = tree(&d.join("b"), &[("x", "1")], "E e\n");
        let c = tree(&d.join("c"), &[("x", "2")], "E e\n");
        let s = |t: &Path| stamp(&[("delta", t)]).unwrap();
        assert_eq!(s(&a), s(&b));
        assert_ne!(s(&a), s(&c));
        assert_eq!(s(&a).len(), 64);
        fs::remove_dir_all(&d).unwrap();
    }
}
