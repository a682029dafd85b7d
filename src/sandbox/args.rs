//! The helper's command line, exactly as `rules_bitbake/HELPER.md` defines it and
//! `private/task.bzl` writes it (directly, or one argument per line in an `@FILE`).

use std::fmt;
use std::path::PathBuf;

use super::layout::VirtualPath;

/// A `--source FILE=VIRTUAL`: a declared input file and where the task sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file, relative to the action's working directory.
    pub file: PathBuf,
    /// Where the task sees it, under `/bitzel` (`downloads/…` or `layers/…`).
    pub virtual_path: VirtualPath,
}

/// One `bitzel-sandbox run` invocation: everything the rule passes for one task.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunArgs {
    /// `--task`: BitBake's task name (`do_compile`).
    pub task: String,
    /// `--pn`: the recipe's PN, for messages.
    pub pn: String,
    /// `--workdir`: WORKDIR relative to the virtual TMPDIR.
    pub workdir: VirtualPath,
    /// `--script`: the task's `run.do_<task>` (or a builtin's data).
    pub script: PathBuf,
    /// `--builtin`: a Python task the helper implements natively.
    pub builtin: Option<String>,
    /// `--state-in`: predecessors' deltas, oldest first.
    pub state_in: Vec<PathBuf>,
    /// `--sysroot-target`: components staged into `${WORKDIR}/recipe-sysroot`.
    pub sysroot_target: Vec<PathBuf>,
    /// `--sysroot-native`: components staged into `${WORKDIR}/recipe-sysroot-native`.
    pub sysroot_native: Vec<PathBuf>,
    /// `--source`: files the task sees read-only under `/bitzel`.
    pub sources: Vec<Source>,
    /// `--dirs`: the task's `[dirs]`, created; the last is the working directory.
    pub dirs: Vec<VirtualPath>,
    /// `--cleandirs`: the task's `[cleandirs]`, emptied before it runs.
    pub cleandirs: Vec<VirtualPath>,
    /// `--fakeroot`: the task's `[fakeroot]` flag.
    pub fakeroot: bool,
    /// `--delta-out`: the tree of what the task changed.
    pub delta_out: PathBuf,
    /// `--stamp-out`: the stamp file.
    pub stamp_out: PathBuf,
    /// `--log-out`: the task's log.
    pub log_out: PathBuf,
    /// `--sysroot-out`: do_populate_sysroot's component.
    pub sysroot_out: Option<PathBuf>,
}

/// A command line the helper refuses (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Expands Bazel's params-file form: a single `@FILE` argument stands for FILE's lines.
///
/// Bazel writes one argument per line (`param_file_format = "multiline"`), so a line is
/// an argument verbatim, blanks included; only the final newline is not part of one.
pub fn expand_params_file(args: &[String]) -> Result<Vec<String>, UsageError> {
    match args {
        [only] if only.starts_with('@') => {
            let path = &only[1..];
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read the params file {path}: {e}")))?;
            Ok(text.lines().map(str::to_owned).collect())
        }
        _ => Ok(args.to_vec()),
    }
}

/// Parses `run --task … --delta-out …` (after `@FILE` expansion).
pub fn parse(args: &[String]) -> Result<RunArgs, UsageError> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("run") => {}
        Some(other) => return Err(usage(format!("unknown command {other:?}: expected `run`"))),
        None => {
            return Err(usage(
                "missing command: expected `run --task … --delta-out …`",
            ))
        }
    }
    let mut task = None;
    let mut pn = None;
    let mut workdir = None;
    let mut script = None;
    let mut delta_out = None;
    let mut stamp_out = None;
    let mut log_out = None;
    let mut builtin = None;
    let mut sysroot_out = None;
    let mut out = RunArgs::default();
    while let Some(flag) = it.next() {
        if flag == "--fakeroot" {
            out.fakeroot = true;
            continue;
        }
        let known = [
            "--task",
            "--pn",
            "--workdir",
            "--script",
            "--builtin",
            "--state-in",
            "--sysroot-target",
            "--sysroot-native",
            "--source",
            "--dirs",
            "--cleandirs",
            "--delta-out",
            "--stamp-out",
            "--log-out",
            "--sysroot-out",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(usage(format!("unknown option {flag:?}")));
        }
        let value = it
            .next()
            .ok_or_else(|| usage(format!("{flag} needs a value")))?
            .clone();
        let once = |slot: &mut Option<String>| {
            if slot.replace(value.clone()).is_some() {
                Err(usage(format!("{flag} given twice")))
            } else {
                Ok(())
            }
        };
        match flag.as_str() {
            "--task" => once(&mut task)?,
            "--pn" => once(&mut pn)?,
            "--workdir" => once(&mut workdir)?,
            "--script" => once(&mut script)?,
            "--builtin" => once(&mut builtin)?,
            "--delta-out" => once(&mut delta_out)?,
            "--stamp-out" => once(&mut stamp_out)?,
            "--log-out" => once(&mut log_out)?,
            "--sysroot-out" => once(&mut sysroot_out)?,
            "--state-in" => out.state_in.push(value.into()),
            "--sysroot-target" => out.sysroot_target.push(value.into()),
            "--sysroot-native" => out.sysroot_native.push(value.into()),
            "--source" => out.sources.push(parse_source(&value)?),
            "--dirs" => out
                .dirs
                .push(VirtualPath::parse_absolute(&value).map_err(usage)?),
            "--cleandirs" => out
                .cleandirs
                .push(VirtualPath::parse_absolute(&value).map_err(usage)?),
            _ => unreachable!("every known option is handled"),
        }
    }
    let need =
        |slot: Option<String>, flag: &str| slot.ok_or_else(|| usage(format!("missing {flag}")));
    out.task = need(task, "--task")?;
    out.pn = need(pn, "--pn")?;
    out.workdir = VirtualPath::parse_relative(&need(workdir, "--workdir")?)
        .map_err(|e| usage(format!("--workdir: {e}")))?;
    out.script = need(script, "--script")?.into();
    out.delta_out = need(delta_out, "--delta-out")?.into();
    out.stamp_out = need(stamp_out, "--stamp-out")?.into();
    out.log_out = need(log_out, "--log-out")?.into();
    out.builtin = builtin;
    out.sysroot_out = sysroot_out.map(PathBuf::from);
    Ok(out)
}

fn parse_source(value: &str) -> Result<Source, UsageError> {
    let (file, virt) = value
        .split_once('=')
        .ok_or_else(|| usage(format!("--source {value:?}: expected FILE=VIRTUAL")))?;
    let virtual_path =
        VirtualPath::parse_relative(virt).map_err(|e| usage(format!("--source {value:?}: {e}")))?;
    let top = virtual_path.components().next().unwrap_or_default();
    if top != "downloads" && top != "layers" {
        return Err(usage(format!(
            "--source {value:?}: VIRTUAL must be under downloads/ or layers/"
        )));
    }
    if file.is_empty() {
        return Err(usage(format!("--source {value:?}: empty FILE")));
    }
    Ok(Source {
        file: file.into(),
        virtual_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn minimal() -> Vec<String> {
        strings(&[
            "run",
            "--task",
            "do_compile",
            "--pn",
            "greet",
            "--workdir",
            "work/x/greet/1.0",
            "--script",
            "recipes/greet/run.do_compile",
            "--delta-out",
            "d",
            "--stamp-out",
            "s",
            "--log-out",
            "l",
        ])
    }

    #[test]
    fn minimal_command_line_parses() {
        let a = parse(&minimal()).unwrap();
        assert_eq!(a.task, "do_compile");
        assert_eq!(a.pn, "greet");
        assert_eq!(a.workdir.as_str(), "work/x/greet/1.0");
        assert_eq!(a.delta_out, PathBuf::from("d"));
        assert!(!a.fakeroot && a.builtin.is_none());
    }

    #[test]
    fn repeated_flags_keep_their_order() {
        let mut v = minimal();
        v.extend(strings(&[
            "--state-in",
            "b",
            "--state-in",
            "a",
            "--dirs",
            "/bitzel/tmp/w/b",
            "--dirs",
            "/bitzel/tmp/w/a",
            "--fakeroot",
            "--source",
            "f.tar=downloads/f.tar",
        ]));
        let a = parse(&v).unwrap();
        assert_eq!(a.state_in, vec![PathBuf::from("b"), PathBuf::from("a")]);
        assert_eq!(a.dirs[1].as_str(), "tmp/w/a");
        assert!(a.fakeroot);
        assert_eq!(a.sources[0].virtual_path.as_str(), "downloads/f.tar");
    }

    #[test]
    fn unknown_option_is_a_usage_error() {
        let mut v = minimal();
        v.push("--network".into());
        assert!(parse(&v)
            .unwrap_err()
            .0
            .contains("unknown option \"--network\""));
    }

    #[test]
    fn missing_required_option_is_named() {
        let v: Vec<String> = minimal().into_iter().take(13).collect();
        assert_eq!(parse(&v).unwrap_err().0, "missing --log-out");
    }

    #[test]
    fn option_without_value_is_a_usage_error() {
        let mut v = minimal();
        v.push("--dirs".into());
        assert!(parse(&v).unwrap_err().0.contains("--dirs needs a value"));
    }

    #[test]
    fn single_valued_option_given_twice_is_refused() {
        let mut v = minimal();
        v.extend(strings(&["--task", "do_install"]));
        assert!(parse(&v).unwrap_err().0.contains("--task given twice"));
    }

    #[test]
    fn escaping_paths_are_refused() {
        for bad in [
            ["--dirs", "/bitzel/tmp/../../etc"],
            ["--dirs", "/etc"],
            ["--cleandirs", "relative/dir"],
            ["--source", "f=downloads/../../x"],
            ["--source", "f=/etc/passwd"],
            ["--source", "f=tmp/work/x"],
            ["--workdir", "../w"],
        ] {
            let mut v = minimal();
            if bad[0] == "--workdir" {
                v.truncate(5);
                v.extend(strings(&[
                    "--script",
                    "s",
                    "--delta-out",
                    "d",
                    "--stamp-out",
                    "s",
                    "--log-out",
                    "l",
                ]));
            }
            v.extend(strings(&bad));
            assert!(parse(&v).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn params_file_holds_one_argument_per_line() {
        let dir = std::env::temp_dir().join(format!("bitzel-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("params");
        std::fs::write(&file, minimal().join("\n") + "\n").unwrap();
        let expanded = expand_params_file(&[format!("@{}", file.display())]).unwrap();
        assert_eq!(expanded, minimal());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
