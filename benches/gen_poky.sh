#!/bin/bash
# bitzel gen on real Poky against BitBake's cold parse, measured in the same run, then
# Bazel's analysis of the generated workspace:
#
#   BITZEL_POKY=/path/to/poky BITZEL_POKY_BUILD=/path/to/build benches/gen_poky.sh [OUT]
#
# - BitBake: /work/shared/tools/bitbake-oracle's cold `bitbake -p` of the same checkout
#   (skipped when BITZEL_BENCH_NO_BITBAKE=1; set BITBAKE_ORACLE to another path);
# - bitzel: `bitzel gen` (release build) twice into fresh directories, -j2 and -j1: wall
#   time and peak RSS of each, and whether the two workspaces are byte-identical;
# - Bazel: `bazel build --nobuild //recipes/...` (cold server, then warm after a
#   --define that discards the analysis cache) with the server's RSS. There is no
#   network here, so each download repository is overridden by an empty stand-in
#   (user.bazelrc, which gen never writes): analysis is the same, nothing is fetched.
#
# Prints one line per measurement and the ratios; OUT (default target/bench-gen-poky)
# keeps the workspaces and logs.
set -euo pipefail
: "${BITZEL_POKY:?set BITZEL_POKY to a Poky checkout (scarthgap)}"
: "${BITZEL_POKY_BUILD:?set BITZEL_POKY_BUILD to its build directory}"
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$repo/target/bench-gen-poky}")
rm -rf "$out" && mkdir -p "$out"
cargo build --release --manifest-path "$repo/Cargo.toml" --bin bitzel --bin bitzel-sandbox >&2
bitzel=$repo/target/release/bitzel

seconds() { awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
measure() { # NAME COMMAND...: runs it under /usr/bin/time -v; sets WALL and RSS_MB
    local name=$1; shift
    /usr/bin/time -v "$@" >"$out/$name.out" 2>"$out/$name.err" || true
    WALL=$(grep 'Elapsed (wall clock)' "$out/$name.err" | awk '{print $NF}' | seconds)
    RSS_MB=$(( $(grep 'Maximum resident' "$out/$name.err" | awk '{print $NF}') / 1024 ))
}

if [ "${BITZEL_BENCH_NO_BITBAKE:-}" != 1 ]; then
    oracle=${BITBAKE_ORACLE:-/work/shared/tools/bitbake-oracle}
    "$oracle" "$BITZEL_POKY" "$out/bitbake" -- parse >"$out/bitbake.log" 2>&1
    bitbake=$(awk '/cold parse seconds/ {print $NF}' "$out/bitbake/parse.txt")
    echo "bitbake: cold parse ${bitbake} s ($(tail -1 "$out/bitbake/parse.txt"))"
fi

measure gen-j2 "$bitzel" gen --build-dir "$BITZEL_POKY_BUILD" --out "$out/ws" -j2
gen=$WALL; gen_rss=$RSS_MB
echo "bitzel gen -j2: ${gen} s, peak RSS ${gen_rss} MB; $(grep '^bitzel gen: [0-9]' "$out/gen-j2.err")"
measure gen-j1 "$bitzel" gen --build-dir "$BITZEL_POKY_BUILD" --out "$out/ws-j1" -j1
echo "bitzel gen -j1: ${WALL} s, peak RSS ${RSS_MB} MB"
if diff -r "$out/ws" "$out/ws-j1" >/dev/null; then
    echo "the -j2 and -j1 workspaces are byte-identical"
else
    echo "the -j2 and -j1 workspaces DIFFER"
fi
[ -n "${bitbake:-}" ] && awk -v g="$gen" -v b="$bitbake" \
    'BEGIN { printf "bitzel gen / BitBake cold parse: %.2f\n", g / b }'

# Stand-ins for the downloads (analysis only: no network on these machines).
python3 - "$out/ws" "$out/fake-downloads" <<'EOF'
import os, re, sys
ws, fake = sys.argv[1:]
text = open(os.path.join(ws, "sources.bzl")).read()
lines = []
for m in re.finditer(r'http_file\(\s*name = "([^"]+)",\s*downloaded_file_path = "([^"]+)"', text):
    name, path = m.groups()
    d = os.path.join(fake, name)
    os.makedirs(os.path.join(d, "file", os.path.dirname(path)), exist_ok=True)
    open(os.path.join(d, "WORKSPACE"), "w").write('workspace(name = "%s")\n' % name)
    open(os.path.join(d, "file", "BUILD.bazel"), "w").write(
        'filegroup(name = "file", srcs = ["%s"], visibility = ["//visibility:public"])\n' % path)
    open(os.path.join(d, "file", path), "w").close()
    lines.append("common --override_repository=%s=%s\n" % (name, d))
# bitbake_git_repository: `@<name>//file` as well (a bundle, or a tar of bundles).
for name in re.findall(r'bitbake_git_repository\(\s*name = "([^"]+)"', text):
    d = os.path.join(fake, name)
    os.makedirs(os.path.join(d, "file"), exist_ok=True)
    open(os.path.join(d, "WORKSPACE"), "w").write('workspace(name = "%s")\n' % name)
    open(os.path.join(d, "file", "BUILD.bazel"), "w").write(
        'filegroup(name = "file", srcs = ["bundle"], visibility = ["//visibility:public"])\n')
    open(os.path.join(d, "file", "bundle"), "w").close()
    lines.append("common --override_repository=%s=%s\n" % (name, d))
open(os.path.join(ws, "user.bazelrc"), "w").write("".join(lines))
EOF
bazel_cmd=(bazel --nosystem_rc --nohome_rc "--output_user_root=$out/bazel-root")
[ -f /usr/share/bazel/A-server.jar ] && bazel_cmd+=(--install_base=/usr/share/bazel --trust_install_base)
cd "$out/ws"
export BITZEL_SANDBOX=$repo/target/release/bitzel-sandbox
# The server's CPU seconds (user + system, all its threads) beside the wall time: on a
# shared machine they vary far less than the wall clock.
server_cpu() { awk '{ printf "%.1f", ($14 + $15) / 100 }' /proc/"$1"/stat; }
measure bazel-cold "${bazel_cmd[@]}" build --nobuild //recipes/...
cold=$WALL
if ! grep -q '^INFO: Build completed successfully' "$out/bazel-cold.err"; then
    echo "bazel build --nobuild //recipes/... FAILED (see $out/bazel-cold.err)"
    "${bazel_cmd[@]}" shutdown 2>/dev/null
    exit 1
fi
pid=$("${bazel_cmd[@]}" info server_pid 2>/dev/null)
cpu_cold=$(server_cpu "$pid")
echo "bazel build --nobuild //recipes/... (cold server): ${cold} s, server CPU ${cpu_cold} s; $(grep -o 'Analyzed [0-9]* targets[^)]*)' "$out/bazel-cold.err")"
measure bazel-warm "${bazel_cmd[@]}" build --nobuild --define=bench=1 //recipes/...
echo "the same, re-analysed on the warm server: ${WALL} s, server CPU $(awk -v a="$(server_cpu "$pid")" -v b="$cpu_cold" 'BEGIN { printf "%.1f", a - b }') s"
echo "bazel server: RSS $(( $(awk '/VmRSS/ {print $2}' /proc/"$pid"/status) / 1024 )) MB, $("${bazel_cmd[@]}" info used-heap-size-after-gc 2>/dev/null)"
"${bazel_cmd[@]}" shutdown 2>/dev/null
[ -n "${bitbake:-}" ] && awk -v g="$gen" -v c="$cold" -v b="$bitbake" \
    'BEGIN { printf "(bitzel gen + cold analysis) / BitBake cold parse: %.2f\n", (g + c) / b }'
exit 0
