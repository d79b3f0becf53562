# The user commands; the build itself is CMake (CMakeLists.txt).
#   make run    the main job on the default system
#   make test   everything the tests need, then all tests
# `make help` lists the rest.

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_RELEASE = -DCMAKE_BUILD_TYPE=RelWithDebInfo
# TSan cannot map its shadow memory under high-entropy ASLR; run its tests without ASLR.
NO_ASLR = $(shell setarch -R true 2>/dev/null && echo setarch -R)

.PHONY: help deps build test test-release test-asan test-tsan test-fuzz run bench fuzz format \
        format-check clean

help:
	@echo "make run           build and run the default system (for now: the hosted pipeline demo)"
	@echo "make test          install what is missing, build, run every test (plain, ASan+UBSan, TSan, fuzz smoke, format)"
	@echo "make bench         host micro-benchmark of queues and notifications"
	@echo "make fuzz          fuzz the system-description parser for longer (FUZZ_SECONDS=600)"
	@echo "make format        format the C sources with .clang-format"
	@echo "make clean         remove $(BUILD)/"

deps:
	@tools/install-deps --check >/dev/null 2>&1 || tools/install-deps

build: deps
	@cmake -S . -B $(BUILD)/release $(CMAKE_RELEASE) >/dev/null
	@cmake --build $(BUILD)/release -j $(JOBS)

test: deps
	@echo "== [1/5] format check"
	@$(MAKE) --no-print-directory format-check
	@echo "== [2/5] plain build: every test"
	@$(MAKE) --no-print-directory test-release
	@echo "== [3/5] ASan+UBSan build: unit, hosted, stress and CLI tests"
	@$(MAKE) --no-print-directory test-asan
	@echo "== [4/5] TSan build: concurrency tests"
	@$(MAKE) --no-print-directory test-tsan
	@echo "== [5/5] fuzz smoke run of the system-description parser"
	@$(MAKE) --no-print-directory test-fuzz
	@echo "== all tests passed"

test-release: build
	@cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B $(BUILD)/asan $(CMAKE_RELEASE) -DPINION_SANITIZE=address >/dev/null
	@cmake --build $(BUILD)/asan -j $(JOBS)
	@cd $(BUILD)/asan && ctest --output-on-failure -j $(JOBS) -L 'unit|hosted|stress|cli'

test-tsan:
	@cmake -S . -B $(BUILD)/tsan $(CMAKE_RELEASE) -DPINION_SANITIZE=thread >/dev/null
	@cmake --build $(BUILD)/tsan -j $(JOBS)
	@cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 $(NO_ASLR) ctest --output-on-failure -L 'hosted|stress'

test-fuzz:
	@CC=clang cmake -S . -B $(BUILD)/fuzz $(CMAKE_RELEASE) -DPINION_FUZZ=ON >/dev/null
	@cmake --build $(BUILD)/fuzz -j $(JOBS)
	@cd $(BUILD)/fuzz && ctest --output-on-failure -L fuzz

run: build
	@echo "pinion: the partitioning kernel is not built yet, so 'make run' runs the hosted"
	@echo "pinion: pipeline demo (systems/hosted-pipeline.json) as threads on this host."
	@$(BUILD)/release/components/pinion-hosted --stats systems/hosted-pipeline.json

bench: build
	@$(BUILD)/release/experiments/microbench/queue-bench

FUZZ_SECONDS ?= 600
fuzz: deps
	@CC=clang cmake -S . -B $(BUILD)/fuzz $(CMAKE_RELEASE) -DPINION_FUZZ=ON >/dev/null
	@cmake --build $(BUILD)/fuzz -j $(JOBS)
	@PINION_FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-smoke.sh $(BUILD)/fuzz/tests/fuzz/fuzz_sysdesc . $(BUILD)/fuzz/artifacts

SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES) && echo "format: $(words $(SOURCES)) files clean"

clean:
	rm -rf $(BUILD)
