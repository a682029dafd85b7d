//! Figures behind the choice of an embedded CPython for BitBake's Python
//! (src/eval/python.rs): start-up including `import bb, oe`, the cost of a trivial inline
//! expression and of one making three `d.getVar` callbacks, and throughput with two
//! threads; then the same for the rejected alternative, a long-lived `python3` worker
//! speaking a length-prefixed protocol over pipes, kept here so the decision can be
//! measured again.
//!
//! `cargo bench --bench python_bridge` (BITZEL_POKY=<poky> to import Poky's bb and oe;
//! BITZEL_PYTHON names the worker's interpreter, default python3).

use bitzel::eval::python::{EvalError, PythonBridge, PythonConfig, VarSource};
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

const N: usize = 20_000;
const TRIVIAL: &str = "'a' + 'b'";
const THREE_GETVARS: &str = "d.getVar('A') + d.getVar('B') + (d.getVar('C') or '')";

/// A read-only map of three variables: enough for the expressions measured.
struct Vars(HashMap<String, String>);

fn vars() -> Vars {
    Vars(
        [("A", "a"), ("B", "b"), ("C", "c")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn read_only() -> EvalError {
    EvalError::other("RuntimeError", "read-only benchmark store")
}

impl VarSource for Vars {
    fn get_var(&self, name: &str, _expand: bool) -> Result<Option<String>, EvalError> {
        Ok(self.0.get(name).cloned())
    }
    fn get_var_flag(&self, _: &str, _: &str, _: bool) -> Result<Option<String>, EvalError> {
        Ok(None)
    }
    fn get_var_flags(&self, _: &str, _: bool) -> Result<Vec<(String, String)>, EvalError> {
        Ok(Vec::new())
    }
    fn has_overrides(&self, _: &str) -> Result<bool, EvalError> {
        Ok(false)
    }
    fn expand(&self, text: &str, _: Option<&str>) -> Result<String, EvalError> {
        Ok(text.to_string())
    }
    fn keys(&self) -> Result<Vec<Arc<str>>, EvalError> {
        Ok(self.0.keys().map(|k| Arc::from(k.as_str())).collect())
    }
    fn set_var(&mut self, _: &str, _: Option<&str>) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn set_var_flag(&mut self, _: &str, _: &str, _: Option<&str>) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn append_var(&mut self, _: &str, _: &str) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn prepend_var(&mut self, _: &str, _: &str) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn append_var_flag(&mut self, _: &str, _: &str, _: &str) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn prepend_var_flag(&mut self, _: &str, _: &str, _: &str) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn del_var(&mut self, _: &str) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn del_var_flag(&mut self, _: &str, _: &str) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn rename_var(&mut self, _: &str, _: &str) -> Result<(), EvalError> {
        Err(read_only())
    }
    fn create_copy(&self) -> Result<Box<dyn VarSource + Send>, EvalError> {
        Ok(Box::new(Vars(self.0.clone())))
    }
}

fn per_call_us(start: Instant, n: usize) -> f64 {
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn python_path() -> Vec<PathBuf> {
    std::env::var_os("BITZEL_POKY")
        .map(|p| vec![PathBuf::from(p).join("bitbake/lib")])
        .unwrap_or_default()
}

fn oe_lib() -> Option<String> {
    std::env::var_os("BITZEL_POKY").map(|p| {
        PathBuf::from(p)
            .join("meta/lib")
            .to_string_lossy()
            .into_owned()
    })
}

fn embedded() {
    let t = Instant::now();
    let bridge = PythonBridge::start(&PythonConfig {
        python_path: python_path(),
    })
    .expect("bridge starts");
    let store = vars();
    if let Some(lib) = oe_lib() {
        // addpylib reads BB_GLOBAL_PYMODULES and expands the folder: nothing to write.
        bridge
            .add_pylib(&lib, "oe", "bench", 1, &store)
            .expect("import oe");
    }
    println!(
        "embedded: start-up incl. import bb{}: {:.0} ms",
        if oe_lib().is_some() { ", oe" } else { "" },
        t.elapsed().as_secs_f64() * 1e3
    );
    for (name, code) in [("trivial", TRIVIAL), ("3 getVar", THREE_GETVARS)] {
        bridge.eval_inline(code, Some("X"), &store).unwrap();
        let t = Instant::now();
        for _ in 0..N {
            bridge.eval_inline(code, Some("X"), &store).unwrap();
        }
        println!("embedded: {name} expression: {:.2} us", per_call_us(t, N));
    }
    let contains = "bb.utils.contains('A', 'a', 'yes', 'no', d)";
    assert!(bridge.takes_native_path(contains));
    let t = Instant::now();
    for _ in 0..N {
        bridge.eval_inline(contains, Some("X"), &store).unwrap();
    }
    let native = per_call_us(t, N);
    let t = Instant::now();
    for _ in 0..N {
        bridge
            .eval_inline_in_python(contains, Some("X"), &store)
            .unwrap();
    }
    println!(
        "embedded: bb.utils.contains: {native:.2} us native, {:.2} us in Python",
        per_call_us(t, N)
    );
    let t = Instant::now();
    bridge.hold(|| {
        for _ in 0..N {
            bridge
                .eval_inline(THREE_GETVARS, Some("X"), &store)
                .unwrap();
        }
    });
    println!(
        "embedded: 3 getVar expression, GIL held for the batch: {:.2} us",
        per_call_us(t, N)
    );
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..N {
                    bridge
                        .eval_inline(THREE_GETVARS, Some("X"), &store)
                        .unwrap();
                }
            });
        }
    });
    println!(
        "embedded: 2 threads, {} '3 getVar' expressions: {:.0} ms ({:.2} us each)",
        2 * N,
        t.elapsed().as_secs_f64() * 1e3,
        per_call_us(t, 2 * N)
    );
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..N / 100 {
                    bridge.hold(|| {
                        for _ in 0..100 {
                            bridge
                                .eval_inline(THREE_GETVARS, Some("X"), &store)
                                .unwrap();
                        }
                    });
                }
            });
        }
    });
    println!(
        "embedded: 2 threads, GIL held per batch of 100: {:.0} ms ({:.2} us each)",
        t.elapsed().as_secs_f64() * 1e3,
        per_call_us(t, 2 * N)
    );
}

/// The rejected alternative: a python3 child evaluating expressions, calling back over
/// its pipes for every d.getVar.
const WORKER: &str = r#"
import struct, sys, types
rin, wout = sys.stdin.buffer, sys.stdout.buffer
U32 = struct.Struct('<I')
def send(*fields):
    out = [U32.pack(len(fields))]
    for f in fields:
        b = f.encode(); out += [U32.pack(len(b)), b]
    wout.write(b''.join(out)); wout.flush()
def readn(n):
    b = rin.read(n)
    if len(b) < n: sys.exit(0)
    return b
def recv():
    (n,) = U32.unpack(readn(4)); out = []
    for _ in range(n):
        (l,) = U32.unpack(readn(4)); out.append(readn(l).decode())
    return out
class D:
    def getVar(self, name, expand=True):
        send('get', name); r = recv(); return r[1] if len(r) > 1 else None
sys.path[0:0] = sys.argv[1:2]
try:
    import hashserv.client
except ImportError:
    sys.modules['hashserv'] = types.ModuleType('hashserv')
    sys.modules['hashserv'].__path__ = []
    sys.modules['hashserv.client'] = types.ModuleType('hashserv.client')
import bb, bb.data_smart, bb.utils
if len(sys.argv) > 2:
    sys.path.append(sys.argv[2]); import oe
    for m in oe.BBIMPORTS: __import__('oe.' + m)
send('ready')
cache, d = {}, D()
while True:
    m = recv()
    c = cache.get(m[1]) or cache.setdefault(m[1], compile(m[1], '<e>', 'eval'))
    send('ok', str(eval(c, bb.utils.get_context(), {'d': d})))
"#;

struct Worker {
    w: BufWriter<ChildStdin>,
    r: BufReader<ChildStdout>,
    _child: Child,
}

fn write_msg(w: &mut impl Write, fields: &[&str]) {
    w.write_all(&(fields.len() as u32).to_le_bytes()).unwrap();
    for f in fields {
        w.write_all(&(f.len() as u32).to_le_bytes()).unwrap();
        w.write_all(f.as_bytes()).unwrap();
    }
    w.flush().unwrap();
}

fn read_msg(r: &mut impl Read) -> Vec<String> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).unwrap();
    (0..u32::from_le_bytes(b))
        .map(|_| {
            r.read_exact(&mut b).unwrap();
            let mut v = vec![0; u32::from_le_bytes(b) as usize];
            r.read_exact(&mut v).unwrap();
            String::from_utf8(v).unwrap()
        })
        .collect()
}

impl Worker {
    fn start() -> Worker {
        let python = std::env::var("BITZEL_PYTHON").unwrap_or_else(|_| "python3".into());
        let bb = python_path()
            .first()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut cmd = Command::new(python);
        cmd.args(["-c", WORKER, &bb]);
        if let Some(lib) = oe_lib() {
            cmd.arg(lib);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 starts");
        let mut w = Worker {
            w: BufWriter::new(child.stdin.take().unwrap()),
            r: BufReader::new(child.stdout.take().unwrap()),
            _child: child,
        };
        assert_eq!(read_msg(&mut w.r)[0], "ready");
        w
    }

    fn eval(&mut self, code: &str, store: &Vars) -> String {
        write_msg(&mut self.w, &["eval", code]);
        loop {
            let m = read_msg(&mut self.r);
            match m[0].as_str() {
                "get" => match store.0.get(&m[1]) {
                    Some(v) => write_msg(&mut self.w, &["val", v]),
                    None => write_msg(&mut self.w, &["val"]),
                },
                "ok" => return m[1].clone(),
                other => panic!("worker said {other}"),
            }
        }
    }
}

fn worker() {
    let store = vars();
    let t = Instant::now();
    let mut w = Worker::start();
    println!(
        "worker:   start-up incl. import bb{}: {:.0} ms",
        if oe_lib().is_some() { ", oe" } else { "" },
        t.elapsed().as_secs_f64() * 1e3
    );
    let n = N / 4;
    for (name, code) in [("trivial", TRIVIAL), ("3 getVar", THREE_GETVARS)] {
        w.eval(code, &store);
        let t = Instant::now();
        for _ in 0..n {
            w.eval(code, &store);
        }
        println!("worker:   {name} expression: {:.2} us", per_call_us(t, n));
    }
    let mut pool = [w, Worker::start()];
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in pool.iter_mut() {
            let store = &store;
            s.spawn(move || {
                for _ in 0..n {
                    w.eval(THREE_GETVARS, store);
                }
            });
        }
    });
    println!(
        "worker:   2 threads with a worker each, {} '3 getVar' expressions: {:.0} ms ({:.2} us each)",
        2 * n,
        t.elapsed().as_secs_f64() * 1e3,
        per_call_us(t, 2 * n)
    );
}

fn main() {
    // `cargo test --all-targets` runs this binary too, without `--bench`: stay quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("python_bridge bench: run it with `cargo bench --bench python_bridge`");
        return;
    }
    embedded();
    worker();
}
