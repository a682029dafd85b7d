//! Helpers shared by the tests that compare bitzel with real BitBake and real Bazel:
//! where the repository, Python, Poky and BitBake's lib are, the embedded Python bridge,
//! the parser of `bitbake -e` output, and how Bazel is started.

#![allow(dead_code)]

use bitzel::eval::python::{PythonBridge, PythonConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

/// `bazel` with the startup options every test uses: no system or home rc file, its
/// own output user root, and Debian's bazel-bootstrap install base, which only the
/// skipped system rc file names. Arguments, the working directory and the error for a
/// missing Bazel are the caller's.
pub fn bazel_command(output_user_root: &Path) -> Command {
    let mut command = Command::new("bazel");
    command
        .arg("--nosystem_rc")
        .arg("--nohome_rc")
        .arg(format!("--output_user_root={}", output_user_root.display()));
    if Path::new("/usr/share/bazel/A-server.jar").exists() {
        command
            .arg("--install_base=/usr/share/bazel")
            .arg("--trust_install_base");
    }
    command
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> String {
    std::env::var("BITZEL_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

pub fn poky() -> Option<PathBuf> {
    std::env::var_os("BITZEL_POKY")
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
}

/// Where `bb` comes from: Poky's bitbake/lib, else the oracle Python's installed one.
pub fn bitbake_lib() -> PathBuf {
    if let Some(p) = poky() {
        return p.join("bitbake/lib");
    }
    let out = Command::new(python())
        .args([
            "-c",
            "import os, sys, types\n\
             sys.modules.setdefault('hashserv', types.ModuleType('hashserv'))\n\
             import bb\nprint(os.path.dirname(os.path.dirname(bb.__file__)))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (set BITZEL_PYTHON): {e}", python()));
    assert!(
        out.status.success(),
        "{} cannot import BitBake's bb (pip install bitbake-setup): {}",
        python(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

pub fn bridge() -> &'static Arc<PythonBridge> {
    static BRIDGE: OnceLock<Arc<PythonBridge>> = OnceLock::new();
    BRIDGE.get_or_init(|| {
        Arc::new(
            PythonBridge::start(&PythonConfig {
                python_path: vec![bitbake_lib()],
            })
            .unwrap_or_else(|e| panic!("the Python bridge does not start: {e}")),
        )
    })
}

/// Which BitBake the oracle ran ("2.8.1", "2.19.0").
pub fn oracle_version(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("bitbake-oracle: BitBake "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_string()
}

/// The environment BitBake let in, as the history in its `-e` output shows it: a
/// variable whose history starts with `from env ... [inheritFromOS]` and the quoted value
/// on the next line. bitzel is given the same, so that HOME, PATH, PWD... and what is
/// built from them (Poky's XAUTHORITY, DEVSHELL) are compared too.
pub fn environment_of(bitbake_env: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = bitbake_env.lines().collect();
    let mut env = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(header) = line.strip_prefix("# $") else {
            continue;
        };
        let name = header.split_whitespace().next().unwrap_or("");
        let from_env = lines
            .get(i + 1)
            .is_some_and(|l| l.starts_with("#   from env ") && l.ends_with("[inheritFromOS]"));
        let value = lines
            .get(i + 2)
            .and_then(|l| l.strip_prefix("#     \""))
            .and_then(|v| v.strip_suffix('"'));
        if let (true, Some(value)) = (from_env, value) {
            env.push((name.to_string(), value.to_string()));
        }
    }
    env
}

/// `bitbake -e` output as entries: `NAME` → the printed line(s) of a variable
/// (`export ` kept, so the export flag is compared too), `NAME()` → a shell function
/// with its `# line:` comment, `python NAME` → a Python function. History comments are
/// left out.
pub fn parse_env(text: &str) -> BTreeMap<String, String> {
    // The oracle's per-command stdout starts with BitBake's progress lines.
    let text = match text.find("#\n# INCLUDE HISTORY:") {
        Some(i) => &text[i..],
        None => text,
    };
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut comment_line: Option<&str> = None;
    if lines.get(1) == Some(&"# INCLUDE HISTORY:") {
        // `#`, the title, `#`, then one `# file` line each up to the first bare `#`.
        let end = (3..lines.len())
            .find(|&j| lines[j] == "#" || !lines[j].starts_with("# "))
            .unwrap_or(lines.len());
        out.insert("# INCLUDE HISTORY".to_string(), lines[3..end].join("\n"));
        i = end;
    }
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.starts_with("# line: ") {
            comment_line = Some(line);
            continue;
        }
        if let Some(header) = line.strip_prefix("# $") {
            // A variable's history: up to the line before its value (or the next `#`).
            let name = header.split(' ').next().unwrap_or("");
            let mut block = vec![line];
            while i < lines.len() && lines[i].starts_with('#') && lines[i] != "#" {
                block.push(lines[i]);
                i += 1;
            }
            out.insert(format!("history {name}"), block.join("\n"));
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("python ") {
            if let Some(name) = rest.strip_suffix(" () {") {
                let mut body = Vec::new();
                while i < lines.len() && lines[i] != "}" {
                    body.push(lines[i]);
                    i += 1;
                }
                i += 1;
                out.insert(format!("python {name}"), body.join("\n"));
                continue;
            }
        }
        if let Some(name) = line.strip_suffix("() {") {
            let mut body = vec![comment_line.take().unwrap_or("")];
            while i < lines.len() && lines[i] != "}" {
                body.push(lines[i]);
                i += 1;
            }
            i += 1;
            out.insert(format!("{name}()"), body.join("\n"));
            continue;
        }
        if let Some(name) = line.strip_prefix("unset ") {
            out.insert(name.to_string(), line.to_string());
            continue;
        }
        let bare = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, _)) = bare.split_once("=\"") else {
            out.insert(format!("<unparsed> {line}"), line.to_string());
            continue;
        };
        let mut value = line.to_string();
        // A value ends at a line ending in an unescaped quote; ` \` continues it.
        while !(value.ends_with('"')
            && value[..value.len() - 1]
                .chars()
                .rev()
                .take_while(|c| *c == '\\')
                .count()
                % 2
                == 0
            && value.len() > line.find("=\"").unwrap() + 2)
            && i < lines.len()
        {
            value.push('\n');
            value.push_str(lines[i]);
            i += 1;
        }
        out.insert(name.to_string(), value);
    }
    out
}
