#!/bin/bash
# migscope series: tables across runs. On the synthetic fixtures (report
# JSONs in run directories named SETTING-rN) and on every lab fixture
# present (fixtures/lab/*/, or MSL_LAB_FIXTURES=DIR; lab directories are
# analyzed in process, one of them given three times to make a group), every
# row must hold what analyze --format json says of the same run, and each
# group's mean, median and p95 what its rows give (nearest rank). Bad input:
# one line, exit 2, under ASan+UBSan.
set -u
. "$(dirname "$0")/../lib.sh"
BUILD=$(realpath "${1:-build}")
ROOT=$(realpath "$(dirname "$0")/../..")
SYN=$ROOT/fixtures/synthetic
LAB=${MSL_LAB_FIXTURES:-$ROOT/fixtures/lab}
MIGSCOPE=$BUILD/migscope
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=exitcode=99

# The CSV columns after row,setting,run,migration,runs and the JSON each comes from.
COLS=(migration_time_us downtime_us guest_silence_us out_bytes in_bytes retransmitted_segments lost_probes
	guest_flows_stalled stall_max_us response_p99_pause_us response_p99_after_us)
JQ=(.stream.migration_time_us .downtime.probe_gap_us .downtime.guest_silence_us .stream.out_bytes
	.stream.in_bytes .stream.retransmitted_segments .loss.lost_probes
	'.guest_flows_summary | (if .flows > 0 then .stalled else null end)' .guest_flows_summary.stall_max_us
	.responses.pause.p99_us .responses.after.p99_us)
VERDICT=$((5 + ${#COLS[@]})) # the verdict's cell (from 0), and its CSV field is one more
LAST=$VERDICT                # the last value column's CSV field

# row_matches NAME CSV_LINE JSON MIG: the row's values and verdict are the report's
row_matches() {
	local name=$1 line=$2 json=$3 m=$4 want got fails=0
	IFS=, read -r -a cell <<<"$line"
	for k in "${!COLS[@]}"; do
		want=$(jq -r ".migrations[$m]${JQ[$k]} // \"\"" "$json")
		got=${cell[$((5 + k))]}
		[ -n "$got" ] && got=$(jq -n "$got") # the JSON's spelling: 401050.000 is 401050
		if [ "$want" != "$got" ]; then
			not_ok "$name: ${COLS[$k]}" "expected '$want', got '$got'"
			fails=$((fails + 1))
		fi
	done
	want=$(jq -r ".migrations[$m].verdict.code" "$json")
	[ "${cell[$VERDICT]}" = "$want" ] || { not_ok "$name: verdict" "expected $want, got ${cell[$VERDICT]}"; fails=$((fails + 1)); }
	[ $fails -eq 0 ] && ok "$name: row = analyze json (${#COLS[@]} values and the verdict)"
}

# Synthetic: three runs of "baseline", two of "vlan", from report JSONs.
args() { sed -n 's/^args //p' "$SYN/$1.truth"; }
for run in baseline-r1 baseline-r2 baseline-r3 vlan-1 vlan-2; do
	mkdir -p "$T/runs/$run"
	# shellcheck disable=SC2046
	(cd "$SYN" && "$MIGSCOPE" analyze $(args "${run%-*}") >"$T/runs/$run/report.json")
done
"$MIGSCOPE" series -f csv "$T"/runs/baseline-r{1,2,3} "$T/runs/vlan-1/report.json" \
	"$T/runs/vlan-2" >"$T/syn.csv" 2>"$T/err"
expect_eq "synthetic: exit 0" 0 $?
expect_eq "synthetic: header" \
	"row,setting,run,migration,runs,$(IFS=,; echo "${COLS[*]}"),verdict" "$(head -1 "$T/syn.csv")"
expect_eq "synthetic: 5 run rows" 5 "$(grep -c '^run,' "$T/syn.csv")"
expect_eq "synthetic: settings from the directory names" "baseline baseline baseline vlan vlan" \
	"$(grep '^run,' "$T/syn.csv" | cut -d, -f2 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "synthetic: runs named after their directories" \
	"baseline-r1 baseline-r2 baseline-r3 vlan-1 vlan-2" \
	"$(grep '^run,' "$T/syn.csv" | cut -d, -f3 | tr '\n' ' ' | sed 's/ $//')"
row_matches "synthetic baseline-r1" "$(grep '^run,baseline,baseline-r1,' "$T/syn.csv")" \
	"$T/runs/baseline-r1/report.json" 0
row_matches "synthetic vlan-2" "$(grep '^run,vlan,vlan-2,' "$T/syn.csv")" "$T/runs/vlan-2/report.json" 0
# identical runs: every statistic is the run's value
for stat in mean median p95; do
	expect_eq "synthetic: $stat of identical runs = the run" \
		"$(grep '^run,baseline,baseline-r1,' "$T/syn.csv" | cut -d, -f6-$LAST)" \
		"$(grep "^$stat,baseline,,1,3," "$T/syn.csv" | cut -d, -f6-$LAST)"
done
expect_eq "synthetic: verdict counts" "ok=3" "$(grep '^mean,baseline,' "$T/syn.csv" | cut -d, -f$((VERDICT + 1)))"

# Different runs under one label: mean, lower median and p95 (nearest rank).
mkdir -p "$T/runs/lost-r1"
# shellcheck disable=SC2046
(cd "$SYN" && "$MIGSCOPE" analyze $(args lost-announce) >"$T/runs/lost-r1/report.json")
"$MIGSCOPE" series -f csv --setting mixed "$T/runs/baseline-r1" "$T/runs/vlan-1" "$T/runs/lost-r1" \
	>"$T/mixed.csv" 2>/dev/null
for k in 3 5 6; do # out bytes, retransmits, lost probes
	col=$((6 + k))
	vals=$(grep '^run,' "$T/mixed.csv" | cut -d, -f$col | sort -n)
	want_mean=$(awk '{s += $1} END {printf "%d", (s / NR) + 0.5}' <<<"$vals")
	want_median=$(sed -n 2p <<<"$vals")  # nearest rank of 3: the 2nd
	want_p95=$(sed -n 3p <<<"$vals")     # ceil(0.95 * 3) = 3rd
	expect_eq "mixed: mean of ${COLS[$k]}" "$want_mean" "$(grep '^mean,mixed,' "$T/mixed.csv" | cut -d, -f$col)"
	expect_eq "mixed: median of ${COLS[$k]}" "$want_median" "$(grep '^median,mixed,' "$T/mixed.csv" | cut -d, -f$col)"
	expect_eq "mixed: p95 of ${COLS[$k]}" "$want_p95" "$(grep '^p95,mixed,' "$T/mixed.csv" | cut -d, -f$col)"
done
vals=$(grep '^run,' "$T/mixed.csv" | cut -d, -f7 | sort -n) # downtime_us
expect_eq "mixed: median downtime is a run's own value" "$(sed -n 2p <<<"$vals")" \
	"$(grep '^median,mixed,' "$T/mixed.csv" | cut -d, -f7)"

# The text table holds the same rows and groups.
"$MIGSCOPE" series "$T"/runs/baseline-r{1,2,3} "$T/runs/vlan-1" >"$T/syn.txt" 2>&1
expect_eq "text: a line per run" 4 "$(grep -cE '^(baseline|vlan) +(baseline|vlan)-' "$T/syn.txt")"
expect_eq "text: mean, median, p95 per group" 6 "$(grep -cE '  (mean|median|p95)  ' "$T/syn.txt")"
grep -q 'nearest' "$T/syn.txt" && ok "text: says how percentiles are taken" || not_ok "text: says how percentiles are taken"

# Lab run directories, analyzed in process: rows = analyze of the same captures.
lab_dirs=()
for dir in "$LAB"/*/; do
	[ -f "$dir/scenario.json" ] && lab_dirs+=("${dir%/}")
done
echo "# ${#lab_dirs[@]} lab fixture(s)"
if [ ${#lab_dirs[@]} -gt 0 ]; then
	first=${lab_dirs[0]}
	"$MIGSCOPE" series -f csv "$first" "$first" "$first" "${lab_dirs[@]:1}" >"$T/lab.csv" 2>"$T/err"
	expect_eq "lab: exit 0" 0 $?
	for dir in "${lab_dirs[@]}"; do
		s=$dir/scenario.json
		setting=$(jq -r '[.scenario] + .args + .options | join(" ")' "$s")
		v() { jq -r ".vantages.$1" "$s"; }
		from=$(jq -r '.migrations[0].from' "$s") to=$(jq -r '.migrations[0].to' "$s")
		# series names a one-guest run's guest as its scenario.json does (a
		# guest that ignores ping is otherwise known only from its RARPs)
		guest=()
		jq -e '(.guests | length) <= 1' "$s" >/dev/null &&
			guest=(--guest "$(jq -r '.guest.mac + (if .guest.ipv4 then "," + .guest.ipv4 else "" end)' "$s")")
		"$MIGSCOPE" analyze -f json "${guest[@]}" "src=$dir/$(v "$from")" "dst=$dir/$(v "$to")" \
			"ctl=$dir/$(v ctl)" >"$T/one.json" 2>/dev/null
		nm=$(jq '.migrations | length' "$T/one.json")
		for ((m = 0; m < nm; m++)); do
			line=$(grep "^run,$setting,$(basename "$dir"),$((m + 1))," "$T/lab.csv" | head -1)
			if [ -z "$line" ]; then
				not_ok "lab $(basename "$dir") migration $((m + 1)): row present" "setting '$setting'"
				continue
			fi
			row_matches "lab $(basename "$dir") migration $((m + 1))" "$line" "$T/one.json" "$m"
		done
	done
	setting=$(jq -r '[.scenario] + .args + .options | join(" ")' "$first/scenario.json")
	expect_eq "lab: the repeated run makes a group of 3" 3 \
		"$(grep "^mean,$setting,,1," "$T/lab.csv" | cut -d, -f5)"
	expect_eq "lab: its p95 is the run's value" \
		"$(grep "^run,$setting,$(basename "$first"),1," "$T/lab.csv" | head -1 | cut -d, -f6-$LAST)" \
		"$(grep "^p95,$setting,,1," "$T/lab.csv" | cut -d, -f6-$LAST)"
else
	not_ok "lab fixtures present in $LAB (make fixtures)"
fi

# Bad input: one line on stderr, exit 2, no sanitizer report.
run() {
	local name=$1 rc; shift
	timeout 60 "$BUILD/migscope-asan" series "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc != 2 ]; then
		not_ok "$name: exit 2" "exit $rc: $(head -3 "$T/err")"
	elif [ "$(wc -l <"$T/err")" != 1 ]; then
		not_ok "$name: one line on stderr" "$(cat "$T/err")"
	else
		ok "$name"
	fi
}
echo '{"schema": "migscope.report.v1", "migrations": [' >"$T/cut.json"
head -c 3000 /dev/urandom >"$T/random.json"
echo '{"schema": "something.else"}' >"$T/other.json"
mkdir -p "$T/empty" "$T/badlab"
echo '{"scenario": "baseline", "vantages": {"cn1": "cn1.pcap", "cn2": "cn2.pcap"}}' >"$T/badlab/scenario.json"
run "no run"
run "unknown format" -f xml "$T/runs/baseline-r1"
run "missing run" "$T/nope"
run "cut JSON" "$T/cut.json"
run "random bytes" "$T/random.json"
run "not a report" "$T/other.json"
run "empty directory" "$T/empty"
run "lab directory without its captures" "$T/badlab"
grep -q 'cn1.pcap' "$T/err" && ok "the missing capture is named" || not_ok "the missing capture is named" "$(cat "$T/err")"
timeout 20 "$BUILD/migscope-asan" series --help >"$T/out" 2>&1
expect_eq "series --help exits 0" 0 $?
grep -q -- '--setting' "$T/out" && ok "help documents --setting" || not_ok "help documents --setting"
