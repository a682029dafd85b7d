//! One task from start to end: layer the state, stage the sysroots, make `[cleandirs]`
//! and `[dirs]`, run the script like BitBake's `exec_func_shell` (`sh -e run.do_<task>`
//! in the last of `[dirs]`, no host environment), then write the delta, the sysroot
//! component, the stamp and the log.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::args::RunArgs;
use super::fakeroot;
use super::hardcode;
use super::layout::VirtualPath;
use super::namespace::{self, TaskRoot};
use super::staging;
use super::state::{self, Layered, Snapshot};
use super::unpack::{self, UnpackPlan};

/// How many lines of a failed task's log the helper repeats on stderr.
const LOG_TAIL_LINES: usize = 50;

/// How a task ended, once the helper could run it.
#[derive(Debug)]
pub enum Outcome {
    /// The task succeeded and its outputs are written.
    Succeeded,
    /// The script failed; its log tail is already on stderr.
    Failed,
}

/// A scratch directory removed when dropped (after its mounts are gone). It holds an
/// exclusive `flock` on its `.lock` file while the helper lives, so that a later helper
/// can tell the scratch of one that was killed (Bazel cancelling an action) and remove it.
struct Scratch {
    path: PathBuf,
    keep: bool,
    _lock: fs::File,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // The task's root may still be mounted (an error while building it): detach it,
        // and remove nothing if anything is still mounted there, since the root holds
        // read-write binds of the host's /dev and /proc.
        let root = self.path.join(TASK_ROOT);
        namespace::detach(&root);
        let same_fs = |p: &Path| fs::metadata(p).map(|m| m.dev());
        if let (Ok(scratch), Ok(root_dev)) = (same_fs(&self.path), same_fs(&root)) {
            if scratch != root_dev {
                self.keep = true;
            }
        }
        if !self.keep {
            state::make_dirs_writable(&self.path);
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// The task root's directory name in the scratch directory.
const TASK_ROOT: &str = "root";

/// The scratch directories' name prefix under `$TMPDIR`.
const SCRATCH_PREFIX: &str = "bitzel-sandbox.";

/// Takes an exclusive lock on `file` without waiting; true if it was free.
fn try_lock(file: &fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor we own.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Removes scratch directories that helpers killed before their cleanup left: their
/// lock is free and they have not changed for a minute (a new scratch is locked within
/// microseconds of its creation).
fn remove_abandoned_scratch(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(SCRATCH_PREFIX) {
            continue;
        }
        let path = entry.path();
        let old = fs::symlink_metadata(&path).is_ok_and(|m| {
            m.is_dir()
                && m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() > 60)
        });
        let Ok(lock) = fs::File::open(path.join(".lock")) else {
            continue;
        };
        if old && try_lock(&lock) {
            state::make_dirs_writable(&path);
            let _ = fs::remove_dir_all(&path);
        }
    }
}

fn scratch_dir() -> Result<Scratch> {
    let base = std::env::temp_dir();
    remove_abandoned_scratch(&base);
    for n in 0..1000 {
        let path = base.join(format!("{SCRATCH_PREFIX}{}.{n}", std::process::id()));
        match fs::create_dir(&path) {
            Ok(()) => {
                let lock = fs::File::create(path.join(".lock"))?;
                if !try_lock(&lock) {
                    bail!("cannot lock {}", path.display());
                }
                return Ok(Scratch {
                    path,
                    keep: false,
                    _lock: lock,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    bail!("no free scratch directory under {}", base.display())
}

/// The place of a `/bitzel/tmp/…` path in the layered TMPDIR.
fn in_tmpdir(v: &VirtualPath) -> &str {
    v.relative_to_tmpdir().unwrap_or("")
}

/// What the task does once its work directory is ready.
pub enum Action {
    /// A shell task: `run.do_<task>`'s text.
    Shell(Vec<u8>),
    /// The `unpack` builtin.
    Unpack(UnpackPlan),
}

/// Runs a task (the caller has entered the namespaces).
pub fn run_task(args: &RunArgs, action: &Action) -> Result<Outcome> {
    let mut scratch = scratch_dir()?;
    let mut layered = Layered::new(scratch.path.join("tmp"))?;
    for tree in &args.state_in {
        layered.apply(tree)?;
    }
    let wd = args.workdir.as_str().to_owned();
    let sub = |name: &str| format!("{wd}/{name}");
    let workdir = state::ensure_dir(&layered.root, &wd)?;
    for name in ["recipe-sysroot", "recipe-sysroot-native", "temp"] {
        let p = workdir.join(name);
        if fs::symlink_metadata(&p).is_ok() {
            state::remove_any(&p)?;
        }
    }
    let vwd = format!("/bitzel/tmp/{wd}");
    let places = staging::Placeholders {
        target: format!("{vwd}/recipe-sysroot"),
        native: format!("{vwd}/recipe-sysroot-native"),
    };
    staging::stage(
        &args.sysroot_target,
        &workdir.join("recipe-sysroot"),
        &places,
    )?;
    staging::stage(
        &args.sysroot_native,
        &workdir.join("recipe-sysroot-native"),
        &places,
    )?;

    let mut excluded: BTreeSet<String> = ["recipe-sysroot", "recipe-sysroot-native", "temp"]
        .map(sub)
        .into();
    if args.sysroot_out.is_some() {
        excluded.insert(sub("sysroot-destdir"));
    }
    let before = state::snapshot(&layered.root, &excluded)?;

    for dir in &args.cleandirs {
        let rel = in_tmpdir(dir);
        // Never through a link of the state: it would resolve on the host.
        if let Some(p) = state::existing_without_links(&layered.root, rel)? {
            state::remove_any(&p)?;
        }
        state::ensure_dir(&layered.root, rel)?;
    }
    let mut cwd = VirtualPath::in_tmpdir(&args.workdir);
    for dir in &args.dirs {
        state::ensure_dir(&layered.root, in_tmpdir(dir))?;
        cwd = dir.clone();
    }
    let temp = state::ensure_dir(&layered.root, &sub("temp"))?;
    let run_file = format!("run.{}", args.task);
    let mut log = fs::File::create(&args.log_out)
        .with_context(|| format!("creating --log-out {}", args.log_out.display()))?;
    let script = match action {
        Action::Shell(script) => script.clone(),
        Action::Unpack(plan) => {
            // Plain files natively; archives by their commands, inside the sandbox.
            log.write_all(unpack::apply(plan, &layered.root)?.as_bytes())?;
            match unpack::extract_script(plan) {
                Some(script) => script.into_bytes(),
                None => {
                    finish(args, &layered, &workdir, &before, &excluded)?;
                    return Ok(Outcome::Succeeded);
                }
            }
        }
    };
    fs::write(temp.join(&run_file), script)?;
    let fakeroot_db = workdir.join(FAKEROOT_DB);
    if args.fakeroot {
        if fs::symlink_metadata(&fakeroot_db).is_ok() {
            fakeroot::to_inodes(&fakeroot_db, &layered.root)?;
        } else {
            fs::write(&fakeroot_db, "")?;
        }
    }

    let root_dir = scratch.path.join(TASK_ROOT);
    fs::create_dir(&root_dir)?;
    let sources: Vec<(PathBuf, String)> = args
        .sources
        .iter()
        .map(|s| (s.file.clone(), s.virtual_path.as_str().to_owned()))
        .collect();
    let root = TaskRoot::build(&root_dir, &layered.root, &sources)?;
    let status = spawn_task(
        args,
        &root.path,
        &cwd,
        &format!("/bitzel/tmp/{wd}/temp/{run_file}"),
        log,
    );
    if !root.unmount() {
        scratch.keep = true; // never remove through a mount that is still there
        bail!(
            "could not unmount the task's root {}; left in place",
            root_dir.display()
        );
    }
    let status = status?;
    if !status.success() {
        report_failure(args, &status);
        return Ok(Outcome::Failed);
    }

    if args.fakeroot {
        fakeroot::to_paths(&fakeroot_db, &layered.root)?;
    }
    finish(args, &layered, &workdir, &before, &excluded)?;
    Ok(Outcome::Succeeded)
}

/// Writes the task's outputs: the sysroot component, the delta and the stamp.
fn finish(
    args: &RunArgs,
    layered: &Layered,
    workdir: &Path,
    before: &Snapshot,
    excluded: &BTreeSet<String>,
) -> Result<()> {
    let mut outputs: Vec<(&str, &Path)> = vec![("delta", &args.delta_out)];
    if let Some(sysroot_out) = &args.sysroot_out {
        let destdir = workdir.join("sysroot-destdir");
        fresh_dir(sysroot_out)?;
        // The task may have left a link there: never follow it out of the state.
        let is_dir = fs::symlink_metadata(&destdir).is_ok_and(|m| m.is_dir());
        if is_dir {
            // sstate_hardcode_path: this recipe's sysroots become placeholders.
            let vwd = format!("/bitzel/tmp/{}", args.workdir.as_str());
            hardcode::hardcode_paths(
                &destdir,
                &format!("{vwd}/recipe-sysroot"),
                &format!("{vwd}/recipe-sysroot-native"),
            )?;
            let tree = state::snapshot(&destdir, &BTreeSet::new())?;
            state::write_delta(&destdir, &Snapshot::new(), &tree, &|_| None, sysroot_out)?;
        } else {
            fs::create_dir_all(sysroot_out.join("files"))?;
            fs::write(sysroot_out.join("meta"), "")?;
        }
        outputs.push(("sysroot", sysroot_out));
    }
    let after = state::snapshot(&layered.root, excluded)?;
    fresh_dir(&args.delta_out)?;
    state::write_delta(
        &layered.root,
        before,
        &after,
        &|p| layered.origin(p).map(Path::to_path_buf),
        &args.delta_out,
    )?;
    fs::write(&args.stamp_out, format!("{}\n", state::stamp(&outputs)?))?;
    Ok(())
}

/// The fakeroot database's name in WORKDIR: a file like any other, so it travels in
/// the deltas to the next `[fakeroot]` task.
pub const FAKEROOT_DB: &str = "fakeroot.db";

fn spawn_task(
    args: &RunArgs,
    root: &Path,
    cwd: &VirtualPath,
    script: &str,
    log: fs::File,
) -> Result<std::process::ExitStatus> {
    let wd = format!("/bitzel/tmp/{}", args.workdir.as_str());
    let path = format!(
        "{wd}/recipe-sysroot-native/usr/bin:{wd}/recipe-sysroot-native/bin:\
         {wd}/recipe-sysroot-native/usr/sbin:/usr/bin:/bin:/usr/sbin:/sbin"
    );
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut cmd = if args.fakeroot {
        let db = format!("{wd}/{FAKEROOT_DB}");
        let mut c = Command::new("/usr/bin/fakeroot");
        c.args(["-i", &db, "-s", &db, "--", "/bin/sh", "-e", script]);
        c
    } else {
        let mut c = Command::new("/bin/sh");
        c.args(["-e", script]);
        c
    };
    let env: BTreeMap<&str, String> = [
        ("PATH", path),
        ("HOME", "/bitzel/home".to_owned()),
        ("T", format!("{wd}/temp")),
        ("WORKDIR", wd.clone()),
        ("PN", args.pn.clone()),
        ("TOPDIR", "/bitzel".to_owned()),
        ("RECIPE_SYSROOT", format!("{wd}/recipe-sysroot")),
        (
            "RECIPE_SYSROOT_NATIVE",
            format!("{wd}/recipe-sysroot-native"),
        ),
        ("D", format!("{wd}/image")),
        ("SYSROOT_DESTDIR", format!("{wd}/sysroot-destdir")),
        ("PARALLEL_MAKE", format!("-j {jobs}")),
        // git status/describe --dirty in a checkout would otherwise refresh the index
        // with this run's stat data: the task's delta would differ on every run.
        ("GIT_OPTIONAL_LOCKS", "0".to_owned()),
    ]
    .into();
    cmd.env_clear().envs(env);
    if args.fakeroot {
        // Owners exist only in the database: a real chown to an id the user namespace
        // does not map fails with EINVAL, which fakeroot would pass on.
        cmd.env("FAKEROOTDONTTRYCHOWN", "1");
    }
    let root_c = namespace::c_path(root)?;
    let cwd_c = namespace::c_path(&cwd.absolute())?;
    let err = log.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(log).stderr(err);
    // SAFETY: the closure only calls chroot and chdir, which are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || namespace::enter_root(&root_c, &cwd_c));
    }
    cmd.status()
        .with_context(|| format!("running {}", cmd.get_program().to_string_lossy()))
}

/// An output directory, empty.
fn fresh_dir(path: &Path) -> Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        state::remove_any(path)?;
    }
    fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))
}

fn report_failure(args: &RunArgs, status: &std::process::ExitStatus) {
    let lines: Vec<String> = fs::File::open(&args.log_out)
        .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
        .unwrap_or_default();
    let skip = lines.len().saturating_sub(LOG_TAIL_LINES);
    if skip > 0 {
        eprintln!("… {skip} earlier lines of the log omitted");
    }
    for line in &lines[skip..] {
        eprintln!("{line}");
    }
    eprintln!(
        "bitzel-sandbox: {}:{} failed ({status}); the whole log is {}",
        args.pn,
        args.task,
        args.log_out.display()
    );
}
