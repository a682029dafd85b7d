//! TEMPORARY stand-ins for what the actions helper is building
//! (`emit::layout::VirtualLayout`, `emit::script::task_actions`,
//! `emit::sources::recipe_sources`), so that `bitzel gen` can be built and tested before
//! they land. Deliberately minimal; removed when theirs are merged.

#![allow(missing_docs)]

use crate::eval::collection::Collection;
use crate::eval::DataStore;

fn get(store: &DataStore, name: &str) -> String {
    store
        .get_var(name, true)
        .ok()
        .flatten()
        .map(|v| v.to_string())
        .unwrap_or_default()
}

fn flag(store: &DataStore, name: &str, flag: &str) -> Option<String> {
    store
        .get_var_flag(name, flag, true)
        .ok()
        .flatten()
        .map(|v| v.to_string())
}

/// Stand-in for `emit::layout::VirtualLayout`.
pub struct VirtualLayout {
    tmpdir: String,
    dl_dir: String,
    layers: Vec<(String, String)>,
}

impl VirtualLayout {
    pub fn new(config: &DataStore, collection: &Collection) -> VirtualLayout {
        let layers = collection
            .layers
            .iter()
            .map(|l| {
                let dir = l.pattern.trim_start_matches('^').trim_end_matches('/');
                let name = dir.rsplit('/').next().unwrap_or(dir).to_string();
                (dir.to_string(), name)
            })
            .collect();
        VirtualLayout {
            tmpdir: get(config, "TMPDIR"),
            dl_dir: get(config, "DL_DIR"),
            layers,
        }
    }

    pub fn virtualize(&self, text: &str) -> String {
        let mut out = text.to_string();
        if !self.tmpdir.is_empty() {
            out = out.replace(&self.tmpdir, "/bitzel/tmp");
        }
        if !self.dl_dir.is_empty() {
            out = out.replace(&self.dl_dir, "/bitzel/downloads");
        }
        for (dir, name) in &self.layers {
            out = out.replace(dir.as_str(), &format!("/bitzel/layers/{name}"));
        }
        out
    }

    pub fn workdir(&self, store: &DataStore) -> Option<String> {
        let w = get(store, "WORKDIR");
        w.strip_prefix(&format!("{}/", self.tmpdir))
            .map(str::to_string)
    }

    pub fn layer_path(&self, path: &str) -> Option<String> {
        self.layers.iter().find_map(|(dir, name)| {
            path.strip_prefix(&format!("{dir}/"))
                .map(|rest| format!("layers/{name}/{rest}"))
        })
    }
}

/// Stand-in for `emit::script::TaskKind`.
#[derive(Debug, Clone)]
pub enum TaskKind {
    Shell(String),
    Builtin { name: String, data: String },
    Fetch,
    Sysroot,
    NoExec,
    Unsupported { reason: String },
}

/// Stand-in for `emit::script::TaskAction`.
#[derive(Debug, Clone)]
pub struct TaskAction {
    pub task: String,
    pub kind: TaskKind,
    pub dirs: Vec<String>,
    pub cleandirs: Vec<String>,
    pub fakeroot: bool,
    pub nostamp: bool,
}

/// Stand-in for `emit::script::task_actions`.
pub fn task_actions(
    store: &DataStore,
    tasks: &[String],
    layout: &VirtualLayout,
) -> Vec<TaskAction> {
    let truthy = |t: &str, f: &str| flag(store, t, f).is_some_and(|v| !v.is_empty() && v != "0");
    tasks
        .iter()
        .map(|t| {
            let kind = if truthy(t, "noexec") {
                TaskKind::NoExec
            } else if t == "do_fetch" {
                TaskKind::Fetch
            } else if t == "do_prepare_recipe_sysroot" {
                TaskKind::Sysroot
            } else if truthy(t, "python") {
                TaskKind::Unsupported {
                    reason: format!("{t} is a Python task"),
                }
            } else {
                let body = store
                    .get_var(t, true)
                    .ok()
                    .flatten()
                    .map(|b| b.to_string())
                    .unwrap_or_default();
                TaskKind::Shell(layout.virtualize(&format!(
                    "#!/bin/sh\n\n{t}() {{\n{}\n}}\n\n{t}\n",
                    body.trim_end()
                )))
            };
            let list = |f: &str| {
                flag(store, t, f)
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|d| layout.virtualize(d))
                    .collect()
            };
            TaskAction {
                task: t.clone(),
                kind,
                dirs: list("dirs"),
                cleandirs: list("cleandirs"),
                fakeroot: truthy(t, "fakeroot"),
                nostamp: truthy(t, "nostamp"),
            }
        })
        .collect()
}

/// Stand-in for `emit::sources::Source`.
#[derive(Debug, Clone)]
pub enum Source {
    /// A download through Bazel's downloader.
    Http {
        name: String,
        urls: Vec<String>,
        sha256: String,
        downloaded_file_path: String,
    },
    /// A file of a layer.
    File { path: String, virtual_path: String },
}

/// Stand-in for `emit::sources::recipe_sources`.
pub fn recipe_sources(store: &DataStore, layout: &VirtualLayout) -> (Vec<Source>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let filespath = get(store, "FILESPATH");
    for entry in get(store, "SRC_URI").split_whitespace() {
        let url = entry.split(';').next().unwrap_or(entry);
        if let Some(rel) = url.strip_prefix("file://") {
            let found = filespath
                .split(':')
                .map(|dir| format!("{dir}/{rel}"))
                .find(|p| std::path::Path::new(p).is_file());
            match found.and_then(|p| layout.layer_path(&p).map(|v| (p, v))) {
                Some((path, virtual_path)) => out.push(Source::File { path, virtual_path }),
                None => problems.push(format!("{url}: not found in FILESPATH")),
            }
        } else if url.starts_with("http://") || url.starts_with("https://") {
            let file = url.rsplit('/').next().unwrap_or(url).to_string();
            let sha = flag(store, "SRC_URI", "sha256sum").unwrap_or_default();
            if sha.is_empty() {
                problems.push(format!("{url}: no SRC_URI[sha256sum]"));
                continue;
            }
            let name: String = file
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            out.push(Source::Http {
                name,
                urls: vec![url.to_string()],
                sha256: sha,
                downloaded_file_path: file,
            });
        }
    }
    (out, problems)
}
