"""Providers that carry BitBake task outputs and sysroots between rules_bitbake targets."""

BitbakeTaskInfo = provider(
    doc = """One BitBake task of one recipe: what it changed and what a task that continues
its work directory must layer to see the same state.

A task's output is a delta (see HELPER.md, "Trees"): only the files it added or changed
under the virtual TMPDIR, plus a manifest of deletions, symlinks and empty directories.
The work directory a later task starts from is the layering of `state`, oldest first.""",
    fields = {
        "pn": "String: the recipe's PN (with its variant suffix, e.g. `hello-native`).",
        "task": "String: the BitBake task name, e.g. `do_compile`.",
        "delta": "File (tree artifact) or None: what this task changed; None for a noexec task.",
        "state": "depset of File (tree artifacts), postorder: every delta of this task's " +
                 "chain within the recipe, predecessors first, this task's delta last. A task " +
                 "that continues this one passes them to the helper in this order.",
        "stamps": "depset of File: the small files whose existence says this task (and for a " +
                  "noexec task, everything it rolls up) is done; their content is the digest " +
                  "of the task's outputs. Cross-recipe [depends] edges consume only these.",
        "sysroot_target": "depset of File (tree artifacts): do_populate_sysroot components " +
                          "staged into this task's recipe-sysroot (inherited along the chain, " +
                          "as BitBake's WORKDIR keeps recipe-sysroot between tasks).",
        "sysroot_native": "depset of File (tree artifacts): components staged into this " +
                          "task's recipe-sysroot-native.",
    },
)

BitbakeSysrootInfo = provider(
    doc = """What a recipe contributes to the sysroots of the recipes that depend on it,
following BitBake's staging rules (staging.bbclass extend_recipe_sysroot and
sstate.bbclass setscene_depvalid): a consumer gets the target closure of its target
dependencies and the native closure of its native dependencies, and never the native
(build-time) dependencies of a target dependency.

Each element is a do_populate_sysroot component: a tree in HELPER.md's format whose
`files/` is the recipe's SYSROOT_DESTDIR.""",
    fields = {
        "target": "depset of File (tree artifacts): components for recipe-sysroot: this " +
                  "recipe's own (if it is a target recipe) and its target dependencies', " +
                  "transitively.",
        "native": "depset of File (tree artifacts): components for recipe-sysroot-native: " +
                  "this recipe's own (if it is native or cross) and its native " +
                  "dependencies', transitively.",
    },
)
