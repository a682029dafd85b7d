"""rules_bitbake: the public API that bitzel's generated BUILD files load.

- `bitbake_task`: one BitBake task of one recipe, run by the sandbox helper.
- `bitbake_sysroot`: do_prepare_recipe_sysroot, the recipe's staged dependencies.
- `bitzel_sandbox_repository`: the repository that provides the helper (WORKSPACE).
- `bitbake_git_repository`: a git SRC_URI entry at its SRCREV, as a git bundle.
- `BitbakeTaskInfo`, `BitbakeSysrootInfo`: the providers, for rules built on these.
"""

load("//rules_bitbake/private:git.bzl", _bitbake_git_repository = "bitbake_git_repository")
load("//rules_bitbake/private:providers.bzl", _BitbakeSysrootInfo = "BitbakeSysrootInfo", _BitbakeTaskInfo = "BitbakeTaskInfo")
load("//rules_bitbake/private:repositories.bzl", _bitzel_sandbox_repository = "bitzel_sandbox_repository")
load("//rules_bitbake/private:sysroot.bzl", _bitbake_sysroot = "bitbake_sysroot")
load("//rules_bitbake/private:task.bzl", _bitbake_task = "bitbake_task")

bitbake_task = _bitbake_task
bitbake_sysroot = _bitbake_sysroot
bitzel_sandbox_repository = _bitzel_sandbox_repository
bitbake_git_repository = _bitbake_git_repository
BitbakeTaskInfo = _BitbakeTaskInfo
BitbakeSysrootInfo = _BitbakeSysrootInfo
