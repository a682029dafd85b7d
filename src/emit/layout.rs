//! The virtual layout of rules_bitbake/HELPER.md and the mapping of real paths onto it.
//!
//! Generated scripts and data never hold a path of the machine they were generated on.
//! Every directory of the build that a task can see (or that a value merely names) is
//! given a fixed virtual path, and [`VirtualLayout::virtualize`] rewrites text that holds
//! the real ones:
//!
//! | real (BitBake variable)          | virtual                      |
//! |----------------------------------|------------------------------|
//! | `TMPDIR`                         | `/bitzel/tmp`                |
//! | `DL_DIR`                         | `/bitzel/downloads`          |
//! | each `BBLAYERS` entry            | `/bitzel/layers/<layer>`     |
//! | `TOPDIR` (the build directory)   | `/bitzel` (what else lies under it: `/bitzel/<rel>`) |
//! | `COREBASE`                       | `/bitzel/corebase`           |
//! | `HOME` of the configuration      | `/bitzel/home`               |
//! | a `HOSTTOOLS`/`HOSTTOOLS_NONFATAL` tool outside `/usr/bin`, `/bin`, `/usr/sbin`, `/sbin` | `/usr/bin/<tool>` |
//! | the interpreter running BitBake (`sys.executable`, bitbake.conf's `PYTHON`) | `/usr/bin/python3` |
//!
//! Values set by inline Python (Poky's `COREBASE = '${@os.path.normpath("${LAYERDIR}/../")}'`)
//! are expanded with the Python bridge when there is one. A host tool is the file
//! base.bbclass's `setup_hosttools_dir` links into `HOSTTOOLS_DIR`: the first executable of
//! that name on the generator's `PATH` (BitBake's `BB_ORIGENV` `PATH`, without its
//! `*/scripts` entries); the sandbox shows the host's `/usr/bin` in its place. The
//! interpreter is `python3` on that `PATH` too (bin/bitbake runs as `env python3`).
//!
//! The longest real path wins, so a layer inside `COREBASE` (Poky's `meta`) is
//! `/bitzel/layers/meta`, and `TMPDIR` inside `TOPDIR` is `/bitzel/tmp`. A real path is
//! replaced only where it ends at a path boundary (`/`, the end, or a character that
//! cannot continue a file name in a value: not a letter, digit, `-`, `_`, `.`, `+`), so
//! `/build/tmp` never rewrites `/build/tmpfoo`. A real path of several components is
//! replaced wherever it starts (BitBake's `${WORKDIR}${COREBASE}/scripts` spells two real
//! paths one after the other); a one-component one (HOME `/root`, also the target's
//! ROOT_HOME) only where a path starts with it, never inside `/home/root`. Only `/bitzel/tmp`,
//! `/bitzel/downloads` (the task's `--source` files) and `/bitzel/layers` (file://
//! sources) exist in the sandbox; the others are names only.
//!
//! [`VirtualLayout::holds_real_path`] finds what virtualizing left: a real path of the
//! layout, or any path under the machine's roots (`TOPDIR`, `HOME`, `COREBASE`, the
//! directory holding each layer).
//!
//! `<layer>` is the layer directory's base name (`meta`, `meta-poky`); when two layers
//! share one, each of them is `<base name>-<collection>`, the collection being the
//! `BBFILE_COLLECTIONS` entry whose `BBFILE_PATTERN` matches the directory (collections are
//! unique, as BitBake's cooker requires), and `-<n>` (in `BBLAYERS` order) when that is
//! not enough. Neither depends on where the layers are on disk.

use crate::eval::collection::Collection;
use crate::eval::config::Configuration;
use crate::eval::datastore::DataStore;
use crate::eval::python::PythonBridge;
use crate::eval::python_store::BridgeInlinePython;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The virtual root: every virtual path starts with it.
pub const ROOT: &str = "/bitzel";
/// `TMPDIR`'s virtual path.
pub const TMPDIR: &str = "/bitzel/tmp";
/// `DL_DIR`'s virtual path.
pub const DL_DIR: &str = "/bitzel/downloads";
/// The parent of the layers' virtual paths.
pub const LAYERS: &str = "/bitzel/layers";
/// `COREBASE`'s virtual path (a name only: nothing of it is in the sandbox).
pub const COREBASE: &str = "/bitzel/corebase";
/// The configuration's `HOME`, as the helper sets it.
pub const HOME: &str = "/bitzel/home";
/// Where a host tool is in the sandbox (the first of the host directories it shows,
/// which stand for `HOSTTOOLS_DIR`).
pub const HOST_BIN: &str = "/usr/bin";
/// The host directories the sandbox shows as they are: a host tool there needs no
/// virtual path.
pub const HOST_DIRS: [&str; 4] = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

/// One layer of the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerMapping {
    /// The layer's directory on this machine (a `BBLAYERS` entry).
    pub real: PathBuf,
    /// Its `<layer>` name: the virtual path is `/bitzel/layers/<name>`.
    pub name: String,
    /// The `BBFILE_COLLECTIONS` entry of the layer, if one matches.
    pub collection: Option<String>,
}

/// The mapping of one build's real directories onto HELPER.md's virtual layout.
#[derive(Debug, Clone)]
pub struct VirtualLayout {
    /// `(real, virtual)` pairs, longest real path first.
    mappings: Vec<(String, String)>,
    /// The layers, in `BBLAYERS` order.
    layers: Vec<LayerMapping>,
    /// The real `TMPDIR`.
    tmpdir: Option<String>,
    /// Directories of the machine no output may name (see the module docs), longest
    /// first.
    roots: Vec<String>,
}

/// `bb.utils.which(path, name, executable=True)`: the first `dir/name` of the
/// colon-separated `path` that is an executable file.
pub fn which(path: &str, name: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    path.split(':').filter(|d| !d.is_empty()).find_map(|d| {
        let p = format!("{d}/{name}");
        let m = std::fs::metadata(&p).ok()?;
        (m.is_file() && m.permissions().mode() & 0o111 != 0).then_some(p)
    })
}

fn get(store: &DataStore, name: &str) -> Option<String> {
    store
        .get_text(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `os.path.normpath` for an absolute path: no `//`, `.` or trailing `/`; `..` removes
/// the component before it.
pub fn normpath(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if path.starts_with('/') {
        format!("/{}", parts.join("/"))
    } else {
        parts.join("/")
    }
}

impl VirtualLayout {
    /// The layout of the build `config` describes: TMPDIR, DL_DIR, TOPDIR, COREBASE, HOME,
    /// the layers of `BBLAYERS` (named as the module docs say, with `collection`'s
    /// patterns) and the host tools found on the generator's `PATH`. Inline Python
    /// (Poky's COREBASE, `sys.executable`) is evaluated with `python`; without it those
    /// values are missing.
    pub fn new(
        config: &Configuration,
        collection: &Collection,
        python: Option<&Arc<PythonBridge>>,
    ) -> VirtualLayout {
        let mut store = DataStore::from_snapshot(config.snapshot.clone());
        if let Some(bridge) = python {
            store.set_inline_python(Arc::new(BridgeInlinePython::new(bridge.clone())));
        }
        let layer_dirs: Vec<String> = get(&store, "BBLAYERS")
            .unwrap_or_default()
            .split_whitespace()
            .map(normpath)
            .collect();
        let collections: Vec<(String, regex::Regex)> = collection
            .layers
            .iter()
            .filter_map(|l| {
                regex::Regex::new(&l.pattern.replace("\\Z", "\\z"))
                    .ok()
                    .map(|r| (l.name.clone(), r))
            })
            .collect();
        let dirs: Vec<(String, Option<String>)> = layer_dirs
            .iter()
            .map(|dir| {
                let probe = format!("{dir}/");
                let coll = collections
                    .iter()
                    .find(|(_, r)| r.find(&probe).is_some_and(|m| m.start() == 0))
                    .map(|(n, _)| n.clone());
                (dir.clone(), coll)
            })
            .collect();
        // setup_hosttools_dir's PATH: BB_ORIGENV's, without its */scripts entries.
        let path: String = std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .filter(|p| !p.ends_with("/scripts"))
            .collect::<Vec<_>>()
            .join(":");
        let mut tools: Vec<(String, String)> = Vec::new();
        for var in ["HOSTTOOLS", "HOSTTOOLS_NONFATAL"] {
            for tool in get(&store, var).unwrap_or_default().split_whitespace() {
                if let Some(real) = which(&path, tool) {
                    tools.push((real, tool.to_string()));
                }
            }
        }
        if python.is_some() {
            if let Ok(exe) = store.expand("${@__import__('sys').executable}", None) {
                if exe.starts_with('/') {
                    tools.push((exe, "python3".to_string()));
                }
            }
        }
        Self::from_parts(
            get(&store, "TMPDIR").as_deref(),
            get(&store, "DL_DIR").as_deref(),
            get(&store, "TOPDIR").as_deref(),
            get(&store, "COREBASE").as_deref(),
            get(&store, "HOME").as_deref(),
            &dirs,
            &tools,
        )
    }

    /// The layout from its parts: the real TMPDIR, DL_DIR, TOPDIR, COREBASE, HOME (each
    /// optional), the layers as (directory, collection) in `BBLAYERS` order and the host
    /// tools as (real path, tool name); a tool already in [`HOST_DIRS`] is left as it is.
    pub fn from_parts(
        tmpdir: Option<&str>,
        dl_dir: Option<&str>,
        topdir: Option<&str>,
        corebase: Option<&str>,
        home: Option<&str>,
        layers: &[(String, Option<String>)],
        host_tools: &[(String, String)],
    ) -> VirtualLayout {
        let base = |d: &str| {
            d.rsplit('/')
                .find(|c| !c.is_empty())
                .unwrap_or("layer")
                .to_string()
        };
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for (d, _) in layers {
            *count.entry(base(d)).or_default() += 1;
        }
        let mut names: Vec<String> = layers
            .iter()
            .map(|(d, c)| {
                let b = base(d);
                match c {
                    Some(c) if count[&b] > 1 => format!("{b}-{c}"),
                    _ => b,
                }
            })
            .collect();
        // Still equal (no collection, or the same one twice): number them in order.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let totals: BTreeMap<String, usize> = names.iter().fold(BTreeMap::new(), |mut m, n| {
            *m.entry(n.clone()).or_default() += 1;
            m
        });
        for n in names.iter_mut() {
            if totals[n] > 1 {
                let k = seen.entry(n.clone()).or_default();
                *k += 1;
                *n = format!("{n}-{k}");
            }
        }
        let mut mappings: Vec<(String, String)> = Vec::new();
        let mut add = |real: Option<&str>, virt: String| {
            if let Some(r) = real {
                let r = normpath(r);
                if r.starts_with('/') && r != "/" && !mappings.iter().any(|(x, _)| *x == r) {
                    mappings.push((r, virt));
                }
            }
        };
        let layer_maps: Vec<LayerMapping> = layers
            .iter()
            .zip(&names)
            .map(|((d, c), n)| LayerMapping {
                real: PathBuf::from(normpath(d)),
                name: n.clone(),
                collection: c.clone(),
            })
            .collect();
        add(tmpdir, TMPDIR.to_string());
        add(dl_dir, DL_DIR.to_string());
        for l in &layer_maps {
            add(l.real.to_str(), format!("{LAYERS}/{}", l.name));
        }
        add(corebase, COREBASE.to_string());
        add(topdir, ROOT.to_string());
        add(home, HOME.to_string());
        let mut roots: Vec<String> = Vec::new();
        for (real, tool) in host_tools {
            let r = normpath(real);
            let dir = r.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            if !HOST_DIRS.contains(&dir) {
                add(Some(&r), format!("{HOST_BIN}/{tool}"));
            }
        }
        mappings.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        roots.extend([topdir, corebase, home].into_iter().flatten().map(normpath));
        for l in &layer_maps {
            if let Some(parent) = l.real.parent().and_then(|p| p.to_str()) {
                roots.push(parent.to_string());
            }
        }
        roots.extend(mappings.iter().map(|(r, _)| r.clone()));
        roots.retain(|r| r.starts_with('/') && r.len() > 1 && !HOST_DIRS.contains(&r.as_str()));
        roots.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        roots.dedup();
        VirtualLayout {
            mappings,
            layers: layer_maps,
            tmpdir: tmpdir.map(normpath),
            roots,
        }
    }

    /// The layers, in `BBLAYERS` order.
    pub fn layers(&self) -> &[LayerMapping] {
        &self.layers
    }

    /// The `(real, virtual)` pairs, longest real path first.
    pub fn mappings(&self) -> &[(String, String)] {
        &self.mappings
    }

    /// `text` with every real path of the layout replaced by its virtual path (longest
    /// first, at path boundaries; see the module docs).
    pub fn virtualize(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut i = 0;
        while let Some(off) = text[i..].find('/') {
            let pos = i + off;
            let mut matched = None;
            for (real, virt) in &self.mappings {
                if text[pos..].starts_with(real.as_str()) && may_replace(bytes, pos, real) {
                    let end = pos + real.len();
                    if end == bytes.len() || !continues_name(bytes[end]) {
                        matched = Some((end, virt));
                        break;
                    }
                }
            }
            match matched {
                Some((end, virt)) => {
                    out.push_str(&text[last..pos]);
                    out.push_str(virt);
                    last = end;
                    i = end;
                }
                None => i = pos + 1,
            }
            if i >= text.len() {
                break;
            }
        }
        out.push_str(&text[last..]);
        out
    }

    /// The first directory of the machine (a real path of the layout or one of the
    /// machine's roots: see the module docs) that `text` still names, at a path
    /// boundary; after [`VirtualLayout::virtualize`] there should be none.
    pub fn holds_real_path(&self, text: &str) -> Option<&str> {
        let bytes = text.as_bytes();
        self.roots
            .iter()
            .find(|root| {
                text.match_indices(root.as_str()).any(|(at, _)| {
                    let end = at + root.len();
                    may_replace(bytes, at, root)
                        && (end == bytes.len() || !continues_name(bytes[end]))
                })
            })
            .map(|r| r.as_str())
    }

    /// The machine's directories [`VirtualLayout::holds_real_path`] looks for, longest
    /// first.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// WORKDIR of the recipe `store`, relative to the virtual TMPDIR
    /// (`work/core2-64-poky-linux/zlib/1.3.1`). A WORKDIR outside TMPDIR comes back
    /// virtualized and absolute, which the helper refuses.
    pub fn workdir(&self, store: &DataStore) -> String {
        let workdir = get(store, "WORKDIR").unwrap_or_default();
        let v = self.virtualize(&normpath(&workdir));
        match v.strip_prefix(TMPDIR).and_then(|r| r.strip_prefix('/')) {
            Some(rel) => rel.to_string(),
            None => v,
        }
    }

    /// The virtual path, relative to `/bitzel`, of a file of a layer:
    /// `layers/<layer>/<path in the layer>`; `None` outside every layer.
    pub fn layer_path(&self, real: &Path) -> Option<String> {
        let real = normpath(real.to_str()?);
        self.layers
            .iter()
            .filter_map(|l| {
                let dir = l.real.to_str()?;
                let rest = real.strip_prefix(dir)?;
                if rest.is_empty() {
                    Some((dir.len(), format!("layers/{}", l.name)))
                } else {
                    let rest = rest.strip_prefix('/')?;
                    Some((dir.len(), format!("layers/{}/{rest}", l.name)))
                }
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, p)| p)
    }

    /// The virtual path, relative to `/bitzel`, of a file the workspace can carry as a
    /// source: a layer's ([`VirtualLayout::layer_path`]), else one under COREBASE
    /// outside every layer, `corebase/<path under COREBASE>` (Poky's FILESPATH reaches
    /// `${COREBASE}/scripts` for qemu-helper-native); `None` elsewhere.
    pub fn source_path(&self, real: &Path) -> Option<String> {
        if let Some(path) = self.layer_path(real) {
            return Some(path);
        }
        let virtual_path = self.virtualize(&normpath(real.to_str()?));
        let rest = virtual_path.strip_prefix(COREBASE)?.strip_prefix('/')?;
        Some(format!("{}/{rest}", &COREBASE["/bitzel/".len()..]))
    }

    /// The real TMPDIR, if the configuration sets one.
    pub fn real_tmpdir(&self) -> Option<&str> {
        self.tmpdir.as_deref()
    }
}

/// The workspace package holding a copied file:// source and the file's path in it:
/// `layers/<layer>` for a layer's file, `corebase` for one under COREBASE (see
/// [`VirtualLayout::source_path`]).
pub fn source_package(virtual_path: &str) -> Option<(&str, &str)> {
    match virtual_path.strip_prefix("layers/") {
        Some(rest) => {
            let layer = rest.split_once('/')?.0;
            let package = &virtual_path[.."layers/".len() + layer.len()];
            Some((package, &rest[layer.len() + 1..]))
        }
        None => virtual_path
            .split_once('/')
            .filter(|(p, _)| *p == "corebase"),
    }
}

/// Whether a real path may be replaced at `pos` of `bytes` (a `/`): a path of several
/// components anywhere (BitBake spells `${D}${STAGING_DIR_NATIVE}` or
/// `${WORKDIR}${COREBASE}/scripts` as one real path after another); a one-component one
/// (HOME `/root`) only where a path starts with it, not as a later component of a
/// longer path of the target (`/home/root`, `${D}/root`): not when a `/` followed by a
/// name lies between `pos` and the start of its word.
fn may_replace(bytes: &[u8], pos: usize, real: &str) -> bool {
    if real.matches('/').count() > 1 {
        return true;
    }
    let mut named = false;
    for &b in bytes[..pos].iter().rev() {
        if b == b'/' {
            if named {
                return false;
            }
        } else if continues_name(b) {
            named = true;
        } else {
            break;
        }
    }
    true
}

/// Whether byte `b` may continue a file name inside a value (so that a real path
/// followed by it is a longer name, not that path).
fn continues_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'~' | b'@' | b'%')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> VirtualLayout {
        VirtualLayout::from_parts(
            Some("/home/u/build/tmp"),
            Some("/home/u/downloads"),
            Some("/home/u/build"),
            Some("/home/u/poky"),
            Some("/home/u"),
            &[
                ("/home/u/poky/meta".into(), Some("core".into())),
                ("/home/u/poky/meta-poky".into(), Some("yocto".into())),
                ("/home/u/other/meta".into(), Some("other".into())),
            ],
            &[
                ("/home/u/.pyenv/shims/python3".into(), "python3".into()),
                ("/usr/bin/gcc".into(), "gcc".into()),
            ],
        )
    }

    #[test]
    fn longest_path_wins_at_boundaries() {
        let l = layout();
        assert_eq!(
            l.virtualize("-isystem/home/u/build/tmp/work/x:/home/u/build/tmpfoo /home/u/poky/meta-poky/conf /home/u/poky/scripts /home/u/.ssh"),
            "-isystem/bitzel/tmp/work/x:/bitzel/tmpfoo /bitzel/layers/meta-poky/conf /bitzel/corebase/scripts /bitzel/home/.ssh"
        );
        assert_eq!(l.virtualize("/home/u/build"), "/bitzel");
        assert_eq!(l.virtualize("no paths"), "no paths");
    }

    #[test]
    fn real_paths_one_after_another_and_inside_target_paths() {
        let l = layout();
        // ${WORKDIR}${COREBASE}/scripts: both real, both virtualized.
        assert_eq!(
            l.virtualize("/home/u/build/tmp/work/a/1.0/home/u/poky/scripts/x"),
            "/bitzel/tmp/work/a/1.0/bitzel/corebase/scripts/x"
        );
        assert_eq!(
            l.virtualize("-I../recipe-sysroot/home/u/build/tmp/work/a/x"),
            "-I../recipe-sysroot/bitzel/tmp/work/a/x"
        );
        // HOME `/root` is also the target's ROOT_HOME: inside a longer path it stays.
        let r = VirtualLayout::from_parts(None, None, None, None, Some("/root"), &[], &[]);
        assert_eq!(
            r.virtualize("s#ROOTHOME#/home/root# /root/.x ${D}/home/root"),
            "s#ROOTHOME#/home/root# /bitzel/home/.x ${D}/home/root"
        );
        assert_eq!(r.holds_real_path("a/home/root b"), None);
        assert_eq!(r.holds_real_path("a /root/.pyenv b"), Some("/root"));
    }

    #[test]
    fn host_tools_outside_the_host_directories_are_the_sandboxs() {
        let l = layout();
        assert_eq!(
            l.virtualize("-DPython3_EXECUTABLE:PATH=/home/u/.pyenv/shims/python3 /usr/bin/gcc"),
            "-DPython3_EXECUTABLE:PATH=/usr/bin/python3 /usr/bin/gcc"
        );
    }

    #[test]
    fn paths_under_the_machines_roots_are_found() {
        let l = layout();
        // /home/u/other holds a layer: its checkout is the machine's.
        assert_eq!(
            l.holds_real_path("x /home/u/other/scripts/y"),
            Some("/home/u/other")
        );
        assert_eq!(
            l.holds_real_path("x /home/u/.pyenv/versions/3/bin/python3"),
            Some("/home/u")
        );
        assert_eq!(
            l.holds_real_path(&l.virtualize("/home/u/build/tmp/x /home/u/poky/scripts")),
            None
        );
    }

    #[test]
    fn layer_names_are_unique_and_independent_of_the_machine() {
        let names: Vec<_> = layout().layers().iter().map(|l| l.name.clone()).collect();
        assert_eq!(names, ["meta-core", "meta-poky", "meta-other"]);
        let l = layout();
        assert_eq!(
            l.layer_path(Path::new("/home/u/poky/meta-poky/recipes/a/files/x.patch")),
            Some("layers/meta-poky/recipes/a/files/x.patch".into())
        );
        assert_eq!(l.layer_path(Path::new("/home/u/poky/scripts/x")), None);
        assert_eq!(
            l.source_path(Path::new("/home/u/poky/scripts/x")),
            Some("corebase/scripts/x".into())
        );
        assert_eq!(
            l.source_path(Path::new("/home/u/poky/meta-poky/conf/a")),
            Some("layers/meta-poky/conf/a".into())
        );
        assert_eq!(l.source_path(Path::new("/home/u/elsewhere/x")), None);
        assert_eq!(
            source_package("layers/meta-poky/conf/a"),
            Some(("layers/meta-poky", "conf/a"))
        );
        assert_eq!(
            source_package("corebase/scripts/x"),
            Some(("corebase", "scripts/x"))
        );
        assert_eq!(source_package("downloads/x"), None);
    }
}
