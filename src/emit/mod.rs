//! Emission: the Bazel workspace `bitzel gen` writes, from the evaluated recipes and the
//! task graph (the highest layer; it reads `eval` and `graph`, nothing reads it).
//!
//! - [`layout`]: the virtual layout of rules_bitbake/HELPER.md (`/bitzel/tmp`, ...) and
//!   the mapping of the machine's paths (TMPDIR, DL_DIR, the layers) onto it.
//! - [`script`]: what each task runs: the shell script as BitBake writes `run.do_<task>`,
//!   or the data of a builtin the sandbox helper implements (unpack, patch, ...).
//! - [`sources`]: SRC_URI entries as Bazel repository rules and file:// inputs.
//! - [`context`]: the plain serde structs the templates in templates/ lay out.
//! - [`workspace`]: the files of the workspace, planned per recipe and rendered.
//! - [`rules`]: rules_bitbake, embedded, as every workspace gets a copy of it.
//! - [`writer`]: writing a workspace to disk (atomic, only changes, a manifest).

pub mod context;
pub mod layout;
pub mod rules;
pub mod script;
pub mod sources;
pub mod workspace;
pub mod writer;
