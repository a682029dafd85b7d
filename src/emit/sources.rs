//! A recipe's sources: its SRC_URI entries decoded and resolved as BitBake's fetcher
//! (bb.fetch2) does, each with a Bazel repository and the virtual path at which the
//! sandbox helper shows it to do_unpack (rules_bitbake/HELPER.md).
//!
//! - Every entry of `SRC_URI` (expanded, split on whitespace) is decoded by
//!   [`decodeurl`], BitBake's `bb.fetch2.decodeurl` (scheme, host, path, user, password,
//!   `;name=value` parameters in order; a parameter without `=` is an error).
//! - `http`, `https`, `ftp` (BitBake's wget fetcher): the file is `downloadfilename=` or
//!   the path's base name, downloaded to `DL_DIR` (`downloads/<file>`); the checksum is
//!   `SRC_URI[<name>.sha256sum]` (`SRC_URI[sha256sum]` without `name=`), or the
//!   parameter of that name, as `FetchData.configure_checksum` looks it up. Without one,
//!   a diagnostic names the recipe and the URL and the entry is left out (Bazel's
//!   downloader needs it; BitBake would only warn).
//! - `crate://HOST/NAME/VERSION` (bb.fetch2.crate): `https://crates.io/api/v1/crates/NAME/VERSION/download`
//!   for `crates.io`, the file `NAME-VERSION.crate`, `name=` defaulting to `NAME-VERSION`
//!   (so `SRC_URI[NAME-VERSION.sha256sum]`).
//! - `git://` (bb.fetch2.git) and `gitsm://` (bb.fetch2.gitsm, the same with its
//!   submodules, which the repository rule finds): the remote
//!   `PROTOCOL://[USER@]HOST/PATH` (`protocol=`, else `git`, `file` without a host;
//!   `https` for github.com), for each `name=` (scarthgap allows `name=a,b` with
//!   `branch=x,y`; the checkout is the first's) the revision from
//!   `srcrev_internal_helper` (`SRCREV_<name>:pn-<PN>`, `SRCREV_<name>`, `SRCREV:pn-<PN>`,
//!   `SRCREV`, or `rev=`/`tag=`) and its branch (default `master` unless `nobranch=1` or
//!   `usehead=1`), `destsuffix=` (default `git/`). `AUTOREV` (a revision that is not a
//!   hex commit) needs the network at generation time: a diagnostic.
//! - `file://` (bb.fetch2.local): the decoded path searched along `FILESPATH` as
//!   `bb.utils.which` does (the first candidate that exists, a directory too; an absolute
//!   path as it is), then mapped into the layout with
//!   [`VirtualLayout::source_path`] (a layer's file, or one under COREBASE); a file
//!   found nowhere or outside those is a diagnostic.
//! - Every other scheme is a "not supported yet" diagnostic.

use super::layout::{normpath, source_package, VirtualLayout};
use crate::diagnostic::Diagnostic;
use crate::eval::datastore::DataStore;
use std::path::PathBuf;

/// One SRC_URI entry as `bb.fetch2.decodeurl` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedUrl {
    /// The scheme (`type`): `https`, `git`, `file`...
    pub scheme: String,
    /// The host (empty for `file://`).
    pub host: String,
    /// The path, percent-decoded (`/` when the URL has none).
    pub path: String,
    /// The user, if the URL names one.
    pub user: String,
    /// The password, if the URL gives one.
    pub pswd: String,
    /// The `;name=value` parameters, in order (a repeated name keeps its first place and
    /// its last value, as Python's OrderedDict does).
    pub params: Vec<(String, String)>,
}

impl DecodedUrl {
    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `urllib.parse.unquote`: `%XX` sequences decoded (as UTF-8, invalid sequences kept as
/// the replacement character, as Python's `errors='replace'` does).
pub fn unquote(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = h {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `bb.fetch2.decodeurl(url)`; the error is BitBake's MalformedUrl message.
pub fn decodeurl(url: &str) -> Result<DecodedUrl, String> {
    // (?P<type>[^:]*)://((?P<user>[^/;]+)@)?(?P<location>[^;]+)(;(?P<parm>.*))?
    let malformed = || format!("The URL: '{url}' is invalid and cannot be interpreted");
    let colon = url.find(':').ok_or_else(malformed)?;
    let scheme = &url[..colon];
    let rest = url[colon..].strip_prefix("://").ok_or_else(malformed)?;
    // The user group is tried first: [^/;]+ then '@' (greedy, backtracking to the last
    // '@' before any '/' or ';').
    let mut user: Option<&str> = None;
    let mut after_user = rest;
    let stop = rest.find(['/', ';']).unwrap_or(rest.len());
    if let Some(at) = rest[..stop].rfind('@') {
        if at > 0 {
            let candidate_loc = &rest[at + 1..];
            // location must then match [^;]+ (non-empty)
            if !candidate_loc.is_empty() && !candidate_loc.starts_with(';') {
                user = Some(&rest[..at]);
                after_user = candidate_loc;
            }
        }
    }
    let loc_end = after_user.find(';').unwrap_or(after_user.len());
    let location = &after_user[..loc_end];
    if location.is_empty() {
        return Err(malformed());
    }
    let parm = if loc_end < after_user.len() {
        Some(&after_user[loc_end + 1..])
    } else {
        None
    };
    let is_file = scheme.to_lowercase() == "file";
    let (host, path) = match location.find('/') {
        Some(i) if !is_file => (location[..i].to_string(), location[i..].to_string()),
        _ if is_file => (String::new(), location.to_string()),
        _ => (location.to_string(), "/".to_string()),
    };
    let (user, pswd) = match user {
        Some(u) if !u.is_empty() => {
            // (?P<user>[^:]+)(:?(?P<pswd>.*))
            if u.starts_with(':') {
                (u.to_string(), String::new())
            } else {
                match u.find(':') {
                    Some(i) => (u[..i].to_string(), u[i + 1..].to_string()),
                    None => (u.to_string(), String::new()),
                }
            }
        }
        _ => (String::new(), String::new()),
    };
    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(parm) = parm.filter(|p| !p.is_empty()) {
        for s in parm.split(';') {
            if s.is_empty() {
                continue;
            }
            let Some((k, v)) = s.split_once('=') else {
                return Err(format!(
                    "The URL: '{url}' is invalid: parameter {s} does not specify a value (missing '=')"
                ));
            };
            match params.iter_mut().find(|(n, _)| n == k) {
                Some(slot) => slot.1 = v.to_string(),
                None => params.push((k.to_string(), v.to_string())),
            }
        }
    }
    Ok(DecodedUrl {
        scheme: scheme.to_string(),
        host,
        path: unquote(&path),
        user,
        pswd,
        params,
    })
}

/// What kind of source an entry is, with what fetching it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// A download through Bazel's downloader (http, https, ftp).
    Download {
        /// The URL without its parameters.
        url: String,
        /// `SRC_URI[<name>.sha256sum]`.
        sha256: String,
    },
    /// A crate from a crates registry.
    Crate {
        /// The download URL (`https://crates.io/api/v1/crates/NAME/VERSION/download`).
        url: String,
        /// `SRC_URI[NAME-VERSION.sha256sum]` (or `name=`'s).
        sha256: String,
        /// The crate's name.
        name: String,
        /// The crate's version.
        version: String,
    },
    /// A git repository at a fixed commit.
    Git {
        /// The remote (`https://host/path`).
        remote: String,
        /// The commit (SRCREV).
        rev: String,
        /// `branch=` (BitBake's `ud.branches`: `master` by default, None with
        /// `nobranch=1` and no `branch=`).
        branch: Option<String>,
        /// `nobranch=1` (or `usehead=1`): SRCREV need not be on the branch, and the
        /// checkout is a detached HEAD.
        nobranch: bool,
        /// `gitsm://` (bb.fetch2.gitsm): the submodules too, recursively.
        submodules: bool,
        /// The other names of `name=a,b` (their SRCREV and branch), which must be
        /// fetched and on their branches too; the checkout is the first name's.
        others: Vec<(String, Option<String>)>,
        /// `destsuffix=`: where do_unpack checks it out, relative to WORKDIR.
        destsuffix: String,
    },
    /// A file or directory of a layer, found through FILESPATH.
    Local {
        /// Where it is on this machine (for the generator only; never written out).
        real: PathBuf,
        /// Whether it is a directory.
        is_dir: bool,
    },
}

/// One SRC_URI entry, ready for the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The entry as SRC_URI (expanded) has it.
    pub url: String,
    /// The decoded entry.
    pub decoded: DecodedUrl,
    /// What to fetch.
    pub kind: SourceKind,
    /// The Bazel repository holding it: `src_<file>_<sha256 prefix>` for downloads,
    /// `crate_<name>_<version>`, `git_<host_path>[_<branch>]_<rev prefix>` (rules_bitbake's
    /// `bitbake_git_repository`: a git bundle of the commit), `layer_<layer>` for layer
    /// files (see [`repository_name`]).
    pub repository: String,
    /// The path of the file (or tree) inside that repository.
    pub repo_path: String,
    /// The virtual path, relative to `/bitzel`: `downloads/<file>`,
    /// `downloads/git2/<host.path>` (BitBake's clone directory; the helper finds the
    /// repository's bundle there) or `layers/<layer>/<path>`.
    pub virtual_path: String,
    /// The path do_unpack gives it under WORKDIR (before `subdir=`): the download's
    /// file name, or SRC_URI's path for `file://` (`foo/bar.c` for `file://foo/bar.c`;
    /// an absolute path virtualized, without its leading `/`).
    pub unpack_path: String,
}

impl Source {
    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.decoded.param(name)
    }
}

/// A valid Bazel repository name (Bazel 4 and bzlmod alike: a letter first, then
/// letters, digits, `_`, `-`, `.`): `prefix_` plus `parts` with every other character
/// as `_`.
pub fn repository_name(prefix: &str, parts: &[&str]) -> String {
    let mut out = String::from(prefix);
    for p in parts {
        out.push('_');
        for c in p.chars() {
            out.push(if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            });
        }
    }
    out
}

fn diag(file: &str, message: String) -> Diagnostic {
    Diagnostic::error(file, 0..0, message)
}

/// `bb.utils.which(path, item)` without `executable`: the first `dir/item` that exists,
/// and the candidates tried.
pub fn which(path: &str, item: &str) -> (Option<PathBuf>, Vec<PathBuf>) {
    let mut hist = Vec::new();
    for p in path.split(':') {
        // os.path.join: an absolute item replaces the directory.
        let next = if item.starts_with('/') || p.is_empty() {
            PathBuf::from(item)
        } else {
            PathBuf::from(format!("{}/{item}", p.trim_end_matches('/')))
        };
        hist.push(next.clone());
        if next.exists() {
            return (Some(next), hist);
        }
    }
    (None, hist)
}

/// The sources of recipe `pn` (its store `store`), in SRC_URI order, and what is wrong
/// with the entries left out.
pub fn recipe_sources(
    store: &DataStore,
    pn: &str,
    layout: &VirtualLayout,
) -> (Vec<Source>, Vec<Diagnostic>) {
    let file = store.get_text("FILE").unwrap_or_default();
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let src_uri = match store.get_var("SRC_URI", true) {
        Ok(v) => v.map(|v| v.to_string()).unwrap_or_default(),
        Err(e) => {
            diags.push(diag(&file, format!("{pn}: SRC_URI: {e}")));
            return (out, diags);
        }
    };
    for url in src_uri.split_whitespace() {
        match source(store, pn, url, layout) {
            Ok(s) => out.push(s),
            Err(m) => diags.push(diag(&file, m)),
        }
    }
    (out, diags)
}

/// One entry, or why it cannot be a source.
fn source(
    store: &DataStore,
    pn: &str,
    url: &str,
    layout: &VirtualLayout,
) -> Result<Source, String> {
    let decoded = decodeurl(url).map_err(|e| format!("{pn}: {e}"))?;
    let scheme = decoded.scheme.as_str();
    let checksum = |name: &str| -> Option<String> {
        decoded
            .param(name)
            .map(str::to_string)
            .or_else(|| {
                store
                    .get_var_flag("SRC_URI", name, true)
                    .ok()
                    .flatten()
                    .map(|v| v.to_string())
            })
            .filter(|v| !v.is_empty())
    };
    match scheme {
        "http" | "https" | "ftp" => {
            let basename = decoded
                .param("downloadfilename")
                .map(str::to_string)
                .unwrap_or_else(|| basename(&decoded.path).to_string());
            let mut localfile = unquote(&basename);
            if localfile.is_empty() {
                localfile = unquote(&format!("{}{}", decoded.host, decoded.path)).replace('/', ".");
            }
            let sum_name = match decoded.param("name") {
                Some(n) => format!("{n}.sha256sum"),
                None => "sha256sum".to_string(),
            };
            let sha256 = checksum(&sum_name).ok_or_else(|| {
                format!("{pn}: no checksum for {url}: SRC_URI[{sum_name}] is not set (the entry is left out)")
            })?;
            let url_only = url.split(';').next().unwrap_or(url).to_string();
            let prefix: String = sha256.chars().take(12).collect();
            Ok(Source {
                url: url.to_string(),
                repository: repository_name("src", &[&localfile, &prefix]),
                repo_path: "file".into(),
                virtual_path: format!("downloads/{localfile}"),
                unpack_path: localfile,
                kind: SourceKind::Download {
                    url: url_only,
                    sha256,
                },
                decoded,
            })
        }
        "crate" => {
            let parts: Vec<&str> = url.split('/').collect();
            if parts.len() < 5 {
                return Err(format!(
                    "{pn}: Invalid URL: Must be crate://HOST/NAME/VERSION: {url}"
                ));
            }
            let version = parts[parts.len() - 1].split(';').next().unwrap_or("");
            let name = parts[parts.len() - 2];
            let mut host = parts[2..parts.len() - 2].join("/");
            if host == "crates.io" {
                host = "crates.io/api/v1/crates".into();
            }
            let dl = format!("https://{host}/{name}/{version}/download");
            let file = format!("{name}-{version}.crate");
            let pname = decoded
                .param("name")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{name}-{version}"));
            let sum_name = format!("{pname}.sha256sum");
            let sha256 = checksum(&sum_name).ok_or_else(|| {
                format!("{pn}: no checksum for {url}: SRC_URI[{sum_name}] is not set (the entry is left out)")
            })?;
            Ok(Source {
                url: url.to_string(),
                repository: repository_name("crate", &[name, version]),
                repo_path: "file".into(),
                virtual_path: format!("downloads/{file}"),
                unpack_path: file,
                kind: SourceKind::Crate {
                    url: dl,
                    sha256,
                    name: name.to_string(),
                    version: version.to_string(),
                },
                decoded,
            })
        }
        "git" | "gitsm" => git_source(store, pn, url, decoded),
        "file" => {
            let rest = url.split_once("://").map(|x| x.1).unwrap_or("");
            let path = unquote(rest.split(';').next().unwrap_or(""));
            if path.contains('*') {
                return Err(format!("{pn}: file:// urls using globbing are no longer supported. Please place the files in a directory and reference that instead: {url}"));
            }
            if path.is_empty() {
                return Err(format!(
                    "{pn}: The URL: '{url}' is invalid and cannot be interpreted"
                ));
            }
            let found = if path.starts_with('/') {
                Some(PathBuf::from(&path)).filter(|p| p.exists())
            } else {
                let filespath = store.get_text("FILESPATH").unwrap_or_default();
                which(&filespath, &path).0
            };
            let Some(real) = found else {
                return Err(format!(
                    "{pn}: Unable to find file {url} anywhere along FILESPATH"
                ));
            };
            let realn = PathBuf::from(normpath(&real.to_string_lossy()));
            let Some(vpath) = layout.source_path(&realn) else {
                return Err(format!(
                    "{pn}: {url} is found outside every layer and COREBASE ({}), which the workspace cannot reach",
                    layout.virtualize(&realn.to_string_lossy())
                ));
            };
            let (package, in_package) = source_package(&vpath).unwrap_or((&vpath, ""));
            let layer = package.rsplit('/').next().unwrap_or(package).to_string();
            let in_layer = in_package.to_string();
            Ok(Source {
                url: url.to_string(),
                repository: repository_name("layer", &[&layer]),
                repo_path: in_layer,
                virtual_path: vpath,
                // bb.fetch2's unpack copies a file:// entry to its URL path with the
                // leading `/` stripped: an absolute one lands at WORKDIR<path>, which
                // tasks spell `${WORKDIR}${COREBASE}/...`, so virtualized here too.
                unpack_path: match path.starts_with('/') {
                    true => layout.virtualize(&path).trim_start_matches('/').to_string(),
                    false => path,
                },
                kind: SourceKind::Local {
                    is_dir: realn.is_dir(),
                    real: realn,
                },
                decoded,
            })
        }
        other => Err(format!(
            "not supported yet: {pn} SRC_URI scheme {other}:// ({url})"
        )),
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `srcrev_internal_helper(ud, d, name)` without AUTOINC.
fn srcrev(
    store: &DataStore,
    pn: &str,
    name: &str,
    decoded: &DecodedUrl,
    url: &str,
) -> Result<String, String> {
    let mut attempts = Vec::new();
    if !name.is_empty() && !pn.is_empty() {
        attempts.push(format!("SRCREV_{name}:pn-{pn}"));
    }
    if !name.is_empty() {
        attempts.push(format!("SRCREV_{name}"));
    }
    if !pn.is_empty() {
        attempts.push(format!("SRCREV:pn-{pn}"));
    }
    attempts.push("SRCREV".into());
    let mut rev: Option<String> = None;
    for a in &attempts {
        rev = store
            .get_var(a, true)
            .map_err(|e| format!("{pn}: {a}: {e}"))?
            .map(|v| v.to_string());
        if rev
            .as_deref()
            .is_some_and(|r| !r.is_empty() && r != "INVALID")
        {
            break;
        }
    }
    let unset = rev
        .as_deref()
        .is_none_or(|r| r.is_empty() || r == "INVALID");
    if decoded.param("rev").is_some() && decoded.param("tag").is_some() {
        return Err(format!("{pn}: Please specify a ;rev= parameter or a ;tag= parameter in the url {url} but not both."));
    }
    if let Some(parmrev) = decoded.param("rev").or(decoded.param("tag")) {
        if unset {
            return Ok(parmrev.to_string());
        }
        if rev.as_deref() != Some(parmrev) {
            return Err(format!("{pn}: Conflicting revisions ({} from SRCREV and {parmrev} from the url) found, please specify one valid value", rev.unwrap_or_default()));
        }
        return Ok(parmrev.to_string());
    }
    if unset {
        return Err(format!("{pn}: Please set a valid SRCREV for url {url} (possible key names are {attempts:?}, or use a ;rev=X URL parameter)"));
    }
    Ok(rev.unwrap_or_default())
}

fn git_source(
    store: &DataStore,
    pn: &str,
    url: &str,
    decoded: DecodedUrl,
) -> Result<Source, String> {
    let proto = match decoded.param("protocol") {
        Some(p) => p.to_string(),
        None if decoded.host.is_empty() => "file".into(),
        None => "git".into(),
    };
    let proto = if decoded.host == "github.com" && proto == "git" {
        "https".to_string()
    } else {
        proto
    };
    if !["git", "file", "ssh", "http", "https", "rsync"].contains(&proto.as_str()) {
        return Err(format!("{pn}: Invalid protocol type: {url}"));
    }
    let names: Vec<&str> = decoded
        .param("name")
        .unwrap_or("default")
        .split(',')
        .collect();
    let submodules = decoded.scheme == "gitsm";
    if names.len() != 1 && submodules {
        return Err(format!(
            "not supported yet: {pn} gitsm with several names= ({url})"
        ));
    }
    if submodules
        && (decoded.param("subpath").is_some() || decoded.param("nocheckout") == Some("1"))
    {
        return Err(format!(
            "not supported yet: {pn} gitsm with subpath= or nocheckout=1 ({url})"
        ));
    }
    if decoded.param("bareclone") == Some("1") {
        return Err(format!(
            "not supported yet: {pn} git bareclone=1 (a mirror clone without checkout) ({url})"
        ));
    }
    // usehead=1 (protocol=file only) implies nobranch=1.
    let usehead = decoded.param("usehead") == Some("1");
    if usehead && proto != "file" {
        return Err(format!("{pn}: The usehead option is only for use with local ('protocol=file') git repositories: {url}"));
    }
    let nobranch = decoded.param("nobranch") == Some("1") || usehead;
    // urldata_init: one branch per name ("master" when none is given and nobranch is
    // not set).
    let mut branches: Vec<&str> = decoded.param("branch").unwrap_or("").split(',').collect();
    if branches == [""] && !nobranch {
        branches = vec!["master"];
    }
    if branches.len() != names.len() {
        return Err(format!(
            "{pn}: The number of name and branch parameters is not balanced: {url}"
        ));
    }
    // setup_revisions: each name's SRCREV (SRCREV_default for the unnamed entry).
    let mut revs = Vec::new();
    for (name, branch) in names.iter().zip(&branches) {
        let rev = srcrev(store, pn, name, &decoded, url)?;
        if rev.len() != 40 || !rev.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "not supported yet: {pn} git revision '{rev}' of {url} is not a commit id (AUTOREV or a branch name needs the network at generation time)"
            ));
        }
        revs.push((rev, Some(branch.to_string()).filter(|b| !b.is_empty())));
    }
    // Unpack checks out the first name's.
    let (rev, branch) = revs.remove(0);
    let user = if decoded.user.is_empty() {
        String::new()
    } else {
        format!("{}@", decoded.user)
    };
    let remote = format!("{proto}://{user}{}{}", decoded.host, decoded.path);
    // BitBake's clone directory name: host + path with '/' and '*' replaced.
    let gitsrcname = format!(
        "{}{}",
        decoded.host.replace(':', "."),
        decoded
            .path
            .replace(['/', '*'], ".")
            .replace(' ', "_")
            .replace(['(', ')'], "_")
    );
    let gitsrcname = gitsrcname
        .strip_prefix('.')
        .unwrap_or(&gitsrcname)
        .to_string();
    let destsuffix = decoded.param("destsuffix").unwrap_or("git/").to_string();
    let prefix: String = rev.chars().take(12).collect();
    Ok(Source {
        url: url.to_string(),
        // The branch is part of the name: a bundle holds `refs/heads/<branch>`.
        repository: {
            let kind = if submodules { "gitsm" } else { "git" };
            let mut parts = vec![gitsrcname.as_str()];
            if let Some(b) = branch.as_deref().filter(|_| !nobranch) {
                parts.push(b);
            }
            parts.push(&prefix);
            // name=a,b: the other names' commits are part of the bundle.
            let others: Vec<String> = revs
                .iter()
                .map(|(r, _)| r.chars().take(12).collect())
                .collect();
            parts.extend(others.iter().map(String::as_str));
            repository_name(kind, &parts)
        },
        repo_path: "file".into(),
        virtual_path: format!("downloads/git2/{gitsrcname}"),
        unpack_path: destsuffix.clone(),
        kind: SourceKind::Git {
            remote,
            rev,
            branch,
            nobranch,
            submodules,
            others: revs,
            destsuffix,
        },
        decoded,
    })
}
