# Thin wrapper over CMake/CTest so the common jobs are one word each.
BUILD  ?= build
PREFIX ?= /usr/local
JOBS   ?= $(shell nproc)
MAKEFLAGS += --no-print-directory

.PHONY: all deps configure test demo bench install clean

all: configure
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

# All tests, with CTest's summary as the last lines.
test: all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

# The main job: the three-thread demo from the write-up, under lockgraph. The build is
# quiet here (its log is shown only if it fails) so the output is the demo's story.
demo: configure
	@cmake --build $(BUILD) -j $(JOBS) >$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@bash scripts/demo.sh $(BUILD)

bench: configure
	@LG_DEPS_BENCH=1 bash scripts/deps.sh
	@cmake --build $(BUILD) -j $(JOBS)
	@bash bench/run.sh $(BUILD)
	@bash bench/attach-1000.sh $(BUILD)
	@bash bench/trace-bench.sh $(BUILD)
	@bash bench/record-bench.sh $(BUILD)
	@bash bench/lifebench.sh $(BUILD)
	@bash bench/graphbench.sh $(BUILD)

install: all
	@cmake --install $(BUILD) --prefix $(PREFIX) >/dev/null
	@echo "installed into $(PREFIX)"

clean:
	rm -rf $(BUILD)
