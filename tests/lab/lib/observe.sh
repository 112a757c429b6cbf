# Sourced by tests/lab/run.sh: what watches a run (captures, probes).
# shellcheck shell=bash

# tcpdump on each NIC eth0; waits for "listening on" so no early frame is
# missed. -Z root: Debian's tcpdump drops to user tcpdump, who may not write
# in OUTDIR. -s 128 keeps headers (with two VLAN tags or a VXLAN header in
# front) and cuts the migration payload.
start_captures() {
	STEP=start-captures
	local name
	for name in cn1 cn2 ctl; do
		bg "tcpdump-$name" "$P-$name" /dev/null "$OUT/tcpdump-$name.stderr" \
			tcpdump -i eth0 -s "$SNAPLEN" --time-stamp-precision=nano --immediate-mode -Z root -n -w "$OUT/$name.pcap"
	done
	start_agents
	for name in cn1 cn2 ctl; do
		wait_for 5 grep -q 'listening on' "$OUT/tcpdump-$name.stderr" ||
			die "tcpdump on $name did not start: $(cat "$OUT/tcpdump-$name.stderr")"
	done
	for name in "${AGENTS[@]}"; do
		wait_for 10 grep -q 'attached' "$OUT/agent-$name.stderr" ||
			die "migscope capture on $name did not start: $(cat "$OUT/agent-$name.stderr")"
	done
}

# The project's capture agent beside tcpdump on each compute NIC (issue 4):
# OUTDIR/cn1.msc.pcapng, cn2.msc.pcapng. MSL_MIGSCOPE names the binary
# (relative to the repository root unless absolute; default build/migscope);
# MSL_AGENT=0 runs without it.
AGENTS=()
start_agents() {
	local bin=${MSL_MIGSCOPE:-build/migscope} name
	rm -f "$OUT"/cn1.msc.pcapng "$OUT"/cn2.msc.pcapng "$OUT"/agent-*.stderr
	[ "${MSL_AGENT:-1}" = 0 ] && return 0
	case $bin in /*) ;; *) bin=$REPO/$bin ;; esac
	[ -x "$bin" ] || die "the capture agent is not at $bin (make, set MSL_MIGSCOPE, or MSL_AGENT=0)"
	# a migration port off the agent's default list (--port) is added to it
	local ports=()
	[ "$MIG_PORT" -ge 49152 ] && [ "$MIG_PORT" -le 49215 ] || ports=(--ports "49152-49215,16509,16514,$MIG_PORT")
	for name in cn1 cn2; do
		bg "agent-$name" "$P-$name" /dev/null "$OUT/agent-$name.stderr" \
			"$bin" capture -i eth0 --node "$name" "${ports[@]}" -w "$OUT/$name.msc.pcapng"
		AGENTS+=("$name")
	done
}

# evacuate: a ping per guest beside guest 0's (ping-K.log), as a prober of
# many guests runs them (fping -l, several pings)
EVAC_PINGS=()
start_evacuation_pings() {
	local k
	for ((k = 1; k < EVAC_GUESTS; k++)); do
		bg "ping-$k" "$NS_CTL" "$OUT/ping-$k.log" "$OUT/ping-$k.stderr" ping -D -i "$INTERVAL" "198.18.0.$((100 + k))"
		EVAC_PINGS+=("ping-$k")
	done
}

# ping -D from ctl every $INTERVAL s (and ping -6 for an IPv6 guest).
start_pings() {
	STEP=start-ping
	bg ping "$NS_CTL" "$OUT/ping.log" "$OUT/ping.stderr" ping -D -i "$INTERVAL" "$GUEST_IP"
	if [ -n "$GUEST_IP6" ]; then
		bg ping6 "$NS_CTL" "$OUT/ping6.log" "$OUT/ping6.stderr" ping -6 -D -i "$INTERVAL" "$GUEST_IP6"
	fi
	if [ "$HTTP" = 1 ]; then
		# the client's own account, sharing no code with migscope
		bg http "$NS_CTL" "$OUT/http.log" "$OUT/http.stderr" sh -c \
			'while :; do s=$(date +%s%N); if curl -fso /dev/null -m 10 "http://$1/"; then r=ok; else r=fail; fi; echo "$s $(date +%s%N) $r"; sleep 0.01; done' \
			http "$GUEST_IP"
		bg echo "$NS_CTL" /dev/null "$OUT/echo.stderr" sh -c \
			'while :; do echo "line $(date +%s%N)"; sleep 0.01; done | busybox nc "$1" 7' echo "$GUEST_IP"
	fi
	if [ "$ARP" = 1 ]; then
		# iputils arping: a request a second (its -i takes whole seconds),
		# broadcast until the first reply, then unicast to the guest's MAC
		bg arping "$NS_CTL" "$OUT/arping.log" "$OUT/arping.stderr" arping -I eth0 "$GUEST_IP"
	fi
	sleep 0.2
	kill -0 "${PID_OF[ping]}" 2>/dev/null || die "ping did not start: $(cat "$OUT/ping.stderr")"
}

stop_observers() {
	STEP=stop-observers
	PING_STOPPED_US=$(now_us)
	stop_roles ping ping6 "${EVAC_PINGS[@]}"
	[ "$HTTP" = 1 ] && stop_roles http echo
	[ "$ARP" = 1 ] && stop_roles arping
	# tcpdump drops what is still in its buffer when signalled: let the last
	# replies reach the files before stopping it (they were 8 % of ctl's
	# frames when both stopped at once)
	sleep 0.5
	stop_roles tcpdump-cn1 tcpdump-cn2 tcpdump-ctl
	STOP_SIG=TERM stop_roles agent-cn1 agent-cn2
	# ping's own summary goes to stdout (the log); its errors beside it
	cat "$OUT/ping.stderr" >>"$OUT/ping.log" 2>/dev/null
	[ -f "$OUT/ping6.stderr" ] && cat "$OUT/ping6.stderr" >>"$OUT/ping6.log"
	rm -f "$OUT/ping.stderr" "$OUT/ping6.stderr"
	local k
	for ((k = 1; k < EVAC_GUESTS; k++)); do
		cat "$OUT/ping-$k.stderr" >>"$OUT/ping-$k.log" 2>/dev/null
		rm -f "$OUT/ping-$k.stderr"
	done
}

# ping_figures LOG END_US: the log's own figures as JSON: transmitted and
# received (ping's summary), reply count, the largest gap between consecutive
# replies (µs, and the two replies around it), the replies after END_US
# (the last migration's end) with the first of them, and the time from the
# last reply until the lab stopped ping (a guest that never answers again
# shows it there, not in the largest gap).
ping_figures() {
	[ -s "$1" ] || { echo null; return; }
	awk -v end="$2" -v stop="${PING_STOPPED_US:-}" '
	function us(t) { sub(/\./, "", t); return t + 0 }
	/bytes from/ {
		t = us(substr($1, 2, length($1) - 2))
		n++
		if (n == 1) first = t
		if (n > 1 && t - prev > gap) { gap = t - prev; from = prev; to = t }
		if (end != "" && t > end) { after++; if (after == 1) first_after = t }
		prev = t
	}
	/packets transmitted/ { tx = $1; rx = $4 }
	END {
		printf "{\"transmitted\":%s,\"received\":%s,\"replies\":%d,", tx == "" ? "null" : tx, rx == "" ? "null" : rx, n
		printf "\"first_reply_us\":%s,\"last_reply_us\":%s,", n ? sprintf("%.0f", first) : "null", n ? sprintf("%.0f", prev) : "null"
		if (n > 1) printf "\"largest_gap_us\":%.0f,\"largest_gap_from_us\":%.0f,\"largest_gap_to_us\":%.0f,", gap, from, to
		else printf "\"largest_gap_us\":null,\"largest_gap_from_us\":null,\"largest_gap_to_us\":null,"
		printf "\"end_of_last_migration_us\":%s,\"replies_after_last_migration\":%d,\"first_reply_after_us\":%s,",
			end == "" ? "null" : end, after, after ? sprintf("%.0f", first_after) : "null"
		printf "\"stopped_us\":%s,\"unanswered_until_stop_us\":%s}\n", stop == "" ? "null" : stop,
			(stop != "" && n) ? sprintf("%.0f", stop - prev) : "null"
	}' "$1"
}

# ping_window LOG START_US END_US [NEXT_US]: the log's figures around one
# migration: the largest gap between consecutive replies with the later one
# after START_US (and before NEXT_US, the next migration's start), and the
# replies after END_US (the migration's end) before NEXT_US.
ping_window() {
	[ -s "$1" ] || { echo null; return; }
	awk -v start="$2" -v end="$3" -v next_="${4:-}" '
	function us(t) { sub(/\./, "", t); return t + 0 }
	/bytes from/ {
		t = us(substr($1, 2, length($1) - 2))
		if (next_ != "" && t >= next_ + 0) exit
		if (n++ && t > start + 0 && t - prev > gap) { gap = t - prev; from = prev; to = t }
		if (t > end + 0) { after++; if (after == 1) first_after = t }
		prev = t
	}
	END {
		if (gap > 0) printf "{\"largest_gap_us\":%.0f,\"largest_gap_from_us\":%.0f,\"largest_gap_to_us\":%.0f,", gap, from, to
		else printf "{\"largest_gap_us\":null,\"largest_gap_from_us\":null,\"largest_gap_to_us\":null,"
		printf "\"replies_after\":%d,\"first_reply_after_us\":%s}\n", after, after ? sprintf("%.0f", first_after) : "null"
	}' "$1"
}
