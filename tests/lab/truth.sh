#!/bin/bash
# The independent truth of one lab run, as JSON on stdout:
#
#   tests/lab/truth.sh RUNDIR [CAPTUREDIR] > RUNDIR/truth.json
#
# scenario.json and ping.log come from RUNDIR, the captures (NODE.pcap,
# NODE.pcap.gz or NODE.pcapng) from CAPTUREDIR, RUNDIR by default: a fixture's
# truth is computed from the lab's own uncut captures (tests/lab/fixtures.sh),
# so it shares nothing with msl-cut, which cuts them with the analyzer's
# classifier.
#
# Three witnesses, none of them migscope: QEMU's own query-migrate figures
# (from scenario.json), ping's log on the controller, and tshark's reading of
# each NIC capture (TCP payload bytes of the migration stream per direction,
# its first and last segment, tshark's retransmission/out-of-order flags, and
# the guest's RARP, gratuitous ARP and unsolicited NA frames with their
# nanosecond stamps). tests/lab/check.sh compares migscope's report with it.
#
# All lab namespaces share the machine's clock, so ping's -D stamps and the
# capture stamps are on one time line.
set -eu
DIR=${1:?usage: truth.sh RUNDIR [CAPTUREDIR]}
CAPS=$(realpath "${2:-$DIR}")
cd "$DIR"
SCEN=scenario.json
[ -s "$SCEN" ] || { echo "truth.sh: $DIR/scenario.json missing" >&2; exit 2; }
MAC=$(jq -r .guest.mac "$SCEN")
PORTS=${MSL_PORTS:-49152-49215}

capture_of() { # NODE -> its capture file in CAPTUREDIR (plain or gzip-compressed)
	local f
	for f in "$CAPS/$1.pcap" "$CAPS/$1.pcap.gz" "$CAPS/$1.pcapng"; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
}

# One tshark pass per capture. Stamps stay strings ("sec.nsec" with the dot
# removed): awk's doubles would round 19-digit nanoseconds. For encapsulated
# frames (VLAN, VXLAN) the last occurrence of a field is the inner frame's.
tshark_rows() { # FILE
	tshark -r "$1" -o tcp.analyze_sequence_numbers:TRUE -E occurrence=l -T fields \
		-e frame.time_epoch -e eth.src -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport \
		-e tcp.len -e tcp.flags.syn -e tcp.analysis.retransmission \
		-e tcp.analysis.out_of_order -e arp.opcode -e arp.src.proto_ipv4 \
		-e arp.dst.proto_ipv4 -e icmpv6.type -e icmpv6.nd.na.flag.s \
		-Y "tcp or arp or icmpv6.type==136" 2>/dev/null
}

# NODE FILE -> {"stream":{"A>B":{bytes,segments,retx,first_ns,last_ns}},"rarp_ns":[..],..}
capture_truth() {
	local lo=${PORTS%-*} hi=${PORTS#*-}
	tshark_rows "$2" | awk -F'\t' -v mac="$MAC" -v lo="$lo" -v hi="$hi" '
	function ns(t) { sub(/\./, "", t); sub(/^0+/, "", t); return t }
	function add(list, v) { return list == "" ? v : list "," v }
	{
		t = ns($1)
		if ($5 != "" && (($6 >= lo && $6 <= hi) || ($5 >= lo && $5 <= hi))) {
			# to the listening port = the migration direction (data)
			if ($6 >= lo && $6 <= hi) key = $3 ">" $4; else key = $4 ">" $3
			if (!(key in first)) { first[key] = t; bytes[key] = 0; segs[key] = 0; retx[key] = 0 }
			if ($6 >= lo && $6 <= hi && $7 > 0) {
				bytes[key] += $7; segs[key]++; last[key] = t
				if ($9 != "" || $10 != "") retx[key]++
			}
		}
		if (tolower($2) != mac) next
		if ($11 == 3 || $11 == 4) rarp = add(rarp, t)
		else if ($11 != "" && $12 == $13) garp = add(garp, t)
		else if ($14 == 136 && ($15 == "0" || $15 == "False")) na = add(na, t)
	}
	END {
		printf "{\"stream\":{"
		n = 0
		for (k in first) {
			printf "%s\"%s\":{\"bytes\":%.0f,\"segments\":%d,\"retransmitted_segments\":%d,\"first_ns\":%s,\"last_ns\":%s}",
				n++ ? "," : "", k, bytes[k], segs[k], retx[k], first[k], last[k] == "" ? "null" : last[k]
		}
		printf "},\"rarp_ns\":[%s],\"garp_ns\":[%s],\"na_ns\":[%s]}\n", rarp, garp, na
	}'
}

# ping -D: "[sec.usec] 64 bytes from ...". Replies as microsecond stamps.
ping_truth() { # LOG
	awk '
	/bytes from/ { t = substr($1, 2, length($1) - 2); sub(/\./, "", t); r[n++] = t }
	/packets transmitted/ { tx = $1; rx = $4 }
	END {
		printf "{\"transmitted\":%s,\"received\":%s,\"reply_us\":[", tx == "" ? "null" : tx, rx == "" ? "null" : rx
		for (i = 0; i < n; i++) printf "%s%s", i ? "," : "", r[i]
		printf "]}\n"
	}' "$1"
}

captures="{}"
for node in $(jq -r '.vantages | keys[]' "$SCEN"); do
	f=$(capture_of "$node")
	[ -n "$f" ] || continue
	captures=$(jq -c --arg n "$node" --argjson t "$(capture_truth "$node" "$f")" '. + {($n): $t}' <<<"$captures")
done
ping='null'
[ -s ping.log ] && ping=$(ping_truth ping.log)

# Per migration: the stream as seen at its source NIC, the ping log's gaps
# between replies (the largest in the migration's window, and the one across
# the stream's last segment: the switchover), and whether any reply came
# after the stream. Under TCG the guest answers late during precopy as well
# (80-140 ms replies while QEMU copies memory), so the largest gap is not
# always the switchover's.
jq -n --slurpfile s "$SCEN" --argjson cap "$captures" --argjson ping "$ping" '
	$s[0] as $s
	| ($s.guest) as $g
	| [ $s.migrations[] as $m
	    | ($s.hosts[$m.from] + ">" + $s.hosts[$m.to]) as $dir
	    | {from: $m.from, to: $m.to, status: $m.status,
	       qemu: ($m.query_migrate | {"total-time", downtime, "setup-time", status,
	              transferred: .ram.transferred}),
	       qemu_events: $m.qemu_events,
	       stream_key: $dir,
	       at_source: $cap[$m.from].stream[$dir],
	       at_destination: $cap[$m.to].stream[$dir]} ] as $migs
	| [ range(0; $migs | length) as $i
	    | $migs[$i]
	    | (.at_source.first_ns // .at_destination.first_ns) as $start
	    | (.at_source.last_ns // .at_destination.last_ns) as $fin
	    | (if $i + 1 < ($migs | length)
	       then ($migs[$i + 1] | (.at_source.first_ns // .at_destination.first_ns))
	       else null end) as $next
	    | . + {start_ns: $start, end_ns: $fin, window_end_ns: $next}
	    | if $ping == null then . else
	      ([$ping.reply_us[] | . * 1000]) as $r
	      | ([range(1; $r | length) | select($r[.] >= $start and $r[. - 1] <= $fin + 1e9
	                                          and ($next == null or $r[. - 1] < $next))
	          | {gap_us: (($r[.] - $r[. - 1]) / 1000), from_ns: $r[. - 1], to_ns: $r[.]}]
	         | max_by(.gap_us)) as $gap
	      | ([range(1; $r | length) | select($r[.] < $start and $r[.] > $start - 3e9)
	          | ($r[.] - $r[. - 1]) / 1000] | sort | if length > 0 then .[length / 2 | floor] else null end) as $spacing
	      | ([range(1; $r | length) | select($r[. - 1] <= $fin and $r[.] > $fin)
	          | {gap_us: (($r[.] - $r[. - 1]) / 1000), from_ns: $r[. - 1], to_ns: $r[.]}]
	         | first) as $switchover
	      | . + {ping: {largest_gap: $gap, switchover_gap: $switchover, reply_spacing_us: $spacing,
	                    replies_after: ([$r[] | select(. > $fin and ($next == null or . < $next))] | length)}}
	      end ]
	| {schema: "migscope.lab-truth.v1", scenario: $s.scenario, args: $s.args,
	   guest: $g, probe_interval_s: $s.probe_interval_s, vantages: $s.vantages,
	   ping: (if $ping == null then null else $ping | del(.reply_us) end),
	   captures: $cap, migrations: .}'
