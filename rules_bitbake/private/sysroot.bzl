"""`bitbake_sysroot`: do_prepare_recipe_sysroot, the sysroot a recipe's later tasks stage."""

load(":providers.bzl", "BitbakeSysrootInfo", "BitbakeTaskInfo")

def _bitbake_sysroot_impl(ctx):
    pn = ctx.attr.pn or ctx.label.package.rpartition("/")[2]
    infos = [d[BitbakeSysrootInfo] for d in ctx.attr.deps]
    target = depset(transitive = [i.target for i in infos])
    native = depset(transitive = [i.native for i in infos])

    # Tasks this one follows or waits for (addtask ... after, [depends]): only ordering;
    # their stamps roll up into this target's, as a noexec task's do.
    prior_stamps = [d[BitbakeTaskInfo].stamps for d in ctx.attr.after + ctx.attr.depends]

    # Nothing is copied: the components stay where their do_populate_sysroot left them,
    # and the helper stages them for each task that runs. The manifest is this task's
    # stamp: a reviewable list of what recipe-sysroot and recipe-sysroot-native hold.
    # The lines are an Args, expanded when the file is written: analysis never flattens
    # a recipe's sysroot closure (hundreds of components for an image's recipe).
    manifest = ctx.actions.declare_file(ctx.label.name + ".manifest")
    lines = ctx.actions.args()
    lines.set_param_file_format("multiline")
    lines.add_all(target, format_each = "target %s", expand_directories = False)
    lines.add_all(native, format_each = "native %s", expand_directories = False)
    ctx.actions.write(manifest, lines)
    stamps = depset([manifest], transitive = prior_stamps)
    return [
        DefaultInfo(files = depset([manifest], transitive = [target, native] + prior_stamps)),
        BitbakeTaskInfo(
            pn = pn,
            task = ctx.label.name,
            delta = None,
            state = depset(order = "postorder"),
            stamps = stamps,
            sysroot_target = target,
            sysroot_native = native,
        ),
        BitbakeSysrootInfo(target = target, native = native),
    ]

bitbake_sysroot = rule(
    implementation = _bitbake_sysroot_impl,
    doc = """do_prepare_recipe_sysroot: gathers the sysroot components a recipe's tasks stage.

`deps` are the do_populate_sysroot targets of the recipe's direct DEPENDS (BitBake's
do_prepare_recipe_sysroot[deptask] = "do_populate_sysroot"); each already carries its
closure (BitbakeSysrootInfo), so recipe-sysroot gets the target closure and
recipe-sysroot-native the native closure. Tasks that list this target in `after` inherit
both. No files are copied; the target's output is a manifest of the components.""",
    attrs = {
        "pn": attr.string(
            doc = "The recipe's PN; defaults to the package's last path component.",
        ),
        "deps": attr.label_list(
            providers = [BitbakeSysrootInfo],
            doc = "The do_populate_sysroot targets of the recipe's direct DEPENDS.",
        ),
        "after": attr.label_list(
            providers = [BitbakeTaskInfo],
            doc = "Same-recipe tasks this one follows (addtask ... after do_fetch): " +
                  "ordering only, their stamps roll up into this target's.",
        ),
        "depends": attr.label_list(
            providers = [BitbakeTaskInfo],
            doc = "Other recipes' tasks this one waits for besides `deps` ([depends] " +
                  "edges that are not a do_populate_sysroot): ordering only.",
        ),
    },
)
