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
#
# Runs recorded by the lab since its migration modes (scenario.json's
# migration_setup has multifd_channels) get more, per migration: the mode
# QEMU ran (precopy or postcopy, from its status history), multifd channels,
# TLS and the port; QEMU's own figures (query-migrate on both ends: the
# source's postcopy-requests, the destination's postcopy-blocktime); every TCP
# connection of the migration as tshark reads it at each NIC (the port learnt
# from scenario.json, not assumed); the resume (the first RARP leaving the
# destination NIC, beside QEMU's RESUME) and, for postcopy, what the source
# sent after it and the return path's messages (the page requests, read from
# the plaintext); ping's gap around QEMU's RESUME and the run's longest gap.
# Earlier runs' truth (the committed fixtures of before) is unchanged.
set -eu
DIR=${1:?usage: truth.sh RUNDIR [CAPTUREDIR]}
CAPS=$(realpath "${2:-$DIR}")
cd "$DIR"
SCEN=scenario.json
[ -s "$SCEN" ] || { echo "truth.sh: $DIR/scenario.json missing" >&2; exit 2; }
MAC=$(jq -r .guest.mac "$SCEN")
MODES=$(jq -r '.migration_setup | has("multifd_channels")' "$SCEN")
if [ "$MODES" = true ]; then
	# the migration's own port (a run may use one outside libvirt's range)
	PORT=$(jq -r '[.migrations[].port // empty, .migration_setup.port] | first' "$SCEN")
	PORTS=${MSL_PORTS:-$PORT-$PORT}
else
	PORTS=${MSL_PORTS:-49152-49215}
fi

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

# --- the migration modes' truth (MODES=true) --------------------------------

# tshark's rows for the connections of a migration: TCP on the port, SYNs,
# payload (hex, as captured: the first bytes of each connection and the
# return path's messages survive msl-cut), and the guest's RARPs.
conn_rows() { # FILE
	tshark -r "$1" -o tcp.analyze_sequence_numbers:TRUE -E occurrence=l -T fields \
		-e frame.time_epoch -e eth.src -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport \
		-e tcp.len -e tcp.flags.syn -e tcp.flags.ack -e tcp.analysis.retransmission \
		-e tcp.analysis.out_of_order -e arp.opcode -e tcp.payload \
		-Y "tcp.port == $PORT or arp.opcode == 3 or arp.opcode == 4" 2>/dev/null
}

# The first RARP of the guest in a capture within [LO, HI) (ns strings, HI
# may be empty): the resume as the destination NIC shows it.
first_rarp() { # FILE LO HI
	conn_rows "$1" | awk -F'\t' -v mac="$MAC" -v lo="$2" -v hi="$3" '
	function ns(t) { sub(/\./, "", t); sub(/^0+/, "", t); return t }
	function ge(a, b) { return length(a) > length(b) || (length(a) == length(b) && a "" >= b "") }
	($12 == 3 || $12 == 4) && tolower($2) == mac {
		t = ns($1)
		if (ge(t, lo) && (hi == "" || !ge(t, hi))) { print t; exit }
	}'
}

# One NIC's view of one migration's connections (client FROM -> server TO on
# PORT, opened within [LO, HI)), as JSON keyed by the client's port: per
# direction payload bytes and segments (tshark's retransmission and
# out-of-order flags counted), first and last segment; the client's data after
# ANCHOR (the first RARP at the destination NIC) and after QRES (QEMU's RESUME);
# the server's data (the return path) after ANCHOR with its stamps, and its
# messages where the stream is plaintext (QEMU's enum mig_rp_message_type:
# 1 SHUT, 2 PONG, 3 REQ_PAGES_ID, 4 REQ_PAGES, 5 RECV_BITMAP, 6 RESUME_ACK;
# each a be16 type and a be16 length before its data). Stamps stay strings
# (19-digit ns), compared as strings of digits.
conn_view() { # FILE FROM_IP TO_IP LO HI ANCHOR QRES
	conn_rows "$1" | awk -F'\t' -v from="$2" -v to="$3" -v port="$PORT" -v lo="$4" -v hi="$5" \
		-v anchor="$6" -v qres="$7" '
	function ns(t) { sub(/\./, "", t); sub(/^0+/, "", t); return t }
	function ge(a, b) { return length(a) > length(b) || (length(a) == length(b) && a "" >= b "") }
	function gt(a, b) { return length(a) > length(b) || (length(a) == length(b) && a "" > b "") }
	function hex(h,   i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
	function add(list, v) { return list == "" ? v : list "," v }
	function kind(p) {
		if (p ~ /^5145564d/) return "main"       # "QEVM": the main channel
		if (p ~ /^11223344/) return "multifd"    # MULTIFD_MAGIC
		if (p ~ /^1603/) return "tls"            # a TLS handshake record
		return p == "" ? "" : "unknown"
	}
	$5 != "" {
		t = ns($1)
		if ($3 == from && $4 == to && $6 == port) { c = $5; fwd = 1 }
		else if ($3 == to && $4 == from && $5 == port) { c = $6; fwd = 0 }
		else next
		if (!(c in opened)) {
			# a connection of this migration: opened within the window
			if (!ge(t, lo) || (hi != "" && ge(t, hi))) next
			opened[c] = t; order[++n] = c
		}
		if ($8 == "1" && $9 == "0" && fwd) syn[c] = t
		if ($7 + 0 == 0) next
		if (fwd) {
			if (!(c in fb)) { fb[c] = 0; ff[c] = t; k[c] = kind($13) }
			fb[c] += $7; fs[c]++; fl[c] = t
			if ($10 != "" || $11 != "") fr[c]++
			if (anchor != "" && gt(t, anchor)) { fab[c] += $7; fas[c]++ }
			if (qres != "" && gt(t, qres)) fqb[c] += $7
		} else {
			if (!(c in rb)) { rb[c] = 0; rf[c] = t }
			rb[c] += $7; rs[c]++; rl[c] = t
			after = anchor != "" && gt(t, anchor)
			if (after) { rab[c] += $7; ras[c]++; rat[c] = add(rat[c], t) }
			# the return path, message by message (the last one may be cut
			# by the snaplen: counted when its header is there)
			if (k[c] == "main") {
				p = $13
				while (length(p) >= 8) {
					ty = hex(substr(p, 1, 4)); ln = hex(substr(p, 5, 4))
					if (ty < 1 || ty > 6) { bad[c]++; break }
					msg[c, ty]++
					if (ty == 3 || ty == 4) {
						req[c]++; reqt[c] = add(reqt[c], t)
						if (after) reqa[c]++
					}
					p = substr(p, 9 + 2 * ln)
				}
			}
		}
	}
	function dir(b, s, r, f, l) {
		return sprintf("{\"bytes\":%.0f,\"segments\":%d,\"retransmitted_segments\":%d,\"first_ns\":%s,\"last_ns\":%s}",
			b, s, r, f == "" ? "null" : f, l == "" ? "null" : l)
	}
	END {
		printf "{"
		for (i = 1; i <= n; i++) {
			c = order[i]
			printf "%s\"%s\":{\"opened_ns\":%s,\"syn_ns\":%s,\"kind\":%s,",
				(i > 1 ? "," : ""), c, opened[c], ((c in syn) ? syn[c] : "null"), (k[c] == "" ? "null" : "\"" k[c] "\"")
			printf "\"out\":%s,\"reverse\":%s,", dir(fb[c], fs[c], fr[c], ff[c], fl[c]), dir(rb[c], rs[c], 0, rf[c], rl[c])
			printf "\"out_after_resume\":{\"bytes\":%.0f,\"segments\":%d},\"out_after_qemu_resume_bytes\":%.0f,",
				fab[c], fas[c], fqb[c]
			printf "\"reverse_after_resume\":{\"bytes\":%.0f,\"segments\":%d,\"ns\":[%s]},", rab[c], ras[c], rat[c]
			if (k[c] == "main")
				printf "\"return_path\":{\"shut\":%d,\"pong\":%d,\"req_pages_id\":%d,\"req_pages\":%d,\"recv_bitmap\":%d,\"resume_ack\":%d,\"unparsed_segments\":%d,\"page_requests\":%d,\"page_requests_after_resume\":%d,\"page_request_ns\":[%s]}}",
					msg[c, 1], msg[c, 2], msg[c, 3], msg[c, 4], msg[c, 5], msg[c, 6], bad[c], req[c], reqa[c], reqt[c]
			else
				printf "\"return_path\":null}"
		}
		printf "}\n"
	}'
}

# One migration's modes' truth, as JSON (I: its index in scenario.json).
migration_modes() { # I
	local i=$1 from to fip tip lo hi="" anchor qres src_f dst_f v_src v_dst
	from=$(jq -r ".migrations[$i].from" "$SCEN") to=$(jq -r ".migrations[$i].to" "$SCEN")
	fip=$(jq -r --arg n "$from" '.hosts[$n]' "$SCEN") tip=$(jq -r --arg n "$to" '.hosts[$n]' "$SCEN")
	# the window: from 1 s before QEMU's setup event (else the lab's migrate)
	# to the next migration's
	lo=$(jq -r ".migrations[$i] | (.qemu_events.source_status_us.setup // .lab_started_us) - 1000000" "$SCEN")000
	hi=$(jq -r ".migrations[$((i + 1))].lab_started_us // empty" "$SCEN")
	[ -n "$hi" ] && hi=${hi}000
	qres=$(jq -r ".migrations[$i].qemu_events.destination_resume_us // empty" "$SCEN")
	[ -n "$qres" ] && qres=${qres}000
	src_f=$(capture_of "$from") dst_f=$(capture_of "$to")
	anchor=""
	[ -n "$dst_f" ] && anchor=$(first_rarp "$dst_f" "$lo" "$hi")
	v_src='{}' v_dst='{}'
	[ -n "$src_f" ] && v_src=$(conn_view "$src_f" "$fip" "$tip" "$lo" "$hi" "$anchor" "$qres")
	[ -n "$dst_f" ] && v_dst=$(conn_view "$dst_f" "$fip" "$tip" "$lo" "$hi" "$anchor" "$qres")
	jq -nc --argjson s "$v_src" --argjson d "$v_dst" --argjson anchor "${anchor:-null}" --argjson port "$PORT" '
		def view: if . == null then null else
			{syn_ns, out, reverse, out_after_resume, out_after_qemu_resume_bytes,
			 reverse_after_resume: (.reverse_after_resume | del(.ns)),
			 return_path: (.return_path | if . == null then null else del(.page_request_ns) end)} end;
		{port: $port, anchor: $anchor,
		 connections: [($s | keys_unsorted) + ($d | keys_unsorted) | unique[] as $c
		               | {client_port: ($c | tonumber), server_port: $port,
		                  kind: ($s[$c].kind // $d[$c].kind),
		                  opened_ns: ($s[$c].opened_ns // $d[$c].opened_ns),
		                  at_source: ($s[$c] | view), at_destination: ($d[$c] | view)}]
		             | sort_by(.opened_ns),
		 # the return path of the main channel (the first opened: QEMU 7.2
		 # connects it before any multifd channel) as the destination sent
		 # it; its page requests where the stream is plaintext (TLS: null)
		 return_path: ([$d[]] | sort_by(.opened_ns) | first
		               | if . == null then null else
		                 {segments_after_resume: .reverse_after_resume.segments,
		                  bytes_after_resume: .reverse_after_resume.bytes,
		                  segment_after_resume_ns: .reverse_after_resume.ns,
		                  page_requests: .return_path.page_requests,
		                  page_requests_after_resume: .return_path.page_requests_after_resume,
		                  page_request_ns: .return_path.page_request_ns} end)}'
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
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
	   captures: $cap, migrations: .}' >"$TMP/truth.json"
[ "$MODES" = true ] || { cat "$TMP/truth.json"; exit 0; }

# The migration modes' truth, added to each migration.
n=$(jq '.migrations | length' "$SCEN")
for ((i = 0; i < n; i++)); do migration_modes "$i"; done | jq -s . >"$TMP/modes.json"
jq --slurpfile s "$SCEN" --slurpfile modes "$TMP/modes.json" --argjson ping "$ping" '
	$s[0] as $s
	| (if $ping == null then null else [$ping.reply_us[]] end) as $r
	# the largest gap between consecutive replies, and the gap around a stamp
	# (the last reply at or before it, the first after it); us
	| def gap_at($t): if $r == null or $t == null then null else
		([range(1; $r | length) | select($r[. - 1] <= $t and $r[.] > $t)
		  | {gap_us: ($r[.] - $r[. - 1]), from_us: $r[. - 1], to_us: $r[.]}] | first) end;
	.ping |= (if . == null then null else . + {largest_gap:
		([range(1; $r | length) | {gap_us: ($r[.] - $r[. - 1]), from_us: $r[. - 1], to_us: $r[.]}]
		 | max_by(.gap_us))} end)
	| .migrations |= [range(0; length) as $i | .[$i] as $t | $s.migrations[$i] as $m | $modes[0][$i] as $x
	    | ($m.qemu_events // {}) as $ev
	    | ($m.qemu_setup.source // {}) as $qs
	    | ([$ev.source_status_history[]?.status] | index("postcopy-active") != null
	       or ($ev.source_status_us // {} | has("postcopy-active"))) as $post
	    | $t
	    + {mode: (if $post then "postcopy" else "precopy" end),
	       multifd_channels: (if $qs.capabilities.multifd then $qs.parameters["multifd-channels"] else 0 end),
	       tls: (($qs.parameters["tls-creds"] // "") != ""),
	       port: $x.port,
	       connections: $x.connections,
	       resume: {qemu_resume_us: $ev.destination_resume_us, first_rarp_at_destination_ns: $x.anchor,
	                rarp_after_qemu_resume_us: (if $x.anchor == null or $ev.destination_resume_us == null then null
	                                            else $x.anchor / 1000 - $ev.destination_resume_us end)},
	       postcopy: (if $post | not then null else
	         {postcopy_active_us: $ev.source_status_us["postcopy-active"],
	          bytes_after_resume: ([$x.connections[].at_source.out_after_resume.bytes // 0] | add),
	          segments_after_resume: ([$x.connections[].at_source.out_after_resume.segments // 0] | add),
	          bytes_after_qemu_resume: ([$x.connections[].at_source.out_after_qemu_resume_bytes // 0] | add),
	          last_data_ns: ([$x.connections[].at_source.out.last_ns // empty] | max),
	          return_path_at_destination: $x.return_path} end),
	       # the brownout of the guest: the largest gap between two replies
	       # after the RESUME of QEMU, before the last page (postcopy only)
	       ping: (if $t.ping == null then null else
	         $t.ping + {resume_gap: gap_at($ev.destination_resume_us),
	                    largest_gap_during_postcopy: (if $post | not then null else
	                      ($ev.destination_resume_us) as $a
	                      | ([$x.connections[].at_source.out.last_ns // empty] | max / 1000) as $b
	                      | [range(1; $r | length) | select($r[. - 1] >= $a and $r[. - 1] <= $b)
	                         | {gap_us: ($r[.] - $r[. - 1]), from_us: $r[. - 1], to_us: $r[.]}] | max_by(.gap_us) end)} end),
	       qemu: ($t.qemu + ($m.query_migrate | {"postcopy-requests": .ram["postcopy-requests"],
	                       "precopy-bytes": .ram["precopy-bytes"], "postcopy-bytes": .ram["postcopy-bytes"],
	                       "multifd-bytes": .ram["multifd-bytes"], "dirty-sync-count": .ram["dirty-sync-count"]})
	              + {destination: ($m.query_migrate_destination // null
	                               | if . == null then null else
	                                 {status, "postcopy-blocktime", "postcopy-vcpu-blocktime"} end)})}]' "$TMP/truth.json"
