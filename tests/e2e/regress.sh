#!/bin/bash
# Every input that once broke migscope (tests/fuzz/regress, see its README),
# through the ASan+UBSan CLI: each must give its right outcome, a named
# one-line error (exit 2) or a report with the right figures, with no
# sanitizer report and within 60 s. Each check fails on the code before its
# fix.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
R=$(realpath "$(dirname "$0")/../fuzz/regress")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=exitcode=99:print_stacktrace=1

# run NAME WANT_EXIT ARGS...: the exit status, and for exit 2 one line on
# stderr besides warnings; out and err stay in $T for the checks after
run() {
	local name=$1 want=$2 rc lines; shift 2
	timeout 60 "$BUILD/migscope-asan" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	lines=$(grep -vc '^migscope: warning:' "$T/err")
	if [ "$rc" != "$want" ]; then
		not_ok "$name: exit $want" "exit $rc: $(head -c 600 "$T/err")"
	elif [ "$want" = 2 ] && [ "$lines" != 1 ]; then
		not_ok "$name: one line on stderr" "$(head -c 600 "$T/err")"
	else
		ok "$name: exit $want"
	fi
}

# says NAME TEXT: stderr holds TEXT (fixed string)
says() {
	if grep -qF -- "$2" "$T/err"; then ok "$1"; else not_ok "$1" "no '$2' in: $(head -c 600 "$T/err")"; fi
}

domain="is not a time migscope reads (after 1970-01-01T00:00:00Z and before 2116-02-20T23:53:38Z)"

# F1: stamps past int64 nanoseconds: refused at the reader, naming the packet
for f in F1-fuzzer-min.pcapng F1-ts-overflow.pcapng F1b-ts-overflow-negative-sec.pcapng; do
	for fmt in text html; do
		run "$f -f $fmt" 2 analyze -f "$fmt" "$R/$f"
	done
done
run "F1 if_tsresol 0" 2 analyze "$R/F1-fuzzer-min.pcapng"
says "F1 if_tsresol 0: the stamp in seconds" "F1-fuzzer-min.pcapng: packet 1: time stamp 1699999999091277888.000000000 s $domain"
run "F1 microseconds near 2^64" 2 analyze "$R/F1-ts-overflow.pcapng"
says "F1 microseconds near 2^64: named" "F1-ts-overflow.pcapng: packet 1: time stamp 18446744073709.551360000 s $domain"
run "F1b negative seconds" 2 analyze "$R/F1b-ts-overflow-negative-sec.pcapng"
says "F1b negative seconds: named" "packet 1: time stamp -9223372036854775808.000000000 s $domain"

# F2: a counter time that a clock offset pushed past int64
F2=$R/F2-counter_time-overflow
run "F2 counter time INT64_MAX" 2 analyze "src=$F2/src.pcap" "dst=$F2/dst.pcapng"
says "F2: the counters line named" "dst.pcapng: counters block at byte 24224, line 3: last_ns=9223372036854775807 $domain"
# F2b: the same file with last_ns at the domain's end: read, then moved by
# the -1 s clock offset past it
run "F2b counter time moved out by the clock offset" 2 analyze "src=$F2/src.pcap" "dst=$R/F2b-counter-time-shift/dst.pcapng"
says "F2b: flow and offset named" "counters of flow 198.18.0.1:50000 -> 198.18.0.2:49152: time 4611686018427387903 ns less the capture's clock offset -1000000000 ns $domain"

# F3: 9e18 payload bytes in the counters
run "F3 counters payload 9e18" 2 analyze "$R/F3-avg_bps-float-cast.pcapng"
says "F3: the count named" "counters block at byte 13880, line 3: payload_bytes=9000000000000000000 is more than any stream carries (2^53)"
# F3b: the same overflow from packets alone: no throughput, and why
run "F3b 1.18e9 bytes in 1 ns" 0 analyze -f json "$R/F3b-avg_bps-from-packets.pcap.gz"
says "F3b: warning" "migration 1: 1178910000 bytes in 1 ns is faster than any link"
expect_eq "F3b: no average throughput" null "$(jq .migrations[0].stream.avg_throughput_bps "$T/out")"
expect_eq "F3b: no peak throughput" null "$(jq .migrations[0].stream.peak_throughput_bps "$T/out")"
expect_eq "F3b: the bytes still counted" 1178910000 "$(jq .migrations[0].stream.out_bytes "$T/out")"

# F4: counter times at INT64_MAX, which overflowed the HTML timeline
for fmt in text html; do
	run "F4 -f $fmt" 2 analyze -f "$fmt" "$R/F4-html-timeline-overflow.pcapng"
	says "F4 -f $fmt: named" "line 3: last_ns=9223372036854775807 $domain"
done

# F5: a valid pcap stamped from the epoch: 0 is "no time" in the analyzer
run "F5 stamps from 0" 2 analyze "$R/F5-rarp-at-epoch-stack-oob.pcap"
says "F5: the stamp named, and what to do" "packet 1: time stamp 0.000000000 s $domain; shift the capture's times (editcap -t)"
# shifted as the message says (editcap -t 1700000000), it reads, and the
# RARP the fuzzer had moved to 0 is the only one left out of the schedule
run "F5 shifted" 0 analyze "$R/F5-shifted.pcapng"
check "F5 shifted: five announce rounds seen" grep -q "burst 1 at +0.000 ms, rounds seen: src 5/5" "$T/out"
check "F5 shifted: the moved RARP fits no round" grep -q "1 RARP at src fit no round" "$T/out"

# F6: a report of 32,000 empty migrations: no more than one analysis keeps
# (the quadratic time is tests/unit/test_series_scale.c's)
run "F6 32000 migrations" 2 series "$R/F6-series-quadratic/loss-r1/report.json"
says "F6: named" "report.json: 32000 migrations, more than one analysis reports (128)"

# F8: a hypervisor duration in ms whose nanoseconds do not fit: refused,
# naming the field, not wrapped into a negative downtime
run "F8 -H downtime of 2^53 ms" 2 analyze -H "$R/hypervisor/F8-ms-to-ns-overflow.json" \
	tests/fuzz/corpus/analyze/syn-baseline-cn1.pcap.gz
says "F8: the field and its value named" "line 1: downtime 9007199254740992 is out of range"

# F9: a QMP event's microseconds beyond their second (found by fuzz_hypervisor:
# multiplied into ns, a signed overflow): refused, the value named
run "F9 -H QMP microseconds 4.04e18" 2 analyze -H "$R/hypervisor/F9-qmp-microseconds-overflow.log" \
	tests/fuzz/corpus/analyze/syn-baseline-cn1.pcap.gz
says "F9: the field and its value named" "line 1: event time stamp (us) 4040000000000000000 is out of range"

# F7: caps reached are reported whatever else was warned about. Since issue 13
# (evacuations) the caps are MAX_GROUPS 128, MAX_MACS and MAX_TARGETS 256, and
# each of the file's 300 QEVM streams is a migration of its own: the caps it
# still reaches are the migrations', the flows' and the announcements'.
run "F7 70 streams" 0 analyze -f json "$R/F7-cap-warnings-dropped.pcap.gz"
expect_eq "F7: MAX_GROUPS migrations kept" 128 "$(jq '.migrations | length' "$T/out")"
expect_eq "F7: the migrations cap, first" "migscope: warning: more migrations than the analyzer keeps, later ones ignored; more migration flows than the analyzer keeps, later ones ignored" "$(head -1 "$T/err")"
says "F7: the guest caps" "announcement table full, later ones ignored"
expect_eq "F7: the warnings left out, counted" "migscope: warning: 115 more warnings not shown" "$(tail -1 "$T/err")"
expect_eq "F7: 16 warnings in the JSON, the caps among them" "16 2" \
	"$(jq -r '[(.warnings | length), ([.warnings[] | select(test("analyzer keeps|too many|table full"))] | length)] | join(" ")' "$T/out")"
