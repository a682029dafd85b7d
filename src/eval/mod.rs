//! Evaluation: what BitBake computes from parsed statements.
//!
//! The foundation is the data store ([`DataStore`]), a native counterpart of BitBake's
//! `bb.data_smart.DataSmart`: variables with their value, flags and the
//! override-conditional `:append`/`:prepend`/`:remove` operations, override selection by
//! `OVERRIDES` at read time, `${VAR}` expansion with `${@...}` inline Python handed to an
//! [`InlinePython`] host, and the per-variable history that `bitbake -e` prints.
//!
//! The store takes statements that are already parsed ([`Assignment`] and the `export` and
//! `unset` forms) and does with them what `bb.parse.ast.DataNode.eval` does; the parser's
//! AST is converted into these types.
//!
//! - [`statement`]: the statement types ([`Assignment`], [`AssignOp`], [`Location`]).
//! - [`datastore`]: [`DataStore`] and its copy-on-write [`Snapshot`]s.
//! - [`overrides`]: the naming rules of override-suffixed variables and the selection of the
//!   active override (data_smart's `__setvar_regexp__`, `_setvar_update_overrides`, the
//!   override loop of `getVarFlag`).
//! - [`expand`]: `${...}` expansion (`expandWithRefs`) and the [`InlinePython`] seam.
//!
//! The rules are BitBake 2.8's (Poky scarthgap); where later BitBake differs, the
//! difference is a [`Dialect`].

pub mod datastore;
pub mod expand;
pub mod overrides;
pub mod statement;

pub use datastore::{DataStore, Dialect, Snapshot, VarHistoryEvent};
pub use expand::{ExpansionError, InlinePython, InlinePythonError, NativeInlinePython};
pub use statement::{AssignOp, Assignment, Location};
