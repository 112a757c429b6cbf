# migscope - build, test, demo, bench. `make help` lists the targets.
CC      ?= gcc
CLANG   ?= clang
BUILD   ?= build
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -I. -Ibpf
LDLIBS  := -lpcap -lz -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ARCH_INC := -I/usr/include/$(shell uname -m)-linux-gnu

LIB_SRC  := $(wildcard analysis/*.c reports/*.c)
LIB_SRC  := $(filter-out analysis/main.c,$(LIB_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# The live agent (capture/) links libbpf and embeds the BPF objects as skeletons.
CAP_SRC  := $(wildcard capture/*.c)
CAP_OBJ  := $(CAP_SRC:%.c=$(BUILD)/obj/%.o)
CAP_ASAN := $(CAP_SRC:%.c=$(BUILD)/asan/%.o)
SKELS    := $(BUILD)/skel/pkt.skel.h $(BUILD)/skel/retrans.skel.h
BPF_LIBS := -lbpf -lelf
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
GEN_SRC  := $(wildcard tests/fixturegen/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests-asan/%)
BPF_OBJ  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(wildcard bpf/*.bpf.c))
HDRS     := $(wildcard analysis/*.h reports/*.h bpf/*.h tests/unit/*.h tests/fixturegen/*.h)

.PHONY: all deps test-deps test unit demo bench fixtures clean help
all: $(BUILD)/migscope $(BUILD)/migscope-fixturegen $(BUILD)/lab/msl-cut $(BUILD)/tools/msc-inject \
     $(BUILD)/msl-fault

help:
	@echo "make            build build/migscope and the fixture generator"
	@echo "make test       install Debian deps, build, run every test layer"
	@echo "make demo       install Debian deps, build, a real lab migration and its report"
	@echo "make bench      1 GiB-stream benchmark against libpcap, tcpdump, tshark"
	@echo "make fixtures   regenerate fixtures/synthetic and, from real lab runs, fixtures/lab"

deps:
	@tests/deps.sh build

test-deps:
	@tests/deps.sh test

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) -c $< -o $@

$(BUILD)/libmigscope.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/libmigscope-asan.a: $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/migscope: $(BUILD)/obj/analysis/main.o $(BUILD)/libcapture.a $(BUILD)/libmigscope.a
	$(CC) $(CFLAGS) -o $@ $^ $(BPF_LIBS) $(LDLIBS)

# The CLI under ASan+UBSan, for the hostile-input tests.
$(BUILD)/migscope-asan: $(BUILD)/asan/analysis/main.o $(BUILD)/libcapture-asan.a $(BUILD)/libmigscope-asan.a
	$(CC) $(SAN) -o $@ $^ $(BPF_LIBS) $(LDLIBS)

# capture/: objects need the generated skeletons (bpftool gen skeleton).
$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(dir $@)
	bpftool gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(CAP_OBJ): $(BUILD)/obj/capture/%.o: capture/%.c $(HDRS) $(wildcard capture/*.h) $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(BUILD)/skel $(WARN) $(CFLAGS) -c $< -o $@

$(CAP_ASAN): $(BUILD)/asan/capture/%.o: capture/%.c $(HDRS) $(wildcard capture/*.h) $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(BUILD)/skel $(WARN) -O1 -g $(SAN) -c $< -o $@

$(BUILD)/libcapture.a: $(CAP_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libcapture-asan.a: $(CAP_ASAN)
	$(AR) rcs $@ $^

# Test tool: sends a capture's frames onto an interface (tests/e2e/capture.sh).
$(BUILD)/tools/msc-inject: tests/capture/inject.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(LDLIBS)

# Test tool: checks the HTML report's screenshot is a drawn report (tests/e2e/html.sh).
$(BUILD)/tools/png-check: tests/tools/png_check.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< -lz

$(BUILD)/migscope-fixturegen: $(GEN_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $(GEN_SRC) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcapture.a $(BUILD)/libmigscope.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(BUILD)/skel $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libcapture.a $(BUILD)/libmigscope.a -lcmocka -lbpf -lelf $(LDLIBS)

$(BUILD)/tests-asan/%: tests/unit/%.c $(BUILD)/libcapture-asan.a $(BUILD)/libmigscope-asan.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(BUILD)/skel $(WARN) -O1 -g $(SAN) -o $@ $< $(BUILD)/libcapture-asan.a $(BUILD)/libmigscope-asan.a -lcmocka -lbpf -lelf $(LDLIBS)

# Lab tools (tests/lab/): msl-cut strips the stream payload from lab captures
# before they become fixtures, classifying frames with the analyzer's code.
$(BUILD)/lab/msl-cut: tests/lab/cut.c $(BUILD)/libmigscope.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libmigscope.a $(LDLIBS)

# The lab's fault injector: bpf/fault.bpf.c as a skeleton in msl-fault (the
# lab and tests/e2e/fault.sh run it) and in tests/unit/test_fault.c.
FAULT_SRC := tests/lab/fault.c tests/lab/fault_tc.c
$(BUILD)/msl-fault: $(FAULT_SRC) tests/lab/fault_tc.h bpf/fault.h $(BUILD)/skel/fault.skel.h $(BUILD)/libmigscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(BUILD)/skel $(WARN) $(CFLAGS) -o $@ $(FAULT_SRC) $(BUILD)/libmigscope.a $(BPF_LIBS) -lz -lm

$(BUILD)/bpf/fault.bpf.o: bpf/fault.h
$(BUILD)/tests/test_fault $(BUILD)/tests-asan/test_fault: $(BUILD)/skel/fault.skel.h

# The shared classifier compiled for the kernel: the same parse.h as userspace.
# pkt.bpf.c claims flow-table slots with compare-and-swap: BPF ISA v3 (5.12+).
$(BUILD)/bpf/pkt.bpf.o: BPF_CPU := -mcpu=v3
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/parse.h bpf/parse_skb.h bpf/pkt.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf $(BPF_CPU) $(ARCH_INC) -Wall -Werror -c $< -o $@

unit: $(UNIT_BIN) $(UNIT_ASAN) $(BPF_OBJ) $(BUILD)/migscope-asan $(BUILD)/tools/msc-inject \
      $(BUILD)/tools/png-check

test: test-deps
	@$(MAKE) --no-print-directory all unit
	@tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

bench: test-deps
	@$(MAKE) --no-print-directory all
	@tests/bench/bench.sh $(BUILD)

# Synthetic fixtures (deterministic), then real lab runs (root, a few minutes).
fixtures: test-deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/migscope-fixturegen --all fixtures/synthetic
	tests/lab/fixtures.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# ---- fuzzing (tests/fuzz, docs/fuzzing.md) ---------------------------------
# libFuzzer targets: the analyzer and the renderers built again with clang and
# libFuzzer's coverage, in three variants: fuzz/ under ASan+UBSan (make test
# replays the seed corpus and every input that ever broke migscope through
# them: tests/e2e/fuzz_replay.sh), fuzz-fast/ under UBSan alone (20x the
# executions: ASan's zeroing of the analyzer's fixed tables, 19 MB a run,
# dominates), fuzz-cov/ with source coverage for llvm-cov. `make fuzz
# FUZZ_SECONDS=N [FUZZ_TARGETS=...]` runs a campaign of N seconds per target,
# one at a time (tests/fuzz/campaign.sh); `make fuzz-coverage` reports the
# lines of analysis/ and reports/ its corpus reaches.
# gcc's -fsanitize=undefined leaves float-to-integer overflow unchecked (how
# F3 went unseen): the CLI and unit tests under ASan check it too.
SAN          += -fsanitize=float-cast-overflow
FUZZ_TARGETS ?= analyze analyze_multi series
FUZZ_SECONDS ?= 600
FUZZ_ALL     := analyze analyze_multi series
FUZZ_HDRS    := $(HDRS) tests/fuzz/fuzz_common.h
FUZZ_SRC     := $(LIB_SRC) tests/fuzz/fuzz_common.c
FUZZ_UBSAN   := -fsanitize=undefined -fno-sanitize-recover=all
FUZZ_FLAGS_fuzz      := -fsanitize=address $(FUZZ_UBSAN) -fno-omit-frame-pointer
FUZZ_FLAGS_fuzz-fast := $(FUZZ_UBSAN)
FUZZ_FLAGS_fuzz-cov  := -fprofile-instr-generate -fcoverage-mapping
FUZZ_BIN     := $(FUZZ_ALL:%=$(BUILD)/fuzz/fuzz_%)

# $(call fuzz_variant,DIR): objects, library and targets of one variant
define fuzz_variant
$(BUILD)/$(1)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $$(dir $$@)
	$(CLANG) $(CPPFLAGS) $(WARN) -O1 -g $(FUZZ_FLAGS_$(1)) -fsanitize=fuzzer-no-link -c $$< -o $$@

$(BUILD)/$(1)/libfuzz.a: $(FUZZ_SRC:%.c=$(BUILD)/$(1)/obj/%.o)
	$(AR) rcs $$@ $$^

$(BUILD)/$(1)/fuzz_%: $(BUILD)/$(1)/obj/tests/fuzz/fuzz_%.o $(BUILD)/$(1)/libfuzz.a
	$(CLANG) $(FUZZ_FLAGS_$(1)) -fsanitize=fuzzer -o $$@ $$^ $(LDLIBS)
endef
$(eval $(call fuzz_variant,fuzz))
$(eval $(call fuzz_variant,fuzz-fast))
$(eval $(call fuzz_variant,fuzz-cov))
.SECONDARY: $(foreach v,fuzz fuzz-fast fuzz-cov,$(FUZZ_ALL:%=$(BUILD)/$(v)/obj/tests/fuzz/fuzz_%.o))

.PHONY: fuzz fuzz-coverage
unit: $(FUZZ_BIN)

fuzz: test-deps
	@$(MAKE) --no-print-directory $(foreach v,fuzz fuzz-fast,$(FUZZ_TARGETS:%=$(BUILD)/$(v)/fuzz_%))
	@tests/fuzz/campaign.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-coverage: test-deps
	@$(MAKE) --no-print-directory $(FUZZ_ALL:%=$(BUILD)/fuzz-cov/fuzz_%)
	@tests/fuzz/coverage.sh $(BUILD) $(FUZZ_ALL)
# ---- end of fuzzing ----------------------------------------------------------
