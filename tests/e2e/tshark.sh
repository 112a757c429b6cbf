#!/bin/bash
# migscope against tshark on the same fixtures: payload bytes, wire bytes,
# retransmitted segments/bytes per NIC, RARP and echo counts.
#
# The one principled difference: tshark calls a segment that repeats
# sequence space "out-of-order" instead of "retransmission" when it follows
# the previous segment within its RTT heuristic (here: the second of two
# back-to-back fast retransmits). At a NIC the sender never reorders its own
# segments and the network between two NICs did not here, so migscope counts
# every segment that starts below the highest sequence already seen; it must
# equal tshark's retransmissions plus out-of-order segments.
set -u
. "$(dirname "$0")/../lib.sh"
MIGSCOPE=$(realpath "${1:-build}/migscope")
cd "$(dirname "$0")/../../fixtures/synthetic" || exit 1
command -v tshark >/dev/null || { not_ok "tshark installed"; exit 0; }

MIG_FILTER="tcp.dstport==49152 && tcp.len>0"

tshark_sum() { # FILE FILTER FIELD -> "count sum"
	tshark -r "$1" -Y "$2" -T fields -e "$3" 2>/dev/null |
		awk '{ s += $1; n++ } END { printf "%d %d\n", n, s }'
}

# migscope's figures for FILE, summed over the migrations it took part in
migscope_sum() { # JSON FILE FIELD
	jq --arg f "$2" --arg k "$3" '[.migrations[] |
		(if .vantage.src == $f then .stream.by_vantage.src
		 elif .vantage.dst == $f then .stream.by_vantage.dst else empty end) | .[$k]] | add' <<<"$1"
}

compare_set() { # NAME FILE...
	local name=$1; shift
	local json f t_pay t_wire t_retx t_ooo m_retx
	json=$("$MIGSCOPE" analyze -f json "$@" 2>/dev/null)
	for f in "$@"; do
		f=${f#*=}
		[[ $f == *ctl* ]] && continue
		t_pay=$(tshark_sum "$f" "$MIG_FILTER" tcp.len)
		t_wire=$(tshark_sum "$f" "tcp.dstport==49152" frame.len)
		t_retx=$(tshark_sum "$f" "$MIG_FILTER && tcp.analysis.retransmission" tcp.len)
		t_ooo=$(tshark_sum "$f" "$MIG_FILTER && tcp.analysis.out_of_order" tcp.len)
		expect_eq "$name $f: payload bytes = tshark tcp.len sum" "${t_pay#* }" \
			"$(migscope_sum "$json" "$f" payload_bytes)"
		expect_eq "$name $f: wire bytes = tshark frame.len sum" "${t_wire#* }" \
			"$(migscope_sum "$json" "$f" wire_bytes)"
		m_retx=$(migscope_sum "$json" "$f" retransmitted_segments)
		expect_eq "$name $f: retransmits = tshark retransmission + out_of_order" \
			"$(( ${t_retx% *} + ${t_ooo% *} ))" "$m_retx"
		expect_eq "$name $f: retransmitted bytes = tshark" "$(( ${t_retx#* } + ${t_ooo#* } ))" \
			"$(migscope_sum "$json" "$f" retransmitted_bytes)"
		[ "$m_retx" -gt 0 ] || not_ok "$name $f: fixture has retransmits to compare"
	done
	# every RARP sighting, every echo request at the prober
	expect_eq "$name: RARP sightings = tshark arp.opcode==3" \
		"$(for f in "$@"; do tshark -r "${f#*=}" -Y 'arp.opcode==3' 2>/dev/null; done | wc -l)" \
		"$(jq '[.migrations[].announce.rarp | length] | add' <<<"$json")"
}

compare_set baseline src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap
compare_set vxlan src=vxlan-cn1.pcap.gz dst=vxlan-cn2.pcap.gz ctl=vxlan-ctl.pcap.gz
compare_set qinq src=qinq-cn1.pcap.gz dst=qinq-cn2.pcap.gz ctl=qinq-ctl.pcap.gz
compare_set back-and-forth back-and-forth-cn1.pcap.gz back-and-forth-cn2.pcap.gz \
	back-and-forth-ctl.pcap.gz

json=$("$MIGSCOPE" analyze -f json src=baseline-cn1.pcap dst=baseline-cn2.pcap ctl=baseline-ctl.pcap)
expect_eq "baseline: probes sent = tshark echo requests at ctl" \
	"$(tshark -r baseline-ctl.pcap -Y 'icmp.type==8' 2>/dev/null | wc -l)" \
	"$(jq .migrations[0].loss.probes_sent <<<"$json")"
expect_eq "baseline: probes answered = tshark echo replies at ctl" \
	"$(tshark -r baseline-ctl.pcap -Y 'icmp.type==0' 2>/dev/null | wc -l)" \
	"$(jq .migrations[0].loss.probes_answered <<<"$json")"
