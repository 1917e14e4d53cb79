# Thin wrapper around CMake: the two setup commands of the README are
# `make demo` and `make test`. Everything else is for developers.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
DATA       ?= ./var/demo
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60

# Nested makes (cmake --build) stay quiet about directories.
MAKEFLAGS += --no-print-directory

.PHONY: all deps build build-asan demo test test-unit test-asan check-src fuzz bench clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DKP_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

demo: build
	./$(BUILD)/kruispunt demo --data $(DATA)

# The banned-call check, then unit + end-to-end tests on the normal build,
# then all of them again under ASan+UBSan: the end-to-end tests drive the
# sanitized daemon, and a leak at its shutdown fails them.
test: check-src build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

check-src:
	@bash scripts/checksrc.sh

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

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
