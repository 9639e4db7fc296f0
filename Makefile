# camgw: the two commands a newcomer needs are `make run` and `make test`.
# Each does its own set-up (Debian packages, npm packages, builds) first.

SHELL := /bin/bash
.DEFAULT_GOAL := run
NPM_STAMP := node_modules/.camgw-installed
NODE ?= node

.PHONY: run test deps dev-deps build ts-build lint format format-check typecheck clang-format-check \
        test-unit bench matrix soak sim clean node-check fuzz fuzz-js fuzz-native fuzz-native-short

deps: node-check .apt-run-stamp $(NPM_STAMP)

# Before anything is installed: a Node.js older than package.json's engines
# would only fail later, and cryptically (tools/check-node.sh says what to do).
node-check:
	@NODE=$(NODE) tools/check-node.sh
dev-deps: deps .apt-dev-stamp

# Debian packages, re-checked when a list changes: deps/apt/run is what
# building and running need (all `make run` installs); deps/apt/dev adds what
# tests, packaging and flashing need.
.apt-run-stamp: $(wildcard deps/apt/run/*.txt) tools/ensure-apt.sh | node-check
	tools/ensure-apt.sh deps/apt/run
	@touch $@

.apt-dev-stamp: $(wildcard deps/apt/dev/*.txt) tools/ensure-apt.sh
	tools/ensure-apt.sh deps/apt/dev
	@touch $@

# patches/: the werift fixes patch-package applies at install (docs/werift-patches.md);
# a changed patch needs a fresh install to take effect.
$(NPM_STAMP): package.json package-lock.json $(wildcard */package.json) $(wildcard patches/*.patch) | node-check
	npm ci --no-audit --no-fund --no-update-notifier
	@touch $@

include native/native.mk
include firmware-sim/sim.mk
include web-viewer/viewer.mk
-include deploy/deploy.mk

build: deps native-build sim-build ts-build viewer-build

# Only when a source changed: a full tsc takes most of a restart's time
# (about 45 s of a 56 s `make run` on a busy 2-core machine).
TS_SOURCES := $(shell find gateway/src native/lib firmware-sim/src \( -name '*.ts' -o -name '*.json' \) -not -name '*.test.ts')
ts-build: deps build/.tsc-stamp

build/.tsc-stamp: $(TS_SOURCES) tsconfig.json tsconfig.build.json $(NPM_STAMP)
	npx tsc -p tsconfig.build.json
	@touch $@

run: build
	$(NODE) gateway/bin/camgw.js run $(ARGS)

typecheck: deps
	npx tsc -p tsconfig.json

lint: deps
	npx eslint --max-warnings 0 .

# Explicit paths: a board rootfs under build/ may hold mounts Prettier must not walk.
PRETTIER_PATHS := gateway native/lib firmware-sim/src firmware-sim/bin web-viewer deploy tools \
                  '*.json' '*.js' '*.ts' .prettierrc.json

format:
	npx prettier --write $(PRETTIER_PATHS)
	find native/src native/fuzz firmware-sim/vdev firmware-sim/linkem -name '*.c' -o -name '*.cc' -o -name '*.h' | xargs -r clang-format -i

format-check: deps
	npx prettier --check $(PRETTIER_PATHS)

clang-format-check: deps
	find native/src native/fuzz firmware-sim/vdev firmware-sim/linkem \( -name '*.c' -o -name '*.cc' -o -name '*.h' \) -print0 | xargs -0 -r clang-format --dry-run --Werror

test-unit: build
	tools/run-tests.sh

# The checks before the vitest run, two at a time: each of tsc, ESLint,
# Prettier, the ASan vitest run and libFuzzer keeps about one core busy, and
# a CI machine has two (output kept whole per check; the longest start
# first). test-unit last and alone: its "N passed, N failed" line is the one
# CI reads at the end, and its end-to-end tests want the machine to themselves.
TEST_CHECKS := native-test-asan lint fuzz-native-short typecheck format-check clang-format-check
test: dev-deps build
	$(MAKE) --no-print-directory -j2 --output-sync=target $(TEST_CHECKS)
	$(MAKE) --no-print-directory test-unit

# Fuzzing (docs/fuzzing.md). `make fuzz` is not in CI: FUZZ_RUNS inputs per
# target (fast-check targets in worker threads, then libFuzzer on the C/C++
# parsers); FUZZ_SEED replays a run. `make test` runs a short seeded pass of
# every target (gateway/src/fuzz/short-pass.test.ts, fuzz-native-short).
FUZZ_RUNS ?= 1000000
FUZZ_JOBS ?= 2
FUZZ_SEED ?=
fuzz: fuzz-js fuzz-native

# libFuzzer (Debian's clang + libclang-rt, deps/apt/dev/fuzz.txt) on the C/C++
# that parses device and user data. Each binary keeps its checked-in corpus
# (seeds and regressions, <dir>/corpus/<name>) and grows a scratch one under
# build/fuzz/corpus; a crash or hang is written to build/fuzz/findings.
FUZZ_CC ?= clang
FUZZ_CXX ?= clang++
FUZZ_SANITIZE := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_NATIVE_BINS :=
include native/fuzz/fuzz.mk
include firmware-sim/vdev/fuzz/fuzz.mk
# -seed=1 and a fresh scratch corpus make each pass run the same inputs every time.
fuzz-native-run = for bin in $(FUZZ_NATIVE_BINS); do \
	  name=$$(basename $$bin); scratch=build/fuzz/corpus/$$name; log=build/fuzz/$$name.log; \
	  case $$name in vdev-*) corpus=firmware-sim/vdev/fuzz/corpus/$$name;; *) corpus=native/fuzz/corpus/$$name;; esac; \
	  rm -rf $$scratch; mkdir -p $$scratch build/fuzz/findings; \
	  $$bin -runs=$(1) -seed=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/findings/$$name- $$scratch $$corpus > $$log 2>&1; rc=$$?; \
	  echo "== $$name: $$(grep -E '^Done' $$log) (exit $$rc)"; \
	  grep -E 'stat::average_exec_per_sec|SUMMARY|ERROR|runtime error|Test unit written' $$log; \
	  test $$rc -eq 0 || exit 1; done

fuzz-native: dev-deps $(FUZZ_NATIVE_BINS)
	@$(call fuzz-native-run,$(FUZZ_RUNS))

# The short pass `make test` runs: seconds each on a quiet machine, seeded,
# plus the corpus.
fuzz-native-short: dev-deps $(FUZZ_NATIVE_BINS)
	@$(call fuzz-native-run,5000)

fuzz-js: deps
	npx tsc -p tsconfig.fuzz.json
	$(NODE) build/fuzz/gateway/src/fuzz/fuzz-runner.js --runs $(FUZZ_RUNS) --jobs $(FUZZ_JOBS) \
	  $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) $(FUZZ_TARGETS)

bench: dev-deps build
	$(NODE) tools/bench.js

# The soak (docs/architecture.md "Soak"; not in CI): SOAK_MINUTES (default
# 20) of viewers coming and going, every firmware-sim fault at random and
# Mosquitto restarts against one gateway, its RSS, fds, threads, handles,
# timers and event-loop delay printed as a table; fails on growth or a viewer
# frozen past its budget. SOAK_SEED replays a run's schedule.
soak: dev-deps build
	$(NODE) -e "import('./build/gateway/src/soak/soak.js').then((m) => m.soak()).then((code) => process.exit(code))"

# The whole connectivity matrix in the network lab (root; several minutes):
# `make test` runs one row of it.
matrix: dev-deps build
	CAMGW_MATRIX=full npx vitest run gateway/src/traversal/matrix.e2e.test.ts

sim: build
	$(NODE) firmware-sim/bin/firmware-sim.js up $(ARGS)

# A test-board run killed half-way can leave /proc, /sys and a bind mount of
# /dev inside build/deploy/board: unmount them first, or rm would reach the
# host's /dev through the bind mount.
clean:
	@findmnt -rn -o TARGET | grep "^$(CURDIR)/build/" | sort -r | xargs -r -n1 umount -l
	rm -rf build dist native/build native/build-asan firmware-sim/build web-viewer/dist .apt-run-stamp .apt-dev-stamp $(NPM_STAMP)
