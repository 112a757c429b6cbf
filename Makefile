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
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
GEN_SRC  := $(wildcard tests/fixturegen/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests-asan/%)
BPF_OBJ  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(wildcard bpf/*.bpf.c))
HDRS     := $(wildcard analysis/*.h reports/*.h bpf/*.h tests/unit/*.h tests/fixturegen/*.h)

.PHONY: all deps test unit demo bench fixtures clean help
all: $(BUILD)/migscope $(BUILD)/migscope-fixturegen $(BUILD)/lab/msl-cut

help:
	@echo "make            build build/migscope and the fixture generator"
	@echo "make test       install Debian deps, build, run every test layer"
	@echo "make demo       install Debian deps, build, analyze the baseline fixture"
	@echo "make bench      1 GiB-stream benchmark against libpcap, tcpdump, tshark"
	@echo "make fixtures   regenerate fixtures/synthetic and, from real lab runs, fixtures/lab"

deps:
	@tests/deps.sh

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

$(BUILD)/migscope: $(BUILD)/obj/analysis/main.o $(BUILD)/libmigscope.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The CLI under ASan+UBSan, for the hostile-input tests.
$(BUILD)/migscope-asan: $(BUILD)/asan/analysis/main.o $(BUILD)/libmigscope-asan.a
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/migscope-fixturegen: $(GEN_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $(GEN_SRC) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmigscope.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libmigscope.a -lcmocka -lbpf -lelf $(LDLIBS)

$(BUILD)/tests-asan/%: tests/unit/%.c $(BUILD)/libmigscope-asan.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) -o $@ $< $(BUILD)/libmigscope-asan.a -lcmocka -lbpf -lelf $(LDLIBS)

# Lab tools (tests/lab/): msl-cut strips the stream payload from lab captures
# before they become fixtures, classifying frames with the analyzer's code.
$(BUILD)/lab/msl-cut: tests/lab/cut.c $(BUILD)/libmigscope.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libmigscope.a $(LDLIBS)

# The shared classifier compiled for the kernel: the same parse.h as userspace.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/parse.h
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf $(ARCH_INC) -Wall -Werror -c $< -o $@

unit: $(UNIT_BIN) $(UNIT_ASAN) $(BPF_OBJ) $(BUILD)/migscope-asan

test: deps
	@$(MAKE) --no-print-directory all unit
	@tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/bench.sh $(BUILD)

# Synthetic fixtures (deterministic), then real lab runs (root, a few minutes).
fixtures: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/migscope-fixturegen --all fixtures/synthetic
	tests/lab/fixtures.sh $(BUILD)

clean:
	rm -rf $(BUILD)
