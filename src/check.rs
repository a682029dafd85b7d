//! `bitzel check`: parse BitBake metadata and report every problem.
//! PLACEHOLDER until the layer walk lands.

use anyhow::Result;
use std::io::Write;
use std::path::PathBuf;

/// What a check run found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckSummary {
    /// Files parsed.
    pub files: usize,
    /// Errors reported.
    pub errors: usize,
    /// Warnings reported.
    pub warnings: usize,
}

/// Checks `paths` and writes diagnostics and a summary line to `out`.
pub fn run(paths: &[PathBuf], out: &mut impl Write) -> Result<CheckSummary> {
    let _ = (paths, out);
    Ok(CheckSummary::default())
}
