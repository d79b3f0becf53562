# The user commands; the build itself is CMake (CMakeLists.txt).
#   make run    the main job on the default system
#   make test   everything the tests need, then all tests
# `make help` lists the rest.

# The default system and its placement, for `make run`, `make image`, `make boot`.
SYSTEM ?= systems/net-echo.json
PLACEMENT ?= $(if $(filter systems/net-echo.json,$(SYSTEM)),systems/placements/net-echo-2core.json,)
# `make run` on a network system: UDP packets echoed, at most WINDOW outstanding.
PACKETS ?= 10000
WINDOW ?= 64
IMAGE_DIR ?= $(BUILD)/image
QEMU_MEMORY ?= 1GiB

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_RELEASE = -DCMAKE_BUILD_TYPE=RelWithDebInfo
# TSan cannot map its shadow memory under high-entropy ASLR; run its tests without ASLR.
NO_ASLR = $(shell setarch -R true 2>/dev/null && echo setarch -R)

.PHONY: help deps build test test-release test-asan test-tsan test-fuzz run image boot bench fuzz \
        report format format-check clean

help:
	@echo "make run           build, pack and boot the default system (the UDP echo, systems/net-echo.json)"
	@echo "                   on the pinion kernel under the instruction counter, drive PACKETS=10000"
	@echo "                   packets through it (WINDOW=64), and print the cost of every packet"
	@echo "make image         pack SYSTEM=systems/X.json [PLACEMENT=P.json] into $(IMAGE_DIR)/"
	@echo "make boot          pack and boot SYSTEM [PLACEMENT] with its console here ('q' ends a run)"
	@echo "make test          install what is missing, build, run every test (plain, ASan+UBSan, TSan, fuzz smoke, format)"
	@echo "make bench         micro-benchmarks: kernel costs per notification (results/microbench/),"
	@echo "                   and host nanoseconds of queues and notifications"
	@echo "make report        run every experiment behind docs/REPORT.md and write it, with its plots"
	@echo "                   (docs/report/); REPORT_ARGS=\"--sample 20\" for a shorter run"
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

# Every experiment behind docs/REPORT.md, then the report, its tables and plots.
# REPORT_ARGS="--sample 20" for a shorter run; sweeps resume where they stopped.
report: build
	@experiments/make-report $(REPORT_ARGS)

NET_SYSTEM = $(shell grep -q '"virtio-net"' $(SYSTEM) 2>/dev/null && echo yes)

run: build
	@echo "pinion: running $(SYSTEM)$(if $(PLACEMENT), with $(PLACEMENT),) on the pinion kernel"
	@experiments/run $(SYSTEM) $(if $(PLACEMENT),--placement $(PLACEMENT),) --no-build --table \
	    $(if $(NET_SYSTEM),--packets $(PACKETS) --window $(WINDOW),)

image: build
	@mkdir -p $(IMAGE_DIR)
	@$(BUILD)/release/tools/image/pinion-image --system $(SYSTEM) \
	    $(if $(PLACEMENT),--placement $(PLACEMENT),) --memory $(QEMU_MEMORY) \
	    --kernel $(BUILD)/release/target/kernel/pinion-kernel.elf \
	    --programs $(BUILD)/release/target/programs \
	    -o $(IMAGE_DIR)/$(basename $(notdir $(SYSTEM))).elf \
	    --manifest $(IMAGE_DIR)/$(basename $(notdir $(SYSTEM))).json
	@echo "image: $(IMAGE_DIR)/$(basename $(notdir $(SYSTEM))).elf (manifest beside it); boot it with 'make boot'"

boot: image
	@cores=$$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cores"])' \
	    $(IMAGE_DIR)/$(basename $(notdir $(SYSTEM))).json); \
	echo "booting on $$cores core(s); type q to end the run, Ctrl-A x to leave QEMU"; \
	qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu cortex-a72 -smp $$cores \
	    -m $(QEMU_MEMORY:iB=) -nographic -nic none -kernel $(IMAGE_DIR)/$(basename $(notdir $(SYSTEM))).elf

bench: build
	@experiments/microbench/kernel-costs
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
