#!/bin/bash
# The libFuzzer targets (tests/fuzz) over their seed corpus and every input
# that ever broke migscope (tests/fuzz/regress), each file once: a crash,
# sanitizer report, leak, trap (an error of more than one line, invalid JSON
# from render_json) or hang is a failure. Runs what `make fuzz` fuzzes, as a
# regression test of the harness and of the code.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
cd "$(dirname "$0")/../.." || exit 2
F=tests/fuzz
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# replay TARGET FILE...: one TAP line per file
replay() {
	local target=$1 bin="$BUILD/fuzz/fuzz_$1" f name; shift
	if [ ! -x "$bin" ]; then
		not_ok "fuzz_$target is built" "no $bin (make unit builds it; clang and libclang-rt-14-dev)"
		return
	fi
	for f in "$@"; do
		name=${f#"$F"/}
		[ "${f#"$T"/}" != "$f" ] && name="regress/${f#"$T"/} (its captures in one input)"
		if timeout 120 "$bin" -timeout=60 -rss_limit_mb=2048 "$f" >"$T/log" 2>&1 &&
		   grep -q "^Executed " "$T/log"; then
			ok "fuzz_$target: $name"
		else
			not_ok "fuzz_$target: $name" "$(grep -m1 -E 'ERROR|runtime error|SUMMARY|deadly' "$T/log" || tail -3 "$T/log")"
		fi
	done
}

# F2, F2b: two captures in analyze_multi's format, built from the kept files
R=$F/regress
"$F/mkmulti.sh" 0 9 "$T/F2-counter_time-overflow" "$R/F2-counter_time-overflow/src.pcap" \
	"$R/F2-counter_time-overflow/dst.pcapng"
"$F/mkmulti.sh" 0 9 "$T/F2b-counter-time-shift" "$R/F2-counter_time-overflow/src.pcap" \
	"$R/F2b-counter-time-shift/dst.pcapng"

shopt -s nullglob
replay analyze $F/corpus/analyze/* $R/*.pcap $R/*.pcapng $R/*.gz $R/analyze/*
replay analyze_multi $F/corpus/analyze_multi/* "$T"/F2* $R/analyze_multi/*
replay series $F/corpus/series/* $R/F6-series-quadratic/loss-r1/report.json $R/series/*
replay hypervisor $F/corpus/hypervisor/* $R/hypervisor/*
