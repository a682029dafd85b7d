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
//! - [`python`]: the bridge to embedded CPython for `${@...}` inline Python and
//!   anonymous functions, against a data store implementing [`python::VarSource`].
//! - [`python_store`]: [`DataStore`] as that [`python::VarSource`] (BitBake's `d`), and
//!   [`python_store::BridgeInlinePython`], the [`InlinePython`] host backed by the bridge.
//! - [`interpret`]: the parser's statements applied to a store as `bb.parse.ast`'s nodes
//!   do, and files read as `bb.parse.handle` reads them (include/require/inherit search,
//!   `FILE`, functions, tasks, handlers).
//! - [`config`]: the configuration as the cooker reads it (`parseConfigurationFiles`),
//!   frozen into a [`Snapshot`] that recipe stores share.
//! - [`collection`]: the recipe files as the cooker collects them (`BBFILES`, `BBMASK`,
//!   bbappends with `%`, layer priorities).
//! - [`recipe`]: one recipe file parsed and finalised (`multi_finalize`: bbappends,
//!   BBCLASSEXTEND variants, deferred inherits, events, anonymous functions, task flags),
//!   and the choice of a recipe for a target (`findBestProvider`'s version rule).
//! - [`task_deps`]: `bb.build.add_tasks` (the `task` flags and `_task_deps`) computed on
//!   the store, with BitBake's code as the fallback.
//! - [`dump`]: a store printed as `bitbake -e` prints it (`bb.data.emit_env`).
//!
//! The rules are BitBake 2.8's (Poky scarthgap); where later BitBake differs, the
//! difference is a [`Dialect`]. tests/datastore.rs checks them value by value against real
//! BitBake (named cases and thousands of random statement sequences, each also run through
//! copy-on-write snapshots).
//!
//! Maps are `rustc-hash`'s FxHashMap: the keys are many short variable names, hashed on
//! every read, and they come from the layers being converted, not from an adversary.
//!
//! Replicated although they are accidents of BitBake's code, since its values are the
//! specification: the lowercase-name link (`foo:append` makes `foo` an override of `fo`),
//! `${@...}` in `A` reading `A[vardeps]` first, `renameVar` turning a `??=` default into a
//! value and dropping plain flags, and the `:remove`s that a variable adds to the memoised
//! read of the override variable it chose, which a later read choosing the same override
//! variable then applies (so that some values depend on the order of reads, in BitBake as
//! here).
//!
//! Deliberately not replicated (BitBake artefacts, not rules):
//!
//! - BitBake recomputes OVERRIDES only when a variable of its `overridevars` set is set, so
//!   after `delVar` of such a variable it keeps using the old overrides; this store
//!   recomputes whenever a variable OVERRIDES was computed from changes. Statements never
//!   observe the difference (BitBake's `:=` reads through a fresh copy); Python code that
//!   reads, deletes and reads again could.
//! - When that shared `:remove` set grows while BitBake iterates over it (a remove's
//!   expansion reading a variable that chooses the same override variable), BitBake fails
//!   with "Set changed size during iteration"; here the iteration uses the set as it was.
//! - When expanding OVERRIDES fails, BitBake leaves its `inoverride` flag set and later
//!   reads silently use no overrides; here every read reports the error.
//! - The `export` statement sets the integer 1 in BitBake (so `appendVarFlag` on it raises
//!   a TypeError); here flag values are strings and it is "1". `__exportlist` is not a
//!   variable here but [`DataStore::exported_names`].
//! - Not done yet: the renamed-variable and old-override-syntax (`_append`) checks of
//!   `setVar` (diagnostics, for the parser's side), 2.19's variable filters, non-string
//!   flag values, `${@...}` beyond [`NativeInlinePython`]'s trivial forms (a Python host
//!   plugs in through [`InlinePython`]).

#![deny(missing_docs)]

pub mod collection;
pub mod config;
pub mod datastore;
pub mod dump;
pub mod expand;
pub mod interpret;
pub mod overrides;
pub mod parser_processes;
pub mod python;
pub mod python_store;
pub mod recipe;
pub mod statement;
pub mod task_deps;

pub use datastore::{DataStore, Dialect, FlagList, Snapshot, VarHistoryEvent};
pub use expand::{ExpansionError, InlinePython, InlinePythonError, NativeInlinePython};
pub use statement::{AssignOp, Assignment, Location};
