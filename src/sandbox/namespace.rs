//! Isolation: the helper enters new user, mount and network namespaces before it does
//! anything else (no thread exists yet, so there is no `fork()`-from-threads hazard),
//! then builds a small root for the task: the host's system directories read-only, a
//! fresh `/tmp`, and the virtual layout under `/bitzel`. The task is `chroot`ed into it;
//! its network namespace has only a loopback device that is down, so every connection
//! fails.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

/// Host directories the task sees, read-only, at the same place (when they exist).
const SYSTEM_DIRS: &[&str] = &[
    "bin", "etc", "lib", "lib32", "lib64", "libx32", "sbin", "usr",
];

fn cstr(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| anyhow!("{}: NUL in path", path.display()))
}

fn check(ret: libc::c_int, what: impl FnOnce() -> String) -> Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(anyhow!("{}: {}", what(), io::Error::last_os_error()))
    }
}

/// Enters new user, mount and network namespaces, keeping the caller's uid and gid,
/// and makes every mount private so nothing propagates back to the host.
///
/// Must run while the process has a single thread (the kernel refuses otherwise).
pub fn enter() -> Result<()> {
    // SAFETY: plain syscalls without pointers besides valid C strings.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let ret =
        unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWNET) };
    if ret != 0 {
        let err = io::Error::last_os_error();
        return Err(anyhow!(
            "cannot isolate the task: unshare(user, mount, network namespaces) failed: {err}. \
             The helper needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 \
             or user.max_user_namespaces > 0; in a container, one that allows them); it never runs a task unisolated"
        ));
    }
    fs::write("/proc/self/setgroups", "deny").context("writing /proc/self/setgroups")?;
    fs::write("/proc/self/uid_map", format!("{uid} {uid} 1\n"))
        .context("writing /proc/self/uid_map")?;
    fs::write("/proc/self/gid_map", format!("{gid} {gid} 1\n"))
        .context("writing /proc/self/gid_map")?;
    let root = cstr(Path::new("/"))?;
    // SAFETY: valid C strings, null pointers where mount(2) allows them.
    let ret = unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    check(ret, || "making mounts private".into())
}

fn mount(src: Option<&Path>, dst: &Path, fstype: Option<&str>, flags: libc::c_ulong) -> Result<()> {
    let src_c = src.map(cstr).transpose()?;
    let dst_c = cstr(dst)?;
    let fs_c = fstype.map(|f| CString::new(f).expect("no NUL in a filesystem name"));
    // SAFETY: pointers are valid C strings or null, as mount(2) allows.
    let ret = unsafe {
        libc::mount(
            src_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            dst_c.as_ptr(),
            fs_c.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            std::ptr::null(),
        )
    };
    check(ret, || {
        format!(
            "mounting {} on {}",
            src.map_or("-".into(), |s| s.display().to_string()),
            dst.display()
        )
    })
}

/// Bind-mounts `src` on `dst` and makes it read-only, keeping the flags the kernel
/// locks for a mount inherited from the host (nosuid, nodev, noexec).
fn bind_read_only(src: &Path, dst: &Path) -> Result<()> {
    mount(Some(src), dst, None, libc::MS_BIND | libc::MS_REC)?;
    let c = cstr(dst)?;
    // SAFETY: statvfs fills the zeroed struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    check(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, || {
        format!("statvfs {}", dst.display())
    })?;
    let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            flags |= ms_flag;
        }
    }
    mount(None, dst, None, flags)
}

/// The task's root directory, built on a tmpfs in the helper's mount namespace.
pub struct TaskRoot {
    /// Where the root is mounted, seen from the helper.
    pub path: PathBuf,
}

impl TaskRoot {
    /// Builds the root at `path` (an empty directory): system directories read-only,
    /// `/dev` and `/proc` from the host, an empty `/tmp`, `/bitzel/tmp` = `tmpdir`
    /// read-write, and each `(file, virtual)` source read-only at `/bitzel/<virtual>`.
    pub fn build(path: &Path, tmpdir: &Path, sources: &[(PathBuf, String)]) -> Result<Self> {
        mount(
            Some(Path::new("tmpfs")),
            path,
            Some("tmpfs"),
            libc::MS_NOSUID,
        )?;
        let root = TaskRoot {
            path: path.to_path_buf(),
        };
        for name in SYSTEM_DIRS {
            let host = Path::new("/").join(name);
            let Ok(md) = fs::symlink_metadata(&host) else {
                continue;
            };
            let inside = path.join(name);
            if md.file_type().is_symlink() {
                std::os::unix::fs::symlink(fs::read_link(&host)?, &inside)?;
            } else if md.is_dir() {
                fs::create_dir(&inside)?;
                bind_read_only(&host, &inside)?;
            }
        }
        for name in ["dev", "proc"] {
            let inside = path.join(name);
            fs::create_dir(&inside)?;
            mount(
                Some(&Path::new("/").join(name)),
                &inside,
                None,
                libc::MS_BIND | libc::MS_REC,
            )?;
        }
        fs::create_dir(path.join("tmp"))?;
        mount(
            Some(Path::new("tmpfs")),
            &path.join("tmp"),
            Some("tmpfs"),
            libc::MS_NOSUID,
        )?;
        let bitzel = path.join("bitzel");
        fs::create_dir_all(bitzel.join("tmp"))?;
        fs::create_dir_all(bitzel.join("home"))?;
        mount(Some(tmpdir), &bitzel.join("tmp"), None, libc::MS_BIND)?;
        for (file, virt) in sources {
            let inside = bitzel.join(virt);
            fs::create_dir_all(inside.parent().expect("a virtual path has a parent"))?;
            fs::write(&inside, "")?;
            let real =
                fs::canonicalize(file).with_context(|| format!("--source {}", file.display()))?;
            bind_read_only(&real, &inside)?;
        }
        Ok(root)
    }

    /// Detaches every mount of the root; true when nothing is mounted there any more,
    /// so that the scratch directory can be removed without reaching the host.
    pub fn unmount(self) -> bool {
        detach(&self.path)
    }
}

/// Lazily detaches the mount at `path` and everything below it; false if nothing was
/// mounted there or it could not be detached.
pub fn detach(path: &Path) -> bool {
    let Ok(c) = cstr(path) else {
        return false;
    };
    // SAFETY: valid C string.
    unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) == 0 }
}

/// In the task's child process, after fork and before exec: enter the root and the
/// working directory. Only async-signal-safe calls (chroot, chdir).
pub fn enter_root(root: &CString, cwd: &CString) -> io::Result<()> {
    // SAFETY: valid C strings; chroot and chdir are async-signal-safe.
    unsafe {
        if libc::chroot(root.as_ptr()) != 0 || libc::chdir(cwd.as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The C string of a path, for [`enter_root`].
pub fn c_path(path: &Path) -> Result<CString> {
    cstr(path)
}
