//! Provider selection: which recipe variant satisfies a build-time name (DEPENDS,
//! PROVIDES, virtual/ names) or a runtime name (RDEPENDS, RPROVIDES, packages), the way
//! bb/providers.py chooses: layer priority, DEFAULT_PREFERENCE, PREFERRED_VERSION /
//! REQUIRED_VERSION, the newest version, then PREFERRED_PROVIDER / PREFERRED_RPROVIDER.

use std::cmp::Ordering;

use indexmap::IndexMap;

use super::recipe::{FnId, RecipeCache};

/// `bb.providers.sortPriorities`: the files of one PN in groups, highest layer priority
/// first; within a group, by DEFAULT_PREFERENCE ascending, then in the given order.
pub fn sort_priorities(cache: &RecipeCache, files: &[FnId]) -> Vec<Vec<FnId>> {
    let mut by_priority: std::collections::BTreeMap<
        i64,
        std::collections::BTreeMap<i64, Vec<FnId>>,
    > = Default::default();
    for &f in files {
        let r = cache.recipes[f];
        by_priority
            .entry(r.priority)
            .or_default()
            .entry(r.default_preference)
            .or_default()
            .push(f);
    }
    by_priority
        .into_values()
        .rev()
        .map(|prefs| prefs.into_values().flatten().collect())
        .collect()
}

/// `bb.providers.versionVariableMatch`: `<KEYWORD>_VERSION:pn-<pn>`, then
/// `<KEYWORD>_VERSION_<pn>`, then `<KEYWORD>_VERSION`.
fn version_variable<'c>(cache: &'c RecipeCache, keyword: &str, pn: &str) -> Option<&'c str> {
    let config = cache.config;
    config
        .var(&format!("{keyword}_VERSION:pn-{pn}"))
        .or_else(|| config.var(&format!("{keyword}_VERSION_{pn}")))
        .or_else(|| config.var(&format!("{keyword}_VERSION")))
}

/// `bb.providers.preferredVersionMatch`.
fn preferred_version_match(
    (pe, pv, pr): (&str, &str, &str),
    preferred_e: Option<&str>,
    preferred_v: &str,
    preferred_r: Option<&str>,
) -> bool {
    if preferred_r.is_none_or(|r| r == pr) && preferred_e.is_none_or(|e| e == pe) {
        if preferred_v == pv {
            return true;
        }
        if let Some(prefix) = preferred_v.strip_suffix('%') {
            return pv.starts_with(prefix);
        }
    }
    false
}

/// `bb.providers.findPreferredProvider`: the first file, in priority order, whose version
/// matches REQUIRED_VERSION or PREFERRED_VERSION. Returns (file, required).
pub fn find_preferred_provider(
    cache: &RecipeCache,
    pn: &str,
    sorted: &[Vec<FnId>],
) -> (Option<FnId>, bool) {
    let required_v = version_variable(cache, "REQUIRED", pn);
    let mut preferred_v = version_variable(cache, "PREFERRED", pn);
    let required = required_v.is_some();
    if required_v.is_some() {
        preferred_v = required_v;
    }
    let Some(preferred_v) = preferred_v else {
        return (None, required);
    };
    // re.match(r'(\d+:)*(.*)(_.*)*', v): an epoch prefix; the greedy (.*) leaves no
    // revision, as in BitBake.
    let (epoch, version) = match preferred_v.split_once(':') {
        Some((e, v)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (Some(e), v),
        _ => (None, preferred_v),
    };
    for group in sorted {
        for &f in group {
            let r = cache.recipes[f];
            if preferred_version_match((&r.pe, &r.pv, &r.pr), epoch, version, None) {
                return (Some(f), required);
            }
        }
    }
    (None, required)
}

/// `bb.providers.findLatestProvider`: the highest version, DEFAULT_PREFERENCE first.
pub fn find_latest_provider(cache: &RecipeCache, files: &[FnId]) -> Option<FnId> {
    let mut latest: Option<FnId> = None;
    let mut latest_p = 0;
    for &f in files {
        let r = cache.recipes[f];
        let dp = r.default_preference;
        let newer = match latest {
            None => true,
            Some(l) => {
                let lr = cache.recipes[l];
                (latest_p == dp
                    && vercmp((&lr.pe, &lr.pv, &lr.pr), (&r.pe, &r.pv, &r.pr)) == Ordering::Less)
                    || dp > latest_p
            }
        };
        if newer {
            latest = Some(f);
            latest_p = dp;
        }
    }
    latest
}

/// `bb.providers._filterProviders`: per PN among the providers, the preferred version
/// (or, failing that, the latest of the highest-priority group); the provider whose PN
/// is the item itself goes first.
fn filter_providers_common(cache: &RecipeCache, providers: &[FnId], item: &str) -> Vec<FnId> {
    let mut providers = providers.to_vec();
    providers.sort_by(|a, b| cache.file(*a).cmp(cache.file(*b)));
    let mut pkg_pn: IndexMap<&str, Vec<FnId>> = IndexMap::new();
    for &p in &providers {
        pkg_pn.entry(cache.pn(p)).or_default().push(p);
    }
    let mut pns: Vec<&str> = pkg_pn.keys().copied().collect();
    pns.sort();
    let mut eligible = Vec::new();
    let mut preferred: IndexMap<&str, Option<FnId>> = IndexMap::new();
    let mut sorted: IndexMap<&str, Vec<Vec<FnId>>> = IndexMap::new();
    for pn in &pns {
        let groups = sort_priorities(cache, &pkg_pn[pn]);
        let (file, required) = find_preferred_provider(cache, pn, &groups);
        sorted.insert(pn, groups);
        if required && file.is_none() {
            return eligible;
        }
        preferred.insert(pn, file);
        if let Some(f) = file {
            eligible.push(f);
        }
    }
    for pn in &pns {
        if preferred.get(pn).copied().flatten().is_some() {
            continue;
        }
        let latest = find_latest_provider(cache, &sorted[pn][0]);
        preferred.insert(pn, latest);
        if let Some(f) = latest {
            eligible.push(f);
        }
    }
    if eligible.is_empty() {
        return eligible;
    }
    for &p in &providers {
        let pn = cache.pn(p);
        if pn != item {
            continue;
        }
        let Some(f) = preferred.get(pn).copied().flatten() else {
            continue;
        };
        if let Some(pos) = eligible.iter().position(|&e| e == f) {
            eligible.remove(pos);
            eligible.insert(0, f);
        }
    }
    eligible
}

/// `bb.providers.filterProviders`: the eligible providers of a build-time name, first
/// the one PREFERRED_PROVIDER_<item> (or PREFERRED_PROVIDERS) names; the flag says
/// whether a preference decided.
pub fn filter_providers(cache: &RecipeCache, providers: &[FnId], item: &str) -> (Vec<FnId>, bool) {
    let mut eligible = filter_providers_common(cache, providers, item);
    let preferred = cache
        .config
        .var(&format!("PREFERRED_PROVIDER_{item}"))
        .or_else(|| cache.preferred.get(item).map(String::as_str));
    let mut found = false;
    if let Some(preferred) = preferred {
        if let Some(pos) = eligible.iter().position(|&p| cache.pn(p) == preferred) {
            let p = eligible.remove(pos);
            eligible.insert(0, p);
            found = true;
        }
    }
    (eligible, found)
}

/// `bb.providers.filterProvidersRunTime`: the eligible providers of a runtime name, first
/// the one PREFERRED_RPROVIDER_<item> names, else those a PREFERRED_PROVIDER of something
/// they provide names. Returns (eligible, number of preferred ones).
pub fn filter_providers_runtime(
    cache: &RecipeCache,
    providers: &[FnId],
    item: &str,
) -> (Vec<FnId>, usize) {
    let mut eligible = filter_providers_common(cache, providers, item);
    if let Some(prefer) = cache.config.var(&format!("PREFERRED_RPROVIDER_{item}")) {
        if let Some(pos) = eligible.iter().position(|&p| cache.pn(p) == prefer) {
            let p = eligible.remove(pos);
            eligible.insert(0, p);
            return (eligible, 1);
        }
    }
    let mut pns: IndexMap<&str, FnId> = IndexMap::new();
    for &p in &eligible {
        pns.insert(cache.pn(p), p);
    }
    let mut preferred: Vec<FnId> = Vec::new();
    for p in eligible.clone() {
        let pn = cache.pn(p);
        for provide in cache.pn_provides.get(pn).into_iter().flatten() {
            let Some(prefer) = cache.config.var(&format!("PREFERRED_PROVIDER_{provide}")) else {
                continue;
            };
            if let Some(&pref) = pns.get(prefer) {
                if !preferred.contains(&pref) {
                    if let Some(pos) = eligible.iter().position(|&e| e == pref) {
                        eligible.remove(pos);
                    }
                    eligible.insert(0, pref);
                    preferred.push(pref);
                    break;
                }
            }
        }
    }
    (eligible, preferred.len())
}

/// One part of an exploded version (`bb.utils.explode_version`), ordered as BitBake
/// orders `(kind, value)` tuples: `~` < numbers < letters < other characters.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum VersionPart {
    Tilde,
    Number(u128),
    Alpha(String),
    Other(char),
}

fn explode_version(s: &str) -> Vec<VersionPart> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            out.push(VersionPart::Number(digits.parse().unwrap_or(u128::MAX)));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(VersionPart::Alpha(chars[start..i].iter().collect()));
        } else {
            out.push(if c == '~' {
                VersionPart::Tilde
            } else {
                VersionPart::Other(c)
            });
            i += 1;
        }
    }
    out
}

/// `bb.utils.vercmp_part`: a missing part is (0, None), which sorts below a number
/// part of value 0 and above nothing else of kind 0... exactly as BitBake compares.
fn vercmp_part(a: &str, b: &str) -> Ordering {
    let va = explode_version(a);
    let vb = explode_version(b);
    let kind = |p: &VersionPart| match p {
        VersionPart::Tilde => -1,
        VersionPart::Number(_) => 0,
        VersionPart::Alpha(_) => 1,
        VersionPart::Other(_) => 2,
    };
    let mut ia = va.iter();
    let mut ib = vb.iter();
    loop {
        let pa = ia.next();
        let pb = ib.next();
        let (oa, ob) = (pa.map_or(0, kind), pb.map_or(0, kind));
        if pa.is_none() && pb.is_none() {
            return Ordering::Equal;
        }
        match oa.cmp(&ob) {
            Ordering::Equal => {}
            other => return other,
        }
        match (pa, pb) {
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

/// `bb.utils.vercmp` on (PE, PV, PR): epochs as integers, then PV, then PR.
pub fn vercmp(a: (&str, &str, &str), b: (&str, &str, &str)) -> Ordering {
    let epoch = |e: &str| e.trim().parse::<i64>().unwrap_or(0);
    epoch(a.0)
        .cmp(&epoch(b.0))
        .then_with(|| vercmp_part(a.1, b.1))
        .then_with(|| vercmp_part(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vercmp_orders_like_bitbake() {
        let v = |s| ("", s, "r0");
        assert_eq!(vercmp(v("1.0"), v("2.0")), Ordering::Less);
        assert_eq!(vercmp(v("1.10"), v("1.9")), Ordering::Greater);
        assert_eq!(vercmp(v("1.0~rc1"), v("1.0")), Ordering::Less);
        assert_eq!(vercmp(v("1.0a"), v("1.0")), Ordering::Greater);
        assert_eq!(vercmp(v("1.0"), v("1.0")), Ordering::Equal);
        assert_eq!(vercmp(("1", "0.1", ""), ("", "9.9", "")), Ordering::Greater);
    }
}
