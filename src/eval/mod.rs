//! Evaluation: computing what BitBake computes from the parsed metadata.
//!
//! - [`python`]: the bridge to embedded CPython for `${@...}` inline Python and
//!   anonymous functions, against a data store implementing [`python::VarSource`].

pub mod python;
