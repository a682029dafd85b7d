//! The sandbox helper: the program Bazel runs for each BitBake task (`bitzel-sandbox`).
//!
//! Its command line, the virtual layout and the tree format it reads and writes are
//! the contract in `rules_bitbake/HELPER.md`, which `bitbake_task` follows. The helper
//! parses its arguments ([`args`]), enters its own user, mount and network namespaces
//! before anything else ([`namespace`]), layers the predecessors' deltas into a scratch
//! TMPDIR ([`state`]), runs the task in the virtual layout ([`layout`], [`run`]) and
//! writes what the task changed.
//!
//! Exit status: 0 success, 1 the task failed (or could not be isolated or its inputs
//! are unusable), 2 a usage error or a task the helper does not implement yet.

pub mod args;
pub mod fakeroot;
pub mod hardcode;
pub mod layout;
pub mod namespace;
pub mod patch;
pub mod run;
pub mod staging;
pub mod state;
pub mod unpack;

/// Runs the helper with its command-line arguments; returns the process exit status.
pub fn run(raw: &[String]) -> i32 {
    let parsed = args::expand_params_file(raw).and_then(|a| args::parse(&a));
    let args = match parsed {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bitzel-sandbox: {e}");
            eprintln!("usage: bitzel-sandbox run --task T --pn PN --workdir W --script S --delta-out D --stamp-out S --log-out L [...] (see rules_bitbake/HELPER.md)");
            return 2;
        }
    };
    // What the task does, read before anything runs: bad data is a usage error.
    let action = match read_action(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bitzel-sandbox: {}:{}: {e}", args.pn, args.task);
            return 2;
        }
    };
    // BitBake runs tasks with umask 022 (BB_DEFAULT_UMASK); the helper's own files too.
    // SAFETY: umask only sets the process's file mode mask.
    unsafe {
        libc::umask(0o022);
    }
    // First, while the process is single-threaded: the namespaces.
    if let Err(e) = namespace::enter() {
        eprintln!("bitzel-sandbox: {}:{}: {e:#}", args.pn, args.task);
        return 1;
    }
    match run::run_task(&args, &action) {
        Ok(run::Outcome::Succeeded) => 0,
        Ok(run::Outcome::Failed) => 1,
        Err(e) => {
            eprintln!("bitzel-sandbox: {}:{}: {e:#}", args.pn, args.task);
            1
        }
    }
}

/// The task's action from `--builtin` and `--script`: a shell script, or a builtin the
/// helper implements (`unpack` and `patch` so far; do_populate_sysroot is a generated
/// shell script, src/emit/script.rs).
fn read_action(args: &args::RunArgs) -> Result<run::Action, args::UsageError> {
    let data = std::fs::read(&args.script).map_err(|e| {
        args::UsageError(format!(
            "cannot read --script {}: {e}",
            args.script.display()
        ))
    })?;
    match args.builtin.as_deref() {
        None => Ok(run::Action::Shell(data)),
        Some("unpack") => {
            let text = String::from_utf8(data)
                .map_err(|_| args::UsageError("unpack data is not UTF-8".into()))?;
            unpack::parse(&text, &args.sources).map(run::Action::Unpack)
        }
        Some("patch") => {
            let text = String::from_utf8(data)
                .map_err(|_| args::UsageError("patch data is not UTF-8".into()))?;
            patch::script(&text, &args.sources).map(|s| run::Action::Shell(s.into_bytes()))
        }
        Some(_) => Err(args::UsageError(format!(
            "not supported yet: {} {}",
            args.pn, args.task
        ))),
    }
}
