//! The virtual layout of rules_bitbake/HELPER.md and the mapping of real paths onto it.
