#!/bin/bash
# migscope's report of one lab run against that run's independent truth
# (tests/lab/truth.sh), as TAP lines:
#
#   tests/lab/check.sh MIGSCOPE RUNDIR [NAME]
#
# RUNDIR holds the captures, scenario.json and truth.json (a live run, or a
# committed fixture under fixtures/lab/). The captures are given unlabelled
# but for the controller's, so the source/destination detection is tested too.
#
# What must hold, per migration (issue 3):
#   - the source and destination captures are the ones QEMU migrated between;
#   - out_bytes and in_bytes equal tshark's TCP payload sum at each NIC, and the
#     retransmitted segments tshark's retransmission + out-of-order flags at
#     the source NIC (see tests/e2e/tshark.sh for why both flags);
#   - the probe gap is within one probe interval of ping's largest gap between
#     replies and never below QEMU's own downtime figure;
#   - every RARP, GARP and NA, at every vantage, at the capture's nanosecond;
#   - reachable_after is what ping saw: a reply after the stream's end;
#   - migration time within max(50 ms, 5 %) of QEMU's total-time;
#   - a loss scenario shows retransmits.
set -u
. "$(dirname "$0")/../lib.sh"
MIGSCOPE=$(realpath "$1")
DIR=$(realpath "$2")
NAME=${3:-$(basename "$DIR")}
TRUTH=$DIR/truth.json
[ -s "$TRUTH" ] || { not_ok "$NAME: truth.json present"; exit 0; }

args=()
for node in $(jq -r '.vantages | keys[]' "$TRUTH"); do
	f=$(jq -r --arg n "$node" '.vantages[$n]' "$TRUTH")
	[ -f "$DIR/$f" ] || f=$f.gz
	[ -f "$DIR/$f" ] || continue
	if [ "$node" = ctl ]; then args+=("ctl=$f"); else args+=("$f"); fi
done
report=$(cd "$DIR" && "$MIGSCOPE" analyze --format json "${args[@]}" 2>/tmp/check-$$.err)
rc=$?
err=$(cat /tmp/check-$$.err); rm -f /tmp/check-$$.err
if ! jq -e .migrations >/dev/null 2>&1 <<<"$report"; then
	not_ok "$NAME: analyze ran" "exit $rc: $err"
	exit 0
fi
# findings: a diagnosed fault (even one that recovered) or a guest that never answered again
findings=$(jq '[.migrations[] | select((.verdict.code | IN("ok", "insufficient_data") | not) or .reachable_after == false)] | length' <<<"$report")
expect_eq "$NAME: exit status follows the verdicts" "$([ "$findings" -gt 0 ] && echo 1 || echo 0)" "$rc"

nmig=$(jq '.migrations | length' "$TRUTH")
expect_eq "$NAME: migrations found" "$nmig" "$(jq '.migrations | length' <<<"$report")"
scenario=$(jq -r .scenario "$TRUTH")

# jq over {"t": truth migration, "r": report migration, "truth": whole truth}
q() { jq -r --argjson i "$1" --slurpfile t "$TRUTH" "{t: \$t[0].migrations[\$i], r: .migrations[\$i], truth: \$t[0]} | $2" <<<"$report"; }

# ANNOUNCE KIND VANTAGE NODE: migscope's sightings at VANTAGE = the capture's
sightings() {
	local i=$1 kind=$2 vantage=$3 node=$4 got want
	got=$(q "$i" "[.r.announce.$kind[] | select(.vantage == \"$vantage\") | .ns] | sort | tostring")
	want=$(q "$i" "(.t.start_ns) as \$a | (.t.window_end_ns) as \$b
		| [.truth.captures[\"$node\"].${kind}_ns[]? | select(. >= \$a and (\$b == null or . < \$b))] | sort | tostring")
	expect_eq "$NAME m$i: $kind at $vantage ($node) $(jq length <<<"$want") sightings, same ns" "$want" "$got"
}

for ((i = 0; i < nmig; i++)); do
	from=$(q "$i" .t.from) to=$(q "$i" .t.to)
	m="$NAME m$i $from->$to"
	expect_eq "$m: source capture" "$(q "$i" '.truth.vantages[.t.from]')" "$(q "$i" '.r.vantage.src')"
	expect_eq "$m: destination capture" "$(q "$i" '.truth.vantages[.t.to]')" "$(q "$i" '.r.vantage.dst')"
	expect_eq "$m: out_bytes = tshark payload at $from" "$(q "$i" .t.at_source.bytes)" "$(q "$i" .r.stream.out_bytes)"
	expect_eq "$m: in_bytes = tshark payload at $to" "$(q "$i" .t.at_destination.bytes)" "$(q "$i" .r.stream.in_bytes)"
	expect_eq "$m: retransmitted segments = tshark at $from" \
		"$(q "$i" .t.at_source.retransmitted_segments)" "$(q "$i" .r.stream.retransmitted_segments)"
	case $scenario in
	loss | corrupt)
		check "$m: $scenario shows retransmits" test "$(q "$i" '.r.stream.retransmitted_segments // 0')" -gt 0 ;;
	esac
	if [ "$(q "$i" .t.status)" = completed ]; then
		check "$m: migration time within max(50 ms, 5 %) of QEMU total-time $(q "$i" '.t.qemu["total-time"]') ms ($(q "$i" '.r.stream.migration_time_us / 1000') ms)" \
			jq -e --argjson i "$i" --slurpfile t "$TRUTH" '
			($t[0].migrations[$i].qemu["total-time"] * 1000) as $q | .migrations[$i].stream.migration_time_us as $m
			| (($m - $q) | fabs) <= ([50000, $q * 0.05] | max)' <<<"$report"
	fi
	if [ "$(q "$i" '.t.ping.largest_gap != null')" = true ]; then
		gap=$(q "$i" .t.ping.largest_gap.gap_us)
		interval=$(q "$i" '[.t.ping.reply_spacing_us // 0, .truth.probe_interval_s * 1e6] | max')
		check "$m: probe gap $(q "$i" .r.downtime.probe_gap_us) us within one interval ($interval us) of ping's $gap us" \
			jq -e --argjson i "$i" --argjson g "$gap" --argjson iv "$interval" \
			'.migrations[$i].downtime.probe_gap_us as $p | $p != null and (($p - $g) | fabs) <= $iv' <<<"$report"
		if [ "$(q "$i" .t.qemu.downtime)" != null ]; then
			check "$m: probe gap not below QEMU downtime $(q "$i" .t.qemu.downtime) ms" \
				jq -e --argjson i "$i" --argjson d "$(q "$i" .t.qemu.downtime)" \
				'.migrations[$i].downtime.probe_gap_us >= $d * 1000' <<<"$report"
		fi
		expect_eq "$m: reachable_after = ping saw $(q "$i" .t.ping.replies_after) replies after the stream" \
			"$(q "$i" '.t.ping.replies_after > 0')" "$(q "$i" .r.reachable_after)"
	fi
	for kind in rarp garp na; do
		sightings "$i" "$kind" src "$from"
		sightings "$i" "$kind" dst "$to"
		jq -e '.vantages.ctl' "$TRUTH" >/dev/null && sightings "$i" "$kind" ctl ctl
	done
done
exit 0
