#!/bin/sh
# TEST DOUBLE for bitzel-sandbox: it performs rules_bitbake/HELPER.md's contract trivially
# (copies, no namespaces, no fakeroot, no builtins) so that tests can run real Bazel on the
# rules before the real helper exists. Never use it to build anything real.
set -eu
case "${1:-}" in @*)  # a params file: one argument per line, none contains blanks here
  params=${1#@}; set -f; IFS='
'; set -- $(cat "$params"); unset IFS; set +f ;;
esac
[ "${1:-}" = run ] || { echo "fake-bitzel-sandbox: usage: run --task ..." >&2; exit 2; }
shift
task= pn= workdir= script= builtin= delta_out= stamp_out= log_out= sysroot_out=
states= sys_t= sys_n= sources= dirs= cleandirs=
nl='
'
while [ $# -gt 0 ]; do
  case "$1" in
    --task) task=$2 ;; --pn) pn=$2 ;; --workdir) workdir=$2 ;; --script) script=$2 ;;
    --builtin) builtin=$2 ;;
    --state-in) states="$states$2$nl" ;;
    --sysroot-target) sys_t="$sys_t$2$nl" ;;
    --sysroot-native) sys_n="$sys_n$2$nl" ;;
    --source) sources="$sources$2$nl" ;;
    --dirs) dirs="$dirs$2$nl" ;;
    --cleandirs) cleandirs="$cleandirs$2$nl" ;;
    --fakeroot) shift; continue ;;
    --delta-out) delta_out=$2 ;; --stamp-out) stamp_out=$2 ;; --log-out) log_out=$2 ;;
    --sysroot-out) sysroot_out=$2 ;;
    *) echo "fake-bitzel-sandbox: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ -z "$builtin" ] || { echo "fake-bitzel-sandbox: builtin $builtin is not faked" >&2; exit 2; }

execroot=$PWD
root=$(mktemp -d "${TMPDIR:-/tmp}/fake-bitzel.XXXXXX")
trap 'rm -rf "$root"' EXIT
virt() { printf '%s\n' "$root${1#/bitzel}"; }   # virtual /bitzel/... -> the scratch root
mkdir -p "$root/tmp" "$root/before"

# Inputs may be symlinks into the execroot (sandboxes): copies dereference them.
# Layer the predecessors' deltas, oldest first: files/ over the tree, then meta's lines.
printf '%s' "$states" | while IFS= read -r d; do
  [ -n "$d" ] || continue
  cp -RL "$execroot/$d/files/." "$root/tmp/"
  while IFS=' ' read -r op path rest; do
    case "$op" in
      D) rm -rf "$root/tmp/$path" ;;
      E) mkdir -p "$root/tmp/$path" ;;
      L) mkdir -p "$(dirname "$root/tmp/$path")"; ln -sfn "$rest" "$root/tmp/$path" ;;
    esac
  done < "$execroot/$d/meta"
done

W="$root/tmp/$workdir"
mkdir -p "$W/recipe-sysroot" "$W/recipe-sysroot-native"
stage() {  # stage(list, destination): components' files/ into a sysroot
  printf '%s' "$1" | while IFS= read -r c; do
    [ -n "$c" ] && cp -RL "$execroot/$c/files/." "$2/"
  done
}
stage "$sys_t" "$W/recipe-sysroot"
stage "$sys_n" "$W/recipe-sysroot-native"
printf '%s' "$sources" | while IFS= read -r s; do
  [ -n "$s" ] || continue
  mkdir -p "$(dirname "$root/${s#*=}")"
  cp -L "$execroot/${s%%=*}" "$root/${s#*=}"
done
cp -R "$root/tmp/." "$root/before/"

printf '%s' "$cleandirs" | while IFS= read -r d; do [ -z "$d" ] || { rm -rf "$(virt "$d")"; mkdir -p "$(virt "$d")"; }; done
cwd=$W
for d in $(printf '%s' "$dirs"); do mkdir -p "$(virt "$d")"; cwd=$(virt "$d"); done

if ! (cd "$cwd" && env -i PATH=/usr/bin:/bin HOME=/nonexistent \
      TOPDIR="$root" WORKDIR="$W" PN="$pn" \
      RECIPE_SYSROOT="$W/recipe-sysroot" RECIPE_SYSROOT_NATIVE="$W/recipe-sysroot-native" \
      D="$W/image" SYSROOT_DESTDIR="$W/sysroot-destdir" \
      sh -e "$execroot/$script") > "$execroot/$log_out" 2>&1; then
  cat "$execroot/$log_out" >&2
  echo "fake-bitzel-sandbox: $pn:$task failed" >&2
  exit 1
fi

# do_populate_sysroot: SYSROOT_DESTDIR leaves the work dir as the task's sysroot component.
if [ -n "$sysroot_out" ]; then
  mkdir -p "$execroot/$sysroot_out/files"
  [ -d "$W/sysroot-destdir" ] && cp -R "$W/sysroot-destdir/." "$execroot/$sysroot_out/files/"
  : > "$execroot/$sysroot_out/meta"
  rm -rf "$W/sysroot-destdir"
fi

# The delta: what changed under TMPDIR, never the staged sysroots.
out="$execroot/$delta_out"
mkdir -p "$out/files"
: > "$out/meta"
rm -rf "$W/recipe-sysroot" "$W/recipe-sysroot-native" "$root/before/$workdir/recipe-sysroot" "$root/before/$workdir/recipe-sysroot-native"
(cd "$root/tmp" && find . -type f | sort) | while IFS= read -r f; do
  if [ ! -f "$root/before/$f" ] || ! cmp -s "$root/tmp/$f" "$root/before/$f"; then
    mkdir -p "$(dirname "$out/files/$f")"
    cp -p "$root/tmp/$f" "$out/files/$f"
  fi
done
(cd "$root/before" && find . -type f | sort) | while IFS= read -r f; do
  [ -e "$root/tmp/$f" ] || echo "D ${f#./}" >> "$out/meta"
done
(cd "$out" && find files meta -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -d' ' -f1 > "$execroot/$stamp_out"
