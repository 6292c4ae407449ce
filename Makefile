# Thin wrapper: everything real lives in CMake. `make demo` and `make test` work on a fresh
# Debian 12 machine: both install what is missing first (scripts/bootstrap.sh).
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all bootstrap configure build test demo bench clean

all: build

bootstrap:
	@scripts/bootstrap.sh

configure: bootstrap
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@cmake --build $(BUILD) --target demo

bench: build
	@SKC_BENCH=1 scripts/bootstrap.sh
	@cmake --build $(BUILD) --target bench

clean:
	rm -rf $(BUILD)
