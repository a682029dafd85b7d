//! The sandbox helper binary on small temporary inputs: HELPER.md's contract from the
//! outside (layering, deltas, cleandirs, failures, isolation, refused paths).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

const WORKDIR: &str = "work/core2-64-poky-linux/p/1.0";

/// A temporary action directory (what Bazel's execroot is to the helper).
struct Action {
    dir: PathBuf,
}

impl Action {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("bitzel-sandbox-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Action { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Runs `bitzel-sandbox run` for task `name` with `script`, writing `name.delta`,
    /// `name.stamp` and `name.log`; `extra` goes between the required options.
    fn task(&self, name: &str, script: &str, extra: &[&str]) -> Output {
        self.write(&format!("{name}.sh"), script);
        let mut args: Vec<String> = [
            "run",
            "--task",
            name,
            "--pn",
            "p",
            "--workdir",
            WORKDIR,
            "--script",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("{name}.sh"));
        args.extend(extra.iter().map(|s| s.to_string()));
        for (flag, ext) in [
            ("--delta-out", "delta"),
            ("--stamp-out", "stamp"),
            ("--log-out", "log"),
        ] {
            args.push(flag.into());
            args.push(format!("{name}.{ext}"));
        }
        self.helper(&args)
    }

    fn helper<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_bitzel-sandbox"))
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap()
    }

    /// Files under a delta's files/, relative, sorted.
    fn delta_files(&self, name: &str) -> Vec<String> {
        let root = self.path(&format!("{name}.delta/files"));
        let mut v: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(&root).unwrap().display().to_string())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Action {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "helper failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn w(rel: &str) -> String {
    format!("{WORKDIR}/{rel}")
}

#[test]
fn second_task_sees_the_firsts_files_and_hands_on_only_its_own_changes() {
    let a = Action::new("chain");
    let first = a.task(
        "do_configure",
        "echo configured > config.mk\nmkdir -p empty\n",
        &[],
    );
    ok(&first);
    assert_eq!(a.delta_files("do_configure"), [w("config.mk")]);
    assert_eq!(
        a.read("do_configure.delta/meta"),
        format!("E {}\n", w("empty"))
    );
    let second = a.task(
        "do_compile",
        "cat config.mk > built\necho compiled >> built\n[ -d empty ]\n",
        &["--state-in", "do_configure.delta"],
    );
    ok(&second);
    assert_eq!(a.delta_files("do_compile"), [w("built")]);
    assert_eq!(
        a.read(&format!("do_compile.delta/files/{}", w("built"))),
        "configured\ncompiled\n"
    );
    assert_eq!(a.read("do_compile.delta/meta"), "");
    assert_eq!(a.read("do_compile.stamp").trim().len(), 64);
}

#[test]
fn rewriting_an_input_changes_it_only_in_the_delta() {
    let a = Action::new("noinput");
    ok(&a.task("do_a", "echo one > f\necho same > s\n", &[]));
    ok(&a.task(
        "do_b",
        "echo two > f\necho same > s\n",
        &["--state-in", "do_a.delta"],
    ));
    assert_eq!(
        a.read(&format!("do_a.delta/files/{}", w("f"))),
        "one\n",
        "input untouched"
    );
    assert_eq!(
        a.delta_files("do_b"),
        [w("f")],
        "equal rewrite is no change"
    );
}

/// Bazel hands outputs on read-only and executable (r-xr-xr-x), and a remote cache keeps
/// no modes: a file's mode travels in `meta`, and the next task sees the mode the
/// earlier one set, whatever the delta's files look like on disk.
#[test]
fn modes_survive_bazels_read_only_outputs() {
    let a = Action::new("modes");
    ok(&a.task(
        "do_install",
        "echo data > f\necho '#!/bin/sh' > x\nchmod 0755 x\necho secret > s\nchmod 0600 s\n",
        &[],
    ));
    for entry in walkdir::WalkDir::new(a.path("do_install.delta/files"))
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o555)).unwrap();
        }
    }
    ok(&a.task(
        "do_package",
        "stat -c '%n %a' f x s > modes\necho more >> f\n",
        &["--state-in", "do_install.delta"],
    ));
    assert_eq!(
        a.read(&format!("do_package.delta/files/{}", w("modes"))),
        "f 644\nx 755\ns 600\n"
    );
}

#[test]
fn deletion_is_recorded_and_hides_the_earlier_layer() {
    let a = Action::new("delete");
    ok(&a.task("do_a", "mkdir -p sub\necho x > sub/f\necho y > g\n", &[]));
    ok(&a.task("do_b", "rm -r sub\n", &["--state-in", "do_a.delta"]));
    assert_eq!(a.read("do_b.delta/meta"), format!("D {}\n", w("sub")));
    ok(&a.task(
        "do_c",
        "[ ! -e sub ]\n[ -f g ]\n",
        &["--state-in", "do_a.delta", "--state-in", "do_b.delta"],
    ));
}

#[test]
fn cleandirs_are_emptied_and_the_last_dirs_entry_is_the_working_directory() {
    let a = Action::new("cleandirs");
    ok(&a.task("do_a", "mkdir -p build\necho stale > build/old\n", &[]));
    let build = format!("/bitzel/tmp/{}", w("build"));
    let other = format!("/bitzel/tmp/{}", w("other"));
    ok(&a.task(
        "do_b",
        "pwd > here\n[ ! -e old ]\n",
        &[
            "--state-in",
            "do_a.delta",
            "--cleandirs",
            &build,
            "--dirs",
            &other,
            "--dirs",
            &build,
        ],
    ));
    assert_eq!(
        a.read(&format!("do_b.delta/files/{}", w("build/here"))),
        format!("{build}\n")
    );
    assert_eq!(
        a.read("do_b.delta/meta"),
        format!("D {}\nE {}\n", w("build/old"), w("other"))
    );
}

#[test]
fn failing_task_exits_1_and_shows_its_log_tail_and_path() {
    let a = Action::new("fail");
    let out = a.task(
        "do_compile",
        "echo \"unset is fine: $NOT_SET.\"\necho before\nfalse\necho after\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("unset is fine: ."), "{err}");
    assert!(
        err.contains("before") && !err.contains("after"),
        "set -e stops at false: {err}"
    );
    assert!(
        err.contains("do_compile.log") && err.contains("p:do_compile failed"),
        "{err}"
    );
    assert_eq!(a.read("do_compile.log"), "unset is fine: .\nbefore\n");
}

#[test]
fn outputs_are_deterministic() {
    let a = Action::new("determinism");
    let script = "mkdir -p d/e\necho $$ > /dev/null\nfor i in 3 1 2; do echo $i > d/f$i; done\nchmod 600 d/f1\nln -sf f2 d/link\n";
    ok(&a.task("do_one", script, &[]));
    ok(&a.task("do_two", script, &[]));
    assert_eq!(a.read("do_one.stamp"), a.read("do_two.stamp"));
    assert_eq!(a.read("do_one.delta/meta"), a.read("do_two.delta/meta"));
    assert_eq!(
        a.read("do_one.delta/meta"),
        format!(
            "E {}\nM {} 0600\nL {} f2\n",
            w("d/e"),
            w("d/f1"),
            w("d/link")
        )
    );
}

#[test]
fn git_status_in_a_later_task_leaves_the_checkouts_index_alone() {
    let a = Action::new("gitindex");
    ok(&a.task(
        "do_unpack",
        "git init -q r && cd r && echo a > a && git add a\n\
         git -c user.name=t -c user.email=t@t commit -qm x\n",
        &[],
    ));
    // The files come back from the state with this run's times: a plain `git status`
    // would refresh the index and hand it on in the delta.
    ok(&a.task(
        "do_compile",
        "cd r && git status --short > ../status\n",
        &["--state-in", "do_unpack.delta"],
    ));
    assert_eq!(a.delta_files("do_compile"), [w("status")]);
}

#[test]
fn task_cannot_reach_the_network() {
    let a = Action::new("network");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let probe = format!("if bash -c 'echo hi > /dev/tcp/127.0.0.1/{port}' 2>/dev/null; then echo connected > result; else echo refused > result; fi\n");
    // The probe itself works outside the sandbox.
    let outside = Command::new("bash")
        .arg("-c")
        .arg(&probe)
        .current_dir(&a.dir)
        .status()
        .unwrap();
    assert!(outside.success());
    assert_eq!(a.read("result"), "connected\n");
    ok(&a.task("do_fetchless", &probe, &[]));
    assert_eq!(
        a.read(&format!("do_fetchless.delta/files/{}", w("result"))),
        "refused\n"
    );
}

#[test]
fn task_sees_sources_read_only_and_not_the_host() {
    let a = Action::new("sources");
    a.write("src/greet.c", "int main;\n");
    a.write("marker", "host");
    let marker = a.path("marker");
    let script = format!(
        "cp /bitzel/layers/meta-demo/files/greet.c .\n\
         if echo x > /bitzel/layers/meta-demo/files/greet.c; then exit 3; fi\n\
         [ ! -e {} ]\n[ -z \"$(ls /tmp)\" ]\n[ \"$HOME\" = /bitzel/home ]\n",
        marker.display()
    );
    ok(&a.task(
        "do_unpackish",
        &script,
        &["--source", "src/greet.c=layers/meta-demo/files/greet.c"],
    ));
    assert_eq!(
        a.read(&format!("do_unpackish.delta/files/{}", w("greet.c"))),
        "int main;\n"
    );
    assert_eq!(a.read("src/greet.c"), "int main;\n");
}

#[test]
fn escaping_dirs_and_sources_are_usage_errors() {
    let a = Action::new("escape");
    a.write("f", "x");
    for extra in [
        ["--dirs", "/bitzel/tmp/../../etc"],
        ["--dirs", "/etc"],
        ["--cleandirs", "/bitzel/tmp/work/../../../root"],
        ["--source", "f=../outside"],
        ["--source", "f=/etc/passwd"],
    ] {
        let out = a.task("do_x", "touch /etc/pwned || true\n", &extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("outside") || stderr(&out).contains(".."),
            "{extra:?}: {}",
            stderr(&out)
        );
        assert!(!a.path("do_x.delta").exists());
    }
}

#[test]
fn state_with_a_link_leading_outside_is_refused() {
    let a = Action::new("badlink");
    fs::create_dir_all(a.path("evil.delta/files")).unwrap();
    a.write(
        "evil.delta/meta",
        &format!("L {} ../../../../../../etc\n", w("up")),
    );
    let out = a.task("do_x", "true\n", &["--state-in", "evil.delta"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("leads outside"), "{}", stderr(&out));

    // A task that makes such a link fails too: its delta would carry it.
    let out = a.task("do_y", "ln -s ../../../../../../etc up\n", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("leads outside"), "{}", stderr(&out));
}

#[test]
fn state_with_a_path_leaving_the_tree_is_refused() {
    let a = Action::new("badmeta");
    fs::create_dir_all(a.path("evil.delta/files")).unwrap();
    a.write("evil.delta/meta", "D ../../../../tmp\n");
    let out = a.task("do_x", "true\n", &["--state-in", "evil.delta"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("leaves its tree"), "{}", stderr(&out));
}

#[test]
fn unknown_option_and_builtins_exit_2_with_a_message() {
    let a = Action::new("usage");
    let out = a.task("do_x", "true\n", &["--network", "on"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown option \"--network\""),
        "{}",
        stderr(&out)
    );
    let out = a.task("do_package", "", &["--builtin", "package"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not supported yet: p do_package"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn params_file_stands_for_the_command_line() {
    let a = Action::new("params");
    a.write("do_p.sh", "echo from-params > out\n");
    let params = [
        "run",
        "--task",
        "do_p",
        "--pn",
        "p",
        "--workdir",
        WORKDIR,
        "--script",
        "do_p.sh",
        "--delta-out",
        "do_p.delta",
        "--stamp-out",
        "do_p.stamp",
        "--log-out",
        "do_p.log",
    ]
    .join("\n");
    a.write("do_p.params", &(params + "\n"));
    ok(&a.helper(&["@do_p.params"]));
    assert_eq!(
        a.read(&format!("do_p.delta/files/{}", w("out"))),
        "from-params\n"
    );
}

#[test]
fn sysroot_components_are_staged_but_not_handed_on() {
    let a = Action::new("sysroot");
    a.write("lib.sysroot/files/usr/include/lib.h", "int lib;\n");
    a.write("lib.sysroot/meta", "");
    a.write(
        "tool.sysroot/files/usr/bin/tool",
        "#!/bin/sh\necho tool-ran\n",
    );
    fs::set_permissions(
        a.path("tool.sysroot/files/usr/bin/tool"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    a.write("tool.sysroot/meta", "M usr/bin/tool 0755\n");
    ok(&a.task(
        "do_compile",
        "tool > out\ncat $RECIPE_SYSROOT/usr/include/lib.h >> out\n",
        &[
            "--sysroot-target",
            "lib.sysroot",
            "--sysroot-native",
            "tool.sysroot",
        ],
    ));
    assert_eq!(a.delta_files("do_compile"), [w("out")]);
    assert_eq!(
        a.read(&format!("do_compile.delta/files/{}", w("out"))),
        "tool-ran\nint lib;\n"
    );

    a.write("clash.sysroot/files/usr/include/lib.h", "other\n");
    a.write("clash.sysroot/meta", "");
    let out = a.task(
        "do_x",
        "true\n",
        &[
            "--sysroot-target",
            "lib.sysroot",
            "--sysroot-target",
            "clash.sysroot",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("both provide usr/include/lib.h"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn populate_sysroot_hands_its_destdir_to_sysroot_out_not_the_delta() {
    let a = Action::new("populate");
    ok(&a.task(
        "do_populate_sysroot",
        "mkdir -p $SYSROOT_DESTDIR/usr/lib\necho lib > $SYSROOT_DESTDIR/usr/lib/libx.a\nln -s libx.a $SYSROOT_DESTDIR/usr/lib/liby.a\n",
        &["--sysroot-out", "p.sysroot"],
    ));
    assert_eq!(a.read("p.sysroot/files/usr/lib/libx.a"), "lib\n");
    assert_eq!(a.read("p.sysroot/meta"), "L usr/lib/liby.a libx.a\n");
    assert_eq!(a.delta_files("do_populate_sysroot"), Vec::<String>::new());
}

#[test]
fn fakeroot_state_carries_to_the_next_fakeroot_task() {
    let a = Action::new("fakeroot");
    ok(&a.task(
        "do_install",
        "mkdir -p image\ntouch image/f\nchown 1234:2345 image/f\n[ \"$(id -u)\" = 0 ]\n",
        &["--fakeroot"],
    ));
    let db = a.read(&format!("do_install.delta/files/{}", w("fakeroot.db")));
    assert!(
        db.contains(&format!("{} mode=100644,uid=1234,gid=2345,", w("image/f"))),
        "path-keyed: {db}"
    );
    assert!(!db.contains("ino="), "no inode numbers in a delta: {db}");
    ok(&a.task(
        "do_package",
        "stat -c %u:%g image/f > owner\n",
        &["--fakeroot", "--state-in", "do_install.delta"],
    ));
    assert_eq!(
        a.read(&format!("do_package.delta/files/{}", w("owner"))),
        "1234:2345\n"
    );
}

#[test]
fn unpack_builtin_copies_file_sources_into_the_unpack_directory() {
    let a = Action::new("unpack");
    a.write("files/hello.h", "#define HELLO \"hello\"\n");
    a.write("files/run.sh", "#!/bin/sh\n");
    fs::set_permissions(a.path("files/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    let src = format!("/bitzel/tmp/{}", w("hello-1.0"));
    let data = format!(
        "unpackdir /bitzel/tmp/{WORKDIR}\n\
         file layers/meta-test/hello/files/hello.h hello.h subdir=hello-1.0\n\
         file layers/meta-test/hello/files/run.sh tools/run.sh\n"
    );
    ok(&a.task(
        "do_unpack",
        &data,
        &[
            "--builtin",
            "unpack",
            "--cleandirs",
            &src,
            "--source",
            "files/hello.h=layers/meta-test/hello/files/hello.h",
            "--source",
            "files/run.sh=layers/meta-test/hello/files/run.sh",
        ],
    ));
    assert_eq!(
        a.delta_files("do_unpack"),
        [w("hello-1.0/hello.h"), w("tools/run.sh")]
    );
    assert_eq!(
        a.read(&format!("do_unpack.delta/files/{}", w("hello-1.0/hello.h"))),
        "#define HELLO \"hello\"\n"
    );
    let mode = fs::metadata(a.path(&format!("do_unpack.delta/files/{}", w("tools/run.sh"))))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        a.read("do_unpack.delta/meta"),
        format!("M {} 0755\n", w("tools/run.sh"))
    );
    assert!(a
        .read("do_unpack.log")
        .contains("unpack: /bitzel/layers/meta-test/hello/files/hello.h"));

    // A source that is not declared is a usage error, nothing is written.
    let out = a.task(
        "do_unpack2",
        &format!("unpackdir /bitzel/tmp/{WORKDIR}\nfile layers/x/y.c y.c\n"),
        &["--builtin", "unpack"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!a.path("do_unpack2.delta").exists());
}

#[test]
fn missing_source_fails_cleanly_and_leaves_no_scratch() {
    let a = Action::new("missing");
    a.write("task.sh", "true\n");
    let scratch = a.path("scratch");
    fs::create_dir_all(&scratch).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bitzel-sandbox"))
        .args([
            "run",
            "--task",
            "do_x",
            "--pn",
            "p",
            "--workdir",
            WORKDIR,
            "--script",
            "task.sh",
        ])
        .args(["--source", "nowhere.c=layers/l/nowhere.c"])
        .args(["--delta-out", "d", "--stamp-out", "s", "--log-out", "l"])
        .env("TMPDIR", &scratch)
        .current_dir(&a.dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nowhere.c"), "{}", stderr(&out));
    // The half-built root (with the host's /dev bound in it) was detached, then removed.
    assert_eq!(fs::read_dir(&scratch).unwrap().count(), 0);
    assert!(std::path::Path::new("/dev/null").exists());
}

#[test]
fn host_system_directories_are_read_only_for_the_task() {
    let a = Action::new("readonly");
    ok(&a.task(
        "do_x",
        "for d in /usr /etc /usr/bin; do if touch $d/bitzel-pwned 2>/dev/null; then exit 3; fi; done\n\
         ls /bitzel-root-is-tmpfs 2>/dev/null && exit 4\ntouch /tmp/scratch-ok\n",
        &[],
    ));
    assert!(!std::path::Path::new("/usr/bitzel-pwned").exists());
    assert!(!std::path::Path::new("/etc/bitzel-pwned").exists());
}

#[test]
fn without_user_namespaces_the_helper_refuses_to_run_unisolated() {
    let a = Action::new("nouserns");
    a.write("task.sh", "touch /tmp/ran-unisolated\n");
    // A user namespace in which no further user namespace may be made.
    let helper = env!("CARGO_BIN_EXE_bitzel-sandbox");
    let out = Command::new("unshare")
        .args(["-Ur", "sh", "-c"])
        .arg(format!(
            "echo 0 > /proc/sys/user/max_user_namespaces && exec {helper} run --task do_x --pn p \
             --workdir {WORKDIR} --script task.sh --delta-out d --stamp-out s --log-out l"
        ))
        .current_dir(&a.dir)
        .output()
        .expect("unshare (util-linux) runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot isolate the task") && err.contains("never runs a task unisolated"),
        "{err}"
    );
    assert!(!a.path("d").exists() && !a.path("l").exists());
}

#[test]
fn links_left_by_a_task_are_never_followed_by_the_helper() {
    let a = Action::new("links");
    a.write("outside/secret", "host file\n");
    let outside = a.path("outside");
    // SYSROOT_DESTDIR as a link to a host directory: the component must not export it.
    let out = a.task(
        "do_populate_sysroot",
        &format!("ln -s {} \"$SYSROOT_DESTDIR\"\n", outside.display()),
        &["--sysroot-out", "p.sysroot"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(a.delta_files("do_populate_sysroot"), Vec::<String>::new());
    assert!(!a.path("p.sysroot/files/secret").exists());
    // A fakeroot database that is a link to a host file is refused, the file untouched.
    let out = a.task(
        "do_install",
        &format!(
            "rm -f fakeroot.db; ln -s {}/secret fakeroot.db\n",
            outside.display()
        ),
        &["--fakeroot"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(a.read("outside/secret"), "host file\n");
    // A state whose link stands where a cleandir is: the link goes, not the host dir.
    fs::create_dir_all(a.path("evil.delta/files")).unwrap();
    a.write(
        "evil.delta/meta",
        &format!("L {} {}\n", w("build"), outside.display()),
    );
    let build = format!("/bitzel/tmp/{}", w("build"));
    ok(&a.task(
        "do_configure",
        "true\n",
        &["--state-in", "evil.delta", "--cleandirs", &build],
    ));
    assert_eq!(a.read("outside/secret"), "host file\n");
}

/// zip (unzip), .tar.zst (zstd) and .deb (ar, then its data.tar.*) are unpacked with
/// BitBake's commands, inside the sandbox, each into its subdir=.
#[test]
fn unpack_builtin_extracts_zip_zstd_and_deb() {
    let a = Action::new("unzip");
    a.write("src/hello-1.0/hello.c", "int hello;\n");
    a.write("src/debian-binary", "2.0\n");
    let sh = |script: &str| {
        let st = Command::new("sh")
            .args(["-ec", script])
            .current_dir(a.path("src"))
            .status()
            .unwrap();
        assert!(st.success(), "{script}");
    };
    sh("python3 -c 'import zipfile; z = zipfile.ZipFile(\"../h.zip\", \"w\"); z.write(\"hello-1.0/hello.c\"); z.close()'");
    sh("tar -cf - hello-1.0 | zstd -q -o ../h.tar.zst");
    sh("tar -cJf data.tar.xz hello-1.0 && ar rc ../h.deb debian-binary data.tar.xz");
    let data = format!(
        "unpackdir /bitzel/tmp/{WORKDIR}\n\
         file downloads/h.zip h.zip subdir=z\n\
         file downloads/h.tar.zst h.tar.zst subdir=t\n\
         file downloads/h.deb h.deb subdir=d\n"
    );
    ok(&a.task(
        "do_unpack",
        &data,
        &[
            "--builtin",
            "unpack",
            "--source",
            "h.zip=downloads/h.zip",
            "--source",
            "h.tar.zst=downloads/h.tar.zst",
            "--source",
            "h.deb=downloads/h.deb",
        ],
    ));
    assert_eq!(
        a.delta_files("do_unpack"),
        [
            w("d/hello-1.0/hello.c"),
            w("t/hello-1.0/hello.c"),
            w("z/hello-1.0/hello.c")
        ]
    );
}

#[test]
fn unpack_builtin_extracts_archives_inside_the_sandbox() {
    let a = Action::new("untar");
    a.write("src/hello-1.0/hello.c", "int hello;\n");
    a.write("src/hello-1.0/sub/x.h", "#x\n");
    std::os::unix::fs::symlink("hello.c", a.path("src/hello-1.0/link.c")).unwrap();
    let tar = |args: &[&str]| {
        let st = Command::new("tar")
            .args(args)
            .current_dir(a.path("src"))
            .status()
            .unwrap();
        assert!(st.success());
    };
    tar(&["czf", "../hello-1.0.tar.gz", "hello-1.0"]);
    let data = format!(
        "unpackdir /bitzel/tmp/{WORKDIR}\n\
         file downloads/hello-1.0.tar.gz hello-1.0.tar.gz striplevel=1 subdir=hello-1.0\n"
    );
    ok(&a.task(
        "do_unpack",
        &data,
        &[
            "--builtin",
            "unpack",
            "--source",
            "hello-1.0.tar.gz=downloads/hello-1.0.tar.gz",
        ],
    ));
    assert_eq!(
        a.delta_files("do_unpack"),
        [w("hello-1.0/hello.c"), w("hello-1.0/sub/x.h")]
    );
    assert_eq!(
        a.read("do_unpack.delta/meta"),
        format!("L {} hello.c\n", w("hello-1.0/link.c"))
    );
    assert!(a
        .read("do_unpack.log")
        .contains("unpack: /bitzel/downloads/hello-1.0.tar.gz"));

    // An archive whose member climbs out: whatever tar does, nothing lands outside.
    a.write("src/escape", "out\n");
    tar(&["cPf", "../evil.tar", "../src/escape"]);
    let data = format!("unpackdir /bitzel/tmp/{WORKDIR}\nfile downloads/evil.tar evil.tar\n");
    let out = a.task(
        "do_unpack2",
        &data,
        &[
            "--builtin",
            "unpack",
            "--source",
            "evil.tar=downloads/evil.tar",
        ],
    );
    if out.status.success() {
        let files = a.delta_files("do_unpack2");
        assert!(files.iter().all(|f| f.starts_with(WORKDIR)), "{files:?}");
    } else {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
}

#[test]
fn patch_builtin_applies_patches_in_order_and_fails_without_half_applying() {
    let a = Action::new("patch");
    ok(&a.task(
        "do_unpack",
        "mkdir -p hello-1.0\nprintf 'one\\ntwo\\n' > hello-1.0/f.c\n",
        &[],
    ));
    a.write(
        "fix.patch",
        "--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n",
    );
    a.write(
        "more.patch",
        "--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,3 @@\n one\n TWO\n+three\n",
    );
    let s = format!("/bitzel/tmp/{}", w("hello-1.0"));
    let data =
        format!("patchdir {s}\npatch layers/l/fix.patch\npatch layers/l/more.patch striplevel=1\n");
    let sources = [
        "--builtin",
        "patch",
        "--state-in",
        "do_unpack.delta",
        "--dirs",
        &s,
        "--source",
        "fix.patch=layers/l/fix.patch",
        "--source",
        "more.patch=layers/l/more.patch",
    ];
    ok(&a.task("do_patch", &data, &sources));
    assert_eq!(a.delta_files("do_patch"), [w("hello-1.0/f.c")]);
    assert_eq!(
        a.read(&format!("do_patch.delta/files/{}", w("hello-1.0/f.c"))),
        "one\nTWO\nthree\n"
    );

    // A patch that does not apply fails the task, after its dry run: exit 1, log shown.
    a.write(
        "bad.patch",
        "--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,2 @@\n nope\n-never\n+x\n",
    );
    let data = format!("patchdir {s}\npatch layers/l/bad.patch\n");
    let out = a.task(
        "do_patch2",
        &data,
        &[
            "--builtin",
            "patch",
            "--state-in",
            "do_unpack.delta",
            "--source",
            "bad.patch=layers/l/bad.patch",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("patch: /bitzel/layers/l/bad.patch"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn scratch_left_by_a_killed_helper_is_removed_by_the_next_one() {
    let a = Action::new("stale");
    a.write("task.sh", "true\n");
    let tmp = a.path("tmp");
    let make = |name: &str| {
        let d = tmp.join(name);
        fs::create_dir_all(d.join("tmp/work/x")).unwrap();
        fs::write(d.join("tmp/work/x/big"), "junk").unwrap();
        fs::write(d.join(".lock"), "").unwrap();
        let st = Command::new("touch")
            .args(["-d", "2 hours ago"])
            .arg(&d)
            .status()
            .unwrap();
        assert!(st.success());
        d
    };
    let abandoned = make("bitzel-sandbox.77777.0");
    let live = make("bitzel-sandbox.77778.0");
    let held = fs::File::open(live.join(".lock")).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&held), libc::LOCK_EX) },
        0
    );
    let out = Command::new(env!("CARGO_BIN_EXE_bitzel-sandbox"))
        .args([
            "run",
            "--task",
            "do_x",
            "--pn",
            "p",
            "--workdir",
            WORKDIR,
            "--script",
            "task.sh",
        ])
        .args(["--delta-out", "d", "--stamp-out", "s", "--log-out", "l"])
        .env("TMPDIR", &tmp)
        .current_dir(&a.dir)
        .output()
        .unwrap();
    ok(&out);
    assert!(!abandoned.exists(), "an unlocked, old scratch is removed");
    assert!(
        live.join("tmp/work/x/big").exists(),
        "a locked one (its helper runs) stays"
    );
    let left: Vec<_> = fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("bitzel-sandbox.77778.0")]);
    drop(held);
}

/// A component's text files that name the producer's sysroots reach each consumer with
/// the consumer's own (sstate_hardcode_path, then staging_processfixme).
#[test]
fn producer_sysroot_paths_become_the_consumers_own() {
    let a = Action::new("hardcode");
    ok(&a.task(
        "do_populate_sysroot",
        "mkdir -p $SYSROOT_DESTDIR/usr/lib\n\
         echo \"dependency_libs=' -L$RECIPE_SYSROOT/usr/lib -L$RECIPE_SYSROOT_NATIVE/usr/lib'\" > $SYSROOT_DESTDIR/usr/lib/libx.la\n\
         printf 'bin\\000%s' $RECIPE_SYSROOT > $SYSROOT_DESTDIR/usr/lib/libx.so\n",
        &["--sysroot-out", "x.sysroot"],
    ));
    assert_eq!(
        a.read("x.sysroot/files/usr/lib/libx.la"),
        "dependency_libs=' -LFIXMESTAGINGDIRTARGET/usr/lib -LFIXMESTAGINGDIRHOST/usr/lib'\n"
    );
    assert_eq!(
        a.read("x.sysroot/files/fixmepath"),
        "sysroot-destdir/usr/lib/libx.la\n"
    );
    // A consumer with another work directory gets its own paths back.
    a.write("c.sh", "cp $RECIPE_SYSROOT/usr/lib/libx.la .\n");
    let out = a.helper(&[
        "run",
        "--task",
        "do_configure",
        "--pn",
        "c",
        "--workdir",
        "work/c/1.0",
        "--script",
        "c.sh",
        "--sysroot-target",
        "x.sysroot",
        "--delta-out",
        "c.delta",
        "--stamp-out",
        "c.stamp",
        "--log-out",
        "c.log",
    ]);
    ok(&out);
    assert_eq!(
        a.read("c.delta/files/work/c/1.0/libx.la"),
        "dependency_libs=' -L/bitzel/tmp/work/c/1.0/recipe-sysroot/usr/lib \
         -L/bitzel/tmp/work/c/1.0/recipe-sysroot-native/usr/lib'\n"
    );
}

#[test]
fn staging_replaces_fixme_placeholders_for_this_consumer() {
    let a = Action::new("fixme");
    a.write(
        "lib.sysroot/files/usr/lib/pkgconfig/lib.pc",
        "prefix=FIXMESTAGINGDIRTARGET/usr\ntool=FIXMESTAGINGDIRHOST/usr/bin\n",
    );
    a.write(
        "lib.sysroot/files/usr/include/untouched.h",
        "FIXMESTAGINGDIRTARGET\n",
    );
    a.write(
        "lib.sysroot/files/fixmepath",
        "sysroot-destdir/usr/lib/pkgconfig/lib.pc\n",
    );
    a.write("lib.sysroot/meta", "");
    a.write("other.sysroot/files/usr/lib/other.a", "o\n");
    a.write("other.sysroot/files/fixmepath", "");
    a.write("other.sysroot/meta", "");
    ok(&a.task(
        "do_configure",
        "cp $RECIPE_SYSROOT/usr/lib/pkgconfig/lib.pc .\ncp $RECIPE_SYSROOT/usr/include/untouched.h .\n\
         [ ! -e $RECIPE_SYSROOT/fixmepath ]\n",
        &["--sysroot-target", "lib.sysroot", "--sysroot-target", "other.sysroot"],
    ));
    let wd = format!("/bitzel/tmp/{WORKDIR}");
    assert_eq!(
        a.read(&format!("do_configure.delta/files/{}", w("lib.pc"))),
        format!("prefix={wd}/recipe-sysroot/usr\ntool={wd}/recipe-sysroot-native/usr/bin\n")
    );
    assert_eq!(
        a.read(&format!("do_configure.delta/files/{}", w("untouched.h"))),
        "FIXMESTAGINGDIRTARGET\n",
        "only listed files change"
    );
}
