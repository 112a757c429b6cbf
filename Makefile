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

.PHONY: all deps demo-deps test-deps bench-deps test unit demo bench fixtures clean help
all: $(BUILD)/migscope $(BUILD)/migscope-fixturegen $(BUILD)/lab/msl-cut $(BUILD)/tools/msc-inject \
     $(BUILD)/msl-fault

help:
	@echo "make            build build/migscope and the fixture generator"
	@echo "make test       install Debian deps, build, run every test layer"
	@echo "make demo       install Debian deps, build, a real lab migration and its report"
	@echo "make bench      1 GiB-stream benchmark against libpcap, tcpdump, tshark"
	@echo "make fixtures   regenerate fixtures/synthetic and, from real lab runs, fixtures/lab"

# The Debian packages, one list per purpose, all in tests/deps.sh: each
# target installs its purpose's before its first step runs.
deps:
	@tests/deps.sh build

demo-deps:
	@tests/deps.sh demo

test-deps:
	@tests/deps.sh test

bench-deps:
	@tests/deps.sh bench

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

demo: demo-deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

bench: bench-deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/test_pkt_bpf
	@tests/bench/bench.sh $(BUILD)

# Synthetic fixtures (deterministic), then real lab runs (root, a few minutes).
fixtures: test-deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/migscope-fixturegen --all fixtures/synthetic
	tests/lab/fixtures.sh $(BUILD)

clean:
	rm -rf $(BUILD)
