"""Analysis tests of rules_bitbake with bazel-skylib's analysistest."""

load("@bazel_skylib//lib:new_sets.bzl", "sets")
load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_bitbake//rules_bitbake:defs.bzl", "BitbakeSysrootInfo", "BitbakeTaskInfo")

def _basenames(files):
    return [f.basename for f in files]

def _flag_values(argv, flag):
    return [argv[i + 1] for i in range(len(argv) - 1) if argv[i] == flag]

def _task_continues_its_chain_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = analysistest.target_actions(env)
    asserts.equals(env, 1, len(actions), "one action per task")
    action = actions[0]
    asserts.equals(env, "BitbakeTask", action.mnemonic)
    argv = action.argv
    asserts.equals(env, ["do_unpack.delta", "do_patch.delta", "do_configure.delta"], [p.rpartition("/")[2] for p in _flag_values(argv, "--state-in")], "predecessors' deltas, oldest first")
    asserts.equals(env, ["bazel-out/k8-fastbuild/bin/recipes/hello/do_populate_sysroot.sysroot"], [p.replace(ctx.bin_dir.path, "bazel-out/k8-fastbuild/bin") for p in _flag_values(argv, "--sysroot-target")], "the library's component, staged by reference")
    asserts.equals(env, [], _flag_values(argv, "--sysroot-native"), "hello's native tool stays out of greet's sysroot")
    asserts.set_equals(env, sets.make(["do_compile.delta", "do_compile.stamp", "do_compile.log"]), sets.make(_basenames(action.outputs.to_list())))
    for arg in argv:
        if arg.startswith("/"):
            asserts.true(env, arg.startswith("/bitzel/"), "only virtual absolute paths: " + arg)
    inputs = _basenames(action.inputs.to_list())
    asserts.true(env, "do_unpack.delta" in inputs and "do_populate_sysroot.sysroot" in inputs)
    asserts.false(env, "do_compile.delta" in inputs)
    return analysistest.end(env)

task_continues_its_chain_test = analysistest.make(_task_continues_its_chain_test_impl)

def _noexec_task_runs_nothing_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.equals(env, 0, len(analysistest.target_actions(env)))
    target = analysistest.target_under_test(env)
    files = target[DefaultInfo].files.to_list()
    asserts.true(env, "do_populate_sysroot.stamp" in _basenames(files), "building do_build builds the chain")
    info = target[BitbakeTaskInfo]
    asserts.equals(env, None, info.delta)
    asserts.equals(env, "greet", info.pn)
    asserts.equals(env, "do_build", info.task)
    return analysistest.end(env)

noexec_task_runs_nothing_test = analysistest.make(_noexec_task_runs_nothing_test_impl)

def _sysroot_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[BitbakeSysrootInfo]
    asserts.set_equals(env, sets.make(ctx.attr.target), sets.make(_basenames(info.target.to_list())), "recipe-sysroot")
    asserts.set_equals(env, sets.make(ctx.attr.native), sets.make(_basenames(info.native.to_list())), "recipe-sysroot-native")
    return analysistest.end(env)

sysroot_test = analysistest.make(
    _sysroot_test_impl,
    attrs = {
        "native": attr.string_list(doc = "Expected basenames of the native components."),
        "target": attr.string_list(doc = "Expected basenames of the target components."),
    },
)

def _prepare_registers_only_a_manifest_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = analysistest.target_actions(env)
    asserts.equals(env, ["FileWrite"], [a.mnemonic for a in actions], "no copying of dependency installs")
    return analysistest.end(env)

prepare_registers_only_a_manifest_test = analysistest.make(_prepare_registers_only_a_manifest_test_impl)

def _task_flags_are_data_test_impl(ctx):
    env = analysistest.begin(ctx)
    action = analysistest.target_actions(env)[0]
    argv = action.argv
    asserts.true(env, "--fakeroot" in argv)
    asserts.equals(env, ["/bitzel/tmp/work/flags/a", "/bitzel/tmp/work/flags/b"], _flag_values(argv, "--dirs"), "[dirs] in order")
    asserts.equals(env, ["/bitzel/tmp/work/flags/image"], _flag_values(argv, "--cleandirs"))
    asserts.equals(env, ["work/flags"], _flag_values(argv, "--workdir"))
    asserts.equals(env, [], _flag_values(argv, "--state-in"))

    # [nostamp] -> no-cache and block-network are in the action's execution info, which
    # Bazel 4's Action objects do not show to Starlark (Bazel 7's `execution_info` does).
    return analysistest.end(env)

task_flags_are_data_test = analysistest.make(_task_flags_are_data_test_impl)

def _escaping_source_is_refused_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "must be relative and stay inside the virtual root")
    return analysistest.end(env)

escaping_source_is_refused_test = analysistest.make(_escaping_source_is_refused_test_impl, expect_failure = True)

def _task_without_script_is_refused_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "needs a script")
    return analysistest.end(env)

task_without_script_is_refused_test = analysistest.make(_task_without_script_is_refused_test_impl, expect_failure = True)

def rules_bitbake_test_suite(name):
    """Declares every analysis test of rules_bitbake and a test_suite `name` of them."""
    task_continues_its_chain_test(name = "task_continues_its_chain_test", target_under_test = "//recipes/greet:do_compile")
    noexec_task_runs_nothing_test(name = "noexec_task_runs_nothing_test", target_under_test = "//recipes/greet:do_build")
    prepare_registers_only_a_manifest_test(name = "prepare_registers_only_a_manifest_test", target_under_test = "//recipes/greet:do_prepare_recipe_sysroot")

    # setscene_depvalid: a target dependency brings its target closure, never its native tools.
    sysroot_test(name = "target_closure_without_native_tools_test", target_under_test = ":c_prepare", target = ["a_populate.sysroot", "b_populate.sysroot"], native = [])

    # A native dependency brings its native closure.
    sysroot_test(name = "native_closure_test", target_under_test = ":d_prepare", target = [], native = ["n_populate.sysroot", "m_populate.sysroot"])

    # A recipe's own sysroot holds both closures of its direct DEPENDS.
    sysroot_test(name = "recipe_sees_both_closures_test", target_under_test = ":a_prepare", target = ["b_populate.sysroot"], native = ["n_populate.sysroot", "m_populate.sysroot"])
    task_flags_are_data_test(name = "task_flags_are_data_test", target_under_test = ":flags")
    escaping_source_is_refused_test(name = "escaping_source_is_refused_test", target_under_test = ":escaping_source")
    task_without_script_is_refused_test(name = "task_without_script_is_refused_test", target_under_test = ":no_script")
    native.test_suite(
        name = name,
        tests = [
            ":task_continues_its_chain_test",
            ":noexec_task_runs_nothing_test",
            ":prepare_registers_only_a_manifest_test",
            ":target_closure_without_native_tools_test",
            ":native_closure_test",
            ":recipe_sees_both_closures_test",
            ":escaping_source_is_refused_test",
            ":task_without_script_is_refused_test",
            ":task_flags_are_data_test",
        ],
    )
