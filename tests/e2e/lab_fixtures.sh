#!/bin/bash
# The committed lab fixtures (fixtures/lab/NAME, real QEMU migrations stored
# by `make fixtures`) against their truth, without root: truth.json, which
# tests/lab/truth.sh computed from the lab's uncut captures (tshark, ping log,
# QEMU's figures), must be what it computes from the stored, cut files today
# (msl-cut changed nothing tshark reads), and migscope's report must agree
# with it
# (tests/lab/check.sh). Every scenario tests/lab/fixtures.sh stores must be
# there.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
BUILD=${1:-build}
MIGSCOPE=$BUILD/migscope

mapfile -t names < <(sed -n 's/^\t"\([^|]*\)|.*/\1/p' tests/lab/fixtures.sh)
[ ${#names[@]} -gt 0 ] || { not_ok "lab fixtures: scenario list read from tests/lab/fixtures.sh"; exit 1; }
for name in "${names[@]}"; do
	dir=fixtures/lab/$name
	if [ ! -s "$dir/truth.json" ]; then
		not_ok "$name: fixture present ($dir; make fixtures)"
		continue
	fi
	kb=$(du -sk "$dir" | cut -f1)
	check "$name: fixture is small ($kb KB <= 1024 KB)" test "$kb" -le 1024
	if diff <(tests/lab/truth.sh "$dir" 2>&1) "$dir/truth.json" >/tmp/labfix-$$.diff; then
		ok "$name: truth.json (from the uncut captures) is what truth.sh computes from the stored, cut files"
	else
		not_ok "$name: truth.json (from the uncut captures) is what truth.sh computes from the stored, cut files" "$(head -6 /tmp/labfix-$$.diff)"
	fi
	rm -f /tmp/labfix-$$.diff
	# no guest memory in the repository: msl-cut keeps 8 bytes of the first
	# data segment (QEMU's stream magic) and no payload of the others, but for
	# the return path of a plaintext migration (destination to source: QEMU's
	# control messages, postcopy's page requests), which must parse as such:
	# each a be16 type 1..6 (enum mig_rp_message_type) and a be16 length, from
	# the migration port. The ports: libvirt's range and the run's own.
	mports=$(jq -r '[.migrations[].port // empty, .migration_setup.port // empty] | unique | join(" ")' "$dir/scenario.json")
	filter="tcp.port >= 49152 and tcp.port <= 49215"
	for p in $mports; do filter="$filter or tcp.port == $p"; done
	# the stream runs between the hosts: the guest's own flows (HTTP from an
	# ephemeral client port in that range) are not it
	filter="($filter) and not ip.addr == $(jq -r '.guest.ipv4 // "0.0.0.0"' "$dir/scenario.json")"
	for f in "$dir"/*.pcap.gz; do
		read -r most rp < <(tshark -r "$f" -Y "tcp.len > 0 and $filter" -T fields \
			-e tcp.srcport -e tcp.len -e frame.len -e frame.cap_len -e tcp.payload 2>/dev/null |
			awk -F'\t' -v ports=" $mports " '
			function hex(h,   i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
			function return_path(p,   ty) {
				if (length(p) < 8) return 0
				while (length(p) >= 8) {
					ty = hex(substr(p, 1, 4))
					if (ty < 1 || ty > 6) return 0
					p = substr(p, 9 + 2 * hex(substr(p, 5, 4)))
				}
				return 1
			}
			{
				k = $2 - ($3 - $4)
				if (k > 8 && index(ports, " " $1 " ") && return_path($5)) { rp++; next }
				if (k > m) m = k
			}
			END { print m + 0, rp + 0 }')
		check "$name: $(basename "$f") holds at most 8 stream payload bytes per segment ($most), besides $rp return-path segments (QEMU's messages only)" test "$most" -le 8
	done
	bash tests/lab/check.sh "$MIGSCOPE" "$dir" "$name"
done
exit 0
