#!/bin/bash
# QEMU's own account beside the network's (analyze --hypervisor; issue 12),
# on every committed lab fixture, against the files QEMU itself wrote there:
#   - query-migrate-N.json (the source's, migration N) followed by
#     query-migrate-N-destination.json where the lab kept it (the incoming
#     side: postcopy's blocktime lives only there): every figure in
#     hypervisor{} is the file's, in us, read here with jq alone; the
#     outage's hypervisor pause is QEMU's downtime; no file left over;
#   - a QMP event log per migration, written here from the QMP events the lab
#     recorded (truth.json qemu_events, QEMU's own stamps), given in reverse
#     order: the stamps pick each one's migration; stop, resume, the postcopy
#     switch and completion are QEMU's stamps; the hypervisor pause is RESUME
#     - STOP and the announce delay the network's resume - QEMU's RESUME;
#   - a postcopy guest that answered late: slow_guest cites the blocktime.
#
#   tests/e2e/hypervisor.sh BUILD [FIXTURES_DIR]
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$(realpath "$BUILD/migscope")
FIXTURES=$(realpath "${2:-fixtures/lab}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# QEMU's milliseconds as the report's microseconds, null where not given
ms_us() { jq -r "($1) as \$v | if \$v == null then null else \$v * 1000 end" "$2"; }

# the QMP event log of migration I of a run, one JSON object a line as QEMU's
# QMP socket writes them (the source's and the destination's in stamp order)
qmp_log() {
	jq -c --argjson i "$2" '.migrations[$i].qemu_events as $e |
		[($e.source_status_history // [])[] | {us, event: "MIGRATION", data: {status}}] +
		[($e.source_events // [])[], ($e.destination_events // [])[] | {us, event}] |
		sort_by(.us)[] |
		{timestamp: {seconds: (.us / 1e6 | floor), microseconds: (.us % 1000000)}, event} +
		(if .data then {data} else {} end)' "$1/truth.json"
}

for dir in "$FIXTURES"/*/; do
	name=$(basename "$dir")
	[ -f "$dir/query-migrate-1.json" ] || continue
	n=$(jq '.migrations | length' "$dir/truth.json")
	args=()
	for ((k = 1; k <= n; k++)); do
		args+=(-H "query-migrate-$k.json")
		[ -f "$dir/query-migrate-$k-destination.json" ] && args+=(-H "query-migrate-$k-destination.json")
	done
	# exit 0 or 1 (a finding): a report
	(cd "$dir" && "$MIGSCOPE" analyze -f json "${args[@]}" src=cn1.pcap.gz dst=cn2.pcap.gz ctl=ctl.pcap.gz \
		>"$T/r.json" 2>"$T/err")
	[ $? -le 1 ] || { not_ok "$name: analyze ${args[*]}" "$(head -c 400 "$T/err")"; continue; }
	expect_eq "$name: every -H file describes a migration (no warning)" "" \
		"$(jq -r '.warnings[] | select(test("no migration left"))' "$T/r.json")"
	for ((k = 1; k <= n; k++)); do
		q=$dir/query-migrate-$k.json dq=$dir/query-migrate-$k-destination.json m="$name m$k"
		h=".migrations[$((k - 1))].hypervisor"
		expect_eq "$m: hypervisor.status is QEMU's" "$(jq -r .status "$q")" "$(jq -r "$h.status" "$T/r.json")"
		for f in total-time:total_time_us downtime:downtime_us setup-time:setup_time_us; do
			expect_eq "$m: hypervisor.${f#*:} = query-migrate's ${f%:*} ms" \
				"$(ms_us ".\"${f%:*}\"" "$q")" "$(jq -r "$h.${f#*:}" "$T/r.json")"
		done
		expect_eq "$m: hypervisor.postcopy_requests = query-migrate's ram.postcopy-requests" \
			"$(jq -r '.ram."postcopy-requests" // null' "$q")" "$(jq -r "$h.postcopy_requests" "$T/r.json")"
		want=null
		[ -f "$dq" ] && want=$(ms_us '."postcopy-blocktime"' "$dq")
		expect_eq "$m: hypervisor.postcopy_blocktime_us = the destination's postcopy-blocktime ms" \
			"$want" "$(jq -r "$h.postcopy_blocktime_us" "$T/r.json")"
		expect_eq "$m: outage.pause_hypervisor_us = QEMU's downtime" \
			"$(ms_us .downtime "$q")" "$(jq -r ".migrations[$((k - 1))].outage.pause_hypervisor_us" "$T/r.json")"
		if [ "$want" != null ] && [ "$(jq -r ".migrations[$((k - 1))].verdict.code" "$T/r.json")" = slow_guest ]; then
			check "$m: slow_guest cites QEMU's blocktime" jq -e --argjson i $((k - 1)) \
				'.migrations[$i].verdict.evidence | any(test("postcopy-blocktime"))' "$T/r.json"
		fi
	done

	# the QMP event logs, the last migration's first
	[ "$(jq '[.migrations[] | .qemu_events.source_events // [] | length] | add' "$dir/truth.json")" -gt 0 ] || continue
	args=()
	for ((k = n; k >= 1; k--)); do
		qmp_log "$dir" $((k - 1)) >"$T/events-$k.log"
		args+=(-H "$T/events-$k.log")
	done
	(cd "$dir" && "$MIGSCOPE" analyze -f json "${args[@]}" src=cn1.pcap.gz dst=cn2.pcap.gz ctl=ctl.pcap.gz \
		>"$T/e.json" 2>"$T/err")
	[ $? -le 1 ] || { not_ok "$name: analyze with QMP event logs" "$(head -c 400 "$T/err")"; continue; }
	for ((k = 1; k <= n; k++)); do
		i=$((k - 1)) m="$name m$k (QMP events)"
		ev=".migrations[$i].qemu_events"
		stop=$(jq -r "$ev.source_stop_us // null" "$dir/truth.json")
		res=$(jq -r "$ev.destination_resume_us // null" "$dir/truth.json")
		expect_eq "$m: hypervisor.stop_ns is QEMU's STOP" "$stop" \
			"$(jq -r ".migrations[$i].hypervisor.stop_ns | if . == null then null else . / 1000 | floor end" "$T/e.json")"
		expect_eq "$m: hypervisor.resume_ns is QEMU's RESUME" "$res" \
			"$(jq -r ".migrations[$i].hypervisor.resume_ns | if . == null then null else . / 1000 | floor end" "$T/e.json")"
		expect_eq "$m: hypervisor.postcopy_start_ns is QEMU's postcopy-active" \
			"$(jq -r "$ev.source_status_us.\"postcopy-active\" // null" "$dir/truth.json")" \
			"$(jq -r ".migrations[$i].hypervisor.postcopy_start_ns | if . == null then null else . / 1000 | floor end" "$T/e.json")"
		expect_eq "$m: hypervisor.completed_ns is QEMU's completed" \
			"$(jq -r "$ev.source_status_us.completed // null" "$dir/truth.json")" \
			"$(jq -r ".migrations[$i].hypervisor.completed_ns | if . == null then null else . / 1000 | floor end" "$T/e.json")"
		if [ "$stop" != null ] && [ "$res" != null ]; then
			expect_eq "$m: outage.pause_hypervisor_us = RESUME - STOP" "$((res - stop))" \
				"$(jq -r ".migrations[$i].outage.pause_hypervisor_us | round" "$T/e.json")"
			check "$m: outage.announce_delay_us = the network's resume - QEMU's RESUME (1 us)" \
				jq -e --argjson i $i --argjson r "$res" \
				'.migrations[$i] | .outage.announce_delay_us != null and
				 ((.verdict.resume_ns / 1000 - $r) - .outage.announce_delay_us | fabs) <= 1' "$T/e.json"
		fi
	done
done
