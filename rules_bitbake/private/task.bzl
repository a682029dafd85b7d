"""`bitbake_task`: one BitBake task of one recipe as one Bazel action (see HELPER.md)."""

load(":providers.bzl", "BitbakeSysrootInfo", "BitbakeTaskInfo")

_SYSROOT_EXPORTS = ["", "target", "native"]

def _pn(ctx):
    """The recipe's PN: the `pn` attribute, else the package's last path component."""
    if ctx.attr.pn:
        return ctx.attr.pn
    return ctx.label.package.rpartition("/")[2]

def _source_arg(pair):
    return "%s=%s" % (pair[0].path, pair[1])

def _sources(ctx):
    """(File, virtual destination) pairs of `srcs`; each label must be exactly one file."""
    pairs = []
    for target, dest in ctx.attr.srcs.items():
        files = target.files.to_list()
        if len(files) != 1:
            fail("srcs: %s must be exactly one file, it is %d" % (target.label, len(files)))
        if dest.startswith("/") or ".." in dest.split("/"):
            fail("srcs: destination %r of %s must be relative and stay inside the virtual root" % (dest, target.label))
        pairs.append((files[0], dest))
    return pairs

def _bitbake_task_impl(ctx):
    pn = _pn(ctx)
    task = ctx.label.name
    after = [d[BitbakeTaskInfo] for d in ctx.attr.after]
    dep_tasks = [d[BitbakeTaskInfo] for d in ctx.attr.depends if BitbakeTaskInfo in d]
    dep_sysroots = [d[BitbakeSysrootInfo] for d in ctx.attr.depends if BitbakeSysrootInfo in d]

    # The sysroot a task sees: what its predecessors saw (BitBake keeps recipe-sysroot in
    # WORKDIR) plus the do_populate_sysroot outputs of its own [depends] edges (what
    # extend_recipe_sysroot adds for the task).
    sysroot_target = depset(transitive = [a.sysroot_target for a in after] + [s.target for s in dep_sysroots])
    sysroot_native = depset(transitive = [a.sysroot_native for a in after] + [s.native for s in dep_sysroots])
    prior_state = depset(order = "postorder", transitive = [a.state for a in after])
    prior_stamps = [a.stamps for a in after] + [d.stamps for d in dep_tasks]

    if ctx.attr.sysroot_export not in _SYSROOT_EXPORTS:
        fail("sysroot_export must be one of %s" % _SYSROOT_EXPORTS)
    sources = _sources(ctx)

    if ctx.attr.noexec:
        if ctx.attr.sysroot_export:
            fail("a noexec task has no output to export as a sysroot")

        # A roll-up: no action; building it builds everything it follows and depends on.
        stamps = depset(transitive = prior_stamps)
        return [
            DefaultInfo(files = depset([f for f, _ in sources], transitive = [stamps])),
            BitbakeTaskInfo(
                pn = pn,
                task = task,
                delta = None,
                state = prior_state,
                stamps = stamps,
                sysroot_target = sysroot_target,
                sysroot_native = sysroot_native,
            ),
        ]

    if not ctx.file.script:
        fail("a task that runs needs a script (or noexec = True)")

    delta = ctx.actions.declare_directory(task + ".delta")
    stamp = ctx.actions.declare_file(task + ".stamp")
    log = ctx.actions.declare_file(task + ".log")
    outputs = [delta, stamp, log]
    sysroot_out = None
    if ctx.attr.sysroot_export:
        sysroot_out = ctx.actions.declare_directory(task + ".sysroot")
        outputs.append(sysroot_out)

    args = ctx.actions.args()

    # Hundreds of sysroot components (an image's) can outgrow a command line: then Bazel
    # passes `@file`, one argument per line (HELPER.md).
    args.use_param_file("@%s", use_always = False)
    args.set_param_file_format("multiline")
    args.add("run")
    args.add("--task", task)
    args.add("--pn", pn)
    args.add("--workdir", ctx.attr.workdir)
    args.add("--script", ctx.file.script)
    if ctx.attr.builtin:
        args.add("--builtin", ctx.attr.builtin)
    args.add_all(prior_state, before_each = "--state-in", expand_directories = False)
    args.add_all(sysroot_target, before_each = "--sysroot-target", expand_directories = False)
    args.add_all(sysroot_native, before_each = "--sysroot-native", expand_directories = False)
    args.add_all(sources, before_each = "--source", map_each = _source_arg)
    args.add_all(ctx.attr.dirs, before_each = "--dirs")
    args.add_all(ctx.attr.cleandirs, before_each = "--cleandirs")
    if ctx.attr.fakeroot:
        args.add("--fakeroot")
    args.add("--delta-out", delta.path)
    args.add("--stamp-out", stamp)
    args.add("--log-out", log)
    if sysroot_out:
        args.add("--sysroot-out", sysroot_out.path)

    execution_requirements = {"block-network": "1"}
    if ctx.attr.nostamp:
        # BitBake reruns a [nostamp] task every time; the nearest Bazel has is an action
        # that is never cached (it still runs at most once per build).
        execution_requirements["no-cache"] = "1"

    ctx.actions.run(
        executable = ctx.executable.helper,
        arguments = [args],
        inputs = depset(
            [ctx.file.script] + [f for f, _ in sources],
            transitive = [prior_state, sysroot_target, sysroot_native] + prior_stamps,
        ),
        outputs = outputs,
        mnemonic = "BitbakeTask",
        progress_message = "BitBake %s:%s" % (pn, task),
        execution_requirements = execution_requirements,
        use_default_shell_env = False,
    )

    own_target = [sysroot_out] if ctx.attr.sysroot_export == "target" else []
    own_native = [sysroot_out] if ctx.attr.sysroot_export == "native" else []
    providers = [
        DefaultInfo(files = depset(outputs)),
        BitbakeTaskInfo(
            pn = pn,
            task = task,
            delta = delta,
            state = depset([delta], order = "postorder", transitive = [prior_state]),
            stamps = depset([stamp]),
            sysroot_target = sysroot_target,
            sysroot_native = sysroot_native,
        ),
    ]
    if ctx.attr.sysroot_export:
        # What consumers stage (setscene_depvalid): a target recipe hands on itself and
        # its target closure, never its native build tools; a native or cross recipe
        # hands on itself and its native closure.
        if ctx.attr.sysroot_export == "target":
            exported = BitbakeSysrootInfo(
                target = depset(own_target, transitive = [sysroot_target]),
                native = depset(),
            )
        else:
            exported = BitbakeSysrootInfo(
                target = depset(),
                native = depset(own_native, transitive = [sysroot_native]),
            )
        providers.append(exported)
    return providers

bitbake_task = rule(
    implementation = _bitbake_task_impl,
    doc = """One BitBake task of one recipe (`//recipes/<PN>:<task>`), run by the sandbox helper.

The target's name is the task's name. The action's inputs are the task's script, the
deltas of the tasks whose work directory it continues (`after`), the sysroot components
it stages, its sources and the stamps of the tasks it depends on; its outputs are a
delta of what it changed, a stamp and a log (HELPER.md has the command line and the tree
format). With `noexec`, no action runs: the target rolls up what it follows, as BitBake's
do_build does.""",
    attrs = {
        "pn": attr.string(
            doc = "The recipe's PN; defaults to the package's last path component.",
        ),
        "workdir": attr.string(
            doc = "The recipe's WORKDIR relative to the virtual TMPDIR, e.g. " +
                  "`work/core2-64-poky-linux/zlib/1.3.1`. The helper stages recipe-sysroot " +
                  "and recipe-sysroot-native under it.",
        ),
        "script": attr.label(
            allow_single_file = True,
            doc = "For a shell task, run.do_<task> as BitBake writes it (the function, the " +
                  "shell functions it calls, the exported environment) with virtual paths " +
                  "only. For a `builtin` task, the task's data for the helper's native " +
                  "implementation. Required unless `noexec`.",
        ),
        "builtin": attr.string(
            doc = "Empty for a shell task; else the Python task the helper implements " +
                  "natively (`unpack`, `patch`, `populate_sysroot`, ...), which reads `script` " +
                  "as its data. The helper fails clearly on one it does not implement.",
        ),
        "helper": attr.label(
            default = Label("@bitzel_sandbox//:bitzel-sandbox"),
            executable = True,
            allow_files = True,
            cfg = "exec",
            doc = "The sandbox helper that runs the task (HELPER.md). Defaults to the " +
                  "`bitzel_sandbox` repository that the workspace defines with " +
                  "`bitzel_sandbox_repository`.",
        ),
        "after": attr.label_list(
            providers = [BitbakeTaskInfo],
            doc = "Tasks whose work this one continues (addtask ... after): their deltas " +
                  "are layered, in this order, into the TMPDIR this task starts from, and " +
                  "their sysroots carry on. Usually the same recipe's; another recipe's " +
                  "when they share a work directory (work-shared: gcc-source, a kernel's " +
                  "do_shared_workdir).",
        ),
        "depends": attr.label_list(
            providers = [[BitbakeTaskInfo], [BitbakeSysrootInfo]],
            doc = "Other tasks this one must wait for ([depends], [deptask] edges, usually " +
                  "of other recipes): their stamps become inputs; a do_populate_sysroot among " +
                  "them is also staged into this task's sysroot, as extend_recipe_sysroot does.",
        ),
        "srcs": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Sources (downloads from the repository phase, file:// files of the layers) " +
                  "mapped to where the task sees them, relative to the virtual root, e.g. " +
                  "`downloads/zlib-1.3.1.tar.xz` or `layers/meta/recipes-core/zlib/files/x.patch`.",
        ),
        "dirs": attr.string_list(
            doc = "The task's [dirs], expanded, as virtual paths: created before it runs; " +
                  "the last one is the working directory.",
        ),
        "cleandirs": attr.string_list(
            doc = "The task's [cleandirs], expanded, as virtual paths: emptied before it runs.",
        ),
        "noexec": attr.bool(
            doc = "BitBake's [noexec]: no action; the target rolls up `after` and `depends`.",
        ),
        "nostamp": attr.bool(
            doc = "BitBake's [nostamp]: the action is never cached (`no-cache`).",
        ),
        "fakeroot": attr.bool(
            doc = "BitBake's [fakeroot]: the helper runs the task under fakeroot, whose " +
                  "state lives in the work directory and so carries on in the deltas.",
        ),
        "sysroot_export": attr.string(
            doc = "For do_populate_sysroot: `target` or `native` (native and cross recipes) " +
                  "says which sysroot of a consumer this recipe's SYSROOT_DESTDIR lands in; " +
                  "the task then has a `.sysroot` output and provides BitbakeSysrootInfo.",
        ),
    },
)
