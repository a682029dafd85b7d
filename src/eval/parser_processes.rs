//! BitBake's parser processes: `bb.cooker.CookerParser` reads the configuration once and
//! then forks `BB_NUMBER_PARSE_THREADS` `Parser` processes that take recipe files from
//! a shared queue and send back what the cooker keeps of each (its cache entry).
//!
//! bitzel does the same for the same reason. Recipes spend most of their time in the
//! metadata's own Python (anonymous functions, event handlers, `add_tasks`), and one
//! interpreter runs Python on one core at a time, so threads cannot use a second core
//! for it. After the configuration, [`run`] forks `processes - 1` children of the
//! single-threaded process: each child has the configuration, the interpreter and its
//! imported modules as they are (copy-on-write pages; `gc.freeze` has moved them out of
//! the collector's reach, so they stay shared). Every process, the parent included,
//! takes the next file index from a counter in a shared page, parses it and keeps what
//! the caller wants of it; a child sends its results back through a pipe as
//! length-prefixed JSON frames, which a thread of the parent reads while the parent
//! parses its own share. The results are put back in file order, so the output does not
//! depend on which process parsed what.
//!
//! The fork follows the interpreter's rules (`os.fork()`: the import lock held across
//! it, the GIL and thread states reset in the child) and is made only while the process
//! has a single thread ([`single_threaded`]), as POSIX requires for a child that goes on
//! running arbitrary code. A child leaves with `_exit`: no destructor, no Python
//! `atexit` handler and no buffered output of the parent runs twice. A child that dies
//! (a signal, a panic) loses only the files it had not delivered: the parent parses
//! those itself and says so.

use super::python::PythonBridge;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether this process has exactly one thread (Linux: `/proc/self/task`), the only
/// state in which forking a child that runs on is well defined.
pub fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count() == 1)
        .unwrap_or(false)
}

/// A counter in an anonymous page shared by a process and the children it forks
/// afterwards: the next file to take, or how many are done (gen's progress line).
pub struct SharedCounter {
    page: *mut libc::c_void,
}

const PAGE: usize = 4096;

impl SharedCounter {
    /// A counter at 0; None if the page cannot be mapped.
    pub fn new() -> Option<SharedCounter> {
        // SAFETY: an anonymous shared mapping of one page, zero-filled by the kernel;
        // checked for failure before use.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        (page != libc::MAP_FAILED).then_some(SharedCounter { page })
    }

    /// The value before adding one, across every process.
    pub fn take(&self) -> usize {
        // SAFETY: the page is mapped, aligned and zero-initialised, which is a valid
        // AtomicUsize; every process touches it only through atomic operations.
        let counter = unsafe { &*(self.page as *const AtomicUsize) };
        counter.fetch_add(1, Ordering::SeqCst)
    }
}

// SAFETY: the page is only touched through atomic operations.
unsafe impl Sync for SharedCounter {}
unsafe impl Send for SharedCounter {}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new(), unmapped once.
        unsafe {
            libc::munmap(self.page, PAGE);
        }
    }
}

/// A child: its pid and the read end of its results pipe.
struct Child {
    pid: libc::pid_t,
    results: OwnedFd,
}

/// Runs `work(i)` for every `i` in `0..count` across `processes` processes (this one
/// and `processes - 1` forked children) and returns the results in index order.
///
/// Returns `None`, having run nothing, when forking is not possible here (the process
/// has other threads, or the shared page or a pipe cannot be made): the caller then
/// uses threads. A child that cannot be forked leaves its share to the others.
pub fn run<T, F>(bridge: &PythonBridge, count: usize, processes: usize, work: &F) -> Option<Vec<T>>
where
    T: Serialize + DeserializeOwned + Send,
    F: Fn(usize) -> T + Sync,
{
    if !single_threaded() {
        return None;
    }
    let counter = SharedCounter::new()?;
    let mut children = Vec::new();
    for _ in 1..processes.max(1) {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors, owned below. Close-on-exec: a command
        // the metadata's Python starts must not hold a pipe open.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            break;
        }
        // SAFETY: fresh descriptors from pipe2, each owned once.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        match bridge.fork() {
            Ok(0) => {
                drop(read);
                drop(children);
                serve(&counter, count, write, work);
            }
            Ok(pid) => children.push(Child { pid, results: read }),
            Err(_) => break,
        }
    }
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    let lost = std::thread::scope(|scope| {
        let readers: Vec<_> = children
            .into_iter()
            .map(|child| scope.spawn(move || (child.pid, receive::<T>(child.results))))
            .collect();
        loop {
            let i = counter.take();
            if i >= count {
                break;
            }
            slots[i] = Some(work(i));
        }
        let mut lost = Vec::new();
        for reader in readers {
            let (pid, received) = reader.join().unwrap_or_else(|_| (0, Vec::new()));
            for (i, value) in received {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(value);
                }
            }
            let mut status = 0;
            // SAFETY: waiting for our own child once.
            unsafe {
                libc::waitpid(pid, &mut status, 0);
            }
            if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
                lost.push((pid, status));
            }
        }
        lost
    });
    for (pid, status) in lost {
        eprintln!(
            "bitzel: warning: parser process {pid} ended abnormally (wait status {status}); \
             the recipe files it had not sent back are parsed again"
        );
    }
    Some(
        slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| slot.unwrap_or_else(|| work(i)))
            .collect(),
    )
}

/// A child's life: take indices until none is left, send each result, leave.
fn serve<T: Serialize, F: Fn(usize) -> T>(
    counter: &SharedCounter,
    count: usize,
    results: OwnedFd,
    work: &F,
) -> ! {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut out = BufWriter::new(std::fs::File::from(results));
        loop {
            let i = counter.take();
            if i >= count {
                break;
            }
            let value = work(i);
            let frame = serde_json::to_vec(&(i, &value)).map_err(std::io::Error::other)?;
            out.write_all(&(frame.len() as u64).to_le_bytes())?;
            out.write_all(&frame)?;
        }
        out.flush()
    }));
    let code = match outcome {
        Ok(Ok(())) => 0,
        _ => 1,
    };
    // SAFETY: leaving the child without running the parent's destructors, Python's
    // atexit handlers or flushing buffers the parent owns.
    unsafe { libc::_exit(code) }
}

/// Reads a child's frames until its pipe closes; a frame cut short or unreadable ends
/// the reading (the parent parses what is missing).
fn receive<T: DeserializeOwned>(results: OwnedFd) -> Vec<(usize, T)> {
    let mut input = BufReader::new(std::fs::File::from(results));
    let mut out = Vec::new();
    let mut len = [0u8; 8];
    let mut frame = Vec::new();
    while input.read_exact(&mut len).is_ok() {
        frame.resize(u64::from_le_bytes(len) as usize, 0);
        if input.read_exact(&mut frame).is_err() {
            break;
        }
        match serde_json::from_slice::<(usize, T)>(&frame) {
            Ok(item) => out.push(item),
            Err(_) => break,
        }
    }
    out
}
