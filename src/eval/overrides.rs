//! Override-suffixed variable names and the choice of the active override.
//!
//! BitBake keeps `A:append:foo` as an operation on `A` (a [`ConditionalOp`] in `A`'s
//! `:append` list) and `A:foo` as a variable of its own that is linked to `A` as one of its
//! overrides; which override wins is decided at read time from `OVERRIDES`.

use indexmap::IndexMap;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// The three read-time operations of BitBake (`__setvar_keyword__`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationKind {
    /// `:append`: added after the value.
    Append,
    /// `:prepend`: added before the value.
    Prepend,
    /// `:remove`: words taken out of the expanded value.
    Remove,
}

impl OperationKind {
    /// The suffix as written, with its colon (`":append"`), which is also the name of the
    /// internal flag BitBake keeps the operations in.
    pub fn keyword(self) -> &'static str {
        match self {
            OperationKind::Append => ":append",
            OperationKind::Prepend => ":prepend",
            OperationKind::Remove => ":remove",
        }
    }
}

/// One `:append`, `:prepend` or `:remove` operation: its value and the override it is
/// conditional on (`A:append:foo` → `foo`; `foo:bar` needs both), as DataSmart keeps them
/// as `[value, override]` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalOp {
    /// The unexpanded value.
    pub value: Arc<str>,
    /// The override, `None` when the operation is unconditional (also for `A:append:`).
    pub override_: Option<Arc<str>>,
}

impl ConditionalOp {
    /// Whether the operation applies: every `:`-separated part of its override is in
    /// `OVERRIDES` (getVarFlag's `o2 in self.overrides`).
    pub fn applies(&self, overrides: &Overrides) -> bool {
        match &self.override_ {
            None => true,
            Some(o) => o.split(':').all(|part| overrides.contains(part)),
        }
    }
}

/// The split of a name by data_smart's `__setvar_regexp__`:
/// `(?P<base>.*?)(?P<keyword>:append|:prepend|:remove)(:(?P<add>[^A-Z]*))?$`.
///
/// Returns the base variable, the operation and the override (`None` when absent or
/// empty). A name whose override holds a capital letter (`A:append:X`) does not match and
/// is a literal variable name.
pub fn split_operation(name: &str) -> Option<(&str, OperationKind, Option<&str>)> {
    let mut from = 0;
    while let Some(pos) = name[from..].find(':').map(|p| p + from) {
        from = pos + 1;
        let rest = &name[pos..];
        let kind = if rest.starts_with(":append") {
            OperationKind::Append
        } else if rest.starts_with(":prepend") {
            OperationKind::Prepend
        } else if rest.starts_with(":remove") {
            OperationKind::Remove
        } else {
            continue;
        };
        // `.*?` in the base does not cross a newline.
        if name[..pos].contains('\n') {
            return None;
        }
        let tail = &rest[kind.keyword().len()..];
        if tail.is_empty() {
            return Some((&name[..pos], kind, None));
        }
        if let Some(add) = tail.strip_prefix(':') {
            if !add.bytes().any(|b| b.is_ascii_uppercase()) {
                let add = if add.is_empty() { None } else { Some(add) };
                return Some((&name[..pos], kind, add));
            }
        }
    }
    None
}

/// data_smart's `__override_regexp__.match`: an override starts with `[a-z0-9]`.
fn looks_like_override(text: &str) -> bool {
    text.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The links that data_smart's `_setvar_update_overrides` records for a variable name:
/// `(shorter variable, override)` pairs, so that `A:b:c` is an override `c` of `A:b` and an
/// override `b:c` of `A`. The walk stops at the first part that does not look like an
/// override (a capital letter, an empty part).
///
/// BitBake's quirk for a name without a colon is kept: it links `name[:-1]` to `name`.
pub fn override_links(var: &str) -> Vec<(&str, &str)> {
    let mut links = Vec::new();
    let (mut shortvar, mut override_) = match var.rfind(':') {
        Some(i) => (&var[..i], &var[i + 1..]),
        None => {
            let cut = var.char_indices().last().map_or(0, |(i, _)| i);
            (&var[..cut], var)
        }
    };
    while looks_like_override(override_) {
        links.push((shortvar, override_));
        match shortvar.rfind(':') {
            Some(i) => {
                override_ = &var[i + 1..];
                shortvar = &var[..i];
                if shortvar.is_empty() {
                    break;
                }
            }
            None => break,
        }
    }
    links
}

/// One entry of DataSmart's `overridedata[var]`: the variable `A:foo` that is the override
/// `foo` of `A`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideLink {
    /// The full name of the overriding variable (`A:foo`).
    pub var: Arc<str>,
    /// The override (`foo`, or `foo:bar` for a chain).
    pub override_: Arc<str>,
}

/// The expanded `OVERRIDES`, split at `:` in order (empty parts included, as BitBake's
/// `split(":")` gives them), with a set for membership.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    list: Vec<Arc<str>>,
    /// Each override's first position in `list`.
    first_index: FxHashMap<Arc<str>, usize>,
    /// `":" + override` for each of `list`.
    suffixes: Vec<String>,
}

impl PartialEq for Overrides {
    fn eq(&self, other: &Overrides) -> bool {
        self.list == other.list
    }
}

impl Overrides {
    /// `OVERRIDES`' value split at `:` (an unset `OVERRIDES` gives one empty override).
    pub fn from_value(value: &str) -> Overrides {
        let list: Vec<Arc<str>> = value.split(':').map(Arc::from).collect();
        let mut first_index = FxHashMap::default();
        for (i, o) in list.iter().enumerate() {
            first_index.entry(o.clone()).or_insert(i);
        }
        let suffixes = list.iter().map(|o| format!(":{o}")).collect();
        Overrides {
            list,
            first_index,
            suffixes,
        }
    }

    /// The overrides in `OVERRIDES` order: the later, the stronger.
    pub fn list(&self) -> &[Arc<str>] {
        &self.list
    }

    /// Whether `name` is one of the overrides.
    pub fn contains(&self, name: &str) -> bool {
        self.first_index.contains_key(name)
    }

    /// Whether an override link is active: its override is in `OVERRIDES`, or it is a chain
    /// `a:b` whose parts all are.
    pub fn is_active(&self, override_: &str) -> bool {
        self.contains(override_)
            || (override_.contains(':') && override_.split(':').all(|p| self.contains(p)))
    }
}

/// The variable whose value replaces a variable's own, chosen from its override links the
/// way DataSmart.getVarFlag does: among the active links (a later link with the same
/// override replaces an earlier one), the overrides are peeled off the end of each chain in
/// `OVERRIDES` order until one is a single override; the one matched last, i.e. the one
/// latest in `OVERRIDES`, wins.
pub fn select_override(links: &[OverrideLink], overrides: &Overrides) -> Option<Arc<str>> {
    // The common case, every active link a single override: no chain is peeled, and the
    // override that comes first in OVERRIDES latest wins (a later link replaces an earlier
    // one with the same override).
    let mut best: Option<(usize, &Arc<str>)> = None;
    let mut chains = false;
    for link in links {
        if link.override_.contains(':') {
            if overrides.is_active(&link.override_) {
                chains = true;
                break;
            }
        } else if let Some(&index) = overrides.first_index.get(&*link.override_) {
            if best.is_none_or(|(b, _)| index >= b) {
                best = Some((index, &link.var));
            }
        }
    }
    if !chains {
        return best.map(|(_, var)| var.clone());
    }
    let mut active: IndexMap<String, Arc<str>> = IndexMap::new();
    for link in links {
        if overrides.is_active(&link.override_) {
            active.insert(link.override_.to_string(), link.var.clone());
        }
    }
    if active.is_empty() {
        return None;
    }
    let mut chosen = None;
    let mut modified = true;
    while modified {
        modified = false;
        for (o, suffix) in overrides.list().iter().zip(&overrides.suffixes) {
            let keys: Vec<String> = active.keys().cloned().collect();
            for a in keys {
                if a.ends_with(suffix.as_str()) {
                    let target = active.shift_remove(&a).expect("key taken from the map");
                    active.insert(a.replace(suffix.as_str(), ""), target);
                    modified = true;
                } else if a == **o {
                    chosen = active.shift_remove(&a);
                }
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_operation_follows_setvar_regexp() {
        assert_eq!(
            split_operation("A:append"),
            Some(("A", OperationKind::Append, None))
        );
        assert_eq!(
            split_operation("A:append:foo:bar"),
            Some(("A", OperationKind::Append, Some("foo:bar")))
        );
        assert_eq!(
            split_operation("A:foo:remove"),
            Some(("A:foo", OperationKind::Remove, None))
        );
        assert_eq!(split_operation("A:append:X"), None);
        assert_eq!(
            split_operation("A:append:B:prepend"),
            Some(("A:append:B", OperationKind::Prepend, None))
        );
        assert_eq!(split_operation("A:appendix"), None);
        assert_eq!(split_operation("A"), None);
    }

    #[test]
    fn override_links_walk_the_chain() {
        assert_eq!(override_links("A:b:c"), vec![("A:b", "c"), ("A", "b:c")]);
        assert_eq!(override_links("A:B:c"), vec![("A:B", "c")]);
        assert_eq!(override_links("A:X"), vec![]);
        assert_eq!(override_links("foo"), vec![("fo", "foo")]);
    }
}
