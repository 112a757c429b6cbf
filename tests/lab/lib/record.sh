# Sourced by tests/lab/run.sh: OUTDIR/scenario.json and the run's summary.
# shellcheck shell=bash

# The end of the last migration on the lab's time line (µs): QEMU's own stamp
# of the source's final MIGRATION event (completed or cancelled), else when
# the lab saw it.
last_migration_end_us() {
	local n=${#MIG_RECORDS[@]}
	[ "$n" -gt 0 ] || return 0
	jq -r .end_us <<<"${MIG_RECORDS[$((n - 1))]}"
}

write_scenario_json() {
	STEP=scenario-json
	local i end ping ping6 migs faults args opts
	local m mend next p4 p6 plog guests
	MIG_RECORDS=()
	for ((i = 0; i < ${#MIGRATIONS[@]}; i++)); do
		m=$(jq -c --argjson ev "$(migration_events $((i + 1)))" '. + {qemu_events: $ev}' <<<"${MIGRATIONS[$i]}")
		mend=$(jq -r '(.qemu_events.source_status_us // {}) as $s
			| ($s.completed // $s.cancelled // $s.failed // .lab_seen_end_us)' <<<"$m")
		next=""
		[ $((i + 1)) -lt ${#MIGRATIONS[@]} ] && next=$(jq -r .lab_started_us <<<"${MIGRATIONS[$((i + 1))]}")
		# an evacuation's guest has its own ping (and runs beside the others:
		# the next migration bounds nothing)
		plog=$(jq -r '.guest.ping_log // "ping.log"' <<<"$m")
		[ "$EVAC_GUESTS" -gt 1 ] && next=""
		p4=$(ping_window "$OUT/$plog" "$(jq -r .lab_started_us <<<"$m")" "$mend" "$next")
		p6=null
		[ -n "$GUEST_IP6" ] && p6=$(ping_window "$OUT/ping6.log" "$(jq -r .lab_started_us <<<"$m")" "$mend" "$next")
		MIG_RECORDS+=("$(jq -c --argjson e "$mend" --argjson p4 "$p4" --argjson p6 "$p6" \
			'. + {end_us: $e, ping: $p4, ping6: $p6}' <<<"$m")")
	done
	end=$(last_migration_end_us)
	ping=$(ping_figures "$OUT/ping.log" "$end")
	ping6=null
	[ -n "$GUEST_IP6" ] && ping6=$(ping_figures "$OUT/ping6.log" "$end")
	migs=$(printf '%s\n' "${MIG_RECORDS[@]}" | jq -sc .)
	guests=$(jq -c '[.[] | .guest // empty]' <<<"$migs")
	# msl-fault's lines go in verbatim (after jq): jq 1.6 would round their
	# nanosecond stamps to doubles
	faults='"@FAULTS@"'
	args=$(printf '%s\n' "${SARGS[@]}" | jq -Rsc 'split("\n") | map(select(. != ""))')
	opts=$(printf '%s\n' "${OPTS[@]}" | jq -Rsc 'split("\n") | map(select(. != ""))')
	# when the lab acted during the run (a scenario's NAME.us: early-cutover,
	# learning-off, starve-from, starve-to), wall clock in us
	marks=$(for f in "$OUT"/*.us; do
		[ -e "$f" ] && printf '%s %s\n' "$(basename "$f" .us)" "$(cat "$f")"
	done | jq -Rsc 'split("\n") | map(select(. != "") | split(" ") | {key: .[0], value: (.[1] | tonumber)}) | from_entries')
	jq -n --arg scen "$SCENARIO" --argjson args "$args" --argjson opts "$opts" \
		--arg net "$NET" --argjson mtu "$MTU" --argjson interval "$INTERVAL" \
		--argjson before "$BEFORE" --argjson after "$AFTER" --argjson snaplen "$SNAPLEN" \
		--arg mac "$GUEST_MAC" --arg ip4 "$GUEST_IP" --arg ip6 "$GUEST_IP6" \
		--arg kver "$KVER" --arg cmdline "$(guest_cmdline)" \
		--arg cn1 "${HOST_IP[cn1]}" --arg cn2 "${HOST_IP[cn2]}" \
		--arg ctl "$CTL_IP" --arg ctl6 "$CTL_IP6" --arg ctlu "$CTL_UNDERLAY" \
		--argjson port "$MIG_PORT" --argjson ac "$AUTO_CONVERGE" --argjson xb "$XBZRLE" \
		--arg pc "$POSTCOPY_AFTER" --arg pbw "$POSTCOPY_BW" --argjson mf "$MULTIFD" --argjson tls "$TLS" \
		--arg params "${MIG_PARAMS:-}" --arg dparams "${DST_PARAMS:-}" \
		--argjson timeout "$MIG_TIMEOUT_SET" --argjson cancel "$CANCEL_ON_TIMEOUT" \
		--arg dirty "$DIRTY_MBPS" --argjson wss "$DIRTY_WSS" \
		--argjson migs "$migs" --argjson faults "$faults" --argjson guests "$guests" \
		--argjson ping "$ping" --argjson ping6 "$ping6" --argjson marks "$marks" \
		--argjson reach "$EXPECT_REACHABLE" --arg estatus "$EXPECT_STATUS" --arg notes "$NOTES" \
		--argjson started "$STARTED_US" --argjson dur "$SECONDS" '
	{schema: "migscope.lab-scenario.v1", scenario: $scen, args: $args, options: $opts,
	 started_us: $started, duration_s: $dur,
	 net: $net, mtu: $mtu, snaplen: $snaplen, probe_interval_s: $interval,
	 observe_s: {before: $before, after: $after},
	 guest: {mac: $mac, ipv4: $ip4, ipv6: (if $ip6 == "" then null else $ip6 end),
	         kernel: $kver, cmdline: $cmdline,
	         dirty_mbps: (if $dirty == "" then null else ($dirty | tonumber) end),
	         dirty_wss_mb: (if $dirty == "" then null else $wss end)},
	 guests: (if ($guests | length) > 0 then $guests else null end),
	 hosts: {cn1: $cn1, cn2: $cn2},
	 controller: {ipv4: $ctl, ipv6: (if $ctl6 == "" then null else $ctl6 end),
	              underlay: (if $ctlu == "" then null else $ctlu end)},
	 vantages: {cn1: "cn1.pcap", cn2: "cn2.pcap", ctl: "ctl.pcap"},
	 migration_setup: {port: $port,
	                   capabilities: ({events: true, "auto-converge": ($ac == 1), xbzrle: ($xb == 1)}
	                                  + {"postcopy-ram": ($pc != ""), multifd: ($mf > 0)}),
	                   destination_capabilities: (if $pc != "" then {"postcopy-blocktime": true} else {} end),
	                   postcopy: (if $pc == "" then null
	                              else {start_after_s: ($pc | tonumber), max_postcopy_bandwidth_mbps: ($pbw | tonumber)} end),
	                   multifd_channels: $mf, tls: ($tls == 1),
	                   parameters: (if $params == "" then {} else ($params | fromjson) end),
	                   destination_parameters: (if $dparams == "" then {} else ($dparams | fromjson) end),
	                   timeout_s: $timeout, cancel_on_timeout: ($cancel == 1)},
	 migrations: $migs,
	 faults: $faults,
	 expect: {reachable_after: $reach, migration_status: $estatus},
	 lab_marks: $marks,
	 ping: $ping, ping6: $ping6,
	 notes: $notes}' >"$OUT/scenario.json.tmp" || die "cannot build scenario.json"
	local list=""
	for i in "${FAULTS[@]}"; do list=${list:+$list,}$i; done
	awk -v list="[$list]" '{ i = index($0, "\"@FAULTS@\""); if (i) $0 = substr($0, 1, i - 1) list substr($0, i + 10); print }' \
		"$OUT/scenario.json.tmp" >"$OUT/scenario.json.tmp2"
	jq -e . "$OUT/scenario.json.tmp2" >/dev/null || die "scenario.json is not valid JSON"
	mv "$OUT/scenario.json.tmp2" "$OUT/scenario.json"
	rm -f "$OUT/scenario.json.tmp"
}

summary() {
	STEP=summary
	local s=$OUT/scenario.json f
	echo "== lab run $SCENARIO${SARGS[*]:+ ${SARGS[*]}}: $OUT (${SECONDS}s in all)"
	jq -r '.migrations[] | .query_migrate as $q
		| "qemu: \(.from) -> \(.to): status \($q.status), total-time \($q["total-time"] // "-") ms, downtime \($q.downtime // "-") ms, setup-time \($q["setup-time"] // "-") ms, ram transferred \($q.ram.transferred // "-") bytes (\($q.ram.duplicate // "-") zero pages, \($q.ram.normal // "-") normal, \($q.ram["dirty-sync-count"] // "-") passes)"' "$s"
	jq -r '.migrations[] | select(.qemu_events.source_status_history != null)
		| .query_migrate_destination as $d
		| "qemu: \(.from) -> \(.to) port \(.port): status history \([.qemu_events.source_status_history[].status] | join(" -> "))\(
			if .query_migrate.ram["postcopy-requests"] then ", postcopy-requests \(.query_migrate.ram["postcopy-requests"])" else "" end)\(
			if $d["postcopy-blocktime"] != null then ", destination postcopy-blocktime \($d["postcopy-blocktime"]) ms (per vCPU \($d["postcopy-vcpu-blocktime"]))" else "" end)"' "$s"
	for f in cn1 cn2 ctl; do
		printf 'capture %s.pcap: %s bytes\n' "$f" "$(stat -c %s "$OUT/$f.pcap")"
	done
	jq -r '.ping | if . == null then "ping: no log" else
		"ping: largest gap between replies \(if .largest_gap_us then "\(.largest_gap_us / 1000) ms (after the reply at \(.largest_gap_from_us / 1e6))" else "-" end), \(.replies) replies, \(.replies_after_last_migration) after the migration ended; \(.transmitted) transmitted, \(.received) received" end' "$s"
	jq -r '.ping6 | if . == null then empty else
		"ping -6: largest gap \(if .largest_gap_us then "\(.largest_gap_us / 1000) ms" else "-" end), \(.replies) replies, \(.replies_after_last_migration) after the migration ended; \(.transmitted) transmitted, \(.received) received" end' "$s"
	jq -r '.faults[] | "fault: \(.iface // "?") \(.dir // "?") \(.kind // "?") match \(.match // "?"): seen \(.seen // "?"), matched \(.matched // "?"), applied \(.applied // "?")"' "$s"
	jq -r '"expect: reachable_after \(.expect.reachable_after), migration \(.expect.migration_status); got: \(.ping.replies_after_last_migration > 0) / \([.migrations[].status] | join(","))"' "$s"
}
