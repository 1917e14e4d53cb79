# Thin wrapper around CMake: the two setup commands of the README are
# `make demo` and `make test`. Everything else is for developers.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
BUILD_RELEASE ?= build-release
BUILD_CLANG ?= build-clang
BUILD_ANALYZE ?= build-analyze
DATA       ?= ./var/demo
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
# `make install`: where, and into which staging root (packagers).
PREFIX     ?= /usr/local
DESTDIR    ?=

# Nested makes (cmake --build) stay quiet about directories.
MAKEFLAGS += --no-print-directory

SCREENSHOTS ?= docs/screenshots

.PHONY: all deps build build-asan build-release build-clang demo screenshots test test-all test-unit test-ha test-asan check-src analyze fuzz bench install package clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DKP_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# Release, as packagers build it: -O3 finds warnings (maybe-uninitialized)
# the other builds do not. Compiled only, quietly; errors still show.
build-release: deps
	@cmake -S . -B $(BUILD_RELEASE) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD_RELEASE) -j $(JOBS) >/dev/null

# clang, whose warnings differ from gcc's (-Wsign-conversion on enums):
# compiled only, quietly, like Release.
build-clang: deps
	@CC=clang cmake -S . -B $(BUILD_CLANG) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD_CLANG) -j $(JOBS) >/dev/null

demo: build
	./$(BUILD)/kruispunt demo --data $(DATA)

# The portal's pages as docs/screenshots/<page>-<desktop|phone>.png, taken
# by the browser test's harness (tests/browser) on the real demo. Not part
# of `make test`: run it after changing the pages, and commit the images.
screenshots: build
	@node tests/browser/run.mjs $(BUILD)/kruispunt --screenshots $(SCREENSHOTS)

# The banned-call and documentation checks, then unit + end-to-end tests on the normal build,
# then all of them again under ASan+UBSan: the end-to-end tests drive the
# sanitized daemon, and a leak at its shutdown fails them. The Release
# build (gcc) and a clang build are compiled too, so a warning only -O3 or
# only clang sees fails CI.
# It prints how long it took, builds included: the budget is 60 minutes.
test:
	@start=$$(date +%s); $(MAKE) --no-print-directory test-all; rc=$$?; \
	  echo "make test: $$(( $$(date +%s) - start )) s in all (rc $$rc)"; \
	  exit $$rc

test-all: check-src build build-asan build-release build-clang
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

# The failover test (tests/ha): etcd, two PostgreSQL under Patroni,
# HAProxy and two kruispunt nodes on this machine (scripts/ha/up.sh); the
# primary and a node are killed under load. About two minutes; needs root
# or the postgres user's rights over /tmp. Not part of `make test`; CI
# runs it after (.ci/run).
test-ha: build
	@bash tests/ha/test_failover.sh $(BUILD)/kruispunt

check-src:
	@bash scripts/checksrc.sh
	@bash scripts/checkdocs.sh

# clang's static analyzer (scan-build) over a fresh Debug build, tests
# included; any finding fails the target. Reports stay in
# $(BUILD_ANALYZE)/reports.
analyze: deps
	@rm -rf $(BUILD_ANALYZE)
	@scan-build -o $(BUILD_ANALYZE)/reports cmake -S . -B $(BUILD_ANALYZE) \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@scan-build -o $(BUILD_ANALYZE)/reports --status-bugs \
		cmake --build $(BUILD_ANALYZE) -j $(JOBS)

fuzz: deps
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKP_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)
	@bash fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

bench: build
	@bash bench/http_baseline.sh $(BUILD)
	@bash bench/audit.sh $(BUILD)
	@bash bench/directory.sh $(BUILD)
	@bash bench/auth.sh $(BUILD)
	@bash bench/hub.sh $(BUILD)
	@bash bench/import.sh $(BUILD)

# The daemon, its systemd unit, sysusers.d and tmpfiles.d entries and a
# default configuration (PREFIX/etc, or /etc for PREFIX=/usr), e.g.
# `make install PREFIX=/usr DESTDIR=/tmp/root`. README: "Running it for real".
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# The same files as a Debian package (CPack), in $(BUILD)/package/.
package: build
	@cd $(BUILD) && cpack -G DEB -B "$(abspath $(BUILD))/package"

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_RELEASE) $(BUILD_CLANG) $(BUILD_ANALYZE)
