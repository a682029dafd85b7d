//! The plain serde context structs that the templates in templates/ lay out, one per
//! kind of generated file. Every decision about content and order is made when these
//! are filled (src/emit/workspace.rs); the templates only format them.

use serde::{Deserialize, Serialize};

/// `recipes/<PN>/BUILD.bazel`: one recipe variant, one target per task.
#[derive(Debug, Clone, Serialize)]
pub struct RecipeBuild {
    /// The generated-file header (comment lines).
    pub header: String,
    /// The symbols loaded from rules_bitbake's defs.bzl, sorted.
    pub loads: Vec<&'static str>,
    /// WORKDIR relative to the virtual TMPDIR (the `WORKDIR` constant of the file).
    pub workdir: String,
    /// The targets, in BitBake's task order.
    pub targets: Vec<TaskTarget>,
}

/// One task as a `bitbake_task` or `bitbake_sysroot` target; empty fields are left out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskTarget {
    /// The rule: `bitbake_task` or `bitbake_sysroot`.
    pub rule: &'static str,
    /// The task name, which is the target's name.
    pub name: String,
    /// Comment lines above the target (why a task cannot run yet, ...).
    pub comments: Vec<String>,
    /// Same-recipe predecessors (`addtask ... after`), as labels, in task order.
    pub after: Vec<String>,
    /// The builtin the helper implements for this Python task, if any.
    pub builtin: Option<String>,
    /// [cleandirs], virtual paths.
    pub cleandirs: Vec<String>,
    /// Other recipes' tasks this one waits for, as labels, sorted.
    pub depends: Vec<String>,
    /// bitbake_sysroot only: the do_populate_sysroot targets staged, sorted.
    pub deps: Vec<String>,
    /// [dirs], virtual paths (the last is the working directory).
    pub dirs: Vec<String>,
    /// [fakeroot].
    pub fakeroot: bool,
    /// [noexec] (and do_fetch, whose work is Bazel's repository phase).
    pub noexec: bool,
    /// [nostamp].
    pub nostamp: bool,
    /// The script file beside the BUILD file (`run.do_<task>`).
    pub script: Option<String>,
    /// Sources: (label, virtual destination), sorted by destination.
    pub srcs: Vec<(String, String)>,
    /// do_populate_sysroot: `target` or `native`.
    pub sysroot_export: Option<String>,
    /// `tags = ["manual"]`: the task is in no recipe's do_build closure (setscene,
    /// do_clean, do_devshell, do_listtasks...): buildable by name, left out of
    /// `//recipes/...`, which then builds what BitBake's do_build of every recipe runs.
    pub manual: bool,
    /// Whether the target takes the `workdir` attribute.
    pub workdir: bool,
}

/// `run.do_<task>`: a task's script or a builtin's data.
#[derive(Debug, Clone, Serialize)]
pub struct TaskScript {
    /// A `#!` line the script starts with, kept first.
    pub shebang: Option<String>,
    /// The generated-file header (comment lines).
    pub header: String,
    /// The rest of the script.
    pub body: String,
}

/// One download through Bazel's downloader (`http_file`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Download {
    /// The repository's name (`@<name>//file`).
    pub name: String,
    /// The file name in the repository and under the virtual DL_DIR.
    pub downloaded_file_path: String,
    /// The checksum Bazel verifies (SRC_URI[sha256sum]).
    pub sha256: String,
    /// The URLs (BitBake's URL first, then its mirrors).
    pub urls: Vec<String>,
}

/// One git source at a fixed commit: rules_bitbake's `bitbake_git_repository`, which
/// fetches `remote` and keeps `rev` (with its history and the tags merged into it) as a
/// git bundle (`@<name>//file`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct GitRepository {
    /// The repository's name (`@<name>//file`).
    pub name: String,
    /// The remote, as BitBake's git fetcher names it (`PROTOCOL://[USER@]HOST/PATH`).
    pub remote: String,
    /// The commit (SRCREV).
    pub rev: String,
    /// The branch that must contain it; None with `nobranch=1`.
    pub branch: Option<String>,
    /// BitBake's clone directory under DL_DIR/git2 (`<host>.<path>`), which the rule
    /// tries first when BITZEL_DL_DIR names a BitBake DL_DIR.
    pub clone_dir: String,
    /// `gitsm://`: the submodules too (the repository is then a tar of bundles).
    pub submodules: bool,
    /// `name=a,b,...`: the other names' commits and branches (`""` with nobranch=1),
    /// fetched and checked too.
    pub other_revs: Vec<String>,
    /// Their branches, in the same order.
    pub other_branches: Vec<String>,
}

/// The workspace-level files: WORKSPACE, MODULE.bazel, sources.bzl, extensions.bzl...
#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceFiles {
    /// The generated-file header (comment lines).
    pub header: String,
    /// The workspace's (module's) name.
    pub name: String,
    /// Where the copy of rules_bitbake is, relative to the workspace.
    pub rules_bitbake: String,
    /// rules_bitbake's module version.
    pub rules_version: String,
    /// Every download, sorted by name.
    pub downloads: Vec<Download>,
    /// Every git repository, sorted by name.
    pub git_repositories: Vec<GitRepository>,
}

/// `layers/<layer>/BUILD.bazel` (or `corebase/BUILD.bazel`): the copied file:// sources
/// of one layer (or of COREBASE).
#[derive(Debug, Clone, Serialize)]
pub struct LayerFiles {
    /// The generated-file header (comment lines).
    pub header: String,
    /// The package, which is also where tasks see the files under `/bitzel`
    /// (`layers/meta`, `corebase`).
    pub package: String,
    /// The files, relative to the layer, sorted.
    pub files: Vec<String>,
}
