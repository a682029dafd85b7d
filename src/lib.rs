//! bitzel: reads BitBake layers and writes a Bazel workspace that builds the same things.
//!
//! The crate is layered the way data flows (see ARCHITECTURE.md); a lower layer never
//! imports a higher one:
//!
//! - [`syntax`]: a lossless parser for BitBake's files (.bb, .bbclass, .bbappend, .inc,
//!   .conf) over a rowan tree, with a typed AST.
//! - [`diagnostic`]: errors and warnings with file, line, column and the source line.
//! - [`eval`]: evaluation: the data store (BitBake's `DataSmart`) and the bridge to
//!   embedded CPython for inline Python and anonymous functions.
//! - [`graph`]: the task graph, computed from per-recipe facts the way BitBake's
//!   bb/providers.py, bb/taskdata.py and bb/runqueue.py compute it (`bitbake -g`).
//! - [`emit`]: the Bazel workspace `bitzel gen` writes (BUILD files, task scripts, sources).
//! - [`check`]: `bitzel check`, which parses the metadata of layers and reports problems.
//! - [`sandbox`]: the helper that Bazel runs for each task (its own binary).

pub mod check;
pub mod diagnostic;
pub mod emit;
pub mod eval;
pub mod graph;
pub mod sandbox;
pub mod syntax;
