# Thin wrapper over CMake/CTest so the common jobs are one word each.
BUILD  ?= build
PREFIX ?= /usr/local
JOBS   ?= $(shell nproc)
MAKEFLAGS += --no-print-directory
# What scripts/deps.sh installs before configuring: the build's packages, unless the goal
# needs more (a target-specific value reaches its prerequisites: test -> all -> configure).
DEPS   ?= build

.PHONY: all deps configure test demo bench install clean

all: configure
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/deps.sh $(DEPS)

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

# All tests, with CTest's summary as the last lines.
test: DEPS = test
test: all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

# The main job: the three-thread demo from the write-up, under lockgraph. The build is
# quiet here (its log is shown only if it fails) so the output is the demo's story.
demo: configure
	@echo "building lockgraph (about a minute the first time; log: $(BUILD)/build.log)" >&2
	@cmake --build $(BUILD) -j $(JOBS) >$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@bash scripts/demo.sh $(BUILD)

bench: DEPS = bench
bench: configure
	@cmake --build $(BUILD) -j $(JOBS)
	@bash bench/run.sh $(BUILD)
	@bash bench/fastbench.sh $(BUILD)
	@bash bench/attach-1000.sh $(BUILD)
	@bash bench/attach-busy.sh $(BUILD)
	@bash bench/trace-bench.sh $(BUILD)
	@bash bench/record-bench.sh $(BUILD)
	@bash bench/lifebench.sh $(BUILD)
	@bash bench/graphbench.sh $(BUILD)
	@bash bench/annobench.sh $(BUILD)

install: all
	@cmake --install $(BUILD) --prefix $(PREFIX) >/dev/null
	@echo "installed into $(PREFIX)"

clean:
	rm -rf $(BUILD)
