#!/bin/bash
# Bazel's analysis of a generated workspace against a synthetic one of issue 5's shape,
# measured in the same run with the same rules_bitbake:
#
#   benches/bazel_analysis.sh WS [ROUNDS] [OUT]
#
# - WS: a workspace from `bitzel gen` whose downloads are reachable or stood in for
#   (benches/gen_poky.sh leaves one in OUT/ws with a user.bazelrc of stand-ins);
# - the synthetic workspace: 1,878 packages of 15 chained bitbake_task targets, each
#   task with its own script file, the last one exporting a target sysroot (a tree
#   artifact), 8 sysroot dependencies per package (seeded random earlier packages);
# - each gets a cold `bazel build --nobuild //recipes/...` (fresh output base, server
#   start included), then ROUNDS (default 3) re-analyses each, interleaved, on the live
#   servers (a --define discards the analysis cache, packages stay loaded).
#
# Prints wall time and the server's CPU seconds (steadier than the wall clock on a shared
# machine) per run, the heap after a full GC, and WS's warm CPU over the synthetic's.
set -euo pipefail
ws=$(realpath "${1:?usage: bazel_analysis.sh WS [ROUNDS] [OUT]}")
rounds=${2:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${3:-$repo/target/bench-bazel-analysis}")
rm -rf "$out" && mkdir -p "$out"
[ -n "${BITZEL_SANDBOX:-}" ] || export BITZEL_SANDBOX=$repo/target/release/bitzel-sandbox

python3 - "$out/synth" "$repo/rules_bitbake" <<'EOF'
import os, random, shutil, sys
out, rules = sys.argv[1:]
random.seed(5)
shutil.copytree(rules, os.path.join(out, "third_party/rules_bitbake/rules_bitbake"))
def write(path, text):
    os.makedirs(os.path.dirname(os.path.join(out, path)), exist_ok=True)
    open(os.path.join(out, path), "w").write(text)
write("third_party/rules_bitbake/WORKSPACE", 'workspace(name = "rules_bitbake")\n')
write("third_party/rules_bitbake/BUILD.bazel", "")
write("BUILD.bazel", "")
write("WORKSPACE", """workspace(name = "synthetic")
local_repository(name = "rules_bitbake", path = "third_party/rules_bitbake")
load("@rules_bitbake//rules_bitbake:defs.bzl", "bitzel_sandbox_repository")
bitzel_sandbox_repository(name = "bitzel_sandbox")
""")
packages, tasks = 1878, 15
for i in range(packages):
    deps = sorted(random.sample(range(i), min(8, i)))
    build = ['load("@rules_bitbake//rules_bitbake:defs.bzl", "bitbake_task")',
             'package(default_visibility = ["//visibility:public"])']
    for t in range(tasks):
        write("recipes/p%04d/run.t%02d" % (i, t), "echo %d\n" % t)
        attrs = ['name = "t%02d"' % t, 'script = "run.t%02d"' % t, 'workdir = "work/p%04d"' % i]
        if t > 0:
            attrs.append('after = [":t%02d"]' % (t - 1))
        if t == 1 and deps:
            attrs.append("depends = [%s]" % ", ".join('"//recipes/p%04d:t%02d"' % (j, tasks - 1) for j in deps))
        if t == tasks - 1:
            attrs.append('sysroot_export = "target"')
        build.append("bitbake_task(\n%s,\n)" % ",\n".join("    " + a for a in attrs))
    write("recipes/p%04d/BUILD.bazel" % i, "\n".join(build) + "\n")
EOF

bz() { # NAME ARGS...: bazel in that workspace with its own output base
    local name=$1 dir; shift
    [ "$name" = synth ] && dir=$out/synth || dir=$ws
    (cd "$dir" && bazel --nosystem_rc --nohome_rc "--output_user_root=$out/root-$name" \
        $([ -f /usr/share/bazel/A-server.jar ] && echo --install_base=/usr/share/bazel --trust_install_base) "$@")
}
server_cpu() { awk '{ printf "%.1f", ($14 + $15) / 100 }' /proc/"$1"/stat; }
declare -A pid best
for name in synth ws; do
    start=$(date +%s.%N)
    bz $name build --nobuild //recipes/... >"$out/$name-cold.log" 2>&1
    wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    pid[$name]=$(bz $name info server_pid 2>/dev/null)
    echo "$name cold: ${wall} s, server CPU $(server_cpu "${pid[$name]}") s; $(grep -o 'Analyzed [0-9]* targets[^)]*)' "$out/$name-cold.log")"
done
for round in $(seq "$rounds"); do
    for name in synth ws; do
        before=$(server_cpu "${pid[$name]}") start=$(date +%s.%N)
        bz $name build --nobuild --define=bench=$round //recipes/... >"$out/$name-warm.log" 2>&1
        wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
        cpu=$(awk -v a="$(server_cpu "${pid[$name]}")" -v b="$before" 'BEGIN { printf "%.1f", a - b }')
        echo "$name warm $round: ${wall} s, server CPU ${cpu} s"
        best[$name]=$(awk -v c="$cpu" -v b="${best[$name]:-1e9}" 'BEGIN { print (c < b ? c : b) }')
    done
done
for name in synth ws; do
    echo "$name: server RSS $(( $(awk '/VmRSS/ {print $2}' /proc/"${pid[$name]}"/status) / 1024 )) MB, heap after GC $(bz $name info used-heap-size-after-gc 2>/dev/null)"
    bz $name shutdown 2>/dev/null
done
awk -v w="${best[ws]}" -v s="${best[synth]}" \
    'BEGIN { printf "warm re-analysis, least server CPU: WS %.1f s / synthetic %.1f s = %.2f\n", w, s, w / s }'
