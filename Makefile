# migscope - build, test, demo, bench. `make help` lists the targets; V=1 shows
# the commands.
CC      ?= gcc
CLANG   ?= clang
BUILD   ?= build
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -I. -Ibpf -I$(BUILD)/skel
DEPFLAGS = -MMD -MP -MF $@.d
LDLIBS  := -lpcap -lz -lm -pthread
BPF_LIBS := -lbpf -lelf
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ARCH_INC := -I/usr/include/$(shell uname -m)-linux-gnu

# Quiet unless V=1: one line per step, the full command when asked.
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-8s %s\n' $(1) $(2);
endif

# A half-written target (a failed compile, a cut skeleton) is deleted, not
# taken as up to date by the next make.
.DELETE_ON_ERROR:
# Objects and skeletons made on the way to a binary are kept (no rebuild next time).
.SECONDARY:

# The rooms, downstream of each other: bpf/ (shared with the kernel) <-
# analysis/ <- reports/ <- series/, and capture/ (the agent: libbpf and the
# skeletons). migscope.c dispatches to each command's main.
LIB_SRC  := $(wildcard analysis/*.c reports/*.c series/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_ASAN := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
CAP_SRC  := $(wildcard capture/*.c)
CAP_OBJ  := $(CAP_SRC:%.c=$(BUILD)/obj/%.o)
CAP_ASAN := $(CAP_SRC:%.c=$(BUILD)/asan/%.o)
# The eBPF programs: the agent's (bpf/), and those that serve only the tests
# (the classifier alone, tests/unit) and the lab (its fault injector).
BPF_SRC  := $(wildcard bpf/*.bpf.c) tests/unit/classify.bpf.c tests/lab/fault.bpf.c
BPF_OBJ  := $(addprefix $(BUILD)/bpf/,$(notdir $(BPF_SRC:.bpf.c=.bpf.o)))
SKELS    := $(BUILD)/skel/pkt.skel.h $(BUILD)/skel/retrans.skel.h $(BUILD)/skel/fault.skel.h
GEN_SRC  := $(wildcard tests/fixturegen/*.c)
GEN_OBJ  := $(GEN_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests-asan/%)
FAULT_SRC := tests/lab/fault.c tests/lab/fault_tc.c
FAULT_OBJ := $(FAULT_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all deps demo-deps test-deps bench-deps test unit demo bench fixtures clean help \
	install uninstall deb
all: $(BUILD)/migscope $(BUILD)/migscope-fixturegen $(BUILD)/lab/msl-cut $(BUILD)/tools/msc-inject \
     $(BUILD)/msl-fault

help:
	@echo "make            build build/migscope and the fixture generator (V=1: show commands)"
	@echo "make test       install Debian deps, build, run every test layer"
	@echo "make demo       install Debian deps, build, a real lab migration and its report"
	@echo "make bench      1 GiB-stream benchmark against libpcap, tcpdump, tshark"
	@echo "make fixtures   regenerate fixtures/synthetic and, from real lab runs, fixtures/lab"
	@echo "make install    install migscope, its man pages, the agent's systemd unit and"
	@echo "                the libvirt hook (PREFIX=/usr/local, DESTDIR for staging)"
	@echo "make deb        the Debian package, from this tree (dpkg-buildpackage)"

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

# Every object records the headers it included (-MMD); the skeletons are
# generated before any C file is compiled, as capture/ and tests include them.
$(BUILD)/obj/%.o: %.c | $(SKELS)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c | $(SKELS)
	$(call say,CC-ASAN,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libmigscope.a: $(LIB_OBJ)
$(BUILD)/libmigscope-asan.a: $(LIB_ASAN)
$(BUILD)/libcapture.a: $(CAP_OBJ)
$(BUILD)/libcapture-asan.a: $(CAP_ASAN)
$(BUILD)/%.a:
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/migscope: $(BUILD)/obj/migscope.o $(BUILD)/libcapture.a $(BUILD)/libmigscope.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(BPF_LIBS) $(LDLIBS)

# The CLI under ASan+UBSan, for the hostile-input tests.
$(BUILD)/migscope-asan: $(BUILD)/asan/migscope.o $(BUILD)/libcapture-asan.a $(BUILD)/libmigscope-asan.a
	$(call say,LD,$@)
	$(Q)$(CC) $(SAN) -o $@ $^ $(BPF_LIBS) $(LDLIBS)

# The eBPF objects, and their skeletons (bpftool gen skeleton) for capture/,
# the lab's msl-fault and the tests. The shared classifier compiled for the
# kernel: the same parse.h as userspace. pkt.bpf.c claims flow-table slots
# with compare-and-swap: BPF ISA v3 (5.12+).
$(BUILD)/bpf/pkt.bpf.o: BPF_CPU := -mcpu=v3
define bpf_rule
$(BUILD)/bpf/$(notdir $(1:.bpf.c=.bpf.o)): $(1)
	$$(call say,BPF,$$<)
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CLANG) -g -O2 -target bpf $$(BPF_CPU) $$(ARCH_INC) -I. -Ibpf -Wall -Werror \
		$$(DEPFLAGS) -c $$< -o $$@
endef
$(foreach s,$(BPF_SRC),$(eval $(call bpf_rule,$(s))))

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call say,GEN-SKEL,$@)
	@mkdir -p $(dir $@)
	$(Q)bpftool gen skeleton $< name $*_bpf > $@

# Test tool: sends a capture's frames onto an interface (tests/e2e/capture.sh).
$(BUILD)/tools/msc-inject: $(BUILD)/obj/tests/capture/inject.o
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Test tool: checks the HTML report's screenshot is a drawn report (tests/e2e/html.sh).
$(BUILD)/tools/png-check: $(BUILD)/obj/tests/tools/png_check.o
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lz

$(BUILD)/migscope-fixturegen: $(GEN_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libcapture.a $(BUILD)/libmigscope.a
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(BPF_LIBS) $(LDLIBS)

$(BUILD)/tests-asan/%: $(BUILD)/asan/tests/unit/%.o $(BUILD)/libcapture-asan.a \
		       $(BUILD)/libmigscope-asan.a
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) -o $@ $^ -lcmocka $(BPF_LIBS) $(LDLIBS)

# Lab tools (tests/lab/): msl-cut strips the stream payload from lab captures
# before they become fixtures, classifying frames with the analyzer's code.
$(BUILD)/lab/msl-cut: $(BUILD)/obj/tests/lab/cut.o $(BUILD)/libmigscope.a
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The lab's fault injector: tests/lab/fault.bpf.c as a skeleton in msl-fault
# (the lab and tests/e2e/fault.sh run it) and in tests/unit/test_fault.c.
$(BUILD)/msl-fault: $(FAULT_OBJ) $(BUILD)/libmigscope.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(BPF_LIBS) -lz -lm

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

# ---- installing (docs/man, dist/) -------------------------------------------
# As operators install tools: the binary, a man page per command, the agent's
# systemd unit (not enabled) with its defaults file, the libvirt hook (to be
# linked as /etc/libvirt/hooks/qemu), the Prometheus rules and the report's
# JSON Schema. Units and /etc go where the system has them whatever PREFIX
# (a unit under /usr/local is not found by systemd).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/migscope
UNITDIR    ?= /lib/systemd/system
SYSCONFDIR ?= /etc
MAN1       := $(wildcard docs/man/man1/*.1)
MAN8       := $(wildcard docs/man/man8/*.8)

install: $(BUILD)/migscope
	install -D -m 0755 $(BUILD)/migscope $(DESTDIR)$(BINDIR)/migscope
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' dist/migscope-capture.service.in \
		>$(DESTDIR)$(UNITDIR)/migscope-capture.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/migscope-capture.service
	install -D -m 0644 dist/migscope-capture.default $(DESTDIR)$(SYSCONFDIR)/default/migscope-capture
	install -D -m 0755 dist/libvirt-hook-qemu $(DESTDIR)$(DATADIR)/libvirt-hook-qemu
	install -m 0644 docs/prometheus-rules.yml docs/report.schema.json $(DESTDIR)$(DATADIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/migscope $(DESTDIR)$(UNITDIR)/migscope-capture.service \
		$(DESTDIR)$(SYSCONFDIR)/default/migscope-capture
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -rf $(DESTDIR)$(DATADIR)

# The Debian package from this tree (debian/), into $(BUILD)/deb/.
deb:
	@tests/deps.sh deb
	@tests/deb.sh build $(BUILD)

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
FUZZ_TARGETS ?= analyze analyze_multi series hypervisor
FUZZ_SECONDS ?= 600
FUZZ_ALL     := analyze analyze_multi series hypervisor
FUZZ_SRC     := $(LIB_SRC) tests/fuzz/fuzz_common.c
FUZZ_UBSAN   := -fsanitize=undefined -fno-sanitize-recover=all
FUZZ_FLAGS_fuzz      := -fsanitize=address $(FUZZ_UBSAN) -fno-omit-frame-pointer
FUZZ_FLAGS_fuzz-fast := $(FUZZ_UBSAN)
FUZZ_FLAGS_fuzz-cov  := -fprofile-instr-generate -fcoverage-mapping
FUZZ_BIN     := $(FUZZ_ALL:%=$(BUILD)/fuzz/fuzz_%)

# $(call fuzz_variant,DIR): objects, library and targets of one variant
define fuzz_variant
$(BUILD)/$(1)/obj/%.o: %.c | $(SKELS)
	$$(call say,CC-FUZZ,$$<)
	@mkdir -p $$(dir $$@)
	$$(Q)$(CLANG) $(CPPFLAGS) $(WARN) -O1 -g $(FUZZ_FLAGS_$(1)) -fsanitize=fuzzer-no-link \
		$$(DEPFLAGS) -c $$< -o $$@

$(BUILD)/$(1)/libfuzz.a: $(FUZZ_SRC:%.c=$(BUILD)/$(1)/obj/%.o)

$(BUILD)/$(1)/fuzz_%: $(BUILD)/$(1)/obj/tests/fuzz/fuzz_%.o $(BUILD)/$(1)/libfuzz.a
	$$(call say,LD,$$@)
	$$(Q)$(CLANG) $(FUZZ_FLAGS_$(1)) -fsanitize=fuzzer -o $$@ $$^ $(LDLIBS)
endef
$(eval $(call fuzz_variant,fuzz))
$(eval $(call fuzz_variant,fuzz-fast))
$(eval $(call fuzz_variant,fuzz-cov))

.PHONY: fuzz fuzz-coverage
unit: $(FUZZ_BIN)

fuzz: test-deps
	@$(MAKE) --no-print-directory $(foreach v,fuzz fuzz-fast,$(FUZZ_TARGETS:%=$(BUILD)/$(v)/fuzz_%))
	@tests/fuzz/campaign.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-coverage: test-deps
	@$(MAKE) --no-print-directory $(FUZZ_ALL:%=$(BUILD)/fuzz-cov/fuzz_%)
	@tests/fuzz/coverage.sh $(BUILD) $(FUZZ_ALL)
# ---- end of fuzzing ----------------------------------------------------------

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
