//! `bitzel-sandbox`: the helper binary that Bazel runs for each BitBake task.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(bitzel::sandbox::run(&args));
}
