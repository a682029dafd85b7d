//! The sandbox helper: the program Bazel runs for each BitBake task.
//!
//! It will lay out the task's fixed virtual TMPDIR/WORKDIR inside the action's sandbox,
//! close the network and run the task script the way BitBake's `bb.build.exec_func`
//! does. Its command line, the virtual layout and the format of the trees it reads and
//! writes are the contract in `rules_bitbake/HELPER.md`, which `bitbake_task` already
//! follows. Until the execution work lands it refuses to run anything, loudly.

/// Runs the helper with its command-line arguments; returns the process exit status.
///
/// Not implemented yet: it says so and fails, so that no task ever "succeeds" silently.
pub fn run(args: &[String]) -> i32 {
    let _ = args;
    eprintln!("bitzel-sandbox: not yet: running BitBake tasks is not implemented in this version");
    2
}
