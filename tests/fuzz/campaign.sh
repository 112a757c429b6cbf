#!/bin/bash
# make fuzz: a libFuzzer campaign of SECONDS per target, one target at a
# time (the machine is shared: one process, no -jobs). Each target starts
# from its seeds (tests/fuzz/corpus/TARGET and the regression inputs, as
# tests/e2e/fuzz_replay.sh replays them) and grows BUILD/fuzz/corpus/TARGET,
# kept between campaigns. Three quarters of the time go to the UBSan-only
# build (fuzz-fast/: ~20x the executions of ASan here), the last quarter to
# the ASan+UBSan build, which first runs every input the corpus holds, so
# each input found fast is also checked for memory errors. Crashes, leaks
# and timeouts land in BUILD/fuzz/crashes/, each run's log in
# BUILD/fuzz/logs/. Ends with a line per target and build: executions,
# exec/s, libFuzzer's coverage (cov: edges, ft: features), corpus, findings.
#   tests/fuzz/campaign.sh BUILD SECONDS TARGET...
set -u
BUILD=$1 EACH=$2
shift 2
cd "$(dirname "$0")/../.." || exit 2
F=tests/fuzz
mkdir -p "$BUILD/fuzz/crashes" "$BUILD/fuzz/logs"
summary=() failed=0

# seeds TARGET DIR: the seed corpus and the regression inputs, in one
# directory (libFuzzer takes directories)
seeds() {
	rm -rf "$2"
	mkdir -p "$2"
	cp "$F/corpus/$1"/* "$2/"
	case $1 in
	analyze) cp "$F"/regress/*.pcap "$F"/regress/*.pcapng "$F"/regress/*.gz "$2/" ;;
	analyze_multi)
		"$F/mkmulti.sh" 0 9 "$2/F2" "$F/regress/F2-counter_time-overflow/src.pcap" \
			"$F/regress/F2-counter_time-overflow/dst.pcapng"
		"$F/mkmulti.sh" 0 9 "$2/F2b" "$F/regress/F2-counter_time-overflow/src.pcap" \
			"$F/regress/F2b-counter-time-shift/dst.pcapng" ;;
	series) cp "$F/regress/F6-series-quadratic/loss-r1/report.json" "$2/F6.json" ;;
	esac
	if [ -d "$F/regress/$1" ]; then cp "$F/regress/$1"/* "$2/"; fi
}

# run VARIANT TARGET SECONDS: one libFuzzer run; appends its summary line
run() {
	local variant=$1 t=$2 secs=$3 bin=$BUILD/$1/fuzz_$2 corpus=$BUILD/fuzz/corpus/$2
	local log before rc found last runs speed cov ft units dict=()

	log=$BUILD/fuzz/logs/$t-$variant-$(date +%Y%m%d-%H%M%S).log
	[ -f "$F/${t%_multi}.dict" ] && dict=(-dict="$F/${t%_multi}.dict")
	before=$(ls "$BUILD/fuzz/crashes" | wc -l)
	echo "$variant/fuzz_$t: $secs s, corpus $corpus, log $log" >&2
	# -max_len: the seeds are up to ~60 KB; longer inputs add time, not
	# coverage. -timeout: an input taking 10 s is a hang.
	"$bin" "$corpus" "$BUILD/fuzz/seeds/$t" "${dict[@]}" -max_total_time="$secs" \
		-max_len=131072 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$BUILD/fuzz/crashes/$t-$variant-" >"$log" 2>&1
	rc=$?
	found=$(($(ls "$BUILD/fuzz/crashes" | wc -l) - before))
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	units=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
	summary+=("$(printf '%-9s fuzz_%-13s %5ss %9s execs %5s exec/s  cov %5s  ft %6s  corpus %-11s findings %d%s' \
		"$variant" "$t" "$secs" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${units:-?}" \
		"$found" "$([ "$rc" = 0 ] || echo " (exit $rc)")")")
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then failed=1; fi
}

for t in "$@"; do
	mkdir -p "$BUILD/fuzz/corpus/$t"
	seeds "$t" "$BUILD/fuzz/seeds/$t"
	fast=$((EACH * 3 / 4))
	if [ "$fast" -gt 0 ]; then run fuzz-fast "$t" "$fast"; fi
	run fuzz "$t" $((EACH - fast))
done
printf '%s\n' "${summary[@]}"
if [ "$failed" != 0 ]; then
	echo "findings in $BUILD/fuzz/crashes: see docs/fuzzing.md (reproduce, minimize, fix, keep)"
fi
exit "$failed"
