#!/bin/bash
# What the guest's users felt (issue 14), on the lab's http fixture (a real
# QEMU migration of a guest serving HTTP, a page requested every 10 ms, an
# echo connection kept open): migscope's guest flows and response times
# against tshark at the prober's capture, and against the client's own log.
#
# The oracle reads ctl.pcap with tshark alone: per connection, the times of
# segments that carry new sequence space (tshark's relative tcp.nxtseq above
# the highest before), the gap holding the resume in each direction, and
# each request (the client's new data after the server's) with the server's
# next new data as its answer, a connection's first from its SYN when sent
# as it opened (within 100 ms of the SYN/ACK). migscope states times on the
# reference clock: the oracle moves the resume and the phase starts onto
# ctl's clock by the offset migscope reports for it (inputs[].clock_offset_ns).
set -u
. "$(dirname "$0")/../lib.sh"
MIGSCOPE=$(realpath "${1:-build}/migscope")
cd "$(dirname "$0")/../../fixtures/lab/http" || exit 1
command -v tshark >/dev/null || { not_ok "tshark installed"; exit 0; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for f in cn1 cn2 ctl; do zcat "$f.pcap.gz" >"$TMP/$f.pcap"; done

json=$("$MIGSCOPE" analyze -f json --sla 100 "$TMP/cn1.pcap" "$TMP/cn2.pcap" ctl="$TMP/ctl.pcap")
expect_eq "one migration" 1 "$(jq '.migrations | length' <<<"$json")"
guest=$(jq -r '.migrations[0].guest.ipv4' <<<"$json")
off=$(jq '.inputs[] | select(.vantage == "ctl") | .clock_offset_ns' <<<"$json")
resume=$(jq --argjson o "$off" '.migrations[0].verdict.resume_ns + $o' <<<"$json")
pause=$(jq --argjson o "$off" '.migrations[0].loss.phase_start_ns.pause + $o' <<<"$json")
starts=$(jq -r --argjson o "$off" '.migrations[0].loss.phase_start_ns
	| [.before, .precopy, .pause, .postcopy, .after] | map(if . == null then "-" else . + $o end) | join(" ")' <<<"$json")
base=$((resume / 1000000000))

# every TCP segment to or from the guest at ctl: ns since `base` s, stream,
# sender is the guest, ports, next relative sequence, payload, flags, window
tshark -r "$TMP/ctl.pcap" -Y "ip.addr == $guest && tcp" -T fields -E separator=' ' \
	-e frame.time_epoch -e tcp.stream -e ip.src -e tcp.srcport -e tcp.dstport \
	-e tcp.nxtseq -e tcp.len -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin \
	-e tcp.flags.reset -e tcp.window_size_value 2>/dev/null |
	awk -v base="$base" -v g="$guest" '{
		split($1, t, "."); ns = (t[1] - base) * 1000000000 + substr(t[2] "000000000", 1, 9)
		printf "%.0f %s %d %s %s %s %s %s %s %s %s %s\n", ns, $2, ($3 == g), $4, $5, $6, $7, $8, $9, $10, $11, $12 }' >"$TMP/segs"
rel() { echo $(($1 - base * 1000000000)); }
R=$(rel "$resume") P=$(rel "$pause")

# the oracle's flows across the switchover: stream client_port server_port
# guest_is_server stall_to stall_from (ns, "-": none), then its zero windows
# to and from the guest (not on a SYN or a reset)
awk -v R="$R" -v P="$P" '
	{ s = $2; g = $3; if (!(s in first)) { first[s] = $1; gs[s] = !g && $8 && !$9 ? 1 : 0
		cport[s] = g ? $5 : $4; sport[s] = g ? $4 : $5 }
	  last[s] = $1
	  if ($11) rst[s] = 1
	  if ($12 == 0 && !$8 && !$11) zw[s, g]++
	  if ($10) fin[s, g] = $1
	  d = s SUBSEP g
	  if ($6 != "" && ($7 > 0 || $8 || $10) && $6 > maxend[d]) {
		if (d in prog && prog[d] < R && R <= $1) stall[d] = $1 - prog[d]
		prog[d] = $1; maxend[d] = $6 } }
	END { for (s in first) {
		if (first[s] >= R || last[s] < P) continue
		if (rst[s] || ((s, 0) in fin && (s, 1) in fin && fin[s, 0] < P && fin[s, 1] < P)) continue
		printf "%s %s %s %s %s %d %d\n", cport[s], sport[s],
			((s, 0) in stall ? stall[s, 0] : "-"), ((s, 1) in stall ? stall[s, 1] : "-"), s,
			zw[s, 0], zw[s, 1] } }
' "$TMP/segs" | sort -n >"$TMP/flows"
# what the guest sent is "from guest": the oracle above keys g = 1 for it
n=$(wc -l <"$TMP/flows")
expect_eq "guest flows across the switchover: as many as tshark shows at ctl" "$n" \
	"$(jq '.migrations[0].guest_flows_summary.flows' <<<"$json")"
check "the echo connection is one of them" test "$(awk '$2 == 7' "$TMP/flows" | wc -l)" -eq 1
# durations compared in integer ns (jq rewrites 4582.160 as 4582.16)
us() { [ "$1" = - ] && echo null || echo "$1"; }
ns_of() { jq -r "$1"' | if . == null then null else . * 1000 | round end'; }
while read -r cport sport to from _ zwto zwfrom; do
	f=$(jq -c --argjson c "$cport" --argjson s "$sport" \
		'.migrations[0].guest_flows[] | select(.client_port == $c and .server_port == $s)' <<<"$json")
	expect_eq "flow $cport -> $sport: stall to the guest = tshark's gap at ctl around the resume" \
		"$(us "$to")" "$(ns_of .stall_to_guest_us <<<"$f")"
	expect_eq "flow $cport -> $sport: stall from the guest = tshark's gap at ctl around the resume" \
		"$(us "$from")" "$(ns_of .stall_from_guest_us <<<"$f")"
	expect_eq "flow $cport -> $sport: zero windows to and from the guest = tshark's at ctl" \
		"$zwto $zwfrom" "$(jq -r '"\(.zero_windows_to_guest) \(.zero_windows_from_guest)"' <<<"$f")"
done <"$TMP/flows"

# requests and responses by phase: "phase latency_ns" per answered request
read -r -a st <<<"$starts"
for k in 0 1 2 3 4; do [ "${st[$k]}" = - ] || st[$k]=$(rel "${st[$k]}"); done
awk -v s0="${st[1]}" -v s1="${st[2]}" -v s2="${st[3]}" -v s3="${st[4]}" '
	function phase(t) {
		if (t < s0) return "before"
		if (s1 != "-" && t <= s1) return "precopy"
		if (s1 == "-" && t < s3) return "precopy"
		if (t < s3 && s2 == "-") return "pause"
		if (s2 != "-" && t < s2) return "pause"
		if (t < s3) return "postcopy"
		return "after" }
	{ s = $2; g = $3; d = s SUBSEP g
	  if ($8 && !g && !(s in syn)) syn[s] = $1
	  if ($8 && g && !(s in synack)) synack[s] = $1
	  if ($6 == "" || $7 == 0 || $6 <= maxend[d]) { next }
	  maxend[d] = $6
	  if (!g && !(s in open)) {
		start = (!(s in any) && (s in syn) && (s in synack) && $1 - synack[s] <= 100000000) ? syn[s] : $1
		open[s] = start; any[s] = 1
	  } else if (g && (s in open)) { print phase(open[s]), $1 - open[s]; delete open[s] } }
' "$TMP/segs" >"$TMP/answers"
nearest() { # P: nearest-rank percentile of stdin (ns)
	sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (!NR) { print "null"; exit }
		r = int((p * NR + 99) / 100); if (r < 1) r = 1; printf "%.0f\n", v[r] }'
}
for ph in before precopy pause after; do
	want=$(awk -v p="$ph" '$1 == p' "$TMP/answers" | wc -l)
	got=$(jq --arg p "$ph" '.migrations[0].responses[$p] | if . == null then 0 else .requests - .failed end' <<<"$json")
	expect_eq "$ph: answered requests = tshark's at ctl" "$want" "$got"
	for p in 50 99; do
		expect_eq "$ph: response p$p = tshark's at ctl" \
			"$(awk -v p="$ph" '$1 == p { print $2 }' "$TMP/answers" | nearest "$p")" \
			"$(ns_of ".migrations[0].responses.$ph.p${p}_us // null" <<<"$json")"
	done
done
check "requests in the pause: at least one (the fixture spans the switchover)" \
	test "$(awk '$1 == "pause"' "$TMP/answers" | wc -l)" -ge 1

# the client's own log (curl, start and end in ns): every request it made
# ended ok, and none took less than the network's answer to it can have
check "client log: every request ok" test "$(grep -vc ' ok$' http.log)" -eq 0
longest_log=$(awk '{ d = $2 - $1; if (d > m) m = d } END { print m }' http.log)
longest_net=$(jq '[.migrations[0].responses[] | objects | .p99_us] | max * 1000 | floor' <<<"$json")
check "the client's longest request ($longest_log ns) took at least migscope's longest p99 ($longest_net ns)" \
	test "$longest_log" -ge "$longest_net"

# the SLA: over_sla counts the answered above 100 ms and the failed
for ph in before precopy pause after; do
	want=$(awk -v p="$ph" '$1 == p && $2 > 100000000' "$TMP/answers" | wc -l)
	expect_eq "$ph: over the 100 ms SLA = tshark's at ctl" "$want" \
		"$(jq --arg p "$ph" '.migrations[0].responses[$p] | if . == null then 0 else .over_sla - .failed end' <<<"$json")"
done
text=$("$MIGSCOPE" analyze --sla 100 "$TMP/cn1.pcap" "$TMP/cn2.pcap" ctl="$TMP/ctl.pcap")
check "text: the guest flows line" test "$(grep -c '^  guest flows  ' <<<"$text")" -eq 1
check "text: the responses line names the pause" test "$(grep -c '^  responses .* pause ' <<<"$text")" -eq 1
csv=$("$MIGSCOPE" analyze -f csv --sla 100 "$TMP/cn1.pcap" "$TMP/cn2.pcap" ctl="$TMP/ctl.pcap")
col() { awk -F, -v k="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 { print $c }' <<<"$csv"; }
expect_eq "csv: guest_flows as in the JSON" "$n" "$(col guest_flows)"
expect_eq "csv: requests_pause as in the JSON" \
	"$(jq '.migrations[0].responses.pause.requests' <<<"$json")" "$(col requests_pause)"
expect_eq "csv: over_sla sums the phases" \
	"$(jq '[.migrations[0].responses[] | objects | .over_sla] | add' <<<"$json")" "$(col over_sla)"
"$MIGSCOPE" analyze -f html -o "$TMP/r.html" --sla 100 "$TMP/cn1.pcap" "$TMP/cn2.pcap" ctl="$TMP/ctl.pcap"
# each view of the timeline draws a bar per stalled flow
check "html: the stalls on the timeline" test "$(grep -c 'class="stall"' "$TMP/r.html")" -ge "$n"
check "html: the guest's flows and requests tables" \
	test "$(grep -c "The guest's flows across the switchover\|The guest's requests by phase" "$TMP/r.html")" -eq 2

# A guest that ignores ping (http-no-icmp): its own requests are the probes.
# The oracle: the answers to its requests at ctl (the guest's first new data
# after the client's), the last at or before the resume and the first after.
N=$TMP/no-icmp
mkdir -p "$N"
for f in cn1 cn2 ctl; do zcat "../http-no-icmp/$f.pcap.gz" >"$N/$f.pcap"; done
json=$("$MIGSCOPE" analyze -f json "$N/cn1.pcap" "$N/cn2.pcap" ctl="$N/ctl.pcap")
expect_eq "no-icmp: exit 0 (the guest answered its requests)" 0 \
	"$("$MIGSCOPE" analyze "$N/cn1.pcap" "$N/cn2.pcap" ctl="$N/ctl.pcap" >/dev/null; echo $?)"
expect_eq "no-icmp: verdict ok" ok "$(jq -r '.migrations[0].verdict.code' <<<"$json")"
expect_eq "no-icmp: the downtime is measured by its TCP requests" tcp \
	"$(jq -r '.migrations[0].downtime.probe' <<<"$json")"
expect_eq "no-icmp: icmp_unanswered = tshark's echo requests to the guest at ctl" \
	"$(tshark -r "$N/ctl.pcap" -Y "icmp.type == 8 && ip.dst == $guest" 2>/dev/null | wc -l)" \
	"$(jq '.migrations[0].downtime.icmp_unanswered' <<<"$json")"
off=$(jq '.inputs[] | select(.vantage == "ctl") | .clock_offset_ns' <<<"$json")
R=$(jq --argjson o "$off" '.migrations[0].verdict.resume_ns + $o' <<<"$json")
base=$((R / 1000000000))
R=$((R - base * 1000000000))
read -r before after < <(tshark -r "$N/ctl.pcap" -Y "ip.addr == $guest && tcp.len > 0" -T fields \
	-E separator=' ' -e frame.time_epoch -e tcp.stream -e ip.src -e tcp.nxtseq 2>/dev/null |
	awk -v base="$base" -v g="$guest" -v R="$R" '{
		split($1, t, "."); ns = (t[1] - base) * 1000000000 + substr(t[2] "000000000", 1, 9)
		s = $2; d = s SUBSEP ($3 == g)
		if ($4 <= maxend[d]) next
		maxend[d] = $4
		if ($3 != g) { open[s] = 1; next }
		if (!(s in open)) next
		delete open[s]
		if (ns <= R) { if (ns > b) b = ns } else if (!a || ns < a) a = ns }
		END { printf "%.0f %.0f\n", b, a }')
expect_eq "no-icmp: probe gap = tshark's answers at ctl around the resume (ns)" \
	"$((after - before))" "$(jq '.migrations[0].downtime.probe_gap_us * 1000 | round' <<<"$json")"
expect_eq "no-icmp: loss = the failed requests (none)" 0 "$(jq '.migrations[0].loss.lost_probes' <<<"$json")"
expect_eq "no-icmp: with --probe icmp, the echo verdict (no echo answered)" destination_silent \
	"$("$MIGSCOPE" analyze -f json --probe icmp "$N/cn1.pcap" "$N/cn2.pcap" ctl="$N/ctl.pcap" |
		jq -r '.migrations[0].verdict.code')"
expect_eq "http (answers ping): auto keeps the echo probes" icmp \
	"$("$MIGSCOPE" analyze -f json "$TMP/cn1.pcap" "$TMP/cn2.pcap" ctl="$TMP/ctl.pcap" | jq -r '.migrations[0].downtime.probe')"
expect_eq "http: --probe tcp:80 takes its page requests" tcp \
	"$("$MIGSCOPE" analyze -f json --probe tcp:80 "$TMP/cn1.pcap" "$TMP/cn2.pcap" ctl="$TMP/ctl.pcap" | jq -r '.migrations[0].downtime.probe')"
expect_eq "--probe bogus: usage error" 2 \
	"$("$MIGSCOPE" analyze --probe udp "$TMP/ctl.pcap" >/dev/null 2>&1; echo $?)"
