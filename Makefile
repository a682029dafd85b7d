# bitzel: the two commands of the README, and what they need.
#
#   make demo   build the example world (examples/: a native tool, a C library built
#               with it, a program linked against it) with real Bazel, every BitBake
#               task in the sandbox helper, and say where the results are
#   make test   install what the tests need on a fresh Debian 12 machine with a Rust
#               toolchain (python3-venv, python3-dev for the libpython that the
#               embedded Python bridge links, Debian's Bazel 4 for rules_bitbake's
#               tests, fakeroot, patch, unzip and zstd for the sandbox helper's, nginx as the HTTP
#               cache server of tests/e2e_build.rs), then run every test
#
# The tests compare bitzel with real BitBake: its `bb` package comes from PyPI
# (bitbake-setup) into a virtual environment under target/, so the system Python is
# never modified. Set BITZEL_POKY to a Poky checkout (branch scarthgap) to run the tests
# that need real Poky; they are skipped without it.

CARGO ?= cargo
PYTHON ?= python3
VENV := target/oracle-venv
export BITZEL_PYTHON := $(abspath $(VENV))/bin/python

.PHONY: demo test python-deps libpython bazel sandbox-tools cache-server

# The demo: bitzel and its sandbox helper, `bitzel gen` of the example's build directory
# into target/demo/ws (rewritten in place on later runs; a directory gen did not make is
# replaced), and `bazel build //recipes/...` there. The tasks compile with the host's cc.
DEMO := target/demo
BITBAKE_LIB = $$($(BITZEL_PYTHON) -c 'import os, bb; print(os.path.dirname(os.path.dirname(bb.__file__)))')
demo: libpython python-deps bazel sandbox-tools
	$(CARGO) build --bin bitzel --bin bitzel-sandbox
	@[ ! -e $(DEMO)/ws ] || [ -e $(DEMO)/ws/.bitzel-manifest ] || rm -rf $(DEMO)/ws
	target/debug/bitzel gen --build-dir examples/build --bitbake-lib "$(BITBAKE_LIB)" --out $(DEMO)/ws
	echo "build --repo_env=BITZEL_SANDBOX=$(CURDIR)/target/debug/bitzel-sandbox" > $(DEMO)/ws/user.bazelrc
	cd $(DEMO)/ws && bazel build --nosandbox_debug //recipes/...
	@echo
	@echo "Built. Each task's outputs are in $(DEMO)/ws/bazel-bin/recipes/<recipe>/:"
	@echo "  <task>.delta/ (what the task changed under TMPDIR), <task>.log, <task>.stamp,"
	@echo "  do_populate_sysroot.sysroot/ (what the recipe hands to the recipes that depend on it)."
	@echo "The program, installed by greet's do_install and run here:"
	@$(DEMO)/ws/bazel-bin/recipes/greet/do_install.delta/files/work/demo-demo-linux/greet/1.0-r0/image/usr/bin/greet
	@echo "Its owners as fakeroot recorded them: $(DEMO)/ws/bazel-bin/recipes/greet/do_install.delta/files/work/demo-demo-linux/greet/1.0-r0/fakeroot.db"

test: libpython python-deps bazel sandbox-tools cache-server
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets

# bitzel embeds CPython to evaluate BitBake's inline Python (src/eval/python.rs):
# building it links libpython3.X.so, which Debian ships in python3-dev.
libpython:
	@$(PYTHON) -c "import os, sys, sysconfig as s; sys.exit(not os.path.exists(os.path.join(s.get_config_var('LIBDIR'), s.get_config_var('LDLIBRARY'))))" || { \
	  echo "libpython is missing: installing python3-dev with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-dev >/dev/null; }

# Bazel for tests/bazel_rules.rs: Debian's bazel-bootstrap (4.2.3, builds offline), with
# Debian's bazel-skylib (the analysis tests' unittest) and bazel-rules-java (which Bazel
# 4 needs to parse its own Java toolchains offline).
BAZEL_DEBS := bazel-bootstrap bazel-skylib bazel-rules-java
bazel:
	@command -v bazel >/dev/null && [ -f /usr/share/bazel/tools/skylib/lib/unittest.bzl ] && \
	  [ -f /usr/share/bazel/rules/java/java/defs.bzl ] || { \
	  echo "Bazel is missing: installing $(BAZEL_DEBS) with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BAZEL_DEBS) >/dev/null; }

# What the sandbox helper runs inside tasks (tests/sandbox.rs uses each): fakeroot for
# [fakeroot] tasks, patch for do_patch, unzip and zstd for do_unpack's zip and zstd
# archives, git for git checkouts (and bitbake_git_repository's fetches, tests/e2e_git.rs);
# tar, gzip, bzip2 and xz are part of a Debian base system, ar of binutils.
SANDBOX_DEBS := fakeroot patch unzip zstd git
sandbox-tools:
	@command -v fakeroot >/dev/null && command -v patch >/dev/null && \
	  command -v unzip >/dev/null && command -v zstd >/dev/null && \
	  command -v git >/dev/null || { \
	  echo "a sandbox tool is missing: installing $(SANDBOX_DEBS) with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SANDBOX_DEBS) >/dev/null; }

# The HTTP cache server tests/e2e_build.rs starts on loopback for Bazel's
# --remote_cache: Debian's nginx (its WebDAV module takes Bazel's PUTs).
cache-server:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  echo "nginx is missing: installing it with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

# A virtual environment with BitBake's `bb` package, the oracle the tests compare with.
python-deps: $(VENV)/.installed

$(VENV)/.installed: tests/oracle/requirements.txt
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3-venv is missing: installing it with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/oracle/requirements.txt
	touch $@
