//! rules_bitbake as the binary carries it: `bitzel gen` writes a copy into every
//! workspace (`third_party/rules_bitbake/`), so that a workspace needs nothing but Bazel
//! and the sandbox helper, and its ruleset always matches the BUILD files it generated.

/// Where the copy goes, relative to the workspace.
pub const RULES_DIR: &str = "third_party/rules_bitbake";

/// rules_bitbake's version, as its MODULE.bazel declares it.
pub const RULES_VERSION: &str = "0.1.0";

/// The Starlark files of rules_bitbake/, by path under the repository's
/// `rules_bitbake/` folder (the loads inside them are `//rules_bitbake/...`).
pub const RULES_FILES: &[(&str, &str)] = &[
    (
        "BUILD.bazel",
        include_str!("../../rules_bitbake/BUILD.bazel"),
    ),
    ("defs.bzl", include_str!("../../rules_bitbake/defs.bzl")),
    (
        "private/BUILD.bazel",
        include_str!("../../rules_bitbake/private/BUILD.bazel"),
    ),
    (
        "private/extensions.bzl",
        include_str!("../../rules_bitbake/private/extensions.bzl"),
    ),
    (
        "private/git.bzl",
        include_str!("../../rules_bitbake/private/git.bzl"),
    ),
    (
        "private/providers.bzl",
        include_str!("../../rules_bitbake/private/providers.bzl"),
    ),
    (
        "private/repositories.bzl",
        include_str!("../../rules_bitbake/private/repositories.bzl"),
    ),
    (
        "private/sysroot.bzl",
        include_str!("../../rules_bitbake/private/sysroot.bzl"),
    ),
    (
        "private/task.bzl",
        include_str!("../../rules_bitbake/private/task.bzl"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Starlark or BUILD file of rules_bitbake/ is embedded, so that a new rule
    /// file cannot be forgotten in the generated workspaces.
    #[test]
    fn every_starlark_file_of_rules_bitbake_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules_bitbake");
        let mut on_disk: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|p| p.ends_with(".bzl") || p.ends_with("BUILD.bazel"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = RULES_FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }
}
